#include "server/blocked.h"

#include "db/oplog.h"
#include "messaging/blocking.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "server/info.h"
#include "server/server.h"
#include "util/mem.h"

static struct client **unblocked;
static size_t unblocked_count, unblocked_cap;
static long long blocked_clients;

static void deadline_reached(struct event_loop *loop, void *data)
{
    (void)loop;
    struct client *c = data;
    c->block_timer = NULL;
    if (c->blocking) blocking_timeout(c->blocking);
}

static void hook_blocked(void *client, struct waiter *w)
{
    struct client *c = client;
    c->flags |= CLIENT_BLOCKED;
    c->blocking = w;
    blocked_clients++;
    if (w->deadline_ms > 0)
        c->block_timer = event_timer_at(server.loop, event_now_ms() + w->deadline_ms, deadline_reached, c);
}

static void hook_prepare(void *client, struct request *req)
{
    struct client *c = client;
    *req = (struct request){
        .argc = 0,
        .argv = NULL,
        .out = &c->out,
        .db = c->db,
        .client = c,
        .pubsub = &c->subscriptions,
        .client_id = c->id,
    };
}

static void queue_resume(struct client *c)
{
    client_mark_pending_write(c);
    if (unblocked_count == unblocked_cap) {
        unblocked_cap = unblocked_cap ? unblocked_cap * 2 : 16;
        unblocked = mem_realloc(unblocked, sizeof(*unblocked) * unblocked_cap);
    }
    unblocked[unblocked_count++] = c;
}

static void hook_unblocked(void *client, bool replied)
{
    struct client *c = client;
    c->flags &= ~CLIENT_BLOCKED;
    c->blocking = NULL;
    blocked_clients--;
    if (c->block_timer) {
        event_timer_cancel(server.loop, c->block_timer);
        c->block_timer = NULL;
    }
    if (!replied) return;
    dispatch_count_late_errors(c);
    server.dirty++;
    c->wrote_upto = oplog_logged_total(); /* the serve may have written */
    queue_resume(c);
}

void blocked_hold(struct client *c)
{
    c->flags |= CLIENT_BLOCKED | CLIENT_HELD;
    blocked_clients++;
}

void blocked_release(struct client *c)
{
    if (!(c->flags & CLIENT_HELD)) return;
    c->flags &= ~(CLIENT_BLOCKED | CLIENT_HELD);
    blocked_clients--;
    dispatch_count_late_errors(c);
    queue_resume(c);
}

void blocked_pause(struct client *c)
{
    c->flags |= CLIENT_PAUSED;
    blocked_clients++;
}

void blocked_unpause(struct client *c)
{
    if (!(c->flags & CLIENT_PAUSED)) return;
    c->flags &= ~CLIENT_PAUSED;
    blocked_clients--;
}

static long long info_keys(void)
{
    return blocking_key_count();
}

void blocked_init(void)
{
    blocking_hooks.blocked = hook_blocked;
    blocking_hooks.prepare = hook_prepare;
    blocking_hooks.unblocked = hook_unblocked;
    blocking_init(server.db_count);
    info_blocking_keys = info_keys;
}

void blocked_client_closing(struct client *c)
{
    for (size_t i = 0; i < unblocked_count; i++)
        if (unblocked[i] == c) unblocked[i] = NULL;
    if (c->blocking) blocking_cancel(c->blocking);
    if (c->flags & CLIENT_HELD) blocked_clients--;
    blocked_unpause(c);
}

/* A client may have pipelined more commands behind the one that blocked;
 * they run now, in the order the clients were served. */
void blocked_resume_unblocked(void)
{
    while (unblocked_count > 0) {
        struct client **batch = unblocked;
        size_t n = unblocked_count;
        unblocked = NULL;
        unblocked_count = unblocked_cap = 0;
        for (size_t i = 0; i < n; i++)
            if (batch[i] && !(batch[i]->flags & CLIENT_BLOCKED)) client_process_input(batch[i]);
        mem_free(batch);
    }
}

long long blocked_client_count(void)
{
    return blocked_clients;
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if the client was blocked. */
void cmd_client_unblock(struct request *req)
{
    long long id;
    if (!request_ll_msg(req, 2, &id, "ERR value is not an integer or out of range")) return;
    bool as_error = false;
    if (req->argc == 4) {
        if (ARG_IS(req, 3, "ERROR")) as_error = true;
        else if (!ARG_IS(req, 3, "TIMEOUT")) {
            reply_error(req->out, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    } else if (req->argc > 4) {
        reply_syntax_error(req->out);
        return;
    }
    struct client *target = client_by_id((uint64_t)id);
    if (!target || !target->blocking) {
        reply_int(req->out, 0);
        return;
    }
    if (as_error) blocking_fail(target->blocking, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else blocking_timeout(target->blocking);
    reply_int(req->out, 1);
}
