#include "db/db.h"

#include <sys/time.h>
#include <time.h>

#include "db/oplog.h"
#include "db/watch.h"

struct db_stats db_stats;
struct db_hooks db_hooks;
long long db_now_ms;
bool db_lazy_delete = true;
bool db_expiry_ignored;
struct db_key_index_hooks db_key_index;
bool db_loading;
struct db *db_all;
int db_count;

struct db *db_by_index(int index)
{
    return (index >= 0 && index < db_count) ? &db_all[index] : NULL;
}

static void db_free_value(void *v)
{
    object_free(v);
}

static const struct dict_type db_keys_type = {.nocase = false, .owns_keys = true, .val_free = db_free_value};
static const struct dict_type db_expires_type = {.nocase = false, .owns_keys = false, .val_free = NULL};

long long db_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long db_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void db_init(struct db *db, int id)
{
    db->id = id;
    db->keys = dict_create(&db_keys_type);
    db->expires = dict_create(&db_expires_type);
    db->watched = watch_table_create();
    db->hexpires = dict_create(&db_expires_type);
    db->hexpire_cursor = 0;
    db->expire_cursor = 0;
    db->avg_ttl = 0;
}

void db_release(struct db *db)
{
    dict_release(db->expires);
    dict_release(db->hexpires);
    dict_release(db->keys);
    dict_release(db->watched);
}

bool db_is_expired(struct db *db, const char *key, size_t len)
{
    if (db_loading || db_expiry_ignored || dict_size(db->expires) == 0) return false;
    struct dict_entry *e = dict_find(db->expires, key, len);
    return e && e->v.i64 <= db_now_ms;
}

/* Deletes the key if its deadline passed; true if it is (logically) gone. */
static bool db_expire_if_needed(struct db *db, const char *key, size_t len)
{
    if (!db_is_expired(db, key, len)) return false;
    if (!db_lazy_delete) return true;
    struct dict_entry *e = dict_find(db->keys, key, len);
    str owned = e->key; /* keep the name alive for the hook */
    str name = str_new(owned, str_len(owned));
    db_delete(db, key, len);
    db_stats.expired_keys++;
    struct arg del[2] = {{"DEL", 3}, {name, str_len(name)}};
    oplog_append(db->id, 2, del);
    watch_touch(db, name, str_len(name));
    if (db_hooks.key_expired) db_hooks.key_expired(db, name, str_len(name));
    str_free(name);
    return true;
}

struct object *db_find(struct db *db, const char *key, size_t len)
{
    if (db_expire_if_needed(db, key, len)) return NULL;
    struct dict_entry *e = dict_find(db->keys, key, len);
    return e ? e->v.ptr : NULL;
}

struct object *db_find_read_notouch(struct db *db, const char *key, size_t len)
{
    struct object *o = db_find(db, key, len);
    if (o) {
        db_stats.keyspace_hits++;
        return o;
    }
    db_stats.keyspace_misses++;
    if (db_hooks.key_missed) db_hooks.key_missed(db, key, len);
    return NULL;
}

struct object *db_find_read(struct db *db, const char *key, size_t len)
{
    struct object *o = db_find_read_notouch(db, key, len);
    if (o) object_touch(o);
    return o;
}

struct object *db_peek(struct db *db, const char *key, size_t len)
{
    struct dict_entry *e = dict_find(db->keys, key, len);
    return e ? e->v.ptr : NULL;
}

bool db_exists(struct db *db, const char *key, size_t len)
{
    return db_find(db, key, len) != NULL;
}

struct dict_entry *db_entry(struct db *db, const char *key, size_t len)
{
    if (db_expire_if_needed(db, key, len)) return NULL;
    return dict_find(db->keys, key, len);
}

void db_add(struct db *db, const char *key, size_t len, struct object *val)
{
    str name = str_new(key, len);
    dict_add(db->keys, name, val);
    if (db_key_index.inserted) db_key_index.inserted(db, name);
    if (object_has_item_deadlines(val)) dict_add_or_find(db->hexpires, key, len, name, NULL);
    if (db_hooks.key_added) db_hooks.key_added(db, key, len);
}

void db_reserve(struct db *db, size_t keys, size_t expires)
{
    dict_reserve(db->keys, keys);
    dict_reserve(db->expires, expires);
}

bool db_add_loaded(struct db *db, const char *key, size_t len, struct object *val, long long expire_ms)
{
    bool existed;
    struct dict_entry *e = dict_add_or_find(db->keys, key, len, NULL, &existed);
    if (existed) return false;
    e->v.ptr = val;
    if (db_key_index.inserted) db_key_index.inserted(db, e->key);
    if (object_has_item_deadlines(val)) dict_add_or_find(db->hexpires, key, len, e->key, NULL);
    if (expire_ms != -1) {
        struct dict_entry *x = dict_add_or_find(db->expires, key, len, e->key, NULL);
        x->v.i64 = expire_ms;
    }
    return true;
}

void db_replace(struct db *db, struct dict_entry *e, struct object *val)
{
    struct object *old = e->v.ptr;
    e->v.ptr = val;
    if (object_has_item_deadlines(val)) dict_add_or_find(db->hexpires, e->key, str_len(e->key), e->key, NULL);
    if (old != val) object_free(old);
}

void db_set(struct db *db, const char *key, size_t len, struct object *val, bool keep_ttl)
{
    struct dict_entry *e = db_entry(db, key, len);
    if (!e) {
        db_add(db, key, len, val);
        return;
    }
    db_replace(db, e, val);
    if (!keep_ttl) dict_delete(db->expires, key, len);
}

void db_report_overwrite(struct db *db, const char *key, size_t len, int old_type, int new_type)
{
    if (db_hooks.key_overwritten) db_hooks.key_overwritten(db, key, len, old_type, new_type);
}

void db_overwrite(struct db *db, const char *key, size_t len, struct object *val, bool keep_ttl)
{
    struct dict_entry *e = db_entry(db, key, len);
    if (!e) {
        db_add(db, key, len, val);
        return;
    }
    int old_type = ((struct object *)e->v.ptr)->type;
    db_replace(db, e, val);
    if (!keep_ttl) dict_delete(db->expires, key, len);
    db_report_overwrite(db, key, len, old_type, val->type);
}

bool db_delete(struct db *db, const char *key, size_t len)
{
    if (dict_size(db->expires) > 0) dict_delete(db->expires, key, len);
    if (dict_size(db->hexpires) > 0) dict_delete(db->hexpires, key, len);
    if (db_key_index.removed && dict_find(db->keys, key, len)) db_key_index.removed(db, key, len);
    return dict_delete(db->keys, key, len);
}

struct object *db_take(struct db *db, const char *key, size_t len, long long *expire)
{
    struct dict_entry *e = db_entry(db, key, len);
    if (!e) return NULL;
    *expire = db_get_expire(db, key, len);
    struct object *val = e->v.ptr;
    e->v.ptr = NULL;
    db_delete(db, key, len);
    return val;
}

void db_set_expire(struct db *db, const char *key, size_t len, long long when_ms)
{
    struct dict_entry *k = dict_find(db->keys, key, len);
    if (!k) return;
    bool existed;
    struct dict_entry *e = dict_add_or_find(db->expires, key, len, k->key, &existed);
    e->v.i64 = when_ms;
}

long long db_get_expire(struct db *db, const char *key, size_t len)
{
    if (dict_size(db->expires) == 0) return -1;
    struct dict_entry *e = dict_find(db->expires, key, len);
    return e ? e->v.i64 : -1;
}

bool db_persist(struct db *db, const char *key, size_t len)
{
    return dict_delete(db->expires, key, len);
}

void db_touch_key(struct db *db, const char *key, size_t len)
{
    watch_touch(db, key, len);
}

size_t db_size(const struct db *db)
{
    return dict_size(db->keys);
}

size_t db_expires_size(const struct db *db)
{
    return dict_size(db->expires);
}

long long db_empty(struct db *db)
{
    long long n = (long long)dict_size(db->keys);
    if (db_key_index.emptied) db_key_index.emptied(db);
    dict_clear(db->expires);
    dict_clear(db->hexpires);
    dict_clear(db->keys);
    db->hexpire_cursor = 0;
    db->avg_ttl = 0;
    db->expire_cursor = 0;
    return n;
}

void db_swap(struct db *a, struct db *b)
{
    struct dict *keys = a->keys, *expires = a->expires, *hexpires = a->hexpires;
    long long avg = a->avg_ttl;
    a->keys = b->keys;
    a->expires = b->expires;
    a->hexpires = b->hexpires;
    a->avg_ttl = b->avg_ttl;
    b->keys = keys;
    b->expires = expires;
    b->hexpires = hexpires;
    b->avg_ttl = avg;
    a->expire_cursor = b->expire_cursor = 0;
    a->hexpire_cursor = b->hexpire_cursor = 0;
}

/* Each expired key met is deleted, so this ends once a live key turns up or
 * the db is empty. Only when deletion is off (a replica) could every key be
 * expired for good; then, as Redis does, an expired key is returned after
 * 100 tries rather than spinning. */
struct dict_entry *db_random_key(struct db *db)
{
    for (int tries = 0;; tries++) {
        struct dict_entry *e = dict_random(db->keys);
        if (!e) return NULL;
        if (!db_is_expired(db, e->key, str_len(e->key))) return e;
        if (!db_lazy_delete) {
            if (tries >= 100) return e;
            continue;
        }
        str name = str_dup(e->key);
        db_expire_if_needed(db, name, str_len(name));
        str_free(name);
    }
}

struct expire_sample {
    struct db *db;
    str names[64];
    int count;
    long long ttl_sum;
    int ttl_count;
};

static void db_collect_expired(void *ctx, struct dict_entry *e)
{
    struct expire_sample *s = ctx;
    long long ttl = e->v.i64 - db_now_ms;
    if (ttl > 0) {
        s->ttl_sum += ttl;
        s->ttl_count++;
        return;
    }
    if (s->count < 64) s->names[s->count++] = str_dup(e->key);
}

/* Scans the expires table a few buckets at a time (resuming where the last
 * cycle stopped), deleting what expired, and keeps going while more than a
 * quarter of the sample was expired and time remains. */
long long db_active_expire(struct db *db, long long deadline_us, int effort)
{
    long long expired = 0;
    int per_loop = 20 + 5 * (effort - 1);
    for (;;) {
        if (dict_size(db->expires) == 0) break;
        struct expire_sample s = {.db = db};
        int scanned = 0;
        do {
            db->expire_cursor = dict_scan(db->expires, db->expire_cursor, db_collect_expired, &s);
            scanned++;
        } while (db->expire_cursor != 0 && s.count + s.ttl_count < per_loop && scanned < per_loop * 2);
        for (int i = 0; i < s.count; i++) {
            if (db_expire_if_needed(db, s.names[i], str_len(s.names[i]))) expired++;
            str_free(s.names[i]);
        }
        if (s.ttl_count) {
            long long avg = s.ttl_sum / s.ttl_count;
            db->avg_ttl = db->avg_ttl ? (db->avg_ttl / 50) * 49 + avg / 50 : avg;
        }
        int sampled = s.count + s.ttl_count;
        if (sampled == 0 || s.count * 4 < sampled) break;
        if (db_monotonic_us() >= deadline_us) break;
    }
    return expired;
}

void db_hexpires_add(struct db *db, const char *key, size_t len)
{
    struct dict_entry *k = dict_find(db->keys, key, len);
    if (k) dict_add_or_find(db->hexpires, key, len, k->key, NULL);
}

size_t db_hexpires_size(const struct db *db)
{
    return dict_size(db->hexpires);
}

struct hexpire_sample {
    str names[16];
    int count;
};

static void db_collect_hexpire(void *ctx, struct dict_entry *e)
{
    struct hexpire_sample *s = ctx;
    if (s->count < 16) s->names[s->count++] = str_dup(e->key);
}

/* Items removed per key per visit, so that one huge hash cannot take the
 * whole slice: the rest waits for the next visit. */
#define ITEMS_PER_VISIT 200

long long db_active_expire_items(struct db *db, long long deadline_us)
{
    long long expired = 0;
    uint64_t start = db->hexpire_cursor;
    bool wrapped = false;
    while (dict_size(db->hexpires) > 0 && !wrapped) {
        struct hexpire_sample s = {.count = 0};
        do {
            db->hexpire_cursor = dict_scan(db->hexpires, db->hexpire_cursor, db_collect_hexpire, &s);
        } while (db->hexpire_cursor != 0 && s.count < 8);
        wrapped = db->hexpire_cursor == 0 || db->hexpire_cursor == start;
        for (int i = 0; i < s.count; i++) {
            size_t len = str_len(s.names[i]);
            struct dict_entry *e = dict_find(db->keys, s.names[i], len);
            struct object *o = e ? e->v.ptr : NULL;
            if (o && object_has_item_deadlines(o) && db_hooks.items_expire[o->type]) {
                expired += (long long)db_hooks.items_expire[o->type](db, s.names[i], len, o, ITEMS_PER_VISIT);
                e = dict_find(db->keys, s.names[i], len); /* the key may have gone with its items */
                o = e ? e->v.ptr : NULL;
            }
            if (!o || !object_has_item_deadlines(o)) dict_delete(db->hexpires, s.names[i], len);
            str_free(s.names[i]);
        }
        if (db_monotonic_us() >= deadline_us) break;
    }
    return expired;
}
