/* list: the list type — a chunked deque of packed nodes (list_node.h), with
 * O(1) push and pop at both ends. list.c holds the deque and its low-level
 * API; list_commands.c the commands and the helpers the blocking commands
 * share with them. */
#ifndef RUNNEL_TYPES_LIST_H
#define RUNNEL_TYPES_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/command.h"

struct object;

/* Node size limit: negative = bytes per node (-1..-5: 4, 8, 16, 32, 64 KB),
 * positive = entries per node. Default -2; the server sets it from config. */
extern int list_max_listpack_size;
/* Nodes kept uncompressed at each end; the ones farther in are compressed
 * (list_compress.h). 0 = no compression, the default. */
extern int list_compress_depth;

enum list_end { LIST_HEAD = 0, LIST_TAIL = 1 };

/* The largest element a list holds (a node counts its bytes in 32 bits);
 * the commands refuse larger ones. */
#define LIST_MAX_ELEMENT_LEN ((size_t)UINT32_MAX - 128)

typedef void list_elem_fn(void *ctx, const char *p, size_t len);
typedef bool list_visit_fn(void *ctx, const char *p, size_t len);

/* ---- low-level API: persistence, blocking and the commands call these ---- */

/* An empty list, type OBJ_LIST. Its encoding tag follows Redis 7.2 (listpack
 * while small, quicklist once large); the storage is the same deque either
 * way. The caller must never store it in the keyspace while empty. */
struct object *list_object_create(void);
size_t list_object_length(const struct object *o);
/* Pushes one element at an end. */
void list_object_push(struct object *o, const char *p, size_t len, enum list_end end);
/* Pops one element, handing its bytes to fn before they are removed; false when empty. */
bool list_object_pop(struct object *o, enum list_end end, list_elem_fn *fn, void *ctx);
/* Visits elements in order (for AOF rewrite / DEBUG); stops when fn returns
 * false. The bytes are valid only during the call (a compressed node is
 * closed again once walked), and fn must not change any list. */
void list_object_each(const struct object *o, list_visit_fn *fn, void *ctx);
/* Registers the list's object ops (name "list", free, copy, memory). */
void list_type_register(void);

/* Push and pop counts a list keeps when a higher layer asks for them
 * (http/'s list rates, for lists matching metrics-list-patterns); other
 * lists pay one test of a NULL pointer per push or pop. */
struct list_counts {
    long long pushed, popped;
};
/* The counts a list just created under `key` in database `db` should add
 * to, or NULL for none; NULL hook: none. Installed by http/. */
extern struct list_counts *(*list_counts_for)(int db, const char *key, size_t len);
/* Makes the list add its pushes and pops to *c from now on (NULL: stop). */
void list_object_count_into(struct object *o, struct list_counts *c);
/* The counts the list adds to, or NULL. */
struct list_counts *list_object_counts(const struct object *o);

/* ---- deeper operations, for the commands ---- */

/* Pushes args[0..n) one after another at `end` (LPUSH reverses them). */
void list_object_push_many(struct object *o, const struct arg *args, int n, enum list_end end);
/* Hands element `index` (negative counts from the tail) to fn; false when out of range. */
bool list_object_index(const struct object *o, long long index, list_elem_fn *fn, void *ctx);
/* Hands `count` elements from index `start` on to fn; the range must exist. */
void list_object_range(const struct object *o, size_t start, size_t count, list_elem_fn *fn, void *ctx);
/* Replaces element `index` (negative counts from the tail); false when out of range. */
bool list_object_set(struct object *o, long long index, const char *p, size_t len);
/* Inserts an element before (or after) the first element equal to the
 * pivot; false when there is no such element. */
bool list_object_insert(struct object *o, bool after, const char *pivot, size_t pivot_len, const char *p, size_t len);
/* Removes elements equal to p: count > 0 the first count from the head,
 * count < 0 the first -count from the tail, 0 all. Returns how many. */
size_t list_object_remove(struct object *o, const char *p, size_t len, long long count);
/* Removes `head` elements from the head and `tail` from the tail; their sum
 * must not exceed the length. */
void list_object_trim(struct object *o, size_t head, size_t tail);
/* LPOS: reports (through fn, in scan order) the indexes of the elements
 * equal to p, skipping the first rank-1 matches; rank < 0 scans from the
 * tail. Stops after `count` reports (0: no limit) or after examining
 * `maxlen` elements (0: no limit). Returns the number reported. */
size_t list_object_find(const struct object *o, const char *p, size_t len, long long rank, size_t count,
                        size_t maxlen, void (*fn)(void *ctx, long long index), void *ctx);
/* Checks every node of the list (tests, DEBUG): false when anything is inconsistent. */
bool list_object_validate(const struct object *o);
/* Number of nodes in the deque (tests, DEBUG). */
size_t list_object_node_count(const struct object *o);

/* ---- command helpers shared with the blocking commands (list_commands.c) ---- */

/* Looks up key for a list command (db_find for writes, db_find_read for
 * reads); replies WRONGTYPE and returns false when it holds another type.
 * *out is NULL when the key is missing. */
bool list_lookup(struct request *req, const struct arg *key, bool write, struct object **out);
/* Parses LEFT/RIGHT at argv[i]; replies a syntax error and returns false otherwise. */
bool list_parse_end(struct request *req, int i, enum list_end *end);

enum list_pop_shape {
    LIST_POP_ELEMENT,     /* LPOP key: the element */
    LIST_POP_ARRAY,       /* LPOP key count: [e1, e2...] */
    LIST_POP_KEY_ELEMENT, /* BLPOP: [key, e] */
    LIST_POP_KEY_ARRAY,   /* LMPOP/BLMPOP: [key, [e1, e2...]] */
};
/* Pops up to `count` elements from `end` of the non-empty list o stored under
 * key, replies them in `shape`, and reports the pop: lpop/rpop, then "del"
 * and the key's removal when the list is emptied. */
void list_pop_reply(struct request *req, const struct arg *key, struct object *o, enum list_end end, long long count,
                    enum list_pop_shape shape);
/* LMOVE's core: moves one element from `from` of the non-empty list src to
 * `to` of dst (created when missing; src and dst may be the same key) and
 * replies it. Replies WRONGTYPE and moves nothing, returning false, when
 * dst holds another type. Reports push on dst (and marks it ready for
 * blocked clients), then pop (and "del") on src. */
bool list_move_reply(struct request *req, const struct arg *src, struct object *so, const struct arg *dst,
                     enum list_end from, enum list_end to);

/* LMOVEM's and BLMOVEM's arguments after the keys: LEFT|RIGHT LEFT|RIGHT
 * [<COUNT n | EXACTLY n> <OBO | BULK>] (Redis 8.10). */
struct list_movem {
    enum list_end from, to;
    long long count; /* 1 without the how-many block */
    bool exactly;    /* EXACTLY: all or nothing */
    bool bulk;       /* BULK: the block keeps its order; OBO: one LMOVE after another */
};
/* Parses the ends at argv[3] and argv[4] and the how-many block from
 * argv[block_index] to the end; replies Redis's error and returns false. */
bool list_parse_movem(struct request *req, int block_index, struct list_movem *m);
/* How many elements the source must hold for the move to happen now. */
size_t list_movem_needs(const struct list_movem *m);
/* LMOVEM's core: moves min(count, length) elements from `from` of the list
 * src (holding at least list_movem_needs) to `to` of dst (created when
 * missing; it may be src) and replies them in destination order. Replies
 * WRONGTYPE and moves nothing, returning false, when dst holds another
 * type. Logged as LMOVEM ... EXACTLY <moved> <order>; reports the push on
 * dst (marking it ready), then the pop (and "del") on src. */
bool list_movem_reply(struct request *req, const struct arg *src, struct object *so, const struct arg *dst,
                      const struct list_movem *m);

/* LMPOP's and BLMPOP's arguments: numkeys keys... LEFT|RIGHT [COUNT n]. */
struct list_mpop {
    int first_key; /* argv index of the first key */
    int numkeys;
    enum list_end end;
    long long count; /* 1 when COUNT is absent */
};
/* Parses them with numkeys at argv[numkeys_index]; replies Redis's error and
 * returns false when malformed. */
bool list_parse_mpop(struct request *req, int numkeys_index, struct list_mpop *m);
/* Pops from the first non-empty list among the keys and replies
 * [key, [elements]]; returns true when it replied (that, or WRONGTYPE for a
 * key met first that holds another type), false when every key was missing
 * (nothing replied: LMPOP replies a null array, BLMPOP blocks). */
bool list_mpop_serve(struct request *req, const struct list_mpop *m);
/* Key positions of LMPOP (numkeys at argv[1]) and BLMPOP (at argv[2]). */
int list_lmpop_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);
int list_blmpop_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);

/* The non-blocking list commands (list_commands.c). */
extern struct command list_commands[];
/* The blocking pops (list_blocking.c). */
extern struct command list_blocking_commands[];

#endif
