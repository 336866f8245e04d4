/* event_loop: epoll readiness for file descriptors plus a timer heap, with a
 * hook that runs before every sleep (where replies are flushed and the AOF
 * is written). Single-threaded: every callback runs on the loop's thread. */
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

struct event_loop *event_loop_create(int max_fds);
void event_loop_free(struct event_loop *loop);

/* Watches fd for the events in mask (added to what it watched before). */
int event_loop_watch(struct event_loop *loop, int fd, int mask, event_io_fn *fn, void *data);
/* Stops watching the events in mask; with nothing left the fd is dropped. */
void event_loop_unwatch(struct event_loop *loop, int fd, int mask);
int event_loop_mask(struct event_loop *loop, int fd);
/* Calls fd's handler for the events of mask it watches, as a wake-up
 * would: for a caller that waited on the descriptor itself (poll). */
void event_loop_run_handler(struct event_loop *loop, int fd, int mask);

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
