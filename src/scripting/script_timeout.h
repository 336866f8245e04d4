/* script_timeout: what happens when a script runs longer than
 * busy-reply-threshold. Until then the server is the script's alone, as in
 * Redis. Past it, the script keeps running but, between its Lua
 * instructions, the server serves the other clients: they get BUSY for
 * everything but the CMD_ALLOW_BUSY commands, SCRIPT KILL stops a script
 * that has not written, and SHUTDOWN NOSAVE (or SIGTERM) ends the process
 * without saving. */
#ifndef RUNNEL_SCRIPTING_SCRIPT_TIMEOUT_H
#define RUNNEL_SCRIPTING_SCRIPT_TIMEOUT_H

#include <lua.h>
#include <stdbool.h>

/* Around one script's run in state L (script_running set); start returns
 * the monotonic ms it started at. */
long long script_timeout_start(lua_State *L);
void script_timeout_stop(lua_State *L);
/* How long the running script has run. */
long long script_timeout_elapsed_ms(void);

enum script_kill_result {
    SCRIPT_KILL_OK,         /* the script will stop at its next instruction */
    SCRIPT_KILL_NOT_BUSY,   /* no script is running */
    SCRIPT_KILL_UNKILLABLE, /* it wrote: stopping it would leave half its work */
    SCRIPT_KILL_OTHER_KIND, /* SCRIPT KILL of a function, or FUNCTION KILL of a script */
};
/* SCRIPT KILL (function false) or FUNCTION KILL (true). */
enum script_kill_result script_timeout_kill(bool function);

/* Called when a shutdown is asked for while a script is busy; must not
 * return (main installs the same exit-without-saving as for loading). */
void script_timeout_on_shutdown(void (*exit_now)(void));

#endif
