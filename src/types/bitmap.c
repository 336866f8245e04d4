/* bitmap: bit operations on string values.
 *
 * A bitmap is a plain string: bit 0 is the most significant bit of the
 * first byte, bits past the end read as 0, and writes beyond the end grow
 * the string with zero bytes (as a raw str, db/object.c). The bit
 * arithmetic is util/bits.c. Every command here replays identically from
 * its own arguments, so the log records them as they came.
 *
 * Commands: SETBIT GETBIT BITCOUNT BITPOS BITOP. */
#include "types/bitmap.h"

#include <string.h>

#include "db/db.h"
#include "types/keyspace_events.h"
#include "types/string.h"
#include "util/bits.h"
#include "util/mem.h"
#include "util/numbers.h"
#include "util/str.h"

#define ERR_BIT_OFFSET "ERR bit offset is not an integer or out of range"

bool bitmap_parse_offset(struct request *req, int i, bool hash, int width, uint64_t *out)
{
    const struct arg *a = &req->argv[i];
    bool use_hash = hash && width > 0 && a->len > 0 && a->ptr[0] == '#';
    long long v;
    bool ok = parse_ll(a->ptr + use_hash, a->len - use_hash, &v);
    if (ok && use_hash) ok = !__builtin_mul_overflow(v, (long long)width, &v);
    if (!ok || v < 0 || (v >> 3) >= string_max_len) {
        reply_error(req->out, ERR_BIT_OFFSET);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

struct object *bitmap_for_write(struct request *req, uint64_t maxbit, bool *grew)
{
    struct arg *key = &req->argv[1];
    size_t need = (size_t)(maxbit >> 3) + 1;
    struct object *o = db_find(req->db, key->ptr, key->len);
    *grew = false;
    if (o && o->type != OBJ_STRING) {
        reply_wrong_type(req->out);
        return NULL;
    }
    if (!o) {
        o = object_new(OBJ_STRING, ENC_RAW, str_resize(str_empty(need), need));
        db_add(req->db, key->ptr, key->len, o);
        *grew = true;
        return o;
    }
    o = string_unshare(req, key, o);
    if (str_len(o->v.ptr) < need) {
        o->v.ptr = str_resize(o->v.ptr, need);
        *grew = true;
    }
    return o;
}

/* The string at argv[1] for reading: false after WRONGTYPE; *bytes is
 * NULL when the key is missing. Integers are formatted into buf. */
static bool bitmap_read(struct request *req, char *buf, const uint8_t **bytes, size_t *len)
{
    struct object *o = db_find_read(req->db, req->argv[1].ptr, req->argv[1].len);
    *bytes = NULL;
    *len = 0;
    if (!o) return true;
    if (o->type != OBJ_STRING) {
        reply_wrong_type(req->out);
        return false;
    }
    *bytes = (const uint8_t *)object_string_bytes(o, buf, len);
    return true;
}

/* ---- SETBIT GETBIT ---- */

static void cmd_setbit(struct request *req)
{
    uint64_t offset;
    long long on;
    if (!bitmap_parse_offset(req, 2, false, 0, &offset)) return;
    if (!request_ll_msg(req, 3, &on, "ERR bit is not an integer or out of range")) return;
    if (on & ~1LL) {
        reply_error(req->out, "ERR bit is not an integer or out of range");
        return;
    }
    bool grew;
    struct object *o = bitmap_for_write(req, offset, &grew);
    if (!o) return;
    uint8_t *p = (uint8_t *)o->v.ptr;
    int old = (p[offset >> 3] >> (7 - (offset & 7))) & 1;
    bits_set(p, offset, 1, (uint64_t)on);
    /* Redis 7 signals (and propagates) only a change. */
    if (grew || old != on) key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_STRING, "setbit");
    reply_int(req->out, old);
}

static void cmd_getbit(struct request *req)
{
    uint64_t offset;
    char buf[24];
    const uint8_t *p;
    size_t len;
    if (!bitmap_parse_offset(req, 2, false, 0, &offset)) return;
    if (!bitmap_read(req, buf, &p, &len)) return;
    if (!p || (offset >> 3) >= len) reply_int(req->out, 0);
    else reply_int(req->out, (p[offset >> 3] >> (7 - (offset & 7))) & 1);
}

/* ---- BITCOUNT BITPOS ---- */

/* Reads the optional BYTE|BIT unit at argv[i]; false after a syntax error. */
static bool bitmap_parse_unit(struct request *req, int i, bool *in_bits)
{
    *in_bits = false;
    if (i >= req->argc || ARG_IS(req, i, "BYTE")) return true;
    if (ARG_IS(req, i, "BIT")) {
        *in_bits = true;
        return true;
    }
    reply_syntax_error(req->out);
    return false;
}

/* Turns a start..end range that may count from the end (negative) into
 * bit positions inside a string of `len` bytes; false when it is empty. */
static bool bitmap_clamp_range(long long start, long long end, bool in_bits, size_t len, uint64_t *first,
                               uint64_t *last)
{
    long long total = in_bits ? (long long)len * 8 : (long long)len;
    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (start > end) return false;
    *first = in_bits ? (uint64_t)start : (uint64_t)start * 8;
    *last = in_bits ? (uint64_t)end : (uint64_t)end * 8 + 7;
    return true;
}

static void cmd_bitcount(struct request *req)
{
    char buf[24];
    const uint8_t *p;
    size_t len;
    long long start = 0, end = -1;
    bool in_bits = false;
    if (req->argc == 3 || req->argc > 5) {
        reply_syntax_error(req->out);
        return;
    }
    /* Redis 7.0 looks the key up before it reads the range. */
    if (!bitmap_read(req, buf, &p, &len)) return;
    if (!p) {
        reply_int(req->out, 0);
        return;
    }
    if (req->argc >= 4) {
        if (!request_ll(req, 2, &start) || !request_ll(req, 3, &end)) return;
        if (!bitmap_parse_unit(req, 4, &in_bits)) return;
        if (start < 0 && end < 0 && start > end) {
            reply_int(req->out, 0);
            return;
        }
    }
    uint64_t first, last;
    if (!bitmap_clamp_range(start, end, in_bits, len, &first, &last)) reply_int(req->out, 0);
    else reply_int(req->out, (long long)bits_count(p, first, last));
}

static void cmd_bitpos(struct request *req)
{
    long long bit, start = 0, end = -1;
    bool in_bits = false, end_given = req->argc >= 5;
    char buf[24];
    const uint8_t *p;
    size_t len;
    if (!request_ll(req, 2, &bit)) return;
    if (bit != 0 && bit != 1) {
        reply_error(req->out, "ERR The bit argument must be 1 or 0.");
        return;
    }
    if (!bitmap_read(req, buf, &p, &len)) return;
    /* A missing key is an endless run of clear bits. */
    if (!p) {
        reply_int(req->out, bit ? -1 : 0);
        return;
    }
    if (req->argc > 6) {
        reply_syntax_error(req->out);
        return;
    }
    if (req->argc >= 4 && !request_ll(req, 3, &start)) return;
    if (req->argc == 6 && !bitmap_parse_unit(req, 5, &in_bits)) return;
    if (end_given && !request_ll(req, 4, &end)) return;
    uint64_t first, last;
    if (!bitmap_clamp_range(start, end, in_bits, len, &first, &last)) {
        reply_int(req->out, -1);
        return;
    }
    int64_t pos = bits_find(p, first, last, (int)bit);
    /* Without an explicit end the string continues with clear bits. */
    if (pos < 0 && bit == 0 && !end_given) pos = (int64_t)last + 1;
    reply_int(req->out, pos);
}

/* ---- BITOP ---- */

enum bitop_kind { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

/* Folds source `src` (len bytes, zero-padded to n) into dst. */
static void bitop_fold(enum bitop_kind kind, uint8_t *dst, size_t n, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = i < len ? src[i] : 0;
        if (kind == BITOP_AND) dst[i] &= b;
        else if (kind == BITOP_OR) dst[i] |= b;
        else if (kind == BITOP_XOR) dst[i] ^= b;
        else dst[i] = (uint8_t)~b;
    }
}

static bool bitop_parse_kind(struct request *req, enum bitop_kind *kind)
{
    if (ARG_IS(req, 1, "AND")) *kind = BITOP_AND;
    else if (ARG_IS(req, 1, "OR")) *kind = BITOP_OR;
    else if (ARG_IS(req, 1, "XOR")) *kind = BITOP_XOR;
    else if (ARG_IS(req, 1, "NOT")) *kind = BITOP_NOT;
    else {
        reply_syntax_error(req->out);
        return false;
    }
    if (*kind == BITOP_NOT && req->argc != 4) {
        reply_error(req->out, "ERR BITOP NOT must be called with a single source key.");
        return false;
    }
    return true;
}

/* Stores the result (or deletes the destination when it is empty) and
 * replies its length. */
static void bitop_store(struct request *req, str result)
{
    struct arg *dest = &req->argv[2];
    size_t n = str_len(result);
    if (n == 0) {
        str_free(result);
        if (db_delete(req->db, dest->ptr, dest->len)) key_changed(req, dest->ptr, dest->len, NOTIFY_GENERIC, "del");
    } else {
        db_overwrite(req->db, dest->ptr, dest->len, object_new(OBJ_STRING, ENC_RAW, result), false);
        key_changed(req, dest->ptr, dest->len, NOTIFY_STRING, "set");
    }
    reply_int(req->out, (long long)n);
}

static void cmd_bitop(struct request *req)
{
    enum bitop_kind kind;
    if (!bitop_parse_kind(req, &kind)) return;
    int n = req->argc - 3;
    struct object **src = mem_alloc(sizeof(*src) * (size_t)n);
    size_t maxlen = 0;
    for (int i = 0; i < n; i++) {
        src[i] = db_find_read(req->db, req->argv[3 + i].ptr, req->argv[3 + i].len);
        if (src[i] && src[i]->type != OBJ_STRING) {
            mem_free(src);
            reply_wrong_type(req->out);
            return;
        }
        if (src[i] && object_string_len(src[i]) > maxlen) maxlen = object_string_len(src[i]);
    }
    str result = str_resize(str_empty(maxlen), maxlen);
    for (int i = 0; i < n && maxlen; i++) {
        char buf[24];
        size_t len = 0;
        const uint8_t *p = src[i] ? (const uint8_t *)object_string_bytes(src[i], buf, &len) : (const uint8_t *)"";
        if (i == 0) memcpy(result, p, len); /* the first source is the starting value */
        if (i > 0 || kind == BITOP_NOT) bitop_fold(kind, (uint8_t *)result, maxlen, p, len);
    }
    mem_free(src);
    bitop_store(req, result);
}

#define W (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
struct command bitmap_commands[] = {
    {"setbit", cmd_setbit, 4, W, 1, 1, 1, "@write @bitmap @slow", "bitmap",
     "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "2.2.0",
     "O(1)"},
    {"getbit", cmd_getbit, 3, R | CMD_FAST, 1, 1, 1, "@read @bitmap @fast", "bitmap",
     "Returns a bit value by offset.", "2.2.0", "O(1)"},
    {"bitcount", cmd_bitcount, -2, R, 1, 1, 1, "@read @bitmap @slow", "bitmap",
     "Counts the number of set bits (population counting) in a string.", "2.6.0", "O(N)"},
    {"bitpos", cmd_bitpos, -3, R, 1, 1, 1, "@read @bitmap @slow", "bitmap",
     "Finds the first set (1) or clear (0) bit in a string.", "2.8.7", "O(N)"},
    {"bitop", cmd_bitop, -4, W, 2, -1, 1, "@write @bitmap @slow", "bitmap",
     "Performs bitwise operations on multiple strings, and stores the result.", "2.6.0", "O(N)"},
    {0},
};
