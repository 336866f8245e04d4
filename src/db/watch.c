#include "db/watch.h"
#include <string.h>

#include "db/db.h"
#include "util/mem.h"

/* One client's watch of one key: the watcher and the key's place in its
 * array (stable: a watcher's keys are only appended, then cleared at once). */
struct watch_ref {
    struct watcher *w;
    size_t index;
};

/* Each watched key maps to a growable array of its watches. */
struct watcher_list {
    struct watch_ref *items;
    size_t count;
    size_t capacity;
};

static void watcher_list_free(void *p)
{
    struct watcher_list *l = p;
    mem_free(l->items);
    mem_free(l);
}

static const struct dict_type watch_type = {.nocase = false, .owns_keys = true, .val_free = watcher_list_free};

struct dict *watch_table_create(void)
{
    return dict_create(&watch_type);
}

void watch_key(struct watcher *w, struct db *db, const char *key, size_t len)
{
    for (size_t i = 0; i < w->count; i++)
        if (w->keys[i].db == db && str_len(w->keys[i].key) == len && memcmp(w->keys[i].key, key, len) == 0)
            return;
    bool existed;
    struct dict_entry *e = dict_add_or_find(db->watched, key, len, NULL, &existed);
    if (!existed) e->v.ptr = mem_calloc(sizeof(struct watcher_list));
    struct watcher_list *l = e->v.ptr;
    if (l->count == l->capacity) {
        l->capacity = l->capacity ? l->capacity * 2 : 4;
        l->items = mem_realloc(l->items, l->capacity * sizeof(*l->items));
    }
    l->items[l->count++] = (struct watch_ref){w, w->count};
    if (w->count == w->capacity) {
        w->capacity = w->capacity ? w->capacity * 2 : 4;
        w->keys = mem_realloc(w->keys, w->capacity * sizeof(*w->keys));
    }
    w->keys[w->count].db = db;
    w->keys[w->count].key = str_new(key, len);
    w->keys[w->count].expired_at_watch = db_is_expired(db, key, len);
    w->count++;
}

static void watch_forget(struct watcher *w, struct watched_key *k)
{
    struct dict_entry *e = dict_find(k->db->watched, k->key, str_len(k->key));
    if (!e) return;
    struct watcher_list *l = e->v.ptr;
    for (size_t i = 0; i < l->count; i++) {
        if (l->items[i].w != w) continue;
        l->items[i] = l->items[--l->count];
        break;
    }
    if (l->count == 0) dict_delete(k->db->watched, k->key, str_len(k->key));
}

void watch_clear(struct watcher *w)
{
    for (size_t i = 0; i < w->count; i++) {
        watch_forget(w, &w->keys[i]);
        str_free(w->keys[i].key);
    }
    mem_free(w->keys);
    w->keys = NULL;
    w->count = w->capacity = 0;
    w->dirty = false;
}

/* A key already expired when watched and now removed (lazily, by the active
 * cycle, a flush or a swap) has not changed logically: the watch forgets that
 * it was expired instead of going dirty, as Redis 7.2 does. */
static void watch_ref_key_gone(struct watch_ref *ref)
{
    struct watched_key *k = &ref->w->keys[ref->index];
    if (k->expired_at_watch)
        k->expired_at_watch = false;
    else
        ref->w->dirty = true;
}

void watch_touch(struct db *db, const char *key, size_t len)
{
    if (db_hooks.key_touched) db_hooks.key_touched(db, key, len);
    if (dict_size(db->watched) == 0) return;
    struct dict_entry *e = dict_find(db->watched, key, len);
    if (!e) return;
    struct watcher_list *l = e->v.ptr;
    bool gone = !dict_find(db->keys, key, len);
    for (size_t i = 0; i < l->count; i++) {
        if (gone)
            watch_ref_key_gone(&l->items[i]);
        else
            l->items[i].w->dirty = true;
    }
}

/* What a flush (incoming NULL) or a swap does to one watch of a key that
 * existed in `db` or exists in `incoming`: a key that was expired stays
 * unchanged if it is now gone or still expired; a key that was missing
 * and is replaced by an expired one counts as expired, not changed. */
static void watch_ref_db_replaced(struct watch_ref *ref, struct db *db, struct db *incoming, const char *key,
                                  size_t len)
{
    struct watched_key *k = &ref->w->keys[ref->index];
    bool arrives = incoming && dict_find(incoming->keys, key, len);
    bool arrives_expired = arrives && db_is_expired(incoming, key, len);
    if (!arrives) {
        watch_ref_key_gone(ref);
    } else if (k->expired_at_watch) {
        if (!arrives_expired) ref->w->dirty = true;
    } else if (!dict_find(db->keys, key, len) && arrives_expired) {
        k->expired_at_watch = true;
    } else {
        ref->w->dirty = true;
    }
}

void watch_touch_db(struct db *db, struct db *incoming)
{
    if (!incoming && db_hooks.db_flushed) db_hooks.db_flushed(db);
    if (dict_size(db->watched) == 0) return;
    struct dict_iter it;
    dict_iter_init(&it, db->watched, false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        size_t len = str_len(e->key);
        bool exists = dict_find(db->keys, e->key, len) || (incoming && dict_find(incoming->keys, e->key, len));
        if (!exists) continue;
        struct watcher_list *l = e->v.ptr;
        for (size_t i = 0; i < l->count; i++) watch_ref_db_replaced(&l->items[i], db, incoming, e->key, len);
    }
    dict_iter_done(&it);
}

bool watch_any_expired(struct watcher *w)
{
    for (size_t i = 0; i < w->count; i++) {
        struct watched_key *k = &w->keys[i];
        if (!k->expired_at_watch && db_is_expired(k->db, k->key, str_len(k->key))) return true;
    }
    return false;
}
