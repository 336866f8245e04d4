/* wl_pubsub: P publishers PUBLISH round-robin over C channels; S subscribers,
 * subscriber j on channel j % C (SUBSCRIBE, or PSUBSCRIBE to a pattern that
 * matches only that channel). Publisher i's k-th message goes to channel
 * k % C, so a subscriber expects from each publisher exactly the sequence
 * numbers c, c+C, c+2C… in order: a gap is a loss, a step back a duplicate.
 * Publishers keep `pipeline` PUBLISHes in flight and pause while more than
 * a window of deliveries is outstanding, so slow subscribers measure as
 * latency rather than being disconnected for output-buffer overrun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "message.h"

#define PS_WINDOW_PER_SUB 256

enum ps_phase { PS_SUBSCRIBING, PS_RUNNING, PS_DRAINING };

struct ps_pub {
    struct bench_conn *conn;
    uint64_t sent, acked;
    unsigned inflight;
    struct bench_pacer pacer; /* --rate */
};

struct ps_sub {
    struct bench_conn *conn;
    int channel;
    uint64_t *next; /* next[i]: next sequence number due from publisher i */
    uint64_t received, duplicated;
};

struct pubsub {
    const struct bench_opts *o;
    struct bench_loop loop;
    struct ps_pub *pubs;
    struct ps_sub *subs;
    int *subs_on; /* subscribers per channel */
    char (*channel)[64];
    char (*pattern)[64];
    char *payload;
    enum ps_phase phase;
    int subscribed;
    bool window_blocked;
    uint64_t sent, acked, expected, delivered, receiver_mismatch, foreign;
    uint64_t setup_ns, start_ns, drain_ns, last_ack_ns, last_delivery_ns, last_report_ns;
    uint64_t last_acked, last_delivered;
    struct histogram hist;
};

static bool ps_budget_left(const struct pubsub *ps)
{
    return ps->phase == PS_RUNNING && (!ps->o->messages || ps->sent < ps->o->messages);
}

static bool ps_may_send(struct pubsub *ps)
{
    if (!ps_budget_left(ps))
        return false;
    uint64_t window = (uint64_t)PS_WINDOW_PER_SUB * (uint64_t)(ps->o->subscribers ? ps->o->subscribers : 1);
    if (ps->expected - ps->delivered >= window) {
        ps->window_blocked = true;
        return false;
    }
    return true;
}

static void ps_send(struct pubsub *ps, int i, uint64_t stamp_ns)
{
    struct ps_pub *p = &ps->pubs[i];
    int channel = (int)(p->sent % (uint64_t)ps->o->channels);
    struct msg_header h = {stamp_ns, (uint32_t)i, p->sent};
    size_t len = msg_format(ps->payload, ps->o->size, &h, false);
    const char *argv[3] = {"PUBLISH", ps->channel[channel], ps->payload};
    size_t lens[3] = {7, strlen(ps->channel[channel]), len};
    conn_command(p->conn, 3, argv, lens);
    p->sent++;
    p->inflight++;
    ps->sent++;
    ps->expected += (uint64_t)ps->subs_on[channel];
}

/* Closed loop: fills publisher i's pipeline, within the message budget and
 * the window. Open loop: sends what the clock says is due. */
static void ps_fill(struct pubsub *ps, int i)
{
    struct ps_pub *p = &ps->pubs[i];
    if (ps->o->rate > 0) {
        uint64_t due, now = now_ns();
        while (ps_budget_left(ps) && (due = pacer_due(&p->pacer, now)))
            ps_send(ps, i, due);
        return;
    }
    while (p->inflight < (unsigned)ps->o->pipeline && ps_may_send(ps))
        ps_send(ps, i, now_ns());
}

static void ps_fill_all(struct pubsub *ps)
{
    ps->window_blocked = false;
    for (int i = 0; i < ps->o->publishers; i++)
        ps_fill(ps, i);
}

static void ps_on_pub_reply(struct bench_conn *c, redisReply *reply)
{
    struct pubsub *ps = c->ud;
    struct ps_pub *p = &ps->pubs[c->index];
    if (conn_reply_bad(c, reply, REDIS_REPLY_INTEGER, "PUBLISH"))
        return;
    int channel = (int)(p->acked % (uint64_t)ps->o->channels);
    if (reply->integer != ps->subs_on[channel])
        ps->receiver_mismatch++;
    p->acked++;
    p->inflight--;
    ps->acked++;
    ps->last_ack_ns = now_ns();
    ps_fill(ps, c->index);
}

static void ps_start(struct pubsub *ps)
{
    ps->phase = PS_RUNNING;
    ps->start_ns = ps->last_report_ns = ps->last_ack_ns = ps->last_delivery_ns = now_ns();
    for (int i = 0; i < ps->o->publishers && ps->o->rate > 0; i++)
        pacer_init(&ps->pubs[i].pacer, ps->start_ns, ps->o->rate / ps->o->publishers);
    ps_fill_all(ps);
}

/* Checks one delivered payload against the subscriber's expectations. */
static void ps_deliver(struct pubsub *ps, struct ps_sub *s, const redisReply *payload)
{
    struct msg_header h;
    uint64_t now = now_ns();
    if (payload->type != REDIS_REPLY_STRING || !msg_parse(payload->str, payload->len, &h) ||
        h.source >= (uint32_t)ps->o->publishers || h.seq >= ps->pubs[h.source].sent ||
        h.seq % (uint64_t)ps->o->channels != (uint64_t)s->channel) {
        ps->foreign++; /* not ours, or delivered on the wrong channel */
        return;
    }
    histogram_record(&ps->hist, now - h.sent_ns);
    ps->delivered++;
    ps->last_delivery_ns = now;
    s->received++;
    uint64_t *next = &s->next[h.source];
    if (h.seq < *next)
        s->duplicated++;
    else
        *next = h.seq + (uint64_t)ps->o->channels;
    if (ps->window_blocked)
        ps_fill_all(ps);
}

static void ps_on_sub_reply(struct bench_conn *c, redisReply *reply)
{
    struct pubsub *ps = c->ud;
    struct ps_sub *s = &ps->subs[c->index];
    if (conn_reply_bad(c, reply, REDIS_REPLY_ARRAY, "SUBSCRIBE") || reply->elements < 3)
        return;
    const char *kind = reply->element[0]->type == REDIS_REPLY_STRING ? reply->element[0]->str : "";
    if (strcmp(kind, "message") == 0 || strcmp(kind, "pmessage") == 0) {
        ps_deliver(ps, s, reply->element[reply->elements - 1]);
        return;
    }
    if ((strcmp(kind, "subscribe") == 0 || strcmp(kind, "psubscribe") == 0) &&
        ++ps->subscribed == ps->o->subscribers)
        ps_start(ps);
}

/* Messages publisher `pub` sent that a subscriber of channel c should get
 * but did not: those below its sent count congruent to c, minus the ones
 * the subscriber's cursor has passed. */
static uint64_t ps_sub_lost(const struct pubsub *ps, const struct ps_sub *s, int pub)
{
    uint64_t C = (uint64_t)ps->o->channels, c = (uint64_t)s->channel, n = ps->pubs[pub].sent;
    uint64_t due = n > c ? (n - c - 1) / C + 1 : 0;
    uint64_t seen = (s->next[pub] - c) / C;
    return due > seen ? due - seen : 0;
}

static void ps_progress(struct pubsub *ps, uint64_t now)
{
    double dt = (double)(now - ps->last_report_ns) / 1e9;
    bench_progress(ps->o, "%.1fs  published %llu (%.0f/s)  delivered %llu (%.0f/s)",
                   (double)(now - ps->start_ns) / 1e9, (unsigned long long)ps->acked,
                   (double)(ps->acked - ps->last_acked) / dt, (unsigned long long)ps->delivered,
                   (double)(ps->delivered - ps->last_delivered) / dt);
    ps->last_report_ns = now;
    ps->last_acked = ps->acked;
    ps->last_delivered = ps->delivered;
}

static void ps_tick(struct bench_loop *l, void *ud)
{
    struct pubsub *ps = ud;
    uint64_t now = now_ns();
    if (ps->phase == PS_SUBSCRIBING) {
        if ((double)(now - ps->setup_ns) / 1e9 > 10)
            loop_fail(l, "subscribers: %d of %d subscriptions confirmed after 10 s", ps->subscribed,
                      ps->o->subscribers);
        return;
    }
    if (now - ps->last_report_ns >= 1000000000ull)
        ps_progress(ps, now);
    if (ps->o->rate > 0 && ps->phase == PS_RUNNING)
        ps_fill_all(ps);
    bool budget_done = ps->o->messages && ps->sent >= ps->o->messages;
    if (ps->phase == PS_RUNNING && (budget_done || bench_time_up(ps->o, ps->start_ns))) {
        ps->phase = PS_DRAINING;
        ps->drain_ns = now;
    }
    if (ps->phase != PS_DRAINING)
        return;
    bool settled = ps->acked == ps->sent && ps->delivered >= ps->expected;
    if (settled || (double)(now - ps->drain_ns) / 1e9 > ps->o->drain_seconds)
        l->stop = true;
}

/* Names channel c and the pattern that matches it alone. */
static void ps_names(struct pubsub *ps)
{
    int n = ps->o->channels;
    ps->channel = calloc((size_t)n, sizeof(*ps->channel));
    ps->pattern = calloc((size_t)n, sizeof(*ps->pattern));
    ps->subs_on = calloc((size_t)n, sizeof(*ps->subs_on));
    for (int c = 0; c < n; c++) {
        snprintf(ps->channel[c], sizeof(ps->channel[c]), "runnel-bench:%d:chan", c);
        snprintf(ps->pattern[c], sizeof(ps->pattern[c]), "runnel-bench:%d:*", c);
    }
}

static bool ps_open_subs(struct pubsub *ps)
{
    const struct bench_opts *o = ps->o;
    ps->subs = calloc((size_t)o->subscribers + 1, sizeof(*ps->subs));
    for (int j = 0; j < o->subscribers; j++) {
        struct ps_sub *s = &ps->subs[j];
        char name[32];
        snprintf(name, sizeof(name), "subscriber %d", j);
        s->channel = j % o->channels;
        s->next = calloc((size_t)o->publishers, sizeof(uint64_t));
        for (int i = 0; i < o->publishers; i++)
            s->next[i] = (uint64_t)s->channel;
        ps->subs_on[s->channel]++;
        s->conn = conn_open(&ps->loop, &o->target, name, 0, ps_on_sub_reply, ps, j);
        if (!s->conn)
            return false;
        const char *target = o->patterns ? ps->pattern[s->channel] : ps->channel[s->channel];
        const char *argv[2] = {o->patterns ? "PSUBSCRIBE" : "SUBSCRIBE", target};
        size_t lens[2] = {strlen(argv[0]), strlen(target)};
        conn_command(s->conn, 2, argv, lens);
    }
    return true;
}

static bool ps_open_pubs(struct pubsub *ps)
{
    ps->pubs = calloc((size_t)ps->o->publishers, sizeof(*ps->pubs));
    for (int i = 0; i < ps->o->publishers; i++) {
        char name[32];
        snprintf(name, sizeof(name), "publisher %d", i);
        ps->pubs[i].conn = conn_open(&ps->loop, &ps->o->target, name, 0, ps_on_pub_reply, ps, i);
        if (!ps->pubs[i].conn)
            return false;
    }
    return true;
}

static void ps_report(struct pubsub *ps, struct bench_result *r)
{
    const struct bench_opts *o = ps->o;
    uint64_t lost = 0, duplicated = 0;
    for (int j = 0; j < o->subscribers; j++) {
        duplicated += ps->subs[j].duplicated;
        for (int i = 0; i < o->publishers; i++)
            lost += ps_sub_lost(ps, &ps->subs[j], i);
    }
    double pub_s = (double)(ps->last_ack_ns - ps->start_ns) / 1e9;
    double del_s = (double)(ps->last_delivery_ns - ps->start_ns) / 1e9;
    snprintf(r->params, sizeof(r->params),
             "%d publishers, %d subscribers, %d %s, pipeline %d, %zu-byte payloads", o->publishers,
             o->subscribers, o->channels, o->patterns ? "patterns" : "channels", o->pipeline, o->size);
    result_note_rate(r, o);
    r->elapsed = del_s > pub_s ? del_s : pub_s;
    r->ops = ps->acked;
    result_add(r, "throughput", "delivered/s", del_s > 0 ? (double)ps->delivered / del_s : 0);
    result_add(r, "published_per_sec", "published/s", pub_s > 0 ? (double)ps->acked / pub_s : 0);
    result_add_count(r, "published", "published", ps->acked);
    result_add_count(r, "delivered", "delivered", ps->delivered);
    result_add_count(r, "expected", "deliveries expected", ps->expected);
    result_add_count(r, "lost", "lost", lost);
    result_add_count(r, "duplicated", "duplicated", duplicated);
    result_add_count(r, "receiver_mismatch", "PUBLISH receiver-count mismatches", ps->receiver_mismatch);
    result_add_count(r, "foreign", "unparseable deliveries", ps->foreign);
    if (lost || duplicated || ps->receiver_mismatch || ps->foreign)
        result_fail(r, BENCH_EXIT_INTEGRITY,
                    "pubsub: %llu lost, %llu duplicated, %llu receiver-count mismatches, %llu unparseable",
                    (unsigned long long)lost, (unsigned long long)duplicated,
                    (unsigned long long)ps->receiver_mismatch, (unsigned long long)ps->foreign);
}

static void ps_free(struct pubsub *ps)
{
    for (int i = 0; ps->pubs && i < ps->o->publishers; i++)
        conn_free(ps->pubs[i].conn);
    for (int j = 0; ps->subs && j < ps->o->subscribers; j++) {
        conn_free(ps->subs[j].conn);
        free(ps->subs[j].next);
    }
    free(ps->pubs);
    free(ps->subs);
    free(ps->subs_on);
    free(ps->channel);
    free(ps->pattern);
    free(ps->payload);
    loop_free(&ps->loop);
    free(ps);
}

int wl_pubsub_run(const struct bench_opts *o, struct bench_result *r)
{
    struct pubsub *ps = calloc(1, sizeof(*ps));
    ps->o = o;
    ps->setup_ns = now_ns();
    histogram_init(&ps->hist);
    ps->payload = malloc(o->size + MSG_HEADER_LEN);
    msg_format(ps->payload, o->size, &(struct msg_header){0}, true);
    ps_names(ps);
    if (loop_init(&ps->loop) != 0 || !ps_open_subs(ps) || !ps_open_pubs(ps)) {
        result_fail(r, BENCH_EXIT_ERROR, "%s", ps->loop.error);
        ps_free(ps);
        return r->status;
    }
    if (o->subscribers == 0)
        ps_start(ps);
    int rc = loop_run(&ps->loop, bench_tick_us(o, 100000), ps_tick, ps);
    if (rc != 0)
        result_fail(r, BENCH_EXIT_ERROR, "%s", ps->loop.error);
    if (ps->phase != PS_SUBSCRIBING)
        ps_report(ps, r);
    r->latency = malloc(sizeof(*r->latency));
    *r->latency = ps->hist;
    ps_free(ps);
    return r->status;
}
