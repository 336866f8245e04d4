/* functions: Redis 7 Functions. FUNCTION LOAD | LIST | DELETE | FLUSH |
 * DUMP | RESTORE | STATS | KILL | HELP, FCALL and FCALL_RO, and what
 * persistence needs to carry libraries in snapshots and AOF rewrites.
 *
 * Libraries are code: a library is kept as the code FUNCTION LOAD was
 * given, and everything that persists or copies it (snapshots, the AOF,
 * replicas, FUNCTION DUMP) carries that code and loads it again. Changes
 * reach the AOF and replicas as the FUNCTION commands themselves (logged
 * by dispatch like any write); FCALL, like EVAL, is logged as the writes
 * its function made, between MULTI and EXEC. */
#ifndef RUNNEL_SCRIPTING_FUNCTIONS_H
#define RUNNEL_SCRIPTING_FUNCTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/command.h"
#include "util/str.h"

/* FUNCTION, FCALL and FCALL_RO, for command_table_add. */
extern struct command function_commands[];

/* Creates the functions' Lua state and an empty set of libraries. */
void functions_init(void);

/* INFO memory's functions figures. */
size_t functions_count(void);
size_t functions_library_count(void);
long long functions_vm_memory(void);
size_t functions_memory(void);

/* Hands the code of every library, by name, to emit (a snapshot's or an
 * AOF rewrite's writer; a forked child may call it). */
void functions_each_code(void (*emit)(void *ctx, const char *code, size_t len), void *ctx);

/* Loading a dataset: begin starts an empty set, load_code adds a library to
 * it (false with the reason in err when it does not load), end(true) makes
 * it the server's libraries, end(false) drops it and keeps the old ones. */
void functions_load_begin(void);
bool functions_load_code(const char *code, size_t len, char *err, size_t errlen);
void functions_load_end(bool ok);

#endif
