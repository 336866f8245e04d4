/* routing: which slot a key is in, and whether this node serves a
 * command's keys — the hook dispatch calls before running or queuing a
 * command. The answers are Redis Cluster's: -MOVED <slot> <ip>:<port>,
 * -CROSSSLOT, -CLUSTERDOWN. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cluster/cluster_state.h"
#include "db/db.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/server.h"
#include "util/crc16.h"

#define MAX_ROUTED_KEYS 4096

/* CRC16 of the key, or of the part between the first '{' and the next
 * '}' when that part is not empty (a hash tag). */
int cluster_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1) return crc16(open + 1, (size_t)(close - open - 1)) & (CLUSTER_SLOTS - 1);
    }
    return crc16(key, len) & (CLUSTER_SLOTS - 1);
}

void cluster_client_set_readonly(struct client *c, bool on)
{
    if (on) c->flags |= CLIENT_READONLY_ROUTE;
    else c->flags &= ~CLIENT_READONLY_ROUTE;
}

void cluster_client_set_asking(struct client *c)
{
    c->flags |= CLIENT_ASKING;
}

/* The slot every key of the command is in: -1 when it has none, -2 when
 * they are in different slots. */
static int command_slot(struct command *cmd, int argc, struct arg *argv)
{
    static int positions[MAX_ROUTED_KEYS];
    int n = command_key_positions(cmd, argv, argc, positions, MAX_ROUTED_KEYS);
    int slot = -1;
    for (int i = 0; i < n; i++) {
        struct arg *k = &argv[positions[i]];
        int s = cluster_key_slot(k->ptr, k->len);
        if (slot >= 0 && s != slot) return -2;
        slot = s;
    }
    return slot;
}

/* How many of the command's keys this node holds (asked only while their
 * slot is migrating). */
static int keys_present(struct client *c, struct command *cmd, int argc, struct arg *argv, int *total)
{
    static int positions[MAX_ROUTED_KEYS];
    int n = command_key_positions(cmd, argv, argc, positions, MAX_ROUTED_KEYS), present = 0;
    for (int i = 0; i < n; i++)
        if (db_peek(c->db, argv[positions[i]].ptr, argv[positions[i]].len)) present++;
    *total = n;
    return present;
}

static bool cluster_down_for(uint32_t flags)
{
    if (!cfg.cluster_require_full_coverage || topology_covered(&cl.view)) return false;
    return !(cfg.cluster_allow_reads_when_down && !(flags & CMD_WRITE));
}

/* A slot this node is giving away: keys still here are served, the others
 * are asked for at the target (-ASK); a mix must wait (-TRYAGAIN). */
static const char *route_migrating(int slot, const char *target, int present, int total, bool tls, char *buf,
                                   size_t size)
{
    if (present == total) return NULL;
    if (present > 0) return "TRYAGAIN Multiple keys request during rehashing of slot";
    int t = topology_find(&cl.view, target);
    if (t < 0) return NULL;
    snprintf(buf, size, "ASK %d %s:%d", slot, cl.view.nodes[t].ip, topology_node_port(&cl.view.nodes[t], tls));
    return buf;
}

const char *cluster_route(struct client *c, struct command *cmd, int argc, struct arg *argv, char *buf, size_t size)
{
    if (c->flags & (CLIENT_MASTER | CLIENT_LOADER | CLIENT_SLOT_IMPORT)) return NULL;
    if (!strcmp(cmd->full_name, "select") && argc == 2 && strcmp(argv[1].ptr, "0") != 0)
        return "ERR SELECT is not allowed in cluster mode";
    if (!strcmp(cmd->full_name, "swapdb")) return "ERR SWAPDB is not allowed in cluster mode";
    int slot = command_slot(cmd, argc, argv);
    bool asking = (c->flags & CLIENT_ASKING) || !strcmp(cmd->full_name, "restore-asking");
    c->flags &= ~CLIENT_ASKING; /* good for the next command only */
    if (slot == -1) return NULL;
    if (slot == -2) return "CROSSSLOT Keys in request don't hash to the same slot";
    if (c->flags & CLIENT_MULTI) { /* a transaction's commands must share one slot too */
        if (c->multi_count == 0) c->multi_slot = -1;
        if (c->multi_slot >= 0 && c->multi_slot != slot) return "CROSSSLOT Keys in request don't hash to the same slot";
        c->multi_slot = slot;
    }
    int owner = cl.view.owner[slot];
    if (owner == cl.view.myself) {
        if ((cmd->flags & CMD_WRITE) && cluster_fenced()) return "CLUSTERDOWN The cluster is down";
        if ((cmd->flags & CMD_WRITE) && slot_export_paused(slot))
            return "TRYAGAIN The slot is being handed over to another node, try again";
        const char *target = migration_target(slot);
        if (!target) return NULL;
        int total, present = keys_present(c, cmd, argc, argv, &total);
        return route_migrating(slot, target, present, total, cluster_client_tls(c), buf, size);
    }
    if (asking && migration_importing(slot)) return NULL;
    if (owner < 0) return "CLUSTERDOWN Hash slot not served";
    if (cluster_down_for(cmd->flags)) return "CLUSTERDOWN The cluster is down";
    const struct cluster_node *me = topology_myself(&cl.view);
    bool same_shard = me && !strcmp(me->shard, cl.view.nodes[owner].shard);
    if (same_shard && (c->flags & CLIENT_READONLY_ROUTE) && !(cmd->flags & CMD_WRITE)) return NULL;
    snprintf(buf, size, "MOVED %d %s:%d", slot, cl.view.nodes[owner].ip,
             topology_node_port(&cl.view.nodes[owner], cluster_client_tls(c)));
    return buf;
}

static const char *route_hook(struct client *c, struct command *cmd, char *buf, size_t size)
{
    return cluster_route(c, cmd, c->argc, c->argv, buf, size);
}

void cluster_hooks_install(void)
{
    server_cluster_hooks.refusal = route_hook;
}
