/* replication: a primary with replicas, and a replica of a primary, as
 * Redis users know them (REPLICAOF, PSYNC with a backlog and PSYNC2 ids,
 * WAIT, ROLE, INFO replication). It sits above the server and persistence:
 * it plugs into the loop, dispatch and INFO through the server's hooks, is
 * fed by the operation log's tap, and uses persistence to write and load
 * snapshots.
 *
 * Files: replication.c (ids, hooks, INFO, snapshot aux fields),
 * repl_buffer.c (the stream in memory), primary.c (replicas),
 * full_sync.c (the snapshot a full synchronisation sends), replica.c (the
 * link to a primary), wait.c (WAIT, WAITAOF), repl_commands.c. */
#ifndef RUNNEL_REPLICATION_REPLICATION_H
#define RUNNEL_REPLICATION_REPLICATION_H

#include "protocol/command.h"

/* Before loading the dataset: hooks, ids, commands. */
void replication_init(void);
/* After loading: adopts the history a snapshot recorded and connects to
 * the configured primary (`replicaof`). */
void replication_start(void);
/* At shutdown: stops a snapshot child and closes the link. */
void replication_shutdown(void);

/* Adds DEBUG CHANGE-REPL-ID in front of the DEBUG extension installed so far. */
void replication_debug_install(void);

/* For the cluster: replicate host:port (NULL: become a primary), and
 * whether this server already replicates that address. */
void replication_follow(const char *host, int port);
bool replication_following(const char *host, int port);
bool replication_is_replica(void);
/* The term of this node's shard as the cluster knows it (the etcd revision
 * at which its primary took the shard; 0 outside a cluster). A primary
 * refuses a replica that knows a newer term (it is a stale primary), and a
 * replica tells its term in the handshake, so it never follows one. */
void replication_set_term(long long term);
long long replication_term(void);
/* The offset of this server's replication history (applied, on a replica). */
long long replication_offset(void);

void cmd_wait(struct request *req);
void cmd_waitaof(struct request *req);

extern struct command replication_commands[];

#endif
