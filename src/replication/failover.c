/* failover: FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] — a
 * coordinated switch of roles with a replica that loses no write. The
 * primary holds its clients' writes (as CLIENT PAUSE WRITE does), waits
 * until the target replica has acknowledged everything (waiting-for-sync),
 * then becomes that replica's replica and asks it, with
 * `PSYNC <id> <offset> FAILOVER`, to take over (failover-in-progress): the
 * target promotes itself and continues the same history, so the old
 * primary resynchronises partially. Held writes then get -READONLY. If the
 * timeout passes first, the primary goes back to serving writes (or, with
 * FORCE, hands over anyway). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db/oplog.h"
#include "replication/repl_state.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

enum failover_state { FAILOVER_NONE, FAILOVER_WAIT_SYNC, FAILOVER_IN_PROGRESS };

static struct {
    enum failover_state state;
    char host[256];
    int port; /* 0: the most up-to-date replica, chosen when it is time */
    bool force;
    long long deadline_ms; /* 0: none */
} fo;

const char *failover_state_name(void)
{
    switch (fo.state) {
    case FAILOVER_WAIT_SYNC: return "waiting-for-sync";
    case FAILOVER_IN_PROGRESS: return "failover-in-progress";
    default: return "no-failover";
    }
}

bool failover_target_requested(void)
{
    return fo.state == FAILOVER_IN_PROGRESS;
}

static void hold_writes(bool on)
{
    if (on) server_pause(LLONG_MAX, true);
    else server_unpause();
}

static void failover_end(const char *why, bool ok)
{
    if (ok) log_notice("Failover to %s:%d completed", fo.host, fo.port);
    else log_warning("FAILOVER aborted: %s", why);
    fo.state = FAILOVER_NONE;
    hold_writes(false);
}

/* The target, or the online replica with the highest acknowledged offset. */
static struct replica *failover_target(long long *acked)
{
    struct replica *best = NULL;
    long long best_ack = -1;
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r)) {
        if (primary_replica_state(r) != REPLICA_ONLINE) continue;
        char host[64];
        int port;
        long long ack = primary_replica_address(r, host, sizeof(host), &port);
        if (fo.port && (port != fo.port || strcasecmp(host, fo.host) != 0)) continue;
        if (ack > best_ack) best = r, best_ack = ack;
    }
    *acked = best_ack;
    return best;
}

static void hand_over(void)
{
    fo.state = FAILOVER_IN_PROGRESS;
    log_notice("FAILOVER: becoming a replica of %s:%d", fo.host, fo.port);
    replica_set_primary(fo.host, fo.port);
}

/* From the cron: advances a failover in progress. */
void failover_cron(void)
{
    if (fo.state == FAILOVER_NONE) return;
    bool expired = fo.deadline_ms && event_now_ms() >= fo.deadline_ms;
    if (fo.state == FAILOVER_IN_PROGRESS) {
        if (replica_link_up()) failover_end(NULL, true);
        else if (expired) {
            replica_set_primary(NULL, 0);
            failover_end("the target did not take over in time", false);
        }
        return;
    }
    long long acked;
    struct replica *target = failover_target(&acked);
    if (!target) {
        failover_end("the target replica is gone", false);
        return;
    }
    if (!fo.port) {
        char host[64];
        primary_replica_address(target, host, sizeof(host), &fo.port);
        snprintf(fo.host, sizeof(fo.host), "%s", host);
    }
    if (acked >= repl_offset_now() || (expired && fo.force)) {
        hand_over();
        return;
    }
    if (expired) failover_end("the replica did not catch up in time", false);
}

/* Asks the replicas for their offset once, when writes stop: the answer
 * covers the request itself, so it can equal the primary's offset (asking
 * again at every tick would move the goal each time). */
static void request_ack(void)
{
    struct arg getack[3] = {{"REPLCONF", 8}, {"GETACK", 6}, {"*", 1}};
    oplog_append_repl_only(-1, 3, getack);
}

static bool arg_port(struct request *req, int i, int *port)
{
    long long v;
    if (!request_ll_range(req, i, 0, 65535, &v, "ERR value is out of range")) return false;
    *port = (int)v;
    return true;
}

/* FAILOVER's arguments; replies the error and returns false when wrong. */
static bool parse(struct request *req, bool *abort, long long *timeout)
{
    for (int i = 1; i < req->argc; i++) {
        if (ARG_IS(req, i, "TO") && i + 2 < req->argc && !fo.port) {
            snprintf(fo.host, sizeof(fo.host), "%s", req->argv[i + 1].ptr);
            if (!arg_port(req, i + 2, &fo.port)) return false;
            i += 2;
        } else if (ARG_IS(req, i, "FORCE")) {
            fo.force = true;
        } else if (ARG_IS(req, i, "ABORT")) {
            *abort = true;
        } else if (ARG_IS(req, i, "TIMEOUT") && i + 1 < req->argc && *timeout == 0) {
            if (!request_ll(req, i + 1, timeout)) return false;
            if (*timeout <= 0) {
                reply_error(req->out, "ERR FAILOVER timeout must be greater than 0");
                return false;
            }
            i++;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

static const char *refusal(bool abort, long long timeout)
{
    if (abort) {
        if (fo.port || fo.force || timeout) return "ERR syntax error";
        return fo.state == FAILOVER_NONE ? "ERR No failover in progress." : NULL;
    }
    if (replica_is_replica()) return "ERR FAILOVER is not valid when server is a replica.";
    if (primary_replica_count() == 0) return "ERR FAILOVER requires connected replicas.";
    if (fo.force && (!timeout || !fo.port))
        return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
    long long acked;
    if (fo.port && !failover_target(&acked)) return "ERR FAILOVER target HOST and PORT is not a replica.";
    return NULL;
}

void cmd_failover(struct request *req)
{
    bool busy = fo.state != FAILOVER_NONE;
    char host[256];
    int port = fo.port;
    bool force = fo.force;
    memcpy(host, fo.host, sizeof(host));
    fo.port = 0;
    fo.force = false;
    bool abort = false;
    long long timeout = 0;
    bool ok = parse(req, &abort, &timeout);
    const char *why = ok ? (busy && !abort ? "ERR FAILOVER already in progress." : refusal(abort, timeout)) : NULL;
    if (!ok || why || abort) {
        if (why) reply_error(req->out, why);
        /* a failover under way keeps its own target */
        memcpy(fo.host, host, sizeof(host));
        fo.port = port;
        fo.force = force;
        if (ok && !why && abort) {
            if (fo.state == FAILOVER_IN_PROGRESS) replica_set_primary(NULL, 0);
            failover_end("FAILOVER ABORT", false);
            reply_ok(req->out);
        }
        return;
    }
    fo.state = FAILOVER_WAIT_SYNC;
    fo.deadline_ms = timeout ? event_now_ms() + timeout : 0;
    hold_writes(true);
    request_ack();
    log_notice("FAILOVER requested to %s:%d", fo.port ? fo.host : "any replica", fo.port);
    reply_ok(req->out);
}
