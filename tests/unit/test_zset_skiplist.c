/* Unit tests for the sorted set's skip list (types/zset_skiplist.c) and the
 * zset object over both encodings (types/zset.c): ordering, ranks, ranges,
 * score updates that move or keep a node, rank-range deletion, and random
 * operations checked against a sorted-array model. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/object.h"
#include "types/zset.h"
#include "types/zset_skiplist.h"
#include "util/mem.h"
#include "util/str.h"

/* ---- the model: a sorted array of (score, member) ---- */

struct pair {
    double score;
    char member[24];
    size_t len;
};

struct model {
    struct pair items[4096];
    size_t n;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    return zsl_compare(x->score, x->member, x->len, y->score, y->member, y->len);
}

static long model_find(const struct model *m, const char *member, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->items[i].len == len && memcmp(m->items[i].member, member, len) == 0) return (long)i;
    return -1;
}

static void model_sort(struct model *m)
{
    qsort(m->items, m->n, sizeof(m->items[0]), pair_cmp);
}

static void model_add(struct model *m, double score, const char *member, size_t len)
{
    struct pair *p = &m->items[m->n++];
    p->score = score;
    memcpy(p->member, member, len);
    p->len = len;
    model_sort(m);
}

static void model_remove_at(struct model *m, size_t i)
{
    memmove(&m->items[i], &m->items[i + 1], (m->n - i - 1) * sizeof(m->items[0]));
    m->n--;
}

static void check_list_matches(const struct zsl *zsl, const struct model *m)
{
    cr_assert(zsl_validate(zsl));
    cr_assert_eq(zsl->length, m->n);
    size_t i = 0;
    for (const struct zsl_node *n = zsl->header->next; n; n = n->next, i++) {
        cr_assert_eq(n->score, m->items[i].score);
        cr_assert_eq(n->member_len, m->items[i].len);
        cr_assert(memcmp(n->member, m->items[i].member, n->member_len) == 0);
    }
    cr_assert_eq(i, m->n);
}

static size_t random_member(char *buf, int space)
{
    return (size_t)snprintf(buf, 24, "m%d", rand() % space);
}

/* ---- the skip list ---- */

Test(zset_skiplist, empty)
{
    struct zsl zsl;
    zsl_init(&zsl);
    cr_assert(zsl_validate(&zsl));
    cr_assert_eq(zsl.length, 0);
    cr_assert_null(zsl_at(&zsl, 1));
    cr_assert_eq(zsl_rank(&zsl, 1, "a", 1), 0);
    cr_assert_not(zsl_delete(&zsl, 1, "a", 1));
    zsl_release(&zsl);
}

Test(zset_skiplist, orders_by_score_then_member)
{
    struct zsl zsl;
    zsl_init(&zsl);
    zsl_insert(&zsl, 2, "b", 1);
    zsl_insert(&zsl, 1, "z", 1);
    zsl_insert(&zsl, 2, "a", 1);
    zsl_insert(&zsl, 2, "ab", 2);
    zsl_insert(&zsl, -INFINITY, "min", 3);
    zsl_insert(&zsl, INFINITY, "max", 3);
    const char *want[] = {"min", "z", "a", "ab", "b", "max"};
    size_t i = 0;
    for (const struct zsl_node *n = zsl.header->next; n; n = n->next) cr_assert_str_eq(n->member, want[i++]);
    cr_assert_eq(i, 6);
    cr_assert_eq(zsl_rank(&zsl, 2, "ab", 2), 4);
    cr_assert_eq(zsl_rank(&zsl, 2, "abc", 3), 0);
    cr_assert_eq(zsl_rank(&zsl, 3, "ab", 2), 0);
    cr_assert_str_eq(zsl_at(&zsl, 6)->member, "max");
    cr_assert_str_eq(zsl.tail->member, "max");
    cr_assert(zsl_validate(&zsl));
    zsl_release(&zsl);
}

Test(zset_skiplist, member_is_a_str)
{
    struct zsl zsl;
    zsl_init(&zsl);
    const char bin[] = {'a', '\0', 'b'};
    struct zsl_node *n = zsl_insert(&zsl, 1, bin, sizeof(bin));
    cr_assert_eq(str_len(n->member), 3);
    cr_assert(memcmp(n->member, bin, 3) == 0);
    cr_assert_eq(n->member[3], '\0');
    struct zsl_node *e = zsl_insert(&zsl, 1, "", 0);
    cr_assert_eq(str_len(e->member), 0);
    cr_assert_eq(zsl.header->next, e); /* the empty member sorts first */
    char big[300];
    memset(big, 'x', sizeof(big));
    struct zsl_node *b = zsl_insert(&zsl, 0, big, sizeof(big));
    cr_assert_eq(str_len(b->member), 300);
    cr_assert(zsl_validate(&zsl));
    zsl_release(&zsl);
}

Test(zset_skiplist, update_keeps_the_node)
{
    struct zsl zsl;
    zsl_init(&zsl);
    struct zsl_node *nodes[50];
    char m[8];
    for (int i = 0; i < 50; i++) {
        int len = snprintf(m, sizeof(m), "k%02d", i);
        nodes[i] = zsl_insert(&zsl, i, m, (size_t)len);
    }
    zsl_update_score(&zsl, nodes[10], 10.5); /* stays in place */
    cr_assert_eq(zsl_at(&zsl, 11), nodes[10]);
    zsl_update_score(&zsl, nodes[10], 100); /* moves to the end */
    cr_assert_eq(zsl.tail, nodes[10]);
    cr_assert_eq(zsl_rank(&zsl, 100, "k10", 3), 50);
    zsl_update_score(&zsl, nodes[49], -1); /* moves to the front */
    cr_assert_eq(zsl.header->next, nodes[49]);
    zsl_update_score(&zsl, nodes[20], 30); /* ties with k30: ordered by member */
    cr_assert_eq(nodes[20]->next, nodes[30]);
    cr_assert(zsl_validate(&zsl));
    zsl_release(&zsl);
}

static bool score_below(const void *ctx, double score, const char *m, size_t len)
{
    (void)m;
    (void)len;
    return score < *(const double *)ctx;
}

Test(zset_skiplist, count_prefix_and_delete_ranks)
{
    struct zsl zsl;
    zsl_init(&zsl);
    char m[8];
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(m, sizeof(m), "%d", i);
        zsl_insert(&zsl, i / 2, m, (size_t)len); /* pairs of equal scores */
    }
    double bound = 100;
    cr_assert_eq(zsl_count_prefix(&zsl, score_below, &bound), 200);
    bound = -1;
    cr_assert_eq(zsl_count_prefix(&zsl, score_below, &bound), 0);
    bound = INFINITY;
    cr_assert_eq(zsl_count_prefix(&zsl, score_below, &bound), 1000);
    cr_assert_eq(zsl_delete_ranks(&zsl, 101, 300, NULL, NULL), 200);
    cr_assert_eq(zsl.length, 800);
    cr_assert_eq(zsl_at(&zsl, 101)->score, 150);
    cr_assert(zsl_validate(&zsl));
    cr_assert_eq(zsl_delete_ranks(&zsl, 1, 800, NULL, NULL), 800);
    cr_assert_eq(zsl.length, 0);
    cr_assert_null(zsl.tail);
    cr_assert(zsl_validate(&zsl));
    zsl_release(&zsl);
}

Test(zset_skiplist, random_ops_match_a_sorted_array)
{
    srand(1234);
    struct model *m = mem_calloc(sizeof(*m));
    struct zsl zsl;
    zsl_init(&zsl);
    for (int step = 0; step < 20000; step++) {
        char member[24];
        size_t len = random_member(member, 3000);
        double score = (double)(rand() % 200) / 4;
        long at = model_find(m, member, len);
        int op = rand() % 10;
        if (at < 0 && op < 6) {
            zsl_insert(&zsl, score, member, len);
            model_add(m, score, member, len);
        } else if (at >= 0 && op < 3) {
            cr_assert(zsl_delete(&zsl, m->items[at].score, member, len));
            model_remove_at(m, (size_t)at);
        } else if (at >= 0 && op < 6) {
            size_t rank = zsl_rank(&zsl, m->items[at].score, member, len);
            cr_assert_eq(rank, (size_t)at + 1);
            struct zsl_node *n = zsl_at(&zsl, rank);
            zsl_update_score(&zsl, n, score);
            m->items[at].score = score;
            model_sort(m);
        } else if (op == 6 && m->n > 0) {
            size_t r = (size_t)rand() % m->n;
            struct zsl_node *n = zsl_at(&zsl, r + 1);
            cr_assert_eq(n->score, m->items[r].score);
            cr_assert(memcmp(n->member, m->items[r].member, n->member_len) == 0);
        } else if (op == 7) {
            size_t want = 0;
            while (want < m->n && m->items[want].score < score) want++;
            cr_assert_eq(zsl_count_prefix(&zsl, score_below, &score), want);
        } else if (op == 8 && m->n > 10 && rand() % 20 == 0) {
            size_t start = (size_t)rand() % m->n, span = (size_t)rand() % 10;
            size_t end = start + span < m->n ? start + span : m->n - 1;
            cr_assert_eq(zsl_delete_ranks(&zsl, start + 1, end + 1, NULL, NULL), end - start + 1);
            memmove(&m->items[start], &m->items[end + 1], (m->n - end - 1) * sizeof(m->items[0]));
            m->n -= end - start + 1;
        }
        if (step % 500 == 0) check_list_matches(&zsl, m);
    }
    check_list_matches(&zsl, m);
    /* backward links walk the same order in reverse */
    size_t i = m->n;
    for (const struct zsl_node *n = zsl.tail; n; n = n->backward) cr_assert_eq(n->score, m->items[--i].score);
    cr_assert_eq(i, 0);
    zsl_release(&zsl);
    mem_free(m);
}

/* ---- the zset object, both encodings ---- */

static void init_types(void)
{
    zset_type_register();
}

struct collected {
    struct pair items[4096];
    size_t n;
};

static void collect(void *ctx, const char *member, size_t len, double score)
{
    struct collected *c = ctx;
    struct pair *p = &c->items[c->n++];
    p->score = score;
    memcpy(p->member, member, len);
    p->len = len;
}

static void check_object_matches(const struct object *o, const struct model *m)
{
    cr_assert(zset_object_validate(o));
    cr_assert_eq(zset_object_length(o), m->n);
    struct collected *c = mem_calloc(sizeof(*c));
    zset_object_each(o, collect, c);
    cr_assert_eq(c->n, m->n);
    for (size_t i = 0; i < m->n; i++) cr_assert_eq(pair_cmp(&c->items[i], &m->items[i]), 0, "entry %zu", i);
    if (m->n > 3) {
        c->n = 0;
        zset_object_range(o, 1, m->n - 2, true, collect, c);
        cr_assert_eq(c->n, m->n - 2);
        for (size_t i = 0; i < c->n; i++) cr_assert_eq(pair_cmp(&c->items[i], &m->items[m->n - 2 - i]), 0);
    }
    mem_free(c);
}

Test(zset_object, listpack_scores_round_trip, .init = init_types)
{
    struct object *o = zset_object_create(0, 0);
    cr_assert_str_eq(object_encoding_name(o), "listpack");
    const double scores[] = {0, 1, -1, 63, 64, -64, -65, 1e15, 9007199254740992.0, 9007199254740994.0,
                             -9007199254740992.0, 0.1, -2.5, 1e300, INFINITY, -INFINITY, 1700000000000.0};
    char member[8];
    double got, result;
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
        int len = snprintf(member, sizeof(member), "s%zu", i);
        cr_assert_eq(zset_object_add(o, scores[i], member, (size_t)len, 0, &result), ZSET_OUT_ADDED);
    }
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
        int len = snprintf(member, sizeof(member), "s%zu", i);
        cr_assert(zset_object_score(o, member, (size_t)len, &got));
        cr_assert_eq(got, scores[i], "score %zu: %.17g != %.17g", i, got, scores[i]);
    }
    /* -0 packs as the integer 0, as Redis's listpack stores it */
    zset_object_add(o, -0.0, "neg0", 4, 0, &result);
    cr_assert(zset_object_score(o, "neg0", 4, &got));
    cr_assert_not(signbit(got));
    cr_assert(zset_object_validate(o));
    object_free(o);
}

Test(zset_object, add_conditions, .init = init_types)
{
    struct object *o = zset_object_create(0, 0);
    double r;
    cr_assert_eq(zset_object_add(o, 5, "a", 1, ZSET_IN_XX, &r), ZSET_OUT_NOP);
    cr_assert_eq(zset_object_add(o, 5, "a", 1, 0, &r), ZSET_OUT_ADDED);
    cr_assert_eq(zset_object_add(o, 6, "a", 1, ZSET_IN_NX, &r), ZSET_OUT_NOP);
    cr_assert_eq(zset_object_add(o, 4, "a", 1, ZSET_IN_GT, &r), ZSET_OUT_NOP);
    cr_assert_eq(zset_object_add(o, 6, "a", 1, ZSET_IN_GT, &r), ZSET_OUT_UPDATED);
    cr_assert_eq(zset_object_add(o, 7, "a", 1, ZSET_IN_LT, &r), ZSET_OUT_NOP);
    cr_assert_eq(zset_object_add(o, 6, "a", 1, 0, &r), 0);
    cr_assert_eq(zset_object_add(o, 2, "a", 1, ZSET_IN_INCR, &r), ZSET_OUT_UPDATED);
    cr_assert_eq(r, 8);
    cr_assert_eq(zset_object_add(o, INFINITY, "a", 1, 0, &r), ZSET_OUT_UPDATED);
    cr_assert_eq(zset_object_add(o, -INFINITY, "a", 1, ZSET_IN_INCR, &r), ZSET_OUT_NAN);
    cr_assert(zset_object_score(o, "a", 1, &r));
    cr_assert(isinf(r));
    object_free(o);
}

Test(zset_object, converts_past_the_thresholds, .init = init_types)
{
    double r;
    struct object *o = zset_object_create(1, 1);
    char m[16];
    for (int i = 0; i < zset_max_listpack_entries; i++) {
        int len = snprintf(m, sizeof(m), "%d", i);
        zset_object_add(o, i, m, (size_t)len, 0, &r);
    }
    cr_assert_str_eq(object_encoding_name(o), "listpack");
    zset_object_add(o, -1, "one more", 8, 0, &r);
    cr_assert_str_eq(object_encoding_name(o), "skiplist");
    cr_assert_eq(zset_object_length(o), (size_t)zset_max_listpack_entries + 1);
    cr_assert_eq(zset_object_rank(o, "one more", 8, false, NULL), 0);
    cr_assert(zset_object_validate(o));
    object_free(o);

    o = zset_object_create(1, 1);
    char big[65];
    memset(big, 'v', sizeof(big));
    zset_object_add(o, 1, big, 64, 0, &r);
    cr_assert_str_eq(object_encoding_name(o), "listpack");
    zset_object_add(o, 1, big, 65, 0, &r);
    cr_assert_str_eq(object_encoding_name(o), "skiplist");
    cr_assert(zset_object_validate(o));
    struct object *c = zset_object_create(1000, 1);
    cr_assert_str_eq(object_encoding_name(c), "skiplist");
    object_free(c);
    c = object_copy(o);
    cr_assert(zset_object_validate(c));
    cr_assert_eq(zset_object_length(c), 2);
    object_free(c);
    object_free(o);
}

/* The same random operations on a packed and a skip-list set (the limit
 * forces one of them to convert early) must agree with the model. */
static void random_object_ops(int max_entries)
{
    int saved = zset_max_listpack_entries;
    zset_max_listpack_entries = max_entries;
    srand(99 + max_entries);
    struct model *m = mem_calloc(sizeof(*m));
    struct object *o = zset_object_create(0, 0);
    for (int step = 0; step < 6000; step++) {
        char member[24];
        size_t len = random_member(member, 400);
        double score = (double)(rand() % 100) - 50, r;
        long at = model_find(m, member, len);
        int op = rand() % 8;
        if (op < 3) {
            int out = zset_object_add(o, score, member, len, 0, &r);
            if (at < 0) {
                cr_assert_eq(out, ZSET_OUT_ADDED);
                model_add(m, score, member, len);
            } else {
                cr_assert_eq(out, m->items[at].score == score ? 0 : ZSET_OUT_UPDATED);
                m->items[at].score = score;
                model_sort(m);
            }
        } else if (op == 3) {
            cr_assert_eq(zset_object_remove(o, member, len), at >= 0);
            if (at >= 0) model_remove_at(m, (size_t)at);
        } else if (op == 4) {
            double got;
            long long rank = zset_object_rank(o, member, len, false, &got);
            cr_assert_eq(rank, at);
            if (at >= 0) {
                cr_assert_eq(got, m->items[at].score);
                cr_assert_eq(zset_object_rank(o, member, len, true, NULL), (long long)m->n - 1 - at);
            }
        } else if (op == 5 && m->n > 0 && rand() % 10 == 0) {
            size_t start = (size_t)rand() % m->n, end = start + (size_t)rand() % 5;
            if (end >= m->n) end = m->n - 1;
            cr_assert_eq(zset_object_delete_range(o, start, end), end - start + 1);
            memmove(&m->items[start], &m->items[end + 1], (m->n - end - 1) * sizeof(m->items[0]));
            m->n -= end - start + 1;
        } else if (op == 6) {
            size_t want = 0;
            while (want < m->n && m->items[want].score < score) want++;
            cr_assert_eq(zset_object_count_prefix(o, score_below, &score), want);
        }
        if (step % 300 == 0) check_object_matches(o, m);
    }
    check_object_matches(o, m);
    object_free(o);
    mem_free(m);
    zset_max_listpack_entries = saved;
}

Test(zset_object, random_ops_packed, .init = init_types)
{
    random_object_ops(100000);
}

Test(zset_object, random_ops_skiplist, .init = init_types)
{
    random_object_ops(0);
}
