/* wl_memory: how much server memory a message costs. Three parts, each
 * after FLUSHALL: N payloads RPUSHed onto one list, N XADDed to one stream,
 * and N PUBLISHed to a channel whose S subscribers subscribed and then never
 * read (their sockets stay open with a tiny receive buffer). Each part
 * reports the INFO used_memory delta divided by N. Before the pub/sub
 * baseline, a warm-up fills the kernel's socket buffers towards the stuck
 * subscribers (up to tcp_wmem's maximum each), so that every measured
 * message has to stay in the server's own output buffers.
 * Destroys the server's data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "message.h"

#define MEM_BATCH      1000
#define MEM_CHANNEL    "runnel-bench:memory:chan"
#define STUCK_RCVBUF   4096
#define WARMUP_PAYLOAD 16384
#define WARMUP_MARGIN  (2 << 20)

struct memory {
    const struct bench_opts *o;
    redisContext *ctx;
    char err[512];
    char *payload;
    struct bench_loop loop;
    struct bench_conn **subs;
    int subscribed;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Explains in m->err why reply r to cmd was not the one expected. */
static void mem_describe(struct memory *m, const char *cmd, const redisReply *r, long long want_int)
{
    if (r->type == REDIS_REPLY_ERROR)
        snprintf(m->err, sizeof(m->err), "%s: %s", cmd, r->str);
    else if (r->type == REDIS_REPLY_INTEGER)
        snprintf(m->err, sizeof(m->err), "%s: reply %lld, expected %lld%s", cmd, r->integer, want_int,
                 strcmp(cmd, "PUBLISH") == 0 ? " (subscribers disconnected by an output-buffer limit?)" : "");
    else
        snprintf(m->err, sizeof(m->err), "%s: unexpected reply type %d", cmd, r->type);
}

static bool mem_flushall(struct memory *m)
{
    const char *argv[1] = {"FLUSHALL"};
    redisReply *r = admin_call(m->ctx, m->err, sizeof(m->err), 1, argv);
    freeReplyObject(r);
    return r != NULL;
}

/* Reads one batch of n replies, all of them even after a bad one so the
 * connection stays in step; each must be of type want, and integers must
 * equal want_int when it is >= 0. False with m->err set by the first bad one. */
static bool mem_read_batch(struct memory *m, const char *cmd, int n, int want, long long want_int)
{
    bool all_ok = true;
    for (int i = 0; i < n; i++) {
        void *p = NULL;
        if (redisGetReply(m->ctx, &p) != REDIS_OK) {
            snprintf(m->err, sizeof(m->err), "%s: %s", cmd, m->ctx->errstr);
            return false;
        }
        redisReply *r = p;
        bool ok = r->type == want && (want != REDIS_REPLY_INTEGER || want_int < 0 || r->integer == want_int);
        if (!ok && all_ok)
            mem_describe(m, cmd, r, want_int);
        all_ok = all_ok && ok;
        freeReplyObject(r);
    }
    return all_ok;
}

/* Sends N commands "<cmd> <key> [extra] <payload>" in pipelined batches. */
static bool mem_load(struct memory *m, const char *cmd, const char *key, const char *extra, int want,
                     long long want_int)
{
    uint64_t n = m->o->messages;
    for (uint64_t sent = 0; sent < n;) {
        int batch = n - sent < MEM_BATCH ? (int)(n - sent) : MEM_BATCH;
        for (int i = 0; i < batch; i++, sent++) {
            struct msg_header h = {now_ns(), 0, sent};
            size_t len = msg_format(m->payload, m->o->size, &h, false);
            const char *argv[5] = {cmd, key, extra ? extra : m->payload, "d", m->payload};
            size_t lens[5] = {strlen(cmd), strlen(key), extra ? strlen(extra) : len, 1, len};
            redisAppendCommandArgv(m->ctx, extra ? 5 : 3, argv, lens);
        }
        if (!mem_read_batch(m, cmd, batch, want, want_int))
            return false;
    }
    return true;
}

/* Sets *per_msg to used_memory after minus before a load, per message;
 * false with m->err filled on error. */
static bool mem_measure(struct memory *m, const char *cmd, const char *key, const char *extra, int want,
                        long long want_int, long settle_ms, double *per_msg)
{
    long long before = admin_info_field(m->ctx, "memory", "used_memory", m->err, sizeof(m->err));
    if (before < 0 || !mem_load(m, cmd, key, extra, want, want_int))
        return false;
    sleep_ms(settle_ms);
    long long after = admin_info_field(m->ctx, "memory", "used_memory", m->err, sizeof(m->err));
    if (after < 0)
        return false;
    *per_msg = (double)(after - before) / (double)m->o->messages;
    return true;
}

/* The kernel's per-socket send-buffer ceiling (tcp_wmem's third field). */
static long long tcp_wmem_max(void)
{
    long long lo, def, max = 4 << 20;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f && fscanf(f, "%lld %lld %lld", &lo, &def, &max) != 3)
        max = 4 << 20;
    if (f)
        fclose(f);
    return max;
}

/* Publishes enough large messages to fill every stuck subscriber's socket
 * buffers, then lets the server settle; returns the bytes sent to each. */
static long long mem_warm_up(struct memory *m)
{
    long long total = tcp_wmem_max() + STUCK_RCVBUF * 2 + WARMUP_MARGIN;
    int count = (int)(total / WARMUP_PAYLOAD) + 1;
    char *big = malloc(WARMUP_PAYLOAD);
    memset(big, 'w', WARMUP_PAYLOAD);
    const char *argv[3] = {"PUBLISH", MEM_CHANNEL, big};
    size_t lens[3] = {7, sizeof(MEM_CHANNEL) - 1, WARMUP_PAYLOAD};
    for (int i = 0; i < count; i++)
        redisAppendCommandArgv(m->ctx, 3, argv, lens);
    bool ok = mem_read_batch(m, "PUBLISH", count, REDIS_REPLY_INTEGER, m->o->subscribers);
    free(big);
    sleep_ms(200);
    return ok ? (long long)count * WARMUP_PAYLOAD : -1;
}

static void mem_on_sub_reply(struct bench_conn *c, redisReply *reply)
{
    struct memory *m = c->ud;
    if (conn_reply_bad(c, reply, REDIS_REPLY_ARRAY, "SUBSCRIBE"))
        return;
    conn_stop_reading(c); /* from now on the server's output piles up */
    if (++m->subscribed == m->o->subscribers)
        c->loop->stop = true;
}

/* The wait's only tick, 10 s in: whoever has not confirmed by then fails it. */
static void mem_sub_tick(struct bench_loop *l, void *ud)
{
    struct memory *m = ud;
    loop_fail(l, "stuck subscribers: %d of %d subscriptions confirmed after 10 s", m->subscribed,
              m->o->subscribers);
}

/* Opens S subscribers on MEM_CHANNEL and waits for every confirmation. */
static bool mem_open_stuck(struct memory *m)
{
    if (loop_init(&m->loop) != 0)
        return false;
    m->subs = calloc((size_t)m->o->subscribers + 1, sizeof(*m->subs));
    for (int j = 0; j < m->o->subscribers; j++) {
        char name[32];
        snprintf(name, sizeof(name), "stuck subscriber %d", j);
        m->subs[j] = conn_open(&m->loop, &m->o->target, name, STUCK_RCVBUF, mem_on_sub_reply, m, j);
        if (!m->subs[j])
            break;
        const char *argv[2] = {"SUBSCRIBE", MEM_CHANNEL};
        size_t lens[2] = {9, sizeof(MEM_CHANNEL) - 1};
        conn_command(m->subs[j], 2, argv, lens);
    }
    if (!m->loop.failed && m->o->subscribers > 0)
        loop_run(&m->loop, 10000000, mem_sub_tick, m);
    if (m->loop.failed)
        snprintf(m->err, sizeof(m->err), "%s", m->loop.error);
    return !m->loop.failed;
}

static void mem_close_stuck(struct memory *m)
{
    for (int j = 0; m->subs && j < m->o->subscribers; j++)
        conn_free(m->subs[j]);
    free(m->subs);
    m->subs = NULL;
    loop_free(&m->loop);
}

static bool mem_part_list(struct memory *m, struct bench_result *r)
{
    double v;
    bench_progress(m->o, "list: RPUSH %llu x %zu bytes", (unsigned long long)m->o->messages, m->o->size);
    if (!mem_flushall(m) ||
        !mem_measure(m, "RPUSH", "runnel-bench:memory:list", NULL, REDIS_REPLY_INTEGER, -1, 0, &v))
        return false;
    result_add(r, "list_bytes_per_msg", "list: bytes/message", v);
    return true;
}

static bool mem_part_stream(struct memory *m, struct bench_result *r)
{
    double v;
    bench_progress(m->o, "stream: XADD %llu x %zu bytes", (unsigned long long)m->o->messages, m->o->size);
    if (!mem_flushall(m) ||
        !mem_measure(m, "XADD", "runnel-bench:memory:stream", "*", REDIS_REPLY_STRING, -1, 0, &v))
        return false;
    result_add(r, "stream_bytes_per_msg", "stream: bytes/message", v);
    return true;
}

static bool mem_part_pubsub(struct memory *m, struct bench_result *r)
{
    const struct bench_opts *o = m->o;
    double v;
    bench_progress(o, "pubsub: PUBLISH %llu x %zu bytes to %d stuck subscribers",
                   (unsigned long long)o->messages, o->size, o->subscribers);
    if (!mem_flushall(m) || !mem_open_stuck(m))
        return false;
    long long warm = mem_warm_up(m);
    if (warm < 0 ||
        !mem_measure(m, "PUBLISH", MEM_CHANNEL, NULL, REDIS_REPLY_INTEGER, o->subscribers, 300, &v))
        return false;
    result_add(r, "pubsub_bytes_per_msg", "pubsub: bytes/message (all subscribers)", v);
    result_add(r, "pubsub_bytes_per_delivery", "pubsub: bytes/message/subscriber",
               o->subscribers ? v / o->subscribers : 0);
    result_add_count(r, "pubsub_warmup_bytes", "pubsub: warm-up bytes per subscriber", (uint64_t)warm);
    return true;
}

int wl_memory_run(const struct bench_opts *o, struct bench_result *r)
{
    struct memory m = {.o = o};
    m.loop.epfd = -1;
    uint64_t start = now_ns();
    snprintf(r->params, sizeof(r->params), "%llu messages of %zu bytes, %d stuck subscribers",
             (unsigned long long)o->messages, o->size, o->subscribers);
    m.payload = malloc(o->size + MSG_HEADER_LEN);
    msg_format(m.payload, o->size, &(struct msg_header){0}, true);
    m.ctx = admin_connect(&o->target, m.err, sizeof(m.err));
    if (!m.ctx)
        result_fail(r, BENCH_EXIT_ERROR, "memory: %s", m.err);
    /* The parts are independent: one the server fails leaves the others' figures. */
    bool (*parts[3])(struct memory *, struct bench_result *) = {mem_part_list, mem_part_stream,
                                                                mem_part_pubsub};
    for (int i = 0; m.ctx && i < 3; i++) {
        if (!parts[i](&m, r))
            result_fail(r, BENCH_EXIT_ERROR, "memory: %s", m.err);
        if (m.ctx->err) /* the connection is gone: the rest would fail the same way */
            break;
    }
    mem_close_stuck(&m);
    if (m.ctx && !mem_flushall(&m))
        result_fail(r, BENCH_EXIT_ERROR, "memory: %s", m.err);
    redisFree(m.ctx);
    free(m.payload);
    r->ops = o->messages;
    r->elapsed = (double)(now_ns() - start) / 1e9;
    return r->status;
}
