/* latency: the latency monitor. Code that can stall the server reports how
 * long it took under an event name ("command", "fast-command", "fork",
 * "expire-cycle", "aof-write", "aof-fsync-always"...); a report of at least
 * `latency-monitor-threshold` ms (when that is not 0) becomes a sample of
 * the event's series: one sample per second (the highest of that second),
 * the last 160 seconds that had one, and the highest ever. The LATENCY
 * commands read them. */
#ifndef RUNNEL_SERVER_LATENCY_H
#define RUNNEL_SERVER_LATENCY_H

#include <sys/types.h>

#include "protocol/command.h"
#include "server/config.h"
#include "util/str.h"

/* Records `ms` for `event` (a string literal or one that outlives the
 * server) if the monitor is on and ms reaches its threshold. */
void latency_add_sample_if_needed(const char *event, long long ms);

/* fork(), timing the parent's pause: INFO's latest_fork_usec, total_forks
 * and the "fork" event. In the child it returns 0 as fork() does. */
pid_t latency_fork(void);
/* INFO's fork fields. */
long long latency_last_fork_usec(void);
long long latency_total_forks(void);

/* Redis keeps a command's latencies in an HDR histogram (nanoseconds, two
 * significant digits) and LATENCY HISTOGRAM reports it at the levels 2^10,
 * 2^11 ... 2^30 ns, each as the highest value of the HDR sub-bucket that
 * level falls in, in µs: floor((2^(10+k) + 2^(3+k) - 1) / 1000) for k < 20
 * (1, 2, 4, 8, 16, 33, 66, 132, ... 541065), and 1073741 for everything
 * slower (the histogram's last sub-bucket: Redis caps values at 1 s). A
 * call of d µs counts at the first point >= d. */
#define LATENCY_POINTS 21
extern const long long latency_points_usec[LATENCY_POINTS];
/* The counter (see COMMAND_LATENCY_BUCKETS) of a call of usec >= 0 µs:
 * a table for the usual few µs, latency_counter_large above. */
extern const unsigned char latency_counter_small[64];
int latency_counter_large(unsigned long long usec);

/* The calls counted at point k (0 <= k < LATENCY_POINTS): those of more
 * than point k - 1 µs and at most point k (0 and 1 µs both at point 0). */
static inline long long latency_point_count(const struct command *cmd, int k)
{
    return k == 0 ? cmd->latency_hist[0] + cmd->latency_hist[1] : cmd->latency_hist[k + 1];
}

/* Counts one call of cmd that took usec (when latency-tracking is on).
 * Inline, one table load for calls under 64 µs: dispatch calls it for
 * every command. */
static inline void latency_histogram_record(struct command *cmd, long long usec)
{
    if (!cfg.latency_tracking) return;
    unsigned long long d = (unsigned long long)usec;
    cmd->latency_hist[d < 64 ? latency_counter_small[d] : latency_counter_large(d)]++;
}

/* INFO latencystats: for each command with calls, the configured
 * percentiles of its latency (the bound of the histogram bucket each falls
 * in). */
str latency_info_stats(str s);

extern struct command latency_subcommands[];

#endif
