/* lua_cmsgpack: the `cmsgpack` library Redis gives scripts, written for
 * Runnel to behave as Redis 7's (lua-cmsgpack 0.4.0):
 *
 * - cmsgpack.pack(v1, v2, ...) returns the MessagePack encodings of its
 *   arguments, one after the other (at least one argument).
 * - cmsgpack.unpack(s) returns every object encoded in s.
 * - cmsgpack.unpack_one(s [, offset]) and cmsgpack.unpack_limit(s, limit
 *   [, offset]) read one or at most `limit` objects starting `offset` bytes
 *   into s, and return first the offset after them (-1 once s is used up),
 *   then the objects.
 *
 * Encoding: a number equal to a 64-bit integer is written as the smallest
 * MessagePack integer, any other number as a float 32 when that keeps its
 * value exactly (infinities too) and a float 64 otherwise (NaN); strings are
 * MessagePack strings; a table whose keys are exactly 1..n is an array,
 * any other table a map; tables nested 16 deep are written as nil, which
 * also ends reference cycles; nil, functions, userdata are nil.
 * Decoding: integers, floats, strings, arrays, maps, nil and booleans;
 * binary and extension types are refused as "Bad data format in input.",
 * a truncated object as "Missing bytes in input.". An unsigned 64-bit
 * integer above 2^63-1 comes back wrapped to a negative number, as in
 * Redis. */
#ifndef RUNNEL_SCRIPTING_LUA_CMSGPACK_H
#define RUNNEL_SCRIPTING_LUA_CMSGPACK_H

#include <lua.h>

/* Pushes a new `cmsgpack` table (the caller names it). */
int lua_cmsgpack_open(lua_State *L);

#endif
