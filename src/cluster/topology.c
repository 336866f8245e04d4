#include "cluster/topology.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/reply.h"
#include "util/base64.h"
#include "util/mem.h"

void topology_init(struct topology *t)
{
    memset(t, 0, sizeof(*t));
    t->slot_shard = mem_calloc(sizeof(*t->slot_shard) * CLUSTER_SLOTS);
    for (int i = 0; i < CLUSTER_SLOTS; i++) t->owner[i] = -1;
    t->myself = -1;
}

void topology_free(struct topology *t)
{
    mem_free(t->leases);
    mem_free(t->candidates);
    mem_free(t->running);
    mem_free(t->nodes);
    mem_free(t->slot_shard);
    memset(t, 0, sizeof(*t));
}

int topology_find(const struct topology *t, const char *id)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->nodes[i].id, id) == 0) return i;
    return -1;
}

const struct cluster_node *topology_myself(const struct topology *t)
{
    return t->myself >= 0 ? &t->nodes[t->myself] : NULL;
}

const char *topology_lease_holder(const struct topology *t, const char *shard)
{
    for (int i = 0; i < t->lease_count; i++)
        if (!strcmp(t->leases[i].shard, shard)) return t->leases[i].node;
    return NULL;
}

long long topology_shard_term(const struct topology *t, const char *shard)
{
    for (int i = 0; i < t->lease_count; i++)
        if (!strcmp(t->leases[i].shard, shard)) return t->leases[i].offset;
    return 0;
}

const struct shard_claim *topology_best_candidate(const struct topology *t, const char *shard)
{
    const struct shard_claim *best = NULL;
    for (int i = 0; i < t->candidate_count; i++) {
        const struct shard_claim *c = &t->candidates[i];
        if (strcmp(c->shard, shard)) continue;
        if (!best || c->offset > best->offset || (c->offset == best->offset && strcmp(c->node, best->node) < 0))
            best = c;
    }
    return best;
}

bool topology_is_candidate(const struct topology *t, const char *shard, const char *id)
{
    for (int i = 0; i < t->candidate_count; i++)
        if (!strcmp(t->candidates[i].shard, shard) && !strcmp(t->candidates[i].node, id)) return true;
    return false;
}

int topology_shard_primary(const struct topology *t, const char *shard)
{
    const char *holder = topology_lease_holder(t, shard);
    int h = holder ? topology_find(t, holder) : -1;
    if (h >= 0) return h;
    for (int i = 0; i < t->count; i++)
        if (t->nodes[i].primary && strcmp(t->nodes[i].shard, shard) == 0) return i;
    return -1;
}

/* ---- reading etcd's reply ---- */

static bool valid_id(const char *s, size_t n)
{
    if (n != CLUSTER_ID_LEN) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static struct cluster_node *node_slot(struct topology *t, const char *id, int *cap)
{
    int i = topology_find(t, id);
    if (i >= 0) return &t->nodes[i];
    if (t->count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        t->nodes = mem_realloc(t->nodes, sizeof(*t->nodes) * (size_t)*cap);
    }
    struct cluster_node *n = &t->nodes[t->count++];
    memset(n, 0, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "%s", id);
    return n;
}

static bool valid_ports(int port, int tls_port)
{
    return port >= 0 && port <= 65535 && tls_port >= 0 && tls_port <= 65535 && port + tls_port > 0;
}

/* "ip port role shard [tls-port]" */
static bool parse_member(struct cluster_node *n, const char *v)
{
    char ip[64], role[16], shard[64];
    int port, tls_port = 0;
    if (sscanf(v, "%63s %d %15s %63s %d", ip, &port, role, shard, &tls_port) < 4 || !valid_ports(port, tls_port) ||
        !valid_id(shard, strlen(shard)))
        return false;
    snprintf(n->ip, sizeof(n->ip), "%s", ip);
    n->port = port;
    n->tls_port = tls_port;
    n->primary = strcmp(role, "master") == 0;
    memcpy(n->shard, shard, CLUSTER_ID_LEN + 1); /* valid_id: exactly 40 characters */
    n->member = true;
    return true;
}

/* "start end shard" lines */
static bool parse_slots(struct topology *t, const char *v)
{
    for (const char *line = v; *line;) {
        int from, to;
        char shard[64];
        if (sscanf(line, "%d %d %63s", &from, &to, shard) != 3 || from < 0 || to >= CLUSTER_SLOTS || from > to ||
            !valid_id(shard, strlen(shard)))
            return false;
        for (int s = from; s <= to; s++) memcpy(t->slot_shard[s], shard, CLUSTER_ID_LEN + 1);
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    return true;
}

static bool json_ll(json_object *obj, const char *name, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, name, &v)) {
        *out = 0; /* etcd leaves zero values out */
        return true;
    }
    *out = json_object_get_int64(v);
    return true;
}

static void claim_add(struct shard_claim **list, int *count, const char *shard, const char *node, long long offset)
{
    *list = mem_realloc(*list, sizeof(**list) * (size_t)(*count + 1));
    struct shard_claim *c = &(*list)[(*count)++];
    memcpy(c->shard, shard, CLUSTER_ID_LEN + 1);
    memcpy(c->node, node, CLUSTER_ID_LEN + 1);
    c->offset = offset;
}

/* primary/<shard> = <node id>; candidate/<shard>/<id> = <offset>. */
static bool parse_claim(struct topology *t, const char *name, const char *value, long long revision)
{
    if (strncmp(name, "primary/", 8) == 0) {
        const char *shard = name + 8;
        if (!valid_id(shard, strlen(shard)) || !valid_id(value, strlen(value))) return false;
        claim_add(&t->leases, &t->lease_count, shard, value, revision);
        return true;
    }
    const char *shard = name + 10, *slash = strchr(shard, '/');
    long long offset;
    if (!slash || !valid_id(shard, (size_t)(slash - shard)) || !valid_id(slash + 1, strlen(slash + 1)) ||
        sscanf(value, "%lld", &offset) != 1)
        return false;
    char s[CLUSTER_ID_LEN + 1];
    memcpy(s, shard, CLUSTER_ID_LEN);
    s[CLUSTER_ID_LEN] = '\0';
    claim_add(&t->candidates, &t->candidate_count, s, slash + 1, offset);
    return true;
}

/* One key-value pair of the range reply, applied to the topology. */
static bool apply_kv(struct topology *t, const char *prefix, json_object *kv, int *cap, char *err, size_t errlen)
{
    json_object *jk, *jv;
    str key = NULL, value = NULL;
    if (!json_object_object_get_ex(kv, "key", &jk) ||
        !base64_decode(json_object_get_string(jk), (size_t)json_object_get_string_len(jk), &key)) {
        snprintf(err, errlen, "a key is not base64");
        return false;
    }
    if (!json_object_object_get_ex(kv, "value", &jv) ||
        !base64_decode(json_object_get_string(jv), (size_t)json_object_get_string_len(jv), &value))
        value = str_empty(1);
    long long mod = 0;
    json_ll(kv, "mod_revision", &mod);
    size_t plen = strlen(prefix);
    const char *name = key + plen;
    bool ok = true;
    if (str_len(key) < plen || memcmp(key, prefix, plen) != 0) {
        ok = true; /* not ours */
    } else if (strncmp(name, "member/", 7) == 0 && valid_id(name + 7, strlen(name + 7))) {
        struct cluster_node *n = node_slot(t, name + 7, cap);
        ok = parse_member(n, value);
        n->epoch = mod;
    } else if (strncmp(name, "alive/", 6) == 0 && valid_id(name + 6, strlen(name + 6))) {
        struct cluster_node *n = node_slot(t, name + 6, cap);
        n->alive = true;
        if (!n->member) sscanf(value, "%63s %d %d", n->ip, &n->port, &n->tls_port);
    } else if (strncmp(name, "primary/", 8) == 0 || strncmp(name, "candidate/", 10) == 0) {
        ok = parse_claim(t, name, value, mod);
    } else if (strcmp(name, "slots") == 0) {
        ok = parse_slots(t, value);
        t->slots_revision = mod;
    }
    if (!ok) snprintf(err, errlen, "malformed value under %s", name);
    str_free(key);
    str_free(value);
    return ok;
}

const struct cluster_node *topology_running_at(const struct topology *t, const char *ip, int port)
{
    for (int i = 0; i < t->running_count; i++)
        if ((t->running[i].port == port || t->running[i].tls_port == port) && port > 0 && strcmp(t->running[i].ip, ip) == 0)
            return &t->running[i];
    return NULL;
}

/* Keeps the members (and this node), drops nodes that are only running
 * (remembered in t->running for CLUSTER MEET). */
static void keep_view(struct topology *t, const struct topology_self *self)
{
    t->running = mem_alloc(sizeof(*t->running) * (size_t)(t->count + 1));
    for (int i = 0; i < t->count; i++)
        if (t->nodes[i].alive) t->running[t->running_count++] = t->nodes[i];
    int me = topology_find(t, self->id);
    bool joined = me >= 0 && t->nodes[me].member;
    int kept = 0;
    for (int i = 0; i < t->count; i++) {
        bool mine = strcmp(t->nodes[i].id, self->id) == 0;
        if (!mine && (!joined || !t->nodes[i].member)) continue;
        t->nodes[kept++] = t->nodes[i];
    }
    t->count = kept;
    me = topology_find(t, self->id);
    if (me < 0) {
        int cap = t->count;
        struct cluster_node *n = node_slot(t, self->id, &cap);
        me = (int)(n - t->nodes);
    }
    struct cluster_node *n = &t->nodes[me];
    if (!n->member) {
        snprintf(n->ip, sizeof(n->ip), "%s", self->ip);
        n->port = self->port;
        n->tls_port = self->tls_port;
        n->primary = true;
        snprintf(n->shard, sizeof(n->shard), "%s", self->id);
    }
    n->alive = true;
    t->myself = me;
}

static void resolve_owners(struct topology *t)
{
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        t->owner[s] = t->slot_shard[s][0] ? (int16_t)topology_shard_primary(t, t->slot_shard[s]) : -1;
}

bool topology_load(struct topology *t, const char *prefix, const struct topology_self *self, const char *json,
                   char *err, size_t errlen)
{
    json_object *root = json_tokener_parse(json), *header, *kvs;
    if (!root || !json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "the reply is not a JSON object");
        if (root) json_object_put(root);
        return false;
    }
    struct topology fresh;
    topology_init(&fresh);
    if (json_object_object_get_ex(root, "header", &header)) json_ll(header, "revision", &fresh.revision);
    int cap = 0;
    bool ok = true;
    if (json_object_object_get_ex(root, "kvs", &kvs)) {
        size_t n = json_object_is_type(kvs, json_type_array) ? json_object_array_length(kvs) : 0;
        for (size_t i = 0; ok && i < n; i++) ok = apply_kv(&fresh, prefix, json_object_array_get_idx(kvs, i), &cap, err, errlen);
    }
    json_object_put(root);
    if (!ok) {
        topology_free(&fresh);
        return false;
    }
    keep_view(&fresh, self);
    resolve_owners(&fresh);
    topology_free(t);
    *t = fresh;
    return true;
}

/* ---- questions ---- */

int topology_assigned_slots(const struct topology *t)
{
    int n = 0;
    for (int s = 0; s < CLUSTER_SLOTS; s++) n += t->owner[s] >= 0;
    return n;
}

int topology_failed_slots(const struct topology *t)
{
    int n = 0;
    for (int s = 0; s < CLUSTER_SLOTS; s++) n += t->owner[s] >= 0 && !t->nodes[t->owner[s]].alive;
    return n;
}

bool topology_covered(const struct topology *t)
{
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (t->owner[s] < 0 || !t->nodes[t->owner[s]].alive) return false;
    return true;
}

int topology_primaries_with_slots(const struct topology *t)
{
    int n = 0;
    for (int i = 0; i < t->count; i++) {
        bool has = false;
        for (int s = 0; s < CLUSTER_SLOTS && !has; s++) has = t->owner[s] == i;
        n += has;
    }
    return n;
}

str topology_encode_map(const topology_slot_map map)
{
    str out = str_empty(256);
    for (int s = 0; s < CLUSTER_SLOTS;) {
        int e = s;
        while (e + 1 < CLUSTER_SLOTS && strcmp(map[e + 1], map[s]) == 0) e++;
        if (map[s][0]) out = str_append_printf(out, "%d %d %s\n", s, e, map[s]);
        s = e + 1;
    }
    return out;
}

/* ---- replies ---- */

/* Calls fn for each run of consecutive slots served by node i. */
static void slot_ranges(const struct topology *t, int i, void (*fn)(void *ctx, int from, int to), void *ctx)
{
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        if (t->owner[s] != i) continue;
        int e = s;
        while (e + 1 < CLUSTER_SLOTS && t->owner[e + 1] == i) e++;
        fn(ctx, s, e);
        s = e;
    }
}

static void append_range(void *ctx, int from, int to)
{
    str *s = ctx;
    *s = from == to ? str_append_printf(*s, " %d", from) : str_append_printf(*s, " %d-%d", from, to);
}

str topology_node_line(const struct topology *t, int i, bool tls, str out)
{
    const struct cluster_node *n = &t->nodes[i];
    int primary = n->primary ? -1 : topology_shard_primary(t, n->shard), port = topology_node_port(n, tls);
    out = str_append_printf(out, "%s %s:%d@%d %s%s%s %s 0 %lld %lld %s", n->id, n->ip, port, port + 10000,
                            i == t->myself ? "myself," : "", n->primary ? "master" : "slave", n->alive ? "" : ",fail",
                            primary >= 0 ? t->nodes[primary].id : "-", n->alive ? t->revision : 0LL, n->epoch,
                            n->alive ? "connected" : "disconnected");
    if (n->primary) slot_ranges(t, i, append_range, &out);
    return str_append(out, "\n", 1);
}

static void reply_node(struct outbuf *o, const struct cluster_node *n, bool tls)
{
    reply_array(o, 4);
    reply_bulk_cstr(o, n->ip);
    reply_int(o, topology_node_port(n, tls));
    reply_bulk_cstr(o, n->id);
    reply_map(o, 0);
}

struct slots_ctx {
    const struct topology *t;
    struct outbuf *o;
    bool tls;
    int primary;
    long long entries;
};

static int replica_count(const struct topology *t, const char *shard)
{
    int n = 0;
    for (int i = 0; i < t->count; i++) n += !t->nodes[i].primary && t->nodes[i].alive && !strcmp(t->nodes[i].shard, shard);
    return n;
}

static void emit_slot_range(void *ctx, int from, int to)
{
    struct slots_ctx *c = ctx;
    const struct cluster_node *p = &c->t->nodes[c->primary];
    reply_array(c->o, 3 + replica_count(c->t, p->shard));
    reply_int(c->o, from);
    reply_int(c->o, to);
    reply_node(c->o, p, c->tls);
    for (int i = 0; i < c->t->count; i++) {
        const struct cluster_node *n = &c->t->nodes[i];
        if (!n->primary && n->alive && !strcmp(n->shard, p->shard)) reply_node(c->o, n, c->tls);
    }
    c->entries++;
}

static void count_range(void *ctx, int from, int to)
{
    (void)from, (void)to;
    ((struct slots_ctx *)ctx)->entries++;
}

void topology_reply_slots(const struct topology *t, bool tls, struct outbuf *o)
{
    struct slots_ctx c = {.t = t, .o = o, .tls = tls};
    for (int i = 0; i < t->count; i++) slot_ranges(t, i, count_range, &c);
    reply_array(o, c.entries);
    for (int i = 0; i < t->count; i++) {
        c.primary = i;
        slot_ranges(t, i, emit_slot_range, &c);
    }
}

static void emit_shard_slots(void *ctx, int from, int to)
{
    struct slots_ctx *c = ctx;
    reply_int(c->o, from);
    reply_int(c->o, to);
}

static void reply_shard_node(struct outbuf *o, const struct cluster_node *n)
{
    reply_map(o, 6 + (n->port > 0) + (n->tls_port > 0));
    reply_bulk_cstr(o, "id");
    reply_bulk_cstr(o, n->id);
    if (n->port > 0) {
        reply_bulk_cstr(o, "port");
        reply_int(o, n->port);
    }
    if (n->tls_port > 0) {
        reply_bulk_cstr(o, "tls-port");
        reply_int(o, n->tls_port);
    }
    reply_bulk_cstr(o, "ip");
    reply_bulk_cstr(o, n->ip);
    reply_bulk_cstr(o, "endpoint");
    reply_bulk_cstr(o, n->ip);
    reply_bulk_cstr(o, "role");
    reply_bulk_cstr(o, n->primary ? "master" : "replica");
    reply_bulk_cstr(o, "replication-offset");
    reply_int(o, 0);
    reply_bulk_cstr(o, "health");
    reply_bulk_cstr(o, n->alive ? "online" : "fail");
}

void topology_reply_shards(const struct topology *t, struct outbuf *o)
{
    int shards = 0;
    for (int i = 0; i < t->count; i++) shards += t->nodes[i].primary;
    reply_array(o, shards);
    for (int i = 0; i < t->count; i++) {
        const struct cluster_node *p = &t->nodes[i];
        if (!p->primary) continue;
        struct slots_ctx c = {.t = t, .o = o};
        slot_ranges(t, i, count_range, &c);
        reply_map(o, 2);
        reply_bulk_cstr(o, "slots");
        reply_array(o, c.entries * 2);
        slot_ranges(t, i, emit_shard_slots, &c);
        reply_bulk_cstr(o, "nodes");
        reply_array(o, 1 + replica_count(t, p->shard) + 0);
        reply_shard_node(o, p);
        for (int k = 0; k < t->count; k++)
            if (!t->nodes[k].primary && t->nodes[k].alive && !strcmp(t->nodes[k].shard, p->shard))
                reply_shard_node(o, &t->nodes[k]);
    }
}
