/* hash_ttl: deadlines inside a big hash's entries, indexed by a min-heap of
 * entry pointers (see hash_ttl.h). The trailer is read and written with
 * memcpy: it sits right after the value, unaligned. */
#include "types/hash_ttl.h"

#include <string.h>

#include "util/mem.h"

const struct dict_type hash_ttl_dict_type = {.layout = DICT_EMBED_KEY_VALUE, .trailer = HASH_TTL_TRAILER};

/* ---- the trailer: int64 deadline, then uint32 heap position + 1 ---- */

static long long trailer_when(const unsigned char *tr)
{
    int64_t when;
    memcpy(&when, tr, sizeof(when));
    return when;
}

static uint32_t trailer_slot(const unsigned char *tr)
{
    uint32_t slot;
    memcpy(&slot, tr + 8, sizeof(slot));
    return slot;
}

static void trailer_put(unsigned char *tr, long long when, uint32_t slot)
{
    int64_t w = when;
    memcpy(tr, &w, sizeof(w));
    memcpy(tr + 8, &slot, sizeof(slot));
}

static void trailer_put_slot(unsigned char *tr, uint32_t slot)
{
    memcpy(tr + 8, &slot, sizeof(slot));
}

long long hash_ttl_of(const struct dict_entry *e)
{
    const unsigned char *tr = dict_entry_trailer(e);
    return trailer_slot(tr) ? trailer_when(tr) : -1;
}

/* ---- the heap ---- */

static long long when_at(const struct hash_ttl *t, uint32_t i)
{
    return trailer_when(dict_entry_trailer(t->heap[i]));
}

/* Puts e at position i and records it in e's trailer. */
static void place(struct hash_ttl *t, uint32_t i, struct dict_entry *e)
{
    t->heap[i] = e;
    trailer_put_slot(dict_entry_trailer(e), i + 1);
}

/* Moves the entry at i up while it is earlier than its parent. */
static void sift_up(struct hash_ttl *t, uint32_t i)
{
    struct dict_entry *e = t->heap[i];
    long long when = trailer_when(dict_entry_trailer(e));
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (when_at(t, parent) <= when) break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, e);
}

/* Moves the entry at i down while a child is earlier. */
static void sift_down(struct hash_ttl *t, uint32_t i)
{
    struct dict_entry *e = t->heap[i];
    long long when = trailer_when(dict_entry_trailer(e));
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= t->count) break;
        long long cw = when_at(t, child);
        if (child + 1 < t->count) {
            long long rw = when_at(t, child + 1);
            if (rw < cw) {
                child++;
                cw = rw;
            }
        }
        if (when <= cw) break;
        place(t, i, t->heap[child]);
        i = child;
    }
    place(t, i, e);
}

/* Takes the entry at i out of the heap (its trailer is the caller's). */
static void remove_at(struct hash_ttl *t, uint32_t i)
{
    t->count--;
    if (i == t->count) return;
    place(t, i, t->heap[t->count]);
    sift_down(t, i);
    sift_up(t, i);
}

void hash_ttl_set(struct hash_ttl *t, struct dict_entry *e, long long when_ms)
{
    unsigned char *tr = dict_entry_trailer(e);
    uint32_t slot = trailer_slot(tr);
    trailer_put(tr, when_ms, slot);
    if (slot) {
        sift_down(t, slot - 1);
        sift_up(t, trailer_slot(tr) - 1);
        return;
    }
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap + t->cap / 2 : 8;
        t->heap = mem_realloc(t->heap, sizeof(*t->heap) * t->cap);
    }
    t->heap[t->count++] = e;
    sift_up(t, t->count - 1);
}

bool hash_ttl_clear(struct hash_ttl *t, struct dict_entry *e)
{
    unsigned char *tr = dict_entry_trailer(e);
    uint32_t slot = trailer_slot(tr);
    if (!slot) return false;
    trailer_put(tr, 0, 0);
    remove_at(t, slot - 1);
    return true;
}

void hash_ttl_moved(struct hash_ttl *t, struct dict_entry *e)
{
    uint32_t slot = trailer_slot(dict_entry_trailer(e));
    if (slot) t->heap[slot - 1] = e;
}

struct dict_entry *hash_ttl_first_entry(const struct hash_ttl *t)
{
    return t->count ? t->heap[0] : NULL;
}

long long hash_ttl_first(const struct hash_ttl *t)
{
    return t->count ? when_at(t, 0) : -1;
}

/* Counts the due entries in the subtree at i: a parent is never later than
 * its children, so a subtree whose root is not due holds none. */
static size_t count_due_from(const struct hash_ttl *t, uint32_t i, long long now)
{
    if (i >= t->count || when_at(t, i) > now) return 0;
    return 1 + count_due_from(t, 2 * i + 1, now) + count_due_from(t, 2 * i + 2, now);
}

size_t hash_ttl_count_due(const struct hash_ttl *t, long long now)
{
    return count_due_from(t, 0, now);
}

void hash_ttl_free(struct hash_ttl *t)
{
    mem_free(t->heap);
    *t = (struct hash_ttl){0};
}

size_t hash_ttl_memory(const struct hash_ttl *t)
{
    return t->heap ? mem_usable_size(t->heap) : 0;
}

bool hash_ttl_validate(const struct hash_ttl *t, struct dict *d)
{
    for (uint32_t i = 0; i < t->count; i++) {
        struct dict_entry *e = t->heap[i];
        size_t len;
        const char *k = dict_entry_key(d, e, &len);
        const unsigned char *tr = dict_entry_trailer(e);
        if (dict_find(d, k, len) != e || trailer_slot(tr) != i + 1 || trailer_when(tr) < 0) return false;
        if (i > 0 && when_at(t, (i - 1) / 2) > trailer_when(tr)) return false;
    }
    /* and no other entry claims a deadline */
    size_t with = 0;
    struct dict_iter it;
    dict_iter_init(&it, d, true);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) with += trailer_slot(dict_entry_trailer(e)) != 0;
    dict_iter_done(&it);
    return with == t->count;
}
