/* function_lib: libraries of functions (Redis 7 Functions) and the sets
 * that hold them. A library is its code and the functions its code
 * registered when it ran; a set indexes libraries by name (case-sensitive,
 * as Redis) and their functions by name (any case, as Redis). The server
 * has one live set; FUNCTION RESTORE and loading a snapshot build another
 * and swap or merge it in, so a failure halfway changes nothing. The
 * compiled callbacks live in the functions' Lua state (function_lua.h);
 * freeing a function releases its reference there. */
#ifndef RUNNEL_SCRIPTING_FUNCTION_LIB_H
#define RUNNEL_SCRIPTING_FUNCTION_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

struct function_library;

struct function {
    str name;
    struct function_library *lib;
    int fn_ref;       /* the callback, in the functions' Lua state */
    uint32_t flags;   /* enum script_flags; SCRIPT_SHEBANG always set */
    str description;  /* NULL when none was given */
};

struct function_library {
    str name;
    str code;                     /* the whole code, its first line included */
    struct function **functions;  /* in the order they were registered */
    int count;
    int cap;
};

struct function_set {
    struct dict *libraries; /* name -> library (owned) */
    struct dict *functions; /* name, any case -> function (owned by its library) */
    size_t function_count;
    size_t bytes;           /* code, names and descriptions, for INFO */
};

/* An empty library named name[0..nlen) holding a copy of code. */
struct function_library *function_library_new(const char *name, size_t nlen, const char *code, size_t len);
/* The library's function of that name (any case), or NULL. */
struct function *function_library_find(struct function_library *lib, const char *name, size_t len);
/* Appends a function; the name must not be in the library yet.
 * description may be NULL. Takes over fn_ref. */
struct function *function_library_add(struct function_library *lib, const char *name, size_t len, int fn_ref,
                                      uint32_t flags, const char *description, size_t dlen);
/* Frees a library that no set holds, releasing its callbacks. */
void function_library_free(struct function_library *lib);

struct function_set *function_set_create(void);
/* Frees the set and every library in it. */
void function_set_free(struct function_set *set);
struct function_library *function_set_library(struct function_set *set, const char *name, size_t len);
struct function *function_set_function(struct function_set *set, const char *name, size_t len);
/* The first function of lib whose name `set` already has (from another
 * library than `except`, which may be NULL), or NULL. */
struct function *function_set_collision(struct function_set *set, struct function_library *lib,
                                        struct function_library *except);
/* Adds lib (its name and its functions' names must be free in set). */
void function_set_add(struct function_set *set, struct function_library *lib);
/* Takes lib out of the set without freeing it. */
void function_set_unlink(struct function_set *set, struct function_library *lib);
size_t function_set_library_count(const struct function_set *set);
/* The libraries sorted by name (byte order), in an array the caller frees
 * with mem_free; *n gets their number. */
struct function_library **function_set_sorted(struct function_set *set, size_t *n);

#endif
