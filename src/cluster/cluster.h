/* cluster: Redis Cluster's protocol over a topology kept in etcd.
 *
 * What the rest of the server asks of a cluster is small: whether a
 * command's keys are served here (the routing hook dispatch calls, which
 * answers -MOVED, -ASK, -CROSSSLOT, -CLUSTERDOWN in Redis's words), and
 * where a published message must also go. How the topology is kept — an
 * etcd lease per node, compare-and-set transactions on the slot map, a
 * watch that triggers a re-read — stays behind this header.
 *
 * Files: cluster.c (the etcd session and the view), topology.c (the model
 * and its replies), routing.c (key slots, the dispatch hook),
 * cluster_commands.c (CLUSTER ..., READONLY, READWRITE, ASKING), links.c
 * (node-to-node links carrying PUBLISH), etcd.c (the HTTP client). */
#ifndef RUNNEL_CLUSTER_CLUSTER_H
#define RUNNEL_CLUSTER_CLUSTER_H

#include <stdbool.h>

#include "protocol/command.h"

/* At start-up, after the configuration is read: with cluster-enabled yes
 * loads or creates the node id, connects to etcd and installs the hooks.
 * Returns -1 (logged) when the cluster cannot start. */
int cluster_init(void);
bool cluster_enabled(void);

extern struct command cluster_commands[];
/* The same names without cluster-enabled: they answer that it is off. */
extern struct command cluster_disabled_commands[];

#endif
