/* keyed_hash: the same bytes give the same hash; inputs that differ in one
 * byte, in length only, or that overlap the way the short-input packing
 * reads them give different hashes; and the low bits a table indexes by
 * spread evenly. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/keyed_hash.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

Test(keyed_hash, deterministic_and_collision_free_on_many_inputs)
{
    enum { N = 60000 };
    static uint64_t h[N];
    char buf[64];
    size_t n = 0;
    unsigned x = 1;
    h[n++] = keyed_hash("", 0);
    for (size_t len = 1; len <= 40 && n < N; len++) {
        /* runs of one byte: the packings of lengths 8..16 overlap on them */
        for (int c = 0; c < 256 && n < N; c += 51) {
            memset(buf, c, len);
            h[n++] = keyed_hash(buf, len);
            buf[0] ^= 1;
            h[n++] = keyed_hash(buf, len);
        }
    }
    while (n < N) {
        x = x * 1103515245 + 12345;
        /* distinct strings of 3 to 40 bytes */
        size_t len = (size_t)snprintf(buf, sizeof(buf), "%zu-%.*s", n, (int)(x % 30), "pad:pad:pad:pad:pad:pad:pad:pad");
        cr_assert_eq(keyed_hash(buf, len), keyed_hash(buf, len));
        h[n++] = keyed_hash(buf, len);
    }
    qsort(h, N, sizeof(h[0]), cmp_u64);
    for (size_t i = 1; i < N; i++) cr_assert_neq(h[i], h[i - 1], "a collision at %zu", i);
}

Test(keyed_hash, low_bits_spread)
{
    static int buckets[256];
    char buf[32];
    for (int i = 0; i < 256 * 200; i++) {
        int len = snprintf(buf, sizeof(buf), "order:%d", i);
        buckets[keyed_hash(buf, (size_t)len) & 255]++;
    }
    for (int b = 0; b < 256; b++) cr_assert(buckets[b] > 100 && buckets[b] < 300, "bucket %d: %d", b, buckets[b]);
}
