/* http_server: see http_server.h. */
#include "http/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/oplog.h"
#include "http/api.h"
#include "http/api_access.h"
#include "http/api_console.h"
#include "http/console.h"
#include "http/console_exec.h"
#include "http/console_history.h"
#include "http/http_auth.h"
#include "http/http_request.h"
#include "http/http_session.h"
#include "http/list_rates.h"
#include "http/metrics.h"
#include "server/acl.h"
#include "server/config.h"
#include "server/connection.h"
#include "net/conn.h"
#include "net/event_loop.h"
#include "net/tls.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/str.h"

struct http_conn {
    struct net_conn *conn; /* plain TCP, or TLS with http-tls */
    size_t in_len;
    str out;         /* the response being written, NULL when none */
    size_t out_sent;
    bool close_after; /* close once out is written */
    struct event_timer *timer;
    /* an action's answer waits until the log is durable this far */
    unsigned long long durable_upto;
    struct event_timer *hold_timer;
    struct http_conn *prev, *next;
    char peer[64]; /* "ip:port", for CLIENT LIST and ACL LOG entries of the console's client */
    char in[HTTP_MAX_REQUEST + HTTP_MAX_BODY];
};

static struct {
    struct event_loop *loop;
    int listen_fd;
    struct http_conn *conns;
    int conn_count;
    bool tls; /* the listener speaks TLS (http-tls): session cookies are Secure */
} http = {.listen_fd = -1};

static const struct http_limits limits = {HTTP_MAX_REQUEST, HTTP_MAX_HEADERS, HTTP_MAX_BODY};

static void conn_on_readable(struct net_conn *conn);
static void conn_on_writable(struct net_conn *conn);

static void conn_close(struct http_conn *c)
{
    c->conn->data = NULL;
    net_conn_close(c->conn);
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

/* 403 with {"error": why}. */
static void conn_respond_forbidden(struct http_conn *c, const char *why)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "error", json_object_new_string(why));
    conn_respond_json(c, 403, "Forbidden", api_json_text(doc), false);
}

/* Who a request is, once authenticated: the user, and the login session
 * when a cookie named one (its CSRF token then guards the actions). */
struct requester {
    struct acl_user *user;
    struct http_session *session;
    const char *login; /* "session", "basic" or "open" */
};

/* POST /api/action/...: the console's guard, then the action. */
static void conn_route_action(struct http_conn *c, const struct http_request *r, const struct requester *who)
{
    if (!method_is(r, "POST")) {
        conn_respond_text(c, 405, "Method Not Allowed", "Allow: POST\r\n");
        return;
    }
    const char *refusal = console_action_refusal(r, who->session ? http_session_csrf(who->session) : NULL);
    if (refusal) {
        conn_respond_forbidden(c, refusal);
        return;
    }
    int status;
    str body = api_console_action(r->path, r->path_len, r->query, r->query_len, &status);
    c->durable_upto = oplog_logged_total();
    if (!body) {
        conn_respond_text(c, 404, "Not Found", "");
        return;
    }
    const char *reason = status == 200 ? "OK" : status == 403 ? "Forbidden" : status == 404 ? "Not Found" : "Bad Request";
    conn_respond_json(c, status, reason, body, false);
}

static void *verify_user(const char *user, size_t ulen, const char *pass, size_t plen)
{
    return acl_credentials_user(user, ulen, pass, plen);
}

/* Who the request is: the login session its cookie names, else the user
 * its Authorization header names, else the default user when it needs no
 * password; false: 401. */
static bool conn_requester(const struct http_request *r, struct requester *who)
{
    who->session = http_session_find(r->cookie, r->cookie_len, &who->user);
    if (who->session) {
        who->login = "session";
        return true;
    }
    who->user = http_auth_user(r->authorization, r->authorization_len, verify_user);
    who->login = "basic";
    if (!who->user && acl_default_user_open()) {
        who->user = acl_default_user_get();
        who->login = "open";
    }
    return who->user != NULL;
}

static const char cookie_attributes[] = "; Path=/; HttpOnly; SameSite=Strict";

/* POST /api/login from the console's form: "user=<name>&password=<pw>"
 * (application/x-www-form-urlencoded), from the console's own origin only
 * (a page elsewhere cannot log a browser in). A wrong pair is 401 and an
 * ACL LOG entry as a failed AUTH; a right one opens a session and sets its
 * cookie. */
static void conn_route_login(struct http_conn *c, const struct http_request *r)
{
    if (!console_host_allowed(r) || !console_same_origin(r)) {
        conn_respond_forbidden(c, "cross-origin login refused: Origin must match Host");
        return;
    }
    static const char form[] = "application/x-www-form-urlencoded";
    if (!r->content_type || r->content_type_len < sizeof(form) - 1 ||
        strncasecmp(r->content_type, form, sizeof(form) - 1) != 0) {
        conn_respond_text(c, 415, "Unsupported Media Type", "");
        return;
    }
    str user = r->body ? http_query_param(r->body, r->body_len, "user") : NULL;
    str pass = r->body ? http_query_param(r->body, r->body_len, "password") : NULL;
    const char *name = user && str_len(user) ? user : "default";
    struct acl_user *u = console_exec_login(name, strlen(name), pass ? pass : "", pass ? str_len(pass) : 0);
    str_free(user);
    str_free(pass);
    json_object *doc = json_object_new_object();
    if (!u) {
        json_object_object_add(doc, "error", json_object_new_string("wrong user name or password"));
        conn_respond_json(c, 401, "Unauthorized", api_json_text(doc), false);
        return;
    }
    struct http_session *s = http_session_open(u);
    if (!s) {
        json_object_object_add(doc, "error", json_object_new_string("no random bytes for a session id"));
        conn_respond_json(c, 503, "Service Unavailable", api_json_text(doc), false);
        return;
    }
    char headers[256];
    snprintf(headers, sizeof(headers), "Set-Cookie: %s=%s%s%s\r\nCache-Control: no-store\r\n", HTTP_SESSION_COOKIE,
             http_session_id(s), cookie_attributes, http.tls ? "; Secure" : "");
    json_object_object_add(doc, "user", json_object_new_string(acl_user_name(u)));
    json_object_object_add(doc, "csrf_token", json_object_new_string(http_session_csrf(s)));
    str body = api_json_text(doc);
    conn_respond(c, 200, "OK", headers, "application/json", body, str_len(body), false);
    str_free(body);
}

/* POST /api/logout: ends the cookie's session, if any, and clears the cookie. */
static void conn_route_logout(struct http_conn *c, const struct http_request *r)
{
    if (!console_host_allowed(r) || !console_same_origin(r)) {
        conn_respond_forbidden(c, "cross-origin logout refused: Origin must match Host");
        return;
    }
    struct acl_user *ignored;
    struct http_session *s = http_session_find(r->cookie, r->cookie_len, &ignored);
    if (s) http_session_close(s);
    char headers[160];
    snprintf(headers, sizeof(headers), "Set-Cookie: %s=%s; Max-Age=0\r\nCache-Control: no-store\r\n",
             HTTP_SESSION_COOKIE, cookie_attributes);
    static const char body[] = "{\"logged_out\":true}\n";
    conn_respond(c, 200, "OK", headers, "application/json", body, sizeof(body) - 1, false);
}

static void conn_route_as(struct http_conn *c, const struct http_request *r, const struct requester *who);

/* Answers one parsed request. The console's files need no login (they
 * hold no data); everything else is answered as the user the request
 * authenticated as: the console's client acts as that user meanwhile. A
 * request without credentials gets 401 with a Basic challenge, except from
 * the console's scripts (X-Requested-With), which show their login form
 * instead of the browser's dialog. */
static void conn_route(struct http_conn *c, const struct http_request *r)
{
    bool head = method_is(r, "HEAD"), get = head || method_is(r, "GET");
    const char *type;
    const unsigned char *data;
    size_t len;
    if (get && console_asset_find(r->path, r->path_len, &type, &data, &len)) {
        if (!console_host_allowed(r)) conn_respond_text(c, 403, "Forbidden", "");
        else conn_respond(c, 200, "OK", console_headers, type, (const char *)data, len, head);
        return;
    }
    if (r->body && !path_is(r, "/api/login")) {
        c->close_after = true;
        conn_respond_text(c, 413, "Content Too Large", "");
        return;
    }
    console_exec_as(NULL, c->peer);
    struct requester who;
    if (path_is(r, "/api/login") || path_is(r, "/api/logout")) {
        if (!method_is(r, "POST")) conn_respond_text(c, 405, "Method Not Allowed", "Allow: POST\r\n");
        else if (path_is(r, "/api/login")) conn_route_login(c, r);
        else conn_route_logout(c, r);
    } else if (!conn_requester(r, &who)) {
        if (r->from_script) {
            static const char body[] = "{\"error\":\"login required\"}\n";
            conn_respond(c, 401, "Unauthorized", "Cache-Control: no-store\r\n", "application/json", body,
                         sizeof(body) - 1, head);
        } else {
            conn_respond_text(c, 401, "Unauthorized",
                              "WWW-Authenticate: Basic realm=\"runnel\", charset=\"UTF-8\"\r\n");
        }
    } else {
        console_exec_as(who.user, c->peer);
        conn_route_as(c, r, &who);
    }
    console_exec_as(NULL, NULL);
}

static void conn_route_as(struct http_conn *c, const struct http_request *r, const struct requester *who)
{
    bool head = method_is(r, "HEAD");
    static const char action_prefix[] = "/api/action/";
    if (r->path_len >= sizeof(action_prefix) - 1 && memcmp(r->path, action_prefix, sizeof(action_prefix) - 1) == 0) {
        conn_route_action(c, r, who);
        return;
    }
    if (!head && !method_is(r, "GET")) {
        conn_respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
        return;
    }
    char buf[256];
    const char *refusal = api_access_refusal(r->path, r->path_len, r->query, r->query_len, buf, sizeof(buf));
    if (refusal) {
        conn_respond_forbidden(c, refusal);
        return;
    }
    if (path_is(r, "/metrics")) {
        str body = metrics_render();
        conn_respond(c, 200, "OK", "", "text/plain; version=0.0.4; charset=utf-8", body, str_len(body), head);
        str_free(body);
        return;
    }
    bool session = path_is(r, "/api/session");
    if (session && !console_host_allowed(r)) {
        conn_respond_text(c, 403, "Forbidden", "");
        return;
    }
    str body = session ? console_session_render(acl_user_name(who->user),
                                                who->session ? http_session_csrf(who->session) : NULL, who->login)
                       : api_render(r->path, r->path_len);
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
        ssize_t n = net_conn_write(c->conn, c->out + c->out_sent, str_len(c->out) - c->out_sent);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            net_conn_set_read_handler(c->conn, NULL);
            net_conn_set_write_handler(c->conn, conn_on_writable);
            return true;
        }
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->out_sent += (size_t)n;
    }
    if (c->close_after && !net_conn_flushed(c->conn)) {
        /* the answer's last TLS records, or sends, still wait for the socket */
        net_conn_set_read_handler(c->conn, NULL);
        net_conn_set_write_handler(c->conn, conn_on_writable);
        return true;
    }
    str_free(c->out);
    c->out = NULL;
    if (c->close_after) {
        /* FIN after the answer, so that a request still unread does not
         * turn the close into a reset that could lose the answer */
        shutdown(c->conn->fd, SHUT_WR);
        conn_close(c);
        return false;
    }
    net_conn_set_write_handler(c->conn, NULL);
    net_conn_set_read_handler(c->conn, conn_on_readable);
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
    net_conn_set_read_handler(c->conn, NULL);
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
            memmove(c->in, c->in + r.length, c->in_len - r.length);
            c->in_len -= r.length;
            conn_arm_timer(c);
        }
        if (conn_hold(c) || !conn_write(c)) return;
    }
}

/* Reads what the socket has; false if the connection was closed. */
static bool conn_read(struct http_conn *c)
{
    while (c->in_len < sizeof(c->in)) {
        ssize_t n = net_conn_read(c->conn, c->in + c->in_len, sizeof(c->in) - c->in_len);
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

static void conn_on_readable(struct net_conn *conn)
{
    struct http_conn *c = conn->data;
    if (!c || c->out || !conn_read(c)) return;
    conn_process(c);
}

static void conn_on_writable(struct net_conn *conn)
{
    struct http_conn *c = conn->data;
    if (c && conn_write(c)) conn_process(c);
}

/* The connection is open (at once for TCP, after the handshake for TLS). */
static void conn_on_open(struct net_conn *conn)
{
    struct http_conn *c = conn->data;
    if (!c) return;
    if (conn->state == NET_CONN_FAILED || net_conn_set_read_handler(conn, conn_on_readable) < 0) conn_close(c);
}

/* Refuses a connection over the limit with a 503 it may or may not read. */
static void refuse(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ssize_t ignored = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    close(fd);
}

/* "ip:port" ("[::1]:port" is written "::1:port", as CLIENT LIST does). */
static void peer_format(const struct sockaddr_storage *sa, char *out, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, size, "%s:%d", ip, port);
}

static void listener_on_readable(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)data;
    (void)mask;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        int cfd = accept4(fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) return;
        if (http.conn_count >= HTTP_MAX_CONNECTIONS) {
            if (http.tls) close(cfd); /* a plain answer would not pass the handshake */
            else refuse(cfd);
            continue;
        }
        struct http_conn *c = mem_calloc(sizeof(*c));
        c->conn = net_conn_create(loop, cfd, http.tls);
        c->conn->data = c;
        peer_format(&sa, c->peer, sizeof(c->peer));
        c->next = http.conns;
        if (http.conns) http.conns->prev = c;
        http.conns = c;
        http.conn_count++;
        conn_arm_timer(c);
        net_tls_conn_skip_client_cert(c->conn);
        net_conn_accept(c->conn, conn_on_open);
    }
}

int http_server_start(struct event_loop *loop)
{
    if (cfg.http_port == 0) return 0;
    http.loop = loop;
    http.tls = cfg.http_tls;
    if (http.tls && !net_tls_configured()) {
        log_warning("http-tls yes needs the TLS certificates (tls-cert-file, tls-key-file)");
        return -1;
    }
    http.listen_fd = listener_bind(cfg.http_bind, cfg.http_port);
    if (http.listen_fd < 0) {
        log_warning("Could not listen for HTTP on %s:%d: %s", cfg.http_bind, cfg.http_port, strerror(errno));
        return -1;
    }
    event_loop_watch(loop, http.listen_fd, EV_READ, listener_on_readable, NULL);
    console_init();
    console_history_start(loop);
    list_rates_start();
    const char *scheme = http.tls ? "https" : "http";
    log_notice("HTTP endpoint: console at %s://%s:%d/, Prometheus metrics at %s://%s:%d/metrics", scheme,
               cfg.http_bind, cfg.http_port, scheme, cfg.http_bind, cfg.http_port);
    return 0;
}

void http_server_stop(void)
{
    while (http.conns) conn_close(http.conns);
    console_history_stop();
    console_exec_shutdown();
    http_session_close_all();
    if (http.listen_fd < 0) return;
    event_loop_unwatch(http.loop, http.listen_fd, EV_READ);
    close(http.listen_fd);
    http.listen_fd = -1;
}
