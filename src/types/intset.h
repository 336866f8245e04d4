/* intset: a sorted array of distinct 64-bit integers in the narrowest width
 * that holds them all (16, 32 or 64 bits), the compact encoding of small
 * sets whose members are all integers.
 *
 * One allocation: a header (width, count) and the values, in ascending
 * order, little-endian. Lookup is a binary search; adding a value that does
 * not fit the current width widens every stored value first ("upgrade"),
 * and an intset never narrows again. Insertion and removal move the tail of
 * the array: O(N), which is why the set type converts to a hash table past
 * set-max-intset-entries. */
#ifndef RUNNEL_TYPES_INTSET_H
#define RUNNEL_TYPES_INTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intset {
    uint32_t width; /* bytes per value: 2, 4 or 8 */
    uint32_t count;
    uint8_t values[];
};

/* An empty intset of width 2. */
struct intset *intset_new(void);
void intset_free(struct intset *is);
struct intset *intset_dup(const struct intset *is);

/* Adds v; *added tells whether it was new. Returns the intset, which may
 * have moved: the caller must use the returned pointer from then on. */
struct intset *intset_add(struct intset *is, int64_t v, bool *added);
/* Removes v; *removed tells whether it was there. May move the intset. */
struct intset *intset_remove(struct intset *is, int64_t v, bool *removed);
bool intset_contains(const struct intset *is, int64_t v);
/* Finds v: true and its index when present, otherwise false and the index
 * where it would be inserted. */
bool intset_search(const struct intset *is, int64_t v, uint32_t *index);

static inline uint32_t intset_count(const struct intset *is)
{
    return is->count;
}
/* The value at index i (0 <= i < count), in ascending order. */
int64_t intset_get(const struct intset *is, uint32_t i);
int64_t intset_min(const struct intset *is);
int64_t intset_max(const struct intset *is);

/* Bytes the allocation occupies. */
size_t intset_memory(const struct intset *is);
/* The width a value needs: 2, 4 or 8. */
uint32_t intset_width_for(int64_t v);
/* Checks that the header is sane and the values strictly ascend (tests, DEBUG). */
bool intset_validate(const struct intset *is);

#endif
