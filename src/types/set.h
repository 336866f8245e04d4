/* set: the set type — unordered collections of distinct strings. set.c
 * holds the three encodings and the low-level API; set_commands.c the
 * commands. */
#ifndef RUNNEL_TYPES_SET_H
#define RUNNEL_TYPES_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/command.h"

struct object;

/* Encoding limits (Redis 7.2's): an all-integer set stays an intset up to
 * set_max_intset_entries members (512); another small set stays packed up to
 * set_max_listpack_entries members (128) of at most set_max_listpack_value
 * bytes (64). The server sets these from the configuration. */
extern int set_max_intset_entries;
extern int set_max_listpack_entries;
extern int set_max_listpack_value;

/* Receives one member; returning false stops a walk. */
typedef bool set_visit_fn(void *ctx, const char *p, size_t len);

/* A member copied out of a set (SPOP, SMOVE): small ones in place, large
 * ones on the heap; release with set_member_release. */
struct set_member {
    char small[64];
    char *p;
    size_t len;
};
void set_member_release(struct set_member *m);

/* ---- low-level API: persistence, DEBUG and the commands call these ---- */

/* An empty set, type OBJ_SET, in the encoding Redis 7.2 picks for a set
 * about to receive `size_hint` members the first of which is first[0..len)
 * (first NULL: an intset). The caller must never store it while empty. */
struct object *set_object_create(const char *first, size_t len, size_t size_hint);
size_t set_object_length(const struct object *o);
/* Adds a member; true when it was new. Converts the encoding as needed. */
bool set_object_add(struct object *o, const char *p, size_t len);
/* Removes a member; true when it was there. */
bool set_object_remove(struct object *o, const char *p, size_t len);
bool set_object_contains(const struct object *o, const char *p, size_t len);
/* Visits every member in storage order; fn must not change the set. */
void set_object_each(const struct object *o, set_visit_fn *fn, void *ctx);
/* Hands one uniformly chosen member of a non-empty set to fn. */
void set_object_random(const struct object *o, set_visit_fn *fn, void *ctx);
/* Hands `count` distinct random members (count < length) to fn. */
void set_object_sample(const struct object *o, size_t count, set_visit_fn *fn, void *ctx);
/* Removes one random member of a non-empty set, copying it into *m. */
void set_object_pop(struct object *o, struct set_member *m);
/* SSCAN: as hash_object_scan — *cursor holds the next cursor before fn is
 * first called; a packed set is visited whole. */
void set_object_scan(struct object *o, uint64_t *cursor, long long count, set_visit_fn *fn, void *ctx);
/* Checks the encoding's invariants (tests, DEBUG). */
bool set_object_validate(const struct object *o);
/* Registers the set's object ops (name "set", free, copy, memory, rewrite). */
void set_type_register(void);

/* The set commands (set_commands.c). */
extern struct command set_commands[];

#endif
