/* stream_index: the B+tree of 128-bit IDs, checked against a sorted array
 * under random inserts, removals and seeks, plus the shapes streams and
 * PELs produce (appends at the end, removals from the front). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "types/stream_index.h"

/* ---- the model: a sorted array of keys ---- */

struct model {
    struct stream_id *keys;
    size_t n;
};

static size_t model_lower(const struct model *m, struct stream_id k)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (stream_id_cmp(&m->keys[mid], &k) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static bool model_has(const struct model *m, struct stream_id k)
{
    size_t i = model_lower(m, k);
    return i < m->n && stream_id_cmp(&m->keys[i], &k) == 0;
}

static void model_insert(struct model *m, struct stream_id k)
{
    size_t i = model_lower(m, k);
    memmove(m->keys + i + 1, m->keys + i, (m->n - i) * sizeof(*m->keys));
    m->keys[i] = k;
    m->n++;
}

static void model_remove(struct model *m, struct stream_id k)
{
    size_t i = model_lower(m, k);
    memmove(m->keys + i, m->keys + i + 1, (m->n - i - 1) * sizeof(*m->keys));
    m->n--;
}

/* Values encode their key so lookups can be checked. */
static void *value_of(struct stream_id k)
{
    return (void *)(uintptr_t)(k.ms * 1000003u + k.seq + 1);
}

static struct stream_id id(uint64_t ms, uint64_t seq)
{
    return (struct stream_id){ms, seq};
}

static void check_same(struct stream_index *t, const struct model *m)
{
    cr_assert_eq(stream_index_size(t), m->n);
    struct stream_index_iter it;
    size_t i = 0;
    for (bool ok = stream_index_first(t, &it); ok; ok = stream_index_next(&it), i++) {
        cr_assert_lt(i, m->n);
        struct stream_id k = stream_index_key(&it);
        cr_assert_eq(stream_id_cmp(&k, &m->keys[i]), 0, "forward walk differs at %zu", i);
        cr_assert_eq(stream_index_value(&it), value_of(k));
    }
    cr_assert_eq(i, m->n);
    for (bool ok = stream_index_last(t, &it); ok; ok = stream_index_prev(&it)) {
        struct stream_id k = stream_index_key(&it);
        cr_assert_eq(stream_id_cmp(&k, &m->keys[--i]), 0, "backward walk differs at %zu", i);
    }
    cr_assert_eq(i, 0);
}

static void check_seeks(struct stream_index *t, const struct model *m, struct stream_id k)
{
    struct stream_index_iter it;
    size_t i = model_lower(m, k);
    bool ge = stream_index_seek_ge(t, k, &it);
    cr_assert_eq(ge, i < m->n);
    if (ge) {
        struct stream_id got = stream_index_key(&it);
        cr_assert_eq(stream_id_cmp(&got, &m->keys[i]), 0);
    }
    size_t le_i = (i < m->n && stream_id_cmp(&m->keys[i], &k) == 0) ? i + 1 : i;
    bool le = stream_index_seek_le(t, k, &it);
    cr_assert_eq(le, le_i > 0);
    if (le) {
        struct stream_id got = stream_index_key(&it);
        cr_assert_eq(stream_id_cmp(&got, &m->keys[le_i - 1]), 0);
    }
    void *v = stream_index_find(t, k);
    cr_assert_eq(v, model_has(m, k) ? value_of(k) : NULL);
}

static struct stream_id random_key(unsigned range)
{
    return id((uint64_t)(rand() % (int)range), (uint64_t)(rand() % 3));
}

/* Random operations over a key space of `range` × 3 keys. */
static void random_run(unsigned seed, int ops, unsigned range)
{
    srand(seed);
    struct stream_index *t = stream_index_new();
    struct model m = {.keys = malloc(sizeof(struct stream_id) * range * 3), .n = 0};
    for (int op = 0; op < ops; op++) {
        struct stream_id k = random_key(range);
        int what = rand() % 10;
        if (what < 5) {
            bool had = model_has(&m, k);
            cr_assert_eq(stream_index_insert(t, k, value_of(k)), !had);
            if (!had) model_insert(&m, k);
        } else if (what < 8) {
            bool had = model_has(&m, k);
            void *v = NULL;
            cr_assert_eq(stream_index_remove(t, k, &v), had);
            if (had) {
                cr_assert_eq(v, value_of(k));
                model_remove(&m, k);
            }
        } else {
            check_seeks(t, &m, k);
        }
        if (op % 997 == 0) check_same(t, &m);
    }
    check_same(t, &m);
    while (m.n > 0) {
        struct stream_id k = m.keys[(size_t)rand() % m.n];
        cr_assert(stream_index_remove(t, k, NULL));
        model_remove(&m, k);
        if (m.n % 101 == 0) check_same(t, &m);
    }
    cr_assert_eq(stream_index_size(t), 0);
    cr_assert_eq(stream_index_nodes(t), 0, "an empty index keeps no node");
    stream_index_free(t, NULL);
    free(m.keys);
}

Test(stream_index, random_small_space)
{
    random_run(1, 20000, 40);
}

Test(stream_index, random_large_space)
{
    random_run(2, 60000, 5000);
}

Test(stream_index, random_many_seeds)
{
    for (unsigned seed = 10; seed < 30; seed++) random_run(seed, 4000, 300);
}

Test(stream_index, empty)
{
    struct stream_index *t = stream_index_new();
    struct stream_index_iter it;
    cr_assert_not(stream_index_first(t, &it));
    cr_assert_not(stream_index_last(t, &it));
    cr_assert_not(stream_index_seek_ge(t, id(0, 0), &it));
    cr_assert_not(stream_index_seek_le(t, id(UINT64_MAX, UINT64_MAX), &it));
    cr_assert_null(stream_index_find(t, id(1, 1)));
    cr_assert_not(stream_index_remove(t, id(1, 1), NULL));
    stream_index_free(t, NULL);
}

/* Appends at the end fill leaves completely: a stream's index stays small. */
Test(stream_index, appends_keep_nodes_full)
{
    struct stream_index *t = stream_index_new();
    for (uint64_t i = 0; i < 32 * 1024; i++) cr_assert(stream_index_insert(t, id(i, 0), value_of(id(i, 0))));
    /* 1024 full leaves of 32, 32 inner nodes, one root */
    cr_assert_leq(stream_index_nodes(t), 1024 + 32 + 1 + 2);
    stream_index_free(t, NULL);
}

/* Trimming removes from the front while appends continue at the end. */
Test(stream_index, sliding_window)
{
    struct stream_index *t = stream_index_new();
    struct model m = {.keys = malloc(sizeof(struct stream_id) * 3000), .n = 0};
    uint64_t next = 0;
    for (int round = 0; round < 20000; round++) {
        struct stream_id k = id(next++, 7);
        cr_assert(stream_index_insert(t, k, value_of(k)));
        model_insert(&m, k);
        if (m.n > 2000) {
            struct stream_index_iter it;
            cr_assert(stream_index_first(t, &it));
            struct stream_id first = stream_index_key(&it);
            cr_assert(stream_index_remove(t, first, NULL));
            model_remove(&m, first);
        }
    }
    check_same(t, &m);
    cr_assert_leq(stream_index_nodes(t), 2000 / 16 + 20, "removals merge nodes");
    stream_index_free(t, NULL);
    free(m.keys);
}

static int freed;

static void count_free(void *v)
{
    (void)v;
    freed++;
}

Test(stream_index, free_calls_value_free)
{
    struct stream_index *t = stream_index_new();
    for (uint64_t i = 0; i < 500; i++) stream_index_insert(t, id(i * 7 % 500, 0), value_of(id(i, 0)));
    freed = 0;
    stream_index_free(t, count_free);
    cr_assert_eq(freed, 500);
}

Test(stream_index, set_value_in_place)
{
    struct stream_index *t = stream_index_new();
    stream_index_insert(t, id(5, 5), value_of(id(5, 5)));
    struct stream_index_iter it;
    cr_assert(stream_index_seek_ge(t, id(5, 0), &it));
    stream_index_set_value(&it, (void *)42);
    cr_assert_eq(stream_index_find(t, id(5, 5)), (void *)42);
    stream_index_free(t, NULL);
}

Test(stream_index, extreme_keys)
{
    struct stream_index *t = stream_index_new();
    struct stream_id lo = id(0, 0), hi = id(UINT64_MAX, UINT64_MAX);
    cr_assert(stream_index_insert(t, hi, value_of(hi)));
    cr_assert(stream_index_insert(t, lo, value_of(lo)));
    struct stream_index_iter it;
    cr_assert(stream_index_seek_ge(t, id(1, 0), &it));
    struct stream_id k = stream_index_key(&it);
    cr_assert_eq(stream_id_cmp(&k, &hi), 0);
    cr_assert(stream_index_seek_le(t, id(UINT64_MAX, UINT64_MAX - 1), &it));
    k = stream_index_key(&it);
    cr_assert_eq(stream_id_cmp(&k, &lo), 0);
    stream_index_free(t, NULL);
}

Test(stream_index, id_increment_and_decrement)
{
    struct stream_id a = id(1, UINT64_MAX);
    cr_assert(stream_id_incr(&a));
    cr_assert_eq(a.ms, 2);
    cr_assert_eq(a.seq, 0);
    cr_assert(stream_id_decr(&a));
    cr_assert_eq(a.ms, 1);
    cr_assert_eq(a.seq, UINT64_MAX);
    struct stream_id top = id(UINT64_MAX, UINT64_MAX), zero = id(0, 0);
    cr_assert_not(stream_id_incr(&top));
    cr_assert_not(stream_id_decr(&zero));
}
