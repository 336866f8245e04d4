/* http_request: a strict parser for the head of an HTTP/1.x request (request
 * line and headers), with limits on its size and header count. It keeps no
 * state between calls: the caller hands it everything read so far and
 * calls again after each read until it stops asking for more. A body is
 * taken only with a Content-Length of at most `max_body` bytes (the
 * console's login form); chunked bodies are refused. */
#ifndef RUNNEL_HTTP_HTTP_REQUEST_H
#define RUNNEL_HTTP_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

enum http_parse_result {
    HTTP_PARSE_MORE,        /* no complete head yet, and still within the size limit */
    HTTP_PARSE_DONE,        /* a complete head: the request's fields are set */
    HTTP_PARSE_BAD,         /* malformed: 400 */
    HTTP_PARSE_TOO_LARGE,   /* head longer than max_bytes: 431 */
    HTTP_PARSE_TOO_MANY,    /* more than max_headers headers: 431 */
    HTTP_PARSE_HAS_BODY,    /* Content-Length > max_body, or Transfer-Encoding: 413 */
    HTTP_PARSE_BAD_VERSION, /* not HTTP/1.0 or HTTP/1.1: 505 */
};

struct http_limits {
    size_t max_bytes; /* request line, headers and the blank line */
    int max_headers;
    size_t max_body; /* Content-Length */
};

/* A parsed head. Pointers point into the caller's buffer (not terminated),
 * valid while it stays unchanged. */
struct http_request {
    const char *method;
    size_t method_len;
    const char *path; /* the target without its query string */
    size_t path_len;
    const char *query; /* after the '?', NULL when there is none */
    size_t query_len;
    const char *host; /* the Host value, NULL when absent */
    size_t host_len;
    const char *origin; /* the Origin value, NULL when absent */
    size_t origin_len;
    const char *csrf_token; /* the X-CSRF-Token value, NULL when absent */
    size_t csrf_token_len;
    const char *authorization; /* the Authorization value, NULL when absent */
    size_t authorization_len;
    const char *cookie; /* the Cookie value, NULL when absent */
    size_t cookie_len;
    const char *content_type; /* the Content-Type value, NULL when absent */
    size_t content_type_len;
    bool from_script; /* an X-Requested-With header: a page's script, not a navigation */
    bool has_length;  /* a Content-Length header was seen */
    const char *body; /* body_len bytes after the head, NULL when none */
    size_t body_len;
    int minor_version; /* 0 or 1 */
    bool keep_alive;   /* HTTP/1.1 unless "Connection: close"; 1.0 only with "keep-alive" */
    int header_count;
    size_t head_len; /* bytes the head took in the buffer */
    size_t length;   /* bytes the whole request took: head and body */
};

/* Parses the request at the start of buf[0..len). Lines must end in CRLF.
 * HTTP_PARSE_MORE also while the body is not all there. */
enum http_parse_result http_request_parse(const char *buf, size_t len, const struct http_limits *limits,
                                          struct http_request *req);

/* The status code and reason phrase that answer a failed parse. */
int http_parse_status(enum http_parse_result r, const char **reason);

/* The value of parameter `name` in a query string ("a=1&b=x%20y"), with
 * %XX and '+' decoded, into a new str; NULL when absent or badly encoded. */
str http_query_param(const char *query, size_t len, const char *name);

#endif
