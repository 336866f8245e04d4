/* stream_delay: delayed delivery and backed-off redelivery (see
 * stream_delay.h).
 *
 * Encoding: a stream's schedule is two indexes without allocations of
 * their own: entry ID -> due time (the value is the time itself), and the
 * set of (due time, ID milliseconds) pairs, ordered, which says what falls
 * due next; entries added in the same millisecond with the same delay share
 * one pair, so a scheduled entry costs about one index slot. A group's
 * scheduled pending entries are ordinary nacks owned by nobody whose
 * delivery time is their not-before time, indexed by (not-before, order).
 * The server-wide timer index holds one registration per stream, keyed by
 * (due time, serial), naming the stream's database and key; the stream
 * points back at its registration, so freeing or re-arming it is O(log n). */
#include "types/stream_delay.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "messaging/blocking.h"
#include "net/event_loop.h"
#include "protocol/reply.h"
#include "types/keyspace_events.h"
#include "types/stream_oplog.h"
#include "types/stream_pel.h"
#include "util/mem.h"
#include "util/numbers.h"

#define BACKOFF_MAX 32
/* Schedule records dropped per timer turn: a million entries due at once
 * are dropped over many turns of the loop, not in one pause. */
#define PRUNE_BATCH 1024
#define MIN_SCHED_BYTES 3

/* A stream's place in the server-wide timer index. */
struct delay_reg {
    struct stream *s;
    int db;
    str key;
    long long due;
    uint64_t serial;
};

struct stream_delay {
    struct stream_index *by_id;  /* entry ID -> due time, as the value */
    struct stream_index *by_due; /* (due time, ID ms) of every record, no value */
    struct delay_reg *reg;       /* NULL: not registered */
};

struct stream_group_delay {
    struct stream_index *by_due; /* (not-before, order) -> struct stream_nack * */
    long long *backoff;          /* delay after the n-th delivery at [n-1], the last repeating */
    size_t backoff_len;
};

static struct stream_index *timer_regs; /* (due, serial) -> struct delay_reg * */
static uint64_t timer_serial;
static struct event_loop *timer_loop;
static struct event_timer *timer_armed;
static long long timer_armed_due;

static struct stream_id due_key(long long due, uint64_t serial)
{
    return (struct stream_id){(uint64_t)due, serial};
}

bool stream_delay_enforced(void)
{
    return !db_loading && !db_expiry_ignored;
}

/* ---- parsing ---- */

bool stream_delay_parse(struct request *req, int *i, const char *cmd, bool *given, long long *due)
{
    bool at = ARG_IS(req, *i, "DELAYAT");
    if (*given) {
        reply_syntax_error(req->out);
        return false;
    }
    *given = true;
    (*i)++;
    long long v;
    char msg[96];
    snprintf(msg, sizeof(msg), "ERR invalid %s time in '%s' command", at ? "DELAYAT" : "DELAY", cmd);
    if (!request_ll_range(req, *i, 0, STREAM_DELAY_MAX_MS, &v, msg)) return false;
    if (at) {
        *due = v;
    } else if (v == 0) {
        *due = 0;
    } else if (v > STREAM_DELAY_MAX_MS - db_now_ms) {
        reply_error(req->out, msg);
        return false;
    } else {
        *due = db_now_ms + v;
    }
    return true;
}

/* ---- the timer ---- */

static void timer_fire(struct event_loop *loop, void *data);

/* Arms the loop timer at the first registration (or cancels it). */
static void timer_rearm(void)
{
    struct stream_index_iter it;
    long long first = timer_regs && stream_index_first(timer_regs, &it) ? (long long)stream_index_key(&it).ms : 0;
    if (!timer_loop || (timer_armed && timer_armed_due == first)) return;
    if (timer_armed) {
        event_timer_cancel(timer_loop, timer_armed);
        timer_armed = NULL;
    }
    if (!first) return;
    long long wait = first - db_wall_ms();
    timer_armed = event_timer_at(timer_loop, event_now_ms() + (wait > 0 ? wait : 0), timer_fire, NULL);
    timer_armed_due = first;
}

void stream_delay_set_loop(struct event_loop *loop)
{
    timer_loop = loop;
    timer_rearm();
}

static void reg_drop(struct stream_delay *d)
{
    struct delay_reg *r = d->reg;
    if (!r) return;
    stream_index_remove(timer_regs, due_key(r->due, r->serial), NULL);
    str_free(r->key);
    mem_free(r);
    d->reg = NULL;
}

static void reg_add(struct stream *s, int db, const char *key, size_t len, long long due)
{
    if (!timer_regs) timer_regs = stream_index_new();
    struct delay_reg *r = mem_alloc(sizeof(*r));
    *r = (struct delay_reg){.s = s, .db = db, .key = str_new(key, len), .due = due, .serial = ++timer_serial};
    stream_index_insert(timer_regs, due_key(due, r->serial), r);
    s->delay->reg = r;
}

/* The first key of an index ordered by (time, n) above `now`, or 0. */
static long long earliest_after(const struct stream_index *by_due, long long now)
{
    struct stream_index_iter it;
    if (!by_due || !stream_index_seek_ge(by_due, due_key(now + 1, 0), &it)) return 0;
    return (long long)stream_index_key(&it).ms;
}

static void *due_value(long long due)
{
    return (void *)(uintptr_t)due;
}

static long long due_of_value(const void *v)
{
    return (long long)(uintptr_t)v;
}

/* Removes the records of entries in millisecond `ms` due at `due` (the
 * pair's whole group); returns how many. */
static size_t prune_pair(struct stream_delay *d, long long due, uint64_t ms)
{
    size_t n = 0;
    struct stream_index_iter it;
    struct stream_id from = {ms, 0};
    while (stream_index_seek_ge(d->by_id, from, &it)) {
        struct stream_id id = stream_index_key(&it);
        if (id.ms != ms) break;
        if (due_of_value(stream_index_value(&it)) == due) {
            stream_index_remove(d->by_id, id, NULL);
            n++;
        }
        from = id;
        if (!stream_id_incr(&from)) break;
    }
    stream_index_remove(d->by_due, due_key(due, ms), NULL);
    return n;
}

/* Drops about PRUNE_BATCH schedule records that are due: nothing reads
 * them any more (a group reaching such an entry delivers it as any other).
 * Returns whether due records are left. */
static bool prune_due(struct stream_delay *d, long long now)
{
    struct stream_index_iter it;
    size_t n = 0;
    while (stream_index_first(d->by_due, &it) && (long long)stream_index_key(&it).ms <= now) {
        if (n >= PRUNE_BATCH) return true;
        struct stream_id k = stream_index_key(&it);
        n += prune_pair(d, (long long)k.ms, k.seq);
    }
    return false;
}

/* The earliest due time above now among the groups' scheduled entries. */
static long long groups_next_due(const struct stream *s, long long now)
{
    long long due = 0;
    for (size_t i = 0; s->groups && i < s->groups->count; i++) {
        const struct stream_group_delay *gd = s->groups->items[i]->delay;
        long long g = gd ? earliest_after(gd->by_due, now) : 0;
        if (g && (!due || g < due)) due = g;
    }
    return due;
}

static struct stream_delay *delay_of(struct stream *s);

void stream_delay_arm(struct db *db, const char *key, size_t len, struct stream *s)
{
    long long now = db_now_ms;
    long long due = groups_next_due(s, now);
    if (!s->delay && !due) return;
    struct stream_delay *d = delay_of(s);
    long long own = prune_due(d, now) ? now + 1 : earliest_after(d->by_due, now);
    if (own && (!due || own < due)) due = own;
    struct delay_reg *r = d->reg;
    if (r && (!due || r->due != due || r->db != db->id || str_len(r->key) != len || memcmp(r->key, key, len) != 0))
        reg_drop(d);
    if (due && !d->reg) reg_add(s, db->id, key, len, due);
    timer_rearm();
}

/* Every stream whose time has come: its key is marked ready (a blocked
 * XREADGROUP may now have something) and it is registered again at its
 * next due time. A registration whose key no longer holds that stream
 * (renamed, moved, swapped) is dropped; the next command that uses the
 * stream under its new name registers it again. */
static void timer_fire(struct event_loop *loop, void *data)
{
    (void)loop;
    (void)data;
    timer_armed = NULL;
    db_now_ms = db_wall_ms();
    struct stream_index_iter it;
    while (timer_regs && stream_index_first(timer_regs, &it) && (long long)stream_index_key(&it).ms <= db_now_ms) {
        struct delay_reg *r = stream_index_value(&it);
        struct stream *s = r->s;
        struct db *db = db_by_index(r->db);
        str key = r->key;
        r->key = str_new("", 0);
        reg_drop(s->delay);
        struct object *o = db ? db_find(db, key, str_len(key)) : NULL;
        if (o && o->type == OBJ_STREAM && o->v.ptr == s) {
            blocking_key_ready(db, key, str_len(key));
            stream_delay_arm(db, key, str_len(key), s);
        }
        str_free(key);
    }
    blocking_serve_ready();
    timer_rearm();
}

/* ---- the stream's schedule ---- */

static struct stream_delay *delay_of(struct stream *s)
{
    if (!s->delay) {
        s->delay = mem_calloc(sizeof(*s->delay));
        s->delay->by_id = stream_index_new();
        s->delay->by_due = stream_index_new();
    }
    return s->delay;
}

void stream_delay_free(struct stream *s)
{
    struct stream_delay *d = s->delay;
    if (!d) return;
    reg_drop(d);
    timer_rearm();
    stream_index_free(d->by_due, NULL);
    stream_index_free(d->by_id, NULL);
    mem_free(d);
    s->delay = NULL;
}

void stream_delay_schedule(struct stream *s, struct stream_id id, long long due)
{
    struct stream_delay *d = delay_of(s);
    if (stream_index_insert(d->by_id, id, due_value(due))) stream_index_insert(d->by_due, due_key(due, id.ms), NULL);
}

void stream_delay_copy(struct stream *dst, const struct stream *src)
{
    if (!src->delay) return;
    delay_of(dst);
    struct stream_index_iter it;
    for (bool ok = stream_index_first(src->delay->by_id, &it); ok; ok = stream_index_next(&it))
        stream_delay_schedule(dst, stream_index_key(&it), due_of_value(stream_index_value(&it)));
}

size_t stream_delay_memory(const struct stream *s)
{
    const struct stream_delay *d = s->delay;
    if (!d) return 0;
    return sizeof(*d) + stream_index_memory(d->by_id) + stream_index_memory(d->by_due) +
           (d->reg ? sizeof(*d->reg) + str_len(d->reg->key) : 0);
}

long long stream_delay_due_of(const struct stream *s, struct stream_id id)
{
    return s->delay ? due_of_value(stream_index_find(s->delay->by_id, id)) : 0;
}

/* ---- groups ---- */

static struct stream_group_delay *group_delay_of(struct stream_cgroup *g)
{
    if (!g->delay) {
        g->delay = mem_calloc(sizeof(*g->delay));
        g->delay->by_due = stream_index_new();
    }
    return g->delay;
}

void stream_delay_group_free(struct stream_cgroup *g)
{
    if (!g->delay) return;
    stream_index_free(g->delay->by_due, NULL);
    mem_free(g->delay->backoff);
    mem_free(g->delay);
    g->delay = NULL;
}

static void backoff_set(struct stream_cgroup *g, const long long *delays, size_t n)
{
    struct stream_group_delay *gd = group_delay_of(g);
    mem_free(gd->backoff);
    gd->backoff = NULL;
    gd->backoff_len = n;
    if (n == 0) return;
    gd->backoff = mem_alloc(sizeof(long long) * n);
    memcpy(gd->backoff, delays, sizeof(long long) * n);
}

void stream_delay_group_copy(struct stream_cgroup *dst, const struct stream_cgroup *src)
{
    if (!src->delay) return;
    struct stream_index_iter it;
    for (bool ok = stream_index_first(src->delay->by_due, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_nack *n = stream_index_value(&it);
        stream_pel_add(dst, NULL, n->id, n->delivery_time, n->delivery_count);
    }
    if (src->delay->backoff_len) backoff_set(dst, src->delay->backoff, src->delay->backoff_len);
}

size_t stream_delay_group_memory(const struct stream_cgroup *g)
{
    if (!g->delay) return 0;
    return sizeof(*g->delay) + stream_index_memory(g->delay->by_due) + g->delay->backoff_len * sizeof(long long);
}

void stream_delay_link(struct stream_cgroup *g, struct stream_nack *n)
{
    stream_index_insert(group_delay_of(g)->by_due, due_key(n->delivery_time, n->order), n);
}

void stream_delay_unlink(struct stream_cgroup *g, struct stream_nack *n)
{
    if (g->delay) stream_index_remove(g->delay->by_due, due_key(n->delivery_time, n->order), NULL);
}

/* The back-off delay after `count` deliveries (the last one repeating). */
static long long backoff_at(const struct stream_group_delay *gd, uint64_t count)
{
    size_t i = count == 0 ? 0 : count - 1;
    return gd->backoff[i < gd->backoff_len ? i : gd->backoff_len - 1];
}

bool stream_delay_held(const struct stream_cgroup *g, const struct stream_nack *n, long long min_idle)
{
    if (!stream_delay_enforced()) return false;
    if (!n->consumer) return n->delivery_time > db_now_ms;
    if (min_idle <= 0 || !g->delay || g->delay->backoff_len == 0) return false;
    return db_now_ms - n->delivery_time < backoff_at(g->delay, n->delivery_count);
}

const struct stream_nack *stream_delay_first_due(const struct stream_cgroup *g)
{
    struct stream_index_iter it;
    if (!g->delay || !stream_index_first(g->delay->by_due, &it)) return NULL;
    return (long long)stream_index_key(&it).ms <= db_now_ms ? stream_index_value(&it) : NULL;
}

bool stream_delay_has_due(const struct stream_cgroup *g)
{
    return stream_delay_first_due(g) != NULL;
}

/* ---- logging ---- */

void stream_delay_log_nack(struct request *req, int delay_arg, long long due)
{
    if (!oplog_enabled) return;
    struct arg small[24];
    struct arg *argv = req->argc <= 24 ? small : mem_alloc(sizeof(struct arg) * (size_t)req->argc);
    char at[24];
    for (int i = 0; i < req->argc; i++) argv[i] = req->argv[i];
    argv[delay_arg] = arg_cstr("DELAYAT");
    argv[delay_arg + 1] = arg_ll(at, due);
    oplog_propagate(req, req->argc, argv);
    if (argv != small) mem_free(argv);
}

/* ---- XREADGROUP ---- */

bool stream_delay_defer(struct request *req, const struct arg *key, struct stream *s, struct stream_cgroup *g,
                        struct stream_id id)
{
    if (!s->delay || !stream_delay_enforced()) return false;
    long long due = due_of_value(stream_index_find(s->delay->by_id, id));
    if (due <= db_now_ms) return false;
    if (!stream_index_find(g->pel, id)) {
        stream_pel_add(g, NULL, id, due, 0);
        stream_oplog_emit_released(stream_oplog_sink, req, *key, g, &id, 1, 0, due);
        req->dirty++;
    }
    return true;
}

/* The next record of the schedule in (after, to] that the group would have
 * to hold: not due, its entry live, not pending in the group. */
static bool next_passed(struct stream *s, const struct stream_cgroup *g, struct stream_id *after, struct stream_id to,
                        long long *due)
{
    struct stream_index_iter it;
    struct stream_id from = *after;
    if (!stream_id_incr(&from)) return false;
    for (bool ok = stream_index_seek_ge(s->delay->by_id, from, &it); ok; ok = stream_index_next(&it)) {
        struct stream_id id = stream_index_key(&it);
        struct stream_entry e;
        if (stream_id_cmp(&id, &to) > 0) return false;
        *due = due_of_value(stream_index_value(&it));
        if (*due <= db_now_ms || stream_index_find(g->pel, id) || !stream_lookup(s, id, &e)) continue;
        *after = id;
        return true;
    }
    return false;
}

void stream_delay_group_moved(struct request *req, const struct arg *key, struct stream *s, struct stream_cgroup *g,
                              struct stream_id from)
{
    if (!s->delay || !stream_delay_enforced() || stream_id_cmp(&from, &g->last_id) >= 0) return;
    struct stream_id at = from;
    long long due;
    if (!next_passed(s, g, &at, g->last_id, &due)) return;
    oplog_multi_begin();
    oplog_propagate(req, req->argc, req->argv);
    do {
        stream_pel_add(g, NULL, at, due, 0);
        stream_oplog_emit_released(stream_oplog_sink, req, *key, g, &at, 1, 0, due);
    } while (next_passed(s, g, &at, g->last_id, &due));
    oplog_multi_end();
    stream_delay_arm(req->db, key->ptr, key->len, s);
}

void stream_delay_added(struct request *req, const struct arg *key, struct stream *s, struct stream_id id,
                        long long due)
{
    for (size_t i = 0; stream_delay_enforced() && s->groups && i < s->groups->count; i++) {
        struct stream_cgroup *g = s->groups->items[i];
        if (stream_id_cmp(&g->last_id, &id) < 0 || !stream_pel_add(g, NULL, id, due, 0)) continue;
        stream_oplog_emit_released(stream_oplog_sink, req, *key, g, &id, 1, 0, due);
    }
    stream_delay_arm(req->db, key->ptr, key->len, s);
}

/* Looks entries up in rising runs, as due entries mostly come (those of one
 * due time in ID order): an ID a little after the last one found is
 * reached by walking on from it, instead of seeking its block and decoding
 * it from the start. Valid while the stream does not change. */
struct lookup_cursor {
    struct stream_iter it;
    struct stream_entry last;
    bool valid;
};

#define CURSOR_STEPS 16

static bool cursor_lookup(struct stream *s, struct lookup_cursor *c, struct stream_id id, struct stream_entry *e)
{
    int cmp = c->valid ? stream_id_cmp(&id, &c->last.id) : -1;
    if (cmp >= 0) { /* at or after the last one found: walk on */
        for (int steps = 0; cmp > 0 && steps < CURSOR_STEPS; steps++) {
            if (!stream_iter_next(&c->it, &c->last)) {
                c->valid = false;
                return false; /* nothing live after the last one */
            }
            cmp = stream_id_cmp(&id, &c->last.id);
        }
        if (cmp == 0) *e = c->last;
        if (cmp <= 0) return cmp == 0;
    }
    stream_iter_init(&c->it, s, id, (struct stream_id){UINT64_MAX, UINT64_MAX}, false);
    c->valid = stream_iter_next(&c->it, &c->last);
    if (!c->valid || stream_id_cmp(&c->last.id, &id) != 0) return false;
    *e = c->last;
    return true;
}

long long stream_delay_deliver_due(struct request *req, const struct arg *key, struct stream *s,
                                   struct stream_cgroup *g, struct stream_consumer *c, long long limit,
                                   struct stream_budget *b, bool meta, bool noack)
{
    if (!g->delay || stream_index_size(g->delay->by_due) == 0) return 0;
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, key, g, false);
    long long n = 0;
    struct stream_index_iter it;
    struct lookup_cursor cursor = {.valid = false};
    while ((limit == 0 || n < limit) && stream_index_first(g->delay->by_due, &it) &&
           (long long)stream_index_key(&it).ms <= db_now_ms) {
        struct stream_nack *x = stream_index_value(&it);
        struct stream_entry e;
        req->dirty++;
        if (!cursor_lookup(s, &cursor, x->id, &e)) {
            stream_pel_log_dropped(&log, x->id);
            stream_pel_remove(g, x);
            continue;
        }
        if (!stream_budget_take(b, &e, NULL, meta)) break;
        if (meta) stream_reply_entry_meta(req->out, &e, stream_nack_idle(x, db_now_ms), (long long)x->delivery_count);
        else stream_reply_entry(req->out, &e);
        n++;
        if (noack) {
            stream_pel_log_dropped(&log, x->id);
            stream_pel_remove(g, x);
            continue;
        }
        stream_pel_assign(g, x, c, db_now_ms);
        stream_nack_count_delivery(x);
        stream_pel_log_claimed(&log, x->id, x);
        c->active_time = db_now_ms;
    }
    stream_pel_log_flush(&log);
    return n;
}

/* ---- XGROUP SETBACKOFF ---- */

/* Logged as it came: it depends on nothing but its arguments. */
void stream_delay_cmd_setbackoff(struct request *req)
{
    long long delays[BACKOFF_MAX];
    size_t n = 0;
    bool none = req->argc == 5 && ARG_IS(req, 4, "NONE");
    if (!none && req->argc - 4 > BACKOFF_MAX) {
        reply_errorf(req->out, "ERR at most %d back-off delays", BACKOFF_MAX);
        return;
    }
    for (int i = 4; !none && i < req->argc; i++)
        if (!request_ll_range(req, i, 0, STREAM_DELAY_MAX_MS, &delays[n++],
                              "ERR invalid back-off delay in 'xgroup|setbackoff' command"))
            return;
    struct arg *key = &req->argv[2], *group = &req->argv[3];
    struct stream *s;
    if (!stream_find(req, key, true, &s)) return;
    if (!s) {
        reply_error(req->out, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                              "want to use the MKSTREAM option to create an empty stream automatically.");
        return;
    }
    struct stream_cgroup *g = stream_group_find(s, group->ptr, group->len);
    if (!g) {
        reply_errorf(req->out, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)group->len,
                     group->ptr, (int)key->len, key->ptr);
        return;
    }
    if (n > 0 || g->delay) backoff_set(g, delays, n);
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xgroup-setbackoff");
    req->dirty++;
    reply_ok(req->out);
}

/* ---- XINFO ---- */

/* Whether XINFO GROUPS shows the group's fields: it has scheduled entries
 * or a back-off schedule (so a snapshot or rewrite brings back the same). */
static bool group_shown(const struct stream_cgroup *g)
{
    return g->delay && (stream_index_size(g->delay->by_due) > 0 || g->delay->backoff_len > 0);
}

/* Whether XINFO STREAM shows the fields: something is scheduled, in the
 * stream or a group, or a group has a back-off schedule. */
static bool stream_shown(const struct stream *s)
{
    if (s->delay && stream_index_size(s->delay->by_id) > 0) return true;
    for (size_t i = 0; s->groups && i < s->groups->count; i++)
        if (group_shown(s->groups->items[i])) return true;
    return false;
}

int stream_delay_info_fields(const struct stream *s)
{
    return stream_shown(s) ? 2 : 0;
}

void stream_delay_info_reply(struct outbuf *out, const struct stream *s)
{
    if (!stream_shown(s)) return;
    long long scheduled = s->delay ? (long long)stream_index_size(s->delay->by_id) : 0;
    long long next = s->delay ? earliest_after(s->delay->by_due, db_now_ms) : 0;
    long long g = groups_next_due(s, db_now_ms);
    if (g && (!next || g < next)) next = g;
    reply_bulk_cstr(out, "scheduled-entries");
    reply_int(out, scheduled);
    reply_bulk_cstr(out, "next-due-time");
    if (next) reply_int(out, next);
    else reply_null(out);
}

int stream_delay_group_info_fields(const struct stream_cgroup *g)
{
    return group_shown(g) ? 2 : 0;
}

void stream_delay_group_info_reply(struct outbuf *out, const struct stream_cgroup *g)
{
    const struct stream_group_delay *gd = g->delay;
    if (!group_shown(g)) return;
    reply_bulk_cstr(out, "scheduled");
    reply_int(out, (long long)stream_index_size(gd->by_due));
    reply_bulk_cstr(out, "backoff");
    reply_array(out, (long long)gd->backoff_len);
    for (size_t i = 0; i < gd->backoff_len; i++) reply_int(out, gd->backoff[i]);
}

/* ---- snapshots ---- */

/* Section layout:
 *   varint records, then per schedule record (in ID order): id, svarint due
 *   varint groups, then per group with a back-off schedule:
 *     bytes name, varint delays, then each delay as a varint
 * A group's scheduled pending entries need nothing here: they are pending
 * entries owned by nobody whose delivery time is their not-before time. */
static size_t groups_with_backoff(const struct stream *s)
{
    size_t n = 0;
    for (size_t i = 0; s->groups && i < s->groups->count; i++)
        n += s->groups->items[i]->delay && s->groups->items[i]->delay->backoff_len > 0;
    return n;
}

bool stream_delay_needs_section(const struct stream *s)
{
    return (s->delay && stream_index_size(s->delay->by_id) > 0) || groups_with_backoff(s) > 0;
}

void stream_delay_save(const struct stream *s, struct codec_out *out)
{
    codec_put_varint(out, s->delay ? stream_index_size(s->delay->by_id) : 0);
    struct stream_index_iter it;
    for (bool ok = s->delay && stream_index_first(s->delay->by_id, &it); ok; ok = stream_index_next(&it)) {
        struct stream_id id = stream_index_key(&it);
        codec_put_varint(out, id.ms);
        codec_put_varint(out, id.seq);
        codec_put_svarint(out, due_of_value(stream_index_value(&it)));
    }
    codec_put_varint(out, groups_with_backoff(s));
    for (size_t i = 0; s->groups && i < s->groups->count; i++) {
        const struct stream_cgroup *g = s->groups->items[i];
        if (!g->delay || g->delay->backoff_len == 0) continue;
        codec_put_bytes(out, g->name, str_len(g->name));
        codec_put_varint(out, g->delay->backoff_len);
        for (size_t j = 0; j < g->delay->backoff_len; j++) codec_put_varint(out, (uint64_t)g->delay->backoff[j]);
    }
}

bool stream_delay_load(struct codec_in *in, struct stream *s)
{
    uint64_t n;
    if (!codec_get_count(in, MIN_SCHED_BYTES, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        struct stream_id id;
        int64_t due;
        if (!codec_get_varint(in, &id.ms) || !codec_get_varint(in, &id.seq) || !codec_get_svarint(in, &due))
            return false;
        if (due <= 0 || due > STREAM_DELAY_MAX_MS || stream_delay_due_of(s, id))
            return codec_fail(in, "corrupt stream: a bad schedule record");
        stream_delay_schedule(s, id, due);
    }
    if (!codec_get_count(in, 2, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        const char *name;
        size_t len;
        uint64_t count;
        if (!codec_get_bytes(in, &name, &len) || !codec_get_varint(in, &count)) return false;
        struct stream_cgroup *g = stream_group_find(s, name, len);
        if (!g || count == 0 || count > BACKOFF_MAX)
            return codec_fail(in, "corrupt stream: a back-off schedule for no group");
        long long delays[BACKOFF_MAX];
        for (uint64_t j = 0; j < count; j++) {
            uint64_t v;
            if (!codec_get_varint(in, &v)) return false;
            if (v > STREAM_DELAY_MAX_MS) return codec_fail(in, "corrupt stream: a back-off delay out of range");
            delays[j] = (long long)v;
        }
        backoff_set(g, delays, count);
    }
    return true;
}

/* ---- AOF rewrite ---- */

int stream_delay_rewrite_args(const struct stream *s, struct stream_id id, struct arg *out, char *buf)
{
    long long due = stream_delay_due_of(s, id);
    if (!due) return 0;
    out[0] = arg_cstr("DELAYAT");
    out[1] = arg_ll(buf, due);
    return 2;
}

/* One group's scheduled entries in due order; consecutive ones with the
 * same count and due time share an XNACK. */
static void rewrite_group_scheduled(const struct stream_cgroup *g, struct arg key, object_emit_fn *emit, void *ctx)
{
    struct stream_id ids[STREAM_OPLOG_BATCH];
    int n = 0;
    uint64_t count = 0;
    long long due = 0;
    struct stream_index_iter it;
    for (bool ok = stream_index_first(g->delay->by_due, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_nack *x = stream_index_value(&it);
        if (n > 0 && (n == STREAM_OPLOG_BATCH || x->delivery_count != count || x->delivery_time != due)) {
            stream_oplog_emit_released(emit, ctx, key, g, ids, n, count, due);
            n = 0;
        }
        count = x->delivery_count;
        due = x->delivery_time;
        ids[n++] = x->id;
    }
    if (n > 0) stream_oplog_emit_released(emit, ctx, key, g, ids, n, count, due);
}

void stream_delay_rewrite(const struct stream *s, struct arg key, object_emit_fn *emit, void *ctx)
{
    for (size_t i = 0; s->groups && i < s->groups->count; i++) {
        const struct stream_cgroup *g = s->groups->items[i];
        if (!g->delay) continue;
        rewrite_group_scheduled(g, key, emit, ctx);
        size_t n = g->delay->backoff_len;
        if (n == 0) continue;
        struct arg argv[4 + BACKOFF_MAX];
        char bufs[BACKOFF_MAX][24];
        argv[0] = arg_cstr("XGROUP");
        argv[1] = arg_cstr("SETBACKOFF");
        argv[2] = key;
        argv[3] = arg_str(g->name);
        for (size_t j = 0; j < n; j++) argv[4 + j] = arg_ll(bufs[j], g->delay->backoff[j]);
        emit(ctx, 4 + (int)n, argv);
    }
}
