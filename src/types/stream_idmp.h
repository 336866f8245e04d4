/* stream_idmp: idempotent production on streams (Redis 8.6) — the table of
 * producer-id/idempotent-id pairs XADD ... IDMP / IDMPAUTO consults, its
 * configuration (XCFGSET, stream-idmp-duration, stream-idmp-maxsize), its
 * counters (XINFO STREAM), and the commands XCFGSET and XIDMPRECORD.
 *
 * A stream without IDMP state has s->idmp NULL; the state is created by
 * the first IDMP write or XCFGSET and lives as long as the stream. */
#ifndef RUNNEL_TYPES_STREAM_IDMP_H
#define RUNNEL_TYPES_STREAM_IDMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/codec.h"
#include "db/keyed_hash.h"
#include "db/object.h"
#include "protocol/command.h"
#include "types/stream.h"
#include "util/digest.h"

/* stream-idmp-duration (seconds, 1..86400) and stream-idmp-maxsize
 * (1..10000): what a stream's IDMP state starts with. */
extern int stream_idmp_default_duration;
extern int stream_idmp_default_maxsize;

#define STREAM_IDMP_DURATION_MAX 86400
#define STREAM_IDMP_MAXSIZE_MAX 10000
/* The bytes of an IDMPAUTO idempotent ID (a hash of the entry's pairs). */
#define STREAM_IDMP_AUTO_LEN 16

extern struct command stream_idmp_commands[];

struct stream_idmp;
struct idmp_producer;
struct idmp_record;

/* Frees, copies and sizes a stream's state (NULL is fine everywhere). */
void stream_idmp_free(struct stream_idmp *t);
struct stream_idmp *stream_idmp_copy(const struct stream_idmp *t);
size_t stream_idmp_memory(const struct stream_idmp *t);

/* A producer-id/idempotent-id pair, with the idempotent ID's hash
 * (keyed_hash: computed once for the lookup and the record), and what
 * stream_idmp_lookup found (its producer and record, NULL when none), so
 * that stream_idmp_record right after it searches nothing again. Nothing
 * may change the stream's IDMP state between the two calls. */
struct stream_idmp_pair {
    struct arg pid, iid;
    uint64_t hash;
    const struct stream_idmp *looked_in; /* the state lookup searched, or NULL */
    struct idmp_producer *producer;
    struct idmp_record *record;
};
static inline void stream_idmp_pair_init(struct stream_idmp_pair *pair, const struct arg *pid, const struct arg *iid)
{
    *pair = (struct stream_idmp_pair){.pid = *pid, .iid = *iid, .hash = keyed_hash(iid->ptr, iid->len)};
}

/* XADD's side, in order: look the pair up (true and *id: a duplicate,
 * counted), and after appending the entry, record it. `now` is the clock
 * in ms. stream_idmp_record returns true when it created the stream's
 * state (the caller then logs the configuration first). */
bool stream_idmp_lookup(struct stream *s, struct stream_idmp_pair *pair, long long now, struct stream_id *id);
bool stream_idmp_record(struct stream *s, const struct stream_idmp_pair *pair, struct stream_id id, long long time);
/* Logs what stream_idmp_record did for the running XADD (after the XADD
 * itself): XCFGSET when the state was created, then XIDMPRECORD ... TIME. */
void stream_idmp_propagate(struct request *req, const struct stream *s, bool created, const struct arg *pid,
                           const struct arg *iid, struct stream_id id, long long time);
/* The IDMPAUTO idempotent ID of npairs field/value pairs: the same for
 * the same pairs in any order. */
void stream_idmp_auto_iid(const struct arg *pairs, size_t npairs, unsigned char out[STREAM_IDMP_AUTO_LEN]);

/* The effective configuration and the lifetime counters (defaults and 0
 * for a stream without state). */
void stream_idmp_config(const struct stream *s, long long *duration, long long *maxsize);
uint64_t stream_idmp_added(const struct stream *s);
uint64_t stream_idmp_duplicates(const struct stream *s);
/* Sets the lifetime counters (XSETID's IDMPADDED / IDMPDUPLICATES);
 * negative: unchanged. Creates the state. */
void stream_idmp_set_counters(struct stream *s, long long added, long long duplicates);

/* The six XINFO STREAM fields, idmp-duration to iids-duplicates. */
#define STREAM_IDMP_INFO_FIELDS 6
void stream_idmp_reply_info(struct outbuf *out, struct stream *s);

/* Snapshot section (see stream_save.c): written after the groups. */
void stream_idmp_save(const struct stream *s, struct codec_out *out);
bool stream_idmp_load(struct codec_in *in, struct stream *s);
/* DEBUG DIGEST: the configuration, the counters and the live pairs. */
void stream_idmp_digest(const struct stream *s, struct digest_seq *seq);
/* AOF rewrite: XCFGSET, then XIDMPRECORD ... TIME for every live pair. */
void stream_idmp_rewrite(const struct stream *s, const struct arg *key, object_emit_fn *emit, void *ctx);

#endif
