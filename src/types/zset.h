/* zset: the sorted set type — members with double scores, ordered by score
 * and then by member bytes.
 *
 * Two encodings, as in Redis (OBJECT ENCODING names them the same way):
 *  - listpack: while a set holds at most zset_max_listpack_entries members
 *    of at most zset_max_listpack_value bytes, one packed buffer of entries
 *    in order (zset.c describes the entry format). O(n) operations on a
 *    small n, a few bytes per member of overhead.
 *  - skiplist: past either threshold, a skip list with spans
 *    (zset_skiplist.h) for O(log n) access by score and by rank, plus a
 *    member dict (db/dict.h) for O(1) ZSCORE whose keys are the members held
 *    inside the skip-list nodes. A set never goes back to listpack; new sets
 *    built by the store commands start in whichever encoding their size fits.
 *
 * Everything above the encodings works in ranks: a score or lex interval
 * becomes the rank range [count of members below min, count at or below
 * max - 1], found with zset_object_count_prefix, and ranges are then read or
 * deleted by rank. zset.c holds the encodings and this low-level API;
 * zset_commands.c, zset_store.c and zset_blocking.c the commands. */
#ifndef RUNNEL_TYPES_ZSET_H
#define RUNNEL_TYPES_ZSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/command.h"
#include "types/zset_skiplist.h"

struct object;

/* Encoding thresholds; the server sets them from config (defaults 128, 64). */
extern int zset_max_listpack_entries;
extern int zset_max_listpack_value;

/* ZADD's conditions (input) and what happened (output). */
enum zset_add_flags {
    ZSET_IN_NX = 1 << 0,
    ZSET_IN_XX = 1 << 1,
    ZSET_IN_GT = 1 << 2,
    ZSET_IN_LT = 1 << 3,
    ZSET_IN_INCR = 1 << 4,
    ZSET_OUT_ADDED = 1 << 8,
    ZSET_OUT_UPDATED = 1 << 9,
    ZSET_OUT_NOP = 1 << 10, /* a condition refused the change */
    ZSET_OUT_NAN = 1 << 11, /* INCR would have made the score NaN; nothing changed */
};

/* Hands one member to a visitor; the bytes are valid during the call only. */
typedef void zset_visit_fn(void *ctx, const char *member, size_t len, double score);

/* ---- low-level API: persistence, blocking and the commands call these ---- */

/* An empty sorted set, type OBJ_ZSET, in the encoding that `size_hint`
 * members of up to `member_len_hint` bytes call for. The caller must never
 * store it in the keyspace while empty. */
struct object *zset_object_create(size_t size_hint, size_t member_len_hint);
size_t zset_object_length(const struct object *o);
/* The member's score; false when it is not in the set. */
bool zset_object_score(const struct object *o, const char *member, size_t len, double *score);
/* Adds or updates one member under ZADD's conditions (ZSET_IN_*); returns
 * the ZSET_OUT_* flags and stores the member's resulting score in *result
 * (unless ZSET_OUT_NOP or ZSET_OUT_NAN). Converts to skiplist when needed. */
int zset_object_add(struct object *o, double score, const char *member, size_t len, int flags, double *result);
/* Removes one member; false when absent. */
bool zset_object_remove(struct object *o, const char *member, size_t len);
/* 0-based rank from the lowest (reverse: from the highest) member, and its
 * score; -1 when absent. */
long long zset_object_rank(const struct object *o, const char *member, size_t len, bool reverse, double *score);
/* How many leading members (in order) satisfy pred, a prefix property. */
size_t zset_object_count_prefix(const struct object *o, zsl_pred_fn *pred, const void *ctx);
/* Visits the members of 0-based ranks start..end (inclusive, within the
 * set) in order, or from end down to start when reverse. */
void zset_object_range(const struct object *o, size_t start, size_t end, bool reverse, zset_visit_fn *fn, void *ctx);
/* Visits every member in order (AOF rewrite, copying, the store commands). */
void zset_object_each(const struct object *o, zset_visit_fn *fn, void *ctx);
/* Removes the members of ranks start..end (inclusive, within the set);
 * returns how many. */
size_t zset_object_delete_range(struct object *o, size_t start, size_t end);
/* ZSCAN: visits some members from `cursor` on and returns the next cursor
 * (0 when done). A listpack set is visited whole in one call. */
uint64_t zset_object_scan(const struct object *o, uint64_t cursor, zset_visit_fn *fn, void *ctx);
/* Checks the encoding's invariants (tests, DEBUG). */
bool zset_object_validate(const struct object *o);
/* Registers the type's object ops (name "zset", free, copy, memory). */
void zset_type_register(void);

/* ---- command helpers shared by zset_commands.c, zset_store.c, zset_blocking.c ---- */

/* Looks up key for a zset command (db_find for writes, db_find_read for
 * reads); replies WRONGTYPE and returns false when it holds another type.
 * *out is NULL when the key is missing. */
bool zset_lookup(struct request *req, const struct arg *key, bool write, struct object **out);
/* Replies a member's score: a bulk string in RESP2, a double in RESP3. */
void zset_reply_score(struct request *req, double score);
/* Replies one member, with its score when withscores; as a [member, score]
 * pair when `pair` (RESP3's shape for scored lists). */
void zset_reply_member(struct request *req, const char *member, size_t len, double score, bool withscores, bool pair);
/* ZADD's work once scores are parsed: adds n members, the i-th being
 * argv[first + stride*i] with scores[i], to the set at argv[1] (created when
 * missing) under ZSET_IN_* flags, reports "zadd"/"zincr" and replies as
 * ZADD (ch: changed members count too) or, with INCR, ZINCRBY. */
void zset_add_scored(struct request *req, const double *scores, int first, int stride, int n, int flags, bool ch);
/* After n members left the set o under key: reports `event`, then deletes
 * the key (reporting "del") when the set is empty. o may be freed. */
void zset_removed(struct request *req, const struct arg *key, struct object *o, const char *event, long long n);
/* Stores a command's result under dst (replacing any value and its TTL) and
 * reports `event`; a NULL or empty result deletes dst instead, reporting
 * "del" when it existed. Replies the result's size. Takes the result. */
void zset_store_result(struct request *req, const struct arg *dst, struct object *result, const char *event);

enum zset_pop_shape {
    ZSET_POP_FLAT,      /* ZPOPMIN key [count]: RESP2 m, s, ...; RESP3 [m, s] or pairs */
    ZSET_POP_KEY_FLAT,  /* BZPOPMIN: [key, m, s] */
    ZSET_POP_KEY_PAIRS, /* ZMPOP/BZMPOP: [key, [[m, s], ...]] */
};
/* Pops up to `count` lowest (max: highest) members of the non-empty set o
 * under key, replies them in `shape` (ZSET_POP_FLAT with has_count decides
 * between one pair and a list of them), logs them as ZPOPMIN/ZPOPMAX and
 * reports zpopmin/zpopmax, then "del" when the set is emptied. */
void zset_pop_reply(struct request *req, const struct arg *key, struct object *o, bool max, long long count,
                    bool has_count, enum zset_pop_shape shape);

/* ZMPOP's and BZMPOP's arguments: numkeys key... MIN|MAX [COUNT n]. */
struct zset_mpop {
    int first_key;
    int numkeys;
    bool max;
    long long count;
};
/* Parses them with numkeys at argv[numkeys_index]; replies Redis's error
 * and returns false when malformed. */
bool zset_parse_mpop(struct request *req, int numkeys_index, struct zset_mpop *m);
/* Key positions of a command whose numkeys is at argv[numkeys_index]. */
int zset_numkeys_positions(int numkeys_index, struct arg *argv, int argc, int *positions, int max);

/* The commands: zset_commands.c, zset_store.c, zset_blocking.c. */
extern struct command zset_commands[];
extern struct command zset_store_commands[];
extern struct command zset_blocking_commands[];

#endif
