/* http_server: see http_server.h. */
#include "http/http_server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/api.h"
#include "http/http_auth.h"
#include "http/http_request.h"
#include "http/metrics.h"
#include "server/config.h"
#include "server/connection.h"
#include "net/event_loop.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct http_conn {
    int fd;
    size_t in_len;
    str out;         /* the response being written, NULL when none */
    size_t out_sent;
    bool close_after; /* close once out is written */
    struct event_timer *timer;
    struct http_conn *prev, *next;
    char in[HTTP_MAX_REQUEST];
};

static struct {
    struct event_loop *loop;
    int listen_fd;
    struct http_conn *conns;
    int conn_count;
} http = {.listen_fd = -1};

static const struct http_limits limits = {HTTP_MAX_REQUEST, HTTP_MAX_HEADERS};

static void conn_on_io(struct event_loop *loop, int fd, void *data, int mask);

static void conn_close(struct http_conn *c)
{
    event_loop_unwatch(http.loop, c->fd, EV_READ | EV_WRITE);
    close(c->fd);
    if (c->timer) event_timer_cancel(http.loop, c->timer);
    if (c->prev) c->prev->next = c->next;
    else http.conns = c->next;
    if (c->next) c->next->prev = c->prev;
    str_free(c->out);
    mem_free(c);
    http.conn_count--;
}

/* A connection that took too long over a request, or idled, is closed. */
static void conn_on_timeout(struct event_loop *loop, void *data)
{
    (void)loop;
    struct http_conn *c = data;
    c->timer = NULL;
    conn_close(c);
}

static void conn_arm_timer(struct http_conn *c)
{
    if (c->timer) event_timer_cancel(http.loop, c->timer);
    c->timer = event_timer_at(http.loop, event_now_ms() + (long long)cfg.http_timeout * 1000, conn_on_timeout, c);
}

/* Queues a whole response; the body is left out for HEAD. */
static void conn_respond(struct http_conn *c, int status, const char *reason, const char *extra_headers,
                         const char *type, const char *body, size_t body_len, bool head_only)
{
    c->out = str_append_printf(str_empty(256 + (head_only ? 0 : body_len)),
                               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: %s\r\n\r\n",
                               status, reason, type, body_len, extra_headers,
                               c->close_after ? "close" : "keep-alive");
    if (!head_only) c->out = str_append(c->out, body, body_len);
    c->out_sent = 0;
}

static void conn_respond_text(struct http_conn *c, int status, const char *reason, const char *extra_headers)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);
    conn_respond(c, status, reason, extra_headers, "text/plain; charset=utf-8", body, (size_t)n, false);
}

static bool path_is(const struct http_request *r, const char *path)
{
    return r->path_len == strlen(path) && memcmp(r->path, path, r->path_len) == 0;
}

static bool method_is(const struct http_request *r, const char *m)
{
    return r->method_len == strlen(m) && memcmp(r->method, m, r->method_len) == 0;
}

/* Answers one parsed request. */
static void conn_route(struct http_conn *c, const struct http_request *r)
{
    bool head = method_is(r, "HEAD");
    if (!http_auth_check(r->authorization, r->authorization_len, cfg.requirepass)) {
        conn_respond_text(c, 401, "Unauthorized", "WWW-Authenticate: Basic realm=\"runnel\", charset=\"UTF-8\"\r\n");
        return;
    }
    if (!head && !method_is(r, "GET")) {
        conn_respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
        return;
    }
    bool metrics = path_is(r, "/metrics");
    str body = metrics ? metrics_render() : api_render(r->path, r->path_len);
    if (!body) {
        conn_respond_text(c, 404, "Not Found", "");
        return;
    }
    const char *type = metrics ? "text/plain; version=0.0.4; charset=utf-8" : "application/json";
    conn_respond(c, 200, "OK", "", type, body, str_len(body), head);
    str_free(body);
}

/* Writes what it can of the response; false if the connection was closed. */
static bool conn_write(struct http_conn *c)
{
    while (c->out_sent < str_len(c->out)) {
        ssize_t n = send(c->fd, c->out + c->out_sent, str_len(c->out) - c->out_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_loop_unwatch(http.loop, c->fd, EV_READ);
            event_loop_watch(http.loop, c->fd, EV_WRITE, conn_on_io, c);
            return true;
        }
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->out_sent += (size_t)n;
    }
    str_free(c->out);
    c->out = NULL;
    if (c->close_after) {
        shutdown(c->fd, SHUT_WR);
        conn_close(c);
        return false;
    }
    event_loop_unwatch(http.loop, c->fd, EV_WRITE);
    event_loop_watch(http.loop, c->fd, EV_READ, conn_on_io, c);
    return true;
}

/* Answers the requests complete in the input, one at a time (a pipelined
 * one waits until the answer before it is written). */
static void conn_process(struct http_conn *c)
{
    while (!c->out) {
        struct http_request r;
        enum http_parse_result res = http_request_parse(c->in, c->in_len, &limits, &r);
        if (res == HTTP_PARSE_MORE) return;
        if (res != HTTP_PARSE_DONE) {
            const char *reason;
            int status = http_parse_status(res, &reason);
            c->close_after = true;
            conn_respond_text(c, status, reason, "");
        } else {
            c->close_after = !r.keep_alive;
            conn_route(c, &r);
            memmove(c->in, c->in + r.head_len, c->in_len - r.head_len);
            c->in_len -= r.head_len;
            conn_arm_timer(c);
        }
        if (!conn_write(c)) return;
    }
}

/* Reads what the socket has; false if the connection was closed. */
static bool conn_read(struct http_conn *c)
{
    while (c->in_len < sizeof(c->in)) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->in_len += (size_t)n;
    }
    return true;
}

static void conn_on_io(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop;
    (void)fd;
    struct http_conn *c = data;
    if (mask & EV_WRITE) {
        if (!conn_write(c)) return;
    }
    if ((mask & EV_READ) && !c->out && !conn_read(c)) return;
    conn_process(c);
}

/* Refuses a connection over the limit with a 503 it may or may not read. */
static void refuse(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ssize_t ignored = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    close(fd);
}

static void listener_on_readable(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)data;
    (void)mask;
    for (int i = 0; i < 64; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) return;
        if (http.conn_count >= HTTP_MAX_CONNECTIONS) {
            refuse(cfd);
            continue;
        }
        struct http_conn *c = mem_calloc(sizeof(*c));
        c->fd = cfd;
        c->next = http.conns;
        if (http.conns) http.conns->prev = c;
        http.conns = c;
        http.conn_count++;
        conn_arm_timer(c);
        event_loop_watch(loop, cfd, EV_READ, conn_on_io, c);
    }
}

int http_server_start(struct event_loop *loop)
{
    if (cfg.http_port == 0) return 0;
    http.loop = loop;
    http.listen_fd = listener_bind(cfg.http_bind, cfg.http_port);
    if (http.listen_fd < 0) {
        log_warning("Could not listen for HTTP on %s:%d: %s", cfg.http_bind, cfg.http_port, strerror(errno));
        return -1;
    }
    event_loop_watch(loop, http.listen_fd, EV_READ, listener_on_readable, NULL);
    log_notice("HTTP endpoint: Prometheus metrics at http://%s:%d/metrics", cfg.http_bind, cfg.http_port);
    return 0;
}

void http_server_stop(void)
{
    while (http.conns) conn_close(http.conns);
    if (http.listen_fd < 0) return;
    event_loop_unwatch(http.loop, http.listen_fd, EV_READ);
    close(http.listen_fd);
    http.listen_fd = -1;
}
