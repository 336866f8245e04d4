/* server: the process-wide state of the server layer — the event loop, the
 * listening sockets, the databases, the clients and the statistics INFO
 * reports. Only src/server/ and main.c see it; lower layers get what they
 * need through a request. */
#ifndef RUNNEL_SERVER_SERVER_H
#define RUNNEL_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db/db.h"
#include "server/client.h"
#include "net/event_loop.h"

/* The newest Redis whose features Runnel serves: INFO's redis_version,
 * HELLO's version, redis.REDIS_VERSION. Clients and queue frameworks
 * decide what to use from it. */
#define REDIS_COMPAT_VERSION "7.2.4"
/* Runnel's own release: INFO's runnel_version, the log, snapshots. */
#define RUNNEL_VERSION "0.1.0"
#define RUNNEL_VERSION_NAME "runnel"
#define MAX_LISTENERS 16
#define OPS_SAMPLES 16

struct server_stats {
    long long total_connections;
    long long rejected_connections;
    long long total_commands;
    long long net_input_bytes;
    long long net_output_bytes;
    long long client_query_buffer_limit_disconnections;
    long long client_output_buffer_limit_disconnections[3];
    long long unexpected_error_replies;
    long long total_error_replies;
    long long io_reads;
    long long io_writes;
    /* instantaneous ops/sec: samples taken by the cron */
    long long ops_sample_time_ms;
    long long ops_sample_count;
    long long ops_samples[OPS_SAMPLES];
    int ops_sample_index;
    long long net_in_samples[OPS_SAMPLES];
    long long net_out_samples[OPS_SAMPLES];
    long long net_in_sample_count;
    long long net_out_sample_count;
};

struct server {
    struct event_loop *loop;
    int listen_fds[MAX_LISTENERS];
    int listen_count;
    pid_t pid;
    char run_id[41];
    long long start_time_ms;
    long long start_monotonic_ms;

    struct db *dbs;
    int db_count;

    struct client *clients; /* doubly linked, newest first */
    size_t client_count;
    size_t closing_count; /* clients flagged CLIENT_CLOSE_ASAP, not yet freed */
    uint64_t next_client_id;
    struct client **pending_writes;
    size_t pending_count;
    size_t pending_cap;
    struct client *current; /* executing a command */

    struct server_stats stats;
    long long dirty;       /* changes since the last save */
    long long last_save;   /* unix seconds */
    long long cron_loops;
    bool shutdown_asap;
    int shutdown_flags;
    bool loading; /* a dataset file is being loaded: only CMD_LOADING commands run */
    bool resume_paused; /* a CLIENT PAUSE ended: held commands run before the loop sleeps */
    bool script_busy; /* a script ran past busy-reply-threshold: only CMD_ALLOW_BUSY commands run */
    bool busy_function; /* the busy script is a function (FCALL): BUSY names FUNCTION KILL */

    /* CLIENT PAUSE */
    long long pause_until_ms;
    bool pause_writes_only;

    /* monitors */
    struct client **monitors;
    size_t monitor_count;
    size_t monitor_cap;
};

enum shutdown_flags {
    SHUTDOWN_NOSAVE = 1 << 0,
    SHUTDOWN_SAVE = 1 << 1,
    SHUTDOWN_NOW = 1 << 2,
    SHUTDOWN_FORCE = 1 << 3,
    SHUTDOWN_ABORT = 1 << 4,
};

extern struct server server;
/* Persistence sits above the server and plugs in here at start-up. */
struct server_persistence_hooks {
    void (*before_flush)(void); /* write the log before replies go out */
    void (*cron)(void);
};
extern struct server_persistence_hooks server_persistence_hooks;

/* Replication sits above the server and plugs in here at start-up. */
struct server_replication_hooks {
    void (*before_flush)(void); /* hand the batch logged this iteration to replicas */
    void (*cron)(void);
    /* Why this replica refuses the command (READONLY, MASTERDOWN), or NULL. */
    const char *(*refusal)(struct client *c, uint32_t cmd_flags);
    /* A replica's unsent stream: bytes owed, and writing some (as outbuf_write_conn). */
    size_t (*stream_pending)(struct client *c);
    long (*stream_write)(struct client *c);
    /* The primary link ran one command: its bytes in the query buffer. */
    void (*master_applied)(struct client *c, const char *bytes, size_t len);
    void (*client_closing)(struct client *c);
};
extern struct server_replication_hooks server_replication_hooks;
struct command;
/* The cluster sits above the server: dispatch asks it whether this node
 * serves a command's keys (a -MOVED, -CROSSSLOT... text, or NULL). */
struct server_cluster_hooks {
    const char *(*refusal)(struct client *c, struct command *cmd, char *buf, size_t size);
};
extern struct server_cluster_hooks server_cluster_hooks;

/* This server replicates another: no active expiry, keys expired but not
 * deleted read as missing. Set by replication/. */
extern bool server_is_replica;

/* CLIENT PAUSE and its other users (FAILOVER holding writes): a pause
 * until a monotonic time, of everything or of writes only; the end of any
 * pause lets held commands run before the loop sleeps. */
void server_pause(long long until_ms, bool writes_only);
void server_unpause(void);

/* DEBUG SET-ACTIVE-EXPIRE: whether the cron expires keys actively. */
extern bool server_active_expire_enabled;

struct request;
/* DEBUG subcommands owned by higher layers (persistence adds RELOAD);
 * returns false if it does not know the subcommand. */
extern bool (*server_debug_extension)(struct request *req);

/* Counts an error reply by its code for INFO errorstats. */
void server_count_error(const char *code);

#endif
