/* net/conn.c: the plain TCP type over a socket pair, driven by the event
 * loop — accept opens at once, handlers follow readiness, and a handler
 * that closes its own connection does not free it under the others. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/event_loop.h"

static int opened, reads, writes;
static char got[64];
static size_t got_len;

static void on_open(struct net_conn *c)
{
    opened += c->state == NET_CONN_OPEN;
}

static void on_read_close(struct net_conn *c)
{
    reads++;
    ssize_t n = net_conn_read(c, got + got_len, sizeof(got) - got_len);
    if (n > 0) got_len += (size_t)n;
    net_conn_close(c); /* inside the handler: freed once the event is done */
}

static void on_write_once(struct net_conn *c)
{
    writes++;
    struct iovec iov[2] = {{.iov_base = "he", .iov_len = 2}, {.iov_base = "llo", .iov_len = 3}};
    cr_assert_eq(net_conn_writev(c, iov, 2), 5);
    net_conn_set_write_handler(c, NULL);
}

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

Test(net_conn, tcp_accept_opens_at_once_and_handlers_follow_readiness)
{
    struct event_loop *loop = event_loop_create(1024);
    int sv[2];
    pair(sv);
    opened = reads = writes = 0;
    got_len = 0;
    struct net_conn *c = net_conn_create(loop, sv[0], false);
    net_conn_accept(c, on_open);
    cr_assert_eq(opened, 1);
    cr_assert_str_eq(c->type->name, "tcp");

    net_conn_set_write_handler(c, on_write_once);
    event_loop_poll_events(loop);
    cr_assert_eq(writes, 1);
    char buf[16] = {0};
    cr_assert_eq(read(sv[1], buf, sizeof(buf)), 5);
    cr_assert_str_eq(buf, "hello");
    event_loop_poll_events(loop);
    cr_assert_eq(writes, 1, "the write handler was removed");

    /* nothing to read: the read handler is not called */
    net_conn_set_read_handler(c, on_read_close);
    event_loop_poll_events(loop);
    cr_assert_eq(reads, 0);
    cr_assert_eq(net_conn_read(c, buf, sizeof(buf)), -1);
    cr_assert_eq(errno, EAGAIN);

    cr_assert_eq(write(sv[1], "ping", 4), 4);
    event_loop_poll_events(loop); /* reads, then closes inside its handler */
    cr_assert_eq(reads, 1);
    cr_assert_eq(got_len, 4);
    cr_assert_eq(memcmp(got, "ping", 4), 0);
    /* the server end is closed: the peer sees the end of the stream */
    cr_assert_eq(read(sv[1], buf, sizeof(buf)), 0);
    close(sv[1]);
    event_loop_free(loop);
}

Test(net_conn, connect_to_a_closed_port_fails_through_on_open)
{
    struct event_loop *loop = event_loop_create(1024);
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(probe, (struct sockaddr *)&in, sizeof(in)), 0);
    getsockname(probe, (struct sockaddr *)&sa, &len);
    int port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    close(probe); /* nobody listens there now */

    opened = 0;
    struct net_conn *c = net_conn_create(loop, -1, false);
    if (net_conn_connect(c, "127.0.0.1", port, on_open) == 0) {
        for (int i = 0; i < 100 && c->state == NET_CONN_CONNECTING; i++) event_loop_poll_events(loop);
        cr_assert_eq(c->state, NET_CONN_FAILED);
        cr_assert(c->error != NULL);
    }
    cr_assert_eq(opened, 0);
    net_conn_close(c);
    event_loop_free(loop);
}

/* A loopback listener on a free port; its port in *port. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    socklen_t len = sizeof(in);
    getsockname(fd, (struct sockaddr *)&in, &len);
    *port = ntohs(in.sin_port);
    return fd;
}

Test(net_conn, blocking_helpers_connect_send_and_receive_without_the_loop_running)
{
    struct event_loop *loop = event_loop_create(1024);
    int port, lfd = listener(&port);
    struct net_conn *c = net_conn_create(loop, -1, false);
    cr_assert_eq(net_conn_connect_wait(c, "127.0.0.1", port, 1000), 0);
    cr_assert_eq(c->state, NET_CONN_OPEN);
    cr_assert_not(net_conn_is_tls(c));
    int peer = accept(lfd, NULL, NULL);
    cr_assert(peer >= 0);
    cr_assert(net_conn_send_wait(c, "question", 8, 1000));
    char buf[16] = {0};
    cr_assert_eq(read(peer, buf, sizeof(buf)), 8);
    cr_assert_str_eq(buf, "question");
    /* nothing arrives: the wait ends at its timeout */
    cr_assert_eq(net_conn_receive_wait(c, buf, sizeof(buf), 50), -1);
    cr_assert_eq(write(peer, "answer", 6), 6);
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(net_conn_receive_wait(c, buf, sizeof(buf), 1000), 6);
    cr_assert_str_eq(buf, "answer");
    close(peer);
    cr_assert_eq(net_conn_receive_wait(c, buf, sizeof(buf), 1000), -1, "the end of the stream");
    net_conn_close(c);
    close(lfd);
    event_loop_free(loop);
}

Test(net_conn, connect_wait_to_a_port_nobody_listens_on_fails)
{
    struct event_loop *loop = event_loop_create(1024);
    int port, lfd = listener(&port);
    close(lfd);
    struct net_conn *c = net_conn_create(loop, -1, false);
    cr_assert_eq(net_conn_connect_wait(c, "127.0.0.1", port, 1000), -1);
    cr_assert(c->error != NULL);
    net_conn_close(c);
    event_loop_free(loop);
}
