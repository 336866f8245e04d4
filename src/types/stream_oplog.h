/* stream_oplog: how streams reach the append-only file.
 *
 * Propagation: many stream commands do not reproduce their effect when
 * replayed from their own arguments — XADD `*` takes the clock, `~` trims
 * depend on block boundaries, XREADGROUP/XCLAIM/XAUTOCLAIM depend on the
 * clock, on idle times and on which entries exist. Those commands log what
 * they actually did instead (db/oplog.h), in the forms Redis 7 uses:
 * concrete IDs, exact trims, XCLAIM ... TIME t RETRYCOUNT n FORCE JUSTID
 * for every PEL entry they touch, XGROUP SETID ... ENTRIESREAD for a group's
 * position, XGROUP CREATECONSUMER for consumers they create, XACK for PEL
 * entries they drop (XREADGROUP ... CLAIM the same way). XDEL, XACK, XSETID,
 * XGROUP, XDELEX, XACKDEL and XNACK are logged as they came.
 *
 * Rewrite: the commands that rebuild a stream with its counters, groups,
 * consumers and PELs (delivery times and counts included, and entries
 * released by XNACK in release order) from nothing. */
#ifndef RUNNEL_TYPES_STREAM_OPLOG_H
#define RUNNEL_TYPES_STREAM_OPLOG_H

#include <stdbool.h>
#include <stddef.h>

#include <string.h>

#include "db/object.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "util/numbers.h"

/* Arguments of the commands streams log or emit; buffers are the caller's
 * (ID_BUF bytes for an ID, 24 for a number). */
#define ID_BUF 48

static inline struct arg arg_cstr(const char *s)
{
    return (struct arg){(char *)s, strlen(s)};
}

static inline struct arg arg_str(str s)
{
    return (struct arg){s, str_len(s)};
}

static inline struct arg arg_id(char *buf, const struct stream_id *id)
{
    return (struct arg){buf, stream_id_format(buf, id)};
}

static inline struct arg arg_ll(char *buf, long long v)
{
    return (struct arg){buf, format_ll(buf, v)};
}

static inline struct arg arg_ull(char *buf, unsigned long long v)
{
    return (struct arg){buf, format_ull(buf, v)};
}

/* IDs per logged XCLAIM or XACK. */
#define STREAM_OPLOG_BATCH 64

/* Collects the PEL changes one command makes to one group and logs them
 * as batched XCLAIM (entries claimed or delivered, with their final owner,
 * delivery time and count) and XACK (entries dropped from the PEL)
 * commands. Consecutive claims with the same owner, time and count share
 * one XCLAIM. */
struct stream_pel_log {
    object_emit_fn *emit; /* where the commands go, and its context */
    void *ctx;
    struct arg key;
    const struct stream_cgroup *g;
    bool with_last_id; /* XCLAIM carries LASTID <the group's last ID> */
    const struct stream_consumer *owner;
    long long time;
    uint64_t count;
    int nclaims;
    int nacks;
    struct stream_id claims[STREAM_OPLOG_BATCH];
    struct stream_id acks[STREAM_OPLOG_BATCH];
};

void stream_pel_log_init(struct stream_pel_log *l, struct request *req, const struct arg *key,
                         const struct stream_cgroup *g, bool with_last_id);
/* The entry `id` is now pending as `n` says (owner, time, count). */
void stream_pel_log_claimed(struct stream_pel_log *l, struct stream_id id, const struct stream_nack *n);
/* The entry `id` left the PEL. */
void stream_pel_log_dropped(struct stream_pel_log *l, struct stream_id id);
/* Logs what is collected; call before the command returns. */
void stream_pel_log_flush(struct stream_pel_log *l);

/* XGROUP CREATECONSUMER key group consumer */
void stream_oplog_consumer_created(struct request *req, const struct arg *key, const struct stream_cgroup *g,
                                   const struct stream_consumer *c);
/* XGROUP SETID key group <last ID> ENTRIESREAD <n>: the group's position. */
void stream_oplog_group_position(struct request *req, const struct arg *key, const struct stream_cgroup *g);
/* An object_emit_fn that logs a command in place of the request passed as
 * ctx (struct request *). */
void stream_oplog_sink(void *ctx, int argc, const struct arg *argv);
/* The command logged its whole effect (or had none): the server must not
 * log its arguments as well. */
void stream_oplog_done(struct request *req);

/* XNACK key group FAIL IDS n id... RETRYCOUNT count FORCE [DELAYAT due]:
 * on replay the entries become pending, owned by nobody, with this count —
 * released at the tail of the NACK zone, or (due > 0) scheduled with that
 * not-before time (stream_delay.h). */
void stream_oplog_emit_released(object_emit_fn *emit, void *ctx, struct arg key, const struct stream_cgroup *g,
                                const struct stream_id *ids, int n, uint64_t count, long long due);

/* Emits the commands that rebuild stream object o under key (AOF rewrite). */
void stream_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx);

#endif
