/* hash: the hash type — field/value maps. hash.c holds the two encodings and
 * the low-level API; hash_commands.c the commands. */
#ifndef RUNNEL_TYPES_HASH_H
#define RUNNEL_TYPES_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/command.h"

struct object;
struct db;

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
/* As hash_object_set (which also drops the field's deadline), but an
 * existing field keeps its deadline (HINCRBY, HSETEX KEEPTTL). */
bool hash_object_update(struct object *o, const char *field, size_t flen, const char *value, size_t vlen);
/* Looks a field up; false (and *out untouched) when it is absent or past
 * its deadline. */
bool hash_object_get(const struct object *o, const char *field, size_t flen, struct hash_value *out);
/* Removes a field; false when it was absent. The caller deletes the key
 * when the hash becomes empty. */
bool hash_object_delete(struct object *o, const char *field, size_t flen);
/* Visits every field in storage order (not those past their deadline); fn
 * must not change the hash. */
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
/* ---- field expiry: deadlines are absolute times in ms ---- */

#define HASH_FIELD_MISSING (-2)    /* no such field, or past its deadline */
#define HASH_FIELD_PERSISTENT (-1) /* the field has no deadline */

/* Receives the name of a field. */
typedef void hash_field_fn(void *ctx, const char *field, size_t flen);

/* A field's deadline, or HASH_FIELD_PERSISTENT / HASH_FIELD_MISSING. */
long long hash_object_deadline(const struct object *o, const char *field, size_t flen);
/* Gives a present field a deadline (replacing any). */
void hash_object_set_deadline(struct object *o, const char *field, size_t flen, long long when_ms);
/* Removes a field's deadline; false when it had none. */
bool hash_object_persist(struct object *o, const char *field, size_t flen);
/* Whether any field has a deadline (the _EX encodings). */
bool hash_object_has_deadlines(const struct object *o);
/* The earliest deadline, or -1 when none. */
long long hash_object_first_deadline(const struct object *o);
/* The number of fields not past their deadline. */
size_t hash_object_live_length(const struct object *o);
/* Removes up to max fields whose deadline is at or before now, earliest
 * first, calling fn with each name just before it goes; returns how many. */
size_t hash_object_remove_expired(struct object *o, long long now, size_t max, hash_field_fn *fn, void *ctx);

/* Registers the hash's object ops (name "hash", free, copy, memory, rewrite). */
void hash_type_register(void);

/* ---- shared by hash_commands.c and hash_expiry.c ---- */

/* Looks up key for a hash command (db_find for writes, db_find_read for
 * reads); replies WRONGTYPE and returns false when it holds another type.
 * Fields past their deadline are removed first (hash_expire_fields); *out
 * is NULL when the key is missing or went with them. */
bool hash_lookup(struct request *req, const struct arg *key, bool write, struct object **out);
/* On a primary, removes up to max fields of o (under key) past their
 * deadline: logs an HDEL for each, reports "hexpired", deletes the key
 * (reporting "del") when none is left. Returns how many went. */
size_t hash_expire_fields(struct db *db, const char *key, size_t len, struct object *o, size_t max);
/* Installs the field-expiry cycle's hook (db_hooks.items_expire). */
void hash_expiry_init(void);

/* The hash commands (hash_commands.c) and those of field expiry
 * (hash_expiry.c). */
extern struct command hash_commands[];
extern struct command hash_expiry_commands[];

#endif
