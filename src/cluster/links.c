/* links: a connection from this node to each other running node of the
 * cluster, carrying published messages: PUBLISH to every node, SPUBLISH to
 * the other nodes of this shard. A link is a client connection to the
 * other node's port (its TLS port, over TLS, with tls-cluster) that sends
 * `CLUSTER PUBLISH|SPUBLISH channel message` (AUTH with masterauth first
 * when set); the replies are read and dropped. A link that fails is
 * dropped and opened again on the next view change or message, at most
 * once a second. Messages for a node whose link is down, or whose queue is
 * over LINK_QUEUE_MAX, are dropped (counted), as Redis drops cluster-bus
 * messages. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/cluster_state.h"
#include "protocol/encode.h"
#include "db/db.h"
#include "protocol/reply.h"
#include "server/config.h"
#include "net/conn.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

#define MAX_LINKS 1024
#define LINK_QUEUE_MAX (64 * 1024 * 1024)
#define LINK_RETRY_MS 1000

struct link {
    char id[CLUSTER_ID_LEN + 1];
    char ip[64];
    int port;
    struct net_conn *conn; /* NULL: down */
    bool connected;        /* connected (and the TLS handshake done) */
    bool in_view;          /* still a running member (links_sync) */
    str out;
    long long retry_at_ms;
    long long created_ms;
};

static struct link *links[MAX_LINKS];
static int nlinks;
long long links_dropped;

static void link_close(struct link *l)
{
    if (l->conn) net_conn_close(l->conn);
    l->conn = NULL;
    l->connected = false;
    str_set_len(l->out, 0);
    l->retry_at_ms = event_now_ms() + LINK_RETRY_MS;
}

static void on_link_writable(struct net_conn *c);

static void link_flush(struct link *l)
{
    while (str_len(l->out) > 0) {
        ssize_t n = net_conn_write(l->conn, l->out, str_len(l->out));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            log_verbose("Cluster link to %s:%d: %s", l->ip, l->port, l->conn->error ? l->conn->error : strerror(errno));
            link_close(l);
            return;
        }
        memmove(l->out, l->out + n, str_len(l->out) - (size_t)n);
        str_set_len(l->out, str_len(l->out) - (size_t)n);
        cl.messages_sent++;
    }
    net_conn_set_write_handler(l->conn, str_len(l->out) > 0 ? on_link_writable : NULL);
}

static void on_link_writable(struct net_conn *c)
{
    link_flush(c->data);
}

static void on_link_readable(struct net_conn *c)
{
    struct link *l = c->data;
    char sink[4096];
    ssize_t n = net_conn_read(c, sink, sizeof(sink));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) link_close(l);
}

static void on_link_open(struct net_conn *c)
{
    struct link *l = c->data;
    if (c->state != NET_CONN_OPEN) {
        log_verbose("Cluster link to %s:%d: %s", l->ip, l->port, c->error ? c->error : "connection failed");
        link_close(l);
        return;
    }
    l->connected = true;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    net_conn_set_read_handler(c, on_link_readable);
    link_flush(l);
}

static void link_open(struct link *l)
{
    if (l->conn || event_now_ms() < l->retry_at_ms) return;
    struct net_conn *c = net_conn_create(server.loop, -1, cfg.tls_cluster);
    c->data = l;
    if (net_conn_connect(c, l->ip, l->port, on_link_open) < 0) {
        net_conn_close(c);
        l->retry_at_ms = event_now_ms() + LINK_RETRY_MS;
        return;
    }
    l->conn = c;
    l->created_ms = event_now_ms();
    str_set_len(l->out, 0);
    if (cfg.masterauth) {
        const char *argv[] = {"AUTH", cfg.masterauth};
        size_t lens[] = {4, strlen(cfg.masterauth)};
        l->out = encode_command(l->out, 2, argv, lens);
    }
}

static struct link *link_for(const struct cluster_node *n)
{
    for (int i = 0; i < nlinks; i++)
        if (!strcmp(links[i]->id, n->id)) return links[i];
    if (nlinks == MAX_LINKS) return NULL;
    struct link *l = mem_calloc(sizeof(*l));
    snprintf(l->id, sizeof(l->id), "%s", n->id);
    l->out = str_empty(1024);
    links[nlinks++] = l;
    return l;
}

/* Opens links to running members, closes links to nodes that left or
 * moved (their address changed). */
void links_sync(void)
{
    for (int i = 0; i < nlinks; i++) links[i]->in_view = false;
    for (int i = 0; i < cl.view.count; i++) {
        const struct cluster_node *n = &cl.view.nodes[i];
        if (i == cl.view.myself || !n->alive || !n->member) continue;
        struct link *l = link_for(n);
        if (!l) continue;
        int port = cluster_link_port(n);
        if (strcmp(l->ip, n->ip) || l->port != port) {
            link_close(l);
            l->retry_at_ms = 0;
            snprintf(l->ip, sizeof(l->ip), "%s", n->ip);
            l->port = port;
        }
        l->in_view = true;
        link_open(l);
    }
    for (int i = 0; i < nlinks;) {
        if (links[i]->in_view) {
            i++;
            continue;
        }
        link_close(links[i]);
        str_free(links[i]->out);
        mem_free(links[i]);
        links[i] = links[--nlinks];
    }
}

/* Queues one message for a link, opening it if it is down. */
static void link_send(struct link *l, const char *kind, const char *channel, size_t clen, const char *msg, size_t mlen)
{
    link_open(l);
    if (!l->conn || str_len(l->out) > LINK_QUEUE_MAX) {
        links_dropped++;
        return;
    }
    const char *argv[] = {"CLUSTER", kind, channel, msg};
    size_t lens[] = {7, strlen(kind), clen, mlen};
    l->out = encode_command(l->out, 4, argv, lens);
    if (l->connected) link_flush(l);
}

void links_forward_publish(bool shard_only, const char *channel, size_t clen, const char *msg, size_t mlen)
{
    const struct cluster_node *me = topology_myself(&cl.view);
    for (int i = 0; i < nlinks; i++) {
        if (shard_only) {
            int k = topology_find(&cl.view, links[i]->id);
            if (k < 0 || strcmp(cl.view.nodes[k].shard, me->shard)) continue;
        }
        link_send(links[i], shard_only ? "SPUBLISH" : "PUBLISH", channel, clen, msg, mlen);
    }
}

/* CLUSTER LINKS: this node's outbound links (a peer's links to it are
 * client connections, listed by CLIENT LIST). */
void links_reply(struct outbuf *o)
{
    int n = 0;
    for (int i = 0; i < nlinks; i++) n += links[i]->conn != NULL;
    reply_array(o, n);
    long long now_ms = db_wall_ms(), mono = event_now_ms();
    for (int i = 0; i < nlinks; i++) {
        struct link *l = links[i];
        if (!l->conn) continue;
        reply_map(o, 6);
        reply_bulk_cstr(o, "direction");
        reply_bulk_cstr(o, "to");
        reply_bulk_cstr(o, "node");
        reply_bulk_cstr(o, l->id);
        reply_bulk_cstr(o, "create-time");
        reply_int(o, now_ms - (mono - l->created_ms));
        reply_bulk_cstr(o, "events");
        reply_bulk_cstr(o, str_len(l->out) > 0 ? "rw" : "r");
        reply_bulk_cstr(o, "send-buffer-allocated");
        reply_int(o, (long long)str_alloc_size(l->out));
        reply_bulk_cstr(o, "send-buffer-used");
        reply_int(o, (long long)str_len(l->out));
    }
}
