/* stream_delay: a group's scheduled pending entries (owned by nobody, with
 * a not-before time) live in the group's due order, out of the idle order;
 * the stream's schedule; back-off holds on idle-time claims. Built through
 * the calls commands and snapshot loads use, without a server. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "types/stream.h"
#include "types/stream_delay.h"
#include "types/stream_group.h"
#include "types/stream_pel.h"
#include "types/stream_save.h"

static struct stream *s;
static struct stream_cgroup *g;
static struct stream_consumer *alice;

static void setup(void)
{
    s = stream_new();
    g = stream_group_add(s, "g", 1, (struct stream_id){0, 0}, 0);
    alice = stream_consumer_add(g, "alice", 5, 0, -1);
    db_now_ms = 1000;
}

static void teardown(void)
{
    stream_free(s);
}

static struct stream_id id(uint64_t ms)
{
    return (struct stream_id){ms, 0};
}

TestSuite(stream_delay, .init = setup, .fini = teardown);

Test(stream_delay, scheduled_entries_stay_out_of_the_idle_order)
{
    stream_pel_add(g, NULL, id(1), 0, 1);    /* released: the NACK zone */
    stream_pel_add(g, NULL, id(2), 1500, 0); /* scheduled */
    stream_pel_add(g, alice, id(3), 900, 1);
    cr_assert_eq(stream_pel_idlest(g, NULL)->id.ms, 1);
    cr_assert_eq(stream_pel_idlest(g, stream_pel_idlest(g, NULL))->id.ms, 3);
    cr_assert_null(stream_pel_idlest(g, stream_index_find(g->pel, id(3))));
    cr_assert_null(stream_delay_first_due(g));
    cr_assert(stream_delay_held(g, stream_index_find(g->pel, id(2)), 0));
    db_now_ms = 1500;
    cr_assert_eq(stream_delay_first_due(g)->id.ms, 2);
    cr_assert_not(stream_delay_held(g, stream_index_find(g->pel, id(2)), 0));
    /* delivering it moves it to the idle order */
    stream_pel_assign(g, stream_index_find(g->pel, id(2)), alice, 1500);
    cr_assert_null(stream_delay_first_due(g));
    cr_assert_eq(stream_index_size(g->pel), 3);
}

Test(stream_delay, due_order_is_time_then_arrival)
{
    stream_pel_add(g, NULL, id(1), 1200, 0);
    stream_pel_add(g, NULL, id(2), 1100, 0);
    stream_pel_add(g, NULL, id(3), 1100, 0);
    db_now_ms = 2000;
    uint64_t want[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        struct stream_nack *n = (struct stream_nack *)stream_delay_first_due(g);
        cr_assert_eq(n->id.ms, want[i]);
        stream_pel_remove(g, n);
    }
    cr_assert_null(stream_delay_first_due(g));
}

Test(stream_delay, the_schedule_of_a_stream)
{
    stream_delay_schedule(s, id(5), 3000);
    stream_delay_schedule(s, (struct stream_id){5, 1}, 4000);
    cr_assert_eq(stream_delay_due_of(s, id(5)), 3000);
    cr_assert_eq(stream_delay_due_of(s, (struct stream_id){5, 1}), 4000);
    cr_assert_eq(stream_delay_due_of(s, id(6)), 0);
    struct stream *c = stream_copy(s);
    cr_assert_eq(stream_delay_due_of(c, (struct stream_id){5, 1}), 4000);
    stream_free(c);
    cr_assert_gt(stream_delay_memory(s), 0);
}

Test(stream_delay, copies_keep_scheduled_entries)
{
    stream_pel_add(g, NULL, id(1), 1200, 2);
    struct stream *c = stream_copy(s);
    struct stream_cgroup *cg = stream_group_find(c, "g", 1);
    struct stream_nack *n = stream_index_find(cg->pel, id(1));
    cr_assert_not_null(n);
    cr_assert_eq(n->delivery_time, 1200);
    cr_assert_eq(n->delivery_count, 2);
    db_now_ms = 1300;
    cr_assert_eq(stream_delay_first_due(cg), n);
    stream_free(c);
}

/* ---- snapshots: the optional section ---- */

struct mem_out {
    unsigned char *buf;
    size_t len, cap;
};

static void mem_out_write(void *ctx, const void *p, size_t len)
{
    struct mem_out *m = ctx;
    if (m->len + len > m->cap) {
        m->cap = (m->len + len) * 2;
        m->buf = realloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, p, len);
    m->len += len;
}

/* The stream's native encoding, as a snapshot holds it. */
static struct mem_out saved(struct stream *st)
{
    struct mem_out m = {0};
    struct codec_out out;
    codec_out_init(&out, mem_out_write, &m);
    struct object o = {.type = OBJ_STREAM, .v.ptr = st};
    stream_save(&o, &out);
    codec_out_finish(&out);
    return m;
}

static struct object *loaded(const struct mem_out *m, size_t len)
{
    struct codec_in in;
    codec_in_init(&in, m->buf, len, 0);
    return stream_load(&in);
}

Test(stream_delay, snapshots_keep_the_schedule_and_scheduled_entries)
{
    struct arg pairs[2] = {{"f", 1}, {"v", 1}};
    struct stream_id added, given = id(5);
    cr_assert_eq(stream_append(s, pairs, 1, &given, true, &added), STREAM_ADD_OK);
    struct mem_out plain = saved(s);
    cr_assert_eq(plain.buf[0], 2, "a stream without delays keeps encoding 2");
    stream_delay_schedule(s, id(5), 7000);
    stream_pel_add(g, NULL, id(5), 6000, 3);
    struct mem_out m = saved(s);
    cr_assert_eq(m.buf[0], 3);
    struct object *o = loaded(&m, m.len);
    cr_assert_not_null(o);
    struct stream *c = o->v.ptr;
    cr_assert_eq(stream_delay_due_of(c, id(5)), 7000);
    struct stream_nack *n = stream_index_find(stream_group_find(c, "g", 1)->pel, id(5));
    cr_assert(n && !n->consumer && n->delivery_time == 6000 && n->delivery_count == 3);
    cr_assert_null(stream_pel_idlest(stream_group_find(c, "g", 1), NULL), "scheduled, not released");
    object_free(o);
    /* a section cut short is refused, never read past */
    for (size_t len = plain.len; len < m.len; len++) cr_assert_null(loaded(&m, len), "length %zu", len);
    free(plain.buf);
    free(m.buf);
}
