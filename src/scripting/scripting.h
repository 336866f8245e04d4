/* scripting: Redis-compatible Lua scripting (EVAL, EVALSHA, EVAL_RO,
 * EVALSHA_RO, SCRIPT) on Lua 5.1.
 *
 * Scripting sits above the server layer, beside persistence: a script's
 * redis.call runs its command through the server's command table and
 * dispatch, as a client with no socket, and reads that client's reply back
 * into Lua. A script runs to completion before anything else does (the
 * server is single-threaded), and its writes reach the AOF as the commands
 * it ran, wrapped in MULTI/EXEC. */
#ifndef RUNNEL_SCRIPTING_SCRIPTING_H
#define RUNNEL_SCRIPTING_SCRIPTING_H

#include "protocol/command.h"
#include "util/str.h"

/* EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, for command_table_add. */
extern struct command scripting_commands[];

/* Creates the Lua state and the scripts' client. Call once, after the
 * server's databases exist and before the AOF is loaded. */
void scripting_init(void);

/* Appends INFO memory's used_memory_lua, number_of_cached_scripts and the
 * other scripting fields (installed as info_memory_extension). */
str scripting_info_memory(str s);

#endif
