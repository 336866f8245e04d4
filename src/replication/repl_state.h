/* repl_state: what the files of replication/ share — the replication ids
 * and counters, and the calls between the primary side (primary.c), the
 * replica side (replica.c), the snapshot transfer (full_sync.c) and the
 * commands. Nothing outside replication/ includes it. */
#ifndef RUNNEL_REPLICATION_REPL_STATE_H
#define RUNNEL_REPLICATION_REPL_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/client.h"
#include "util/str.h"

#define REPL_ID_LEN 40

struct repl_state {
    char replid[REPL_ID_LEN + 1];  /* this history's id (a replica's is its primary's) */
    char replid2[REPL_ID_LEN + 1]; /* the previous history's id, after a promotion */
    long long second_pos;          /* replid2 is valid for positions up to here; -1: none */
    long long stream_base;         /* on a primary: offset = oplog_stream_total() + base */
    long long sync_full, sync_partial_ok, sync_partial_err;
    /* replicas that came back with history this primary never had (a
     * former primary that went on accepting writes), and its bytes */
    long long sync_diverged, sync_diverged_bytes;
    long long term; /* the shard's term this node knows (cluster); 0: none */
};
extern struct repl_state repl;

/* ---- ids (replication.c) ---- */
void repl_id_generate(char out[REPL_ID_LEN + 1]);
/* A promotion: the current id becomes replid2, valid up to the current
 * offset, and a new id starts (PSYNC2). */
void repl_id_shift(void);
void repl_id_clear_second(void);
/* The stream offset a write logged right now would end at. */
long long repl_offset_now(void);

/* ---- the primary side (primary.c) ---- */
/* A replica being synchronised waits for a snapshot to start, receives it,
 * then waits for its first ACK (it has loaded the snapshot: nothing may
 * follow the snapshot's end mark before that), then gets the stream. */
enum replica_state { REPLICA_WAIT_SNAPSHOT, REPLICA_SEND_SNAPSHOT, REPLICA_WAIT_ACK, REPLICA_ONLINE };

struct replica;
/* Starts feeding replicas from the operation log (a primary with a
 * backlog); the backlog is created at the current offset if none exists. */
void primary_feed_start(void);
void primary_feed_stop(void);
/* REPLCONF and PSYNC/SYNC from a client that is becoming a replica. */
struct replica *primary_replica_of(struct client *c, bool create);
void primary_replconf_option(struct client *c, const char *name, const char *value);
void primary_ack(struct client *c, long long offset, long long aof_offset);
/* PSYNC replid offset (SYNC: replid NULL); replies on c. */
void primary_psync(struct client *c, const char *replid, long long psync_offset);
void primary_disconnect_replicas(void);
int primary_replica_count(void);
/* Replicas online with an ACK within min-replicas-max-lag seconds. */
int primary_good_replicas(void);
/* Replicas whose acknowledged offset (aof: fsync'd offset) reached pos. */
int primary_replicas_acked(long long pos, bool aof);
str primary_info_replicas(str s);
void primary_role_reply(struct outbuf *o);
void primary_cron(void);
void primary_before_flush(void);
void primary_client_closing(struct client *c);
size_t primary_stream_pending(struct client *c);
long primary_stream_write(struct client *c);
/* For the snapshot transfer: the replicas in a state, one by one. */
struct client *primary_replica_client(struct replica *r);
enum replica_state primary_replica_state(struct replica *r);
struct replica *primary_replica_next(struct replica *r); /* NULL: the first */
/* PSYNC's full sync starts with "+FULLRESYNC id offset"; SYNC's does not. */
bool primary_replica_wants_fullresync_line(struct replica *r);
/* A replica that did not announce "capa runnel" (a redis-server, redis-cli
 * --rdb) gets its snapshot as a Redis RDB file. */
bool primary_replica_wants_rdb(struct replica *r);
/* A waiting replica starts receiving a snapshot of the dataset at pos. */
void primary_replica_start_snapshot(struct replica *r, long long pos);
/* Its snapshot is queued: it gets the stream from its position once it
 * acknowledges (REPLICA_WAIT_ACK), or at once (online). */
void primary_replica_snapshot_sent(struct replica *r);
void primary_replica_set_online(struct replica *r);

/* A replica's announced address (host, listening port); returns its
 * acknowledged offset. */
long long primary_replica_address(struct replica *r, char *host, size_t size, int *port);

/* ---- FAILOVER (failover.c) ---- */
const char *failover_state_name(void);
/* This server is handing over: its PSYNC asks the target to take over. */
bool failover_target_requested(void);
void failover_cron(void);
void cmd_failover(struct request *req);

/* ---- the snapshot transfer (full_sync.c) ---- */
/* Starts a snapshot for the waiting replicas when it is time to. */
void full_sync_maybe_start(void);
void full_sync_before_flush(void);
bool full_sync_running(void);
void full_sync_abort(void);

/* ---- WAIT and WAITAOF (wait.c) ---- */
void wait_check(void);
void wait_before_flush(void);
void wait_client_closing(struct client *c);
bool wait_any(void);

/* ---- the replica side (replica.c) ---- */
bool replica_is_replica(void);
bool replica_link_up(void);
/* REPLICAOF host port; REPLICAOF NO ONE with host NULL. */
void replica_set_primary(const char *host, int port);
void replica_cron(void);
void replica_client_closing(struct client *c);
void replica_master_applied(struct client *c, const char *bytes, size_t len);
/* REPLCONF GETACK from the primary: ACK now. */
void replica_send_ack(void);
str replica_info(str s);
/* ROLE's reply on a replica. */
void replica_role_reply(struct outbuf *o);
/* Snapshot aux fields: the id and offset a restarted replica continues from. */
void replica_aux_loaded(const char *replid, long long offset);
bool replica_same_primary(const char *host, int port);

#endif
