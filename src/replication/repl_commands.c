/* repl_commands: REPLICAOF (SLAVEOF), ROLE, REPLCONF, PSYNC, SYNC, WAIT,
 * WAITAOF, and DEBUG CHANGE-REPL-ID. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "replication/repl_buffer.h"
#include "replication/repl_state.h"
#include "replication/replication.h"
#include "server/config.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

static struct client *caller(struct request *req)
{
    return req->client;
}

static void cmd_replicaof(struct request *req)
{
    if (ARG_IS(req, 1, "NO") && ARG_IS(req, 2, "ONE")) {
        replica_set_primary(NULL, 0);
        reply_ok(req->out);
        return;
    }
    long long port;
    if (!request_ll_range(req, 2, 0, 65535, &port, "ERR Invalid master port")) return;
    if (replica_same_primary(req->argv[1].ptr, (int)port)) {
        reply_simple(req->out, "OK Already connected to specified master");
        return;
    }
    replica_set_primary(req->argv[1].ptr, (int)port);
    reply_ok(req->out);
}

/* ROLE: ["master", offset, [[ip, port, offset]...]] or the replica's view. */
static void cmd_role(struct request *req)
{
    if (replica_is_replica()) replica_role_reply(req->out);
    else primary_role_reply(req->out);
}

/* REPLCONF option value ...: options a replica announces, its ACKs, and a
 * primary's GETACK. ACK gets no reply (the replica's replies are off). */
static void cmd_replconf(struct request *req)
{
    if (req->argc % 2 == 0) {
        reply_syntax_error(req->out);
        return;
    }
    struct client *c = caller(req);
    for (int i = 1; i < req->argc; i += 2) {
        const char *name = req->argv[i].ptr, *value = req->argv[i + 1].ptr;
        if (!strcasecmp(name, "ack")) {
            long long offset, fack = 0;
            if (!parse_ll(value, strlen(value), &offset)) return;
            if (i + 3 < req->argc && !strcasecmp(req->argv[i + 2].ptr, "fack"))
                parse_ll(req->argv[i + 3].ptr, req->argv[i + 3].len, &fack);
            primary_ack(c, offset, fack);
            return;
        }
        if (!strcasecmp(name, "getack")) {
            if (c->flags & CLIENT_MASTER) replica_send_ack();
            return;
        }
        if (!strcasecmp(name, "term")) {
            /* the replica knows of a newer primary than this one: refuse it */
            long long theirs;
            if (!parse_ll(value, strlen(value), &theirs) || theirs < 0) {
                reply_error(req->out, "ERR Invalid term");
                return;
            }
            if (repl.term > 0 && theirs > repl.term) {
                reply_errorf(req->out, "ERR Stale primary: my term %lld is older than the replica's %lld", repl.term,
                             theirs);
                return;
            }
            continue;
        }
        if (strcasecmp(name, "listening-port") && strcasecmp(name, "ip-address") && strcasecmp(name, "capa") &&
            strcasecmp(name, "rdb-only") && strcasecmp(name, "rdb-filter-only") && strcasecmp(name, "version")) {
            reply_errorf(req->out, "ERR Unrecognized REPLCONF option: %s", name);
            return;
        }
        primary_replconf_option(c, name, value);
    }
    reply_ok(req->out);
}

/* A replica of a replica may only sync while the chain above is up. */
static bool sync_allowed(struct request *req)
{
    if (!replica_is_replica() || replica_link_up()) return true;
    reply_error(req->out, "NOMASTERLINK Can't SYNC while not connected with my master");
    return false;
}

/* PSYNC id offset FAILOVER: our primary hands over to us (its FAILOVER);
 * we take over, then continue its history for it. */
static bool psync_failover(struct request *req)
{
    if (req->argc < 4) return true;
    if (!ARG_IS(req, 3, "FAILOVER")) {
        reply_syntax_error(req->out);
        return false;
    }
    if (strcasecmp(req->argv[1].ptr, repl.replid) != 0) {
        reply_error(req->out, "ERR PSYNC FAILOVER replid must match my replid.");
        return false;
    }
    log_notice("Failover request received for replid %s.", repl.replid);
    replica_set_primary(NULL, 0);
    return true;
}

static void cmd_psync(struct request *req)
{
    if (!psync_failover(req)) return;
    if (!sync_allowed(req)) return;
    long long offset;
    if (!parse_ll(req->argv[2].ptr, req->argv[2].len, &offset)) offset = -1;
    primary_psync(caller(req), req->argv[1].ptr, offset);
}

static void cmd_sync(struct request *req)
{
    if (!sync_allowed(req)) return;
    primary_psync(caller(req), NULL, -1);
}

/* DEBUG CHANGE-REPL-ID: a new id, no previous one (partial resyncs with
 * the old id are refused afterwards). */
static bool (*debug_next)(struct request *req);

static bool debug_extension(struct request *req)
{
    if (req->argc == 2 && ARG_IS(req, 1, "CHANGE-REPL-ID")) {
        repl_id_generate(repl.replid);
        repl_id_clear_second();
        reply_ok(req->out);
        return true;
    }
    return debug_next ? debug_next(req) : false;
}

void replication_debug_install(void)
{
    debug_next = server_debug_extension;
    server_debug_extension = debug_extension;
}

#define REPL_ADMIN (CMD_ADMIN | CMD_NOSCRIPT)

struct command replication_commands[] = {
    {"replicaof", cmd_replicaof, 3, REPL_ADMIN | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Configures a server as replica of another, or promotes it to a master.", "5.0.0", "O(1)"},
    {"slaveof", cmd_replicaof, 3, REPL_ADMIN | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Sets a Redis server as a replica of another, or promotes it to being a master.", "1.0.0", "O(1)"},
    {"role", cmd_role, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0,
     "@admin @fast @dangerous", "server", "Returns the replication role.", "2.8.12", "O(1)"},
    {"replconf", cmd_replconf, -1, REPL_ADMIN | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0,
     "@admin @slow @dangerous", "server", "An internal command for configuring the replication stream.", "3.0.0",
     "O(1)"},
    {"psync", cmd_psync, -3, REPL_ADMIN | CMD_NO_MULTI, 0, 0, 0, "@admin @slow @dangerous", "server",
     "An internal command used in replication.", "2.8.0", "O(1)"},
    {"sync", cmd_sync, 1, REPL_ADMIN | CMD_NO_MULTI, 0, 0, 0, "@admin @slow @dangerous", "server",
     "An internal command used in replication.", "1.0.0", "O(1)"},
    {"failover", cmd_failover, -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous",
     "server", "Starts a coordinated failover from a server to one of its replicas.", "6.2.0", "O(1)"},
    {"wait", cmd_wait, 3, CMD_NOSCRIPT, 0, 0, 0, "@slow @connection", "generic",
     "Blocks until the asynchronous replication of all preceding write commands sent by the connection is "
     "completed.",
     "3.0.0", "O(1)"},
    {"waitaof", cmd_waitaof, 4, CMD_NOSCRIPT, 0, 0, 0, "@slow @connection", "generic",
     "Blocks until all of the preceding write commands sent by the connection are written to the append-only file "
     "of the master and/or replicas.",
     "7.2.0", "O(1)"},
    {0},
};
