/* bench: options shared by every workload and the result they fill in.
 * A workload reads its sizes from bench_opts (already defaulted by main),
 * adds named metrics and an optional latency histogram to bench_result, and
 * returns one of the BENCH_EXIT_* codes. */
#ifndef RUNNEL_BENCH_BENCH_H
#define RUNNEL_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "histogram.h"

enum {
    BENCH_EXIT_OK = 0,
    BENCH_EXIT_ERROR = 1, /* server error, lost connection, setup failure */
    BENCH_EXIT_USAGE = 2,
    BENCH_EXIT_INTEGRITY = 3, /* lost, duplicated or left-pending messages */
};

struct bench_opts {
    struct bench_target target;
    const char *workload;
    const char *json_path;
    double seconds;    /* run length, when messages == 0 */
    uint64_t messages; /* total messages (or requests); 0: run for `seconds` */
    size_t size;       /* payload bytes */
    int publishers, subscribers, channels;
    bool patterns;
    int producers, consumers;
    bool reliable;
    int pipeline;         /* commands in flight per connection */
    int connections;      /* ping, echo-limit */
    double drain_seconds; /* how long to wait for stragglers at the end */
    double rate;          /* open loop: messages per second over all senders; 0: closed loop */
    bool quiet;           /* no progress lines */
};

#define BENCH_MAX_METRICS 40

struct bench_metric {
    const char *name;  /* stable key for JSON */
    const char *label; /* for the table */
    double value;
    bool integer;
};

struct bench_result {
    int status;
    char error[512];
    char params[256];          /* one line describing the sizes used */
    uint64_t ops;              /* unit of work for per-op costs (see each workload) */
    double elapsed;            /* seconds of the measured phase */
    struct histogram *latency; /* NULL when the workload has none; ns */
    struct bench_metric metrics[BENCH_MAX_METRICS];
    int n_metrics;
};

void result_add(struct bench_result *r, const char *name, const char *label, double value);
void result_add_count(struct bench_result *r, const char *name, const char *label, uint64_t value);
/* Marks the result failed with the given exit code; keeps the first message. */
void result_fail(struct bench_result *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends ", open loop at N/s" to the result's parameters when paced. */
void result_note_rate(struct bench_result *r, const struct bench_opts *o);
/* Prints one progress line on stderr unless opts->quiet. */
void bench_progress(const struct bench_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open-loop pacing (--rate): a sender's k-th message is due at start +
 * k * interval whatever the server answers, and its latency counts from
 * that due time, so a stall delays every message due behind it instead of
 * hiding them (no coordinated omission). */
struct bench_pacer {
    uint64_t start_ns;
    double interval_ns;
    uint64_t next; /* index of the next message */
};
void pacer_init(struct bench_pacer *p, uint64_t start_ns, double per_second);
/* The due time of the next message if it is due by `now` (and counts it
 * sent), else 0. */
uint64_t pacer_due(struct bench_pacer *p, uint64_t now);
/* The loop's tick: every 100 us when paced (senders are woken by the clock,
 * not by replies), else `closed_us`. */
int bench_tick_us(const struct bench_opts *o, int closed_us);

/* Deadline bookkeeping shared by the time- or count-bounded workloads. */
bool bench_time_up(const struct bench_opts *o, uint64_t start_ns);

int wl_pubsub_run(const struct bench_opts *o, struct bench_result *r);
int wl_queue_run(const struct bench_opts *o, struct bench_result *r);
int wl_stream_run(const struct bench_opts *o, struct bench_result *r);
int wl_memory_run(const struct bench_opts *o, struct bench_result *r);
int wl_ping_run(const struct bench_opts *o, struct bench_result *r);
int wl_echo_run(const struct bench_opts *o, struct bench_result *r);

#endif
