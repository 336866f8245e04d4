/* function_lua: the Lua state functions run in, apart from EVAL's (SCRIPT
 * FLUSH does not touch it, and EVAL's KEYS and ARGV are not in it), and
 * the running of a library's code at FUNCTION LOAD.
 *
 * A library's code runs once, when it is loaded, against globals that
 * hold only `redis` with register_function, log, the LOG_ levels and
 * REDIS_VERSION(_NUM), as in Redis 7: anything else (string, pairs,
 * redis.call) raises "Script attempted to access nonexistent global
 * variable". It may run for 500 ms at most. The callbacks it registers see
 * the full sandbox when FCALL runs them later. */
#ifndef RUNNEL_SCRIPTING_FUNCTION_LUA_H
#define RUNNEL_SCRIPTING_FUNCTION_LUA_H

#include <lua.h>
#include <stddef.h>

#include "util/str.h"

struct function_library;

/* The functions' state; created by function_lua_init, once. */
extern lua_State *function_lua;
void function_lua_init(void);

/* Runs code[0..len) (whose first line, up to body_offset, is the metadata
 * line: the chunk starts at its newline so line numbers count it) and
 * returns the library named name[0..nlen) with the functions it
 * registered, or NULL with Redis's message in *err ("Error compiling
 * function: ...", "Error registering functions: ..."; the caller frees
 * it). A library that registered nothing is returned empty. */
struct function_library *function_lua_run_library(const char *name, size_t nlen, const char *code, size_t len,
                                                  size_t body_offset, str *err);

/* Releases a callback's registry reference. */
void function_lua_unref(int ref);

/* Bytes the functions' Lua state uses. */
long long function_lua_memory(void);

#endif
