/* client: epoll loop, non-blocking RESP connections, admin helpers. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define MAX_EVENTS 256

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (!p) {
        fprintf(stderr, "runnel-bench: out of memory\n");
        abort();
    }
    return p;
}

int loop_init(struct bench_loop *l)
{
    memset(l, 0, sizeof(*l));
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    return l->epfd < 0 ? -1 : 0;
}

void loop_free(struct bench_loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->dirty);
    l->epfd = -1;
    l->dirty = NULL;
}

void loop_fail(struct bench_loop *l, const char *fmt, ...)
{
    l->stop = true;
    if (l->failed)
        return;
    l->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->error, sizeof(l->error), fmt, ap);
    va_end(ap);
}

/* Re-arms the connection's epoll interest from its reading/want_write flags. */
static void conn_update_events(struct bench_conn *c)
{
    struct epoll_event ev = {0};
    ev.events = (c->reading ? EPOLLIN : 0) | (c->want_write ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void conn_close(struct bench_conn *c)
{
    if (c->fd < 0)
        return;
    epoll_ctl(c->loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->out_len = c->out_off = 0;
}

void conn_free(struct bench_conn *c)
{
    if (!c)
        return;
    conn_close(c);
    if (c->reader)
        redisReaderFree(c->reader);
    free(c->out);
    free(c);
}

/* A connection that died unexpectedly fails the loop; one we closed on
 * purpose (expect_close) just goes quiet. */
static void conn_lost(struct bench_conn *c, const char *why)
{
    if (!c->expect_close)
        loop_fail(c->loop, "%s: connection lost: %s", c->name, why);
    conn_close(c);
}

/* Writes as much queued output as the socket takes; arms EPOLLOUT when it
 * is full and disarms it once everything is out. */
static void conn_flush(struct bench_conn *c)
{
    while (c->fd >= 0 && c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
            if (!c->want_write) {
                c->want_write = true;
                conn_update_events(c);
            }
            return;
        }
        conn_lost(c, strerror(errno));
        return;
    }
    c->out_len = c->out_off = 0;
    if (c->fd >= 0 && c->want_write) {
        c->want_write = false;
        conn_update_events(c);
    }
}

static void loop_flush(struct bench_loop *l)
{
    for (size_t i = 0; i < l->n_dirty; i++) {
        struct bench_conn *c = l->dirty[i];
        c->dirty = false;
        if (!c->want_write)
            conn_flush(c);
    }
    l->n_dirty = 0;
}

/* Makes room for `extra` more output bytes; returns where they go. */
static char *conn_reserve(struct bench_conn *c, size_t extra)
{
    if (c->out_len + extra > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 16384;
        while (cap < c->out_len + extra)
            cap *= 2;
        c->out = xrealloc(c->out, cap);
        c->out_cap = cap;
    }
    return c->out + c->out_len;
}

/* Queues c on the loop's flush list, once. */
static void conn_mark_dirty(struct bench_conn *c)
{
    struct bench_loop *l = c->loop;
    if (c->dirty)
        return;
    if (l->n_dirty == l->cap_dirty) {
        l->cap_dirty = l->cap_dirty ? l->cap_dirty * 2 : 64;
        l->dirty = xrealloc(l->dirty, l->cap_dirty * sizeof(*l->dirty));
    }
    l->dirty[l->n_dirty++] = c;
    c->dirty = true;
}

void conn_write_raw(struct bench_conn *c, const void *data, size_t len)
{
    if (c->fd < 0)
        return;
    memcpy(conn_reserve(c, len), data, len);
    c->out_len += len;
    conn_mark_dirty(c);
}

/* Writes "<prefix><n>\r\n" at p and returns the end. */
static char *put_header(char *p, char prefix, size_t n)
{
    char digits[24];
    int k = 0;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    *p++ = prefix;
    while (k)
        *p++ = digits[--k];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* Appends a RESP array command to the output buffer without queueing it. */
static void conn_append_command(struct bench_conn *c, int argc, const char *const *argv, const size_t *lens)
{
    size_t need = 24;
    for (int i = 0; i < argc; i++)
        need += lens[i] + 26;
    char *start = conn_reserve(c, need), *p = start;
    p = put_header(p, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        p = put_header(p, '$', lens[i]);
        memcpy(p, argv[i], lens[i]);
        p += lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    c->out_len += (size_t)(p - start);
}

void conn_command(struct bench_conn *c, int argc, const char *const *argv, const size_t *lens)
{
    if (c->fd < 0)
        return;
    conn_append_command(c, argc, argv, lens);
    conn_mark_dirty(c);
}

void conn_stop_reading(struct bench_conn *c)
{
    if (c->fd < 0 || !c->reading)
        return;
    c->reading = false;
    conn_update_events(c);
}

bool conn_reply_bad(struct bench_conn *c, const redisReply *reply, int want, const char *cmd)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        loop_fail(c->loop, "%s: %s: %s", c->name, cmd, reply->str);
        return true;
    }
    if (want >= 0 && reply->type != want) {
        loop_fail(c->loop, "%s: %s: unexpected reply type %d", c->name, cmd, reply->type);
        return true;
    }
    return false;
}

/* Hands every complete reply in the reader to the callback. */
static void conn_dispatch(struct bench_conn *c)
{
    void *reply = NULL;
    for (;;) {
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            loop_fail(c->loop, "%s: protocol error: %s", c->name, c->reader->errstr);
            conn_close(c);
            return;
        }
        if (!reply)
            return;
        c->on_reply(c, reply);
        freeReplyObject(reply);
        if (c->loop->failed || c->fd < 0)
            return;
    }
}

static void conn_on_readable(struct bench_conn *c)
{
    char buf[READ_CHUNK];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n > 0) {
        redisReaderFeed(c->reader, buf, (size_t)n);
        conn_dispatch(c);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    conn_lost(c, n == 0 ? "closed by server" : strerror(errno));
}

static void loop_handle(struct epoll_event *ev)
{
    struct bench_conn *c = ev->data.ptr;
    if (c->fd >= 0 && c->reading && (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        conn_on_readable(c);
    if (c->fd >= 0 && (ev->events & EPOLLOUT))
        conn_flush(c);
    if (c->fd >= 0 && !c->reading && (ev->events & (EPOLLERR | EPOLLHUP)))
        conn_lost(c, "hang-up");
}

/* epoll_pwait2 takes a nanosecond timeout: paced senders tick every
 * 100 us, which epoll_wait's milliseconds cannot express. */
int loop_run(struct bench_loop *l, int tick_us, loop_tick_fn tick, void *ud)
{
    struct epoll_event events[MAX_EVENTS];
    uint64_t period = (uint64_t)tick_us * 1000ull;
    uint64_t next_tick = now_ns() + period;
    while (!l->stop) {
        loop_flush(l);
        uint64_t now = now_ns();
        uint64_t wait = now >= next_tick ? 0 : next_tick - now;
        struct timespec timeout = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
        int n = epoll_pwait2(l->epfd, events, MAX_EVENTS, &timeout, NULL);
        if (n < 0 && errno != EINTR) {
            loop_fail(l, "epoll_pwait2: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n && !l->failed; i++)
            loop_handle(&events[i]);
        if (now_ns() >= next_tick && !l->stop) {
            next_tick += period;
            if (tick)
                tick(l, ud);
        }
    }
    loop_flush(l);
    return l->failed ? -1 : 0;
}

/* Connects a blocking TCP socket to the target; -1 with err filled. */
static int tcp_connect(const struct bench_target *t, int rcvbuf, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port[16];
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", t->port);
    int rc = getaddrinfo(t->host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", t->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (rcvbuf > 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        snprintf(err, errlen, "connect %s:%d: %s", t->host, t->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* Sends AUTH on a blocking connection and waits for +OK. */
static int conn_auth(struct bench_conn *c, const char *password, char *err, size_t errlen)
{
    const char *argv[2] = {"AUTH", password};
    size_t lens[2] = {4, strlen(password)};
    conn_append_command(c, 2, argv, lens);
    if (write(c->fd, c->out, c->out_len) != (ssize_t)c->out_len) {
        snprintf(err, errlen, "AUTH: write failed");
        return -1;
    }
    c->out_len = 0;
    void *reply = NULL;
    char buf[4096];
    while (!reply) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n <= 0 || redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK ||
            redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            snprintf(err, errlen, "AUTH: connection lost");
            return -1;
        }
    }
    redisReply *r = reply;
    int ok = r->type == REDIS_REPLY_STATUS;
    if (!ok)
        snprintf(err, errlen, "AUTH: %s", r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
    freeReplyObject(reply);
    return ok ? 0 : -1;
}

struct bench_conn *conn_open(struct bench_loop *l, const struct bench_target *t, const char *name, int rcvbuf,
                             conn_reply_fn on_reply, void *ud, int index)
{
    char err[256] = "connect failed";
    int fd = tcp_connect(t, rcvbuf, err, sizeof(err));
    if (fd < 0) {
        loop_fail(l, "%s: %s", name, err);
        return NULL;
    }
    struct bench_conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->loop = l;
    c->fd = fd;
    c->reader = redisReaderCreate();
    c->on_reply = on_reply;
    c->ud = ud;
    c->index = index;
    c->reading = true;
    snprintf(c->name, sizeof(c->name), "%s", name);
    if (t->password && conn_auth(c, t->password, err, sizeof(err)) != 0) {
        loop_fail(l, "%s: %s", name, err);
        conn_free(c);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
    return c;
}

redisContext *admin_connect(const struct bench_target *t, char *err, size_t errlen)
{
    struct timeval tv = {5, 0};
    redisContext *ctx = redisConnectWithTimeout(t->host, t->port, tv);
    if (!ctx || ctx->err) {
        snprintf(err, errlen, "connect %s:%d: %s", t->host, t->port, ctx ? ctx->errstr : "out of memory");
        redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, (struct timeval){30, 0});
    if (t->password) {
        const char *argv[2] = {"AUTH", t->password};
        redisReply *r = admin_call(ctx, err, errlen, 2, argv);
        if (!r) {
            redisFree(ctx);
            return NULL;
        }
        freeReplyObject(r);
    }
    return ctx;
}

redisReply *admin_call(redisContext *ctx, char *err, size_t errlen, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
    if (!r) {
        snprintf(err, errlen, "%s: %s", argv[0], ctx->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%s: %s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

long long admin_info_field(redisContext *ctx, const char *section, const char *field, char *err,
                           size_t errlen)
{
    const char *argv[2] = {"INFO", section};
    redisReply *r = admin_call(ctx, err, errlen, 2, argv);
    if (!r)
        return -1;
    long long value = -1;
    size_t flen = strlen(field);
    for (const char *p = r->type == REDIS_REPLY_STRING ? r->str : ""; *p;) {
        if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
            value = strtoll(p + flen + 1, NULL, 10);
            break;
        }
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    if (value < 0)
        snprintf(err, errlen, "INFO %s: no field %s", section, field);
    freeReplyObject(r);
    return value;
}
