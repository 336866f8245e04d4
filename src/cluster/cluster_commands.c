/* cluster_commands: CLUSTER's subcommands, READONLY, READWRITE, ASKING.
 * Questions are answered from the view; changes (MEET, ADDSLOTS, REPLICATE,
 * FORGET...) become etcd transactions whose caller waits for the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster/cluster.h"
#include "cluster/cluster_state.h"
#include "cluster/etcd.h"
#include "db/db.h"
#include "messaging/pubsub.h"
#include "replication/replication.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numbers.h"

static struct client *caller(struct request *req)
{
    return req->client;
}

/* ---- questions ---- */

static void cmd_myid(struct request *req)
{
    reply_bulk_cstr(req->out, cl.myid);
}

static void cmd_myshardid(struct request *req)
{
    reply_bulk_cstr(req->out, topology_myself(&cl.view)->shard);
}

static void cmd_keyslot(struct request *req)
{
    reply_int(req->out, cluster_key_slot(req->argv[2].ptr, req->argv[2].len));
}

static void cmd_nodes(struct request *req)
{
    str text = str_empty(1024);
    for (int i = 0; i < cl.view.count; i++) {
        text = topology_node_line(&cl.view, i, cluster_client_tls(caller(req)), text);
        if (i != cl.view.myself) continue;
        str_set_len(text, str_len(text) - 1); /* myself's line also shows its open slots */
        text = migration_nodes_suffix(text);
        text = str_append(text, "\n", 1);
    }
    reply_verbatim(req->out, text, str_len(text), "txt");
    str_free(text);
}

static void cmd_slots(struct request *req)
{
    topology_reply_slots(&cl.view, cluster_client_tls(caller(req)), req->out);
}

static void cmd_shards(struct request *req)
{
    topology_reply_shards(&cl.view, req->out);
}

static void cmd_info(struct request *req)
{
    const struct cluster_node *me = topology_myself(&cl.view);
    int assigned = topology_assigned_slots(&cl.view), failed = topology_failed_slots(&cl.view);
    str s = str_append_printf(str_empty(512),
                              "cluster_state:%s\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"
                              "cluster_slots_pfail:0\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:%d\r\n"
                              "cluster_size:%d\r\ncluster_current_epoch:%lld\r\ncluster_my_epoch:%lld\r\n"
                              "cluster_stats_messages_sent:%lld\r\ncluster_stats_messages_received:%lld\r\n"
                              "total_cluster_links_buffer_limit_exceeded:0\r\n"
                              "cluster_etcd_endpoint:%s\r\ncluster_etcd_reachable:%d\r\ncluster_shard_term:%lld\r\n",
                              topology_covered(&cl.view) ? "ok" : "fail", assigned, assigned - failed, failed,
                              cl.view.count,
                              topology_primaries_with_slots(&cl.view), cl.view.revision, me ? me->epoch : 0LL,
                              cl.messages_sent, cl.messages_received, etcd_endpoint(), cl.etcd_up ? 1 : 0,
                              replication_term());
    reply_verbatim(req->out, s, str_len(s), "txt");
    str_free(s);
}

static bool read_slot(struct request *req, int i, int *slot)
{
    long long v = 0;
    if (!request_ll_msg(req, i, &v, "ERR Invalid slot")) return false;
    if (v < 0 || v >= CLUSTER_SLOTS) {
        reply_error(req->out, "ERR Invalid slot");
        return false;
    }
    *slot = (int)v;
    return true;
}

static void cmd_countkeysinslot(struct request *req)
{
    int slot;
    if (read_slot(req, 2, &slot)) reply_int(req->out, slot_index_count(slot));
}

static void reply_key(void *ctx, const char *key, size_t len)
{
    reply_bulk(ctx, key, len);
}

static void cmd_getkeysinslot(struct request *req)
{
    int slot;
    long long max = 0;
    if (!read_slot(req, 2, &slot)) return;
    if (!request_ll_msg(req, 3, &max, "ERR Invalid number of keys") || max < 0) {
        if (max < 0) reply_error(req->out, "ERR Invalid number of keys");
        return;
    }
    long long n = slot_index_count(slot);
    reply_array(req->out, n < max ? n : max);
    slot_index_keys(slot, max, reply_key, req->out);
}

static void cmd_count_failure_reports(struct request *req)
{
    if (topology_find(&cl.view, req->argv[2].ptr) < 0) {
        reply_errorf(req->out, "ERR Unknown node %s", req->argv[2].ptr);
        return;
    }
    reply_int(req->out, 0);
}

static void cmd_replicas(struct request *req)
{
    int i = topology_find(&cl.view, req->argv[2].ptr);
    if (i < 0) {
        reply_errorf(req->out, "ERR Unknown node %s", req->argv[2].ptr);
        return;
    }
    if (!cl.view.nodes[i].primary) {
        reply_error(req->out, "ERR The specified node is not a master");
        return;
    }
    int n = 0;
    for (int k = 0; k < cl.view.count; k++)
        n += !cl.view.nodes[k].primary && !strcmp(cl.view.nodes[k].shard, cl.view.nodes[i].shard);
    reply_array(req->out, n);
    for (int k = 0; k < cl.view.count; k++) {
        if (cl.view.nodes[k].primary || strcmp(cl.view.nodes[k].shard, cl.view.nodes[i].shard)) continue;
        str line = topology_node_line(&cl.view, k, cluster_client_tls(caller(req)), str_empty(256));
        reply_bulk(req->out, line, str_len(line) - 1);
        str_free(line);
    }
}

static void cmd_links(struct request *req)
{
    links_reply(req->out);
}

/* ---- changes ---- */

struct slot_change {
    bool add;
    bool slots[CLUSTER_SLOTS];
};

/* A copy of the view's slot map with this change made; NULL with *err when
 * a slot is someone else's (the view changed since the command checked). */
static topology_slot_map *changed_map(const struct slot_change *ch, const char *shard, const char **err)
{
    topology_slot_map *map = mem_alloc(sizeof(*map));
    memcpy(map, cl.view.slot_shard, sizeof(*map));
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        if (!ch->slots[s]) continue;
        if (ch->add && (*map)[s][0] && strcmp((*map)[s], shard)) {
            static char buf[64];
            snprintf(buf, sizeof(buf), "ERR Slot %d is already busy", s);
            *err = buf;
            mem_free(map);
            return NULL;
        }
        snprintf((*map)[s], CLUSTER_ID_LEN + 1, "%s", ch->add ? shard : "");
    }
    return map;
}

static str build_slots(void *arg, const char **err)
{
    struct slot_change *ch = arg;
    const struct cluster_node *me = topology_myself(&cl.view);
    topology_slot_map *map = changed_map(ch, me->shard, err);
    if (!map) return NULL;
    str text = topology_encode_map((const char(*)[CLUSTER_ID_LEN + 1]) * map);
    mem_free(map);
    str ops = cluster_txn_put(str_empty(512), "slots", text, false);
    str_free(text);
    if (!me->member) { /* a fresh node owns slots as the primary of its own shard */
        char name[64];
        snprintf(name, sizeof(name), "member/%s", cl.myid);
        str v = cluster_member_value(me, true, me->shard);
        ops = cluster_txn_put(ops, name, v, false);
        str_free(v);
    }
    return cluster_txn_wrap(str_empty(8), ops);
}

/* Checks one slot of ADDSLOTS/DELSLOTS; replies Redis's error when wrong. */
static bool slot_acceptable(struct request *req, struct slot_change *ch, int s)
{
    if (ch->slots[s]) {
        reply_errorf(req->out, "ERR Slot %d specified multiple times", s);
        return false;
    }
    bool busy = cl.view.slot_shard[s][0] != '\0';
    if (ch->add && busy) {
        reply_errorf(req->out, "ERR Slot %d is already busy", s);
        return false;
    }
    if (!ch->add && !busy) {
        reply_errorf(req->out, "ERR Slot %d is already unassigned", s);
        return false;
    }
    ch->slots[s] = true;
    return true;
}

static void slots_command(struct request *req, bool add, bool ranges)
{
    if (ranges && req->argc % 2) {
        reply_wrong_arity(req->out, add ? "cluster|addslotsrange" : "cluster|delslotsrange");
        return;
    }
    struct slot_change *ch = mem_calloc(sizeof(*ch));
    ch->add = add;
    for (int i = 2; i < req->argc; i += ranges ? 2 : 1) {
        int a, b;
        if (!read_slot(req, i, &a) || (ranges && !read_slot(req, i + 1, &b))) goto refused;
        if (!ranges) b = a;
        if (a > b) {
            reply_errorf(req->out, "ERR start slot number %d is greater than end slot number %d", a, b);
            goto refused;
        }
        for (int s = a; s <= b; s++)
            if (!slot_acceptable(req, ch, s)) goto refused;
    }
    cluster_change(caller(req), build_slots, ch);
    return;
refused:
    mem_free(ch);
}

static void cmd_addslots(struct request *req)
{
    slots_command(req, true, false);
}

static void cmd_addslotsrange(struct request *req)
{
    slots_command(req, true, true);
}

static void cmd_delslots(struct request *req)
{
    slots_command(req, false, false);
}

static void cmd_delslotsrange(struct request *req)
{
    slots_command(req, false, true);
}

struct meet {
    char ip[64];
    int port;
};

/* Puts a member record for `n` unless one exists. */
static str join_op(str ops, const struct cluster_node *n)
{
    if (n->member) return ops;
    char name[64];
    snprintf(name, sizeof(name), "member/%s", n->id);
    str v = cluster_member_value(n, true, n->id);
    ops = cluster_txn_put(ops, name, v, false);
    str_free(v);
    return ops;
}

static str build_meet(void *arg, const char **err)
{
    struct meet *m = arg;
    const struct cluster_node *other = topology_running_at(&cl.view, m->ip, m->port);
    if (!other) {
        *err = "ERR No Runnel node of this cluster runs at that address (is it started with the same "
               "cluster-name and etcd?)";
        return NULL;
    }
    str ops = join_op(str_empty(256), topology_myself(&cl.view));
    ops = join_op(ops, other);
    if (str_len(ops) == 0) { /* both joined already: nothing to write */
        str_free(ops);
        ops = cluster_txn_put(str_empty(64), "epoch", "meet", false);
    }
    return cluster_txn_wrap(str_empty(8), ops);
}

static void cmd_meet(struct request *req)
{
    long long port;
    if (!request_ll_msg(req, 3, &port, "ERR Invalid base port specified: %s") || port <= 0 || port > 65535) {
        if (port <= 0 || port > 65535) reply_errorf(req->out, "ERR Invalid node address specified: %s:%s", req->argv[2].ptr, req->argv[3].ptr);
        return;
    }
    struct meet *m = mem_alloc(sizeof(*m));
    snprintf(m->ip, sizeof(m->ip), "%s", req->argv[2].ptr);
    if (!strcmp(m->ip, "localhost")) snprintf(m->ip, sizeof(m->ip), "127.0.0.1");
    m->port = (int)port;
    cluster_change(caller(req), build_meet, m);
}

static str build_replicate(void *arg, const char **err)
{
    const char *target_id = arg;
    int t = topology_find(&cl.view, target_id);
    if (t < 0) {
        *err = "ERR Unknown node";
        return NULL;
    }
    const struct cluster_node *target = &cl.view.nodes[t], *me = topology_myself(&cl.view);
    char name[64];
    snprintf(name, sizeof(name), "member/%s", cl.myid);
    str v = cluster_member_value(me, false, target->shard);
    str ops = cluster_txn_put(str_empty(256), name, v, false);
    str_free(v);
    const char *held = topology_lease_holder(&cl.view, me->shard);
    if (held && !strcmp(held, cl.myid)) { /* no longer the primary of the shard it had */
        snprintf(name, sizeof(name), "primary/%s", me->shard);
        ops = cluster_txn_delete(ops, name);
    }
    return cluster_txn_wrap(str_empty(8), ops);
}

static void cmd_replicate(struct request *req)
{
    const char *id = req->argv[2].ptr;
    int t = topology_find(&cl.view, id);
    if (t < 0) {
        reply_errorf(req->out, "ERR Unknown node %s", id);
        return;
    }
    if (t == cl.view.myself) {
        reply_error(req->out, "ERR Can't replicate myself");
        return;
    }
    if (!cl.view.nodes[t].primary) {
        reply_error(req->out, "ERR I can only replicate a master, not a replica.");
        return;
    }
    const struct cluster_node *me = topology_myself(&cl.view);
    bool has_slots = false;
    for (int s = 0; s < CLUSTER_SLOTS && !has_slots; s++) has_slots = cl.view.owner[s] == cl.view.myself;
    if (me->primary && (has_slots || db_size(db_by_index(0)) > 0)) {
        reply_error(req->out, "ERR To set a master the node must be empty and without assigned slots.");
        return;
    }
    cluster_change(caller(req), build_replicate, mem_strdup(id));
}

static str build_forget(void *arg, const char **err)
{
    char name[64];
    snprintf(name, sizeof(name), "member/%s", (const char *)arg);
    (void)err;
    return cluster_txn_wrap(str_empty(8), cluster_txn_delete(str_empty(128), name));
}

static void cmd_forget(struct request *req)
{
    const char *id = req->argv[2].ptr;
    int t = topology_find(&cl.view, id);
    if (t == cl.view.myself) {
        reply_error(req->out, "ERR I tried hard but I can't forget myself...");
        return;
    }
    if (t < 0) {
        /* another node's FORGET already removed it from the shared view
         * (redis-cli --cluster del-node asks every node in turn) */
        bool running = false;
        for (int i = 0; i < cl.view.running_count; i++) running |= !strcmp(cl.view.running[i].id, id);
        if (running) reply_ok(req->out);
        else reply_errorf(req->out, "ERR Unknown node %s", id);
        return;
    }
    const struct cluster_node *me = topology_myself(&cl.view);
    if (!me->primary && !strcmp(cl.view.nodes[t].shard, me->shard) && cl.view.nodes[t].primary) {
        reply_error(req->out, "ERR Can't forget my master!");
        return;
    }
    cluster_change(caller(req), build_forget, mem_strdup(id));
}

static str build_reset(void *arg, const char **err)
{
    (void)arg, (void)err;
    const struct cluster_node *me = topology_myself(&cl.view);
    char name[64];
    snprintf(name, sizeof(name), "member/%s", cl.myid);
    str ops = cluster_txn_delete(str_empty(256), name);
    if (me->primary) { /* its slots become unassigned */
        topology_slot_map *map = mem_alloc(sizeof(*map));
        memcpy(map, cl.view.slot_shard, sizeof(*map));
        for (int s = 0; s < CLUSTER_SLOTS; s++)
            if (!strcmp((*map)[s], me->shard)) (*map)[s][0] = '\0';
        str text = topology_encode_map((const char(*)[CLUSTER_ID_LEN + 1]) * map);
        ops = cluster_txn_put(ops, "slots", text, false);
        str_free(text);
        mem_free(map);
    }
    return cluster_txn_wrap(str_empty(8), ops);
}

static void cmd_reset(struct request *req)
{
    if (req->argc == 3 && !ARG_IS(req, 2, "HARD") && !ARG_IS(req, 2, "SOFT")) {
        reply_syntax_error(req->out);
        return;
    }
    const struct cluster_node *me = topology_myself(&cl.view);
    if (me->primary && db_size(db_by_index(0)) > 0) {
        reply_error(req->out, "ERR CLUSTER RESET can't be called with master nodes containing keys");
        return;
    }
    cluster_change(caller(req), build_reset, NULL);
}

/* A message another node published: delivered here only. */
static void cmd_cluster_publish(struct request *req)
{
    enum pubsub_kind kind = ARG_IS(req, 1, "SPUBLISH") ? PUBSUB_SHARD : PUBSUB_CHANNEL;
    cl.messages_received++;
    reply_int(req->out, pubsub_publish(kind, req->argv[2].ptr, req->argv[2].len, req->argv[3].ptr, req->argv[3].len));
}

static void cmd_ok(struct request *req)
{
    reply_ok(req->out);
}

static void cmd_readonly(struct request *req)
{
    cluster_client_set_readonly(caller(req), true);
    reply_ok(req->out);
}

static void cmd_readwrite(struct request *req)
{
    cluster_client_set_readonly(caller(req), false);
    reply_ok(req->out);
}

static void cmd_asking(struct request *req)
{
    cluster_client_set_asking(caller(req));
    reply_ok(req->out);
}

#define CL_FLAGS (CMD_STALE | CMD_LOADING)
/* MIGRATE works with or without a cluster, as in Redis. */
#define MIGRATE_ENTRY                                                                                             \
    {"migrate", cluster_cmd_migrate, -6, CMD_WRITE | CMD_MOVABLE_KEYS, 3, 3, 1, "@keyspace @write @slow @dangerous",   \
     "generic", "Atomically transfers a key from one Redis instance to another.", "2.6.0",                        \
     "O(N) where N is the total size of the keys transferred", NULL, cluster_migrate_keys}
#define CL_ADMIN (CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE)

static void cmd_getslotmigrations(struct request *req)
{
    slot_jobs_reply(req->out);
}

static struct command cluster_subcommands[] = {
    {"info", cmd_info, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns information about the state of a node.",
     "3.0.0", "O(1)"},
    {"myid", cmd_myid, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns the ID of a node.", "3.0.0", "O(1)"},
    {"myshardid", cmd_myshardid, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns the shard ID of a node.",
     "7.2.0", "O(1)"},
    {"nodes", cmd_nodes, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns the cluster configuration for a node.",
     "3.0.0", "O(N) where N is the total number of Cluster nodes"},
    {"slots", cmd_slots, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns the mapping of cluster slots to nodes.",
     "3.0.0", "O(N) where N is the total number of Cluster nodes"},
    {"shards", cmd_shards, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns the mapping of cluster slots to shards.",
     "7.0.0", "O(N) where N is the total number of cluster nodes"},
    {"keyslot", cmd_keyslot, 3, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns the hash slot for a key.", "3.0.0",
     "O(N) where N is the number of bytes in the key"},
    {"countkeysinslot", cmd_countkeysinslot, 3, CL_FLAGS, 0, 0, 0, "@slow", "cluster",
     "Returns the number of keys in a hash slot.", "3.0.0", "O(N) where N is the number of keys"},
    {"getkeysinslot", cmd_getkeysinslot, 4, CL_FLAGS, 0, 0, 0, "@slow", "cluster",
     "Returns the key names in a hash slot.", "3.0.0", "O(N) where N is the number of keys"},
    {"count-failure-reports", cmd_count_failure_reports, 3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Returns the number of active failure reports active for a node.", "3.0.0", "O(1)"},
    {"replicas", cmd_replicas, 3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Lists the replica nodes of a master node.", "5.0.0", "O(N)"},
    {"slaves", cmd_replicas, 3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Lists the replica nodes of a master node.", "3.0.0", "O(N)"},
    {"links", cmd_links, 2, CL_FLAGS, 0, 0, 0, "@slow", "cluster", "Returns a list of all TCP links to and from peer nodes.",
     "7.0.0", "O(N)"},
    {"addslots", cmd_addslots, -3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Assigns new hash slots to a node.", "3.0.0", "O(N)"},
    {"addslotsrange", cmd_addslotsrange, -4, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Assigns new hash slot ranges to a node.", "7.0.0", "O(N)"},
    {"delslots", cmd_delslots, -3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Sets hash slots as unbound for a node.", "3.0.0", "O(N)"},
    {"delslotsrange", cmd_delslotsrange, -4, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Sets hash slot ranges as unbound for a node.", "7.0.0", "O(N)"},
    {"meet", cmd_meet, -4, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Forces a node to handshake with another node.", "3.0.0", "O(1)"},
    {"replicate", cmd_replicate, 3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Configure a node as replica of a master node.", "3.0.0", "O(1)"},
    {"forget", cmd_forget, 3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Removes a node from the nodes table.", "3.0.0", "O(1)"},
    {"reset", cmd_reset, -2, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster", "Resets a node.", "3.0.0",
     "O(N)"},
    {"set-config-epoch", cmd_ok, 3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Sets the configuration epoch for a new node (the etcd revision serves as the epoch: accepted).", "3.0.0",
     "O(1)"},
    {"bumpepoch", cmd_ok, 2, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Advances the cluster config epoch (etcd's revision serves: accepted).", "3.0.0", "O(1)"},
    {"failover", cluster_cmd_failover, -2, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Forces a replica to perform a manual failover of its master.", "3.0.0", "O(1)"},
    {"setslot", cluster_cmd_setslot, -4, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Binds a hash slot to a node.", "3.0.0", "O(1)"},
    {"migrateslots", cluster_cmd_migrateslots, -6, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Moves slot ranges to other primaries atomically: their keys and the writes made meanwhile, then the "
     "ownership in one etcd transaction.", "9.0.0", "O(N) where N is the total number of slots"},
    {"getslotmigrations", cmd_getslotmigrations, 2, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Lists the atomic slot migrations in progress and the recent ones.", "9.0.0",
     "O(N) where N is the number of slot migrations kept"},
    {"cancelslotmigrations", cluster_cmd_cancelslotmigrations, 2, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous",
     "cluster", "Cancels the atomic slot migrations this node started.", "9.0.0", "O(N)"},
    {"syncslots", cluster_cmd_syncslots, -3, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "The link of an atomic slot migration (sent by the source to the target).", "9.0.0", "O(1)"},
    {"publish", cmd_cluster_publish, 4, CMD_PUBSUB | CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@pubsub @fast",
     "cluster", "Delivers a message another node of the cluster published (a link between nodes sends it).",
     "7.2.4", "O(N+M)"},
    {"spublish", cmd_cluster_publish, 4, CMD_PUBSUB | CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@pubsub @fast",
     "cluster", "Delivers a shard message another node of this shard published.", "7.2.4", "O(N+M)"},
    {"saveconfig", cmd_ok, 2, CL_ADMIN, 0, 0, 0, "@admin @slow @dangerous", "cluster",
     "Forces a node to save the cluster configuration to disk (it lives in etcd).", "3.0.0", "O(1)"},
    {0},
};

struct command cluster_commands[] = {
    {"cluster", NULL, -2, 0, 0, 0, 0, "@slow", "cluster", "A container for Redis Cluster commands.", "3.0.0",
     "Depends on subcommand.", cluster_subcommands},
    {"readonly", cmd_readonly, 1, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@fast @connection", "cluster",
     "Enables read-only queries for a connection to a Redis Cluster replica node.", "3.0.0", "O(1)"},
    {"readwrite", cmd_readwrite, 1, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@fast @connection", "cluster",
     "Enables read-write queries for a connection to a Redis Cluster replica node.", "3.0.0", "O(1)"},
    {"asking", cmd_asking, 1, CMD_FAST, 0, 0, 0, "@fast @connection", "cluster",
     "Signals that a cluster client is following an -ASK redirect.", "3.0.0", "O(1)"},
    MIGRATE_ENTRY,
    {0},
};

/* Without cluster-enabled, as Redis: the commands exist and refuse. */
static void cmd_disabled(struct request *req)
{
    reply_error(req->out, "ERR This instance has cluster support disabled");
}

struct command cluster_disabled_commands[] = {
    {"cluster", cmd_disabled, -2, CMD_STALE | CMD_LOADING, 0, 0, 0, "@slow", "cluster",
     "A container for Redis Cluster commands.", "3.0.0", "Depends on subcommand."},
    {"readonly", cmd_disabled, 1, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@fast @connection", "cluster",
     "Enables read-only queries for a connection to a Redis Cluster replica node.", "3.0.0", "O(1)"},
    {"readwrite", cmd_disabled, 1, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@fast @connection", "cluster",
     "Enables read-write queries for a connection to a Redis Cluster replica node.", "3.0.0", "O(1)"},
    {"asking", cmd_disabled, 1, CMD_FAST, 0, 0, 0, "@fast @connection", "cluster",
     "Signals that a cluster client is following an -ASK redirect.", "3.0.0", "O(1)"},
    MIGRATE_ENTRY,
    {0},
};
