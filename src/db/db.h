/* db: one numbered keyspace — keys to values, plus the expiry table — and
 * the rules every command relies on: a key past its expiry time is gone the
 * moment anyone looks (lazy expiry), and an active cycle samples volatile
 * keys to reclaim the ones nobody looks at.
 *
 * Upper layers learn about deletions through hooks (notifications, the AOF,
 * WATCH), so this layer includes none of them. */
#ifndef RUNNEL_DB_DB_H
#define RUNNEL_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/dict.h"
#include "db/object.h"

struct db {
    int id;
    struct dict *keys;    /* owns the key strings */
    struct dict *expires; /* shares them; value is the deadline in ms */
    struct dict *watched; /* key -> watchers (db/watch.c) */
    /* keys whose values hold items with deadlines of their own (hashes
     * with expiring fields); shares the key strings, may hold keys whose
     * items have since lost them (the field-expiry cycle drops those) */
    struct dict *hexpires;
    uint64_t hexpire_cursor;
    uint64_t expire_cursor;
    long long avg_ttl;
};

struct db_stats {
    long long keyspace_hits;
    long long keyspace_misses;
    long long expired_keys;
    long long expired_stale_perc;
    long long expire_cycle_time_used_us;
    long long expired_subkeys; /* hash fields removed at their deadline */
};

struct db_hooks {
    /* A key was removed because it expired (after removal). */
    void (*key_expired)(struct db *db, const char *key, size_t len);
    /* A key was created ("new" notifications). */
    void (*key_added)(struct db *db, const char *key, size_t len);
    /* A read looked for a key that is not there ("keymiss" notifications). */
    void (*key_missed)(struct db *db, const char *key, size_t len);
    /* Removes up to `max` items past their deadline from the value o of
     * key (a hash's fields, a stream's entries past its retention),
     * reporting and logging them; the key may be deleted. Returns how many
     * went. Installed per type by the hash and stream types. */
    size_t (*items_expire[OBJ_TYPE_COUNT])(struct db *db, const char *key, size_t len, struct object *o, size_t max);
    /* WATCH's path, shared: a key changed (after the change), or a whole
     * database was emptied (before). Client-side caching's invalidations. */
    void (*key_touched)(struct db *db, const char *key, size_t len);
    void (*db_flushed)(struct db *db);
    /* A key's value was replaced whole ("overwritten", and "type_changed"
     * when the types differ). */
    void (*key_overwritten)(struct db *db, const char *key, size_t len, int old_type, int new_type);
};

/* Told of every key that enters or leaves a database's table, whatever
 * the path (commands, loading, expiry, FLUSHALL): the cluster's index of
 * keys by slot. The key string passed to `inserted` is the table's own and
 * lives until `removed` is called for it. All NULL unless installed. */
struct db_key_index_hooks {
    void (*inserted)(struct db *db, str key);
    void (*removed)(struct db *db, const char *key, size_t len);
    void (*emptied)(struct db *db);
};
extern struct db_key_index_hooks db_key_index;

extern struct db_stats db_stats;
extern struct db_hooks db_hooks;
/* The time expiry decisions use: set once per command so that a command sees
 * one consistent instant (and replay sees the logged one). */
extern long long db_now_ms;
/* When false, lookups report expired keys as missing but do not delete them
 * (a replica, or while loading). */
extern bool db_lazy_delete;
/* While set, no key counts as expired (a replica applying its primary's
 * stream: the primary's DELs decide). */
extern bool db_expiry_ignored;
/* While loading a file nothing expires: the log already holds the DELs
 * that expiry produced when it happened. */
extern bool db_loading;

/* All databases, numbered 0..db_count-1 (set up by the server at start). */
extern struct db *db_all;
extern int db_count;
struct db *db_by_index(int index);

void db_init(struct db *db, int id);
void db_release(struct db *db);

/* Looks a key up for reading or writing; an expired key is deleted and
 * reported missing. db_find_read also counts hits/misses and touches
 * (OBJECT IDLETIME, FREQ); db_find_read_notouch only counts, for commands
 * that look at a key without using its value (EXISTS, TYPE, TTL). */
struct object *db_find(struct db *db, const char *key, size_t len);
struct object *db_find_read(struct db *db, const char *key, size_t len);
struct object *db_find_read_notouch(struct db *db, const char *key, size_t len);
/* Looks up without expiring or touching (introspection, OBJECT). */
struct object *db_peek(struct db *db, const char *key, size_t len);
bool db_exists(struct db *db, const char *key, size_t len);

/* Adds a key that must not exist. */
void db_add(struct db *db, const char *key, size_t len, struct object *val);
/* Sizes an empty database's tables for a load of this many keys. */
void db_reserve(struct db *db, size_t keys, size_t expires);
/* Adds a key read from a file, with its deadline (-1: none), without the
 * notifications db_add sends; false (nothing taken) when the key exists. */
bool db_add_loaded(struct db *db, const char *key, size_t len, struct object *val, long long expire_ms);
/* Sets a key to a value, freeing any old value; the TTL is dropped unless
 * keep_ttl. */
void db_set(struct db *db, const char *key, size_t len, struct object *val, bool keep_ttl);
/* db_set for a write that replaces a key's value whole (SET, the *STORE
 * commands): an existing key is reported through key_overwritten. Writes
 * that change a value (INCR, APPEND) use db_set. */
void db_overwrite(struct db *db, const char *key, size_t len, struct object *val, bool keep_ttl);
/* Reports an overwrite made another way (RENAME, COPY, RESTORE REPLACE). */
void db_report_overwrite(struct db *db, const char *key, size_t len, int old_type, int new_type);
/* Replaces the value of an existing key in place, keeping its TTL. */
void db_replace(struct db *db, struct dict_entry *e, struct object *val);
struct dict_entry *db_entry(struct db *db, const char *key, size_t len);
/* Deletes a key and its value; true if it existed. */
bool db_delete(struct db *db, const char *key, size_t len);
/* Removes a key and returns its value to the caller (RENAME, MOVE). */
struct object *db_take(struct db *db, const char *key, size_t len, long long *expire);

/* Expiry deadlines in ms since the epoch; -1 means none. */
void db_set_expire(struct db *db, const char *key, size_t len, long long when_ms);
long long db_get_expire(struct db *db, const char *key, size_t len);
bool db_persist(struct db *db, const char *key, size_t len);
/* True if the key has an expiry in the past (without deleting it). */
bool db_is_expired(struct db *db, const char *key, size_t len);

/* Every write calls this for each key it changed: it invalidates WATCHes
 * (and, through the hook, wakes blocked readers). */
void db_touch_key(struct db *db, const char *key, size_t len);

size_t db_size(const struct db *db);
size_t db_expires_size(const struct db *db);
/* Removes every key; returns how many there were. */
long long db_empty(struct db *db);
/* Exchanges the contents of two databases (SWAPDB), watchers stay. */
void db_swap(struct db *a, struct db *b);
/* A random live key, or NULL when there is none; deletes the expired ones
 * it meets. */
struct dict_entry *db_random_key(struct db *db);

/* The value under key now holds items with deadlines (a hash field got
 * one): the field-expiry cycle will visit it. */
void db_hexpires_add(struct db *db, const char *key, size_t len);
/* Keys listed for the field-expiry cycle (INFO keyspace's subexpiry). */
size_t db_hexpires_size(const struct db *db);
/* One slice of the field-expiry cycle: visits a few listed keys from where
 * the last slice stopped, removing items past their deadline through
 * db_hooks.items_expire, until `deadline_us` or one pass over the list.
 * Returns the number of items removed. */
long long db_active_expire_items(struct db *db, long long deadline_us);

/* One slice of active expiry for this db: samples volatile keys and deletes
 * the expired ones, stopping at `deadline_us` (monotonic µs). Returns the
 * number of keys expired. */
long long db_active_expire(struct db *db, long long deadline_us, int effort);

long long db_monotonic_us(void);
long long db_wall_ms(void);

#endif
