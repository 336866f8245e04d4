/* hash: values of type hash.
 *
 * Encoding "listpack" (small hashes): one packed node (list_node.h) holding
 * field, value, field, value... as consecutive entries, so a small hash is
 * one allocation with a few bytes of overhead per entry; lookups walk it,
 * which is as fast as hashing for a few dozen fields. Integers are stored
 * packed, and always read back as the exact bytes written.
 *
 * Encoding "hashtable": a dict (db/dict.h) once the hash has more than
 * hash_max_listpack_entries fields or a field or value longer than
 * hash_max_listpack_value bytes. Its entries are DICT_EMBED_KEY_VALUE: the
 * chain link, the field and the value share one allocation, so a field costs
 * that allocation and its bucket pointer (`field:123456` = `value`: a 27-byte
 * entry, 32 with jemalloc). Replacing a value reallocates the entry.
 *
 * A hash never converts back to listpack, as in Redis. An empty hash is
 * never stored: the commands delete the key instead.
 *
 * Field expiry: a hash one of whose fields has a deadline takes encoding
 * ENC_LISTPACK_EX or ENC_HASHTABLE_EX; v.ptr then points to a struct hash_ex
 * holding the usual listpack or dict and the deadlines. A packed hash keeps
 * them in a sorted set (member: the field, score: its deadline in ms, exact
 * in a double up to 2^53), so the earliest deadlines are its first members.
 * A hash table keeps each deadline in its field's own entry, indexed by a
 * min-heap (hash_ttl.h): its dict is of type hash_ttl_dict_type, whose
 * entries carry 12 more bytes; the first deadline converts the dict to it
 * (once: a hash table keeps that type when its deadlines are gone). Hashes
 * without deadlines keep the plain encodings; the last deadline removed
 * turns the hash plain again. A field past its deadline reads as missing
 * (hash_object_get, _each, _scan skip it) until the commands, the cron or
 * the primary's HDEL remove it. */
#include "types/hash.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/codec.h"
#include "db/db.h"
#include "db/dict.h"
#include "db/object.h"
#include "types/hash_ttl.h"
#include "types/list_node.h"
#include "types/zset.h"
#include "db/rewrite_batch.h"
#include "util/digest.h"
#include "util/mem.h"
#include "util/numbers.h"

int hash_max_listpack_entries = 128;
int hash_max_listpack_value = 64;

/* Packed hashes stay well below a node's 32-bit byte count whatever the
 * limits are configured to (Redis's lpSafeToAdd bound). */
#define PACKED_MAX_BYTES ((size_t)1 << 30)

static const struct dict_type field_dict_type = {.layout = DICT_EMBED_KEY_VALUE};

/* ---- encodings ---- */

/* What v.ptr points to in a hash with expiring fields: ENC_LISTPACK_EX's
 * (16 bytes, as many small hashes may have one) and ENC_HASHTABLE_EX's,
 * both starting with what a plain hash keeps in v.ptr. */
struct hash_ex {
    void *data;               /* the list_node */
    struct object *deadlines; /* sorted set: field -> deadline (ms) */
};

struct hash_ex_table {
    void *data;          /* the dict */
    struct hash_ttl ttl; /* the heap of entries with a deadline */
};

static bool is_ex(const struct object *o)
{
    return o->encoding == ENC_LISTPACK_EX || o->encoding == ENC_HASHTABLE_EX;
}

static bool is_packed(const struct object *o)
{
    return o->encoding == ENC_LISTPACK || o->encoding == ENC_LISTPACK_EX;
}

static struct hash_ex *ex_of(const struct object *o)
{
    return o->v.ptr;
}

static void *data_of(const struct object *o)
{
    return is_ex(o) ? ex_of(o)->data : o->v.ptr;
}

static void set_data(struct object *o, void *p)
{
    if (is_ex(o)) ex_of(o)->data = p;
    else o->v.ptr = p;
}

static struct list_node *packed(const struct object *o)
{
    return data_of(o);
}

static struct dict *table(const struct object *o)
{
    return data_of(o);
}

static bool is_ex_table(const struct object *o)
{
    return o->encoding == ENC_HASHTABLE_EX;
}

static struct hash_ttl *ttl_of(const struct object *o)
{
    return &((struct hash_ex_table *)o->v.ptr)->ttl;
}

/* ---- deadlines ---- */

/* Whether deadlines count now: not while a file loads (its HDELs follow)
 * nor while a replica applies its primary's stream (the primary decides). */
static bool expiry_applies(void)
{
    return !db_loading && !db_expiry_ignored;
}

static bool score_at_most(const void *ctx, double score, const char *member, size_t len)
{
    (void)member;
    (void)len;
    return score <= *(const double *)ctx;
}

/* How many fields are past their deadline (0 when deadlines do not count). */
static size_t expired_count(const struct object *o)
{
    if (!is_ex(o) || !expiry_applies()) return 0;
    if (is_ex_table(o)) return hash_ttl_count_due(ttl_of(o), db_now_ms);
    double now = (double)db_now_ms;
    return zset_object_count_prefix(ex_of(o)->deadlines, score_at_most, &now);
}

static bool any_expired(const struct object *o)
{
    long long first = hash_object_first_deadline(o);
    return first >= 0 && first <= db_now_ms && expiry_applies();
}

static bool field_expired(const struct object *o, const char *field, size_t flen)
{
    if (!any_expired(o)) return false;
    if (is_ex_table(o)) {
        struct dict_entry *e = dict_find(table(o), field, flen);
        long long when = e ? hash_ttl_of(e) : -1;
        return when >= 0 && when <= db_now_ms;
    }
    double when;
    return zset_object_score(ex_of(o)->deadlines, field, flen, &when) && when <= (double)db_now_ms;
}

/* Passes only the fields not past their deadline on to fn. */
struct live_filter {
    const struct object *o;
    hash_visit_fn *fn;
    void *ctx;
};

static bool live_visit(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct live_filter *lf = ctx;
    if (field_expired(lf->o, f, flen)) return true;
    return lf->fn(lf->ctx, f, flen, v, vlen);
}

/* Turns a plain packed hash into one with deadlines (taking `deadlines`). */
static void make_ex(struct object *o, struct object *deadlines)
{
    struct hash_ex *ex = mem_alloc(sizeof(*ex));
    ex->data = o->v.ptr;
    ex->deadlines = deadlines;
    o->v.ptr = ex;
    o->encoding = ENC_LISTPACK_EX;
}

/* Turns a plain hash table into one that can hold deadlines (no deadline
 * yet: the caller gives one): its entries take the trailer, the first time
 * only (each entry reallocated once, O(fields)). */
static void make_ex_table(struct object *o)
{
    struct dict *d = o->v.ptr;
    if (d->type != &hash_ttl_dict_type) dict_grow_trailers(d, &hash_ttl_dict_type);
    struct hash_ex_table *ex = mem_calloc(sizeof(*ex));
    ex->data = d;
    o->v.ptr = ex;
    o->encoding = ENC_HASHTABLE_EX;
}

/* The last deadline is gone: back to the plain encoding. */
static void make_plain(struct object *o)
{
    void *ex = o->v.ptr;
    o->v.ptr = data_of(o);
    if (o->encoding == ENC_LISTPACK_EX) object_free(((struct hash_ex *)ex)->deadlines);
    else hash_ttl_free(&((struct hash_ex_table *)ex)->ttl);
    o->encoding = o->encoding == ENC_LISTPACK_EX ? ENC_LISTPACK : ENC_HASHTABLE;
    mem_free(ex);
}

/* Moves a packed hash's sorted set of deadlines into the heap of the hash
 * table it became (or was loaded as); false when a deadline is negative or
 * names no field. */
struct ttl_fill {
    struct object *o;
    bool ok;
};

static void ttl_fill_visit(void *ctx, const char *member, size_t len, double score)
{
    struct ttl_fill *tf = ctx;
    struct dict_entry *e = dict_find(table(tf->o), member, len);
    if (!e || score < 0) {
        tf->ok = false;
        return;
    }
    hash_ttl_set(ttl_of(tf->o), e, (long long)score);
}

static bool ttl_fill_from(struct object *o, const struct object *deadlines)
{
    struct ttl_fill tf = {o, true};
    zset_object_each(deadlines, ttl_fill_visit, &tf);
    return tf.ok;
}

bool hash_object_has_deadlines(const struct object *o)
{
    return is_ex(o);
}

static void first_visit(void *ctx, const char *member, size_t len, double score)
{
    (void)member;
    (void)len;
    *(long long *)ctx = (long long)score;
}

long long hash_object_first_deadline(const struct object *o)
{
    if (!is_ex(o)) return -1;
    if (is_ex_table(o)) return hash_ttl_first(ttl_of(o));
    long long when = -1;
    zset_object_range(ex_of(o)->deadlines, 0, 0, false, first_visit, &when);
    return when;
}

long long hash_object_deadline(const struct object *o, const char *field, size_t flen)
{
    struct hash_value v;
    if (!hash_object_get(o, field, flen, &v)) return HASH_FIELD_MISSING;
    if (!is_ex(o)) return HASH_FIELD_PERSISTENT;
    if (is_ex_table(o)) {
        long long when = hash_ttl_of(dict_find(table(o), field, flen));
        return when < 0 ? HASH_FIELD_PERSISTENT : when;
    }
    double when;
    if (!zset_object_score(ex_of(o)->deadlines, field, flen, &when)) return HASH_FIELD_PERSISTENT;
    return (long long)when;
}

void hash_object_set_deadline(struct object *o, const char *field, size_t flen, long long when_ms)
{
    if (is_packed(o)) {
        if (!is_ex(o)) make_ex(o, zset_object_create(1, flen));
        double ignored;
        zset_object_add(ex_of(o)->deadlines, (double)when_ms, field, flen, 0, &ignored);
        return;
    }
    if (!dict_find(table(o), field, flen)) return;
    if (!is_ex(o)) make_ex_table(o);
    hash_ttl_set(ttl_of(o), dict_find(table(o), field, flen), when_ms);
}

bool hash_object_persist(struct object *o, const char *field, size_t flen)
{
    if (!is_ex(o)) return false;
    if (is_ex_table(o)) {
        struct dict_entry *e = dict_find(table(o), field, flen);
        if (!e || !hash_ttl_clear(ttl_of(o), e)) return false;
        if (hash_ttl_count(ttl_of(o)) == 0) make_plain(o);
        return true;
    }
    if (!zset_object_remove(ex_of(o)->deadlines, field, flen)) return false;
    if (zset_object_length(ex_of(o)->deadlines) == 0) make_plain(o);
    return true;
}

size_t hash_object_live_length(const struct object *o)
{
    return hash_object_length(o) - expired_count(o);
}

struct expired_names {
    char **names;
    size_t *lens;
    size_t count;
};

static void collect_name(void *ctx, const char *member, size_t len, double score)
{
    (void)score;
    struct expired_names *en = ctx;
    en->names[en->count] = mem_alloc(len ? len : 1);
    if (len) memcpy(en->names[en->count], member, len);
    en->lens[en->count++] = len;
}

/* A hash table's: the root of the heap while it is due, each field's name
 * copied first (fn is called before the field goes). */
static size_t remove_expired_table(struct object *o, long long now, size_t max, hash_field_fn *fn, void *ctx)
{
    size_t n = 0;
    char small[128];
    while (n < max && is_ex(o)) {
        struct dict_entry *e = hash_ttl_first_entry(ttl_of(o));
        if (!e || hash_ttl_of(e) > now) break;
        size_t flen;
        const char *f = dict_entry_key(table(o), e, &flen);
        char *name = flen <= sizeof(small) ? small : mem_alloc(flen);
        memcpy(name, f, flen);
        fn(ctx, name, flen);
        /* the last removal can make the hash plain: the loop ends there */
        hash_object_delete(o, name, flen);
        if (name != small) mem_free(name);
        n++;
    }
    return n;
}

size_t hash_object_remove_expired(struct object *o, long long now, size_t max, hash_field_fn *fn, void *ctx)
{
    if (!is_ex(o)) return 0;
    if (is_ex_table(o)) return remove_expired_table(o, now, max, fn, ctx);
    double limit = (double)now;
    size_t n = zset_object_count_prefix(ex_of(o)->deadlines, score_at_most, &limit);
    if (n > max) n = max;
    if (n == 0) return 0;
    struct expired_names en = {mem_alloc(n * sizeof(char *)), mem_alloc(n * sizeof(size_t)), 0};
    zset_object_range(ex_of(o)->deadlines, 0, n - 1, false, collect_name, &en);
    for (size_t i = 0; i < en.count; i++) {
        /* the last removal can make the hash plain: it is deleted by then */
        fn(ctx, en.names[i], en.lens[i]);
        hash_object_delete(o, en.names[i], en.lens[i]);
        mem_free(en.names[i]);
    }
    mem_free(en.names);
    mem_free(en.lens);
    return n;
}

/* Every deadline belongs to a field (tests, DEBUG, loading). */
struct deadline_check {
    const struct object *o;
    bool ok;
};

static bool raw_has_field(const struct object *o, const char *field, size_t flen);

static void check_deadline(void *ctx, const char *member, size_t len, double score)
{
    struct deadline_check *dc = ctx;
    if (score < 0 || !raw_has_field(dc->o, member, len)) dc->ok = false;
}

static bool deadlines_valid(const struct object *o)
{
    if (is_ex_table(o))
        return table(o)->type == &hash_ttl_dict_type && hash_ttl_count(ttl_of(o)) > 0 &&
               hash_ttl_validate(ttl_of(o), table(o));
    struct object *z = ex_of(o)->deadlines;
    if (z->type != OBJ_ZSET || zset_object_length(z) == 0 || !zset_object_validate(z)) return false;
    struct deadline_check dc = {o, true};
    zset_object_each(z, check_deadline, &dc);
    return dc.ok;
}

/* Hands a hashtable entry's field and value to fn; returns what fn does. */
static bool visit_entry(const struct dict *d, const struct dict_entry *e, hash_visit_fn *fn, void *ctx)
{
    size_t flen, vlen;
    const char *f = dict_entry_key(d, e, &flen);
    const char *v = dict_entry_value(e, &vlen);
    return fn(ctx, f, flen, v, vlen);
}

/* Offset of the field entry equal to f, or SIZE_MAX. */
static size_t packed_find(const struct list_node *n, const char *f, size_t flen)
{
    struct list_needle nd;
    list_needle_init(&nd, f, flen);
    for (size_t off = 0; off < n->bytes; off = list_node_next(n, list_node_next(n, off)))
        if (list_node_matches(n, off, &nd)) return off;
    return SIZE_MAX;
}

static bool raw_has_field(const struct object *o, const char *field, size_t flen)
{
    if (is_packed(o)) return packed_find(packed(o), field, flen) != SIZE_MAX;
    return dict_find(table(o), field, flen) != NULL;
}

/* Reads the pair whose field is at `off` into the two buffers' views. */
struct pair_view {
    const char *f, *v;
    size_t flen, vlen;
    char fbuf[LIST_NODE_INT_BUF], vbuf[LIST_NODE_INT_BUF];
};

static size_t packed_pair(const struct list_node *n, size_t off, struct pair_view *pv)
{
    pv->f = list_node_get(n, off, pv->fbuf, &pv->flen);
    size_t voff = list_node_next(n, off);
    pv->v = list_node_get(n, voff, pv->vbuf, &pv->vlen);
    return list_node_next(n, voff);
}

/* A packed hash grown past the limits becomes a hash table; its deadlines
 * move from the sorted set into the entries and their heap. */
static void convert_to_table(struct object *o)
{
    struct list_node *n = packed(o);
    struct dict *d = dict_create(is_ex(o) ? &hash_ttl_dict_type : &field_dict_type);
    struct pair_view pv;
    for (size_t off = 0; off < n->bytes;) {
        off = packed_pair(n, off, &pv);
        dict_put_value(d, pv.f, pv.flen, pv.v, pv.vlen);
    }
    list_node_free(n);
    set_data(o, d);
    if (!is_ex(o)) {
        o->encoding = ENC_HASHTABLE;
        return;
    }
    struct hash_ex *packed_ex = ex_of(o);
    struct object *deadlines = packed_ex->deadlines;
    struct hash_ex_table *ex = mem_calloc(sizeof(*ex));
    ex->data = d;
    o->v.ptr = ex;
    o->encoding = ENC_HASHTABLE_EX;
    mem_free(packed_ex);
    ttl_fill_from(o, deadlines); /* every deadline names a field of the hash */
    object_free(deadlines);
}

static bool too_long(size_t len)
{
    return len > (size_t)(hash_max_listpack_value < 0 ? 0 : hash_max_listpack_value);
}

/* ---- low-level API ---- */

struct object *hash_object_create(void)
{
    return object_new(OBJ_HASH, ENC_LISTPACK, list_node_new(0));
}

size_t hash_object_length(const struct object *o)
{
    if (is_packed(o)) return packed(o)->count / 2;
    return dict_size(table(o));
}

/* Sets the value, leaving any deadline of the field as it is. */
static inline __attribute__((always_inline)) bool set_value(struct object *o, const char *field, size_t flen,
                                                            const char *value, size_t vlen)
{
    if (is_packed(o)) {
        struct list_node *n = packed(o);
        if (too_long(flen) || too_long(vlen) || n->bytes + flen + vlen + 32 > PACKED_MAX_BYTES) {
            convert_to_table(o);
        } else {
            size_t off = packed_find(n, field, flen);
            if (off != SIZE_MAX) {
                set_data(o, list_node_replace(n, list_node_next(n, off), value, vlen));
                return false;
            }
            n = list_node_append(n, field, flen);
            set_data(o, list_node_append(n, value, vlen));
            if (hash_object_length(o) > (size_t)(hash_max_listpack_entries < 0 ? 0 : hash_max_listpack_entries))
                convert_to_table(o);
            return true;
        }
    }
    return dict_put_value(table(o), field, flen, value, vlen);
}

/* The hot path of a plain hash is set_value alone; a hash with deadlines
 * also drops the field's (out of line), first: the entry of a hash table
 * may move when its value changes, and the heap must not point to it then. */
static bool set_value_ex(struct object *o, const char *field, size_t flen, const char *value, size_t vlen)
{
    hash_object_persist(o, field, flen);
    return set_value(o, field, flen, value, vlen);
}

bool hash_object_set(struct object *o, const char *field, size_t flen, const char *value, size_t vlen)
{
    if (__builtin_expect(is_ex(o), 0)) return set_value_ex(o, field, flen, value, vlen);
    return set_value(o, field, flen, value, vlen);
}

bool hash_object_update(struct object *o, const char *field, size_t flen, const char *value, size_t vlen)
{
    if (!is_ex_table(o)) return set_value(o, field, flen, value, vlen);
    /* the field keeps its deadline, in its entry wherever the entry went */
    bool added;
    struct dict_entry *e = dict_put_value_entry(table(o), field, flen, value, vlen, &added);
    hash_ttl_moved(ttl_of(o), e);
    return added;
}

/* A lookup in the packed node or dict `data` (a plain hash's v.ptr). */
static inline __attribute__((always_inline)) bool get_value(void *data, bool is_node, const char *field, size_t flen,
                                                            struct hash_value *out)
{
    if (is_node) {
        const struct list_node *n = data;
        size_t off = packed_find(n, field, flen);
        if (off == SIZE_MAX) return false;
        out->p = list_node_get(n, list_node_next(n, off), out->buf, &out->len);
        return true;
    }
    struct dict_entry *e = dict_find(data, field, flen);
    if (!e) return false;
    out->p = dict_entry_value(e, &out->len);
    return true;
}

static __attribute__((noinline)) bool get_value_ex(const struct object *o, const char *field, size_t flen,
                                                   struct hash_value *out)
{
    if (is_ex_table(o)) {
        /* one lookup: the deadline is in the entry */
        struct dict_entry *e = dict_find(table(o), field, flen);
        if (!e) return false;
        long long when = hash_ttl_of(e);
        if (when >= 0 && when <= db_now_ms && expiry_applies()) return false;
        out->p = dict_entry_value(e, &out->len);
        return true;
    }
    if (field_expired(o, field, flen)) return false;
    return get_value(ex_of(o)->data, o->encoding == ENC_LISTPACK_EX, field, flen, out);
}

bool hash_object_get(const struct object *o, const char *field, size_t flen, struct hash_value *out)
{
    if (__builtin_expect(is_ex(o), 0)) return get_value_ex(o, field, flen, out);
    return get_value(o->v.ptr, o->encoding == ENC_LISTPACK, field, flen, out);
}

bool hash_object_delete(struct object *o, const char *field, size_t flen)
{
    if (is_packed(o)) {
        struct list_node *n = packed(o);
        size_t off = packed_find(n, field, flen);
        if (off == SIZE_MAX) return false;
        set_data(o, list_node_delete(n, off, 2));
        if (is_ex(o)) hash_object_persist(o, field, flen);
        return true;
    }
    struct dict *d = table(o);
    if (is_ex(o)) {
        /* the heap lets go of the entry before the entry goes */
        struct dict_entry *e = dict_find(d, field, flen);
        if (!e) return false;
        bool had = hash_ttl_clear(ttl_of(o), e);
        dict_delete(d, field, flen);
        dict_shrink_if_sparse(d);
        if (had && hash_ttl_count(ttl_of(o)) == 0) make_plain(o);
        return true;
    }
    if (!dict_delete(d, field, flen)) return false;
    dict_shrink_if_sparse(d);
    return true;
}

/* Every field, those past their deadline too (saving, copying, rewriting). */
static void each_all(const struct object *o, hash_visit_fn *fn, void *ctx)
{
    if (is_packed(o)) {
        const struct list_node *n = packed(o);
        struct pair_view pv;
        for (size_t off = 0; off < n->bytes;) {
            off = packed_pair(n, off, &pv);
            if (!fn(ctx, pv.f, pv.flen, pv.v, pv.vlen)) return;
        }
        return;
    }
    struct dict *d = table(o);
    struct dict_iter it;
    dict_iter_init(&it, d, true); /* safe: fn may look fields up */
    struct dict_entry *e;
    while ((e = dict_iter_next(&it)))
        if (!visit_entry(d, e, fn, ctx)) break;
    dict_iter_done(&it);
}

void hash_object_each(const struct object *o, hash_visit_fn *fn, void *ctx)
{
    if (!is_ex(o) || !any_expired(o)) {
        each_all(o, fn, ctx);
        return;
    }
    struct live_filter lf = {o, fn, ctx};
    each_all(o, live_visit, &lf);
}

/* Random numbers for the random-member commands: splitmix64, seeded from
 * the kernel on first use so that draws differ from one run to the next. */
static uint64_t random_u64(void)
{
    static uint64_t state;
    static bool seeded;
    if (!seeded) {
        if (getrandom(&state, sizeof(state), GRND_NONBLOCK) != (ssize_t)sizeof(state))
            state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        seeded = true;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void visit_packed_at(const struct list_node *n, size_t off, hash_visit_fn *fn, void *ctx)
{
    struct pair_view pv;
    packed_pair(n, off, &pv);
    fn(ctx, pv.f, pv.flen, pv.v, pv.vlen);
}

void hash_object_random(const struct object *o, hash_visit_fn *fn, void *ctx)
{
    if (is_packed(o)) {
        const struct list_node *n = packed(o);
        size_t i = (size_t)(random_u64() % (n->count / 2));
        visit_packed_at(n, list_node_seek(n, 2 * i), fn, ctx);
        return;
    }
    visit_entry(table(o), dict_random(table(o)), fn, ctx);
}

/* Picks k of the n items in a[] (partial Fisher-Yates): they end in a[0..k). */
static void shuffle_prefix(void **a, size_t n, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)(random_u64() % (n - i));
        void *t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Entries already drawn, keyed by their addresses. */
static const struct dict_type seen_dict_type = {.layout = DICT_EMBED_KEY};

void hash_object_sample(const struct object *o, size_t count, hash_visit_fn *fn, void *ctx)
{
    size_t len = hash_object_length(o);
    if (is_packed(o)) {
        const struct list_node *n = packed(o);
        size_t *offs = mem_alloc(len * sizeof(*offs));
        size_t i = 0;
        for (size_t off = 0; off < n->bytes; off = list_node_next(n, list_node_next(n, off))) offs[i++] = off;
        for (i = 0; i < count; i++) {
            size_t j = i + (size_t)(random_u64() % (len - i));
            size_t t = offs[i];
            offs[i] = offs[j];
            offs[j] = t;
            visit_packed_at(n, offs[i], fn, ctx);
        }
        mem_free(offs);
        return;
    }
    struct dict *d = table(o);
    if (count * 3 > len) {
        /* Most of the hash: gather every entry and draw without repeats. */
        void **all = mem_alloc(len * sizeof(*all));
        size_t i = 0;
        struct dict_iter it;
        dict_iter_init(&it, d, false);
        struct dict_entry *e;
        while ((e = dict_iter_next(&it))) all[i++] = e;
        dict_iter_done(&it);
        shuffle_prefix(all, len, count);
        for (i = 0; i < count; i++) visit_entry(d, all[i], fn, ctx);
        mem_free(all);
        return;
    }
    /* A small part of a big hash: random draws, skipping repeats. */
    struct dict *seen = dict_create(&seen_dict_type);
    while (dict_size(seen) < count) {
        struct dict_entry *e = dict_random(d);
        bool existed;
        dict_add_or_find(seen, &e, sizeof(e), NULL, &existed);
        if (!existed) visit_entry(d, e, fn, ctx);
    }
    dict_release(seen);
}

struct scan_batch {
    struct dict_entry **entries;
    size_t count, cap;
};

static void scan_collect(void *ctx, struct dict_entry *e)
{
    struct scan_batch *b = ctx;
    if (b->count == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->entries = mem_realloc(b->entries, b->cap * sizeof(*b->entries));
    }
    b->entries[b->count++] = e;
}

void hash_object_scan(struct object *o, uint64_t *cursor, long long count, hash_visit_fn *fn, void *ctx)
{
    if (is_packed(o)) {
        *cursor = 0;
        hash_object_each(o, fn, ctx);
        return;
    }
    struct scan_batch b = {NULL, 0, 0};
    uint64_t c = *cursor;
    long long max_iterations = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    do {
        c = dict_scan(table(o), c, scan_collect, &b);
    } while (c && max_iterations-- && (long long)b.count < count);
    *cursor = c;
    struct live_filter lf = {o, fn, ctx};
    bool filter = is_ex(o) && any_expired(o);
    for (size_t i = 0; i < b.count; i++) visit_entry(table(o), b.entries[i], filter ? live_visit : fn, filter ? (void *)&lf : ctx);
    mem_free(b.entries);
}

bool hash_object_validate(const struct object *o)
{
    if (o->type != OBJ_HASH) return false;
    if (is_ex(o) && !deadlines_valid(o)) return false;
    if (is_packed(o)) {
        const struct list_node *n = packed(o);
        if (!list_node_validate(n) || n->count % 2 != 0) return false;
        /* fields are distinct */
        struct pair_view a, b;
        for (size_t i = 0; i < n->bytes;) {
            size_t next = packed_pair(n, i, &a);
            for (size_t j = next; j < n->bytes;) {
                j = packed_pair(n, j, &b);
                if (a.flen == b.flen && memcmp(a.f, b.f, a.flen) == 0) return false;
            }
            i = next;
        }
        return true;
    }
    return (o->encoding == ENC_HASHTABLE || o->encoding == ENC_HASHTABLE_EX) && dict_validate(table(o));
}

/* ---- object ops ---- */

static void hash_free(struct object *o)
{
    if (is_packed(o)) list_node_free(packed(o));
    else dict_release(table(o));
    if (is_ex(o)) {
        if (is_ex_table(o)) hash_ttl_free(ttl_of(o));
        else object_free(ex_of(o)->deadlines);
        mem_free(ex_of(o));
    }
}

static bool copy_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    dict_put_value(ctx, f, flen, v, vlen);
    return true;
}

static struct object *hash_copy(const struct object *o)
{
    struct object *c;
    if (is_packed(o)) {
        c = object_new(OBJ_HASH, ENC_LISTPACK, list_node_dup(packed(o)));
        if (is_ex(o)) make_ex(c, object_copy(ex_of(o)->deadlines));
        return c;
    }
    struct dict *d = dict_create(is_ex(o) ? &hash_ttl_dict_type : &field_dict_type);
    each_all(o, copy_field, d);
    c = object_new(OBJ_HASH, ENC_HASHTABLE, d);
    if (!is_ex(o)) return c;
    make_ex_table(c);
    const struct hash_ttl *t = ttl_of(o);
    for (size_t i = 0; i < hash_ttl_count(t); i++) {
        size_t flen;
        const char *f = dict_entry_key(table(o), hash_ttl_at(t, i), &flen);
        hash_ttl_set(ttl_of(c), dict_find(d, f, flen), hash_ttl_of(hash_ttl_at(t, i)));
    }
    return c;
}

/* Entries measured exactly up to this many, then extrapolated from them:
 * MEMORY USAGE must not walk a million fields. */
#define MEMORY_SAMPLE 1024

static size_t hash_memory(const struct object *o)
{
    size_t extra = !is_ex(o)        ? 0
                   : is_ex_table(o) ? mem_usable_size(ex_of(o)) + hash_ttl_memory(ttl_of(o))
                                    : mem_usable_size(ex_of(o)) + object_memory(ex_of(o)->deadlines);
    if (is_packed(o)) return list_node_alloc_size(packed(o)) + extra;
    struct dict *d = table(o);
    size_t total = mem_usable_size(d) + dict_buckets(d) * sizeof(struct dict_entry *);
    size_t sampled = 0, bytes = 0;
    struct dict_iter it;
    dict_iter_init(&it, d, false);
    struct dict_entry *e;
    while (sampled < MEMORY_SAMPLE && (e = dict_iter_next(&it))) {
        bytes += mem_usable_size(e);
        sampled++;
    }
    dict_iter_done(&it);
    if (sampled) total += (size_t)((double)bytes / (double)sampled * (double)dict_size(d));
    return total + extra;
}

/* AOF rewrite and snapshots: HSET batches of up to 64 field/value pairs. */
static bool rewrite_visit(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    rewrite_batch_arg(ctx, f, flen);
    rewrite_batch_arg(ctx, v, vlen);
    rewrite_batch_item_done(ctx);
    return true;
}

struct rewrite_deadline {
    const char *key;
    size_t len;
    object_emit_fn *emit;
    void *ctx;
};

/* HPEXPIREAT key ms FIELDS 1 field: a deadline as an absolute time. */
static void rewrite_deadline(void *ctx, const char *member, size_t len, double score)
{
    struct rewrite_deadline *rd = ctx;
    char when[24];
    size_t wlen = format_ll(when, (long long)score);
    struct arg argv[6] = {{"HPEXPIREAT", 10}, {(char *)rd->key, rd->len}, {when, wlen}, {"FIELDS", 6}, {"1", 1}, {(char *)member, len}};
    rd->emit(rd->ctx, 6, argv);
}

static void hash_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx)
{
    struct rewrite_batch *b = rewrite_batch_new("HSET", key, len, emit, ctx);
    each_all(o, rewrite_visit, b);
    rewrite_batch_finish(b);
    if (!is_ex(o)) return;
    struct rewrite_deadline rd = {key, len, emit, ctx};
    if (!is_ex_table(o)) {
        zset_object_each(ex_of(o)->deadlines, rewrite_deadline, &rd);
        return;
    }
    const struct hash_ttl *t = ttl_of(o);
    for (size_t i = 0; i < hash_ttl_count(t); i++) {
        size_t flen;
        const char *f = dict_entry_key(table(o), hash_ttl_at(t, i), &flen);
        rewrite_deadline(&rd, f, flen, (double)hash_ttl_of(hash_ttl_at(t, i)));
    }
}

/* Snapshots: the encoding tag, then a packed hash's node as it is in memory
 * (list_node_save), or a hash table's field count and fields with their
 * values. A packed hash beyond today's hash-max-listpack-* limits converts
 * when loaded, as Redis does. */
/* A packed hash with deadlines writes tag 2, the same layout, then its
 * deadlines as a sorted set (the sorted set's own save). A hash table with
 * deadlines writes tag 4: the field count, then each field, its value and
 * varint deadline + 1 (0: none). Tag 3 (a hash table's fields, then a
 * sorted set of its deadlines) is what earlier versions wrote: still read. */
enum hash_save_tag {
    HASH_SAVE_LISTPACK = 0,
    HASH_SAVE_HASHTABLE = 1,
    HASH_SAVE_LISTPACK_EX = 2,
    HASH_SAVE_HASHTABLE_EX = 3,
    HASH_SAVE_HASHTABLE_TTL = 4,
};

static bool save_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    codec_put_bytes(ctx, f, flen);
    codec_put_bytes(ctx, v, vlen);
    return true;
}

static void save_table_ttl(const struct object *o, struct codec_out *out)
{
    struct dict *d = table(o);
    codec_put_u8(out, HASH_SAVE_HASHTABLE_TTL);
    codec_put_varint(out, dict_size(d));
    struct dict_iter it;
    dict_iter_init(&it, d, false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        size_t flen, vlen;
        const char *f = dict_entry_key(d, e, &flen);
        const char *v = dict_entry_value(e, &vlen);
        codec_put_bytes(out, f, flen);
        codec_put_bytes(out, v, vlen);
        codec_put_varint(out, (uint64_t)(hash_ttl_of(e) + 1));
    }
    dict_iter_done(&it);
}

static void hash_save(const struct object *o, struct codec_out *out)
{
    if (is_ex_table(o)) {
        save_table_ttl(o, out);
    } else if (is_packed(o)) {
        const struct list_node *n = packed(o);
        codec_put_u8(out, is_ex(o) ? HASH_SAVE_LISTPACK_EX : HASH_SAVE_LISTPACK);
        list_node_save(n, out);
        if (is_ex(o)) object_save(ex_of(o)->deadlines, out);
    } else {
        codec_put_u8(out, HASH_SAVE_HASHTABLE);
        codec_put_varint(out, hash_object_length(o));
        each_all(o, save_field, out);
    }
}

/* Reads the sorted set of deadlines after a hash with them (tags 2 and 3)
 * and checks every one belongs to a field; a hash table (tag 3, or a
 * packed hash converted as it loaded) takes them into its entries. Frees o
 * and returns NULL when they do not fit. */
static struct object *load_deadlines(struct codec_in *in, struct object *o)
{
    size_t at = codec_in_offset(in);
    struct object *z = object_load(OBJ_ZSET, in);
    if (!z) {
        object_free(o);
        return NULL;
    }
    bool ok;
    if (is_packed(o)) {
        make_ex(o, z);
        ok = deadlines_valid(o);
    } else {
        make_ex_table(o);
        ok = zset_object_length(z) > 0 && ttl_fill_from(o, z) && deadlines_valid(o);
        object_free(z);
    }
    if (!ok) {
        object_free(o);
        codec_fail_at(in, at, "corrupt hash: a deadline without its field, or negative");
        return NULL;
    }
    return o;
}

/* Tag 4: a hash table with its deadlines in its fields' entries. */
static struct object *load_table_ttl(struct codec_in *in)
{
    uint64_t count;
    if (!codec_get_count(in, 3, &count)) return NULL;
    if (count == 0) {
        codec_fail(in, "corrupt hash: no fields");
        return NULL;
    }
    struct dict *d = dict_create(&hash_ttl_dict_type);
    dict_reserve(d, count);
    struct object *o = object_new(OBJ_HASH, ENC_HASHTABLE, d);
    make_ex_table(o);
    for (uint64_t i = 0; i < count; i++) {
        const char *f, *v;
        size_t flen, vlen;
        uint64_t when;
        if (!codec_get_bytes(in, &f, &flen) || !codec_get_bytes(in, &v, &vlen) || !codec_get_varint(in, &when))
            break;
        bool added;
        struct dict_entry *e = dict_put_value_entry(d, f, flen, v, vlen, &added);
        if (!added || when > (uint64_t)LLONG_MAX) {
            codec_fail(in, "corrupt hash: a field repeats, or a deadline out of range");
            break;
        }
        if (when) hash_ttl_set(ttl_of(o), e, (long long)(when - 1));
    }
    if (in->failed) {
        object_free(o);
        return NULL;
    }
    if (hash_ttl_count(ttl_of(o)) == 0) make_plain(o);
    return o;
}

static struct object *load_packed(struct codec_in *in)
{
    size_t at = codec_in_offset(in), longest;
    struct list_node *n = list_node_load(in, 2, &longest);
    if (!n) return NULL;
    if (n->count % 2 || n->bytes > PACKED_MAX_BYTES) {
        list_node_free(n);
        codec_fail_at(in, at, "corrupt packed hash: a field without a value, or too large");
        return NULL;
    }
    struct object *o = object_new(OBJ_HASH, ENC_LISTPACK, n);
    if (hash_object_length(o) > (size_t)(hash_max_listpack_entries < 0 ? 0 : hash_max_listpack_entries) ||
        too_long(longest))
        convert_to_table(o);
    return o;
}

static struct object *load_table(struct codec_in *in)
{
    uint64_t count;
    if (!codec_get_count(in, 2, &count)) return NULL;
    if (count == 0) {
        codec_fail(in, "corrupt hash: no fields");
        return NULL;
    }
    struct dict *d = dict_create(&field_dict_type);
    dict_reserve(d, count);
    struct object *o = object_new(OBJ_HASH, ENC_HASHTABLE, d);
    for (uint64_t i = 0; i < count; i++) {
        const char *f, *v;
        size_t flen, vlen;
        if (!codec_get_bytes(in, &f, &flen) || !codec_get_bytes(in, &v, &vlen)) break;
        if (!dict_put_value(d, f, flen, v, vlen)) {
            codec_fail(in, "corrupt hash: a field repeats");
            break;
        }
    }
    if (!in->failed) return o;
    object_free(o);
    return NULL;
}

static struct object *hash_load(struct codec_in *in)
{
    unsigned tag;
    if (!codec_get_u8(in, &tag)) return NULL;
    if (tag == HASH_SAVE_LISTPACK) return load_packed(in);
    if (tag == HASH_SAVE_HASHTABLE) return load_table(in);
    if (tag == HASH_SAVE_HASHTABLE_TTL) return load_table_ttl(in);
    if (tag == HASH_SAVE_LISTPACK_EX || tag == HASH_SAVE_HASHTABLE_EX) {
        struct object *o = tag == HASH_SAVE_LISTPACK_EX ? load_packed(in) : load_table(in);
        return o ? load_deadlines(in, o) : NULL;
    }
    codec_fail(in, "unknown hash encoding %u", tag);
    return NULL;
}

/* DEBUG DIGEST: the set of field/value pairs, each pair digested on its
 * own, so neither storage order nor encoding shows. */
static bool hash_digest_visit(void *ctx, const char *field, size_t flen, const char *value, size_t vlen)
{
    digest_set_add_pair(ctx, field, flen, value, vlen);
    return true;
}

static void hash_digest(const struct object *o, struct digest_seq *seq)
{
    struct digest_set fields;
    digest_set_init(&fields);
    each_all(o, hash_digest_visit, &fields);
    digest_seq_set(seq, &fields);
}

static const struct object_ops hash_ops = {
    .name = "hash",
    .free = hash_free,
    .copy = hash_copy,
    .memory = hash_memory,
    .rewrite = hash_rewrite,
    .save = hash_save,
    .load = hash_load,
    .digest = hash_digest,
};

void hash_type_register(void)
{
    object_register_type(OBJ_HASH, &hash_ops);
}
