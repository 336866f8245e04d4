/* A selector's key patterns indexed by their literal prefix, so that a key
 * is tried only against the patterns that could match it: for each distinct
 * prefix length, the key's first bytes are looked up in a small hash table.
 * With `~k1:* ... ~k19:* ~key:*`, a key costs two lookups instead of twenty
 * glob matches. Patterns without a literal prefix ("*x", "?a") are tried one
 * by one, as are all of them when the prefixes come in too many lengths.
 *
 * Prefixes of up to 8 bytes (most: "queue:", "user:") are held as one
 * 64-bit word: the key's first 8 bytes are loaded once, and each length's
 * probe is a mask, a multiply and one word compare, with no byte loop. */
#include "server/acl_keys.h"

#include <endian.h>
#include <string.h>

#include "util/glob.h"
#include "util/mem.h"

#define MAX_LENGTHS 8
#define WORD_BYTES 8

enum pattern_kind {
    KIND_GLOB,   /* anything after the prefix: a full glob match decides */
    KIND_PREFIX, /* prefix then a single trailing '*': the prefix decides */
    KIND_EXACT,  /* no special byte at all: the key must equal it */
};

struct slot {
    uint64_t word;      /* a prefix of up to WORD_BYTES bytes, zero-padded; 0 for longer ones */
    uint64_t wmask;     /* the bytes of a word the prefix covers (0 for longer ones) */
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
    struct acl_key_hot hot; /* first: the fast test of acl_user.h reads it */
    int nlengths; /* 0: everything is tried one by one */
    size_t lengths[MAX_LENGTHS];
    uint64_t masks[MAX_LENGTHS]; /* per length up to WORD_BYTES: the bytes of a word it keeps */
    uint32_t mask;
    struct slot *slots;
    int *next;     /* per pattern: the next one with the same prefix, -1 */
    uint8_t *kind; /* per pattern: enum pattern_kind */
    int *unprefixed; /* patterns tried one by one */
    int nunprefixed;
};

/* The first min(len, WORD_BYTES) bytes of p, as one word (zero beyond). */
static inline uint64_t load_word(const char *p, size_t len)
{
    uint64_t w = 0;
    if (len >= WORD_BYTES) {
        memcpy(&w, p, WORD_BYTES); /* one load */
        return le64toh(w);         /* byte i at bits 8i, as below */
    }
    for (size_t i = 0; i < len; i++) w |= (uint64_t)(unsigned char)p[i] << (8 * i); /* no call to memcpy */
    return w;
}

static inline uint64_t word_mask(size_t len)
{
    return len >= WORD_BYTES ? ~0ULL : (1ULL << (8 * len)) - 1;
}

/* Short prefixes hash their word (multiply-shift); longer ones their
 * bytes (FNV-1a). Build and lookup agree on which. */
static inline uint32_t word_hash(uint64_t w, size_t len)
{
    return (uint32_t)((w * 0x9E3779B97F4A7C15ULL) >> 32) ^ (uint32_t)len;
}

static uint32_t bytes_hash(const char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static uint32_t prefix_hash(const char *p, size_t len)
{
    return len <= WORD_BYTES ? word_hash(load_word(p, len), len) : bytes_hash(p, len);
}

static inline struct slot *slot_find_word(const struct acl_key_index *ix, uint64_t w, size_t len, uint32_t h)
{
    for (uint32_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        struct slot *s = &ix->slots[i];
        if (!s->prefix || (s->word == w && s->len == len)) return s;
    }
}

static struct slot *slot_find_bytes(const struct acl_key_index *ix, const char *p, size_t len, uint32_t h)
{
    for (uint32_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        struct slot *s = &ix->slots[i];
        if (!s->prefix || (s->hash == h && s->len == len && memcmp(s->prefix, p, len) == 0)) return s;
    }
}

static struct slot *slot_find(const struct acl_key_index *ix, const char *p, size_t len, uint32_t h)
{
    return len <= WORD_BYTES ? slot_find_word(ix, load_word(p, len), len, h) : slot_find_bytes(ix, p, len, h);
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
        size_t lit = glob_literal_prefix(pats[i].pattern, plen);
        if (lit > 0) indexed = note_length(ix, lit);
    }
    if (!indexed) ix->nlengths = 0;
    for (int l = 0; l < ix->nlengths; l++) ix->masks[l] = word_mask(ix->lengths[l]);
    for (int i = 0; i < n; i++) {
        size_t plen = str_len(pats[i].pattern);
        const char *p = pats[i].pattern;
        size_t lit = glob_literal_prefix(p, plen);
        ix->kind[i] = lit == plen ? KIND_EXACT : (lit + 1 == plen && p[lit] == '*') ? KIND_PREFIX : KIND_GLOB;
        ix->next[i] = -1;
        if (lit == 0 || !indexed) {
            ix->unprefixed[ix->nunprefixed++] = i;
            continue;
        }
        uint32_t h = prefix_hash(p, lit);
        struct slot *s = slot_find(ix, p, lit, h);
        if (!s->prefix)
            *s = lit <= WORD_BYTES ? (struct slot){load_word(p, lit), word_mask(lit), h, (uint32_t)lit, p, -1, 0}
                                   : (struct slot){0, 0, h, (uint32_t)lit, p, -1, 0};
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

/* Whether the patterns under one slot grant `perm` to the key. */
static bool slot_grants(const struct acl_key_index *ix, const struct acl_keypat *pats, const struct slot *s,
                        const char *key, size_t len, uint8_t perm)
{
    if ((s->prefix_grants >> perm) & 1) return true;
    for (int i = s->first; i >= 0; i = ix->next[i]) {
        if ((pats[i].perm & perm) != perm) continue;
        if (pattern_matches(ix, pats, i, key, len, s->len)) return true;
    }
    return false;
}

/* Every length's lookup, then the patterns without a prefix; a prefix that
 * grants by itself becomes the one the fast test tries first. */
bool acl_key_index_match(struct acl_key_index *ix, const struct acl_keypat *pats, const char *key, size_t len,
                         uint8_t perm)
{
    uint64_t word = load_word(key, len);
    for (int l = 0; l < ix->nlengths; l++) {
        size_t plen = ix->lengths[l];
        if (plen > len) break;
        const struct slot *s;
        if (plen <= WORD_BYTES) {
            uint64_t w = word & ix->masks[l];
            s = slot_find_word(ix, w, plen, word_hash(w, plen));
        } else {
            s = slot_find_bytes(ix, key, plen, bytes_hash(key, plen));
        }
        if (!s->prefix) continue;
        if (plen <= WORD_BYTES && ((s->prefix_grants >> perm) & 1)) {
            ix->hot = (struct acl_key_hot){s->word, s->wmask, s->prefix_grants};
            return true;
        }
        if (slot_grants(ix, pats, s, key, len, perm)) return true;
    }
    for (int u = 0; u < ix->nunprefixed; u++) {
        int i = ix->unprefixed[u];
        if ((pats[i].perm & perm) != perm) continue;
        if (pattern_matches(ix, pats, i, key, len, 0)) return true;
    }
    return false;
}
