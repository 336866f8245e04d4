/* set: values of type set.
 *
 * Three encodings, chosen as Redis 7.2 chooses them (OBJECT ENCODING names
 * them the same way):
 *
 * - "intset" (intset.h): a sorted array of integers in the narrowest of 16,
 *   32 or 64 bits, while every member is the canonical decimal form of a
 *   64-bit integer and there are at most set_max_intset_entries of them.
 *   Membership is a binary search; 2-8 bytes per member.
 * - "listpack": one packed node (list_node.h) of members, for small sets
 *   with other members: at most set_max_listpack_entries, none longer than
 *   set_max_listpack_value bytes. Lookups walk it.
 * - "hashtable": a dict (db/dict.h) whose keys are the members, for
 *   everything larger. Its entries are DICT_EMBED_KEY: the chain link and the
 *   member's bytes in one allocation (`member:123456`: a 22-byte entry, 32
 *   with jemalloc), plus a bucket pointer per member.
 *
 * Conversions only go up (intset -> listpack -> hashtable, or intset ->
 * hashtable), except that a new set is created directly in the encoding its
 * first command's size calls for (set_object_create). An empty set is never
 * stored: the commands delete the key instead. */
#include "types/set.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/codec.h"
#include "db/dict.h"
#include "db/object.h"
#include "types/intset.h"
#include "types/list_node.h"
#include "db/rewrite_batch.h"
#include "util/digest.h"
#include "util/mem.h"
#include "util/numbers.h"

int set_max_intset_entries = 512;
int set_max_listpack_entries = 128;
int set_max_listpack_value = 64;

#define PACKED_MAX_BYTES ((size_t)1 << 30)

/* Members of a hashtable set; also the entries already drawn by a sample,
 * keyed by their addresses. */
static const struct dict_type member_dict_type = {.layout = DICT_EMBED_KEY};

void set_member_release(struct set_member *m)
{
    if (m->p != m->small) mem_free(m->p);
    m->p = NULL;
}

static void member_copy(struct set_member *m, const char *p, size_t len)
{
    m->p = len <= sizeof(m->small) ? m->small : mem_alloc(len);
    m->len = len;
    if (len) memcpy(m->p, p, len);
}

static size_t limit(int v)
{
    return v < 0 ? 0 : (size_t)v;
}

static bool as_int(const char *p, size_t len, long long *v)
{
    return len <= 20 && parse_ll(p, len, v);
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

static struct intset *ints(const struct object *o)
{
    return o->v.ptr;
}

static struct list_node *packed(const struct object *o)
{
    return o->v.ptr;
}

static struct dict *table(const struct object *o)
{
    return o->v.ptr;
}

/* Hands a hashtable entry's member to fn; returns what fn does. */
static bool visit_entry(const struct dict *d, const struct dict_entry *e, set_visit_fn *fn, void *ctx)
{
    size_t len;
    const char *p = dict_entry_key(d, e, &len);
    return fn(ctx, p, len);
}

/* ---- listpack helpers ---- */

static size_t packed_find(const struct list_node *n, const char *p, size_t len)
{
    struct list_needle nd;
    list_needle_init(&nd, p, len);
    for (size_t off = 0; off < n->bytes; off = list_node_next(n, off))
        if (list_node_matches(n, off, &nd)) return off;
    return SIZE_MAX;
}

static bool packed_has_room(const struct list_node *n, size_t len)
{
    return n->count < limit(set_max_listpack_entries) && len <= limit(set_max_listpack_value) &&
           n->bytes + len + 16 <= PACKED_MAX_BYTES;
}

/* ---- conversions ---- */

static void convert_to_table(struct object *o)
{
    struct dict *d = dict_create(&member_dict_type);
    char buf[LIST_NODE_INT_BUF];
    if (o->encoding == ENC_INTSET) {
        struct intset *is = ints(o);
        for (uint32_t i = 0; i < intset_count(is); i++) {
            size_t len = format_ll(buf, intset_get(is, i));
            dict_add_or_find(d, buf, len, NULL, NULL);
        }
        intset_free(is);
    } else {
        struct list_node *n = packed(o);
        for (size_t off = 0; off < n->bytes; off = list_node_next(n, off)) {
            size_t len;
            const char *p = list_node_get(n, off, buf, &len);
            dict_add_or_find(d, p, len, NULL, NULL);
        }
        list_node_free(n);
    }
    o->v.ptr = d;
    o->encoding = ENC_HASHTABLE;
}

static size_t digits(long long v)
{
    char buf[24];
    return format_ll(buf, v);
}

/* An intset meeting its first non-integer: packed when all of it (and the
 * newcomer of `len` bytes) fits the listpack limits, else a hash table. */
static void convert_intset_for(struct object *o, size_t len)
{
    struct intset *is = ints(o);
    size_t n = intset_count(is), widest = 0;
    if (n) {
        size_t a = digits(intset_min(is)), b = digits(intset_max(is));
        widest = a > b ? a : b;
    }
    size_t cap = limit(set_max_listpack_value);
    if (n >= limit(set_max_listpack_entries) || len > cap || widest > cap) {
        convert_to_table(o);
        return;
    }
    struct list_node *node = list_node_new(n * 4 + len + 8);
    char buf[24];
    for (uint32_t i = 0; i < n; i++) {
        size_t blen = format_ll(buf, intset_get(is, i));
        node = list_node_append(node, buf, blen);
    }
    intset_free(is);
    o->v.ptr = node;
    o->encoding = ENC_LISTPACK;
}

/* ---- low-level API ---- */

struct object *set_object_create(const char *first, size_t len, size_t size_hint)
{
    long long v;
    if ((!first || as_int(first, len, &v)) && size_hint <= limit(set_max_intset_entries))
        return object_new(OBJ_SET, ENC_INTSET, intset_new());
    if (size_hint <= limit(set_max_listpack_entries)) return object_new(OBJ_SET, ENC_LISTPACK, list_node_new(0));
    return object_new(OBJ_SET, ENC_HASHTABLE, dict_create(&member_dict_type));
}

size_t set_object_length(const struct object *o)
{
    switch (o->encoding) {
    case ENC_INTSET: return intset_count(ints(o));
    case ENC_LISTPACK: return packed(o)->count;
    default: return dict_size(table(o));
    }
}

bool set_object_add(struct object *o, const char *p, size_t len)
{
    long long v;
    if (o->encoding == ENC_INTSET) {
        if (as_int(p, len, &v)) {
            bool added;
            o->v.ptr = intset_add(ints(o), v, &added);
            if (added && intset_count(ints(o)) > limit(set_max_intset_entries)) convert_to_table(o);
            return added;
        }
        convert_intset_for(o, len);
    }
    if (o->encoding == ENC_LISTPACK) {
        struct list_node *n = packed(o);
        if (packed_find(n, p, len) != SIZE_MAX) return false;
        if (packed_has_room(n, len)) {
            o->v.ptr = list_node_append(n, p, len);
            return true;
        }
        convert_to_table(o);
    }
    bool existed;
    dict_add_or_find(table(o), p, len, NULL, &existed);
    return !existed;
}

bool set_object_remove(struct object *o, const char *p, size_t len)
{
    long long v;
    bool removed = false;
    switch (o->encoding) {
    case ENC_INTSET:
        if (as_int(p, len, &v)) o->v.ptr = intset_remove(ints(o), v, &removed);
        return removed;
    case ENC_LISTPACK: {
        struct list_node *n = packed(o);
        size_t off = packed_find(n, p, len);
        if (off == SIZE_MAX) return false;
        o->v.ptr = list_node_delete(n, off, 1);
        return true;
    }
    default:
        removed = dict_delete(table(o), p, len);
        if (removed) dict_shrink_if_sparse(table(o));
        return removed;
    }
}

bool set_object_contains(const struct object *o, const char *p, size_t len)
{
    long long v;
    switch (o->encoding) {
    case ENC_INTSET: return as_int(p, len, &v) && intset_contains(ints(o), v);
    case ENC_LISTPACK: return packed_find(packed(o), p, len) != SIZE_MAX;
    default: return dict_find(table(o), p, len) != NULL;
    }
}

static bool visit_int(int64_t v, set_visit_fn *fn, void *ctx)
{
    char buf[24];
    return fn(ctx, buf, format_ll(buf, v));
}

static bool visit_packed_at(const struct list_node *n, size_t off, set_visit_fn *fn, void *ctx)
{
    char buf[LIST_NODE_INT_BUF];
    size_t len;
    const char *p = list_node_get(n, off, buf, &len);
    return fn(ctx, p, len);
}

void set_object_each(const struct object *o, set_visit_fn *fn, void *ctx)
{
    if (o->encoding == ENC_INTSET) {
        const struct intset *is = ints(o);
        for (uint32_t i = 0; i < intset_count(is); i++)
            if (!visit_int(intset_get(is, i), fn, ctx)) return;
        return;
    }
    if (o->encoding == ENC_LISTPACK) {
        const struct list_node *n = packed(o);
        for (size_t off = 0; off < n->bytes; off = list_node_next(n, off))
            if (!visit_packed_at(n, off, fn, ctx)) return;
        return;
    }
    /* Safe: fn may look members up in this same dict (SINTER s s), and a
     * lookup's rehash step must not move entries under the walk. */
    struct dict *d = table(o);
    struct dict_iter it;
    dict_iter_init(&it, d, true);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it)))
        if (!visit_entry(d, e, fn, ctx)) break;
    dict_iter_done(&it);
}

void set_object_random(const struct object *o, set_visit_fn *fn, void *ctx)
{
    if (o->encoding == ENC_INTSET) {
        visit_int(intset_get(ints(o), (uint32_t)(random_u64() % intset_count(ints(o)))), fn, ctx);
    } else if (o->encoding == ENC_LISTPACK) {
        const struct list_node *n = packed(o);
        visit_packed_at(n, list_node_seek(n, (size_t)(random_u64() % n->count)), fn, ctx);
    } else {
        visit_entry(table(o), dict_random(table(o)), fn, ctx);
    }
}

void set_object_sample(const struct object *o, size_t count, set_visit_fn *fn, void *ctx)
{
    size_t len = set_object_length(o);
    if (o->encoding != ENC_HASHTABLE || count * 3 > len) {
        /* Gather every position (entry) and draw without repeats. */
        uintptr_t *pos = mem_alloc(len * sizeof(*pos));
        size_t i = 0;
        if (o->encoding == ENC_INTSET) {
            for (; i < len; i++) pos[i] = i;
        } else if (o->encoding == ENC_LISTPACK) {
            const struct list_node *n = packed(o);
            for (size_t off = 0; off < n->bytes; off = list_node_next(n, off)) pos[i++] = off;
        } else {
            struct dict_iter it;
            dict_iter_init(&it, table(o), false);
            struct dict_entry *e;
            while ((e = dict_iter_next(&it))) pos[i++] = (uintptr_t)e;
            dict_iter_done(&it);
        }
        for (i = 0; i < count; i++) {
            size_t j = i + (size_t)(random_u64() % (len - i));
            uintptr_t t = pos[i];
            pos[i] = pos[j];
            pos[j] = t;
            if (o->encoding == ENC_INTSET) {
                visit_int(intset_get(ints(o), (uint32_t)pos[i]), fn, ctx);
            } else if (o->encoding == ENC_LISTPACK) {
                visit_packed_at(packed(o), pos[i], fn, ctx);
            } else {
                visit_entry(table(o), (struct dict_entry *)pos[i], fn, ctx);
            }
        }
        mem_free(pos);
        return;
    }
    /* A small part of a big set: random draws, skipping repeats. */
    struct dict *seen = dict_create(&member_dict_type);
    while (dict_size(seen) < count) {
        struct dict_entry *e = dict_random(table(o));
        bool existed;
        dict_add_or_find(seen, &e, sizeof(e), NULL, &existed);
        if (!existed) visit_entry(table(o), e, fn, ctx);
    }
    dict_release(seen);
}

void set_object_pop(struct object *o, struct set_member *m)
{
    if (o->encoding == ENC_INTSET) {
        struct intset *is = ints(o);
        char buf[24];
        int64_t v = intset_get(is, (uint32_t)(random_u64() % intset_count(is)));
        member_copy(m, buf, format_ll(buf, v));
        bool removed;
        o->v.ptr = intset_remove(is, v, &removed);
    } else if (o->encoding == ENC_LISTPACK) {
        struct list_node *n = packed(o);
        size_t off = list_node_seek(n, (size_t)(random_u64() % n->count));
        char buf[LIST_NODE_INT_BUF];
        size_t len;
        const char *p = list_node_get(n, off, buf, &len);
        member_copy(m, p, len);
        o->v.ptr = list_node_delete(n, off, 1);
    } else {
        struct dict *d = table(o);
        size_t len;
        const char *p = dict_entry_key(d, dict_random(d), &len);
        member_copy(m, p, len);
        dict_delete(d, m->p, m->len);
        dict_shrink_if_sparse(d);
    }
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

void set_object_scan(struct object *o, uint64_t *cursor, long long count, set_visit_fn *fn, void *ctx)
{
    if (o->encoding != ENC_HASHTABLE) {
        *cursor = 0;
        set_object_each(o, fn, ctx);
        return;
    }
    struct scan_batch b = {NULL, 0, 0};
    uint64_t c = *cursor;
    long long max_iterations = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    do {
        c = dict_scan(table(o), c, scan_collect, &b);
    } while (c && max_iterations-- && (long long)b.count < count);
    *cursor = c;
    for (size_t i = 0; i < b.count; i++) visit_entry(table(o), b.entries[i], fn, ctx);
    mem_free(b.entries);
}

static bool check_distinct(void *ctx, const char *p, size_t len)
{
    bool existed;
    dict_add_or_find(ctx, p, len, NULL, &existed);
    return !existed;
}

bool set_object_validate(const struct object *o)
{
    if (o->type != OBJ_SET) return false;
    if (o->encoding == ENC_INTSET) return intset_validate(ints(o));
    if (o->encoding == ENC_LISTPACK) {
        if (!list_node_validate(packed(o))) return false;
        struct dict *seen = dict_create(&member_dict_type);
        size_t n = 0;
        const struct list_node *node = packed(o);
        for (size_t off = 0; off < node->bytes; off = list_node_next(node, off)) {
            if (!visit_packed_at(node, off, check_distinct, seen)) break;
            n++;
        }
        dict_release(seen);
        return n == node->count;
    }
    return o->encoding == ENC_HASHTABLE && dict_validate(table(o));
}

/* ---- object ops ---- */

static void set_free(struct object *o)
{
    if (o->encoding == ENC_INTSET) intset_free(ints(o));
    else if (o->encoding == ENC_LISTPACK) list_node_free(packed(o));
    else dict_release(table(o));
}

static bool copy_member(void *ctx, const char *p, size_t len)
{
    dict_add_or_find(ctx, p, len, NULL, NULL);
    return true;
}

static struct object *set_copy(const struct object *o)
{
    if (o->encoding == ENC_INTSET) return object_new(OBJ_SET, ENC_INTSET, intset_dup(ints(o)));
    if (o->encoding == ENC_LISTPACK) return object_new(OBJ_SET, ENC_LISTPACK, list_node_dup(packed(o)));
    struct dict *d = dict_create(&member_dict_type);
    set_object_each(o, copy_member, d);
    return object_new(OBJ_SET, ENC_HASHTABLE, d);
}

#define MEMORY_SAMPLE 1024

static size_t set_memory(const struct object *o)
{
    if (o->encoding == ENC_INTSET) return intset_memory(ints(o));
    if (o->encoding == ENC_LISTPACK) return list_node_alloc_size(packed(o));
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
    return total;
}

/* AOF rewrite and snapshots: SADD batches of up to 64 members. */
static bool rewrite_visit(void *ctx, const char *p, size_t len)
{
    rewrite_batch_arg(ctx, p, len);
    rewrite_batch_item_done(ctx);
    return true;
}

static void set_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx)
{
    struct rewrite_batch *b = rewrite_batch_new("SADD", key, len, emit, ctx);
    set_object_each(o, rewrite_visit, b);
    rewrite_batch_finish(b);
}

/* Snapshots: the encoding tag, then an intset's width, count and values as
 * they are in memory, a packed set's node (list_node_save), or a hash
 * table's member count and members. A small encoding read back beyond
 * today's limits converts, as Redis does on loading. */
enum set_save_tag { SET_SAVE_INTSET = 0, SET_SAVE_LISTPACK = 1, SET_SAVE_HASHTABLE = 2 };

static bool save_member(void *ctx, const char *p, size_t len)
{
    codec_put_bytes(ctx, p, len);
    return true;
}

static void set_save(const struct object *o, struct codec_out *out)
{
    if (o->encoding == ENC_INTSET) {
        const struct intset *is = ints(o);
        codec_put_u8(out, SET_SAVE_INTSET);
        codec_put_varint(out, is->width);
        codec_put_varint(out, is->count);
        codec_put_raw(out, is->values, (size_t)is->count * is->width);
    } else if (o->encoding == ENC_LISTPACK) {
        const struct list_node *n = packed(o);
        codec_put_u8(out, SET_SAVE_LISTPACK);
        list_node_save(n, out);
    } else {
        codec_put_u8(out, SET_SAVE_HASHTABLE);
        codec_put_varint(out, set_object_length(o));
        set_object_each(o, save_member, out);
    }
}

static struct object *load_intset(struct codec_in *in)
{
    size_t at = codec_in_offset(in);
    uint64_t width, count;
    const void *values;
    if (!codec_get_varint(in, &width) || !codec_get_varint(in, &count)) return NULL;
    if ((width != 2 && width != 4 && width != 8) || count == 0 || count > UINT32_MAX) {
        codec_fail_at(in, at, "corrupt intset header");
        return NULL;
    }
    if (!codec_get_raw(in, (size_t)(count * width), &values)) return NULL;
    struct intset *is = mem_alloc(sizeof(*is) + (size_t)(count * width));
    is->width = (uint32_t)width;
    is->count = (uint32_t)count;
    memcpy(is->values, values, (size_t)(count * width));
    if (!intset_validate(is)) {
        intset_free(is);
        codec_fail_at(in, at, "corrupt intset: values out of order");
        return NULL;
    }
    struct object *o = object_new(OBJ_SET, ENC_INTSET, is);
    if (count > limit(set_max_intset_entries)) convert_to_table(o);
    return o;
}

static struct object *load_packed(struct codec_in *in)
{
    size_t at = codec_in_offset(in), longest;
    struct list_node *n = list_node_load(in, 1, &longest);
    if (!n) return NULL;
    if (n->bytes > PACKED_MAX_BYTES) {
        list_node_free(n);
        codec_fail_at(in, at, "corrupt packed set: too large");
        return NULL;
    }
    struct object *o = object_new(OBJ_SET, ENC_LISTPACK, n);
    if (n->count > limit(set_max_listpack_entries) || longest > limit(set_max_listpack_value))
        convert_to_table(o);
    return o;
}

static struct object *load_table(struct codec_in *in)
{
    uint64_t count;
    if (!codec_get_count(in, 2, &count)) return NULL; /* a length and a byte: only one member can be empty */
    if (count == 0) {
        codec_fail(in, "corrupt set: no members");
        return NULL;
    }
    struct dict *d = dict_create(&member_dict_type);
    dict_reserve(d, count);
    struct object *o = object_new(OBJ_SET, ENC_HASHTABLE, d);
    for (uint64_t i = 0; i < count; i++) {
        const char *p;
        size_t len;
        if (!codec_get_bytes(in, &p, &len)) break;
        bool existed;
        dict_add_or_find(d, p, len, NULL, &existed);
        if (existed) {
            codec_fail(in, "corrupt set: a member repeats");
            break;
        }
    }
    if (!in->failed) return o;
    object_free(o);
    return NULL;
}

static struct object *set_load(struct codec_in *in)
{
    unsigned tag;
    if (!codec_get_u8(in, &tag)) return NULL;
    switch (tag) {
    case SET_SAVE_INTSET: return load_intset(in);
    case SET_SAVE_LISTPACK: return load_packed(in);
    case SET_SAVE_HASHTABLE: return load_table(in);
    default: codec_fail(in, "unknown set encoding %u", tag); return NULL;
    }
}

/* DEBUG DIGEST: the set of members, each digested on its own; an intset's
 * integers as the decimal strings SMEMBERS replies. */
static bool set_digest_visit(void *ctx, const char *p, size_t len)
{
    digest_set_add_bytes(ctx, p, len);
    return true;
}

static void set_digest(const struct object *o, struct digest_seq *seq)
{
    struct digest_set members;
    digest_set_init(&members);
    set_object_each(o, set_digest_visit, &members);
    digest_seq_set(seq, &members);
}

static const struct object_ops set_ops = {
    .name = "set",
    .free = set_free,
    .copy = set_copy,
    .memory = set_memory,
    .rewrite = set_rewrite,
    .save = set_save,
    .load = set_load,
    .digest = set_digest,
};

void set_type_register(void)
{
    object_register_type(OBJ_SET, &set_ops);
}
