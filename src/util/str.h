/* str: a binary-safe, length-prefixed, NUL-terminated byte string.
 * A `str` points at the bytes; the length and capacity live just before them,
 * so a str can be passed wherever a C string is read. */
#ifndef RUNNEL_UTIL_STR_H
#define RUNNEL_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>

typedef char *str;

struct str_header {
    uint32_t len;
    uint32_t cap;
    char buf[];
};

#define STR_HEADER(s) ((struct str_header *)((s) - sizeof(struct str_header)))

static inline size_t str_len(const str s)
{
    return STR_HEADER(s)->len;
}

str str_new(const void *data, size_t len);
str str_from_cstr(const char *cstr);
str str_from_int(long long value);
str str_empty(size_t capacity);
str str_dup(const str s);
void str_free(str s);
/* Appends len bytes; may move the string, so callers keep the returned value. */
str str_append(str s, const void *data, size_t len);
str str_append_printf(str s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grows or shrinks to exactly len bytes; new bytes are zero. */
str str_resize(str s, size_t len);
void str_set_len(str s, size_t len);
size_t str_alloc_size(const str s);

#endif
