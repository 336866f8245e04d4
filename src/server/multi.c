#include "server/multi.h"

#include <string.h>

#include "db/oplog.h"
#include "server/acl.h"
#include "server/dispatch.h"
#include "server/server.h"
#include "util/mem.h"

void multi_queue(struct client *c, struct command *cmd)
{
    if (c->multi_count == c->multi_cap) {
        c->multi_cap = c->multi_cap ? c->multi_cap * 2 : 8;
        c->multi = mem_realloc(c->multi, sizeof(*c->multi) * (size_t)c->multi_cap);
    }
    struct queued_command *q = &c->multi[c->multi_count++];
    q->cmd = cmd;
    q->argc = c->argc;
    q->argv = mem_alloc(sizeof(struct arg) * (size_t)c->argc);
    for (int i = 0; i < c->argc; i++) {
        q->argv[i].len = c->argv[i].len;
        q->argv[i].ptr = mem_alloc(c->argv[i].len + 1);
        memcpy(q->argv[i].ptr, c->argv[i].ptr, c->argv[i].len);
        q->argv[i].ptr[c->argv[i].len] = '\0';
    }
}

static void multi_free_queue(struct client *c)
{
    for (int i = 0; i < c->multi_count; i++) {
        for (int j = 0; j < c->multi[i].argc; j++) mem_free(c->multi[i].argv[j].ptr);
        mem_free(c->multi[i].argv);
    }
    mem_free(c->multi);
    c->multi = NULL;
    c->multi_count = c->multi_cap = 0;
}

void multi_discard(struct client *c)
{
    multi_free_queue(c);
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC);
    watch_clear(&c->watch);
}

static void cmd_multi(struct request *req)
{
    struct client *c = req->client;
    if (c->flags & CLIENT_MULTI) {
        reply_error(req->out, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    reply_ok(req->out);
}

static void cmd_discard(struct request *req)
{
    struct client *c = req->client;
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(req->out, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(req->out);
}

/* Runs the queue as one unit; WATCH'd changes or queuing errors abort it. */
static void cmd_exec(struct request *req)
{
    struct client *c = req->client;
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(req->out, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        reply_error(req->out, "EXECABORT Transaction discarded because of previous errors.");
        multi_discard(c);
        return;
    }
    if (c->watch.dirty || watch_any_expired(&c->watch)) {
        reply_null_array(req->out);
        multi_discard(c);
        return;
    }
    struct queued_command *queue = c->multi;
    int count = c->multi_count;
    c->multi = NULL;
    c->multi_count = c->multi_cap = 0;
    c->flags &= ~CLIENT_MULTI;
    watch_clear(&c->watch);
    reply_array(req->out, count);
    oplog_multi_begin();
    for (int i = 0; i < count; i++) {
        char buf[512];
        const char *noperm = acl_exec_refusal(c, queue[i].cmd, queue[i].argc, queue[i].argv, buf, sizeof(buf));
        if (noperm) reply_error(req->out, noperm);
        else dispatch_call(c, queue[i].cmd, queue[i].argc, queue[i].argv, REQ_IN_MULTI);
        for (int j = 0; j < queue[i].argc; j++) mem_free(queue[i].argv[j].ptr);
        mem_free(queue[i].argv);
    }
    oplog_multi_end();
    mem_free(queue);
}

static void cmd_watch(struct request *req)
{
    struct client *c = req->client;
    if (c->flags & CLIENT_MULTI) {
        reply_error(req->out, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < req->argc; i++) watch_key(&c->watch, req->db, req->argv[i].ptr, req->argv[i].len);
    reply_ok(req->out);
}

static void cmd_unwatch(struct request *req)
{
    struct client *c = req->client;
    watch_clear(&c->watch);
    reply_ok(req->out);
}

struct command multi_commands[] = {
    {"multi", cmd_multi, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY | CMD_MULTI_CONTROL,
     0, 0, 0, "@fast @transaction", "transactions", "Starts a transaction.", "1.2.0", "O(1)"},
    {"exec", cmd_exec, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG | CMD_MULTI_CONTROL, 0, 0, 0,
     "@slow @transaction", "transactions", "Executes all commands in a transaction.", "1.2.0",
     "Depends on commands in the transaction"},
    {"discard", cmd_discard, 1,
     CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY | CMD_MULTI_CONTROL, 0, 0, 0,
     "@fast @transaction", "transactions", "Discards a transaction.", "2.0.0", "O(N)"},
    {"watch", cmd_watch, -2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY | CMD_MULTI_CONTROL,
     1, -1, 1, "@fast @transaction", "transactions",
     "Monitors changes to keys to determine the execution of a transaction.", "2.2.0", "O(1) for every key."},
    {"unwatch", cmd_unwatch, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY, 0, 0, 0,
     "@fast @transaction", "transactions", "Forgets about watched keys of a transaction.", "2.2.0", "O(1)"},
    {0},
};
