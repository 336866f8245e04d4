/* dict: a hash table keyed by byte strings, for the keyspace and every other
 * name lookup in Runnel (expires, pub/sub channels, config, commands), and
 * for the members of large sets and the fields of large hashes.
 *
 * - Keys are hashed with SipHash-1-2 under a random 128-bit seed set once at
 *   start-up (dict_set_hash_seed), so clients cannot force collisions.
 * - Chaining, power-of-two tables; a table grows at load factor 1 and shrinks
 *   below 1/8. Resizing is incremental: two tables live side by side while
 *   entries migrate a few buckets per operation (and in dict_rehash_ms from
 *   the cron), so no single command pays for a whole resize.
 * - An entry is laid out one of three ways, chosen by the dict's type:
 *   DICT_STR_KEY: a `str` key, a value word and the chain link (24 bytes,
 *     32 with jemalloc). The dict owns its key strings when its type says so
 *     (the keyspace), and borrows them otherwise (the expires table shares
 *     the keyspace's keys).
 *   DICT_EMBED_KEY: the chain link followed by the key's length and bytes,
 *     in one allocation and with no value (large sets: a 13-byte member is a
 *     22-byte entry, 32 with jemalloc, against 64 for an entry and a str).
 *   DICT_EMBED_KEY_VALUE: as DICT_EMBED_KEY, then a byte-string value's
 *     length and bytes (large hashes: field and value in one allocation).
 *   Lengths are stored 7 bits per byte (one byte below 128). Embedded entries
 *   are read only through dict_entry_key and dict_entry_value; their key and
 *   v fields do not exist. Embedded bytes are not NUL-terminated. */
#ifndef RUNNEL_DB_DICT_H
#define RUNNEL_DB_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

/* The chain link comes first in every layout; key and v exist only in
 * DICT_STR_KEY dicts (an embedded entry's bytes start where key would). */
struct dict_entry {
    struct dict_entry *next;
    str key;
    union {
        void *ptr;
        int64_t i64;
        double d;
    } v;
};

enum dict_layout {
    DICT_STR_KEY = 0,
    DICT_EMBED_KEY,
    DICT_EMBED_KEY_VALUE,
};

struct dict_type {
    bool nocase;              /* keys compare and hash case-insensitively (ASCII) */
    bool owns_keys;           /* DICT_STR_KEY: str_free keys when entries go */
    void (*val_free)(void *); /* DICT_STR_KEY: frees v.ptr when entries go; NULL for none */
    enum dict_layout layout;  /* DICT_STR_KEY unless set */
    /* DICT_EMBED_KEY_VALUE: bytes kept after each entry's value for the
     * dict's user (dict_entry_trailer): zeroed in a new entry, kept when its
     * value changes. At most DICT_TRAILER_MAX. */
    uint8_t trailer;
};

#define DICT_TRAILER_MAX 16

struct dict_table {
    struct dict_entry **buckets;
    uint64_t size; /* buckets, a power of two, or 0 */
    uint64_t used; /* entries */
};

struct dict {
    const struct dict_type *type;
    struct dict_table t[2];
    int64_t rehash_index; /* -1 when not rehashing */
    int pause_rehash;     /* > 0 while a safe iterator is live */
};

struct dict_iter {
    struct dict *d;
    int table;
    int64_t index;
    bool safe;
    struct dict_entry *entry, *next;
};

void dict_set_hash_seed(const uint8_t seed[16]);
uint64_t dict_hash(const void *key, size_t len);
uint64_t dict_hash_nocase(const void *key, size_t len);

struct dict *dict_create(const struct dict_type *type);
void dict_release(struct dict *d);
/* Removes every entry (freeing per the type) and keeps the dict usable. */
void dict_clear(struct dict *d);
size_t dict_size(const struct dict *d);
/* Number of buckets over both tables, for INFO/DEBUG. */
size_t dict_buckets(const struct dict *d);

/* Looks up a key by its bytes; NULL when absent. */
struct dict_entry *dict_find(struct dict *d, const void *key, size_t len);
/* DICT_STR_KEY: inserts a new key (the dict takes `key` when it owns keys);
 * returns the new entry, or NULL (and takes nothing) when the key exists
 * already. */
struct dict_entry *dict_add(struct dict *d, str key, void *val);
/* Finds the key or adds it; *existed tells which. DICT_STR_KEY: a new entry
 * has a NULL value, and its key bytes are copied into a new str only when
 * the dict owns keys; otherwise `owned_key` (may be NULL) is used as is.
 * Embedded layouts copy the bytes into the new entry (an empty value for
 * DICT_EMBED_KEY_VALUE); owned_key must be NULL. */
struct dict_entry *dict_add_or_find(struct dict *d, const void *key, size_t len, str owned_key, bool *existed);
/* DICT_EMBED_KEY_VALUE: sets key's value to val[0..vlen), adding the key
 * when absent; returns true when it was added. Replacing a value may move
 * the entry, so no entry pointer of this dict may be held across the call
 * (an iterator's included), and val must not point into the dict. */
bool dict_put_value(struct dict *d, const void *key, size_t klen, const void *val, size_t vlen);
/* The same, returning the entry (where it is now) and whether it was added
 * in *added: for a user that keeps pointers to entries (and must repoint
 * them when a value change moved one). */
struct dict_entry *dict_put_value_entry(struct dict *d, const void *key, size_t klen, const void *val, size_t vlen,
                                        bool *added);

/* DICT_EMBED_KEY_VALUE: switches d to `type` (the same layout, a trailer
 * at least as long), growing every entry's trailer in place with zero
 * bytes: no key is hashed again. Entries move: no pointer to one may be
 * held across the call. */
void dict_grow_trailers(struct dict *d, const struct dict_type *type);

/* An entry's key bytes and length, in any layout. */
const char *dict_entry_key(const struct dict *d, const struct dict_entry *e, size_t *len);
/* DICT_EMBED_KEY_VALUE: an entry's value bytes and length. */
const char *dict_entry_value(const struct dict_entry *e, size_t *len);
/* DICT_EMBED_KEY_VALUE with a trailer: its bytes, right after the value
 * (unaligned). */
unsigned char *dict_entry_trailer(const struct dict_entry *e);
/* Removes a key; frees key and value per the type. Returns true if found. */
bool dict_delete(struct dict *d, const void *key, size_t len);
/* Unlinks a key without freeing anything and returns its entry for the
 * caller to release with dict_free_unlinked (or NULL if absent). */
struct dict_entry *dict_unlink(struct dict *d, const void *key, size_t len);
void dict_free_unlinked(struct dict *d, struct dict_entry *e);

/* A random entry, every entry equally likely (up to chains longer than 8
 * and tables too sparse for 1,000 draws); NULL when empty. */
struct dict_entry *dict_random(struct dict *d);

/* Iteration. A safe iterator allows dict_delete of the current entry and
 * pauses rehashing while it lives; an unsafe one allows no changes. */
void dict_iter_init(struct dict_iter *it, struct dict *d, bool safe);
struct dict_entry *dict_iter_next(struct dict_iter *it);
void dict_iter_done(struct dict_iter *it);

/* SCAN: visits the entries of a few buckets starting at `cursor` and returns
 * the next cursor (0 when done). Uses reverse-binary cursor increments so
 * that every entry present for the whole scan is returned at least once,
 * even across resizes. */
typedef void dict_scan_fn(void *ctx, struct dict_entry *e);
uint64_t dict_scan(struct dict *d, uint64_t cursor, dict_scan_fn *fn, void *ctx);

/* Checks that every entry is found under its own key and that the counts
 * add up (tests, DEBUG). */
bool dict_validate(struct dict *d);

/* Does incremental rehash work for about `ms` milliseconds; returns true if
 * rehashing is still in progress. */
bool dict_rehash_ms(struct dict *d, int ms);
/* Sizes a dict that has no table yet for `entries` at once (a loader that
 * knows how many are coming), so filling it never rehashes; no effect on a
 * dict that has one. */
void dict_reserve(struct dict *d, size_t entries);
/* Shrinks the table when it is under 1/8 full (called from the cron). */
void dict_shrink_if_sparse(struct dict *d);

#endif
