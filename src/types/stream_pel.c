/* stream_pel: pending entries lists and the idle order (see stream_pel.h).
 *
 * The idle order is a stream_index keyed by two numbers: a time key (0 for
 * a released entry, its delivery time + 1 otherwise, so that released
 * entries come before every owned one) and an order number the group hands
 * out each time an entry takes a place, which breaks ties first come first
 * served and makes every key unique. */
#include "types/stream_pel.h"

#include <limits.h>

#include "protocol/reply.h"
#include "types/stream_delay.h"
#include "util/mem.h"

static struct stream_id idle_key(const struct stream_nack *n)
{
    uint64_t time = n->delivery_time > 0 ? (uint64_t)n->delivery_time : 0;
    return (struct stream_id){n->consumer ? time + 1 : 0, n->order};
}

/* Owned by nobody with a not-before time (stream_delay.h): such an entry
 * waits in the group's due order instead of the idle order. */
static bool scheduled(const struct stream_nack *n)
{
    return !n->consumer && n->delivery_time > 0;
}

static void idle_unlink(struct stream_cgroup *g, struct stream_nack *n)
{
    if (n->order == 0) return;
    if (scheduled(n)) stream_delay_unlink(g, n);
    else stream_index_remove(g->by_idle, idle_key(n), NULL);
    n->order = 0;
}

static void idle_link(struct stream_cgroup *g, struct stream_nack *n)
{
    n->order = ++g->next_order;
    if (scheduled(n)) stream_delay_link(g, n);
    else stream_index_insert(g->by_idle, idle_key(n), n);
}

void stream_pel_assign(struct stream_cgroup *g, struct stream_nack *n, struct stream_consumer *c, long long time)
{
    idle_unlink(g, n);
    if (n->consumer != c) {
        if (n->consumer) stream_index_remove(n->consumer->pel, n->id, NULL);
        if (c) stream_index_insert(c->pel, n->id, n);
        n->consumer = c;
    }
    n->delivery_time = time;
    idle_link(g, n);
}

struct stream_nack *stream_pel_add(struct stream_cgroup *g, struct stream_consumer *c, struct stream_id id,
                                   long long delivery_time, uint64_t delivery_count)
{
    struct stream_nack *n = mem_alloc(sizeof(*n));
    *n = (struct stream_nack){.id = id, .delivery_count = delivery_count};
    if (!stream_index_insert(g->pel, id, n)) {
        mem_free(n);
        return NULL;
    }
    stream_pel_assign(g, n, c, delivery_time);
    return n;
}

struct stream_nack *stream_pel_deliver(struct stream_cgroup *g, struct stream_consumer *c, struct stream_id id,
                                       long long now)
{
    struct stream_nack *n = stream_index_find(g->pel, id);
    if (!n) return stream_pel_add(g, c, id, now, 1);
    stream_pel_assign(g, n, c, now);
    n->delivery_count = 1;
    return n;
}

void stream_pel_remove(struct stream_cgroup *g, struct stream_nack *n)
{
    idle_unlink(g, n);
    stream_index_remove(g->pel, n->id, NULL);
    if (n->consumer) stream_index_remove(n->consumer->pel, n->id, NULL);
    mem_free(n);
}

bool stream_pel_drop(struct stream_cgroup *g, struct stream_id id)
{
    struct stream_nack *n = stream_index_find(g->pel, id);
    if (!n) return false;
    stream_pel_remove(g, n);
    return true;
}

struct stream_nack *stream_pel_idlest(const struct stream_cgroup *g, const struct stream_nack *after)
{
    struct stream_index_iter it;
    bool ok = after ? stream_index_seek_ge(g->by_idle, idle_key(after), &it) && stream_index_next(&it)
                    : stream_index_first(g->by_idle, &it);
    return ok ? stream_index_value(&it) : NULL;
}

void stream_nack_count_delivery(struct stream_nack *n)
{
    if (n->delivery_count < LLONG_MAX) n->delivery_count++;
}

long long stream_nack_idle(const struct stream_nack *n, long long now)
{
    if (!n->consumer) return -1;
    return now > n->delivery_time ? now - n->delivery_time : 0;
}

void stream_reply_owner(struct outbuf *out, const struct stream_nack *n)
{
    if (n->consumer) reply_bulk(out, n->consumer->name, str_len(n->consumer->name));
    else reply_bulk(out, "", 0);
}

static void nack_free(void *p)
{
    mem_free(p);
}

void stream_pel_free(struct stream_cgroup *g)
{
    stream_index_free(g->by_idle, NULL);
    stream_index_free(g->pel, nack_free);
}
