/* script_run: one run of a script or function (see script_run.h). */
#include "scripting/script_run.h"

#include <lauxlib.h>
#include <string.h>

#include "db/oplog.h"
#include "scripting/lua.h"
#include "scripting/lua_convert.h"
#include "scripting/script_cache.h"
#include "scripting/script_timeout.h"
#include "server/client.h"
#include "server/config.h"
#include "server/monitor.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numbers.h"

/* Pushes a table of `count` arguments from argv[first]. */
static void push_arg_table(lua_State *L, struct request *req, int first, int count)
{
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        struct arg *a = &req->argv[first + i];
        lua_pushlstring(L, a->ptr, a->len);
        lua_rawseti(L, -2, i + 1);
    }
}

/* EVAL: sets KEYS and ARGV as globals, raw, past the read-only view. */
static void set_keys_and_argv(lua_State *L, struct request *req, int numkeys)
{
    lua_pushliteral(L, "KEYS");
    push_arg_table(L, req, 3, numkeys);
    lua_rawset(L, LUA_GLOBALSINDEX);
    lua_pushliteral(L, "ARGV");
    push_arg_table(L, req, 3 + numkeys, req->argc - 3 - numkeys);
    lua_rawset(L, LUA_GLOBALSINDEX);
}

/* The message handler of a script's pcall: turns whatever was raised into
 * {err=..., source=..., line=...}, with the position of the innermost Lua
 * code. A string raised by the script itself gets the ERR code; an error
 * table (from redis.call or error({err=...})) keeps its text. */
static int script_error_handler(lua_State *L)
{
    lua_Debug ar;
    lua_createtable(L, 0, 4);
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline <= 0) continue;
        lua_pushstring(L, ar.source);
        lua_setfield(L, -2, "source");
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, -2, "line");
        break;
    }
    int type = lua_type(L, 1);
    if (type == LUA_TTABLE) {
        lua_pushliteral(L, "ignore_error_stats_update");
        lua_rawget(L, 1);
        lua_setfield(L, -2, "ignore_error_stats_update");
        lua_pushliteral(L, "err");
        lua_rawget(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_pushliteral(L, "ERR unknown error");
        }
    } else if (type == LUA_TSTRING || type == LUA_TNUMBER) {
        lua_pushliteral(L, "ERR ");
        lua_pushvalue(L, 1);
        lua_concat(L, 2);
    } else {
        lua_pushliteral(L, "ERR unknown error");
    }
    lua_setfield(L, -2, "err");
    return 1;
}

/* Replies the error a script ended with (at the top of the stack). Returns
 * true when it was already counted in the error statistics (raised by a
 * command the script called). */
static bool reply_script_error(struct request *req, lua_State *L, const char *name)
{
    str msg;
    bool counted = false;
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "err");
        msg = str_new(lua_tostring(L, -1), lua_objlen(L, -1));
        lua_getfield(L, -2, "source");
        lua_getfield(L, -3, "line");
        msg = str_append_printf(msg, " script: %s", name);
        if (lua_isstring(L, -2))
            msg = str_append_printf(msg, ", on %s:%d.", lua_tostring(L, -2), (int)lua_tointeger(L, -1));
        lua_getfield(L, -4, "ignore_error_stats_update");
        counted = lua_toboolean(L, -1);
        lua_pop(L, 4);
    } else { /* out of memory, or an error in the handler itself */
        const char *text = lua_isstring(L, -1) ? lua_tostring(L, -1) : "unknown error";
        msg = str_from_cstr("ERR ");
        msg = str_append_printf(msg, "%s script: %s", text, name);
    }
    reply_error(req->out, msg);
    str_free(msg);
    if (counted) req->out->errors--;
    return counted;
}

static bool over_maxmemory(void)
{
    return cfg.maxmemory > 0 && mem_used() > (size_t)cfg.maxmemory;
}

/* The checks made before a script starts, from its declared flags and the
 * command that runs it; replies the refusal and returns false. */
static bool script_admit(struct request *req, uint32_t flags, bool ro_command)
{
    if (!(flags & SCRIPT_SHEBANG)) return true;
    bool may_write = !(flags & SCRIPT_NO_WRITES);
    if (ro_command && may_write) {
        reply_error(req->out, "ERR Can not execute a script with write flag using *_ro command.");
        return false;
    }
    if (!(flags & SCRIPT_ALLOW_OOM) && over_maxmemory()) {
        reply_error(req->out, "OOM command not allowed when used memory > 'maxmemory'.");
        return false;
    }
    if (may_write && oplog_sink_error) {
        if (strncmp(oplog_sink_error, "MISCONF ", 8) == 0) reply_error(req->out, oplog_sink_error);
        else reply_errorf(req->out, "MISCONF Errors writing to the AOF file: %s", oplog_sink_error);
        return false;
    }
    return true;
}

/* Runs the function and replies its result or error; returns how many
 * error replies were already counted by the commands that produced them. */
static int script_call(struct script_run *r, int numkeys)
{
    lua_State *L = r->L;
    lua_pushcfunction(L, script_error_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->fn_ref);
    int nargs = 0;
    if (r->function) {
        push_arg_table(L, r->req, 3, numkeys);
        push_arg_table(L, r->req, 3 + numkeys, r->req->argc - 3 - numkeys);
        nargs = 2;
    }
    int status = lua_pcall(L, nargs, 1, -2 - nargs);
    int counted;
    if (status == 0) counted = lua_convert_write_reply(L, r->req->out, r->resp);
    else counted = reply_script_error(r->req, L, r->name) ? 1 : 0;
    lua_settop(L, 0);
    return counted;
}

void script_execute(struct request *req, const struct script_target *t, int numkeys, bool ro_command)
{
    if (!script_admit(req, t->flags, ro_command)) return;
    struct client *caller = req->client;
    struct script_run r = {
        .req = req,
        .L = t->L,
        .fn_ref = t->fn_ref,
        .name = t->name,
        .function = t->function,
        .read_only = ro_command || (t->flags & SCRIPT_NO_WRITES),
        .allow_oom = t->flags & SCRIPT_ALLOW_OOM,
        .oom_at_start = over_maxmemory(),
        .resp = 2,
        .repl = SCRIPT_REPL_ALL,
    };
    if (server.monitor_count) monitor_feed(caller, req->argc, req->argv);
    script_client_prepare(req->db->id);
    if (!t->function) set_keys_and_argv(t->L, req, numkeys);
    uint32_t errors_before = req->out->errors;
    unsigned long long logged = oplog_logged_total();
    script_running = &r;
    oplog_multi_begin();
    r.start_ms = script_timeout_start(t->L);
    int counted = script_call(&r, numkeys);
    script_timeout_stop(t->L);
    oplog_multi_end();
    script_running = NULL;
    /* the writes were logged by the commands that made them: the reply
     * must wait for them to be durable, but EVAL itself is not logged */
    if (r.wrote || oplog_logged_total() != logged) req->flags |= REQ_PROPAGATED;
    /* an error counted once already still makes this call a failed one */
    if (counted && req->out->errors == errors_before && caller->cmd) caller->cmd->failed_calls++;
}

void script_kill_command(struct request *req, bool function)
{
    switch (script_timeout_kill(function)) {
    case SCRIPT_KILL_OK: reply_ok(req->out); break;
    case SCRIPT_KILL_NOT_BUSY: reply_error(req->out, "NOTBUSY No scripts in execution right now."); break;
    case SCRIPT_KILL_OTHER_KIND: reply_error(req->out, function ? ERR_BUSY_SCRIPT : ERR_BUSY_FUNCTION); break;
    case SCRIPT_KILL_UNKILLABLE:
        reply_error(req->out, "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
                              "can either wait the script termination or kill the server in a hard way using the "
                              "SHUTDOWN NOSAVE command.");
        break;
    }
}

int script_command_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    long long n;
    if (argc < 3 || !parse_ll(argv[2].ptr, argv[2].len, &n) || n < 0 || n > argc - 3) return 0;
    int count = 0;
    for (int i = 0; i < n && count < max; i++) positions[count++] = 3 + i;
    return count;
}
