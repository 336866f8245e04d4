/* net/uring.c and net/conn_uring.c: the kernel-version check, and a
 * connection on a loop running io_uring over a socket pair — receives
 * reach the read handler, what it leaves is served again, writes go out
 * with the loop's next enter, full buffers say EAGAIN and count as unsent,
 * and the end of the stream comes after the data. Skipped where io_uring
 * can't be set up. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/event_loop.h"
#include "net/uring.h"

Test(net_uring, kernel_release_parsing)
{
    cr_assert(net_uring_kernel_at_least("6.18.44-fc-v1300", 6, 0));
    cr_assert(net_uring_kernel_at_least("5.19.0-1", 5, 19));
    cr_assert(net_uring_kernel_at_least("10.1", 5, 19));
    cr_assert_not(net_uring_kernel_at_least("5.15.0-91-generic", 5, 19));
    cr_assert_not(net_uring_kernel_at_least("4.20", 5, 19));
    cr_assert_not(net_uring_kernel_at_least("6", 5, 19));
    cr_assert_not(net_uring_kernel_at_least("linux", 5, 19));
}

Test(net_uring, epoll_engine_is_epoll)
{
    const char *why = "x";
    struct event_loop *loop = event_loop_create_engine(64, EVENT_ENGINE_EPOLL, &why);
    cr_assert_not_null(loop);
    cr_assert_null(why);
    cr_assert_str_eq(event_loop_engine_name(loop), "epoll");
    cr_assert_not(event_loop_uses_uring(loop));
    event_loop_free(loop);
}

static char got[8192];
static size_t got_len;
static size_t read_step;
static int reads, writes, ends;

static void on_open(struct net_conn *c)
{
    (void)c;
}

static void on_read(struct net_conn *c)
{
    reads++;
    size_t room = sizeof(got) - got_len < read_step ? sizeof(got) - got_len : read_step;
    if (room == 0) return; /* full: called again once the test empties it */
    ssize_t n = net_conn_read(c, got + got_len, room);
    if (n > 0) got_len += (size_t)n;
    if (n == 0) ends++;
}

static void on_write(struct net_conn *c)
{
    (void)c;
    writes++;
}

static struct event_loop *uring_loop(void)
{
    const char *why = NULL;
    struct event_loop *loop = event_loop_create_engine(1024, EVENT_ENGINE_URING, &why);
    if (!loop) cr_skip_test("io_uring unavailable: %s", why ? why : "?");
    return loop;
}

/* Turns of the loop without sleeping until cond holds (completions may
 * take a turn or two to come back). */
#define SPIN_UNTIL(loop, cond)                                                  \
    do {                                                                        \
        for (int i_ = 0; i_ < 200 && !(cond); i_++) {                           \
            event_loop_poll_events(loop);                                       \
            net_conn_process_pending();                                         \
            if (!(cond)) usleep(1000);                                          \
        }                                                                       \
    } while (0)

Test(net_uring, receive_write_and_end_of_stream)
{
    struct event_loop *loop = uring_loop();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    got_len = 0;
    reads = writes = ends = 0;
    read_step = sizeof(got);
    struct net_conn *c = net_conn_create(loop, sv[0], false);
    net_conn_accept(c, on_open);
    cr_assert_eq(c->state, NET_CONN_OPEN);
    net_conn_set_read_handler(c, on_read);

    cr_assert_eq(write(sv[1], "ping", 4), 4);
    SPIN_UNTIL(loop, got_len == 4);
    cr_assert_eq(got_len, 4);
    cr_assert_eq(memcmp(got, "ping", 4), 0);

    /* a write is taken whole and goes out with the loop's next enter */
    struct iovec iov[2] = {{.iov_base = "he", .iov_len = 2}, {.iov_base = "llo", .iov_len = 3}};
    cr_assert_eq(net_conn_writev(c, iov, 2), 5);
    char buf[16] = {0};
    ssize_t n = -1;
    for (int i = 0; i < 200 && n < 0; i++) {
        event_loop_poll_events(loop);
        n = read(sv[1], buf, sizeof(buf));
        if (n < 0) usleep(1000);
    }
    cr_assert_eq(n, 5);
    cr_assert_str_eq(buf, "hello");
    SPIN_UNTIL(loop, net_conn_unsent(c) == 0);
    cr_assert_eq(net_conn_unsent(c), 0);

    /* data then the end: the handler sees the data first, then 0 */
    cr_assert_eq(write(sv[1], "last", 4), 4);
    shutdown(sv[1], SHUT_WR);
    SPIN_UNTIL(loop, ends == 1);
    cr_assert_eq(ends, 1);
    cr_assert_eq(got_len, 8);
    cr_assert_eq(memcmp(got + 4, "last", 4), 0);
    net_conn_close(c);
    close(sv[1]);
    event_loop_poll_events(loop);
    event_loop_free(loop);
}

Test(net_uring, input_the_handler_leaves_is_served_again)
{
    struct event_loop *loop = uring_loop();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    got_len = 0;
    reads = writes = ends = 0;
    read_step = 3; /* takes 3 bytes per call */
    struct net_conn *c = net_conn_create(loop, sv[0], false);
    net_conn_accept(c, on_open);
    net_conn_set_read_handler(c, on_read);
    const char *msg = "abcdefghijklmnopqrstuvwxyz";
    cr_assert_eq(write(sv[1], msg, 26), 26);
    SPIN_UNTIL(loop, got_len == 26);
    cr_assert_eq(got_len, 26);
    cr_assert_eq(memcmp(got, msg, 26), 0);
    cr_assert_geq(reads, 9);
    net_conn_close(c);
    close(sv[1]);
    event_loop_poll_events(loop);
    event_loop_free(loop);
}

Test(net_uring, full_send_buffers_say_eagain_and_count_as_unsent)
{
    struct event_loop *loop = uring_loop();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    writes = 0;
    struct net_conn *c = net_conn_create(loop, sv[0], false);
    net_conn_accept(c, on_open);
    static char big[1 << 20];
    memset(big, 'x', sizeof(big));
    size_t taken = 0;
    for (int i = 0; i < 8; i++) {
        ssize_t n = net_conn_write(c, big, sizeof(big));
        if (n < 0) {
            cr_assert_eq(errno, EAGAIN);
            break;
        }
        taken += (size_t)n;
        event_loop_poll_events(loop);
    }
    cr_assert_lt(taken, sizeof(big), "a reader that reads nothing can't take a megabyte");
    cr_assert_gt(net_conn_unsent(c), 0);
    /* the write handler runs once the reader makes room */
    net_conn_set_write_handler(c, on_write);
    static char sink[1 << 16];
    size_t drained = 0;
    for (int i = 0; i < 2000 && drained < taken; i++) {
        ssize_t n = read(sv[1], sink, sizeof(sink));
        if (n > 0) drained += (size_t)n;
        event_loop_poll_events(loop);
        net_conn_process_pending();
    }
    cr_assert_eq(drained, taken);
    cr_assert_gt(writes, 0);
    cr_assert_eq(net_conn_unsent(c), 0);
    net_conn_close(c);
    close(sv[1]);
    event_loop_poll_events(loop);
    event_loop_free(loop);
}

Test(net_uring, input_nobody_reads_stops_receiving_then_resumes)
{
    struct event_loop *loop = uring_loop();
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct net_conn *c = net_conn_create(loop, sv[0], false);
    net_conn_accept(c, on_open);
    /* no read handler: what arrives is kept, up to a bound, then the
     * receive stops and the peer's socket fills */
    static char chunk[65536], in[8 << 20];
    for (size_t i = 0; i < sizeof(chunk); i++) chunk[i] = (char)('a' + i % 26);
    size_t sent = 0;
    int stuck = 0;
    while (sent < sizeof(in) && stuck < 50) {
        ssize_t n = write(sv[1], chunk, sizeof(chunk));
        if (n > 0) {
            sent += (size_t)n;
            stuck = 0;
        } else {
            stuck++;
            usleep(1000);
        }
        event_loop_poll_events(loop);
    }
    cr_assert_lt(sent, sizeof(in), "the receive never stopped");
    /* a reader takes it all, in order, and receiving resumes */
    got_len = 0;
    static char all[8 << 20];
    size_t all_len = 0;
    read_step = sizeof(got);
    reads = 0;
    net_conn_set_read_handler(c, on_read);
    for (int i = 0; i < 5000 && all_len < sent; i++) {
        event_loop_poll_events(loop);
        net_conn_process_pending();
        memcpy(all + all_len, got, got_len);
        all_len += got_len;
        got_len = 0;
    }
    cr_assert_eq(all_len, sent);
    for (size_t i = 0; i < all_len; i++)
        if (all[i] != (char)('a' + (i % sizeof(chunk)) % 26)) cr_assert_fail("byte %zu out of order", i);
    net_conn_close(c);
    close(sv[1]);
    event_loop_poll_events(loop);
    event_loop_free(loop);
}
