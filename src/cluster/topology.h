/* topology: the cluster as this node sees it — its nodes, their roles and
 * shards, which shard serves each of the 16384 slots — rebuilt from the
 * keys under the cluster's etcd prefix, and rendered as CLUSTER NODES,
 * SLOTS and SHARDS replies.
 *
 * The prefix holds (values are plain text):
 *   member/<id>  "ip port role shard tls-port"  a node that joined (CLUSTER
 *                                       MEET); role "master" or "slave"; port
 *                                       0 when it has only a TLS port, and
 *                                       tls-port absent or 0 when none
 *   alive/<id>   "ip port tls-port"     bound to the node's lease: it runs
 *   slots        "start end shard\n"... the slot map, written only by
 *                                       compare-and-set on its revision
 * A node that has not joined sees only itself (and the slots its shard
 * holds), as a fresh Redis Cluster node does before CLUSTER MEET. */
#ifndef RUNNEL_CLUSTER_TOPOLOGY_H
#define RUNNEL_CLUSTER_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/outbuf.h"
#include "util/str.h"

#define CLUSTER_SLOTS 16384
#define CLUSTER_ID_LEN 40

struct cluster_node {
    char id[CLUSTER_ID_LEN + 1];
    char ip[64];
    int port;               /* plain client port, 0: none */
    int tls_port;           /* TLS client port, 0: none */
    bool primary;
    char shard[CLUSTER_ID_LEN + 1];
    bool alive;
    bool member;            /* has a member/ record */
    long long epoch;        /* the member record's mod revision */
};

/* primary/<shard> -> holder, and candidate/<shard>/<id> -> offset. */
struct shard_claim {
    char shard[CLUSTER_ID_LEN + 1];
    char node[CLUSTER_ID_LEN + 1];
    long long offset; /* a candidate's replication offset; for primary/<shard>, the
                       * revision at which the key was taken: the shard's term */
};

struct topology {
    struct cluster_node *nodes;
    int count;
    int myself;                       /* index of this node */
    int16_t owner[CLUSTER_SLOTS];     /* index of the node serving the slot, -1: none in this view */
    char (*slot_shard)[CLUSTER_ID_LEN + 1]; /* the map as stored: shard id per slot, "" none */
    long long revision;               /* etcd revision of the read (the config epoch) */
    long long slots_revision;         /* mod revision of the slot map (0: absent), for CAS */
    struct cluster_node *running;     /* every node with an alive/ key, member or not (CLUSTER MEET) */
    int running_count;
    struct shard_claim *leases;       /* primary/<shard>: who holds the shard's primary key */
    int lease_count;
    struct shard_claim *candidates;   /* candidate/<shard>/<id>: replicas standing in an election */
    int candidate_count;
};

/* Who this node is, when etcd has no record of it. */
struct topology_self {
    const char *id;
    const char *ip;
    int port, tls_port;
};

/* The port to reach a node at over TLS or not; the other one when the node
 * has none of that kind. */
static inline int topology_node_port(const struct cluster_node *n, bool tls)
{
    int port = tls ? n->tls_port : n->port;
    return port ? port : tls ? n->port : n->tls_port;
}

void topology_init(struct topology *t);
void topology_free(struct topology *t);
/* Rebuilds t from an etcd range reply over the prefix; false (t
 * unchanged, the reason in err) if the reply does not parse. */
bool topology_load(struct topology *t, const char *prefix, const struct topology_self *self, const char *json,
                   char *err, size_t errlen);

int topology_find(const struct topology *t, const char *id);
/* A running node at this address (either of its ports), member or not, or NULL. */
const struct cluster_node *topology_running_at(const struct topology *t, const char *ip, int port);
const struct cluster_node *topology_myself(const struct topology *t);
/* The node holding the shard's primary key, or NULL. */
const char *topology_lease_holder(const struct topology *t, const char *shard);
/* The shard's term: the etcd revision at which its primary took its key (0: none held). */
long long topology_shard_term(const struct topology *t, const char *shard);
/* The standing candidate with the highest offset (ties: lowest id), or NULL. */
const struct shard_claim *topology_best_candidate(const struct topology *t, const char *shard);
bool topology_is_candidate(const struct topology *t, const char *shard, const char *id);
/* The primary serving a shard in this view (the holder of its primary key,
 * else the member recorded as its master), or -1. */
int topology_shard_primary(const struct topology *t, const char *shard);
int topology_assigned_slots(const struct topology *t);
/* Assigned slots whose serving primary is not running. */
int topology_failed_slots(const struct topology *t);
/* Every slot served by a known, running primary. */
bool topology_covered(const struct topology *t);
int topology_primaries_with_slots(const struct topology *t);

/* A slot map (shard id per slot, "" for none) as stored in etcd. */
typedef char topology_slot_map[CLUSTER_SLOTS][CLUSTER_ID_LEN + 1];
str topology_encode_map(const topology_slot_map map);

/* One node's CLUSTER NODES line, with its newline. tls: the reader is
 * connected over TLS and is given the nodes' TLS ports (each reply does). */
str topology_node_line(const struct topology *t, int i, bool tls, str out);
void topology_reply_slots(const struct topology *t, bool tls, struct outbuf *o);
/* Each node with its plain "port" and its "tls-port", those it has. */
void topology_reply_shards(const struct topology *t, struct outbuf *o);

#endif
