/* http_server: a small HTTP/1.1 server on the server's event loop, on
 * http-bind:http-port. It answers GET (and HEAD) /metrics, /api/... and
 * the console's files, and the console's POST /api/action/..., /api/login
 * and /api/logout, and nothing that could block: a request is read whole
 * before anything runs, the answer is built at once and written without
 * waiting. Limits: a request head of at most HTTP_MAX_REQUEST bytes and
 * HTTP_MAX_HEADERS headers, a body only for the login form (at most
 * HTTP_MAX_BODY bytes; an action's parameters are in its query string),
 * HTTP_MAX_CONNECTIONS connections, and http-timeout seconds to send a
 * request or between requests. Unless the default user needs no password,
 * every request but the console's files must carry a login session's
 * cookie, basic auth with an ACL user's name and password, or the default
 * user's password as a bearer token; it is then answered with that user's
 * permissions. */
#ifndef RUNNEL_HTTP_HTTP_SERVER_H
#define RUNNEL_HTTP_HTTP_SERVER_H

#define HTTP_MAX_REQUEST 8192
#define HTTP_MAX_BODY 1024 /* the login form's */
#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_CONNECTIONS 64

struct event_loop;

/* Listens when http-port is set; -1 (logged) if the address can't be bound. */
int http_server_start(struct event_loop *loop);
/* Closes the listener and every connection. */
void http_server_stop(void);

#endif
