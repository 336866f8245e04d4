/* set_commands: the set commands.
 *
 * Commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP
 * SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE
 * SSCAN.
 *
 * The algebra commands share one path: the sources are looked up together
 * (every key is type-checked before anything happens), the result is either
 * streamed to the client (SINTER) or built as a set object, which the plain
 * variants reply and the STORE variants store under the destination. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/scan.h"
#include "types/set.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numbers.h"

#define ERR_NOT_POSITIVE "ERR value is out of range, must be positive"
#define ERR_RANGE_COUNT \
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"

/* SPOP COUNT removes members one by one while the ones left would be more
 * than count / SPOP_KEEP_RATIO; otherwise it builds the set that remains. */
#define SPOP_KEEP_RATIO 5
/* Members per SREM that SPOP COUNT logs in place of itself. */
#define SPOP_LOG_BATCH 1024

/* ---- helpers ---- */

/* Looks up key for a set command; replies WRONGTYPE and returns false when
 * it holds another type. *out is NULL when the key is missing. */
static bool set_lookup(struct request *req, const struct arg *key, bool write, struct object **out)
{
    struct object *o = write ? db_find(req->db, key->ptr, key->len) : db_find_read(req->db, key->ptr, key->len);
    if (o && o->type != OBJ_SET) {
        reply_wrong_type(req->out);
        return false;
    }
    *out = o;
    return true;
}

/* After n members left o under key: reports `event`, then deletes the key
 * (reporting "del") when the set is empty. o may be freed. */
static void set_removed(struct request *req, const struct arg *key, struct object *o, const char *event, long long n)
{
    key_changed(req, key->ptr, key->len, NOTIFY_SET, event);
    req->dirty += n - 1;
    if (set_object_length(o) > 0) return;
    db_delete(req->db, key->ptr, key->len);
    notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_GENERIC, "del");
}

static bool reply_member(void *ctx, const char *p, size_t len)
{
    reply_bulk(ctx, p, len);
    return true;
}

/* ---- adding and removing ---- */

static void cmd_sadd(struct request *req)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!set_lookup(req, key, true, &o)) return;
    if (!o) {
        o = set_object_create(req->argv[2].ptr, req->argv[2].len, (size_t)(req->argc - 2));
        db_add(req->db, key->ptr, key->len, o);
    }
    long long added = 0;
    for (int i = 2; i < req->argc; i++) added += set_object_add(o, req->argv[i].ptr, req->argv[i].len);
    if (added) {
        key_changed(req, key->ptr, key->len, NOTIFY_SET, "sadd");
        req->dirty += added - 1;
    }
    reply_int(req->out, added);
}

static void cmd_srem(struct request *req)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!set_lookup(req, key, true, &o)) return;
    long long removed = 0;
    for (int i = 2; o && i < req->argc; i++) {
        removed += set_object_remove(o, req->argv[i].ptr, req->argv[i].len);
        if (set_object_length(o) == 0) break;
    }
    if (removed) set_removed(req, key, o, "srem", removed);
    reply_int(req->out, removed);
}

static void cmd_smove(struct request *req)
{
    struct arg *src = &req->argv[1], *dst = &req->argv[2], *m = &req->argv[3];
    struct object *so = db_find(req->db, src->ptr, src->len);
    struct object *dobj = db_find(req->db, dst->ptr, dst->len);
    if (!so) {
        reply_int(req->out, 0);
        return;
    }
    if (so->type != OBJ_SET || (dobj && dobj->type != OBJ_SET)) {
        reply_wrong_type(req->out);
        return;
    }
    if (so == dobj) {
        reply_int(req->out, set_object_contains(so, m->ptr, m->len));
        return;
    }
    if (!set_object_remove(so, m->ptr, m->len)) {
        reply_int(req->out, 0);
        return;
    }
    set_removed(req, src, so, "srem", 1);
    if (!dobj) {
        dobj = set_object_create(m->ptr, m->len, 1);
        db_add(req->db, dst->ptr, dst->len, dobj);
    }
    if (set_object_add(dobj, m->ptr, m->len)) key_changed(req, dst->ptr, dst->len, NOTIFY_SET, "sadd");
    reply_int(req->out, 1);
}

/* ---- reading ---- */

static void cmd_scard(struct request *req)
{
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    reply_int(req->out, o ? (long long)set_object_length(o) : 0);
}

static void cmd_sismember(struct request *req)
{
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    reply_int(req->out, o && set_object_contains(o, req->argv[2].ptr, req->argv[2].len));
}

static void cmd_smismember(struct request *req)
{
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++)
        reply_int(req->out, o && set_object_contains(o, req->argv[i].ptr, req->argv[i].len));
}

static void cmd_smembers(struct request *req)
{
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    reply_set(req->out, o ? (long long)set_object_length(o) : 0);
    if (o) set_object_each(o, reply_member, req->out);
}

/* ---- random members ---- */

static void srandmember_with_count(struct request *req)
{
    long long count;
    if (!request_ll(req, 2, &count)) return;
    if (count == LLONG_MIN) {
        reply_error(req->out, ERR_RANGE_COUNT);
        return;
    }
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    if (!o || count == 0) {
        reply_empty_array(req->out);
        return;
    }
    size_t len = set_object_length(o);
    if (count < 0) {
        reply_array(req->out, -count);
        for (long long i = 0; i < -count; i++) set_object_random(o, reply_member, req->out);
    } else if ((unsigned long long)count >= len) {
        reply_array(req->out, (long long)len);
        set_object_each(o, reply_member, req->out);
    } else {
        reply_array(req->out, count);
        set_object_sample(o, (size_t)count, reply_member, req->out);
    }
}

static void cmd_srandmember(struct request *req)
{
    if (req->argc == 3) {
        srandmember_with_count(req);
        return;
    }
    if (req->argc > 3) {
        reply_syntax_error(req->out);
        return;
    }
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    if (!o) reply_null(req->out);
    else set_object_random(o, reply_member, req->out);
}

/* The SREMs that SPOP COUNT logs in its place, SPOP_LOG_BATCH members each;
 * the members are copied because the set changes in between. */
struct srem_log {
    struct request *req;
    struct arg argv[2 + SPOP_LOG_BATCH];
    int count;
};

static void srem_log_flush(struct srem_log *log)
{
    if (log->count == 0) return;
    oplog_propagate(log->req, 2 + log->count, log->argv);
    for (int i = 0; i < log->count; i++) mem_free(log->argv[2 + i].ptr);
    log->count = 0;
}

static void srem_log_add(struct srem_log *log, const char *p, size_t len)
{
    char *copy = mem_alloc(len + 1);
    memcpy(copy, p, len);
    log->argv[2 + log->count++] = (struct arg){copy, len};
    if (log->count == SPOP_LOG_BATCH) srem_log_flush(log);
}

struct spop_rest {
    struct request *req;
    struct object *keep;
    struct srem_log *log;
};

static bool spop_add_to_keep(void *ctx, const char *p, size_t len)
{
    set_object_add(ctx, p, len);
    return true;
}

/* Pops every member that is not in the set being kept. */
static bool spop_rest_visit(void *ctx, const char *p, size_t len)
{
    struct spop_rest *r = ctx;
    if (set_object_contains(r->keep, p, len)) return true;
    reply_bulk(r->req->out, p, len);
    srem_log_add(r->log, p, len);
    return true;
}

static void spop_with_count(struct request *req)
{
    struct arg *key = &req->argv[1];
    long long count;
    if (!request_ll_range(req, 2, 0, LLONG_MAX, &count, ERR_NOT_POSITIVE)) return;
    struct object *o;
    if (!set_lookup(req, key, true, &o)) return;
    if (!o || count == 0) {
        reply_set(req->out, 0);
        return;
    }
    size_t len = set_object_length(o);
    if ((unsigned long long)count >= len) {
        reply_set(req->out, (long long)len);
        set_object_each(o, reply_member, req->out);
        struct arg del[2] = {{"DEL", 3}, *key};
        oplog_propagate(req, 2, del);
        key_changed(req, key->ptr, key->len, NOTIFY_SET, "spop");
        req->dirty += (long long)len - 1;
        db_delete(req->db, key->ptr, key->len);
        notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_GENERIC, "del");
        return;
    }
    struct srem_log *log = mem_alloc(sizeof(*log));
    log->req = req;
    log->argv[0] = (struct arg){"SREM", 4};
    log->argv[1] = *key;
    log->count = 0;
    oplog_multi_begin(); /* one SPOP, possibly many SREMs: replayed all or nothing */
    reply_set(req->out, count);
    size_t remaining = len - (size_t)count;
    if (remaining * SPOP_KEEP_RATIO > (size_t)count) {
        for (long long i = 0; i < count; i++) {
            struct set_member m;
            set_object_pop(o, &m);
            reply_bulk(req->out, m.p, m.len);
            srem_log_add(log, m.p, m.len);
            set_member_release(&m);
        }
    } else {
        /* Most of the set goes: choose the few that stay instead. */
        struct object *keep = set_object_create(NULL, 0, remaining);
        set_object_sample(o, remaining, spop_add_to_keep, keep);
        struct spop_rest rest = {req, keep, log};
        set_object_each(o, spop_rest_visit, &rest);
        db_set(req->db, key->ptr, key->len, keep, true);
    }
    srem_log_flush(log);
    oplog_multi_end();
    mem_free(log);
    key_changed(req, key->ptr, key->len, NOTIFY_SET, "spop");
    req->dirty += count - 1;
}

static void cmd_spop(struct request *req)
{
    if (req->argc == 3) {
        spop_with_count(req);
        return;
    }
    if (req->argc > 3) {
        reply_syntax_error(req->out);
        return;
    }
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!set_lookup(req, key, true, &o)) return;
    if (!o) {
        reply_null(req->out);
        return;
    }
    struct set_member m;
    set_object_pop(o, &m);
    reply_bulk(req->out, m.p, m.len);
    struct arg srem[3] = {{"SREM", 4}, *key, {m.p, m.len}};
    oplog_propagate(req, 3, srem);
    set_member_release(&m);
    set_removed(req, key, o, "spop", 1);
}

/* ---- algebra ---- */

enum set_op { SET_OP_UNION, SET_OP_DIFF, SET_OP_INTER };

static const char *const store_events[] = {"sunionstore", "sdiffstore", "sinterstore"};

/* Looks up the n source keys from argv[first]; a missing key is NULL.
 * Replies WRONGTYPE and returns false when any holds another type. */
static bool lookup_sources(struct request *req, int first, int n, bool write, struct object **sets)
{
    for (int i = 0; i < n; i++)
        if (!set_lookup(req, &req->argv[first + i], write, &sets[i])) return false;
    return true;
}

struct inter {
    struct object **others;
    int n_others;
    size_t limit; /* 0: none */
    size_t found;
    set_visit_fn *fn;
    void *ctx;
};

static bool inter_visit(void *ctx, const char *p, size_t len)
{
    struct inter *in = ctx;
    for (int i = 0; i < in->n_others; i++)
        if (!set_object_contains(in->others[i], p, len)) return true;
    in->found++;
    if (in->fn) in->fn(in->ctx, p, len);
    return in->limit == 0 || in->found < in->limit;
}

/* Hands each member of the intersection of sets[0..n) to fn (may be NULL)
 * until `limit` were found (0: no limit); returns how many. Walks the
 * smallest set and probes the others, smallest first. */
static size_t inter_each(struct object **sets, int n, size_t limit, set_visit_fn *fn, void *ctx)
{
    for (int i = 0; i < n; i++)
        if (!sets[i]) return 0;
    for (int i = 1; i < n; i++) /* insertion sort by size: n is small */
        for (int j = i; j > 0 && set_object_length(sets[j]) < set_object_length(sets[j - 1]); j--) {
            struct object *t = sets[j];
            sets[j] = sets[j - 1];
            sets[j - 1] = t;
        }
    struct inter in = {sets + 1, n - 1, limit, 0, fn, ctx};
    set_object_each(sets[0], inter_visit, &in);
    return in.found;
}

static bool add_to(void *ctx, const char *p, size_t len)
{
    set_object_add(ctx, p, len);
    return true;
}

static bool remove_from(void *ctx, const char *p, size_t len)
{
    set_object_remove(ctx, p, len);
    return set_object_length(ctx) > 0;
}

struct diff {
    struct object **others;
    int n_others;
    struct object *result;
};

static bool diff_visit(void *ctx, const char *p, size_t len)
{
    struct diff *d = ctx;
    for (int i = 0; i < d->n_others; i++)
        if (d->others[i] && set_object_contains(d->others[i], p, len)) return true;
    set_object_add(d->result, p, len);
    return true;
}

/* Builds the union or difference of sets[0..n) as a new set object. The
 * difference probes each member of the first set in the others when that is
 * cheaper than copying the first and removing the others' members from it
 * (Redis's choice between its two algorithms). */
static struct object *build_result(enum set_op op, struct object **sets, int n)
{
    struct object *result = set_object_create(NULL, 0, 0);
    if (op == SET_OP_UNION) {
        for (int i = 0; i < n; i++)
            if (sets[i]) set_object_each(sets[i], add_to, result);
        return result;
    }
    if (op == SET_OP_INTER) {
        inter_each(sets, n, 0, add_to, result);
        return result;
    }
    if (!sets[0]) return result;
    size_t probe_work = 0, copy_work = 0;
    for (int i = 0; i < n; i++) {
        if (!sets[i]) continue;
        probe_work += set_object_length(sets[0]);
        copy_work += set_object_length(sets[i]);
    }
    if (probe_work / 2 <= copy_work) {
        struct diff d = {sets + 1, n - 1, result};
        set_object_each(sets[0], diff_visit, &d);
        return result;
    }
    object_free(result);
    result = object_copy(sets[0]);
    for (int i = 1; i < n && set_object_length(result) > 0; i++)
        if (sets[i]) set_object_each(sets[i], remove_from, result);
    return result;
}

/* SUNION SDIFF SINTER, and their STORE variants when `dst` is given. */
static void algebra(struct request *req, enum set_op op, const struct arg *dst, int first)
{
    int n = req->argc - first;
    struct object **sets = mem_alloc((size_t)n * sizeof(*sets));
    if (!lookup_sources(req, first, n, dst != NULL, sets)) {
        mem_free(sets);
        return;
    }
    if (!dst && op == SET_OP_INTER) {
        outbuf_mark mark = reply_defer(req->out);
        size_t found = inter_each(sets, n, 0, reply_member, req->out);
        reply_deferred_set(req->out, mark, (long long)found);
        mem_free(sets);
        return;
    }
    struct object *result = build_result(op, sets, n);
    mem_free(sets);
    size_t len = set_object_length(result);
    if (!dst) {
        reply_set(req->out, (long long)len);
        set_object_each(result, reply_member, req->out);
        object_free(result);
        return;
    }
    if (len == 0) {
        object_free(result);
        if (db_delete(req->db, dst->ptr, dst->len)) key_changed(req, dst->ptr, dst->len, NOTIFY_GENERIC, "del");
    } else {
        db_overwrite(req->db, dst->ptr, dst->len, result, false);
        key_changed(req, dst->ptr, dst->len, NOTIFY_SET, store_events[op]);
    }
    reply_int(req->out, (long long)len);
}

static void cmd_sunion(struct request *req)
{
    algebra(req, SET_OP_UNION, NULL, 1);
}

static void cmd_sdiff(struct request *req)
{
    algebra(req, SET_OP_DIFF, NULL, 1);
}

static void cmd_sinter(struct request *req)
{
    algebra(req, SET_OP_INTER, NULL, 1);
}

static void cmd_sunionstore(struct request *req)
{
    algebra(req, SET_OP_UNION, &req->argv[1], 2);
}

static void cmd_sdiffstore(struct request *req)
{
    algebra(req, SET_OP_DIFF, &req->argv[1], 2);
}

static void cmd_sinterstore(struct request *req)
{
    algebra(req, SET_OP_INTER, &req->argv[1], 2);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void cmd_sintercard(struct request *req)
{
    long long numkeys, limit = 0;
    if (!request_ll_range(req, 1, 1, LLONG_MAX, &numkeys, "ERR numkeys should be greater than 0")) return;
    if (numkeys > req->argc - 2) {
        reply_error(req->out, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int i = 2 + (int)numkeys; i < req->argc; i++) {
        if (ARG_IS(req, i, "LIMIT") && i + 1 < req->argc) {
            if (!request_ll_range(req, ++i, 0, LLONG_MAX, &limit, "ERR LIMIT can't be negative")) return;
        } else {
            reply_syntax_error(req->out);
            return;
        }
    }
    struct object **sets = mem_alloc((size_t)numkeys * sizeof(*sets));
    if (lookup_sources(req, 2, (int)numkeys, false, sets))
        reply_int(req->out, (long long)inter_each(sets, (int)numkeys, (size_t)limit, NULL, NULL));
    mem_free(sets);
}

static int sintercard_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    long long numkeys;
    if (argc < 2 || !parse_ll(argv[1].ptr, argv[1].len, &numkeys)) return 0;
    if (numkeys < 1 || numkeys > argc - 2) return 0;
    int n = 0;
    for (int i = 0; i < (int)numkeys && n < max; i++) positions[n++] = 2 + i;
    return n;
}

/* ---- SSCAN ---- */

struct sscan {
    struct scan_args args;
    struct scan_reply reply;
    const uint64_t *next_cursor;
};

static bool sscan_visit(void *ctx, const char *p, size_t len)
{
    struct sscan *s = ctx;
    if (!s->reply.begun) scan_reply_begin(&s->reply, s->reply.out, *s->next_cursor);
    if (scan_matches(&s->args, p, len)) scan_reply_item(&s->reply, p, len);
    return true;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
static void cmd_sscan(struct request *req)
{
    struct sscan s = {.reply = {.out = req->out}};
    if (!scan_parse_cursor(req, 2, &s.args)) return;
    struct object *o;
    if (!set_lookup(req, &req->argv[1], false, &o)) return;
    if (!o) {
        scan_reply_empty(req->out);
        return;
    }
    if (!scan_parse_options(req, 3, 0, &s.args)) return;
    uint64_t cursor = s.args.cursor;
    s.next_cursor = &cursor;
    set_object_scan(o, &cursor, s.args.count, sscan_visit, &s);
    if (!s.reply.begun) scan_reply_begin(&s.reply, req->out, cursor);
    scan_reply_end(&s.reply);
}

#define W (CMD_WRITE)
#define WD (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
#define F (CMD_FAST)
struct command set_commands[] = {
    {"sadd", cmd_sadd, -3, WD | F, 1, 1, 1, "@write @set @fast", "set",
     "Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0",
     "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."},
    {"srem", cmd_srem, -3, W | F, 1, 1, 1, "@write @set @fast", "set",
     "Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0",
     "O(N) where N is the number of members to be removed."},
    {"smove", cmd_smove, 4, W | F, 1, 2, 1, "@write @set @fast", "set", "Moves a member from one set to another.",
     "1.0.0", "O(1)"},
    {"scard", cmd_scard, 2, R | F, 1, 1, 1, "@read @set @fast", "set", "Returns the number of members in a set.",
     "1.0.0", "O(1)"},
    {"sismember", cmd_sismember, 3, R | F, 1, 1, 1, "@read @set @fast", "set",
     "Determines whether a member belongs to a set.", "1.0.0", "O(1)"},
    {"smismember", cmd_smismember, -3, R | F, 1, 1, 1, "@read @set @fast", "set",
     "Determines whether multiple members belong to a set.", "6.2.0",
     "O(N) where N is the number of elements being checked for membership"},
    {"smembers", cmd_smembers, 2, R, 1, 1, 1, "@read @set @slow", "set", "Returns all members of a set.", "1.0.0",
     "O(N) where N is the set cardinality."},
    {"srandmember", cmd_srandmember, -2, R, 1, 1, 1, "@read @set @slow", "set",
     "Get one or multiple random members from a set", "1.0.0",
     "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."},
    {"spop", cmd_spop, -2, W | F, 1, 1, 1, "@write @set @fast", "set",
     "Returns one or more random members from a set after removing them. Deletes the set if the last member was "
     "popped.",
     "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."},
    {"sinter", cmd_sinter, -2, R, 1, -1, 1, "@read @set @slow", "set", "Returns the intersect of multiple sets.",
     "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."},
    {"sintercard", cmd_sintercard, -3, R | CMD_MOVABLE_KEYS, 0, 0, 0, "@read @set @slow", "set",
     "Returns the number of members of the intersect of multiple sets.", "7.0.0",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", NULL,
     sintercard_keys},
    {"sinterstore", cmd_sinterstore, -3, WD, 1, -1, 1, "@write @set @slow", "set",
     "Stores the intersect of multiple sets in a key.", "1.0.0",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."},
    {"sunion", cmd_sunion, -2, R, 1, -1, 1, "@read @set @slow", "set", "Returns the union of multiple sets.",
     "1.0.0", "O(N) where N is the total number of elements in all given sets."},
    {"sunionstore", cmd_sunionstore, -3, WD, 1, -1, 1, "@write @set @slow", "set",
     "Stores the union of multiple sets in a key.", "1.0.0",
     "O(N) where N is the total number of elements in all given sets."},
    {"sdiff", cmd_sdiff, -2, R, 1, -1, 1, "@read @set @slow", "set", "Returns the difference of multiple sets.",
     "1.0.0", "O(N) where N is the total number of elements in all given sets."},
    {"sdiffstore", cmd_sdiffstore, -3, WD, 1, -1, 1, "@write @set @slow", "set",
     "Stores the difference of multiple sets in a key.", "1.0.0",
     "O(N) where N is the total number of elements in all given sets."},
    {"sscan", cmd_sscan, -3, R, 1, 1, 1, "@read @set @slow", "set", "Iterates over members of a set.", "2.0.0",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return "
     "back to 0. N is the number of elements inside the collection."},
    {0},
};
