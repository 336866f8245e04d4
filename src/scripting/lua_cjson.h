/* lua_cjson: the `cjson` library Redis gives scripts: lua-cjson 2.1.0,
 * linked from Debian's lua-cjson (the release Redis's copy derives from):
 * encode, decode, null, new and the encode_* / decode_* settings, with
 * Redis's defaults (numbers to 14 significant digits, nesting up to 1000,
 * NaN and infinity refused when encoding and accepted when decoding).
 *
 * Debian's 2.1.0 keeps buffer sizes in ints and grows them by doubling, so
 * a JSON text near 2 GB would overflow them (Redis patched its copy for
 * CVE-2022-24834). Runnel wraps encode and decode (of cjson and of every
 * cjson.new() instance): encode first bounds the text it could write and
 * refuses a value whose JSON could exceed LUA_CJSON_MAX_TEXT bytes (a
 * string counts six bytes per byte, its worst case escaped), and decode
 * refuses an input longer than that. A value nested past encode_max_depth
 * is refused by the walk with the library's own error, before anything is
 * written. Below that size the library answers exactly as it would
 * unwrapped, errors included. */
#ifndef RUNNEL_SCRIPTING_LUA_CJSON_H
#define RUNNEL_SCRIPTING_LUA_CJSON_H

#include <lua.h>

/* 1 GB less a margin: the largest text Debian's buffers grow to safely. */
#define LUA_CJSON_MAX_TEXT (((size_t)1 << 30) - 4096)

/* Pushes the `cjson` table (the caller names it). */
int lua_cjson_open(lua_State *L);

#endif
