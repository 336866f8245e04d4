/* uring: the io_uring ring behind the event loop's uring engine, for net/
 * only (the event loop and the uring connection type). Every operation in
 * flight carries a `struct uring_op` as its user_data; completions are
 * taken off the ring one at a time before their handler runs, so a handler
 * may wait on the ring again (a busy script serving the others). */
#ifndef RUNNEL_NET_URING_H
#define RUNNEL_NET_URING_H

#include <liburing.h>
#include <stdbool.h>

struct uring_op;
/* res and flags as in the completion (IORING_CQE_F_MORE, F_BUFFER). */
typedef void uring_complete_fn(struct uring_op *op, int res, unsigned flags);

struct uring_op {
    uring_complete_fn *complete;
};

struct net_uring;

/* What the kernel offers, from its version and a probe of the ring. */
struct uring_caps {
    bool multishot_recv; /* Linux 6.0 */
};

/* A ring with its provided-buffer group registered, or NULL with *why set
 * (io_uring refused, or the kernel is older than the engine needs). */
struct net_uring *net_uring_create(const char **why);
void net_uring_free(struct net_uring *u);
const struct uring_caps *net_uring_caps(const struct net_uring *u);

/* A submission entry, never NULL: a full queue is submitted first. Its
 * user_data is set to op (NULL: a completion nobody waits for). */
struct io_uring_sqe *net_uring_sqe(struct net_uring *u, struct uring_op *op);
/* Submits what is queued without waiting (one io_uring_enter, or none). */
void net_uring_submit(struct net_uring *u);
/* Submits what is queued and waits until a completion arrives or
 * timeout_ms passes (one io_uring_enter); then dispatches what arrived. */
void net_uring_wait(struct net_uring *u, int timeout_ms);
/* Dispatches completions already on the ring (after running the kernel's
 * deferred work), without waiting. */
void net_uring_poll(struct net_uring *u);

/* The provided buffers receives pick from. */
unsigned short net_uring_buf_group(const struct net_uring *u);
const char *net_uring_buf(const struct net_uring *u, unsigned id);
/* Gives buffer id back to the kernel. */
void net_uring_buf_recycle(struct net_uring *u, unsigned id);

/* The loop's ring, or NULL under epoll (net/event_loop.c). */
struct event_loop;
struct net_uring *event_loop_uring(struct event_loop *loop);

/* Parses a "major.minor..." kernel release; false if it doesn't read. */
bool net_uring_kernel_at_least(const char *release, int major, int minor);

#endif
