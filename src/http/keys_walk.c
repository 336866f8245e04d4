/* keys_walk: see keys_walk.h. */
#include "http/keys_walk.h"

#include <stdint.h>
#include <string.h>

#include "db/db.h"
#include "http/console_exec.h"
#include "http/list_rates.h"
#include "server/config.h"
#include "types/list.h"
#include "util/glob.h"

bool keys_walk_list_matches(const char *key, size_t len)
{
    const char *p = cfg.metrics_list_patterns;
    while (p && *p) {
        while (*p == ' ') p++;
        /* the pattern's end and its literal prefix in one pass (each list
         * created asks, so this stays a few instructions per byte) */
        size_t n = 0, lit = SIZE_MAX;
        for (; p[n] && p[n] != ' '; n++)
            if (lit == SIZE_MAX && (p[n] == '*' || p[n] == '?' || p[n] == '[' || p[n] == '\\')) lit = n;
        if (lit == SIZE_MAX) lit = n;
        if (n && len >= lit && memcmp(p, key, lit) == 0 && glob_match(p, n, key, len, false)) return true;
        p += n;
    }
    return false;
}

struct walk {
    const struct keys_visitor *v;
    long long reported, omitted;
};

static void visit_key(struct walk *w, int db, const char *key, size_t len, struct object *o)
{
    bool stream = o->type == OBJ_STREAM;
    if (stream ? !w->v->stream : !(w->v->list && o->type == OBJ_LIST && keys_walk_list_matches(key, len))) return;
    /* the keys the request's user may not read are not there for it */
    static const char *const xinfo[] = {"XINFO", "STREAM"}, *const llen[] = {"LLEN"};
    if (!console_exec_allows_key(stream ? 2 : 1, stream ? xinfo : llen, key, len)) return;
    if (w->reported >= cfg.metrics_max_series) {
        w->omitted++;
        return;
    }
    w->reported++;
    if (stream) {
        w->v->stream(w->v->ctx, db, key, len, o->v.ptr);
        return;
    }
    list_rates_adopt(db, key, len, o);
    w->v->list(w->v->ctx, db, key, len, list_object_length(o), list_object_counts(o));
}

long long keys_walk(const struct keys_visitor *v)
{
    struct walk w = {v, 0, 0};
    for (int i = 0; i < db_count; i++) {
        struct db *db = db_by_index(i);
        if (db_size(db) == 0) continue;
        struct dict_iter it;
        dict_iter_init(&it, db->keys, false);
        struct dict_entry *e;
        while ((e = dict_iter_next(&it))) {
            size_t len;
            const char *key = dict_entry_key(db->keys, e, &len);
            visit_key(&w, i, key, len, e->v.ptr);
        }
        dict_iter_done(&it);
    }
    return w.omitted;
}
