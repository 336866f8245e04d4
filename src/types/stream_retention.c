/* stream_retention: standing retention policies (see stream_retention.h). */
#include "types/stream_retention.h"

#include "db/codec.h"
#include "db/db.h"
#include "db/oplog.h"
#include "messaging/notify.h"
#include "protocol/reply.h"
#include "types/stream.h"
#include "types/stream_freeze.h"
#include "types/stream_oplog.h"
#include "util/digest.h"

/* Entries one visit may remove from one stream (at least its first block,
 * however large), so that one big backlog cannot take the cron's slice. */
#define RETENTION_ITEMS_PER_VISIT 1000

bool stream_retention_active(const struct stream *s)
{
    return s->retention_maxage != 0 || s->retention_maxlen != 0;
}

enum object_encoding stream_retention_encoding(const struct stream *s)
{
    return stream_retention_active(s) ? ENC_STREAM_RETAINED : ENC_STREAM;
}

bool stream_retention_configured(const struct stream *s)
{
    return stream_retention_active(s) || s->retention_refs != STREAM_REF_KEEP;
}

void stream_retention_copy(struct stream *to, const struct stream *from)
{
    to->retention_maxage = from->retention_maxage;
    to->retention_maxlen = from->retention_maxlen;
    to->retention_refs = from->retention_refs;
}

/* ---- XCFGSET ---- */

int stream_retention_parse(struct request *req, int i, struct stream_retention_args *a)
{
    if (ARG_IS(req, i, "RETENTION-REFS")) {
        enum stream_ref_policy p;
        if (!stream_ref_policy_parse(&req->argv[i + 1], &p)) {
            reply_error(req->out, "ERR RETENTION-REFS must be KEEPREF, DELREF or ACKED");
            return -1;
        }
        a->refs = (int)p;
        return 1;
    }
    bool age = ARG_IS(req, i, "RETENTION-MAXAGE");
    if (!age && !ARG_IS(req, i, "RETENTION-MAXLEN")) return 0;
    long long v;
    if (!request_ll(req, i + 1, &v)) return -1;
    if (v < 0) {
        reply_error(req->out, age ? "ERR RETENTION-MAXAGE must be >= 0 (milliseconds, 0 for none)"
                                  : "ERR RETENTION-MAXLEN must be >= 0 (entries, 0 for none)");
        return -1;
    }
    if (age) a->maxage = v;
    else a->maxlen = v;
    return 1;
}

static void emit_policy(const struct stream *s, const struct arg *key, object_emit_fn *emit, void *ctx)
{
    char age[24], len[24];
    struct arg argv[8] = {arg_cstr("XCFGSET"),
                          *key,
                          arg_cstr("RETENTION-MAXAGE"),
                          arg_ull(age, s->retention_maxage),
                          arg_cstr("RETENTION-MAXLEN"),
                          arg_ull(len, s->retention_maxlen),
                          arg_cstr("RETENTION-REFS"),
                          stream_ref_policy_arg(s->retention_refs)};
    emit(ctx, 8, argv);
}

void stream_retention_set(struct request *req, struct stream *s, const struct stream_retention_args *a)
{
    const struct arg *key = &req->argv[1];
    if (a->maxage != -1) s->retention_maxage = (uint64_t)a->maxage;
    if (a->maxlen != -1) s->retention_maxlen = (uint64_t)a->maxlen;
    if (a->refs != -1) s->retention_refs = (uint8_t)a->refs;
    struct dict_entry *e = db_entry(req->db, key->ptr, key->len);
    struct object *o = e->v.ptr;
    o->encoding = (uint8_t)stream_retention_encoding(s);
    /* a cleared policy leaves the list at the cycle's next visit */
    if (stream_retention_active(s)) db_hexpires_add(req->db, key->ptr, key->len);
    emit_policy(s, key, stream_oplog_sink, req);
}

void stream_retention_rewrite(const struct stream *s, const struct arg *key, object_emit_fn *emit, void *ctx)
{
    if (stream_retention_configured(s)) emit_policy(s, key, emit, ctx);
}

/* ---- XINFO, snapshots, digests ---- */

int stream_retention_info_fields(const struct stream *s)
{
    return stream_retention_configured(s) ? 3 : 0;
}

void stream_retention_reply_info(struct outbuf *out, const struct stream *s)
{
    if (!stream_retention_configured(s)) return;
    reply_bulk_cstr(out, "retention-maxage");
    reply_int(out, (long long)s->retention_maxage);
    reply_bulk_cstr(out, "retention-maxlen");
    reply_int(out, (long long)s->retention_maxlen);
    reply_bulk_cstr(out, "retention-refs");
    struct arg refs = stream_ref_policy_arg(s->retention_refs);
    reply_bulk(out, refs.ptr, refs.len);
}

void stream_retention_save(const struct stream *s, struct codec_out *out)
{
    codec_put_varint(out, s->retention_maxage);
    codec_put_varint(out, s->retention_maxlen);
    codec_put_varint(out, s->retention_refs);
}

bool stream_retention_load(struct codec_in *in, struct stream *s)
{
    uint64_t refs;
    if (!codec_get_varint(in, &s->retention_maxage) || !codec_get_varint(in, &s->retention_maxlen) ||
        !codec_get_varint(in, &refs))
        return false;
    if (s->retention_maxage > INT64_MAX || s->retention_maxlen > INT64_MAX || refs > STREAM_REF_ACKED)
        return codec_fail(in, "corrupt stream: retention policy out of range");
    s->retention_refs = (uint8_t)refs;
    return true;
}

/* Streams without a policy feed nothing, so their digests stay as before. */
void stream_retention_digest(const struct stream *s, struct digest_seq *seq)
{
    if (!stream_retention_configured(s)) return;
    digest_seq_u64(seq, s->retention_maxage);
    digest_seq_u64(seq, s->retention_maxlen);
    digest_seq_u64(seq, s->retention_refs);
}

/* ---- the background pass ---- */

/* The oldest entry time the MAXAGE policy keeps. */
static uint64_t age_cutoff(const struct stream *s)
{
    long long cutoff = db_now_ms - (long long)s->retention_maxage;
    return cutoff > 0 ? (uint64_t)cutoff : 0;
}

/* Whether the policy lets the first block go: the cheap test every XADD
 * makes, before any trimming is set up. */
static bool first_block_due(struct stream *s, struct stream_index_iter *it)
{
    const struct stream_block *b = stream_index_value(it);
    if (s->retention_maxlen && s->length - stream_block_live(b) >= s->retention_maxlen) return true;
    if (!s->retention_maxage) return false;
    uint64_t cutoff = age_cutoff(s);
    if (stream_index_key(it).ms >= cutoff) return false;
    return stream_block_last_id(stream_freeze_open(s, it)).ms < cutoff;
}

/* Removes whole blocks the policy no longer wants, at most about `max`
 * entries (always the first block if it may go). */
static long long retention_trim(struct stream *s, size_t max)
{
    struct stream_index_iter it;
    if (!stream_index_first(s->blocks, &it)) return 0;
    if (!first_block_due(s, &it)) return 0;
    long long first = stream_block_live(stream_index_value(&it));
    struct stream_trim t = {.approx = true, .policy = s->retention_refs};
    t.limit = first > (long long)max ? first : (long long)max;
    long long removed = 0;
    if (s->retention_maxage) {
        t.strategy = STREAM_TRIM_MINID;
        t.minid = (struct stream_id){age_cutoff(s), 0};
        removed += stream_trim(s, &t);
    }
    if (s->retention_maxlen && removed < t.limit) {
        t.strategy = STREAM_TRIM_MAXLEN;
        t.maxlen = (long long)s->retention_maxlen;
        t.limit -= removed;
        if (t.limit < first) t.limit = first;
        removed += stream_trim(s, &t);
    }
    return removed;
}

long long stream_retention_enforce(struct db *db, const char *key, size_t len, struct stream *s)
{
    /* a file loading or a replica applying its primary: the logged XTRIMs
     * decide, whatever this server's clock or block sizes */
    if (db_loading || db_expiry_ignored) return 0;
    long long removed = retention_trim(s, RETENTION_ITEMS_PER_VISIT);
    if (removed == 0) return 0;
    if (oplog_enabled) {
        struct stream_trim effect = {.strategy = STREAM_TRIM_MINID, .approx = true, .policy = s->retention_refs};
        char buf[ID_BUF];
        struct arg argv[6] = {arg_cstr("XTRIM"), {(char *)key, len}};
        oplog_append(db->id, 2 + stream_trim_effect_args(s, &effect, argv + 2, buf), argv);
    }
    db_touch_key(db, key, len);
    notify_keyspace_event(db->id, key, len, NOTIFY_STREAM, "xtrim");
    return removed;
}

/* The cycle's visit to a listed stream. A stream whose policy was cleared
 * is re-tagged, which takes it off the list. */
static size_t retention_visit(struct db *db, const char *key, size_t len, struct object *o, size_t max)
{
    (void)max; /* the stream's own bound applies: at least a whole block */
    if (o->type != OBJ_STREAM) return 0;
    struct stream *s = o->v.ptr;
    if (!stream_retention_active(s)) {
        o->encoding = ENC_STREAM;
        return 0;
    }
    return (size_t)stream_retention_enforce(db, key, len, s);
}

void stream_retention_init(void)
{
    db_hooks.items_expire[OBJ_STREAM] = retention_visit;
}
