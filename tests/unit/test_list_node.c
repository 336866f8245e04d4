/* Unit tests for the packed list node (types/list_node.c) and the deque
 * built from it (types/list.c): exact bytes of every entry form, walking in
 * both directions, edits in the middle, and random operations checked
 * against a plain array model. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/object.h"
#include "types/list.h"
#include "types/list_compress.h"
#include "types/list_node.h"
#include "util/mem.h"

/* ---- helpers ---- */

static size_t encode_cstr(const char *s, unsigned char *out)
{
    size_t n = list_node_encode(out, s, strlen(s));
    cr_assert_eq(n, list_node_entry_size(s, strlen(s)), "size mismatch for \"%s\"", s);
    return n;
}

static void expect_bytes(const char *s, const unsigned char *want, size_t want_len)
{
    unsigned char out[64];
    size_t n = encode_cstr(s, out);
    cr_assert_eq(n, want_len, "\"%s\": encoded %zu bytes, want %zu", s, n, want_len);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(out[i], want[i], "\"%s\": byte %zu is %02x, want %02x", s, i, out[i], want[i]);
}

#define EXPECT(s, ...)                                                  \
    do {                                                                \
        const unsigned char want_[] = {__VA_ARGS__};                    \
        expect_bytes(s, want_, sizeof(want_));                          \
    } while (0)

/* Builds a node holding one element and checks it reads back identically
 * forwards and backwards. */
static void roundtrip(const char *p, size_t len)
{
    struct list_node *n = list_node_new(0);
    n = list_node_append(n, "head", 4);
    n = list_node_append(n, p, len);
    n = list_node_append(n, "tail", 4);
    cr_assert(list_node_validate(n));
    char buf[LIST_NODE_INT_BUF];
    size_t got_len;
    size_t off = list_node_next(n, 0);
    const char *got = list_node_get(n, off, buf, &got_len);
    cr_assert_eq(got_len, len);
    cr_assert(len == 0 || memcmp(got, p, len) == 0);
    cr_assert_eq(list_node_prev(n, list_node_last(n)), off);
    cr_assert_eq(list_node_prev(n, off), 0);
    list_node_free(n);
}

static void roundtrip_cstr(const char *s)
{
    roundtrip(s, strlen(s));
}

static bool is_int_entry(const char *s)
{
    struct list_node *n = list_node_append(list_node_new(0), s, strlen(s));
    long long v;
    bool r = list_node_get_int(n, 0, &v);
    list_node_free(n);
    return r;
}

/* ---- exact encodings ---- */

Test(list_node_encoding, small_unsigned)
{
    EXPECT("0", 0x00, 0x01);
    EXPECT("1", 0x01, 0x01);
    EXPECT("127", 0x7F, 0x01);
}

Test(list_node_encoding, int13)
{
    EXPECT("128", 0xC0, 0x80, 0x02);
    EXPECT("-1", 0xDF, 0xFF, 0x02);
    EXPECT("-127", 0xDF, 0x81, 0x02);
    EXPECT("-128", 0xDF, 0x80, 0x02);
    EXPECT("4095", 0xCF, 0xFF, 0x02);
    EXPECT("-4096", 0xD0, 0x00, 0x02);
}

Test(list_node_encoding, int16)
{
    EXPECT("4096", 0xF1, 0x00, 0x10, 0x03);
    EXPECT("-4097", 0xF1, 0xFF, 0xEF, 0x03);
    EXPECT("32767", 0xF1, 0xFF, 0x7F, 0x03);
    EXPECT("-32768", 0xF1, 0x00, 0x80, 0x03);
}

Test(list_node_encoding, int24)
{
    EXPECT("32768", 0xF2, 0x00, 0x80, 0x00, 0x04);
    EXPECT("-32769", 0xF2, 0xFF, 0x7F, 0xFF, 0x04);
    EXPECT("8388607", 0xF2, 0xFF, 0xFF, 0x7F, 0x04);
    EXPECT("-8388608", 0xF2, 0x00, 0x00, 0x80, 0x04);
}

Test(list_node_encoding, int32)
{
    EXPECT("8388608", 0xF3, 0x00, 0x00, 0x80, 0x00, 0x05);
    EXPECT("-8388609", 0xF3, 0xFF, 0xFF, 0x7F, 0xFF, 0x05);
    EXPECT("2147483647", 0xF3, 0xFF, 0xFF, 0xFF, 0x7F, 0x05);
    EXPECT("-2147483648", 0xF3, 0x00, 0x00, 0x00, 0x80, 0x05);
}

Test(list_node_encoding, int64)
{
    EXPECT("2147483648", 0xF4, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x09);
    EXPECT("-2147483649", 0xF4, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0x09);
    EXPECT("9223372036854775807", 0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x09);
    EXPECT("-9223372036854775808", 0xF4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x09);
}

Test(list_node_encoding, non_canonical_numbers_stay_strings)
{
    EXPECT("007", 0x83, '0', '0', '7', 0x04);
    EXPECT("-0", 0x82, '-', '0', 0x03);
    EXPECT("+1", 0x82, '+', '1', 0x03);
    EXPECT(" 1", 0x82, ' ', '1', 0x03);
    EXPECT("1 ", 0x82, '1', ' ', 0x03);
    EXPECT("1.0", 0x83, '1', '.', '0', 0x04);
    EXPECT("9223372036854775808", 0x93, '9', '2', '2', '3', '3', '7', '2', '0', '3', '6', '8', '5', '4', '7', '7',
           '5', '8', '0', '8', 0x14);
    cr_assert(!is_int_entry("-9223372036854775809"));
    cr_assert(!is_int_entry("00"));
    cr_assert(!is_int_entry("-"));
    cr_assert(is_int_entry("-9223372036854775808"));
}

Test(list_node_encoding, short_strings)
{
    EXPECT("", 0x80, 0x01);
    EXPECT("a", 0x81, 'a', 0x02);
    char s63[64], s64[65];
    memset(s63, 'x', 63);
    s63[63] = 0;
    memset(s64, 'y', 64);
    s64[64] = 0;
    unsigned char out[128];
    cr_assert_eq(encode_cstr(s63, out), 65);
    cr_assert_eq(out[0], 0xBF);
    cr_assert_eq(out[64], 64);
    cr_assert_eq(encode_cstr(s64, out), 67);
    cr_assert_eq(out[0], 0xE0);
    cr_assert_eq(out[1], 64);
    cr_assert_eq(out[66], 66);
}

/* The back-length goes to two bytes when the body reaches 128 bytes. */
Test(list_node_encoding, backlen_widths)
{
    static unsigned char out[200];
    char s[200];
    memset(s, 'b', sizeof(s));
    cr_assert_eq(list_node_encode(out, s, 125), 128); /* body 127: 1-byte back-length */
    cr_assert_eq(out[127], 127);
    cr_assert_eq(list_node_encode(out, s, 126), 130); /* body 128 */
    cr_assert_eq(out[128], 0x01);
    cr_assert_eq(out[129], 0x80);
}

Test(list_node_encoding, long_strings)
{
    size_t sizes[] = {4095, 4096, 16381, 16382, 70000, 3000000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t len = sizes[i];
        char *s = mem_alloc(len);
        for (size_t j = 0; j < len; j++) s[j] = (char)('a' + j % 26);
        unsigned char *out = mem_alloc(len + 16);
        size_t n = list_node_encode(out, s, len);
        size_t header = len <= 4095 ? 2 : 5;
        size_t body = header + len;
        size_t bl = body < 128 ? 1 : body < 16384 ? 2 : body < (1 << 21) ? 3 : 4;
        cr_assert_eq(n, body + bl, "len %zu", len);
        if (header == 2) {
            cr_assert_eq(out[0], 0xE0 | (len >> 8));
            cr_assert_eq(out[1], len & 0xFF);
        } else {
            cr_assert_eq(out[0], 0xF0);
            cr_assert_eq(out[1] | out[2] << 8 | out[3] << 16 | (size_t)out[4] << 24, len);
        }
        cr_assert(memcmp(out + header, s, len) == 0);
        roundtrip(s, len);
        mem_free(out);
        mem_free(s);
    }
}

Test(list_node_encoding, roundtrip_boundaries)
{
    const char *values[] = {"0", "1", "127", "128", "-1", "-127", "-128", "4095", "4096", "-4096", "-4097",
                            "32767", "32768", "-32768", "-32769", "8388607", "8388608", "-8388608", "-8388609",
                            "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807",
                            "-9223372036854775808", "007", "-0", "", "hello", "9223372036854775808"};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) roundtrip_cstr(values[i]);
}

/* ---- walking and editing ---- */

static struct list_node *node_of(int n)
{
    struct list_node *node = list_node_new(0);
    char buf[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), i % 3 ? "v%d" : "%d", i);
        node = list_node_append(node, buf, (size_t)len);
    }
    return node;
}

static void expect_entry(const struct list_node *n, size_t off, const char *s)
{
    char buf[LIST_NODE_INT_BUF];
    size_t len;
    const char *p = list_node_get(n, off, buf, &len);
    cr_assert_eq(len, strlen(s), "want \"%s\", got \"%.*s\"", s, (int)len, p);
    cr_assert(memcmp(p, s, len) == 0, "want \"%s\", got \"%.*s\"", s, (int)len, p);
}

Test(list_node_walk, forward_and_backward)
{
    struct list_node *n = node_of(500);
    cr_assert_eq(n->count, 500);
    cr_assert(list_node_validate(n));
    size_t offs[500], off = 0;
    for (int i = 0; i < 500; i++) {
        offs[i] = off;
        cr_assert_eq(list_node_seek(n, (size_t)i), off);
        off = list_node_next(n, off);
    }
    cr_assert_eq(off, n->bytes);
    for (int i = 499; i >= 0; i--) {
        off = list_node_prev(n, off);
        cr_assert_eq(off, offs[i]);
    }
    cr_assert_eq(list_node_last(n), offs[499]);
    expect_entry(n, offs[0], "0");
    expect_entry(n, offs[1], "v1");
    expect_entry(n, offs[499], "v499");
    list_node_free(n);
}

Test(list_node_edit, insert_delete_middle)
{
    struct list_node *n = node_of(10);
    n = list_node_insert(n, list_node_seek(n, 5), "mid", 3);
    cr_assert_eq(n->count, 11);
    expect_entry(n, list_node_seek(n, 5), "mid");
    expect_entry(n, list_node_seek(n, 6), "v5");
    expect_entry(n, list_node_seek(n, 4), "v4");
    n = list_node_delete(n, list_node_seek(n, 3), 3);
    cr_assert_eq(n->count, 8);
    expect_entry(n, list_node_seek(n, 2), "v2");
    expect_entry(n, list_node_seek(n, 3), "v5");
    expect_entry(n, list_node_seek(n, 4), "6");
    n = list_node_prepend(n, "first", 5);
    expect_entry(n, 0, "first");
    n = list_node_replace(n, list_node_seek(n, 1), "a much longer replacement value", 31);
    expect_entry(n, list_node_seek(n, 1), "a much longer replacement value");
    n = list_node_replace(n, list_node_seek(n, 1), "12", 2);
    expect_entry(n, list_node_seek(n, 1), "12");
    cr_assert(list_node_validate(n));
    n = list_node_delete(n, 0, n->count);
    cr_assert_eq(n->count, 0);
    cr_assert_eq(n->bytes, 0);
    cr_assert(list_node_validate(n));
    list_node_free(n);
}

Test(list_node_edit, split_and_merge)
{
    struct list_node *n = node_of(100);
    struct list_node *tail = list_node_split(&n, list_node_seek(n, 40));
    cr_assert_eq(n->count, 40);
    cr_assert_eq(tail->count, 60);
    cr_assert(list_node_validate(n) && list_node_validate(tail));
    expect_entry(tail, 0, "v40");
    n = list_node_merge(n, tail);
    list_node_free(tail);
    struct list_node *ref = node_of(100);
    cr_assert_eq(n->bytes, ref->bytes);
    cr_assert(memcmp(n->data, ref->data, ref->bytes) == 0);
    cr_assert_eq(n->count, 100);
    list_node_free(ref);
    list_node_free(n);
}

Test(list_node_match, needles)
{
    struct list_node *n = list_node_new(0);
    n = list_node_append(n, "12", 2);
    n = list_node_append(n, "012", 3);
    n = list_node_append(n, "", 0);
    struct list_needle a, b, c, d;
    list_needle_init(&a, "12", 2);
    list_needle_init(&b, "012", 3);
    list_needle_init(&c, "", 0);
    list_needle_init(&d, "13", 2);
    size_t o0 = 0, o1 = list_node_next(n, o0), o2 = list_node_next(n, o1);
    cr_assert(list_node_matches(n, o0, &a) && !list_node_matches(n, o0, &b) && !list_node_matches(n, o0, &d));
    cr_assert(list_node_matches(n, o1, &b) && !list_node_matches(n, o1, &a));
    cr_assert(list_node_matches(n, o2, &c) && !list_node_matches(n, o2, &a));
    list_node_free(n);
}

Test(list_node_validate, rejects_corruption)
{
    struct list_node *n = node_of(20);
    cr_assert(list_node_validate(n));
    unsigned char saved = n->data[n->bytes - 1];
    n->data[n->bytes - 1] ^= 0x05; /* back-length of the last entry */
    cr_assert(!list_node_validate(n));
    n->data[n->bytes - 1] = saved;
    n->count++;
    cr_assert(!list_node_validate(n));
    n->count--;
    n->data[0] = 0xFA; /* no such encoding */
    cr_assert(!list_node_validate(n));
    list_node_free(n);
    n = list_node_append(list_node_new(0), "hello world", 11);
    n->bytes -= 3; /* truncated */
    cr_assert(!list_node_validate(n));
    list_node_free(n);
}

/* ---- random operations against an array model ---- */

struct model {
    char **items;
    size_t *lens;
    size_t count, cap;
};

static void model_insert(struct model *m, size_t at, const char *p, size_t len)
{
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->items = realloc(m->items, m->cap * sizeof(*m->items));
        m->lens = realloc(m->lens, m->cap * sizeof(*m->lens));
    }
    memmove(m->items + at + 1, m->items + at, (m->count - at) * sizeof(*m->items));
    memmove(m->lens + at + 1, m->lens + at, (m->count - at) * sizeof(*m->lens));
    m->items[at] = malloc(len + 1);
    memcpy(m->items[at], p, len);
    m->lens[at] = len;
    m->count++;
}

static void model_delete(struct model *m, size_t at)
{
    free(m->items[at]);
    memmove(m->items + at, m->items + at + 1, (m->count - at - 1) * sizeof(*m->items));
    memmove(m->lens + at, m->lens + at + 1, (m->count - at - 1) * sizeof(*m->lens));
    m->count--;
}

static void model_free(struct model *m)
{
    while (m->count) model_delete(m, m->count - 1);
    free(m->items);
    free(m->lens);
}

/* A random element: mostly small integers and short strings, sometimes
 * large ones, so every encoding and node boundary gets exercised. */
static size_t random_value(char *buf, size_t cap)
{
    switch (rand() % 8) {
    case 0: return (size_t)snprintf(buf, cap, "%d", rand() % 300 - 150);
    case 1: return (size_t)snprintf(buf, cap, "%lld", (long long)rand() * rand() * (rand() % 2 ? 1 : -1));
    case 2: return (size_t)snprintf(buf, cap, "0%d", rand() % 100);
    case 3: {
        size_t len = (size_t)(rand() % 5000);
        if (len > cap) len = cap;
        memset(buf, 'a' + rand() % 26, len);
        return len;
    }
    case 4: return 0;
    default: return (size_t)snprintf(buf, cap, "item-%d", rand() % 50);
    }
}

static void check_node_model(const struct list_node *n, const struct model *m)
{
    cr_assert(list_node_validate(n));
    cr_assert_eq(n->count, m->count);
    size_t off = 0;
    for (size_t i = 0; i < m->count; i++) {
        char buf[LIST_NODE_INT_BUF];
        size_t len;
        const char *p = list_node_get(n, off, buf, &len);
        cr_assert_eq(len, m->lens[i]);
        cr_assert(len == 0 || memcmp(p, m->items[i], len) == 0);
        off = list_node_next(n, off);
    }
}

Test(list_node_random, against_model)
{
    srand(1234);
    static char buf[6000];
    struct model m = {0};
    struct list_node *n = list_node_new(0);
    for (int step = 0; step < 4000; step++) {
        int op = rand() % 10;
        if (op < 5 || m.count == 0) {
            size_t at = (size_t)rand() % (m.count + 1), len = random_value(buf, sizeof(buf));
            n = list_node_insert(n, at == m.count ? n->bytes : list_node_seek(n, at), buf, len);
            model_insert(&m, at, buf, len);
        } else if (op < 8) {
            size_t at = (size_t)rand() % m.count;
            size_t k = 1 + (size_t)rand() % 3;
            if (k > m.count - at) k = m.count - at;
            n = list_node_delete(n, list_node_seek(n, at), k);
            for (size_t i = 0; i < k; i++) model_delete(&m, at);
        } else {
            size_t at = (size_t)rand() % m.count, len = random_value(buf, sizeof(buf));
            n = list_node_replace(n, list_node_seek(n, at), buf, len);
            model_delete(&m, at);
            model_insert(&m, at, buf, len);
        }
        if (step % 50 == 0) check_node_model(n, &m);
    }
    check_node_model(n, &m);
    list_node_free(n);
    model_free(&m);
}

/* ---- the deque ---- */

struct collect {
    struct model *m;
    size_t i;
};

static bool compare_elem(void *ctx, const char *p, size_t len)
{
    struct collect *c = ctx;
    cr_assert(c->i < c->m->count);
    cr_assert_eq(len, c->m->lens[c->i], "element %zu: length %zu, want %zu", c->i, len, c->m->lens[c->i]);
    cr_assert(len == 0 || memcmp(p, c->m->items[c->i], len) == 0, "element %zu differs", c->i);
    c->i++;
    return true;
}

static void check_list_model(const struct object *o, struct model *m)
{
    cr_assert(list_object_validate(o));
    cr_assert_eq(list_object_length(o), m->count);
    struct collect c = {m, 0};
    list_object_each(o, compare_elem, &c);
    cr_assert_eq(c.i, m->count);
}

static void keep_elem(void *ctx, const char *p, size_t len)
{
    struct model *got = ctx;
    model_insert(got, got->count, p, len);
}

static void check_index(const struct object *o, struct model *m, long long index)
{
    struct model got = {0};
    bool ok = list_object_index(o, index, keep_elem, &got);
    long long n = (long long)m->count, i = index < 0 ? index + n : index;
    cr_assert_eq(ok, i >= 0 && i < n);
    if (ok) {
        cr_assert_eq(got.lens[0], m->lens[i]);
        cr_assert(got.lens[0] == 0 || memcmp(got.items[0], m->items[i], got.lens[0]) == 0);
    }
    model_free(&got);
}

static void random_deque_step(struct object *o, struct model *m, char *buf, size_t cap)
{
    int op = rand() % 14;
    size_t len = random_value(buf, cap);
    if (op < 3 || m->count == 0) {
        enum list_end end = rand() % 2 ? LIST_HEAD : LIST_TAIL;
        list_object_push(o, buf, len, end);
        model_insert(m, end == LIST_HEAD ? 0 : m->count, buf, len);
    } else if (op < 5) {
        enum list_end end = rand() % 2 ? LIST_HEAD : LIST_TAIL;
        struct model got = {0};
        cr_assert(list_object_pop(o, end, keep_elem, &got));
        size_t at = end == LIST_HEAD ? 0 : m->count - 1;
        cr_assert_eq(got.lens[0], m->lens[at]);
        model_delete(m, at);
        model_free(&got);
    } else if (op < 7) {
        long long index = rand() % (long long)(2 * m->count + 2) - (long long)m->count - 1;
        long long i = index < 0 ? index + (long long)m->count : index;
        bool ok = list_object_set(o, index, buf, len);
        cr_assert_eq(ok, i >= 0 && i < (long long)m->count);
        if (ok) {
            model_delete(m, (size_t)i);
            model_insert(m, (size_t)i, buf, len);
        }
    } else if (op < 9) {
        size_t at = (size_t)rand() % m->count;
        bool after = rand() % 2;
        size_t first = 0;
        while (first < m->count &&
               !(m->lens[first] == m->lens[at] && memcmp(m->items[first], m->items[at], m->lens[at]) == 0))
            first++;
        char *pivot = malloc(m->lens[at] + 1);
        memcpy(pivot, m->items[at], m->lens[at]);
        cr_assert(list_object_insert(o, after, pivot, m->lens[at], buf, len));
        model_insert(m, first + (after ? 1 : 0), buf, len);
        free(pivot);
    } else if (op < 10) {
        size_t at = (size_t)rand() % m->count;
        long long count = rand() % 5 - 2;
        char *needle = malloc(m->lens[at] + 1);
        size_t nlen = m->lens[at];
        memcpy(needle, m->items[at], nlen);
        size_t expect = 0;
        if (count >= 0) {
            for (size_t i = 0; i < m->count && (count == 0 || expect < (size_t)count);)
                if (m->lens[i] == nlen && memcmp(m->items[i], needle, nlen) == 0) model_delete(m, i), expect++;
                else i++;
        } else {
            for (size_t i = m->count; i-- > 0 && expect < (size_t)-count;)
                if (m->lens[i] == nlen && memcmp(m->items[i], needle, nlen) == 0) model_delete(m, i), expect++;
        }
        cr_assert_eq(list_object_remove(o, needle, nlen, count), expect);
        free(needle);
    } else if (op < 11 && m->count > 10) {
        size_t head = (size_t)rand() % 4, tail = (size_t)rand() % 4;
        list_object_trim(o, head, tail);
        for (size_t i = 0; i < tail; i++) model_delete(m, m->count - 1);
        for (size_t i = 0; i < head; i++) model_delete(m, 0);
    } else {
        check_index(o, m, rand() % (long long)(2 * m->count + 2) - (long long)m->count - 1);
    }
}

static void run_deque_model_depth(int fill, int depth, unsigned seed, int steps)
{
    int saved = list_max_listpack_size, saved_depth = list_compress_depth;
    list_max_listpack_size = fill;
    list_compress_depth = depth;
    srand(seed);
    static char buf[10000];
    struct model m = {0};
    struct object *o = list_object_create();
    for (int step = 0; step < steps; step++) {
        random_deque_step(o, &m, buf, sizeof(buf));
        if (m.count == 0) {
            object_free(o);
            o = list_object_create();
        }
        if (step % (depth ? 1 : 97) == 0) check_list_model(o, &m);
    }
    check_list_model(o, &m);
    object_free(o);
    model_free(&m);
    list_max_listpack_size = saved;
    list_compress_depth = saved_depth;
}

static void run_deque_model(int fill, unsigned seed, int steps)
{
    run_deque_model_depth(fill, 0, seed, steps);
}

static void register_types(void)
{
    list_type_register();
}

TestSuite(list_deque, .init = register_types);

Test(list_deque, random_default_fill)
{
    run_deque_model(-2, 1, 6000);
}

Test(list_deque, random_small_byte_nodes)
{
    run_deque_model(-1, 2, 6000);
}

Test(list_deque, random_count_nodes)
{
    run_deque_model(4, 3, 6000);
    run_deque_model(1, 4, 3000);
    run_deque_model(0, 5, 3000);
}

static bool count_elem(void *ctx, const char *p, size_t len)
{
    (void)p, (void)len;
    (*(size_t *)ctx)++;
    return true;
}

Test(list_deque, push_pop_many_both_ends)
{
    struct object *o = list_object_create();
    char buf[32];
    for (int i = 0; i < 100000; i++) {
        int len = snprintf(buf, sizeof(buf), "element-%012d", i);
        list_object_push(o, buf, (size_t)len, i % 2 ? LIST_HEAD : LIST_TAIL);
    }
    cr_assert_eq(list_object_length(o), 100000);
    cr_assert(list_object_node_count(o) > 100);
    cr_assert_eq(o->encoding, ENC_QUICKLIST);
    cr_assert(list_object_validate(o));
    size_t seen = 0;
    list_object_each(o, count_elem, &seen);
    cr_assert_eq(seen, 100000);
    for (int i = 0; i < 99990; i++) cr_assert(list_object_pop(o, i % 3 ? LIST_HEAD : LIST_TAIL, NULL, NULL));
    cr_assert(list_object_validate(o));
    cr_assert_eq(list_object_length(o), 10);
    cr_assert_eq(list_object_node_count(o), 1);
    cr_assert_eq(o->encoding, ENC_LISTPACK);
    object_free(o);
}

/* A full node fills an allocator size class: about 20 bytes per 18-byte element. */
Test(list_deque, memory_per_small_element)
{
    struct object *o = list_object_create();
    const char *v = "abcdefghijklmnopqr";
    for (int i = 0; i < 100000; i++) list_object_push(o, v, 18, LIST_TAIL);
    size_t per_node = object_ops_of(o)->memory(o) / list_object_node_count(o);
    double per_elem = (double)object_ops_of(o)->memory(o) / 100000.0;
    cr_assert_leq(per_node, 8192 + 1, "per node %zu", per_node);
    cr_assert_lt(per_elem, 20.2, "%.2f bytes per element", per_elem);
    object_free(o);
}

Test(list_deque, copy_is_deep)
{
    struct object *o = list_object_create();
    for (int i = 0; i < 3000; i++) list_object_push(o, "xyz", 3, LIST_TAIL);
    struct object *c = object_copy(o);
    cr_assert(list_object_pop(o, LIST_HEAD, NULL, NULL));
    cr_assert_eq(list_object_length(c), 3000);
    cr_assert_eq(list_object_length(o), 2999);
    cr_assert(list_object_validate(c));
    cr_assert_eq(c->encoding, o->encoding);
    object_free(o);
    object_free(c);
}

/* Redis 7.2's conversions: listpack until one node's limit is exceeded. */
Test(list_deque, encoding_tag)
{
    struct object *o = list_object_create();
    cr_assert_eq(o->encoding, ENC_LISTPACK);
    char big[9000];
    memset(big, 'z', sizeof(big));
    list_object_push(o, "a", 1, LIST_TAIL);
    cr_assert_eq(o->encoding, ENC_LISTPACK);
    list_object_push(o, big, sizeof(big), LIST_TAIL);
    cr_assert_eq(o->encoding, ENC_QUICKLIST);
    cr_assert(list_object_pop(o, LIST_TAIL, NULL, NULL));
    cr_assert_eq(o->encoding, ENC_LISTPACK);
    object_free(o);
}

/* ---- compression ---- */

static void codec_roundtrip(const unsigned char *src, size_t len)
{
    size_t cap = len + len / 128 + 16; /* literal runs cost one byte per 128 */
    unsigned char *z = mem_alloc(cap), *back = mem_alloc(len + 1);
    size_t zlen = list_compress(src, len, z, cap);
    cr_assert(zlen > 0 || len == 0);
    cr_assert(list_decompress(z, zlen, back, len));
    cr_assert(len == 0 || memcmp(src, back, len) == 0);
    if (len > 0) cr_assert(!list_decompress(z, zlen, back, len - 1)); /* wrong size */
    mem_free(z);
    mem_free(back);
}

Test(list_compress, roundtrips)
{
    static unsigned char buf[70000];
    srand(7);
    codec_roundtrip(buf, 0);
    memset(buf, 'a', sizeof(buf));
    codec_roundtrip(buf, 1);
    codec_roundtrip(buf, 5);
    codec_roundtrip(buf, sizeof(buf)); /* long runs: extended match lengths */
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char)rand();
    codec_roundtrip(buf, sizeof(buf)); /* incompressible: literal runs only */
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char)"order:12345:status=ok;"[i % 22] ^ (i % 997 == 0);
    codec_roundtrip(buf, sizeof(buf));
}

Test(list_compress, shrinks_similar_messages_and_refuses_random)
{
    static unsigned char src[8000], z[8000];
    char msg[32];
    for (size_t i = 0; i < sizeof(src); i += 20) {
        snprintf(msg, sizeof(msg), "job:%08zu:pending!!", i % 100000000);
        memcpy(src + i, msg, 20);
    }
    size_t zlen = list_compress(src, sizeof(src), z, sizeof(z));
    cr_assert(zlen > 0 && zlen < sizeof(src) / 2, "compressed to %zu", zlen);
    for (size_t i = 0; i < sizeof(src); i++) src[i] = (unsigned char)rand();
    cr_assert_eq(list_compress(src, sizeof(src), z, sizeof(src) - 8), 0);
}

Test(list_compress, rejects_malformed_input)
{
    unsigned char out[64];
    const unsigned char far_back[] = {0x00, 'a', 0x80, 0x05, 0x00};   /* distance 6 > 1 byte produced */
    const unsigned char short_lit[] = {0x05, 'a', 'b'};                /* run of 6, 2 present */
    const unsigned char cut_match[] = {0x00, 'a', 0x80, 0x00};         /* offset byte missing */
    const unsigned char cut_length[] = {0x00, 'a', 0xFF, 0xFF};        /* extra length never ends */
    const unsigned char overflow[] = {0x00, 'a', 0xBF, 0x00, 0x00};    /* 67 bytes into 64 */
    cr_assert(!list_decompress(far_back, sizeof(far_back), out, 6));
    cr_assert(!list_decompress(short_lit, sizeof(short_lit), out, 6));
    cr_assert(!list_decompress(cut_match, sizeof(cut_match), out, 5));
    cr_assert(!list_decompress(cut_length, sizeof(cut_length), out, 64));
    cr_assert(!list_decompress(overflow, sizeof(overflow), out, 64));
    const unsigned char ok[] = {0x00, 'a', 0x80, 0x00, 0x00}; /* 'a' then 4 copies of it */
    cr_assert(list_decompress(ok, sizeof(ok), out, 5));
    cr_assert(memcmp(out, "aaaaa", 5) == 0);
}

Test(list_compress, node_roundtrip)
{
    struct list_node *n = list_node_new(0);
    char buf[32];
    for (int i = 0; i < 300; i++) {
        int len = snprintf(buf, sizeof(buf), "message-%d", i % 10);
        n = list_node_append(n, buf, (size_t)len);
    }
    struct list_node *ref = list_node_dup(n);
    n = list_node_compress(n);
    cr_assert(list_node_is_compressed(n));
    cr_assert_lt(n->cap, ref->bytes / 2);
    cr_assert_eq(n->bytes, ref->bytes);
    cr_assert(list_node_validate(n));
    struct list_node *copy = list_node_dup(n);
    n = list_node_decompress(n);
    copy = list_node_decompress(copy);
    cr_assert(!list_node_is_compressed(n));
    cr_assert(memcmp(n->data, ref->data, ref->bytes) == 0);
    cr_assert(memcmp(copy->data, ref->data, ref->bytes) == 0);
    n->data[0] ^= 0x40;
    struct list_node *small = list_node_compress(list_node_append(list_node_new(0), "tiny", 4));
    cr_assert(!list_node_is_compressed(small) && (small->flags & LIST_NODE_NOCOMPRESS));
    small = list_node_append(small, "more", 4);
    cr_assert(!(small->flags & LIST_NODE_NOCOMPRESS)); /* an edit forgets the failed attempt */
    list_node_free(small);
    list_node_free(copy);
    list_node_free(ref);
    list_node_free(n);
}

Test(list_deque, random_compressed_depth_1, .init = register_types)
{
    run_deque_model_depth(-1, 1, 11, 6000);
    run_deque_model_depth(4, 1, 12, 6000);
}

Test(list_deque, random_compressed_depth_2, .init = register_types)
{
    run_deque_model_depth(-1, 2, 13, 6000);
    run_deque_model_depth(2, 3, 14, 6000);
}

Test(list_deque, compressed_queue_keeps_zones, .init = register_types)
{
    int saved = list_compress_depth;
    list_compress_depth = 1;
    struct object *o = list_object_create();
    char buf[32];
    for (int i = 0; i < 50000; i++) {
        int len = snprintf(buf, sizeof(buf), "job:%08d:pending", i);
        list_object_push(o, buf, (size_t)len, LIST_TAIL);
    }
    cr_assert(list_object_validate(o));
    size_t compressed_size = object_ops_of(o)->memory(o);
    cr_assert_lt(compressed_size, 50000 * 22 / 2, "memory %zu", compressed_size);
    struct model got = {0};
    cr_assert(list_object_index(o, 25000, keep_elem, &got));
    cr_assert_eq(got.lens[0], 20);
    cr_assert(memcmp(got.items[0], "job:00025000:pending", 20) == 0);
    model_free(&got);
    cr_assert(list_object_validate(o)); /* the node read was compressed again */
    for (int i = 0; i < 49990; i++) cr_assert(list_object_pop(o, LIST_HEAD, NULL, NULL));
    cr_assert(list_object_validate(o));
    object_free(o);
    list_compress_depth = saved;
}

Test(list_node_validate, refuses_non_canonical_entries)
{
    /* "12" stored as a string, and 5 stored in two bytes: both decode, but
     * equal values must have equal bytes */
    struct list_node *n = list_node_new(16);
    const unsigned char as_string[] = {0x82, '1', '2', 3};
    memcpy(n->data, as_string, sizeof(as_string));
    n->bytes = sizeof(as_string);
    n->count = 1;
    cr_assert_not(list_node_validate(n));
    const unsigned char wide_int[] = {0xC0, 0x05, 2};
    memcpy(n->data, wide_int, sizeof(wide_int));
    n->bytes = sizeof(wide_int);
    cr_assert_not(list_node_validate(n));
    const unsigned char good[] = {0x05, 1};
    memcpy(n->data, good, sizeof(good));
    n->bytes = sizeof(good);
    cr_assert(list_node_validate(n));
    list_node_free(n);
}

Test(list_node_validate, distinct_at_a_stride)
{
    struct list_node *n = list_node_new(0);
    const char *items[] = {"f1", "v", "f2", "v", "7", "v"};
    for (int i = 0; i < 6; i++) n = list_node_append(n, items[i], strlen(items[i]));
    size_t longest = 0;
    cr_assert(list_node_check(n, 2, &longest)); /* fields differ; values may repeat */
    cr_assert_eq(longest, 2);
    cr_assert_not(list_node_check(n, 1, NULL));
    n = list_node_append(n, "-1234567", 8);
    n = list_node_append(n, "x", 1);
    cr_assert(list_node_check(n, 2, &longest));
    cr_assert_eq(longest, 8); /* an integer counts its decimal digits and sign */
    n = list_node_append(n, "7", 1);
    n = list_node_append(n, "y", 1);
    cr_assert_not(list_node_check(n, 2, NULL)); /* field 7 twice, stored as an integer */
    list_node_free(n);
}
