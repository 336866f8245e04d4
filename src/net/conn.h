/* conn: one connection, whatever carries it (plain TCP or TLS), behind one
 * small interface: read, writev, close, and handlers called when the
 * connection can be read or written. Users never watch the descriptor
 * themselves: a TLS connection may need to write while its user only
 * reads (a handshake, ciphertext the socket did not take), or have bytes
 * to read that the socket no longer shows, and it arranges that itself.
 * Nothing above net/ knows which type carries a connection. */
#ifndef RUNNEL_NET_CONN_H
#define RUNNEL_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct event_loop;
struct net_conn;

typedef void net_conn_fn(struct net_conn *conn);

enum net_conn_state {
    NET_CONN_CONNECTING, /* outgoing TCP connect under way */
    NET_CONN_HANDSHAKE,  /* TLS handshake under way */
    NET_CONN_OPEN,
    NET_CONN_FAILED,     /* connect or handshake failed; conn->error says why */
};

struct net_conn_type {
    const char *name; /* "tcp", "tls" */
    void (*accept)(struct net_conn *c);
    int (*connect)(struct net_conn *c, const char *host, int port);
    ssize_t (*read)(struct net_conn *c, void *buf, size_t len);
    ssize_t (*writev)(struct net_conn *c, const struct iovec *iov, int iovcnt);
    int (*update_events)(struct net_conn *c); /* 0, or -1 if the loop refused the descriptor */
    size_t (*unsent)(struct net_conn *c);     /* NULL: writev hands everything to the socket */
    void (*free)(struct net_conn *c);
};

struct net_conn {
    const struct net_conn_type *type;
    struct event_loop *loop;
    int fd;
    int state;        /* enum net_conn_state */
    int in_handler;   /* handlers running: freeing waits for them */
    bool closing;     /* net_conn_close was called inside a handler */
    net_conn_fn *on_read, *on_write, *on_open;
    void *data;       /* the user's */
    const char *error; /* static text, set with NET_CONN_FAILED or a failed read/write */
};

/* A connection over an accepted, non-blocking socket (or, with fd -1, one
 * to connect with net_conn_connect). tls: TLS from the context net/tls.c
 * holds, which must be configured. On a loop running io_uring, an accepted
 * plain TCP socket is served through the ring (net/conn_uring.c); TLS and
 * outgoing connections keep the readiness path. */
struct net_conn *net_conn_create(struct event_loop *loop, int fd, bool tls);

/* Starts serving an accepted connection: on_open is called once it is open
 * (at once for TCP, after the handshake for TLS) or has failed (state
 * NET_CONN_FAILED: the caller closes it). */
void net_conn_accept(struct net_conn *c, net_conn_fn *on_open);

/* Starts a non-blocking connect (and handshake); on_open as for accept.
 * -1 with c->error if it could not even start. */
int net_conn_connect(struct net_conn *c, const char *host, int port, net_conn_fn *on_open);

/* Handlers for readable and writable (NULL stops watching); each is called
 * with the connection, whose `data` is the user's. -1 if the event loop
 * can't watch the descriptor (past its size). */
int net_conn_set_read_handler(struct net_conn *c, net_conn_fn *fn);
int net_conn_set_write_handler(struct net_conn *c, net_conn_fn *fn);

/* As read(2) and writev(2): bytes, 0 at end of stream (read), or -1 with
 * errno (EAGAIN: try again when the handler is called). A writev of no
 * buffers sends what the type still holds (TLS ciphertext the socket did
 * not take): 0 once nothing is held, -1 with EAGAIN while some is. */
static inline ssize_t net_conn_read(struct net_conn *c, void *buf, size_t len)
{
    return c->type->read(c, buf, len);
}

static inline ssize_t net_conn_writev(struct net_conn *c, const struct iovec *iov, int iovcnt)
{
    return c->type->writev(c, iov, iovcnt);
}

ssize_t net_conn_write(struct net_conn *c, const void *buf, size_t len);

/* Bytes writev took that the socket has not taken yet (io_uring sends in
 * flight): still the server's to hold, so output limits count them. */
static inline size_t net_conn_unsent(struct net_conn *c)
{
    return c->type->unsent ? c->type->unsent(c) : 0;
}

/* Whether everything writev took has reached the socket (TLS records
 * queued, io_uring sends in flight): to close, or shut the write side,
 * only after an answer is all out. True for a broken connection; the
 * write handler runs when it may have become true. */
bool net_conn_flushed(struct net_conn *c);

/* Whether TLS carries the connection. */
bool net_conn_is_tls(const struct net_conn *c);

/* Blocking use, for short synchronous exchanges with another server (a
 * command that waits for its answer, as MIGRATE does): each call waits on
 * the socket itself, at most timeout_ms per step, and runs no other
 * connection meanwhile. The connection has no handlers while used so; it
 * may get them afterwards and go on inside the event loop. */
/* Connects (and completes the TLS handshake): 0, or -1 with c->error. */
int net_conn_connect_wait(struct net_conn *c, const char *host, int port, long long timeout_ms);
/* Writes all of buf, and any ciphertext still queued: true once sent. */
bool net_conn_send_wait(struct net_conn *c, const void *buf, size_t len, long long timeout_ms);
/* Reads what arrives: bytes read, or -1 (timeout, end of stream, error). */
ssize_t net_conn_receive_wait(struct net_conn *c, void *buf, size_t len, long long timeout_ms);

/* Closes the socket and frees the connection (after the running handler
 * returns, if called from one). */
void net_conn_close(struct net_conn *c);

/* Calls the read handler of connections that hold bytes already taken off
 * the socket (decrypted TLS records), which readiness would not report.
 * The server calls it before the loop sleeps. */
void net_conn_process_pending(void);

/* For the types: brackets the handlers run for one event, so that a
 * handler closing the connection does not free it under the others.
 * net_conn_leave returns false if it was closed (and is now freed). */
void net_conn_enter(struct net_conn *c);
bool net_conn_leave(struct net_conn *c);
/* For the types: starts a non-blocking TCP connect (state CONNECTING, the
 * socket in c->fd; -1 with c->error), and its result once the socket is
 * writable (0, or -1 with c->error). */
int net_tcp_start_connect(struct net_conn *c, const char *host, int port);
int net_tcp_finish_connect(struct net_conn *c);
/* For the types: watches exactly `mask` (EV_READ|EV_WRITE) with cb; -1 if
 * the loop refused. */
int net_conn_watch_mask(struct net_conn *c, int mask, void (*cb)(struct event_loop *, int, void *, int));

#endif
