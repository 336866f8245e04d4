/* list_node: the packed entry encoding of a list node. The layout is
 * described in list_node.h; this file encodes, decodes, walks and edits it. */
#include "types/list_node.h"

#include <stdlib.h>
#include <string.h>

#include "db/codec.h"
#include "db/distinct.h"
#include "types/list_compress.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

enum {
    TAG_STR6 = 0x80,  /* 10llllll */
    TAG_INT13 = 0xC0, /* 110vvvvv */
    TAG_STR12 = 0xE0, /* 1110llll */
    TAG_STR32 = 0xF0,
    TAG_INT16 = 0xF1,
    TAG_INT24 = 0xF2,
    TAG_INT32 = 0xF3,
    TAG_INT64 = 0xF4,
};

/* A decoded entry: either an integer or a string pointing into the node. */
struct entry {
    bool is_int;
    long long v;
    const unsigned char *s;
    size_t len;
    size_t body; /* encoding and payload, without the back-length */
};

/* ---- encoding ---- */

static size_t backlen_size(size_t body)
{
    size_t n = 1;
    while (body >= 128) {
        body >>= 7;
        n++;
    }
    return n;
}

/* Writes the back-length of `body` so that it reads from its last byte leftwards. */
static size_t backlen_write(unsigned char *dst, size_t body)
{
    size_t n = backlen_size(body);
    for (size_t k = 0; k < n; k++) {
        unsigned char b = (unsigned char)((body >> (7 * k)) & 127);
        if (k + 1 < n) b |= 0x80;
        dst[n - 1 - k] = b;
    }
    return n;
}

/* Reads the back-length that ends just before `end`; trusted input. */
static size_t backlen_read(const unsigned char *end)
{
    size_t body = 0;
    for (size_t k = 0;; k++) {
        unsigned char b = end[-1 - (ptrdiff_t)k];
        body |= (size_t)(b & 127) << (7 * k);
        if (!(b & 0x80)) return body;
    }
}

static size_t int_body_size(long long v)
{
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= INT16_MIN && v <= INT16_MAX) return 3;
    if (v >= -(1LL << 23) && v < (1LL << 23)) return 4;
    if (v >= INT32_MIN && v <= INT32_MAX) return 5;
    return 9;
}

static size_t str_header_size(size_t len)
{
    if (len <= 63) return 1;
    if (len <= 4095) return 2;
    return 5;
}

static bool as_int(const char *p, size_t len, long long *v)
{
    return len > 0 && len <= 20 && parse_ll(p, len, v);
}

static void put_le(unsigned char *d, uint64_t u, size_t width)
{
    for (size_t i = 0; i < width; i++) d[i] = (unsigned char)(u >> (8 * i));
}

static uint64_t get_le(const unsigned char *d, size_t width)
{
    uint64_t u = 0;
    for (size_t i = 0; i < width; i++) u |= (uint64_t)d[i] << (8 * i);
    return u;
}

static size_t int_write(unsigned char *d, long long v)
{
    uint64_t u = (uint64_t)v;
    size_t body = int_body_size(v);
    if (body == 1) {
        d[0] = (unsigned char)v;
    } else if (body == 2) {
        u &= 0x1FFF;
        d[0] = (unsigned char)(TAG_INT13 | (u >> 8));
        d[1] = (unsigned char)(u & 0xFF);
    } else {
        static const unsigned char tags[] = {0, 0, 0, TAG_INT16, TAG_INT24, TAG_INT32, 0, 0, 0, TAG_INT64};
        d[0] = tags[body];
        put_le(d + 1, u, body - 1);
    }
    return body;
}

static size_t str_write(unsigned char *d, const char *p, size_t len)
{
    size_t h = str_header_size(len);
    if (h == 1) {
        d[0] = (unsigned char)(TAG_STR6 | len);
    } else if (h == 2) {
        d[0] = (unsigned char)(TAG_STR12 | (len >> 8));
        d[1] = (unsigned char)(len & 0xFF);
    } else {
        d[0] = TAG_STR32;
        put_le(d + 1, len, 4);
    }
    if (len) memcpy(d + h, p, len);
    return h + len;
}

size_t list_node_entry_size(const char *p, size_t len)
{
    long long v;
    size_t body = as_int(p, len, &v) ? int_body_size(v) : str_header_size(len) + len;
    return body + backlen_size(body);
}

size_t list_node_encode(unsigned char *dst, const char *p, size_t len)
{
    long long v;
    size_t body = as_int(p, len, &v) ? int_write(dst, v) : str_write(dst, p, len);
    return body + backlen_write(dst + body, body);
}

/* ---- decoding ---- */

/* Width of an integer's payload after its tag byte, or 0 for other tags. */
static size_t int_tag_width(unsigned char tag)
{
    switch (tag) {
    case TAG_INT16: return 2;
    case TAG_INT24: return 3;
    case TAG_INT32: return 4;
    case TAG_INT64: return 8;
    default: return 0;
    }
}

/* Size of the encoding and payload of the entry starting at d; 0 when the
 * first byte is not a valid encoding. Reads at most 5 bytes beyond d[0]
 * only for the 32-bit string form. */
static size_t body_size(const unsigned char *d)
{
    unsigned char b = d[0];
    if (b < 0x80) return 1;
    if (b < TAG_INT13) return 1 + (size_t)(b & 0x3F);
    if (b < TAG_STR12) return 2;
    if (b < TAG_STR32) return 2 + (((size_t)(b & 0x0F) << 8) | d[1]);
    if (b == TAG_STR32) return 5 + (size_t)get_le(d + 1, 4);
    size_t w = int_tag_width(b);
    return w ? 1 + w : 0;
}

static long long sign_extend(uint64_t u, size_t bits)
{
    if (bits < 64 && (u & (1ULL << (bits - 1)))) u |= ~0ULL << bits;
    return (long long)u;
}

static void entry_decode(const unsigned char *d, struct entry *e)
{
    unsigned char b = d[0];
    e->body = body_size(d);
    e->is_int = true;
    e->s = NULL;
    e->len = 0;
    if (b < 0x80) {
        e->v = b;
    } else if (b < TAG_INT13) {
        e->is_int = false;
        e->s = d + 1;
        e->len = b & 0x3F;
    } else if (b < TAG_STR12) {
        e->v = sign_extend(((uint64_t)(b & 0x1F) << 8) | d[1], 13);
    } else if (b <= TAG_STR32) {
        size_t h = b == TAG_STR32 ? 5 : 2;
        e->is_int = false;
        e->s = d + h;
        e->len = e->body - h;
    } else {
        size_t w = int_tag_width(b);
        e->v = sign_extend(get_le(d + 1, w), 8 * w);
    }
}

static size_t entry_size(const unsigned char *d)
{
    size_t body = body_size(d);
    return body + backlen_size(body);
}

/* ---- allocation ---- */

/* Reallocates n so data[] holds at least `data_bytes`; records the real
 * capacity the allocator gave, so small growths need no realloc. */
static struct list_node *node_resize(struct list_node *n, size_t data_bytes)
{
    n = mem_realloc(n, LIST_NODE_HEADER + data_bytes);
    size_t usable = mem_usable_size(n) - LIST_NODE_HEADER;
    n->cap = usable > UINT32_MAX ? UINT32_MAX : (uint32_t)usable;
    return n;
}

static struct list_node *node_reserve(struct list_node *n, size_t need)
{
    if (need <= n->cap) return n;
    if (need > LIST_NODE_MAX_BYTES) {
        log_warning("list node would exceed %zu bytes", (size_t)LIST_NODE_MAX_BYTES);
        abort();
    }
    return node_resize(n, need);
}

/* Gives memory back once a node is less than half full. Every edit that
 * removes bytes ends here, so it also forgets a failed compression. */
static struct list_node *node_shrink(struct list_node *n)
{
    n->flags &= ~LIST_NODE_NOCOMPRESS;
    if (n->cap > 64 && n->bytes < n->cap / 2) return node_resize(n, n->bytes);
    return n;
}

struct list_node *list_node_new(size_t hint)
{
    struct list_node *n = node_resize(NULL, hint);
    n->prev = n->next = NULL;
    n->count = 0;
    n->bytes = 0;
    n->flags = 0;
    return n;
}

void list_node_free(struct list_node *n)
{
    mem_free(n);
}

struct list_node *list_node_dup(const struct list_node *n)
{
    size_t stored = list_node_is_compressed(n) ? n->cap : n->bytes;
    struct list_node *d = list_node_new(stored);
    d->count = n->count;
    d->bytes = n->bytes;
    d->flags = n->flags;
    memcpy(d->data, n->data, stored);
    if (list_node_is_compressed(n)) d->cap = n->cap;
    return d;
}

size_t list_node_alloc_size(const struct list_node *n)
{
    return mem_usable_size((void *)n);
}

/* ---- editing ---- */

/* Opens a gap of `size` bytes at `off`, growing the node as needed. */
static struct list_node *node_open(struct list_node *n, size_t off, size_t size)
{
    n->flags &= ~LIST_NODE_NOCOMPRESS;
    n = node_reserve(n, (size_t)n->bytes + size);
    memmove(n->data + off + size, n->data + off, n->bytes - off);
    n->bytes += (uint32_t)size;
    return n;
}

struct list_node *list_node_insert(struct list_node *n, size_t off, const char *p, size_t len)
{
    size_t size = list_node_entry_size(p, len);
    n = node_open(n, off, size);
    list_node_encode(n->data + off, p, len);
    n->count++;
    return n;
}

struct list_node *list_node_append(struct list_node *n, const char *p, size_t len)
{
    return list_node_insert(n, n->bytes, p, len);
}

struct list_node *list_node_prepend(struct list_node *n, const char *p, size_t len)
{
    return list_node_insert(n, 0, p, len);
}

struct list_node *list_node_delete(struct list_node *n, size_t off, size_t count)
{
    size_t end = off;
    for (size_t i = 0; i < count; i++) end += entry_size(n->data + end);
    memmove(n->data + off, n->data + end, n->bytes - end);
    n->bytes -= (uint32_t)(end - off);
    n->count -= (uint32_t)count;
    return node_shrink(n);
}

struct list_node *list_node_replace(struct list_node *n, size_t off, const char *p, size_t len)
{
    size_t old = entry_size(n->data + off);
    size_t size = list_node_entry_size(p, len);
    n->flags &= ~LIST_NODE_NOCOMPRESS;
    if (size > old) {
        n = node_open(n, off + old, size - old);
    } else if (size < old) {
        memmove(n->data + off + size, n->data + off + old, n->bytes - off - old);
        n->bytes -= (uint32_t)(old - size);
    }
    list_node_encode(n->data + off, p, len);
    return size < old ? node_shrink(n) : n;
}

struct list_node *list_node_split(struct list_node **np, size_t off)
{
    struct list_node *n = *np;
    size_t moved = 0;
    for (size_t o = off; o < n->bytes; o += entry_size(n->data + o)) moved++;
    struct list_node *tail = list_node_new(n->bytes - off);
    memcpy(tail->data, n->data + off, n->bytes - off);
    tail->bytes = n->bytes - (uint32_t)off;
    tail->count = (uint32_t)moved;
    n->bytes = (uint32_t)off;
    n->count -= (uint32_t)moved;
    *np = node_shrink(n);
    return tail;
}

struct list_node *list_node_merge(struct list_node *a, const struct list_node *b)
{
    size_t at = a->bytes;
    a = node_open(a, at, b->bytes);
    memcpy(a->data + at, b->data, b->bytes);
    a->count += b->count;
    return a;
}

/* ---- walking and reading ---- */

size_t list_node_next(const struct list_node *n, size_t off)
{
    return off + entry_size(n->data + off);
}

size_t list_node_prev(const struct list_node *n, size_t off)
{
    size_t body = backlen_read(n->data + off);
    return off - backlen_size(body) - body;
}

size_t list_node_last(const struct list_node *n)
{
    return list_node_prev(n, n->bytes);
}

size_t list_node_seek(const struct list_node *n, size_t index)
{
    size_t off;
    if (index < n->count / 2) {
        off = 0;
        for (size_t i = 0; i < index; i++) off = list_node_next(n, off);
    } else {
        off = n->bytes;
        for (size_t i = n->count; i > index; i--) off = list_node_prev(n, off);
    }
    return off;
}

size_t list_node_entry_at_size(const struct list_node *n, size_t off)
{
    return entry_size(n->data + off);
}

const char *list_node_get(const struct list_node *n, size_t off, char *buf, size_t *len)
{
    struct entry e;
    entry_decode(n->data + off, &e);
    if (e.is_int) {
        *len = format_ll(buf, e.v);
        return buf;
    }
    *len = e.len;
    return (const char *)e.s;
}

bool list_node_get_int(const struct list_node *n, size_t off, long long *v)
{
    struct entry e;
    entry_decode(n->data + off, &e);
    *v = e.v;
    return e.is_int;
}

void list_needle_init(struct list_needle *nd, const char *p, size_t len)
{
    nd->p = p;
    nd->len = len;
    nd->v = 0;
    nd->is_int = as_int(p, len, &nd->v);
}

/* Integers are stored only in canonical form, so an integer entry can only
 * equal a needle that parses to the same integer, and a string entry only a
 * needle that does not parse. */
bool list_node_matches(const struct list_node *n, size_t off, const struct list_needle *nd)
{
    struct entry e;
    entry_decode(n->data + off, &e);
    if (e.is_int) return nd->is_int && e.v == nd->v;
    return !nd->is_int && e.len == nd->len && (e.len == 0 || memcmp(e.s, nd->p, e.len) == 0);
}

/* ---- compression ---- */

#define MIN_COMPRESS_BYTES 48
#define MIN_COMPRESS_GAIN 8

struct list_node *list_node_compress(struct list_node *n)
{
    if (n->flags & (LIST_NODE_COMPRESSED | LIST_NODE_NOCOMPRESS)) return n;
    if (n->bytes < MIN_COMPRESS_BYTES) {
        n->flags |= LIST_NODE_NOCOMPRESS;
        return n;
    }
    unsigned char *tmp = mem_alloc(n->bytes);
    size_t zlen = list_compress(n->data, n->bytes, tmp, n->bytes - MIN_COMPRESS_GAIN);
    if (zlen == 0) {
        n->flags |= LIST_NODE_NOCOMPRESS;
    } else {
        memcpy(n->data, tmp, zlen);
        n = mem_realloc(n, LIST_NODE_HEADER + zlen);
        n->cap = (uint32_t)zlen;
        n->flags |= LIST_NODE_COMPRESSED;
    }
    mem_free(tmp);
    return n;
}

struct list_node *list_node_decompress(struct list_node *n)
{
    if (!list_node_is_compressed(n)) return n;
    struct list_node *raw = list_node_new(n->bytes);
    if (!list_decompress(n->data, n->cap, raw->data, n->bytes)) {
        log_warning("corrupt compressed list node");
        abort();
    }
    raw->prev = n->prev;
    raw->next = n->next;
    raw->count = n->count;
    raw->bytes = n->bytes;
    raw->flags = n->flags & ~LIST_NODE_COMPRESSED;
    mem_free(n);
    return raw;
}

/* ---- validation ---- */

/* Whether the decoded entry is encoded as list_node_encode would encode its
 * value: an integer in its narrowest form, a string that is not the
 * canonical form of an integer, with its shortest header. Equal values then
 * have equal bytes, which the distinct check relies on. */
static bool entry_canonical(const struct entry *e)
{
    long long v;
    if (e->is_int) return e->body == int_body_size(e->v);
    return e->body - e->len == str_header_size(e->len) && !as_int((const char *)e->s, e->len, &v);
}

/* Decodes the entry at d, with `avail` bytes left, into e and returns its
 * size; 0 when it is malformed or not canonical. The back-length must be
 * exactly the one list_node_encode writes, so walking backwards from the
 * next entry lands on this one. */
static size_t entry_check(const unsigned char *d, size_t avail, struct entry *e)
{
    if (avail == 0) return 0;
    size_t header = d[0] == TAG_STR32 ? 5 : (d[0] >= TAG_INT13 && d[0] < TAG_STR32) ? 2 : 1;
    if (avail < header) return 0;
    size_t body = body_size(d);
    if (body == 0 || body > avail) return 0;
    size_t bl = backlen_size(body);
    if (bl > avail - body) return 0;
    unsigned char expect[5];
    backlen_write(expect, body);
    if (memcmp(expect, d + body, bl) != 0) return 0;
    entry_decode(d, e);
    return entry_canonical(e) ? body + bl : 0;
}

static size_t decimal_len(long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n = v < 0 ? 2 : 1;
    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

/* The checks of list_node_check on a plain node. */
static bool check_plain(const struct list_node *n, size_t stride, size_t *longest)
{
    if (n->bytes > n->cap) return false;
    struct distinct seen;
    if (stride) distinct_init(&seen, n->count / stride + 1);
    size_t off = 0, count = 0, most = 0;
    bool ok = true;
    while (off < n->bytes) {
        struct entry e;
        size_t size = entry_check(n->data + off, n->bytes - off, &e);
        if (size == 0 || count == n->count ||
            (stride && count % stride == 0 && !distinct_add(&seen, n->data + off, e.body))) {
            ok = false;
            break;
        }
        size_t len = e.is_int ? decimal_len(e.v) : e.len;
        if (len > most) most = len;
        off += size;
        count++;
    }
    if (stride) distinct_done(&seen);
    if (longest) *longest = most;
    return ok && off == n->bytes && count == n->count;
}

bool list_node_check(const struct list_node *n, size_t distinct_stride, size_t *longest)
{
    if (!list_node_is_compressed(n)) return check_plain(n, distinct_stride, longest);
    struct list_node *raw = list_node_new(n->bytes);
    bool ok = list_decompress(n->data, n->cap, raw->data, n->bytes);
    raw->count = n->count;
    raw->bytes = n->bytes;
    ok = ok && check_plain(raw, distinct_stride, longest);
    list_node_free(raw);
    return ok;
}

bool list_node_validate(const struct list_node *n)
{
    return list_node_check(n, 0, NULL);
}

/* ---- snapshots ---- */

/* list_compress output grows at most this much when decompressed (each
 * length byte of a copy token adds 255): a bound on what a node read from a
 * file may claim before anything is allocated for it. */
#define DECOMPRESS_MAX_RATIO 255
#define DECOMPRESS_MAX_EXTRA 131

void list_node_save(const struct list_node *n, struct codec_out *out)
{
    codec_put_u8(out, n->flags & LIST_NODE_OWN_FLAGS);
    codec_put_varint(out, n->count);
    codec_put_varint(out, n->bytes);
    codec_put_bytes(out, n->data, list_node_is_compressed(n) ? n->cap : n->bytes);
}

/* Whether a node header read from a file is plausible. */
static bool header_sane(unsigned flags, uint64_t count, uint64_t bytes, size_t stored, size_t distinct_stride)
{
    bool compressed = flags & LIST_NODE_COMPRESSED;
    if ((flags & ~LIST_NODE_OWN_FLAGS) || count == 0 || count > bytes || bytes > LIST_NODE_MAX_BYTES) return false;
    if (distinct_stride > 0 && compressed) return false;
    if (!compressed) return stored == bytes;
    return stored > 0 && stored < bytes && bytes <= (uint64_t)stored * DECOMPRESS_MAX_RATIO + DECOMPRESS_MAX_EXTRA;
}

struct list_node *list_node_load(struct codec_in *in, size_t distinct_stride, size_t *longest)
{
    size_t at = codec_in_offset(in);
    unsigned flags;
    uint64_t count, bytes;
    const char *stored;
    size_t len;
    if (!codec_get_u8(in, &flags) || !codec_get_varint(in, &count) || !codec_get_varint(in, &bytes) ||
        !codec_get_bytes(in, &stored, &len))
        return NULL;
    if (!header_sane(flags, count, bytes, len, distinct_stride)) {
        codec_fail_at(in, at, "corrupt packed node header");
        return NULL;
    }
    struct list_node *n = list_node_new(len);
    memcpy(n->data, stored, len);
    n->count = (uint32_t)count;
    n->bytes = (uint32_t)bytes;
    n->flags = flags;
    if (flags & LIST_NODE_COMPRESSED) n->cap = (uint32_t)len;
    if (!list_node_check(n, distinct_stride, longest)) {
        list_node_free(n);
        codec_fail_at(in, at, "corrupt packed node%s", distinct_stride > 0 ? " (or repeated members)" : "");
        return NULL;
    }
    return n;
}
