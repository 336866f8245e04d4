#include "util/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

static str str_alloc(size_t cap)
{
    struct str_header *h = mem_alloc(sizeof(*h) + cap + 1);
    h->len = 0;
    h->cap = (uint32_t)cap;
    h->buf[0] = '\0';
    return h->buf;
}

str str_new(const void *data, size_t len)
{
    str s = str_alloc(len);
    if (len) memcpy(s, data, len);
    s[len] = '\0';
    STR_HEADER(s)->len = (uint32_t)len;
    return s;
}

str str_from_cstr(const char *cstr)
{
    return str_new(cstr, strlen(cstr));
}

str str_from_int(long long value)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", value);
    return str_new(buf, (size_t)n);
}

str str_empty(size_t capacity)
{
    return str_alloc(capacity);
}

str str_dup(const str s)
{
    return str_new(s, str_len(s));
}

void str_free(str s)
{
    if (s) mem_free(STR_HEADER(s));
}

/* Ensures room for `extra` more bytes, growing geometrically up to 1 MB steps. */
static str str_reserve(str s, size_t extra)
{
    struct str_header *h = STR_HEADER(s);
    size_t need = (size_t)h->len + extra;
    if (need <= h->cap) return s;
    size_t cap = need < 1024 * 1024 ? need * 2 : need + 1024 * 1024;
    if (cap > UINT32_MAX - 1) cap = need;
    h = mem_realloc(h, sizeof(*h) + cap + 1);
    h->cap = (uint32_t)cap;
    return h->buf;
}

str str_append(str s, const void *data, size_t len)
{
    s = str_reserve(s, len);
    struct str_header *h = STR_HEADER(s);
    memcpy(s + h->len, data, len);
    h->len += (uint32_t)len;
    s[h->len] = '\0';
    return s;
}

str str_append_printf(str s, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return s;
    if ((size_t)n < sizeof(small)) return str_append(s, small, (size_t)n);
    s = str_reserve(s, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(s + str_len(s), (size_t)n + 1, fmt, ap);
    va_end(ap);
    STR_HEADER(s)->len += (uint32_t)n;
    return s;
}

str str_resize(str s, size_t len)
{
    struct str_header *h = STR_HEADER(s);
    if (len > h->len) {
        size_t old = h->len;
        s = str_reserve(s, len - old);
        memset(s + old, 0, len - old);
        h = STR_HEADER(s);
    }
    h->len = (uint32_t)len;
    s[len] = '\0';
    return s;
}

void str_set_len(str s, size_t len)
{
    STR_HEADER(s)->len = (uint32_t)len;
    s[len] = '\0';
}

size_t str_alloc_size(const str s)
{
    return mem_usable_size(STR_HEADER(s));
}
