/* A bare Lua state with Redis's script libraries, for the unit tests of
 * src/scripting/lua_*.c: no sandbox, no server. Each test file includes
 * this once and declares TestSuite(name, .init = lua_test_setup, .fini =
 * lua_test_teardown). */
#ifndef RUNNEL_TESTS_LUA_TEST_STATE_H
#define RUNNEL_TESTS_LUA_TEST_STATE_H

#include <criterion/criterion.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "scripting/lua_libs.h"

static lua_State *L;

/* Runs `code` and returns tostring() of its first result, or "error: "
 * and the message; the text lives in a static buffer until the next call. */
static inline const char *lua_test_run(const char *code)
{
    static char result[4096];
    int top = lua_gettop(L);
    if (luaL_loadstring(L, code) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
        snprintf(result, sizeof(result), "error: %s", lua_tostring(L, -1));
    } else {
        lua_getglobal(L, "tostring");
        lua_insert(L, -2);
        lua_call(L, 1, 1);
        snprintf(result, sizeof(result), "%s", lua_tostring(L, -1));
    }
    lua_settop(L, top);
    return result;
}

/* Opens the state, with a global hex(s) giving a string's bytes in hex. */
static inline void lua_test_setup(void)
{
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_libs_open(L, NULL);
    lua_test_run("function hex(s) local t = {} for i = 1, #s do t[i] = string.format('%02x', s:byte(i)) end "
                 "return table.concat(t) end");
}

static inline void lua_test_teardown(void)
{
    lua_close(L);
}

static inline void expect(const char *code, const char *want)
{
    cr_assert_str_eq(lua_test_run(code), want, "%s", code);
}

/* The code raises an error whose message contains `message`. */
static inline void expect_error(const char *code, const char *message)
{
    const char *got = lua_test_run(code);
    cr_assert(strncmp(got, "error: ", 7) == 0 && strstr(got, message), "%s gave %s", code, got);
}

#endif
