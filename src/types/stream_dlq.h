/* stream_dlq: dead-letter streams of consumer groups (a Runnel extension).
 *
 * A group may carry a delivery limit and a dead-letter stream, set by
 * XGROUP CREATE ... MAXDELIVERIES n DEADLETTER key or XGROUP SETDLQ. A
 * pending entry that has been delivered n times and would be delivered
 * again (XREADGROUP ... CLAIM, XREADGROUP with an ID, XCLAIM, XAUTOCLAIM,
 * all without JUSTID or RETRYCOUNT), or that a consumer gives back with
 * XNACK FAIL once delivered n times, or with XNACK FATAL, is instead
 * appended to the dead-letter stream with its provenance and acknowledged
 * in the group, inside the command that triggered it.
 *
 * Each move is logged as what it did: XADD <dlq> <concrete id> ..., XACK
 * for the source entry, and once per command XGROUP SETDLQ ... DEADLETTERED
 * <total> for the group's counter, so replay never consults the clock. */
#ifndef RUNNEL_TYPES_STREAM_DLQ_H
#define RUNNEL_TYPES_STREAM_DLQ_H

#include <stdbool.h>
#include <stdint.h>

#include "db/codec.h"
#include "db/object.h"
#include "protocol/command.h"
#include "protocol/outbuf.h"
#include "types/stream.h"
#include "util/digest.h"
#include "util/str.h"

struct stream_cgroup;
struct stream_nack;
struct stream_pel_log;

/* A group's dead-letter settings (NULL in the group: none). */
struct stream_dlq {
    str key;                 /* the dead-letter stream, in the same database */
    uint64_t max_deliveries; /* >= 1 */
    uint64_t dead_lettered;  /* entries moved so far */
};

enum stream_dlq_reason { STREAM_DLQ_MAXDELIVERIES, STREAM_DLQ_FATAL };

void stream_dlq_free(struct stream_dlq *d);
struct stream_dlq *stream_dlq_copy(const struct stream_dlq *d);
size_t stream_dlq_memory(const struct stream_dlq *d);

/* ---- configuration (XGROUP CREATE options, XGROUP SETDLQ) ---- */

/* What XGROUP CREATE's MAXDELIVERIES / DEADLETTER options gave. */
struct stream_dlq_options {
    long long max_deliveries; /* 0: not given */
    int key_arg;              /* argv index of the dead-letter key, 0: not given */
};

enum stream_dlq_parse { STREAM_DLQ_NOT_MINE, STREAM_DLQ_TAKEN, STREAM_DLQ_FAILED };

/* Reads a MAXDELIVERIES or DEADLETTER option at argv[*i] of XGROUP CREATE
 * and steps *i past it; FAILED after replying the error. */
enum stream_dlq_parse stream_dlq_parse_option(struct request *req, int *i, struct stream_dlq_options *o);
/* Checks the options given together (both or none, the key not the
 * group's own stream); replies the error and returns false. */
bool stream_dlq_options_check(struct request *req, const struct stream_dlq_options *o);
/* Applies options that were given to a new group. */
void stream_dlq_options_apply(struct request *req, struct stream_cgroup *g, const struct stream_dlq_options *o);

/* XGROUP SETDLQ key group <dlq-key MAXDELIVERIES n [DEADLETTERED count] | NONE> */
void stream_dlq_cmd_setdlq(struct request *req, struct stream_cgroup *g);

/* Key positions of XGROUP CREATE and XGROUP SETDLQ: the stream and the
 * dead-letter key (so that ACL rules and cluster slots cover both). */
int stream_dlq_create_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);
int stream_dlq_setdlq_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);

/* ---- dead-lettering ---- */

/* One command's dead-lettering from one group: where the source is and
 * where its XACKs go (the command's PEL log). */
struct stream_dlq_run {
    struct request *req;
    const struct arg *key;
    struct stream *s;
    struct stream_cgroup *g;
    struct stream_pel_log *log;
    uint64_t moved;
};

void stream_dlq_run_init(struct stream_dlq_run *r, struct request *req, const struct arg *key, struct stream *s,
                         struct stream_cgroup *g, struct stream_pel_log *log);
/* Whether delivering n once more would pass the group's limit. */
bool stream_dlq_due(const struct stream_cgroup *g, const struct stream_nack *n);
/* Moves pending entry n, whose stream entry is e, to the group's
 * dead-letter stream and out of the PEL. False, changing nothing, when it
 * cannot be (no dead-letter stream, its key holds another type, or it
 * cannot take the entry): the caller then goes on as without one. */
bool stream_dlq_move(struct stream_dlq_run *r, struct stream_nack *n, const struct stream_entry *e,
                     enum stream_dlq_reason why);
/* Logs the group's counter if anything moved; call once the command's
 * moves are done, inside its logged transaction. */
void stream_dlq_run_finish(struct stream_dlq_run *r);

/* ---- views and persistence ---- */

/* Fields XINFO GROUPS / STREAM FULL add for a group (0 without settings),
 * and their replies. */
int stream_dlq_info_fields(const struct stream_cgroup *g);
void stream_dlq_reply_info(struct outbuf *out, const struct stream_cgroup *g);

/* Emits XGROUP SETDLQ for a group with settings (AOF rewrite), after its
 * PEL is rebuilt so that rebuilding it moves nothing. */
void stream_dlq_rewrite(const struct stream_cgroup *g, const struct arg *key, object_emit_fn *emit, void *ctx);

/* Whether any group of s has settings (the snapshot then carries them). */
bool stream_dlq_any(const struct stream *s);
/* The snapshot section of every group's settings, and its loader. */
void stream_dlq_save(const struct stream *s, struct codec_out *out);
bool stream_dlq_load(struct codec_in *in, struct stream *s);

void stream_dlq_digest(struct digest_seq *seq, const struct stream_cgroup *g);

#endif
