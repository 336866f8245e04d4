/* stream_index: an ordered map from 128-bit stream IDs to pointers — a
 * B+tree. Streams use it to find the packed block holding an ID (keyed by
 * each block's first ID), consumer groups for their pending-entries lists.
 *
 * Seek, insert and remove are O(log n). Leaves are linked, so a range is
 * walked leaf to leaf without going back to the root. Appending at the end
 * (the common case for streams and PELs) splits leaves unevenly so that
 * they stay full. Any insert or remove invalidates outstanding iterators:
 * callers seek again afterwards. */
#ifndef RUNNEL_TYPES_STREAM_INDEX_H
#define RUNNEL_TYPES_STREAM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A stream entry ID: milliseconds and a sequence number within them. */
struct stream_id {
    uint64_t ms;
    uint64_t seq;
};

static inline int stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}

static inline bool stream_id_is_zero(const struct stream_id *id)
{
    return id->ms == 0 && id->seq == 0;
}

/* The next / previous ID in order; false (id unchanged) at the ends. */
bool stream_id_incr(struct stream_id *id);
bool stream_id_decr(struct stream_id *id);

struct stream_index;
struct stream_index_node;

/* A position in the index; valid until the next insert or remove. */
struct stream_index_iter {
    struct stream_index_node *leaf; /* NULL: past either end */
    int pos;
};

struct stream_index *stream_index_new(void);
/* Frees the index; calls free_value (when not NULL) on every value. */
void stream_index_free(struct stream_index *t, void (*free_value)(void *value));
size_t stream_index_size(const struct stream_index *t);
/* Number of tree nodes and the bytes they take (XINFO, MEMORY USAGE). */
size_t stream_index_nodes(const struct stream_index *t);
size_t stream_index_memory(const struct stream_index *t);

/* Adds key -> value; false (and nothing changes) when the key is present. */
bool stream_index_insert(struct stream_index *t, struct stream_id key, void *value);
/* Removes key; returns its value through *value (when not NULL). */
bool stream_index_remove(struct stream_index *t, struct stream_id key, void **value);
/* The value stored under key, or NULL. */
void *stream_index_find(const struct stream_index *t, struct stream_id key);

/* Positions `it` and returns whether it points at an element. */
bool stream_index_first(const struct stream_index *t, struct stream_index_iter *it);
bool stream_index_last(const struct stream_index *t, struct stream_index_iter *it);
/* First element >= key, or (reverse) last element <= key. */
bool stream_index_seek_ge(const struct stream_index *t, struct stream_id key, struct stream_index_iter *it);
bool stream_index_seek_le(const struct stream_index *t, struct stream_id key, struct stream_index_iter *it);
bool stream_index_next(struct stream_index_iter *it);
bool stream_index_prev(struct stream_index_iter *it);

static inline bool stream_index_valid(const struct stream_index_iter *it)
{
    return it->leaf != NULL;
}
struct stream_id stream_index_key(const struct stream_index_iter *it);
void *stream_index_value(const struct stream_index_iter *it);
/* Replaces the value at the iterator (a block that moved when it grew). */
void stream_index_set_value(struct stream_index_iter *it, void *value);

#endif
