#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/codec.h"

/* A sink that collects everything in memory. */
struct mem_sink {
    unsigned char *buf;
    size_t len, cap;
    int calls;
};

static void mem_sink_write(void *ctx, const void *p, size_t len)
{
    struct mem_sink *m = ctx;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->buf = realloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, p, len);
    m->len += len;
    m->calls++;
}

static void write_primitives(struct codec_out *o)
{
    codec_put_u8(o, 0xAB);
    codec_put_varint(o, 0);
    codec_put_varint(o, 127);
    codec_put_varint(o, 128);
    codec_put_varint(o, UINT64_MAX);
    codec_put_svarint(o, -1);
    codec_put_svarint(o, INT64_MIN);
    codec_put_svarint(o, INT64_MAX);
    codec_put_u64(o, 0x0102030405060708ULL);
    codec_put_double(o, -2.5);
    codec_put_bytes(o, "hello", 5);
    codec_put_bytes(o, "", 0);
    codec_put_raw(o, "xyz", 3);
}

static void read_primitives(struct codec_in *in)
{
    unsigned b;
    uint64_t u;
    int64_t s;
    double d;
    const char *p;
    size_t len;
    const void *raw;
    cr_assert(codec_get_u8(in, &b) && b == 0xAB);
    cr_assert(codec_get_varint(in, &u) && u == 0);
    cr_assert(codec_get_varint(in, &u) && u == 127);
    cr_assert(codec_get_varint(in, &u) && u == 128);
    cr_assert(codec_get_varint(in, &u) && u == UINT64_MAX);
    cr_assert(codec_get_svarint(in, &s) && s == -1);
    cr_assert(codec_get_svarint(in, &s) && s == INT64_MIN);
    cr_assert(codec_get_svarint(in, &s) && s == INT64_MAX);
    cr_assert(codec_get_u64(in, &u) && u == 0x0102030405060708ULL);
    cr_assert(codec_get_double(in, &d) && d == -2.5);
    cr_assert(codec_get_bytes(in, &p, &len) && len == 5 && memcmp(p, "hello", 5) == 0);
    cr_assert(codec_get_bytes(in, &p, &len) && len == 0);
    cr_assert(codec_get_raw(in, 3, &raw) && memcmp(raw, "xyz", 3) == 0);
}

Test(codec, primitives_round_trip_outside_a_value)
{
    struct mem_sink m = {0};
    struct codec_out o;
    codec_out_init(&o, mem_sink_write, &m);
    write_primitives(&o);
    codec_out_finish(&o);
    struct codec_in in;
    codec_in_init(&in, m.buf, m.len, 0);
    read_primitives(&in);
    cr_assert_eq(codec_in_offset(&in), m.len);
    cr_assert(!in.failed);
    free(m.buf);
}

Test(codec, a_small_value_is_one_chunk_with_a_one_byte_length)
{
    struct mem_sink m = {0};
    struct codec_out o;
    codec_out_init(&o, mem_sink_write, &m);
    codec_put_u8(&o, 0x77);
    codec_out_begin_value(&o);
    codec_put_bytes(&o, "abc", 3);
    codec_out_end_value(&o);
    codec_out_finish(&o);
    const unsigned char expect[] = {0x77, 4, 3, 'a', 'b', 'c', 0};
    cr_assert_eq(m.len, sizeof(expect));
    cr_assert(memcmp(m.buf, expect, sizeof(expect)) == 0);
    free(m.buf);
}

Test(codec, an_empty_value_is_just_its_end)
{
    struct mem_sink m = {0};
    struct codec_out o;
    codec_out_init(&o, mem_sink_write, &m);
    codec_out_begin_value(&o);
    codec_out_end_value(&o);
    codec_out_finish(&o);
    cr_assert_eq(m.len, 1);
    struct codec_in in;
    codec_in_init(&in, m.buf, m.len, 0);
    cr_assert(codec_in_begin_value(&in));
    cr_assert(codec_in_end_value(&in));
    unsigned b;
    codec_in_init(&in, m.buf, m.len, 0);
    codec_in_begin_value(&in);
    cr_assert(!codec_get_u8(&in, &b));
    cr_assert(strstr(in.err, "ends before its contents"));
    free(m.buf);
}

/* Writes a value of many primitives and a few large items, so it spans
 * many chunks; returns the offset where the value starts. */
static size_t write_big_value(struct mem_sink *m, unsigned char *big, size_t big_len)
{
    struct codec_out o;
    codec_out_init(&o, mem_sink_write, m);
    codec_put_bytes(&o, "key", 3);
    size_t start = 4;
    codec_out_begin_value(&o);
    for (int i = 0; i < 20000; i++) {
        codec_put_varint(&o, (uint64_t)i * 1000003);
        codec_put_bytes(&o, "field", 5);
        if (i % 5000 == 0) codec_put_bytes(&o, big, big_len);
    }
    codec_out_end_value(&o);
    codec_put_u8(&o, 0xEE);
    codec_out_finish(&o);
    return start;
}

Test(codec, a_large_value_spans_chunks_and_reads_back)
{
    size_t big_len = 100000;
    unsigned char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++) big[i] = (unsigned char)(i * 7);
    struct mem_sink m = {0};
    size_t start = write_big_value(&m, big, big_len);
    struct codec_in in;
    codec_in_init(&in, m.buf, m.len, start);
    cr_assert(codec_in_begin_value(&in));
    for (int i = 0; i < 20000; i++) {
        uint64_t v;
        const char *p;
        size_t len;
        cr_assert(codec_get_varint(&in, &v) && v == (uint64_t)i * 1000003, "%s", in.err);
        cr_assert(codec_get_bytes(&in, &p, &len) && len == 5 && memcmp(p, "field", 5) == 0);
        if (i % 5000 == 0) {
            cr_assert(codec_get_bytes(&in, &p, &len) && len == big_len);
            cr_assert(memcmp(p, big, big_len) == 0); /* in place: one contiguous run */
        }
    }
    cr_assert(codec_in_end_value(&in), "%s", in.err);
    unsigned b;
    cr_assert(codec_get_u8(&in, &b) && b == 0xEE);
    /* skipping reads only the chunk lengths and lands at the same place */
    codec_in_init(&in, m.buf, m.len, start);
    cr_assert(codec_in_skip_value(&in));
    cr_assert(codec_get_u8(&in, &b) && b == 0xEE);
    free(m.buf);
    free(big);
}

Test(codec, every_truncation_fails_cleanly)
{
    unsigned char big[40000];
    memset(big, 'x', sizeof(big));
    struct mem_sink m = {0};
    size_t start = write_big_value(&m, big, sizeof(big));
    for (size_t cut = 0; cut < m.len; cut += (cut < 200 ? 1 : 997)) {
        struct codec_in in;
        codec_in_init(&in, m.buf, cut, start < cut ? start : 0);
        bool ok = codec_in_skip_value(&in);
        cr_assert(!ok || cut == m.len - 1, "cut %zu", cut);
        codec_in_init(&in, m.buf, cut, start < cut ? start : 0);
        codec_in_begin_value(&in);
        uint64_t v;
        const char *p;
        size_t len;
        while (codec_get_varint(&in, &v) && codec_get_bytes(&in, &p, &len)) {
        }
        cr_assert(in.failed);
        cr_assert(strstr(in.err, "offset"), "%s", in.err);
    }
    free(m.buf);
}

Test(codec, unread_bytes_at_the_end_of_a_value_fail)
{
    struct mem_sink m = {0};
    struct codec_out o;
    codec_out_init(&o, mem_sink_write, &m);
    codec_out_begin_value(&o);
    codec_put_varint(&o, 1);
    codec_put_varint(&o, 2);
    codec_out_end_value(&o);
    codec_out_finish(&o);
    struct codec_in in;
    codec_in_init(&in, m.buf, m.len, 0);
    uint64_t v;
    codec_in_begin_value(&in);
    cr_assert(codec_get_varint(&in, &v) && v == 1);
    cr_assert(!codec_in_end_value(&in));
    cr_assert(strstr(in.err, "left unread"), "%s", in.err);
    free(m.buf);
}

Test(codec, a_primitive_crossing_a_chunk_end_is_refused)
{
    /* a hand-made value: a 2-byte chunk holding the first byte of "bytes 3 abc" */
    const unsigned char bad[] = {2, 3, 'a', 2, 'b', 'c', 0};
    struct codec_in in;
    codec_in_init(&in, bad, sizeof(bad), 0);
    const char *p;
    size_t len;
    codec_in_begin_value(&in);
    cr_assert(!codec_get_bytes(&in, &p, &len));
    cr_assert(strstr(in.err, "cross the end of their chunk"), "%s", in.err);
}

Test(codec, counts_the_input_cannot_hold_are_refused)
{
    const unsigned char data[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
    struct codec_in in;
    codec_in_init(&in, data, sizeof(data), 0);
    uint64_t n;
    cr_assert(!codec_get_count(&in, 1, &n));
    cr_assert(strstr(in.err, "implausible count"));
    const unsigned char ok[] = {3, 1, 2, 3};
    codec_in_init(&in, ok, sizeof(ok), 0);
    cr_assert(codec_get_count(&in, 1, &n) && n == 3);
    codec_in_init(&in, ok, sizeof(ok), 0);
    cr_assert(!codec_get_count(&in, 2, &n));
}

Test(codec, malformed_varints_and_first_error_wins)
{
    unsigned char data[12];
    memset(data, 0x80, sizeof(data));
    struct codec_in in;
    codec_in_init(&in, data, sizeof(data), 0);
    uint64_t v;
    cr_assert(!codec_get_varint(&in, &v));
    cr_assert(strstr(in.err, "malformed number"), "%s", in.err);
    char first[sizeof(in.err)];
    strcpy(first, in.err);
    unsigned b;
    cr_assert(!codec_get_u8(&in, &b)); /* every read fails after the first failure */
    codec_fail(&in, "another");
    cr_assert_str_eq(in.err, first);
}
