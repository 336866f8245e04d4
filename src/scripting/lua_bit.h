/* lua_bit: the `bit` library Redis gives scripts: LuaBitOp 1.0.2, linked
 * from Debian's lua-bitop (the same release Redis ships). Results are
 * signed 32-bit numbers; arguments are rounded to integers modulo 2^32.
 *
 * bit.tohex is Runnel's own: LuaBitOp's reads past its buffer when the
 * width is -2^31 (CVE-2024-31449); this one treats it as -(2^31-1), as
 * Redis's fix does (8 upper-case digits). */
#ifndef RUNNEL_SCRIPTING_LUA_BIT_H
#define RUNNEL_SCRIPTING_LUA_BIT_H

#include <lua.h>

/* Pushes the `bit` table (the caller names it). LuaBitOp also records it
 * in the registry's _LOADED table, which scripts cannot reach. */
int lua_bit_open(lua_State *L);

#endif
