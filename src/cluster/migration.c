/* migration: moving a slot between shards, as Redis Cluster does it and
 * redis-cli --cluster reshard drives it.
 *
 *   target: CLUSTER SETSLOT <slot> IMPORTING <source-id>
 *   source: CLUSTER SETSLOT <slot> MIGRATING <target-id>
 *   source: CLUSTER GETKEYSINSLOT / MIGRATE ... KEYS ... (repeated)
 *   both:   CLUSTER SETSLOT <slot> NODE <target-id>
 *
 * IMPORTING and MIGRATING are this node's own state, as in Redis; NODE
 * changes the slot map in etcd. While a slot migrates, the source serves
 * the keys it still has and answers -ASK for the others; the target serves
 * an importing slot to clients that sent ASKING. MIGRATE sends DUMP
 * payloads as RESTORE-ASKING over a connection it opens (synchronously,
 * within its timeout, as Redis does) and deletes what the target took. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cluster/cluster_state.h"
#include "net/conn.h"
#include "db/db.h"
#include "db/dump_payload.h"
#include "db/oplog.h"
#include "protocol/encode.h"
#include "net/event_loop.h"
#include "server/config.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numbers.h"

struct open_slot {
    int slot;
    bool importing; /* else migrating */
    char node[CLUSTER_ID_LEN + 1];
};

static struct open_slot *open_slots;
static int open_count, open_cap;

static struct open_slot *find_open(int slot)
{
    for (int i = 0; i < open_count; i++)
        if (open_slots[i].slot == slot) return &open_slots[i];
    return NULL;
}

const char *migration_target(int slot)
{
    struct open_slot *o = find_open(slot);
    return o && !o->importing ? o->node : NULL;
}

bool migration_importing(int slot)
{
    struct open_slot *o = find_open(slot);
    return o && o->importing;
}

static void close_slot(int slot)
{
    struct open_slot *o = find_open(slot);
    if (o) *o = open_slots[--open_count];
}

static void open_slot(int slot, bool importing, const char *node)
{
    struct open_slot *o = find_open(slot);
    if (!o) {
        if (open_count == open_cap) {
            open_cap = open_cap ? open_cap * 2 : 8;
            open_slots = mem_realloc(open_slots, sizeof(*open_slots) * (size_t)open_cap);
        }
        o = &open_slots[open_count++];
    }
    o->slot = slot;
    o->importing = importing;
    snprintf(o->node, sizeof(o->node), "%s", node);
}

/* " [slot->-id]" / " [slot-<-id]" after myself's slots in CLUSTER NODES. */
str migration_nodes_suffix(str out)
{
    for (int i = 0; i < open_count; i++)
        out = str_append_printf(out, " [%d-%s-%s]", open_slots[i].slot, open_slots[i].importing ? "<" : ">",
                                open_slots[i].node);
    return out;
}

/* ---- SETSLOT ---- */

struct assign {
    int slot;
    char node[CLUSTER_ID_LEN + 1];
};

static str build_assign(void *arg, const char **err)
{
    struct assign *a = arg;
    int n = topology_find(&cl.view, a->node);
    if (n < 0) {
        *err = "ERR Unknown node";
        return NULL;
    }
    topology_slot_map *map = mem_alloc(sizeof(*map));
    memcpy(map, cl.view.slot_shard, sizeof(*map));
    memcpy((*map)[a->slot], cl.view.nodes[n].shard, CLUSTER_ID_LEN + 1);
    str text = topology_encode_map((const char(*)[CLUSTER_ID_LEN + 1]) * map);
    mem_free(map);
    str ops = cluster_txn_put(str_empty(512), "slots", text, false);
    str_free(text);
    return cluster_txn_wrap(str_empty(8), ops);
}

void cluster_cmd_setslot(struct request *req)
{
    long long v;
    if (!request_ll_msg(req, 2, &v, "ERR Invalid or out of range slot") || v < 0 || v >= CLUSTER_SLOTS) {
        if (v < 0 || v >= CLUSTER_SLOTS) reply_error(req->out, "ERR Invalid or out of range slot");
        return;
    }
    int slot = (int)v;
    bool mine = cl.view.owner[slot] == cl.view.myself;
    if (ARG_IS(req, 3, "STABLE") && req->argc == 4) {
        close_slot(slot);
        reply_ok(req->out);
        return;
    }
    if (req->argc != 5) {
        reply_error(req->out, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
        return;
    }
    const char *node = req->argv[4].ptr;
    int n = topology_find(&cl.view, node);
    if (n < 0) {
        reply_errorf(req->out, "ERR I don't know about node %s", node);
        return;
    }
    if (ARG_IS(req, 3, "MIGRATING")) {
        if (!mine) reply_errorf(req->out, "ERR I'm not the owner of hash slot %d", slot);
        else if (n == cl.view.myself) reply_error(req->out, "ERR Target node is myself");
        else open_slot(slot, false, node), reply_ok(req->out);
        return;
    }
    if (ARG_IS(req, 3, "IMPORTING")) {
        if (mine) reply_errorf(req->out, "ERR I'm already the owner of hash slot %d", slot);
        else if (n == cl.view.myself) reply_error(req->out, "ERR Target node is myself");
        else open_slot(slot, true, node), reply_ok(req->out);
        return;
    }
    if (!ARG_IS(req, 3, "NODE")) {
        reply_error(req->out, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
        return;
    }
    if (mine && n != cl.view.myself && slot_index_count(slot) > 0 && !migration_target(slot)) {
        reply_errorf(req->out, "ERR Can't assign hashslot %d to a different node while I still hold keys for this "
                     "hash slot.", slot);
        return;
    }
    close_slot(slot);
    if (!strcmp(cl.view.slot_shard[slot], cl.view.nodes[n].shard)) { /* already so in etcd: nothing to write */
        reply_ok(req->out);
        return;
    }
    struct assign *a = mem_alloc(sizeof(*a));
    a->slot = slot;
    snprintf(a->node, sizeof(a->node), "%s", node);
    cluster_change(req->client, build_assign, a);
}

/* ---- MIGRATE ---- */

struct migrate_args {
    const char *host;
    long long port, db, timeout;
    bool copy, replace;
    const char *user, *password;
    int first_key, nkeys; /* in argv */
};

static bool parse_migrate(struct request *req, struct migrate_args *m)
{
    m->host = req->argv[1].ptr;
    if (!request_ll(req, 2, &m->port) || !request_ll(req, 4, &m->db) || !request_ll(req, 5, &m->timeout)) return false;
    m->first_key = 3;
    m->nkeys = 1;
    for (int i = 6; i < req->argc; i++) {
        if (ARG_IS(req, i, "COPY")) m->copy = true;
        else if (ARG_IS(req, i, "REPLACE")) m->replace = true;
        else if (ARG_IS(req, i, "AUTH") && i + 1 < req->argc) m->password = req->argv[++i].ptr;
        else if (ARG_IS(req, i, "AUTH2") && i + 2 < req->argc) m->user = req->argv[++i].ptr, m->password = req->argv[++i].ptr;
        else if (ARG_IS(req, i, "KEYS")) {
            if (req->argv[3].len != 0) {
                reply_error(req->out, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return false;
            }
            m->first_key = i + 1;
            m->nkeys = req->argc - i - 1;
            break;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    if (m->timeout <= 0) m->timeout = 1000;
    return true;
}

/* One cached connection to the last MIGRATE target, reused while it is
 * used at least every MIGRATE_CACHE_MS, as Redis caches its own: a reshard
 * sends thousands of MIGRATEs to one target. */
#define MIGRATE_CACHE_MS 10000

static struct {
    struct net_conn *conn; /* TLS with tls-cluster, as Redis's MIGRATE */
    char host[256];
    long long port;
    long long used_ms;
} cached;

static void cache_drop(void)
{
    if (cached.conn) net_conn_close(cached.conn);
    cached.conn = NULL;
}

static struct net_conn *cache_connect(const char *host, long long port, long long timeout_ms, bool *fresh)
{
    long long now = event_now_ms();
    if (cached.conn && (cached.port != port || strcmp(cached.host, host) || now - cached.used_ms > MIGRATE_CACHE_MS ||
                        net_conn_is_tls(cached.conn) != (bool)cfg.tls_cluster))
        cache_drop();
    *fresh = !cached.conn;
    if (!cached.conn) {
        cached.conn = peer_connect(host, port, timeout_ms);
        snprintf(cached.host, sizeof(cached.host), "%s", host);
        cached.port = port;
    }
    cached.used_ms = now;
    return cached.conn;
}

/* Writes everything and reads `replies` reply lines, each within the
 * timeout; the first error line (or NULL) comes back in *error. */
static bool exchange(struct net_conn *conn, str out, int replies, long long timeout_ms, char *error, size_t errlen, bool *ok)
{
    if (!peer_send(conn, out, str_len(out), timeout_ms)) return false;
    char buf[4096];
    size_t have = 0;
    for (int i = 0; i < replies;) {
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            size_t linelen = (size_t)(nl - buf) + 1;
            ok[i] = buf[0] == '+';
            if (buf[0] == '-' && !error[0]) snprintf(error, errlen, "%.*s", (int)(linelen - 3), buf + 1);
            memmove(buf, buf + linelen, have - linelen);
            have -= linelen;
            i++;
            continue;
        }
        if (have == sizeof(buf)) return false;
        ssize_t n = peer_receive(conn, buf + have, sizeof(buf) - have, timeout_ms);
        if (n < 0) return false;
        have += (size_t)n;
    }
    return true;
}

/* The RESTORE commands for the keys that exist; their indexes in `sent`. */
static str build_restores(struct request *req, const struct migrate_args *m, int *sent, int *count)
{
    str out = str_empty(4096);
    if (m->password && m->user)
        out = encode_command(out, 3, (const char *[]){"AUTH", m->user, m->password}, NULL);
    else if (m->password)
        out = encode_command(out, 2, (const char *[]){"AUTH", m->password}, NULL);
    if (m->db != 0) {
        char dbs[24];
        format_ll(dbs, m->db);
        out = encode_command(out, 2, (const char *[]){"SELECT", dbs}, NULL);
    }
    *count = 0;
    for (int i = 0; i < m->nkeys; i++) {
        struct arg *k = &req->argv[m->first_key + i];
        struct object *o = db_find(req->db, k->ptr, k->len);
        if (!o) continue;
        long long deadline = db_get_expire(req->db, k->ptr, k->len);
        long long ttl = deadline < 0 ? 0 : deadline - db_now_ms;
        if (deadline >= 0 && ttl < 1) ttl = 1;
        char ttls[24];
        format_ll(ttls, ttl);
        str payload = dump_payload_create(o);
        const char *argv[] = {cl.enabled ? "RESTORE-ASKING" : "RESTORE", k->ptr, ttls, payload, "REPLACE"};
        size_t lens[] = {strlen(argv[0]), k->len, strlen(ttls), str_len(payload), 7};
        out = encode_command(out, m->replace ? 5 : 4, argv, lens);
        str_free(payload);
        sent[(*count)++] = m->first_key + i;
    }
    return out;
}

void cluster_cmd_migrate(struct request *req)
{
    struct migrate_args m = {0};
    if (!parse_migrate(req, &m)) return;
    int *sent = mem_alloc(sizeof(int) * (size_t)m.nkeys);
    int count;
    str out = build_restores(req, &m, sent, &count);
    if (count == 0) {
        reply_simple(req->out, "NOKEY");
        str_free(out);
        mem_free(sent);
        return;
    }
    int extra = (m.password ? 1 : 0) + (m.db != 0 ? 1 : 0);
    bool fresh;
    struct net_conn *conn = cache_connect(m.host, m.port, m.timeout, &fresh);
    if (!conn) {
        reply_error(req->out, "IOERR error or timeout connecting to the client");
        str_free(out);
        mem_free(sent);
        return;
    }
    bool *ok = mem_calloc(sizeof(bool) * (size_t)(count + extra));
    char error[256] = "";
    bool io = exchange(conn, out, count + extra, m.timeout, error, sizeof(error), ok);
    if (!io && !fresh) { /* the cached connection had gone stale: once more on a new one */
        cache_drop();
        memset(ok, 0, sizeof(bool) * (size_t)(count + extra));
        conn = cache_connect(m.host, m.port, m.timeout, &fresh);
        io = conn && exchange(conn, out, count + extra, m.timeout, error, sizeof(error), ok);
    }
    if (!io || m.db != 0) cache_drop(); /* a SELECTed or broken connection is not reused */
    str_free(out);
    /* keys the target took leave this node, logged as DELs */
    for (int i = 0; io && !m.copy && i < count; i++) {
        if (!ok[extra + i]) continue;
        struct arg *k = &req->argv[sent[i]];
        db_delete(req->db, k->ptr, k->len);
        db_touch_key(req->db, k->ptr, k->len);
        struct arg del[2] = {{"DEL", 3}, *k};
        oplog_propagate(req, 2, del);
        req->dirty++;
    }
    if (!io) reply_error(req->out, "IOERR error or timeout reading to target instance");
    else if (error[0]) reply_errorf(req->out, "ERR Target instance replied with error: %s", error);
    else reply_ok(req->out);
    mem_free(ok);
    mem_free(sent);
}

/* MIGRATE's keys: the one at 3, or those after KEYS when it is "". */
int cluster_migrate_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    if (argc > 3 && argv[3].len > 0) {
        positions[0] = 3;
        return 1;
    }
    int n = 0;
    for (int i = 6; i < argc; i++) {
        if (strcasecmp(argv[i].ptr, "KEYS") != 0) continue;
        for (int k = i + 1; k < argc && n < max; k++) positions[n++] = k;
        break;
    }
    return n;
}
