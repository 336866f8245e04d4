/* peer: short synchronous exchanges with another server, each step within
 * a timeout — what MIGRATE and CLUSTER FAILOVER do with their target, as
 * Redis does them (the command that needs the answer waits for it). The
 * connection is TLS with tls-cluster, as the cluster's other links. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "cluster/cluster_state.h"
#include "net/conn.h"
#include "server/config.h"
#include "server/server.h"

struct net_conn *peer_connect(const char *host, long long port, long long timeout_ms)
{
    struct net_conn *c = net_conn_create(server.loop, -1, cfg.tls_cluster);
    if (net_conn_connect_wait(c, host, (int)port, timeout_ms) < 0) {
        net_conn_close(c);
        return NULL;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return c;
}

bool peer_send(struct net_conn *c, const char *data, size_t len, long long timeout_ms)
{
    return net_conn_send_wait(c, data, len, timeout_ms);
}

ssize_t peer_receive(struct net_conn *c, char *buf, size_t size, long long timeout_ms)
{
    return net_conn_receive_wait(c, buf, size, timeout_ms);
}
