/* stream_nack: XNACK (see stream_nack.h).
 *
 * XNACK key group <SILENT | FAIL | FATAL> IDS numids id ... [RETRYCOUNT n] [FORCE]
 *       [DELAY ms | DELAYAT unix-ms]
 *
 * The mode says what becomes of the delivery counter: SILENT takes back
 * the delivery (one less, not below 0), FAIL keeps it, FATAL sets it to the
 * largest count (LLONG_MAX) to mark a poison entry; RETRYCOUNT sets it
 * outright. FORCE makes an ID pending (released) even when it was not, if
 * the stream holds it, with count 0 (or RETRYCOUNT, or the FATAL count) —
 * the AOF rewrite uses that. The command is deterministic given the
 * dataset, so it is logged as it came; it marks the key ready, since a
 * blocked XREADGROUP ... CLAIM can now take what it released.
 *
 * DELAY / DELAYAT (a Runnel extension, stream_delay.h): the released
 * entries become scheduled pending entries, claimable only from that time;
 * DELAY is logged as DELAYAT with the absolute time.
 *
 * In a group with a dead-letter stream (stream_dlq.h), FATAL moves the
 * entries there instead of releasing them, and so do FAIL and SILENT for an
 * entry whose count, once released, would already be at the group's limit
 * (it could only come back past it) — never with FORCE or RETRYCOUNT, the
 * forms that restore a PEL exactly. Such a call logs what it did: the
 * XNACK of the entries it released, and the moves (stream_dlq.h). */
#include "types/stream_nack.h"

#include <limits.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/stream.h"
#include "types/stream_delay.h"
#include "types/stream_dlq.h"
#include "types/stream_group.h"
#include "types/stream_oplog.h"
#include "types/stream_pel.h"
#include "util/mem.h"

enum nack_mode { NACK_SILENT, NACK_FAIL, NACK_FATAL };

struct nack_args {
    enum nack_mode mode;
    struct stream_ids ids;
    long long retry_count; /* -1: not given */
    bool force;
    bool delay_given;
    int delay_arg;  /* argv index of DELAY or DELAYAT */
    long long due;  /* not claimable before (unix ms), 0: at once */
};

static bool parse_mode(struct request *req, enum nack_mode *mode)
{
    if (ARG_IS(req, 3, "SILENT")) *mode = NACK_SILENT;
    else if (ARG_IS(req, 3, "FAIL")) *mode = NACK_FAIL;
    else if (ARG_IS(req, 3, "FATAL")) *mode = NACK_FATAL;
    else return false;
    return true;
}

/* Parses everything after the group; replies the error on failure. */
static bool parse_nack(struct request *req, struct nack_args *a)
{
    *a = (struct nack_args){.retry_count = -1};
    if (!parse_mode(req, &a->mode)) {
        reply_syntax_error(req->out);
        return false;
    }
    int i = 4;
    while (i < req->argc) {
        bool more = i + 1 < req->argc;
        if (a->ids.first == 0 && ARG_IS(req, i, "IDS") && more) {
            if ((i = stream_parse_ids_block(req, i, &a->ids)) < 0) return false;
        } else if (ARG_IS(req, i, "RETRYCOUNT") && more) {
            if (!request_ll_range(req, i + 1, 0, LLONG_MAX, &a->retry_count,
                                  "ERR Invalid RETRYCOUNT option argument for XNACK"))
                return false;
            i += 2;
        } else if (ARG_IS(req, i, "FORCE")) {
            a->force = true;
            i++;
        } else if ((ARG_IS(req, i, "DELAY") || ARG_IS(req, i, "DELAYAT")) && more) {
            a->delay_arg = i;
            if (!stream_delay_parse(req, &i, "xnack", &a->delay_given, &a->due)) return false;
            i++;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return stream_ids_check(req, &a->ids);
}

/* The delivery counter after the release, from what it was. */
static uint64_t released_count(const struct nack_args *a, uint64_t count)
{
    if (a->retry_count >= 0) return (uint64_t)a->retry_count;
    if (a->mode == NACK_FATAL) return LLONG_MAX;
    if (a->mode == NACK_SILENT && count > 0) return count - 1;
    return count;
}

/* Whether pending entry n goes to the dead-letter stream instead. */
static bool dead_letters(const struct stream_cgroup *g, const struct stream_nack *n, const struct nack_args *a)
{
    if (!g->dlq || a->force || a->retry_count >= 0) return false;
    return a->mode == NACK_FATAL || released_count(a, n->delivery_count) >= g->dlq->max_deliveries;
}

/* Releases one ID, or moves it to the dead-letter stream (*moved); false
 * when it is not pending (and FORCE cannot make it). */
static bool release_one(struct stream *s, struct stream_cgroup *g, struct stream_id id, const struct nack_args *a,
                        struct stream_dlq_run *dead, bool *moved)
{
    struct stream_nack *n = stream_index_find(g->pel, id);
    struct stream_entry e;
    *moved = false;
    if (!n && (!a->force || !stream_lookup(s, id, &e))) return false;
    if (!n) {
        stream_pel_add(g, NULL, id, a->due, released_count(a, 0));
        return true;
    }
    if (dead_letters(g, n, a) && stream_lookup(s, id, &e) &&
        stream_dlq_move(dead, n, &e, a->mode == NACK_FATAL ? STREAM_DLQ_FATAL : STREAM_DLQ_MAXDELIVERIES)) {
        *moved = true;
        return true;
    }
    n->delivery_count = released_count(a, n->delivery_count);
    stream_pel_assign(g, n, NULL, a->due);
    return true;
}

/* XNACK key group <mode> IDS n id... [DELAYAT due]: the entries this call
 * released. */
static void log_released(struct request *req, const struct stream_id *ids, int n, long long due)
{
    struct arg *argv = mem_alloc(sizeof(struct arg) * (size_t)(8 + n));
    char(*bufs)[ID_BUF] = mem_alloc(ID_BUF * (size_t)(n ? n : 1));
    char num[24], at[24];
    int argc = 0;
    for (int i = 0; i < 4; i++) argv[argc++] = req->argv[i];
    argv[argc++] = arg_cstr("IDS");
    argv[argc++] = arg_ll(num, n);
    for (int i = 0; i < n; i++) argv[argc++] = arg_id(bufs[i], &ids[i]);
    if (due) {
        argv[argc++] = arg_cstr("DELAYAT");
        argv[argc++] = arg_ll(at, due);
    }
    oplog_propagate(req, argc, argv);
    mem_free(bufs);
    mem_free(argv);
}

/* The release in a group with a dead-letter stream; returns how many
 * entries were released or moved. A call that moved any logs its effect. */
static long long nack_with_dlq(struct request *req, struct stream *s, struct stream_cgroup *g,
                               const struct nack_args *a)
{
    struct arg *key = &req->argv[1];
    struct stream_id *kept = mem_alloc(sizeof(*kept) * (size_t)a->ids.count);
    int nkept = 0;
    long long done = 0;
    struct stream_pel_log log;
    stream_pel_log_init(&log, req, key, g, false);
    struct stream_dlq_run dead;
    stream_dlq_run_init(&dead, req, key, s, g, &log);
    oplog_multi_begin();
    for (int i = 0; i < a->ids.count; i++) {
        struct stream_id id = stream_ids_at(req, &a->ids, i);
        bool moved;
        if (!release_one(s, g, id, a, &dead, &moved)) continue;
        done++;
        if (!moved) kept[nkept++] = id;
    }
    if (dead.moved > 0 && nkept > 0 && oplog_enabled) log_released(req, kept, nkept, a->due);
    stream_dlq_run_finish(&dead);
    stream_pel_log_flush(&log);
    oplog_multi_end();
    mem_free(kept);
    return done;
}

static void cmd_xnack(struct request *req)
{
    struct nack_args a;
    if (!parse_nack(req, &a)) return;
    struct arg *key = &req->argv[1], *group = &req->argv[2];
    struct stream *s;
    if (!stream_find(req, key, true, &s)) return;
    struct stream_cgroup *g = stream_group_find(s, group->ptr, group->len);
    if (!g) {
        reply_errorf(req->out, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)key->len, key->ptr,
                     (int)group->len, group->ptr);
        return;
    }
    long long released = 0;
    if (g->dlq) {
        released = nack_with_dlq(req, s, g, &a);
    } else {
        bool moved;
        for (int i = 0; i < a.ids.count; i++)
            released += release_one(s, g, stream_ids_at(req, &a.ids, i), &a, NULL, &moved);
    }
    if (released > 0) {
        key_changed(req, key->ptr, key->len, NOTIFY_STREAM, NULL);
        req->dirty += released - 1;
        if (a.due) stream_delay_arm(req->db, key->ptr, key->len, s);
        /* unless a move to the dead-letter stream logged the call's effect */
        bool logged = req->flags & REQ_PROPAGATED;
        if (a.due && !logged && ARG_IS(req, a.delay_arg, "DELAY")) stream_delay_log_nack(req, a.delay_arg, a.due);
    }
    reply_int(req->out, released);
}

struct command stream_nack_commands[] = {
    {"xnack", cmd_xnack, -7, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast", "stream",
     "Releases pending messages back to the group's PEL without acknowledging them, making them available for "
     "re-delivery.",
     "8.8.0", "O(1) for each message ID processed."},
    {0},
};
