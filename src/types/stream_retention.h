/* stream_retention: a stream's standing retention policy — XCFGSET key
 * [RETENTION-MAXAGE ms] [RETENTION-MAXLEN n] [RETENTION-REFS KEEPREF |
 * DELREF | ACKED] — applied by the server in the background, a few whole
 * blocks per visit, so that a stream nobody writes to still shrinks. The
 * reference policy is that of its trims (stream_refs.h): under ACKED the
 * policy never removes what a group still has to read or acknowledge.
 *
 * A stream with a policy is held under the object encoding
 * ENC_STREAM_RETAINED (OBJECT ENCODING still says "stream"), which puts its
 * key in the database's list of keys with items that leave by themselves
 * (db->hexpires, shared with hashes' expiring fields): RENAME, MOVE, COPY,
 * SWAPDB, RESTORE and loading keep that list right without knowing about
 * streams, and the cron's field-expiry cycle visits only listed keys. An
 * XADD that starts a new block applies the policy too, so a stream written
 * faster than the cron visits stays bounded (within a block or two). Each
 * trim is logged as an exact XTRIM ... MINID (MAXLEN 0 when nothing is
 * left), so replicas and the AOF see the same entries go. */
#ifndef RUNNEL_TYPES_STREAM_RETENTION_H
#define RUNNEL_TYPES_STREAM_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "db/object.h"
#include "protocol/request.h"

struct db;
struct stream;
struct outbuf;
struct codec_out;
struct codec_in;
struct digest_seq;

/* XCFGSET's retention arguments as read (-1: not given; 0 clears an age
 * or length; refs is an enum stream_ref_policy). */
struct stream_retention_args {
    long long maxage;
    long long maxlen;
    int refs;
};

/* Installs the background pass (db_hooks.items_expire for streams). */
void stream_retention_init(void);

/* Whether s has a policy (an age or a length to keep). */
bool stream_retention_active(const struct stream *s);
/* Whether anything of it is set (a RETENTION-REFS alone counts): what
 * XINFO, snapshots, digests and rewrites carry. */
bool stream_retention_configured(const struct stream *s);
/* The object encoding a stream value takes: ENC_STREAM_RETAINED with a
 * policy, ENC_STREAM otherwise. */
enum object_encoding stream_retention_encoding(const struct stream *s);
void stream_retention_copy(struct stream *to, const struct stream *from);

/* Reads XCFGSET's pair at argv[i] (name, value) when it is a retention
 * setting: 1 read, 0 not a retention setting, -1 after replying the error. */
int stream_retention_parse(struct request *req, int i, struct stream_retention_args *a);
/* Sets the policy of the stream under argv[1] (values not given stay),
 * re-tags its object and lists its key for the background pass, and logs
 * XCFGSET key RETENTION-MAXAGE a RETENTION-MAXLEN b RETENTION-REFS r with
 * all three. */
void stream_retention_set(struct request *req, struct stream *s, const struct stream_retention_args *a);

/* Applies s's policy now (s is the stream under key, with a policy): removes
 * the whole blocks it no longer wants, a bounded number of entries at a
 * time, then logs the exact effect (XTRIM key MINID = <first entry left>,
 * or MAXLEN = 0), touches watchers and reports "xtrim". Run by the cron's
 * visits and after each XADD that started a new block; does nothing while a
 * file loads or a replica applies its primary. Returns the number of
 * entries removed. */
long long stream_retention_enforce(struct db *db, const char *key, size_t len, struct stream *s);

/* XINFO STREAM: how many map fields (0 when nothing is configured), then
 * them. */
int stream_retention_info_fields(const struct stream *s);
void stream_retention_reply_info(struct outbuf *out, const struct stream *s);

/* Snapshots: the policy's values (written after the rest of the stream
 * when it is configured; stream_save.c flags that in its tag). */
void stream_retention_save(const struct stream *s, struct codec_out *out);
bool stream_retention_load(struct codec_in *in, struct stream *s);
void stream_retention_digest(const struct stream *s, struct digest_seq *seq);
/* AOF rewrite: the XCFGSET that restores the policy (nothing without one). */
void stream_retention_rewrite(const struct stream *s, const struct arg *key, object_emit_fn *emit, void *ctx);

#endif
