/* Hashes and sets in their hashtable encoding, whose elements live inside
 * the dict's embedded entries: values replaced through every size, binary
 * and long elements, HSCAN/SSCAN cursors with deletes between calls, random
 * draws, copies and MEMORY USAGE. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "db/object.h"
#include "types/hash.h"
#include "types/set.h"
#include "util/mem.h"

enum { N = 3000 };

static size_t name(char *buf, size_t cap, const char *prefix, int i)
{
    return (size_t)snprintf(buf, cap, "%s:%d", prefix, i);
}

static struct object *big_hash(void)
{
    hash_type_register();
    struct object *o = hash_object_create();
    char f[32], v[32];
    for (int i = 0; i < N; i++)
        cr_assert(hash_object_set(o, f, name(f, sizeof(f), "field", i), v, name(v, sizeof(v), "value", i)));
    cr_assert_eq(o->encoding, ENC_HASHTABLE);
    return o;
}

static struct object *big_set(void)
{
    set_type_register();
    struct object *o = set_object_create("member:0", 8, N);
    char m[32];
    for (int i = 0; i < N; i++) cr_assert(set_object_add(o, m, name(m, sizeof(m), "member", i)));
    cr_assert_eq(o->encoding, ENC_HASHTABLE);
    return o;
}

/* The i of "<prefix>:<i>", or -1. */
static int index_of(const char *p, size_t len)
{
    const char *colon = memchr(p, ':', len);
    if (!colon) return -1;
    int i = 0;
    for (const char *c = colon + 1; c < p + len; c++) {
        if (*c < '0' || *c > '9') return -1;
        i = i * 10 + (*c - '0');
    }
    return i;
}

Test(hashtable_types, hash_values_grow_and_shrink_in_place_of_the_old)
{
    struct object *o = big_hash();
    static char big[70000];
    for (size_t i = 0; i < sizeof(big); i++) big[i] = (char)(i % 256); /* NULs and high bytes */
    static const size_t lens[] = {0, 1, 127, 128, 5000, 70000, 3, 16384, 0};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        cr_assert_not(hash_object_set(o, "field:7", 7, big, lens[k]));
        struct hash_value hv;
        cr_assert(hash_object_get(o, "field:7", 7, &hv));
        cr_assert_eq(hv.len, lens[k]);
        cr_assert_eq(memcmp(hv.p, big, lens[k]), 0);
        cr_assert(hash_object_get(o, "field:8", 7, &hv), "a neighbour survives the move");
        cr_assert_eq(hv.len, 7);
        cr_assert_eq(memcmp(hv.p, "value:8", 7), 0);
    }
    /* A binary field of every length-encoding size, with a binary value. */
    for (size_t len = 126; len <= 130; len++) {
        cr_assert(hash_object_set(o, big, len, big + 1, len));
        struct hash_value hv;
        cr_assert(hash_object_get(o, big, len, &hv));
        cr_assert(hv.len == len && memcmp(hv.p, big + 1, len) == 0);
    }
    cr_assert_eq(hash_object_length(o), N + 5);
    cr_assert(hash_object_validate(o));
    cr_assert(hash_object_delete(o, big, 128));
    cr_assert_not(hash_object_delete(o, big, 128));
    cr_assert(hash_object_validate(o));
    object_free(o);
}

struct seen {
    int counts[N];
    struct object *o;
    int total;
};

static bool count_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct seen *s = ctx;
    int i = index_of(f, flen), j = index_of(v, vlen);
    cr_assert(i >= 0 && i < N && i == j, "field %d carries value %d", i, j);
    s->counts[i]++;
    s->total++;
    return true;
}

/* Counts member:i for i < N; members added during a scan are ignored. */
static bool count_member(void *ctx, const char *p, size_t len)
{
    struct seen *s = ctx;
    int i = index_of(p, len);
    cr_assert_geq(i, 0);
    if (i >= N) return true;
    s->counts[i]++;
    s->total++;
    return true;
}

Test(hashtable_types, hscan_returns_every_stable_field_despite_deletes)
{
    /* Fields below N/2 stay; the others are deleted between HSCAN calls,
     * shrinking the table (and rehashing) under the cursor. */
    struct object *o = big_hash();
    static struct seen s;
    uint64_t cursor = 0;
    int next_delete = N / 2;
    char f[32];
    do {
        hash_object_scan(o, &cursor, 10, count_field, &s);
        for (int k = 0; k < 40 && next_delete < N; k++, next_delete++)
            cr_assert(hash_object_delete(o, f, name(f, sizeof(f), "field", next_delete)));
    } while (cursor);
    for (int i = 0; i < N / 2; i++) cr_assert_geq(s.counts[i], 1, "field:%d missed", i);
    cr_assert(hash_object_validate(o));
    object_free(o);
}

Test(hashtable_types, sscan_returns_every_stable_member_despite_deletes_and_adds)
{
    struct object *o = big_set();
    static struct seen s;
    uint64_t cursor = 0;
    int next_delete = N / 2, next_add = N;
    char m[32];
    do {
        set_object_scan(o, &cursor, 10, count_member, &s);
        for (int k = 0; k < 40 && next_delete < N; k++, next_delete++)
            cr_assert(set_object_remove(o, m, name(m, sizeof(m), "member", next_delete)));
        for (int k = 0; k < 60; k++, next_add++) set_object_add(o, m, name(m, sizeof(m), "member", next_add));
    } while (cursor);
    for (int i = 0; i < N / 2; i++) cr_assert_geq(s.counts[i], 1, "member:%d missed", i);
    cr_assert(set_object_validate(o));
    object_free(o);
}

Test(hashtable_types, walks_random_draws_and_copies_see_every_element_once)
{
    struct object *h = big_hash(), *st = big_set();
    static struct seen a, b;
    hash_object_each(h, count_field, &a);
    set_object_each(st, count_member, &b);
    for (int i = 0; i < N; i++) cr_assert(a.counts[i] == 1 && b.counts[i] == 1);

    /* A small sample of a big hash or set: distinct elements (the draws are
     * told apart by their entries' addresses). */
    static struct seen c, d;
    hash_object_sample(h, 100, count_field, &c);
    set_object_sample(st, 100, count_member, &d);
    cr_assert(c.total == 100 && d.total == 100);
    for (int i = 0; i < N; i++) cr_assert(c.counts[i] <= 1 && d.counts[i] <= 1);

    struct object *h2 = object_copy(h), *s2 = object_copy(st);
    cr_assert(hash_object_validate(h2) && set_object_validate(s2));
    cr_assert(hash_object_delete(h, "field:1", 7));
    struct hash_value hv;
    cr_assert(hash_object_get(h2, "field:1", 7, &hv), "the copy is deep");
    cr_assert_eq(hash_object_length(h2), N);
    cr_assert(set_object_contains(s2, "member:1", 8));

    /* MEMORY USAGE: one 32-byte allocation per element plus 8 to 16 bytes
     * of buckets (an entry and a separate string took 64 and more). */
    cr_assert_lt(object_memory(st), (size_t)N * 56);
    cr_assert_lt(object_memory(h), (size_t)N * 56);
    object_free(h);
    object_free(st);
    object_free(h2);
    object_free(s2);
}

Test(hashtable_types, spop_drains_a_big_set)
{
    struct object *o = big_set();
    static int popped[N];
    for (int k = 0; k < N; k++) {
        struct set_member m;
        set_object_pop(o, &m);
        int i = index_of(m.p, m.len);
        cr_assert(i >= 0 && i < N && popped[i]++ == 0);
        set_member_release(&m);
    }
    cr_assert_eq(set_object_length(o), 0);
    object_free(o);
}
