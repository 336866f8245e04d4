/* sha1: SHA-1 as FIPS 180-4 specifies it — 512-bit blocks, an 80-word
 * message schedule, and four rounds of twenty steps with their own function
 * and constant. Big-endian throughout. */
#include "util/sha1.h"

#include <string.h>

#include "util/bits.h"

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* The step function and constant for step t (0..79). */
static uint32_t step_f(int t, uint32_t b, uint32_t c, uint32_t d, uint32_t *k)
{
    if (t < 20) {
        *k = 0x5a827999;
        return (b & c) | (~b & d);
    }
    if (t < 40) {
        *k = 0x6ed9eba1;
        return b ^ c ^ d;
    }
    if (t < 60) {
        *k = 0x8f1bbcdc;
        return (b & c) | (b & d) | (c & d);
    }
    *k = 0xca62c1d6;
    return b ^ c ^ d;
}

static void sha1_block(uint32_t h[5], const uint8_t block[64])
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++) w[t] = bits_load_be32(block + 4 * t);
    for (int t = 16; t < 80; t++) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t k;
        uint32_t f = step_f(t, b, c, d, &k);
        uint32_t temp = rotl(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sha1_init(struct sha1_ctx *ctx)
{
    ctx->h[0] = 0x67452301;
    ctx->h[1] = 0xefcdab89;
    ctx->h[2] = 0x98badcfe;
    ctx->h[3] = 0x10325476;
    ctx->h[4] = 0xc3d2e1f0;
    ctx->length = 0;
    ctx->used = 0;
}

void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    ctx->length += len;
    while (len > 0) {
        if (ctx->used == 0 && len >= 64) { /* whole blocks straight from the input */
            sha1_block(ctx->h, p);
            p += 64;
            len -= 64;
            continue;
        }
        size_t n = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, p, n);
        ctx->used += n;
        p += n;
        len -= n;
        if (ctx->used == 64) {
            sha1_block(ctx->h, ctx->block);
            ctx->used = 0;
        }
    }
}

/* Appends 0x80, zeros up to 56 bytes mod 64, then the length in bits. */
void sha1_final(struct sha1_ctx *ctx, uint8_t digest[SHA1_DIGEST_SIZE])
{
    uint64_t bits = ctx->length * 8;
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        sha1_block(ctx->h, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    bits_store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
    bits_store_be32(ctx->block + 60, (uint32_t)bits);
    sha1_block(ctx->h, ctx->block);
    for (int i = 0; i < 5; i++) bits_store_be32(digest + 4 * i, ctx->h[i]);
}

void sha1_hex(const void *data, size_t len, char out[SHA1_HEX_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, data, len);
    sha1_final(&ctx, digest);
    for (int i = 0; i < SHA1_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[40] = '\0';
}
