/* http_request: see http_request.h. */
#include "http/http_request.h"

#include <string.h>
#include <strings.h>

/* RFC 9110's tchar: the characters of methods and header names. */
static bool is_token_char(unsigned char c)
{
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Visible characters, spaces and tabs, and obs-text: what a header value may hold. */
static bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= ' ' && c != 0x7f);
}

static bool equals_nocase(const char *p, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(p, word, len) == 0;
}

/* The end of the head (just past the blank line) within buf[0..len), or 0. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') return i + 1;
    return 0;
}

/* "METHOD SP target SP HTTP/1.x" in line[0..len). */
static enum http_parse_result parse_request_line(const char *line, size_t len, struct http_request *req)
{
    size_t i = 0;
    while (i < len && is_token_char((unsigned char)line[i])) i++;
    if (i == 0 || i >= len || line[i] != ' ') return HTTP_PARSE_BAD;
    req->method = line;
    req->method_len = i;
    size_t t = ++i;
    while (i < len && line[i] > ' ' && line[i] != 0x7f) i++;
    if (i == t || i >= len || line[i] != ' ' || line[t] != '/') return HTTP_PARSE_BAD;
    req->path = line + t;
    const char *query = memchr(line + t, '?', i - t);
    req->path_len = query ? (size_t)(query - (line + t)) : i - t;
    const char *version = line + i + 1;
    size_t vlen = len - i - 1;
    if (vlen != 8 || strncmp(version, "HTTP/", 5) != 0 || version[6] != '.' || version[5] < '0' || version[5] > '9' ||
        version[7] < '0' || version[7] > '9')
        return HTTP_PARSE_BAD;
    if (version[5] != '1' || version[7] > '1') return HTTP_PARSE_BAD_VERSION;
    req->minor_version = version[7] - '0';
    req->keep_alive = req->minor_version == 1;
    return HTTP_PARSE_DONE;
}

/* Acts on one header the endpoint cares about; others are only checked. */
static enum http_parse_result use_header(const char *name, size_t nlen, const char *value, size_t vlen,
                                         struct http_request *req)
{
    if (equals_nocase(name, nlen, "authorization")) {
        if (req->authorization) return HTTP_PARSE_BAD;
        req->authorization = value;
        req->authorization_len = vlen;
    } else if (equals_nocase(name, nlen, "connection")) {
        if (equals_nocase(value, vlen, "close")) req->keep_alive = false;
        else if (equals_nocase(value, vlen, "keep-alive")) req->keep_alive = true;
    } else if (equals_nocase(name, nlen, "transfer-encoding")) {
        return HTTP_PARSE_HAS_BODY;
    } else if (equals_nocase(name, nlen, "content-length")) {
        for (size_t i = 0; i < vlen; i++)
            if (value[i] < '0' || value[i] > '9') return HTTP_PARSE_BAD;
        for (size_t i = 0; i < vlen; i++)
            if (value[i] != '0') return HTTP_PARSE_HAS_BODY;
    }
    return HTTP_PARSE_DONE;
}

/* "Name: value" in line[0..len): no space before the colon, optional
 * spaces around the value, no control characters. */
static enum http_parse_result parse_header(const char *line, size_t len, struct http_request *req)
{
    size_t i = 0;
    while (i < len && is_token_char((unsigned char)line[i])) i++;
    if (i == 0 || i >= len || line[i] != ':') return HTTP_PARSE_BAD;
    size_t nlen = i++;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t end = len;
    while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t')) end--;
    for (size_t k = i; k < end; k++)
        if (!is_value_char((unsigned char)line[k])) return HTTP_PARSE_BAD;
    return use_header(line, nlen, line + i, end - i, req);
}

enum http_parse_result http_request_parse(const char *buf, size_t len, const struct http_limits *limits,
                                          struct http_request *req)
{
    memset(req, 0, sizeof(*req));
    size_t scan = len < limits->max_bytes ? len : limits->max_bytes;
    size_t end = head_end(buf, scan);
    if (!end) return len >= limits->max_bytes ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_MORE;
    req->head_len = end;
    const char *line = buf;
    const char *eol = memchr(line, '\r', end);
    if (!eol || eol[1] != '\n') return HTTP_PARSE_BAD;
    enum http_parse_result r = parse_request_line(line, (size_t)(eol - line), req);
    if (r != HTTP_PARSE_DONE) return r;
    for (line = eol + 2; line < buf + end - 2; line = eol + 2) {
        eol = memchr(line, '\r', (size_t)(buf + end - line));
        if (!eol || eol[1] != '\n') return HTTP_PARSE_BAD;
        if (++req->header_count > limits->max_headers) return HTTP_PARSE_TOO_MANY;
        r = parse_header(line, (size_t)(eol - line), req);
        if (r != HTTP_PARSE_DONE) return r;
    }
    return HTTP_PARSE_DONE;
}

int http_parse_status(enum http_parse_result r, const char **reason)
{
    switch (r) {
    case HTTP_PARSE_TOO_LARGE:
    case HTTP_PARSE_TOO_MANY: *reason = "Request Header Fields Too Large"; return 431;
    case HTTP_PARSE_HAS_BODY: *reason = "Content Too Large"; return 413;
    case HTTP_PARSE_BAD_VERSION: *reason = "HTTP Version Not Supported"; return 505;
    default: *reason = "Bad Request"; return 400;
    }
}
