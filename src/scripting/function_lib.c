/* function_lib: libraries and sets of them (see function_lib.h). */
#include "scripting/function_lib.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/dict.h"
#include "scripting/function_lua.h"
#include "util/mem.h"

static void library_free_value(void *ptr)
{
    function_library_free(ptr);
}

static const struct dict_type library_dict_type = {.owns_keys = true, .val_free = library_free_value};
static const struct dict_type function_dict_type = {.nocase = true, .owns_keys = true};

static size_t library_bytes(const struct function_library *lib)
{
    size_t n = sizeof(*lib) + str_len(lib->name) + str_len(lib->code);
    for (int i = 0; i < lib->count; i++) {
        const struct function *f = lib->functions[i];
        n += sizeof(*f) + str_len(f->name) + (f->description ? str_len(f->description) : 0);
    }
    return n;
}

struct function_library *function_library_new(const char *name, size_t nlen, const char *code, size_t len)
{
    struct function_library *lib = mem_calloc(sizeof(*lib));
    lib->name = str_new(name, nlen);
    lib->code = str_new(code, len);
    return lib;
}

struct function *function_library_find(struct function_library *lib, const char *name, size_t len)
{
    for (int i = 0; i < lib->count; i++) {
        struct function *f = lib->functions[i];
        if (str_len(f->name) == len && strncasecmp(f->name, name, len) == 0) return f;
    }
    return NULL;
}

struct function *function_library_add(struct function_library *lib, const char *name, size_t len, int fn_ref,
                                      uint32_t flags, const char *description, size_t dlen)
{
    if (lib->count == lib->cap) {
        lib->cap = lib->cap ? lib->cap * 2 : 4;
        lib->functions = mem_realloc(lib->functions, sizeof(*lib->functions) * (size_t)lib->cap);
    }
    struct function *f = mem_calloc(sizeof(*f));
    f->name = str_new(name, len);
    f->lib = lib;
    f->fn_ref = fn_ref;
    f->flags = flags;
    if (description) f->description = str_new(description, dlen);
    lib->functions[lib->count++] = f;
    return f;
}

void function_library_free(struct function_library *lib)
{
    for (int i = 0; i < lib->count; i++) {
        struct function *f = lib->functions[i];
        function_lua_unref(f->fn_ref);
        str_free(f->name);
        str_free(f->description);
        mem_free(f);
    }
    mem_free(lib->functions);
    str_free(lib->name);
    str_free(lib->code);
    mem_free(lib);
}

struct function_set *function_set_create(void)
{
    struct function_set *set = mem_calloc(sizeof(*set));
    set->libraries = dict_create(&library_dict_type);
    set->functions = dict_create(&function_dict_type);
    return set;
}

void function_set_free(struct function_set *set)
{
    if (!set) return;
    dict_release(set->functions); /* first: its values belong to the libraries */
    dict_release(set->libraries);
    mem_free(set);
}

struct function_library *function_set_library(struct function_set *set, const char *name, size_t len)
{
    struct dict_entry *e = dict_find(set->libraries, name, len);
    return e ? e->v.ptr : NULL;
}

struct function *function_set_function(struct function_set *set, const char *name, size_t len)
{
    struct dict_entry *e = dict_find(set->functions, name, len);
    return e ? e->v.ptr : NULL;
}

struct function *function_set_collision(struct function_set *set, struct function_library *lib,
                                        struct function_library *except)
{
    for (int i = 0; i < lib->count; i++) {
        struct function *f = function_set_function(set, lib->functions[i]->name, str_len(lib->functions[i]->name));
        if (f && f->lib != except) return lib->functions[i];
    }
    return NULL;
}

void function_set_add(struct function_set *set, struct function_library *lib)
{
    dict_add(set->libraries, str_new(lib->name, str_len(lib->name)), lib);
    for (int i = 0; i < lib->count; i++) {
        struct function *f = lib->functions[i];
        dict_add(set->functions, str_new(f->name, str_len(f->name)), f);
    }
    set->function_count += (size_t)lib->count;
    set->bytes += library_bytes(lib);
}

void function_set_unlink(struct function_set *set, struct function_library *lib)
{
    for (int i = 0; i < lib->count; i++) dict_delete(set->functions, lib->functions[i]->name, str_len(lib->functions[i]->name));
    struct dict_entry *e = dict_unlink(set->libraries, lib->name, str_len(lib->name));
    if (e) {
        e->v.ptr = NULL; /* the caller keeps the library */
        dict_free_unlinked(set->libraries, e);
    }
    set->function_count -= (size_t)lib->count;
    set->bytes -= library_bytes(lib);
}

size_t function_set_library_count(const struct function_set *set)
{
    return dict_size(set->libraries);
}

static int by_name(const void *a, const void *b)
{
    const struct function_library *x = *(struct function_library *const *)a;
    const struct function_library *y = *(struct function_library *const *)b;
    size_t lx = str_len(x->name), ly = str_len(y->name);
    int c = memcmp(x->name, y->name, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

struct function_library **function_set_sorted(struct function_set *set, size_t *n)
{
    *n = dict_size(set->libraries);
    struct function_library **all = mem_alloc(sizeof(*all) * (*n ? *n : 1));
    struct dict_iter it;
    dict_iter_init(&it, set->libraries, false);
    struct dict_entry *e;
    size_t i = 0;
    while ((e = dict_iter_next(&it))) all[i++] = e->v.ptr;
    dict_iter_done(&it);
    qsort(all, *n, sizeof(*all), by_name);
    return all;
}
