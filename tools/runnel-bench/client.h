/* client: a single-threaded epoll loop driving many non-blocking RESP
 * connections, plus blocking hiredis helpers for setup and INFO.
 * Commands are appended to a connection's output buffer and written in one
 * batch per loop iteration; replies are parsed with hiredis's reader and
 * handed, in order, to the connection's reply callback. */
#ifndef RUNNEL_BENCH_CLIENT_H
#define RUNNEL_BENCH_CLIENT_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_target {
    const char *host;
    int port;
    const char *password; /* NULL: no AUTH */
};

struct bench_conn;
struct bench_loop;

/* Called once per reply or push; the reply is freed when it returns. */
typedef void (*conn_reply_fn)(struct bench_conn *c, redisReply *reply);
/* Called every tick_us while the loop runs. */
typedef void (*loop_tick_fn)(struct bench_loop *l, void *ud);

struct bench_conn {
    struct bench_loop *loop;
    int fd; /* -1 once closed */
    redisReader *reader;
    char *out;
    size_t out_len, out_off, out_cap;
    bool dirty;        /* queued on the loop's flush list */
    bool want_write;   /* EPOLLOUT armed: the socket was full */
    bool reading;      /* EPOLLIN armed */
    bool expect_close; /* EOF is not an error */
    conn_reply_fn on_reply;
    void *ud;      /* owner's state */
    int index;     /* owner's index for this connection */
    char name[40]; /* role, for error messages: "consumer 3" */
};

struct bench_loop {
    int epfd;
    bool stop;
    bool failed;
    char error[512];
    struct bench_conn **dirty;
    size_t n_dirty, cap_dirty;
};

uint64_t now_ns(void);

int loop_init(struct bench_loop *l);
void loop_free(struct bench_loop *l);
/* Runs until l->stop is set (by a callback, a tick or loop_fail); calls tick
 * every tick_us microseconds. Returns 0, or -1 if the loop failed. */
int loop_run(struct bench_loop *l, int tick_us, loop_tick_fn tick, void *ud);
/* Records the first error (later ones are dropped) and stops the loop. */
void loop_fail(struct bench_loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Connects (blocking), sends AUTH if the target has a password, then
 * switches to non-blocking mode under the loop. rcvbuf > 0 shrinks the
 * socket's receive buffer first (for subscribers that must not read).
 * Returns NULL and fails the loop on error. */
struct bench_conn *conn_open(struct bench_loop *l, const struct bench_target *t, const char *name, int rcvbuf,
                             conn_reply_fn on_reply, void *ud, int index);
/* Closes the socket (if open) and frees the connection. */
void conn_free(struct bench_conn *c);
/* Closes the socket but keeps the structure; later output is dropped. */
void conn_close(struct bench_conn *c);
/* Appends one command in RESP array form; lens[i] is argv[i]'s length. */
void conn_command(struct bench_conn *c, int argc, const char *const *argv, const size_t *lens);
/* Appends preformatted protocol bytes. */
void conn_write_raw(struct bench_conn *c, const void *data, size_t len);
/* Stops reading the socket for good: the server's output piles up. */
void conn_stop_reading(struct bench_conn *c);
/* True (after failing the loop) if reply is an error or not of type want;
 * want < 0 accepts any non-error type. */
bool conn_reply_bad(struct bench_conn *c, const redisReply *reply, int want, const char *cmd);

/* Blocking admin connection with AUTH done; NULL with err filled on error. */
redisContext *admin_connect(const struct bench_target *t, char *err, size_t errlen);
/* Runs a command given as a NUL-separated argv; returns the reply (caller
 * frees) or NULL with err filled on I/O or error replies. */
redisReply *admin_call(redisContext *ctx, char *err, size_t errlen, int argc, const char **argv);
/* Reads one numeric field of INFO <section>; -1 with err filled on error. */
long long admin_info_field(redisContext *ctx, const char *section, const char *field, char *err,
                           size_t errlen);

#endif
