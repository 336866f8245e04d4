/* cluster: the node's etcd session and its view of the cluster.
 *
 * At start the node obtains a lease (TTL: cluster-node-timeout), puts
 * alive/<id> under it and keeps it alive at a third of the TTL; reads the
 * whole prefix into its view; and watches the prefix: any change there
 * triggers a re-read (the changes are rare and small, so a whole re-read
 * is simpler and never wrong). When etcd does not answer, the node keeps
 * its last view and retries every second. Changes made by CLUSTER commands
 * are compare-and-set transactions on the revision the view was read at. */
#include "cluster/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_state.h"
#include "cluster/etcd.h"
#include "messaging/blocking.h"
#include "messaging/pubsub.h"
#include "net/conn.h"
#include "replication/replication.h"
#include "server/info.h"
#include "server/blocked.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/server.h"
#include "types/sort.h"
#include "util/log.h"
#include "util/mem.h"

#define RETRY_MS 1000
#define CHANGE_ATTEMPTS 8

struct cluster_state cl;

static struct {
    bool refreshing, refresh_again;
    struct etcd_stream *watch;
    long long watch_from;
    struct event_timer *keepalive_timer, *retry_timer;
    /* callbacks waiting for the next fresh view */
    struct view_waiter *waiters;
} session;

struct view_waiter {
    void (*fn)(void *arg);
    void *arg;
    struct view_waiter *next;
};

bool cluster_enabled(void)
{
    return cl.enabled;
}

static void lease_grant(void);
static void watch_start(void);

/* ---- the node id ---- */

void cluster_random_id(char out[CLUSTER_ID_LEN + 1])
{
    unsigned char raw[CLUSTER_ID_LEN / 2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) log_warning("Can't read /dev/urandom");
    if (fd >= 0) close(fd);
    for (size_t i = 0; i < sizeof(raw); i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* The id lives in cluster-config-file so that a restarted node is the same
 * node (same role, same slots). */
static int load_or_create_id(void)
{
    FILE *f = fopen(cfg.cluster_config_file, "r");
    if (f) {
        char line[128] = "";
        bool ok = fgets(line, sizeof(line), f) && sscanf(line, "%40s", cl.myid) == 1 && strlen(cl.myid) == 40;
        fclose(f);
        if (ok) return 0;
        log_warning("Unrecoverable error: the cluster config file %s does not hold a node id", cfg.cluster_config_file);
        return -1;
    }
    cluster_random_id(cl.myid);
    f = fopen(cfg.cluster_config_file, "w");
    if (!f || fprintf(f, "%s\n", cl.myid) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        log_warning("Can't write the cluster config file %s: %s", cfg.cluster_config_file, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    fclose(f);
    log_notice("No cluster configuration found, I'm %s", cl.myid);
    return 0;
}

/* ---- reading the view ---- */

static void retry_later(void (*fn)(void));

static void run_waiters(void)
{
    struct view_waiter *w = session.waiters;
    session.waiters = NULL;
    while (w) {
        struct view_waiter *next = w->next;
        w->fn(w->arg);
        mem_free(w);
        w = next;
    }
}

/* Slots this node served before the view changed. */
static bool *slots_served(void)
{
    bool *mine = mem_calloc(CLUSTER_SLOTS);
    for (int s = 0; s < CLUSTER_SLOTS; s++) mine[s] = cl.view.myself >= 0 && cl.view.owner[s] == cl.view.myself;
    return mine;
}

static bool in_lost_slot(const char *name, size_t len, void *ctx)
{
    const bool *lost = ctx;
    return lost[cluster_key_slot(name, len)];
}

/* Clients blocked on keys of slots that left this node are answered with a
 * redirect to the new owner, as Redis does. */
static void release_blocked_in(const bool *lost)
{
    for (struct client *c = server.clients; c; c = c->next) {
        struct waiter *w = c->blocking;
        if (!(c->flags & CLIENT_BLOCKED) || !w || w->key_count == 0) continue;
        int slot = cluster_key_slot(w->keys[0], str_len(w->keys[0]));
        if (!lost[slot]) continue;
        int owner = cl.view.owner[slot];
        char moved[128];
        if (owner >= 0)
            snprintf(moved, sizeof(moved), "MOVED %d %s:%d", slot, cl.view.nodes[owner].ip,
                     topology_node_port(&cl.view.nodes[owner], cluster_client_tls(c)));
        else
            snprintf(moved, sizeof(moved), "CLUSTERDOWN Hash slot not served");
        blocking_fail(w, moved);
    }
}

/* Shard channels of slots that left this node lose their subscribers here
 * (each gets sunsubscribe, and re-subscribes at the new owner). */
static void release_lost_slots(bool *was_mine)
{
    bool any = false;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        was_mine[s] = was_mine[s] && cl.view.owner[s] != cl.view.myself;
        any |= was_mine[s];
    }
    if (!any) return;
    pubsub_drop_names(PUBSUB_SHARD, in_lost_slot, was_mine);
    release_blocked_in(was_mine);
}

/* The term this node knows for its shard. Within a shard terms only grow
 * (etcd revisions do): a view read while the shard has no primary key does
 * not make an older primary acceptable again. A node moved to another
 * shard (a new primary made a replica by CLUSTER REPLICATE) starts over. */
static void note_term(void)
{
    static char shard[CLUSTER_ID_LEN + 1];
    static long long seen;
    const struct cluster_node *me = topology_myself(&cl.view);
    if (!me || !me->member) return;
    long long term = topology_shard_term(&cl.view, me->shard);
    if (strcmp(shard, me->shard) != 0) {
        memcpy(shard, me->shard, sizeof(shard));
        seen = 0;
    }
    if (term > seen) seen = term;
    replication_set_term(seen);
}

static void on_range(void *ctx, int status, const char *body, size_t len)
{
    (void)ctx, (void)len;
    session.refreshing = false;
    cl.etcd_up = status == 200;
    log_verbose("etcd: read the cluster (%d, %zu bytes)", status, len);
    if (status != 200) {
        log_warning("etcd: reading the cluster failed (%d); keeping the last view", status);
        run_waiters();
        return;
    }
    char err[200];
    struct topology_self self = {.id = cl.myid, .ip = cl.ip, .port = cl.port, .tls_port = cl.tls_port};
    bool *was_mine = slots_served();
    if (!topology_load(&cl.view, cl.prefix, &self, body, err, sizeof(err))) {
        log_warning("etcd: the cluster's keys could not be read (%s); keeping the last view", err);
    } else {
        release_lost_slots(was_mine);
        links_sync();
        note_term();
        cluster_follow_role();
        if (!session.watch) {
            session.watch_from = cl.view.revision + 1;
            watch_start();
        }
    }
    mem_free(was_mine);
    if (session.refresh_again) {
        session.refresh_again = false;
        cluster_refresh_now();
        return;
    }
    run_waiters();
}

void cluster_refresh_now(void)
{
    if (session.refreshing) {
        session.refresh_again = true;
        return;
    }
    session.refreshing = true;
    log_verbose("etcd: reading the cluster");
    str range = etcd_prefix_range(cl.prefix);
    str body = str_append_printf(str_empty(256), "{%s}", range);
    etcd_post("/v3/kv/range", body, 0, on_range, NULL);
    str_free(range);
    str_free(body);
}

/* Calls fn once the next re-read of the view has completed. */
static void after_refresh(void (*fn)(void *arg), void *arg)
{
    struct view_waiter *w = mem_alloc(sizeof(*w));
    w->fn = fn;
    w->arg = arg;
    w->next = session.waiters;
    session.waiters = w;
    cluster_refresh_now();
}

/* ---- the watch ---- */

static void on_watch_message(void *ctx, const char *json, size_t len)
{
    (void)ctx, (void)len;
    if (strstr(json, "\"events\"")) cluster_refresh_now();
}

static void on_watch_ended(void *ctx, int status, const char *body, size_t len)
{
    (void)ctx, (void)body, (void)len;
    session.watch = NULL;
    log_warning("etcd: the watch on the cluster ended (%d); watching again", status);
    retry_later(watch_start);
}

static void watch_start(void)
{
    str range = etcd_prefix_range(cl.prefix);
    str body = str_append_printf(str_empty(256), "{\"create_request\":{%s,\"start_revision\":%lld}}", range,
                                 session.watch_from);
    session.watch = etcd_stream_open("/v3/watch", body, on_watch_message, on_watch_ended, NULL);
    str_free(range);
    str_free(body);
    cluster_refresh_now(); /* what changed while nobody watched */
}

/* ---- the lease ---- */

static long long lease_ttl_seconds(void)
{
    return election_ttl_ms() / 1000;
}

static void keepalive_tick(struct event_loop *loop, void *data);
static long long keepalive_sent_ms;

static void schedule_keepalive(void)
{
    long long every = lease_ttl_seconds() * 1000 / 3;
    session.keepalive_timer = event_timer_at(server.loop, event_now_ms() + every, keepalive_tick, NULL);
}

static void on_keepalive(void *ctx, int status, const char *body, size_t len)
{
    (void)ctx, (void)len;
    cl.etcd_up = status == 200;
    if (status == 200 && !strstr(body, "\"TTL\"")) {
        /* etcd answers without a TTL when the lease is gone: start over */
        log_warning("etcd: our lease expired; registering again");
        cl.lease = 0;
        lease_grant();
        return;
    }
    if (status == 200) cl.lease_renewed_ms = keepalive_sent_ms;
    schedule_keepalive();
}

static void keepalive_tick(struct event_loop *loop, void *data)
{
    (void)loop, (void)data;
    session.keepalive_timer = NULL;
    keepalive_sent_ms = event_now_ms();
    char body[64];
    snprintf(body, sizeof(body), "{\"ID\":%lld}", cl.lease);
    etcd_post("/v3/lease/keepalive", body, 0, on_keepalive, NULL);
}

static void register_alive(bool overwrite);

static void registered(void)
{
    cl.etcd_up = true;
    cl.lease_renewed_ms = keepalive_sent_ms;
    schedule_keepalive();
    cluster_refresh_now();
}

/* The alive/ record's value: "ip port tls-port". */
static void alive_value(char *buf, size_t size)
{
    snprintf(buf, size, "%s %d %d", cl.ip, cl.port, cl.tls_port);
}

/* alive/<id> is created only if absent: a key already there with another
 * address is a second node with this id (a copied cluster-config-file);
 * with this node's own address it is this node's previous run, whose
 * lease has not lapsed yet, and is taken over. */
static void on_registered(void *ctx, int status, const char *body, size_t len)
{
    (void)ctx, (void)len;
    if (status != 200) {
        retry_later(lease_grant);
        return;
    }
    if (strstr(body, "\"succeeded\":true")) {
        registered();
        return;
    }
    char value[96];
    alive_value(value, sizeof(value));
    str mine = etcd_b64(value, strlen(value));
    bool same = strstr(body, mine) != NULL;
    str_free(mine);
    if (same) {
        register_alive(true);
        return;
    }
    log_warning("Cluster: another running node uses this node's id %s (a copied %s?); not joining until it stops",
                cl.myid, cfg.cluster_config_file);
    retry_later(lease_grant);
}

static str prefixed_key(const char *name);

static void register_alive(bool overwrite)
{
    char name[64], value[96];
    snprintf(name, sizeof(name), "alive/%s", cl.myid);
    alive_value(value, sizeof(value));
    str ops = cluster_txn_put(str_empty(256), name, value, true);
    str body;
    if (overwrite) {
        body = str_append_printf(str_empty(512), "{\"success\":[%s]}", ops);
    } else {
        str compare = cluster_txn_absent(name), key = prefixed_key(name);
        body = str_append_printf(str_empty(512),
                                 "{\"compare\":[%s],\"success\":[%s],\"failure\":[{\"requestRange\":{\"key\":%s}}]}",
                                 compare, ops, key);
        str_free(compare);
        str_free(key);
    }
    etcd_post("/v3/kv/txn", body, 0, on_registered, NULL);
    str_free(ops);
    str_free(body);
}

static void on_grant(void *ctx, int status, const char *body, size_t len)
{
    (void)ctx, (void)len;
    json_object *root = status == 200 ? json_tokener_parse(body) : NULL, *id;
    if (root && json_object_object_get_ex(root, "ID", &id)) cl.lease = json_object_get_int64(id);
    if (root) json_object_put(root);
    if (!cl.lease) {
        cl.etcd_up = false;
        log_warning("etcd at %s: can't obtain a lease (%d); retrying", etcd_endpoint(), status);
        retry_later(lease_grant);
        return;
    }
    register_alive(false);
}

static void lease_grant(void)
{
    keepalive_sent_ms = event_now_ms(); /* the lease runs from about now */
    char body[64];
    snprintf(body, sizeof(body), "{\"TTL\":%lld}", lease_ttl_seconds());
    etcd_post("/v3/lease/grant", body, 0, on_grant, NULL);
}

static void (*retry_fn)(void);

static void on_retry(struct event_loop *loop, void *data)
{
    (void)loop, (void)data;
    session.retry_timer = NULL;
    void (*fn)(void) = retry_fn;
    retry_fn = NULL;
    if (fn) fn();
}

static void retry_later(void (*fn)(void))
{
    if (session.retry_timer) event_timer_cancel(server.loop, session.retry_timer);
    retry_fn = fn;
    session.retry_timer = event_timer_at(server.loop, event_now_ms() + RETRY_MS, on_retry, NULL);
}

/* ---- changes ---- */

/* The JSON of the key `name` under the cluster's prefix. */
static str prefixed_key(const char *name)
{
    char full[512];
    snprintf(full, sizeof(full), "%s%s", cl.prefix, name);
    return etcd_b64(full, strlen(full));
}

str cluster_txn_absent(const char *name)
{
    str key = prefixed_key(name);
    str c = str_append_printf(str_empty(128),
                              "{\"key\":%s,\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":0}", key);
    str_free(key);
    return c;
}

static str put_op(str ops, const char *name, const char *value, bool with_lease, bool del)
{
    str key = prefixed_key(name);
    if (str_len(ops) > 0) ops = str_append(ops, ",", 1);
    if (del) {
        ops = str_append_printf(ops, "{\"requestDeleteRange\":{\"key\":%s}}", key);
    } else {
        str v = etcd_b64(value, strlen(value));
        ops = str_append_printf(ops, "{\"requestPut\":{\"key\":%s,\"value\":%s", key, v);
        if (with_lease) ops = str_append_printf(ops, ",\"lease\":%lld", cl.lease);
        ops = str_append(ops, "}}", 2);
        str_free(v);
    }
    str_free(key);
    return ops;
}

str cluster_txn_put(str ops, const char *name, const char *value, bool with_lease)
{
    return put_op(ops, name, value, with_lease, false);
}

str cluster_txn_delete(str ops, const char *name)
{
    return put_op(ops, name, NULL, false, true);
}

/* The transaction succeeds only if nothing under the prefix changed since
 * the view was read (`compare` may add more). */
str cluster_txn_wrap(str compare, str ops)
{
    str range = etcd_prefix_range(cl.prefix);
    str body = str_append_printf(str_empty(str_len(ops) + 256), "{");
    if (str_len(compare) > 0 || cl.view.revision > 0)
        body = str_append_printf(body,
                                 "\"compare\":[{%s,\"target\":\"MOD\",\"result\":\"LESS\",\"mod_revision\":%lld}%s%s],",
                                 range, cl.view.revision + 1, str_len(compare) ? "," : "", compare);
    body = str_append_printf(body, "\"success\":[%s]}", ops);
    str_free(range);
    str_free(compare);
    str_free(ops);
    return body;
}

str cluster_member_value(const struct cluster_node *n, bool primary, const char *shard)
{
    return str_append_printf(str_empty(128), "%s %d %s %s %d", n->ip, n->port, primary ? "master" : "slave", shard,
                             n->tls_port);
}

struct change {
    cluster_change_done_fn *done; /* with the error, or NULL once the view shows the change */
    void *done_ctx;
    cluster_txn_fn *build;
    void *arg;
    int attempts;
};

static void change_attempt(void *arg);

static void change_finish(struct change *ch, const char *err)
{
    ch->done(ch->done_ctx, err);
    mem_free(ch->arg);
    mem_free(ch);
}

static void change_visible(void *arg)
{
    change_finish(arg, NULL);
}

static void on_txn(void *ctx, int status, const char *body, size_t len)
{
    (void)len;
    struct change *ch = ctx;
    cl.etcd_up = status == 200;
    log_verbose("etcd: transaction answered %d: %.300s", status, body);
    if (status != 200) {
        change_finish(ch, "CLUSTERDOWN The cluster configuration store (etcd) is unreachable");
        return;
    }
    if (strstr(body, "\"succeeded\":true")) {
        after_refresh(change_visible, ch);
        return;
    }
    if (++ch->attempts >= CHANGE_ATTEMPTS) {
        change_finish(ch, "TRYAGAIN The cluster configuration is changing, retry");
        return;
    }
    after_refresh(change_attempt, ch); /* someone changed it first: build again on the fresh view */
}

static void change_attempt(void *arg)
{
    struct change *ch = arg;
    const char *err = NULL;
    str body = ch->build(ch->arg, &err);
    if (!body) {
        change_finish(ch, err);
        return;
    }
    log_verbose("etcd: transaction %.300s", body);
    etcd_post("/v3/kv/txn", body, 0, on_txn, ch);
    str_free(body);
}

void cluster_change_then(cluster_txn_fn *build, void *arg, cluster_change_done_fn *done, void *done_ctx)
{
    struct change *ch = mem_calloc(sizeof(*ch));
    ch->done = done;
    ch->done_ctx = done_ctx;
    ch->build = build;
    ch->arg = arg;
    change_attempt(ch);
}

/* The client that asked for a change gets its outcome, if still there. */
static void reply_to_client(void *ctx, const char *err)
{
    struct client *c = client_by_id((uint64_t)(uintptr_t)ctx);
    if (!c) return;
    if (err) reply_error(&c->out, err);
    else reply_ok(&c->out);
    blocked_release(c);
}

void cluster_change(struct client *c, cluster_txn_fn *build, void *arg)
{
    blocked_hold(c);
    cluster_change_then(build, arg, reply_to_client, (void *)(uintptr_t)c->id);
}

/* ---- following the view ---- */

/* A replica in the view replicates its shard's primary; a primary in the
 * view replicates nobody. */
void cluster_follow_role(void)
{
    const struct cluster_node *me = topology_myself(&cl.view);
    if (!me->member) return;
    if (me->primary) {
        if (replication_is_replica()) replication_follow(NULL, 0);
        return;
    }
    int p = topology_shard_primary(&cl.view, me->shard);
    if (p < 0 || p == cl.view.myself) return;
    const struct cluster_node *primary = &cl.view.nodes[p];
    int port = topology_node_port(primary, cfg.tls_replication); /* Redis: tls-replication picks the port */
    if (replication_following(primary->ip, port)) return;
    bool was_primary = !replication_is_replica();
    replication_follow(primary->ip, port);
    /* writes held by a manual failover's pause may go on now: this node
     * knows it is a replica, so they are redirected, never applied */
    if (was_primary && server.pause_until_ms) server_unpause();
}

static bool forward_publish(bool shard, const char *channel, size_t clen, const char *msg, size_t mlen)
{
    links_forward_publish(shard, channel, clen, msg, mlen);
    return true;
}

int cluster_link_port(const struct cluster_node *n)
{
    return topology_node_port(n, cfg.tls_cluster);
}

bool cluster_client_tls(const struct client *c)
{
    return c->conn ? net_conn_is_tls(c->conn) : cfg.tls_cluster;
}

/* ---- start ---- */

static void choose_address(void)
{
    const char *ip = cfg.cluster_announce_ip;
    if (!ip) {
        ip = "127.0.0.1";
        for (int i = 0; i < cfg.bind_count; i++) {
            const char *b = cfg.bind[i][0] == '-' ? cfg.bind[i] + 1 : cfg.bind[i];
            if (strchr(b, '.') && strcmp(b, "*") && strcmp(b, "0.0.0.0")) {
                ip = b;
                break;
            }
        }
    }
    snprintf(cl.ip, sizeof(cl.ip), "%s", ip);
    /* Redis: with tls-cluster and no announced TLS port, the announced port is the TLS one */
    bool port_is_tls = cfg.tls_cluster && !cfg.cluster_announce_tls_port && cfg.cluster_announce_port;
    cl.port = cfg.cluster_announce_port && !port_is_tls ? cfg.cluster_announce_port : cfg.port;
    cl.tls_port = cfg.cluster_announce_tls_port ? cfg.cluster_announce_tls_port
                  : port_is_tls                 ? cfg.cluster_announce_port
                                                : cfg.tls_port;
}

int cluster_init(void)
{
    if (!cfg.cluster_enabled) return 0;
    cl.enabled = true;
    if (load_or_create_id() != 0) return -1;
    if (!etcd_init(cfg.cluster_etcd_endpoints)) {
        log_warning("cluster-enabled needs cluster-etcd-endpoints");
        return -1;
    }
    snprintf(cl.prefix, sizeof(cl.prefix), "/runnel/%s/", cfg.cluster_name);
    choose_address();
    topology_init(&cl.view);
    struct topology_self self = {.id = cl.myid, .ip = cl.ip, .port = cl.port, .tls_port = cl.tls_port};
    topology_load(&cl.view, cl.prefix, &self, "{}", (char[8]){0}, 8);
    cluster_hooks_install();
    slot_index_install();
    election_start();
    pubsub_cluster_forward = forward_publish;
    info_cluster_enabled = true;
    sort_patterns_cluster_refused = true;
    lease_grant();
    log_notice("Cluster node %s (%s:%d, TLS port %d) using etcd at %s, prefix %s", cl.myid, cl.ip, cl.port, cl.tls_port,
               etcd_endpoint(), cl.prefix);
    return 0;
}
