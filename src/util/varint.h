/* varint: unsigned integers stored 7 bits per byte, low bits first, the top
 * bit of each byte saying that another follows (one byte below 128, ten at
 * most for 64 bits). Used by the packed encodings (stream blocks, sorted-set
 * listpacks), the dict's embedded entries and the snapshot codec. Inline:
 * they sit on hot paths. varint_get trusts its input; varint_get_bounded
 * does not. */
#ifndef RUNNEL_UTIL_VARINT_H
#define RUNNEL_UTIL_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX_BYTES 10

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

/* Reads the varint at p into *out; returns the byte after it. */
static inline const uint8_t *varint_get(const uint8_t *p, uint64_t *out)
{
    if (p[0] < 0x80) {
        *out = p[0];
        return p + 1;
    }
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
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
