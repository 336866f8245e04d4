/* lua: the Lua state scripts run in, the `redis` library they see, and the
 * client their commands run as (running a script is scripting.c's).
 *
 * The sandbox: the base, table, string and math libraries (no os, io,
 * package, debug; no dofile, loadfile, require, print, getfenv, setfenv);
 * loadstring and load refuse precompiled chunks. Scripts see the globals
 * through a read-only view: assigning a global fails with "Attempt to
 * modify a readonly table" and reading one that does not exist fails too,
 * as in Redis 7. Redis's libraries are globals seen through read-only
 * views of their own, so no script can change them for the next: cjson and
 * bit (Debian's lua-cjson and lua-bitop), cmsgpack and struct (Runnel's
 * own), each in its lua_<name>.c.
 *
 * redis.call runs a command as the scripts' client (no socket, created
 * once, not listed among clients) in the caller's database; its reply bytes
 * are read back into Lua (lua_convert.c). Blocking commands do not block
 * (the server treats a socketless client as inside MULTI). */
#include "scripting/lua.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/oplog.h"
#include "scripting/lua_convert.h"
#include "scripting/lua_libs.h"
#include "server/acl.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha1.h"

lua_State *script_lua;
struct script_run *script_running;
/* Registry fields of each state: the read-only view scripts use as their
 * globals, and the set of read-only views. */
#define REG_ENV "runnel.env"
#define REG_VIEWS "runnel.views"
static struct client *script_client;
static str call_args;                    /* the bytes of redis.call's arguments */
static struct arg *call_argv;
static int call_argv_cap;
static str call_reply;                   /* the reply redis.call read back */

/* --- errors ------------------------------------------------------------- */

/* Raises (or, for redis.pcall, returns) an error table built from `text`
 * ("-CODE msg", or a message that gets "ERR"). `counted`: the error was
 * already counted in the error statistics by the command that replied it. */
static int call_fail(lua_State *L, bool raise, const char *text, size_t len, bool counted)
{
    lua_convert_push_error(L, text, len);
    if (counted) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ignore_error_stats_update");
    }
    if (raise) return lua_error(L);
    return 1;
}

static int raise_error(lua_State *L, const char *msg)
{
    return call_fail(L, true, msg, strlen(msg), false);
}

/* --- the sandbox -------------------------------------------------------- */

static void push_script_env(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_ENV);
}

/* __index of the globals view: the real global, or an error. */
static int globals_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1)) return 1;
    luaL_where(L, 1);
    lua_pushfstring(L, "Script attempted to access nonexistent global variable '%s'",
                    lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
    lua_concat(L, 2);
    return lua_error(L);
}

static int readonly_newindex(lua_State *L)
{
    luaL_where(L, 1);
    lua_pushliteral(L, "Attempt to modify a readonly table");
    lua_concat(L, 2);
    return lua_error(L);
}

/* Raises Redis's error when argument 1 is a read-only view: the globals
 * or one of Redis's libraries. */
static void refuse_readonly_view(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_VIEWS);
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    bool readonly = lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (!readonly) return;
    lua_pushliteral(L, "Attempt to modify a readonly table");
    lua_error(L);
}

/* rawset, refusing the read-only views (it would bypass __newindex). */
static int safe_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    refuse_readonly_view(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* setmetatable, refusing the read-only views with Redis's wording (their
 * protected metatables would refuse it anyway). */
static int safe_setmetatable(lua_State *L)
{
    refuse_readonly_view(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Compiles source text (never a precompiled chunk: bytecode can break out
 * of the sandbox) into a function that sees the globals view. */
static int load_source(lua_State *L, const char *s, size_t len, const char *name)
{
    if (len > 0 && s[0] == LUA_SIGNATURE[0]) {
        lua_pushnil(L);
        lua_pushliteral(L, "binary chunks are not allowed in scripts");
        return 2;
    }
    if (luaL_loadbuffer(L, s, len, name) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    push_script_env(L);
    lua_setfenv(L, -2);
    return 1;
}

static int safe_loadstring(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s);
    return load_source(L, s, len, name);
}

/* load(reader [, name]): reads every piece, then compiles as loadstring. */
static int safe_load(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *name = luaL_optstring(L, 2, "=(load)");
    lua_settop(L, 2);
    lua_newtable(L);
    int pieces = 0;
    for (;;) {
        lua_pushvalue(L, 1);
        lua_call(L, 0, 1);
        if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TSTRING && lua_objlen(L, -1) == 0)) break;
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "reader function must return a string");
        lua_rawseti(L, 3, ++pieces);
    }
    lua_pop(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= pieces; i++) {
        lua_rawgeti(L, 3, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    return load_source(L, s, len, name);
}

/* pcall that hands a script the message of an error table, not the table:
 * what Redis scripts see when they pcall(redis.call, ...). */
static int script_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    if (lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0) == 0) {
        lua_pushboolean(L, 1);
        lua_insert(L, 1);
        return lua_gettop(L);
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushliteral(L, "err");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) lua_replace(L, -2);
        else lua_pop(L, 1);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* Adds the table at the top to the set of read-only views. */
static void views_add(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_VIEWS);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Replaces the table at the top by a read-only view of it: an empty table
 * whose metatable reads the real one and refuses writes; pairs() sees
 * nothing through it. A strict view raises an error for a missing name
 * (as the globals do), another reads it as nil. getmetatable sees an empty
 * table; setmetatable is refused. */
static void make_view(lua_State *L, bool strict)
{
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, -3);
    if (strict) lua_pushcclosure(L, globals_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_newtable(L);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_replace(L, -2);
    views_add(L);
}

static void make_library_view(lua_State *L)
{
    make_view(L, false);
}

static void open_libraries(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {"", luaopen_base},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},
    };
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        lua_pushcfunction(L, libs[i].func);
        lua_pushstring(L, libs[i].name);
        lua_call(L, 1, 0);
    }
    static const char *const removed[] = {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy",
                                          "module", "require", "package"};
    for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    static const luaL_Reg replaced[] = {
        {"loadstring", safe_loadstring},
        {"load", safe_load},
        {"rawset", safe_rawset},
        {"pcall", script_pcall},
    };
    for (size_t i = 0; i < sizeof(replaced) / sizeof(replaced[0]); i++) {
        lua_pushcfunction(L, replaced[i].func);
        lua_setglobal(L, replaced[i].name);
    }
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, safe_setmetatable, 1);
    lua_setglobal(L, "setmetatable");
    /* Read-only, as Redis 7 makes them: a script could otherwise replace
     * cjson.encode for every script after it. */
    lua_libs_open(L, make_library_view);
}

/* Builds the read-only view of the globals and makes _G name it. */
static void make_globals_view(lua_State *L)
{
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    make_view(L, true);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "_G");
    lua_setfield(L, LUA_REGISTRYINDEX, REG_ENV);
}

/* --- redis.call ---------------------------------------------------------- */

/* Commands Redis refuses in scripts (its "noscript" flag) beyond those
 * Runnel's table flags CMD_NOSCRIPT: connection state, replication,
 * administration. A name without '|' covers all its subcommands. Blocking
 * commands are allowed and do not block. */
static const char *const refused_in_scripts[] = {
    "acl", "auth", "bgrewriteaof", "bgsave", "client", "cluster|reset", "config|get", "config|resetstat",
    "config|rewrite", "config|set", "debug", "discard", "eval", "eval_ro", "evalsha", "evalsha_ro", "exec",
    "failover", "fcall", "fcall_ro", "function", "hello", "latency", "module", "monitor", "multi", "psubscribe",
    "psync", "punsubscribe", "quit", "replconf", "replicaof", "reset", "role", "save", "script", "shutdown",
    "slaveof", "ssubscribe", "subscribe", "sunsubscribe", "sync", "unsubscribe", "unwatch", "wait", "waitaof",
    "watch",
};

static bool refused_in_script_uncached(const struct command *cmd)
{
    if (cmd->flags & CMD_NOSCRIPT) return true;
    const char *family = cmd->parent ? cmd->parent->full_name : cmd->full_name;
    for (size_t i = 0; i < sizeof(refused_in_scripts) / sizeof(refused_in_scripts[0]); i++)
        if (!strcmp(refused_in_scripts[i], cmd->full_name) || !strcmp(refused_in_scripts[i], family)) return true;
    return false;
}

/* The list is searched once per command (it cost a tenth of BullMQ's
 * server time when searched at every redis.call). */
static bool refused_in_script(struct command *cmd)
{
    if (!cmd->script_verdict) cmd->script_verdict = refused_in_script_uncached(cmd) ? -1 : 1;
    return cmd->script_verdict < 0;
}

static void call_argv_reserve(int argc)
{
    if (argc <= call_argv_cap) return;
    call_argv_cap = argc < 16 ? 16 : argc;
    call_argv = mem_realloc(call_argv, sizeof(struct arg) * (size_t)call_argv_cap);
}

/* Copies redis.call's arguments (strings, or numbers written as %.17g as
 * Redis does) into call_args/call_argv, each NUL-terminated: commands may
 * edit their arguments in place, Lua strings must not change. False if an
 * argument is of another type. */
static bool call_collect_args(lua_State *L, int argc)
{
    call_argv_reserve(argc);
    if (!call_args) call_args = str_empty(256);
    str_set_len(call_args, 0);
    for (int i = 0; i < argc; i++) {
        char num[64];
        const char *s;
        size_t len;
        if (lua_type(L, i + 1) == LUA_TSTRING) {
            s = lua_tolstring(L, i + 1, &len);
        } else if (lua_type(L, i + 1) == LUA_TNUMBER) {
            len = (size_t)snprintf(num, sizeof(num), "%.17g", (double)lua_tonumber(L, i + 1));
            s = num;
        } else {
            return false;
        }
        call_argv[i].len = len;
        call_args = str_append(call_args, s, len);
        call_args = str_append(call_args, "", 1);
    }
    size_t offset = 0;
    for (int i = 0; i < argc; i++) {
        call_argv[i].ptr = call_args + offset;
        offset += call_argv[i].len + 1;
    }
    return true;
}

/* The MISCONF reply while writes cannot be persisted, as dispatch words it. */
static const char *misconf_text(char *buf, size_t size)
{
    if (strncmp(oplog_sink_error, "MISCONF ", 8) == 0) snprintf(buf, size, "-%s", oplog_sink_error);
    else snprintf(buf, size, "-MISCONF Errors writing to the AOF file: %s", oplog_sink_error);
    return buf;
}

/* Finds the command and checks what Redis checks before a script's call;
 * returns the refusal text, or NULL with *out set. */
static const char *call_check(struct script_run *r, int argc, struct command **out, char *buf, size_t size)
{
    struct command *cmd = command_lookup(call_argv[0].ptr, call_argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) cmd = command_lookup_sub(cmd, call_argv[1].ptr, call_argv[1].len);
    if (!cmd) return "Unknown Redis command called from script";
    if (cmd->arity > 0 ? argc != cmd->arity : argc < -cmd->arity)
        return "Wrong number of args calling Redis command from script";
    if (refused_in_script(cmd)) return "This Redis command is not allowed from script";
    const char *noperm = acl_script_refusal(r->req ? r->req->client : NULL, cmd, argc, call_argv);
    if (noperm) return noperm;
    bool writes = cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE);
    if (writes && r->read_only) return "Write commands are not allowed from read-only scripts.";
    if ((cmd->flags & CMD_WRITE) && oplog_sink_error) return misconf_text(buf, size);
    if ((cmd->flags & CMD_DENYOOM) && r->oom_at_start && !r->allow_oom && !r->wrote)
        return "-OOM command not allowed when used memory > 'maxmemory'.";
    *out = cmd;
    return NULL;
}

/* Collects what the scripts' client replied and empties its queue. */
static void take_client_reply(void)
{
    struct outbuf *o = &script_client->out;
    if (!call_reply) call_reply = str_empty(256);
    str_set_len(call_reply, 0);
    for (uint32_t i = 0; i < o->count; i++) {
        const struct outseg *s = &o->segs[(o->head + i) % o->capacity];
        if (s->block) call_reply = str_append(call_reply, s->block->data + s->start, s->end - s->start);
    }
    outbuf_clear(o);
}

/* Runs the checked command as the scripts' client. set_repl without AOF
 * keeps its effects out of the log. */
static void call_run(struct script_run *r, struct command *cmd, int argc)
{
    long long dirty = server.dirty;
    bool logging = oplog_enabled;
    if (!(r->repl & SCRIPT_REPL_AOF)) oplog_enabled = false;
    /* the call runs as the caller's user, as Redis's script client does:
     * what a command checks itself (SORT's patterns) sees the caller */
    struct client *caller = r->req ? r->req->client : NULL;
    script_client->user = caller ? caller->user : NULL;
    dispatch_call(script_client, cmd, argc, call_argv, REQ_IN_MULTI);
    script_client->user = NULL;
    oplog_enabled = logging;
    if (server.dirty != dirty) r->wrote = true;
    take_client_reply();
}

/* redis.call (raise = true) and redis.pcall. */
static int redis_call_common(lua_State *L, bool raise)
{
    struct script_run *r = script_running;
    int argc = lua_gettop(L);
    char buf[512];
    const char *refusal = NULL;
    struct command *cmd = NULL;
    if (!r) refusal = "redis.call can only be used while a script runs";
    else if (argc == 0) refusal = "Please specify at least one argument for this redis lib call";
    else if (!call_collect_args(L, argc)) refusal = "Lua redis lib command arguments must be strings or integers";
    else refusal = call_check(r, argc, &cmd, buf, sizeof(buf));
    if (refusal) return call_fail(L, raise, refusal, strlen(refusal), false);
    call_run(r, cmd, argc);
    size_t len = str_len(call_reply);
    if (len >= 3 && call_reply[0] == '-') return call_fail(L, raise, call_reply, len - 2, true);
    if (!lua_convert_push_reply(L, call_reply, len)) {
        const char *msg = "The command's reply could not be read by the script";
        return call_fail(L, raise, msg, strlen(msg), false);
    }
    return 1;
}

static int redis_call(lua_State *L)
{
    return redis_call_common(L, true);
}

static int redis_pcall(lua_State *L)
{
    return redis_call_common(L, false);
}

/* --- the rest of the redis library ---------------------------------------- */

/* error_reply and status_reply take exactly one string; otherwise they
 * return (not raise) an error, as Redis does. */
static bool one_string_arg(lua_State *L)
{
    if (lua_gettop(L) == 1 && lua_type(L, 1) == LUA_TSTRING) return true;
    lua_convert_push_error(L, "wrong number or type of arguments", 33);
    return false;
}

static int redis_error_reply(lua_State *L)
{
    if (!one_string_arg(L)) return 1;
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (len > 0 && s[0] == '-') {
        lua_convert_push_error(L, s, len);
        return 1;
    }
    lua_pushliteral(L, "-");
    lua_pushvalue(L, 1);
    lua_concat(L, 2);
    s = lua_tolstring(L, -1, &len);
    lua_convert_push_error(L, s, len);
    return 1;
}

static int redis_status_reply(lua_State *L)
{
    if (!one_string_arg(L)) return 1;
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int redis_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1) return raise_error(L, "wrong number of arguments");
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[SHA1_HEX_SIZE];
    sha1_hex(s, len, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* redis.log(level, ...): the arguments joined by spaces, at that level. */
static int redis_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2) return raise_error(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return raise_error(L, "First argument must be a number (log level).");
    int level = (int)lua_tointeger(L, 1);
    if (level < LOGL_DEBUG || level > LOGL_WARNING) return raise_error(L, "Invalid debug level.");
    if (level < log_min_level) return 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        if (!lua_isstring(L, i)) continue;
        if (i > 2) luaL_addchar(&b, ' ');
        lua_pushvalue(L, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    log_msg(level, "%s", lua_tostring(L, -1));
    return 0;
}

/* redis.setresp(2|3): the protocol the script's commands reply in. */
static int redis_setresp(lua_State *L)
{
    if (lua_gettop(L) != 1) return raise_error(L, "redis.setresp() requires one argument.");
    int resp = (int)lua_tointeger(L, 1);
    if (resp != 2 && resp != 3) return raise_error(L, "RESP version must be 2 or 3.");
    if (script_running) script_running->resp = resp;
    script_client->resp = resp;
    script_client->out.resp = (uint8_t)resp;
    return 0;
}

/* redis.set_repl(flags): REPL_NONE keeps later writes out of the AOF
 * (there are no replicas, so REPL_REPLICA alone means the same). */
static int redis_set_repl(lua_State *L)
{
    if (lua_gettop(L) != 1) return raise_error(L, "redis.set_repl() requires two arguments.");
    int flags = (int)lua_tointeger(L, 1);
    if (flags & ~SCRIPT_REPL_ALL)
        return raise_error(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    if (script_running) script_running->repl = flags;
    return 0;
}

static int redis_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

/* No users or permissions: any known command is allowed. */
static int redis_acl_check_cmd(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 1) return raise_error(L, "Please specify at least one argument for this redis lib call");
    if (!call_collect_args(L, argc))
        return raise_error(L, "Lua redis lib command arguments must be strings or integers");
    struct command *cmd = command_lookup(call_argv[0].ptr, call_argv[0].len);
    if (!cmd) return raise_error(L, "Invalid command passed to redis.acl_check_cmd()");
    if (cmd->subcommands && argc >= 2) {
        struct command *sub = command_lookup_sub(cmd, call_argv[1].ptr, call_argv[1].len);
        if (sub) cmd = sub;
    }
    struct client *caller = script_running && script_running->req ? script_running->req->client : NULL;
    lua_pushboolean(L, !caller || acl_may_run(caller, cmd, argc, call_argv));
    return 1;
}

/* The script debugger is not provided: these do nothing, as outside it. */
static int redis_breakpoint(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int redis_debug(lua_State *L)
{
    (void)L;
    return 0;
}

static void set_number(lua_State *L, const char *name, lua_Number n)
{
    lua_pushnumber(L, n);
    lua_setfield(L, -2, name);
}

static void open_redis_library(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"call", redis_call},
        {"pcall", redis_pcall},
        {"error_reply", redis_error_reply},
        {"status_reply", redis_status_reply},
        {"sha1hex", redis_sha1hex},
        {"log", redis_log},
        {"setresp", redis_setresp},
        {"set_repl", redis_set_repl},
        {"replicate_commands", redis_replicate_commands},
        {"acl_check_cmd", redis_acl_check_cmd},
        {"breakpoint", redis_breakpoint},
        {"debug", redis_debug},
    };
    lua_newtable(L);
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
        lua_pushcfunction(L, functions[i].func);
        lua_setfield(L, -2, functions[i].name);
    }
    set_number(L, "LOG_DEBUG", LOGL_DEBUG);
    set_number(L, "LOG_VERBOSE", LOGL_VERBOSE);
    set_number(L, "LOG_NOTICE", LOGL_NOTICE);
    set_number(L, "LOG_WARNING", LOGL_WARNING);
    set_number(L, "REPL_NONE", 0);
    set_number(L, "REPL_AOF", SCRIPT_REPL_AOF);
    set_number(L, "REPL_SLAVE", SCRIPT_REPL_REPLICA);
    set_number(L, "REPL_REPLICA", SCRIPT_REPL_REPLICA);
    set_number(L, "REPL_ALL", SCRIPT_REPL_ALL);
    int major = 0, minor = 0, patch = 0;
    sscanf(REDIS_COMPAT_VERSION, "%d.%d.%d", &major, &minor, &patch);
    lua_pushstring(L, REDIS_COMPAT_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    set_number(L, "REDIS_VERSION_NUM", (major << 16) | (minor << 8) | patch);
    lua_setglobal(L, "redis");
}

/* --- the state ------------------------------------------------------------ */

static int lua_panic(lua_State *L)
{
    log_warning("Lua panic (out of memory?): %s", lua_tostring(L, -1));
    abort();
}

lua_State *script_lua_new(void)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        log_warning("Cannot create the Lua state: out of memory");
        abort();
    }
    lua_atpanic(L, lua_panic);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_VIEWS);
    open_libraries(L);
    open_redis_library(L);
    make_globals_view(L);
    return L;
}

void script_lua_create(void)
{
    script_lua = script_lua_new();
}

void script_lua_destroy(void)
{
    lua_close(script_lua);
    script_lua = NULL;
}

void script_lua_strict_view(lua_State *L)
{
    make_view(L, true);
}

void script_lua_set_globals(lua_State *L, int index)
{
    index = index < 0 && index > LUA_REGISTRYINDEX ? lua_gettop(L) + index + 1 : index;
    push_script_env(L);
    lua_getmetatable(L, -1);
    lua_pushvalue(L, index);
    lua_pushcclosure(L, globals_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
}

int script_lua_load(lua_State *L, const char *body, size_t len, const char *chunkname)
{
    if (luaL_loadbuffer(L, body, len, chunkname) != 0) return -1;
    push_script_env(L);
    lua_setfenv(L, -2);
    return 0;
}

/* A socketless client: Redis does not show its script client in CLIENT
 * LIST or count it as a connection, and nothing may kill it. It is never
 * freed. */
void script_client_init(void)
{
    struct client *c = client_create(NULL);
    c->flags |= CLIENT_AUTHENTICATED;
    snprintf(c->addr, sizeof(c->addr), "lua");
    script_client = c;
}

void script_client_prepare(int db)
{
    client_select_db(script_client, db);
    script_client->resp = 2;
    script_client->out.resp = 2;
    outbuf_clear(&script_client->out);
}

/* Compiles a body as a function of the globals view and keeps it in the
 * registry; returns its reference, or LUA_NOREF with Lua's message pushed. */
int script_lua_compile(const char *body, size_t len)
{
    lua_State *L = script_lua;
    if (script_lua_load(L, body, len, "@user_script") != 0) return LUA_NOREF;
    return luaL_ref(L, LUA_REGISTRYINDEX);
}
