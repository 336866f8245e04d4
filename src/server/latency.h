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

/* Counts one call of cmd that took usec in its latency histogram (when
 * latency-tracking is on): bucket b holds 2^(b-1) < usec <= 2^b, 0 and
 * 1 µs share bucket 0. Inline: dispatch calls it for every command. */
static inline void latency_histogram_record(struct command *cmd, long long usec)
{
    if (!cfg.latency_tracking) return;
    int b = usec <= 1 ? 0 : 64 - __builtin_clzll((unsigned long long)(usec - 1));
    if (b >= COMMAND_LATENCY_BUCKETS) b = COMMAND_LATENCY_BUCKETS - 1;
    cmd->latency_hist[b]++;
}

/* INFO latencystats: for each command with calls, the configured
 * percentiles of its latency (the bound of the histogram bucket each falls
 * in). */
str latency_info_stats(str s);

extern struct command latency_subcommands[];

#endif
