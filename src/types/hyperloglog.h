/* hyperloglog: PFADD PFCOUNT PFMERGE PFDEBUG over HyperLogLog strings
 * (types/hll.c holds the registers). */
#ifndef RUNNEL_TYPES_HYPERLOGLOG_H
#define RUNNEL_TYPES_HYPERLOGLOG_H

#include "protocol/command.h"

extern struct command hyperloglog_commands[];

#endif
