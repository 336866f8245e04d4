/* lua_struct: the `struct` library Redis gives scripts (Roberto
 * Ierusalimschy's struct 0.2 as Redis 7 ships it), written for Runnel:
 *
 * - struct.pack(fmt, v1, v2, ...) returns the values laid out as fmt says;
 * - struct.unpack(fmt, s [, pos]) reads them back from s starting at byte
 *   pos (1-based), then returns the position after the last one;
 * - struct.size(fmt) is the size of fmt's layout (no 's', no 'c0').
 *
 * Format codes: '<' little endian, '>' big endian, '![n]' alignment to n
 * bytes (a power of 2; default 8), 'x' a padding byte, 'b'/'B' signed and
 * unsigned char, 'h'/'H' short, 'l'/'L' long, 'T' size_t, 'i[n]'/'I[n]' an
 * integer of n bytes (at most 32; default 4), 'f' float, 'd' double, 's' a
 * zero-terminated string, 'c[n]' n characters (when packing 'c0' is the
 * whole string; when unpacking, the number read just before), ' ' ignored.
 * Numbers are Lua numbers: integers beyond 2^53 lose precision, and values
 * out of an integer's range convert as on x86-64 (as Redis's build does). */
#ifndef RUNNEL_SCRIPTING_LUA_STRUCT_H
#define RUNNEL_SCRIPTING_LUA_STRUCT_H

#include <lua.h>

/* Pushes a new `struct` table (the caller names it). */
int lua_struct_open(lua_State *L);

#endif
