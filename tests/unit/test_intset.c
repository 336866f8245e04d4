/* Unit tests for the integer set (types/intset.c): the width each value
 * needs, upgrades (at both ends, keeping order), search results and
 * insertion points, removal, random operations checked against a plain
 * sorted-array model, and the set type's use of it (types/set.c). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/object.h"
#include "types/intset.h"
#include "types/set.h"

static void expect_values(const struct intset *is, const int64_t *want, uint32_t n)
{
    cr_assert_eq(intset_count(is), n, "count %u, want %u", intset_count(is), n);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(intset_get(is, i), want[i], "value %u is %lld, want %lld", i, (long long)intset_get(is, i),
                     (long long)want[i]);
    cr_assert(intset_validate(is));
}

static struct intset *add(struct intset *is, int64_t v, bool want_added)
{
    bool added;
    is = intset_add(is, v, &added);
    cr_assert_eq(added, want_added, "adding %lld: added=%d", (long long)v, added);
    return is;
}

Test(intset, width_for_boundaries)
{
    cr_assert_eq(intset_width_for(0), 2);
    cr_assert_eq(intset_width_for(INT16_MAX), 2);
    cr_assert_eq(intset_width_for(INT16_MIN), 2);
    cr_assert_eq(intset_width_for((int64_t)INT16_MAX + 1), 4);
    cr_assert_eq(intset_width_for((int64_t)INT16_MIN - 1), 4);
    cr_assert_eq(intset_width_for(INT32_MAX), 4);
    cr_assert_eq(intset_width_for(INT32_MIN), 4);
    cr_assert_eq(intset_width_for((int64_t)INT32_MAX + 1), 8);
    cr_assert_eq(intset_width_for((int64_t)INT32_MIN - 1), 8);
    cr_assert_eq(intset_width_for(INT64_MAX), 8);
    cr_assert_eq(intset_width_for(INT64_MIN), 8);
}

Test(intset, empty)
{
    struct intset *is = intset_new();
    cr_assert_eq(intset_count(is), 0);
    cr_assert_eq(is->width, 2);
    cr_assert_not(intset_contains(is, 0));
    uint32_t at = 99;
    cr_assert_not(intset_search(is, 5, &at));
    cr_assert_eq(at, 0);
    bool removed = true;
    is = intset_remove(is, 5, &removed);
    cr_assert_not(removed);
    cr_assert(intset_validate(is));
    intset_free(is);
}

Test(intset, adds_keep_order_and_reject_duplicates)
{
    struct intset *is = intset_new();
    is = add(is, 5, true);
    is = add(is, 1, true);
    is = add(is, 3, true);
    is = add(is, 3, false);
    is = add(is, -7, true);
    is = add(is, 100, true);
    const int64_t want[] = {-7, 1, 3, 5, 100};
    expect_values(is, want, 5);
    cr_assert_eq(is->width, 2);
    cr_assert_eq(intset_min(is), -7);
    cr_assert_eq(intset_max(is), 100);
    intset_free(is);
}

Test(intset, upgrade_positive_goes_last)
{
    struct intset *is = intset_new();
    is = add(is, 1, true);
    is = add(is, -2, true);
    is = add(is, 32767, true);
    cr_assert_eq(is->width, 2);
    is = add(is, 32768, true);
    cr_assert_eq(is->width, 4);
    const int64_t want[] = {-2, 1, 32767, 32768};
    expect_values(is, want, 4);
    is = add(is, 4294967296LL, true);
    cr_assert_eq(is->width, 8);
    const int64_t want2[] = {-2, 1, 32767, 32768, 4294967296LL};
    expect_values(is, want2, 5);
    cr_assert(intset_contains(is, 32768));
    cr_assert(intset_contains(is, -2));
    intset_free(is);
}

Test(intset, upgrade_negative_goes_first)
{
    struct intset *is = intset_new();
    is = add(is, 10, true);
    is = add(is, 20, true);
    is = add(is, -40000, true);
    cr_assert_eq(is->width, 4);
    const int64_t want[] = {-40000, 10, 20};
    expect_values(is, want, 3);
    is = add(is, INT64_MIN, true);
    cr_assert_eq(is->width, 8);
    const int64_t want2[] = {INT64_MIN, -40000, 10, 20};
    expect_values(is, want2, 4);
    is = add(is, INT64_MAX, true);
    is = add(is, INT64_MAX, false);
    const int64_t want3[] = {INT64_MIN, -40000, 10, 20, INT64_MAX};
    expect_values(is, want3, 5);
    intset_free(is);
}

Test(intset, upgrade_straight_to_64_bits)
{
    struct intset *is = intset_new();
    for (int i = 0; i < 10; i++) is = add(is, i * 1000, true);
    is = add(is, -5000000000LL, true);
    cr_assert_eq(is->width, 8);
    cr_assert_eq(intset_get(is, 0), -5000000000LL);
    for (int i = 0; i < 10; i++) cr_assert_eq(intset_get(is, (uint32_t)i + 1), i * 1000);
    cr_assert(intset_validate(is));
    intset_free(is);
}

Test(intset, wide_values_not_found_in_narrow_set)
{
    struct intset *is = intset_new();
    is = add(is, 1, true);
    cr_assert_not(intset_contains(is, 65537));
    cr_assert_not(intset_contains(is, INT64_MIN));
    bool removed = true;
    is = intset_remove(is, 1LL << 40, &removed);
    cr_assert_not(removed);
    cr_assert_eq(intset_count(is), 1);
    intset_free(is);
}

Test(intset, search_reports_insertion_point)
{
    struct intset *is = intset_new();
    for (int v = 10; v <= 50; v += 10) is = add(is, v, true);
    uint32_t at;
    cr_assert(intset_search(is, 10, &at));
    cr_assert_eq(at, 0);
    cr_assert(intset_search(is, 30, &at));
    cr_assert_eq(at, 2);
    cr_assert(intset_search(is, 50, &at));
    cr_assert_eq(at, 4);
    cr_assert_not(intset_search(is, 5, &at));
    cr_assert_eq(at, 0);
    cr_assert_not(intset_search(is, 25, &at));
    cr_assert_eq(at, 2);
    cr_assert_not(intset_search(is, 45, &at));
    cr_assert_eq(at, 4);
    cr_assert_not(intset_search(is, 55, &at));
    cr_assert_eq(at, 5);
    intset_free(is);
}

Test(intset, remove_first_middle_last)
{
    struct intset *is = intset_new();
    for (int v = 1; v <= 5; v++) is = add(is, v, true);
    bool removed;
    is = intset_remove(is, 1, &removed);
    cr_assert(removed);
    is = intset_remove(is, 3, &removed);
    cr_assert(removed);
    is = intset_remove(is, 5, &removed);
    cr_assert(removed);
    is = intset_remove(is, 5, &removed);
    cr_assert_not(removed);
    const int64_t want[] = {2, 4};
    expect_values(is, want, 2);
    is = intset_remove(is, 2, &removed);
    is = intset_remove(is, 4, &removed);
    cr_assert_eq(intset_count(is), 0);
    intset_free(is);
}

Test(intset, width_stays_after_removing_wide_value)
{
    struct intset *is = intset_new();
    is = add(is, 1, true);
    is = add(is, 1LL << 40, true);
    bool removed;
    is = intset_remove(is, 1LL << 40, &removed);
    cr_assert(removed);
    cr_assert_eq(is->width, 8); /* never narrows */
    cr_assert(intset_contains(is, 1));
    is = add(is, 2, true);
    const int64_t want[] = {1, 2};
    expect_values(is, want, 2);
    intset_free(is);
}

Test(intset, dup_is_independent)
{
    struct intset *is = intset_new();
    for (int v = 0; v < 100; v++) is = add(is, v * 7 - 300, true);
    struct intset *d = intset_dup(is);
    bool removed;
    is = intset_remove(is, -300, &removed);
    cr_assert(removed);
    cr_assert_eq(intset_count(d), 100);
    cr_assert(intset_contains(d, -300));
    cr_assert_not(intset_contains(is, -300));
    cr_assert(intset_memory(d) >= sizeof(struct intset) + 100 * 2);
    intset_free(is);
    intset_free(d);
}

/* ---- the set type's intset encoding (types/set.c) ---- */

static struct object *set_of_ints(int n)
{
    struct object *o = set_object_create("0", 1, 1);
    char buf[24];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "%d", i);
        cr_assert(set_object_add(o, buf, (size_t)len));
    }
    return o;
}

Test(intset, set_type_uses_intset_for_canonical_integers)
{
    set_type_register();
    struct object *o = set_of_ints(100);
    cr_assert_eq(o->encoding, ENC_INTSET);
    cr_assert(set_object_contains(o, "42", 2));
    cr_assert_not(set_object_contains(o, "042", 3)); /* another spelling is another member */
    cr_assert_not(set_object_contains(o, "+42", 3));
    cr_assert_not(set_object_add(o, "42", 2));
    cr_assert(set_object_validate(o));
    cr_assert(set_object_add(o, "042", 3)); /* a string: the set becomes a listpack */
    cr_assert_eq(o->encoding, ENC_LISTPACK);
    cr_assert_eq(set_object_length(o), 101);
    cr_assert(set_object_contains(o, "42", 2) && set_object_contains(o, "042", 3));
    cr_assert(set_object_validate(o));
    object_free(o);
}

Test(intset, set_type_converts_past_the_entry_limit)
{
    set_type_register();
    struct object *o = set_of_ints(set_max_intset_entries);
    cr_assert_eq(o->encoding, ENC_INTSET);
    cr_assert(set_object_add(o, "-1", 2));
    cr_assert_eq(o->encoding, ENC_HASHTABLE);
    cr_assert_eq(set_object_length(o), (size_t)set_max_intset_entries + 1);
    cr_assert(set_object_contains(o, "-1", 2) && set_object_contains(o, "511", 3));
    cr_assert(set_object_validate(o));
    object_free(o);
}

static bool count_member(void *ctx, const char *p, size_t len)
{
    (void)p;
    (void)len;
    (*(int *)ctx)++;
    return true;
}

Test(intset, set_type_pop_and_sample_draw_members)
{
    set_type_register();
    struct object *o = set_of_ints(8);
    int seen = 0;
    set_object_sample(o, 5, count_member, &seen);
    cr_assert_eq(seen, 5);
    for (int i = 0; i < 8; i++) {
        struct set_member m;
        set_object_pop(o, &m);
        long long v = strtoll(m.p, NULL, 10);
        cr_assert(v >= 0 && v < 8);
        cr_assert_not(set_object_contains(o, m.p, m.len));
        set_member_release(&m);
        cr_assert(set_object_validate(o));
    }
    cr_assert_eq(set_object_length(o), 0);
    object_free(o);
}

/* ---- random operations against a sorted-array model ---- */

struct model {
    int64_t *v;
    uint32_t n;
};

static bool model_find(const struct model *m, int64_t x, uint32_t *at)
{
    uint32_t lo = 0, hi = m->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (m->v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    *at = lo;
    return lo < m->n && m->v[lo] == x;
}

static bool model_add(struct model *m, int64_t x)
{
    uint32_t at;
    if (model_find(m, x, &at)) return false;
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
    m->v[at] = x;
    m->n++;
    return true;
}

static bool model_remove(struct model *m, int64_t x)
{
    uint32_t at;
    if (!model_find(m, x, &at)) return false;
    memmove(m->v + at, m->v + at + 1, (m->n - at - 1) * sizeof(*m->v));
    m->n--;
    return true;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A value drawn mostly from a small range (so removes hit), sometimes from
 * each wider width, so upgrades happen at random moments. */
static int64_t random_value(void)
{
    switch (rng() % 8) {
    case 0: return (int64_t)(rng() % 70000) - 35000;
    case 1: return (int64_t)rng();
    case 2: return (int64_t)(int32_t)rng();
    default: return (int64_t)(rng() % 600) - 300;
    }
}

Test(intset, random_operations_match_model)
{
    for (int round = 0; round < 20; round++) {
        struct model m = {malloc(20000 * sizeof(int64_t)), 0};
        struct intset *is = intset_new();
        for (int op = 0; op < 4000; op++) {
            int64_t x = random_value();
            uint64_t what = rng() % 10;
            if (what < 6) {
                bool added;
                is = intset_add(is, x, &added);
                cr_assert_eq(added, model_add(&m, x), "add %lld", (long long)x);
            } else if (what < 9) {
                bool removed;
                is = intset_remove(is, x, &removed);
                cr_assert_eq(removed, model_remove(&m, x), "remove %lld", (long long)x);
            } else {
                uint32_t at, mat;
                bool found = intset_width_for(x) <= is->width && intset_search(is, x, &at);
                bool mfound = model_find(&m, x, &mat);
                cr_assert_eq(found, mfound, "search %lld", (long long)x);
                if (found) cr_assert_eq(at, mat);
            }
            cr_assert_eq(intset_count(is), m.n);
        }
        cr_assert(intset_validate(is));
        for (uint32_t i = 0; i < m.n; i++) cr_assert_eq(intset_get(is, i), m.v[i]);
        /* the narrowest width that holds every value ever added (never narrows) */
        uint32_t need = 2;
        for (uint32_t i = 0; i < m.n; i++)
            if (intset_width_for(m.v[i]) > need) need = intset_width_for(m.v[i]);
        cr_assert_geq(is->width, need);
        intset_free(is);
        free(m.v);
    }
}
