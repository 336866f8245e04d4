/* stream_group: consumer groups of a stream — each group's last delivered
 * ID and read counter, its consumers, and its pending entries list (PEL):
 * the entries delivered and not yet acknowledged, with their owner,
 * delivery time and delivery count. Commands: XGROUP XREADGROUP XACK
 * XPENDING XCLAIM XAUTOCLAIM. */
#ifndef RUNNEL_TYPES_STREAM_GROUP_H
#define RUNNEL_TYPES_STREAM_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types/stream.h"
#include "types/stream_index.h"
#include "util/str.h"

struct stream_group_delay;

/* One pending entry; the group PEL, its owner's PEL and the group's idle
 * order (stream_pel.h) share it. */
struct stream_nack {
    struct stream_id id;
    long long delivery_time; /* ms since the epoch of the last delivery; 0 once released */
    uint64_t delivery_count;
    struct stream_consumer *consumer; /* NULL: released by XNACK, owned by nobody */
    uint64_t order;                   /* its key in the idle order, 0: not in it */
};

struct stream_consumer {
    str name;
    long long seen_time;   /* last read or claim attempt (ms) */
    long long active_time; /* last successful read or claim (ms), -1: never */
    struct stream_index *pel; /* ID -> struct stream_nack *, shared with the group */
};

struct stream_dlq;

struct stream_cgroup {
    str name;
    struct stream_id last_id; /* last delivered ID */
    long long entries_read;   /* logical read counter, -1 when unknown */
    struct stream_index *pel; /* ID -> struct stream_nack * (owns them) */
    struct stream_index *by_idle; /* (time key, order) -> struct stream_nack * */
    uint64_t next_order;          /* the next order a nack takes in by_idle */
    struct stream_consumer **consumers; /* sorted by name */
    size_t consumer_count;
    size_t consumer_cap;
    struct stream_group_delay *delay; /* scheduled entries, back-off (stream_delay.c); NULL when unused */
    struct stream_dlq *dlq; /* dead-letter settings (stream_dlq.h), NULL: none */
};

/* The groups of one stream, sorted by name (the order XINFO lists them). */
struct stream_groups {
    struct stream_cgroup **items;
    size_t count;
    size_t cap;
};

/* Value-type support for struct stream (NULL means no groups). */
void stream_groups_free(struct stream_groups *g);
struct stream_groups *stream_groups_copy(const struct stream_groups *g);
size_t stream_groups_memory(const struct stream_groups *g);

struct stream_cgroup *stream_group_find(const struct stream *s, const char *name, size_t len);
size_t stream_group_count(const struct stream *s);

/* The group's lag as XINFO reports it (Redis 7): false when unknown. */
bool stream_group_lag(struct stream *s, const struct stream_cgroup *g, long long *lag);

/* ---- building groups as they were (loading a snapshot) ---- */

/* Adds a group; NULL when the stream has one of that name. */
struct stream_cgroup *stream_group_add(struct stream *s, const char *name, size_t len, struct stream_id last,
                                      long long entries_read);
/* Adds a consumer, without notifications or logging; NULL when the group
 * has one of that name. */
struct stream_consumer *stream_consumer_add(struct stream_cgroup *g, const char *name, size_t len, long long seen_time,
                                            long long active_time);
/* c's position in g's consumers (which are sorted by name). */
size_t stream_consumer_index(const struct stream_cgroup *g, const struct stream_consumer *c);

#endif
