/* slowlog: the last `slowlog-max-len` commands that took longer than
 * `slowlog-log-slower-than` microseconds. */
#ifndef RUNNEL_SERVER_SLOWLOG_H
#define RUNNEL_SERVER_SLOWLOG_H

#include "protocol/command.h"
#include "server/client.h"
#include "server/config.h"

void slowlog_maybe_add(struct client *c, int argc, struct arg *argv, long long usec);
/* Whether a command that took usec goes into the slow log (so that callers
 * prepare its arguments only then). */
static inline bool slowlog_wants(long long usec)
{
    return cfg.slowlog_log_slower_than >= 0 && usec >= cfg.slowlog_log_slower_than && cfg.slowlog_max_len > 0;
}
extern struct command slowlog_subcommands[];

#endif
