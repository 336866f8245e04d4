/* bits: bit-level reads and writes over byte arrays (see bits.h). */
#include "util/bits.h"

#include <string.h>

/* Bits of byte `b` that lie at positions lo..hi (0 = most significant). */
static uint8_t bits_byte_mask(unsigned lo, unsigned hi)
{
    return (uint8_t)((0xffu >> lo) & (0xffu << (7 - hi)));
}

uint64_t bits_count(const uint8_t *p, uint64_t first, uint64_t last)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    if (fb == lb) return (uint64_t)__builtin_popcount(p[fb] & bits_byte_mask(first & 7, last & 7));
    uint64_t n = (uint64_t)__builtin_popcount(p[fb] & bits_byte_mask(first & 7, 7));
    n += (uint64_t)__builtin_popcount(p[lb] & bits_byte_mask(0, last & 7));
    uint64_t i = fb + 1;
    for (; i + 8 <= lb; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        n += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < lb; i++) n += (uint64_t)__builtin_popcount(p[i]);
    return n;
}

/* First bit equal to `bit` inside byte b among positions lo..hi, or -1. */
static int bits_find_in_byte(uint8_t b, unsigned lo, unsigned hi, int bit)
{
    uint8_t want = (uint8_t)((bit ? b : (uint8_t)~b) & bits_byte_mask(lo, hi));
    if (!want) return -1;
    return __builtin_clz((unsigned)want) - 24;
}

int64_t bits_find(const uint8_t *p, uint64_t first, uint64_t last, int bit)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    unsigned hi = fb == lb ? (unsigned)(last & 7) : 7;
    int at = bits_find_in_byte(p[fb], first & 7, hi, bit);
    if (at >= 0) return (int64_t)(fb * 8 + (uint64_t)at);
    if (fb == lb) return -1;
    /* Whole bytes in between: skip eight at a time while none can match. */
    uint64_t skip = bit ? 0 : UINT64_MAX, i = fb + 1;
    for (; i + 8 <= lb; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != skip) break;
    }
    for (; i < lb; i++) {
        at = bits_find_in_byte(p[i], 0, 7, bit);
        if (at >= 0) return (int64_t)(i * 8 + (uint64_t)at);
    }
    at = bits_find_in_byte(p[lb], 0, last & 7, bit);
    return at >= 0 ? (int64_t)(lb * 8 + (uint64_t)at) : -1;
}

uint64_t bits_get_unsigned(const uint8_t *p, uint64_t offset, int width)
{
    uint64_t v = 0;
    for (int j = 0; j < width; j++, offset++) v = (v << 1) | ((p[offset >> 3] >> (7 - (offset & 7))) & 1u);
    return v;
}

int64_t bits_get_signed(const uint8_t *p, uint64_t offset, int width)
{
    uint64_t v = bits_get_unsigned(p, offset, width);
    if (width < 64 && (v & ((uint64_t)1 << (width - 1)))) v |= UINT64_MAX << width;
    return (int64_t)v;
}

void bits_set(uint8_t *p, uint64_t offset, int width, uint64_t v)
{
    for (int j = 0; j < width; j++, offset++) {
        uint8_t mask = (uint8_t)(0x80u >> (offset & 7));
        if ((v >> (width - 1 - j)) & 1u) p[offset >> 3] |= mask;
        else p[offset >> 3] &= (uint8_t)~mask;
    }
}

int bits_overflow_unsigned(uint64_t value, int64_t incr, int width, enum bits_overflow how, uint64_t *limit)
{
    uint64_t max = ((uint64_t)1 << width) - 1;
    uint64_t maxincr = max - value;
    int64_t minincr = (int64_t)(0 - value);
    int dir = 0;
    if (value > max || (incr > 0 && (uint64_t)incr > maxincr)) dir = 1;
    else if (incr < 0 && incr < minincr) dir = -1;
    if (!dir) return 0;
    if (how == BITS_WRAP) *limit = (value + (uint64_t)incr) & ~(UINT64_MAX << width);
    else if (how == BITS_SAT) *limit = dir > 0 ? max : 0;
    return dir;
}

/* The sum wrapped into a `width`-bit two's complement field. */
static int64_t bits_wrap_signed(int64_t value, int64_t incr, int width)
{
    uint64_t c = (uint64_t)value + (uint64_t)incr;
    if (width < 64) {
        uint64_t high = UINT64_MAX << width;
        if (c & ((uint64_t)1 << (width - 1))) c |= high;
        else c &= ~high;
    }
    return (int64_t)c;
}

int bits_overflow_signed(int64_t value, int64_t incr, int width, enum bits_overflow how, int64_t *limit)
{
    int64_t max = width == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (width - 1)) - 1);
    int64_t min = -max - 1;
    /* Computed as Redis does (unsigned, so that they may wrap); only used
     * where the value's range makes them meaningful, plus its quirks. */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int dir = 0;
    if (value > max || (width != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) dir = 1;
    else if (value < min || (width != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) dir = -1;
    if (!dir) return 0;
    if (how == BITS_WRAP) *limit = bits_wrap_signed(value, incr, width);
    else if (how == BITS_SAT) *limit = dir > 0 ? max : min;
    return dir;
}
