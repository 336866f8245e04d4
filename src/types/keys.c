/* keys: the generic keyspace commands — DEL UNLINK EXISTS TYPE KEYS SCAN
 * RANDOMKEY RENAME RENAMENX MOVE COPY, the EXPIRE family, TTL family,
 * PERSIST, TOUCH and OBJECT. They see values only through db/object.h. */
#include "types/keys.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/scan.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numbers.h"

static struct arg *key_arg(struct request *req, int i)
{
    return &req->argv[i];
}

/* ---- DEL, EXISTS, TYPE, TOUCH ---- */

static void cmd_del(struct request *req)
{
    long long deleted = 0;
    for (int i = 1; i < req->argc; i++) {
        struct arg *k = key_arg(req, i);
        if (!db_find(req->db, k->ptr, k->len)) continue;
        db_delete(req->db, k->ptr, k->len);
        key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "del");
        deleted++;
    }
    reply_int(req->out, deleted);
}

/* Counts each argument, so a key named twice counts twice; unlike TOUCH it
 * leaves the access time alone. */
static void cmd_exists(struct request *req)
{
    long long n = 0;
    for (int i = 1; i < req->argc; i++)
        if (db_find_read_notouch(req->db, req->argv[i].ptr, req->argv[i].len)) n++;
    reply_int(req->out, n);
}

static void cmd_touch(struct request *req)
{
    long long n = 0;
    for (int i = 1; i < req->argc; i++)
        if (db_find_read(req->db, req->argv[i].ptr, req->argv[i].len)) n++;
    reply_int(req->out, n);
}

static void cmd_type(struct request *req)
{
    struct object *o = db_find_read_notouch(req->db, req->argv[1].ptr, req->argv[1].len);
    reply_simple(req->out, o ? object_type_name(o) : "none");
}

/* ---- KEYS, SCAN, RANDOMKEY ---- */

static bool pattern_is_all(const struct arg *p)
{
    return p->len == 1 && p->ptr[0] == '*';
}

static void cmd_keys(struct request *req)
{
    struct arg *pattern = &req->argv[1];
    bool all = pattern_is_all(pattern);
    outbuf_mark mark = reply_defer(req->out);
    long long n = 0;
    struct dict_iter it;
    dict_iter_init(&it, req->db->keys, true);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        size_t len = str_len(e->key);
        if (!all && !glob_match(pattern->ptr, pattern->len, e->key, len, false)) continue;
        if (db_is_expired(req->db, e->key, len)) continue;
        reply_bulk(req->out, e->key, len);
        n++;
    }
    dict_iter_done(&it);
    reply_deferred_array(req->out, mark, n);
}

struct scan_batch {
    str *keys;
    size_t count;
    size_t cap;
};

static void scan_collect(void *ctx, struct dict_entry *e)
{
    struct scan_batch *b = ctx;
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->keys = mem_realloc(b->keys, b->cap * sizeof(str));
    }
    b->keys[b->count++] = e->key;
}

static int type_by_name(const char *name)
{
    static const struct {
        const char *name;
        int type;
    } names[] = {{"string", OBJ_STRING}, {"list", OBJ_LIST},   {"set", OBJ_SET},
                 {"zset", OBJ_ZSET},     {"hash", OBJ_HASH},   {"stream", OBJ_STREAM}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(name, names[i].name)) return names[i].type;
    return -1;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: visits buckets
 * until about COUNT keys were seen, then filters them. */
static void cmd_scan(struct request *req)
{
    struct scan_args a;
    if (!scan_parse(req, 1, SCAN_OPT_TYPE, &a)) return;
    int type = a.type_name ? type_by_name(a.type_name) : -1;
    struct scan_batch batch = {0};
    uint64_t cursor = a.cursor;
    long long max_iterations = a.count > LLONG_MAX / 10 ? LLONG_MAX : a.count * 10;
    do {
        cursor = dict_scan(req->db->keys, cursor, scan_collect, &batch);
    } while (cursor && max_iterations-- && (long long)batch.count < a.count);

    struct scan_reply reply;
    scan_reply_begin(&reply, req->out, cursor);
    for (size_t i = 0; i < batch.count; i++) {
        str key = batch.keys[i];
        size_t len = str_len(key);
        if (!scan_matches(&a, key, len)) continue;
        struct object *o = db_peek(req->db, key, len);
        if (!o || db_is_expired(req->db, key, len)) continue;
        if (a.type_name && (int)o->type != type) continue;
        scan_reply_item(&reply, key, len);
    }
    scan_reply_end(&reply);
    mem_free(batch.keys);
}

static void cmd_randomkey(struct request *req)
{
    struct dict_entry *e = db_random_key(req->db);
    if (e) reply_bulk(req->out, e->key, str_len(e->key));
    else reply_null(req->out);
}

/* ---- RENAME, MOVE, COPY ---- */

static void rename_key(struct request *req, bool nx)
{
    struct arg *src = &req->argv[1], *dst = &req->argv[2];
    if (!db_find(req->db, src->ptr, src->len)) {
        reply_error(req->out, ERR_NO_KEY);
        return;
    }
    bool same = src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0;
    if (same) {
        if (nx) reply_int(req->out, 0);
        else reply_ok(req->out);
        return;
    }
    if (nx && db_find(req->db, dst->ptr, dst->len)) {
        reply_int(req->out, 0);
        return;
    }
    long long expire;
    struct object *val = db_take(req->db, src->ptr, src->len, &expire);
    struct object *old = db_find(req->db, dst->ptr, dst->len);
    int old_type = old ? (int)old->type : -1;
    db_delete(req->db, dst->ptr, dst->len);
    db_add(req->db, dst->ptr, dst->len, val);
    if (expire != -1) db_set_expire(req->db, dst->ptr, dst->len, expire);
    key_changed(req, src->ptr, src->len, NOTIFY_GENERIC, "rename_from");
    key_changed(req, dst->ptr, dst->len, NOTIFY_GENERIC, "rename_to");
    if (old_type != -1) db_report_overwrite(req->db, dst->ptr, dst->len, old_type, val->type);
    if (nx) reply_int(req->out, 1);
    else reply_ok(req->out);
}

static void cmd_rename(struct request *req)
{
    rename_key(req, false);
}

static void cmd_renamenx(struct request *req)
{
    rename_key(req, true);
}

/* Reads a DB number for MOVE and COPY with Redis's two errors: not an int
 * (beyond 32 bits), then not an existing db. */
static bool db_index_arg(struct request *req, int i, struct db **out)
{
    long long index;
    if (!request_ll(req, i, &index)) return false;
    if (index < INT_MIN || index > INT_MAX) {
        reply_error(req->out, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return false;
    }
    *out = db_by_index((int)index);
    if (*out) return true;
    reply_error(req->out, "ERR DB index is out of range");
    return false;
}

static void cmd_move(struct request *req)
{
    struct arg *k = &req->argv[1];
    struct db *dst;
    if (!db_index_arg(req, 2, &dst)) return;
    if (dst == req->db) {
        reply_error(req->out, "ERR source and destination objects are the same");
        return;
    }
    if (!db_find(req->db, k->ptr, k->len) || db_find(dst, k->ptr, k->len)) {
        reply_int(req->out, 0);
        return;
    }
    long long expire;
    struct object *val = db_take(req->db, k->ptr, k->len, &expire);
    db_add(dst, k->ptr, k->len, val);
    if (expire != -1) db_set_expire(dst, k->ptr, k->len, expire);
    key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "move_from");
    db_touch_key(dst, k->ptr, k->len);
    notify_keyspace_event(dst->id, k->ptr, k->len, NOTIFY_GENERIC, "move_to");
    reply_int(req->out, 1);
}

/* COPY source destination [DB index] [REPLACE] */
static void cmd_copy(struct request *req)
{
    struct arg *src = &req->argv[1], *dst = &req->argv[2];
    struct db *target = req->db;
    bool replace = false;
    for (int i = 3; i < req->argc; i++) {
        if (ARG_IS(req, i, "REPLACE")) {
            replace = true;
        } else if (ARG_IS(req, i, "DB") && i + 1 < req->argc) {
            if (!db_index_arg(req, ++i, &target)) return;
        } else {
            reply_syntax_error(req->out);
            return;
        }
    }
    bool same_key = src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0;
    if (target == req->db && same_key) {
        reply_error(req->out, "ERR source and destination objects are the same");
        return;
    }
    struct object *o = db_find(req->db, src->ptr, src->len);
    if (!o || (!replace && db_find(target, dst->ptr, dst->len))) {
        reply_int(req->out, 0);
        return;
    }
    long long expire = db_get_expire(req->db, src->ptr, src->len);
    struct object *old = db_find(target, dst->ptr, dst->len);
    int old_type = old ? (int)old->type : -1;
    db_set(target, dst->ptr, dst->len, object_copy(o), false);
    if (expire != -1) db_set_expire(target, dst->ptr, dst->len, expire);
    db_touch_key(target, dst->ptr, dst->len);
    req->dirty++;
    notify_keyspace_event(target->id, dst->ptr, dst->len, NOTIFY_GENERIC, "copy_to");
    if (old_type != -1) db_report_overwrite(target, dst->ptr, dst->len, old_type, o->type);
    reply_int(req->out, 1);
}

/* ---- EXPIRE family ---- */

enum expire_cond { EXPIRE_NX = 1, EXPIRE_XX = 2, EXPIRE_GT = 4, EXPIRE_LT = 8 };

static bool parse_expire_conditions(struct request *req, int *cond)
{
    for (int i = 3; i < req->argc; i++) {
        if (ARG_IS(req, i, "NX")) *cond |= EXPIRE_NX;
        else if (ARG_IS(req, i, "XX")) *cond |= EXPIRE_XX;
        else if (ARG_IS(req, i, "GT")) *cond |= EXPIRE_GT;
        else if (ARG_IS(req, i, "LT")) *cond |= EXPIRE_LT;
        else {
            reply_errorf(req->out, "ERR Unsupported option %s", req->argv[i].ptr);
            return false;
        }
    }
    if ((*cond & EXPIRE_NX) && (*cond & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(req->out, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if ((*cond & EXPIRE_GT) && (*cond & EXPIRE_LT)) {
        reply_error(req->out, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/* NX: only without a TTL; XX: only with one; GT/LT compare with the current
 * TTL, where "no TTL" counts as infinite. */
static bool expire_condition_holds(int cond, long long current, long long when)
{
    if ((cond & EXPIRE_NX) && current != -1) return false;
    if ((cond & EXPIRE_XX) && current == -1) return false;
    if ((cond & EXPIRE_GT) && (current == -1 || when <= current)) return false;
    if ((cond & EXPIRE_LT) && current != -1 && when >= current) return false;
    return true;
}

/* EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT: `unit_ms` is 1000 for seconds, and the
 * base is now for relative forms or 0 for absolute ones. */
static void expire_generic(struct request *req, const char *cmd_name, long long unit_ms, bool relative)
{
    struct arg *k = &req->argv[1];
    long long amount;
    int cond = 0;
    /* Redis checks the options before the amount. */
    if (!parse_expire_conditions(req, &cond)) return;
    if (!request_ll(req, 2, &amount)) return;
    if ((unit_ms == 1000 && (amount > LLONG_MAX / 1000 || amount < LLONG_MIN / 1000))) {
        reply_errorf(req->out, "ERR invalid expire time in '%s' command", cmd_name);
        return;
    }
    long long when = amount * unit_ms;
    if (relative) {
        if ((when > 0 && db_now_ms > LLONG_MAX - when)) {
            reply_errorf(req->out, "ERR invalid expire time in '%s' command", cmd_name);
            return;
        }
        when += db_now_ms;
    }
    if (!db_find(req->db, k->ptr, k->len)) {
        reply_int(req->out, 0);
        return;
    }
    long long current = db_get_expire(req->db, k->ptr, k->len);
    if (!expire_condition_holds(cond, current, when)) {
        reply_int(req->out, 0);
        return;
    }
    /* a deadline already past deletes the key, except in a replay (the
     * AOF, a replica applying its primary): later commands in the log, a
     * PERSIST, still find the key there, as Redis's do */
    if (when <= db_now_ms && !db_loading && !db_expiry_ignored) {
        db_delete(req->db, k->ptr, k->len);
        key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "del");
        struct arg del[2] = {{"DEL", 3}, *k};
        oplog_propagate(req, 2, del);
    } else {
        db_set_expire(req->db, k->ptr, k->len, when);
        key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "expire");
        /* every form is logged as an absolute deadline, so replay agrees */
        char ms[24];
        struct arg at[3] = {{"PEXPIREAT", 9}, *k, {ms, format_ll(ms, when)}};
        oplog_propagate(req, 3, at);
    }
    reply_int(req->out, 1);
}

static void cmd_expire(struct request *req)
{
    expire_generic(req, "expire", 1000, true);
}

static void cmd_pexpire(struct request *req)
{
    expire_generic(req, "pexpire", 1, true);
}

static void cmd_expireat(struct request *req)
{
    expire_generic(req, "expireat", 1000, false);
}

static void cmd_pexpireat(struct request *req)
{
    expire_generic(req, "pexpireat", 1, false);
}

/* TTL family: -2 missing key, -1 no TTL. `relative` gives time left,
 * otherwise the absolute deadline; `unit_ms` scales the answer. */
static void ttl_generic(struct request *req, bool relative, long long unit_ms)
{
    struct arg *k = &req->argv[1];
    if (!db_find_read_notouch(req->db, k->ptr, k->len)) {
        reply_int(req->out, -2);
        return;
    }
    long long when = db_get_expire(req->db, k->ptr, k->len);
    if (when == -1) {
        reply_int(req->out, -1);
        return;
    }
    long long v = relative ? when - db_now_ms : when;
    if (v < 0) v = 0;
    reply_int(req->out, unit_ms == 1000 ? (v + 500) / 1000 : v);
}

static void cmd_ttl(struct request *req)
{
    ttl_generic(req, true, 1000);
}

static void cmd_pttl(struct request *req)
{
    ttl_generic(req, true, 1);
}

/* Rounds to the nearest second like TTL does (Redis's ttlGenericCommand). */
static void cmd_expiretime(struct request *req)
{
    ttl_generic(req, false, 1000);
}

static void cmd_pexpiretime(struct request *req)
{
    ttl_generic(req, false, 1);
}

static void cmd_persist(struct request *req)
{
    struct arg *k = &req->argv[1];
    if (!db_find(req->db, k->ptr, k->len) || !db_persist(req->db, k->ptr, k->len)) {
        reply_int(req->out, 0);
        return;
    }
    key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "persist");
    reply_int(req->out, 1);
}

/* ---- OBJECT ---- */

static struct object *object_arg(struct request *req)
{
    struct object *o = db_find_read_notouch(req->db, req->argv[2].ptr, req->argv[2].len);
    if (!o) reply_null(req->out);
    return o;
}

static void cmd_object_encoding(struct request *req)
{
    struct object *o = object_arg(req);
    if (o) reply_bulk_cstr(req->out, object_encoding_name(o));
}

/* Redis shares the objects for 0..9999 among all keys and reports them
 * with its "shared" refcount, INT_MAX; other values have one owner. */
#define SHARED_INTEGERS 10000

static void cmd_object_refcount(struct request *req)
{
    struct object *o = object_arg(req);
    if (!o) return;
    bool shared = o->type == OBJ_STRING && o->encoding == ENC_INT && o->v.i >= 0 && o->v.i < SHARED_INTEGERS;
    reply_int(req->out, shared ? INT_MAX : 1);
}

static void cmd_object_idletime(struct request *req)
{
    struct object *o = object_arg(req);
    if (!o) return;
    if (object_lfu_policy) {
        reply_error(req->out, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                              "switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(req->out, object_clock > o->lru ? (long long)(object_clock - o->lru) : 0);
}

static void cmd_object_freq(struct request *req)
{
    struct object *o = object_arg(req);
    if (!o) return;
    if (!object_lfu_policy) {
        reply_error(req->out, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
                              "note that when switching between policies at runtime LRU and LFU data will take "
                              "some time to adjust.");
        return;
    }
    reply_int(req->out, object_lfu_counter(o));
}

static void cmd_object_help(struct request *req)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define R (CMD_READONLY)
#define W (CMD_WRITE)
#define F (CMD_FAST)
static struct command object_subcommands[] = {
    {"encoding", cmd_object_encoding, 3, R, 2, 2, 1, "@keyspace @read @slow", "generic",
     "Returns the internal encoding of a Redis object.", "2.2.3", "O(1)"},
    {"refcount", cmd_object_refcount, 3, R, 2, 2, 1, "@keyspace @read @slow", "generic",
     "Returns the reference count of a value of a key.", "2.2.3", "O(1)"},
    {"idletime", cmd_object_idletime, 3, R, 2, 2, 1, "@keyspace @read @slow", "generic",
     "Returns the time since the last access to a Redis object.", "2.2.3", "O(1)"},
    {"freq", cmd_object_freq, 3, R, 2, 2, 1, "@keyspace @read @slow", "generic",
     "Returns the logarithmic access frequency counter of a Redis object.", "4.0.0", "O(1)"},
    {"help", cmd_object_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@keyspace @slow", "generic",
     "Returns helpful text about the different subcommands.", "6.2.0", "O(1)"},
    {0},
};

struct command keys_commands[] = {
    {"del", cmd_del, -2, W, 1, -1, 1, "@keyspace @write @slow", "generic", "Deletes one or more keys.", "1.0.0",
     "O(N)"},
    {"unlink", cmd_del, -2, W | F, 1, -1, 1, "@keyspace @write @fast", "generic",
     "Asynchronously deletes one or more keys.", "4.0.0", "O(1) for each key removed"},
    {"exists", cmd_exists, -2, R | F, 1, -1, 1, "@keyspace @read @fast", "generic",
     "Determines whether one or more keys exist.", "1.0.0", "O(N)"},
    {"touch", cmd_touch, -2, R | F, 1, -1, 1, "@keyspace @read @fast", "generic",
     "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
     "3.2.1", "O(N)"},
    {"type", cmd_type, 2, R | F, 1, 1, 1, "@keyspace @read @fast", "generic",
     "Determines the type of value stored at a key.", "1.0.0", "O(1)"},
    {"keys", cmd_keys, 2, R, 0, 0, 0, "@keyspace @read @slow @dangerous", "generic",
     "Returns all key names that match a pattern.", "1.0.0", "O(N)"},
    {"scan", cmd_scan, -2, R, 0, 0, 0, "@keyspace @read @slow", "generic",
     "Iterates over the key names in the database.", "2.8.0", "O(1) for every call. O(N) for a complete iteration"},
    {"randomkey", cmd_randomkey, 1, R, 0, 0, 0, "@keyspace @read @slow", "generic",
     "Returns a random key name from the database.", "1.0.0", "O(1)"},
    {"rename", cmd_rename, 3, W, 1, 2, 1, "@keyspace @write @slow", "generic", "Renames a key and overwrites the destination.",
     "1.0.0", "O(1)"},
    {"renamenx", cmd_renamenx, 3, W | F, 1, 2, 1, "@keyspace @write @fast", "generic",
     "Renames a key only when the target key name doesn't exist.", "1.0.0", "O(1)"},
    {"move", cmd_move, 3, W | F, 1, 1, 1, "@keyspace @write @fast", "generic", "Moves a key to another database.",
     "1.0.0", "O(1)"},
    {"copy", cmd_copy, -3, W | CMD_DENYOOM, 1, 2, 1, "@keyspace @write @slow", "generic", "Copies the value of a key to a new key.",
     "6.2.0", "O(N) worst case for collections"},
    {"expire", cmd_expire, -3, W | F, 1, 1, 1, "@keyspace @write @fast", "generic",
     "Sets the expiration time of a key in seconds.", "1.0.0", "O(1)"},
    {"pexpire", cmd_pexpire, -3, W | F, 1, 1, 1, "@keyspace @write @fast", "generic",
     "Sets the expiration time of a key in milliseconds.", "2.6.0", "O(1)"},
    {"expireat", cmd_expireat, -3, W | F, 1, 1, 1, "@keyspace @write @fast", "generic",
     "Sets the expiration time of a key to a Unix timestamp.", "1.2.0", "O(1)"},
    {"pexpireat", cmd_pexpireat, -3, W | F, 1, 1, 1, "@keyspace @write @fast", "generic",
     "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", "O(1)"},
    {"ttl", cmd_ttl, 2, R | F, 1, 1, 1, "@keyspace @read @fast", "generic",
     "Returns the expiration time in seconds of a key.", "1.0.0", "O(1)"},
    {"pttl", cmd_pttl, 2, R | F, 1, 1, 1, "@keyspace @read @fast", "generic",
     "Returns the expiration time in milliseconds of a key.", "2.6.0", "O(1)"},
    {"expiretime", cmd_expiretime, 2, R | F, 1, 1, 1, "@keyspace @read @fast", "generic",
     "Returns the expiration time of a key as a Unix timestamp.", "7.0.0", "O(1)"},
    {"pexpiretime", cmd_pexpiretime, 2, R | F, 1, 1, 1, "@keyspace @read @fast", "generic",
     "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", "O(1)"},
    {"persist", cmd_persist, 2, W | F, 1, 1, 1, "@keyspace @write @fast", "generic",
     "Removes the expiration time of a key.", "2.2.0", "O(1)"},
    {"object", NULL, -2, 0, 0, 0, 0, "@slow", "generic", "A container for object introspection commands.", "2.2.3",
     "Depends on subcommand.", object_subcommands},
    {0},
};
