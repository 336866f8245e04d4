#include "db/dict.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "util/mem.h"
#include "util/varint.h"

#define DICT_INITIAL_SIZE 4
#define DICT_EMPTY_VISITS 10 /* empty buckets a rehash step may skip per bucket of work */
#define DICT_REHASH_BATCH 100
#define DICT_RANDOM_PROBES 100 /* random probes before falling back to a walk */
#define DICT_FAIR_CHAIN 8      /* slots per bucket of a fair random draw */
#define DICT_FAIR_DRAWS 1000   /* fair draws before dict_random gives up on fairness */

/* ---- SipHash-1-2 ------------------------------------------------------ */

#define SIP_C_ROUNDS 1
#define SIP_D_ROUNDS 2

static uint64_t hash_k0, hash_k1;
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint8_t ascii_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

static inline void sip_compress(struct sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    for (int i = 0; i < SIP_C_ROUNDS; i++) sip_round(s);
    s->v0 ^= m;
}

static inline uint32_t load_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* The last 0..7 bytes of a key as a little-endian word, with at most two
 * loads: 4..7 bytes are two overlapping 4-byte words (the overlap ORs a
 * byte with itself), 1..3 bytes are the first, middle and last byte. */
static inline uint64_t sip_tail(const uint8_t *p, size_t n)
{
    if (n >= 4) return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + n - 4) << (8 * (n - 4));
    if (n == 0) return 0;
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) | (uint64_t)p[n - 1] << (8 * (n - 1));
}

/* ASCII-lowercases the 8 bytes of w at once: a byte gets bit 5 set when
 * it is 'A'..'Z' (bit 7 clear, and its low 7 bits at least 'A' and at most
 * 'Z'; the additions cannot carry into the next byte). */
static inline uint64_t sip_lower(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t low7 = w & ~high;
    uint64_t at_least_a = low7 + (0x80 - 'A') * ones;
    uint64_t past_z = low7 + (0x80 - 'Z' - 1) * ones;
    uint64_t upper = at_least_a & ~past_z & ~w & high;
    return w | (upper >> 2);
}

/* SipHash-1-2 of `len` bytes under the global seed; `lower` hashes the bytes
 * as if ASCII-lowercased. `in` may be NULL only when len is 0. */
static uint64_t siphash(const uint8_t *in, size_t len, bool lower)
{
    if (!in) in = (const uint8_t *)"";
    struct sip_state s = {
        .v0 = hash_k0 ^ 0x736f6d6570736575ULL,
        .v1 = hash_k1 ^ 0x646f72616e646f6dULL,
        .v2 = hash_k0 ^ 0x6c7967656e657261ULL,
        .v3 = hash_k1 ^ 0x7465646279746573ULL,
    };
    size_t full = len & ~(size_t)7;
    for (size_t off = 0; off < full; off += 8) {
        uint64_t w = load_le64(in + off);
        sip_compress(&s, lower ? sip_lower(w) : w);
    }
    uint64_t tail = sip_tail(in + full, len - full);
    uint64_t last = (lower ? sip_lower(tail) : tail) | ((uint64_t)len << 56);
    sip_compress(&s, last);
    s.v2 ^= 0xff;
    for (int i = 0; i < SIP_D_ROUNDS; i++) sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* Sets the hash key. Call it before any dict holds entries: entries already
 * placed under the old seed would no longer be found. */
void dict_set_hash_seed(const uint8_t seed[16])
{
    hash_k0 = load_le64(seed);
    hash_k1 = load_le64(seed + 8);
    rng_state = hash_k0 ^ rotl64(hash_k1, 29) ^ 0x9e3779b97f4a7c15ULL;
}

uint64_t dict_hash(const void *key, size_t len)
{
    return siphash(key, len, false);
}

uint64_t dict_hash_nocase(const void *key, size_t len)
{
    return siphash(key, len, true);
}

/* splitmix64: small and fast; dict_random needs spread, not secrecy. */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- entries ------------------------------------------------------------- */

/* Embedded entries: the bytes after the chain link. */
#define EMBED_OFFSET offsetof(struct dict_entry, key)

static inline bool is_embedded(const struct dict *d)
{
    return d->type->layout != DICT_STR_KEY;
}

static inline unsigned char *embed_bytes(const struct dict_entry *e)
{
    return (unsigned char *)e + EMBED_OFFSET;
}

/* Embedded lengths are varints. */
static inline const uint8_t *len_get(const uint8_t *p, size_t *len)
{
    uint64_t v;
    p = varint_get(p, &v);
    *len = (size_t)v;
    return p;
}

const char *dict_entry_key(const struct dict *d, const struct dict_entry *e, size_t *len)
{
    if (!is_embedded(d)) {
        *len = str_len(e->key);
        return e->key;
    }
    return (const char *)len_get(embed_bytes(e), len);
}

const char *dict_entry_value(const struct dict_entry *e, size_t *len)
{
    size_t klen;
    const unsigned char *p = len_get(embed_bytes(e), &klen);
    return (const char *)len_get(p + klen, len);
}

unsigned char *dict_entry_trailer(const struct dict_entry *e)
{
    size_t vlen;
    const char *v = dict_entry_value(e, &vlen);
    return (unsigned char *)v + vlen;
}

/* Allocates an embedded entry holding key and, when with_value, the value
 * and `trailer` zero bytes; `next` is left for the caller. */
static inline __attribute__((always_inline)) struct dict_entry *embed_new(const void *key, size_t klen, bool with_value,
                                                                         const void *val, size_t vlen, size_t trailer)
{
    size_t size = EMBED_OFFSET + varint_len(klen) + klen + (with_value ? varint_len(vlen) + vlen + trailer : 0);
    struct dict_entry *e = mem_alloc(size);
    unsigned char *p = varint_put(embed_bytes(e), klen);
    if (klen) memcpy(p, key, klen);
    if (!with_value) return e;
    p = varint_put(p + klen, vlen);
    if (vlen) memcpy(p, val, vlen);
    if (trailer) memset(p + vlen, 0, trailer);
    return e;
}

/* embed_set_value's new length with a trailer (at old_trailer inside e),
 * which moves behind the value; out of line, so that the usual path keeps
 * no buffer on its stack. */
static __attribute__((noinline)) struct dict_entry *embed_resize_value(struct dict_entry *e, size_t head,
                                                                     const unsigned char *old_trailer,
                                                                     const void *val, size_t vlen, size_t trailer)
{
    unsigned char keep[DICT_TRAILER_MAX];
    memcpy(keep, old_trailer, trailer);
    e = mem_realloc(e, head + varint_len(vlen) + vlen + trailer);
    unsigned char *p = varint_put((unsigned char *)e + head, vlen);
    if (vlen) memcpy(p, val, vlen);
    memcpy(p + vlen, keep, trailer);
    return e;
}

/* Gives an embedded key-value entry a new value, keeping its `trailer`
 * bytes; returns the entry, which may have moved. val must not point into
 * e. */
static inline __attribute__((always_inline)) struct dict_entry *embed_set_value(struct dict_entry *e, const void *val,
                                                                               size_t vlen, size_t trailer)
{
    size_t klen, old_vlen;
    const unsigned char *kp = len_get(embed_bytes(e), &klen);
    size_t head = (size_t)(kp - (const unsigned char *)e) + klen;
    const unsigned char *old_v = len_get(kp + klen, &old_vlen);
    if (old_vlen == vlen) {
        if (vlen) memcpy((unsigned char *)e + head + varint_len(vlen), val, vlen);
        return e;
    }
    if (trailer) return embed_resize_value(e, head, old_v + old_vlen, val, vlen, trailer);
    e = mem_realloc(e, head + varint_len(vlen) + vlen);
    unsigned char *p = varint_put((unsigned char *)e + head, vlen);
    if (vlen) memcpy(p, val, vlen);
    return e;
}

/* ---- keys ---------------------------------------------------------------- */

static uint64_t key_hash(const struct dict *d, const void *key, size_t len)
{
    return siphash(key, len, d->type->nocase);
}

static uint64_t entry_hash(const struct dict *d, const struct dict_entry *e)
{
    size_t len;
    const char *k = dict_entry_key(d, e, &len);
    return key_hash(d, k, len);
}

static bool key_equal(const struct dict *d, const struct dict_entry *e, const void *key, size_t len)
{
    size_t klen;
    const uint8_t *a = (const uint8_t *)dict_entry_key(d, e, &klen), *b = key;
    if (klen != len) return false;
    if (len == 0) return true;
    if (!d->type->nocase) return memcmp(a, b, len) == 0;
    for (size_t i = 0; i < len; i++) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

/* Frees an entry per the type. A NULL value (as dict_add_or_find leaves it)
 * is not passed to val_free, so destructors need not handle NULL. */
static void entry_free(struct dict *d, struct dict_entry *e)
{
    if (!is_embedded(d)) {
        if (d->type->owns_keys) str_free(e->key);
        if (d->type->val_free && e->v.ptr) d->type->val_free(e->v.ptr);
    }
    mem_free(e);
}

/* ---- tables and rehashing -------------------------------------------- */

static inline bool is_rehashing(const struct dict *d)
{
    return d->rehash_index != -1;
}

static void table_reset(struct dict_table *t)
{
    t->buckets = NULL;
    t->size = 0;
    t->used = 0;
}

static void table_init(struct dict_table *t, uint64_t size)
{
    t->buckets = mem_calloc(size * sizeof(*t->buckets));
    t->size = size;
    t->used = 0;
}

/* Frees every entry of a table and its bucket array, leaving it empty. */
static void table_clear(struct dict *d, struct dict_table *t)
{
    for (uint64_t i = 0; i < t->size; i++) {
        struct dict_entry *e = t->buckets[i];
        while (e) {
            struct dict_entry *next = e->next;
            entry_free(d, e);
            e = next;
        }
    }
    mem_free(t->buckets);
    table_reset(t);
}

static uint64_t size_for(uint64_t entries)
{
    uint64_t size = DICT_INITIAL_SIZE;
    while (size < entries) size <<= 1;
    return size;
}

/* Makes a table of `size` buckets the rehash target, or the main table when
 * the dict has none yet. Caller guarantees no rehash is in progress. */
static void dict_resize(struct dict *d, uint64_t size)
{
    if (d->t[0].size == 0) {
        table_init(&d->t[0], size);
        return;
    }
    table_init(&d->t[1], size);
    d->rehash_index = 0;
}

static void expand_if_needed(struct dict *d)
{
    if (is_rehashing(d)) return;
    if (d->t[0].size == 0) {
        dict_resize(d, DICT_INITIAL_SIZE);
        return;
    }
    if (d->t[0].used >= d->t[0].size) dict_resize(d, size_for(d->t[0].used + 1));
}

/* Moves the chain of bucket `idx` of table 0 into table 1. */
static void rehash_bucket(struct dict *d, uint64_t idx)
{
    struct dict_entry *e = d->t[0].buckets[idx];
    uint64_t mask = d->t[1].size - 1;
    while (e) {
        struct dict_entry *next = e->next;
        uint64_t h = entry_hash(d, e) & mask;
        e->next = d->t[1].buckets[h];
        d->t[1].buckets[h] = e;
        d->t[0].used--;
        d->t[1].used++;
        e = next;
    }
    d->t[0].buckets[idx] = NULL;
}

/* Table 0 is drained: table 1 takes its place. */
static void rehash_finish(struct dict *d)
{
    mem_free(d->t[0].buckets);
    d->t[0] = d->t[1];
    table_reset(&d->t[1]);
    d->rehash_index = -1;
}

/* Migrates up to `n` non-empty buckets, skipping at most n*10 empty ones.
 * Returns true if rehashing is still in progress afterwards. */
static bool rehash(struct dict *d, int n)
{
    if (!is_rehashing(d)) return false;
    uint64_t empty_left = (uint64_t)n * DICT_EMPTY_VISITS;
    while (n-- > 0 && d->t[0].used != 0) {
        while (d->t[0].buckets[d->rehash_index] == NULL) {
            d->rehash_index++;
            if (--empty_left == 0) return true;
        }
        rehash_bucket(d, (uint64_t)d->rehash_index);
        d->rehash_index++;
    }
    if (d->t[0].used != 0) return true;
    rehash_finish(d);
    return false;
}

/* The one-bucket step that lookups and updates pay while a resize runs. */
static void rehash_step(struct dict *d)
{
    if (d->pause_rehash == 0) rehash(d, 1);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool dict_rehash_ms(struct dict *d, int ms)
{
    if (d->pause_rehash > 0) return is_rehashing(d);
    int64_t start = now_ms();
    while (rehash(d, DICT_REHASH_BATCH)) {
        if (now_ms() - start >= ms) return true;
    }
    return false;
}

void dict_reserve(struct dict *d, size_t entries)
{
    if (d->t[0].size == 0 && !is_rehashing(d)) table_init(&d->t[0], size_for(entries));
}

void dict_shrink_if_sparse(struct dict *d)
{
    if (is_rehashing(d)) return;
    struct dict_table *t = &d->t[0];
    if (t->size <= DICT_INITIAL_SIZE || t->used * 8 >= t->size) return;
    dict_resize(d, size_for(t->used));
}

/* ---- lifecycle ------------------------------------------------------- */

struct dict *dict_create(const struct dict_type *type)
{
    struct dict *d = mem_alloc(sizeof(*d));
    d->type = type;
    table_reset(&d->t[0]);
    table_reset(&d->t[1]);
    d->rehash_index = -1;
    d->pause_rehash = 0;
    return d;
}

void dict_release(struct dict *d)
{
    if (!d) return;
    dict_clear(d);
    mem_free(d);
}

void dict_clear(struct dict *d)
{
    table_clear(d, &d->t[0]);
    table_clear(d, &d->t[1]);
    d->rehash_index = -1;
}

size_t dict_size(const struct dict *d)
{
    return (size_t)(d->t[0].used + d->t[1].used);
}

size_t dict_buckets(const struct dict *d)
{
    return (size_t)(d->t[0].size + d->t[1].size);
}

/* ---- lookup and update ----------------------------------------------- */

/* Finds the slot (the pointer that links to the entry) holding `key` with
 * hash `h`, searching both tables; NULL when absent. *table gets the table
 * index the slot belongs to. */
static struct dict_entry **find_slot(struct dict *d, uint64_t h, const void *key, size_t len, int *table)
{
    for (int ti = 0; ti <= (is_rehashing(d) ? 1 : 0); ti++) {
        struct dict_table *t = &d->t[ti];
        if (t->size == 0) return NULL;
        uint64_t idx = h & (t->size - 1);
        /* Buckets below rehash_index have already moved to table 1. */
        if (ti == 0 && (int64_t)idx < d->rehash_index) continue;
        for (struct dict_entry **p = &t->buckets[idx]; *p; p = &(*p)->next) {
            if (!key_equal(d, *p, key, len)) continue;
            *table = ti;
            return p;
        }
    }
    return NULL;
}

struct dict_entry *dict_find(struct dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0) return NULL;
    rehash_step(d);
    int table;
    struct dict_entry **p = find_slot(d, key_hash(d, key, len), key, len, &table);
    return p ? *p : NULL;
}

/* Links a new entry (made by the caller) for a key known to be absent; may
 * start a resize. */
static struct dict_entry *link_new(struct dict *d, uint64_t h, struct dict_entry *e)
{
    expand_if_needed(d);
    struct dict_table *t = is_rehashing(d) ? &d->t[1] : &d->t[0];
    uint64_t idx = h & (t->size - 1);
    e->next = t->buckets[idx];
    t->buckets[idx] = e;
    t->used++;
    return e;
}

static struct dict_entry *str_entry_new(str key, void *val)
{
    struct dict_entry *e = mem_alloc(sizeof(*e));
    e->key = key;
    e->v.ptr = val;
    return e;
}

struct dict_entry *dict_add(struct dict *d, str key, void *val)
{
    rehash_step(d);
    size_t len = str_len(key);
    uint64_t h = key_hash(d, key, len);
    int table;
    if (find_slot(d, h, key, len, &table)) return NULL;
    return link_new(d, h, str_entry_new(key, val));
}

/* When the key is added to a dict that borrows keys, the entry's key is
 * `owned_key` as given; if that is NULL the caller must set e->key before
 * any other operation on the dict. An existing key leaves owned_key alone. */
struct dict_entry *dict_add_or_find(struct dict *d, const void *key, size_t len, str owned_key, bool *existed)
{
    rehash_step(d);
    uint64_t h = key_hash(d, key, len);
    int table;
    struct dict_entry **p = find_slot(d, h, key, len, &table);
    if (existed) *existed = p != NULL;
    if (p) return *p;
    if (is_embedded(d))
        return link_new(d, h, embed_new(key, len, d->type->layout == DICT_EMBED_KEY_VALUE, NULL, 0, d->type->trailer));
    str k = owned_key;
    if (!k && d->type->owns_keys) k = str_new(key, len);
    return link_new(d, h, str_entry_new(k, NULL));
}

static inline __attribute__((always_inline)) struct dict_entry *put_value(struct dict *d, const void *key, size_t klen,
                                                                        const void *val, size_t vlen, bool *added)
{
    rehash_step(d);
    uint64_t h = key_hash(d, key, klen);
    int table;
    struct dict_entry **p = find_slot(d, h, key, klen, &table);
    *added = p == NULL;
    /* a constant 0 trailer in the usual case: no trailer code on its path */
    size_t trailer = d->type->trailer;
    if (p) return *p = trailer ? embed_set_value(*p, val, vlen, trailer) : embed_set_value(*p, val, vlen, 0);
    return link_new(d, h, trailer ? embed_new(key, klen, true, val, vlen, trailer) : embed_new(key, klen, true, val, vlen, 0));
}

void dict_grow_trailers(struct dict *d, const struct dict_type *type)
{
    size_t old = d->type->trailer, add = type->trailer - old;
    d->type = type;
    if (add == 0) return;
    for (int t = 0; t < 2; t++) {
        for (uint64_t b = 0; b < d->t[t].size; b++) {
            for (struct dict_entry **p = &d->t[t].buckets[b]; *p; p = &(*p)->next) {
                size_t vlen;
                const char *v = dict_entry_value(*p, &vlen);
                size_t used = (size_t)((const unsigned char *)v - (const unsigned char *)*p) + vlen + old;
                struct dict_entry *e = mem_realloc(*p, used + add);
                memset((unsigned char *)e + used, 0, add);
                *p = e;
            }
        }
    }
}

struct dict_entry *dict_put_value_entry(struct dict *d, const void *key, size_t klen, const void *val, size_t vlen,
                                        bool *added)
{
    return put_value(d, key, klen, val, vlen, added);
}

bool dict_put_value(struct dict *d, const void *key, size_t klen, const void *val, size_t vlen)
{
    bool added;
    put_value(d, key, klen, val, vlen, &added);
    return added;
}

struct dict_entry *dict_unlink(struct dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0) return NULL;
    rehash_step(d);
    int table;
    struct dict_entry **p = find_slot(d, key_hash(d, key, len), key, len, &table);
    if (!p) return NULL;
    struct dict_entry *e = *p;
    *p = e->next;
    e->next = NULL;
    d->t[table].used--;
    return e;
}

void dict_free_unlinked(struct dict *d, struct dict_entry *e)
{
    if (e) entry_free(d, e);
}

bool dict_delete(struct dict *d, const void *key, size_t len)
{
    struct dict_entry *e = dict_unlink(d, key, len);
    if (!e) return false;
    entry_free(d, e);
    return true;
}

bool dict_validate(struct dict *d)
{
    struct dict_iter it;
    dict_iter_init(&it, d, true); /* no rehash step under the walk */
    struct dict_entry *e;
    size_t n = 0;
    bool ok = true;
    while (ok && (e = dict_iter_next(&it))) {
        size_t len;
        const char *k = dict_entry_key(d, e, &len);
        ok = dict_find(d, k, len) == e;
        n++;
    }
    dict_iter_done(&it);
    return ok && n == dict_size(d);
}

/* ---- random ---------------------------------------------------------- */

/* Maps a global bucket number over both tables (table 0 first) to its
 * bucket. Caller guarantees n < t[0].size + t[1].size. */
static struct dict_entry *bucket_at(struct dict *d, uint64_t n)
{
    if (n < d->t[0].size) return d->t[0].buckets[n];
    return d->t[1].buckets[n - d->t[0].size];
}

/* A non-empty bucket chosen at random; after DICT_RANDOM_PROBES misses (a
 * very sparse table) it walks forward from the last probe instead, which
 * bounds the cost at the price of a little bias. Caller guarantees d is not
 * empty. */
static struct dict_entry *random_bucket(struct dict *d)
{
    /* Buckets of table 0 below rehash_index are known empty. */
    uint64_t lo = is_rehashing(d) ? (uint64_t)d->rehash_index : 0;
    uint64_t span = d->t[0].size + d->t[1].size - lo;
    uint64_t n = 0;
    for (int i = 0; i < DICT_RANDOM_PROBES; i++) {
        n = rng_next() % span;
        struct dict_entry *b = bucket_at(d, lo + n);
        if (b) return b;
    }
    for (;;) {
        n = (n + 1) % span;
        struct dict_entry *b = bucket_at(d, lo + n);
        if (b) return b;
    }
}

/* One draw of the fair picker: a bucket chosen uniformly over both tables
 * and a slot chosen uniformly among DICT_FAIR_CHAIN; the draw hits when the
 * slot holds an entry of that bucket's chain. Every entry of a chain no
 * longer than DICT_FAIR_CHAIN is hit with the same chance, 1 / (buckets *
 * DICT_FAIR_CHAIN); a longer chain (rare below a load of 1) gets one slot
 * per entry, so only its entries are a little less likely.
 * Caller guarantees d is not empty. */
static struct dict_entry *fair_draw(struct dict *d)
{
    uint64_t lo = is_rehashing(d) ? (uint64_t)d->rehash_index : 0;
    uint64_t span = d->t[0].size + d->t[1].size - lo;
    struct dict_entry *head = bucket_at(d, lo + rng_next() % span);
    uint64_t len = 0;
    for (struct dict_entry *e = head; e; e = e->next) len++;
    uint64_t slot = rng_next() % (len > DICT_FAIR_CHAIN ? len : DICT_FAIR_CHAIN);
    if (slot >= len) return NULL;
    while (slot--) head = head->next;
    return head;
}

/* Picking a random bucket and then a random entry of its chain favours
 * entries that share their bucket with no other (an entry alone in its
 * bucket was twice as likely as one of a pair), which HRANDFIELD -N on a
 * small hash showed. So draws are rejected until one lands on an entry
 * (fair_draw); a table sparse enough to miss DICT_FAIR_DRAWS times in a row
 * falls back to the chain walk. */
struct dict_entry *dict_random(struct dict *d)
{
    if (dict_size(d) == 0) return NULL;
    for (int i = 0; i < DICT_FAIR_DRAWS; i++) {
        struct dict_entry *e = fair_draw(d);
        if (e) return e;
    }
    struct dict_entry *head = random_bucket(d);
    uint64_t len = 0;
    for (struct dict_entry *e = head; e; e = e->next) len++;
    uint64_t pick = rng_next() % len;
    while (pick--) head = head->next;
    return head;
}

/* ---- iteration ------------------------------------------------------- */

void dict_iter_init(struct dict_iter *it, struct dict *d, bool safe)
{
    it->d = d;
    it->table = 0;
    it->index = -1;
    it->safe = safe;
    it->entry = NULL;
    it->next = NULL;
    if (safe) d->pause_rehash++;
}

/* Moves to the next bucket, crossing into table 1 while rehashing; returns
 * false at the end. */
static bool iter_next_bucket(struct dict_iter *it)
{
    struct dict *d = it->d;
    it->index++;
    if ((uint64_t)it->index >= d->t[it->table].size) {
        if (it->table == 1 || !is_rehashing(d)) return false;
        it->table = 1;
        it->index = 0;
    }
    it->next = d->t[it->table].buckets[it->index];
    return true;
}

/* The successor is saved before the entry is handed out, so a safe
 * iterator's caller may delete the entry it was given. */
struct dict_entry *dict_iter_next(struct dict_iter *it)
{
    while (!it->next) {
        if (!iter_next_bucket(it)) {
            it->entry = NULL;
            return NULL;
        }
    }
    it->entry = it->next;
    it->next = it->entry->next;
    return it->entry;
}

void dict_iter_done(struct dict_iter *it)
{
    if (it->safe) it->d->pause_rehash--;
    it->safe = false;
}

/* ---- scan ------------------------------------------------------------ */

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    return __builtin_bswap64(v);
}

/* Advances the high bits of the cursor above `mask` in reverse-binary
 * order: set the unmasked bits, reverse, add one, reverse back. */
static uint64_t cursor_next(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    v = rev64(v);
    v++;
    return rev64(v);
}

/* Calls fn on every entry of a bucket. The successor is read first so fn
 * may delete the entry it is given (and nothing else). */
static void scan_bucket(struct dict_entry *e, dict_scan_fn *fn, void *ctx)
{
    while (e) {
        struct dict_entry *next = e->next;
        fn(ctx, e);
        e = next;
    }
}

uint64_t dict_scan(struct dict *d, uint64_t cursor, dict_scan_fn *fn, void *ctx)
{
    if (dict_size(d) == 0) return 0;
    /* Rehash stays paused so fn's deletes cannot move buckets under us. */
    d->pause_rehash++;
    if (!is_rehashing(d)) {
        uint64_t m0 = d->t[0].size - 1;
        scan_bucket(d->t[0].buckets[cursor & m0], fn, ctx);
        cursor = cursor_next(cursor, m0);
        d->pause_rehash--;
        return cursor;
    }
    struct dict_table *small = &d->t[0], *large = &d->t[1];
    if (small->size > large->size) {
        small = &d->t[1];
        large = &d->t[0];
    }
    uint64_t m0 = small->size - 1, m1 = large->size - 1;
    scan_bucket(small->buckets[cursor & m0], fn, ctx);
    /* Visit every bucket of the larger table that expands the small one. */
    do {
        scan_bucket(large->buckets[cursor & m1], fn, ctx);
        cursor = cursor_next(cursor, m1);
    } while (cursor & (m0 ^ m1));
    d->pause_rehash--;
    return cursor;
}
