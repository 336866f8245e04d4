/* wl_stream: P producers XADD to one stream; a consumer group of C
 * consumers reads it with XREADGROUP ... BLOCK (one read of up to `pipeline`
 * entries in flight each) and acknowledges every batch with one XACK, sent
 * ahead of the next read so it never waits behind a blocked one. Producers
 * keep `pipeline` XADDs in flight and pause while the unread backlog exceeds
 * a window. A ledger checks exactly-once delivery; XPENDING must be empty
 * at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "message.h"

#define STREAM_KEY        "runnel-bench:stream"
#define STREAM_GROUP      "runnel-bench"
#define READ_BLOCK_MS     "1000"
#define S_WINDOW_PER_READ 8 /* backlog allowed per entry a read may return */

enum s_phase { S_RUNNING, S_DRAINING };

struct s_producer {
    struct bench_conn *conn;
    unsigned inflight;
    struct bench_pacer pacer; /* --rate */
};

struct s_consumer {
    struct bench_conn *conn;
    bool reading;      /* an XREADGROUP is in flight */
    unsigned acks;     /* XACKs in flight: at most one, as it precedes the next read */
    size_t ack_expect; /* ids in the XACK in flight */
    char name[32];
};

struct stream {
    const struct bench_opts *o;
    struct bench_loop loop;
    struct s_producer *prods;
    struct s_consumer *cons;
    struct msg_ledger ledger;
    char *payload;
    char count[24];
    const char **ack_argv; /* scratch: XACK key group id... */
    size_t *ack_lens;
    size_t ack_cap;
    enum s_phase phase;
    bool window_blocked;
    uint64_t acked, consumed, ack_mismatch;
    uint64_t start_ns, drain_ns, last_add_ns, last_consume_ns, last_report_ns, last_acked, last_consumed;
    struct histogram hist;
};

static bool s_may_produce(const struct stream *s)
{
    return s->phase == S_RUNNING && (!s->o->messages || msg_ledger_sent(&s->ledger) < s->o->messages);
}

static bool s_window_open(struct stream *s)
{
    uint64_t window = (uint64_t)S_WINDOW_PER_READ * (uint64_t)s->o->pipeline * (uint64_t)s->o->consumers;
    if (msg_ledger_sent(&s->ledger) - s->consumed < window)
        return true;
    s->window_blocked = true;
    return false;
}

static void s_send(struct stream *s, int i, uint64_t stamp_ns)
{
    struct s_producer *p = &s->prods[i];
    struct msg_header h = {stamp_ns, (uint32_t)i, msg_ledger_next(&s->ledger, (uint32_t)i)};
    size_t len = msg_format(s->payload, s->o->size, &h, false);
    const char *argv[5] = {"XADD", STREAM_KEY, "*", "d", s->payload};
    size_t lens[5] = {4, sizeof(STREAM_KEY) - 1, 1, 1, len};
    conn_command(p->conn, 5, argv, lens);
    p->inflight++;
}

/* Closed loop: keeps `pipeline` XADDs in flight within the window.
 * Open loop: sends what the clock says is due, whatever is in flight. */
static void s_produce(struct stream *s, int i)
{
    struct s_producer *p = &s->prods[i];
    if (s->o->rate > 0) {
        uint64_t due, now = now_ns();
        while (s_may_produce(s) && (due = pacer_due(&p->pacer, now)))
            s_send(s, i, due);
        return;
    }
    while (p->inflight < (unsigned)s->o->pipeline && s_may_produce(s) && s_window_open(s))
        s_send(s, i, now_ns());
}

static void s_on_producer_reply(struct bench_conn *c, redisReply *reply)
{
    struct stream *s = c->ud;
    if (conn_reply_bad(c, reply, REDIS_REPLY_STRING, "XADD"))
        return;
    s->prods[c->index].inflight--;
    s->acked++;
    s->last_add_ns = now_ns();
    s_produce(s, c->index);
}

/* Issues consumer j's next XREADGROUP unless one is in flight or all is read. */
static void s_read(struct stream *s, int j)
{
    struct s_consumer *k = &s->cons[j];
    bool done = s->phase == S_DRAINING && s->consumed >= msg_ledger_sent(&s->ledger);
    if (k->reading || done)
        return;
    const char *argv[11] = {"XREADGROUP", "GROUP",       STREAM_GROUP, k->name,    "COUNT", s->count,
                            "BLOCK",      READ_BLOCK_MS, "STREAMS",    STREAM_KEY, ">"};
    size_t lens[11];
    for (int i = 0; i < 11; i++)
        lens[i] = strlen(argv[i]);
    conn_command(k->conn, 11, argv, lens);
    k->reading = true;
}

static void s_ack_reserve(struct stream *s, size_t n)
{
    if (n <= s->ack_cap)
        return;
    s->ack_cap = n * 2;
    s->ack_argv = realloc(s->ack_argv, s->ack_cap * sizeof(*s->ack_argv));
    s->ack_lens = realloc(s->ack_lens, s->ack_cap * sizeof(*s->ack_lens));
    if (!s->ack_argv || !s->ack_lens)
        abort();
}

/* Accounts one entry [id, [field, value, ...]] and adds its id to the XACK. */
static void s_consume(struct stream *s, const redisReply *entry, int *n_ids)
{
    struct msg_header h;
    uint64_t now = now_ns();
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *fields = entry->element[1];
    s->ack_argv[3 + *n_ids] = entry->element[0]->str;
    s->ack_lens[3 + *n_ids] = entry->element[0]->len;
    (*n_ids)++;
    if (fields->type != REDIS_REPLY_ARRAY || fields->elements != 2)
        return;
    const redisReply *value = fields->element[1];
    if (value->type == REDIS_REPLY_STRING && msg_parse(value->str, value->len, &h) &&
        msg_ledger_mark(&s->ledger, h.source, h.seq)) {
        histogram_record(&s->hist, now - h.sent_ns);
        s->consumed++;
        s->last_consume_ns = now;
    }
}

/* Handles an XREADGROUP reply: nil on timeout, else [[key, [entry...]]]. */
static void s_on_read(struct stream *s, struct s_consumer *k, const redisReply *reply)
{
    k->reading = false;
    const redisReply *entries = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
        entries = reply->element[0]->element[1];
    int n_ids = 0;
    if (entries && entries->type == REDIS_REPLY_ARRAY) {
        s_ack_reserve(s, entries->elements + 3);
        for (size_t i = 0; i < entries->elements; i++)
            s_consume(s, entries->element[i], &n_ids);
    }
    if (n_ids) {
        s->ack_argv[0] = "XACK";
        s->ack_argv[1] = STREAM_KEY;
        s->ack_argv[2] = STREAM_GROUP;
        s->ack_lens[0] = 4;
        s->ack_lens[1] = sizeof(STREAM_KEY) - 1;
        s->ack_lens[2] = sizeof(STREAM_GROUP) - 1;
        conn_command(k->conn, 3 + n_ids, s->ack_argv, s->ack_lens);
        k->acks++;
        k->ack_expect = (size_t)n_ids;
    }
    if (s->window_blocked) {
        s->window_blocked = false;
        for (int i = 0; i < s->o->producers; i++)
            s_produce(s, i);
    }
}

/* An XACK answers an integer (ids acknowledged); a read nil or an array. */
static void s_on_consumer_reply(struct bench_conn *c, redisReply *reply)
{
    struct stream *s = c->ud;
    struct s_consumer *k = &s->cons[c->index];
    if (conn_reply_bad(c, reply, -1, reply->type == REDIS_REPLY_INTEGER ? "XACK" : "XREADGROUP"))
        return;
    if (reply->type == REDIS_REPLY_INTEGER) {
        k->acks--;
        s->ack_mismatch += (size_t)reply->integer == k->ack_expect ? 0 : 1;
        return;
    }
    if (reply->type != REDIS_REPLY_NIL && reply->type != REDIS_REPLY_ARRAY) {
        loop_fail(&s->loop, "%s: XREADGROUP: unexpected reply type %d", c->name, reply->type);
        return;
    }
    s_on_read(s, k, reply);
    s_read(s, c->index);
}

static bool s_settled(const struct stream *s)
{
    if (s->acked != msg_ledger_sent(&s->ledger) || s->consumed < s->acked)
        return false;
    for (int j = 0; j < s->o->consumers; j++)
        if (s->cons[j].acks)
            return false;
    return true;
}

static void s_tick(struct bench_loop *l, void *ud)
{
    struct stream *s = ud;
    uint64_t now = now_ns();
    if (now - s->last_report_ns >= 1000000000ull) {
        double dt = (double)(now - s->last_report_ns) / 1e9;
        bench_progress(s->o, "%.1fs  added %llu (%.0f/s)  consumed %llu (%.0f/s)",
                       (double)(now - s->start_ns) / 1e9, (unsigned long long)s->acked,
                       (double)(s->acked - s->last_acked) / dt, (unsigned long long)s->consumed,
                       (double)(s->consumed - s->last_consumed) / dt);
        s->last_report_ns = now;
        s->last_acked = s->acked;
        s->last_consumed = s->consumed;
    }
    if (s->o->rate > 0)
        for (int i = 0; i < s->o->producers; i++)
            s_produce(s, i);
    if (s->phase == S_RUNNING && (!s_may_produce(s) || bench_time_up(s->o, s->start_ns))) {
        s->phase = S_DRAINING;
        s->drain_ns = now;
    }
    if (s->phase == S_DRAINING && (s_settled(s) || (double)(now - s->drain_ns) / 1e9 > s->o->drain_seconds))
        l->stop = true;
}

static bool s_open(struct stream *s)
{
    const struct bench_opts *o = s->o;
    s->prods = calloc((size_t)o->producers, sizeof(*s->prods));
    s->cons = calloc((size_t)o->consumers, sizeof(*s->cons));
    for (int j = 0; j < o->consumers; j++) {
        char name[32];
        snprintf(name, sizeof(name), "consumer %d", j);
        snprintf(s->cons[j].name, sizeof(s->cons[j].name), "c%d", j);
        s->cons[j].conn = conn_open(&s->loop, &o->target, name, 0, s_on_consumer_reply, s, j);
        if (!s->cons[j].conn)
            return false;
        s->cons[j].conn->expect_close = true; /* closed while blocked, at the end */
    }
    for (int i = 0; i < o->producers; i++) {
        char name[32];
        snprintf(name, sizeof(name), "producer %d", i);
        s->prods[i].conn = conn_open(&s->loop, &o->target, name, 0, s_on_producer_reply, s, i);
        if (!s->prods[i].conn)
            return false;
    }
    return true;
}

/* Runs one admin command given as words; false with err filled on error. */
static bool s_admin(redisContext *ctx, char *err, size_t errlen, int argc, const char **argv,
                    long long *first)
{
    redisReply *r = admin_call(ctx, err, errlen, argc, argv);
    if (!r)
        return false;
    if (first && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
        r->element[0]->type == REDIS_REPLY_INTEGER)
        *first = r->element[0]->integer;
    freeReplyObject(r);
    return true;
}

/* Recreates the stream with an empty group at its end. */
static bool s_setup(const struct stream *s, char *err, size_t errlen)
{
    redisContext *ctx = admin_connect(&s->o->target, err, errlen);
    if (!ctx)
        return false;
    const char *del[2] = {"DEL", STREAM_KEY};
    const char *create[6] = {"XGROUP", "CREATE", STREAM_KEY, STREAM_GROUP, "$", "MKSTREAM"};
    bool ok = s_admin(ctx, err, errlen, 2, del, NULL) && s_admin(ctx, err, errlen, 6, create, NULL);
    redisFree(ctx);
    return ok;
}

/* Reads the group's pending count (XPENDING summary), then deletes the stream. */
static bool s_finish(const struct stream *s, long long *pending, char *err, size_t errlen)
{
    redisContext *ctx = admin_connect(&s->o->target, err, errlen);
    if (!ctx)
        return false;
    const char *xpending[3] = {"XPENDING", STREAM_KEY, STREAM_GROUP};
    const char *del[2] = {"DEL", STREAM_KEY};
    bool ok = s_admin(ctx, err, errlen, 3, xpending, pending) && s_admin(ctx, err, errlen, 2, del, NULL);
    redisFree(ctx);
    return ok;
}

static void s_report(struct stream *s, struct bench_result *r, long long pending)
{
    const struct bench_opts *o = s->o;
    uint64_t lost = msg_ledger_sent(&s->ledger) - s->ledger.distinct;
    double add_s = (double)(s->last_add_ns - s->start_ns) / 1e9;
    double cons_s = (double)(s->last_consume_ns - s->start_ns) / 1e9;
    snprintf(r->params, sizeof(r->params),
             "%d producers, group of %d consumers, pipeline/COUNT %d, %zu-byte payloads", o->producers,
             o->consumers, o->pipeline, o->size);
    result_note_rate(r, o);
    r->elapsed = cons_s > add_s ? cons_s : add_s;
    r->ops = s->consumed;
    result_add(r, "throughput", "consumed/s", cons_s > 0 ? (double)s->consumed / cons_s : 0);
    result_add(r, "produced_per_sec", "added/s", add_s > 0 ? (double)s->acked / add_s : 0);
    result_add_count(r, "produced", "added", s->acked);
    result_add_count(r, "consumed", "consumed", s->consumed);
    result_add_count(r, "lost", "lost", lost);
    result_add_count(r, "duplicated", "duplicated", s->ledger.duplicated);
    result_add_count(r, "foreign", "unparseable or unknown", s->ledger.foreign);
    result_add_count(r, "ack_mismatch", "XACK count mismatches", s->ack_mismatch);
    result_add(r, "pending", "pending at the end", (double)pending);
    r->metrics[r->n_metrics - 1].integer = pending >= 0;
    if (lost || s->ledger.duplicated || s->ledger.foreign || s->ack_mismatch || pending != 0)
        result_fail(
            r, BENCH_EXIT_INTEGRITY,
            "stream: %llu lost, %llu duplicated, %llu unparseable, %llu XACK mismatches, %lld pending",
            (unsigned long long)lost, (unsigned long long)s->ledger.duplicated,
            (unsigned long long)s->ledger.foreign, (unsigned long long)s->ack_mismatch, pending);
}

static void s_free(struct stream *s)
{
    for (int i = 0; s->prods && i < s->o->producers; i++)
        conn_free(s->prods[i].conn);
    for (int j = 0; s->cons && j < s->o->consumers; j++)
        conn_free(s->cons[j].conn);
    free(s->prods);
    free(s->cons);
    free(s->payload);
    free(s->ack_argv);
    free(s->ack_lens);
    msg_ledger_free(&s->ledger);
    loop_free(&s->loop);
    free(s);
}

int wl_stream_run(const struct bench_opts *o, struct bench_result *r)
{
    struct stream *s = calloc(1, sizeof(*s));
    char err[512] = "";
    s->o = o;
    histogram_init(&s->hist);
    msg_ledger_init(&s->ledger, (uint32_t)o->producers);
    s->payload = malloc(o->size + MSG_HEADER_LEN);
    msg_format(s->payload, o->size, &(struct msg_header){0}, true);
    snprintf(s->count, sizeof(s->count), "%d", o->pipeline);
    if (!s_setup(s, err, sizeof(err)) || loop_init(&s->loop) != 0 || !s_open(s)) {
        result_fail(r, BENCH_EXIT_ERROR, "%s", s->loop.failed ? s->loop.error : err);
        s_free(s);
        return r->status;
    }
    s->start_ns = s->last_report_ns = s->last_add_ns = s->last_consume_ns = now_ns();
    for (int i = 0; i < o->producers && o->rate > 0; i++)
        pacer_init(&s->prods[i].pacer, s->start_ns, o->rate / o->producers);
    for (int j = 0; j < o->consumers; j++)
        s_read(s, j);
    for (int i = 0; i < o->producers; i++)
        s_produce(s, i);
    if (loop_run(&s->loop, bench_tick_us(o, 100000), s_tick, s) != 0)
        result_fail(r, BENCH_EXIT_ERROR, "%s", s->loop.error);
    for (int j = 0; j < o->consumers; j++)
        conn_close(s->cons[j].conn);
    long long pending = -1;
    if (!s_finish(s, &pending, err, sizeof(err)))
        result_fail(r, BENCH_EXIT_ERROR, "cleanup: %s", err);
    s_report(s, r, pending);
    r->latency = malloc(sizeof(*r->latency));
    *r->latency = s->hist;
    s_free(s);
    return r->status;
}
