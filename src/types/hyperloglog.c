/* hyperloglog: the HyperLogLog commands. A HyperLogLog is a string value
 * in Redis's layout (types/hll.h), so GET, SET, DUMP and snapshots carry it
 * as any string, and a value copied from Redis works here.
 *
 * Logging: PFADD, PFMERGE and PFDEBUG replay identically from their
 * arguments. PFCOUNT of one key stores the estimate it computed in the
 * value's header, a change to the string: like Redis it is then logged
 * (as itself), so replicas and the AOF hold the same bytes. */
#include "types/hyperloglog.h"

#include <string.h>

#include "db/db.h"
#include "types/hll.h"
#include "types/keyspace_events.h"
#include "types/string.h"
#include "util/numbers.h"

#define ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_CORRUPT_HLL "INVALIDOBJ Corrupted HLL object detected"

/* The bytes of a value hll_check accepted (never an integer). */
static const char *hll_bytes(const struct object *o)
{
    size_t len;
    return object_string_bytes(o, NULL, &len);
}

/* Checks that o (a found value) is a HyperLogLog; replies WRONGTYPE
 * (Redis's two texts) and returns false otherwise. */
static bool hll_check(struct request *req, const struct object *o)
{
    if (o->type != OBJ_STRING) {
        reply_wrong_type(req->out);
        return false;
    }
    if (o->encoding == ENC_INT || !hll_is_valid(hll_bytes(o), object_string_len(o))) {
        reply_error(req->out, ERR_NOT_HLL);
        return false;
    }
    return true;
}

/* The value of argv[i] as a HyperLogLog: *o NULL when missing; false after
 * an error reply. */
static bool hll_lookup(struct request *req, int i, bool write, struct object **o)
{
    struct arg *k = &req->argv[i];
    *o = write ? db_find(req->db, k->ptr, k->len) : db_find_read(req->db, k->ptr, k->len);
    return !*o || hll_check(req, *o);
}

static void cmd_pfadd(struct request *req)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    int updated = 0;
    if (!hll_lookup(req, 1, true, &o)) return;
    if (!o) {
        o = object_new(OBJ_STRING, ENC_RAW, hll_new());
        db_add(req->db, key->ptr, key->len, o);
        updated++;
    } else {
        o = string_unshare(req, key, o);
    }
    for (int j = 2; j < req->argc; j++) {
        str s = o->v.ptr;
        int r = hll_add(&s, req->argv[j].ptr, req->argv[j].len);
        o->v.ptr = s;
        if (r < 0) {
            reply_error(req->out, ERR_CORRUPT_HLL);
            return;
        }
        updated += r;
    }
    if (updated) {
        hll_cache_invalidate(o->v.ptr);
        key_changed(req, key->ptr, key->len, NOTIFY_STRING, "pfadd");
    }
    reply_int(req->out, updated ? 1 : 0);
}

/* Byte-wide registers for unions (PFCOUNT of many keys, PFMERGE); the
 * server has one thread. */
static uint8_t union_registers[HLL_REGISTERS];

/* Folds the HyperLogLogs of argv[first..] into union_registers; false
 * after an error reply. *any_dense: whether one of them is dense. */
static bool hll_union(struct request *req, int first, bool *any_dense)
{
    memset(union_registers, 0, sizeof(union_registers));
    *any_dense = false;
    for (int j = first; j < req->argc; j++) {
        struct object *o;
        if (!hll_lookup(req, j, false, &o)) return false;
        if (!o) continue;
        const char *p = hll_bytes(o);
        if (p[4] == HLL_DENSE) *any_dense = true;
        if (!hll_merge(union_registers, p, object_string_len(o))) {
            reply_error(req->out, ERR_CORRUPT_HLL);
            return false;
        }
    }
    return true;
}

static void pfcount_one(struct request *req)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    uint64_t card;
    if (!hll_lookup(req, 1, false, &o)) return;
    if (!o) {
        reply_int(req->out, 0);
        return;
    }
    if (hll_cache_get(hll_bytes(o), &card)) {
        reply_int(req->out, (long long)card);
        return;
    }
    o = string_unshare(req, key, o);
    if (!hll_count(o->v.ptr, str_len(o->v.ptr), &card)) {
        reply_error(req->out, ERR_CORRUPT_HLL);
        return;
    }
    hll_cache_set(o->v.ptr, card);
    db_touch_key(req->db, key->ptr, key->len); /* a change WATCH sees, with no event (as Redis) */
    req->dirty++;
    reply_int(req->out, (long long)card);
}

static void cmd_pfcount(struct request *req)
{
    bool any_dense;
    if (req->argc == 2) pfcount_one(req);
    else if (hll_union(req, 1, &any_dense)) reply_int(req->out, (long long)hll_count_registers(union_registers));
}

static void cmd_pfmerge(struct request *req)
{
    struct arg *dest = &req->argv[1];
    bool any_dense;
    if (!hll_union(req, 1, &any_dense)) return;
    struct object *o = db_find(req->db, dest->ptr, dest->len);
    if (!o) {
        o = object_new(OBJ_STRING, ENC_RAW, hll_new());
        db_add(req->db, dest->ptr, dest->len, o);
    } else {
        o = string_unshare(req, dest, o);
    }
    str s = o->v.ptr;
    /* Sparse inputs only keep a sparse destination sparse (Redis 7.0). */
    bool ok = !any_dense || hll_to_dense(&s);
    for (long j = 0; ok && j < HLL_REGISTERS; j++)
        if (union_registers[j]) hll_set(&s, j, union_registers[j]);
    o->v.ptr = s;
    if (!ok) {
        reply_error(req->out, ERR_CORRUPT_HLL);
        return;
    }
    hll_cache_invalidate(o->v.ptr);
    key_changed(req, dest->ptr, dest->len, NOTIFY_STRING, "pfadd");
    reply_ok(req->out);
}

/* ---- PFDEBUG ---- */

/* PFDEBUG DECODE: the sparse opcodes as Redis prints them. */
static void pfdebug_decode(struct request *req, const char *p, size_t len)
{
    if (p[4] != HLL_SPARSE) {
        reply_error(req->out, "ERR HLL encoding is not sparse");
        return;
    }
    str out = str_empty(64);
    for (const uint8_t *op = (const uint8_t *)p + HLL_HEADER_SIZE, *end = (const uint8_t *)p + len; op < end;) {
        if ((op[0] & 0xc0) == 0) {
            out = str_append_printf(out, "z:%d ", (op[0] & 0x3f) + 1);
            op++;
        } else if ((op[0] & 0xc0) == 0x40) {
            out = str_append_printf(out, "Z:%d ", (((op[0] & 0x3f) << 8) | (op + 1 < end ? op[1] : 0)) + 1);
            op += 2;
        } else {
            out = str_append_printf(out, "v:%d,%d ", ((op[0] >> 2) & 0x1f) + 1, (op[0] & 3) + 1);
            op++;
        }
    }
    if (str_len(out)) str_set_len(out, str_len(out) - 1);
    reply_simple(req->out, out);
    str_free(out);
}

/* PFDEBUG GETREG and TODENSE make the value dense (a change to log). */
static bool pfdebug_make_dense(struct request *req, struct object *o, bool *converted)
{
    str s = o->v.ptr;
    *converted = s[4] == HLL_SPARSE;
    bool ok = hll_to_dense(&s);
    o->v.ptr = s;
    if (!ok) reply_error(req->out, ERR_CORRUPT_HLL);
    else if (*converted) req->dirty++;
    return ok;
}

static void pfdebug_run(struct request *req, const char *sub, struct object *o)
{
    bool converted;
    if (!strcasecmp(sub, "GETREG")) {
        if (!pfdebug_make_dense(req, o, &converted)) return;
        reply_array(req->out, HLL_REGISTERS);
        for (long j = 0; j < HLL_REGISTERS; j++)
            reply_int(req->out, hll_dense_get((const uint8_t *)o->v.ptr + HLL_HEADER_SIZE, j));
    } else if (!strcasecmp(sub, "DECODE")) {
        pfdebug_decode(req, o->v.ptr, str_len(o->v.ptr));
    } else if (!strcasecmp(sub, "ENCODING")) {
        reply_simple(req->out, ((char *)o->v.ptr)[4] == HLL_DENSE ? "dense" : "sparse");
    } else if (!strcasecmp(sub, "TODENSE")) {
        if (pfdebug_make_dense(req, o, &converted)) reply_int(req->out, converted);
    } else {
        reply_errorf(req->out, "ERR Unknown PFDEBUG subcommand '%s'", sub);
    }
}

static void cmd_pfdebug(struct request *req)
{
    char sub[16] = "";
    size_t n = req->argv[1].len < sizeof(sub) - 1 ? req->argv[1].len : sizeof(sub) - 1;
    memcpy(sub, req->argv[1].ptr, n);
    struct object *o = db_find(req->db, req->argv[2].ptr, req->argv[2].len);
    if (!o) {
        reply_error(req->out, "ERR The specified key does not exist");
        return;
    }
    if (!hll_check(req, o)) return;
    o = string_unshare(req, &req->argv[2], o);
    if (req->argc != 3) reply_errorf(req->out, "ERR Wrong number of arguments for the '%s' subcommand", sub);
    else pfdebug_run(req, sub, o);
}

/* ---- PFSELFTEST ---- */

/* A small deterministic generator, so a failure can be reproduced. */
static uint64_t selftest_next(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state >> 17;
}

/* Dense registers against a plain array: random raises, then every
 * register read back. */
static bool selftest_registers(struct request *req)
{
    uint64_t seed = 42;
    for (int round = 0; round < 20; round++) {
        str s = hll_new();
        hll_to_dense(&s);
        uint8_t model[HLL_REGISTERS] = {0};
        for (int k = 0; k < 2000; k++) {
            long index = (long)(selftest_next(&seed) % HLL_REGISTERS);
            int count = (int)(selftest_next(&seed) % 63) + 1;
            hll_set(&s, index, count);
            if (count > model[index]) model[index] = (uint8_t)count;
        }
        for (long i = 0; i < HLL_REGISTERS; i++) {
            if (hll_dense_get((const uint8_t *)s + HLL_HEADER_SIZE, i) != model[i]) {
                reply_errorf(req->out, "TESTFAILED Register error at %ld", i);
                str_free(s);
                return false;
            }
        }
        str_free(s);
    }
    return true;
}

/* The same elements into a sparse and a dense value: equal estimates, each
 * within five standard errors (1.04/sqrt(16384)) of the truth. */
static bool selftest_estimates(struct request *req)
{
    str sparse = hll_new(), dense = hll_new();
    hll_to_dense(&dense);
    bool ok = true;
    long long checkpoint = 1;
    double max_error = 5 * 1.04 / 128.0;
    for (long long j = 1; j <= 1000000 && ok; j++) {
        char ele[24];
        size_t len = format_ll(ele, j);
        hll_add(&sparse, ele, len);
        hll_add(&dense, ele, len);
        if (j != checkpoint) continue;
        checkpoint *= 10;
        uint64_t a, b;
        hll_count(sparse, str_len(sparse), &a);
        hll_count(dense, str_len(dense), &b);
        double err = (double)(a > (uint64_t)j ? a - (uint64_t)j : (uint64_t)j - a) / (double)j;
        if (a != b) {
            reply_errorf(req->out, "TESTFAILED Sparse and dense representations differ at %lld", j);
            ok = false;
        } else if (j > 100 && err > max_error) {
            reply_errorf(req->out, "TESTFAILED too big error. card:%llu abserr:%f", (unsigned long long)a,
                         err * (double)j);
            ok = false;
        }
    }
    str_free(sparse);
    str_free(dense);
    return ok;
}

/* PFSELFTEST: checks the register arithmetic and the estimator. */
static void cmd_pfselftest(struct request *req)
{
    if (selftest_registers(req) && selftest_estimates(req)) reply_ok(req->out);
}

struct command hyperloglog_commands[] = {
    {"pfadd", cmd_pfadd, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @hyperloglog @fast", "hyperloglog",
     "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", "2.8.9", "O(1) to add every element."},
    {"pfcount", cmd_pfcount, -2, CMD_READONLY | CMD_MAY_REPLICATE, 1, -1, 1, "@read @hyperloglog @slow",
     "hyperloglog", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", "2.8.9",
     "O(1) with a very small average constant time when called with a single key. O(N) with N being the number "
     "of keys, and much bigger constant times, when called with multiple keys."},
    {"pfmerge", cmd_pfmerge, -2, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "@write @hyperloglog @slow", "hyperloglog",
     "Merges one or more HyperLogLog values into a single key.", "2.8.9",
     "O(N) to merge N HyperLogLogs, but with high constant times."},
    {"pfdebug", cmd_pfdebug, -3, CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, 2, 2, 1,
     "@write @hyperloglog @admin @slow @dangerous", "hyperloglog", "Internal commands for debugging HyperLogLog values.",
     "2.8.9", "N/A"},
    {"pfselftest", cmd_pfselftest, 1, CMD_ADMIN, 0, 0, 0, "@hyperloglog @admin @slow @dangerous", "hyperloglog",
     "An internal command for testing HyperLogLog values.", "2.8.9", "N/A"},
    {0},
};
