/* sha1: the SHA-1 digest (FIPS 180-4), for naming cached scripts as Redis
 * does (EVALSHA, SCRIPT LOAD, redis.sha1hex). Not for anything that needs a
 * secure hash. */
#ifndef RUNNEL_UTIL_SHA1_H
#define RUNNEL_UTIL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_SIZE 20
#define SHA1_HEX_SIZE 41 /* 40 lowercase hex digits and a NUL */

struct sha1_ctx {
    uint32_t h[5];
    uint64_t length;   /* bytes hashed so far */
    uint8_t block[64]; /* a partial block waiting for more input */
    size_t used;       /* bytes in `block` */
};

void sha1_init(struct sha1_ctx *ctx);
/* Feeds len bytes; may be called any number of times. */
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len);
/* Pads, finishes and writes the digest; the context must be initialised
 * again before reuse. */
void sha1_final(struct sha1_ctx *ctx, uint8_t digest[SHA1_DIGEST_SIZE]);
/* The digest of one buffer as 40 lowercase hex digits, NUL-terminated. */
void sha1_hex(const void *data, size_t len, char out[SHA1_HEX_SIZE]);

#endif
