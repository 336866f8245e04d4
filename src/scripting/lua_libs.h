/* lua_libs: the libraries Redis adds to scripts' Lua — cjson, cmsgpack,
 * bit, struct (each in its lua_<name>.c) — opened as globals. */
#ifndef RUNNEL_SCRIPTING_LUA_LIBS_H
#define RUNNEL_SCRIPTING_LUA_LIBS_H

#include <lua.h>

/* Opens the four libraries as globals of L. `protect`, when not NULL, is
 * called with each library's table at the top of the stack and must
 * leave one table there (what the global will name). */
void lua_libs_open(lua_State *L, void (*protect)(lua_State *L));

#endif
