/* list: values of type list.
 *
 * Encoding: a chunked deque — a doubly linked list of packed nodes
 * (list_node.h), each one allocation of a 32-byte header and its entries.
 * A node is filled up to list_max_listpack_size (with a byte limit, the
 * limit covers the whole allocation, so a full node fills an allocator size
 * class exactly); an element too large for a node gets a node of its own.
 * Pushes and pops touch only the end nodes: O(1). A node that shrinks below
 * half its limit is merged with a neighbour when the two fit in one.
 *
 * The object's encoding tag reports what Redis 7.2 would: "listpack" until
 * the list outgrows one node's limit (computed with Redis's listpack sizes,
 * which our entry encoding matches byte for byte), "quicklist" after, and
 * back to "listpack" when it shrinks into one node at most half full. The
 * storage does not change with the tag.
 *
 * With list_compress_depth > 0, the nodes more than that many nodes from
 * either end are kept compressed (list_compress.h): a long queue is worked
 * at its ends, and its middle waits. A node is decompressed in place for any
 * access (enter) and compressed again when the access moves on (leave);
 * after each operation a zone pass puts the nodes near the ends (or, for the
 * O(N) commands, all nodes) back in their state. A change of the depth
 * applies to nodes as they are next touched.
 *
 * An empty list is never stored: the commands delete the key instead. */
#include "types/list.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "db/codec.h"
#include "db/object.h"
#include "types/list_node.h"
#include "db/rewrite_batch.h"
#include "util/digest.h"
#include "util/mem.h"
#include "util/str.h"
#include "util/numbers.h"

int list_max_listpack_size = -2;
int list_compress_depth = 0;

struct list {
    struct list_node *head, *tail;
    size_t count; /* elements */
    size_t nodes;
    struct list_counts *counts; /* pushes and pops, when asked for (list_object_count_into) */
};

struct list_counts *(*list_counts_for)(int db, const char *key, size_t len);

/* A position: the entry at byte offset `off` of `node`; node NULL is past the end. */
struct list_pos {
    struct list_node *node;
    size_t off;
};

/* ---- node limits ---- */

static const size_t size_levels[] = {4096, 8192, 16384, 32768, 65536};
#define SIZE_SAFETY_LIMIT 8192 /* bytes per node when the limit counts entries */
#define LISTPACK_OVERHEAD 7    /* Redis's listpack header and terminator */

/* Bytes a node may occupy, header included. */
static size_t limit_bytes(void)
{
    int fill = list_max_listpack_size;
    if (fill >= 0) return SIZE_SAFETY_LIMIT;
    size_t level = (size_t)(-(long)fill) - 1;
    if (level >= sizeof(size_levels) / sizeof(size_levels[0])) level = sizeof(size_levels) / sizeof(size_levels[0]) - 1;
    return size_levels[level];
}

static size_t limit_count(void)
{
    int fill = list_max_listpack_size;
    if (fill < 0) return SIZE_MAX;
    return fill == 0 ? 1 : (size_t)fill;
}

/* Whether node n can take one more entry of `size` bytes. An empty node
 * takes anything, so an oversized element lives alone. */
static bool node_accepts(const struct list_node *n, size_t size)
{
    if (n->count == 0) return true;
    return LIST_NODE_HEADER + n->bytes + size <= limit_bytes() && n->count + 1 <= limit_count();
}

static bool nodes_fit_together(const struct list_node *a, const struct list_node *b)
{
    return LIST_NODE_HEADER + (size_t)a->bytes + b->bytes <= limit_bytes() &&
           (size_t)a->count + b->count <= limit_count();
}

static bool node_is_small(const struct list_node *n)
{
    if (list_max_listpack_size < 0) return LIST_NODE_HEADER + (size_t)n->bytes <= limit_bytes() / 2;
    return n->count <= limit_count() / 2;
}

/* ---- the encoding tag (Redis 7.2's listpack/quicklist conversions) ---- */

/* Redis's quicklistNodeExceedsLimit for a listpack of sz bytes and count entries. */
static bool listpack_exceeds(size_t sz, size_t count)
{
    if (list_max_listpack_size < 0) return sz > limit_bytes();
    return sz > SIZE_SAFETY_LIMIT || count > limit_count();
}

/* Before adding `add_count` elements of `add_bytes` raw bytes: a listpack
 * that would exceed one node's limit becomes a quicklist. */
static void tag_grow(struct object *o, size_t add_bytes, size_t add_count)
{
    if (o->encoding != ENC_LISTPACK) return;
    const struct list *l = o->v.ptr;
    size_t sz = LISTPACK_OVERHEAD + add_bytes;
    for (const struct list_node *n = l->head; n; n = n->next) sz += n->bytes;
    if (listpack_exceeds(sz, l->count + add_count)) o->encoding = ENC_QUICKLIST;
}

/* After removals: a quicklist of one node at most half the limit becomes a listpack. */
static void tag_shrink(struct object *o)
{
    if (o->encoding != ENC_QUICKLIST) return;
    const struct list *l = o->v.ptr;
    if (l->nodes != 1) return;
    size_t sz_limit = list_max_listpack_size < 0 ? limit_bytes() / 2 : SIZE_MAX / 2;
    size_t count_limit = list_max_listpack_size < 0 ? UINT_MAX / 2 : limit_count() / 2;
    if (LISTPACK_OVERHEAD + l->head->bytes > sz_limit || l->count > count_limit) return;
    o->encoding = ENC_LISTPACK;
}

/* ---- linking ---- */

/* Points n's neighbours (or the list's ends) back at n after it moved. */
static struct list_node *relink(struct list *l, struct list_node *n)
{
    if (n->prev) n->prev->next = n;
    else l->head = n;
    if (n->next) n->next->prev = n;
    else l->tail = n;
    return n;
}

/* Links n after `at` (NULL: as the new head). */
static void link_after(struct list *l, struct list_node *at, struct list_node *n)
{
    n->prev = at;
    n->next = at ? at->next : l->head;
    relink(l, n);
    l->nodes++;
}

static void unlink_free(struct list *l, struct list_node *n)
{
    if (n->prev) n->prev->next = n->next;
    else l->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else l->tail = n->prev;
    l->nodes--;
    list_node_free(n);
}

/* ---- compression zones ---- */

/* A node decompressed for an access, to be compressed again when left (a
 * deque flag bit, above list_node's own). */
#define NODE_REOPENED (1u << 8)
/* How far past the plain ends a push, pop or trim can have changed nodes. */
#define ZONE_REACH 4

static size_t compress_depth(void)
{
    return list_compress_depth > 0 ? (size_t)list_compress_depth : 0;
}

/* Makes n's entries readable, decompressing in place; a node opened this
 * way is compressed again by leave(). */
static struct list_node *enter(struct list *l, struct list_node *n)
{
    if (!list_node_is_compressed(n)) return n;
    n = relink(l, list_node_decompress(n));
    if (compress_depth() > 0) n->flags |= NODE_REOPENED;
    return n;
}

/* An access to n is over: a node enter() decompressed is compressed again. */
static void leave(struct list *l, struct list_node *n)
{
    if (!(n->flags & NODE_REOPENED)) return;
    n->flags &= ~NODE_REOPENED;
    relink(l, list_node_compress(n));
}

/* Puts n in its zone state: plain near an end, compressed elsewhere. */
static struct list_node *zone_set(struct list *l, struct list_node *n, bool plain)
{
    n->flags &= ~NODE_REOPENED;
    return relink(l, plain ? list_node_decompress(n) : list_node_compress(n));
}

/* Whether node `i` (from the head) of a list of `nodes` must stay plain. */
static bool in_plain_zone(size_t i, size_t nodes, size_t depth)
{
    return i < depth || i + depth >= nodes;
}

/* Zone pass near the ends: the `depth` nodes at each end plain, the next
 * ZONE_REACH ones compressed. O(depth) — enough after pushes, pops and
 * trims, which change nothing farther in. */
static void keep_zone(struct list *l)
{
    size_t depth = compress_depth();
    if (depth == 0) return;
    struct list_node *n = l->head;
    for (size_t i = 0; n && i < depth + ZONE_REACH; i++)
        n = zone_set(l, n, in_plain_zone(i, l->nodes, depth))->next;
    n = l->tail;
    for (size_t i = 0; n && i < depth + ZONE_REACH; i++)
        n = zone_set(l, n, in_plain_zone(l->nodes - 1 - i, l->nodes, depth))->prev;
}

/* Zone pass over every node: for the commands that are O(N) anyway. */
static void rezone_all(struct list *l)
{
    size_t depth = compress_depth();
    if (depth == 0) return;
    size_t i = 0;
    for (struct list_node *n = l->head; n; i++) n = zone_set(l, n, in_plain_zone(i, l->nodes, depth))->next;
}

/* ---- merging ---- */

/* Merges b (which must follow a) into a; returns the merged node, which a
 * zone pass must put back in its state. */
static struct list_node *merge_pair(struct list *l, struct list_node *a, struct list_node *b)
{
    a = enter(l, a);
    b = enter(l, b);
    a->flags |= b->flags & NODE_REOPENED;
    a = relink(l, list_node_merge(a, b));
    unlink_free(l, b);
    return a;
}

/* After deletions in n: folds n into a neighbour when both fit in one node. */
static void maybe_merge(struct list *l, struct list_node *n)
{
    if (!node_is_small(n)) return;
    if (n->prev && nodes_fit_together(n->prev, n)) n = merge_pair(l, n->prev, n);
    if (n->next && nodes_fit_together(n, n->next)) merge_pair(l, n, n->next);
}

/* Merges every adjacent pair that fits, from `from` (NULL: the head) for at
 * most `steps` nodes (0: to the end). */
static void compact(struct list *l, struct list_node *from, size_t steps)
{
    struct list_node *n = from ? from : l->head;
    for (size_t i = 0; n && n->next && (steps == 0 || i < steps); i++) {
        if (nodes_fit_together(n, n->next)) n = merge_pair(l, n, n->next);
        else n = n->next;
    }
}

/* ---- positions ---- */

/* Finds element `index` (< count); returns its index within its node. */
static size_t locate(const struct list *l, size_t index, struct list_pos *pos)
{
    struct list_node *n;
    size_t base;
    if (index < l->count / 2) {
        for (n = l->head, base = 0; index >= base + n->count; n = n->next) base += n->count;
    } else {
        n = l->tail;
        base = l->count - n->count;
        while (index < base) {
            n = n->prev;
            base -= n->count;
        }
    }
    pos->node = n = enter((struct list *)l, n);
    pos->off = list_node_seek(n, index - base);
    return index - base;
}

/* Moves pos from the node it is in to the start of `next` (NULL: past the
 * end), leaving the one and entering the other. */
static void move_to_start(struct list *l, struct list_pos *pos, struct list_node *next)
{
    leave(l, pos->node);
    pos->node = next ? enter(l, next) : NULL;
    pos->off = 0;
}

/* Moves pos to the last entry of `prev` (NULL: before the head). */
static void move_to_last(struct list *l, struct list_pos *pos, struct list_node *prev)
{
    leave(l, pos->node);
    pos->node = prev ? enter(l, prev) : NULL;
    pos->off = prev ? list_node_last(pos->node) : 0;
}

static void step_forward(struct list *l, struct list_pos *pos)
{
    pos->off = list_node_next(pos->node, pos->off);
    if (pos->off == pos->node->bytes) move_to_start(l, pos, pos->node->next);
}

static void step_backward(struct list *l, struct list_pos *pos)
{
    if (pos->off == 0) move_to_last(l, pos, pos->node->prev);
    else pos->off = list_node_prev(pos->node, pos->off);
}

/* Ends a walk: the node pos stopped in is left. */
static void finish(struct list *l, struct list_pos *pos)
{
    if (pos->node) leave(l, pos->node);
}

static struct list_pos first_pos(struct list *l)
{
    return (struct list_pos){l->head ? enter(l, l->head) : NULL, 0};
}

static struct list_pos last_pos(struct list *l)
{
    struct list_node *n = l->tail ? enter(l, l->tail) : NULL;
    return (struct list_pos){n, n ? list_node_last(n) : 0};
}

static void visit(const struct list_pos *pos, list_elem_fn *fn, void *ctx)
{
    char buf[LIST_NODE_INT_BUF];
    size_t len;
    const char *p = list_node_get(pos->node, pos->off, buf, &len);
    fn(ctx, p, len);
}

/* ---- editing the deque ---- */

static void push(struct list *l, const char *p, size_t len, enum list_end end)
{
    size_t size = list_node_entry_size(p, len);
    struct list_node *n = end == LIST_HEAD ? l->head : l->tail;
    if (n) n = enter(l, n);
    if (!n || !node_accepts(n, size)) {
        n = list_node_new(size);
        link_after(l, end == LIST_HEAD ? NULL : l->tail, n);
    }
    n = end == LIST_HEAD ? list_node_prepend(n, p, len) : list_node_append(n, p, len);
    relink(l, n);
    l->count++;
    keep_zone(l);
}

/* A new node holding just p, linked after `at` (NULL: as head). */
static void insert_alone(struct list *l, struct list_node *at, const char *p, size_t len)
{
    struct list_node *n = list_node_new(list_node_entry_size(p, len));
    link_after(l, at, n);
    relink(l, list_node_append(n, p, len));
}

/* Inserts p before the entry at (n, off); off == n->bytes means after n's
 * last entry. Splits n when neither it nor the neighbour at that edge has
 * room. */
static void insert_at(struct list *l, struct list_node *n, size_t off, const char *p, size_t len)
{
    size_t size = list_node_entry_size(p, len);
    l->count++;
    if (node_accepts(n, size)) {
        relink(l, list_node_insert(n, off, p, len));
    } else if (off == 0 && n->prev && node_accepts(n->prev, size)) {
        relink(l, list_node_append(enter(l, n->prev), p, len));
    } else if (off == n->bytes && n->next && node_accepts(n->next, size)) {
        relink(l, list_node_prepend(enter(l, n->next), p, len));
    } else if (off == 0) {
        insert_alone(l, n->prev, p, len);
    } else if (off == n->bytes) {
        insert_alone(l, n, p, len);
    } else {
        struct list_node *tail = list_node_split(&n, off);
        relink(l, n);
        link_after(l, n, tail);
        if (node_accepts(n, size)) relink(l, list_node_append(n, p, len));
        else if (node_accepts(tail, size)) relink(l, list_node_prepend(tail, p, len));
        else insert_alone(l, n, p, len);
    }
}

/* Deletes the entry at pos and moves pos to the entry that followed it.
 * Never merges, so positions elsewhere in the list stay valid. */
static void delete_at(struct list *l, struct list_pos *pos)
{
    struct list_node *n = pos->node, *next = n->next;
    l->count--;
    if (n->count == 1) {
        unlink_free(l, n);
        pos->node = next ? enter(l, next) : NULL;
        pos->off = 0;
        return;
    }
    pos->node = relink(l, list_node_delete(n, pos->off, 1));
    if (pos->off == pos->node->bytes) move_to_start(l, pos, next);
}

/* Deletes the entry at pos and moves pos to the entry that preceded it
 * (node NULL before the head). */
static void delete_at_backward(struct list *l, struct list_pos *pos)
{
    struct list_node *n = pos->node, *prev = n->prev;
    l->count--;
    if (pos->off > 0) {
        size_t prev_off = list_node_prev(n, pos->off);
        pos->node = relink(l, list_node_delete(n, pos->off, 1));
        pos->off = prev_off;
    } else if (n->count == 1) {
        unlink_free(l, n);
        pos->node = prev ? enter(l, prev) : NULL;
        pos->off = prev ? list_node_last(pos->node) : 0;
    } else {
        pos->node = relink(l, list_node_delete(n, 0, 1));
        move_to_last(l, pos, prev);
    }
}

/* Deletes `count` elements from index `start` on, dropping whole nodes
 * where it can, then merges the partly emptied nodes at the edges. */
static void delete_range(struct list *l, size_t start, size_t count)
{
    if (count == 0) return;
    struct list_pos pos;
    size_t i = locate(l, start, &pos);
    struct list_node *before = pos.node->prev;
    while (count > 0) {
        struct list_node *n = pos.node, *next = n->next;
        size_t take = n->count - i < count ? n->count - i : count;
        count -= take;
        l->count -= take;
        if (take == n->count) unlink_free(l, n);
        else relink(l, list_node_delete(enter(l, n), pos.off, take));
        pos = (struct list_pos){next, 0};
        i = 0;
    }
    compact(l, before, 3);
}

/* ---- the object ---- */

static struct list *list_of(const struct object *o)
{
    return o->v.ptr;
}

struct object *list_object_create(void)
{
    struct list *l = mem_calloc(sizeof(*l));
    return object_new(OBJ_LIST, ENC_LISTPACK, l);
}

void list_object_count_into(struct object *o, struct list_counts *c)
{
    list_of(o)->counts = c;
}

struct list_counts *list_object_counts(const struct object *o)
{
    return list_of(o)->counts;
}

size_t list_object_length(const struct object *o)
{
    return list_of(o)->count;
}

size_t list_object_node_count(const struct object *o)
{
    return list_of(o)->nodes;
}

/* The tag check counts an integer element as Redis counts an integer
 * object (no bytes): the elements pushed one by one are those LMOVE moves. */
void list_object_push(struct object *o, const char *p, size_t len, enum list_end end)
{
    long long v;
    tag_grow(o, len <= 20 && parse_ll(p, len, &v) ? 0 : len, 1);
    struct list *l = list_of(o);
    if (l->counts) l->counts->pushed++;
    push(l, p, len, end);
}

void list_object_push_many(struct object *o, const struct arg *args, int n, enum list_end end)
{
    size_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += args[i].len;
    tag_grow(o, bytes, (size_t)n);
    struct list *l = list_of(o);
    if (l->counts) l->counts->pushed += n;
    for (int i = 0; i < n; i++) push(l, args[i].ptr, args[i].len, end);
}

bool list_object_pop(struct object *o, enum list_end end, list_elem_fn *fn, void *ctx)
{
    struct list *l = list_of(o);
    if (l->count == 0) return false;
    struct list_pos pos = end == LIST_HEAD ? first_pos(l) : last_pos(l);
    if (fn) visit(&pos, fn, ctx);
    struct list_node *n = pos.node;
    l->count--;
    if (l->counts) l->counts->popped++;
    if (n->count == 1) {
        unlink_free(l, n);
    } else {
        n = relink(l, list_node_delete(n, pos.off, 1));
        maybe_merge(l, n);
    }
    keep_zone(l);
    tag_shrink(o);
    return true;
}

/* Walks with the list's own positions, so compressed nodes are opened and
 * closed again as it goes; fn must not change the list. */
void list_object_each(const struct object *o, list_visit_fn *fn, void *ctx)
{
    struct list *l = list_of(o);
    struct list_pos pos = first_pos(l);
    while (pos.node) {
        char buf[LIST_NODE_INT_BUF];
        size_t len;
        const char *p = list_node_get(pos.node, pos.off, buf, &len);
        if (!fn(ctx, p, len)) break;
        step_forward(l, &pos);
    }
    finish(l, &pos);
}

/* Turns a Redis index (negative from the tail) into 0..count-1; false when out of range. */
static bool normalize_index(const struct list *l, long long index, size_t *out)
{
    long long len = (long long)l->count;
    if (index < 0) index += len;
    if (index < 0 || index >= len) return false;
    *out = (size_t)index;
    return true;
}

bool list_object_index(const struct object *o, long long index, list_elem_fn *fn, void *ctx)
{
    struct list *l = list_of(o);
    size_t i;
    if (!normalize_index(l, index, &i)) return false;
    struct list_pos pos;
    locate(l, i, &pos);
    visit(&pos, fn, ctx);
    finish(l, &pos);
    return true;
}

void list_object_range(const struct object *o, size_t start, size_t count, list_elem_fn *fn, void *ctx)
{
    struct list *l = list_of(o);
    if (count == 0) return;
    struct list_pos pos;
    locate(l, start, &pos);
    for (size_t i = 0; i < count; i++) {
        visit(&pos, fn, ctx);
        step_forward(l, &pos);
    }
    finish(l, &pos);
}

bool list_object_set(struct object *o, long long index, const char *p, size_t len)
{
    struct list *l = list_of(o);
    tag_grow(o, len, 1);
    size_t i;
    if (!normalize_index(l, index, &i)) return false;
    struct list_pos pos;
    locate(l, i, &pos);
    struct list_node *n = pos.node;
    size_t old = list_node_entry_at_size(n, pos.off), size = list_node_entry_size(p, len);
    if (size <= old || n->count == 1 || LIST_NODE_HEADER + n->bytes - old + size <= limit_bytes()) {
        n = relink(l, list_node_replace(n, pos.off, p, len));
        if (size < old) maybe_merge(l, n);
    } else {
        delete_at(l, &pos);
        if (pos.node) insert_at(l, pos.node, pos.off, p, len);
        else push(l, p, len, LIST_TAIL);
    }
    rezone_all(l);
    tag_shrink(o);
    return true;
}

bool list_object_insert(struct object *o, bool after, const char *pivot, size_t pivot_len, const char *p, size_t len)
{
    struct list *l = list_of(o);
    tag_grow(o, len, 1);
    struct list_needle nd;
    list_needle_init(&nd, pivot, pivot_len);
    for (struct list_pos pos = first_pos(l); pos.node; step_forward(l, &pos)) {
        if (!list_node_matches(pos.node, pos.off, &nd)) continue;
        size_t off = after ? list_node_next(pos.node, pos.off) : pos.off;
        insert_at(l, pos.node, off, p, len);
        rezone_all(l);
        return true;
    }
    return false;
}

static size_t remove_forward(struct list *l, const struct list_needle *nd, size_t limit)
{
    size_t removed = 0;
    struct list_pos pos = first_pos(l);
    while (pos.node && (limit == 0 || removed < limit)) {
        if (list_node_matches(pos.node, pos.off, nd)) {
            delete_at(l, &pos);
            removed++;
        } else {
            step_forward(l, &pos);
        }
    }
    finish(l, &pos);
    return removed;
}

static size_t remove_backward(struct list *l, const struct list_needle *nd, size_t limit)
{
    size_t removed = 0;
    struct list_pos pos = last_pos(l);
    while (pos.node && removed < limit) {
        if (list_node_matches(pos.node, pos.off, nd)) {
            delete_at_backward(l, &pos);
            removed++;
        } else {
            step_backward(l, &pos);
        }
    }
    finish(l, &pos);
    return removed;
}

size_t list_object_remove(struct object *o, const char *p, size_t len, long long count)
{
    struct list *l = list_of(o);
    struct list_needle nd;
    list_needle_init(&nd, p, len);
    size_t removed = count >= 0 ? remove_forward(l, &nd, (size_t)count)
                                : remove_backward(l, &nd, (size_t)0 - (size_t)count);
    if (removed) {
        compact(l, NULL, 0);
        rezone_all(l);
        tag_shrink(o);
    }
    return removed;
}

void list_object_trim(struct object *o, size_t head, size_t tail)
{
    struct list *l = list_of(o);
    delete_range(l, 0, head);
    delete_range(l, l->count - tail, tail);
    keep_zone(l);
    tag_shrink(o);
}

size_t list_object_find(const struct object *o, const char *p, size_t len, long long rank, size_t count,
                        size_t maxlen, void (*fn)(void *ctx, long long index), void *ctx)
{
    struct list *l = list_of(o);
    bool forward = rank > 0;
    size_t skip = (forward ? (size_t)rank : (size_t)0 - (size_t)rank) - 1, reported = 0;
    struct list_needle nd;
    list_needle_init(&nd, p, len);
    struct list_pos pos = forward ? first_pos(l) : last_pos(l);
    for (size_t seen = 0; pos.node && (maxlen == 0 || seen < maxlen); seen++) {
        if (list_node_matches(pos.node, pos.off, &nd)) {
            if (skip > 0) {
                skip--;
            } else {
                fn(ctx, (long long)(forward ? seen : l->count - seen - 1));
                if (++reported == count) break;
            }
        }
        if (forward) step_forward(l, &pos);
        else step_backward(l, &pos);
    }
    finish(l, &pos);
    return reported;
}

/* Whether node i is in the state the zone passes leave between operations. */
static bool zone_ok(const struct list *l, const struct list_node *n, size_t i)
{
    if (n->flags & NODE_REOPENED) return false;
    size_t depth = compress_depth();
    if (depth == 0) return true;
    if (in_plain_zone(i, l->nodes, depth)) return !list_node_is_compressed(n);
    return list_node_is_compressed(n) || (n->flags & LIST_NODE_NOCOMPRESS);
}

bool list_object_validate(const struct object *o)
{
    const struct list *l = list_of(o);
    size_t count = 0, nodes = 0;
    const struct list_node *prev = NULL;
    for (const struct list_node *n = l->head; n; prev = n, n = n->next) {
        if (n->prev != prev || n->count == 0 || !list_node_validate(n) || !zone_ok(l, n, nodes)) return false;
        count += n->count;
        nodes++;
    }
    return prev == l->tail && count == l->count && nodes == l->nodes;
}

/* ---- object ops ---- */

static void list_free(struct object *o)
{
    struct list *l = list_of(o);
    struct list_node *n = l->head;
    while (n) {
        struct list_node *next = n->next;
        list_node_free(n);
        n = next;
    }
    mem_free(l);
}

static struct object *list_copy(const struct object *o)
{
    const struct list *src = list_of(o);
    struct object *c = list_object_create();
    struct list *l = list_of(c);
    for (const struct list_node *n = src->head; n; n = n->next) link_after(l, l->tail, list_node_dup(n));
    l->count = src->count;
    c->encoding = o->encoding;
    return c;
}

static size_t list_memory(const struct object *o)
{
    const struct list *l = list_of(o);
    size_t total = mem_usable_size((void *)l);
    for (const struct list_node *n = l->head; n; n = n->next) total += list_node_alloc_size(n);
    return total;
}

/* AOF rewrite: RPUSH batches of up to 64 elements, so loading a long list
 * costs few commands and no single command is huge. */
static bool list_rewrite_visit(void *ctx, const char *p, size_t len)
{
    rewrite_batch_arg(ctx, p, len);
    rewrite_batch_item_done(ctx);
    return true;
}

static void list_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx)
{
    struct rewrite_batch *b = rewrite_batch_new("RPUSH", key, len, emit, ctx);
    list_object_each(o, list_rewrite_visit, b);
    rewrite_batch_finish(b);
}

/* Snapshots: the encoding tag (0 listpack, 1 quicklist), the node count,
 * then every node as it is in memory (list_node_save), compressed or not. */
enum list_save_tag { LIST_SAVE_LISTPACK = 0, LIST_SAVE_QUICKLIST = 1 };
#define MIN_NODE_BYTES 4

static void list_save(const struct object *o, struct codec_out *out)
{
    const struct list *l = list_of(o);
    codec_put_u8(out, o->encoding == ENC_LISTPACK ? LIST_SAVE_LISTPACK : LIST_SAVE_QUICKLIST);
    codec_put_varint(out, l->nodes);
    for (const struct list_node *n = l->head; n; n = n->next) list_node_save(n, out);
}

static struct object *list_load(struct codec_in *in)
{
    unsigned tag;
    uint64_t nodes;
    if (!codec_get_u8(in, &tag) || !codec_get_count(in, MIN_NODE_BYTES, &nodes)) return NULL;
    if (tag > LIST_SAVE_QUICKLIST || nodes == 0) {
        codec_fail(in, "corrupt list: unknown encoding or no nodes");
        return NULL;
    }
    struct object *o = list_object_create();
    struct list *l = list_of(o);
    for (uint64_t i = 0; i < nodes; i++) {
        struct list_node *n = list_node_load(in, 0, NULL);
        if (!n) {
            object_free(o);
            return NULL;
        }
        link_after(l, l->tail, n);
        l->count += n->count;
    }
    o->encoding = tag == LIST_SAVE_LISTPACK && l->nodes == 1 ? ENC_LISTPACK : ENC_QUICKLIST;
    rezone_all(l);
    return o;
}

/* DEBUG DIGEST: the length, then every element in order; how the elements
 * are spread over nodes, or compressed, does not show. */
static bool list_digest_visit(void *ctx, const char *p, size_t len)
{
    digest_seq_bytes(ctx, p, len);
    return true;
}

static void list_digest(const struct object *o, struct digest_seq *seq)
{
    digest_seq_u64(seq, list_object_length(o));
    list_object_each(o, list_digest_visit, seq);
}

static const struct object_ops list_ops = {
    .name = "list",
    .free = list_free,
    .copy = list_copy,
    .memory = list_memory,
    .rewrite = list_rewrite,
    .save = list_save,
    .load = list_load,
    .digest = list_digest,
};

void list_type_register(void)
{
    object_register_type(OBJ_LIST, &list_ops);
}
