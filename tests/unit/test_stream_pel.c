/* stream_pel: a group's pending entries kept in three indexes — the group's
 * PEL, each owner's PEL, and the idle order (released entries first in the
 * order they were released, then owned ones by delivery time). Built
 * through the same calls a snapshot load uses, without a server. */
#include <criterion/criterion.h>

#include "types/stream.h"
#include "types/stream_group.h"
#include "types/stream_pel.h"

static struct stream *s;
static struct stream_cgroup *g;
static struct stream_consumer *alice, *bob;

static void setup(void)
{
    s = stream_new();
    g = stream_group_add(s, "g", 1, (struct stream_id){0, 0}, 0);
    alice = stream_consumer_add(g, "alice", 5, 0, -1);
    bob = stream_consumer_add(g, "bob", 3, 0, -1);
}

static void teardown(void)
{
    stream_free(s);
}

static struct stream_id id(uint64_t ms)
{
    return (struct stream_id){ms, 0};
}

/* The idle order as entry milliseconds, into out; returns how many. */
static int idle_order(uint64_t *out, int max)
{
    int n = 0;
    for (const struct stream_nack *x = stream_pel_idlest(g, NULL); x && n < max; x = stream_pel_idlest(g, x))
        out[n++] = x->id.ms;
    return n;
}

TestSuite(stream_pel, .init = setup, .fini = teardown);

Test(stream_pel, idle_order_is_delivery_time_then_arrival)
{
    stream_pel_add(g, alice, id(1), 300, 1);
    stream_pel_add(g, bob, id(2), 100, 1);
    stream_pel_add(g, alice, id(3), 200, 1);
    stream_pel_add(g, bob, id(4), 100, 1);
    uint64_t order[8];
    cr_assert_eq(idle_order(order, 8), 4);
    uint64_t want[] = {2, 4, 3, 1};
    cr_assert_arr_eq(order, want, sizeof(want));
    cr_assert_null(stream_pel_add(g, bob, id(4), 5, 1), "an ID is pending once");
}

Test(stream_pel, released_entries_come_first_in_release_order)
{
    for (uint64_t i = 1; i <= 4; i++) stream_pel_add(g, alice, id(i), (long long)i, 1);
    stream_pel_assign(g, stream_index_find(g->pel, id(3)), NULL, 0);
    stream_pel_assign(g, stream_index_find(g->pel, id(1)), NULL, 0);
    uint64_t order[8];
    cr_assert_eq(idle_order(order, 8), 4);
    uint64_t want[] = {3, 1, 2, 4};
    cr_assert_arr_eq(order, want, sizeof(want));
    cr_assert_eq(stream_index_size(alice->pel), 2, "released entries leave their owner's PEL");
    cr_assert_eq(stream_index_size(g->pel), 4);
    /* released again: to the tail of the zone */
    stream_pel_assign(g, stream_index_find(g->pel, id(3)), NULL, 0);
    idle_order(order, 8);
    uint64_t again[] = {1, 3, 2, 4};
    cr_assert_arr_eq(order, again, sizeof(again));
}

Test(stream_pel, assign_moves_between_owners)
{
    struct stream_nack *n = stream_pel_add(g, alice, id(7), 10, 2);
    stream_pel_assign(g, n, bob, 20);
    cr_assert_eq(stream_index_size(alice->pel), 0);
    cr_assert_eq(stream_index_find(bob->pel, id(7)), n);
    cr_assert_eq(n->delivery_time, 20);
    cr_assert_eq(n->delivery_count, 2);
    n = stream_pel_deliver(g, alice, id(7), 30);
    cr_assert_eq(n->consumer, alice);
    cr_assert_eq(n->delivery_count, 1, "a new delivery starts the count over");
}

Test(stream_pel, remove_and_drop_clear_every_index)
{
    stream_pel_add(g, alice, id(1), 10, 1);
    struct stream_nack *n = stream_pel_add(g, NULL, id(2), 0, 3);
    stream_pel_add(g, bob, id(3), 5, 1);
    stream_pel_remove(g, n);
    cr_assert(stream_pel_drop(g, id(1)));
    cr_assert_not(stream_pel_drop(g, id(1)));
    uint64_t order[8];
    cr_assert_eq(idle_order(order, 8), 1);
    cr_assert_eq(order[0], 3);
    cr_assert_eq(stream_index_size(alice->pel), 0);
    cr_assert_eq(stream_index_size(g->pel), 1);
}

Test(stream_pel, copies_keep_the_idle_order)
{
    for (uint64_t i = 1; i <= 5; i++) stream_pel_add(g, i % 2 ? alice : bob, id(i), 50 - (long long)i, 1);
    stream_pel_assign(g, stream_index_find(g->pel, id(4)), NULL, 0);
    stream_pel_assign(g, stream_index_find(g->pel, id(2)), NULL, 0);
    uint64_t before[8], after[8];
    int n = idle_order(before, 8);
    struct stream *copy = stream_copy(s);
    struct stream *orig = s;
    s = copy;
    g = stream_group_find(copy, "g", 1);
    cr_assert_eq(idle_order(after, 8), n);
    cr_assert_arr_eq(before, after, sizeof(uint64_t) * (size_t)n);
    cr_assert_null(((struct stream_nack *)stream_index_find(g->pel, id(4)))->consumer);
    stream_free(orig);
}
