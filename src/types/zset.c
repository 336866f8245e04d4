/* zset: the sorted set's two encodings and its low-level API (zset.h).
 *
 * listpack — one allocation: {count, bytes, data[]}, entries in order:
 *   <header varint> <member bytes> <score>
 * The header is (member length << 1 | D), LEB128 (7 bits a byte, low
 * first). D = 0: the score is an integer of magnitude at most 2^53, written
 * as a zigzag LEB128 varint (one byte for -64..63); D = 1: the score is the
 * 8 bytes of the double. Job schedulers use millisecond timestamps for
 * scores, which take 6 bytes instead of 8; a typical small entry
 * ("job:17", 1700000000000) is 13 bytes. As in Redis's listpack, -0 is
 * stored as the integer 0.
 *
 * skiplist — struct zset_big: the skip list plus a dict from member to its
 * node; the dict's keys are the members inside the nodes (borrowed, never
 * freed by the dict), its values the nodes. */
#include "types/zset.h"

#include <math.h>
#include <string.h>

#include "db/codec.h"
#include "db/dict.h"
#include "db/distinct.h"
#include "db/rewrite_batch.h"
#include "db/object.h"
#include "protocol/reply.h"
#include "util/digest.h"
#include "util/mem.h"
#include "util/varint.h"

int zset_max_listpack_entries = 128;
int zset_max_listpack_value = 64;

/* ---- listpack: entry format ---- */

struct zpack {
    uint32_t count;
    uint32_t bytes;
    unsigned char data[];
};

/* Past this size a packed set converts whatever the thresholds say: its
 * offsets are 32-bit and every edit moves the whole buffer. */
#define ZPACK_MAX_BYTES (1u << 30)
#define ZPACK_INT_LIMIT 9007199254740992.0 /* 2^53 */

struct zentry {
    const char *member;
    size_t len;
    double score;
};

static bool score_as_int(double d, int64_t *out)
{
    if (!(d >= -ZPACK_INT_LIMIT && d <= ZPACK_INT_LIMIT)) return false; /* NaN, inf, too large */
    int64_t i = (int64_t)d;
    if ((double)i != d) return false;
    *out = i;
    return true;
}

static uint64_t zigzag(int64_t i)
{
    return ((uint64_t)i << 1) ^ (i < 0 ? UINT64_MAX : 0);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static size_t entry_size(size_t len, double score)
{
    int64_t i;
    bool is_int = score_as_int(score, &i);
    return varint_len((uint64_t)len << 1 | !is_int) + len + (is_int ? varint_len(zigzag(i)) : sizeof(double));
}

static void entry_write(unsigned char *p, const char *member, size_t len, double score)
{
    int64_t i;
    bool is_int = score_as_int(score, &i);
    p = varint_put(p, (uint64_t)len << 1 | !is_int);
    if (len) memcpy(p, member, len);
    p += len;
    if (is_int) varint_put(p, zigzag(i));
    else memcpy(p, &score, sizeof(score));
}

/* Decodes the entry at p into e; returns the next entry. */
static const unsigned char *entry_read(const unsigned char *p, struct zentry *e)
{
    uint64_t h, v;
    p = varint_get(p, &h);
    e->len = (size_t)(h >> 1);
    e->member = (const char *)p;
    p += e->len;
    if (h & 1) {
        memcpy(&e->score, p, sizeof(double));
        return p + sizeof(double);
    }
    p = varint_get(p, &v);
    e->score = (double)unzigzag(v);
    return p;
}

/* ---- listpack: operations ---- */

static struct zpack *zpack_new(void)
{
    struct zpack *z = mem_alloc(sizeof(*z));
    z->count = 0;
    z->bytes = 0;
    return z;
}

static const unsigned char *zpack_end(const struct zpack *z)
{
    return z->data + z->bytes;
}

/* The offset of the entry of `rank` (count: the end). */
static size_t zpack_offset(const struct zpack *z, size_t rank)
{
    const unsigned char *p = z->data;
    struct zentry e;
    for (size_t i = 0; i < rank; i++) p = entry_read(p, &e);
    return (size_t)(p - z->data);
}

/* Finds a member; fills its entry, rank and offset. */
static bool zpack_find(const struct zpack *z, const char *member, size_t len, struct zentry *out, size_t *rank,
                       size_t *offset)
{
    const unsigned char *p = z->data, *end = zpack_end(z);
    for (size_t r = 0; p < end; r++) {
        struct zentry e;
        const unsigned char *next = entry_read(p, &e);
        if (e.len == len && (len == 0 || memcmp(e.member, member, len) == 0)) {
            if (out) *out = e;
            if (rank) *rank = r;
            if (offset) *offset = (size_t)(p - z->data);
            return true;
        }
        p = next;
    }
    return false;
}

static struct zpack *zpack_insert(struct zpack *z, double score, const char *member, size_t len)
{
    const unsigned char *p = z->data, *end = zpack_end(z);
    while (p < end) {
        struct zentry e;
        const unsigned char *next = entry_read(p, &e);
        if (zsl_compare(e.score, e.member, e.len, score, member, len) > 0) break;
        p = next;
    }
    size_t off = (size_t)(p - z->data), need = entry_size(len, score);
    z = mem_realloc(z, sizeof(*z) + z->bytes + need);
    memmove(z->data + off + need, z->data + off, z->bytes - off);
    entry_write(z->data + off, member, len, score);
    z->bytes += (uint32_t)need;
    z->count++;
    return z;
}

/* Removes the n entries in bytes [from, to). */
static struct zpack *zpack_cut(struct zpack *z, size_t from, size_t to, size_t n)
{
    memmove(z->data + from, z->data + to, z->bytes - to);
    z->bytes -= (uint32_t)(to - from);
    z->count -= (uint32_t)n;
    return mem_realloc(z, sizeof(*z) + z->bytes);
}

static struct zpack *zpack_remove_at(struct zpack *z, size_t offset)
{
    struct zentry e;
    const unsigned char *next = entry_read(z->data + offset, &e);
    return zpack_cut(z, offset, (size_t)(next - z->data), 1);
}

static size_t zpack_count_prefix(const struct zpack *z, zsl_pred_fn *pred, const void *ctx)
{
    const unsigned char *p = z->data, *end = zpack_end(z);
    size_t n = 0;
    while (p < end) {
        struct zentry e;
        p = entry_read(p, &e);
        if (!pred(ctx, e.score, e.member, e.len)) break;
        n++;
    }
    return n;
}

static void zpack_range(const struct zpack *z, size_t start, size_t end, bool reverse, zset_visit_fn *fn, void *ctx)
{
    const unsigned char *p = z->data + zpack_offset(z, start);
    struct zentry e;
    size_t n = end - start + 1;
    if (!reverse) {
        for (size_t i = 0; i < n; i++) {
            p = entry_read(p, &e);
            fn(ctx, e.member, e.len, e.score);
        }
        return;
    }
    /* Entries only read forwards: note where each starts, then go back. */
    const unsigned char *small[128];
    const unsigned char **at = n <= 128 ? small : mem_alloc(n * sizeof(*at));
    for (size_t i = 0; i < n; i++) {
        at[i] = p;
        p = entry_read(p, &e);
    }
    for (size_t i = n; i-- > 0;) {
        entry_read(at[i], &e);
        fn(ctx, e.member, e.len, e.score);
    }
    if (at != small) mem_free(at);
}

/* Decodes an entry that must lie before `end` (untrusted bytes); returns
 * the next entry, or NULL when it does not fit. */
static const unsigned char *entry_read_bounded(const unsigned char *p, const unsigned char *end, struct zentry *e)
{
    uint64_t h, v;
    if (!(p = varint_get_bounded(p, end, &h)) || (h >> 1) > (uint64_t)(end - p)) return NULL;
    e->len = (size_t)(h >> 1);
    e->member = (const char *)p;
    p += e->len;
    if (h & 1) {
        if (end - p < (ptrdiff_t)sizeof(double)) return NULL;
        memcpy(&e->score, p, sizeof(double));
        return p + sizeof(double);
    }
    if (!(p = varint_get_bounded(p, end, &v))) return NULL;
    e->score = (double)unzigzag(v);
    return p;
}

/* Safe on untrusted bytes (a snapshot): every entry inside the buffer, no
 * NaN, strictly ordered, members distinct, the count right. */
static bool zpack_validate(const struct zpack *z)
{
    const unsigned char *p = z->data, *end = zpack_end(z);
    struct zentry prev = {0}, e;
    struct distinct seen;
    distinct_init(&seen, z->count);
    size_t n = 0;
    bool ok = true;
    while (ok && p < end) {
        p = n < z->count ? entry_read_bounded(p, end, &e) : NULL;
        bool ordered = p && (n == 0 || zsl_compare(prev.score, prev.member, prev.len, e.score, e.member, e.len) < 0);
        ok = ordered && !isnan(e.score) && distinct_add(&seen, e.member, e.len);
        prev = e;
        n++;
    }
    distinct_done(&seen);
    return ok && n == z->count;
}

/* ---- skiplist ---- */

struct zset_big {
    struct dict *dict; /* member -> its zsl_node */
    struct zsl zsl;
};

static const struct dict_type member_dict_type = {.nocase = false, .owns_keys = false, .val_free = NULL};

static struct zset_big *big_new(void)
{
    struct zset_big *b = mem_alloc(sizeof(*b));
    b->dict = dict_create(&member_dict_type);
    zsl_init(&b->zsl);
    return b;
}

static void big_insert(struct zset_big *b, double score, const char *member, size_t len)
{
    struct zsl_node *n = zsl_insert(&b->zsl, score, member, len);
    dict_add(b->dict, n->member, n);
}

static struct zsl_node *big_find(const struct zset_big *b, const char *member, size_t len)
{
    struct dict_entry *e = dict_find(b->dict, member, len);
    return e ? e->v.ptr : NULL;
}

static void big_forget(void *ctx, struct zsl_node *n)
{
    struct zset_big *b = ctx;
    dict_delete(b->dict, n->member, n->member_len);
}

static void big_release(struct zset_big *b)
{
    dict_release(b->dict);
    zsl_release(&b->zsl);
    mem_free(b);
}

static struct zpack *pack_of(const struct object *o)
{
    return o->v.ptr;
}

static struct zset_big *big_of(const struct object *o)
{
    return o->v.ptr;
}

static bool is_packed(const struct object *o)
{
    return o->encoding == ENC_LISTPACK;
}

static void convert_to_skiplist(struct object *o)
{
    struct zpack *z = pack_of(o);
    struct zset_big *b = big_new();
    const unsigned char *p = z->data, *end = zpack_end(z);
    while (p < end) {
        struct zentry e;
        p = entry_read(p, &e);
        big_insert(b, e.score, e.member, e.len);
    }
    mem_free(z);
    o->v.ptr = b;
    o->encoding = ENC_SKIPLIST;
}

/* ---- the API ---- */

struct object *zset_object_create(size_t size_hint, size_t member_len_hint)
{
    if (size_hint <= (size_t)zset_max_listpack_entries && member_len_hint <= (size_t)zset_max_listpack_value)
        return object_new(OBJ_ZSET, ENC_LISTPACK, zpack_new());
    return object_new(OBJ_ZSET, ENC_SKIPLIST, big_new());
}

size_t zset_object_length(const struct object *o)
{
    return is_packed(o) ? pack_of(o)->count : big_of(o)->zsl.length;
}

bool zset_object_score(const struct object *o, const char *member, size_t len, double *score)
{
    if (is_packed(o)) {
        struct zentry e;
        if (!zpack_find(pack_of(o), member, len, &e, NULL, NULL)) return false;
        *score = e.score;
        return true;
    }
    struct zsl_node *n = big_find(big_of(o), member, len);
    if (n) *score = n->score;
    return n != NULL;
}

static void insert_new(struct object *o, double score, const char *member, size_t len)
{
    if (is_packed(o)) {
        struct zpack *z = pack_of(o);
        if (z->count + 1 > (size_t)zset_max_listpack_entries || len > (size_t)zset_max_listpack_value ||
            z->bytes + entry_size(len, score) > ZPACK_MAX_BYTES) {
            convert_to_skiplist(o);
        } else {
            o->v.ptr = zpack_insert(z, score, member, len);
            return;
        }
    }
    big_insert(big_of(o), score, member, len);
}

static void update_score(struct object *o, const char *member, size_t len, double score)
{
    if (is_packed(o)) {
        size_t offset;
        zpack_find(pack_of(o), member, len, NULL, NULL, &offset);
        /* the member's bytes live in the buffer being edited: keep a copy */
        char small[64];
        char *copy = len <= sizeof(small) ? small : mem_alloc(len);
        memcpy(copy, member, len);
        struct zpack *z = zpack_remove_at(pack_of(o), offset);
        o->v.ptr = zpack_insert(z, score, copy, len);
        if (copy != small) mem_free(copy);
        return;
    }
    struct zset_big *b = big_of(o);
    zsl_update_score(&b->zsl, big_find(b, member, len), score);
}

int zset_object_add(struct object *o, double score, const char *member, size_t len, int flags, double *result)
{
    double current;
    if (zset_object_score(o, member, len, &current)) {
        if (flags & ZSET_IN_NX) return ZSET_OUT_NOP;
        double target = score;
        if (flags & ZSET_IN_INCR) {
            target = current + score;
            if (isnan(target)) return ZSET_OUT_NAN;
        }
        if (((flags & ZSET_IN_GT) && target <= current) || ((flags & ZSET_IN_LT) && target >= current))
            return ZSET_OUT_NOP;
        *result = target;
        if (target == current) return 0;
        update_score(o, member, len, target);
        return ZSET_OUT_UPDATED;
    }
    if (flags & ZSET_IN_XX) return ZSET_OUT_NOP;
    *result = score;
    insert_new(o, score, member, len);
    return ZSET_OUT_ADDED;
}

bool zset_object_remove(struct object *o, const char *member, size_t len)
{
    if (is_packed(o)) {
        size_t offset;
        if (!zpack_find(pack_of(o), member, len, NULL, NULL, &offset)) return false;
        o->v.ptr = zpack_remove_at(pack_of(o), offset);
        return true;
    }
    struct zset_big *b = big_of(o);
    struct dict_entry *e = dict_unlink(b->dict, member, len);
    if (!e) return false;
    struct zsl_node *n = e->v.ptr;
    dict_free_unlinked(b->dict, e);
    zsl_delete(&b->zsl, n->score, n->member, n->member_len);
    dict_shrink_if_sparse(b->dict);
    return true;
}

long long zset_object_rank(const struct object *o, const char *member, size_t len, bool reverse, double *score)
{
    size_t rank, length = zset_object_length(o);
    if (is_packed(o)) {
        struct zentry e;
        if (!zpack_find(pack_of(o), member, len, &e, &rank, NULL)) return -1;
        if (score) *score = e.score;
    } else {
        const struct zset_big *b = big_of(o);
        struct zsl_node *n = big_find(b, member, len);
        if (!n) return -1;
        if (score) *score = n->score;
        rank = zsl_rank(&b->zsl, n->score, n->member, n->member_len) - 1;
    }
    return (long long)(reverse ? length - 1 - rank : rank);
}

size_t zset_object_count_prefix(const struct object *o, zsl_pred_fn *pred, const void *ctx)
{
    if (is_packed(o)) return zpack_count_prefix(pack_of(o), pred, ctx);
    return zsl_count_prefix(&big_of(o)->zsl, pred, ctx);
}

void zset_object_range(const struct object *o, size_t start, size_t end, bool reverse, zset_visit_fn *fn, void *ctx)
{
    if (is_packed(o)) {
        zpack_range(pack_of(o), start, end, reverse, fn, ctx);
        return;
    }
    const struct zsl *zsl = &big_of(o)->zsl;
    struct zsl_node *n = zsl_at(zsl, (reverse ? end : start) + 1);
    for (size_t i = start; i <= end && n; i++) {
        fn(ctx, n->member, n->member_len, n->score);
        n = reverse ? n->backward : n->next;
    }
}

void zset_object_each(const struct object *o, zset_visit_fn *fn, void *ctx)
{
    size_t len = zset_object_length(o);
    if (len) zset_object_range(o, 0, len - 1, false, fn, ctx);
}

size_t zset_object_delete_range(struct object *o, size_t start, size_t end)
{
    if (is_packed(o)) {
        struct zpack *z = pack_of(o);
        size_t from = zpack_offset(z, start);
        const unsigned char *p = z->data + from;
        struct zentry e;
        for (size_t i = start; i <= end; i++) p = entry_read(p, &e);
        o->v.ptr = zpack_cut(z, from, (size_t)(p - z->data), end - start + 1);
        return end - start + 1;
    }
    struct zset_big *b = big_of(o);
    size_t n = zsl_delete_ranks(&b->zsl, start + 1, end + 1, big_forget, b);
    dict_shrink_if_sparse(b->dict);
    return n;
}

struct scan_adapter {
    zset_visit_fn *fn;
    void *ctx;
};

static void scan_entry(void *ctx, struct dict_entry *e)
{
    struct scan_adapter *a = ctx;
    const struct zsl_node *n = e->v.ptr;
    a->fn(a->ctx, n->member, n->member_len, n->score);
}

uint64_t zset_object_scan(const struct object *o, uint64_t cursor, zset_visit_fn *fn, void *ctx)
{
    if (is_packed(o)) {
        zset_object_each(o, fn, ctx);
        return 0;
    }
    struct scan_adapter a = {fn, ctx};
    return dict_scan(big_of(o)->dict, cursor, scan_entry, &a);
}

bool zset_object_validate(const struct object *o)
{
    if (o->type != OBJ_ZSET) return false;
    if (is_packed(o)) return zpack_validate(pack_of(o));
    if (o->encoding != ENC_SKIPLIST) return false;
    const struct zset_big *b = big_of(o);
    if (!zsl_validate(&b->zsl) || dict_size(b->dict) != b->zsl.length) return false;
    for (const struct zsl_node *n = b->zsl.header->next; n; n = n->next)
        if (big_find(b, n->member, n->member_len) != n) return false;
    return true;
}

/* ---- object ops ---- */

static void zset_free(struct object *o)
{
    if (is_packed(o)) mem_free(pack_of(o));
    else big_release(big_of(o));
}

static void copy_member(void *ctx, const char *member, size_t len, double score)
{
    big_insert(ctx, score, member, len);
}

static struct object *zset_copy(const struct object *o)
{
    if (is_packed(o)) {
        const struct zpack *z = pack_of(o);
        struct zpack *c = mem_alloc(sizeof(*c) + z->bytes);
        memcpy(c, z, sizeof(*c) + z->bytes);
        return object_new(OBJ_ZSET, ENC_LISTPACK, c);
    }
    struct zset_big *b = big_new();
    zset_object_each(o, copy_member, b);
    return object_new(OBJ_ZSET, ENC_SKIPLIST, b);
}

/* MEMORY USAGE: exact up to a few thousand members, then the first ones
 * are measured and the rest estimated from them, as Redis samples. */
#define MEMORY_SAMPLE 4096

static size_t zset_memory(const struct object *o)
{
    if (is_packed(o)) return mem_usable_size(pack_of(o));
    const struct zset_big *b = big_of(o);
    size_t total = mem_usable_size((void *)b) + mem_usable_size(b->dict) + dict_buckets(b->dict) * sizeof(void *) +
                   zsl_node_memory(b->zsl.header);
    size_t entry = dict_size(b->dict) ? mem_usable_size(dict_find(b->dict, b->zsl.header->next->member,
                                                                  b->zsl.header->next->member_len))
                                      : 0;
    size_t seen = 0, nodes = 0;
    for (const struct zsl_node *n = b->zsl.header->next; n && seen < MEMORY_SAMPLE; n = n->next, seen++)
        nodes += zsl_node_memory(n) + entry;
    if (seen) total += (size_t)((double)nodes / (double)seen * (double)b->zsl.length);
    return total;
}

/* AOF rewrite and snapshots: ZADD batches of up to 64 pairs. Scores are
 * written in their shortest round-trip form ("inf", "-0" included), so the
 * set reloads bit for bit. */
static void rewrite_visit(void *ctx, const char *member, size_t len, double score)
{
    char buf[32];
    rewrite_batch_arg(ctx, buf, reply_format_double(buf, sizeof(buf), score));
    rewrite_batch_arg(ctx, member, len);
    rewrite_batch_item_done(ctx);
}

static void zset_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx)
{
    struct rewrite_batch *b = rewrite_batch_new("ZADD", key, len, emit, ctx);
    zset_object_each(o, rewrite_visit, b);
    rewrite_batch_finish(b);
}

/* Snapshots: the encoding tag, then a listpack's entry count and bytes as
 * they are in memory, or a skip list's length and its members in order,
 * each with the 8 bytes of its score. A listpack beyond today's
 * zset-max-listpack-* limits converts when loaded, as Redis does. */
enum zset_save_tag { ZSET_SAVE_LISTPACK = 0, ZSET_SAVE_SKIPLIST = 1 };
#define MIN_MEMBER_BYTES 9

static void save_member(void *ctx, const char *member, size_t len, double score)
{
    codec_put_bytes(ctx, member, len);
    codec_put_double(ctx, score);
}

static void zset_save(const struct object *o, struct codec_out *out)
{
    if (is_packed(o)) {
        const struct zpack *z = pack_of(o);
        codec_put_u8(out, ZSET_SAVE_LISTPACK);
        codec_put_varint(out, z->count);
        codec_put_bytes(out, z->data, z->bytes);
        return;
    }
    codec_put_u8(out, ZSET_SAVE_SKIPLIST);
    codec_put_varint(out, zset_object_length(o));
    zset_object_each(o, save_member, out);
}

static size_t zpack_longest(const struct zpack *z)
{
    size_t longest = 0;
    struct zentry e;
    for (const unsigned char *p = z->data; p < zpack_end(z);) {
        p = entry_read(p, &e);
        if (e.len > longest) longest = e.len;
    }
    return longest;
}

static struct object *load_packed(struct codec_in *in)
{
    size_t at = codec_in_offset(in);
    uint64_t count;
    const char *data;
    size_t len;
    if (!codec_get_varint(in, &count) || !codec_get_bytes(in, &data, &len)) return NULL;
    if (count == 0 || count > len || len > ZPACK_MAX_BYTES) {
        codec_fail_at(in, at, "corrupt sorted set listpack header");
        return NULL;
    }
    struct zpack *z = mem_alloc(sizeof(*z) + len);
    z->count = (uint32_t)count;
    z->bytes = (uint32_t)len;
    memcpy(z->data, data, len);
    if (!zpack_validate(z)) {
        mem_free(z);
        codec_fail_at(in, at, "corrupt sorted set listpack");
        return NULL;
    }
    struct object *o = object_new(OBJ_ZSET, ENC_LISTPACK, z);
    if (count > (uint64_t)zset_max_listpack_entries || zpack_longest(z) > (size_t)zset_max_listpack_value)
        convert_to_skiplist(o);
    return o;
}

static struct object *load_skiplist(struct codec_in *in)
{
    uint64_t count;
    if (!codec_get_count(in, MIN_MEMBER_BYTES, &count)) return NULL;
    if (count == 0) {
        codec_fail(in, "corrupt sorted set: no members");
        return NULL;
    }
    struct zset_big *b = big_new();
    dict_reserve(b->dict, count);
    for (uint64_t i = 0; i < count; i++) {
        const char *member;
        size_t len;
        double score;
        if (!codec_get_bytes(in, &member, &len) || !codec_get_double(in, &score)) break;
        bool existed = true;
        struct dict_entry *e = NULL;
        if (!isnan(score) && len <= UINT32_MAX) e = dict_add_or_find(b->dict, member, len, NULL, &existed);
        if (existed) {
            codec_fail(in, "corrupt sorted set: a NaN score, or a member repeats or is too long");
            break;
        }
        struct zsl_node *n = zsl_insert(&b->zsl, score, member, len);
        e->key = n->member; /* the dict borrows the member held in the node */
        e->v.ptr = n;
    }
    if (!in->failed) return object_new(OBJ_ZSET, ENC_SKIPLIST, b);
    big_release(b);
    return NULL;
}

static struct object *zset_load(struct codec_in *in)
{
    unsigned tag;
    if (!codec_get_u8(in, &tag)) return NULL;
    if (tag == ZSET_SAVE_LISTPACK) return load_packed(in);
    if (tag == ZSET_SAVE_SKIPLIST) return load_skiplist(in);
    codec_fail(in, "unknown sorted set encoding %u", tag);
    return NULL;
}

/* DEBUG DIGEST: the length, then every member and its score in the set's
 * order (score, then member bytes), which both encodings keep. */
static void zset_digest_visit(void *ctx, const char *member, size_t len, double score)
{
    digest_seq_bytes(ctx, member, len);
    digest_seq_double(ctx, score);
}

static void zset_digest(const struct object *o, struct digest_seq *seq)
{
    digest_seq_u64(seq, zset_object_length(o));
    zset_object_each(o, zset_digest_visit, seq);
}

static const struct object_ops zset_ops = {
    .name = "zset",
    .free = zset_free,
    .copy = zset_copy,
    .memory = zset_memory,
    .rewrite = zset_rewrite,
    .save = zset_save,
    .load = zset_load,
    .digest = zset_digest,
};

void zset_type_register(void)
{
    object_register_type(OBJ_ZSET, &zset_ops);
}
