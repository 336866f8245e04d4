#include "server/dispatch.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "messaging/blocking.h"
#include "server/blocked.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/monitor.h"
#include "server/multi.h"
#include "server/server.h"
#include "server/slowlog.h"
#include "server/subscriptions.h"
#include "messaging/pubsub.h"
#include "util/mem.h"

/* "ERR unknown command 'x', with args beginning with: 'a' 'b' " as Redis
 * words it (each argument cut to 128 bytes). */
static void reply_unknown_command(struct client *c)
{
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "ERR unknown command '%.128s', with args beginning with: ", c->argv[0].ptr);
    for (int i = 1; i < c->argc && n < (int)sizeof(msg) - 140; i++)
        n += snprintf(msg + n, sizeof(msg) - (size_t)n, "'%.128s' ", c->argv[i].ptr);
    reply_error(&c->out, msg);
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
 * there is none or the arity is wrong. */
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

/* The checks Redis makes before running or queuing a command; replies the
 * refusal and returns false when the command must not run. */
static bool dispatch_admit(struct client *c, struct command *cmd)
{
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH)) {
        reply_error(&c->out, "NOAUTH Authentication required.");
        return false;
    }
    if (client_in_subscribed_resp2(c) && !(cmd->flags & CMD_SUBSCRIBED_OK)) {
        reply_errorf(&c->out,
                     "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                     "allowed in this context",
                     cmd->full_name);
        return false;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        reply_error(&c->out, "ERR Command not allowed inside a transaction");
        return false;
    }
    if ((cmd->flags & CMD_DENYOOM) && over_maxmemory()) {
        reply_error(&c->out, "OOM command not allowed when used memory > 'maxmemory'.");
        return false;
    }
    return true;
}

/* CLIENT PAUSE holds clients (all, or those sending writes) until it ends. */
static bool dispatch_paused(struct client *c, struct command *cmd)
{
    if (server.pause_until_ms == 0 || event_now_ms() >= server.pause_until_ms) return false;
    if (c->flags & CLIENT_EXECUTING) return false;
    if (server.pause_writes_only && !(cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))) return false;
    return true;
}

static void dispatch_account(struct command *cmd, long long usec, bool failed)
{
    cmd->calls++;
    cmd->usec += usec;
    if (failed) cmd->failed_calls++;
    server.stats.total_commands++;
}

/* Nesting of dispatch_call (EXEC runs its queue through it): blocked
 * clients are served only when the outermost command is complete, so a
 * transaction wakes waiters after EXEC, not halfway through. */
static int dispatch_depth;

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
    if (server.monitor_count && !(cmd->flags & CMD_SKIP_MONITOR)) monitor_feed(c, argc, argv);
    db_now_ms = db_wall_ms();
    uint32_t errors_before = c->out.errors;
    struct command *prev = c->cmd;
    c->cmd = cmd;
    c->last_cmd = cmd;
    c->flags |= CLIENT_EXECUTING;
    long long start = db_monotonic_us();
    dispatch_depth++;
    cmd->proc(&req);
    dispatch_depth--;
    long long usec = db_monotonic_us() - start;
    c->flags &= ~CLIENT_EXECUTING;
    c->cmd = prev;
    c->commands_processed++;
    bool failed = c->out.errors != errors_before;
    dispatch_account(cmd, usec, failed);
    if (failed) server_count_error(c->out.last_error);
    server.dirty += req.dirty;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG)) slowlog_maybe_add(c, argc, argv, usec);
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

void dispatch_command(struct client *c)
{
    reply_mode_begin(c);
    struct command *cmd = dispatch_resolve(c);
    if (!cmd) {
        if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
        server.stats.total_commands += 0;
        reply_mode_end(c);
        return;
    }
    if (!dispatch_admit(c, cmd)) {
        cmd->rejected_calls++;
        if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
        reply_mode_end(c);
        return;
    }
    if (dispatch_paused(c, cmd)) {
        c->flags |= CLIENT_PAUSED;
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
    blocked_client_closing(c);
    subscriptions_client_closing(c);
    multi_discard(c);
    monitor_remove(c);
}

void dispatch_subscription_counts(struct client *c, int *sub, int *psub, int *ssub)
{
    *sub = (int)pubsub_client_count(&c->subscriptions, PUBSUB_CHANNEL);
    *psub = (int)pubsub_client_count(&c->subscriptions, PUBSUB_PATTERN);
    *ssub = (int)pubsub_client_count(&c->subscriptions, PUBSUB_SHARD);
}

void dispatch_resume_paused(void)
{
    for (struct client *c = server.clients; c; c = c->next) {
        if (!(c->flags & CLIENT_PAUSED)) continue;
        c->flags &= ~CLIENT_PAUSED;
        client_resume_pending_command(c);
    }
}
