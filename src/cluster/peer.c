/* peer: short synchronous exchanges with another server, each step within
 * a timeout — what MIGRATE and CLUSTER FAILOVER do with their target, as
 * Redis does them (the command that needs the answer waits for it). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster_state.h"

int peer_connect(const char *host, long long port, long long timeout_ms)
{
    char p[16];
    snprintf(p, sizeof(p), "%lld", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, p, &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (fd < 0) return -1;
    if (rc < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&pfd, 1, (int)timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

bool peer_send(int fd, const char *data, size_t len, long long timeout_ms)
{
    size_t done = 0;
    while (done < len) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, (int)timeout_ms) != 1) return false;
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return false;
        done += (size_t)n;
    }
    return true;
}

ssize_t peer_receive(int fd, char *buf, size_t size, long long timeout_ms)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)timeout_ms) != 1) return -1;
        ssize_t n = read(fd, buf, size);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        return n <= 0 ? -1 : n;
    }
}
