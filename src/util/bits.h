/* bits: bit-level reads and writes over byte arrays, in Redis's bit order
 * (bit 0 is the most significant bit of byte 0). The bitmap commands
 * (types/bitmap.c, types/bitfield.c) do their arithmetic here, so it can be
 * tested without a server. */
#ifndef RUNNEL_UTIL_BITS_H
#define RUNNEL_UTIL_BITS_H

#include <stddef.h>
#include <stdint.h>

/* Big-endian 32-bit words, as the SHA digests read and write them. */
static inline uint32_t bits_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void bits_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Set bits among bits first..last (inclusive) of p; the caller guarantees
 * first <= last and that both lie inside p. */
uint64_t bits_count(const uint8_t *p, uint64_t first, uint64_t last);

/* Position of the first bit equal to `bit` (0 or 1) among bits first..last
 * (inclusive, inside p), or -1 when there is none. */
int64_t bits_find(const uint8_t *p, uint64_t first, uint64_t last, int bit);

/* The `width`-bit field (1..64) at bit `offset`, big-endian as Redis's
 * BITFIELD reads it; the caller guarantees the field lies inside p. The
 * signed form sign-extends from the field's top bit. */
uint64_t bits_get_unsigned(const uint8_t *p, uint64_t offset, int width);
int64_t bits_get_signed(const uint8_t *p, uint64_t offset, int width);
/* Writes the low `width` bits of v at bit `offset` (inside p). */
void bits_set(uint8_t *p, uint64_t offset, int width, uint64_t v);

/* What BITFIELD does when a result does not fit its field. */
enum bits_overflow { BITS_WRAP, BITS_SAT, BITS_FAIL };

/* Whether value + incr overflows a `width`-bit unsigned (width 1..63) or
 * signed (1..64) field: 0 when it fits, 1 above, -1 below. On overflow
 * *limit receives what WRAP or SAT stores instead. Redis's exact rules,
 * quirks included (a SET value is checked as value + 0). */
int bits_overflow_unsigned(uint64_t value, int64_t incr, int width, enum bits_overflow how, uint64_t *limit);
int bits_overflow_signed(int64_t value, int64_t incr, int width, enum bits_overflow how, int64_t *limit);

#endif
