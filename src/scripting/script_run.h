/* script_run: running one compiled Lua function for a caller, shared by
 * EVAL (a cached script) and FCALL (a library's function): the checks its
 * flags ask for before it starts, its keys and arguments, its writes logged
 * between MULTI and EXEC, the busy-script hook around it, and its result
 * or error written in the caller's protocol with Redis's error text
 * ("<error> script: <name>, on @<chunk>:<line>."). */
#ifndef RUNNEL_SCRIPTING_SCRIPT_RUN_H
#define RUNNEL_SCRIPTING_SCRIPT_RUN_H

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "protocol/command.h"
#include "protocol/request.h"

/* What to run. */
struct script_target {
    lua_State *L;
    int fn_ref;       /* the function, in L's registry */
    const char *name; /* SHA-1 or function name, for errors */
    uint32_t flags;   /* enum script_flags; without SCRIPT_SHEBANG nothing is declared */
    bool function;    /* FCALL: keys and arguments are passed as the function's two
                       * arguments; EVAL: they are the globals KEYS and ARGV */
};

/* Runs t for req, whose argv[3..3+numkeys) are the keys and the rest the
 * arguments (numkeys already checked against argc); ro_command: EVAL_RO,
 * EVALSHA_RO or FCALL_RO. Replies the result or the error. */
void script_execute(struct request *req, const struct script_target *t, int numkeys, bool ro_command);

/* SCRIPT KILL (function false) and FUNCTION KILL (true): stops the busy
 * script or function and replies, or replies why not (NOTBUSY,
 * UNKILLABLE, or BUSY naming the other KILL). */
void script_kill_command(struct request *req, bool function);

/* The key positions of EVAL and FCALL: numkeys (argv[2]) keys after it. */
int script_command_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);

#endif
