/* keys: commands that work on keys of any type (DEL, EXPIRE, SCAN, ...). */
#ifndef RUNNEL_TYPES_KEYS_H
#define RUNNEL_TYPES_KEYS_H

#include "protocol/command.h"

extern struct command keys_commands[];

#endif
