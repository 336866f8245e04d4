/* slowlog: the last `slowlog-max-len` commands that took longer than
 * `slowlog-log-slower-than` microseconds. */
#ifndef RUNNEL_SERVER_SLOWLOG_H
#define RUNNEL_SERVER_SLOWLOG_H

#include "protocol/command.h"
#include "server/client.h"

void slowlog_maybe_add(struct client *c, int argc, struct arg *argv, long long usec);
extern struct command slowlog_subcommands[];

#endif
