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
    if (query) {
        req->query = query + 1;
        req->query_len = (size_t)(line + i - req->query);
    }
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

/* Keeps a header's value; a second one of the same name is malformed. */
static enum http_parse_result keep_once(const char **slot, size_t *slot_len, const char *value, size_t vlen)
{
    if (*slot) return HTTP_PARSE_BAD;
    *slot = value;
    *slot_len = vlen;
    return HTTP_PARSE_DONE;
}

/* Acts on one header the endpoint cares about; others are only checked. */
static enum http_parse_result use_header(const char *name, size_t nlen, const char *value, size_t vlen,
                                         size_t max_body, struct http_request *req)
{
    if (equals_nocase(name, nlen, "authorization"))
        return keep_once(&req->authorization, &req->authorization_len, value, vlen);
    if (equals_nocase(name, nlen, "host")) return keep_once(&req->host, &req->host_len, value, vlen);
    if (equals_nocase(name, nlen, "origin")) return keep_once(&req->origin, &req->origin_len, value, vlen);
    if (equals_nocase(name, nlen, "x-csrf-token"))
        return keep_once(&req->csrf_token, &req->csrf_token_len, value, vlen);
    if (equals_nocase(name, nlen, "cookie")) return keep_once(&req->cookie, &req->cookie_len, value, vlen);
    if (equals_nocase(name, nlen, "content-type"))
        return keep_once(&req->content_type, &req->content_type_len, value, vlen);
    if (equals_nocase(name, nlen, "x-requested-with")) req->from_script = true;
    if (equals_nocase(name, nlen, "connection")) {
        if (equals_nocase(value, vlen, "close")) req->keep_alive = false;
        else if (equals_nocase(value, vlen, "keep-alive")) req->keep_alive = true;
    } else if (equals_nocase(name, nlen, "transfer-encoding")) {
        return HTTP_PARSE_HAS_BODY;
    } else if (equals_nocase(name, nlen, "content-length")) {
        if (req->has_length || vlen == 0) return HTTP_PARSE_BAD;
        req->has_length = true;
        for (size_t i = 0; i < vlen; i++)
            if (value[i] < '0' || value[i] > '9') return HTTP_PARSE_BAD;
        size_t n = 0;
        for (size_t i = 0; i < vlen; i++) {
            n = n * 10 + (size_t)(value[i] - '0');
            if (n > max_body) return HTTP_PARSE_HAS_BODY;
        }
        req->body_len = n;
    }
    return HTTP_PARSE_DONE;
}

/* "Name: value" in line[0..len): no space before the colon, optional
 * spaces around the value, no control characters. */
static enum http_parse_result parse_header(const char *line, size_t len, size_t max_body, struct http_request *req)
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
    return use_header(line, nlen, line + i, end - i, max_body, req);
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
        r = parse_header(line, (size_t)(eol - line), limits->max_body, req);
        if (r != HTTP_PARSE_DONE) return r;
    }
    if (len - end < req->body_len) return HTTP_PARSE_MORE;
    req->body = req->body_len ? buf + end : NULL;
    req->length = end + req->body_len;
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

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Decodes one query component (%XX, '+' as space); NULL on a bad escape. */
static str query_decode(const char *p, size_t len)
{
    str out = str_empty(len);
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? hex_digit(p[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit(p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                str_free(out);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out = str_append(out, &c, 1);
    }
    return out;
}

str http_query_param(const char *query, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    const char *end = query + len;
    for (const char *p = query; query && p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *key_end = eq ? eq : stop;
        if ((size_t)(key_end - p) == nlen && memcmp(p, name, nlen) == 0)
            return eq ? query_decode(eq + 1, (size_t)(stop - eq - 1)) : str_empty(0);
        p = stop + 1;
    }
    return NULL;
}
