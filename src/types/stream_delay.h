/* stream_delay: delayed delivery and backed-off redelivery for consumer
 * groups (Runnel extensions).
 *
 * - XADD ... DELAY ms | DELAYAT unix-ms: the entry is stored at once (XREAD
 *   and XRANGE see it), but no consumer group delivers it before its due
 *   time. The stream keeps such entries in its schedule (entry ID -> due
 *   time, and by due time) until they are due.
 * - A group that reaches a scheduled entry before it is due (XREADGROUP >
 *   walking past it) makes it a pending entry owned by nobody with that due
 *   time as its not-before time, and moves on; so do XNACK ... DELAY ms |
 *   DELAYAT unix-ms for the entries they release. Such "scheduled" pending
 *   entries sit in the group's own due order, out of the idle order:
 *   XREADGROUP > hands out the due ones first, oldest due first; XCLAIM,
 *   XAUTOCLAIM and XREADGROUP ... CLAIM never take one before it is due.
 * - XGROUP SETBACKOFF key group ms [ms ...] | NONE: an entry delivered n
 *   times is taken by an idle-time claim (XREADGROUP ... CLAIM, XAUTOCLAIM,
 *   XCLAIM, each with a min-idle-time above 0) only once idle for the n-th
 *   delay (the last one repeating) as well as the min-idle-time.
 *
 * Schedules are enforced on a primary only: while a file loads or a
 * replica applies its primary's stream, logged claims run as they came.
 * What commands log is absolute (DELAYAT), so replay is exact.
 *
 * Timer: a stream with scheduled entries is registered, under its key, in
 * one server-wide index ordered by its earliest future due time; one loop
 * timer is armed at the first. When it fires, the key is marked ready for
 * blocked XREADGROUP, the stream's past-due schedule records are dropped,
 * and the stream is registered again at its next due time. Nothing else
 * costs anything until an entry is due. */
#ifndef RUNNEL_TYPES_STREAM_DELAY_H
#define RUNNEL_TYPES_STREAM_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/codec.h"
#include "db/object.h"
#include "protocol/outbuf.h"
#include "types/stream.h"
#include "types/stream_group.h"

struct db;
struct event_loop;

/* The largest due time accepted (ms since the epoch, as hash field expiry). */
#define STREAM_DELAY_MAX_MS ((1LL << 46) - 1)

/* The loop the due-time timer runs on (set once at start-up). */
void stream_delay_set_loop(struct event_loop *loop);
/* Whether schedules apply now: not while loading, nor on a replica applying
 * its primary's stream. */
bool stream_delay_enforced(void);

/* ---- parsing ---- */

/* Reads `DELAY ms` or `DELAYAT unix-ms` at argv[*i] (the caller checked the
 * word and that a value follows); advances *i to the value. Twice, or both,
 * is a syntax error; *due gets the absolute time (0: DELAY 0). `cmd` names
 * the command in errors. */
bool stream_delay_parse(struct request *req, int *i, const char *cmd, bool *given, long long *due);

/* ---- the stream's schedule ---- */

void stream_delay_free(struct stream *s);
void stream_delay_copy(struct stream *dst, const struct stream *src);
size_t stream_delay_memory(const struct stream *s);
/* Records that entry id is due at `due`. */
void stream_delay_schedule(struct stream *s, struct stream_id id, long long due);
/* The due time of entry id if it is in the schedule, else 0. */
long long stream_delay_due_of(const struct stream *s, struct stream_id id);
/* XADD put entry id in the schedule: groups whose position is already at or
 * past it (SETID ahead of the stream) hold it as a scheduled pending entry
 * (logged after the XADD as XNACK ... FORCE DELAYAT); then the stream is
 * armed. */
void stream_delay_added(struct request *req, const struct arg *key, struct stream *s, struct stream_id id,
                        long long due);
/* (Re)registers the stream, under this key, with the timer at its earliest
 * future due time (or unregisters it when there is none) and drops its
 * past-due schedule records. Call after a change to any schedule. */
void stream_delay_arm(struct db *db, const char *key, size_t len, struct stream *s);

/* ---- groups ---- */

void stream_delay_group_free(struct stream_cgroup *g);
void stream_delay_group_copy(struct stream_cgroup *dst, const struct stream_cgroup *src);
size_t stream_delay_group_memory(const struct stream_cgroup *g);
/* stream_pel.c's side: a pending entry owned by nobody with a delivery time
 * above 0 (its not-before time) lives in the group's due order instead of
 * the idle order; n->order is its tie-break there. */
void stream_delay_link(struct stream_cgroup *g, struct stream_nack *n);
void stream_delay_unlink(struct stream_cgroup *g, struct stream_nack *n);
/* Whether a claim with this min-idle-time must leave n for now: scheduled
 * and not due, or held back by the group's back-off schedule. */
bool stream_delay_held(const struct stream_cgroup *g, const struct stream_nack *n, long long min_idle);
/* Whether the group has a scheduled pending entry that is due. */
bool stream_delay_has_due(const struct stream_cgroup *g);
/* The group's first due scheduled entry (for MAXSIZE checks), or NULL. */
const struct stream_nack *stream_delay_first_due(const struct stream_cgroup *g);

/* ---- XREADGROUP ---- */

/* Called for entry id, which the group is about to read as new: when it is
 * in the stream's schedule and not due, it becomes a scheduled pending
 * entry of the group (logged as XNACK ... FORCE DELAYAT) and true is
 * returned: the caller moves the group past it without delivering it. */
bool stream_delay_defer(struct request *req, const struct arg *key, struct stream *s, struct stream_cgroup *g,
                        struct stream_id id);
/* Replies up to `limit` (0: all) of the group's due scheduled entries to c,
 * oldest due first (`meta`: with CLAIM's idle time and delivery count), as
 * deliveries (logged as XCLAIM; with noack they leave the PEL). Entries gone
 * from the stream leave the PEL. Returns how many it replied. */
long long stream_delay_deliver_due(struct request *req, const struct arg *key, struct stream *s,
                                   struct stream_cgroup *g, struct stream_consumer *c, long long limit,
                                   struct stream_budget *b, bool meta, bool noack);

/* XGROUP CREATE (from 0-0) or SETID moved the group's position from `from`
 * forward: the entries of the stream's schedule in (from, position] that
 * are not due become scheduled pending entries of the group, as if it had
 * read past them, so that the group still gets them when due. Logs the
 * command and them (XNACK ... FORCE DELAYAT) in one transaction. */
void stream_delay_group_moved(struct request *req, const struct arg *key, struct stream *s, struct stream_cgroup *g,
                              struct stream_id from);

/* ---- XNACK ---- */

/* Logs an XNACK whose DELAY was given as the same command with DELAYAT
 * <due> in its place (argv[delay_arg] is the DELAY word). */
void stream_delay_log_nack(struct request *req, int delay_arg, long long due);

/* ---- XINFO, persistence ---- */

/* Extra fields of XINFO STREAM (0 for a stream with nothing scheduled and
 * no back-off schedule): scheduled-entries, the entries in the stream's
 * schedule (records the timer has not dropped yet; stream_delay_arm first
 * drops those due), and next-due-time, the earliest due time to come in the
 * stream's or a group's schedule (nil when none). */
int stream_delay_info_fields(const struct stream *s);
void stream_delay_info_reply(struct outbuf *out, const struct stream *s);
/* Extra fields of XINFO GROUPS for one group. */
int stream_delay_group_info_fields(const struct stream_cgroup *g);
void stream_delay_group_info_reply(struct outbuf *out, const struct stream_cgroup *g);

/* Whether the stream has state only the delay section of a snapshot keeps
 * (schedule records, back-off schedules). */
bool stream_delay_needs_section(const struct stream *s);
/* The section's payload (stream_save.c frames it). */
void stream_delay_save(const struct stream *s, struct codec_out *out);
bool stream_delay_load(struct codec_in *in, struct stream *s);

/* AOF rewrite: `DELAYAT t` for an entry in the schedule (2 args into out,
 * buf >= 24 bytes), or 0. */
int stream_delay_rewrite_args(const struct stream *s, struct stream_id id, struct arg *out, char *buf);
/* AOF rewrite: each group's scheduled entries (XNACK ... FORCE DELAYAT) and
 * back-off schedule (XGROUP SETBACKOFF); after the groups are created. */
void stream_delay_rewrite(const struct stream *s, struct arg key, object_emit_fn *emit, void *ctx);

/* XGROUP SETBACKOFF key group ms [ms ...] | NONE */
void stream_delay_cmd_setbackoff(struct request *req);

#endif
