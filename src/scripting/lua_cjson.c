/* lua_cjson: Debian's lua-cjson behind a size guard (see the header). */
#include "scripting/lua_cjson.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <math.h>
#include <stdbool.h>

/* An upper bound of the text encoding a value writes, counted until it
 * passes LUA_CJSON_MAX_TEXT. */
struct text_bound {
    size_t total;
    lua_Integer max_depth; /* the instance's encode_max_depth */
    bool over;
};

static void bound_add(struct text_bound *b, size_t n)
{
    b->total += n;
    if (b->total > LUA_CJSON_MAX_TEXT) b->over = true;
}

static void bound_value(lua_State *L, struct text_bound *b, int depth);

/* A key: strings escaped and quoted, numbers written as strings. Marks
 * whether the table can still be an array and its largest index. */
static void bound_key(lua_State *L, struct text_bound *b, bool *array, lua_Number *max_index)
{
    if (lua_type(L, -2) == LUA_TNUMBER) {
        lua_Number k = lua_tonumber(L, -2);
        if (k >= 1 && floor(k) == k) {
            if (k > *max_index) *max_index = k;
        } else {
            *array = false;
        }
        bound_add(b, 40);
        return;
    }
    *array = false;
    if (lua_type(L, -2) == LUA_TSTRING) bound_add(b, lua_objlen(L, -2) * 6 + 4);
    else bound_add(b, 40);
}

/* The table at the top: braces, its keys and values, and the nulls cjson
 * writes for the holes of an array. Past the depth limit cjson refuses the
 * table, writing nothing more, so it is not entered. */
static void bound_table(lua_State *L, struct text_bound *b, int depth)
{
    bound_add(b, 2);
    if (depth > b->max_depth || !lua_checkstack(L, 3)) return;
    bool array = true;
    lua_Number max_index = 0;
    size_t items = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        items++;
        bound_key(L, b, &array, &max_index);
        bound_value(L, b, depth);
        lua_pop(L, 1);
        if (b->over) {
            lua_pop(L, 1);
            return;
        }
    }
    /* cjson reads the length into an int; beyond that it writes no holes. */
    if (array && max_index <= 2147483647.0 && max_index > (lua_Number)items)
        bound_add(b, 5 * (size_t)(max_index - (lua_Number)items));
}

static void bound_value(lua_State *L, struct text_bound *b, int depth)
{
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: bound_add(b, lua_objlen(L, -1) * 6 + 3); break;
    case LUA_TTABLE: bound_table(L, b, depth + 1); break;
    default: bound_add(b, 40); break; /* numbers (at most 14 digits), literals */
    }
}

/* Calls the wrapped function (upvalue 1) with the arguments and returns
 * its results. Its errors come out as they would unwrapped: the library
 * places them with luaL_where(L, 1), which here finds this C wrapper (no
 * position) instead of the script, so the script's position is added. */
static int call_wrapped(lua_State *L)
{
    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (lua_pcall(L, nargs, LUA_MULTRET, 0) == 0) return lua_gettop(L);
    if (lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* encode(value); upvalues: the library's encode, its encode_max_depth. */
static int cjson_encode(lua_State *L)
{
    luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_call(L, 0, 1);
    struct text_bound b = {0, lua_tointeger(L, -1), false};
    lua_pop(L, 1);
    lua_pushvalue(L, 1);
    bound_value(L, &b, 0);
    lua_pop(L, 1);
    if (b.over)
        return luaL_error(L, "Cannot serialise %s: the JSON text could exceed %d bytes", luaL_typename(L, 1),
                          (int)LUA_CJSON_MAX_TEXT);
    return call_wrapped(L);
}

/* decode(text); upvalue: the library's decode. */
static int cjson_decode(lua_State *L)
{
    luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
    size_t len;
    luaL_checklstring(L, 1, &len);
    if (len > LUA_CJSON_MAX_TEXT)
        return luaL_error(L, "Cannot decode a JSON text longer than %d bytes", (int)LUA_CJSON_MAX_TEXT);
    return call_wrapped(L);
}

static void wrap_instance(lua_State *L);

/* new(): a cjson table with settings of its own, wrapped the same way;
 * upvalue: the library's new. */
static int cjson_new(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    wrap_instance(L);
    return 1;
}

/* Replaces encode, decode and new of the cjson table at the top. */
static void wrap_instance(lua_State *L)
{
    lua_getfield(L, -1, "encode");
    lua_getfield(L, -2, "encode_max_depth");
    lua_pushcclosure(L, cjson_encode, 2);
    lua_setfield(L, -2, "encode");
    lua_getfield(L, -1, "decode");
    lua_pushcclosure(L, cjson_decode, 1);
    lua_setfield(L, -2, "decode");
    lua_getfield(L, -1, "new");
    lua_pushcclosure(L, cjson_new, 1);
    lua_setfield(L, -2, "new");
}

int lua_cjson_open(lua_State *L)
{
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    wrap_instance(L);
    return 1;
}
