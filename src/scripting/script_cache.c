/* script_cache: scripts by SHA-1, and the "#!lua" line that declares their
 * flags. */
#include "scripting/script_cache.h"

#include <stdio.h>
#include <string.h>

#include "db/dict.h"
#include "util/mem.h"

static void script_free(void *ptr)
{
    struct script *s = ptr;
    str_free(s->body);
    mem_free(s);
}

static const struct dict_type script_dict_type = {.nocase = true, .owns_keys = true, .val_free = script_free};

static struct dict *scripts;
static size_t body_bytes;

struct script *script_cache_find(const char *sha, size_t len)
{
    if (!scripts || len != SHA1_HEX_SIZE - 1) return NULL;
    struct dict_entry *e = dict_find(scripts, sha, len);
    return e ? e->v.ptr : NULL;
}

struct script *script_cache_add(const char *sha, const char *body, size_t len, int fn_ref, uint32_t flags)
{
    if (!scripts) scripts = dict_create(&script_dict_type);
    struct script *s = mem_calloc(sizeof(*s));
    memcpy(s->sha, sha, SHA1_HEX_SIZE - 1);
    s->sha[SHA1_HEX_SIZE - 1] = '\0';
    s->body = str_new(body, len);
    s->fn_ref = fn_ref;
    s->flags = flags;
    dict_add(scripts, str_new(sha, SHA1_HEX_SIZE - 1), s);
    body_bytes += len;
    return s;
}

void script_cache_clear(void)
{
    if (scripts) dict_clear(scripts);
    body_bytes = 0;
}

size_t script_cache_count(void)
{
    return scripts ? dict_size(scripts) : 0;
}

size_t script_cache_memory(void)
{
    return body_bytes;
}

/* --- the shebang line ------------------------------------------------- */

const struct script_flag_name script_flag_names[SCRIPT_FLAG_NAMES] = {
    {"no-writes", SCRIPT_NO_WRITES},
    {"allow-oom", SCRIPT_ALLOW_OOM},
    {"allow-stale", SCRIPT_ALLOW_STALE},
    {"no-cluster", SCRIPT_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_ALLOW_CROSS_SLOT},
};

uint32_t script_flag_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < SCRIPT_FLAG_NAMES; i++)
        if (strlen(script_flag_names[i].name) == len && memcmp(script_flag_names[i].name, name, len) == 0)
            return script_flag_names[i].flag;
    return 0;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Parses "a,b,c" (possibly empty) into flags. */
static bool shebang_parse_flags(const char *p, size_t len, uint32_t *flags, char *err, size_t err_size)
{
    while (len > 0) {
        const char *comma = memchr(p, ',', len);
        size_t n = comma ? (size_t)(comma - p) : len;
        uint32_t flag = script_flag_by_name(p, n);
        *flags |= flag;
        if (!flag && n > 0) {
            snprintf(err, err_size, "ERR Unexpected flag in script shebang: %.*s", (int)n, p);
            return false;
        }
        if (!comma) break;
        len -= n + 1;
        p = comma + 1;
    }
    return true;
}

/* One option after the engine: only flags=... exists. */
static bool shebang_parse_option(const char *p, size_t n, uint32_t *flags, char *err, size_t err_size)
{
    if (n >= 6 && memcmp(p, "flags=", 6) == 0) return shebang_parse_flags(p + 6, n - 6, flags, err, err_size);
    snprintf(err, err_size, "ERR Unknown lua shebang option: %.*s", (int)n, p);
    return false;
}

bool script_parse_shebang(const char *body, size_t len, uint32_t *flags, char *err, size_t err_size)
{
    *flags = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return true;
    const char *nl = memchr(body, '\n', len);
    const char *end = nl ? nl : body + len;
    const char *p = body;
    int token = 0;
    while (p < end) {
        while (p < end && is_blank(*p)) p++;
        const char *start = p;
        while (p < end && !is_blank(*p)) p++;
        if (p == start) break;
        size_t n = (size_t)(p - start);
        if (token++ == 0) {
            if (n != 5 || memcmp(start, "#!lua", 5) != 0) {
                snprintf(err, err_size, "ERR Unexpected engine in script shebang: %.*s", (int)n, start);
                return false;
            }
        } else if (!shebang_parse_option(start, n, flags, err, err_size)) {
            return false;
        }
    }
    *flags |= SCRIPT_SHEBANG;
    return true;
}
