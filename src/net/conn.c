/* conn: what every connection type shares, and the plain TCP type. */
#include "net/conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn_uring.h"
#include "net/event_loop.h"
#include "net/tls.h"
#include "util/mem.h"

/* ---- shared by the types ---- */

void net_conn_enter(struct net_conn *c)
{
    c->in_handler++;
}

bool net_conn_leave(struct net_conn *c)
{
    if (--c->in_handler > 0 || !c->closing) return true;
    c->type->free(c);
    return false;
}

int net_conn_watch_mask(struct net_conn *c, int mask, void (*cb)(struct event_loop *, int, void *, int))
{
    if (c->fd < 0) return 0;
    int now = event_loop_mask(c->loop, c->fd);
    if (now & ~mask) event_loop_unwatch(c->loop, c->fd, now & ~mask);
    if ((mask & ~now) && event_loop_watch(c->loop, c->fd, mask & ~now, cb, c) < 0) return -1;
    return 0;
}

int net_conn_set_read_handler(struct net_conn *c, net_conn_fn *fn)
{
    c->on_read = fn;
    return c->type->update_events(c);
}

int net_conn_set_write_handler(struct net_conn *c, net_conn_fn *fn)
{
    c->on_write = fn;
    return c->type->update_events(c);
}

ssize_t net_conn_write(struct net_conn *c, const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    return c->type->writev(c, &iov, 1);
}

bool net_conn_flushed(struct net_conn *c)
{
    return net_tls_conn_flushed(c) && net_conn_unsent(c) == 0;
}

void net_conn_accept(struct net_conn *c, net_conn_fn *on_open)
{
    c->on_open = on_open;
    c->type->accept(c);
}

int net_conn_connect(struct net_conn *c, const char *host, int port, net_conn_fn *on_open)
{
    c->on_open = on_open;
    return c->type->connect(c, host, port);
}

void net_conn_close(struct net_conn *c)
{
    if (c->in_handler > 0) {
        c->closing = true;
        c->on_read = c->on_write = c->on_open = NULL;
        if (c->fd >= 0) event_loop_unwatch(c->loop, c->fd, EV_READ | EV_WRITE);
        return;
    }
    c->type->free(c);
}

bool net_conn_is_tls(const struct net_conn *c)
{
    return strcmp(c->type->name, "tls") == 0;
}

/* Waits until the socket shows one of `events` (POLLIN/POLLOUT): false on
 * timeout. */
static bool wait_socket(const struct net_conn *c, short events, long long timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    for (;;) {
        int n = poll(&pfd, 1, (int)timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        return n == 1;
    }
}

int net_conn_connect_wait(struct net_conn *c, const char *host, int port, long long timeout_ms)
{
    if (net_conn_connect(c, host, port, NULL) < 0) return -1;
    long long deadline = event_now_ms() + timeout_ms;
    while (c->state == NET_CONN_CONNECTING || c->state == NET_CONN_HANDSHAKE) {
        int mask = event_loop_mask(c->loop, c->fd);
        long long left = deadline - event_now_ms();
        struct pollfd pfd = {.fd = c->fd, .events = (short)((mask & EV_READ ? POLLIN : 0) | (mask & EV_WRITE ? POLLOUT : 0))};
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            c->error = "connection timed out";
            return -1;
        }
        int fired = 0;
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) fired |= EV_READ;
        if (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) fired |= EV_WRITE;
        event_loop_run_handler(c->loop, c->fd, fired);
    }
    return c->state == NET_CONN_OPEN ? 0 : -1;
}

bool net_conn_send_wait(struct net_conn *c, const void *buf, size_t len, long long timeout_ms)
{
    size_t done = 0;
    for (;;) {
        ssize_t n;
        if (done < len) n = net_conn_write(c, (const char *)buf + done, len - done);
        else if ((n = c->type->writev(c, NULL, 0)) == 0) return true;
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || errno != EAGAIN) return false;
        if (!wait_socket(c, POLLOUT, timeout_ms)) return false;
    }
}

ssize_t net_conn_receive_wait(struct net_conn *c, void *buf, size_t len, long long timeout_ms)
{
    for (;;) {
        ssize_t n = net_conn_read(c, buf, len);
        if (n > 0) return n;
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) return -1;
        if (errno == EAGAIN && !wait_socket(c, POLLIN, timeout_ms)) return -1;
    }
}

void net_conn_process_pending(void)
{
    net_tls_process_pending();
    net_uring_conn_process_pending();
}

int net_tcp_start_connect(struct net_conn *c, const char *host, int port)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    if (getaddrinfo(host, portstr, &hints, &res) != 0) {
        c->error = "can't resolve the address";
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    int saved = errno;
    freeaddrinfo(res);
    if (fd < 0 || (rc < 0 && saved != EINPROGRESS)) {
        c->error = strerror(saved);
        if (fd >= 0) close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = NET_CONN_CONNECTING;
    return 0;
}

int net_tcp_finish_connect(struct net_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == 0) return 0;
    c->error = strerror(err);
    return -1;
}

/* ---- plain TCP ---- */

static void tcp_on_event(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop, (void)fd;
    struct net_conn *c = data;
    net_conn_enter(c);
    if (c->state == NET_CONN_CONNECTING) {
        c->state = net_tcp_finish_connect(c) == 0 ? NET_CONN_OPEN : NET_CONN_FAILED;
        c->type->update_events(c);
        if (c->on_open) c->on_open(c);
    } else {
        if ((mask & EV_WRITE) && c->on_write) c->on_write(c);
        if ((mask & EV_READ) && c->on_read && !c->closing) c->on_read(c);
    }
    net_conn_leave(c);
}

static int tcp_update_events(struct net_conn *c)
{
    int mask = 0;
    if (c->state == NET_CONN_CONNECTING) mask = EV_WRITE;
    else if (c->state == NET_CONN_OPEN) mask = (c->on_read ? EV_READ : 0) | (c->on_write ? EV_WRITE : 0);
    return net_conn_watch_mask(c, mask, tcp_on_event);
}

static void tcp_accept(struct net_conn *c)
{
    c->state = NET_CONN_OPEN;
    net_conn_enter(c);
    if (c->on_open) c->on_open(c);
    net_conn_leave(c);
}

static int tcp_connect(struct net_conn *c, const char *host, int port)
{
    if (net_tcp_start_connect(c, host, port) < 0) return -1;
    if (tcp_update_events(c) == 0) return 0;
    c->error = "too many open descriptors";
    return -1;
}

static ssize_t tcp_read(struct net_conn *c, void *buf, size_t len)
{
    return read(c->fd, buf, len);
}

static ssize_t tcp_writev(struct net_conn *c, const struct iovec *iov, int iovcnt)
{
    return writev(c->fd, iov, iovcnt);
}

static void tcp_free(struct net_conn *c)
{
    if (c->fd >= 0) {
        if (c->loop) event_loop_unwatch(c->loop, c->fd, EV_READ | EV_WRITE);
        close(c->fd);
    }
    mem_free(c);
}

static const struct net_conn_type tcp_type = {
    .name = "tcp",
    .accept = tcp_accept,
    .connect = tcp_connect,
    .read = tcp_read,
    .writev = tcp_writev,
    .update_events = tcp_update_events,
    .free = tcp_free,
};

struct net_conn *net_conn_create(struct event_loop *loop, int fd, bool tls)
{
    if (tls) return net_tls_conn_create(loop, fd);
    /* accepted sockets go through the ring; outgoing ones connect by readiness */
    if (fd >= 0 && loop && event_loop_uses_uring(loop)) return net_uring_conn_create(loop, fd);
    struct net_conn *c = mem_calloc(sizeof(*c));
    c->type = &tcp_type;
    c->loop = loop;
    c->fd = fd;
    return c;
}
