/* sha256: the SHA-256 digest (FIPS 180-4). ACL passwords are kept only as
 * their SHA-256, written as 64 lowercase hex digits, as Redis keeps them. */
#ifndef RUNNEL_UTIL_SHA256_H
#define RUNNEL_UTIL_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE 65 /* 64 lowercase hex digits and a NUL */

struct sha256_ctx {
    uint32_t h[8];
    uint64_t length;   /* bytes hashed so far */
    uint8_t block[64]; /* a partial block waiting for more input */
    size_t used;       /* bytes in `block` */
};

void sha256_init(struct sha256_ctx *ctx);
/* Feeds len bytes; may be called any number of times. */
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Pads, finishes and writes the digest; initialise again before reuse. */
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_SIZE]);
/* The digest of one buffer. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);
/* A digest as 64 lowercase hex digits, NUL-terminated. */
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char out[SHA256_HEX_SIZE]);
/* Reads exactly 64 lowercase hex digits into a digest; false otherwise. */
bool sha256_from_hex(const char *hex, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);
/* Compares two digests in time independent of where they differ. */
bool sha256_equal(const uint8_t a[SHA256_DIGEST_SIZE], const uint8_t b[SHA256_DIGEST_SIZE]);

#endif
