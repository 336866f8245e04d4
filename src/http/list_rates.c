/* list_rates: see list_rates.h. */
#include "http/list_rates.h"

#include <stdint.h>
#include <string.h>

#include "db/dict.h"
#include "http/keys_walk.h"
#include "server/config.h"
#include "server/server.h"
#include "types/list.h"
#include "util/mem.h"
#include "util/str.h"

/* "<db as 4 bytes><key>" -> struct list_counts. Entries are never freed:
 * lists hold pointers to them. */
static const struct dict_type counts_type = {.owns_keys = true, .val_free = NULL};
static struct dict *kept;

#define TABLE_KEY_ON_STACK 256

static struct list_counts *counts_for(int db, const char *key, size_t len)
{
    if (server.loading || !cfg.metrics_list_patterns || !cfg.metrics_list_patterns[0]) return NULL;
    if (!keys_walk_list_matches(key, len)) return NULL;
    if (!kept) kept = dict_create(&counts_type);
    /* the table key: the database as 4 bytes, then the name */
    uint32_t id = (uint32_t)db;
    char stack[TABLE_KEY_ON_STACK];
    size_t klen = sizeof(id) + len;
    char *k = klen <= sizeof(stack) ? stack : mem_alloc(klen);
    memcpy(k, &id, sizeof(id));
    memcpy(k + sizeof(id), key, len);
    struct dict_entry *e = dict_find(kept, k, klen);
    if (!e && dict_size(kept) < (size_t)cfg.metrics_max_series)
        e = dict_add(kept, str_new(k, klen), mem_calloc(sizeof(struct list_counts)));
    if (k != stack) mem_free(k);
    return e ? e->v.ptr : NULL;
}

void list_rates_start(void)
{
    list_counts_for = counts_for;
}

void list_rates_adopt(int db, const char *key, size_t len, struct object *o)
{
    if (!list_object_counts(o)) list_object_count_into(o, counts_for(db, key, len));
}

void list_rates_each(list_rates_fn *fn, void *ctx)
{
    if (!kept) return;
    struct dict_iter it;
    dict_iter_init(&it, kept, false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        size_t len;
        const char *k = dict_entry_key(kept, e, &len);
        uint32_t db;
        memcpy(&db, k, sizeof(db));
        if (keys_walk_list_matches(k + sizeof(db), len - sizeof(db)))
            fn(ctx, (int)db, k + sizeof(db), len - sizeof(db), e->v.ptr);
    }
    dict_iter_done(&it);
}
