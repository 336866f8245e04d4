/* slot_export: atomic slot migration, the source's side.
 *
 * CLUSTER MIGRATESLOTS starts one job per target. A job connects to the
 * target and announces itself (CLUSTER SYNCSLOTS ESTABLISH); the target
 * then applies what this link sends without answering and without routing
 * checks. The job lists the keys of its slots and ships them a batch per
 * tick as RESTORE ... REPLACE ABSTTL, while every write logged for those
 * slots meanwhile goes down the same link in order: as the command itself
 * when all its keys were shipped already, else as the current state of its
 * keys (a command such as LMOVE between an unshipped and a shipped key
 * could not be replayed on the target). Once everything is shipped and
 * sent, writes to the slots wait (-TRYAGAIN); an ACK marker comes back
 * once the target has applied everything before it; the new owner is then
 * written to etcd in one transaction built on a view that still has this
 * node as the slots' owner and its shard's primary. The keys leave this
 * node afterwards, a batch per tick. A failure before the commit leaves
 * the slots here with nothing lost, and the target drops what it got. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster_state.h"
#include "db/db.h"
#include "db/dict.h"
#include "db/dump_payload.h"
#include "db/oplog.h"
#include "protocol/encode.h"
#include "protocol/reply.h"
#include "server/command_table.h"
#include "net/conn.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

#define EXPORT_TICK_MS 1
#define EXPORT_BATCH_KEYS 256
#define EXPORT_OUT_HIGH (1 << 20)         /* stop shipping keys while this much waits to be sent */
#define EXPORT_OUT_LIMIT (256LL << 20)    /* the target is not keeping up: give up */
#define EXPORT_CONNECT_TIMEOUT_MS 2000
#define EXPORT_ACCEPT_TIMEOUT_MS 5000 /* from the connection to the target's +OK */
#define EXPORT_ACK_TIMEOUT_MS 10000
#define EXPORT_COMMIT_RETRY_MS 1000
#define EXPORT_MAX_KEYS_PER_CMD 64

static const struct dict_type unsent_type = {.nocase = false, .owns_keys = true, .val_free = NULL};

struct export {
    struct slot_job *job;
    struct net_conn *conn; /* to the target; NULL once closed */
    str out;
    size_t out_sent;
    char in[512];
    size_t in_len;
    str *queue; /* key names to ship, in order */
    size_t queue_len, queue_pos;
    struct dict *unsent;
    long long ack_seq, handoff_ms, started_ms;
    long long commit_retry_ms; /* when to send the commit again after etcd did not answer; 0: none due */
    bool paused, watching_write;
    bool dead; /* failed or done: freed by its next tick, touched by nothing else */
    struct event_timer *timer;
};

static struct db *db0(void)
{
    return &server.dbs[0];
}

/* ---- the link ---- */

static void export_fail(struct export *x, enum slot_job_state state, const char *why);
static void on_link_writable(struct net_conn *c);

static void link_watch_write(struct export *x, bool on)
{
    if (on == x->watching_write) return;
    net_conn_set_write_handler(x->conn, on ? on_link_writable : NULL);
    x->watching_write = on;
}

static size_t link_pending(const struct export *x)
{
    return str_len(x->out) - x->out_sent;
}

static void link_flush(struct export *x)
{
    while (!x->dead && link_pending(x) > 0) {
        ssize_t n = net_conn_write(x->conn, x->out + x->out_sent, link_pending(x));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        if (n <= 0) {
            export_fail(x, SLOT_JOB_FAILED, "the link to the target broke");
            return;
        }
        x->out_sent += (size_t)n;
    }
    if (x->dead) return;
    if (link_pending(x) == 0) {
        str_set_len(x->out, 0);
        x->out_sent = 0;
    }
    link_watch_write(x, link_pending(x) > 0);
}

static void link_send(struct export *x, int argc, const char *const *argv, const size_t *lens)
{
    if (x->dead) return;
    x->out = encode_command(x->out, argc, argv, lens);
    if ((long long)link_pending(x) > EXPORT_OUT_LIMIT)
        export_fail(x, SLOT_JOB_FAILED, "the target does not keep up with the writes to the slots");
}

static void link_close(struct export *x)
{
    if (!x->conn) return;
    net_conn_close(x->conn);
    x->conn = NULL;
}

/* ---- shipping keys ---- */

/* The key's state on the target: RESTORE of its value (with its absolute
 * deadline), or DEL when it is gone here. */
static void ship_key(struct export *x, const char *key, size_t len)
{
    struct object *o = db_find(db0(), key, len);
    if (!o) {
        link_send(x, 2, (const char *[]){"DEL", key}, (size_t[]){3, len});
    } else {
        long long deadline = db_get_expire(db0(), key, len);
        char ttl[24];
        size_t tlen = format_ll(ttl, deadline < 0 ? 0 : deadline);
        str payload = dump_payload_create_native(o);
        const char *argv[] = {"RESTORE", key, ttl, payload, "REPLACE", "ABSTTL"};
        size_t lens[] = {7, len, tlen, str_len(payload), 7, 6};
        link_send(x, 6, argv, lens);
        str_free(payload);
    }
    x->job->keys_sent++;
    dict_delete(x->unsent, key, len);
}

static void collect_key(void *ctx, const char *key, size_t len)
{
    struct export *x = ctx;
    x->queue[x->queue_len++] = str_new(key, len);
    dict_add_or_find(x->unsent, key, len, NULL, NULL);
}

static void collect_keys(struct export *x)
{
    size_t total = 0;
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (slot_job_has(x->job, s)) total += (size_t)slot_index_count(s);
    x->queue = mem_alloc(sizeof(str) * (total ? total : 1));
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (slot_job_has(x->job, s)) slot_index_keys(s, (long long)total, collect_key, x);
}

/* Ships the next keys of the list, unless the link is backed up. */
static void ship_batch(struct export *x)
{
    int sent = 0;
    while (!x->dead && x->queue_pos < x->queue_len && sent < EXPORT_BATCH_KEYS && link_pending(x) < EXPORT_OUT_HIGH) {
        str k = x->queue[x->queue_pos++];
        if (dict_find(x->unsent, k, str_len(k))) ship_key(x, k, str_len(k)), sent++;
        str_free(k);
        x->queue[x->queue_pos - 1] = NULL;
    }
}

/* ---- writes to the slots while they move ---- */

#define EXPORTS_MAX 64
static struct export *exports[EXPORTS_MAX];
static int export_count;

static struct command *resolve(int argc, const struct arg *argv)
{
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc > 1) {
        struct command *sub = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
        if (sub) cmd = sub;
    }
    return cmd;
}

static bool forwarding(const struct export *x)
{
    enum slot_job_state s = x->job->state;
    return !x->dead && (s == SLOT_JOB_SNAPSHOT || s == SLOT_JOB_HANDOFF || s == SLOT_JOB_COMMITTING);
}

static void forward_to(struct export *x, int argc, const struct arg *argv, const int *positions, int n)
{
    bool all_shipped = true;
    for (int i = 0; i < n && all_shipped; i++)
        if (dict_find(x->unsent, argv[positions[i]].ptr, argv[positions[i]].len)) all_shipped = false;
    if (!all_shipped) {
        for (int i = 0; i < n; i++) ship_key(x, argv[positions[i]].ptr, argv[positions[i]].len);
        return;
    }
    const char *small_args[8], **args = argc <= 8 ? small_args : mem_alloc(sizeof(char *) * (size_t)argc);
    size_t small_lens[8], *lens = argc <= 8 ? small_lens : mem_alloc(sizeof(size_t) * (size_t)argc);
    for (int i = 0; i < argc; i++) args[i] = argv[i].ptr, lens[i] = argv[i].len;
    link_send(x, argc, args, lens);
    if (args != small_args) mem_free(args), mem_free(lens);
}

/* The oplog's observer: every logged write, checked against the slots
 * that are moving. A flush takes the slots' keys away under the job. */
static void observe(int db, int argc, const struct arg *argv)
{
    if (db != 0 || argc == 0) return;
    if (!strcasecmp(argv[0].ptr, "flushall") || !strcasecmp(argv[0].ptr, "flushdb")) {
        for (int i = 0; i < export_count; i++)
            if (forwarding(exports[i])) export_fail(exports[i], SLOT_JOB_FAILED, "the database was flushed");
        return;
    }
    struct command *cmd = resolve(argc, argv);
    if (!cmd) return;
    int positions[EXPORT_MAX_KEYS_PER_CMD];
    int n = command_key_positions(cmd, (struct arg *)argv, argc, positions, EXPORT_MAX_KEYS_PER_CMD);
    if (n <= 0) return;
    int slot = cluster_key_slot(argv[positions[0]].ptr, argv[positions[0]].len);
    for (int i = 0; i < export_count; i++) {
        struct export *x = exports[i];
        if (forwarding(x) && slot_job_has(x->job, slot)) forward_to(x, argc, argv, positions, n);
    }
}

static void observer_update(void)
{
    bool on = export_count > 0;
    oplog_set_observer(on ? observe : NULL);
    oplog_consumer_set(OPLOG_OBSERVER, on);
}

bool slot_export_paused(int slot)
{
    for (int i = 0; i < export_count; i++)
        if (exports[i]->paused && slot_job_has(exports[i]->job, slot)) return true;
    return false;
}

/* ---- the job's course ---- */

static void export_free(struct export *x)
{
    link_close(x);
    for (size_t i = x->queue_pos; i < x->queue_len; i++) str_free(x->queue[i]);
    mem_free(x->queue);
    if (x->unsent) dict_release(x->unsent);
    str_free(x->out);
    for (int i = 0; i < export_count; i++)
        if (exports[i] == x) exports[i] = exports[--export_count];
    x->job->impl = NULL;
    mem_free(x);
    observer_update();
}

/* Before the commit: the slots stay here, and the target is told to drop
 * what it got (it also does so by itself when the link just breaks). The
 * export is freed by its next tick. */
static void export_fail(struct export *x, enum slot_job_state state, const char *why)
{
    if (x->dead || x->job->state == SLOT_JOB_CLEANUP) return;
    log_warning("Slot migration %.8s to %.8s %s: %s", x->job->name, x->job->target,
                state == SLOT_JOB_CANCELLED ? "cancelled" : "failed", why);
    x->paused = false;
    if (x->conn && x->job->state != SLOT_JOB_CONNECTING) {
        str cancel = encode_command(str_empty(64), 3, (const char *[]){"CLUSTER", "SYNCSLOTS", "CANCEL"}, NULL);
        ssize_t ignored = net_conn_write(x->conn, cancel, str_len(cancel)); /* best effort: the link may be full or gone */
        (void)ignored;
        str_free(cancel);
    }
    link_close(x);
    slot_job_set_state(x->job, state, why);
    x->dead = true;
}

struct commit {
    uint8_t slots[CLUSTER_SLOTS / 8];
    char target[CLUSTER_ID_LEN + 1];
};

static bool commit_has(const struct commit *c, int slot)
{
    return c->slots[slot >> 3] & (1u << (slot & 7));
}

/* Whether the view already gives every slot of the commit to the target's
 * shard: an earlier attempt whose answer was lost did commit. */
static bool committed_already(const struct commit *c, int t)
{
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (commit_has(c, s) && strcmp(cl.view.slot_shard[s], cl.view.nodes[t].shard) != 0) return false;
    return true;
}

/* The new owner of the slots, on a view where this node still owns them
 * and is its shard's primary (the transaction compares the view's
 * revision, so nothing changed in between). When the view shows the
 * commit done already, the map is written again unchanged, which confirms
 * it. */
static str build_commit(void *arg, const char **err)
{
    struct commit *c = arg;
    const struct cluster_node *me = topology_myself(&cl.view);
    int t = topology_find(&cl.view, c->target);
    if (t < 0 || !cl.view.nodes[t].primary) {
        *err = "the target is no longer a primary";
        return NULL;
    }
    bool done = committed_already(c, t);
    if (!done && (!me || !me->primary || cluster_fenced())) {
        *err = "this node is no longer its shard's primary";
        return NULL;
    }
    topology_slot_map *map = mem_alloc(sizeof(*map));
    memcpy(map, cl.view.slot_shard, sizeof(*map));
    for (int s = 0; s < CLUSTER_SLOTS && !done; s++) {
        if (!commit_has(c, s)) continue;
        if (cl.view.owner[s] != cl.view.myself) {
            mem_free(map);
            *err = "this node no longer owns the slots";
            return NULL;
        }
        memcpy((*map)[s], cl.view.nodes[t].shard, CLUSTER_ID_LEN + 1);
    }
    str text = topology_encode_map((const char(*)[CLUSTER_ID_LEN + 1]) * map);
    mem_free(map);
    str ops = cluster_txn_put(str_empty(512), "slots", text, false);
    str_free(text);
    return cluster_txn_wrap(str_empty(8), ops);
}

static struct export *export_named(const char *name)
{
    for (int i = 0; i < export_count; i++)
        if (!exports[i]->dead && !strcmp(exports[i]->job->name, name)) return exports[i];
    return NULL;
}

static void on_commit(void *ctx, const char *err)
{
    str name = ctx;
    struct export *x = export_named(name);
    str_free(name);
    if (!x || x->job->state != SLOT_JOB_COMMITTING) return;
    if (err && !strncmp(err, "CLUSTERDOWN", 11)) {
        /* etcd did not answer: the transaction may have gone through, so the
         * slots can be neither given up nor kept; writes stay paused and the
         * commit is tried again (it sees its own success if it happened) */
        x->commit_retry_ms = event_now_ms() + EXPORT_COMMIT_RETRY_MS;
        slot_job_set_state(x->job, SLOT_JOB_COMMITTING, "etcd did not answer; trying the commit again");
        return;
    }
    if (err) {
        export_fail(x, SLOT_JOB_FAILED, err);
        return;
    }
    link_send(x, 3, (const char *[]){"CLUSTER", "SYNCSLOTS", "FINISH"}, NULL);
    link_flush(x);
    x->paused = false;
    slot_job_set_state(x->job, SLOT_JOB_CLEANUP, "the target owns the slots; deleting them here");
    log_notice("Slot migration %.8s: the slots belong to %.8s now (%lld keys shipped, writes paused %lld ms)",
               x->job->name, x->job->target, x->job->keys_sent, event_now_ms() - x->handoff_ms);
}

static void start_commit(struct export *x)
{
    slot_job_set_state(x->job, SLOT_JOB_COMMITTING, "");
    struct commit *c = mem_alloc(sizeof(*c));
    memcpy(c->slots, x->job->slots, sizeof(c->slots));
    memcpy(c->target, x->job->target, sizeof(c->target));
    cluster_change_then(build_commit, c, on_commit, str_new(x->job->name, CLUSTER_ID_LEN));
}

/* Everything is shipped: writes to the slots wait from here on, and the
 * marker tells when the target has applied all that came before it. */
static void start_handoff(struct export *x)
{
    x->paused = true;
    x->handoff_ms = event_now_ms();
    x->ack_seq++;
    char seq[24];
    format_ll(seq, x->ack_seq);
    link_send(x, 4, (const char *[]){"CLUSTER", "SYNCSLOTS", "ACK", seq}, NULL);
    slot_job_set_state(x->job, SLOT_JOB_HANDOFF, "writes to the slots wait for the hand-over");
}

/* One reply line from the target. */
static void on_line(struct export *x, const char *line)
{
    x->job->ack_time = (long long)time(NULL);
    if (line[0] == '-') {
        export_fail(x, SLOT_JOB_FAILED, line + 1);
    } else if (x->job->state == SLOT_JOB_CONNECTING && !strcmp(line, "+OK")) {
        slot_job_set_state(x->job, SLOT_JOB_SNAPSHOT, "");
    } else if (x->job->state == SLOT_JOB_HANDOFF && !strncmp(line, "+ACK ", 5) && atoll(line + 5) == x->ack_seq) {
        start_commit(x);
    }
}

static void link_read(struct export *x)
{
    while (!x->dead) {
        ssize_t n = net_conn_read(x->conn, x->in + x->in_len, sizeof(x->in) - 1 - x->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0) {
            if (x->job->state == SLOT_JOB_CLEANUP) link_close(x);
            else export_fail(x, SLOT_JOB_FAILED, "the link to the target broke");
            return;
        }
        x->in_len += (size_t)n;
        x->in[x->in_len] = '\0';
        char *nl;
        while (!x->dead && (nl = strstr(x->in, "\r\n"))) {
            *nl = '\0';
            on_line(x, x->in);
            size_t used = (size_t)(nl + 2 - x->in);
            memmove(x->in, x->in + used, x->in_len - used + 1);
            x->in_len -= used;
        }
        if (!x->dead && x->in_len == sizeof(x->in) - 1)
            export_fail(x, SLOT_JOB_FAILED, "the target sent an unexpected reply");
    }
}

static void on_link_readable(struct net_conn *c)
{
    struct export *x = c->data;
    if (!x->dead) link_read(x);
}

static void on_link_writable(struct net_conn *c)
{
    struct export *x = c->data;
    if (!x->dead && x->conn) link_flush(x);
}

static void export_tick(struct event_loop *loop, void *data)
{
    struct export *x = data;
    x->timer = NULL;
    if (x->dead) {
        export_free(x);
        return;
    }
    long long now = event_now_ms();
    switch (x->job->state) {
    case SLOT_JOB_CONNECTING:
        if (now - x->started_ms > EXPORT_ACCEPT_TIMEOUT_MS)
            export_fail(x, SLOT_JOB_FAILED, "the target did not accept the migration in time");
        break;
    case SLOT_JOB_SNAPSHOT:
        ship_batch(x);
        if (!x->dead && x->queue_pos == x->queue_len && link_pending(x) == 0) start_handoff(x);
        break;
    case SLOT_JOB_HANDOFF:
        if (now - x->handoff_ms > EXPORT_ACK_TIMEOUT_MS)
            export_fail(x, SLOT_JOB_FAILED, "the hand-over took too long");
        break;
    case SLOT_JOB_COMMITTING: /* no timeout: a commit in doubt is never given up */
        if (x->commit_retry_ms && now >= x->commit_retry_ms) {
            x->commit_retry_ms = 0;
            start_commit(x);
        }
        break;
    case SLOT_JOB_CLEANUP:
        if (slot_purge_step(x->job, 1000)) {
            slot_job_set_state(x->job, SLOT_JOB_SUCCESS, "");
            x->dead = true;
        }
        break;
    default:
        break;
    }
    if (!x->dead) link_flush(x);
    x->timer = event_timer_at(loop, now + EXPORT_TICK_MS, export_tick, x);
}

/* ---- CLUSTER MIGRATESLOTS / CANCELSLOTMIGRATIONS ---- */

static bool slot_moving(int slot)
{
    for (int i = 0; i < export_count; i++)
        if (!exports[i]->dead && slot_job_has(exports[i]->job, slot)) return true;
    return false;
}

/* One SLOTSRANGE ... NODE ... block from argv[*i]; false (with the reply
 * sent) when it is wrong. */
static bool parse_block(struct request *req, int *i, uint8_t slots[CLUSTER_SLOTS / 8], int *target)
{
    memset(slots, 0, CLUSTER_SLOTS / 8);
    if (!ARG_IS(req, *i, "SLOTSRANGE")) {
        reply_syntax_error(req->out);
        return false;
    }
    int start = ++*i, count = 0;
    while (*i < req->argc && !ARG_IS(req, *i, "NODE")) (*i)++, count++;
    if (count == 0 || count % 2 || *i + 1 >= req->argc) {
        reply_syntax_error(req->out);
        return false;
    }
    for (int k = start; k < start + count; k += 2) {
        long long a, b;
        if (!request_ll_msg(req, k, &a, "ERR Invalid or out of range slot") ||
            !request_ll_msg(req, k + 1, &b, "ERR Invalid or out of range slot"))
            return false;
        if (a < 0 || b >= CLUSTER_SLOTS || a > b) {
            reply_error(req->out, a > b && a >= 0 && b < CLUSTER_SLOTS ? "ERR start slot number is greater than end slot number"
                                                                         : "ERR Invalid or out of range slot");
            return false;
        }
        for (long long s = a; s <= b; s++) {
            if (cl.view.owner[s] != cl.view.myself) {
                reply_errorf(req->out, "ERR I'm not the owner of hash slot %lld", s);
                return false;
            }
            if (slot_moving((int)s)) {
                reply_errorf(req->out, "ERR Slot %lld is already being migrated", s);
                return false;
            }
            slots[s >> 3] |= (uint8_t)(1u << (s & 7));
        }
    }
    const char *node = req->argv[++*i].ptr;
    (*i)++;
    *target = topology_find(&cl.view, node);
    if (*target < 0) {
        reply_errorf(req->out, "ERR Unknown node %s", node);
        return false;
    }
    if (*target == cl.view.myself) {
        reply_error(req->out, "ERR Target node is myself");
        return false;
    }
    if (!cl.view.nodes[*target].primary) {
        reply_errorf(req->out, "ERR Target node %s is not a primary", node);
        return false;
    }
    return true;
}

static void export_start(const uint8_t slots[CLUSTER_SLOTS / 8], int target)
{
    char name[CLUSTER_ID_LEN + 1];
    cluster_random_id(name);
    struct slot_job *j = slot_job_new(true, name);
    memcpy(j->slots, slots, sizeof(j->slots));
    memcpy(j->source, cl.myid, CLUSTER_ID_LEN + 1);
    memcpy(j->target, cl.view.nodes[target].id, CLUSTER_ID_LEN + 1);
    struct export *x = mem_calloc(sizeof(*x));
    x->job = j;
    j->impl = x;
    x->out = str_empty(64 * 1024);
    x->unsent = dict_create(&unsent_type);
    x->started_ms = event_now_ms();
    exports[export_count++] = x;
    observer_update(); /* from here on no write to the slots is missed */
    collect_keys(x);
    x->conn = peer_connect(cl.view.nodes[target].ip, cluster_link_port(&cl.view.nodes[target]), EXPORT_CONNECT_TIMEOUT_MS);
    x->timer = event_timer_at(server.loop, event_now_ms() + EXPORT_TICK_MS, export_tick, x);
    if (!x->conn) {
        export_fail(x, SLOT_JOB_FAILED, "cannot connect to the target");
        return;
    }
    x->conn->data = x;
    net_conn_set_read_handler(x->conn, on_link_readable);
    str ranges = slot_job_ranges(j, str_empty(64));
    link_send(x, 6, (const char *[]){"CLUSTER", "SYNCSLOTS", "ESTABLISH", name, cl.myid, ranges}, NULL);
    str_free(ranges);
    link_flush(x);
    log_notice("Slot migration %.8s of %zu keys to %.8s started", name, x->queue_len, j->target);
}

void cluster_cmd_migrateslots(struct request *req)
{
    const struct cluster_node *me = topology_myself(&cl.view);
    if (!me || !me->primary) {
        reply_error(req->out, "ERR Slot migration can only be started on a primary");
        return;
    }
    int blocks = 0, i = 2, targets[EXPORTS_MAX];
    static uint8_t slots[EXPORTS_MAX][CLUSTER_SLOTS / 8];
    while (i < req->argc) {
        if (blocks + export_count >= EXPORTS_MAX) {
            reply_error(req->out, "ERR Too many slot migrations at once");
            return;
        }
        if (!parse_block(req, &i, slots[blocks], &targets[blocks])) return;
        for (int b = 0; b < blocks; b++)
            for (int k = 0; k < CLUSTER_SLOTS / 8; k++)
                if (slots[b][k] & slots[blocks][k]) {
                    reply_error(req->out, "ERR Slot ranges overlap");
                    return;
                }
        blocks++;
    }
    for (int b = 0; b < blocks; b++) export_start(slots[b], targets[b]);
    reply_ok(req->out);
}

void cluster_cmd_cancelslotmigrations(struct request *req)
{
    for (int i = 0; i < export_count; i++)
        if (slot_job_active(exports[i]->job) && exports[i]->job->state != SLOT_JOB_CLEANUP)
            export_fail(exports[i], SLOT_JOB_CANCELLED, "cancelled by CLUSTER CANCELSLOTMIGRATIONS");
    reply_ok(req->out);
}
