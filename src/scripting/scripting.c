/* scripting: the EVAL family and SCRIPT: scripts compiled and cached by
 * their SHA-1, run through script_run.c; and INFO memory's scripting
 * fields, functions' included. */
#include "scripting/scripting.h"

#include <lauxlib.h>
#include <string.h>

#include "scripting/functions.h"
#include "scripting/lua.h"
#include "scripting/script_cache.h"
#include "scripting/script_run.h"
#include "util/mem.h"
#include "util/numbers.h"
#include "util/sha1.h"

void scripting_init(void)
{
    script_lua_create();
    script_client_init();
    functions_init();
}

/* INFO memory's scripting fields, as Redis 7.2 names them: EVAL's Lua
 * state and cache, the functions' state and libraries, and their sums. */
str scripting_info_memory(str s)
{
    long long vm = (long long)lua_gc(script_lua, LUA_GCCOUNT, 0) * 1024 + lua_gc(script_lua, LUA_GCCOUNTB, 0);
    long long scripts = (long long)(script_cache_memory() + script_cache_count() * sizeof(struct script));
    long long vm_functions = functions_vm_memory(), functions = (long long)functions_memory();
    char h_vm[32], h_total[32], h_scripts[32];
    format_human_bytes(h_vm, sizeof(h_vm), (double)vm);
    format_human_bytes(h_total, sizeof(h_total), (double)(vm + vm_functions));
    format_human_bytes(h_scripts, sizeof(h_scripts), (double)(scripts + functions));
    return str_append_printf(s,
                             "used_memory_lua:%lld\r\n"
                             "used_memory_vm_eval:%lld\r\n"
                             "used_memory_lua_human:%s\r\n"
                             "used_memory_scripts_eval:%lld\r\n"
                             "number_of_cached_scripts:%zu\r\n"
                             "number_of_functions:%zu\r\n"
                             "number_of_libraries:%zu\r\n"
                             "used_memory_vm_functions:%lld\r\n"
                             "used_memory_vm_total:%lld\r\n"
                             "used_memory_vm_total_human:%s\r\n"
                             "used_memory_functions:%lld\r\n"
                             "used_memory_scripts:%lld\r\n"
                             "used_memory_scripts_human:%s\r\n",
                             vm, vm, h_vm, scripts, script_cache_count(), functions_count(), functions_library_count(),
                             vm_functions, vm + vm_functions, h_total, functions, scripts + functions, h_scripts);
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
    struct script_target t = {.L = script_lua, .fn_ref = s->fn_ref, .name = s->sha, .flags = s->flags};
    script_execute(req, &t, numkeys, ro_command);
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

static void cmd_script_kill(struct request *req)
{
    script_kill_command(req, false);
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
     "Executes a server-side Lua script.", "2.6.0", EVAL_DOC, NULL, script_command_keys, eval_flags_of},
    {"evalsha", cmd_evalsha, -3, EVAL_FLAGS | CMD_MAY_REPLICATE, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a server-side Lua script by SHA1 digest.", "2.6.0", EVAL_DOC, NULL, script_command_keys, evalsha_flags_of},
    {"eval_ro", cmd_eval_ro, -3, EVAL_FLAGS | CMD_READONLY, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a read-only server-side Lua script.", "7.0.0", EVAL_DOC, NULL, script_command_keys},
    {"evalsha_ro", cmd_evalsha_ro, -3, EVAL_FLAGS | CMD_READONLY, 0, 0, 0, "@slow @scripting", "scripting",
     "Executes a read-only server-side Lua script by SHA1 digest.", "7.0.0", EVAL_DOC, NULL, script_command_keys},
    {"script", NULL, -2, 0, 0, 0, 0, "@slow", "scripting", "A container for Lua scripts management commands.",
     "2.6.0", "Depends on subcommand.", script_subcommands},
    {0},
};
