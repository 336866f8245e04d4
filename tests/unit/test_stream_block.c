/* stream_block: the packed entry encoding — round trips forwards and
 * backwards, delta-coded IDs, shared field names, deletion flags, long
 * values (multi-byte lengths) and its size per entry. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/stream_block.h"
#include "util/mem.h"

#define MAX_FIELDS 6

/* One entry of the model: its ID and up to MAX_FIELDS pairs. */
struct model_entry {
    struct stream_id id;
    int npairs;
    struct arg pairs[2 * MAX_FIELDS];
    bool deleted;
    char values[MAX_FIELDS][24]; /* backing for generated values */
};

static struct arg lit(const char *s)
{
    return (struct arg){(char *)s, strlen(s)};
}

static struct stream_id id(uint64_t ms, uint64_t seq)
{
    return (struct stream_id){ms, seq};
}

static void check_entry(const struct stream_entry *e, const struct model_entry *m)
{
    cr_assert_eq(e->id.ms, m->id.ms);
    cr_assert_eq(e->id.seq, m->id.seq);
    cr_assert_eq(e->deleted, m->deleted);
    cr_assert_eq(e->field_count, (uint32_t)m->npairs);
    struct stream_field_cursor c;
    const char *f, *v;
    size_t fl, vl;
    int i = 0;
    stream_entry_fields(e, &c);
    while (stream_field_next(&c, &f, &fl, &v, &vl)) {
        cr_assert_lt(i, m->npairs);
        cr_assert_eq(fl, m->pairs[2 * i].len);
        cr_assert_eq(memcmp(f, m->pairs[2 * i].ptr, fl), 0);
        cr_assert_eq(vl, m->pairs[2 * i + 1].len);
        cr_assert_eq(memcmp(v, m->pairs[2 * i + 1].ptr, vl), 0);
        i++;
    }
    cr_assert_eq(i, m->npairs);
}

/* Walks the block both ways and compares with the model. */
static void check_block(const struct stream_block *b, const struct model_entry *m, int n)
{
    uint32_t off = stream_block_begin(b);
    int i = 0;
    struct stream_entry e;
    while (off < stream_block_end(b)) {
        cr_assert_lt(i, n);
        stream_block_decode(b, off, &e);
        check_entry(&e, &m[i]);
        off = e.end;
        i++;
    }
    cr_assert_eq(i, n);
    cr_assert_eq(off, stream_block_end(b));
    off = stream_block_end(b);
    while (stream_block_prev(b, off, &off)) {
        stream_block_decode(b, off, &e);
        check_entry(&e, &m[--i]);
    }
    cr_assert_eq(i, 0);
    struct stream_id last = stream_block_last_id(b);
    cr_assert_eq(stream_id_cmp(&last, &m[n - 1].id), 0);
}

Test(stream_block, one_entry_round_trip)
{
    struct model_entry m = {.id = id(1526919030474, 55), .npairs = 2};
    m.pairs[0] = lit("subject");
    m.pairs[1] = lit("first");
    m.pairs[2] = lit("body");
    m.pairs[3] = lit("hello?");
    struct stream_block *b = stream_block_new(m.id, m.pairs, 2);
    cr_assert_eq(b->entries, 1);
    cr_assert_eq(b->master_count, 2);
    check_block(b, &m, 1);
    stream_block_free(b);
}

Test(stream_block, shared_field_names_store_values_only)
{
    struct arg same[2] = {lit("field"), lit("value")};
    struct arg other[2] = {lit("other"), lit("value")};
    struct stream_block *b = stream_block_new(id(100, 0), same, 1);
    uint32_t before = b->used;
    b = stream_block_append(b, id(100, 1), same, 1);
    uint32_t same_size = b->used - before;
    before = b->used;
    b = stream_block_append(b, id(100, 2), other, 1);
    uint32_t other_size = b->used - before;
    /* head, seq, value length, 5 value bytes, back length */
    cr_assert_eq(same_size, 9);
    cr_assert_eq(other_size, same_size + 1 + 6);
    cr_assert_eq(stream_block_entry_size(b, id(100, 3), same, 1), same_size);
    stream_block_free(b);
}

Test(stream_block, ids_across_milliseconds)
{
    struct model_entry m[6];
    uint64_t ms[] = {1000, 1000, 1000, 1001, 5000000, 5000000};
    uint64_t seq[] = {7, 8, 300, 0, 0, UINT64_MAX};
    struct stream_block *b = NULL;
    for (int i = 0; i < 6; i++) {
        m[i] = (struct model_entry){.id = id(ms[i], seq[i]), .npairs = 1};
        m[i].pairs[0] = lit("f");
        m[i].pairs[1] = lit("v");
        b = b ? stream_block_append(b, m[i].id, m[i].pairs, 1) : stream_block_new(m[i].id, m[i].pairs, 1);
    }
    check_block(b, m, 6);
    stream_block_free(b);
}

Test(stream_block, can_hold_limits_the_delta)
{
    struct arg p[2] = {lit("f"), lit("v")};
    struct stream_block *b = stream_block_new(id(10, 0), p, 1);
    cr_assert(stream_block_can_hold(b, id(10, 1)));
    cr_assert(stream_block_can_hold(b, id(10 + (UINT64_MAX >> 2), 0)));
    cr_assert_not(stream_block_can_hold(b, id(UINT64_MAX, 0)));
    cr_assert_not(stream_block_can_hold(b, id(9, 0)));
    stream_block_free(b);
}

Test(stream_block, deletion_flags)
{
    struct model_entry m[3];
    struct stream_block *b = NULL;
    uint32_t offs[3];
    for (int i = 0; i < 3; i++) {
        m[i] = (struct model_entry){.id = id(5, (uint64_t)i), .npairs = 1};
        m[i].pairs[0] = lit("k");
        m[i].pairs[1] = lit("v");
        offs[i] = b ? b->used : 0;
        b = b ? stream_block_append(b, m[i].id, m[i].pairs, 1) : stream_block_new(m[i].id, m[i].pairs, 1);
    }
    offs[0] = stream_block_begin(b);
    cr_assert(stream_block_delete(b, offs[1]));
    cr_assert_not(stream_block_delete(b, offs[1]));
    m[1].deleted = true;
    cr_assert_eq(stream_block_live(b), 2);
    cr_assert(stream_block_delete(b, offs[0]));
    m[0].deleted = true;
    check_block(b, m, 3);
    cr_assert_eq(stream_block_live(b), 1);
    stream_block_free(b);
}

Test(stream_block, long_values_and_many_fields)
{
    size_t big = 70000;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 26);
    struct model_entry m[2] = {{.id = id(1, 1), .npairs = MAX_FIELDS}, {.id = id(2, 1), .npairs = 1}};
    for (int i = 0; i < MAX_FIELDS; i++) {
        m[0].pairs[2 * i] = (struct arg){data + i, 100 + (size_t)i * 40};
        m[0].pairs[2 * i + 1] = (struct arg){data, i == 3 ? big : (size_t)i};
    }
    m[1].pairs[0] = (struct arg){data, 20000};
    m[1].pairs[1] = (struct arg){data, 0};
    struct stream_block *b = stream_block_new(m[0].id, m[0].pairs, MAX_FIELDS);
    b = stream_block_append(b, m[1].id, m[1].pairs, 1);
    check_block(b, m, 2);
    b = stream_block_shrink(b);
    cr_assert_geq(b->cap, b->used);
    cr_assert_lt(b->cap, b->used + b->used / 4 + 64, "shrinking gives back the spare room");
    check_block(b, m, 2);
    stream_block_free(b);
    free(data);
}

/* Random entries, each with the master's field names or its own, IDs
 * moving by random steps within and across milliseconds. */
Test(stream_block, random_round_trips)
{
    static const char *names[] = {"a", "b", "field", "user-id", "x"};
    srand(7);
    for (int round = 0; round < 200; round++) {
        int n = 1 + rand() % 150;
        struct model_entry *m = calloc((size_t)n, sizeof(*m));
        struct stream_block *b = NULL;
        struct stream_id cur = id((uint64_t)rand(), (uint64_t)(rand() % 5));
        for (int i = 0; i < n; i++) {
            bool master = i > 0 && rand() % 2;
            m[i].id = cur;
            m[i].npairs = master ? m[0].npairs : 1 + rand() % 3;
            for (int j = 0; j < m[i].npairs; j++) {
                snprintf(m[i].values[j], sizeof(m[i].values[j]), "v%d", rand());
                m[i].pairs[2 * j] = master ? m[0].pairs[2 * j] : lit(names[rand() % 5]);
                m[i].pairs[2 * j + 1] = lit(m[i].values[j]);
            }
            b = b ? stream_block_append(b, cur, m[i].pairs, (size_t)m[i].npairs)
                  : stream_block_new(cur, m[i].pairs, (size_t)m[i].npairs);
            if (rand() % 3 == 0) cur.ms += (uint64_t)(rand() % 100000);
            cur.seq = rand() % 2 ? cur.seq + 1 : (uint64_t)rand();
            if (rand() % 4 == 0) {
                cur.ms++;
                cur.seq = 0;
            }
        }
        check_block(b, m, n);
        cr_assert_eq(b->entries, (uint32_t)n);
        stream_block_free(b);
        free(m);
    }
}

/* The memory target: a "field value" entry costs about ten bytes. */
Test(stream_block, small_entries_are_small)
{
    struct arg p[2] = {lit("field"), lit("value")};
    struct stream_block *b = stream_block_new(id(1700000000000, 0), p, 1);
    for (uint64_t i = 1; i < 100; i++) b = stream_block_append(b, id(1700000000000 + i / 10, i % 10), p, 1);
    b = stream_block_shrink(b);
    cr_assert_leq(stream_block_memory(b), 100 * 10 + 64 + 256);
    stream_block_free(b);
}

/* ---- validating blocks read from a file ---- */

static struct stream_block *sample_block(void)
{
    struct arg p[4] = {lit("field"), lit("value"), lit("other"), lit("x")};
    struct stream_block *b = stream_block_new(id(1000, 5), p, 1);
    b = stream_block_append(b, id(1000, 6), p, 1);
    b = stream_block_append(b, id(1001, 0), p + 2, 1);
    b = stream_block_append(b, id(1500, 2), p, 2);
    return b;
}

static struct stream_block *copy_block(const struct stream_block *b, uint32_t used)
{
    struct stream_block *c = malloc(sizeof(*c) + b->used);
    memcpy(c, b, sizeof(*c) + b->used);
    c->used = c->cap = used;
    return c;
}

Test(stream_block, validate_accepts_what_the_writer_builds)
{
    struct stream_block *b = sample_block();
    struct stream_id first, last;
    const char *why = NULL;
    cr_assert(stream_block_validate(b, &first, &last, &why), "%s", why);
    cr_assert(first.ms == 1000 && first.seq == 5 && last.ms == 1500 && last.seq == 2);
    stream_block_delete(b, stream_block_begin(b));
    cr_assert(stream_block_validate(b, &first, &last, &why));
    cr_assert(first.ms == 1000 && first.seq == 6);
    stream_block_free(b);
}

Test(stream_block, validate_refuses_truncation_counts_and_a_dead_block)
{
    struct stream_block *b = sample_block();
    struct stream_id first, last;
    const char *why;
    for (uint32_t used = 0; used < b->used; used++) {
        struct stream_block *c = copy_block(b, used);
        cr_assert_not(stream_block_validate(c, &first, &last, &why), "used %u", used);
        free(c);
    }
    b->entries++;
    cr_assert_not(stream_block_validate(b, &first, &last, &why));
    b->entries--;
    b->deleted = 1;
    cr_assert_not(stream_block_validate(b, &first, &last, &why));
    b->deleted = 0;
    b->master_count = 2;
    cr_assert_not(stream_block_validate(b, &first, &last, &why));
    b->master_count = 1;
    for (uint32_t off = stream_block_begin(b); off < b->used;) {
        struct stream_entry e;
        stream_block_decode(b, off, &e);
        stream_block_delete(b, off);
        off = e.end;
    }
    cr_assert_not(stream_block_validate(b, &first, &last, &why));
    cr_assert_str_eq(why, "no live entry");
    stream_block_free(b);
}

/* Every single-byte change either still validates (and then decodes and
 * walks back safely) or is refused; the first ID must stay the block's. */
Test(stream_block, validate_every_byte_flip)
{
    struct stream_block *b = sample_block();
    for (uint32_t i = 0; i < b->used; i++) {
        for (int bit = 0; bit < 8; bit++) {
            struct stream_block *c = copy_block(b, b->used);
            c->data[i] ^= (uint8_t)(1u << bit);
            struct stream_id first, last;
            const char *why;
            if (stream_block_validate(c, &first, &last, &why)) {
                uint32_t n = 0, off = stream_block_end(c), prev;
                while (stream_block_prev(c, off, &prev)) {
                    struct stream_entry e;
                    stream_block_decode(c, prev, &e);
                    cr_assert_eq(e.end, off);
                    off = prev;
                    n++;
                }
                cr_assert_eq(n, c->entries);
            }
            free(c);
        }
    }
    stream_block_free(b);
}
