/* dump: DUMP and RESTORE, a key's value as a self-checking payload
 * (db/dump_payload.h) and back. */
#ifndef RUNNEL_TYPES_DUMP_H
#define RUNNEL_TYPES_DUMP_H

#include "protocol/command.h"

extern struct command dump_commands[];

#endif
