/* script_cache: the scripts EVAL and SCRIPT LOAD have compiled, named by the
 * SHA-1 of their body (looked up case-insensitively, as Redis does), with the
 * flags their "#!lua" first line declares. The compiled functions live in
 * the Lua state; an entry holds the registry reference that finds one. */
#ifndef RUNNEL_SCRIPTING_SCRIPT_CACHE_H
#define RUNNEL_SCRIPTING_SCRIPT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sha1.h"
#include "util/str.h"

enum script_flags {
    SCRIPT_SHEBANG = 1 << 0,          /* starts with #!lua: writes must be declared */
    SCRIPT_NO_WRITES = 1 << 1,        /* flags=no-writes */
    SCRIPT_ALLOW_OOM = 1 << 2,        /* flags=allow-oom */
    SCRIPT_ALLOW_STALE = 1 << 3,      /* flags=allow-stale (no replicas: no effect) */
    SCRIPT_NO_CLUSTER = 1 << 4,       /* flags=no-cluster (no cluster: no effect) */
    SCRIPT_ALLOW_CROSS_SLOT = 1 << 5, /* flags=allow-cross-slot-keys (no effect) */
};

/* The flags' names, as shebangs, register_function and FUNCTION LIST
 * spell them, in Redis's order. */
#define SCRIPT_FLAG_NAMES 5
struct script_flag_name {
    const char *name;
    uint32_t flag;
};
extern const struct script_flag_name script_flag_names[SCRIPT_FLAG_NAMES];
/* The flag named name[0..len), or 0. */
uint32_t script_flag_by_name(const char *name, size_t len);

struct script {
    char sha[SHA1_HEX_SIZE]; /* lowercase */
    str body;
    int fn_ref;     /* the compiled function, in the Lua registry */
    uint32_t flags; /* enum script_flags */
};

/* Reads the "#!lua [flags=a,b,...]" line a body may start with into *flags
 * (0 without one). On a bad line returns false with Redis's error text
 * ("ERR ..." ) in err. */
bool script_parse_shebang(const char *body, size_t len, uint32_t *flags, char *err, size_t err_size);

/* The cached script named by `sha` (any case), or NULL. */
struct script *script_cache_find(const char *sha, size_t len);
/* Caches a compiled script under its (lowercase) sha; the sha must not be
 * cached yet. Copies the body. */
struct script *script_cache_add(const char *sha, const char *body, size_t len, int fn_ref, uint32_t flags);
/* Forgets every script (SCRIPT FLUSH); the caller drops the Lua state that
 * held their functions. */
void script_cache_clear(void);
size_t script_cache_count(void);
/* Bytes held by the cached bodies. */
size_t script_cache_memory(void);

#endif
