#include "scripting/script_timeout.h"

#include <stdbool.h>
#include <time.h>

#include "scripting/lua.h"
#include "server/config.h"
#include "server/cron.h"
#include "server/server.h"
#include "util/log.h"

/* Lua instructions between two looks at the clock (Redis uses the same). */
#define SCRIPT_HOOK_INSTRUCTIONS 100000

static struct {
    long long start_ms;
    bool kill_requested;
    void (*exit_now)(void);
} timeout;

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Once killed, the error is raised again at every line and instruction, so
 * a pcall inside the script cannot swallow it and carry on. */
static void hook_killed(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "ERR Script killed by user with SCRIPT KILL...");
    lua_setfield(L, -2, "err");
    lua_error(L);
}

static void enter_busy(long long elapsed_ms)
{
    bool function = script_running && script_running->function;
    server.script_busy = true;
    server.busy_function = function;
    log_warning("Slow script detected: still in execution after %lld milliseconds. You can try killing the script "
                "using the %s KILL command. Script name is: %s.",
                elapsed_ms, function ? "FUNCTION" : "SCRIPT", script_running ? script_running->name : "?");
}

/* Every SCRIPT_HOOK_INSTRUCTIONS instructions: past the threshold, one turn
 * of serving the other clients, then whatever they asked for. */
static void hook_count(lua_State *L, lua_Debug *ar)
{
    if (!server.script_busy) {
        long long elapsed = monotonic_ms() - timeout.start_ms;
        if (cfg.busy_reply_threshold <= 0 || elapsed < cfg.busy_reply_threshold) return;
        enter_busy(elapsed);
    }
    server_serve_while_busy();
    if (server.shutdown_asap && timeout.exit_now) timeout.exit_now();
    if (!timeout.kill_requested) return;
    log_warning("Lua script killed by user with SCRIPT KILL.");
    lua_sethook(L, hook_killed, LUA_MASKLINE | LUA_MASKCOUNT, 1);
    hook_killed(L, ar);
}

long long script_timeout_start(lua_State *L)
{
    timeout.start_ms = monotonic_ms();
    timeout.kill_requested = false;
    lua_sethook(L, hook_count, LUA_MASKCOUNT, SCRIPT_HOOK_INSTRUCTIONS);
    return timeout.start_ms;
}

void script_timeout_stop(lua_State *L)
{
    lua_sethook(L, NULL, 0, 0);
    server.script_busy = false;
    server.busy_function = false;
    timeout.kill_requested = false;
}

long long script_timeout_elapsed_ms(void)
{
    return monotonic_ms() - timeout.start_ms;
}

enum script_kill_result script_timeout_kill(bool function)
{
    if (!script_running || !server.script_busy) return SCRIPT_KILL_NOT_BUSY;
    if (script_running->wrote) return SCRIPT_KILL_UNKILLABLE;
    if (script_running->function != function) return SCRIPT_KILL_OTHER_KIND;
    timeout.kill_requested = true;
    return SCRIPT_KILL_OK;
}

void script_timeout_on_shutdown(void (*exit_now)(void))
{
    timeout.exit_now = exit_now;
}
