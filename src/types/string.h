/* string: string values and their commands. */
#ifndef RUNNEL_TYPES_STRING_H
#define RUNNEL_TYPES_STRING_H

#include "protocol/command.h"

extern struct command string_commands[];
/* Largest string APPEND/SETRANGE may build (proto-max-bulk-len). */
extern long long string_max_len;

#endif
