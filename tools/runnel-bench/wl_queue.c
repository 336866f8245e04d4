/* wl_queue: P producers LPUSH onto one list; C consumers pop it with BRPOP,
 * or with --reliable the reliable-queue pattern: BLMOVE into a per-consumer
 * processing list, then LREM from it once handled. The LREMs go on a second
 * connection: pipelined behind a blocked BLMOVE they would wait for its
 * timeout. Producers and consumers keep `pipeline` commands in flight, and
 * producers pause while the backlog exceeds a window, so latency measures
 * the server rather than how long the run let the queue grow. Every payload
 * names its producer and sequence number, and a ledger checks that each was
 * delivered exactly once; at the end the list and the processing lists must
 * be empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "message.h"

#define QUEUE_KEY        "runnel-bench:queue"
#define POP_TIMEOUT      "1"
#define Q_WINDOW_PER_POP 8 /* backlog allowed per pop in flight */

enum q_phase { Q_RUNNING, Q_DRAINING };

struct q_producer {
    struct bench_conn *conn;
    unsigned inflight;
    struct bench_pacer pacer; /* --rate */
};

struct q_consumer {
    struct bench_conn *conn;
    struct bench_conn *ack; /* LREM connection (reliable mode) */
    unsigned pops;          /* BRPOP/BLMOVE in flight */
    unsigned lrems;         /* LREM in flight */
    char proc[64];          /* processing list (reliable mode) */
};

struct queue {
    const struct bench_opts *o;
    struct bench_loop loop;
    struct q_producer *prods;
    struct q_consumer *cons;
    struct msg_ledger ledger;
    char *payload;
    enum q_phase phase;
    bool window_blocked;
    uint64_t acked, consumed, lrem_misses;
    uint64_t start_ns, drain_ns, last_ack_ns, last_consume_ns, last_report_ns, last_acked, last_consumed;
    struct histogram hist;
};

static bool q_may_produce(const struct queue *q)
{
    return q->phase == Q_RUNNING && (!q->o->messages || msg_ledger_sent(&q->ledger) < q->o->messages);
}

static bool q_window_open(struct queue *q)
{
    uint64_t window = (uint64_t)Q_WINDOW_PER_POP * (uint64_t)q->o->pipeline * (uint64_t)q->o->consumers;
    if (msg_ledger_sent(&q->ledger) - q->consumed < window)
        return true;
    q->window_blocked = true;
    return false;
}

static void q_send(struct queue *q, int i, uint64_t stamp_ns)
{
    struct q_producer *p = &q->prods[i];
    struct msg_header h = {stamp_ns, (uint32_t)i, msg_ledger_next(&q->ledger, (uint32_t)i)};
    size_t len = msg_format(q->payload, q->o->size, &h, false);
    const char *argv[3] = {"LPUSH", QUEUE_KEY, q->payload};
    size_t lens[3] = {5, sizeof(QUEUE_KEY) - 1, len};
    conn_command(p->conn, 3, argv, lens);
    p->inflight++;
}

/* Closed loop: keeps `pipeline` LPUSHes in flight within the window.
 * Open loop: sends what the clock says is due, whatever is in flight. */
static void q_produce(struct queue *q, int i)
{
    struct q_producer *p = &q->prods[i];
    if (q->o->rate > 0) {
        uint64_t due, now = now_ns();
        while (q_may_produce(q) && (due = pacer_due(&p->pacer, now)))
            q_send(q, i, due);
        return;
    }
    while (p->inflight < (unsigned)q->o->pipeline && q_may_produce(q) && q_window_open(q))
        q_send(q, i, now_ns());
}

static void q_on_producer_reply(struct bench_conn *c, redisReply *reply)
{
    struct queue *q = c->ud;
    if (conn_reply_bad(c, reply, REDIS_REPLY_INTEGER, "LPUSH"))
        return;
    q->prods[c->index].inflight--;
    q->acked++;
    q->last_ack_ns = now_ns();
    q_produce(q, c->index);
}

/* Tops up consumer j's blocking pops, unless everything has arrived. */
static void q_pop(struct queue *q, int j)
{
    struct q_consumer *k = &q->cons[j];
    bool done = q->phase == Q_DRAINING && q->consumed >= msg_ledger_sent(&q->ledger);
    while (!done && k->pops < (unsigned)q->o->pipeline) {
        if (q->o->reliable) {
            const char *argv[6] = {"BLMOVE", QUEUE_KEY, k->proc, "RIGHT", "LEFT", POP_TIMEOUT};
            size_t lens[6] = {6, sizeof(QUEUE_KEY) - 1, strlen(k->proc), 5, 4, sizeof(POP_TIMEOUT) - 1};
            conn_command(k->conn, 6, argv, lens);
        } else {
            const char *argv[3] = {"BRPOP", QUEUE_KEY, POP_TIMEOUT};
            size_t lens[3] = {5, sizeof(QUEUE_KEY) - 1, sizeof(POP_TIMEOUT) - 1};
            conn_command(k->conn, 3, argv, lens);
        }
        k->pops++;
    }
}

/* Accounts one popped payload; in reliable mode acknowledges it with LREM. */
static void q_consume(struct queue *q, struct q_consumer *k, const redisReply *item)
{
    struct msg_header h;
    uint64_t now = now_ns();
    if (item->type == REDIS_REPLY_STRING && msg_parse(item->str, item->len, &h) &&
        msg_ledger_mark(&q->ledger, h.source, h.seq)) {
        histogram_record(&q->hist, now - h.sent_ns);
        q->consumed++;
        q->last_consume_ns = now;
    }
    if (q->window_blocked) {
        q->window_blocked = false;
        for (int i = 0; i < q->o->producers; i++)
            q_produce(q, i);
    }
    if (!q->o->reliable)
        return;
    const char *argv[4] = {"LREM", k->proc, "1", item->str};
    size_t lens[4] = {4, strlen(k->proc), 1, item->len};
    conn_command(k->ack, 4, argv, lens);
    k->lrems++;
}

static void q_on_ack_reply(struct bench_conn *c, redisReply *reply)
{
    struct queue *q = c->ud;
    if (conn_reply_bad(c, reply, REDIS_REPLY_INTEGER, "LREM"))
        return;
    q->cons[c->index].lrems--;
    q->lrem_misses += reply->integer == 1 ? 0 : 1;
}

/* A pop answers nil (timeout), an array (BRPOP) or a string (BLMOVE). */
static void q_on_consumer_reply(struct bench_conn *c, redisReply *reply)
{
    struct queue *q = c->ud;
    struct q_consumer *k = &q->cons[c->index];
    const char *cmd = q->o->reliable ? "BLMOVE" : "BRPOP";
    if (conn_reply_bad(c, reply, -1, cmd))
        return;
    k->pops--;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
        q_consume(q, k, reply->element[1]);
    else if (reply->type == REDIS_REPLY_STRING)
        q_consume(q, k, reply);
    else if (reply->type != REDIS_REPLY_NIL) {
        loop_fail(&q->loop, "%s: %s: unexpected reply type %d", c->name, cmd, reply->type);
        return;
    }
    q_pop(q, c->index);
}

static bool q_settled(const struct queue *q)
{
    if (q->acked != msg_ledger_sent(&q->ledger) || q->consumed < q->acked)
        return false;
    for (int j = 0; j < q->o->consumers; j++)
        if (q->cons[j].lrems)
            return false;
    return true;
}

static void q_tick(struct bench_loop *l, void *ud)
{
    struct queue *q = ud;
    uint64_t now = now_ns();
    if (now - q->last_report_ns >= 1000000000ull) {
        double dt = (double)(now - q->last_report_ns) / 1e9;
        bench_progress(q->o, "%.1fs  produced %llu (%.0f/s)  consumed %llu (%.0f/s)",
                       (double)(now - q->start_ns) / 1e9, (unsigned long long)q->acked,
                       (double)(q->acked - q->last_acked) / dt, (unsigned long long)q->consumed,
                       (double)(q->consumed - q->last_consumed) / dt);
        q->last_report_ns = now;
        q->last_acked = q->acked;
        q->last_consumed = q->consumed;
    }
    if (q->o->rate > 0)
        for (int i = 0; i < q->o->producers; i++)
            q_produce(q, i);
    if (q->phase == Q_RUNNING && (!q_may_produce(q) || bench_time_up(q->o, q->start_ns))) {
        q->phase = Q_DRAINING;
        q->drain_ns = now;
    }
    if (q->phase == Q_DRAINING && (q_settled(q) || (double)(now - q->drain_ns) / 1e9 > q->o->drain_seconds))
        l->stop = true;
}

static bool q_open(struct queue *q)
{
    const struct bench_opts *o = q->o;
    q->prods = calloc((size_t)o->producers, sizeof(*q->prods));
    q->cons = calloc((size_t)o->consumers, sizeof(*q->cons));
    for (int j = 0; j < o->consumers; j++) {
        char name[32];
        snprintf(name, sizeof(name), "consumer %d", j);
        snprintf(q->cons[j].proc, sizeof(q->cons[j].proc), "runnel-bench:processing:%d", j);
        q->cons[j].conn = conn_open(&q->loop, &o->target, name, 0, q_on_consumer_reply, q, j);
        if (!q->cons[j].conn)
            return false;
        q->cons[j].conn->expect_close = true; /* closed while blocked, at the end */
        snprintf(name, sizeof(name), "consumer %d (LREM)", j);
        if (o->reliable && !(q->cons[j].ack = conn_open(&q->loop, &o->target, name, 0, q_on_ack_reply, q, j)))
            return false;
    }
    for (int i = 0; i < o->producers; i++) {
        char name[32];
        snprintf(name, sizeof(name), "producer %d", i);
        q->prods[i].conn = conn_open(&q->loop, &o->target, name, 0, q_on_producer_reply, q, i);
        if (!q->prods[i].conn)
            return false;
    }
    return true;
}

/* Deletes the queue and processing lists; with left != NULL, first adds
 * their lengths into *left (the queue) and *in_processing. Returns false
 * with err filled on error. */
static bool q_cleanup(const struct queue *q, uint64_t *left, uint64_t *in_processing, char *err,
                      size_t errlen)
{
    redisContext *ctx = admin_connect(&q->o->target, err, errlen);
    if (!ctx)
        return false;
    bool ok = true;
    for (int j = -1; j < q->o->consumers && ok; j++) {
        const char *key = j < 0 ? QUEUE_KEY : q->cons[j].proc;
        const char *llen[2] = {"LLEN", key}, *del[2] = {"DEL", key};
        redisReply *r = left ? admin_call(ctx, err, errlen, 2, llen) : NULL;
        if (r && r->type == REDIS_REPLY_INTEGER)
            *(j < 0 ? left : in_processing) += (uint64_t)r->integer;
        freeReplyObject(r);
        r = admin_call(ctx, err, errlen, 2, del);
        ok = r != NULL;
        freeReplyObject(r);
    }
    redisFree(ctx);
    return ok;
}

static void q_report(struct queue *q, struct bench_result *r, uint64_t left, uint64_t in_processing)
{
    const struct bench_opts *o = q->o;
    uint64_t sent = msg_ledger_sent(&q->ledger);
    uint64_t lost = sent - q->ledger.distinct;
    double prod_s = (double)(q->last_ack_ns - q->start_ns) / 1e9;
    double cons_s = (double)(q->last_consume_ns - q->start_ns) / 1e9;
    snprintf(r->params, sizeof(r->params), "%d producers, %d consumers (%s), pipeline %d, %zu-byte payloads",
             o->producers, o->consumers, o->reliable ? "BLMOVE + LREM" : "BRPOP", o->pipeline, o->size);
    result_note_rate(r, o);
    r->elapsed = cons_s > prod_s ? cons_s : prod_s;
    r->ops = q->consumed;
    result_add(r, "throughput", "consumed/s", cons_s > 0 ? (double)q->consumed / cons_s : 0);
    result_add(r, "produced_per_sec", "produced/s", prod_s > 0 ? (double)q->acked / prod_s : 0);
    result_add_count(r, "produced", "produced", q->acked);
    result_add_count(r, "consumed", "consumed", q->consumed);
    result_add_count(r, "lost", "lost", lost);
    result_add_count(r, "duplicated", "duplicated", q->ledger.duplicated);
    result_add_count(r, "foreign", "unparseable or unknown", q->ledger.foreign);
    result_add_count(r, "left_in_queue", "left in queue", left);
    if (o->reliable) {
        result_add_count(r, "left_in_processing", "left in processing lists", in_processing);
        result_add_count(r, "lrem_misses", "LREM that removed nothing", q->lrem_misses);
    }
    if (lost || q->ledger.duplicated || q->ledger.foreign || left || in_processing || q->lrem_misses)
        result_fail(r, BENCH_EXIT_INTEGRITY,
                    "queue: %llu lost, %llu duplicated, %llu unparseable, %llu left in queue, "
                    "%llu left in processing, %llu LREM misses",
                    (unsigned long long)lost, (unsigned long long)q->ledger.duplicated,
                    (unsigned long long)q->ledger.foreign, (unsigned long long)left,
                    (unsigned long long)in_processing, (unsigned long long)q->lrem_misses);
}

static void q_free(struct queue *q)
{
    for (int i = 0; q->prods && i < q->o->producers; i++)
        conn_free(q->prods[i].conn);
    for (int j = 0; q->cons && j < q->o->consumers; j++) {
        conn_free(q->cons[j].conn);
        conn_free(q->cons[j].ack);
    }
    free(q->prods);
    free(q->cons);
    free(q->payload);
    msg_ledger_free(&q->ledger);
    loop_free(&q->loop);
    free(q);
}

int wl_queue_run(const struct bench_opts *o, struct bench_result *r)
{
    struct queue *q = calloc(1, sizeof(*q));
    char err[512] = "";
    q->o = o;
    histogram_init(&q->hist);
    msg_ledger_init(&q->ledger, (uint32_t)o->producers);
    q->payload = malloc(o->size + MSG_HEADER_LEN);
    msg_format(q->payload, o->size, &(struct msg_header){0}, true);
    if (loop_init(&q->loop) != 0 || !q_open(q) || !q_cleanup(q, NULL, NULL, err, sizeof(err))) {
        result_fail(r, BENCH_EXIT_ERROR, "%s", q->loop.failed ? q->loop.error : err);
        q_free(q);
        return r->status;
    }
    q->start_ns = q->last_report_ns = q->last_ack_ns = q->last_consume_ns = now_ns();
    for (int i = 0; i < o->producers && o->rate > 0; i++)
        pacer_init(&q->prods[i].pacer, q->start_ns, o->rate / o->producers);
    for (int j = 0; j < o->consumers; j++)
        q_pop(q, j);
    for (int i = 0; i < o->producers; i++)
        q_produce(q, i);
    if (loop_run(&q->loop, bench_tick_us(o, 100000), q_tick, q) != 0)
        result_fail(r, BENCH_EXIT_ERROR, "%s", q->loop.error);
    for (int j = 0; j < o->consumers; j++)
        conn_close(q->cons[j].conn); /* release their blocked pops first */
    uint64_t left = 0, in_processing = 0;
    if (!q_cleanup(q, &left, &in_processing, err, sizeof(err)))
        result_fail(r, BENCH_EXIT_ERROR, "cleanup: %s", err);
    q_report(q, r, left, in_processing);
    r->latency = malloc(sizeof(*r->latency));
    *r->latency = q->hist;
    q_free(q);
    return r->status;
}
