/* bitfield: BITFIELD and BITFIELD_RO, integer fields of 1..64 bits at any
 * bit offset of a string (types/bitmap.c for the string side, util/bits.c
 * for the arithmetic). Operations run in order after all of them parsed;
 * OVERFLOW applies to the SET and INCRBY operations after it. Replaying
 * the command against the same value gives the same result, so it is
 * logged as it came. */
#include <string.h>

#include "db/db.h"
#include "types/bitmap.h"
#include "types/keyspace_events.h"
#include "util/bits.h"
#include "util/mem.h"
#include "util/numbers.h"

enum bitfield_opcode { BF_GET, BF_SET, BF_INCRBY };

struct bitfield_op {
    enum bitfield_opcode opcode;
    enum bits_overflow overflow;
    bool is_signed;
    int width;
    uint64_t offset;
    long long value; /* SET's value, INCRBY's increment */
};

/* Reads a field type (i1..i64, u1..u63) at argv[i]; replies Redis's
 * error and returns false otherwise. */
static bool bitfield_parse_type(struct request *req, int i, bool *is_signed, int *width)
{
    const struct arg *a = &req->argv[i];
    long long w = 0;
    bool ok = a->len > 1 && (a->ptr[0] == 'i' || a->ptr[0] == 'I' || a->ptr[0] == 'u' || a->ptr[0] == 'U') &&
              parse_ll(a->ptr + 1, a->len - 1, &w);
    *is_signed = a->len > 0 && (a->ptr[0] == 'i' || a->ptr[0] == 'I');
    if (!ok || w < 1 || (*is_signed && w > 64) || (!*is_signed && w > 63)) {
        reply_error(req->out, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
                              "but i64 is.");
        return false;
    }
    *width = (int)w;
    return true;
}

static bool bitfield_parse_overflow(struct request *req, int i, enum bits_overflow *how)
{
    if (ARG_IS(req, i, "WRAP")) *how = BITS_WRAP;
    else if (ARG_IS(req, i, "SAT")) *how = BITS_SAT;
    else if (ARG_IS(req, i, "FAIL")) *how = BITS_FAIL;
    else {
        reply_error(req->out, "ERR Invalid OVERFLOW type specified");
        return false;
    }
    return true;
}

/* Parses every operation into ops (room for argc/2); returns how many, or
 * -1 after replying an error. *maxbit: the last bit a write touches
 * (-1 without writes). */
static int bitfield_parse(struct request *req, struct bitfield_op *ops, int64_t *maxbit)
{
    enum bits_overflow how = BITS_WRAP;
    int n = 0;
    *maxbit = -1;
    for (int j = 2; j < req->argc; j++) {
        int rest = req->argc - j - 1;
        struct bitfield_op op = {.overflow = how};
        if (ARG_IS(req, j, "GET") && rest >= 2) op.opcode = BF_GET;
        else if (ARG_IS(req, j, "SET") && rest >= 3) op.opcode = BF_SET;
        else if (ARG_IS(req, j, "INCRBY") && rest >= 3) op.opcode = BF_INCRBY;
        else if (ARG_IS(req, j, "OVERFLOW") && rest >= 1) {
            if (!bitfield_parse_overflow(req, ++j, &how)) return -1;
            continue;
        } else {
            reply_syntax_error(req->out);
            return -1;
        }
        if (!bitfield_parse_type(req, j + 1, &op.is_signed, &op.width)) return -1;
        if (!bitmap_parse_offset(req, j + 2, true, op.width, &op.offset)) return -1;
        if (op.opcode != BF_GET) {
            int64_t last = (int64_t)(op.offset + (uint64_t)op.width - 1);
            if (last > *maxbit) *maxbit = last;
            if (!request_ll(req, j + 3, &op.value)) return -1;
        }
        ops[n++] = op;
        j += op.opcode == BF_GET ? 2 : 3;
    }
    return n;
}

/* Runs a SET or INCRBY on the (long enough) string p: replies the old
 * value (SET), the new one (INCRBY) or nil when FAIL refuses. Returns
 * whether the field's bits changed. */
static bool bitfield_write(struct request *req, uint8_t *p, const struct bitfield_op *op)
{
    int64_t incr = op->opcode == BF_INCRBY ? op->value : 0;
    uint64_t old, stored;
    int over;
    long long reply;
    if (op->is_signed) {
        int64_t o = bits_get_signed(p, op->offset, op->width), base = op->opcode == BF_SET ? op->value : o, lim = 0;
        over = bits_overflow_signed(base, incr, op->width, op->overflow, &lim);
        int64_t v = over ? lim : (int64_t)((uint64_t)base + (uint64_t)incr);
        old = (uint64_t)o, stored = (uint64_t)v;
        reply = op->opcode == BF_SET ? o : v;
    } else {
        uint64_t o = bits_get_unsigned(p, op->offset, op->width), base = op->opcode == BF_SET ? (uint64_t)op->value : o;
        uint64_t lim = 0;
        over = bits_overflow_unsigned(base, incr, op->width, op->overflow, &lim);
        uint64_t v = over ? lim : base + (uint64_t)incr;
        old = o, stored = v;
        reply = op->opcode == BF_SET ? (long long)o : (long long)v;
    }
    if (over && op->overflow == BITS_FAIL) {
        reply_null(req->out);
        return false;
    }
    bits_set(p, op->offset, op->width, stored);
    reply_int(req->out, reply);
    return old != stored;
}

/* GET reads through a zero-padded copy of the field's bytes, so fields
 * past the end of the string (or of a missing key) read as 0. */
static void bitfield_get(struct request *req, const uint8_t *p, size_t len, const struct bitfield_op *op)
{
    uint8_t buf[9] = {0};
    uint64_t byte = op->offset >> 3;
    for (uint64_t i = 0; i < 9 && byte + i < len; i++) buf[i] = p[byte + i];
    uint64_t at = op->offset - byte * 8;
    if (op->is_signed) reply_int(req->out, bits_get_signed(buf, at, op->width));
    else reply_int(req->out, (long long)bits_get_unsigned(buf, at, op->width));
}

/* Finds the value for a BITFIELD without writes: false after WRONGTYPE. */
static bool bitfield_read_only(struct request *req, struct object **o)
{
    *o = db_find_read(req->db, req->argv[1].ptr, req->argv[1].len);
    if (*o && (*o)->type != OBJ_STRING) {
        reply_wrong_type(req->out);
        return false;
    }
    return true;
}

static void bitfield_run(struct request *req, struct bitfield_op *ops, int n, struct object *o, bool grew)
{
    int changes = 0;
    reply_array(req->out, n);
    for (int i = 0; i < n; i++) {
        char buf[24];
        size_t len = 0;
        const uint8_t *p = o ? (const uint8_t *)object_string_bytes(o, buf, &len) : NULL;
        if (ops[i].opcode == BF_GET) bitfield_get(req, p, len, &ops[i]);
        else changes += bitfield_write(req, (uint8_t *)o->v.ptr, &ops[i]);
    }
    struct arg *key = &req->argv[1];
    if (changes) key_changed(req, key->ptr, key->len, NOTIFY_STRING, "setbit");
    /* A string created or lengthened by writes that FAIL refused: Redis
     * neither signals nor propagates it; Runnel still logs it, so that a
     * replay rebuilds the same value. */
    else if (grew) req->dirty++;
}

static void bitfield_command(struct request *req, bool read_only_command)
{
    struct bitfield_op *ops = mem_alloc(sizeof(*ops) * (size_t)(req->argc / 2 + 1));
    int64_t maxbit;
    int n = bitfield_parse(req, ops, &maxbit);
    struct object *o = NULL;
    bool grew = false, ok = n >= 0;
    if (ok && maxbit < 0) ok = bitfield_read_only(req, &o);
    else if (ok && read_only_command) {
        reply_error(req->out, "ERR BITFIELD_RO only supports the GET subcommand");
        ok = false;
    } else if (ok) {
        o = bitmap_for_write(req, (uint64_t)maxbit, &grew);
        ok = o != NULL;
    }
    if (ok) bitfield_run(req, ops, n, o, grew);
    mem_free(ops);
}

static void cmd_bitfield(struct request *req)
{
    bitfield_command(req, false);
}

static void cmd_bitfield_ro(struct request *req)
{
    bitfield_command(req, true);
}

struct command bitfield_commands[] = {
    {"bitfield", cmd_bitfield, -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @bitmap @slow", "bitmap",
     "Performs arbitrary bitfield integer operations on strings.", "3.2.0", "O(1) for each subcommand specified"},
    {"bitfield_ro", cmd_bitfield_ro, -2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @bitmap @fast", "bitmap",
     "Performs arbitrary read-only bitfield integer operations on strings.", "6.0.0",
     "O(1) for each subcommand specified"},
    {0},
};
