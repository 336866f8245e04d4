/* stream_group: consumer groups (see stream_group.h).
 *
 * Encoding: a stream's groups are an array sorted by name, and so are a
 * group's consumers (few of each in practice; binary search finds one).
 * The pending entries live in stream_pel.c: the group PEL (ID -> nack),
 * the owners' PELs over the same nacks, and the idle order, so
 * acknowledging, claiming or listing by consumer are all O(log n), and
 * XREADGROUP ... CLAIM finds the idlest entries without a scan. Times are
 * db_now_ms.
 *
 * XREADGROUP ... CLAIM min-idle-time (Redis 8.4) with `>` first claims, in
 * idle order, entries released by XNACK and entries idle that long, then
 * reads new entries, COUNT in all, every entry with its idle time and
 * delivery count. XCLAIM and XAUTOCLAIM take released entries whatever
 * their min-idle-time (XAUTOCLAIM keeps its ID order).
 *
 * The read counter (entries_read) and lag follow Redis 7 exactly: a group
 * counts the entries it has read while no deleted entry (tombstone) lies
 * ahead of it; otherwise the counter is estimated from the stream's
 * counters when possible, else unknown.
 *
 * Semantics follow Redis 7.2 where it differs from 7.0: XREADGROUP creates
 * its consumer even when it then blocks, consumers track seen-time and
 * active-time, XCLAIM/XAUTOCLAIM create their consumer up front, and a
 * blocked XREADGROUP whose stream or group disappears is answered as the
 * command would answer if run again (NOGROUP or WRONGTYPE).
 *
 * XREADGROUP, XCLAIM and XAUTOCLAIM log what they did, never their own
 * arguments (stream_oplog.h): every PEL entry they touch as XCLAIM with
 * its final owner, time and count, dropped entries as XACK, the group's
 * position as XGROUP SETID, consumers they create as XGROUP
 * CREATECONSUMER, each command's effects in one MULTI/EXEC. */
#include "types/stream_group.h"

#include <limits.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/stream_delay.h"
#include "types/stream_dlq.h"
#include "types/stream_oplog.h"
#include "types/stream_pel.h"
#include "util/mem.h"

#define ID_MAX ((struct stream_id){UINT64_MAX, UINT64_MAX})
#define ID_ZERO ((struct stream_id){0, 0})
#define XREADGROUP_BLOCKED_DEFAULT_COUNT 1000

/* ---- ordering by name (byte-wise, a prefix first, as Redis's rax) ---- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of the first name >= (name, len) among `count` items kept sorted
 * by name; name_at(items, i) gives item i's name. *found says whether that
 * item has this very name. */
static size_t name_search(const void *items, size_t count, str (*name_at)(const void *items, size_t i),
                          const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        str n = name_at(items, mid);
        if (name_cmp(n, str_len(n), name, len) < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    if (lo < count) {
        str n = name_at(items, lo);
        *found = name_cmp(n, str_len(n), name, len) == 0;
    }
    return lo;
}

/* Inserts the pointer *elem at `pos` of a growable array of pointers;
 * returns the array, which may have moved. */
static void *vec_insert(void *items, size_t *count, size_t *cap, size_t pos, const void *elem)
{
    size_t size = sizeof(void *);
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        items = mem_realloc(items, size * *cap);
    }
    char *p = items;
    memmove(p + (pos + 1) * size, p + pos * size, (*count - pos) * size);
    memcpy(p + pos * size, elem, size);
    (*count)++;
    return items;
}

static void vec_remove(void *items, size_t *count, size_t pos)
{
    size_t size = sizeof(void *);
    char *p = items;
    memmove(p + pos * size, p + (pos + 1) * size, (*count - pos - 1) * size);
    (*count)--;
}

static str group_name_at(const void *items, size_t i)
{
    return ((struct stream_cgroup *const *)items)[i]->name;
}

static str consumer_name_at(const void *items, size_t i)
{
    return ((struct stream_consumer *const *)items)[i]->name;
}

/* ---- consumers ---- */

static struct stream_consumer *consumer_find(const struct stream_cgroup *g, const char *name, size_t len)
{
    bool found;
    size_t i = name_search(g->consumers, g->consumer_count, consumer_name_at, name, len, &found);
    return found ? g->consumers[i] : NULL;
}

static void consumer_free(struct stream_consumer *c)
{
    stream_index_free(c->pel, NULL);
    str_free(c->name);
    mem_free(c);
}

/* Adds a consumer that must not exist, with Redis's bookkeeping: a change,
 * an "xgroup-createconsumer" event, and XGROUP CREATECONSUMER in the log
 * (whatever command created it). */
struct stream_consumer *stream_consumer_add(struct stream_cgroup *g, const char *name, size_t len, long long seen_time,
                                            long long active_time)
{
    bool found;
    size_t pos = name_search(g->consumers, g->consumer_count, consumer_name_at, name, len, &found);
    if (found) return NULL;
    struct stream_consumer *c = mem_alloc(sizeof(*c));
    c->name = str_new(name, len);
    c->seen_time = seen_time;
    c->active_time = active_time;
    c->pel = stream_index_new();
    g->consumers = vec_insert(g->consumers, &g->consumer_count, &g->consumer_cap, pos, &c);
    return c;
}

size_t stream_consumer_index(const struct stream_cgroup *g, const struct stream_consumer *c)
{
    bool found;
    return name_search(g->consumers, g->consumer_count, consumer_name_at, c->name, str_len(c->name), &found);
}

static struct stream_consumer *consumer_create(struct request *req, struct stream_cgroup *g, const struct arg *key,
                                               const char *name, size_t len)
{
    struct stream_consumer *c = stream_consumer_add(g, name, len, db_now_ms, -1);
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xgroup-createconsumer");
    stream_oplog_consumer_created(req, key, g, c);
    return c;
}

static struct stream_consumer *consumer_get(struct request *req, struct stream_cgroup *g, const struct arg *key,
                                            const struct arg *name)
{
    struct stream_consumer *c = consumer_find(g, name->ptr, name->len);
    return c ? c : consumer_create(req, g, key, name->ptr, name->len);
}

/* ---- groups ---- */

struct stream_cgroup *stream_group_find(const struct stream *s, const char *name, size_t len)
{
    if (!s || !s->groups) return NULL;
    bool found;
    size_t i = name_search(s->groups->items, s->groups->count, group_name_at, name, len, &found);
    return found ? s->groups->items[i] : NULL;
}

size_t stream_group_count(const struct stream *s)
{
    return s->groups ? s->groups->count : 0;
}

static void group_free(struct stream_cgroup *g)
{
    for (size_t i = 0; i < g->consumer_count; i++) consumer_free(g->consumers[i]);
    mem_free(g->consumers);
    stream_pel_free(g);
    stream_delay_group_free(g);
    stream_dlq_free(g->dlq);
    str_free(g->name);
    mem_free(g);
}

struct stream_cgroup *stream_group_add(struct stream *s, const char *name, size_t len, struct stream_id last,
                                      long long entries_read)
{
    if (!s->groups) s->groups = mem_calloc(sizeof(*s->groups));
    bool found;
    size_t pos = name_search(s->groups->items, s->groups->count, group_name_at, name, len, &found);
    if (found) return NULL;
    struct stream_cgroup *g = mem_calloc(sizeof(*g));
    g->name = str_new(name, len);
    g->last_id = last;
    g->entries_read = entries_read;
    g->pel = stream_index_new();
    g->by_idle = stream_index_new();
    s->groups->items = vec_insert(s->groups->items, &s->groups->count, &s->groups->cap, pos, &g);
    return g;
}

static bool group_destroy(struct stream *s, const char *name, size_t len)
{
    if (!s->groups) return false;
    bool found;
    size_t pos = name_search(s->groups->items, s->groups->count, group_name_at, name, len, &found);
    if (!found) return false;
    group_free(s->groups->items[pos]);
    vec_remove(s->groups->items, &s->groups->count, pos);
    return true;
}

void stream_groups_free(struct stream_groups *gs)
{
    if (!gs) return;
    for (size_t i = 0; i < gs->count; i++) group_free(gs->items[i]);
    mem_free(gs->items);
    mem_free(gs);
}

/* Copies one group: consumers first, then the PEL in idle order, which
 * rebuilds every index over fresh nacks with the same idle order. */
static struct stream_cgroup *group_copy(const struct stream_cgroup *g)
{
    struct stream_cgroup *c = mem_calloc(sizeof(*c));
    c->name = str_dup(g->name);
    c->last_id = g->last_id;
    c->entries_read = g->entries_read;
    c->dlq = stream_dlq_copy(g->dlq);
    c->pel = stream_index_new();
    c->by_idle = stream_index_new();
    c->consumers = mem_alloc(sizeof(void *) * (g->consumer_count ? g->consumer_count : 1));
    c->consumer_cap = g->consumer_count ? g->consumer_count : 1;
    for (size_t i = 0; i < g->consumer_count; i++) {
        const struct stream_consumer *src = g->consumers[i];
        struct stream_consumer *dst = mem_alloc(sizeof(*dst));
        *dst = (struct stream_consumer){str_dup(src->name), src->seen_time, src->active_time, stream_index_new()};
        c->consumers[c->consumer_count++] = dst;
    }
    for (const struct stream_nack *n = stream_pel_idlest(g, NULL); n; n = stream_pel_idlest(g, n)) {
        struct stream_consumer *owner = n->consumer ? consumer_find(c, n->consumer->name, str_len(n->consumer->name))
                                                    : NULL;
        stream_pel_add(c, owner, n->id, n->delivery_time, n->delivery_count);
    }
    stream_delay_group_copy(c, g); /* scheduled entries (out of the idle order) and back-off */
    return c;
}

struct stream_groups *stream_groups_copy(const struct stream_groups *gs)
{
    if (!gs) return NULL;
    struct stream_groups *c = mem_calloc(sizeof(*c));
    c->cap = gs->count ? gs->count : 1;
    c->items = mem_alloc(sizeof(void *) * c->cap);
    for (size_t i = 0; i < gs->count; i++) c->items[c->count++] = group_copy(gs->items[i]);
    return c;
}

size_t stream_groups_memory(const struct stream_groups *gs)
{
    if (!gs) return 0;
    size_t n = sizeof(*gs) + gs->cap * sizeof(void *);
    for (size_t i = 0; i < gs->count; i++) {
        const struct stream_cgroup *g = gs->items[i];
        n += sizeof(*g) + str_alloc_size(g->name) + stream_index_memory(g->pel) + stream_dlq_memory(g->dlq);
        n += stream_index_memory(g->by_idle) + stream_index_size(g->pel) * sizeof(struct stream_nack);
        n += g->consumer_cap * sizeof(void *);
        for (size_t j = 0; j < g->consumer_count; j++) {
            const struct stream_consumer *c = g->consumers[j];
            n += sizeof(*c) + str_alloc_size(c->name) + stream_index_memory(c->pel);
        }
        n += stream_delay_group_memory(g);
    }
    return n;
}

/* ---- read counters and lag (Redis 7) ---- */

/* Whether an entry deleted by XDEL may lie at or after `start`. */
static bool tombstones_from(const struct stream *s, const struct stream_id *start)
{
    if (s->length == 0 || stream_id_is_zero(&s->max_deleted_id)) return false;
    if (stream_id_cmp(&s->first_id, &s->max_deleted_id) > 0) return false;
    return stream_id_cmp(start, &s->max_deleted_id) <= 0;
}

/* The read counter an ID corresponds to, from the stream's counters;
 * -1 when it cannot be known (a tombstone may lie before it). */
static long long estimate_entries_read(const struct stream *s, const struct stream_id *id)
{
    if (s->entries_added == 0) return 0;
    int vs_last = stream_id_cmp(id, &s->last_id);
    if (s->length == 0 && vs_last <= 0) return (long long)s->entries_added;
    if (vs_last == 0) return (long long)s->entries_added;
    if (vs_last > 0) return -1;
    bool clean = stream_id_is_zero(&s->max_deleted_id) || stream_id_cmp(&s->max_deleted_id, &s->first_id) < 0;
    int vs_first = stream_id_cmp(id, &s->first_id);
    if (clean && vs_first < 0) return (long long)(s->entries_added - s->length);
    if (clean && vs_first == 0) return (long long)(s->entries_added - s->length + 1);
    return -1;
}

bool stream_group_lag(struct stream *s, const struct stream_cgroup *g, long long *lag)
{
    if (s->entries_added == 0) {
        *lag = 0;
        return true;
    }
    long long read = g->entries_read;
    if (read == -1 || tombstones_from(s, &g->last_id)) read = estimate_entries_read(s, &g->last_id);
    if (read == -1) return false;
    /* ENTRIESREAD takes any counter up to LLONG_MAX: a negative lag then */
    *lag = (long long)(s->entries_added - (uint64_t)read);
    return true;
}

/* The group has now delivered `id`: move its last ID and read counter. */
static void group_advance(struct stream *s, struct stream_cgroup *g, struct stream_id id)
{
    if (stream_id_cmp(&id, &g->last_id) <= 0) return;
    /* ENTRIESREAD may have set it to LLONG_MAX: it stays there (Redis's
     * overflows into a negative count its replicas refuse) */
    if (g->entries_read != -1 && !tombstones_from(s, &id)) g->entries_read += g->entries_read < LLONG_MAX;
    else if (s->entries_added) g->entries_read = estimate_entries_read(s, &id);
    g->last_id = id;
}

/* ---- delivering ---- */

/* One key of an XREADGROUP with `>`: where, for whom, and how. */
struct group_read {
    const struct arg *key;
    struct stream *s;
    struct stream_cgroup *g;
    struct stream_consumer *c;
    long long count; /* entries at most, 0: no limit */
    bool noack;
    long long claim; /* CLAIM's min-idle-time, -1: no CLAIM */
    struct stream_budget *budget; /* MAXCOUNT / MAXSIZE across the call's keys */
};

/* Replies up to `limit` (0: all) entries after the group's last ID and
 * records them as delivered (in the PEL unless noack); with CLAIM each
 * comes as [id, fields, 0, 0]. Logs each new PEL entry as XCLAIM and the
 * group's position (last ID and read counter) as XGROUP SETID. Returns how
 * many it replied. */
static long long read_new(struct request *req, const struct group_read *r, long long limit)
{
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, r->key, r->g, true);
    struct stream_id start = r->g->last_id;
    long long n = 0;
    struct stream_iter it;
    struct stream_entry e;
    if (stream_id_incr(&start)) stream_iter_init(&it, r->s, start, ID_MAX, false);
    else it.done = true;
    bool skipped = false;
    while ((limit == 0 || n < limit) && stream_iter_next(&it, &e)) {
        if (r->s->delay && stream_delay_defer(req, r->key, r->s, r->g, e.id)) {
            group_advance(r->s, r->g, e.id); /* not due: it waits in the PEL */
            skipped = true;
            continue;
        }
        if (!stream_budget_take(r->budget, &e, NULL, r->claim >= 0)) break;
        group_advance(r->s, r->g, e.id);
        if (r->claim >= 0) stream_reply_entry_meta(req->out, &e, 0, 0);
        else stream_reply_entry(req->out, &e);
        if (!r->noack) {
            stream_pel_log_claimed(&log, e.id, stream_pel_deliver(r->g, r->c, e.id, db_now_ms));
            r->c->active_time = db_now_ms;
        }
        n++;
    }
    stream_pel_log_flush(&log);
    if (n > 0 || skipped) stream_oplog_group_position(req, r->key, r->g);
    return n;
}

/* Whether XREADGROUP ... CLAIM min_idle may take entry n now: released
 * entries always, others once idle long enough. */
static bool claimable(const struct stream_nack *n, long long min_idle)
{
    return !n->consumer || db_now_ms - n->delivery_time >= min_idle;
}

/* An entry CLAIM picked: its PEL entry and the stream entry (valid until
 * the stream changes, which a claim does not do). */
struct claim_pick {
    struct stream_nack *nack;
    struct stream_entry e;
};

/* Picks up to `most` entries CLAIM may take, in idle order, into out.
 * Those gone from the stream leave the PEL on the way (logged as XACK), as
 * XAUTOCLAIM does with them, and those past the group's delivery limit go
 * to its dead-letter stream. Returns how many it picked. */
static size_t pick_claimable(struct request *req, const struct group_read *r, struct claim_pick *out, size_t most,
                             struct stream_pel_log *log, struct stream_dlq_run *dead)
{
    size_t n = 0;
    struct stream_nack *x = stream_pel_idlest(r->g, NULL);
    while (x && n < most && claimable(x, r->claim)) {
        struct stream_nack *next = stream_pel_idlest(r->g, x);
        if (stream_delay_held(r->g, x, r->claim)) {
            x = next; /* its back-off has not passed */
            continue;
        }
        if (stream_lookup(r->s, x->id, &out[n].e)) {
            if (!stream_dlq_due(r->g, x) || !stream_dlq_move(dead, x, &out[n].e, STREAM_DLQ_MAXDELIVERIES))
                out[n++].nack = x;
        } else {
            stream_pel_log_dropped(log, x->id);
            stream_pel_remove(r->g, x);
            req->dirty++;
        }
        x = next;
    }
    return n;
}

/* XREADGROUP ... CLAIM: gives the consumer up to `count` (0: all) pending
 * entries, released ones first, then those idle at least min-idle-time,
 * longest idle first. Each is replied as [id, fields, idle, deliveries]
 * with what they were before this read, and counts one more delivery
 * (NOACK does not apply). Logged as XCLAIM. Returns how many it replied. */
static long long read_claimed(struct request *req, const struct group_read *r)
{
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, r->key, r->g, false);
    size_t pending = stream_index_size(r->g->pel);
    size_t most = r->count && (size_t)r->count < pending ? (size_t)r->count : pending;
    struct claim_pick small[16];
    struct claim_pick *picked = most <= 16 ? small : mem_alloc(sizeof(*picked) * most);
    struct stream_dlq_run dead;
    stream_dlq_run_init(&dead, req, r->key, r->s, r->g, &log);
    size_t picks = pick_claimable(req, r, picked, most, &log, &dead), n = 0;
    for (; n < picks; n++) {
        struct stream_nack *x = picked[n].nack;
        long long idle = stream_nack_idle(x, db_now_ms), deliveries = (long long)x->delivery_count;
        if (!stream_budget_take(r->budget, &picked[n].e, NULL, true)) break;
        stream_pel_assign(r->g, x, r->c, db_now_ms);
        stream_nack_count_delivery(x);
        stream_pel_log_claimed(&log, x->id, x);
        stream_reply_entry_meta(req->out, &picked[n].e, idle, deliveries);
    }
    if (n > 0) {
        r->c->active_time = db_now_ms;
        req->dirty += (long long)n;
    }
    stream_dlq_run_finish(&dead);
    stream_pel_log_flush(&log);
    if (picked != small) mem_free(picked);
    return (long long)n;
}

/* Serves one key read with `>`: claimed entries (with CLAIM), then new
 * ones, COUNT in all, in one array. */
static void deliver_new(struct request *req, const struct group_read *r)
{
    outbuf_mark mark = reply_defer(req->out);
    /* Scheduled entries that are due come first (stream_delay.h). */
    long long n = stream_delay_deliver_due(req, r->key, r->s, r->g, r->c, r->count, r->budget, r->claim >= 0,
                                           r->noack);
    struct group_read rest = *r;
    rest.count = r->count ? r->count - n : 0;
    if (r->claim >= 0 && (r->count == 0 || rest.count > 0)) n += read_claimed(req, &rest);
    if (r->count == 0 || n < r->count) n += read_new(req, r, r->count ? r->count - n : 0);
    reply_deferred_array(req->out, mark, n);
}

/* Replies the consumer's own pending entries after `after` (history);
 * entries deleted from the stream come back as [id, nil]. Each entry
 * delivered again counts one more delivery, logged as XCLAIM. */
static void deliver_history(struct request *req, const struct arg *key, struct stream *s,
                            struct stream_cgroup *g, struct stream_consumer *c, struct stream_id after,
                            long long count, struct stream_budget *b)
{
    struct outbuf *out = req->out;
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, key, g, false);
    struct stream_dlq_run dead;
    stream_dlq_run_init(&dead, req, key, s, g, &log);
    outbuf_mark mark = reply_defer(out);
    long long n = 0;
    struct stream_index_iter it;
    bool ok = stream_id_incr(&after) && stream_index_seek_ge(c->pel, after, &it);
    for (; ok && (count == 0 || n < count); ok = stream_index_next(&it), n++) {
        struct stream_id id = stream_index_key(&it);
        struct stream_nack *nack = stream_index_value(&it);
        struct stream_entry e;
        bool live = stream_lookup(s, id, &e);
        /* Past the delivery limit: dead-lettered, and the walk goes on
         * from the next pending entry (the PEL changed). */
        while (live && stream_dlq_due(g, nack) && stream_dlq_move(&dead, nack, &e, STREAM_DLQ_MAXDELIVERIES)) {
            if (!(ok = stream_index_seek_ge(c->pel, id, &it))) break;
            id = stream_index_key(&it);
            nack = stream_index_value(&it);
            live = stream_lookup(s, id, &e);
        }
        if (!ok || !stream_budget_take(b, live ? &e : NULL, &id, false)) break;
        if (live) {
            stream_pel_assign(g, nack, c, db_now_ms);
            stream_nack_count_delivery(nack);
            stream_pel_log_claimed(&log, id, nack);
            req->dirty++;
            stream_reply_entry(out, &e);
        } else {
            reply_array(out, 2);
            stream_reply_id(out, &id);
            reply_null_array(out);
        }
    }
    reply_deferred_array(out, mark, n);
    stream_dlq_run_finish(&dead);
    stream_pel_log_flush(&log);
}

/* Dead-letters the entries at the head of the claim order that are past the
 * group's delivery limit, so that a read with CLAIM then sees whether it has
 * anything to deliver. Stops at the first entry it cannot move. */
static void sweep_due(struct request *req, const struct arg *key, struct stream *s, struct stream_cgroup *g,
                      long long claim)
{
    if (!g->dlq || claim < 0) return;
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, key, g, false);
    struct stream_dlq_run dead;
    stream_dlq_run_init(&dead, req, key, s, g, &log);
    struct stream_entry e;
    for (struct stream_nack *x = stream_pel_idlest(g, NULL); x && claimable(x, claim) && stream_dlq_due(g, x);) {
        struct stream_nack *next = stream_pel_idlest(g, x);
        if (!stream_lookup(s, x->id, &e) || !stream_dlq_move(&dead, x, &e, STREAM_DLQ_MAXDELIVERIES)) break;
        x = next;
    }
    stream_dlq_run_finish(&dead);
    stream_pel_log_flush(&log);
}

/* Whether a read with `>` has something for the group now: an entry not
 * delivered yet, or (claim >= 0) a pending entry CLAIM may take. */
static bool has_new_entries(struct stream *s, const struct stream_cgroup *g, long long claim)
{
    struct stream_id last;
    if (stream_delay_has_due(g)) return true;
    if (stream_last_live(s, &last) && stream_id_cmp(&last, &g->last_id) > 0) return true;
    for (const struct stream_nack *n = claim >= 0 ? stream_pel_idlest(g, NULL) : NULL; n && claimable(n, claim);
         n = stream_pel_idlest(g, n))
        if (!stream_delay_held(g, n, claim)) return true;
    return false;
}

/* Moves the group past the scheduled entries at its head that are not due
 * (stream_delay.h), so that what is left ahead of it is deliverable, and
 * registers the stream with the due-time timer. */
static void skip_scheduled(struct request *req, const struct arg *key, struct stream *s, struct stream_cgroup *g)
{
    if (!s->delay && !g->delay) return;
    struct stream_id start = g->last_id;
    struct stream_iter it;
    struct stream_entry e;
    bool moved = false;
    if (s->delay && stream_id_incr(&start)) {
        stream_iter_init(&it, s, start, ID_MAX, false);
        while (stream_iter_next(&it, &e) && stream_delay_defer(req, key, s, g, e.id)) {
            group_advance(s, g, e.id);
            moved = true;
        }
    }
    if (moved) stream_oplog_group_position(req, key, g);
    stream_delay_arm(req->db, key->ptr, key->len, s);
}

static void reply_nogroup_read(struct outbuf *out, const char *key, size_t klen, const char *group, size_t glen)
{
    reply_errorf(out, "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with GROUP option",
                 (int)klen, key, (int)glen, group);
}

/* ---- XREADGROUP ---- */

/* What a blocked XREADGROUP remembers (it always waits for ">"). */
struct group_wait {
    str group;
    str consumer;
    bool noack;
    long long count;
    long long claim; /* CLAIM's min-idle-time, -1: none */
    long long maxcount, maxsize;
};

static void group_wait_free(void *p)
{
    struct group_wait *w = p;
    str_free(w->group);
    str_free(w->consumer);
    mem_free(w);
}

static enum serve_result xreadgroup_serve(struct waiter *w, struct request *req, const char *key, size_t len)
{
    struct group_wait *st = w->spec.state;
    struct object *o = db_find(req->db, key, len);
    if (o && o->type != OBJ_STREAM) {
        reply_wrong_type(req->out);
        return SERVE_DONE;
    }
    struct stream *s = o ? o->v.ptr : NULL;
    struct stream_cgroup *g = stream_group_find(s, st->group, str_len(st->group));
    if (!g) {
        reply_nogroup_read(req->out, key, len, st->group, str_len(st->group));
        return SERVE_DONE;
    }
    struct arg k = {(char *)key, len}, name = {st->consumer, str_len(st->consumer)};
    skip_scheduled(req, &k, s, g);
    if (!has_new_entries(s, g, st->claim)) return SERVE_NOT_READY;
    oplog_multi_begin();
    sweep_due(req, &k, s, g, st->claim);
    oplog_multi_end();
    if (!has_new_entries(s, g, st->claim)) return SERVE_NOT_READY;
    oplog_multi_begin();
    struct stream_consumer *c = consumer_get(req, g, &k, &name);
    c->seen_time = db_now_ms;
    if (req->out->resp == 2) reply_array(req->out, 1);
    else reply_map(req->out, 1);
    stream_read_reply_key(req->out, key, len);
    struct stream_budget b = {.maxcount = st->maxcount, .maxsize = st->maxsize};
    struct group_read r = {&k, s, g, c, st->count, st->noack, st->claim, &b};
    deliver_new(req, &r);
    oplog_multi_end();
    req->dirty++;
    return SERVE_DONE;
}

static void xreadgroup_timeout(struct waiter *w, struct request *req)
{
    (void)w;
    reply_null_array(req->out);
}

/* One key of an XREADGROUP: its stream, group, and the ID asked for. */
struct read_target {
    struct stream *s;
    struct stream_cgroup *g;
    struct stream_id after;
    bool history; /* an explicit ID, not ">" */
};

static bool resolve_target(struct request *req, const struct stream_read_args *a, int i, struct read_target *t)
{
    struct arg *key = &req->argv[a->streams_arg + i], *group = &req->argv[a->group_arg];
    int id_arg = a->streams_arg + a->nstreams + i;
    if (!stream_find(req, key, false, &t->s)) return false;
    t->g = stream_group_find(t->s, group->ptr, group->len);
    if (!t->g) {
        reply_nogroup_read(req->out, key->ptr, key->len, group->ptr, group->len);
        return false;
    }
    t->history = !ARG_IS(req, id_arg, ">");
    if (ARG_IS(req, id_arg, "$")) {
        reply_error(req->out, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                              "history of this consumer by specifying a proper ID, or use the > ID to get new "
                              "messages. The $ ID would just return an empty result set.");
        return false;
    }
    return !t->history || stream_parse_id_or_reply(req, id_arg, 0, true, &t->after);
}

/* Whether the first entry a read of this key would reply fits the budget
 * (true when there is none: the key is replied as before). */
static bool first_fits(const struct read_target *t, struct stream_consumer *c, long long claim,
                       struct stream_budget *b)
{
    struct stream_entry e;
    if (!b->maxcount && !b->maxsize) return true;
    if (b->full) return false;
    if (t->history) {
        struct stream_id after = t->after;
        struct stream_index_iter it;
        if (!stream_id_incr(&after) || !stream_index_seek_ge(c->pel, after, &it)) return true;
        struct stream_id id = stream_index_key(&it);
        return stream_budget_fits(b, stream_lookup(t->s, id, &e) ? &e : NULL, &id, false);
    }
    const struct stream_nack *due = stream_delay_first_due(t->g);
    if (due && stream_lookup(t->s, due->id, &e)) return stream_budget_fits(b, &e, NULL, claim >= 0);
    for (const struct stream_nack *x = claim >= 0 ? stream_pel_idlest(t->g, NULL) : NULL; x && claimable(x, claim);
         x = stream_pel_idlest(t->g, x))
        if (!stream_delay_held(t->g, x, claim) && stream_lookup(t->s, x->id, &e))
            return stream_budget_fits(b, &e, NULL, true);
    struct stream_id start = t->g->last_id;
    struct stream_iter it;
    if (!stream_id_incr(&start)) return true;
    stream_iter_init(&it, t->s, start, ID_MAX, false);
    return !stream_iter_next(&it, &e) || stream_budget_fits(b, &e, NULL, claim >= 0);
}

/* Serves every key that has something now (within MAXCOUNT / MAXSIZE);
 * returns how many were. */
static long long xreadgroup_now(struct request *req, const struct stream_read_args *a, struct read_target *t)
{
    struct arg *name = &req->argv[a->group_arg + 1];
    outbuf_mark mark = 0;
    long long served = 0;
    struct stream_budget b = stream_budget_of(a);
    for (int i = 0; i < a->nstreams; i++) {
        struct arg *key = &req->argv[a->streams_arg + i];
        struct stream_consumer *c = consumer_get(req, t[i].g, key, name);
        c->seen_time = db_now_ms;
        if (!t[i].history) skip_scheduled(req, key, t[i].s, t[i].g);
        if (!t[i].history) sweep_due(req, key, t[i].s, t[i].g, a->claim);
        if (!t[i].history && !has_new_entries(t[i].s, t[i].g, a->claim)) continue;
        if (!first_fits(&t[i], c, t[i].history ? -1 : a->claim, &b)) continue;
        if (served++ == 0) mark = reply_defer(req->out);
        stream_read_reply_key(req->out, key->ptr, key->len);
        if (t[i].history) {
            deliver_history(req, key, t[i].s, t[i].g, c, t[i].after, a->count, &b);
        } else {
            struct group_read r = {key, t[i].s, t[i].g, c, a->count, a->noack, a->claim, &b};
            deliver_new(req, &r);
            req->dirty++;
        }
    }
    if (served > 0 && req->out->resp == 2) reply_deferred_array(req->out, mark, served);
    else if (served > 0) reply_deferred_map(req->out, mark, served);
    return served;
}

static void cmd_xreadgroup(struct request *req)
{
    struct stream_read_args a;
    if (!stream_read_parse(req, true, &a)) return;
    struct read_target *t = mem_alloc(sizeof(*t) * (size_t)a.nstreams);
    for (int i = 0; i < a.nstreams; i++) {
        if (!resolve_target(req, &a, i, &t[i])) {
            mem_free(t);
            return;
        }
    }
    /* What it did is logged as XGROUP CREATECONSUMER / XCLAIM / XGROUP
     * SETID, in one transaction; never the read itself. */
    oplog_multi_begin();
    long long served = xreadgroup_now(req, &a, t);
    oplog_multi_end();
    stream_oplog_done(req);
    mem_free(t);
    if (served > 0) return;
    if (a.timeout_ms < 0 || (req->flags & REQ_IN_MULTI)) {
        reply_null_array(req->out);
        return;
    }
    struct group_wait *st = mem_alloc(sizeof(*st));
    st->group = str_new(req->argv[a.group_arg].ptr, req->argv[a.group_arg].len);
    st->consumer = str_new(req->argv[a.group_arg + 1].ptr, req->argv[a.group_arg + 1].len);
    st->noack = a.noack;
    st->count = a.count ? a.count : XREADGROUP_BLOCKED_DEFAULT_COUNT;
    st->claim = a.claim;
    st->maxcount = a.maxcount;
    st->maxsize = a.maxsize;
    struct blocking_spec spec = {
        .serve = xreadgroup_serve, .timeout = xreadgroup_timeout, .state = st, .state_free = group_wait_free};
    blocking_wait(req, &req->argv[a.streams_arg], a.nstreams, a.timeout_ms, &spec);
}

/* ---- XGROUP ---- */

enum xgroup_sub { XG_CREATE, XG_SETID, XG_DESTROY, XG_CREATECONSUMER, XG_DELCONSUMER, XG_SETDLQ };

struct xgroup_ctx {
    struct stream *s;
    struct stream_cgroup *g;
    bool mkstream;
    long long entries_read;
    struct stream_dlq_options dlq; /* CREATE's MAXDELIVERIES / DEADLETTER */
};

static void reply_subcommand_syntax(struct request *req)
{
    reply_errorf(req->out, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try XGROUP HELP.",
                 (int)(req->argv[1].len > 128 ? 128 : req->argv[1].len), req->argv[1].ptr);
}

/* What every XGROUP subcommand checks, in Redis's order: the options, the
 * key, and for some the group. Replies and returns false on failure. */
static bool xgroup_prelude(struct request *req, enum xgroup_sub sub, struct xgroup_ctx *x)
{
    *x = (struct xgroup_ctx){.entries_read = -1};
    enum stream_dlq_parse took;
    for (int i = 5; sub != XG_SETDLQ && i < req->argc;) {
        if (sub == XG_CREATE && ARG_IS(req, i, "MKSTREAM")) {
            x->mkstream = true;
            i++;
        } else if ((sub == XG_CREATE || sub == XG_SETID) && ARG_IS(req, i, "ENTRIESREAD") && i + 1 < req->argc) {
            if (!request_ll(req, i + 1, &x->entries_read)) return false;
            if (x->entries_read < 0 && x->entries_read != -1) {
                reply_error(req->out, "ERR value for ENTRIESREAD must be positive or -1");
                return false;
            }
            i += 2;
        } else if (sub == XG_CREATE && (took = stream_dlq_parse_option(req, &i, &x->dlq)) != STREAM_DLQ_NOT_MINE) {
            if (took == STREAM_DLQ_FAILED) return false;
        } else {
            reply_subcommand_syntax(req);
            return false;
        }
    }
    if (sub == XG_CREATE && !stream_dlq_options_check(req, &x->dlq)) return false;
    struct arg *key = &req->argv[2], *group = &req->argv[3];
    if (!stream_find(req, key, true, &x->s)) return false;
    if (!x->s && !(sub == XG_CREATE && x->mkstream)) {
        reply_error(req->out, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                              "want to use the MKSTREAM option to create an empty stream automatically.");
        return false;
    }
    x->g = stream_group_find(x->s, group->ptr, group->len);
    if (!x->g && (sub == XG_SETID || sub == XG_CREATECONSUMER || sub == XG_DELCONSUMER || sub == XG_SETDLQ)) {
        reply_errorf(req->out, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)group->len,
                     group->ptr, (int)key->len, key->ptr);
        return false;
    }
    return true;
}

static void cmd_xgroup_create(struct request *req)
{
    struct xgroup_ctx x;
    if (!xgroup_prelude(req, XG_CREATE, &x)) return;
    if (req->argc > 8 + (x.dlq.key_arg ? 4 : 0)) {
        reply_subcommand_syntax(req);
        return;
    }
    struct stream_id id;
    if (ARG_IS(req, 4, "$")) id = x.s ? x.s->last_id : ID_ZERO;
    else if (!stream_parse_id_or_reply(req, 4, 0, true, &id)) return;
    struct arg *key = &req->argv[2], *group = &req->argv[3];
    if (!x.s) {
        x.s = stream_new();
        db_add(req->db, key->ptr, key->len, object_new(OBJ_STREAM, ENC_STREAM, x.s));
    }
    struct stream_cgroup *g = stream_group_add(x.s, group->ptr, group->len, id, x.entries_read);
    if (!g) {
        reply_error(req->out, "BUSYGROUP Consumer Group name already exists");
        return;
    }
    stream_dlq_options_apply(req, g, &x.dlq);
    reply_ok(req->out);
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xgroup-create");
    stream_delay_group_moved(req, key, x.s, g, ID_ZERO);
}

static void cmd_xgroup_setid(struct request *req)
{
    struct xgroup_ctx x;
    if (!xgroup_prelude(req, XG_SETID, &x)) return;
    if (req->argc != 5 && req->argc != 7) {
        reply_subcommand_syntax(req);
        return;
    }
    struct stream_id id;
    if (ARG_IS(req, 4, "$")) id = x.s->last_id;
    else if (!stream_parse_id_or_reply(req, 4, 0, false, &id)) return;
    struct stream_id from = x.g->last_id;
    x.g->last_id = id;
    x.g->entries_read = x.entries_read;
    reply_ok(req->out);
    key_changed(req, req->argv[2].ptr, req->argv[2].len, NOTIFY_STREAM, "xgroup-setid");
    stream_delay_group_moved(req, &req->argv[2], x.s, x.g, from);
}

static void cmd_xgroup_destroy(struct request *req)
{
    struct xgroup_ctx x;
    if (!xgroup_prelude(req, XG_DESTROY, &x)) return;
    struct arg *key = &req->argv[2];
    if (!x.g || !group_destroy(x.s, req->argv[3].ptr, req->argv[3].len)) {
        reply_int(req->out, 0);
        return;
    }
    reply_int(req->out, 1);
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xgroup-destroy");
    /* Readers blocked on this group now get NOGROUP. */
    blocking_key_ready(req->db, key->ptr, key->len);
}

static void cmd_xgroup_createconsumer(struct request *req)
{
    struct xgroup_ctx x;
    if (!xgroup_prelude(req, XG_CREATECONSUMER, &x)) return;
    struct arg *name = &req->argv[4];
    if (consumer_find(x.g, name->ptr, name->len)) {
        reply_int(req->out, 0);
        return;
    }
    consumer_create(req, x.g, &req->argv[2], name->ptr, name->len);
    reply_int(req->out, 1);
}

static void cmd_xgroup_delconsumer(struct request *req)
{
    struct xgroup_ctx x;
    if (!xgroup_prelude(req, XG_DELCONSUMER, &x)) return;
    struct arg *name = &req->argv[4];
    bool found;
    size_t pos = name_search(x.g->consumers, x.g->consumer_count, consumer_name_at, name->ptr,
                             name->len, &found);
    if (!found) {
        reply_int(req->out, 0);
        return;
    }
    struct stream_consumer *c = x.g->consumers[pos];
    long long pending = (long long)stream_index_size(c->pel);
    struct stream_index_iter it;
    while (stream_index_first(c->pel, &it)) stream_pel_remove(x.g, stream_index_value(&it));
    vec_remove(x.g->consumers, &x.g->consumer_count, pos);
    consumer_free(c);
    reply_int(req->out, pending);
    key_changed(req, req->argv[2].ptr, req->argv[2].len, NOTIFY_STREAM, "xgroup-delconsumer");
}

static void cmd_xgroup_setdlq(struct request *req)
{
    struct xgroup_ctx x;
    if (xgroup_prelude(req, XG_SETDLQ, &x)) stream_dlq_cmd_setdlq(req, x.g);
}

static void cmd_xgroup_help(struct request *req)
{
    static const char *lines[] = {
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "    * MAXDELIVERIES <n> DEADLETTER <dlq-key>",
        "      Move entries delivered n times to the dead-letter stream instead of delivering them again.",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "SETBACKOFF <key> <groupname> <ms> [<ms> ...] | NONE",
        "    Set (or clear) the delays before idle entries are claimed again.",
        "SETDLQ <key> <groupname> <dlq-key MAXDELIVERIES <n> | NONE>",
        "    Set or remove the group's delivery limit and dead-letter stream.",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array(req->out, (long long)n);
    for (size_t i = 0; i < n; i++) reply_simple(req->out, lines[i]);
}

/* ---- XACK ---- */

/* Looks up key and group for XACK/XPENDING/XCLAIM/XAUTOCLAIM; replies
 * WRONGTYPE and returns false on a wrong type. *g is NULL when missing. */
static bool find_group(struct request *req, struct stream **s, struct stream_cgroup **g)
{
    if (!stream_find(req, &req->argv[1], false, s)) return false;
    *g = stream_group_find(*s, req->argv[2].ptr, req->argv[2].len);
    return true;
}

static void reply_nogroup(struct request *req)
{
    reply_errorf(req->out, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)req->argv[1].len,
                 req->argv[1].ptr, (int)req->argv[2].len, req->argv[2].ptr);
}

static void cmd_xack(struct request *req)
{
    struct stream *s;
    struct stream_cgroup *g;
    if (!find_group(req, &s, &g)) return;
    if (!g) {
        reply_int(req->out, 0);
        return;
    }
    struct stream_id id;
    for (int i = 3; i < req->argc; i++)
        if (!stream_parse_id_or_reply(req, i, 0, true, &id)) return;
    long long acked = 0;
    for (int i = 3; i < req->argc; i++) {
        stream_parse_id(&req->argv[i], 0, true, &id, NULL);
        acked += stream_pel_drop(g, id);
    }
    req->dirty += acked;
    reply_int(req->out, acked);
}

/* ---- XPENDING ---- */

static void xpending_summary(struct request *req, struct stream_cgroup *g)
{
    reply_array(req->out, 4);
    reply_int(req->out, (long long)stream_index_size(g->pel));
    struct stream_index_iter it;
    if (!stream_index_first(g->pel, &it)) {
        reply_null(req->out);
        reply_null(req->out);
        reply_null_array(req->out);
        return;
    }
    struct stream_id first = stream_index_key(&it), last;
    stream_index_last(g->pel, &it);
    last = stream_index_key(&it);
    stream_reply_id(req->out, &first);
    stream_reply_id(req->out, &last);
    outbuf_mark mark = reply_defer(req->out);
    long long n = 0;
    for (size_t i = 0; i < g->consumer_count; i++) {
        struct stream_consumer *c = g->consumers[i];
        if (stream_index_size(c->pel) == 0) continue;
        reply_array(req->out, 2);
        reply_bulk(req->out, c->name, str_len(c->name));
        reply_bulk_ll(req->out, (long long)stream_index_size(c->pel));
        n++;
    }
    reply_deferred_array(req->out, mark, n);
}

struct pending_range {
    long long min_idle;
    struct stream_id start, end;
    long long count;
    int consumer_arg; /* 0: every consumer */
};

/* XPENDING key group [[IDLE ms] start end count [consumer]] */
static bool parse_pending_range(struct request *req, struct pending_range *p)
{
    *p = (struct pending_range){0};
    int at = 3;
    if (ARG_IS(req, 3, "IDLE")) {
        if (!request_ll(req, 4, &p->min_idle)) return false;
        if (req->argc < 8) {
            reply_syntax_error(req->out);
            return false;
        }
        at = 5;
    }
    if (!request_ll(req, at + 2, &p->count)) return false;
    if (p->count < 0) p->count = 0;
    bool ex;
    if (!stream_parse_range_id(req, at, 0, &p->start, &ex)) return false;
    if (ex && !stream_id_incr(&p->start)) {
        reply_error(req->out, "ERR invalid start ID for the interval");
        return false;
    }
    if (!stream_parse_range_id(req, at + 1, UINT64_MAX, &p->end, &ex)) return false;
    if (ex && !stream_id_decr(&p->end)) {
        reply_error(req->out, "ERR invalid end ID for the interval");
        return false;
    }
    if (at + 3 < req->argc) p->consumer_arg = at + 3;
    return true;
}

static void xpending_range(struct request *req, struct stream_cgroup *g, const struct pending_range *p)
{
    struct stream_index *pel = g->pel;
    if (p->consumer_arg) {
        struct stream_consumer *c = consumer_find(g, req->argv[p->consumer_arg].ptr, req->argv[p->consumer_arg].len);
        if (!c) {
            reply_empty_array(req->out);
            return;
        }
        pel = c->pel;
    }
    outbuf_mark mark = reply_defer(req->out);
    long long n = 0;
    struct stream_index_iter it;
    for (bool ok = stream_index_seek_ge(pel, p->start, &it); ok && n < p->count; ok = stream_index_next(&it)) {
        struct stream_id id = stream_index_key(&it);
        if (stream_id_cmp(&id, &p->end) > 0) break;
        struct stream_nack *nack = stream_index_value(&it);
        long long idle = stream_nack_idle(nack, db_now_ms);
        if (p->min_idle && idle < p->min_idle) continue;
        reply_array(req->out, 4);
        stream_reply_id(req->out, &id);
        stream_reply_owner(req->out, nack);
        reply_int(req->out, idle);
        reply_int(req->out, (long long)nack->delivery_count);
        n++;
    }
    reply_deferred_array(req->out, mark, n);
}

static void cmd_xpending(struct request *req)
{
    bool summary = req->argc == 3;
    if (!summary && (req->argc < 6 || req->argc > 9)) {
        reply_syntax_error(req->out);
        return;
    }
    struct pending_range p;
    if (!summary && !parse_pending_range(req, &p)) return;
    struct stream *s;
    struct stream_cgroup *g;
    if (!find_group(req, &s, &g)) return;
    if (!g) reply_nogroup(req);
    else if (summary) xpending_summary(req, g);
    else xpending_range(req, g, &p);
}

/* ---- XCLAIM ---- */

struct claim_options {
    long long min_idle;
    long long delivery_time; /* -1: now */
    long long retry_count;   /* -1: increment */
    bool force;
    bool justid;
    struct stream_id last_id;
    int last_id_arg; /* the last ID argument */
};

/* Parses XCLAIM's IDs (validated, not stored) and trailing options. */
static bool parse_claim(struct request *req, struct claim_options *o)
{
    *o = (struct claim_options){.delivery_time = -1, .retry_count = -1};
    if (!request_ll_msg(req, 4, &o->min_idle, "ERR Invalid min-idle-time argument for XCLAIM")) return false;
    if (o->min_idle < 0) o->min_idle = 0;
    int i = 5;
    struct stream_id id;
    while (i < req->argc && stream_parse_id(&req->argv[i], 0, true, &id, NULL)) i++;
    o->last_id_arg = i - 1;
    for (; i < req->argc; i++) {
        bool more = i + 1 < req->argc;
        if (ARG_IS(req, i, "FORCE")) {
            o->force = true;
        } else if (ARG_IS(req, i, "JUSTID")) {
            o->justid = true;
        } else if (ARG_IS(req, i, "IDLE") && more) {
            if (!request_ll_msg(req, ++i, &o->delivery_time, "ERR Invalid IDLE option argument for XCLAIM"))
                return false;
            o->delivery_time = db_now_ms - o->delivery_time;
        } else if (ARG_IS(req, i, "TIME") && more) {
            if (!request_ll_msg(req, ++i, &o->delivery_time, "ERR Invalid TIME option argument for XCLAIM"))
                return false;
        } else if (ARG_IS(req, i, "RETRYCOUNT") && more) {
            if (!request_ll_msg(req, ++i, &o->retry_count, "ERR Invalid RETRYCOUNT option argument for XCLAIM"))
                return false;
        } else if (ARG_IS(req, i, "LASTID") && more) {
            if (!stream_parse_id_or_reply(req, ++i, 0, true, &o->last_id)) return false;
        } else {
            reply_errorf(req->out, "ERR Unrecognized XCLAIM option '%.*s'", (int)req->argv[i].len, req->argv[i].ptr);
            return false;
        }
    }
    /* A bogus time (in the future, negative) means now: clients compute it
     * from their own clocks. */
    if (o->delivery_time < 0 || o->delivery_time > db_now_ms) o->delivery_time = db_now_ms;
    return true;
}

/* Claims one ID for consumer c; returns whether it was claimed (and
 * replied). What changed in the PEL goes to `log`. */
static bool claim_one(struct request *req, struct stream *s, struct stream_cgroup *g, struct stream_consumer *c,
                      struct stream_id id, const struct claim_options *o, struct stream_pel_log *log,
                      struct stream_dlq_run *dead)
{
    struct stream_nack *n = stream_index_find(g->pel, id);
    struct stream_entry e;
    if (!stream_lookup(s, id, &e)) {
        /* Gone from the stream: it leaves the PEL too. */
        if (n) {
            stream_pel_remove(g, n);
            stream_pel_log_dropped(log, id);
            req->dirty++;
        }
        return false;
    }
    if (!n && !o->force) return false;
    bool was_pending = n != NULL;
    if (!n) n = stream_pel_add(g, NULL, id, 0, 1);
    /* An entry released by XNACK is claimable whatever the idle time; one
     * scheduled (stream_delay.h) only once due. */
    if (n->consumer && o->min_idle && db_now_ms - n->delivery_time < o->min_idle) return false;
    if (stream_delay_held(g, n, o->min_idle)) return false;
    /* A delivery that counts, past the limit: dead-lettered instead. */
    if (was_pending && o->retry_count < 0 && !o->justid && stream_dlq_due(g, n) &&
        stream_dlq_move(dead, n, &e, STREAM_DLQ_MAXDELIVERIES))
        return false;
    stream_pel_assign(g, n, c, o->delivery_time);
    if (o->retry_count >= 0) n->delivery_count = (uint64_t)o->retry_count;
    else if (!o->justid) stream_nack_count_delivery(n);
    if (o->justid) stream_reply_id(req->out, &id);
    else stream_reply_entry(req->out, &e);
    c->active_time = db_now_ms;
    req->dirty++;
    stream_pel_log_claimed(log, id, n);
    return true;
}

static void cmd_xclaim(struct request *req)
{
    struct stream *s;
    struct stream_cgroup *g;
    if (!find_group(req, &s, &g)) return;
    if (!g) {
        reply_nogroup(req);
        return;
    }
    struct claim_options o;
    if (!parse_claim(req, &o)) return;
    /* Logged as what it did: the times, counts and idle checks it applied
     * depend on the clock, and entries it found deleted on the stream. */
    struct arg *key = &req->argv[1];
    oplog_multi_begin();
    if (stream_id_cmp(&o.last_id, &g->last_id) > 0) {
        g->last_id = o.last_id;
        req->dirty++;
        stream_oplog_group_position(req, key, g);
    }
    struct stream_consumer *c = consumer_get(req, g, key, &req->argv[3]);
    c->seen_time = db_now_ms;
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, key, g, false);
    struct stream_dlq_run dead;
    stream_dlq_run_init(&dead, req, key, s, g, &log);
    outbuf_mark mark = reply_defer(req->out);
    long long n = 0;
    for (int i = 5; i <= o.last_id_arg; i++) {
        struct stream_id id;
        stream_parse_id(&req->argv[i], 0, true, &id, NULL);
        if (claim_one(req, s, g, c, id, &o, &log, &dead)) n++;
    }
    reply_deferred_array(req->out, mark, n);
    stream_dlq_run_finish(&dead);
    stream_pel_log_flush(&log);
    oplog_multi_end();
    stream_oplog_done(req);
}

/* ---- XAUTOCLAIM ---- */

struct autoclaim_options {
    long long min_idle;
    struct stream_id start;
    long long count;
    bool justid;
};

static bool parse_autoclaim(struct request *req, struct autoclaim_options *o)
{
    *o = (struct autoclaim_options){.count = 100};
    if (!request_ll_msg(req, 4, &o->min_idle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return false;
    if (o->min_idle < 0) o->min_idle = 0;
    bool ex;
    if (!stream_parse_range_id(req, 5, 0, &o->start, &ex)) return false;
    if (ex && !stream_id_incr(&o->start)) {
        reply_error(req->out, "ERR invalid start ID for the interval");
        return false;
    }
    for (int i = 6; i < req->argc; i++) {
        if (ARG_IS(req, i, "COUNT") && i + 1 < req->argc) {
            /* count * 10 attempts must not overflow */
            if (!request_ll_range(req, ++i, 1, LLONG_MAX / 16, &o->count, "ERR COUNT must be > 0")) return false;
        } else if (ARG_IS(req, i, "JUSTID")) {
            o->justid = true;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

/* The outcome of one XAUTOCLAIM walk: IDs claimed and IDs found deleted
 * (each at most COUNT), and the cursor for the next call. */
struct autoclaim_result {
    struct stream_id *claimed;
    long long nclaimed;
    struct stream_id *deleted;
    long long ndeleted;
    struct stream_id cursor;
};

/* Walks the group PEL from o->start, claiming entries idle long enough
 * for c and dropping those deleted from the stream; stops after COUNT of
 * them or 10 × COUNT entries looked at. The cursor is the next entry not
 * looked at, 0-0 at the end. */
static void autoclaim_walk(struct request *req, struct stream *s, struct stream_cgroup *g,
                           struct stream_consumer *c, const struct autoclaim_options *o, struct autoclaim_result *r,
                           struct stream_pel_log *log, struct stream_dlq_run *dead)
{
    long long count = o->count, attempts = o->count * 10;
    struct stream_index_iter it;
    bool ok = stream_index_seek_ge(g->pel, o->start, &it);
    while (ok && attempts > 0 && count > 0) {
        attempts--;
        struct stream_id id = stream_index_key(&it);
        struct stream_nack *n = stream_index_value(&it);
        struct stream_entry e;
        if (!stream_lookup(s, id, &e)) {
            stream_pel_remove(g, n);
            stream_pel_log_dropped(log, id);
            r->deleted[r->ndeleted++] = id;
            count--;
            req->dirty++;
            ok = stream_index_seek_ge(g->pel, id, &it); /* the PEL changed: find the next one again */
            continue;
        }
        ok = stream_index_next(&it);
        if (n->consumer && o->min_idle && db_now_ms - n->delivery_time < o->min_idle) continue;
        if (stream_delay_held(g, n, o->min_idle)) continue;
        if (!o->justid && stream_dlq_due(g, n) && stream_dlq_move(dead, n, &e, STREAM_DLQ_MAXDELIVERIES)) {
            count--;
            ok = stream_index_seek_ge(g->pel, id, &it); /* the PEL changed: find the next one again */
            continue;
        }
        stream_pel_assign(g, n, c, db_now_ms);
        if (!o->justid) stream_nack_count_delivery(n);
        c->active_time = db_now_ms;
        stream_pel_log_claimed(log, id, n);
        r->claimed[r->nclaimed++] = id;
        count--;
        req->dirty++;
    }
    r->cursor = ok ? stream_index_key(&it) : ID_ZERO;
}

static void cmd_xautoclaim(struct request *req)
{
    struct autoclaim_options o;
    if (!parse_autoclaim(req, &o)) return;
    struct stream *s;
    struct stream_cgroup *g;
    if (!find_group(req, &s, &g)) return;
    if (!g) {
        reply_nogroup(req);
        return;
    }
    /* Logged as XCLAIM for what it claimed, XACK for what it dropped. */
    oplog_multi_begin();
    struct stream_consumer *c = consumer_get(req, g, &req->argv[1], &req->argv[3]);
    c->seen_time = db_now_ms;
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, &req->argv[1], g, false);
    size_t pending = stream_index_size(g->pel), most = pending < (size_t)o.count ? pending : (size_t)o.count;
    struct autoclaim_result r = {.claimed = mem_alloc(sizeof(struct stream_id) * (most + 1)),
                                 .deleted = mem_alloc(sizeof(struct stream_id) * (most + 1))};
    struct stream_dlq_run dead;
    stream_dlq_run_init(&dead, req, &req->argv[1], s, g, &log);
    autoclaim_walk(req, s, g, c, &o, &r, &log, &dead);
    stream_dlq_run_finish(&dead);
    stream_pel_log_flush(&log);
    oplog_multi_end();
    stream_oplog_done(req);
    reply_array(req->out, 3);
    stream_reply_id(req->out, &r.cursor);
    reply_array(req->out, r.nclaimed);
    for (long long i = 0; i < r.nclaimed; i++) {
        struct stream_entry e;
        if (o.justid || !stream_lookup(s, r.claimed[i], &e)) stream_reply_id(req->out, &r.claimed[i]);
        else stream_reply_entry(req->out, &e);
    }
    reply_array(req->out, r.ndeleted);
    for (long long i = 0; i < r.ndeleted; i++) stream_reply_id(req->out, &r.deleted[i]);
    mem_free(r.claimed);
    mem_free(r.deleted);
}

#define W (CMD_WRITE | CMD_FAST)
static struct command xgroup_subcommands[] = {
    {"create", cmd_xgroup_create, -5, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 2, 2, 1, "@write @stream @slow",
     "stream", "Creates a consumer group.", "5.0.0", "O(1)", NULL, stream_dlq_create_keys},
    {"setdlq", cmd_xgroup_setdlq, -5, CMD_WRITE | CMD_MOVABLE_KEYS, 2, 2, 1, "@write @stream @slow", "stream",
     "Sets or removes the delivery limit and dead-letter stream of a consumer group.", "8.10.0", "O(1)", NULL,
     stream_dlq_setdlq_keys},
    {"setid", cmd_xgroup_setid, -5, CMD_WRITE, 2, 2, 1, "@write @stream @slow", "stream",
     "Sets the last-delivered ID of a consumer group.", "5.0.0", "O(1)"},
    {"destroy", cmd_xgroup_destroy, 4, CMD_WRITE, 2, 2, 1, "@write @stream @slow", "stream",
     "Destroys a consumer group.", "5.0.0",
     "O(N) where N is the number of entries in the group's pending entries list (PEL)."},
    {"createconsumer", cmd_xgroup_createconsumer, 5, CMD_WRITE | CMD_DENYOOM, 2, 2, 1, "@write @stream @slow",
     "stream", "Creates a consumer in a consumer group.", "6.2.0", "O(1)"},
    {"delconsumer", cmd_xgroup_delconsumer, 5, CMD_WRITE, 2, 2, 1, "@write @stream @slow", "stream",
     "Deletes a consumer from a consumer group.", "5.0.0", "O(1)"},
    {"setbackoff", stream_delay_cmd_setbackoff, -5, CMD_WRITE, 2, 2, 1, "@write @stream @slow", "stream",
     "Sets or clears the back-off schedule of a consumer group (Runnel).", "8.8.0",
     "O(N) where N is the number of delays."},
    {"help", cmd_xgroup_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@stream @slow", "stream",
     "Returns helpful text about the different subcommands.", "5.0.0", "O(1)"},
    {0},
};

struct command stream_group_commands[] = {
    {"xgroup", NULL, -2, 0, 0, 0, 0, "@slow", "stream", "A container for consumer groups commands.", "5.0.0",
     "Depends on subcommand.", xgroup_subcommands},
    {"xreadgroup", cmd_xreadgroup, -7, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, 0, 0, 0,
     "@write @stream @slow @blocking", "stream",
     "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is "
     "available otherwise.",
     "5.0.0",
     "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always "
     "asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP "
     "blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
     NULL, stream_read_keys},
    {"xack", cmd_xack, -4, W, 1, 1, 1, "@write @stream @fast", "stream",
     "Returns the number of messages that were successfully acknowledged by the consumer group member of a "
     "stream.",
     "5.0.0", "O(1) for each message ID processed."},
    {"xpending", cmd_xpending, -3, CMD_READONLY, 1, 1, 1, "@read @stream @slow", "stream",
     "Returns the information and entries from a stream consumer group's pending entries list.", "5.0.0",
     "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call "
     "is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the "
     "command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an "
     "additional O(N) time for iterating every consumer."},
    {"xclaim", cmd_xclaim, -6, W, 1, 1, 1, "@write @stream @fast", "stream",
     "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a "
     "consumer group member.",
     "5.0.0", "O(log N) with N being the number of messages in the PEL of the consumer group."},
    {"xautoclaim", cmd_xautoclaim, -6, W, 1, 1, 1, "@write @stream @fast", "stream",
     "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as "
     "consumer group member.",
     "6.2.0", "O(1) if COUNT is small."},
    {0},
};
