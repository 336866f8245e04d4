/* event_loop: readiness for file descriptors plus a timer heap, with a
 * hook that runs before every sleep (where replies are flushed and the AOF
 * is written). Single-threaded: every callback runs on the loop's thread.
 *
 * Two engines: epoll, and io_uring (net/uring.c), chosen at creation. Under
 * io_uring, listeners accept with multishot accepts and plain TCP
 * connections receive and send through the ring (net/conn_uring.c); watched
 * descriptors (TLS, outgoing links, the HTTP port) stay on an epoll set that
 * the ring polls, so event_loop_watch means the same under both. */
#ifndef RUNNEL_NET_EVENT_LOOP_H
#define RUNNEL_NET_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

enum { EV_READ = 1, EV_WRITE = 2 };

struct event_loop;
typedef void event_io_fn(struct event_loop *loop, int fd, void *data, int mask);
typedef void event_timer_fn(struct event_loop *loop, void *data);
typedef void event_hook_fn(struct event_loop *loop);

struct event_timer; /* opaque handle; valid until it fires or is cancelled */

enum event_engine { EVENT_ENGINE_AUTO, EVENT_ENGINE_URING, EVENT_ENGINE_EPOLL };

/* An epoll loop. */
struct event_loop *event_loop_create(int max_fds);
/* A loop on the engine asked for: AUTO takes io_uring where the kernel
 * offers what the engine needs, else epoll with *why saying why; URING
 * gives NULL (and *why) where it can't. */
struct event_loop *event_loop_create_engine(int max_fds, int engine, const char **why);
/* "epoll" or "io_uring". */
const char *event_loop_engine_name(const struct event_loop *loop);
bool event_loop_uses_uring(const struct event_loop *loop);
void event_loop_free(struct event_loop *loop);

/* Watches fd for the events in mask (added to what it watched before). */
int event_loop_watch(struct event_loop *loop, int fd, int mask, event_io_fn *fn, void *data);
/* Stops watching the events in mask; with nothing left the fd is dropped. */
void event_loop_unwatch(struct event_loop *loop, int fd, int mask);
int event_loop_mask(struct event_loop *loop, int fd);
/* Calls fd's handler for the events of mask it watches, as a wake-up
 * would: for a caller that waited on the descriptor itself (poll). */
void event_loop_run_handler(struct event_loop *loop, int fd, int mask);

/* Accepts connections on the listening socket lfd: fn gets each new
 * socket (non-blocking, close-on-exec), or -errno when accepting failed.
 * epoll: accept4 when readable; io_uring: a multishot accept. */
typedef void event_accept_fn(struct event_loop *loop, int fd, void *data);
int event_loop_listen(struct event_loop *loop, int lfd, event_accept_fn *fn, void *data);
/* Stops accepting on lfd (the caller closes it). */
void event_loop_unlisten(struct event_loop *loop, int lfd);

/* Runs fn once at monotonic time `when_ms`. */
struct event_timer *event_timer_at(struct event_loop *loop, long long when_ms, event_timer_fn *fn, void *data);
void event_timer_cancel(struct event_loop *loop, struct event_timer *t);
long long event_now_ms(void);

void event_loop_set_before_sleep(struct event_loop *loop, event_hook_fn *fn);
void event_loop_run(struct event_loop *loop);
/* One turn without waiting and without timers: handles the descriptors
 * that are ready now, then runs the before-sleep hook (which flushes
 * replies). For long work that must let clients in meanwhile (loading). */
void event_loop_poll(struct event_loop *loop);
/* The same turn without the before-sleep hook: the caller flushes what it
 * wants (a busy script must not see the clock move or the AOF written). */
void event_loop_poll_events(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
