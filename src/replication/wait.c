/* wait: WAIT and WAITAOF — a client blocks until enough replicas have
 * acknowledged (or, for WAITAOF, fsync'd) the stream up to its last write,
 * or its timeout passes. The primary asks its replicas for an ACK (REPLCONF
 * GETACK, through the stream) in the iteration a client starts waiting. */
#include <stdio.h>

#include "db/oplog.h"
#include "persistence/aof_state.h"
#include "replication/repl_state.h"
#include "replication/replication.h"
#include "server/blocked.h"
#include "server/connection.h"
#include "server/server.h"
#include "util/mem.h"

struct wait_entry {
    struct client *c;
    long long pos;         /* the stream offset after the client's last write */
    long long numreplicas;
    bool aof;              /* WAITAOF */
    long long numlocal;
    struct event_timer *timer;
    struct wait_entry *next;
};

static struct wait_entry *waits;

bool wait_any(void)
{
    return waits != NULL;
}

/* Whether this server's own AOF holds the client's last write, fsync'd
 * (the AOF counts the bytes it writes as the log counts them). */
static bool local_fsynced(struct client *c)
{
    return aof.on && __atomic_load_n(&aof.synced_total, __ATOMIC_ACQUIRE) >= c->wrote_upto;
}

static long long acked(const struct wait_entry *w)
{
    return primary_replicas_acked(w->pos, w->aof);
}

static bool satisfied(const struct wait_entry *w)
{
    if (w->aof && w->numlocal > 0 && !local_fsynced(w->c)) return false;
    return acked(w) >= w->numreplicas;
}

static void reply_counts(struct client *c, long long pos, bool aof_form)
{
    long long n = primary_replicas_acked(pos, aof_form);
    if (!aof_form) {
        reply_int(&c->out, n);
        return;
    }
    reply_array(&c->out, 2);
    reply_int(&c->out, local_fsynced(c) ? 1 : 0);
    reply_int(&c->out, n);
}

static void wait_finish(struct wait_entry *w)
{
    struct wait_entry **p = &waits;
    while (*p && *p != w) p = &(*p)->next;
    if (*p) *p = w->next;
    if (w->timer) event_timer_cancel(server.loop, w->timer);
    reply_counts(w->c, w->pos, w->aof);
    blocked_release(w->c);
    mem_free(w);
}

static void on_timeout(struct event_loop *loop, void *data)
{
    (void)loop;
    struct wait_entry *w = data;
    w->timer = NULL;
    wait_finish(w);
}

void wait_check(void)
{
    struct wait_entry *w = waits, *next;
    for (; w; w = next) {
        next = w->next;
        if (satisfied(w)) wait_finish(w);
    }
}

void wait_client_closing(struct client *c)
{
    for (struct wait_entry *w = waits; w; w = w->next) {
        if (w->c != c) continue;
        struct wait_entry **p = &waits;
        while (*p != w) p = &(*p)->next;
        *p = w->next;
        if (w->timer) event_timer_cancel(server.loop, w->timer);
        mem_free(w);
        return;
    }
}

static bool acks_requested;

/* Asks every replica for its offset, once per loop iteration. */
static void request_acks(void)
{
    if (acks_requested) return;
    struct arg getack[3] = {{"REPLCONF", 8}, {"GETACK", 6}, {"*", 1}};
    oplog_append_repl_only(-1, 3, getack);
    acks_requested = true;
}

void wait_before_flush(void)
{
    acks_requested = false;
    if (waits) wait_check(); /* the AOF may have fsync'd what WAITAOF waits for */
}

static void wait_start(struct request *req, long long numlocal, long long numreplicas, long long timeout_ms, bool aof_form)
{
    struct client *c = req->client;
    long long pos = c->stream_upto + repl.stream_base;
    struct wait_entry probe = {.c = c, .pos = pos, .numreplicas = numreplicas, .aof = aof_form, .numlocal = numlocal};
    if (satisfied(&probe) || (req->flags & REQ_IN_MULTI) || c->fd < 0) {
        reply_counts(c, pos, aof_form);
        return;
    }
    struct wait_entry *w = mem_alloc(sizeof(*w));
    *w = probe;
    w->next = waits;
    waits = w;
    if (timeout_ms > 0) w->timer = event_timer_at(server.loop, event_now_ms() + timeout_ms, on_timeout, w);
    blocked_hold(c);
    if (oplog_feeds_replication()) request_acks();
}

static bool read_timeout(struct request *req, int i, long long *ms)
{
    if (!request_ll_msg(req, i, ms, "ERR timeout is not an integer or out of range")) return false;
    if (*ms < 0) {
        reply_error(req->out, "ERR timeout is negative");
        return false;
    }
    return true;
}

static const char replica_refusal[] =
    " cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be "
    "writable (which is not the default) writes to replicas are just local and are not propagated.";

void cmd_wait(struct request *req)
{
    if (replica_is_replica()) {
        reply_errorf(req->out, "ERR WAIT%s", replica_refusal);
        return;
    }
    long long numreplicas, timeout;
    if (!request_ll(req, 1, &numreplicas) || !read_timeout(req, 2, &timeout)) return;
    wait_start(req, 0, numreplicas, timeout, false);
}

void cmd_waitaof(struct request *req)
{
    long long numlocal, numreplicas, timeout;
    if (!request_ll(req, 1, &numlocal) || !request_ll(req, 2, &numreplicas) || !read_timeout(req, 3, &timeout)) return;
    if (replica_is_replica()) {
        reply_errorf(req->out, "ERR WAITAOF%s", replica_refusal);
        return;
    }
    if (numlocal > 0 && !aof.on) {
        reply_error(req->out, "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.");
        return;
    }
    wait_start(req, numlocal, numreplicas, timeout, true);
}
