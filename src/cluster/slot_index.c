/* slot_index: database 0's keys by hash slot, for COUNTKEYSINSLOT,
 * GETKEYSINSLOT and moving a slot's keys. Each slot that holds keys has a
 * small table of the key strings the keyspace owns (shared, not copied),
 * kept by the db layer's key index hooks. Only with cluster-enabled. */
#include "cluster/cluster_state.h"
#include "db/db.h"
#include "db/dict.h"
#include "util/mem.h"

static const struct dict_type shared_keys = {.nocase = false, .owns_keys = false, .val_free = NULL};
static struct dict *slots[CLUSTER_SLOTS];

static void inserted(struct db *db, str key)
{
    if (db->id != 0) return;
    int s = cluster_key_slot(key, str_len(key));
    if (!slots[s]) slots[s] = dict_create(&shared_keys);
    dict_add(slots[s], key, NULL);
}

static void removed(struct db *db, const char *key, size_t len)
{
    if (db->id != 0) return;
    int s = cluster_key_slot(key, len);
    if (slots[s]) dict_delete(slots[s], key, len);
}

static void emptied(struct db *db)
{
    if (db->id != 0) return;
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (slots[s]) dict_clear(slots[s]);
}

void slot_index_install(void)
{
    db_key_index.inserted = inserted;
    db_key_index.removed = removed;
    db_key_index.emptied = emptied;
}

long long slot_index_count(int slot)
{
    return slots[slot] ? (long long)dict_size(slots[slot]) : 0;
}

int slot_index_keys(int slot, long long max, void (*fn)(void *ctx, const char *key, size_t len), void *ctx)
{
    if (!slots[slot]) return 0;
    struct dict_iter it;
    dict_iter_init(&it, slots[slot], false);
    struct dict_entry *e;
    int n = 0;
    while (n < max && (e = dict_iter_next(&it))) {
        fn(ctx, e->key, str_len(e->key));
        n++;
    }
    dict_iter_done(&it);
    return n;
}
