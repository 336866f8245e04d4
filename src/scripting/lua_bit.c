/* lua_bit: Debian's LuaBitOp with a safe bit.tohex (see the header). */
#include "scripting/lua_bit.h"

#include <lauxlib.h>
#include <lua-bitop.h>
#include <stdint.h>

/* LuaBitOp's reading of an argument: the number rounded to the nearest
 * integer (ties to even) modulo 2^32, found in the low word of the double
 * after adding 2^52 + 2^51; a non-number is refused. */
static uint32_t bit_arg(lua_State *L, int idx)
{
    union {
        lua_Number n;
        uint64_t bits;
    } u;
    u.n = lua_tonumber(L, idx) + 6755399441055744.0;
    uint32_t b = (uint32_t)u.bits;
    if (b == 0 && !lua_isnumber(L, idx)) luaL_typerror(L, idx, "number");
    return b;
}

/* bit.tohex(x [, n]): the low |n| hex digits of x (default 8, at most 8),
 * upper case when n is negative. */
static int bit_tohex(lua_State *L)
{
    uint32_t b = bit_arg(L, 1);
    int32_t n = lua_isnone(L, 2) ? 8 : (int32_t)bit_arg(L, 2);
    const char *digits = "0123456789abcdef";
    if (n == INT32_MIN) n = INT32_MIN + 1; /* -n would overflow */
    if (n < 0) {
        n = -n;
        digits = "0123456789ABCDEF";
    }
    if (n > 8) n = 8;
    char buf[8];
    for (int i = n - 1; i >= 0; i--) {
        buf[i] = digits[b & 15];
        b >>= 4;
    }
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

int lua_bit_open(lua_State *L)
{
    lua_pushcfunction(L, luaopen_bit);
    lua_pushliteral(L, "bit");
    lua_call(L, 1, 1);
    lua_pushcfunction(L, bit_tohex);
    lua_setfield(L, -2, "tohex");
    return 1;
}
