/* links: a connection from this node to each other running node of the
 * cluster, carrying published messages: PUBLISH to every node, SPUBLISH to
 * the other nodes of this shard. A link is a plain client connection to the
 * other node's port that sends `CLUSTER PUBLISH|SPUBLISH channel message`
 * (AUTH with masterauth first when set); the replies are read and dropped.
 * A link that fails is dropped and opened again on the next view change or
 * message, at most once a second. Messages for a node whose link is down,
 * or whose queue is over LINK_QUEUE_MAX, are dropped (counted), as Redis
 * drops cluster-bus messages. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster_state.h"
#include "protocol/encode.h"
#include "db/db.h"
#include "protocol/reply.h"
#include "server/config.h"
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
    int fd;           /* -1: down */
    bool connected;
    bool in_view;     /* still a running member (links_sync) */
    str out;
    long long retry_at_ms;
    long long created_ms;
};

static struct link *links[MAX_LINKS];
static int nlinks;
long long links_dropped;

static void link_close(struct link *l)
{
    if (l->fd >= 0) {
        event_loop_unwatch(server.loop, l->fd, EV_READ | EV_WRITE);
        close(l->fd);
    }
    l->fd = -1;
    l->connected = false;
    str_set_len(l->out, 0);
    l->retry_at_ms = event_now_ms() + LINK_RETRY_MS;
}

static void on_link_event(struct event_loop *loop, int fd, void *data, int mask);

static void link_flush(struct link *l)
{
    while (str_len(l->out) > 0) {
        ssize_t n = write(l->fd, l->out, str_len(l->out));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            log_verbose("Cluster link to %s:%d: %s", l->ip, l->port, strerror(errno));
            link_close(l);
            return;
        }
        memmove(l->out, l->out + n, str_len(l->out) - (size_t)n);
        str_set_len(l->out, str_len(l->out) - (size_t)n);
        cl.messages_sent++;
    }
    event_loop_unwatch(server.loop, l->fd, EV_WRITE);
    if (str_len(l->out) > 0) event_loop_watch(server.loop, l->fd, EV_WRITE, on_link_event, l);
}

static void on_link_event(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop;
    struct link *l = data;
    if (!l->connected && (mask & EV_WRITE)) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            link_close(l);
            return;
        }
        l->connected = true;
    }
    if (mask & EV_READ) {
        char sink[4096];
        ssize_t n = read(fd, sink, sizeof(sink));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            link_close(l);
            return;
        }
    }
    if (l->connected) link_flush(l);
}

static void link_open(struct link *l)
{
    if (l->fd >= 0 || event_now_ms() < l->retry_at_ms) return;
    char port[16];
    snprintf(port, sizeof(port), "%d", l->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(l->ip, port, &hints, &res) != 0) {
        l->retry_at_ms = event_now_ms() + LINK_RETRY_MS;
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (fd < 0 || (rc < 0 && errno != EINPROGRESS)) {
        if (fd >= 0) close(fd);
        l->retry_at_ms = event_now_ms() + LINK_RETRY_MS;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    l->fd = fd;
    l->created_ms = event_now_ms();
    str_set_len(l->out, 0);
    if (cfg.masterauth) {
        const char *argv[] = {"AUTH", cfg.masterauth};
        size_t lens[] = {4, strlen(cfg.masterauth)};
        l->out = encode_command(l->out, 2, argv, lens);
    }
    event_loop_watch(server.loop, fd, EV_READ | EV_WRITE, on_link_event, l);
}

static struct link *link_for(const struct cluster_node *n)
{
    for (int i = 0; i < nlinks; i++)
        if (!strcmp(links[i]->id, n->id)) return links[i];
    if (nlinks == MAX_LINKS) return NULL;
    struct link *l = mem_calloc(sizeof(*l));
    snprintf(l->id, sizeof(l->id), "%s", n->id);
    l->fd = -1;
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
        if (strcmp(l->ip, n->ip) || l->port != n->port) {
            link_close(l);
            l->retry_at_ms = 0;
            snprintf(l->ip, sizeof(l->ip), "%s", n->ip);
            l->port = n->port;
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
    if (l->fd < 0 || str_len(l->out) > LINK_QUEUE_MAX) {
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
    for (int i = 0; i < nlinks; i++) n += links[i]->fd >= 0;
    reply_array(o, n);
    long long now_ms = db_wall_ms(), mono = event_now_ms();
    for (int i = 0; i < nlinks; i++) {
        struct link *l = links[i];
        if (l->fd < 0) continue;
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
