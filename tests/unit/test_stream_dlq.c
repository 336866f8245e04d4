/* stream_dlq: a group's dead-letter settings in the snapshot encoding (the
 * sections of stream encoding 3, and their refusals), the delivery-limit
 * test, and the key positions XGROUP CREATE / SETDLQ declare. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "db/codec.h"
#include "db/object.h"
#include "types/stream.h"
#include "types/stream_dlq.h"
#include "types/stream_group.h"
#include "types/stream_pel.h"
#include "types/stream_save.h"
#include "util/mem.h"

struct mem {
    unsigned char *buf;
    size_t len, cap;
};

static void mem_write(void *ctx, const void *p, size_t len)
{
    struct mem *m = ctx;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->buf = realloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, p, len);
    m->len += len;
}

/* Saves s and frees it (the object wrapper alone is freed with mem_free:
 * no types are registered here). */
static struct mem save(struct stream *s)
{
    struct mem m = {0};
    struct codec_out o;
    struct object *obj = object_new(OBJ_STREAM, ENC_STREAM, s);
    codec_out_init(&o, mem_write, &m);
    stream_save(obj, &o);
    codec_out_finish(&o);
    mem_free(obj);
    stream_free(s);
    return m;
}

static struct stream *two_groups(bool with_dlq)
{
    struct stream *s = stream_new();
    stream_group_add(s, "a", 1, (struct stream_id){0, 0}, 0);
    struct stream_cgroup *b = stream_group_add(s, "b", 1, (struct stream_id){0, 0}, 0);
    if (with_dlq) {
        struct stream_dlq d = {.key = str_new("dead", 4), .max_deliveries = 3, .dead_lettered = 7};
        b->dlq = stream_dlq_copy(&d);
        str_free(d.key);
    }
    return s;
}

static struct stream *load(struct mem *m, struct codec_in *in)
{
    codec_in_init(in, m->buf, m->len, 0);
    struct object *o = stream_load(in);
    if (!o) return NULL;
    struct stream *s = o->v.ptr;
    mem_free(o);
    return s;
}

Test(stream_dlq, settings_round_trip_as_encoding_3)
{
    struct mem m = save(two_groups(true));
    cr_assert_eq(m.buf[0], 3);
    struct codec_in in;
    struct stream *s = load(&m, &in);
    cr_assert(s, "%s", in.err);
    cr_assert_eq(codec_in_offset(&in), m.len);
    cr_assert_null(stream_group_find(s, "a", 1)->dlq);
    const struct stream_dlq *d = stream_group_find(s, "b", 1)->dlq;
    cr_assert(d && str_len(d->key) == 4 && memcmp(d->key, "dead", 4) == 0);
    cr_assert_eq(d->max_deliveries, 3);
    cr_assert_eq(d->dead_lettered, 7);
    stream_free(s);
    free(m.buf);
}

Test(stream_dlq, streams_without_settings_stay_encoding_2)
{
    struct mem m = save(two_groups(false));
    cr_assert_eq(m.buf[0], 2);
    struct codec_in in;
    struct stream *s = load(&m, &in);
    cr_assert(s && !stream_dlq_any(s));
    stream_free(s);
    free(m.buf);
}

/* A saved stream whose encoding-2 ending is followed by the sections
 * `write` puts there, tagged encoding 3. */
static struct mem with_section(void (*write)(struct codec_out *o))
{
    struct mem plain = save(two_groups(false)), m = {0};
    mem_write(&m, "\x03", 1);
    mem_write(&m, plain.buf + 1, plain.len - 1);
    free(plain.buf);
    struct codec_out o;
    codec_out_init(&o, mem_write, &m);
    write(&o);
    codec_out_finish(&o);
    return m;
}

static void unknown_kind(struct codec_out *o)
{
    codec_put_varint(o, 1);
    codec_put_u8(o, 9);
    codec_put_varint(o, 0);
}

static void repeated_kind(struct codec_out *o)
{
    codec_put_varint(o, 2);
    for (int i = 0; i < 2; i++) {
        codec_put_u8(o, 1);
        codec_put_varint(o, 0);
    }
}

/* One dead-letter section of `n` groups' settings follows. */
static void dlq_section(struct codec_out *o, uint64_t n)
{
    codec_put_varint(o, 1);
    codec_put_u8(o, 1);
    codec_put_varint(o, n);
}

static void put_settings(struct codec_out *o, const char *group, uint64_t max)
{
    codec_put_bytes(o, group, strlen(group));
    codec_put_bytes(o, "k", 1);
    codec_put_varint(o, max);
    codec_put_varint(o, 0);
}

static void missing_group(struct codec_out *o)
{
    dlq_section(o, 1);
    put_settings(o, "zz", 2);
}

static void zero_limit(struct codec_out *o)
{
    dlq_section(o, 1);
    put_settings(o, "a", 0);
}

static void same_group_twice(struct codec_out *o)
{
    dlq_section(o, 2);
    put_settings(o, "a", 2);
    put_settings(o, "a", 2);
}

Test(stream_dlq, damaged_sections_are_refused)
{
    void (*cases[])(struct codec_out *) = {unknown_kind, repeated_kind, missing_group, zero_limit,
                                           same_group_twice};
    const char *why[] = {"section kind 9", "section kind 1", "missing or repeated group", "out of range",
                         "missing or repeated group"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct mem m = with_section(cases[i]);
        struct codec_in in;
        cr_assert_null(load(&m, &in), "case %zu loaded", i);
        cr_assert(strstr(in.err, why[i]), "case %zu: %s", i, in.err);
        free(m.buf);
    }
}

Test(stream_dlq, due_once_the_count_reaches_the_limit)
{
    struct stream *s = two_groups(true);
    struct stream_cgroup *a = stream_group_find(s, "a", 1), *b = stream_group_find(s, "b", 1);
    struct stream_nack *na = stream_pel_add(a, NULL, (struct stream_id){1, 0}, 0, 5);
    struct stream_nack *nb = stream_pel_add(b, NULL, (struct stream_id){1, 0}, 0, 2);
    cr_assert(!stream_dlq_due(a, na)); /* no settings: never */
    cr_assert(!stream_dlq_due(b, nb));
    nb->delivery_count = 3;
    cr_assert(stream_dlq_due(b, nb));
    stream_free(s);
}

static struct arg A(const char *s)
{
    return (struct arg){(char *)s, strlen(s)};
}

Test(stream_dlq, key_positions)
{
    int pos[4];
    struct arg create[] = {A("XGROUP"), A("CREATE"), A("s"), A("g"), A("$"), A("MKSTREAM"), A("deadletter"),
                           A("d"), A("MAXDELIVERIES"), A("2")};
    cr_assert_eq(stream_dlq_create_keys(NULL, create, 10, pos, 4), 2);
    cr_assert(pos[0] == 2 && pos[1] == 7);
    cr_assert_eq(stream_dlq_create_keys(NULL, create, 5, pos, 4), 1);
    cr_assert_eq(stream_dlq_create_keys(NULL, create, 7, pos, 4), 1); /* DEADLETTER without its key */
    struct arg setdlq[] = {A("XGROUP"), A("SETDLQ"), A("s"), A("g"), A("none")};
    cr_assert_eq(stream_dlq_setdlq_keys(NULL, setdlq, 5, pos, 4), 1);
    setdlq[4] = A("d");
    cr_assert_eq(stream_dlq_setdlq_keys(NULL, setdlq, 5, pos, 4), 2);
    cr_assert_eq(pos[1], 4);
}
