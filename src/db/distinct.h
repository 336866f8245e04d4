/* distinct: checks that byte strings are pairwise different — what a loader
 * must know before it trusts a packed encoding read from a file (a hash's
 * fields, a set's or sorted set's members: a repeat there would break the
 * type's invariants later). Up to a few dozen strings are compared with
 * each other directly (cheaper than hashing them); more go into an
 * open-addressing table of (pointer, length) pairs hashed with the
 * keyspace's seeded hash: O(n), no copies. The bytes must stay in place
 * while the check runs. Small inputs use room inside the struct, so
 * checking a small value allocates nothing. */
#ifndef RUNNEL_DB_DISTINCT_H
#define RUNNEL_DB_DISTINCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct distinct_slot {
    const void *p; /* NULL: free */
    size_t len;
    uint64_t tag;  /* length and edge bytes: most unequal pairs differ here */
};

#define DISTINCT_SMALL 256

struct distinct {
    struct distinct_slot *slots;
    size_t mask;  /* table size - 1; 0: compared directly */
    size_t count; /* strings added */
    struct distinct_slot small[DISTINCT_SMALL];
};

/* Prepares a check of at most n strings (adding more is not allowed). */
void distinct_init(struct distinct *d, size_t n);
/* Adds p[0..len) (p not NULL); false when an equal string was added before. */
bool distinct_add(struct distinct *d, const void *p, size_t len);
void distinct_done(struct distinct *d);

#endif
