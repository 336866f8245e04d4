/* stream_index: a B+tree over 128-bit IDs (see stream_index.h).
 *
 * Layout: every node is one allocation — a header, then `cap` keys, then
 * `cap` slots (values in leaves, children in inner nodes). An inner node
 * with n children holds n keys where keys[i] (i >= 1) separates child i-1
 * from child i: every key under child i is >= keys[i] and < keys[i+1];
 * keys[0] is unused. Separators are lower bounds, not exact minimums, so a
 * removal never has to rewrite its ancestors.
 *
 * Leaves are linked both ways. The root leaf of a small tree starts with
 * room for two keys and doubles up to FANOUT, so a stream or a PEL holding a
 * few IDs costs a few dozen bytes, not a full node. Every other node has
 * room for FANOUT and, but for the root, holds at least MIN_FILL. */
#include "types/stream_index.h"

#include <string.h>

#include "util/mem.h"

#define FANOUT 32
#define MIN_FILL (FANOUT / 2)
#define MAX_DEPTH 24

struct stream_index_node {
    uint16_t count;
    uint16_t cap;
    bool leaf;
    struct stream_index_node *prev, *next; /* leaves only */
};

struct stream_index {
    struct stream_index_node *root;
    size_t size;
    size_t nodes;
    size_t bytes;
    int height; /* 1: the root is a leaf */
};

bool stream_id_incr(struct stream_id *id)
{
    if (id->seq != UINT64_MAX) {
        id->seq++;
        return true;
    }
    if (id->ms == UINT64_MAX) return false;
    id->ms++;
    id->seq = 0;
    return true;
}

bool stream_id_decr(struct stream_id *id)
{
    if (id->seq != 0) {
        id->seq--;
        return true;
    }
    if (id->ms == 0) return false;
    id->ms--;
    id->seq = UINT64_MAX;
    return true;
}

/* ---- node storage ---- */

static struct stream_id *keys_of(const struct stream_index_node *n)
{
    return (struct stream_id *)(void *)((char *)(uintptr_t)n + sizeof(struct stream_index_node));
}

static void **slots_of(const struct stream_index_node *n)
{
    return (void **)(void *)(keys_of(n) + n->cap);
}

static size_t node_bytes(unsigned cap)
{
    return sizeof(struct stream_index_node) + cap * (sizeof(struct stream_id) + sizeof(void *));
}

static struct stream_index_node *node_new(struct stream_index *t, bool leaf, unsigned cap)
{
    struct stream_index_node *n = mem_alloc(node_bytes(cap));
    n->count = 0;
    n->cap = (uint16_t)cap;
    n->leaf = leaf;
    n->prev = n->next = NULL;
    t->nodes++;
    t->bytes += node_bytes(cap);
    return n;
}

static void node_free(struct stream_index *t, struct stream_index_node *n)
{
    t->nodes--;
    t->bytes -= node_bytes(n->cap);
    mem_free(n);
}

static struct stream_index_node *child_at(const struct stream_index_node *n, int i)
{
    return slots_of(n)[i];
}

/* Moves entries [from, count) of n by `shift` places (either way). */
static void node_shift(struct stream_index_node *n, int from, int shift)
{
    int moved = n->count - from;
    if (moved <= 0) return;
    memmove(keys_of(n) + from + shift, keys_of(n) + from, (size_t)moved * sizeof(struct stream_id));
    memmove(slots_of(n) + from + shift, slots_of(n) + from, (size_t)moved * sizeof(void *));
}

static void node_put(struct stream_index_node *n, int i, struct stream_id key, void *slot)
{
    keys_of(n)[i] = key;
    slots_of(n)[i] = slot;
}

static void node_insert_at(struct stream_index_node *n, int i, struct stream_id key, void *slot)
{
    node_shift(n, i, 1);
    node_put(n, i, key, slot);
    n->count++;
}

static void node_remove_at(struct stream_index_node *n, int i)
{
    node_shift(n, i + 1, -1);
    n->count--;
}

/* Copies `count` entries from src[from..] to the end of dst. */
static void node_append(struct stream_index_node *dst, const struct stream_index_node *src, int from, int count)
{
    memcpy(keys_of(dst) + dst->count, keys_of(src) + from, (size_t)count * sizeof(struct stream_id));
    memcpy(slots_of(dst) + dst->count, slots_of(src) + from, (size_t)count * sizeof(void *));
    dst->count = (uint16_t)(dst->count + count);
}

/* ---- searching ---- */

/* Index of the first key >= key among keys[lo..count). */
static int lower_bound(const struct stream_index_node *n, int lo, const struct stream_id *key)
{
    int hi = n->count;
    const struct stream_id *k = keys_of(n);
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (stream_id_cmp(&k[mid], key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Index of the first key > key among keys[lo..count). */
static int upper_bound(const struct stream_index_node *n, int lo, const struct stream_id *key)
{
    int hi = n->count;
    const struct stream_id *k = keys_of(n);
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (stream_id_cmp(&k[mid], key) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The child of inner node n whose range holds key. */
static int route(const struct stream_index_node *n, const struct stream_id *key)
{
    return upper_bound(n, 1, key) - 1;
}

/* A descent from the root: nodes[0] is the root, nodes[depth-1] the leaf,
 * index[i] the child taken at nodes[i]. */
struct path {
    struct stream_index_node *nodes[MAX_DEPTH];
    int index[MAX_DEPTH];
    int depth;
};

static struct stream_index_node *descend(const struct stream_index *t, const struct stream_id *key, struct path *p)
{
    struct stream_index_node *n = t->root;
    int d = 0;
    while (!n->leaf) {
        int i = route(n, key);
        if (p) {
            p->nodes[d] = n;
            p->index[d] = i;
        }
        d++;
        n = child_at(n, i);
    }
    if (p) {
        p->nodes[d] = n;
        p->index[d] = -1;
        p->depth = d + 1;
    }
    return n;
}

/* ---- lifetime ---- */

struct stream_index *stream_index_new(void)
{
    struct stream_index *t = mem_calloc(sizeof(*t));
    return t;
}

static void free_subtree(struct stream_index *t, struct stream_index_node *n, void (*free_value)(void *))
{
    for (int i = 0; i < n->count; i++) {
        if (!n->leaf) free_subtree(t, child_at(n, i), free_value);
        else if (free_value) free_value(slots_of(n)[i]);
    }
    node_free(t, n);
}

void stream_index_free(struct stream_index *t, void (*free_value)(void *value))
{
    if (!t) return;
    if (t->root) free_subtree(t, t->root, free_value);
    mem_free(t);
}

size_t stream_index_size(const struct stream_index *t)
{
    return t->size;
}

size_t stream_index_nodes(const struct stream_index *t)
{
    return t->nodes;
}

size_t stream_index_memory(const struct stream_index *t)
{
    return sizeof(*t) + t->bytes;
}

/* ---- insertion ---- */

/* Doubles the room of the root leaf (the only node that can be short of
 * FANOUT slots); the root pointer follows the move. */
static struct stream_index_node *grow_root_leaf(struct stream_index *t)
{
    struct stream_index_node *old = t->root;
    unsigned cap = old->cap * 2u > FANOUT ? FANOUT : old->cap * 2u;
    struct stream_index_node *n = node_new(t, true, cap);
    node_append(n, old, 0, old->count);
    node_free(t, old);
    t->root = n;
    return n;
}

/* Puts (sep, right) just after child p->index[level] of p->nodes[level],
 * splitting upwards as needed; level -1 grows a new root. */
static void insert_in_parent(struct stream_index *t, struct path *p, int level, struct stream_id sep,
                             struct stream_index_node *right)
{
    if (level < 0) {
        struct stream_index_node *root = node_new(t, false, FANOUT);
        node_put(root, 0, sep, t->root);
        node_put(root, 1, sep, right);
        root->count = 2;
        t->root = root;
        t->height++;
        return;
    }
    struct stream_index_node *n = p->nodes[level];
    int at = p->index[level] + 1;
    if (n->count < n->cap) {
        node_insert_at(n, at, sep, right);
        return;
    }
    /* Split: appending at the end leaves the left node full (streams only
     * ever grow at the end); otherwise halve. */
    int keep = at == n->count ? FANOUT : FANOUT / 2;
    struct stream_index_node *sib = node_new(t, false, FANOUT);
    node_append(sib, n, keep, n->count - keep);
    n->count = (uint16_t)keep;
    if (at <= keep && at != n->count) node_insert_at(n, at, sep, right);
    else if (at <= keep) node_insert_at(sib, 0, sep, right);
    else node_insert_at(sib, at - keep, sep, right);
    insert_in_parent(t, p, level - 1, keys_of(sib)[0], sib);
}

/* Splits a full leaf around the insertion point and inserts the key. */
static void split_leaf(struct stream_index *t, struct path *p, int pos, struct stream_id key, void *value)
{
    struct stream_index_node *leaf = p->nodes[p->depth - 1];
    int keep = (pos == leaf->count && !leaf->next) ? FANOUT : FANOUT / 2;
    struct stream_index_node *right = node_new(t, true, FANOUT);
    node_append(right, leaf, keep, leaf->count - keep);
    leaf->count = (uint16_t)keep;
    right->next = leaf->next;
    right->prev = leaf;
    if (leaf->next) leaf->next->prev = right;
    leaf->next = right;
    if (pos <= keep && keep < FANOUT) node_insert_at(leaf, pos, key, value);
    else node_insert_at(right, pos - keep, key, value);
    insert_in_parent(t, p, p->depth - 2, keys_of(right)[0], right);
}

bool stream_index_insert(struct stream_index *t, struct stream_id key, void *value)
{
    if (!t->root) {
        t->root = node_new(t, true, 2);
        t->height = 1;
    }
    struct path p;
    struct stream_index_node *leaf = descend(t, &key, &p);
    int pos = lower_bound(leaf, 0, &key);
    if (pos < leaf->count && stream_id_cmp(&keys_of(leaf)[pos], &key) == 0) return false;
    t->size++;
    if (leaf->count == leaf->cap && leaf->cap < FANOUT) {
        leaf = grow_root_leaf(t);
        p.nodes[0] = leaf;
    }
    if (leaf->count < leaf->cap) node_insert_at(leaf, pos, key, value);
    else split_leaf(t, &p, pos, key, value);
    return true;
}

/* ---- removal ---- */

static void unlink_leaf(struct stream_index_node *n)
{
    if (n->prev) n->prev->next = n->next;
    if (n->next) n->next->prev = n->prev;
}

/* Merges child i+1 of parent into child i and drops it from the parent. */
static void merge_children(struct stream_index *t, struct stream_index_node *parent, int i)
{
    struct stream_index_node *left = child_at(parent, i), *right = child_at(parent, i + 1);
    if (left->leaf) {
        node_append(left, right, 0, right->count);
        unlink_leaf(right);
    } else {
        /* The parent's separator becomes the key of right's first child. */
        node_put(left, left->count, keys_of(parent)[i + 1], child_at(right, 0));
        left->count++;
        node_append(left, right, 1, right->count - 1);
    }
    node_free(t, right);
    node_remove_at(parent, i + 1);
}

/* Moves one entry from child i-1 (from_left) or i+1 into child i. */
static void borrow(struct stream_index_node *parent, int i, bool from_left)
{
    struct stream_index_node *n = child_at(parent, i);
    struct stream_id *pk = keys_of(parent);
    if (from_left) {
        struct stream_index_node *l = child_at(parent, i - 1);
        int last = l->count - 1;
        if (n->leaf) {
            node_insert_at(n, 0, keys_of(l)[last], slots_of(l)[last]);
            pk[i] = keys_of(n)[0];
        } else {
            node_insert_at(n, 0, keys_of(l)[last], slots_of(l)[last]);
            keys_of(n)[1] = pk[i]; /* old first child now sits behind the old separator */
            pk[i] = keys_of(l)[last];
        }
        l->count--;
        return;
    }
    struct stream_index_node *r = child_at(parent, i + 1);
    if (n->leaf) {
        node_put(n, n->count++, keys_of(r)[0], slots_of(r)[0]);
        node_remove_at(r, 0);
        pk[i + 1] = keys_of(r)[0];
    } else {
        node_put(n, n->count++, pk[i + 1], slots_of(r)[0]);
        pk[i + 1] = keys_of(r)[1];
        node_remove_at(r, 0);
    }
}

/* Restores the fill of p->nodes[level] after it lost an entry. */
static void rebalance(struct stream_index *t, struct path *p, int level)
{
    struct stream_index_node *n = p->nodes[level];
    if (level == 0) {
        if (!n->leaf && n->count == 1) {
            t->root = child_at(n, 0);
            t->height--;
            node_free(t, n);
        } else if (n->leaf && n->count == 0) {
            node_free(t, n);
            t->root = NULL;
            t->height = 0;
        }
        return;
    }
    if (n->count >= MIN_FILL) return;
    struct stream_index_node *parent = p->nodes[level - 1];
    int i = p->index[level - 1];
    struct stream_index_node *left = i > 0 ? child_at(parent, i - 1) : NULL;
    struct stream_index_node *right = i + 1 < parent->count ? child_at(parent, i + 1) : NULL;
    if (!left && !right) return; /* an only child: its parent is fixed when it shrinks */
    if (left && left->count + n->count <= FANOUT) merge_children(t, parent, i - 1);
    else if (right && n->count + right->count <= FANOUT) merge_children(t, parent, i);
    else {
        borrow(parent, i, left != NULL && (!right || left->count >= right->count));
        return;
    }
    rebalance(t, p, level - 1);
}

bool stream_index_remove(struct stream_index *t, struct stream_id key, void **value)
{
    if (!t->root) return false;
    struct path p;
    struct stream_index_node *leaf = descend(t, &key, &p);
    int pos = lower_bound(leaf, 0, &key);
    if (pos == leaf->count || stream_id_cmp(&keys_of(leaf)[pos], &key) != 0) return false;
    if (value) *value = slots_of(leaf)[pos];
    node_remove_at(leaf, pos);
    t->size--;
    rebalance(t, &p, p.depth - 1);
    return true;
}

void *stream_index_find(const struct stream_index *t, struct stream_id key)
{
    struct stream_index_iter it;
    if (!stream_index_seek_ge(t, key, &it)) return NULL;
    struct stream_id found = stream_index_key(&it);
    return stream_id_cmp(&found, &key) == 0 ? stream_index_value(&it) : NULL;
}

/* ---- iteration ---- */

static bool iter_at(struct stream_index_iter *it, struct stream_index_node *leaf, int pos)
{
    if (leaf && pos >= leaf->count) {
        leaf = leaf->next;
        pos = 0;
    } else if (leaf && pos < 0) {
        leaf = leaf->prev;
        pos = leaf ? leaf->count - 1 : 0;
    }
    if (leaf && leaf->count == 0) leaf = NULL; /* only an empty root */
    it->leaf = leaf;
    it->pos = pos;
    return leaf != NULL;
}

bool stream_index_first(const struct stream_index *t, struct stream_index_iter *it)
{
    struct stream_index_node *n = t->root;
    while (n && !n->leaf) n = child_at(n, 0);
    return iter_at(it, n, 0);
}

bool stream_index_last(const struct stream_index *t, struct stream_index_iter *it)
{
    struct stream_index_node *n = t->root;
    while (n && !n->leaf) n = child_at(n, n->count - 1);
    return iter_at(it, n, n ? n->count - 1 : 0);
}

bool stream_index_seek_ge(const struct stream_index *t, struct stream_id key, struct stream_index_iter *it)
{
    if (!t->root) return iter_at(it, NULL, 0);
    struct stream_index_node *leaf = descend(t, &key, NULL);
    return iter_at(it, leaf, lower_bound(leaf, 0, &key));
}

bool stream_index_seek_le(const struct stream_index *t, struct stream_id key, struct stream_index_iter *it)
{
    if (!t->root) return iter_at(it, NULL, 0);
    struct stream_index_node *leaf = descend(t, &key, NULL);
    return iter_at(it, leaf, upper_bound(leaf, 0, &key) - 1);
}

bool stream_index_next(struct stream_index_iter *it)
{
    if (!it->leaf) return false;
    return iter_at(it, it->leaf, it->pos + 1);
}

bool stream_index_prev(struct stream_index_iter *it)
{
    if (!it->leaf) return false;
    return iter_at(it, it->leaf, it->pos - 1);
}

struct stream_id stream_index_key(const struct stream_index_iter *it)
{
    return keys_of(it->leaf)[it->pos];
}

void *stream_index_value(const struct stream_index_iter *it)
{
    return slots_of(it->leaf)[it->pos];
}

void stream_index_set_value(struct stream_index_iter *it, void *value)
{
    slots_of(it->leaf)[it->pos] = value;
}
