/* function_lua: the functions' Lua state and FUNCTION LOAD's run of a
 * library's code (see function_lua.h). */
#include "scripting/function_lua.h"

#include <lauxlib.h>
#include <string.h>
#include <time.h>

#include "scripting/function_lib.h"
#include "scripting/function_meta.h"
#include "scripting/lua.h"
#include "scripting/lua_convert.h"
#include "scripting/script_cache.h"

/* How long a library's code may run when it is loaded (Redis's limit). */
#define LOAD_TIMEOUT_MS 500
#define LOAD_HOOK_INSTRUCTIONS 100000
#define REG_LOAD_GLOBALS "runnel.load_globals"

lua_State *function_lua;

static struct {
    struct function_library *lib; /* being loaded; NULL otherwise */
    long long start_ms;
} loading;

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Raises {err="ERR <msg>"}, as Redis's register_function fails. */
static int load_fail(lua_State *L, const char *msg)
{
    lua_convert_push_error(L, msg, strlen(msg));
    return lua_error(L);
}

/* --- redis.register_function --------------------------------------------- */

/* The flags table at the top of the stack; NULL or the refusal. */
static const char *read_flags(lua_State *L, uint32_t *flags)
{
    if (!lua_istable(L, -1))
        return "flags argument to redis.register_function must be a table representing function flags";
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        uint32_t flag = 0;
        if (lua_type(L, -1) == LUA_TSTRING) flag = script_flag_by_name(lua_tostring(L, -1), lua_objlen(L, -1));
        *flags |= flag;
        bool known = flag != 0;
        lua_pop(L, 1);
        if (!known) {
            lua_pop(L, 1);
            return "unknown flag given";
        }
    }
    return NULL;
}

/* Checks the named arguments of register_function{...} (the table at 1):
 * known keys with values of the right types. NULL or the refusal. */
static const char *check_named_args(lua_State *L, uint32_t *flags)
{
    const char *refusal = NULL;
    lua_pushnil(L);
    while (!refusal && lua_next(L, 1)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (!strcmp(key, "function_name")) {
            if (!lua_isstring(L, -1)) refusal = "function_name argument given to redis.register_function must be a string";
        } else if (!strcmp(key, "description")) {
            if (!lua_isstring(L, -1)) refusal = "description argument given to redis.register_function must be a string";
        } else if (!strcmp(key, "callback")) {
            if (!lua_isfunction(L, -1)) refusal = "callback argument given to redis.register_function must be a function";
        } else if (!strcmp(key, "flags")) {
            refusal = read_flags(L, flags);
        } else {
            refusal = "unknown argument given to redis.register_function";
        }
        lua_pop(L, 1);
    }
    if (refusal) lua_pop(L, 1); /* the key lua_next left */
    return refusal;
}

/* Leaves name (2), callback (3) and description (4, nil if none) on the
 * stack from either form of the call. NULL or the refusal. */
static const char *read_registration(lua_State *L, uint32_t *flags)
{
    int argc = lua_gettop(L);
    if (argc == 1) {
        if (!lua_istable(L, 1))
            return "calling redis.register_function with a single argument is only applicable to Lua table "
                   "(representing named arguments).";
        const char *refusal = check_named_args(L, flags);
        if (refusal) return refusal;
        lua_getfield(L, 1, "function_name");
        lua_getfield(L, 1, "callback");
        lua_getfield(L, 1, "description");
        if (lua_isnil(L, 2)) return "redis.register_function must get a function name argument";
        if (lua_isnil(L, 3)) return "redis.register_function must get a callback argument";
        return NULL;
    }
    if (argc != 2) return "wrong number of arguments to redis.register_function";
    if (!lua_isstring(L, 1)) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2)) return "second argument to redis.register_function must be a function";
    lua_pushnil(L);
    lua_insert(L, 1); /* name and callback move to 2 and 3 */
    lua_pushnil(L);
    return NULL;
}

static int register_function(lua_State *L)
{
    if (!loading.lib) return load_fail(L, "redis.register_function can only be called on FUNCTION LOAD command");
    uint32_t flags = SCRIPT_SHEBANG;
    const char *refusal = read_registration(L, &flags);
    if (refusal) return load_fail(L, refusal);
    size_t nlen, dlen = 0;
    const char *name = lua_tolstring(L, 2, &nlen);
    const char *desc = lua_isnil(L, 4) ? NULL : lua_tolstring(L, 4, &dlen);
    if (!function_name_valid(name, nlen)) return load_fail(L, FUNCTION_ERR_BAD_NAME);
    if (function_library_find(loading.lib, name, nlen)) return load_fail(L, "Function already exists in the library");
    lua_pushvalue(L, 3);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    function_library_add(loading.lib, name, nlen, ref, flags, desc, dlen);
    return 0;
}

/* --- loading a library ---------------------------------------------------- */

static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (monotonic_ms() - loading.start_ms < LOAD_TIMEOUT_MS) return;
    lua_sethook(L, load_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1); /* raised again if swallowed */
    load_fail(L, "FUNCTION LOAD timeout");
}

/* The error the library's code ended with, at the top of the stack. */
static str load_error(lua_State *L)
{
    str err = str_from_cstr("Error registering functions: ");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "err");
        if (lua_type(L, -1) == LUA_TSTRING) return str_append(err, lua_tostring(L, -1), lua_objlen(L, -1));
        return str_append_printf(err, "ERR unknown error");
    }
    if (lua_isstring(L, -1)) return str_append_printf(err, "ERR %s", lua_tostring(L, -1));
    return str_append_printf(err, "ERR unknown error");
}

/* Runs the compiled chunk at the top against the load-time globals. */
static bool run_chunk(lua_State *L, str *err)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_LOAD_GLOBALS);
    script_lua_set_globals(L, -1);
    lua_pop(L, 1);
    loading.start_ms = monotonic_ms();
    lua_sethook(L, load_hook, LUA_MASKCOUNT, LOAD_HOOK_INSTRUCTIONS);
    int status = lua_pcall(L, 0, 0, 0);
    lua_sethook(L, NULL, 0, 0);
    script_lua_set_globals(L, LUA_GLOBALSINDEX);
    if (status == 0) return true;
    *err = load_error(L);
    return false;
}

struct function_library *function_lua_run_library(const char *name, size_t nlen, const char *code, size_t len,
                                                  size_t body_offset, str *err)
{
    lua_State *L = function_lua;
    int top = lua_gettop(L);
    if (script_lua_load(L, code + body_offset, len - body_offset, "@user_function") != 0) {
        *err = str_from_cstr("Error compiling function: ");
        *err = str_append(*err, lua_tostring(L, -1), lua_objlen(L, -1));
        lua_settop(L, top);
        return NULL;
    }
    struct function_library *lib = function_library_new(name, nlen, code, len);
    loading.lib = lib;
    bool ok = run_chunk(L, err);
    loading.lib = NULL;
    lua_settop(L, top);
    if (ok) return lib;
    function_library_free(lib);
    return NULL;
}

void function_lua_unref(int ref)
{
    luaL_unref(function_lua, LUA_REGISTRYINDEX, ref);
}

long long function_lua_memory(void)
{
    return (long long)lua_gc(function_lua, LUA_GCCOUNT, 0) * 1024 + lua_gc(function_lua, LUA_GCCOUNTB, 0);
}

/* --- the state ------------------------------------------------------------ */

/* Copies field `name` of the table at -2 into the table at -1. */
static void copy_field(lua_State *L, const char *name)
{
    lua_getfield(L, -2, name);
    lua_setfield(L, -2, name);
}

/* The globals a library's code sees while it loads (through the globals
 * view, read-only and strict): only a `redis` with register_function, log
 * and the constants, itself a read-only, strict view. */
static void make_load_globals(lua_State *L)
{
    static const char *const shared[] = {"log",         "LOG_DEBUG",     "LOG_VERBOSE",      "LOG_NOTICE",
                                         "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"};
    lua_newtable(L); /* the globals */
    lua_getglobal(L, "redis");
    lua_newtable(L);
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) copy_field(L, shared[i]);
    lua_pushcfunction(L, register_function);
    lua_setfield(L, -2, "register_function");
    script_lua_strict_view(L);
    lua_setfield(L, -3, "redis");
    lua_pop(L, 1); /* the full redis library */
    /* the globals view reads this table raw: it must not be a view */
    lua_setfield(L, LUA_REGISTRYINDEX, REG_LOAD_GLOBALS);
}

void function_lua_init(void)
{
    function_lua = script_lua_new();
    make_load_globals(function_lua);
}
