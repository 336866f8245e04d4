/* cluster_state: what the files of cluster/ share. Nothing outside
 * cluster/ includes it. */
#ifndef RUNNEL_CLUSTER_CLUSTER_STATE_H
#define RUNNEL_CLUSTER_CLUSTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cluster/topology.h"
#include "protocol/command.h"
#include "server/client.h"
#include "util/str.h"

struct cluster_state {
    bool enabled;
    struct topology view;
    char myid[CLUSTER_ID_LEN + 1];
    char prefix[300];   /* "/runnel/<cluster-name>/" */
    char ip[64];        /* the address this node announces */
    int port, tls_port; /* announced client ports (0: none) */
    bool etcd_up;       /* the last request to etcd was answered */
    long long lease;    /* 0: none yet */
    long long lease_renewed_ms; /* when the last renewal that etcd confirmed was sent */
    long long messages_sent, messages_received;
};
extern struct cluster_state cl;

/* ---- cluster.c ---- */
/* Builds the JSON body of an etcd transaction from the current view, or
 * NULL with *err (a reply text) when the change is not possible. */
typedef str cluster_txn_fn(void *arg, const char **err);
/* Runs a change as an etcd compare-and-set transaction: the client waits;
 * if the view was stale, the view is re-read and the change built again.
 * The client gets +OK once the view shows the change, or the error. */
void cluster_change(struct client *c, cluster_txn_fn *build, void *arg);
/* The same for the server's own changes: `done` gets NULL once the view
 * shows the change, or the error's text. `arg` is freed after. */
typedef void cluster_change_done_fn(void *ctx, const char *err);
void cluster_change_then(cluster_txn_fn *build, void *arg, cluster_change_done_fn *done, void *done_ctx);
/* Pieces of transactions. */
str cluster_txn_put(str ops, const char *name, const char *value, bool with_lease);
str cluster_txn_delete(str ops, const char *name);
str cluster_txn_wrap(str compare, str ops);
/* A compare that the key `name` (under the prefix) does not exist. */
str cluster_txn_absent(const char *name);
/* "member/<id>" record for a node as the view has it, with a role and shard. */
str cluster_member_value(const struct cluster_node *n, bool primary, const char *shard);
/* The node this node replicates changed (or it became a primary). */
void cluster_follow_role(void);
/* The port other nodes reach a node at: its TLS port with tls-cluster. */
int cluster_link_port(const struct cluster_node *n);
/* Whether a client is given TLS ports (it came over TLS; a socketless
 * client, as a script's, follows tls-cluster). */
bool cluster_client_tls(const struct client *c);

void cluster_refresh_now(void);
/* 40 random hex digits (/dev/urandom): node ids, slot migration job names. */
void cluster_random_id(char out[CLUSTER_ID_LEN + 1]);

/* ---- routing.c ---- */
void cluster_hooks_install(void);
int cluster_key_slot(const char *key, size_t len);
const char *cluster_route(struct client *c, struct command *cmd, int argc, struct arg *argv, char *buf,
                          size_t size);
/* Connection flags for routing: READONLY and ASKING. */
void cluster_client_set_readonly(struct client *c, bool on);
void cluster_client_set_asking(struct client *c);

/* ---- election.c ---- */
void election_start(void);
long long election_ttl_ms(void);
/* A primary that may have lost its lease: it refuses writes. */
bool cluster_fenced(void);
/* CLUSTER FAILOVER [FORCE|TAKEOVER], on a replica. */
void cluster_cmd_failover(struct request *req);

/* ---- slot_index.c ---- */
void slot_index_install(void);
long long slot_index_count(int slot);
/* Calls fn for up to max keys of the slot; returns how many. */
int slot_index_keys(int slot, long long max, void (*fn)(void *ctx, const char *key, size_t len), void *ctx);

/* ---- migration.c ---- */
/* The node a migrating slot goes to, or NULL; whether a slot is importing. */
const char *migration_target(int slot);
bool migration_importing(int slot);
str migration_nodes_suffix(str out);
void cluster_cmd_setslot(struct request *req);
void cluster_cmd_migrate(struct request *req);
int cluster_migrate_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);

/* ---- slot_jobs.c: atomic slot migration's jobs, as CLUSTER GETSLOTMIGRATIONS shows them ---- */
enum slot_job_state {
    SLOT_JOB_CONNECTING, SLOT_JOB_SNAPSHOT, SLOT_JOB_HANDOFF, SLOT_JOB_COMMITTING, SLOT_JOB_CLEANUP,
    SLOT_JOB_IMPORTING, SLOT_JOB_LINK_LOST, SLOT_JOB_SUCCESS, SLOT_JOB_FAILED, SLOT_JOB_CANCELLED,
};
struct slot_job {
    char name[CLUSTER_ID_LEN + 1];
    bool export; /* else import */
    uint8_t slots[CLUSTER_SLOTS / 8];
    char source[CLUSTER_ID_LEN + 1], target[CLUSTER_ID_LEN + 1];
    enum slot_job_state state;
    char message[160];
    long long create_time, update_time, ack_time; /* unix seconds */
    long long keys_sent;
    void *impl; /* the export's or the import's own state */
    struct slot_job *next;
};
struct slot_job *slot_job_new(bool export, const char *name);
void slot_job_set_state(struct slot_job *j, enum slot_job_state state, const char *message);
bool slot_job_active(const struct slot_job *j);
static inline bool slot_job_has(const struct slot_job *j, int slot)
{
    return j->slots[slot >> 3] & (1u << (slot & 7));
}
/* "0-10 20-29" */
str slot_job_ranges(const struct slot_job *j, str out);
/* The jobs, newest first (finished ones beyond the log's length are dropped). */
struct slot_job *slot_jobs_all(void);
void slot_jobs_reply(struct outbuf *out);

/* ---- slot_export.c: the source side ---- */
void cluster_cmd_migrateslots(struct request *req);
void cluster_cmd_cancelslotmigrations(struct request *req);
/* A write to this slot waits (-TRYAGAIN) while its export hands over. */
bool slot_export_paused(int slot);

/* ---- slot_import.c: the target side (CLUSTER SYNCSLOTS, the source's link) ---- */
void cluster_cmd_syncslots(struct request *req);
/* Deletes this node's keys of the job's slots a batch at a time, logged as DELs; true when none is left. */
bool slot_purge_step(const struct slot_job *j, int budget);

/* ---- peer.c ---- */
struct net_conn;
/* A blocking-with-timeout connection to another server (TCP_NODELAY; TLS
 * with tls-cluster), or NULL. Closed with net_conn_close. */
struct net_conn *peer_connect(const char *host, long long port, long long timeout_ms);
bool peer_send(struct net_conn *c, const char *data, size_t len, long long timeout_ms);
/* Reads what is there within the timeout: bytes read, or -1. */
ssize_t peer_receive(struct net_conn *c, char *buf, size_t size, long long timeout_ms);

/* ---- links.c ---- */
void links_sync(void);
/* PUBLISH goes to every other node; SPUBLISH (shard_only) to the other
 * nodes of this node's shard. */
void links_forward_publish(bool shard_only, const char *channel, size_t clen, const char *msg, size_t mlen);
void links_reply(struct outbuf *o);

#endif
