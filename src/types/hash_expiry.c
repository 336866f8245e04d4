/* hash_expiry: hash fields with deadlines — the commands that set, read
 * and clear them, and the removal of fields past their deadline.
 *
 * Commands: HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT HTTL HPTTL HEXPIRETIME
 * HPEXPIRETIME HPERSIST HGETEX HSETEX HGETDEL.
 *
 * Deadlines are absolute ms (hash.c keeps them). A field past its deadline
 * reads as missing everywhere; it is removed — logged as HDEL, reported as
 * "hexpired", the key deleted with its last field — when a command looks
 * the hash up on a primary (hash_expire_fields from hash_lookup) or when
 * the cron's field-expiry cycle visits it (db_active_expire_items, through
 * db_hooks.items_expire). A replica removes nothing itself: it reads such
 * fields as missing until its primary's HDEL arrives. What the commands
 * log is absolute: relative times become HPEXPIREAT / HSETEX ... PXAT. */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/hash.h"
#include "types/keyspace_events.h"
#include "util/mem.h"
#include "util/numbers.h"

/* The largest deadline accepted, as Redis: 2^46 - 1 ms (in the year 4199). */
#define HASH_MAX_DEADLINE_MS ((1LL << 46) - 1)
#define ERR_FIELDS_POSITION "ERR Mandatory argument FIELDS is missing or not at the right position"
#define ERR_NUMFIELDS_MATCH "ERR The `numfields` parameter must match the number of arguments"
#define ERR_NUMFIELDS_POSITIVE "ERR Number of fields must be a positive integer"

/* Per-field results of setting a deadline, as Redis replies them. */
enum deadline_result {
    DEADLINE_NO_FIELD = -2,
    DEADLINE_CONDITION = 0, /* NX/XX/GT/LT not met */
    DEADLINE_SET = 1,
    DEADLINE_DELETED = 2, /* the time was not in the future: the field went */
};

enum deadline_cond { COND_NONE, COND_NX, COND_XX, COND_GT, COND_LT };

/* Whether a deadline at or before now removes the field at once: not while
 * a file loads, nor on a replica applying its primary (the primary's HDEL
 * decides), where it is stored as it came. */
static bool past_deadlines_delete(void)
{
    return !db_loading && !db_expiry_ignored;
}

/* ---- removing fields past their deadline ---- */

struct expire_log {
    int db;
    const char *key;
    size_t len;
};

static void log_expired_field(void *ctx, const char *field, size_t flen)
{
    struct expire_log *el = ctx;
    struct arg hdel[3] = {{"HDEL", 4}, {(char *)el->key, el->len}, {(char *)field, flen}};
    oplog_append(el->db, 3, hdel);
    db_stats.expired_subkeys++;
}

size_t hash_expire_fields(struct db *db, const char *key, size_t len, struct object *o, size_t max)
{
    if (!db_lazy_delete || !past_deadlines_delete()) return 0;
    long long first = hash_object_first_deadline(o);
    if (first < 0 || first > db_now_ms) return 0;
    struct expire_log el = {db->id, key, len};
    size_t n = hash_object_remove_expired(o, db_now_ms, max, log_expired_field, &el);
    if (n == 0) return 0;
    db_touch_key(db, key, len);
    notify_keyspace_event(db->id, key, len, NOTIFY_HASH, "hexpired");
    if (hash_object_length(o) == 0) {
        db_delete(db, key, len);
        notify_keyspace_event(db->id, key, len, NOTIFY_GENERIC, "del");
    }
    return n;
}

/* ---- arguments ---- */

/* Reads an expiry time at argv[i] in seconds or ms, relative to basetime
 * (0 for absolute times), into an absolute ms deadline. */
static bool parse_deadline(struct request *req, int i, bool seconds, long long basetime, long long *out)
{
    long long v;
    if (!request_ll(req, i, &v)) return false;
    if (v < 0) {
        reply_error(req->out, "ERR invalid expire time, must be >= 0");
        return false;
    }
    bool too_big = seconds && v > HASH_MAX_DEADLINE_MS / 1000;
    if (!too_big && seconds) v *= 1000;
    if (too_big || v > HASH_MAX_DEADLINE_MS - basetime) {
        char name[32];
        size_t n = req->argv[0].len < sizeof(name) - 1 ? req->argv[0].len : sizeof(name) - 1;
        for (size_t k = 0; k < n; k++) name[k] = (char)(req->argv[0].ptr[k] | 0x20);
        name[n] = '\0';
        reply_errorf(req->out, "ERR invalid expire time in '%s' command", name);
        return false;
    }
    *out = v + basetime;
    return true;
}

/* "FIELDS numfields field..." with FIELDS at argv[at - 1]: the count must
 * be positive and match what follows. *first is the first field's index. */
static bool parse_fields(struct request *req, int at, const char *count_error, int *first, long long *n)
{
    if (at - 1 >= req->argc || !ARG_IS(req, at - 1, "FIELDS")) {
        reply_error(req->out, ERR_FIELDS_POSITION);
        return false;
    }
    if (at >= req->argc) {
        reply_error(req->out, count_error);
        return false;
    }
    if (!request_ll_range(req, at, 1, LONG_MAX, n, count_error)) return false;
    if (*n != req->argc - at - 1) {
        reply_error(req->out, ERR_NUMFIELDS_MATCH);
        return false;
    }
    *first = at + 1;
    return true;
}

/* The lookup every command here starts with (hash_lookup: on a primary it
 * removes fields past their deadline first). */
static bool lookup(struct request *req, bool write, struct object **o)
{
    return hash_lookup(req, &req->argv[1], write, o);
}

/* ---- HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT ---- */

/* Sets one field's deadline under cond; DEADLINE_DELETED removes the field
 * (and logs its HDEL). */
static enum deadline_result set_deadline(struct request *req, struct object *o, const struct arg *f, long long when,
                                         enum deadline_cond cond)
{
    long long prev = hash_object_deadline(o, f->ptr, f->len);
    if (prev == HASH_FIELD_MISSING) return DEADLINE_NO_FIELD;
    if (prev == HASH_FIELD_PERSISTENT) {
        /* no deadline counts as an infinite one: XX and GT fail, LT holds */
        if (cond == COND_XX || cond == COND_GT) return DEADLINE_CONDITION;
    } else if (cond == COND_NX || (cond == COND_GT && prev >= when) || (cond == COND_LT && prev <= when)) {
        return DEADLINE_CONDITION;
    }
    if (when <= db_now_ms && past_deadlines_delete()) {
        hash_object_delete(o, f->ptr, f->len);
        struct arg hdel[3] = {{"HDEL", 4}, req->argv[1], *f};
        oplog_propagate(req, 3, hdel);
        return DEADLINE_DELETED;
    }
    hash_object_set_deadline(o, f->ptr, f->len, when);
    return DEADLINE_SET;
}

/* After changes to the hash under argv[1]: the key goes with its last
 * field. */
static void delete_if_empty(struct request *req, struct object *o)
{
    struct arg *key = &req->argv[1];
    if (hash_object_length(o) > 0) return;
    db_delete(req->db, key->ptr, key->len);
    notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_GENERIC, "del");
}

/* Logs HPEXPIREAT key when FIELDS n f... for the fields that were set. */
static void log_hpexpireat(struct request *req, long long when, const struct arg *fields, long long n)
{
    char wbuf[24], nbuf[24];
    struct arg small[16];
    int argc = 5 + (int)n;
    struct arg *argv = argc <= 16 ? small : mem_alloc(sizeof(struct arg) * (size_t)argc);
    argv[0] = (struct arg){"HPEXPIREAT", 10};
    argv[1] = req->argv[1];
    argv[2] = (struct arg){wbuf, format_ll(wbuf, when)};
    argv[3] = (struct arg){"FIELDS", 6};
    argv[4] = (struct arg){nbuf, format_ll(nbuf, n)};
    for (long long i = 0; i < n; i++) argv[5 + i] = fields[i];
    oplog_propagate(req, argc, argv);
    if (argv != small) mem_free(argv);
}

/* The four names differ in unit and base: HPEXPIRE... counts in ms (a 'P'
 * second), ...AT / ...TIME take or give absolute times. */
static void time_variant(const struct request *req, bool *seconds, bool *relative)
{
    const struct arg *name = &req->argv[0];
    *seconds = !(name->len > 1 && (name->ptr[1] | 0x20) == 'p');
    bool at = name->len > 2 && strncasecmp(name->ptr + name->len - 2, "at", 2) == 0;
    bool time = name->len > 4 && strncasecmp(name->ptr + name->len - 4, "time", 4) == 0;
    *relative = !at && !time;
}

/* HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT */
static void cmd_hexpire(struct request *req)
{
    bool seconds, relative;
    time_variant(req, &seconds, &relative);
    struct object *o;
    if (!lookup(req, true, &o)) return;
    long long when;
    if (!parse_deadline(req, 2, seconds, relative ? db_now_ms : 0, &when)) return;
    enum deadline_cond cond = COND_NONE;
    if (ARG_IS(req, 3, "NX")) cond = COND_NX;
    else if (ARG_IS(req, 3, "XX")) cond = COND_XX;
    else if (ARG_IS(req, 3, "GT")) cond = COND_GT;
    else if (ARG_IS(req, 3, "LT")) cond = COND_LT;
    int first;
    long long n;
    if (!parse_fields(req, cond == COND_NONE ? 4 : 5, "ERR Parameter `numFields` should be greater than 0", &first,
                      &n))
        return;
    reply_array(req->out, n);
    if (!o) {
        for (long long i = 0; i < n; i++) reply_int(req->out, DEADLINE_NO_FIELD);
        return;
    }
    struct arg small[16];
    struct arg *set = n <= 16 ? small : mem_alloc(sizeof(struct arg) * (size_t)n);
    long long updated = 0, deleted = 0;
    bool had_deadlines = hash_object_has_deadlines(o);
    for (long long i = 0; i < n; i++) {
        const struct arg *f = &req->argv[first + i];
        enum deadline_result r = set_deadline(req, o, f, when, cond);
        if (r == DEADLINE_SET) set[updated++] = *f;
        if (r == DEADLINE_DELETED) deleted++;
        reply_int(req->out, r);
    }
    if (!had_deadlines && hash_object_has_deadlines(o)) db_hexpires_add(req->db, req->argv[1].ptr, req->argv[1].len);
    if (updated + deleted > 0) {
        key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_HASH, deleted ? "hdel" : "hexpire");
        req->dirty += updated + deleted - 1;
    }
    /* the deadline logged is absolute, for the fields it was set on */
    if (updated) log_hpexpireat(req, when, set, updated);
    delete_if_empty(req, o);
    if (set != small) mem_free(set);
}

/* ---- HTTL HPTTL HEXPIRETIME HPEXPIRETIME ---- */

/* HTTL HPTTL HEXPIRETIME HPEXPIRETIME */
static void cmd_httl(struct request *req)
{
    bool seconds, relative;
    time_variant(req, &seconds, &relative);
    struct object *o;
    if (!lookup(req, false, &o)) return;
    int first;
    long long n;
    if (!parse_fields(req, 3, ERR_NUMFIELDS_POSITIVE, &first, &n)) return;
    long long base = relative ? db_now_ms : 0;
    reply_array(req->out, n);
    for (long long i = 0; i < n; i++) {
        const struct arg *f = &req->argv[first + i];
        long long when = o ? hash_object_deadline(o, f->ptr, f->len) : HASH_FIELD_MISSING;
        if (when < 0) reply_int(req->out, when);
        else reply_int(req->out, seconds ? (when + 999 - base) / 1000 : when - base);
    }
}

/* ---- HPERSIST ---- */

static void cmd_hpersist(struct request *req)
{
    struct object *o;
    if (!lookup(req, true, &o)) return;
    int first;
    long long n;
    if (!parse_fields(req, 3, ERR_NUMFIELDS_POSITIVE, &first, &n)) return;
    reply_array(req->out, n);
    bool changed = false;
    for (long long i = 0; i < n; i++) {
        const struct arg *f = &req->argv[first + i];
        long long when = o ? hash_object_deadline(o, f->ptr, f->len) : HASH_FIELD_MISSING;
        if (when < 0) {
            reply_int(req->out, when);
            continue;
        }
        hash_object_persist(o, f->ptr, f->len);
        changed = true;
        reply_int(req->out, 1);
    }
    if (changed) key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_HASH, "hpersist");
}

/* ---- HGETDEL HGETEX ---- */

static bool reply_field_value(struct request *req, struct object *o, const struct arg *f)
{
    struct hash_value v;
    if (o && hash_object_get(o, f->ptr, f->len, &v)) {
        reply_bulk(req->out, v.p, v.len);
        return true;
    }
    reply_null(req->out);
    return false;
}

static void cmd_hgetdel(struct request *req)
{
    struct object *o;
    if (!lookup(req, true, &o)) return;
    int first;
    long long n;
    if (!parse_fields(req, 3, ERR_NUMFIELDS_POSITIVE, &first, &n)) return;
    reply_array(req->out, n);
    long long deleted = 0;
    for (long long i = 0; i < n; i++) {
        const struct arg *f = &req->argv[first + i];
        if (reply_field_value(req, o, f)) deleted += hash_object_delete(o, f->ptr, f->len);
    }
    if (!deleted) return;
    key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_HASH, "hdel");
    req->dirty += deleted - 1;
    /* logged as HDEL key field... */
    struct arg small[16];
    int argc = 2 + (int)n;
    struct arg *argv = argc <= 16 ? small : mem_alloc(sizeof(struct arg) * (size_t)argc);
    argv[0] = (struct arg){"HDEL", 4};
    argv[1] = req->argv[1];
    for (long long i = 0; i < n; i++) argv[2 + i] = req->argv[first + i];
    oplog_propagate(req, argc, argv);
    if (argv != small) mem_free(argv);
    delete_if_empty(req, o);
}

enum getex_mode { GETEX_NONE, GETEX_EX, GETEX_PX, GETEX_EXAT, GETEX_PXAT, GETEX_PERSIST };

static void cmd_hgetex(struct request *req)
{
    struct object *o;
    if (!lookup(req, true, &o)) return;
    enum getex_mode mode = GETEX_NONE;
    if (ARG_IS(req, 2, "EX")) mode = GETEX_EX;
    else if (ARG_IS(req, 2, "PX")) mode = GETEX_PX;
    else if (ARG_IS(req, 2, "EXAT")) mode = GETEX_EXAT;
    else if (ARG_IS(req, 2, "PXAT")) mode = GETEX_PXAT;
    else if (ARG_IS(req, 2, "PERSIST")) mode = GETEX_PERSIST;
    int at = 3;
    long long when = 0;
    if (mode != GETEX_NONE && mode != GETEX_PERSIST) {
        bool seconds = mode == GETEX_EX || mode == GETEX_EXAT;
        bool relative = mode == GETEX_EX || mode == GETEX_PX;
        if (!parse_deadline(req, 3, seconds, relative ? db_now_ms : 0, &when)) return;
        at = 5;
    } else if (mode == GETEX_PERSIST) {
        at = 4;
    }
    int first;
    long long n;
    if (!parse_fields(req, at, ERR_NUMFIELDS_POSITIVE, &first, &n)) return;
    reply_array(req->out, n);
    if (!o) {
        for (long long i = 0; i < n; i++) reply_null(req->out);
        return;
    }
    bool had_deadlines = hash_object_has_deadlines(o);
    long long updated = 0, deleted = 0;
    for (long long i = 0; i < n; i++) {
        const struct arg *f = &req->argv[first + i];
        if (!reply_field_value(req, o, f) || mode == GETEX_NONE) continue;
        if (mode == GETEX_PERSIST) updated += hash_object_persist(o, f->ptr, f->len);
        else if (set_deadline(req, o, f, when, COND_NONE) == DEADLINE_SET) updated++;
        else deleted++;
    }
    if (!had_deadlines && hash_object_has_deadlines(o)) db_hexpires_add(req->db, req->argv[1].ptr, req->argv[1].len);
    if (updated + deleted == 0) return;
    const char *event = mode == GETEX_PERSIST ? "hpersist" : updated ? "hexpire" : "hdel";
    key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_HASH, event);
    req->dirty += updated + deleted - 1;
    if (updated && mode == GETEX_PERSIST) {
        /* HPERSIST key FIELDS n field... */
        struct arg small[16];
        int argc = 4 + (int)n;
        struct arg *argv = argc <= 16 ? small : mem_alloc(sizeof(struct arg) * (size_t)argc);
        argv[0] = (struct arg){"HPERSIST", 8};
        argv[1] = req->argv[1];
        argv[2] = req->argv[first - 2];
        argv[3] = req->argv[first - 1];
        for (long long i = 0; i < n; i++) argv[4 + i] = req->argv[first + i];
        oplog_propagate(req, argc, argv);
        if (argv != small) mem_free(argv);
    } else if (updated) {
        log_hpexpireat(req, when, &req->argv[first], n);
    }
    delete_if_empty(req, o);
}

/* ---- HSETEX ---- */

enum setex_flags {
    SETEX_FNX = 1 << 0,
    SETEX_FXX = 1 << 1,
    SETEX_KEEPTTL = 1 << 2,
    SETEX_DEADLINE = 1 << 3, /* EX PX EXAT PXAT */
};

struct setex_args {
    int flags;
    long long when;
    int when_at; /* index of the time argument, or 0 */
    int first;   /* first field */
    long long n;
};

static bool parse_setex(struct request *req, struct setex_args *a)
{
    static const struct {
        const char *name;
        bool seconds, relative;
    } times[] = {{"EX", true, true}, {"PX", false, true}, {"EXAT", true, false}, {"PXAT", false, false}};
    for (int i = 2; i < req->argc; i++) {
        if (ARG_IS(req, i, "FIELDS")) {
            if (i >= req->argc - 3) {
                reply_wrong_arity(req->out, "hsetex");
                return false;
            }
            if (!request_ll_range(req, i + 1, 1, INT_MAX, &a->n, "ERR invalid number of fields")) return false;
            long long remaining = req->argc - i - 2;
            if (remaining % 2 != 0 || a->n != remaining / 2) {
                reply_wrong_arity(req->out, "hsetex");
                return false;
            }
            a->first = i + 2;
            return true;
        }
        if (ARG_IS(req, i, "FNX") || ARG_IS(req, i, "FXX")) {
            if (a->flags & (SETEX_FNX | SETEX_FXX)) {
                reply_error(req->out, "ERR Only one of FXX or FNX arguments can be specified");
                return false;
            }
            a->flags |= ARG_IS(req, i, "FNX") ? SETEX_FNX : SETEX_FXX;
            continue;
        }
        int t = -1;
        for (int k = 0; k < 4; k++)
            if (req->argv[i].len == strlen(times[k].name) &&
                strncasecmp(req->argv[i].ptr, times[k].name, req->argv[i].len) == 0)
                t = k;
        if (t < 0 && !ARG_IS(req, i, "KEEPTTL")) {
            reply_errorf(req->out, "ERR unknown argument: %.*s", (int)req->argv[i].len, req->argv[i].ptr);
            return false;
        }
        if (a->flags & (SETEX_KEEPTTL | SETEX_DEADLINE)) {
            reply_error(req->out, "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified");
            return false;
        }
        if (t < 0) {
            a->flags |= SETEX_KEEPTTL;
            continue;
        }
        if (i >= req->argc - 1) {
            reply_error(req->out, "ERR missing expire time");
            return false;
        }
        a->flags |= SETEX_DEADLINE;
        a->when_at = ++i;
        if (!parse_deadline(req, i, times[t].seconds, times[t].relative ? db_now_ms : 0, &a->when)) return false;
    }
    reply_wrong_arity(req->out, "hsetex");
    return false;
}

static void cmd_hsetex(struct request *req)
{
    struct setex_args a = {0};
    if (!parse_setex(req, &a)) return;
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!lookup(req, true, &o)) return;
    if (a.flags & (SETEX_FNX | SETEX_FXX)) {
        long long found = 0;
        for (long long i = 0; o && i < a.n; i++) {
            struct hash_value v;
            const struct arg *f = &req->argv[a.first + 2 * i];
            found += hash_object_get(o, f->ptr, f->len, &v);
        }
        if (((a.flags & SETEX_FNX) && found > 0) || ((a.flags & SETEX_FXX) && found < a.n)) {
            reply_int(req->out, 0);
            return;
        }
    }
    if (!o) {
        o = hash_object_create();
        db_add(req->db, key->ptr, key->len, o);
    }
    bool had_deadlines = hash_object_has_deadlines(o);
    long long deleted = 0;
    for (long long i = 0; i < a.n; i++) {
        const struct arg *f = &req->argv[a.first + 2 * i], *v = f + 1;
        if (a.flags & (SETEX_KEEPTTL | SETEX_DEADLINE)) hash_object_update(o, f->ptr, f->len, v->ptr, v->len);
        else hash_object_set(o, f->ptr, f->len, v->ptr, v->len);
        if ((a.flags & SETEX_DEADLINE) && set_deadline(req, o, f, a.when, COND_NONE) == DEADLINE_DELETED) deleted++;
    }
    if (!had_deadlines && hash_object_has_deadlines(o)) db_hexpires_add(req->db, key->ptr, key->len);
    key_changed(req, key->ptr, key->len, NOTIFY_HASH, "hset");
    if (a.flags & SETEX_DEADLINE)
        notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_HASH, deleted ? "hdel" : "hexpire");
    req->dirty += a.n - 1;
    if (!deleted && (a.flags & SETEX_DEADLINE)) {
        /* logged with the deadline as PXAT absolute ms */
        char wbuf[24];
        struct arg small[32];
        struct arg *argv = req->argc <= 32 ? small : mem_alloc(sizeof(struct arg) * (size_t)req->argc);
        memcpy(argv, req->argv, sizeof(struct arg) * (size_t)req->argc);
        argv[a.when_at - 1] = (struct arg){"PXAT", 4};
        argv[a.when_at] = (struct arg){wbuf, format_ll(wbuf, a.when)};
        oplog_propagate(req, req->argc, argv);
        if (argv != small) mem_free(argv);
    }
    reply_int(req->out, 1);
    delete_if_empty(req, o);
}

/* ---- the field-expiry cycle's hook ---- */

static size_t expire_items(struct db *db, const char *key, size_t len, struct object *o, size_t max)
{
    if (o->type != OBJ_HASH) return 0;
    return hash_expire_fields(db, key, len, o, max);
}

void hash_expiry_init(void)
{
    db_hooks.items_expire[OBJ_HASH] = expire_items;
}

#define W (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define WF (CMD_WRITE | CMD_FAST)
#define R (CMD_READONLY | CMD_FAST)
#define ON "O(N) where N is the number of specified fields"
struct command hash_expiry_commands[] = {
    {"hexpire", cmd_hexpire, -6, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Set expiry for hash field using relative time to expire (seconds)", "7.4.0", ON},
    {"hpexpire", cmd_hexpire, -6, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Set expiry for hash field using relative time to expire (milliseconds)", "7.4.0", ON},
    {"hexpireat", cmd_hexpire, -6, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Set expiry for hash field using an absolute Unix timestamp (seconds)", "7.4.0", ON},
    {"hpexpireat", cmd_hexpire, -6, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Set expiry for hash field using an absolute Unix timestamp (milliseconds)", "7.4.0", ON},
    {"httl", cmd_httl, -5, R, 1, 1, 1, "@read @hash @fast", "hash",
     "Returns the TTL in seconds of a hash field.", "7.4.0", ON},
    {"hpttl", cmd_httl, -5, R, 1, 1, 1, "@read @hash @fast", "hash",
     "Returns the TTL in milliseconds of a hash field.", "7.4.0", ON},
    {"hexpiretime", cmd_httl, -5, R, 1, 1, 1, "@read @hash @fast", "hash",
     "Returns the expiration time of a hash field as a Unix timestamp, in seconds.", "7.4.0", ON},
    {"hpexpiretime", cmd_httl, -5, R, 1, 1, 1, "@read @hash @fast", "hash",
     "Returns the expiration time of a hash field as a Unix timestamp, in msec.", "7.4.0", ON},
    {"hpersist", cmd_hpersist, -5, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Removes the expiration time for each specified field", "7.4.0", ON},
    {"hgetdel", cmd_hgetdel, -5, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Returns the value of a field and deletes it from the hash.", "8.0.0", ON},
    {"hgetex", cmd_hgetex, -5, WF, 1, 1, 1, "@write @hash @fast", "hash",
     "Get the value of one or more fields of a given hash key, and optionally set their expiration.", "8.0.0", ON},
    {"hsetex", cmd_hsetex, -6, W, 1, 1, 1, "@write @hash @fast", "hash",
     "Set the value of one or more fields of a given hash key, and optionally set their expiration.", "8.0.0",
     "O(N) where N is the number of fields being set."},
    {0},
};
