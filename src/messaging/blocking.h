/* blocking: clients waiting on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...).
 *
 * A command that finds nothing to serve parks its client here on one or more
 * keys, with a deadline. Writes that may make a key servable call
 * blocking_key_ready; after each command (after EXEC for a transaction) the
 * server calls blocking_serve_ready, which offers each ready key to its
 * waiters in the order they blocked (FIFO) through the serve function the
 * waiting command registered. Serving may make other keys ready (BLMOVE into
 * a list others wait on); those are served in the same pass. A waiter that
 * is served, times out or is cancelled leaves every key it waited on.
 *
 * This layer never includes a type or a connection: types hand it callbacks,
 * and the server hands it `blocking_hooks` to reach clients. */
#ifndef RUNNEL_MESSAGING_BLOCKING_H
#define RUNNEL_MESSAGING_BLOCKING_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/request.h"
#include "util/str.h"

struct db;
struct waiter;

enum serve_result {
    SERVE_NOT_READY, /* nothing for this waiter on this key: keep waiting */
    SERVE_DONE,      /* replied: the waiter leaves */
};

/* Tries to serve a waiter from `key`; replies through req when it does. */
typedef enum serve_result blocking_serve_fn(struct waiter *w, struct request *req, const char *key, size_t len);
/* Replies what the command answers when its time runs out (nil, usually). */
typedef void blocking_timeout_fn(struct waiter *w, struct request *req);

struct blocking_spec {
    blocking_serve_fn *serve;
    blocking_timeout_fn *timeout;
    void *state;                 /* the command's own data (destination, count, IDs...) */
    void (*state_free)(void *state);
};

struct waiter {
    void *client;
    struct db *db;
    str *keys;
    int key_count;
    long long deadline_ms; /* monotonic; 0 waits forever */
    struct blocking_spec spec;
};

/* How this layer reaches clients; set by the server at start-up. */
struct blocking_hooks {
    /* The client now waits: mark it blocked and arm its deadline. */
    void (*blocked)(void *client, struct waiter *w);
    /* Fills a request whose replies reach this client. */
    void (*prepare)(void *client, struct request *req);
    /* The client was served, timed out or cancelled: resume it. */
    void (*unblocked)(void *client, bool replied);
};
extern struct blocking_hooks blocking_hooks;

void blocking_init(int db_count);
/* Parks the request's client on keys argv[first..last step] until served or
 * `timeout_ms` passes (0: forever). The spec's state is owned from here on. */
void blocking_wait(struct request *req, struct arg *keys, int key_count, long long timeout_ms,
                   const struct blocking_spec *spec);
/* Marks a key as possibly servable; cheap when nobody waits on it. */
void blocking_key_ready(struct db *db, const char *key, size_t len);
/* Marks every key with waiters in this db ready (FLUSHDB, SWAPDB). */
void blocking_db_ready(struct db *db);
/* Serves waiters of every ready key, repeating until no key is ready. */
void blocking_serve_ready(void);
/* The waiter's deadline passed: reply its timeout and release it. */
void blocking_timeout(struct waiter *w);
/* CLIENT UNBLOCK ... ERROR: reply an error and release it. */
void blocking_fail(struct waiter *w, const char *error);
/* The client went away: release without replying. */
void blocking_cancel(struct waiter *w);
/* Keys with at least one waiter, over all databases (INFO). */
long long blocking_key_count(void);

#endif
