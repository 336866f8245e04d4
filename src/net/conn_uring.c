/* conn_uring: plain TCP connections served through the loop's io_uring.
 *
 * Receiving: one multishot receive per connection (a re-armed single one
 * before Linux 6.0) picks buffers from the ring's provided group; each
 * completion calls the read handler, whose net_conn_read copies from that
 * buffer, and whatever it leaves is kept in the connection's own pending
 * bytes so the buffer goes straight back to the kernel.
 *
 * Sending: net_conn_writev copies into the connection's send buffer and
 * queues one send for it; the loop submits the sends of every client of an
 * iteration with the same io_uring_enter that waits for the next events.
 * While a send is in flight, writes fill a second buffer sent when the
 * first completes; with both full, writev says EAGAIN and the write handler
 * is called when room comes back, as readiness would.
 *
 * Closing cancels what is in flight; the structure lives on until the
 * kernel has completed its last operation, since completions point at it. */
#include "net/conn_uring.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/uring.h"
#include "util/mem.h"

#define SEND_CAP (256 * 1024)   /* per send buffer: bounds what a slow reader holds here */
#define SEND_KEEP (16 * 1024)   /* a buffer grown past this is given back once sent */
/* Input a handler has not taken (a busy script's clients): past this, the
 * receive is cancelled, so the peer meets TCP's own back-pressure as it
 * would on readiness, and armed again once the handler has read it down. */
#define PEND_PAUSE (256 * 1024)

struct send_buf {
    char *buf;
    size_t off, len, cap;
};

struct uring_conn {
    struct net_conn conn;
    struct net_uring *u;
    struct uring_op recv_op, send_op, eof_op;
    bool recv_armed, send_armed, eof_armed;
    bool recv_paused;    /* cancelled for PEND_PAUSE: armed again by a read */
    bool dead;           /* freed by its user; freed here once nothing is in flight */
    int busy;            /* completions of this connection running */
    bool eof;            /* the peer closed its side: told after the replies so far are sent */
    int recv_err;        /* errno of a failed receive, or 0 */
    bool end_reported;   /* read returned the end or the error */
    int send_err;        /* errno of a failed send: later writes fail with it */
    /* the completion being handled (read first), then older leftovers */
    const char *cur;
    size_t cur_len;
    bool in_recv;
    char *pend;
    size_t pend_off, pend_len, pend_cap;
    struct send_buf sb[2];
    int flight; /* sb[flight] is in flight while send_armed; the other fills */
    /* on a list net_uring_conn_process_pending serves (NULL: on none) */
    struct uring_conn *next, *prev;
    struct uring_conn **list;
};

static struct uring_conn *pending_head;
/* Closed connections whose operations the kernel has not completed yet
 * (kept listed so that they stay reachable until then, even at exit). */
static struct uring_conn *zombie_head;

static void list_add(struct uring_conn *uc, struct uring_conn **head)
{
    if (uc->list) return;
    uc->list = head;
    uc->prev = NULL;
    uc->next = *head;
    if (*head) (*head)->prev = uc;
    *head = uc;
}

static void pending_add(struct uring_conn *uc)
{
    list_add(uc, &pending_head);
}

static void pending_remove(struct uring_conn *uc)
{
    if (!uc->list) return;
    if (uc->prev) uc->prev->next = uc->next;
    else *uc->list = uc->next;
    if (uc->next) uc->next->prev = uc->prev;
    uc->list = NULL;
}

static bool has_input(const struct uring_conn *uc)
{
    bool eof_due = uc->eof && !uc->eof_armed;
    return uc->cur_len > 0 || uc->pend_len > 0 || ((eof_due || uc->recv_err) && !uc->end_reported);
}

/* Frees the structure once its user let go and the kernel holds nothing. */
static void uring_conn_release(struct uring_conn *uc)
{
    if (!uc->dead || uc->recv_armed || uc->send_armed || uc->eof_armed || uc->busy > 0) return;
    pending_remove(uc); /* off the zombie list */
    mem_free(uc->pend);
    mem_free(uc->sb[0].buf);
    mem_free(uc->sb[1].buf);
    mem_free(uc);
}

static void recv_arm(struct uring_conn *uc)
{
    struct io_uring_sqe *sqe = net_uring_sqe(uc->u, &uc->recv_op);
    if (net_uring_caps(uc->u)->multishot_recv) io_uring_prep_recv_multishot(sqe, uc->conn.fd, NULL, 0, 0);
    else io_uring_prep_recv(sqe, uc->conn.fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = net_uring_buf_group(uc->u);
    /* Wait for readiness rather than receive at submission: bytes already
     * waiting (a connection just accepted) then complete after what arrived
     * before them on other connections, in arrival order, as readiness
     * orders them — a replica's stream before a command that promotes it. */
    sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
    uc->recv_armed = true;
}

static void send_submit(struct uring_conn *uc)
{
    struct send_buf *b = &uc->sb[uc->flight];
    struct io_uring_sqe *sqe = net_uring_sqe(uc->u, &uc->send_op);
    /* no MSG_WAITALL: a partial send completes, so that what is still held
     * here is known (net_conn_unsent) and the rest is sent again */
    io_uring_prep_send(sqe, uc->conn.fd, b->buf + b->off, b->len - b->off, MSG_NOSIGNAL);
    uc->send_armed = true;
}

/* Appends to the pending bytes; at_front for what the handler left of the
 * completion it was given (older than anything appended meanwhile). */
static void pend_put(struct uring_conn *uc, const char *p, size_t n, bool at_front)
{
    if (n == 0) return;
    if (uc->pend_off > 0 && (at_front || uc->pend_off + uc->pend_len + n > uc->pend_cap)) {
        memmove(uc->pend, uc->pend + uc->pend_off, uc->pend_len);
        uc->pend_off = 0;
    }
    if (uc->pend_len + n > uc->pend_cap) {
        size_t cap = uc->pend_cap ? uc->pend_cap * 2 : 4096;
        while (cap < uc->pend_len + n) cap *= 2;
        uc->pend = mem_realloc(uc->pend, cap);
        uc->pend_cap = cap;
    }
    if (at_front) {
        memmove(uc->pend + n, uc->pend, uc->pend_len);
        memcpy(uc->pend, p, n);
    } else {
        memcpy(uc->pend + uc->pend_off + uc->pend_len, p, n);
    }
    uc->pend_len += n;
}

/* Calls the read handler (if any); true if the connection is still open. */
static bool deliver_read(struct uring_conn *uc)
{
    struct net_conn *c = &uc->conn;
    if (!c->on_read) return true;
    net_conn_enter(c);
    c->on_read(c);
    net_conn_leave(c);
    return !uc->dead;
}

static void deliver_write(struct uring_conn *uc)
{
    struct net_conn *c = &uc->conn;
    if (!c->on_write) return;
    net_conn_enter(c);
    c->on_write(c);
    net_conn_leave(c);
}

static void recv_complete(struct uring_op *op, int res, unsigned flags)
{
    struct uring_conn *uc = (struct uring_conn *)((char *)op - offsetof(struct uring_conn, recv_op));
    if (!(flags & IORING_CQE_F_MORE)) uc->recv_armed = false;
    uc->busy++;
    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        const char *data = net_uring_buf(uc->u, bid);
        if (uc->dead) {
            /* nothing reads it any more */
        } else if (uc->pend_len == 0 && !uc->in_recv && uc->conn.on_read) {
            uc->cur = data;
            uc->cur_len = (size_t)res;
            uc->in_recv = true;
            if (deliver_read(uc) && uc->cur_len > 0) pend_put(uc, uc->cur, uc->cur_len, true);
            uc->cur = NULL;
            uc->cur_len = 0;
            uc->in_recv = false;
        } else {
            pend_put(uc, data, (size_t)res, false);
            if (uc->pend_len > PEND_PAUSE && uc->recv_armed && !uc->recv_paused) {
                io_uring_prep_cancel64(net_uring_sqe(uc->u, NULL), (uint64_t)(uintptr_t)&uc->recv_op, 0);
                uc->recv_paused = true;
            }
        }
        net_uring_buf_recycle(uc->u, bid);
    } else if (res == 0 && !uc->dead) {
        /* A peer that half-closes after its last request still gets the
         * reply, as readiness gives it (the request is read, its reply
         * flushed, and the end seen on the next wake): the end is told
         * through a no-op queued now, which completes in the same enter
         * that submits this iteration's sends, so they are issued first. */
        uc->eof = true;
        io_uring_prep_nop(net_uring_sqe(uc->u, &uc->eof_op));
        uc->eof_armed = true;
    } else if (res < 0 && res != -ENOBUFS && res != -ECANCELED && res != -EINTR && res != -EAGAIN) {
        uc->recv_err = -res;
    }
    if (!uc->dead) {
        /* out of buffers, or a single-shot receive: ask again */
        if (uc->recv_paused && uc->pend_len < PEND_PAUSE / 2) uc->recv_paused = false;
        if (!uc->recv_armed && !uc->recv_paused && !uc->eof && !uc->recv_err) recv_arm(uc);
        if (uc->recv_err && !uc->end_reported && !uc->in_recv) deliver_read(uc);
        if (!uc->dead && uc->conn.on_read && has_input(uc)) pending_add(uc);
    }
    uc->busy--;
    uring_conn_release(uc);
}

static void send_complete(struct uring_op *op, int res, unsigned flags)
{
    (void)flags;
    struct uring_conn *uc = (struct uring_conn *)((char *)op - offsetof(struct uring_conn, send_op));
    uc->send_armed = false;
    if (uc->dead) {
        uring_conn_release(uc);
        return;
    }
    struct send_buf *b = &uc->sb[uc->flight];
    if (res < 0) {
        uc->send_err = -res;
        uc->sb[0].off = uc->sb[0].len = uc->sb[1].off = uc->sb[1].len = 0;
    } else {
        b->off += (size_t)res;
        if (b->off < b->len) {
            send_submit(uc); /* the rest of it */
            return;
        }
        b->off = b->len = 0;
        if (b->cap > SEND_KEEP) {
            mem_free(b->buf);
            b->buf = NULL;
            b->cap = 0;
        }
        if (uc->sb[!uc->flight].len > 0) {
            uc->flight = !uc->flight;
            send_submit(uc);
        }
    }
    uc->busy++;
    deliver_write(uc);
    uc->busy--;
    uring_conn_release(uc);
}

static void eof_complete(struct uring_op *op, int res, unsigned flags)
{
    (void)res, (void)flags;
    struct uring_conn *uc = (struct uring_conn *)((char *)op - offsetof(struct uring_conn, eof_op));
    uc->eof_armed = false;
    uc->busy++;
    if (!uc->dead && !uc->in_recv && has_input(uc)) deliver_read(uc);
    if (!uc->dead && uc->conn.on_read && has_input(uc)) pending_add(uc);
    uc->busy--;
    uring_conn_release(uc);
}

/* ---- the connection type ---- */

static void uring_accept(struct net_conn *c)
{
    struct uring_conn *uc = (struct uring_conn *)c;
    c->state = NET_CONN_OPEN;
    recv_arm(uc);
    net_conn_enter(c);
    if (c->on_open) c->on_open(c);
    net_conn_leave(c);
}

static int uring_connect(struct net_conn *c, const char *host, int port)
{
    (void)host, (void)port;
    c->error = "outgoing connections use the readiness path";
    return -1;
}

static ssize_t uring_read(struct net_conn *c, void *buf, size_t len)
{
    struct uring_conn *uc = (struct uring_conn *)c;
    size_t total = 0;
    if (uc->cur_len > 0) {
        size_t n = uc->cur_len < len ? uc->cur_len : len;
        memcpy(buf, uc->cur, n);
        uc->cur += n;
        uc->cur_len -= n;
        total = n;
    }
    if (total < len && uc->pend_len > 0) {
        size_t n = uc->pend_len < len - total ? uc->pend_len : len - total;
        memcpy((char *)buf + total, uc->pend + uc->pend_off, n);
        uc->pend_off += n;
        uc->pend_len -= n;
        if (uc->pend_len == 0) uc->pend_off = 0;
        total += n;
        if (uc->recv_paused && uc->pend_len < PEND_PAUSE / 2) {
            /* (a cancel still on its way arms it again when it completes) */
            uc->recv_paused = false;
            if (!uc->recv_armed && !uc->eof && !uc->recv_err) recv_arm(uc);
        }
    }
    if (total > 0) return (ssize_t)total;
    if (uc->recv_err) {
        uc->end_reported = true;
        errno = uc->recv_err;
        return -1;
    }
    if (uc->eof && !uc->eof_armed) {
        uc->end_reported = true;
        return 0;
    }
    errno = EAGAIN;
    return -1;
}

static ssize_t uring_writev(struct net_conn *c, const struct iovec *iov, int iovcnt)
{
    struct uring_conn *uc = (struct uring_conn *)c;
    if (uc->send_err) {
        errno = uc->send_err;
        return -1;
    }
    struct send_buf *b = &uc->sb[uc->send_armed ? !uc->flight : uc->flight];
    size_t room = b->len < SEND_CAP ? SEND_CAP - b->len : 0;
    size_t want = 0;
    for (int i = 0; i < iovcnt && want < room; i++) want += iov[i].iov_len;
    if (want > room) want = room;
    if (want == 0) {
        if (room > 0) return 0;
        errno = EAGAIN;
        return -1;
    }
    if (b->len + want > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + want) cap *= 2;
        b->buf = mem_realloc(b->buf, cap);
        b->cap = cap;
    }
    size_t copied = 0;
    for (int i = 0; i < iovcnt && copied < want; i++) {
        size_t n = iov[i].iov_len < want - copied ? iov[i].iov_len : want - copied;
        memcpy(b->buf + b->len + copied, iov[i].iov_base, n);
        copied += n;
    }
    b->len += copied;
    if (!uc->send_armed) send_submit(uc);
    return (ssize_t)copied;
}

/* Readiness has no meaning here: a handler set while input waits, or a
 * write handler with room to write, is served before the loop sleeps. */
static int uring_update_events(struct net_conn *c)
{
    struct uring_conn *uc = (struct uring_conn *)c;
    if (uc->dead) return 0;
    if ((c->on_read && has_input(uc)) || (c->on_write && !uc->send_armed)) pending_add(uc);
    return 0;
}

static size_t uring_unsent(struct net_conn *c)
{
    struct uring_conn *uc = (struct uring_conn *)c;
    return (uc->sb[0].len - uc->sb[0].off) + (uc->sb[1].len - uc->sb[1].off);
}

static void uring_free(struct net_conn *c)
{
    struct uring_conn *uc = (struct uring_conn *)c;
    uc->dead = true;
    c->on_read = c->on_write = c->on_open = NULL;
    pending_remove(uc);
    /* a send still queued goes out first (the submission keeps order), so a
     * last reply before a close reaches a socket with room; what the socket
     * can't take is cancelled, as a slow reader's queue is dropped */
    if (uc->recv_armed) io_uring_prep_cancel64(net_uring_sqe(uc->u, NULL), (uint64_t)(uintptr_t)&uc->recv_op, 0);
    if (uc->send_armed) io_uring_prep_cancel64(net_uring_sqe(uc->u, NULL), (uint64_t)(uintptr_t)&uc->send_op, 0);
    if (uc->recv_armed || uc->send_armed) net_uring_submit(uc->u);
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    list_add(uc, &zombie_head);
    uring_conn_release(uc);
}

static const struct net_conn_type uring_type = {
    .name = "tcp",
    .accept = uring_accept,
    .connect = uring_connect,
    .read = uring_read,
    .writev = uring_writev,
    .update_events = uring_update_events,
    .unsent = uring_unsent,
    .free = uring_free,
};

struct net_conn *net_uring_conn_create(struct event_loop *loop, int fd)
{
    struct uring_conn *uc = mem_calloc(sizeof(*uc));
    uc->conn.type = &uring_type;
    uc->conn.loop = loop;
    uc->conn.fd = fd;
    uc->u = event_loop_uring(loop);
    uc->recv_op.complete = recv_complete;
    uc->send_op.complete = send_complete;
    uc->eof_op.complete = eof_complete;
    return &uc->conn;
}

void net_uring_conn_process_pending(void)
{
    /* handlers may close any connection: take them one at a time off a
     * list of our own, from which closing removes them too */
    struct uring_conn *todo = pending_head;
    pending_head = NULL;
    for (struct uring_conn *uc = todo; uc; uc = uc->next) uc->list = &todo;
    while (todo) {
        struct uring_conn *uc = todo;
        pending_remove(uc);
        uc->busy++;
        if (uc->conn.on_write && !uc->send_armed) deliver_write(uc);
        /* read until the handler takes no more: the loop may sleep next */
        size_t left = SIZE_MAX;
        while (!uc->dead && uc->conn.on_read && has_input(uc) && uc->pend_len < left) {
            left = uc->pend_len;
            deliver_read(uc);
        }
        uc->busy--;
        if (!uc->dead && uc->conn.on_read && has_input(uc)) pending_add(uc);
        uring_conn_release(uc);
    }
}
