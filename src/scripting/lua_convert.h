/* lua_convert: the conversions Redis documents between replies and Lua
 * values, both ways.
 *
 * Reply to Lua (what redis.call returns): integer -> number, bulk -> string,
 * nil bulk or nil array -> false, array -> table, status -> {ok=...},
 * error -> {err=...}; and with redis.setresp(3): map -> {map={...}},
 * set -> {set={m=true}}, null -> nil, double -> {double=n}, boolean ->
 * boolean, big number -> {big_number="..."}, verbatim string ->
 * {verbatim_string={format=..., string=...}}.
 *
 * Lua to reply (what a script returns): number -> integer (truncated),
 * string -> bulk, table -> array of its elements 1..n up to the first nil,
 * {err=...} -> error, {ok=...} -> status, {double=}, {map=}, {set=},
 * {big_number=}, {verbatim_string=} -> their RESP3 types; true -> 1 and
 * false -> nil under RESP2 (booleans under redis.setresp(3)); nil and
 * anything else -> nil. */
#ifndef RUNNEL_SCRIPTING_LUA_CONVERT_H
#define RUNNEL_SCRIPTING_LUA_CONVERT_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol/outbuf.h"

/* Parses the one reply held in buf[0..len) (RESP2 or RESP3, as a command
 * wrote it) and pushes its Lua value. Returns false, pushing nothing, when
 * the bytes are not one well-formed reply. */
bool lua_convert_push_reply(lua_State *L, const char *buf, size_t len);

/* Pushes an error table {err="CODE message"} built from an error text the
 * way Redis's Lua library forms it: "-CODE message" keeps its code, a text
 * without a leading dash or a dash and a single word gets "ERR"; CR and LF
 * at either end are dropped. */
void lua_convert_push_error(lua_State *L, const char *text, size_t len);

/* Writes the Lua value at the top of the stack as a reply to o (in o's
 * protocol); `script_resp` (redis.setresp) decides how booleans go. Error
 * tables marked ignore_error_stats_update are not counted again in o's
 * error statistics; returns how many were left uncounted. */
int lua_convert_write_reply(lua_State *L, struct outbuf *o, int script_resp);

/* Converts a Lua number to a reply integer as Redis does: truncated toward
 * zero; NaN and values out of range give the smallest integer. */
long long lua_convert_number(lua_Number n);

#endif
