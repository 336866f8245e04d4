/* zset_skiplist: the skip list of zset_skiplist.h. The algorithms are the
 * classic ones (Pugh's list with Redis's spans for ranks); what differs is
 * the node layout: level 0 keeps no span, the member lives inside the node
 * as a str, and levels above 0 follow the member. */
#include "types/zset_skiplist.h"

#include <string.h>

#include "util/mem.h"
#include "util/str.h"

struct zsl_level {
    struct zsl_node *forward;
    size_t span; /* level-0 steps to `forward` */
};

_Static_assert(offsetof(struct zsl_node, member) - offsetof(struct zsl_node, member_len) == sizeof(struct str_header),
               "the member's length words must form a str header");
_Static_assert(offsetof(struct str_header, len) == 0 && offsetof(struct str_header, cap) == sizeof(uint32_t),
               "str header layout");
_Static_assert(offsetof(struct zsl_node, member) % 8 == 0, "levels after the member must stay aligned");

#define PAD8(n) (((n) + 7) & ~(size_t)7)

/* ---- node access ---- */

static struct zsl_level *levels_of(const struct zsl_node *n)
{
    return (struct zsl_level *)(void *)((char *)n->member + PAD8((size_t)n->member_len + 1));
}

static inline struct zsl_node *fwd(const struct zsl_node *n, int i)
{
    return i ? levels_of(n)[i - 1].forward : n->next;
}

static inline size_t span(const struct zsl_node *n, int i)
{
    return i ? levels_of(n)[i - 1].span : 1;
}

static inline void set_fwd(struct zsl_node *n, int i, struct zsl_node *f)
{
    if (i) levels_of(n)[i - 1].forward = f;
    else n->next = f;
}

static inline void set_span(struct zsl_node *n, int i, size_t s)
{
    if (i) levels_of(n)[i - 1].span = s;
}

static struct zsl_node *node_new(int height, double score, const char *member, size_t len)
{
    size_t size = sizeof(struct zsl_node) + PAD8(len + 1) + (size_t)(height - 1) * sizeof(struct zsl_level);
    struct zsl_node *n = mem_alloc(size);
    n->score = score;
    n->backward = NULL;
    n->next = NULL;
    n->member_len = (uint32_t)len;
    n->member_cap = (uint32_t)len;
    if (len) memcpy(n->member, member, len);
    n->member[len] = '\0';
    struct zsl_level *lv = levels_of(n);
    for (int i = 0; i < height - 1; i++) lv[i] = (struct zsl_level){NULL, 0};
    return n;
}

/* A level with probability 1/4 of going one higher, as Redis: each pair of
 * low bits of a random word that is zero adds a level. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static int random_level(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    int level = 1 + (x ? __builtin_ctzll(x) : 64) / 2;
    return level < ZSL_MAX_LEVEL ? level : ZSL_MAX_LEVEL;
}

int zsl_compare(double s1, const char *m1, size_t l1, double s2, const char *m2, size_t l2)
{
    if (s1 < s2) return -1;
    if (s1 > s2) return 1;
    size_t min = l1 < l2 ? l1 : l2;
    int c = min ? memcmp(m1, m2, min) : 0;
    if (c) return c;
    return l1 < l2 ? -1 : l1 > l2;
}

static int node_compare(const struct zsl_node *n, double score, const char *member, size_t len)
{
    return zsl_compare(n->score, n->member, n->member_len, score, member, len);
}

/* ---- lifecycle ---- */

void zsl_init(struct zsl *zsl)
{
    zsl->header = node_new(ZSL_MAX_LEVEL, 0, NULL, 0);
    zsl->tail = NULL;
    zsl->length = 0;
    zsl->level = 1;
}

void zsl_release(struct zsl *zsl)
{
    struct zsl_node *n = zsl->header->next;
    while (n) {
        struct zsl_node *next = n->next;
        mem_free(n);
        n = next;
    }
    mem_free(zsl->header);
    zsl->header = NULL;
}

/* ---- linking ---- */

/* Fills update[i] with the last node before (score, member) on each level,
 * and rank[i] with that node's rank. */
static void find_path(const struct zsl *zsl, double score, const char *member, size_t len,
                      struct zsl_node **update, size_t *rank)
{
    struct zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        struct zsl_node *f;
        while ((f = fwd(x, i)) && node_compare(f, score, member, len) < 0) {
            rank[i] += span(x, i);
            x = f;
        }
        update[i] = x;
    }
}

/* Links node n of `height` levels after the path find_path computed. */
static void link_node(struct zsl *zsl, struct zsl_node *n, int height, struct zsl_node **update, size_t *rank)
{
    if (height > zsl->level) {
        for (int i = zsl->level; i < height; i++) {
            rank[i] = 0;
            update[i] = zsl->header;
            set_span(zsl->header, i, zsl->length);
        }
        zsl->level = height;
    }
    for (int i = 0; i < height; i++) {
        set_fwd(n, i, fwd(update[i], i));
        set_fwd(update[i], i, n);
        set_span(n, i, span(update[i], i) - (rank[0] - rank[i]));
        set_span(update[i], i, rank[0] - rank[i] + 1);
    }
    for (int i = height; i < zsl->level; i++) set_span(update[i], i, span(update[i], i) + 1);
    n->backward = update[0] == zsl->header ? NULL : update[0];
    if (n->next) n->next->backward = n;
    else zsl->tail = n;
    zsl->length++;
}

/* Unlinks x, whose predecessors on every level are update[]; returns its
 * height (the levels that pointed at it). Does not free it. */
static int unlink_node(struct zsl *zsl, struct zsl_node *x, struct zsl_node **update)
{
    int height = 0;
    for (int i = 0; i < zsl->level; i++) {
        if (fwd(update[i], i) == x) {
            set_span(update[i], i, span(update[i], i) + span(x, i) - 1);
            set_fwd(update[i], i, fwd(x, i));
            height = i + 1;
        } else {
            set_span(update[i], i, span(update[i], i) - 1);
        }
    }
    if (x->next) x->next->backward = x->backward;
    else zsl->tail = x->backward;
    while (zsl->level > 1 && fwd(zsl->header, zsl->level - 1) == NULL) zsl->level--;
    zsl->length--;
    return height;
}

struct zsl_node *zsl_insert(struct zsl *zsl, double score, const char *member, size_t len)
{
    struct zsl_node *update[ZSL_MAX_LEVEL];
    size_t rank[ZSL_MAX_LEVEL];
    find_path(zsl, score, member, len, update, rank);
    int height = random_level();
    struct zsl_node *n = node_new(height, score, member, len);
    link_node(zsl, n, height, update, rank);
    return n;
}

void zsl_update_score(struct zsl *zsl, struct zsl_node *n, double score)
{
    /* Most updates (a job's retry time moving a little) keep the order. */
    if ((!n->backward || n->backward->score < score) && (!n->next || n->next->score > score)) {
        n->score = score;
        return;
    }
    struct zsl_node *update[ZSL_MAX_LEVEL];
    size_t rank[ZSL_MAX_LEVEL];
    find_path(zsl, n->score, n->member, n->member_len, update, rank);
    int height = unlink_node(zsl, n, update);
    n->score = score;
    find_path(zsl, score, n->member, n->member_len, update, rank);
    link_node(zsl, n, height, update, rank);
}

bool zsl_delete(struct zsl *zsl, double score, const char *member, size_t len)
{
    struct zsl_node *update[ZSL_MAX_LEVEL];
    size_t rank[ZSL_MAX_LEVEL];
    find_path(zsl, score, member, len, update, rank);
    struct zsl_node *x = update[0]->next;
    if (!x || node_compare(x, score, member, len) != 0) return false;
    unlink_node(zsl, x, update);
    mem_free(x);
    return true;
}

/* ---- ranks ---- */

size_t zsl_rank(const struct zsl *zsl, double score, const char *member, size_t len)
{
    struct zsl_node *x = zsl->header;
    size_t rank = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        struct zsl_node *f;
        while ((f = fwd(x, i)) && node_compare(f, score, member, len) <= 0) {
            rank += span(x, i);
            x = f;
        }
    }
    return x != zsl->header && node_compare(x, score, member, len) == 0 ? rank : 0;
}

struct zsl_node *zsl_at(const struct zsl *zsl, size_t rank)
{
    if (rank == 0 || rank > zsl->length) return NULL;
    struct zsl_node *x = zsl->header;
    size_t traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        struct zsl_node *f;
        while ((f = fwd(x, i)) && traversed + span(x, i) <= rank) {
            traversed += span(x, i);
            x = f;
        }
        if (traversed == rank) return x;
    }
    return NULL;
}

size_t zsl_count_prefix(const struct zsl *zsl, zsl_pred_fn *pred, const void *ctx)
{
    struct zsl_node *x = zsl->header;
    size_t count = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        struct zsl_node *f;
        while ((f = fwd(x, i)) && pred(ctx, f->score, f->member, f->member_len)) {
            count += span(x, i);
            x = f;
        }
    }
    return count;
}

size_t zsl_delete_ranks(struct zsl *zsl, size_t start, size_t end, zsl_node_fn *fn, void *ctx)
{
    struct zsl_node *update[ZSL_MAX_LEVEL];
    struct zsl_node *x = zsl->header;
    size_t traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        struct zsl_node *f;
        while ((f = fwd(x, i)) && traversed + span(x, i) < start) {
            traversed += span(x, i);
            x = f;
        }
        update[i] = x;
    }
    /* Predecessors stay the same while consecutive nodes are removed. */
    x = x->next;
    traversed++;
    size_t removed = 0;
    while (x && traversed <= end) {
        struct zsl_node *next = x->next;
        unlink_node(zsl, x, update);
        if (fn) fn(ctx, x);
        mem_free(x);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}

size_t zsl_node_memory(const struct zsl_node *n)
{
    return mem_usable_size((void *)n);
}

/* ---- checking ---- */

static bool level0_ok(const struct zsl *zsl)
{
    size_t count = 0;
    const struct zsl_node *prev = NULL;
    for (const struct zsl_node *n = zsl->header->next; n; prev = n, n = n->next) {
        if (n->backward != prev || n->member_len != n->member_cap || n->member[n->member_len] != '\0') return false;
        if (prev && node_compare(prev, n->score, n->member, n->member_len) >= 0) return false;
        count++;
    }
    return count == zsl->length && zsl->tail == prev;
}

/* Level i's links must skip exactly `span` level-0 steps. */
static bool level_ok(const struct zsl *zsl, int i)
{
    const struct zsl_node *x = zsl->header, *walk = zsl->header;
    const struct zsl_node *f;
    while ((f = fwd(x, i))) {
        size_t steps = 0;
        while (walk && walk != f) {
            walk = walk->next;
            steps++;
        }
        if (!walk || steps != span(x, i)) return false;
        x = f;
    }
    return true;
}

bool zsl_validate(const struct zsl *zsl)
{
    if (zsl->level < 1 || zsl->level > ZSL_MAX_LEVEL || !level0_ok(zsl)) return false;
    for (int i = 1; i < zsl->level; i++)
        if (!level_ok(zsl, i)) return false;
    for (int i = zsl->level; i < ZSL_MAX_LEVEL; i++)
        if (fwd(zsl->header, i)) return false;
    return zsl->level == 1 || fwd(zsl->header, zsl->level - 1) != NULL;
}
