/* scripting: the EVAL family and SCRIPT. Runs one cached script for a
 * caller: KEYS and ARGV set, its writes logged between MULTI and EXEC, its
 * result or error written in the caller's protocol, with Redis's error text
 * ("<error> script: <sha>, on @user_script:<line>."). */
#include "scripting/scripting.h"

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
#include "util/sha1.h"

void scripting_init(void)
{
    script_lua_create();
    script_client_init();
}

/* INFO memory's scripting fields, as Redis 7.0 names them; there are no
 * functions (FUNCTION LOAD), so theirs are zero. */
str scripting_info_memory(str s)
{
    long long vm = (long long)lua_gc(script_lua, LUA_GCCOUNT, 0) * 1024 + lua_gc(script_lua, LUA_GCCOUNTB, 0);
    long long scripts = (long long)(script_cache_memory() + script_cache_count() * sizeof(struct script));
    char h_vm[32], h_scripts[32];
    format_human_bytes(h_vm, sizeof(h_vm), (double)vm);
    format_human_bytes(h_scripts, sizeof(h_scripts), (double)scripts);
    return str_append_printf(s,
                             "used_memory_lua:%lld\r\n"
                             "used_memory_vm_eval:%lld\r\n"
                             "used_memory_lua_human:%s\r\n"
                             "used_memory_scripts_eval:%lld\r\n"
                             "number_of_cached_scripts:%zu\r\n"
                             "number_of_functions:0\r\n"
                             "number_of_libraries:0\r\n"
                             "used_memory_vm_functions:0\r\n"
                             "used_memory_vm_total:%lld\r\n"
                             "used_memory_vm_total_human:%s\r\n"
                             "used_memory_functions:0\r\n"
                             "used_memory_scripts:%lld\r\n"
                             "used_memory_scripts_human:%s\r\n",
                             vm, vm, h_vm, scripts, script_cache_count(), vm, h_vm, scripts, h_scripts);
}

/* --- compiling and caching ------------------------------------------------ */

/* The body as Lua compiles it: a "#!lua" first line becomes a comment, so
 * line numbers in errors still count it. */
static int compile_body(const char *body, size_t len, uint32_t flags)
{
    if (!(flags & SCRIPT_SHEBANG)) return script_lua_compile(body, len);
    char *copy = mem_alloc(len);
    memcpy(copy, body, len);
    copy[0] = copy[1] = '-';
    int ref = script_lua_compile(copy, len);
    mem_free(copy);
    return ref;
}

/* The cached script with this body, compiled and cached first if new; NULL
 * with the error replied when its shebang or its Lua is bad. */
static struct script *script_for_body(struct request *req, const char *body, size_t len)
{
    char sha[SHA1_HEX_SIZE];
    sha1_hex(body, len, sha);
    struct script *s = script_cache_find(sha, SHA1_HEX_SIZE - 1);
    if (s) return s;
    uint32_t flags;
    char err[256];
    if (!script_parse_shebang(body, len, &flags, err, sizeof(err))) {
        reply_error(req->out, err);
        return NULL;
    }
    int ref = compile_body(body, len, flags);
    if (ref == LUA_NOREF) {
        str msg = str_from_cstr("ERR Error compiling script (new function): ");
        msg = str_append(msg, lua_tostring(script_lua, -1), lua_objlen(script_lua, -1));
        lua_pop(script_lua, 1);
        reply_error(req->out, msg);
        str_free(msg);
        return NULL;
    }
    return script_cache_add(sha, body, len, ref, flags);
}

/* Drops every script and starts a fresh Lua state. */
static void scripting_reset(void)
{
    script_cache_clear();
    script_lua_destroy();
    script_lua_create();
}

/* --- running -------------------------------------------------------------- */

/* Sets KEYS (numkeys arguments after numkeys) and ARGV (the rest) as
 * globals; raw, past the read-only view. */
static void set_keys_and_argv(struct request *req, int numkeys)
{
    lua_State *L = script_lua;
    int first = 3;
    int nargs = req->argc - first - numkeys;
    const char *names[2] = {"KEYS", "ARGV"};
    int counts[2] = {numkeys, nargs};
    int start[2] = {first, first + numkeys};
    for (int t = 0; t < 2; t++) {
        lua_pushstring(L, names[t]);
        lua_createtable(L, counts[t], 0);
        for (int i = 0; i < counts[t]; i++) {
            struct arg *a = &req->argv[start[t] + i];
            lua_pushlstring(L, a->ptr, a->len);
            lua_rawseti(L, -2, i + 1);
        }
        lua_rawset(L, LUA_GLOBALSINDEX);
    }
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
static bool reply_script_error(struct request *req, struct script *s)
{
    lua_State *L = script_lua;
    str msg;
    bool counted = false;
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "err");
        msg = str_new(lua_tostring(L, -1), lua_objlen(L, -1));
        lua_getfield(L, -2, "source");
        lua_getfield(L, -3, "line");
        msg = str_append_printf(msg, " script: %s", s->sha);
        if (lua_isstring(L, -2))
            msg = str_append_printf(msg, ", on %s:%d.", lua_tostring(L, -2), (int)lua_tointeger(L, -1));
        lua_getfield(L, -4, "ignore_error_stats_update");
        counted = lua_toboolean(L, -1);
        lua_pop(L, 4);
    } else { /* out of memory, or an error in the handler itself */
        const char *text = lua_isstring(L, -1) ? lua_tostring(L, -1) : "unknown error";
        msg = str_from_cstr("ERR ");
        msg = str_append_printf(msg, "%s script: %s", text, s->sha);
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

/* The checks made before a script starts, from its shebang flags and the
 * command that runs it; replies the refusal and returns false. */
static bool script_admit(struct request *req, struct script *s, bool ro_command)
{
    if (!(s->flags & SCRIPT_SHEBANG)) return true;
    bool may_write = !(s->flags & SCRIPT_NO_WRITES);
    if (ro_command && may_write) {
        reply_error(req->out, "ERR Can not execute a script with write flag using *_ro command.");
        return false;
    }
    if (!(s->flags & SCRIPT_ALLOW_OOM) && over_maxmemory()) {
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
static int script_call(struct script_run *r)
{
    lua_State *L = script_lua;
    lua_pushcfunction(L, script_error_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->script->fn_ref);
    int status = lua_pcall(L, 0, 1, -2);
    int counted;
    if (status == 0) counted = lua_convert_write_reply(L, r->req->out, r->resp);
    else counted = reply_script_error(r->req, r->script) ? 1 : 0;
    lua_settop(L, 0);
    return counted;
}

static void script_run(struct request *req, struct script *s, int numkeys, bool ro_command)
{
    if (!script_admit(req, s, ro_command)) return;
    struct client *caller = req->client;
    struct script_run r = {
        .req = req,
        .script = s,
        .read_only = ro_command || (s->flags & SCRIPT_NO_WRITES),
        .allow_oom = s->flags & SCRIPT_ALLOW_OOM,
        .oom_at_start = over_maxmemory(),
        .resp = 2,
        .repl = SCRIPT_REPL_ALL,
    };
    if (server.monitor_count) monitor_feed(caller, req->argc, req->argv);
    script_client_prepare(req->db->id);
    set_keys_and_argv(req, numkeys);
    uint32_t errors_before = req->out->errors;
    unsigned long long logged = oplog_logged_total();
    script_running = &r;
    oplog_multi_begin();
    script_timeout_start();
    int counted = script_call(&r);
    script_timeout_stop();
    oplog_multi_end();
    script_running = NULL;
    /* the writes were logged by the commands that made them: the reply
     * must wait for them to be durable, but EVAL itself is not logged */
    if (r.wrote || oplog_logged_total() != logged) req->flags |= REQ_PROPAGATED;
    /* an error counted once already still makes this call a failed one */
    if (counted && req->out->errors == errors_before && caller->cmd) caller->cmd->failed_calls++;
}

/* --- commands ------------------------------------------------------------- */

/* Reads numkeys (argv[2]) with Redis's errors. */
static bool eval_numkeys(struct request *req, int *numkeys)
{
    long long n;
    if (!request_ll(req, 2, &n)) return false;
    if (n < 0) {
        reply_error(req->out, "ERR Number of keys can't be negative");
        return false;
    }
    if (n > req->argc - 3) {
        reply_error(req->out, "ERR Number of keys can't be greater than number of args");
        return false;
    }
    *numkeys = (int)n;
    return true;
}

static void eval_generic(struct request *req, bool by_sha, bool ro_command)
{
    int numkeys;
    if (!eval_numkeys(req, &numkeys)) return;
    struct script *s;
    if (by_sha) {
        s = script_cache_find(req->argv[1].ptr, req->argv[1].len);
        if (!s) {
            reply_error(req->out, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        s = script_for_body(req, req->argv[1].ptr, req->argv[1].len);
        if (!s) return;
    }
    script_run(req, s, numkeys, ro_command);
}

static void cmd_eval(struct request *req)
{
    eval_generic(req, false, false);
}

static void cmd_evalsha(struct request *req)
{
    eval_generic(req, true, false);
}

static void cmd_eval_ro(struct request *req)
{
    eval_generic(req, false, true);
}

static void cmd_evalsha_ro(struct request *req)
{
    eval_generic(req, true, true);
}

static void cmd_script_load(struct request *req)
{
    struct script *s = script_for_body(req, req->argv[2].ptr, req->argv[2].len);
    if (s) reply_bulk(req->out, s->sha, SHA1_HEX_SIZE - 1);
}

static void cmd_script_exists(struct request *req)
{
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++)
        reply_int(req->out, script_cache_find(req->argv[i].ptr, req->argv[i].len) ? 1 : 0);
}

/* ASYNC frees nothing in the background here: the flush is quick. */
static void cmd_script_flush(struct request *req)
{
    if (req->argc > 3 || (req->argc == 3 && !ARG_IS(req, 2, "ASYNC") && !ARG_IS(req, 2, "SYNC"))) {
        reply_error(req->out, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    scripting_reset();
    reply_ok(req->out);
}

/* Nothing runs while this command does: a script is never busy. */
static void cmd_script_kill(struct request *req)
{
    switch (script_timeout_kill()) {
    case SCRIPT_KILL_OK: reply_ok(req->out); break;
    case SCRIPT_KILL_NOT_BUSY: reply_error(req->out, "NOTBUSY No scripts in execution right now."); break;
    case SCRIPT_KILL_UNKILLABLE:
        reply_error(req->out, "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
                              "can either wait the script termination or kill the server in a hard way using the "
                              "SHUTDOWN NOSAVE command.");
        break;
    }
}

static void cmd_script_help(struct request *req)
{
    static const char *const lines[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Both modes flush synchronously.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

/* EVAL's keys: numkeys arguments after numkeys. */
static int eval_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    long long n;
    if (argc < 3 || !parse_ll(argv[2].ptr, argv[2].len, &n) || n < 0 || n > argc - 3) return 0;
    int count = 0;
    for (int i = 0; i < n && count < max; i++) positions[count++] = 3 + i;
    return count;
}

/* A script that declares no-writes makes its EVAL a read, as Redis judges
 * it: CLIENT PAUSE WRITE (and a replica's or MISCONF's refusals) let it run,
 * and a transaction of such scripts too. A script EVALSHA does not find, or
 * a body whose shebang does not parse, keeps the command's own flags. */
static uint32_t eval_flags_for_script(const struct command *cmd, uint32_t script_flags)
{
    if (script_flags & SCRIPT_NO_WRITES) return cmd->flags & ~(CMD_WRITE | CMD_MAY_REPLICATE);
    return cmd->flags;
}

static uint32_t eval_flags_of(const struct command *cmd, const struct arg *argv, int argc)
{
    uint32_t script_flags = 0;
    char err[128];
    if (argc < 2 || !script_parse_shebang(argv[1].ptr, argv[1].len, &script_flags, err, sizeof(err))) return cmd->flags;
    return eval_flags_for_script(cmd, script_flags);
}

static uint32_t evalsha_flags_of(const struct command *cmd, const struct arg *argv, int argc)
{
    struct script *s = argc >= 2 ? script_cache_find(argv[1].ptr, argv[1].len) : NULL;
    return eval_flags_for_script(cmd, s ? s->flags : 0);
}

#define EVAL_FLAGS (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_MOVABLE_KEYS)
#define EVAL_DOC "Depends on the script that is executed."

static struct command script_subcommands[] = {
    {"load", cmd_script_load, 3, CMD_NOSCRIPT | CMD_STALE, 0, 0, 0, "@slow @scripting", "scripting",
     "Loads a server-side Lua script to the script cache.", "2.6.0",
     "O(N) with N being the length in bytes of the script body."},
    {"exists", cmd_script_exists, -3, CMD_NOSCRIPT | CMD_STALE, 0, 0, 0, "@slow @scripting", "scripting",
     "Determines whether server-side Lua scripts exist in the script cache.", "2.6.0",
     "O(N) with N being the number of scripts to check."},
    {"flush", cmd_script_flush, -2, CMD_NOSCRIPT | CMD_MAY_REPLICATE, 0, 0, 0, "@slow @scripting", "scripting",
     "Removes all server-side Lua scripts from the script cache.", "2.6.0",
     "O(N) with N being the number of scripts in cache"},
    {"kill", cmd_script_kill, 2, CMD_NOSCRIPT | CMD_ALLOW_BUSY, 0, 0, 0, "@slow @scripting", "scripting",
     "Terminates a server-side Lua script during execution.", "2.6.0", "O(1)"},
    {"help", cmd_script_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow @scripting", "scripting",
     "Returns helpful text about the different subcommands.", "5.0.0", "O(1)"},
    {0},
};

struct command scripting_commands[] = {
    {"eval", cmd_eval, -3, EVAL_FLAGS | CMD_MAY_REPLICATE, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a server-side Lua script.", "2.6.0", EVAL_DOC, NULL, eval_keys, eval_flags_of},
    {"evalsha", cmd_evalsha, -3, EVAL_FLAGS | CMD_MAY_REPLICATE, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a server-side Lua script by SHA1 digest.", "2.6.0", EVAL_DOC, NULL, eval_keys, evalsha_flags_of},
    {"eval_ro", cmd_eval_ro, -3, EVAL_FLAGS | CMD_READONLY, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a read-only server-side Lua script.", "7.0.0", EVAL_DOC, NULL, eval_keys},
    {"evalsha_ro", cmd_evalsha_ro, -3, EVAL_FLAGS | CMD_READONLY, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a read-only server-side Lua script by SHA1 digest.", "7.0.0", EVAL_DOC, NULL, eval_keys},
    {"script", NULL, -2, 0, 0, 0, 0, "@slow", "scripting", "A container for Lua scripts management commands.",
     "2.6.0", "Depends on subcommand.", script_subcommands},
    {0},
};
