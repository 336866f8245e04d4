/* list_compress: the LZ77 codec described in list_compress.h. Greedy
 * matching through a hash of the next 4 bytes; 64 KB window. After a long
 * run without a match the scan strides further (1 + run/64 bytes), so
 * incompressible input is given up on cheaply. */
#include "types/list_compress.h"

#include <stdint.h>
#include <string.h>

#define MIN_MATCH 4
#define MAX_LITERAL_RUN 128
#define HASH_BITS 12

static uint32_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t hash4(const unsigned char *p)
{
    return (load32(p) * 2654435761u) >> (32 - HASH_BITS);
}

/* Output cursor that refuses to run past the end of dst. */
struct out {
    unsigned char *p, *end;
    bool full;
};

static void put(struct out *o, unsigned char b)
{
    if (o->p == o->end) {
        o->full = true;
        return;
    }
    *o->p++ = b;
}

static void put_literals(struct out *o, const unsigned char *src, size_t n)
{
    while (n > 0 && !o->full) {
        size_t run = n < MAX_LITERAL_RUN ? n : MAX_LITERAL_RUN;
        put(o, (unsigned char)(run - 1));
        if ((size_t)(o->end - o->p) < run) {
            o->full = true;
            return;
        }
        memcpy(o->p, src, run);
        o->p += run;
        src += run;
        n -= run;
    }
}

static void put_match(struct out *o, size_t length, size_t distance)
{
    size_t m = length - MIN_MATCH;
    if (m < 127) {
        put(o, (unsigned char)(0x80 | m));
    } else {
        put(o, 0xFF);
        for (m -= 127; m >= 255; m -= 255) put(o, 255);
        put(o, (unsigned char)m);
    }
    put(o, (unsigned char)((distance - 1) & 0xFF));
    put(o, (unsigned char)((distance - 1) >> 8));
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Bytes a and b have in common before b reaches end (a < b), eight at a
 * time: the first differing byte is the lowest set bit of the XOR (x86 and
 * the other little-endian targets this builds for). */
static size_t match_length(const unsigned char *a, const unsigned char *b, const unsigned char *end)
{
    const unsigned char *start = b;
    while ((size_t)(end - b) >= 8) {
        uint64_t diff = load64(a) ^ load64(b);
        if (diff) return (size_t)(b - start) + (size_t)__builtin_ctzll(diff) / 8;
        a += 8, b += 8;
    }
    while (b < end && *a == *b) a++, b++;
    return (size_t)(b - start);
}

/* The table keeps the low 16 bits of each position: the candidate is the
 * last position below i with those bits (within the 64 KB window). A slot
 * never written (zero) or left by an older position names some earlier
 * position whose bytes are compared anyway, so no slot needs clearing for
 * correctness; zeroing 8 KB keeps the output a function of the input. */
size_t list_compress(const unsigned char *src, size_t len, unsigned char *dst, size_t cap)
{
    uint16_t table[1 << HASH_BITS];
    memset(table, 0, sizeof(table));
    struct out o = {dst, dst + cap, false};
    const unsigned char *end = src + len;
    size_t i = 0, literal_start = 0;
    while (i + MIN_MATCH <= len && !o.full) {
        uint32_t h = hash4(src + i);
        size_t distance = (i - table[h]) & 0xFFFF;
        table[h] = (uint16_t)i;
        if (distance == 0 || distance > i || load32(src + i - distance) != load32(src + i)) {
            i += 1 + ((i - literal_start) >> 6);
            continue;
        }
        size_t cand = i - distance;
        size_t length = MIN_MATCH + match_length(src + cand + MIN_MATCH, src + i + MIN_MATCH, end);
        put_literals(&o, src + literal_start, i - literal_start);
        put_match(&o, length, distance);
        i += length;
        literal_start = i;
    }
    put_literals(&o, src + literal_start, len - literal_start);
    return o.full ? 0 : (size_t)(o.p - dst);
}

/* Reads a match's length; false when the input ends first. */
static bool read_match_length(const unsigned char **sp, const unsigned char *send, unsigned char token, size_t *length)
{
    size_t m = token & 0x7F;
    if (m == 127) {
        unsigned char b;
        do {
            if (*sp == send) return false;
            b = *(*sp)++;
            m += b;
        } while (b == 255);
    }
    *length = m + MIN_MATCH;
    return true;
}

/* Copies `length` bytes from `distance` back to out (the two may overlap:
 * a short distance repeats a pattern). Chunks of eight are safe once the
 * distance is eight or more, as each reads only bytes already written. */
static void copy_match(unsigned char *out, size_t distance, size_t length)
{
    const unsigned char *from = out - distance;
    if (distance >= length) {
        memcpy(out, from, length);
        return;
    }
    size_t k = 0;
    if (distance >= 8)
        for (; k + 8 <= length; k += 8) memcpy(out + k, from + k, 8);
    for (; k < length; k++) out[k] = from[k];
}

bool list_decompress(const unsigned char *src, size_t len, unsigned char *dst, size_t out_len)
{
    const unsigned char *s = src, *send = src + len;
    size_t d = 0;
    while (s < send) {
        unsigned char token = *s++;
        if (token < 0x80) {
            size_t run = (size_t)token + 1;
            if ((size_t)(send - s) < run || out_len - d < run) return false;
            memcpy(dst + d, s, run);
            s += run;
            d += run;
            continue;
        }
        size_t length;
        if (!read_match_length(&s, send, token, &length) || send - s < 2) return false;
        size_t distance = ((size_t)s[0] | (size_t)s[1] << 8) + 1;
        s += 2;
        if (distance > d || out_len - d < length) return false;
        copy_match(dst + d, distance, length);
        d += length;
    }
    return d == out_len;
}
