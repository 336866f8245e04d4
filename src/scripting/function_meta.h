/* function_meta: the first line of a library's code, "#!<engine>
 * name=<library>", and the names libraries and functions may have. Pure
 * parsing, no Lua: FUNCTION LOAD, RESTORE and loading a snapshot all start
 * here. */
#ifndef RUNNEL_SCRIPTING_FUNCTION_META_H
#define RUNNEL_SCRIPTING_FUNCTION_META_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

struct function_meta {
    str engine;         /* as written ("lua", "LUA"...) */
    str name;           /* the library's name, unchecked */
    size_t body_offset; /* where the code after the first line starts (its newline) */
};

/* Reads the first line of code[0..len): "#!" then, separated by blanks,
 * the engine and name=<library> (the key in any case; tokens may be quoted
 * as in redis-cli: "..." with \n \t \xHH escapes, '...' with \'). Returns
 * false with Redis's message (without "ERR ") in err: "Missing library
 * metadata", "Invalid library metadata", "Invalid metadata value given:
 * <token>", "Invalid metadata value, name argument was given multiple
 * times", "Library name was not given". On success the caller frees
 * meta->engine and meta->name (function_meta_free). */
bool function_meta_parse(const char *code, size_t len, struct function_meta *meta, char *err, size_t errlen);
void function_meta_free(struct function_meta *meta);

/* Whether a library or function name is valid: one or more ASCII letters,
 * digits or underscores. */
bool function_name_valid(const char *name, size_t len);

/* Redis's text for an invalid name (it says "Library" for functions too). */
#define FUNCTION_ERR_BAD_NAME \
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

#endif
