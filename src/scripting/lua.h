/* lua (scripting/lua.h, not Lua's own <lua.h>): the Lua state scripts run
 * in — the sandbox, the read-only view of the globals, the `redis` library —
 * and the client their commands run as. */
#ifndef RUNNEL_SCRIPTING_LUA_H
#define RUNNEL_SCRIPTING_LUA_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol/request.h"

struct script;

/* redis.set_repl flags: where a script's writes go. */
enum script_repl {
    SCRIPT_REPL_AOF = 1,
    SCRIPT_REPL_REPLICA = 2,
    SCRIPT_REPL_ALL = 3,
};

/* The script being run; the redis library reads and updates it. */
struct script_run {
    struct request *req;   /* the EVAL (or variant) running it */
    struct script *script;
    bool read_only;        /* EVAL_RO/EVALSHA_RO or flags=no-writes: writes refused */
    bool allow_oom;        /* flags=allow-oom */
    bool oom_at_start;     /* over maxmemory when the script began */
    bool wrote;            /* one of its commands changed the dataset */
    int resp;              /* redis.setresp: 2 or 3 */
    int repl;              /* redis.set_repl: enum script_repl */
};

extern lua_State *script_lua;
/* NULL between scripts. */
extern struct script_run *script_running;

/* Creates the state (libraries, sandbox, redis library); destroy drops it
 * with every compiled function (SCRIPT FLUSH). */
void script_lua_create(void);
void script_lua_destroy(void);
/* Compiles a script body into a function that sees the globals view and
 * keeps it in the registry. Returns the reference, or LUA_NOREF with Lua's
 * error message pushed on the stack. */
int script_lua_compile(const char *body, size_t len);

/* Creates the scripts' client, once, after the databases exist. */
void script_client_init(void);
/* Readies the scripts' client for a new script: the caller's database,
 * RESP2, an empty reply queue. */
void script_client_prepare(int db);

#endif
