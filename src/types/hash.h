/* hash: the hash type — field/value maps. hash.c holds the two encodings and
 * the low-level API; hash_commands.c the commands. */
#ifndef RUNNEL_TYPES_HASH_H
#define RUNNEL_TYPES_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/command.h"

struct object;

/* A hash stays packed while it has at most hash_max_listpack_entries fields
 * and no field or value is longer than hash_max_listpack_value bytes
 * (defaults 128 and 64); the server sets these from the configuration. */
extern int hash_max_listpack_entries;
extern int hash_max_listpack_value;

/* A field's value as read from a hash: p points into the hash (valid until
 * the hash changes) or, for a packed integer, into buf. */
struct hash_value {
    const char *p;
    size_t len;
    char buf[24];
};

/* Receives one field and its value; returning false stops a walk. */
typedef bool hash_visit_fn(void *ctx, const char *field, size_t flen, const char *value, size_t vlen);

/* ---- low-level API: persistence, DEBUG and the commands call these ---- */

/* An empty hash, type OBJ_HASH, packed. The caller must never store it in
 * the keyspace while empty. */
struct object *hash_object_create(void);
size_t hash_object_length(const struct object *o);
/* Sets field to value, adding the field when missing; true when added.
 * Converts the hash to a hash table when it outgrows the packed limits. */
bool hash_object_set(struct object *o, const char *field, size_t flen, const char *value, size_t vlen);
/* Looks a field up; false (and *out untouched) when it is absent. */
bool hash_object_get(const struct object *o, const char *field, size_t flen, struct hash_value *out);
/* Removes a field; false when it was absent. The caller deletes the key
 * when the hash becomes empty. */
bool hash_object_delete(struct object *o, const char *field, size_t flen);
/* Visits every field in storage order; fn must not change the hash. */
void hash_object_each(const struct object *o, hash_visit_fn *fn, void *ctx);
/* Hands one uniformly chosen field of a non-empty hash to fn. */
void hash_object_random(const struct object *o, hash_visit_fn *fn, void *ctx);
/* Hands `count` distinct random fields (count < length) to fn, in random
 * order. */
void hash_object_sample(const struct object *o, size_t count, hash_visit_fn *fn, void *ctx);
/* HSCAN: from *cursor, gathers the fields of a few buckets until about
 * `count` were seen, stores the next cursor (0 when done) in *cursor, and
 * only then hands them to fn. A packed hash is visited whole at once. */
void hash_object_scan(struct object *o, uint64_t *cursor, long long count, hash_visit_fn *fn, void *ctx);
/* Checks the encoding's invariants (tests, DEBUG). */
bool hash_object_validate(const struct object *o);
/* Registers the hash's object ops (name "hash", free, copy, memory, rewrite). */
void hash_type_register(void);

/* The hash commands (hash_commands.c). */
extern struct command hash_commands[];

#endif
