/* wl_echo: the `ping` workload (C connections, each keeping `pipeline` PINGs
 * in flight) and `echo-limit`, which drives the same client against an
 * in-process responder that only reads, parses and answers +PONG: the
 * ceiling any RESP server can reach with this client on this machine. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static const char ping_cmd[] = "*1\r\n$4\r\nPING\r\n";
static const char pong_reply[] = "+PONG\r\n";

struct ping_conn {
    struct bench_conn *conn;
    uint64_t *sent_at; /* ring of send times, one per request in flight */
    unsigned head, inflight;
};

struct ping_run {
    const struct bench_opts *o;
    struct bench_loop loop;
    struct ping_conn *conns;
    struct histogram hist;
    uint64_t sent, done, start_ns, end_ns, last_report_ns, last_done;
    bool stopping;
};

/* Sends PINGs on pc until its pipeline is full or the request budget is spent. */
static void ping_fill(struct ping_run *pr, struct ping_conn *pc)
{
    unsigned depth = (unsigned)pr->o->pipeline;
    uint64_t now = now_ns();
    while (!pr->stopping && pc->inflight < depth && (!pr->o->messages || pr->sent < pr->o->messages)) {
        pc->sent_at[(pc->head + pc->inflight) % depth] = now;
        pc->inflight++;
        pr->sent++;
        conn_write_raw(pc->conn, ping_cmd, sizeof(ping_cmd) - 1);
    }
}

static void ping_on_reply(struct bench_conn *c, redisReply *reply)
{
    struct ping_run *pr = c->ud;
    struct ping_conn *pc = &pr->conns[c->index];
    if (conn_reply_bad(c, reply, REDIS_REPLY_STATUS, "PING"))
        return;
    uint64_t now = now_ns();
    histogram_record(&pr->hist, now - pc->sent_at[pc->head]);
    pc->head = (pc->head + 1) % (unsigned)pr->o->pipeline;
    pc->inflight--;
    pr->done++;
    pr->end_ns = now;
    if (pr->o->messages && pr->done == pr->o->messages)
        pr->loop.stop = true;
    ping_fill(pr, pc);
}

static void ping_tick(struct bench_loop *l, void *ud)
{
    struct ping_run *pr = ud;
    uint64_t now = now_ns();
    if (now - pr->last_report_ns >= 1000000000ull) {
        double dt = (double)(now - pr->last_report_ns) / 1e9;
        bench_progress(pr->o, "%.1fs  %llu requests  %.0f/s", (double)(now - pr->start_ns) / 1e9,
                       (unsigned long long)pr->done, (double)(pr->done - pr->last_done) / dt);
        pr->last_report_ns = now;
        pr->last_done = pr->done;
    }
    if (bench_time_up(pr->o, pr->start_ns) && !pr->stopping) {
        pr->stopping = true;
        pr->end_ns = now;
    }
    if (pr->stopping && pr->sent == pr->done)
        l->stop = true;
}

/* Opens the connections; false (loop failed) if any cannot connect. */
static bool ping_open(struct ping_run *pr, const struct bench_target *t)
{
    int n = pr->o->connections;
    pr->conns = calloc((size_t)n, sizeof(*pr->conns));
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "connection %d", i);
        pr->conns[i].sent_at = calloc((size_t)pr->o->pipeline, sizeof(uint64_t));
        pr->conns[i].conn = conn_open(&pr->loop, t, name, 0, ping_on_reply, pr, i);
        if (!pr->conns[i].conn)
            return false;
    }
    return true;
}

static void ping_close(struct ping_run *pr)
{
    for (int i = 0; pr->conns && i < pr->o->connections; i++) {
        conn_free(pr->conns[i].conn);
        free(pr->conns[i].sent_at);
    }
    free(pr->conns);
    loop_free(&pr->loop);
}

static void ping_report(struct ping_run *pr, struct bench_result *r)
{
    double elapsed = (double)(pr->end_ns - pr->start_ns) / 1e9;
    r->elapsed = elapsed;
    r->ops = pr->done;
    snprintf(r->params, sizeof(r->params), "%d connections, pipeline %d, PING", pr->o->connections,
             pr->o->pipeline);
    result_add(r, "throughput", "requests/s", elapsed > 0 ? (double)pr->done / elapsed : 0);
    result_add_count(r, "requests", "requests", pr->done);
}

/* Runs the PING load against t, filling r. */
static int ping_drive(const struct bench_opts *o, const struct bench_target *t, struct bench_result *r)
{
    struct ping_run *pr = calloc(1, sizeof(*pr));
    pr->o = o;
    histogram_init(&pr->hist);
    if (loop_init(&pr->loop) != 0 || !ping_open(pr, t)) {
        result_fail(r, BENCH_EXIT_ERROR, "%s", pr->loop.failed ? pr->loop.error : "epoll_create failed");
    } else {
        pr->start_ns = pr->last_report_ns = now_ns();
        for (int i = 0; i < o->connections; i++)
            ping_fill(pr, &pr->conns[i]);
        if (loop_run(&pr->loop, 50000, ping_tick, pr) != 0)
            result_fail(r, BENCH_EXIT_ERROR, "%s", pr->loop.error);
        ping_report(pr, r);
        r->latency = malloc(sizeof(*r->latency));
        *r->latency = pr->hist;
    }
    ping_close(pr);
    free(pr);
    return r->status;
}

int wl_ping_run(const struct bench_opts *o, struct bench_result *r)
{
    return ping_drive(o, &o->target, r);
}

/* ---- the in-process responder ---- */

struct echo_client {
    struct echo_client *prev, *next; /* the server's list, for shutdown */
    int fd;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
};

struct echo_server {
    int listen_fd, epfd, port;
    pthread_t thread;
    atomic_bool stop;
    struct echo_client *clients;
};

/* Length of the "\r\n"-terminated line at p, including the terminator, or
 * 0 if it is incomplete. */
static size_t echo_line(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    return nl ? (size_t)(nl - p) + 1 : 0;
}

/* Bytes taken by the one complete command at p: a RESP array of bulk
 * strings or an inline line. 0: incomplete; -1: malformed. */
static long echo_parse_one(const char *p, size_t n)
{
    size_t line = echo_line(p, n);
    if (!line)
        return 0;
    if (p[0] != '*')
        return (long)line;
    long argc = strtol(p + 1, NULL, 10), used = (long)line;
    for (long i = 0; i < argc; i++) {
        size_t hdr = echo_line(p + used, n - (size_t)used);
        if (!hdr)
            return 0;
        if (p[used] != '$')
            return -1;
        long len = strtol(p + used + 1, NULL, 10);
        if (len < 0 || len > (1L << 29))
            return -1;
        used += (long)hdr + len + 2;
        if ((size_t)used > n)
            return 0;
    }
    return used;
}

static void echo_close(struct echo_server *s, struct echo_client *ec)
{
    if (ec->prev)
        ec->prev->next = ec->next;
    else
        s->clients = ec->next;
    if (ec->next)
        ec->next->prev = ec->prev;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, ec->fd, NULL);
    close(ec->fd);
    free(ec->in);
    free(ec->out);
    free(ec);
}

/* Writes pending replies; arms EPOLLOUT while the socket is full. Returns
 * false if the client went away. */
static bool echo_flush(struct echo_server *s, struct echo_client *ec)
{
    while (ec->out_off < ec->out_len) {
        ssize_t n = write(ec->fd, ec->out + ec->out_off, ec->out_len - ec->out_off);
        if (n > 0) {
            ec->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = ec};
            epoll_ctl(s->epfd, EPOLL_CTL_MOD, ec->fd, &ev);
            return true;
        }
        return false;
    }
    ec->out_len = ec->out_off = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ec};
    epoll_ctl(s->epfd, EPOLL_CTL_MOD, ec->fd, &ev);
    return true;
}

/* Answers every complete command in the input buffer with +PONG. */
static bool echo_process(struct echo_client *ec)
{
    size_t off = 0;
    for (;;) {
        long used = echo_parse_one(ec->in + off, ec->in_len - off);
        if (used < 0)
            return false;
        if (used == 0)
            break;
        off += (size_t)used;
        if (ec->out_len + sizeof(pong_reply) > ec->out_cap) {
            ec->out_cap = ec->out_cap ? ec->out_cap * 2 : 4096;
            ec->out = realloc(ec->out, ec->out_cap);
        }
        memcpy(ec->out + ec->out_len, pong_reply, sizeof(pong_reply) - 1);
        ec->out_len += sizeof(pong_reply) - 1;
    }
    memmove(ec->in, ec->in + off, ec->in_len - off);
    ec->in_len -= off;
    return true;
}

static void echo_on_readable(struct echo_server *s, struct echo_client *ec)
{
    if (ec->in_cap - ec->in_len < 16384) {
        ec->in_cap = ec->in_cap ? ec->in_cap * 2 : 32768;
        ec->in = realloc(ec->in, ec->in_cap);
    }
    ssize_t n = read(ec->fd, ec->in + ec->in_len, ec->in_cap - ec->in_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        echo_close(s, ec);
        return;
    }
    ec->in_len += (size_t)n;
    if (!echo_process(ec) || !echo_flush(s, ec))
        echo_close(s, ec);
}

static void echo_accept(struct echo_server *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct echo_client *ec = calloc(1, sizeof(*ec));
    ec->fd = fd;
    ec->next = s->clients;
    if (s->clients)
        s->clients->prev = ec;
    s->clients = ec;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ec};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void *echo_thread(void *arg)
{
    struct echo_server *s = arg;
    struct epoll_event events[128];
    while (!atomic_load(&s->stop)) {
        int n = epoll_wait(s->epfd, events, 128, 100);
        for (int i = 0; i < n; i++) {
            struct echo_client *ec = events[i].data.ptr;
            if (!ec)
                echo_accept(s);
            else if (events[i].events & EPOLLOUT) {
                if (!echo_flush(s, ec))
                    echo_close(s, ec);
            } else
                echo_on_readable(s, ec);
        }
    }
    return NULL;
}

/* Binds a loopback listener on a free port and starts the responder thread. */
static int echo_start(struct echo_server *s)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(s->listen_fd, 512) != 0 || getsockname(s->listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    s->port = ntohs(addr.sin_port);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev);
    atomic_init(&s->stop, false);
    return pthread_create(&s->thread, NULL, echo_thread, s) == 0 ? 0 : -1;
}

static void echo_stop(struct echo_server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    while (s->clients)
        echo_close(s, s->clients);
    close(s->listen_fd);
    close(s->epfd);
}

int wl_echo_run(const struct bench_opts *o, struct bench_result *r)
{
    struct echo_server s = {0};
    if (echo_start(&s) != 0) {
        result_fail(r, BENCH_EXIT_ERROR, "cannot start the in-process responder: %s", strerror(errno));
        return r->status;
    }
    struct bench_target t = {.host = "127.0.0.1", .port = s.port, .password = NULL};
    int rc = ping_drive(o, &t, r);
    echo_stop(&s);
    return rc;
}
