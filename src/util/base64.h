/* base64: the standard alphabet with padding (RFC 4648), as etcd's JSON
 * gateway encodes keys and values. */
#ifndef RUNNEL_UTIL_BASE64_H
#define RUNNEL_UTIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

str base64_encode(const void *data, size_t len);
/* Decodes; false (out untouched) if the text is not valid base64. */
bool base64_decode(const char *text, size_t len, str *out);

#endif
