/* The dict's embedded entry layouts (DICT_EMBED_KEY, DICT_EMBED_KEY_VALUE):
 * keys and values stored inside the entry, their length encoding, value
 * replacement, and the table's guarantees (rehash, iteration, SCAN) with
 * such entries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dict.h"
#include "util/mem.h"

static const struct dict_type keys_only = {.layout = DICT_EMBED_KEY};
static const struct dict_type key_value = {.layout = DICT_EMBED_KEY_VALUE};
static const struct dict_type keys_nocase = {.nocase = true, .layout = DICT_EMBED_KEY};

static size_t member_fmt(char *buf, size_t cap, int i)
{
    return (size_t)snprintf(buf, cap, "member:%d", i);
}

static struct dict_entry *add_i(struct dict *d, int i)
{
    char buf[32];
    bool existed;
    struct dict_entry *e = dict_add_or_find(d, buf, member_fmt(buf, sizeof(buf), i), NULL, &existed);
    cr_assert_not(existed, "member:%d added twice", i);
    return e;
}

static void add_range(struct dict *d, int from, int to)
{
    for (int i = from; i < to; i++) add_i(d, i);
}

static struct dict_entry *find_i(struct dict *d, int i)
{
    char buf[32];
    return dict_find(d, buf, member_fmt(buf, sizeof(buf), i));
}

static bool delete_i(struct dict *d, int i)
{
    char buf[32];
    return dict_delete(d, buf, member_fmt(buf, sizeof(buf), i));
}

/* The i of an entry's member:i key, or -1. */
static int index_of(const struct dict *d, const struct dict_entry *e)
{
    size_t len;
    const char *k = dict_entry_key(d, e, &len);
    char buf[32];
    if (len >= sizeof(buf)) return -1;
    memcpy(buf, k, len);
    buf[len] = '\0';
    int i = -1;
    sscanf(buf, "member:%d", &i);
    return i;
}

static int fill_until_rehashing(struct dict *d, int from)
{
    int i = from;
    do add_i(d, i++);
    while (d->rehash_index == -1);
    return i;
}

static void assert_key(const struct dict *d, const struct dict_entry *e, const void *key, size_t len)
{
    size_t got;
    const char *k = dict_entry_key(d, e, &got);
    cr_assert_eq(got, len);
    cr_assert_eq(memcmp(k, key, len), 0);
}

static void assert_value(const struct dict_entry *e, const void *val, size_t len)
{
    size_t got;
    const char *v = dict_entry_value(e, &got);
    cr_assert_eq(got, len, "value length %zu, expected %zu", got, len);
    cr_assert_eq(memcmp(v, val, len), 0);
}

Test(dict_embedded, add_find_delete_binary_keys)
{
    struct dict *d = dict_create(&keys_only);
    const char bin[] = {'a', '\0', 'b', (char)0xff, (char)0x80, '\0'};
    bool existed;
    struct dict_entry *e = dict_add_or_find(d, bin, sizeof(bin), NULL, &existed);
    cr_assert_not(existed);
    assert_key(d, e, bin, sizeof(bin));
    cr_assert_eq(dict_find(d, bin, sizeof(bin)), e);
    cr_assert_null(dict_find(d, bin, sizeof(bin) - 1), "a prefix is another key");
    cr_assert_null(dict_find(d, "a", 1));
    cr_assert_eq(dict_add_or_find(d, bin, sizeof(bin), NULL, &existed), e);
    cr_assert(existed);

    /* The empty key. */
    cr_assert_null(dict_find(d, "", 0));
    e = dict_add_or_find(d, "", 0, NULL, &existed);
    cr_assert_not(existed);
    assert_key(d, e, "", 0);
    cr_assert_eq(dict_find(d, "", 0), e);

    cr_assert_eq(dict_size(d), 2);
    cr_assert(dict_delete(d, bin, sizeof(bin)));
    cr_assert_not(dict_delete(d, bin, sizeof(bin)));
    cr_assert(dict_delete(d, "", 0));
    cr_assert_eq(dict_size(d), 0);
    dict_release(d);
}

Test(dict_embedded, one_allocation_per_short_member)
{
    /* The chain link and a 13-byte member share one 32-byte size class; a
     * str-key entry (32) plus the member's str (32) took 64. */
    struct dict *d = dict_create(&keys_only);
    bool existed;
    struct dict_entry *e = dict_add_or_find(d, "member:123456", 13, NULL, &existed);
    cr_assert_leq(mem_usable_size(e), 32);
    dict_release(d);

    d = dict_create(&key_value);
    dict_put_value(d, "field:123456", 12, "value", 5);
    e = dict_find(d, "field:123456", 12);
    cr_assert_leq(mem_usable_size(e), 32);
    dict_release(d);
}

Test(dict_embedded, long_keys_across_length_encodings)
{
    /* Lengths are 7 bits per byte: probe both sides of each boundary. */
    static const size_t lens[] = {0, 1, 127, 128, 255, 16383, 16384, 100000, 2097152};
    struct dict *d = dict_create(&keys_only);
    size_t max = lens[sizeof(lens) / sizeof(lens[0]) - 1];
    char *buf = mem_alloc(max);
    for (size_t i = 0; i < max; i++) buf[i] = (char)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        add_i(d, (int)i);
        dict_add_or_find(d, buf, lens[i], NULL, NULL);
    }
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct dict_entry *e = dict_find(d, buf, lens[i]);
        cr_assert_not_null(e, "key of %zu bytes", lens[i]);
        assert_key(d, e, buf, lens[i]);
        cr_assert_not_null(find_i(d, (int)i));
    }
    while (dict_rehash_ms(d, 10)) {}
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) cr_assert(dict_delete(d, buf, lens[i]));
    cr_assert_eq(dict_size(d), sizeof(lens) / sizeof(lens[0]));
    mem_free(buf);
    dict_release(d);
}

Test(dict_embedded, put_value_adds_and_replaces)
{
    struct dict *d = dict_create(&key_value);
    cr_assert(dict_put_value(d, "f", 1, "v1", 2));
    cr_assert_not(dict_put_value(d, "f", 1, "value-2", 7));
    cr_assert_eq(dict_size(d), 1);
    assert_value(dict_find(d, "f", 1), "value-2", 7);

    /* Values grow and shrink across size classes and length encodings. */
    static const size_t lens[] = {0, 5, 127, 128, 16384, 3, 200000, 0, 128, 127, 1};
    char *buf = mem_alloc(200000);
    for (size_t i = 0; i < 200000; i++) buf[i] = (char)(i % 251);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        buf[0] = (char)i; /* each value differs from the previous */
        cr_assert_not(dict_put_value(d, "f", 1, buf, lens[i]));
        struct dict_entry *e = dict_find(d, "f", 1);
        assert_key(d, e, "f", 1);
        assert_value(e, buf, lens[i]);
    }

    /* A binary field with a binary value; a field added by add_or_find has
     * the empty value. */
    const char field[] = {'\0', 'x', '\0'}, value[] = {(char)0xff, '\0', (char)0x80};
    cr_assert(dict_put_value(d, field, sizeof(field), value, sizeof(value)));
    assert_value(dict_find(d, field, sizeof(field)), value, sizeof(value));
    struct dict_entry *e = dict_add_or_find(d, "g", 1, NULL, NULL);
    assert_value(e, "", 0);
    mem_free(buf);
    dict_release(d);
}

Test(dict_embedded, put_value_while_rehashing)
{
    struct dict *d = dict_create(&key_value);
    char f[32], v[64];
    int i = 0;
    for (; i < 5000; i++) {
        size_t flen = member_fmt(f, sizeof(f), i);
        cr_assert(dict_put_value(d, f, flen, v, (size_t)snprintf(v, sizeof(v), "value:%d", i)));
    }
    /* Replace every value, longer, during a rehash started by more adds. */
    for (int j = 0; j < 5000; j++) {
        if (j % 2 == 0) {
            size_t flen = member_fmt(f, sizeof(f), i);
            dict_put_value(d, f, flen, "x", 1);
            i++;
        }
        size_t flen = member_fmt(f, sizeof(f), j);
        cr_assert_not(dict_put_value(d, f, flen, v, (size_t)snprintf(v, sizeof(v), "a much longer value:%d", j)));
    }
    for (int j = 0; j < 5000; j++) {
        struct dict_entry *e = find_i(d, j);
        cr_assert_not_null(e);
        assert_value(e, v, (size_t)snprintf(v, sizeof(v), "a much longer value:%d", j));
    }
    cr_assert_eq(dict_size(d), (size_t)i);
    dict_release(d);
}

Test(dict_embedded, nocase_keys)
{
    struct dict *d = dict_create(&keys_nocase);
    add_i(d, 1);
    struct dict_entry *e = dict_find(d, "MEMBER:1", 8);
    cr_assert_not_null(e);
    assert_key(d, e, "member:1", 8);
    dict_release(d);
}

Test(dict_embedded, grow_and_shrink_keep_every_key)
{
    enum { N = 20000 };
    struct dict *d = dict_create(&keys_only);
    add_range(d, 0, N);
    for (int i = 0; i < N; i++) cr_assert_not_null(find_i(d, i), "member:%d", i);
    for (int i = 0; i < N; i += 2) cr_assert(delete_i(d, i));
    dict_shrink_if_sparse(d);
    while (dict_rehash_ms(d, 10)) {}
    for (int i = 1; i < N; i += 2) cr_assert(delete_i(d, i));
    cr_assert_eq(dict_size(d), 0);
    dict_shrink_if_sparse(d);
    while (dict_rehash_ms(d, 10)) {}
    cr_assert_leq(dict_buckets(d), 8);
    dict_release(d);
}

Test(dict_embedded, safe_iterator_during_rehash_deletes_current)
{
    enum { MAX = 4096 };
    static int seen[MAX];
    struct dict *d = dict_create(&keys_only);
    int n = fill_until_rehashing(d, 0);
    cr_assert_lt(n, MAX);
    find_i(d, 0); /* a step, so both tables hold entries */
    cr_assert_neq(d->rehash_index, -1);
    cr_assert_gt(d->t[0].used, 0);
    cr_assert_gt(d->t[1].used, 0);

    struct dict_iter it;
    dict_iter_init(&it, d, true);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        int i = index_of(d, e);
        cr_assert(i >= 0 && i < n);
        seen[i]++;
        find_i(d, n - 1 - i); /* lookups must not move entries under the walk */
        if (i % 3 == 0) cr_assert(delete_i(d, i));
    }
    dict_iter_done(&it);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(seen[i], 1, "member:%d visited %d times", i, seen[i]);
        cr_assert_eq(find_i(d, i) != NULL, i % 3 != 0);
    }
    cr_assert_eq(d->pause_rehash, 0);
    while (dict_rehash_ms(d, 10)) {}
    for (int i = 0; i < n; i++) cr_assert_eq(find_i(d, i) != NULL, i % 3 != 0);
    dict_release(d);
}

Test(dict_embedded, unsafe_iterator_during_rehash_visits_all_once)
{
    enum { MAX = 4096 };
    static int seen[MAX];
    struct dict *d = dict_create(&key_value);
    int n = fill_until_rehashing(d, 0);
    find_i(d, 0);
    struct dict_iter it;
    dict_iter_init(&it, d, false);
    struct dict_entry *e;
    int count = 0;
    while ((e = dict_iter_next(&it))) {
        seen[index_of(d, e)]++;
        assert_value(e, "", 0);
        count++;
    }
    dict_iter_done(&it);
    cr_assert_eq(count, n);
    for (int i = 0; i < n; i++) cr_assert_eq(seen[i], 1);
    dict_release(d);
}

struct scan_ctx {
    struct dict *d;
    int *seen;
    int n;
    bool delete_visited;
};

static void scan_cb(void *ctx, struct dict_entry *e)
{
    struct scan_ctx *c = ctx;
    int i = index_of(c->d, e);
    cr_assert(i >= 0 && i < c->n);
    c->seen[i]++;
    if (c->delete_visited) cr_assert(delete_i(c->d, i));
}

Test(dict_embedded, scan_while_deleting_and_growing)
{
    /* Keys 0..N-1 are present for the whole scan; between calls keys N.. are
     * added (growing the table through rehashes) and then deleted again, and
     * the callback deletes nothing. Every stable key is returned. */
    enum { N = 3000, EXTRA = 40000 };
    static int seen[N + EXTRA];
    struct dict *d = dict_create(&keys_only);
    add_range(d, 0, N);
    struct scan_ctx c = {d, seen, N + EXTRA, false};
    uint64_t cursor = 0;
    int next = N, deleted = N, rehashing = 0;
    do {
        if (d->rehash_index != -1) rehashing++;
        cursor = dict_scan(d, cursor, scan_cb, &c);
        for (int j = 0; j < 30 && next < N + EXTRA; j++) add_i(d, next++);
        for (int j = 0; j < 10 && deleted < next - 100; j++) cr_assert(delete_i(d, deleted++));
    } while (cursor);
    cr_assert_gt(rehashing, 0);
    for (int i = 0; i < N; i++) cr_assert_geq(seen[i], 1, "member:%d missed", i);
    dict_release(d);
}

Test(dict_embedded, scan_callback_deletes_its_entry_while_shrinking)
{
    enum { N = 5000 };
    static int seen[N];
    struct dict *d = dict_create(&keys_only);
    add_range(d, 0, N);
    while (dict_rehash_ms(d, 10)) {}
    for (int i = 100; i < N; i++) delete_i(d, i);
    dict_shrink_if_sparse(d);
    cr_assert_neq(d->rehash_index, -1);
    struct scan_ctx c = {d, seen, N, true};
    uint64_t cursor = 0;
    do {
        cursor = dict_scan(d, cursor, scan_cb, &c);
        find_i(d, 0); /* a rehash step between calls */
    } while (cursor);
    cr_assert_eq(dict_size(d), 0);
    for (int i = 0; i < 100; i++) cr_assert_eq(seen[i], 1, "member:%d seen %d times", i, seen[i]);
    dict_release(d);
}

Test(dict_embedded, random_entries_are_members)
{
    struct dict *d = dict_create(&keys_only);
    cr_assert_null(dict_random(d));
    add_range(d, 0, 50);
    static int seen[50];
    for (int k = 0; k < 5000; k++) {
        int i = index_of(d, dict_random(d));
        cr_assert(i >= 0 && i < 50);
        seen[i]++;
    }
    for (int i = 0; i < 50; i++) cr_assert_gt(seen[i], 0, "member:%d never drawn", i);
    dict_release(d);
}

Test(dict_embedded, unlink_and_clear)
{
    struct dict *d = dict_create(&key_value);
    dict_put_value(d, "a", 1, "1", 1);
    dict_put_value(d, "b", 1, "2", 1);
    struct dict_entry *e = dict_unlink(d, "a", 1);
    cr_assert_not_null(e);
    assert_value(e, "1", 1);
    cr_assert_null(dict_find(d, "a", 1));
    dict_free_unlinked(d, e);
    dict_clear(d);
    cr_assert_eq(dict_size(d), 0);
    cr_assert(dict_put_value(d, "b", 1, "3", 1));
    dict_release(d);
}
