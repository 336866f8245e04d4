/* varint: unsigned LEB128 — 7 bits a byte, low group first, the high bit
 * set on every byte but the last. The packed encodings (stream blocks,
 * sorted-set listpacks) and the snapshot codec all use it. */
#ifndef RUNNEL_UTIL_VARINT_H
#define RUNNEL_UTIL_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX_LEN 10

static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Writes v at p; returns the byte after it. */
static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Reads a varint from trusted memory; returns the byte after it. */
static inline const uint8_t *varint_get(const uint8_t *p, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    *out = v;
    return p;
}

/* Reads a varint from untrusted memory ending at `end`; NULL when it does
 * not end before `end` or does not fit 64 bits. */
static inline const uint8_t *varint_get_bounded(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && p < end; shift += 7) {
        uint8_t b = *p++;
        if (shift == 63 && b > 1) return NULL;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return p;
        }
    }
    return NULL;
}

#endif
