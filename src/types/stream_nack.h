/* stream_nack: XNACK (Redis 8.8) — a consumer gives pending entries back to
 * its group without acknowledging them. A released entry stays in the
 * group's PEL, owned by nobody, with delivery time 0, at the tail of the
 * group's "NACK zone" (stream_pel.h): XREADGROUP ... CLAIM, XCLAIM and
 * XAUTOCLAIM take it whatever their min-idle-time, CLAIM before any other. */
#ifndef RUNNEL_TYPES_STREAM_NACK_H
#define RUNNEL_TYPES_STREAM_NACK_H

#include "protocol/command.h"

extern struct command stream_nack_commands[];

#endif
