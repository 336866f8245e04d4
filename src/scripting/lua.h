/* lua (scripting/lua.h, not Lua's own <lua.h>): the Lua state scripts run
 * in — the sandbox, the read-only view of the globals, the `redis` library —
 * and the client their commands run as. */
#ifndef RUNNEL_SCRIPTING_LUA_H
#define RUNNEL_SCRIPTING_LUA_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol/request.h"

/* redis.set_repl flags: where a script's writes go. */
enum script_repl {
    SCRIPT_REPL_AOF = 1,
    SCRIPT_REPL_REPLICA = 2,
    SCRIPT_REPL_ALL = 3,
};

/* The script or function being run; the redis library reads and updates it. */
struct script_run {
    struct request *req;   /* the EVAL or FCALL (or variant) running it */
    lua_State *L;          /* the state it runs in: scripts' or functions' */
    int fn_ref;            /* the compiled function, in L's registry */
    const char *name;      /* the script's SHA-1 or the function's name, for errors */
    bool function;         /* FCALL: FUNCTION KILL stops it, SCRIPT KILL may not */
    long long start_ms;    /* monotonic, for FUNCTION STATS */
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

/* A new sandboxed state: the libraries, the read-only globals view, the
 * redis library. EVAL's state and the functions' state are two of these. */
lua_State *script_lua_new(void);
/* Creates script_lua (EVAL's state); destroy drops it with every compiled
 * script (SCRIPT FLUSH). */
void script_lua_create(void);
void script_lua_destroy(void);
/* Compiles source text as a function of L's globals view, left on the
 * stack; -1 with Lua's message pushed instead. */
int script_lua_load(lua_State *L, const char *body, size_t len, const char *chunkname);
/* Replaces the table at the top by a read-only view of it that, like the
 * globals view, raises "Script attempted to access nonexistent global
 * variable" for a missing name. */
void script_lua_strict_view(lua_State *L);
/* Makes L's globals view read the table at `index` (LUA_GLOBALSINDEX: the
 * real globals again). FUNCTION LOAD runs a library's code against a
 * table that holds only the load-time API. */
void script_lua_set_globals(lua_State *L, int index);
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
