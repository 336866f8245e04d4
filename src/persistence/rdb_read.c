/* rdb_read: see rdb_read.h. Every collection is built through its type's
 * API (list_object_push, hash_object_set, set_object_add, zset_object_add):
 * the type picks its encoding and converts as it grows, as it does for
 * commands. A member met twice in a set, hash or sorted set refuses the
 * value, as Redis's loader does. */
#include "persistence/rdb_read.h"

#include <math.h>
#include <string.h>

#include "persistence/rdb_format.h"
#include "persistence/rdb_packed.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/zset.h"
#include "util/mem.h"
#include "util/numbers.h"

/* The most a byte of LZF data can expand to (a 3-byte back reference
 * copies at most 264 bytes): a larger claimed length is damage, refused
 * before it sizes an allocation. */
#define RDB_LZF_MAX_RATIO 100

void rdb_string_release(struct rdb_string *s)
{
    mem_free(s->owned);
    s->owned = NULL;
}

bool rdb_get_le(struct codec_in *in, int bytes, uint64_t *v)
{
    const void *p;
    if (!codec_get_raw(in, (size_t)bytes, &p)) return false;
    const unsigned char *b = p;
    *v = 0;
    for (int i = bytes - 1; i >= 0; i--) *v = *v << 8 | b[i];
    return true;
}

static bool get_be(struct codec_in *in, int bytes, uint64_t *v)
{
    const void *p;
    if (!codec_get_raw(in, (size_t)bytes, &p)) return false;
    const unsigned char *b = p;
    *v = 0;
    for (int i = 0; i < bytes; i++) *v = *v << 8 | b[i];
    return true;
}

/* A length, or (*encoded set) the special-encoding code of a string. */
static bool get_len_or_enc(struct codec_in *in, uint64_t *len, bool *encoded)
{
    unsigned b;
    *encoded = false;
    if (!codec_get_u8(in, &b)) return false;
    switch (b >> 6) {
    case RDB_LEN_6BIT: *len = b & 0x3f; return true;
    case RDB_LEN_14BIT: {
        unsigned next;
        if (!codec_get_u8(in, &next)) return false;
        *len = (uint64_t)(b & 0x3f) << 8 | next;
        return true;
    }
    case RDB_LEN_ENCVAL:
        *encoded = true;
        *len = b & 0x3f;
        return true;
    }
    if (b == RDB_LEN_32BIT) return get_be(in, 4, len);
    if (b == RDB_LEN_64BIT) return get_be(in, 8, len);
    return codec_fail(in, "unknown length encoding 0x%02x", b);
}

bool rdb_get_len(struct codec_in *in, uint64_t *len)
{
    bool encoded;
    if (!get_len_or_enc(in, len, &encoded)) return false;
    if (encoded) return codec_fail(in, "a length where an encoded string is");
    return true;
}

bool rdb_get_count(struct codec_in *in, size_t min_bytes, uint64_t *n)
{
    if (!rdb_get_len(in, n)) return false;
    if (*n > (in->size - in->pos) / min_bytes) return codec_fail(in, "a count of %llu is more than the data holds",
                                                                  (unsigned long long)*n);
    return true;
}

static bool get_lzf(struct codec_in *in, struct rdb_string *s)
{
    uint64_t clen, ulen;
    const void *data;
    if (!rdb_get_len(in, &clen) || !rdb_get_len(in, &ulen) || !codec_get_raw(in, clen, &data)) return false;
    if (ulen == 0 || clen == 0 || ulen / RDB_LZF_MAX_RATIO > clen)
        return codec_fail(in, "a compressed string's lengths are impossible");
    s->owned = mem_alloc(ulen);
    if (!rdb_lzf_decompress(data, clen, s->owned, ulen)) {
        rdb_string_release(s);
        return codec_fail(in, "a compressed string is damaged");
    }
    s->p = s->owned;
    s->len = ulen;
    return true;
}

bool rdb_get_string(struct codec_in *in, struct rdb_string *s)
{
    uint64_t len, v;
    bool encoded;
    s->owned = NULL;
    if (!get_len_or_enc(in, &len, &encoded)) return false;
    if (!encoded) {
        const void *p;
        if (!codec_get_raw(in, len, &p)) return false;
        s->p = p;
        s->len = len;
        return true;
    }
    static const int widths[] = {1, 2, 4};
    if (len == RDB_ENC_LZF) return get_lzf(in, s);
    if (len > RDB_ENC_INT32) return codec_fail(in, "unknown string encoding %llu", (unsigned long long)len);
    int w = widths[len];
    if (!rdb_get_le(in, w, &v)) return false;
    if (w < 8 && (v >> (8 * w - 1)) & 1) v |= ~0ULL << (8 * w);
    s->len = format_ll(s->buf, (long long)v);
    s->p = s->buf;
    return true;
}

bool rdb_type_supported(unsigned type)
{
    switch (type) {
    case RDB_TYPE_STRING:
    case RDB_TYPE_LIST:
    case RDB_TYPE_SET:
    case RDB_TYPE_ZSET:
    case RDB_TYPE_HASH:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_SET_INTSET:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_ZSET_LISTPACK:
    case RDB_TYPE_LIST_QUICKLIST_2:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_SET_LISTPACK:
    case RDB_TYPE_STREAM_LISTPACKS_3: return true;
    }
    return false;
}

/* ---- building a collection, member by member ---- */

enum build_kind { BUILD_LIST, BUILD_SET, BUILD_HASH, BUILD_ZSET };

/* A value under construction: members arrive one at a time (pairs for a
 * hash and a sorted set: the first of a pair is held until its second). */
struct build {
    enum build_kind kind;
    struct object *o;
    size_t hint; /* members announced, for the encoding choice */
    bool have_first;
    struct rdb_string first; /* a pair's first half */
};

static void build_init(struct build *b, enum build_kind kind, size_t hint)
{
    *b = (struct build){.kind = kind, .hint = hint};
}

static void build_free(struct build *b)
{
    if (b->have_first) rdb_string_release(&b->first);
    if (b->o) object_free(b->o);
    b->o = NULL;
    b->have_first = false;
}

/* Parses a sorted set's score as Redis writes it in text (ziplists, type 3). */
static bool score_parse(struct codec_in *in, const char *p, size_t len, double *score)
{
    if (!parse_double(p, len, score) || isnan(*score)) return codec_fail(in, "a sorted set score is not a number");
    return true;
}

static bool build_zset_member(struct build *b, struct codec_in *in, const char *p, size_t len, double score)
{
    if (isnan(score)) return codec_fail(in, "a sorted set score is NaN");
    if (!b->o) b->o = zset_object_create(b->hint, len);
    double result;
    if (zset_object_add(b->o, score, p, len, ZSET_IN_NX, &result) & ZSET_OUT_NOP)
        return codec_fail(in, "a sorted set member repeats");
    return true;
}

/* The member p[0..len), which the build copies. For pairs the first one
 * is kept (copied) until the second arrives. */
static bool build_add(struct build *b, struct codec_in *in, const char *p, size_t len)
{
    switch (b->kind) {
    case BUILD_LIST:
        if (len > LIST_MAX_ELEMENT_LEN) return codec_fail(in, "a list element is too large");
        if (!b->o) b->o = list_object_create();
        list_object_push(b->o, p, len, LIST_TAIL);
        return true;
    case BUILD_SET:
        if (!b->o) b->o = set_object_create(p, len, b->hint);
        if (!set_object_add(b->o, p, len)) return codec_fail(in, "a set member repeats");
        return true;
    case BUILD_HASH:
    case BUILD_ZSET: break;
    }
    if (!b->have_first) {
        b->first.owned = mem_alloc(len ? len : 1);
        memcpy(b->first.owned, p, len);
        b->first.p = b->first.owned;
        b->first.len = len;
        b->have_first = true;
        return true;
    }
    b->have_first = false;
    bool ok;
    if (b->kind == BUILD_HASH) {
        if (!b->o) b->o = hash_object_create();
        ok = hash_object_set(b->o, b->first.p, b->first.len, p, len) || codec_fail(in, "a hash field repeats");
    } else {
        double score;
        ok = score_parse(in, p, len, &score) && build_zset_member(b, in, b->first.p, b->first.len, score);
    }
    rdb_string_release(&b->first);
    return ok;
}

/* The built value; NULL with *empty when nothing was added. */
static struct object *build_finish(struct build *b, struct codec_in *in, bool *empty)
{
    if (b->have_first) {
        codec_fail(in, "a packed %s holds an odd number of elements", b->kind == BUILD_HASH ? "hash" : "sorted set");
        build_free(b);
        return NULL;
    }
    if (!b->o) *empty = true;
    struct object *o = b->o;
    b->o = NULL;
    return o;
}

/* ---- the encodings ---- */

/* count strings (a list, a set), or count pairs of strings (a hash). */
static bool read_strings(struct codec_in *in, struct build *b, bool pairs)
{
    uint64_t n;
    if (!rdb_get_count(in, pairs ? 2 : 1, &n)) return false;
    b->hint = n;
    for (uint64_t i = 0; i < n * (pairs ? 2 : 1); i++) {
        struct rdb_string s;
        if (!rdb_get_string(in, &s)) return false;
        bool ok = build_add(b, in, s.p, s.len);
        rdb_string_release(&s);
        if (!ok) return false;
    }
    return true;
}

/* A sorted set of type 3 (scores as text: a length byte, 253 NaN, 254
 * +inf, 255 -inf) or 5 (binary doubles, little-endian). */
static bool read_zset(struct codec_in *in, struct build *b, bool binary)
{
    uint64_t n;
    if (!rdb_get_count(in, 2, &n)) return false;
    b->hint = n;
    for (uint64_t i = 0; i < n; i++) {
        struct rdb_string m;
        if (!rdb_get_string(in, &m)) return false;
        double score = 0;
        bool ok;
        if (binary) {
            uint64_t bits = 0;
            ok = rdb_get_le(in, 8, &bits);
            memcpy(&score, &bits, sizeof(score));
        } else {
            unsigned len;
            const void *text;
            ok = codec_get_u8(in, &len);
            if (ok && len == 253) score = NAN;
            else if (ok && len == 254) score = INFINITY;
            else if (ok && len == 255) score = -INFINITY;
            else ok = ok && codec_get_raw(in, len, &text) && score_parse(in, text, len, &score);
        }
        ok = ok && build_zset_member(b, in, m.p, m.len, score);
        rdb_string_release(&m);
        if (!ok) return false;
    }
    return true;
}

/* Every element of one ziplist or listpack blob. */
static bool read_packed_blob(struct codec_in *in, struct build *b, enum rdb_packed_kind kind, const char *blob,
                             size_t len)
{
    struct rdb_packed_iter it;
    struct rdb_elem e;
    if (!rdb_packed_init(&it, kind, blob, len)) return codec_fail(in, "%s", it.bad);
    if (it.declared != SIZE_MAX && b->kind != BUILD_LIST) b->hint = it.declared / (b->kind == BUILD_SET ? 1 : 2);
    while (rdb_packed_next(&it, &e)) {
        rdb_elem_bytes(&e);
        if (!build_add(b, in, e.p, e.len)) return false;
    }
    if (!rdb_packed_ok(&it)) return codec_fail(in, "%s", it.bad);
    return true;
}

static bool read_packed(struct codec_in *in, struct build *b, enum rdb_packed_kind kind)
{
    struct rdb_string s;
    if (!rdb_get_string(in, &s)) return false;
    bool ok = read_packed_blob(in, b, kind, s.p, s.len);
    rdb_string_release(&s);
    return ok;
}

static bool read_intset(struct codec_in *in, struct build *b)
{
    struct rdb_string s;
    unsigned width;
    uint32_t n;
    if (!rdb_get_string(in, &s)) return false;
    bool ok = rdb_intset_open(s.p, s.len, &width, &n) || codec_fail(in, "an intset's header does not match its size");
    b->hint = n;
    for (uint32_t i = 0; ok && i < n; i++) {
        long long v = rdb_intset_get(s.p, width, i);
        if (i > 0 && v <= rdb_intset_get(s.p, width, i - 1)) ok = codec_fail(in, "an intset is not sorted");
        char buf[24];
        ok = ok && build_add(b, in, buf, format_ll(buf, v));
    }
    rdb_string_release(&s);
    return ok;
}

/* Lists of type 14 (ziplist nodes) and 18 (a container code, then a
 * listpack node or one plain element). An empty node is damage. */
static bool read_quicklist(struct codec_in *in, struct build *b, bool v2)
{
    uint64_t nodes;
    if (!rdb_get_count(in, 2, &nodes)) return false;
    for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = RDB_QUICKLIST_NODE_PACKED;
        if (v2 && !rdb_get_len(in, &container)) return false;
        if (container != RDB_QUICKLIST_NODE_PACKED && container != RDB_QUICKLIST_NODE_PLAIN)
            return codec_fail(in, "unknown quicklist container %llu", (unsigned long long)container);
        struct rdb_string s;
        if (!rdb_get_string(in, &s)) return false;
        size_t before = b->o ? list_object_length(b->o) : 0;
        bool ok = container == RDB_QUICKLIST_NODE_PLAIN
                      ? build_add(b, in, s.p, s.len)
                      : read_packed_blob(in, b, v2 ? RDB_PACKED_LISTPACK : RDB_PACKED_ZIPLIST, s.p, s.len);
        rdb_string_release(&s);
        if (!ok) return false;
        if ((b->o ? list_object_length(b->o) : 0) == before) return codec_fail(in, "a quicklist node is empty");
    }
    return true;
}

static struct object *read_string_value(struct codec_in *in)
{
    struct rdb_string s;
    if (!rdb_get_string(in, &s)) return NULL;
    struct object *o = object_string(s.p, s.len);
    rdb_string_release(&s);
    return o;
}

struct object *rdb_value_read(struct codec_in *in, unsigned type, bool *empty)
{
    *empty = false;
    struct build b;
    bool ok;
    switch (type) {
    case RDB_TYPE_STRING: return read_string_value(in);
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3: return rdb_stream_read(in, type, empty);
    case RDB_TYPE_LIST:
        build_init(&b, BUILD_LIST, 0);
        ok = read_strings(in, &b, false);
        break;
    case RDB_TYPE_LIST_ZIPLIST:
        build_init(&b, BUILD_LIST, 0);
        ok = read_packed(in, &b, RDB_PACKED_ZIPLIST);
        break;
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        build_init(&b, BUILD_LIST, 0);
        ok = read_quicklist(in, &b, type == RDB_TYPE_LIST_QUICKLIST_2);
        break;
    case RDB_TYPE_SET:
        build_init(&b, BUILD_SET, 0);
        ok = read_strings(in, &b, false);
        break;
    case RDB_TYPE_SET_INTSET:
        build_init(&b, BUILD_SET, 0);
        ok = read_intset(in, &b);
        break;
    case RDB_TYPE_SET_LISTPACK:
        build_init(&b, BUILD_SET, 0);
        ok = read_packed(in, &b, RDB_PACKED_LISTPACK);
        break;
    case RDB_TYPE_HASH:
        build_init(&b, BUILD_HASH, 0);
        ok = read_strings(in, &b, true);
        break;
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
        build_init(&b, BUILD_HASH, 0);
        ok = read_packed(in, &b, type == RDB_TYPE_HASH_ZIPLIST ? RDB_PACKED_ZIPLIST : RDB_PACKED_LISTPACK);
        break;
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
        build_init(&b, BUILD_ZSET, 0);
        ok = read_zset(in, &b, type == RDB_TYPE_ZSET_2);
        break;
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        build_init(&b, BUILD_ZSET, 0);
        ok = read_packed(in, &b, type == RDB_TYPE_ZSET_ZIPLIST ? RDB_PACKED_ZIPLIST : RDB_PACKED_LISTPACK);
        break;
    case RDB_TYPE_MODULE_PRE_GA:
    case RDB_TYPE_MODULE_2: codec_fail(in, "a module's value type, which Runnel does not load"); return NULL;
    default: codec_fail(in, "unknown value type %u", type); return NULL;
    }
    if (!ok) {
        build_free(&b);
        return NULL;
    }
    return build_finish(&b, in, empty);
}
