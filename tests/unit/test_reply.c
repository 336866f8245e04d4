/* Reply writer and output queue: every reply shape in RESP2 and RESP3,
 * deferred lengths, shared blocks, and flushing through a real socket. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/outbuf.h"
#include "protocol/reply.h"

/* Drains the queue through a socketpair and returns what arrived. */
static char *drain(struct outbuf *o, size_t *len)
{
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    size_t expected = o->pending;
    size_t cap = expected + 1, got = 0;
    char *buf = malloc(cap);
    struct net_conn *conn = net_conn_create(NULL, sv[0], false);
    while (o->pending > 0) {
        cr_assert(outbuf_write_conn(o, conn) >= 0);
        ssize_t n;
        while (got < expected && (n = read(sv[1], buf + got, cap - got)) > 0) got += (size_t)n;
    }
    net_conn_close(conn); /* closes sv[0] */
    close(sv[1]);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void expect_bytes(struct outbuf *o, const char *want, size_t want_len)
{
    size_t len;
    char *got = drain(o, &len);
    cr_assert_eq(len, want_len, "length %zu != %zu: %s", len, want_len, got);
    cr_assert(memcmp(got, want, len) == 0, "got %s want %s", got, want);
    free(got);
}

static void expect(struct outbuf *o, const char *want)
{
    expect_bytes(o, want, strlen(want));
}

static struct outbuf make(int resp)
{
    struct outbuf o;
    outbuf_init(&o);
    o.resp = (uint8_t)resp;
    return o;
}

Test(reply, scalars_resp2)
{
    struct outbuf o = make(2);
    reply_ok(&o);
    reply_simple(&o, "PONG");
    reply_int(&o, -42);
    reply_bulk(&o, "a\0b", 3);
    reply_bulk_ll(&o, 123);
    reply_null(&o);
    reply_null_array(&o);
    reply_bool(&o, true);
    reply_double(&o, 1.5);
    static const char want[] = "+OK\r\n+PONG\r\n:-42\r\n$3\r\na\0b\r\n$3\r\n123\r\n$-1\r\n*-1\r\n:1\r\n$3\r\n1.5\r\n";
    expect_bytes(&o, want, sizeof(want) - 1);
    outbuf_free(&o);
}

Test(reply, scalars_resp3)
{
    struct outbuf o = make(3);
    reply_null(&o);
    reply_null_array(&o);
    reply_bool(&o, false);
    reply_double(&o, 2.25);
    reply_verbatim(&o, "hi", 2, "txt");
    expect(&o, "_\r\n_\r\n#f\r\n,2.25\r\n=6\r\ntxt:hi\r\n");
    outbuf_free(&o);
}

Test(reply, aggregates_by_protocol)
{
    struct outbuf o2 = make(2), o3 = make(3);
    struct outbuf *both[2] = {&o2, &o3};
    for (int i = 0; i < 2; i++) {
        reply_map(both[i], 1);
        reply_set(both[i], 2);
        reply_push(both[i], 3);
        reply_array(both[i], 0);
    }
    expect(&o2, "*2\r\n*2\r\n*3\r\n*0\r\n");
    expect(&o3, "%1\r\n~2\r\n>3\r\n*0\r\n");
    outbuf_free(&o2);
    outbuf_free(&o3);
}

Test(reply, doubles_shortest_round_trip)
{
    char buf[64];
    size_t n = reply_format_double(buf, sizeof(buf), 0.1);
    cr_assert_str_eq(buf, "0.1");
    cr_assert_eq(n, 3);
    reply_format_double(buf, sizeof(buf), 30);
    cr_assert_str_eq(buf, "30");
    reply_format_double(buf, sizeof(buf), 1.0 / 0.0);
    cr_assert_str_eq(buf, "inf");
    reply_format_double(buf, sizeof(buf), -1.0 / 0.0);
    cr_assert_str_eq(buf, "-inf");
}

/* Every digit, as Redis 7.0 wrote doubles (ACL LOG's age-seconds). */
Test(reply, doubles_with_every_digit)
{
    struct outbuf o = make(2);
    reply_double_17g(&o, 0.904);
    expect(&o, "$19\r\n0.90400000000000003\r\n");
    outbuf_free(&o);
    struct outbuf o3 = make(3);
    reply_double_17g(&o3, 0.5);
    expect(&o3, ",0.5\r\n");
    outbuf_free(&o3);
}

Test(reply, error_records_code_and_flattens_newlines)
{
    struct outbuf o = make(2);
    reply_error(&o, "WRONGTYPE bad\r\nthing");
    cr_assert_eq(o.errors, 1);
    cr_assert_str_eq(o.last_error, "WRONGTYPE");
    expect(&o, "-WRONGTYPE bad  thing\r\n");
    outbuf_free(&o);
}

Test(reply, deferred_lengths_land_before_their_elements)
{
    struct outbuf o = make(2);
    reply_simple(&o, "first");
    outbuf_mark m = reply_defer(&o);
    reply_bulk(&o, "x", 1);
    reply_bulk(&o, "y", 1);
    reply_deferred_array(&o, m, 2);
    outbuf_mark m2 = reply_defer(&o);
    reply_deferred_map(&o, m2, 0);
    expect(&o, "+first\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n*0\r\n");
    outbuf_free(&o);
}

Test(reply, large_reply_spans_blocks_in_order)
{
    struct outbuf o = make(2);
    size_t n = 3 * OUTBLOCK_SIZE + 123;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
    reply_bulk(&o, big, n);
    size_t len;
    char *got = drain(&o, &len);
    char header[32];
    int h = snprintf(header, sizeof(header), "$%zu\r\n", n);
    cr_assert_eq(len, (size_t)h + n + 2);
    cr_assert(memcmp(got, header, (size_t)h) == 0);
    cr_assert(memcmp(got + h, big, n) == 0);
    free(got);
    free(big);
    outbuf_free(&o);
}

Test(outbuf, shared_block_is_referenced_not_copied)
{
    struct outbuf a = make(2), b = make(2);
    struct outblock *msg = outblock_new(64);
    outblock_append(msg, "+hello\r\n", 8);
    reply_simple(&a, "before");
    outbuf_append_shared(&a, msg);
    outbuf_append_shared(&b, msg);
    cr_assert_eq(msg->refcount, 3);
    cr_assert_eq(a.pending_shared, 8);
    outblock_release(msg); /* the creator's reference */
    reply_simple(&a, "after");
    expect(&a, "+before\r\n+hello\r\n+after\r\n");
    cr_assert_eq(msg->refcount, 1);
    expect(&b, "+hello\r\n");
    outbuf_free(&a);
    outbuf_free(&b);
}

Test(outbuf, muted_queue_drops_replies)
{
    struct outbuf o = make(2);
    o.muted = true;
    reply_ok(&o);
    reply_bulk(&o, "x", 1);
    cr_assert_eq(o.pending, 0);
    o.muted = false;
    reply_ok(&o);
    expect(&o, "+OK\r\n");
    outbuf_free(&o);
}

Test(outbuf, idle_release_and_reuse)
{
    struct outbuf o = make(2);
    reply_ok(&o);
    expect(&o, "+OK\r\n");
    outbuf_release_idle(&o);
    cr_assert_null(o.home);
    reply_simple(&o, "again");
    expect(&o, "+again\r\n");
    outbuf_free(&o);
}
