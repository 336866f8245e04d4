/* election: a shard's primary key in etcd, automatic failover and fencing.
 *
 * - The primary of a shard holds primary/<shard> = <its id>, bound to its
 *   lease. It takes the key when it is the shard's master in the view and
 *   nobody holds it (create-revision 0), so two nodes never hold it at once.
 * - When the key is gone (the primary's lease lapsed) and the recorded
 *   master is not running, each eligible replica of the shard stands:
 *   candidate/<shard>/<id> = <replication offset>, bound to its lease.
 *   After ELECTION_WINDOW_MS (or as soon as every running replica of the
 *   shard stands) the most up-to-date standing candidate (ties:
 *   lowest id) takes the primary key and makes itself the shard's master
 *   (and the old master a replica) in one transaction; the others follow
 *   it, continuing the same history (PSYNC2).
 * - Fencing: a primary that has not renewed its lease for FENCE_FRACTION of
 *   the TTL refuses writes (-CLUSTERDOWN): its lease may lapse any moment
 *   and a replica take over, so nothing it acknowledges after that point
 *   could survive. When it reaches etcd again it follows the view: as a
 *   replica of the new primary it resynchronises, dropping what the new
 *   primary lacks. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_state.h"
#include "cluster/etcd.h"
#include "protocol/encode.h"
#include "replication/replication.h"
#include "server/config.h"
#include "net/conn.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

#define TICK_MS 100
#define ELECTION_WINDOW_MS 300

static struct {
    long long standing_since_ms; /* 0: not a candidate */
    bool request_in_flight;
} el;

long long election_ttl_ms(void)
{
    long long s = (cfg.cluster_node_timeout + 999) / 1000;
    return (s < 2 ? 2 : s) * 1000;
}

bool cluster_fenced(void)
{
    const struct cluster_node *me = topology_myself(&cl.view);
    if (!me || !me->primary || !me->member) return false;
    long long ttl = election_ttl_ms();
    return event_now_ms() - cl.lease_renewed_ms > ttl - ttl / 4;
}

static void on_done(void *ctx, int status, const char *body, size_t len)
{
    (void)len;
    const char *what = ctx;
    el.request_in_flight = false;
    if (status == 200 && strstr(body, "\"succeeded\":true")) log_notice("Cluster: %s", what);
    cluster_refresh_now();
}

static void post(const char *what, str body)
{
    el.request_in_flight = true;
    etcd_post("/v3/kv/txn", body, 0, on_done, (void *)what);
    str_free(body);
}

static str txn(str compare, str ops)
{
    str body = str_append_printf(str_empty(str_len(ops) + 256), "{\"compare\":[%s],\"success\":[%s]}", compare, ops);
    str_free(compare);
    str_free(ops);
    return body;
}

/* The master in the view takes its shard's free primary key. */
static void take_primary_key(const struct cluster_node *me)
{
    char name[64];
    snprintf(name, sizeof(name), "primary/%s", me->shard);
    post("took the shard's primary key", txn(cluster_txn_absent(name), cluster_txn_put(str_empty(256), name, cl.myid, true)));
}

/* Taking a shard over: its primary key, this node's master record and the
 * old master's, demoted. */
static str takeover_ops(const struct cluster_node *me)
{
    char name[64];
    snprintf(name, sizeof(name), "primary/%s", me->shard);
    str ops = cluster_txn_put(str_empty(512), name, cl.myid, true);
    snprintf(name, sizeof(name), "member/%s", cl.myid);
    str v = cluster_member_value(me, true, me->shard);
    ops = cluster_txn_put(ops, name, v, false);
    str_free(v);
    for (int i = 0; i < cl.view.count; i++) {
        const struct cluster_node *n = &cl.view.nodes[i];
        if (i == cl.view.myself || !n->primary || strcmp(n->shard, me->shard)) continue;
        snprintf(name, sizeof(name), "member/%s", n->id);
        v = cluster_member_value(n, false, n->shard);
        ops = cluster_txn_put(ops, name, v, false);
        str_free(v);
    }
    return ops;
}

/* The winner of an election takes the free primary key. */
static void claim_shard(const struct cluster_node *me)
{
    char name[64];
    log_warning("Cluster: the primary of shard %.8s is gone; taking over with offset %lld", me->shard,
                replication_offset());
    snprintf(name, sizeof(name), "primary/%s", me->shard);
    post("won the election: this node is the shard's primary now", txn(cluster_txn_absent(name), takeover_ops(me)));
}

static void stand(const struct cluster_node *me)
{
    char name[128], offset[32];
    snprintf(name, sizeof(name), "candidate/%s/%s", me->shard, cl.myid);
    snprintf(offset, sizeof(offset), "%lld", replication_offset());
    el.standing_since_ms = event_now_ms();
    str ops = cluster_txn_put(str_empty(256), name, offset, true);
    post("standing in the shard's election", txn(str_empty(1), ops));
}

static void withdraw(const struct cluster_node *me)
{
    el.standing_since_ms = 0;
    if (!topology_is_candidate(&cl.view, me->shard, cl.myid)) return;
    char name[128];
    snprintf(name, sizeof(name), "candidate/%s/%s", me->shard, cl.myid);
    post("election over", txn(str_empty(1), cluster_txn_delete(str_empty(256), name)));
}

static bool recorded_master_running(const char *shard)
{
    for (int i = 0; i < cl.view.count; i++)
        if (cl.view.nodes[i].primary && cl.view.nodes[i].alive && !strcmp(cl.view.nodes[i].shard, shard)) return true;
    return false;
}

/* Every running replica of the shard stands: no better candidate can
 * still join, so the best one need not wait out the window (which is
 * there for replicas that have not noticed yet). */
static bool all_replicas_standing(const char *shard)
{
    int replicas = 0, standing = 0;
    for (int i = 0; i < cl.view.count; i++) {
        const struct cluster_node *n = &cl.view.nodes[i];
        if (!n->primary && n->alive && !strcmp(n->shard, shard)) replicas++;
    }
    for (int i = 0; i < cl.view.candidate_count; i++)
        if (!strcmp(cl.view.candidates[i].shard, shard)) standing++;
    return standing >= replicas;
}

static void replica_tick(const struct cluster_node *me)
{
    bool eligible = !cfg.cluster_replica_no_failover && cfg.replica_priority != 0;
    if (topology_lease_holder(&cl.view, me->shard) || recorded_master_running(me->shard) || !eligible) {
        if (el.standing_since_ms) withdraw(me);
        return;
    }
    if (!topology_is_candidate(&cl.view, me->shard, cl.myid)) {
        if (!el.standing_since_ms || event_now_ms() - el.standing_since_ms > 4 * ELECTION_WINDOW_MS) stand(me);
        return;
    }
    if (event_now_ms() - el.standing_since_ms < ELECTION_WINDOW_MS && !all_replicas_standing(me->shard)) return;
    const struct shard_claim *best = topology_best_candidate(&cl.view, me->shard);
    if (best && !strcmp(best->node, cl.myid)) claim_shard(me);
}

static void manual_tick(const struct cluster_node *me);

/* A node restarted on another address (a new port, a container's new IP)
 * updates its member record, keeping its role and shard. */
static bool update_address(const struct cluster_node *me)
{
    if (me->port == cl.port && me->tls_port == cl.tls_port && !strcmp(me->ip, cl.ip)) return false;
    char name[64];
    snprintf(name, sizeof(name), "member/%s", cl.myid);
    struct cluster_node moved = *me;
    snprintf(moved.ip, sizeof(moved.ip), "%s", cl.ip);
    moved.port = cl.port;
    moved.tls_port = cl.tls_port;
    str v = cluster_member_value(&moved, me->primary, me->shard);
    post("recorded this node's new address", txn(str_empty(1), cluster_txn_put(str_empty(256), name, v, false)));
    str_free(v);
    return true;
}

static void tick(struct event_loop *loop, void *data)
{
    (void)loop, (void)data;
    event_timer_at(server.loop, event_now_ms() + TICK_MS, tick, NULL);
    const struct cluster_node *me = topology_myself(&cl.view);
    if (!me || !me->member || !cl.lease || el.request_in_flight || !cl.etcd_up) return;
    if (update_address(me)) return;
    manual_tick(me);
    if (me->primary) {
        if (el.standing_since_ms) withdraw(me);
        else if (!topology_lease_holder(&cl.view, me->shard)) take_primary_key(me);
        return;
    }
    replica_tick(me);
}

void election_start(void)
{
    event_timer_at(server.loop, event_now_ms() + TICK_MS, tick, NULL);
}

/* ---- CLUSTER FAILOVER [FORCE|TAKEOVER] ---- */

/* A manual failover takes the key from the holder it names (or a free
 * one): compare the key's value. */
static void claim_from(const struct cluster_node *me, const char *holder)
{
    char name[64];
    snprintf(name, sizeof(name), "primary/%s", me->shard);
    str compare;
    if (holder) {
        char full[512];
        snprintf(full, sizeof(full), "%s%s", cl.prefix, name);
        str key = etcd_b64(full, strlen(full)), value = etcd_b64(holder, strlen(holder));
        compare = str_append_printf(str_empty(256), "{\"key\":%s,\"target\":\"VALUE\",\"result\":\"EQUAL\",\"value\":%s}",
                                    key, value);
        str_free(key);
        str_free(value);
    } else {
        compare = cluster_txn_absent(name);
    }
    post("manual failover: this node is the shard's primary now", txn(compare, takeover_ops(me)));
}

static struct {
    struct net_conn *conn;  /* to the old primary, paused; NULL when none */
    long long target;       /* the offset to reach */
    long long deadline_ms;
    char holder[CLUSTER_ID_LEN + 1];
} manual;

/* An aborted failover lets the primary's writes go on; a successful one
 * leaves them held until the old primary sees itself demoted (it lifts the
 * pause then, and the held writes are redirected). */
static void manual_end(const char *why)
{
    if (!manual.conn) return;
    if (why) {
        str unpause = encode_command(str_empty(64), 2, (const char *[]){"CLIENT", "UNPAUSE"}, NULL);
        peer_send(manual.conn, unpause, str_len(unpause), 500);
        str_free(unpause);
        log_warning("Manual failover aborted: %s", why);
    }
    net_conn_close(manual.conn);
    manual.conn = NULL;
}

/* From the tick: once this replica has everything the paused primary
 * had, it takes the shard and lets the old primary's clients go on (they
 * are redirected). */
static void manual_tick(const struct cluster_node *me)
{
    if (!manual.conn) return;
    if (event_now_ms() > manual.deadline_ms) {
        manual_end("the replica did not catch up in time");
        return;
    }
    if (replication_offset() < manual.target) return;
    claim_from(me, manual.holder);
    manual_end(NULL);
}

/* Pauses the primary's writes and reads its offset from ROLE. */
static bool manual_pause(const struct cluster_node *primary, long long timeout_ms)
{
    struct net_conn *conn = peer_connect(primary->ip, cluster_link_port(primary), 1000);
    if (!conn) return false;
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", timeout_ms);
    str out = str_empty(128);
    if (cfg.masterauth) out = encode_command(out, 2, (const char *[]){"AUTH", cfg.masterauth}, NULL);
    out = encode_command(out, 4, (const char *[]){"CLIENT", "PAUSE", ms, "WRITE"}, NULL);
    out = encode_command(out, 1, (const char *[]){"ROLE"}, NULL);
    bool ok = peer_send(conn, out, str_len(out), 1000);
    str_free(out);
    char buf[1024] = "";
    size_t have = 0;
    const char *at = NULL;
    while (ok && !(at = strstr(buf, "master\r\n:"))) { /* ROLE: *3 $6 master :<offset> ... */
        ssize_t n = have + 1 < sizeof(buf) ? peer_receive(conn, buf + have, sizeof(buf) - 1 - have, 1000) : -1;
        ok = n > 0;
        if (ok) buf[have += (size_t)n] = '\0';
    }
    if (!ok || sscanf(at + 9, "%lld", &manual.target) != 1) {
        net_conn_close(conn);
        return false;
    }
    manual.conn = conn;
    manual.deadline_ms = event_now_ms() + timeout_ms;
    snprintf(manual.holder, sizeof(manual.holder), "%s", primary->id);
    return true;
}

void cluster_cmd_failover(struct request *req)
{
    bool force = req->argc == 3 && (ARG_IS(req, 2, "FORCE") || ARG_IS(req, 2, "TAKEOVER"));
    if (req->argc > 3 || (req->argc == 3 && !force)) {
        reply_syntax_error(req->out);
        return;
    }
    const struct cluster_node *me = topology_myself(&cl.view);
    if (me->primary) {
        reply_error(req->out, "ERR You should send CLUSTER FAILOVER to a replica");
        return;
    }
    int p = topology_shard_primary(&cl.view, me->shard);
    if (p < 0 || p == cl.view.myself) {
        reply_error(req->out, "ERR I'm a replica but my master is unknown to me");
        return;
    }
    if (force) {
        claim_from(me, topology_lease_holder(&cl.view, me->shard));
        reply_ok(req->out);
        return;
    }
    if (manual.conn) {
        reply_error(req->out, "ERR A manual failover is already in progress");
        return;
    }
    if (!cl.view.nodes[p].alive || !manual_pause(&cl.view.nodes[p], 5000)) {
        reply_error(req->out, "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
        return;
    }
    reply_ok(req->out);
}
