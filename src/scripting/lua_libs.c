/* lua_libs: Redis's script libraries as globals (see the header). */
#include "scripting/lua_libs.h"

#include <lauxlib.h>

#include "scripting/lua_bit.h"
#include "scripting/lua_cjson.h"
#include "scripting/lua_cmsgpack.h"
#include "scripting/lua_struct.h"

void lua_libs_open(lua_State *L, void (*protect)(lua_State *L))
{
    static const luaL_Reg libs[] = {
        {"cjson", lua_cjson_open},
        {"cmsgpack", lua_cmsgpack_open},
        {"bit", lua_bit_open},
        {"struct", lua_struct_open},
    };
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        lua_pushcfunction(L, libs[i].func);
        lua_call(L, 0, 1);
        if (protect) protect(L);
        lua_setglobal(L, libs[i].name);
    }
}
