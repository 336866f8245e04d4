/* resp_json: see resp_json.h. */
#include "http/resp_json.h"

#include <stdlib.h>
#include <string.h>

#define RESP_JSON_MAX_DEPTH 32

struct reader {
    const char *buf;
    size_t len;
    size_t pos;
};

/* The line after the type byte: [*start, *start + *n) up to its CRLF. */
static bool read_line(struct reader *r, const char **start, size_t *n)
{
    const char *p = r->buf + r->pos;
    const char *end = r->buf + r->len;
    const char *cr = p < end ? memchr(p, '\r', (size_t)(end - p)) : NULL;
    if (!cr || cr + 1 >= end || cr[1] != '\n') return false;
    *start = p;
    *n = (size_t)(cr - p);
    r->pos = (size_t)(cr + 2 - r->buf);
    return true;
}

static bool read_int(struct reader *r, long long *v)
{
    const char *s;
    size_t n;
    if (!read_line(r, &s, &n) || n == 0 || n > 20) return false;
    char tmp[24];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    *v = strtoll(tmp, &end, 10);
    return *end == '\0';
}

/* A length-prefixed payload ($, !, =); len -1 is RESP2's null bulk. */
static bool read_blob(struct reader *r, const char **s, long long *len)
{
    if (!read_int(r, len)) return false;
    if (*len < 0) return *len == -1;
    if ((size_t)*len > r->len - r->pos || r->len - r->pos - (size_t)*len < 2) return false;
    *s = r->buf + r->pos;
    r->pos += (size_t)*len;
    if (r->buf[r->pos] != '\r' || r->buf[r->pos + 1] != '\n') return false;
    r->pos += 2;
    return true;
}

static json_object *error_json(const char *s, size_t n)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string_len(s, (int)n));
    return o;
}

static bool read_value(struct reader *r, int depth, json_object **out);

/* count elements of an aggregate; for a map, count key/value pairs. */
static bool read_aggregate(struct reader *r, int depth, bool map, json_object **out)
{
    long long count;
    if (!read_int(r, &count)) return false;
    if (count < 0) {
        *out = NULL;
        return count == -1;
    }
    if (depth >= RESP_JSON_MAX_DEPTH) return false;
    json_object *agg = map ? json_object_new_object() : json_object_new_array();
    for (long long i = 0; i < count; i++) {
        json_object *k = NULL, *v = NULL;
        if (map && !read_value(r, depth + 1, &k)) goto bad;
        if (!read_value(r, depth + 1, &v)) {
            json_object_put(k);
            goto bad;
        }
        if (!map) {
            json_object_array_add(agg, v);
            continue;
        }
        const char *name = json_object_is_type(k, json_type_string) ? json_object_get_string(k)
                                                                    : json_object_to_json_string(k);
        json_object_object_add(agg, name, v);
        json_object_put(k);
    }
    *out = agg;
    return true;
bad:
    json_object_put(agg);
    return false;
}

/* On failure *out is NULL and nothing is left allocated. */
static bool read_value(struct reader *r, int depth, json_object **out)
{
    *out = NULL;
    if (r->pos >= r->len) return false;
    char type = r->buf[r->pos++];
    const char *s;
    size_t n;
    long long v;
    switch (type) {
    case '+':
        if (!read_line(r, &s, &n)) return false;
        *out = json_object_new_string_len(s, (int)n);
        return true;
    case '-':
        if (!read_line(r, &s, &n)) return false;
        *out = error_json(s, n);
        return true;
    case ':':
        if (!read_int(r, &v)) return false;
        *out = json_object_new_int64(v);
        return true;
    case '$':
    case '=':
    case '!':
        if (!read_blob(r, &s, &v)) return false;
        if (v < 0) return true;
        /* a verbatim string starts with its format, "txt:" */
        if (type == '=' && v >= 4) s += 4, v -= 4;
        *out = type == '!' ? error_json(s, (size_t)v) : json_object_new_string_len(s, (int)v);
        return true;
    case '_':
        return read_line(r, &s, &n) && n == 0;
    case '#':
        if (!read_line(r, &s, &n) || n != 1 || (s[0] != 't' && s[0] != 'f')) return false;
        *out = json_object_new_boolean(s[0] == 't');
        return true;
    case ',':
    case '(':
        /* doubles and big numbers keep their text: JSON has no inf or nan */
        if (!read_line(r, &s, &n)) return false;
        *out = json_object_new_string_len(s, (int)n);
        return true;
    case '*':
    case '~':
    case '>': return read_aggregate(r, depth, false, out);
    case '%': return read_aggregate(r, depth, true, out);
    case '|': {
        /* an attribute precedes the reply it describes: skip it */
        json_object *attr = NULL;
        if (!read_aggregate(r, depth, true, &attr)) return false;
        json_object_put(attr);
        return read_value(r, depth, out);
    }
    default: return false;
    }
}

bool resp_json_parse(const char *buf, size_t len, size_t *used, json_object **out)
{
    struct reader r = {buf, len, 0};
    *used = 0;
    *out = NULL;
    if (!read_value(&r, 0, out)) return false;
    *used = r.pos;
    return true;
}
