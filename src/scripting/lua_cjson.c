/* lua_cjson: Debian's lua-cjson behind a size guard (see the header). */
#include "scripting/lua_cjson.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <math.h>
#include <stdbool.h>

/* What the wrappers of one cjson instance share: its encode_max_depth,
 * kept up to date by the wrapper of that setting. */
struct cjson_instance {
    lua_Integer max_depth;
};

/* An upper bound of the text encoding a value writes, counted until it
 * passes LUA_CJSON_MAX_TEXT; `too_deep` once a table nests past the
 * instance's limit (the deepest level reached is in `depth`). */
struct text_bound {
    size_t total;
    lua_Integer max_depth;
    int depth;
    bool over, too_deep;
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
 * writes for the holes of an array. A table past the depth limit (or past
 * what the stack holds) ends the walk: cjson would refuse the value. */
static void bound_table(lua_State *L, struct text_bound *b, int depth)
{
    bound_add(b, 2);
    if (depth > b->max_depth || !lua_checkstack(L, 3)) {
        b->too_deep = b->over = true;
        b->depth = depth;
        return;
    }
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
 * its results. Its errors come out as they would unwrapped: called from C,
 * the library finds no name for itself ("bad argument #1 to '?'") and no
 * position (luaL_where(L, 1) is this wrapper), so both are put back from
 * the wrapper's own call. */
static int call_wrapped(lua_State *L)
{
    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (lua_pcall(L, nargs, LUA_MULTRET, 0) == 0) return lua_gettop(L);
    if (lua_type(L, -1) != LUA_TSTRING) return lua_error(L);
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name) {
        lua_pushfstring(L, " to '%s' (", ar.name);
        luaL_gsub(L, lua_tostring(L, -2), " to '?' (", lua_tostring(L, -1));
        lua_replace(L, -3);
        lua_pop(L, 1);
    }
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
}

/* encode(value); upvalues: the library's encode, the instance's state.
 * A value nested too deep gets cjson's own error here, before any of it is
 * written: the walk that found it may not have counted all cjson would
 * write first. */
static int cjson_encode(lua_State *L)
{
    luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
    const struct cjson_instance *inst = lua_touserdata(L, lua_upvalueindex(2));
    struct text_bound b = {0, inst->max_depth, 0, false, false};
    bound_value(L, &b, 0);
    if (b.too_deep) return luaL_error(L, "Cannot serialise, excessive nesting (%d)", b.depth);
    if (b.over)
        return luaL_error(L, "Cannot serialise %s: the JSON text could exceed %d bytes", luaL_typename(L, 1),
                          (int)LUA_CJSON_MAX_TEXT);
    return call_wrapped(L);
}

/* encode_max_depth([n]); upvalues: the library's, the instance's state. */
static int cjson_encode_max_depth(lua_State *L)
{
    int n = call_wrapped(L);
    struct cjson_instance *inst = lua_touserdata(L, lua_upvalueindex(2));
    inst->max_depth = lua_tointeger(L, -1);
    return n;
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

/* Replaces encode, encode_max_depth, decode and new of the cjson table at
 * the top. */
static void wrap_instance(lua_State *L)
{
    struct cjson_instance *inst = lua_newuserdata(L, sizeof(*inst));
    lua_getfield(L, -2, "encode_max_depth");
    lua_call(L, 0, 1);
    inst->max_depth = lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, -2, "encode_max_depth");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, cjson_encode_max_depth, 2);
    lua_setfield(L, -3, "encode_max_depth");
    lua_getfield(L, -2, "encode");
    lua_insert(L, -2);
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
