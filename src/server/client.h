/* client: one connection — its query buffer and parser, its output queue,
 * its selected database, and the per-connection state of transactions,
 * subscriptions and CLIENT settings. */
#ifndef RUNNEL_SERVER_CLIENT_H
#define RUNNEL_SERVER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/watch.h"
#include "protocol/command.h"
#include "protocol/outbuf.h"
#include "protocol/parser.h"
#include "util/str.h"

struct waiter;
struct net_conn;
struct event_timer;
struct acl_user;

enum client_flags {
    CLIENT_CLOSE_AFTER_REPLY = 1 << 0, /* QUIT, protocol error: flush, then close */
    CLIENT_CLOSE_ASAP = 1 << 1,        /* killed: close before the next sleep */
    CLIENT_MULTI = 1 << 2,             /* queuing a transaction */
    CLIENT_DIRTY_EXEC = 1 << 3,        /* a queued command was refused: EXEC aborts */
    CLIENT_PUBSUB = 1 << 4,            /* has subscriptions */
    CLIENT_BLOCKED = 1 << 5,           /* waiting in a blocking command */
    CLIENT_MONITOR = 1 << 6,
    CLIENT_NO_EVICT = 1 << 7,
    CLIENT_PENDING_WRITE = 1 << 8,     /* in the server's pending-writes list */
    CLIENT_REPLY_OFF = 1 << 9,
    CLIENT_REPLY_SKIP_NEXT = 1 << 10,
    CLIENT_REPLY_SKIP = 1 << 11,
    CLIENT_AUTHENTICATED = 1 << 12,
    CLIENT_WRITE_WATCHED = 1 << 13,    /* write handler set: the connection was full */
    CLIENT_PROTECTED = 1 << 14,        /* must not be freed right now */
    CLIENT_NO_TOUCH = 1 << 15,
    CLIENT_PAUSED = 1 << 16,           /* held back by CLIENT PAUSE */
    CLIENT_EXECUTING = 1 << 17,        /* inside its own command */
    CLIENT_LOADER = 1 << 18,           /* replays an AOF or snapshot: admitted as is, not observed */
    CLIENT_REPLICA = 1 << 19,          /* a replica of this server (after SYNC/PSYNC) */
    CLIENT_MASTER = 1 << 20,           /* this replica's link to its primary: commands admitted, unanswered */
    CLIENT_HELD = 1 << 21,             /* CLIENT_BLOCKED by WAIT/WAITAOF or a cluster change, not on keys */
    CLIENT_READONLY_ROUTE = 1 << 22,   /* cluster READONLY: reads served by a replica of the slot's shard */
    CLIENT_ASKING = 1 << 23,           /* cluster ASKING: the next command may use an importing slot */
    CLIENT_SLOT_IMPORT = 1 << 24,      /* a slot migration's source: its writes are admitted, unanswered */
};

struct queued_command {
    struct command *cmd;
    int argc;
    struct arg *argv; /* each ptr is a separately allocated copy */
};

struct client {
    uint64_t id;
    int fd;                /* the connection's socket (CLIENT LIST fd=), -1: socketless */
    struct net_conn *conn; /* what carries it (net/conn.h), NULL: socketless */
    uint32_t flags;
    char addr[64];
    char laddr[64];
    str name;
    str lib_name;
    str lib_ver;
    int db_index;
    struct db *db;
    int resp;

    /* input */
    char *qbuf;
    size_t qlen;
    size_t qcap;
    size_t qbuf_peak;
    size_t cmd_start; /* where the command being run begins in qbuf */
    struct resp_parser parser;
    struct arg *argv;
    int argc;
    int argv_cap;
    struct command *cmd;      /* being executed */
    struct command *last_cmd; /* for CLIENT LIST cmd= */

    /* output */
    struct outbuf out;
    long long soft_limit_since_ms; /* when the output buffer passed its soft limit */

    /* transactions */
    struct watcher watch;
    struct queued_command *multi;
    int multi_count;
    int multi_cap;

    /* timestamps, ms */
    long long ctime_ms;
    long long last_interaction_ms;

    /* linkage in the server's client list */
    struct client *prev;
    struct client *next;

    /* pub/sub subscriptions (messaging/pubsub), blocking state (messaging/blocking) */
    void *subscriptions;
    struct waiter *blocking;          /* set while CLIENT_BLOCKED */
    struct event_timer *block_timer;  /* its deadline, if any */
    uint32_t blocked_errors_base;     /* out.errors when it blocked or was held */
    long long total_net_in;
    long long total_net_out;
    long long commands_processed;
    long long commands_failed; /* commands that ended in an error reply, refusals included */
    unsigned long long wrote_upto; /* oplog offset its last write reached */
    unsigned long long stream_upto; /* oplog_stream_total after its last write (WAIT) */
    void *replication; /* replication/: a replica's or the primary link's state */
    int multi_slot;    /* cluster: the slot a transaction's queued commands use, -1: none yet */
    struct acl_user *user; /* server/acl.c: whose permissions apply; NULL: none checked (loaders, the primary) */
    void *tracking;    /* server/tracking.c: CLIENT TRACKING state, NULL when off */
};

#endif
