/* http_server: see http_server.h. */
#include "http/http_server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/oplog.h"
#include "http/api.h"
#include "http/api_console.h"
#include "http/console.h"
#include "http/console_exec.h"
#include "http/console_history.h"
#include "http/http_auth.h"
#include "http/http_request.h"
#include "http/metrics.h"
#include "server/acl.h"
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
    /* an action's answer waits until the log is durable this far */
    unsigned long long durable_upto;
    struct event_timer *hold_timer;
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
    if (c->hold_timer) event_timer_cancel(http.loop, c->hold_timer);
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

/* Headers of the console's pages: its own files only, never framed. */
static const char console_headers[] =
    "Cache-Control: no-cache\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'\r\n";

static void conn_respond_json(struct http_conn *c, int status, const char *reason, str body, bool head)
{
    conn_respond(c, status, reason, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n", "application/json",
                 body, str_len(body), head);
    str_free(body);
}

/* POST /api/action/...: the console's guard, then the action. */
static void conn_route_action(struct http_conn *c, const struct http_request *r)
{
    if (!method_is(r, "POST")) {
        conn_respond_text(c, 405, "Method Not Allowed", "Allow: POST\r\n");
        return;
    }
    const char *refusal = console_action_refusal(r);
    if (refusal) {
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "error", json_object_new_string(refusal));
        conn_respond_json(c, 403, "Forbidden", api_json_text(doc), false);
        return;
    }
    int status;
    str body = api_console_action(r->path, r->path_len, r->query, r->query_len, &status);
    c->durable_upto = oplog_logged_total();
    if (!body) {
        conn_respond_text(c, 404, "Not Found", "");
        return;
    }
    conn_respond_json(c, status, status == 200 ? "OK" : "Bad Request", body, false);
}

/* Answers one parsed request. */
static void conn_route(struct http_conn *c, const struct http_request *r)
{
    bool head = method_is(r, "HEAD");
    if (!http_auth_check(r->authorization, r->authorization_len, acl_default_user_open(), acl_credentials_ok)) {
        conn_respond_text(c, 401, "Unauthorized", "WWW-Authenticate: Basic realm=\"runnel\", charset=\"UTF-8\"\r\n");
        return;
    }
    static const char action_prefix[] = "/api/action/";
    if (r->path_len >= sizeof(action_prefix) - 1 && memcmp(r->path, action_prefix, sizeof(action_prefix) - 1) == 0) {
        conn_route_action(c, r);
        return;
    }
    if (!head && !method_is(r, "GET")) {
        conn_respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
        return;
    }
    if (path_is(r, "/metrics")) {
        str body = metrics_render();
        conn_respond(c, 200, "OK", "", "text/plain; version=0.0.4; charset=utf-8", body, str_len(body), head);
        str_free(body);
        return;
    }
    bool session = path_is(r, "/api/session");
    const char *type;
    const unsigned char *data;
    size_t len;
    bool asset = !session && console_asset_find(r->path, r->path_len, &type, &data, &len);
    if ((session || asset) && !console_host_allowed(r)) {
        conn_respond_text(c, 403, "Forbidden", "");
        return;
    }
    if (asset) {
        conn_respond(c, 200, "OK", console_headers, type, (const char *)data, len, head);
        return;
    }
    str body = session ? console_session_render() : api_render(r->path, r->path_len);
    if (!body) body = api_console_render(r->path, r->path_len, r->query, r->query_len);
    if (body) {
        conn_respond_json(c, 200, "OK", body, head);
        return;
    }
    conn_respond_text(c, 404, "Not Found", "");
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

static void conn_process(struct http_conn *c);
static void conn_on_hold(struct event_loop *loop, void *data);

/* An action's answer waits until what it wrote is durable, as a client's
 * reply does (with appendfsync always: until the fsync at the end of this
 * loop iteration). True while it waits: reading stops, and a 1 ms timer
 * looks again; http-timeout closes a connection held that long. */
static bool conn_hold(struct http_conn *c)
{
    if (c->durable_upto <= oplog_durable_total) return false;
    event_loop_unwatch(http.loop, c->fd, EV_READ);
    if (!c->hold_timer) c->hold_timer = event_timer_at(http.loop, event_now_ms() + 1, conn_on_hold, c);
    return true;
}

static void conn_on_hold(struct event_loop *loop, void *data)
{
    (void)loop;
    struct http_conn *c = data;
    c->hold_timer = NULL;
    if (conn_hold(c)) return;
    if (conn_write(c)) conn_process(c);
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
        if (conn_hold(c) || !conn_write(c)) return;
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
    console_init();
    console_history_start(loop);
    log_notice("HTTP endpoint: console at http://%s:%d/, Prometheus metrics at http://%s:%d/metrics", cfg.http_bind,
               cfg.http_port, cfg.http_bind, cfg.http_port);
    return 0;
}

void http_server_stop(void)
{
    while (http.conns) conn_close(http.conns);
    console_history_stop();
    console_exec_shutdown();
    if (http.listen_fd < 0) return;
    event_loop_unwatch(http.loop, http.listen_fd, EV_READ);
    close(http.listen_fd);
    http.listen_fd = -1;
}
