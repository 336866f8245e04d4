/* sort: SORT and SORT_RO over lists, sets and sorted sets. */
#ifndef RUNNEL_TYPES_SORT_H
#define RUNNEL_TYPES_SORT_H

#include "protocol/command.h"

extern struct command sort_commands[];

#endif
