/* hash_commands: the hash commands.
 *
 * Commands: HSET HMSET HSETNX HGET HMGET HGETALL HKEYS HVALS HDEL HEXISTS
 * HLEN HSTRLEN HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 *
 * HGETALL HKEYS HVALS share one walk that a small table of flags tells
 * what to reply; HSET and HMSET differ only in their reply. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/hash.h"
#include "types/scan.h"
#include "types/keyspace_events.h"
#include "util/glob.h"
#include "util/numbers.h"

#define ERR_RANGE_COUNT \
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"

/* ---- helpers ---- */

/* Fields removed per lookup; the rest read as missing until the next
 * lookup or the cron's cycle takes them. */
#define LOOKUP_EXPIRE_MAX 1000

/* hash_lookup, inlined in this file's commands (the hot path). */
static inline bool lookup_hash(struct request *req, const struct arg *key, bool write, struct object **out)
{
    struct object *o = write ? db_find(req->db, key->ptr, key->len) : db_find_read(req->db, key->ptr, key->len);
    if (o && o->type != OBJ_HASH) {
        reply_wrong_type(req->out);
        return false;
    }
    if (o && object_has_item_deadlines(o) && hash_expire_fields(req->db, key->ptr, key->len, o, LOOKUP_EXPIRE_MAX))
        o = db_peek(req->db, key->ptr, key->len);
    *out = o;
    return true;
}

bool hash_lookup(struct request *req, const struct arg *key, bool write, struct object **out)
{
    return lookup_hash(req, key, write, out);
}

/* As hash_lookup for writing, creating an empty hash under key when it is
 * missing; the caller must then add a field before it returns. */
static bool hash_lookup_create(struct request *req, const struct arg *key, struct object **out)
{
    if (!lookup_hash(req, key, true, out)) return false;
    if (!*out) {
        *out = hash_object_create();
        db_add(req->db, key->ptr, key->len, *out);
    }
    return true;
}

/* After n fields were removed from o under key: reports `event`, then
 * deletes the key (reporting "del") when the hash is empty. */
static void hash_removed(struct request *req, const struct arg *key, struct object *o, const char *event, long long n)
{
    key_changed(req, key->ptr, key->len, NOTIFY_HASH, event);
    req->dirty += n - 1;
    if (hash_object_length(o) > 0) return;
    db_delete(req->db, key->ptr, key->len);
    notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_GENERIC, "del");
}

/* ---- setting ---- */

static void set_generic(struct request *req, bool reply_count)
{
    if (req->argc % 2 != 0) {
        reply_wrong_arity(req->out, reply_count ? "hset" : "hmset");
        return;
    }
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!hash_lookup_create(req, key, &o)) return;
    long long added = 0;
    for (int i = 2; i < req->argc; i += 2) {
        struct arg *f = &req->argv[i], *v = &req->argv[i + 1];
        added += hash_object_set(o, f->ptr, f->len, v->ptr, v->len);
    }
    key_changed(req, key->ptr, key->len, NOTIFY_HASH, "hset");
    req->dirty += (req->argc - 2) / 2 - 1;
    if (reply_count) reply_int(req->out, added);
    else reply_ok(req->out);
}

static void cmd_hset(struct request *req)
{
    set_generic(req, true);
}

static void cmd_hmset(struct request *req)
{
    set_generic(req, false);
}

static void cmd_hsetnx(struct request *req)
{
    struct arg *key = &req->argv[1], *f = &req->argv[2], *v = &req->argv[3];
    struct object *o;
    if (!lookup_hash(req, key, true, &o)) return;
    struct hash_value cur;
    if (o && hash_object_get(o, f->ptr, f->len, &cur)) {
        reply_int(req->out, 0);
        return;
    }
    hash_lookup_create(req, key, &o);
    hash_object_set(o, f->ptr, f->len, v->ptr, v->len);
    key_changed(req, key->ptr, key->len, NOTIFY_HASH, "hset");
    reply_int(req->out, 1);
}

/* ---- reading ---- */

static void cmd_hget(struct request *req)
{
    struct object *o;
    struct hash_value v;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    if (o && hash_object_get(o, req->argv[2].ptr, req->argv[2].len, &v)) reply_bulk(req->out, v.p, v.len);
    else reply_null(req->out);
}

static void cmd_hmget(struct request *req)
{
    struct object *o;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++) {
        struct hash_value v;
        if (o && hash_object_get(o, req->argv[i].ptr, req->argv[i].len, &v)) reply_bulk(req->out, v.p, v.len);
        else reply_null(req->out);
    }
}

static void cmd_hexists(struct request *req)
{
    struct object *o;
    struct hash_value v;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    reply_int(req->out, o && hash_object_get(o, req->argv[2].ptr, req->argv[2].len, &v));
}

static void cmd_hstrlen(struct request *req)
{
    struct object *o;
    struct hash_value v;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    bool found = o && hash_object_get(o, req->argv[2].ptr, req->argv[2].len, &v);
    reply_int(req->out, found ? (long long)v.len : 0);
}

static void cmd_hlen(struct request *req)
{
    struct object *o;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    reply_int(req->out, o ? (long long)hash_object_length(o) : 0);
}

enum walk_parts { WALK_FIELDS = 1, WALK_VALUES = 2 };

struct walk {
    struct outbuf *out;
    int parts;
    bool pairs; /* RESP3 HRANDFIELD WITHVALUES: each pair its own array */
};

static bool reply_pair(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct walk *w = ctx;
    if (w->pairs) reply_array(w->out, 2);
    if (w->parts & WALK_FIELDS) reply_bulk(w->out, f, flen);
    if (w->parts & WALK_VALUES) reply_bulk(w->out, v, vlen);
    return true;
}

/* HGETALL (a map) HKEYS HVALS (arrays). */
static void reply_all(struct request *req, int parts)
{
    struct object *o;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    long long n = o ? (long long)hash_object_live_length(o) : 0;
    if (parts == (WALK_FIELDS | WALK_VALUES)) reply_map(req->out, n);
    else reply_array(req->out, n);
    if (!o) return;
    struct walk w = {req->out, parts, false};
    hash_object_each(o, reply_pair, &w);
}

static void cmd_hgetall(struct request *req)
{
    reply_all(req, WALK_FIELDS | WALK_VALUES);
}

static void cmd_hkeys(struct request *req)
{
    reply_all(req, WALK_FIELDS);
}

static void cmd_hvals(struct request *req)
{
    reply_all(req, WALK_VALUES);
}

/* ---- deleting ---- */

static void cmd_hdel(struct request *req)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!lookup_hash(req, key, true, &o)) return;
    long long deleted = 0;
    for (int i = 2; o && i < req->argc; i++) {
        deleted += hash_object_delete(o, req->argv[i].ptr, req->argv[i].len);
        if (hash_object_length(o) == 0) break;
    }
    if (deleted) hash_removed(req, key, o, "hdel", deleted);
    reply_int(req->out, deleted);
}

/* ---- counters ---- */

static void cmd_hincrby(struct request *req)
{
    struct arg *key = &req->argv[1], *f = &req->argv[2];
    long long incr, value = 0;
    if (!request_ll(req, 3, &incr)) return;
    struct object *o;
    if (!lookup_hash(req, key, true, &o)) return;
    struct hash_value cur;
    bool found = o && hash_object_get(o, f->ptr, f->len, &cur);
    if (found && !parse_ll(cur.p, cur.len, &value)) {
        reply_error(req->out, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(req->out, ERR_OVERFLOW);
        return;
    }
    value += incr;
    char buf[24];
    size_t n = format_ll(buf, value);
    hash_lookup_create(req, key, &o);
    /* a live field keeps its deadline; one past it (not removed yet) starts anew */
    if (found) hash_object_update(o, f->ptr, f->len, buf, n);
    else hash_object_set(o, f->ptr, f->len, buf, n);
    key_changed(req, key->ptr, key->len, NOTIFY_HASH, "hincrby");
    reply_int(req->out, value);
}

static void cmd_hincrbyfloat(struct request *req)
{
    struct arg *key = &req->argv[1], *f = &req->argv[2];
    long double incr, value = 0;
    if (!parse_ld(req->argv[3].ptr, req->argv[3].len, &incr)) {
        reply_error(req->out, ERR_NOT_FLOAT);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(req->out, "ERR value is NaN or Infinity");
        return;
    }
    struct object *o;
    if (!lookup_hash(req, key, true, &o)) return;
    struct hash_value cur;
    bool found = o && hash_object_get(o, f->ptr, f->len, &cur);
    if (found && !parse_ld(cur.p, cur.len, &value)) {
        reply_error(req->out, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(req->out, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5200];
    size_t n = format_ld(buf, sizeof(buf), value);
    hash_lookup_create(req, key, &o);
    if (found) hash_object_update(o, f->ptr, f->len, buf, n);
    else hash_object_set(o, f->ptr, f->len, buf, n);
    key_changed(req, key->ptr, key->len, NOTIFY_HASH, "hincrbyfloat");
    /* the formatted result, so a replay does not redo the float arithmetic
     * (keeping the field's deadline, when the hash has deadlines) */
    if (hash_object_has_deadlines(o)) {
        struct arg as_setex[7] = {{"HSETEX", 6}, *key, {"KEEPTTL", 7}, {"FIELDS", 6}, {"1", 1}, *f, {buf, n}};
        oplog_propagate(req, 7, as_setex);
    } else {
        struct arg as_set[4] = {{"HSET", 4}, *key, *f, {buf, n}};
        oplog_propagate(req, 4, as_set);
    }
    reply_bulk(req->out, buf, n);
}

/* ---- HRANDFIELD ---- */

static bool reply_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    (void)v;
    (void)vlen;
    reply_bulk(ctx, f, flen);
    return true;
}

static void randfield_with_count(struct request *req, long long count, bool withvalues)
{
    struct object *o;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    if (!o || count == 0) {
        reply_empty_array(req->out);
        return;
    }
    bool repeat = count < 0;
    /* fields past their deadline not yet removed (a replica) do not count */
    size_t n = (size_t)(repeat ? -count : count), len = hash_object_live_length(o);
    if (!repeat && n > len) n = len;
    /* In RESP3 each pair is an array of its own; in RESP2 the pairs are flat. */
    bool resp3 = req->out->resp >= 3;
    struct walk w = {req->out, WALK_FIELDS | (withvalues ? WALK_VALUES : 0), withvalues && resp3};
    reply_array(req->out, (long long)(withvalues && !resp3 ? 2 * n : n));
    if (repeat) {
        for (size_t i = 0; i < n; i++) hash_object_random(o, reply_pair, &w);
    } else if (n == len) {
        hash_object_each(o, reply_pair, &w);
    } else {
        hash_object_sample(o, n, reply_pair, &w);
    }
}

static void cmd_hrandfield(struct request *req)
{
    if (req->argc >= 3) {
        long long count;
        if (!request_ll(req, 2, &count)) return;
        if (count == LLONG_MIN) {
            reply_error(req->out, ERR_RANGE_COUNT);
            return;
        }
        bool withvalues = req->argc == 4 && ARG_IS(req, 3, "WITHVALUES");
        if (req->argc > 4 || (req->argc == 4 && !withvalues)) {
            reply_syntax_error(req->out);
            return;
        }
        if (withvalues && (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2)) {
            reply_error(req->out, "ERR value is out of range");
            return;
        }
        randfield_with_count(req, count, withvalues);
        return;
    }
    struct object *o;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    if (!o) reply_null(req->out);
    else hash_object_random(o, reply_field, req->out);
}

/* ---- HSCAN ---- */

/* HSCAN visits fields with the scan's cursor already advanced, so the
 * reply begins at the first visit (or after an empty pass). */
struct hscan {
    struct scan_args args;
    struct scan_reply reply;
    const uint64_t *next_cursor;
};

static bool hscan_visit(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct hscan *s = ctx;
    if (!s->reply.begun) scan_reply_begin(&s->reply, s->reply.out, *s->next_cursor);
    if (!scan_matches(&s->args, f, flen)) return true;
    scan_reply_item(&s->reply, f, flen);
    if (!s->args.novalues) scan_reply_item(&s->reply, v, vlen);
    return true;
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] (NOVALUES as
 * in Redis 7.4). A missing key answers an empty scan whatever the options. */
static void cmd_hscan(struct request *req)
{
    struct hscan s = {.reply = {.out = req->out}};
    if (!scan_parse_cursor(req, 2, &s.args)) return;
    struct object *o;
    if (!lookup_hash(req, &req->argv[1], false, &o)) return;
    if (!o) {
        scan_reply_empty(req->out);
        return;
    }
    if (!scan_parse_options(req, 3, SCAN_OPT_NOVALUES, &s.args)) return;
    uint64_t cursor = s.args.cursor;
    s.next_cursor = &cursor;
    hash_object_scan(o, &cursor, s.args.count, hscan_visit, &s);
    if (!s.reply.begun) scan_reply_begin(&s.reply, req->out, cursor);
    scan_reply_end(&s.reply);
}

#define W (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
#define F (CMD_FAST)
struct command hash_commands[] = {
    {"hset", cmd_hset, -4, W | F, 1, 1, 1, "@write @hash @fast", "hash",
     "Creates or modifies the value of a field in a hash.", "2.0.0",
     "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with "
     "multiple field/value pairs."},
    {"hmset", cmd_hmset, -4, W | F, 1, 1, 1, "@write @hash @fast", "hash", "Sets the values of multiple fields.",
     "2.0.0", "O(N) where N is the number of fields being set."},
    {"hsetnx", cmd_hsetnx, 4, W | F, 1, 1, 1, "@write @hash @fast", "hash",
     "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", "O(1)"},
    {"hget", cmd_hget, 3, R | F, 1, 1, 1, "@read @hash @fast", "hash", "Returns the value of a field in a hash.",
     "2.0.0", "O(1)"},
    {"hmget", cmd_hmget, -3, R | F, 1, 1, 1, "@read @hash @fast", "hash",
     "Returns the values of all fields in a hash.", "2.0.0", "O(N) where N is the number of fields being requested."},
    {"hgetall", cmd_hgetall, 2, R, 1, 1, 1, "@read @hash @slow", "hash",
     "Returns all fields and values in a hash.", "2.0.0", "O(N) where N is the size of the hash."},
    {"hkeys", cmd_hkeys, 2, R, 1, 1, 1, "@read @hash @slow", "hash", "Returns all fields in a hash.", "2.0.0",
     "O(N) where N is the size of the hash."},
    {"hvals", cmd_hvals, 2, R, 1, 1, 1, "@read @hash @slow", "hash", "Returns all values in a hash.", "2.0.0",
     "O(N) where N is the size of the hash."},
    {"hdel", cmd_hdel, -3, CMD_WRITE | F, 1, 1, 1, "@write @hash @fast", "hash",
     "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0",
     "O(N) where N is the number of fields to be removed."},
    {"hexists", cmd_hexists, 3, R | F, 1, 1, 1, "@read @hash @fast", "hash",
     "Determines whether a field exists in a hash.", "2.0.0", "O(1)"},
    {"hlen", cmd_hlen, 2, R | F, 1, 1, 1, "@read @hash @fast", "hash", "Returns the number of fields in a hash.",
     "2.0.0", "O(1)"},
    {"hstrlen", cmd_hstrlen, 3, R | F, 1, 1, 1, "@read @hash @fast", "hash",
     "Returns the length of the value of a field.", "3.2.0", "O(1)"},
    {"hincrby", cmd_hincrby, 4, W | F, 1, 1, 1, "@write @hash @fast", "hash",
     "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't "
     "exist.",
     "2.0.0", "O(1)"},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, W | F, 1, 1, 1, "@write @hash @fast", "hash",
     "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't "
     "exist.",
     "2.6.0", "O(1)"},
    {"hrandfield", cmd_hrandfield, -2, R, 1, 1, 1, "@read @hash @slow", "hash",
     "Returns one or more random fields from a hash.", "6.2.0",
     "O(N) where N is the number of fields returned"},
    {"hscan", cmd_hscan, -3, R, 1, 1, 1, "@read @hash @slow", "hash",
     "Iterates over fields and values of a hash.", "2.8.0",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return "
     "back to 0. N is the number of elements inside the collection."},
    {0},
};
