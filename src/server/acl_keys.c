/* A selector's key patterns indexed by their literal prefix, so that a key
 * is tried only against the patterns that could match it: for each distinct
 * prefix length, the key's first bytes are looked up in a small hash table.
 * With `~k1:* ... ~k19:* ~key:*`, a key costs two lookups instead of twenty
 * glob matches. Patterns without a literal prefix ("*x", "?a") are tried one
 * by one, as are all of them when the prefixes come in too many lengths. */
#include "server/acl_keys.h"

#include <string.h>

#include "util/glob.h"
#include "util/mem.h"

#define MAX_LENGTHS 8

enum pattern_kind {
    KIND_GLOB,   /* anything after the prefix: a full glob match decides */
    KIND_PREFIX, /* prefix then a single trailing '*': the prefix decides */
    KIND_EXACT,  /* no special byte at all: the key must equal it */
};

struct slot {
    uint32_t hash;
    uint32_t len;
    const char *prefix; /* NULL: empty slot */
    int first;          /* first pattern with this prefix needing more than the prefix; chained through `next`, -1 */
    /* bit `need` (a set of enum acl_perm bits, 0..3) is set when a pattern
     * that is this prefix then '*' grants at least `need`: such a pattern
     * matches any key with the prefix, so its chain need not be walked */
    uint8_t prefix_grants;
};

struct acl_key_index {
    int nlengths; /* 0: everything is tried one by one */
    size_t lengths[MAX_LENGTHS];
    uint32_t mask;
    struct slot *slots;
    int *next;     /* per pattern: the next one with the same prefix, -1 */
    uint8_t *kind; /* per pattern: enum pattern_kind */
    int *unprefixed; /* patterns tried one by one */
    int nunprefixed;
};

/* FNV-1a: a key's prefixes of every indexed length are hashed in one pass,
 * since the hash of n bytes continues from that of the first n - 1. */
#define HASH_START 2166136261u

static uint32_t hash_more(uint32_t h, const char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static uint32_t prefix_hash(const char *p, size_t len)
{
    return hash_more(HASH_START, p, 0, len);
}

static size_t literal_prefix(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && p[i] != '*' && p[i] != '?' && p[i] != '[' && p[i] != '\\') i++;
    return i;
}

/* Prefixes are short: compared in place rather than through a memcmp call. */
static inline bool same_bytes(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i]) return false;
    return true;
}

static inline struct slot *slot_find(const struct acl_key_index *ix, const char *p, size_t len, uint32_t h)
{
    for (uint32_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        struct slot *s = &ix->slots[i];
        if (!s->prefix || (s->hash == h && s->len == len && same_bytes(s->prefix, p, len))) return s;
    }
}

/* Keeps the distinct prefix lengths in ascending order. */
static bool note_length(struct acl_key_index *ix, size_t len)
{
    int at = 0;
    while (at < ix->nlengths && ix->lengths[at] < len) at++;
    if (at < ix->nlengths && ix->lengths[at] == len) return true;
    if (ix->nlengths == MAX_LENGTHS) return false;
    memmove(ix->lengths + at + 1, ix->lengths + at, sizeof(ix->lengths[0]) * (size_t)(ix->nlengths - at));
    ix->lengths[at] = len;
    ix->nlengths++;
    return true;
}

struct acl_key_index *acl_key_index_build(const struct acl_keypat *pats, int n)
{
    struct acl_key_index *ix = mem_calloc(sizeof(*ix));
    uint32_t cap = 16;
    while (cap < (uint32_t)n * 2) cap *= 2;
    ix->mask = cap - 1;
    ix->slots = mem_calloc(sizeof(*ix->slots) * cap);
    ix->next = mem_alloc(sizeof(int) * (size_t)(n ? n : 1));
    ix->kind = mem_alloc((size_t)(n ? n : 1));
    ix->unprefixed = mem_alloc(sizeof(int) * (size_t)(n ? n : 1));
    bool indexed = true;
    for (int i = 0; i < n && indexed; i++) {
        size_t plen = str_len(pats[i].pattern);
        size_t lit = literal_prefix(pats[i].pattern, plen);
        if (lit > 0) indexed = note_length(ix, lit);
    }
    if (!indexed) ix->nlengths = 0;
    for (int i = 0; i < n; i++) {
        size_t plen = str_len(pats[i].pattern);
        const char *p = pats[i].pattern;
        size_t lit = literal_prefix(p, plen);
        ix->kind[i] = lit == plen ? KIND_EXACT : (lit + 1 == plen && p[lit] == '*') ? KIND_PREFIX : KIND_GLOB;
        ix->next[i] = -1;
        if (lit == 0 || !indexed) {
            ix->unprefixed[ix->nunprefixed++] = i;
            continue;
        }
        uint32_t h = prefix_hash(p, lit);
        struct slot *s = slot_find(ix, p, lit, h);
        if (!s->prefix) *s = (struct slot){h, (uint32_t)lit, p, -1, 0};
        if (ix->kind[i] == KIND_PREFIX) {
            for (uint8_t need = 0; need <= ACL_PERM_ALL; need++)
                if ((pats[i].perm & need) == need) s->prefix_grants |= (uint8_t)(1 << need);
            continue;
        }
        int *link = &s->first;
        while (*link >= 0) link = &ix->next[*link];
        *link = i;
    }
    return ix;
}

void acl_key_index_free(struct acl_key_index *ix)
{
    if (!ix) return;
    mem_free(ix->slots);
    mem_free(ix->next);
    mem_free(ix->kind);
    mem_free(ix->unprefixed);
    mem_free(ix);
}

static bool pattern_matches(const struct acl_key_index *ix, const struct acl_keypat *pats, int i, const char *key,
                            size_t len, size_t prefix_len)
{
    const struct acl_keypat *k = &pats[i];
    switch (ix->kind[i]) {
    case KIND_PREFIX: return prefix_len > 0 || glob_match(k->pattern, str_len(k->pattern), key, len, false);
    case KIND_EXACT: return str_len(k->pattern) == len && !memcmp(k->pattern, key, len);
    default: return glob_match(k->pattern, str_len(k->pattern), key, len, false);
    }
}

bool acl_key_index_match(const struct acl_key_index *ix, const struct acl_keypat *pats, const char *key, size_t len,
                         uint8_t perm)
{
    uint32_t h = HASH_START;
    size_t hashed = 0;
    for (int l = 0; l < ix->nlengths; l++) {
        size_t plen = ix->lengths[l];
        if (plen > len) break;
        h = hash_more(h, key, hashed, plen);
        hashed = plen;
        const struct slot *s = slot_find(ix, key, plen, h);
        if (!s->prefix) continue;
        if ((s->prefix_grants >> perm) & 1) return true;
        for (int i = s->first; i >= 0; i = ix->next[i]) {
            if ((pats[i].perm & perm) != perm) continue;
            if (pattern_matches(ix, pats, i, key, len, plen)) return true;
        }
    }
    for (int u = 0; u < ix->nunprefixed; u++) {
        int i = ix->unprefixed[u];
        if ((pats[i].perm & perm) != perm) continue;
        if (pattern_matches(ix, pats, i, key, len, 0)) return true;
    }
    return false;
}
