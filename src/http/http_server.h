/* http_server: a small HTTP/1.1 server on the server's event loop, on
 * http-bind:http-port. It answers GET (and HEAD) /metrics, /api/... and
 * the console's files, and the console's POST /api/action/..., and nothing
 * that could block: a request is read whole before anything runs, the answer is
 * built at once and written without waiting. Limits: a request head of at
 * most HTTP_MAX_REQUEST bytes and HTTP_MAX_HEADERS headers, no body (an
 * action's parameters are in its query string),
 * HTTP_MAX_CONNECTIONS connections, and http-timeout seconds to send a
 * request or between requests. With requirepass set every request must
 * carry it (bearer token, or basic auth with any user name). */
#ifndef RUNNEL_HTTP_HTTP_SERVER_H
#define RUNNEL_HTTP_HTTP_SERVER_H

#define HTTP_MAX_REQUEST 8192
#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_CONNECTIONS 64

struct event_loop;

/* Listens when http-port is set; -1 (logged) if the address can't be bound. */
int http_server_start(struct event_loop *loop);
/* Closes the listener and every connection. */
void http_server_stop(void);

#endif
