/* rdb_packed: see rdb_packed.h. The layouts, as Redis writes them:
 *
 * ziplist  = u32:bytes u32:tail u16:count { entry } 0xFF      (little-endian)
 *   entry  = prevlen (1 byte < 254, or 0xFE + u32) encoding data
 *   encoding 00pppppp / 01pppppp qqqqqqqq / 0x80 + u32 big-endian: a string
 *   of that length; 0xC0 int16, 0xD0 int32, 0xE0 int64, 0xF0 int24, 0xFE
 *   int8 (little-endian); 0xF1..0xFD the integer 0..12 itself.
 * listpack = u32:bytes u16:count { entry } 0xFF
 *   entry  = encoding data backlen (1 to 5 bytes: the entry's length so far)
 *   encoding 0xxxxxxx 7-bit uint; 10xxxxxx 6-bit string length; 110xxxxx
 *   + byte 13-bit signed int; 1110xxxx + byte 12-bit string length; 0xF0 +
 *   u32 string length; 0xF1..0xF4 int16/24/32/64 little-endian.
 * intset   = u32:width (2, 4, 8) u32:count { integer } sorted ascending. */
#include "persistence/rdb_packed.h"

#include <string.h>

#include "util/numbers.h"

void rdb_elem_bytes(struct rdb_elem *e)
{
    if (!e->is_int) return;
    e->len = format_ll(e->buf, e->v);
    e->p = e->buf;
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* An n-byte little-endian two's complement integer. */
static long long get_signed(const unsigned char *p, int n)
{
    uint64_t v = get_le(p, n);
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~0ULL << (8 * n);
    return (long long)v;
}

bool rdb_packed_init(struct rdb_packed_iter *it, enum rdb_packed_kind kind, const void *blob, size_t len)
{
    const unsigned char *b = blob;
    size_t header = kind == RDB_PACKED_ZIPLIST ? 10 : 6;
    *it = (struct rdb_packed_iter){.kind = kind, .start = b};
    if (len < header + 1 || get_le(b, 4) != len || b[len - 1] != 0xFF) {
        it->bad = kind == RDB_PACKED_ZIPLIST ? "a ziplist's header does not match its size"
                                             : "a listpack's header does not match its size";
        return false;
    }
    uint64_t declared = get_le(b + header - 2, 2);
    it->declared = declared == 0xFFFF ? SIZE_MAX : (size_t)declared;
    it->p = b + header;
    it->end = b + len - 1;
    return true;
}

static bool packed_fail(struct rdb_packed_iter *it, const char *why)
{
    it->bad = why;
    it->done = true;
    return false;
}

/* A string of n bytes at p: checks it ends before the terminator. */
static bool take_string(struct rdb_packed_iter *it, struct rdb_elem *e, const unsigned char *p, uint64_t n)
{
    if (n > (uint64_t)(it->end - p)) return packed_fail(it, "a packed string runs past its blob");
    e->is_int = false;
    e->p = (const char *)p;
    e->len = (size_t)n;
    return true;
}

static bool ziplist_next(struct rdb_packed_iter *it, struct rdb_elem *e)
{
    const unsigned char *p = it->p;
    size_t room = (size_t)(it->end - p);
    size_t prevlen_size = p[0] < 254 ? 1 : 5;
    if (p[0] == 255 || room < prevlen_size + 1) return packed_fail(it, "a ziplist entry runs past its blob");
    p += prevlen_size;
    room -= prevlen_size;
    unsigned char b = p[0];
    const unsigned char *data;
    int width = 0;
    switch (b >> 6) {
    case 0:
        if (!take_string(it, e, p + 1, b & 0x3f)) return false;
        it->p = p + 1 + e->len;
        return true;
    case 1:
        if (room < 2) return packed_fail(it, "a ziplist entry runs past its blob");
        if (!take_string(it, e, p + 2, (uint64_t)(b & 0x3f) << 8 | p[1])) return false;
        it->p = p + 2 + e->len;
        return true;
    case 2:
        if (b != 0x80 || room < 5) return packed_fail(it, "a ziplist entry has a bad encoding");
        if (!take_string(it, e, p + 5,
                         (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4]))
            return false;
        it->p = p + 5 + e->len;
        return true;
    }
    data = p + 1;
    switch (b) {
    case 0xC0: width = 2; break;
    case 0xD0: width = 4; break;
    case 0xE0: width = 8; break;
    case 0xF0: width = 3; break;
    case 0xFE: width = 1; break;
    default:
        if (b < 0xF1 || b > 0xFD) return packed_fail(it, "a ziplist entry has a bad encoding");
        e->is_int = true;
        e->v = (b & 0x0f) - 1;
        it->p = data;
        return true;
    }
    if (room < 1 + (size_t)width) return packed_fail(it, "a ziplist entry runs past its blob");
    e->is_int = true;
    e->v = get_signed(data, width);
    it->p = data + width;
    return true;
}

/* The bytes a listpack entry's back length takes for an entry of l bytes. */
static size_t listpack_backlen_size(size_t l)
{
    if (l <= 127) return 1;
    if (l < 16383) return 2;
    if (l < 2097151) return 3;
    if (l < 268435455) return 4;
    return 5;
}

static bool listpack_next(struct rdb_packed_iter *it, struct rdb_elem *e)
{
    const unsigned char *p = it->p;
    size_t room = (size_t)(it->end - p);
    unsigned char b = p[0];
    size_t header = 1;
    int width = 0;
    e->is_int = true;
    if ((b & 0x80) == 0) {
        e->v = b & 0x7f;
    } else if ((b & 0xC0) == 0x80) {
        if (!take_string(it, e, p + 1, b & 0x3f)) return false;
    } else if ((b & 0xE0) == 0xC0) {
        if (room < 2) return packed_fail(it, "a listpack entry runs past its blob");
        long long uv = (long long)(b & 0x1f) << 8 | p[1];
        e->v = uv >= 1 << 12 ? uv - (1 << 13) : uv;
        header = 2;
    } else if ((b & 0xF0) == 0xE0) {
        if (room < 2) return packed_fail(it, "a listpack entry runs past its blob");
        header = 2;
        if (!take_string(it, e, p + 2, (uint64_t)(b & 0x0f) << 8 | p[1])) return false;
    } else if (b == 0xF0) {
        if (room < 5) return packed_fail(it, "a listpack entry runs past its blob");
        header = 5;
        if (!take_string(it, e, p + 5, get_le(p + 1, 4))) return false;
    } else if (b >= 0xF1 && b <= 0xF4) {
        static const int widths[] = {2, 3, 4, 8};
        width = widths[b - 0xF1];
        if (room < 1 + (size_t)width) return packed_fail(it, "a listpack entry runs past its blob");
        e->v = get_signed(p + 1, width);
    } else {
        return packed_fail(it, "a listpack entry has a bad encoding");
    }
    size_t entry = header + (e->is_int ? (size_t)width : e->len);
    size_t total = entry + listpack_backlen_size(entry);
    if (total > room) return packed_fail(it, "a listpack entry runs past its blob");
    it->p = p + total;
    return true;
}

bool rdb_packed_next(struct rdb_packed_iter *it, struct rdb_elem *e)
{
    if (it->done) return false;
    if (it->p == it->end) {
        it->done = true;
        if (it->declared != SIZE_MAX && it->declared != it->count) it->bad = "a packed blob's count is wrong";
        return false;
    }
    bool ok = it->kind == RDB_PACKED_ZIPLIST ? ziplist_next(it, e) : listpack_next(it, e);
    if (ok) it->count++;
    return ok;
}

bool rdb_packed_ok(const struct rdb_packed_iter *it)
{
    return it->done && !it->bad;
}

bool rdb_intset_open(const void *blob, size_t len, unsigned *width, uint32_t *count)
{
    const unsigned char *b = blob;
    if (len < 8) return false;
    uint64_t w = get_le(b, 4), n = get_le(b + 4, 4);
    if (w != 2 && w != 4 && w != 8) return false;
    if (len != 8 + n * w) return false;
    *width = (unsigned)w;
    *count = (uint32_t)n;
    return true;
}

long long rdb_intset_get(const void *blob, unsigned width, uint32_t i)
{
    return get_signed((const unsigned char *)blob + 8 + (size_t)i * width, (int)width);
}

bool rdb_lzf_decompress(const void *in, size_t inlen, void *out, size_t outlen)
{
    const unsigned char *ip = in, *iend = ip + inlen;
    unsigned char *op = out, *oend = op + outlen, *ostart = out;
    while (ip < iend) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) { /* a literal run of ctrl + 1 bytes */
            size_t n = ctrl + 1;
            if ((size_t)(iend - ip) < n || (size_t)(oend - op) < n) return false;
            memcpy(op, ip, n);
            ip += n;
            op += n;
            continue;
        }
        size_t n = ctrl >> 5; /* a back reference */
        if (n == 7) {
            if (ip >= iend) return false;
            n += *ip++;
        }
        if (ip >= iend) return false;
        size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
        n += 2;
        if (back > (size_t)(op - ostart) || (size_t)(oend - op) < n) return false;
        const unsigned char *ref = op - back;
        for (size_t i = 0; i < n; i++) op[i] = ref[i]; /* may overlap forwards */
        op += n;
    }
    return op == oend;
}
