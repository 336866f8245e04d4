/* zset_skiplist: the ordered index of a large sorted set — a skip list of
 * (score, member) pairs ordered by score, then by member bytes, whose links
 * carry spans so that rank lookups are O(log n) too.
 *
 * Layout of a node, one allocation:
 *   score, backward link, level-0 forward link,
 *   the member as a `str` (length and capacity words, bytes, NUL, padded to 8),
 *   then levels 1..height-1 as {forward, span}.
 * Level 0 stores no span: it is always 1. The height itself is not stored;
 * the algorithms learn it from the links that point at a node. Because the
 * member is a well-formed str inside the node, the member dict of zset.c
 * borrows it as its key instead of keeping a copy: one allocation per
 * element besides the dict entry.
 *
 * A node's address never changes while it is in the list: score updates
 * relink the same node. */
#ifndef RUNNEL_TYPES_ZSET_SKIPLIST_H
#define RUNNEL_TYPES_ZSET_SKIPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZSL_MAX_LEVEL 32

struct zsl_node {
    double score;
    struct zsl_node *backward; /* NULL for the first node */
    struct zsl_node *next;     /* level-0 forward; NULL for the last */
    uint32_t member_len;       /* these two words are the member's str header */
    uint32_t member_cap;
    char member[];
};

struct zsl {
    struct zsl_node *header; /* sentinel with ZSL_MAX_LEVEL levels */
    struct zsl_node *tail;
    size_t length;
    int level; /* levels in use, >= 1 */
};

/* Reports whether a node lies before a bound; must be true for a prefix of
 * the list and false after it (score < min, member <= max, ...). */
typedef bool zsl_pred_fn(const void *ctx, double score, const char *member, size_t len);
/* Told about a node just before it is freed. */
typedef void zsl_node_fn(void *ctx, struct zsl_node *n);

/* Orders (score, member) pairs as the list does: <0, 0, >0. */
int zsl_compare(double s1, const char *m1, size_t l1, double s2, const char *m2, size_t l2);

void zsl_init(struct zsl *zsl);
/* Frees every node and the sentinel. */
void zsl_release(struct zsl *zsl);
/* Inserts a pair whose member is not in the list yet; returns its node. */
struct zsl_node *zsl_insert(struct zsl *zsl, double score, const char *member, size_t len);
/* Moves an existing node to its place for `score`; the node keeps its address. */
void zsl_update_score(struct zsl *zsl, struct zsl_node *n, double score);
/* Unlinks and frees the node of this exact pair; false when absent. */
bool zsl_delete(struct zsl *zsl, double score, const char *member, size_t len);
/* 1-based rank of an existing pair; 0 when absent. */
size_t zsl_rank(const struct zsl *zsl, double score, const char *member, size_t len);
/* The node at 1-based rank, or NULL past the end. */
struct zsl_node *zsl_at(const struct zsl *zsl, size_t rank);
/* How many leading nodes satisfy pred (pred is a prefix property). */
size_t zsl_count_prefix(const struct zsl *zsl, zsl_pred_fn *pred, const void *ctx);
/* Unlinks and frees the nodes of 1-based ranks start..end (inclusive, within
 * the list), calling fn (may be NULL) on each first. Returns how many. */
size_t zsl_delete_ranks(struct zsl *zsl, size_t start, size_t end, zsl_node_fn *fn, void *ctx);
/* Bytes allocated for a node (MEMORY USAGE). */
size_t zsl_node_memory(const struct zsl_node *n);
/* Checks order, spans, backward links and the length (tests, DEBUG). */
bool zsl_validate(const struct zsl *zsl);

#endif
