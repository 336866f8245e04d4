/* stream_pel: a consumer group's pending entries — the group's PEL (by ID),
 * each owner's PEL (by ID, sharing the group's nacks), and the group's idle
 * order, which XREADGROUP ... CLAIM walks.
 *
 * The idle order lists entries released by XNACK first, in the order they
 * were released (the "NACK zone" of Redis 8.8), then owned entries by
 * delivery time, oldest first; entries delivered in the same millisecond
 * keep the order in which they got that time. Every change of an entry's
 * owner or delivery time goes through stream_pel_assign, which keeps the
 * three indexes in step. */
#ifndef RUNNEL_TYPES_STREAM_PEL_H
#define RUNNEL_TYPES_STREAM_PEL_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/outbuf.h"
#include "types/stream_group.h"

/* Makes id pending in g, owned by c (NULL: released) with this delivery
 * time and count; NULL when it is pending already. */
struct stream_nack *stream_pel_add(struct stream_cgroup *g, struct stream_consumer *c, struct stream_id id,
                                   long long delivery_time, uint64_t delivery_count);
/* Records id as delivered to c at `now`: a new pending entry, or (the group
 * was moved back with SETID) the old one, which changes owner and starts
 * over at one delivery. */
struct stream_nack *stream_pel_deliver(struct stream_cgroup *g, struct stream_consumer *c, struct stream_id id,
                                       long long now);
/* Gives n to c (NULL: releases it) with delivery time `time`; it moves to
 * its new place in the idle order (the tail of the NACK zone when
 * released). */
void stream_pel_assign(struct stream_cgroup *g, struct stream_nack *n, struct stream_consumer *c, long long time);
/* Removes n from every index and frees it. */
void stream_pel_remove(struct stream_cgroup *g, struct stream_nack *n);
/* Drops id from g's PEL; false when it was not pending. */
bool stream_pel_drop(struct stream_cgroup *g, struct stream_id id);
/* The first entry of g's idle order (the longest idle), or NULL; `after`
 * non-NULL gives the entry after it instead. */
struct stream_nack *stream_pel_idlest(const struct stream_cgroup *g, const struct stream_nack *after);
/* Counts one more delivery of n. The count stops at LLONG_MAX (XNACK
 * FATAL's mark), the largest a reply or a logged RETRYCOUNT can carry, so
 * that what replays is what was counted. */
void stream_nack_count_delivery(struct stream_nack *n);
/* Milliseconds since n's last delivery (never negative); -1 when it was
 * released, as XPENDING shows it. */
long long stream_nack_idle(const struct stream_nack *n, long long now);
/* Replies n's owner's name, or "" for a released entry. */
void stream_reply_owner(struct outbuf *out, const struct stream_nack *n);

/* Frees every nack of the group's PEL and its idle order (not the
 * consumers' PELs). */
void stream_pel_free(struct stream_cgroup *g);

#endif
