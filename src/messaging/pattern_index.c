#include "messaging/pattern_index.h"

#include <stdint.h>
#include <string.h>

#include "util/glob.h"
#include "util/mem.h"
#include "util/str.h"

/* A byte trie over literal prefixes. A node holds the patterns whose prefix
 * ends there; its children are kept sorted by their edge byte. */
struct pattern_entry {
    str pattern;
    void *value;
};

struct pi_node {
    unsigned char *edges;
    struct pi_node **kids;
    uint16_t nkids, kcap;
    uint32_t nentries, ecap;
    struct pattern_entry *entries;
};

struct pattern_index {
    struct pi_node root;
    size_t size;
};

static size_t literal_prefix_len(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '\\') return i;
    return len;
}

/* Index of the child for byte b, or of where it would be inserted. */
static size_t kid_slot(const struct pi_node *n, unsigned char b, bool *found)
{
    size_t lo = 0, hi = n->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (n->edges[mid] < b) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < n->nkids && n->edges[lo] == b;
    return lo;
}

static struct pi_node *kid_find(const struct pi_node *n, unsigned char b)
{
    bool found;
    size_t i = kid_slot(n, b, &found);
    return found ? n->kids[i] : NULL;
}

static struct pi_node *kid_find_or_add(struct pi_node *n, unsigned char b)
{
    bool found;
    size_t i = kid_slot(n, b, &found);
    if (found) return n->kids[i];
    if (n->nkids == n->kcap) {
        n->kcap = n->kcap ? (uint16_t)(n->kcap * 2) : 2;
        n->edges = mem_realloc(n->edges, n->kcap);
        n->kids = mem_realloc(n->kids, sizeof(*n->kids) * n->kcap);
    }
    memmove(n->edges + i + 1, n->edges + i, n->nkids - i);
    memmove(n->kids + i + 1, n->kids + i, sizeof(*n->kids) * (n->nkids - i));
    n->edges[i] = b;
    n->kids[i] = mem_calloc(sizeof(struct pi_node));
    n->nkids++;
    return n->kids[i];
}

static void node_free_contents(struct pi_node *n)
{
    for (uint16_t i = 0; i < n->nkids; i++) {
        node_free_contents(n->kids[i]);
        mem_free(n->kids[i]);
    }
    for (uint32_t i = 0; i < n->nentries; i++) str_free(n->entries[i].pattern);
    mem_free(n->edges);
    mem_free(n->kids);
    mem_free(n->entries);
}

struct pattern_index *pattern_index_create(void)
{
    return mem_calloc(sizeof(struct pattern_index));
}

void pattern_index_release(struct pattern_index *idx)
{
    if (!idx) return;
    node_free_contents(&idx->root);
    mem_free(idx);
}

size_t pattern_index_size(const struct pattern_index *idx)
{
    return idx->size;
}

void pattern_index_add(struct pattern_index *idx, const char *pattern, size_t len, void *value)
{
    size_t plen = literal_prefix_len(pattern, len);
    struct pi_node *n = &idx->root;
    for (size_t i = 0; i < plen; i++) n = kid_find_or_add(n, (unsigned char)pattern[i]);
    if (n->nentries == n->ecap) {
        n->ecap = n->ecap ? n->ecap * 2 : 1;
        n->entries = mem_realloc(n->entries, sizeof(*n->entries) * n->ecap);
    }
    n->entries[n->nentries++] = (struct pattern_entry){.pattern = str_new(pattern, len), .value = value};
    idx->size++;
}

static bool entry_remove(struct pi_node *n, const char *pattern, size_t len, void *value)
{
    for (uint32_t i = 0; i < n->nentries; i++) {
        struct pattern_entry *e = &n->entries[i];
        if (e->value != value || str_len(e->pattern) != len || memcmp(e->pattern, pattern, len) != 0) continue;
        str_free(e->pattern);
        *e = n->entries[--n->nentries];
        if (n->nentries == 0) {
            mem_free(n->entries);
            n->entries = NULL;
            n->ecap = 0;
        }
        return true;
    }
    return false;
}

/* Detaches n's child for byte b (which must exist) and frees the chain
 * below it: every node of that chain holds no pattern and one child. */
static void chain_cut(struct pi_node *n, unsigned char b)
{
    bool found;
    size_t i = kid_slot(n, b, &found);
    struct pi_node *chain = n->kids[i];
    n->nkids--;
    memmove(n->edges + i, n->edges + i + 1, n->nkids - i);
    memmove(n->kids + i, n->kids + i + 1, sizeof(*n->kids) * (n->nkids - i));
    while (chain) {
        struct pi_node *next = chain->nkids ? chain->kids[0] : NULL;
        mem_free(chain->edges);
        mem_free(chain->kids);
        mem_free(chain->entries);
        mem_free(chain);
        chain = next;
    }
}

/* Removes the entry and then the nodes that only led to it, so that
 * unsubscribing gives the memory back. `keep` is the deepest node on the
 * path that stays whatever happens (the root, or one with another pattern or
 * another branch). */
bool pattern_index_remove(struct pattern_index *idx, const char *pattern, size_t len, void *value)
{
    size_t plen = literal_prefix_len(pattern, len);
    struct pi_node *n = &idx->root, *keep = n;
    size_t keep_depth = 0;
    for (size_t i = 0; i < plen; i++) {
        if (i > 0 && (n->nentries > 0 || n->nkids > 1)) {
            keep = n;
            keep_depth = i;
        }
        n = kid_find(n, (unsigned char)pattern[i]);
        if (!n) return false;
    }
    if (!entry_remove(n, pattern, len, value)) return false;
    idx->size--;
    if (plen > 0 && n->nentries == 0 && n->nkids == 0) chain_cut(keep, (unsigned char)pattern[keep_depth]);
    return true;
}

static void node_match(const struct pi_node *n, const char *name, size_t len, pattern_index_fn *fn, void *ctx)
{
    for (uint32_t i = 0; i < n->nentries; i++) {
        const struct pattern_entry *e = &n->entries[i];
        size_t plen = str_len(e->pattern);
        if (glob_match(e->pattern, plen, name, len, false)) fn(e->pattern, plen, e->value, ctx);
    }
}

void pattern_index_match(const struct pattern_index *idx, const char *name, size_t len, pattern_index_fn *fn,
                         void *ctx)
{
    if (idx->size == 0) return;
    const struct pi_node *n = &idx->root;
    for (size_t i = 0;; i++) {
        node_match(n, name, len, fn, ctx);
        if (i == len || n->nkids == 0) return;
        n = kid_find(n, (unsigned char)name[i]);
        if (!n) return;
    }
}
