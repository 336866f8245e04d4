/* hash_ttl: the deadlines of a big hash's fields (a hash table with at
 * least one expiring field, ENC_HASHTABLE_EX), kept inside the fields'
 * own dict entries and indexed by a binary min-heap of entry pointers.
 *
 * Every entry of such a dict carries HASH_TTL_TRAILER bytes after its
 * value (dict_type.trailer): the deadline (int64 ms) and the entry's heap
 * position plus one (uint32; 0: the field has no deadline). The heap holds
 * one pointer per expiring field, earliest deadline at the root. So a
 * deadline costs its 12 bytes in the entry and 8 in the heap, where a
 * sorted set of (field, deadline) stored the field's name again with a
 * skip-list node and an index entry (about 70 bytes).
 *
 * The user keeps the heap in step with the dict: clear a field's deadline
 * before deleting its entry, and call hash_ttl_moved with an entry whose
 * value change moved it (dict_put_value_entry says where it is now). */
#ifndef RUNNEL_TYPES_HASH_TTL_H
#define RUNNEL_TYPES_HASH_TTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/dict.h"

#define HASH_TTL_TRAILER 12

struct hash_ttl {
    struct dict_entry **heap;
    uint32_t count, cap;
};

/* The dict type of a hash table whose entries carry the trailer. */
extern const struct dict_type hash_ttl_dict_type;

/* An entry's deadline in ms, or -1 when it has none. */
long long hash_ttl_of(const struct dict_entry *e);
/* Gives e a deadline (replacing any). */
void hash_ttl_set(struct hash_ttl *t, struct dict_entry *e, long long when_ms);
/* Removes e's deadline; false when it had none. */
bool hash_ttl_clear(struct hash_ttl *t, struct dict_entry *e);
/* e (with a deadline) was moved by a value change: the heap points to it again. */
void hash_ttl_moved(struct hash_ttl *t, struct dict_entry *e);

static inline size_t hash_ttl_count(const struct hash_ttl *t)
{
    return t->count;
}

/* The entry with the earliest deadline (NULL when none), and that deadline (-1). */
struct dict_entry *hash_ttl_first_entry(const struct hash_ttl *t);
long long hash_ttl_first(const struct hash_ttl *t);
/* How many deadlines are at or before now (visits only those). */
size_t hash_ttl_count_due(const struct hash_ttl *t, long long now);
/* The i-th entry of the heap (any order), for walks over every deadline. */
static inline struct dict_entry *hash_ttl_at(const struct hash_ttl *t, size_t i)
{
    return t->heap[i];
}

/* Frees the heap (not the entries). */
void hash_ttl_free(struct hash_ttl *t);
/* Heap bytes, for MEMORY USAGE. */
size_t hash_ttl_memory(const struct hash_ttl *t);
/* Heap order, positions, and exactly the entries of d with a deadline in
 * the heap, each a live entry of d; deadlines >= 0. */
bool hash_ttl_validate(const struct hash_ttl *t, struct dict *d);

#endif
