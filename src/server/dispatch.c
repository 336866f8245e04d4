#include "server/dispatch.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "db/db.h"
#include "db/oplog.h"
#include "messaging/blocking.h"
#include "server/acl.h"
#include "server/blocked.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/keyspace_stream.h"
#include "server/monitor.h"
#include "server/multi.h"
#include "server/server.h"
#include "server/latency.h"
#include "server/tracking.h"
#include "server/slowlog.h"
#include "server/subscriptions.h"
#include "messaging/pubsub.h"
#include "util/mem.h"

/* "ERR unknown command 'x', with args beginning with: 'a' 'b' " as Redis
 * words it: the name cut to 128 bytes, and arguments quoted one by one until
 * their text reaches 128 bytes, the last one cut to what is left. */
static void reply_unknown_command(struct client *c)
{
    char args[160];
    size_t used = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && used < 128; i++) {
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ", (int)(128 - used), c->argv[i].ptr);
        if (n > 0) used += (size_t)n < sizeof(args) - used ? (size_t)n : sizeof(args) - used - 1;
    }
    reply_errorf(&c->out, "ERR unknown command '%.128s', with args beginning with: %s", c->argv[0].ptr, args);
}

static void reply_unknown_subcommand(struct client *c, struct command *parent)
{
    char upper[64];
    snprintf(upper, sizeof(upper), "%s", parent->name);
    for (char *p = upper; *p; p++) *p = (char)toupper((unsigned char)*p);
    reply_errorf(&c->out, "ERR unknown subcommand '%.128s'. Try %s HELP.", c->argv[1].ptr, upper);
}

static bool arity_ok(const struct command *cmd, int argc)
{
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

/* Finds the command (or subcommand) named by argv, replying the error when
 * there is none or the arity is wrong. A known command refused for its
 * arity counts as a rejected call, as in Redis. */
static struct command *dispatch_resolve(struct client *c)
{
    struct command *cmd = command_lookup(c->argv[0].ptr, c->argv[0].len);
    if (!cmd) {
        reply_unknown_command(c);
        return NULL;
    }
    if (cmd->subcommands && c->argc >= 2) {
        struct command *sub = command_lookup_sub(cmd, c->argv[1].ptr, c->argv[1].len);
        if (!sub) {
            reply_unknown_subcommand(c, cmd);
            return NULL;
        }
        cmd = sub;
    }
    if (!arity_ok(cmd, c->argc)) {
        reply_wrong_arity(&c->out, cmd->full_name);
        cmd->rejected_calls++;
        return NULL;
    }
    return cmd;
}

static bool client_in_subscribed_resp2(struct client *c)
{
    return (c->flags & CLIENT_PUBSUB) && c->resp == 2;
}

static bool over_maxmemory(void)
{
    return cfg.maxmemory > 0 && mem_used() > (size_t)cfg.maxmemory;
}

/* The flags the checks go by: a call's own (EVAL's depend on its script),
 * and for EXEC also what its
 * queued commands declare, as Redis judges an EXEC (a queued write makes it
 * a write for MISCONF and CLIENT PAUSE WRITE, a queued deny-oom command a
 * deny-oom one). */
static uint32_t dispatch_call_flags(const struct command *cmd, const struct arg *argv, int argc)
{
    return cmd->flags_of ? cmd->flags_of(cmd, argv, argc) : cmd->flags;
}

static uint32_t dispatch_effective_flags(struct client *c, struct command *cmd)
{
    uint32_t flags = dispatch_call_flags(cmd, c->argv, c->argc);
    if (!(c->flags & CLIENT_MULTI) || strcmp(cmd->full_name, "exec") != 0) return flags;
    for (int i = 0; i < c->multi_count; i++) {
        struct queued_command *q = &c->multi[i];
        flags |= dispatch_call_flags(q->cmd, q->argv, q->argc) & (CMD_WRITE | CMD_MAY_REPLICATE | CMD_DENYOOM);
    }
    return flags;
}

/* The checks Redis makes before running or queuing a command: the text of
 * the refusal (in buf when formatted), or NULL when the command may run.
 * What a loader replays was accepted when it was first run: nothing refuses
 * it. */
static const char *dispatch_refusal(struct client *c, struct command *cmd, char *buf, size_t size)
{
    if (c->flags & (CLIENT_LOADER | CLIENT_MASTER)) return NULL;
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH)) return "NOAUTH Authentication required.";
    if (client_in_subscribed_resp2(c) && !(cmd->flags & CMD_SUBSCRIBED_OK)) {
        snprintf(buf, size,
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
                 "this context",
                 cmd->full_name);
        return buf;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) return "ERR Command not allowed inside a transaction";
    const char *noperm = acl_refusal(c, cmd, c->argc, c->argv, buf, size);
    if (noperm) return noperm;
    if (server_cluster_hooks.refusal) {
        const char *moved = server_cluster_hooks.refusal(c, cmd, buf, size);
        if (moved) return moved;
    }
    uint32_t flags = dispatch_effective_flags(c, cmd);
    if (oplog_sink_error && (flags & CMD_WRITE)) {
        /* a sink with its own wording (a failed snapshot) sets the whole reply */
        if (strncmp(oplog_sink_error, "MISCONF ", 8) == 0) return oplog_sink_error;
        snprintf(buf, size, "MISCONF Errors writing to the AOF file: %s", oplog_sink_error);
        return buf;
    }
    if ((flags & CMD_DENYOOM) && over_maxmemory()) return "OOM command not allowed when used memory > 'maxmemory'.";
    if (server_replication_hooks.refusal) {
        const char *why = server_replication_hooks.refusal(c, flags);
        if (why) return why;
    }
    if (server.loading && !(cmd->flags & CMD_LOADING)) return ERR_LOADING;
    if (server.script_busy && !(cmd->flags & CMD_ALLOW_BUSY))
        return server.busy_function ? ERR_BUSY_FUNCTION : ERR_BUSY_SCRIPT;
    return NULL;
}

/* Replies a refusal. A refused EXEC discards the transaction and says why,
 * in or out of MULTI, as Redis does. */
static void dispatch_reject(struct client *c, struct command *cmd, const char *refusal)
{
    cmd->rejected_calls++;
    if (strcmp(cmd->full_name, "exec") != 0) {
        reply_error(&c->out, refusal);
        return;
    }
    if (c->flags & CLIENT_MULTI) multi_discard(c);
    reply_errorf(&c->out, "EXECABORT Transaction discarded because of: %s", refusal);
}

/* CLIENT PAUSE holds clients (all, or those sending writes) until it ends. */
static bool dispatch_paused(struct client *c, struct command *cmd)
{
    if (server.pause_until_ms == 0 || event_now_ms() >= server.pause_until_ms) return false;
    if (c->flags & (CLIENT_EXECUTING | CLIENT_LOADER | CLIENT_MASTER)) return false;
    if (server.pause_writes_only && !(dispatch_effective_flags(c, cmd) & (CMD_WRITE | CMD_MAY_REPLICATE)))
        return false;
    return true;
}

/* Counts `n` error replies under `code` for INFO errorstats. */
static void dispatch_count_errors(const char *code, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) server_count_error(code);
}

void dispatch_count_late_errors(struct client *c)
{
    uint32_t errors = c->out.errors - c->blocked_errors_base;
    c->out.errors = c->blocked_errors_base;
    if (errors == 0) return;
    dispatch_count_errors(c->out.last_error, errors);
    if (c->last_cmd) c->last_cmd->failed_calls++;
}

static void dispatch_account(struct command *cmd, long long usec, bool failed)
{
    cmd->calls++;
    cmd->usec += usec;
    if (failed) cmd->failed_calls++;
    server.stats.total_commands++;
    latency_histogram_record(cmd, usec);
}

static bool arg_is(const struct arg *a, const char *literal)
{
    size_t n = strlen(literal);
    return a->len == n && strncasecmp(a->ptr, literal, n) == 0;
}

/* Which arguments MONITOR and the slow log must not show, as Redis redacts
 * them: AUTH's credentials, HELLO's AUTH pair, and the values of CONFIG SET
 * requirepass/masterauth. Marks them in `hide` (argc entries); false if none. */
static bool dispatch_find_secrets(struct command *cmd, int argc, struct arg *argv, bool *hide)
{
    bool any = false;
    if (strcmp(cmd->full_name, "auth") == 0) {
        for (int i = 1; i < argc; i++) hide[i] = any = true;
    } else if (strcmp(cmd->full_name, "hello") == 0) {
        for (int i = 2; i < argc; i++) {
            if (arg_is(&argv[i], "AUTH") && i + 2 < argc) {
                hide[i + 1] = hide[i + 2] = any = true;
                i += 2;
            } else if (arg_is(&argv[i], "SETNAME")) {
                i++;
            }
        }
    } else if (strcmp(cmd->full_name, "acl|setuser") == 0) {
        for (int i = 2; i < argc; i++) hide[i] = any = true; /* the name too, as Redis hides it */
    } else if (strcmp(cmd->full_name, "config|set") == 0) {
        for (int i = 2; i + 1 < argc; i += 2)
            if (arg_is(&argv[i], "requirepass") || arg_is(&argv[i], "masterauth")) hide[i + 1] = any = true;
    }
    return any;
}

/* Feeds MONITOR and the slow log after a command ran, with secrets replaced
 * by "(redacted)". Administrative commands are not shown to monitors, nor
 * is what a loader replays (clients may watch while the dataset loads). */
static void dispatch_observe(struct client *c, struct command *cmd, int argc, struct arg *argv, long long usec)
{
    if (c->flags & CLIENT_LOADER) return;
    bool to_monitor = server.monitor_count && !(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN));
    /* most commands are neither watched nor slow: nothing to prepare */
    bool to_slowlog = !(cmd->flags & CMD_SKIP_SLOWLOG) && slowlog_wants(usec);
    if (!to_monitor && !to_slowlog) return;
    static char redacted[] = "(redacted)";
    bool small_hide[16] = {0};
    bool *hide = argc <= 16 ? small_hide : mem_calloc(sizeof(bool) * (size_t)argc);
    struct arg *shown = argv;
    if (dispatch_find_secrets(cmd, argc, argv, hide)) {
        shown = mem_alloc(sizeof(struct arg) * (size_t)argc);
        for (int i = 0; i < argc; i++) {
            shown[i] = argv[i];
            if (hide[i]) shown[i] = (struct arg){redacted, sizeof(redacted) - 1};
        }
    }
    if (to_monitor) monitor_feed(c, argc, shown);
    if (to_slowlog) slowlog_maybe_add(c, argc, shown, usec);
    if (shown != argv) mem_free(shown);
    if (hide != small_hide) mem_free(hide);
}

/* Nesting of dispatch_call (EXEC runs its queue through it): blocked
 * clients are served only when the outermost command is complete, so a
 * transaction wakes waiters after EXEC, not halfway through. */
static int dispatch_depth;

/* Wall-clock minus monotonic time, refreshed before every sleep, so a
 * command's "now" costs no extra clock read; a wall-clock jump is seen
 * within one loop iteration. */
static long long dispatch_wall_offset_us;

void dispatch_refresh_clock(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    dispatch_wall_offset_us = (long long)tv.tv_sec * 1000000 + tv.tv_usec - db_monotonic_us();
}

/* The command's "now" in wall-clock ms; never earlier than the previous
 * command's, so a TTL read right after it was set never exceeds it. */
static long long dispatch_now_ms(long long monotonic_us)
{
    static long long last;
    long long now = (monotonic_us + dispatch_wall_offset_us) / 1000;
    if (now < last) now = last;
    last = now;
    return now;
}

void dispatch_call(struct client *c, struct command *cmd, int argc, struct arg *argv, uint32_t req_flags)
{
    struct request req = {
        .argc = argc,
        .argv = argv,
        .out = &c->out,
        .db = c->db,
        .client = c,
        .pubsub = &c->subscriptions,
        .client_id = c->id,
        .flags = req_flags,
    };
    /* a client with no socket (AOF or snapshot loading, scripts) has nobody
     * waiting on it: its blocking commands answer at once */
    if (c->fd < 0 || (c->flags & CLIENT_MASTER)) req.flags |= REQ_REPLAYING | REQ_IN_MULTI;
    /* on a replica, the primary's commands see keys whatever their
     * deadline (its DELs decide), and a write on a writable replica
     * deletes the expired key it meets rather than trip over it */
    bool lazy_delete = db_lazy_delete, expiry_ignored = db_expiry_ignored;
    if (server_is_replica) {
        if (c->flags & CLIENT_MASTER) db_expiry_ignored = true;
        else if (cmd->flags & CMD_WRITE) db_lazy_delete = true;
    }
    long long start = db_monotonic_us();
    db_now_ms = dispatch_now_ms(start); /* one clock read serves both */
    uint32_t errors_before = c->out.errors;
    struct command *prev = c->cmd;
    c->cmd = cmd;
    c->last_cmd = cmd;
    bool was_executing = c->flags & CLIENT_EXECUTING;
    c->flags |= CLIENT_EXECUTING;
    dispatch_depth++;
    struct client *tracking_outer = tracking_caller_push(c);
    cmd->proc(&req);
    tracking_caller_pop(tracking_outer, c, cmd, argc, argv);
    dispatch_depth--;
    db_lazy_delete = lazy_delete;
    db_expiry_ignored = expiry_ignored;
    long long usec = db_monotonic_us() - start;
    if (!was_executing) c->flags &= ~CLIENT_EXECUTING;
    c->cmd = prev;
    c->commands_processed++;
    /* Errors of commands run inside this one (EXEC) were counted by their
     * own calls and taken off the counter; what is left is this command's. */
    uint32_t errors = c->out.errors - errors_before;
    c->out.errors = errors_before;
    c->commands_failed += errors > 0;
    if (c->flags & CLIENT_BLOCKED) c->blocked_errors_base = errors_before;
    /* Commands replayed from the AOF or a snapshot are nobody's requests:
     * they stay out of INFO commandstats and errorstats, the slow log and
     * MONITOR, as in Redis, and out of total_commands_processed. */
    if (!db_loading) {
        dispatch_account(cmd, usec, errors > 0);
        dispatch_count_errors(c->out.last_error, errors);
        dispatch_observe(c, cmd, argc, argv, usec);
        if (!(c->flags & (CLIENT_BLOCKED | CLIENT_LOADER)))
            latency_add_sample_if_needed(cmd->flags & CMD_FAST ? "fast-command" : "command", usec / 1000);
    }
    server.dirty += req.dirty;
    if (req.dirty > 0 && !(req.flags & REQ_PROPAGATED)) oplog_append(req.db->id, argc, argv);
    /* the events it caused go to the events stream after it in the log */
    bool recorded = keyspace_stream_flush();
    if (req.dirty > 0 || (req.flags & REQ_PROPAGATED) || recorded) {
        c->wrote_upto = oplog_logged_total();
        c->stream_upto = oplog_stream_total();
    }
    if (dispatch_depth == 0) blocking_serve_ready();
}

/* Applies CLIENT REPLY OFF/SKIP to this command's reply. */
static void reply_mode_begin(struct client *c)
{
    c->out.muted = (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) != 0;
}

static void reply_mode_end(struct client *c)
{
    if (c->flags & CLIENT_REPLY_SKIP) c->flags &= ~CLIENT_REPLY_SKIP;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    }
    c->out.muted = false;
}

/* A command refused before it ran: its error counts for errorstats, and a
 * transaction being queued is doomed to EXECABORT. */
static void dispatch_refused(struct client *c, uint32_t errors_before)
{
    c->commands_failed += c->out.errors > errors_before;
    dispatch_count_errors(c->out.last_error, c->out.errors - errors_before);
    c->out.errors = errors_before;
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
    reply_mode_end(c);
}

void dispatch_command(struct client *c)
{
    reply_mode_begin(c);
    uint32_t errors_before = c->out.errors;
    struct command *cmd = dispatch_resolve(c);
    if (!cmd) {
        dispatch_refused(c, errors_before);
        return;
    }
    char refusal_buf[512];
    const char *refusal = dispatch_refusal(c, cmd, refusal_buf, sizeof(refusal_buf));
    if (refusal) {
        dispatch_reject(c, cmd, refusal);
        dispatch_refused(c, errors_before);
        return;
    }
    if (dispatch_paused(c, cmd)) {
        c->last_cmd = cmd; /* CLIENT LIST shows what it waits to run, as Redis does */
        blocked_pause(c);
        c->out.muted = false;
        return;
    }
    if ((c->flags & CLIENT_MULTI) && !(cmd->flags & CMD_MULTI_CONTROL)) {
        multi_queue(c, cmd);
        reply_simple(&c->out, "QUEUED");
        reply_mode_end(c);
        return;
    }
    dispatch_call(c, cmd, c->argc, c->argv, 0);
    reply_mode_end(c);
}

void dispatch_client_closing(struct client *c)
{
    if (server_replication_hooks.client_closing) server_replication_hooks.client_closing(c);
    blocked_client_closing(c);
    subscriptions_client_closing(c);
    multi_discard(c);
    monitor_remove(c);
    tracking_client_closing(c);
}

void dispatch_subscription_counts(struct client *c, int *sub, int *psub, int *ssub)
{
    *sub = (int)pubsub_client_count(&c->subscriptions, PUBSUB_CHANNEL);
    *psub = (int)pubsub_client_count(&c->subscriptions, PUBSUB_PATTERN);
    *ssub = (int)pubsub_client_count(&c->subscriptions, PUBSUB_SHARD);
}

/* Resuming may free the resumed client (its command can end in QUIT or a
 * kill), so the next one is taken first; killed clients are not resumed. */
void dispatch_resume_paused(void)
{
    struct client *next;
    for (struct client *c = server.clients; c; c = next) {
        next = c->next;
        if (!(c->flags & CLIENT_PAUSED)) continue;
        blocked_unpause(c);
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        client_resume_pending_command(c);
    }
}
