/* stream_dlq: dead-letter streams (see stream_dlq.h).
 *
 * A dead-lettered entry becomes a new entry of the dead-letter stream with
 * an ID from the clock, whose fields are the provenance, then the entry's
 * own fields:
 *
 *   dlq-stream     the source stream's key
 *   dlq-id         the entry's ID there
 *   dlq-group      the group
 *   dlq-consumer   the consumer it was last delivered to ("" once released
 *                  by XNACK and no longer owned)
 *   dlq-deliveries its delivery count
 *   dlq-reason     "maxdeliveries" (the limit) or "fatal" (XNACK FATAL)
 *
 * The dead-letter key must not be the stream's own; it is created as a
 * stream when missing. When it holds another type, or is the source stream
 * itself (after a RENAME), nothing is moved and the entry is delivered as
 * without a dead-letter stream. */
#include "types/stream_dlq.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/oplog.h"
#include "messaging/blocking.h"
#include "types/keyspace_events.h"
#include "types/stream_group.h"
#include "types/stream_oplog.h"
#include "types/stream_pel.h"
#include "util/mem.h"

#define DLQ_META_PAIRS 6
#define MIN_DLQ_SAVED_BYTES 4

static const char *const reason_names[] = {"maxdeliveries", "fatal"};

void stream_dlq_free(struct stream_dlq *d)
{
    if (!d) return;
    str_free(d->key);
    mem_free(d);
}

static struct stream_dlq *dlq_new(const char *key, size_t len, uint64_t max, uint64_t moved)
{
    struct stream_dlq *d = mem_alloc(sizeof(*d));
    *d = (struct stream_dlq){str_new(key, len), max, moved};
    return d;
}

struct stream_dlq *stream_dlq_copy(const struct stream_dlq *d)
{
    return d ? dlq_new(d->key, str_len(d->key), d->max_deliveries, d->dead_lettered) : NULL;
}

size_t stream_dlq_memory(const struct stream_dlq *d)
{
    return d ? sizeof(*d) + str_alloc_size(d->key) : 0;
}

/* ---- configuration ---- */

static bool same_arg(const struct arg *a, const struct arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

static bool parse_max(struct request *req, int i, long long *max)
{
    return request_ll_range(req, i, 1, LLONG_MAX, max, "ERR MAXDELIVERIES must be a positive integer");
}

enum stream_dlq_parse stream_dlq_parse_option(struct request *req, int *i, struct stream_dlq_options *o)
{
    if (*i + 1 >= req->argc) return STREAM_DLQ_NOT_MINE;
    if (ARG_IS(req, *i, "MAXDELIVERIES")) {
        if (!parse_max(req, *i + 1, &o->max_deliveries)) return STREAM_DLQ_FAILED;
    } else if (ARG_IS(req, *i, "DEADLETTER")) {
        /* once: the key positions ACL and cluster checks see are the first
         * DEADLETTER's, so a second one would name an unchecked key */
        if (o->key_arg) {
            reply_error(req->out, "ERR DEADLETTER may be given only once");
            return STREAM_DLQ_FAILED;
        }
        o->key_arg = *i + 1;
    } else {
        return STREAM_DLQ_NOT_MINE;
    }
    *i += 2;
    return STREAM_DLQ_TAKEN;
}

bool stream_dlq_options_check(struct request *req, const struct stream_dlq_options *o)
{
    if ((o->max_deliveries > 0) != (o->key_arg > 0)) {
        reply_error(req->out, "ERR MAXDELIVERIES and DEADLETTER must be given together");
        return false;
    }
    if (o->key_arg && same_arg(&req->argv[o->key_arg], &req->argv[2])) {
        reply_error(req->out, "ERR the dead-letter stream must be another key");
        return false;
    }
    return true;
}

void stream_dlq_options_apply(struct request *req, struct stream_cgroup *g, const struct stream_dlq_options *o)
{
    if (!o->key_arg) return;
    const struct arg *k = &req->argv[o->key_arg];
    g->dlq = dlq_new(k->ptr, k->len, (uint64_t)o->max_deliveries, 0);
}

/* XGROUP SETDLQ key group <dlq-key MAXDELIVERIES n [DEADLETTERED count] | NONE>
 * (DEADLETTERED sets the counter: the AOF and replicas restore it so). */
void stream_dlq_cmd_setdlq(struct request *req, struct stream_cgroup *g)
{
    struct arg *key = &req->argv[2];
    if (req->argc == 5 && ARG_IS(req, 4, "NONE")) {
        stream_dlq_free(g->dlq);
        g->dlq = NULL;
        reply_ok(req->out);
        key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xgroup-setdlq");
        return;
    }
    long long max = 0, moved = -1;
    for (int i = 5; i < req->argc; i += 2) {
        if (i + 1 >= req->argc) {
            reply_syntax_error(req->out);
            return;
        }
        if (ARG_IS(req, i, "MAXDELIVERIES")) {
            if (!parse_max(req, i + 1, &max)) return;
        } else if (ARG_IS(req, i, "DEADLETTERED")) {
            if (!request_ll_range(req, i + 1, 0, LLONG_MAX, &moved, "ERR DEADLETTERED must be zero or positive"))
                return;
        } else {
            reply_syntax_error(req->out);
            return;
        }
    }
    if (max == 0) {
        reply_error(req->out, "ERR XGROUP SETDLQ needs MAXDELIVERIES (or NONE)");
        return;
    }
    struct arg *dlq = &req->argv[4];
    /* an AOF rewrite states a group renamed onto its own dead-letter key as
     * it is: the file loads it back */
    if (same_arg(dlq, key) && !db_loading) {
        reply_error(req->out, "ERR the dead-letter stream must be another key");
        return;
    }
    uint64_t count = moved >= 0 ? (uint64_t)moved : g->dlq ? g->dlq->dead_lettered : 0;
    stream_dlq_free(g->dlq);
    g->dlq = dlq_new(dlq->ptr, dlq->len, (uint64_t)max, count);
    reply_ok(req->out);
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xgroup-setdlq");
}

static int keys_with(int dlq_pos, int argc, int *positions, int max)
{
    int n = 0;
    if (argc > 2 && n < max) positions[n++] = 2;
    if (dlq_pos > 0 && dlq_pos < argc && n < max) positions[n++] = dlq_pos;
    return n;
}

int stream_dlq_create_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    int dlq = 0;
    for (int i = 5; i + 1 < argc; i++) {
        if (argv[i].len == 10 && strncasecmp(argv[i].ptr, "DEADLETTER", 10) == 0) {
            dlq = i + 1;
            break;
        }
    }
    return keys_with(dlq, argc, positions, max);
}

int stream_dlq_setdlq_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    bool none = argc == 5 && argv[4].len == 4 && strncasecmp(argv[4].ptr, "NONE", 4) == 0;
    return keys_with(none ? 0 : 4, argc, positions, max);
}

/* ---- dead-lettering ---- */

void stream_dlq_run_init(struct stream_dlq_run *r, struct request *req, const struct arg *key, struct stream *s,
                         struct stream_cgroup *g, struct stream_pel_log *log)
{
    *r = (struct stream_dlq_run){req, key, s, g, log, 0};
}

bool stream_dlq_due(const struct stream_cgroup *g, const struct stream_nack *n)
{
    return g->dlq && n->delivery_count >= g->dlq->max_deliveries;
}

/* The dead-letter stream, created when missing (*created); NULL when its key
 * holds another type or the source stream itself. */
static struct stream *dlq_stream(struct stream_dlq_run *r, bool *created)
{
    const str key = r->g->dlq->key;
    struct object *o = db_find(r->req->db, key, str_len(key));
    *created = false;
    if (!o) {
        *created = true;
        return stream_new();
    }
    if (o->type != OBJ_STREAM || o->v.ptr == r->s) return NULL;
    return o->v.ptr;
}

/* The XADD that adds the dead-letter entry (argv[2] is its ID, set once
 * known): provenance pairs, then the entry's own. `bufs` holds the
 * numbers' text. argv must have room for 3 + 2 * (6 + fields). */
static int dead_letter_args(struct stream_dlq_run *r, const struct stream_nack *n, const struct stream_entry *e,
                            enum stream_dlq_reason why, struct arg *argv, char (*bufs)[ID_BUF])
{
    const struct stream_consumer *owner = n->consumer;
    int c = 0;
    argv[c++] = arg_cstr("XADD");
    argv[c++] = arg_str(r->g->dlq->key);
    argv[c++] = arg_cstr("*");
    argv[c++] = arg_cstr("dlq-stream");
    argv[c++] = *r->key;
    argv[c++] = arg_cstr("dlq-id");
    argv[c++] = arg_id(bufs[0], &e->id);
    argv[c++] = arg_cstr("dlq-group");
    argv[c++] = arg_str(r->g->name);
    argv[c++] = arg_cstr("dlq-consumer");
    argv[c++] = owner ? arg_str(owner->name) : arg_cstr("");
    argv[c++] = arg_cstr("dlq-deliveries");
    argv[c++] = arg_ull(bufs[1], n->delivery_count);
    argv[c++] = arg_cstr("dlq-reason");
    argv[c++] = arg_cstr(reason_names[why]);
    struct stream_field_cursor cur;
    const char *f, *v;
    size_t fl, vl;
    stream_entry_fields(e, &cur);
    while (stream_field_next(&cur, &f, &fl, &v, &vl)) {
        argv[c++] = (struct arg){(char *)f, fl};
        argv[c++] = (struct arg){(char *)v, vl};
    }
    return c;
}

bool stream_dlq_move(struct stream_dlq_run *r, struct stream_nack *n, const struct stream_entry *e,
                     enum stream_dlq_reason why)
{
    if (!r->g->dlq) return false;
    bool created;
    struct stream *dlq = dlq_stream(r, &created);
    if (!dlq) return false;
    struct arg small[3 + 2 * (DLQ_META_PAIRS + 16)];
    size_t most = 3 + 2 * ((size_t)DLQ_META_PAIRS + e->field_count);
    struct arg *argv = most <= sizeof(small) / sizeof(*small) ? small : mem_alloc(sizeof(struct arg) * most);
    char bufs[3][ID_BUF];
    int argc = dead_letter_args(r, n, e, why, argv, bufs);
    struct stream_id id;
    bool added = stream_append(dlq, argv + 3, (size_t)(argc - 3) / 2, NULL, false, &id) == STREAM_ADD_OK;
    if (added) {
        const str key = r->g->dlq->key;
        struct db *db = r->req->db;
        if (created) db_add(db, key, str_len(key), object_new(OBJ_STREAM, ENC_STREAM, dlq));
        argv[2] = arg_id(bufs[2], &id);
        if (oplog_enabled) oplog_propagate(r->req, argc, argv);
        key_changed(r->req, key, str_len(key), NOTIFY_STREAM, "xadd");
        blocking_key_ready(db, key, str_len(key));
        key_changed(r->req, r->key->ptr, r->key->len, NOTIFY_STREAM, "xdeadletter");
        stream_pel_log_dropped(r->log, n->id);
        stream_pel_remove(r->g, n);
        r->g->dlq->dead_lettered++;
        r->moved++;
    } else if (created) {
        stream_free(dlq);
    }
    if (argv != small) mem_free(argv);
    return added;
}

/* XGROUP SETDLQ key group dlq-key MAXDELIVERIES n DEADLETTERED count */
static void emit_settings(object_emit_fn *emit, void *ctx, const struct arg *key, const struct stream_cgroup *g)
{
    char max[24], moved[24];
    struct arg argv[9] = {arg_cstr("XGROUP"),        arg_cstr("SETDLQ"),
                          *key,                      arg_str(g->name),
                          arg_str(g->dlq->key),      arg_cstr("MAXDELIVERIES"),
                          arg_ull(max, g->dlq->max_deliveries), arg_cstr("DEADLETTERED"),
                          arg_ull(moved, g->dlq->dead_lettered)};
    emit(ctx, 9, argv);
}

void stream_dlq_run_finish(struct stream_dlq_run *r)
{
    if (r->moved == 0 || !oplog_enabled || !r->g->dlq) return;
    emit_settings(stream_oplog_sink, r->req, r->key, r->g);
    r->moved = 0;
}

/* ---- views and persistence ---- */

int stream_dlq_info_fields(const struct stream_cgroup *g)
{
    return g->dlq ? 3 : 0;
}

void stream_dlq_reply_info(struct outbuf *out, const struct stream_cgroup *g)
{
    if (!g->dlq) return;
    reply_bulk_cstr(out, "max-deliveries");
    reply_int(out, (long long)g->dlq->max_deliveries);
    reply_bulk_cstr(out, "dead-letter-key");
    reply_bulk(out, g->dlq->key, str_len(g->dlq->key));
    reply_bulk_cstr(out, "dead-lettered");
    reply_int(out, (long long)g->dlq->dead_lettered);
}

void stream_dlq_rewrite(const struct stream_cgroup *g, const struct arg *key, object_emit_fn *emit, void *ctx)
{
    if (g->dlq) emit_settings(emit, ctx, key, g);
}

bool stream_dlq_any(const struct stream *s)
{
    for (size_t i = 0; s->groups && i < s->groups->count; i++)
        if (s->groups->items[i]->dlq) return true;
    return false;
}

/* varint groups with settings, then per group (in name order): bytes group
 * name, bytes dead-letter key, varint max-deliveries, varint dead-lettered */
void stream_dlq_save(const struct stream *s, struct codec_out *out)
{
    size_t n = 0, groups = stream_group_count(s);
    for (size_t i = 0; i < groups; i++) n += s->groups->items[i]->dlq != NULL;
    codec_put_varint(out, n);
    for (size_t i = 0; i < groups; i++) {
        const struct stream_cgroup *g = s->groups->items[i];
        if (!g->dlq) continue;
        codec_put_bytes(out, g->name, str_len(g->name));
        codec_put_bytes(out, g->dlq->key, str_len(g->dlq->key));
        codec_put_varint(out, g->dlq->max_deliveries);
        codec_put_varint(out, g->dlq->dead_lettered);
    }
}

bool stream_dlq_load(struct codec_in *in, struct stream *s)
{
    uint64_t n;
    if (!codec_get_count(in, MIN_DLQ_SAVED_BYTES, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        const char *name, *key;
        size_t nlen, klen;
        uint64_t max, moved;
        if (!codec_get_bytes(in, &name, &nlen) || !codec_get_bytes(in, &key, &klen) || !codec_get_varint(in, &max) ||
            !codec_get_varint(in, &moved))
            return false;
        struct stream_cgroup *g = stream_group_find(s, name, nlen);
        if (!g || g->dlq) return codec_fail(in, "corrupt stream: dead-letter settings for a missing or repeated group");
        if (max == 0 || max > LLONG_MAX || moved > LLONG_MAX || klen > UINT32_MAX)
            return codec_fail(in, "corrupt stream: dead-letter settings out of range");
        g->dlq = dlq_new(key, klen, max, moved);
    }
    return true;
}

void stream_dlq_digest(struct digest_seq *seq, const struct stream_cgroup *g)
{
    if (!g->dlq) return;
    digest_seq_bytes(seq, g->dlq->key, str_len(g->dlq->key));
    digest_seq_u64(seq, g->dlq->max_deliveries);
    digest_seq_u64(seq, g->dlq->dead_lettered);
}
