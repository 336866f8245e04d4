/* stream_oplog: the commands streams write to the operation log, and the
 * commands an AOF rewrite emits for a stream (see stream_oplog.h).
 *
 * Both sides send commands through an object_emit_fn: the rewrite's own,
 * or stream_oplog_sink, which logs in place of the running request. */
#include "types/stream_oplog.h"

#include <string.h>

#include "db/oplog.h"
#include "types/stream.h"
#include "types/stream_delay.h"
#include "types/stream_dlq.h"
#include "types/stream_freeze.h"
#include "types/stream_idmp.h"
#include "types/stream_pel.h"
#include "types/stream_retention.h"
#include "util/mem.h"
#include "util/numbers.h"

void stream_oplog_sink(void *ctx, int argc, const struct arg *argv)
{
    oplog_propagate(ctx, argc, argv);
}

void stream_oplog_done(struct request *req)
{
    req->flags |= REQ_PROPAGATED;
}

/* ---- PEL changes ---- */

static void pel_log_setup(struct stream_pel_log *l, object_emit_fn *emit, void *ctx, const char *key, size_t len,
                          const struct stream_cgroup *g, bool with_last_id)
{
    *l = (struct stream_pel_log){.key = {(char *)key, len}, .g = g, .with_last_id = with_last_id};
    l->emit = emit;
    l->ctx = ctx;
}

void stream_pel_log_init(struct stream_pel_log *l, struct request *req, const struct arg *key,
                         const struct stream_cgroup *g, bool with_last_id)
{
    pel_log_setup(l, stream_oplog_sink, req, key->ptr, key->len, g, with_last_id);
}

/* XCLAIM key group owner 0 id... TIME t RETRYCOUNT n FORCE JUSTID [LASTID id]:
 * on replay it makes each entry pending for the owner with exactly this
 * time and count, whoever held it (FORCE: even if nobody did), without
 * touching the count further (JUSTID) and whatever the idle time. */
static void log_claims(struct stream_pel_log *l)
{
    if (l->nclaims == 0) return;
    struct arg argv[5 + STREAM_OPLOG_BATCH + 8];
    char ids[STREAM_OPLOG_BATCH][ID_BUF], time[24], count[24], last[ID_BUF];
    int n = 0;
    argv[n++] = arg_cstr("XCLAIM");
    argv[n++] = l->key;
    argv[n++] = arg_str(l->g->name);
    argv[n++] = arg_str(l->owner->name);
    argv[n++] = arg_cstr("0");
    for (int i = 0; i < l->nclaims; i++) argv[n++] = arg_id(ids[i], &l->claims[i]);
    argv[n++] = arg_cstr("TIME");
    argv[n++] = arg_ll(time, l->time);
    argv[n++] = arg_cstr("RETRYCOUNT");
    argv[n++] = arg_ull(count, l->count);
    argv[n++] = arg_cstr("FORCE");
    argv[n++] = arg_cstr("JUSTID");
    if (l->with_last_id) {
        argv[n++] = arg_cstr("LASTID");
        argv[n++] = arg_id(last, &l->g->last_id);
    }
    l->emit(l->ctx, n, argv);
    l->nclaims = 0;
}

/* XACK key group id...: drops the entries from the PEL on replay. */
static void log_acks(struct stream_pel_log *l)
{
    if (l->nacks == 0) return;
    struct arg argv[3 + STREAM_OPLOG_BATCH];
    char ids[STREAM_OPLOG_BATCH][ID_BUF];
    int n = 0;
    argv[n++] = arg_cstr("XACK");
    argv[n++] = l->key;
    argv[n++] = arg_str(l->g->name);
    for (int i = 0; i < l->nacks; i++) argv[n++] = arg_id(ids[i], &l->acks[i]);
    l->emit(l->ctx, n, argv);
    l->nacks = 0;
}

void stream_pel_log_claimed(struct stream_pel_log *l, struct stream_id id, const struct stream_nack *n)
{
    bool same = l->owner == n->consumer && l->time == n->delivery_time && l->count == n->delivery_count;
    if (l->nclaims > 0 && (!same || l->nclaims == STREAM_OPLOG_BATCH)) log_claims(l);
    l->owner = n->consumer;
    l->time = n->delivery_time;
    l->count = n->delivery_count;
    l->claims[l->nclaims++] = id;
}

void stream_pel_log_dropped(struct stream_pel_log *l, struct stream_id id)
{
    if (l->nacks == STREAM_OPLOG_BATCH) log_acks(l);
    l->acks[l->nacks++] = id;
}

void stream_pel_log_flush(struct stream_pel_log *l)
{
    log_claims(l);
    log_acks(l);
}

/* ---- groups and consumers ---- */

static void emit_consumer(object_emit_fn *emit, void *ctx, struct arg key, const struct stream_cgroup *g,
                          const struct stream_consumer *c)
{
    struct arg argv[5] = {arg_cstr("XGROUP"), arg_cstr("CREATECONSUMER"), key, arg_str(g->name), arg_str(c->name)};
    emit(ctx, 5, argv);
}

void stream_oplog_consumer_created(struct request *req, const struct arg *key, const struct stream_cgroup *g,
                                   const struct stream_consumer *c)
{
    emit_consumer(stream_oplog_sink, req, *key, g, c);
}

void stream_oplog_group_position(struct request *req, const struct arg *key, const struct stream_cgroup *g)
{
    char last[ID_BUF], read[24];
    struct arg argv[7] = {arg_cstr("XGROUP"),  arg_cstr("SETID"),           *key,
                          arg_str(g->name),    arg_id(last, &g->last_id), arg_cstr("ENTRIESREAD"),
                          arg_ll(read, g->entries_read)};
    oplog_propagate(req, 7, argv);
}

/* ---- AOF rewrite ---- */

/* A stream is rebuilt in five steps:
 * 1. XADD every live entry with its ID, in order. Entries still pending in
 *    some group but gone from the stream ("ghosts": deleted or trimmed
 *    after delivery) are added too, as placeholders, because XCLAIM only
 *    claims entries that exist.
 * 2. Per group: XGROUP CREATE at its last ID with its read counter, XGROUP
 *    CREATECONSUMER for every consumer, then the PEL as XCLAIM ... FORCE
 *    JUSTID with each entry's delivery time and count, and the entries
 *    released by XNACK as XNACK ... RETRYCOUNT n FORCE in release order.
 * 3. The ghosts go again: those after the first live entry were deleted by
 *    XDEL (trims only cut a prefix) and go by XDEL; those before it by an
 *    exact XTRIM MINID, which, unlike XDEL, leaves max-deleted-entry-id
 *    alone.
 * 4. The IDMP state: XCFGSET, then XIDMPRECORD ... TIME for every pair
 *    still known (stream_idmp_rewrite).
 * 5. XSETID restores the last ID, entries-added and max-deleted-entry-id,
 *    which step 1 and 3 disturbed, and the IDMP counters step 4 disturbed. A stream with no entries at all is
 *    created by XADD MAXLEN 0 (Redis's trick) before it. */
struct rewrite {
    const struct stream *s;
    struct arg key;
    object_emit_fn *emit;
    void *ctx;
    struct arg *argv; /* room for the widest XADD so far */
    size_t cap;
};

static void rewrite_xadd_entry(struct rewrite *rw, const struct stream_entry *e)
{
    size_t need = 5 + 2 * (size_t)e->field_count;
    if (need > rw->cap) {
        rw->cap = need;
        rw->argv = mem_realloc(rw->argv, sizeof(struct arg) * need);
    }
    char id[ID_BUF], due[24];
    size_t n = 0;
    rw->argv[n++] = arg_cstr("XADD");
    rw->argv[n++] = rw->key;
    n += (size_t)stream_delay_rewrite_args(rw->s, e->id, rw->argv + n, due);
    rw->argv[n++] = arg_id(id, &e->id);
    struct stream_field_cursor c;
    const char *f, *v;
    size_t fl, vl;
    stream_entry_fields(e, &c);
    while (stream_field_next(&c, &f, &fl, &v, &vl)) {
        rw->argv[n++] = (struct arg){(char *)f, fl};
        rw->argv[n++] = (struct arg){(char *)v, vl};
    }
    rw->emit(rw->ctx, (int)n, rw->argv);
}

static void rewrite_xadd_ghost(struct rewrite *rw, struct stream_id id)
{
    char buf[ID_BUF];
    struct arg argv[5] = {arg_cstr("XADD"), rw->key, arg_id(buf, &id), arg_cstr("x"), arg_cstr("y")};
    rw->emit(rw->ctx, 5, argv);
}

/* The IDs pending in any group that are not live entries of the stream. */
static struct stream_index *collect_ghosts(struct stream *s)
{
    struct stream_index *ghosts = stream_index_new();
    for (size_t i = 0; s->groups && i < s->groups->count; i++) {
        struct stream_index_iter it;
        for (bool ok = stream_index_first(s->groups->items[i]->pel, &it); ok; ok = stream_index_next(&it)) {
            struct stream_id id = stream_index_key(&it);
            struct stream_entry e;
            if (!stream_lookup(s, id, &e)) stream_index_insert(ghosts, id, NULL);
        }
    }
    return ghosts;
}

/* Step 1: live entries and ghosts merged in ID order. */
static void rewrite_entries(struct rewrite *rw, struct stream *s, struct stream_index *ghosts)
{
    struct stream_iter it;
    struct stream_entry e;
    struct stream_index_iter gi;
    bool ghost = stream_index_first(ghosts, &gi);
    stream_iter_init(&it, s, (struct stream_id){0, 0}, (struct stream_id){UINT64_MAX, UINT64_MAX}, false);
    while (stream_iter_next(&it, &e)) {
        for (; ghost; ghost = stream_index_next(&gi)) {
            struct stream_id id = stream_index_key(&gi);
            if (stream_id_cmp(&id, &e.id) > 0) break;
            rewrite_xadd_ghost(rw, id);
        }
        rewrite_xadd_entry(rw, &e);
    }
    for (; ghost; ghost = stream_index_next(&gi)) rewrite_xadd_ghost(rw, stream_index_key(&gi));
}

void stream_oplog_emit_released(object_emit_fn *emit, void *ctx, struct arg key, const struct stream_cgroup *g,
                                const struct stream_id *ids, int n, uint64_t count, long long due)
{
    struct arg argv[11 + STREAM_OPLOG_BATCH];
    char bufs[STREAM_OPLOG_BATCH][ID_BUF], num[24], retry[24], at[24];
    int argc = 0;
    argv[argc++] = arg_cstr("XNACK");
    argv[argc++] = key;
    argv[argc++] = arg_str(g->name);
    argv[argc++] = arg_cstr("FAIL");
    argv[argc++] = arg_cstr("IDS");
    argv[argc++] = arg_ll(num, n);
    for (int i = 0; i < n; i++) argv[argc++] = arg_id(bufs[i], &ids[i]);
    argv[argc++] = arg_cstr("RETRYCOUNT");
    argv[argc++] = arg_ull(retry, count);
    argv[argc++] = arg_cstr("FORCE");
    if (due) {
        argv[argc++] = arg_cstr("DELAYAT");
        argv[argc++] = arg_ll(at, due);
    }
    emit(ctx, argc, argv);
}

/* The released entries, in release order; consecutive ones with the same
 * count share an XNACK. */
static void rewrite_released(struct rewrite *rw, const struct stream_cgroup *g)
{
    struct stream_id ids[STREAM_OPLOG_BATCH];
    int n = 0;
    uint64_t count = 0;
    for (const struct stream_nack *x = stream_pel_idlest(g, NULL); x && !x->consumer; x = stream_pel_idlest(g, x)) {
        if (n > 0 && (n == STREAM_OPLOG_BATCH || x->delivery_count != count)) {
            stream_oplog_emit_released(rw->emit, rw->ctx, rw->key, g, ids, n, count, 0);
            n = 0;
        }
        count = x->delivery_count;
        ids[n++] = x->id;
    }
    if (n > 0) stream_oplog_emit_released(rw->emit, rw->ctx, rw->key, g, ids, n, count, 0);
}

/* Step 2 for one group. */
static void rewrite_group(struct rewrite *rw, const struct stream_cgroup *g)
{
    char last[ID_BUF], read[24];
    struct arg create[7] = {arg_cstr("XGROUP"), arg_cstr("CREATE"),          rw->key,
                            arg_str(g->name),   arg_id(last, &g->last_id), arg_cstr("ENTRIESREAD"),
                            arg_ll(read, g->entries_read)};
    rw->emit(rw->ctx, 7, create);
    for (size_t i = 0; i < g->consumer_count; i++) emit_consumer(rw->emit, rw->ctx, rw->key, g, g->consumers[i]);
    struct stream_pel_log l;
    pel_log_setup(&l, rw->emit, rw->ctx, rw->key.ptr, rw->key.len, g, false);
    struct stream_index_iter it;
    for (bool ok = stream_index_first(g->pel, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_nack *n = stream_index_value(&it);
        if (n->consumer) stream_pel_log_claimed(&l, n->id, n);
    }
    stream_pel_log_flush(&l);
    rewrite_released(rw, g);
    stream_dlq_rewrite(g, &rw->key, rw->emit, rw->ctx);
}

/* Step 3. */
static void rewrite_xdel(struct rewrite *rw, struct arg *argv, int n)
{
    if (n == 0) return;
    argv[0] = arg_cstr("XDEL");
    argv[1] = rw->key;
    rw->emit(rw->ctx, 2 + n, argv);
}

static void rewrite_drop_ghosts(struct rewrite *rw, struct stream *s, struct stream_index *ghosts)
{
    if (stream_index_size(ghosts) == 0) return;
    struct stream_id first;
    if (!stream_first_live(s, &first)) {
        struct arg trim[4] = {arg_cstr("XTRIM"), rw->key, arg_cstr("MAXLEN"), arg_cstr("0")};
        rw->emit(rw->ctx, 4, trim);
        return;
    }
    struct arg argv[2 + STREAM_OPLOG_BATCH];
    char ids[STREAM_OPLOG_BATCH][ID_BUF];
    int n = 0;
    bool before_first = false;
    struct stream_index_iter it;
    for (bool ok = stream_index_first(ghosts, &it); ok; ok = stream_index_next(&it)) {
        struct stream_id id = stream_index_key(&it);
        if (stream_id_cmp(&id, &first) < 0) {
            before_first = true;
            continue;
        }
        if (n == STREAM_OPLOG_BATCH) {
            rewrite_xdel(rw, argv, n);
            n = 0;
        }
        argv[2 + n] = arg_id(ids[n], &id);
        n++;
    }
    rewrite_xdel(rw, argv, n);
    if (before_first) {
        char buf[ID_BUF];
        struct arg trim[4] = {arg_cstr("XTRIM"), rw->key, arg_cstr("MINID"), arg_id(buf, &first)};
        rw->emit(rw->ctx, 4, trim);
    }
}

/* Step 5. */
static void rewrite_counters(struct rewrite *rw, const struct stream *s)
{
    char last[ID_BUF], added[24], deleted[ID_BUF], iadded[24], idups[24];
    struct arg setid[11] = {arg_cstr("XSETID"),
                            rw->key,
                            arg_id(last, &s->last_id),
                            arg_cstr("ENTRIESADDED"),
                            arg_ull(added, s->entries_added),
                            arg_cstr("MAXDELETEDID"),
                            arg_id(deleted, &s->max_deleted_id)};
    int n = 7;
    if (s->idmp) {
        long long total_added = stream_idmp_added(s);
        setid[n++] = arg_cstr("IDMPADDED");
        setid[n++] = arg_ll(iadded, total_added);
        setid[n++] = arg_cstr("IDMPDUPLICATES");
        setid[n++] = arg_ull(idups, stream_idmp_duplicates(s));
    }
    rw->emit(rw->ctx, n, setid);
}

void stream_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx)
{
    struct stream *s = o->v.ptr;
    struct rewrite rw = {.s = s, .key = {(char *)key, len}, .emit = emit, .ctx = ctx};
    stream_freeze_peek_begin(); /* perhaps a forked child: read, do not thaw */
    struct stream_index *ghosts = collect_ghosts(s);
    if (s->length == 0 && stream_index_size(ghosts) == 0) {
        struct arg create[7] = {arg_cstr("XADD"), rw.key,        arg_cstr("MAXLEN"), arg_cstr("0"),
                                arg_cstr("0-1"),  arg_cstr("x"), arg_cstr("y")};
        emit(ctx, 7, create);
    }
    rewrite_entries(&rw, s, ghosts);
    for (size_t i = 0; s->groups && i < s->groups->count; i++) rewrite_group(&rw, s->groups->items[i]);
    stream_delay_rewrite(s, rw.key, emit, ctx);
    rewrite_drop_ghosts(&rw, s, ghosts);
    stream_idmp_rewrite(s, &rw.key, emit, ctx);
    stream_retention_rewrite(s, &rw.key, emit, ctx);
    rewrite_counters(&rw, s);
    stream_index_free(ghosts, NULL);
    mem_free(rw.argv);
    stream_freeze_peek_end();
}
