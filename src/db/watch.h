/* watch: optimistic locking for MULTI/EXEC. A client's watcher records the
 * keys it WATCHes; any change to one of them (a write, an expiry, a flush)
 * marks the watcher dirty, and EXEC then aborts. */
#ifndef RUNNEL_DB_WATCH_H
#define RUNNEL_DB_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

struct db;

struct watched_key {
    struct db *db;
    str key;
    bool expired_at_watch; /* already logically expired when watched */
};

struct watcher {
    bool dirty;
    struct watched_key *keys;
    size_t count;
    size_t capacity;
};

struct dict *watch_table_create(void);

void watch_key(struct watcher *w, struct db *db, const char *key, size_t len);
void watch_clear(struct watcher *w);
/* Marks dirty every watcher of this key; call it after the change. A key
 * that was already expired when watched and is now gone is no change. */
void watch_touch(struct db *db, const char *key, size_t len);
/* Marks dirty the watchers of this db's keys that exist in it or, when
 * `incoming` is given (SWAPDB), in the db whose contents replace it; call it
 * before the change. An expired key that goes, or is replaced by another
 * expired one, is no change. */
void watch_touch_db(struct db *db, struct db *incoming);
/* True if a watched key expired since it was watched (checked by EXEC). */
bool watch_any_expired(struct watcher *w);

#endif
