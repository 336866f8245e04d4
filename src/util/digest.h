/* digest: SHA-1 fingerprints of logical data, for DEBUG DIGEST and
 * DEBUG DIGEST-VALUE. Two builders:
 *  - a sequence (struct digest_seq) hashes what it is fed in order: lists,
 *    stream entries, a key and its parts. Every item is framed (fixed width,
 *    or its length first), so two different item sequences never feed SHA-1
 *    the same bytes.
 *  - a set (struct digest_set) XORs the digests of its items, so it is the
 *    same whatever order they come in: members of a hash or a set, keys of a
 *    database. Items must be distinct (two equal ones cancel out), which the
 *    collections guarantee.
 * Not for anything that needs a secure hash. */
#ifndef RUNNEL_UTIL_DIGEST_H
#define RUNNEL_UTIL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sha1.h"

#define DIGEST_SIZE SHA1_DIGEST_SIZE
#define DIGEST_HEX_SIZE SHA1_HEX_SIZE /* 40 lowercase hex digits and a NUL */

struct digest {
    uint8_t bytes[DIGEST_SIZE];
};

struct digest_seq {
    struct sha1_ctx sha;
};

struct digest_set {
    struct digest acc; /* XOR of the items' digests */
    uint64_t count;
};

void digest_seq_init(struct digest_seq *s);
/* Feeds len bytes, length first. */
void digest_seq_bytes(struct digest_seq *s, const void *p, size_t len);
/* Feeds a fixed-width integer. */
void digest_seq_u64(struct digest_seq *s, uint64_t v);
void digest_seq_i64(struct digest_seq *s, int64_t v);
/* Feeds a double's bits: -0 and 0 differ, as their replies do. */
void digest_seq_double(struct digest_seq *s, double d);
/* Feeds another digest (20 fixed bytes). */
void digest_seq_digest(struct digest_seq *s, const struct digest *d);
/* Feeds a set: its item count, then its accumulated digest. */
void digest_seq_set(struct digest_seq *s, const struct digest_set *set);
/* Finishes the sequence into *out; init again before reusing s. */
void digest_seq_final(struct digest_seq *s, struct digest *out);

void digest_set_init(struct digest_set *set);
/* Mixes one item's digest in. */
void digest_set_add(struct digest_set *set, const struct digest *item);
/* Mixes in an item made of one string (a set member), or of two (a hash's
 * field and value): the digest of their framed sequence. */
void digest_set_add_bytes(struct digest_set *set, const void *p, size_t len);
void digest_set_add_pair(struct digest_set *set, const void *a, size_t alen, const void *b, size_t blen);

/* *acc ^= *d: how independent digests (keys, databases) combine. */
void digest_xor(struct digest *acc, const struct digest *d);
bool digest_is_zero(const struct digest *d);
/* 40 lowercase hex digits, NUL-terminated. */
void digest_hex(const struct digest *d, char out[DIGEST_HEX_SIZE]);

#endif
