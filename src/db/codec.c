/* codec: see codec.h for the primitives and the framing.
 *
 * The writer reserves CHUNK_HEADER bytes in its buffer where each chunk of
 * a value starts and fills them in when the chunk closes: a chunk shorter
 * than 128 bytes (most values) is moved down to a one-byte length, longer
 * ones keep a three-byte varint padded with continuation bits (LEB128
 * readers accept it). Anything larger than half the buffer goes to the sink
 * directly, as a chunk of its own inside a value. */
#include "db/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"
#include "util/varint.h"

#define OUT_BUFFER (64 * 1024)
#define CHUNK_HEADER 3 /* a chunk held in the buffer is shorter than 2^21 bytes */

/* ---- writing ---- */

static size_t varint_encode(unsigned char *out, uint64_t v)
{
    return (size_t)(varint_put(out, v) - out);
}

void codec_out_init(struct codec_out *o, codec_sink_fn *sink, void *ctx)
{
    *o = (struct codec_out){.buf = mem_alloc(OUT_BUFFER), .cap = OUT_BUFFER, .sink = sink, .ctx = ctx};
}

static void sink_buffer(struct codec_out *o)
{
    if (o->used) o->sink(o->ctx, o->buf, o->used);
    o->used = 0;
}

void codec_out_flush(struct codec_out *o)
{
    sink_buffer(o);
}

void codec_out_finish(struct codec_out *o)
{
    sink_buffer(o);
    mem_free(o->buf);
    o->buf = NULL;
}

static void chunk_open(struct codec_out *o)
{
    o->chunk_start = o->used;
    o->used += CHUNK_HEADER;
}

/* Writes the open chunk's length into its reserved header. */
static void chunk_close(struct codec_out *o)
{
    size_t len = o->used - o->chunk_start - CHUNK_HEADER;
    unsigned char *h = o->buf + o->chunk_start;
    if (len == 0) {
        o->used = o->chunk_start;
    } else if (len < 0x80) {
        h[0] = (unsigned char)len;
        memmove(h + 1, h + CHUNK_HEADER, len);
        o->used -= CHUNK_HEADER - 1;
    } else {
        h[0] = (unsigned char)(0x80 | (len & 0x7f));
        h[1] = (unsigned char)(0x80 | ((len >> 7) & 0x7f));
        h[2] = (unsigned char)(len >> 14);
    }
}

/* Makes room for n contiguous bytes (n <= half the buffer); inside a value
 * they land in one chunk. */
static void room(struct codec_out *o, size_t n)
{
    if (o->cap - o->used >= n) return;
    if (!o->in_value) {
        sink_buffer(o);
        return;
    }
    chunk_close(o);
    sink_buffer(o);
    chunk_open(o);
}

void codec_out_begin_value(struct codec_out *o)
{
    room(o, CHUNK_HEADER + VARINT_MAX_BYTES);
    o->in_value = true;
    chunk_open(o);
}

void codec_out_end_value(struct codec_out *o)
{
    chunk_close(o);
    o->in_value = false;
    codec_put_u8(o, 0);
}

void codec_put_u8(struct codec_out *o, unsigned v)
{
    room(o, 1);
    o->buf[o->used++] = (unsigned char)v;
}

void codec_put_varint(struct codec_out *o, uint64_t v)
{
    room(o, VARINT_MAX_BYTES);
    o->used += varint_encode(o->buf + o->used, v);
}

void codec_put_svarint(struct codec_out *o, int64_t v)
{
    codec_put_varint(o, ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0));
}

void codec_put_u64(struct codec_out *o, uint64_t v)
{
    room(o, 8);
    for (int i = 0; i < 8; i++) o->buf[o->used++] = (unsigned char)(v >> (8 * i));
}

void codec_put_double(struct codec_out *o, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    codec_put_u64(o, bits);
}

/* head (a length prefix, possibly empty) and the bytes, kept together. */
static void put_item(struct codec_out *o, const unsigned char *head, size_t hlen, const void *p, size_t len)
{
    size_t total = hlen + len;
    if (total <= o->cap / 2) {
        room(o, total);
        if (hlen) memcpy(o->buf + o->used, head, hlen);
        if (len) memcpy(o->buf + o->used + hlen, p, len);
        o->used += total;
        return;
    }
    if (o->in_value) chunk_close(o);
    sink_buffer(o);
    if (o->in_value) {
        unsigned char ch[VARINT_MAX_BYTES];
        o->sink(o->ctx, ch, varint_encode(ch, total));
    }
    if (hlen) o->sink(o->ctx, head, hlen);
    o->sink(o->ctx, p, len);
    if (o->in_value) chunk_open(o);
}

void codec_put_bytes(struct codec_out *o, const void *p, size_t len)
{
    unsigned char head[VARINT_MAX_BYTES];
    put_item(o, head, varint_encode(head, len), p, len);
}

void codec_put_raw(struct codec_out *o, const void *p, size_t len)
{
    if (len) put_item(o, NULL, 0, p, len);
}

/* ---- reading ---- */

void codec_in_init(struct codec_in *in, const void *data, size_t size, size_t pos)
{
    *in = (struct codec_in){.data = data, .size = size, .pos = pos, .limit = size};
}

static bool fail_va(struct codec_in *in, size_t offset, const char *fmt, va_list ap)
{
    if (in->failed) return false;
    in->failed = true;
    int n = vsnprintf(in->err, sizeof(in->err), fmt, ap);
    if (n >= 0 && (size_t)n < sizeof(in->err))
        snprintf(in->err + n, sizeof(in->err) - (size_t)n, " (offset %zu)", offset);
    return false;
}

bool codec_fail(struct codec_in *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(in, in->pos, fmt, ap);
    va_end(ap);
    return false;
}

bool codec_fail_at(struct codec_in *in, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(in, offset, fmt, ap);
    va_end(ap);
    return false;
}

static bool truncated(struct codec_in *in)
{
    return codec_fail(in, "truncated: the input ends inside a record (%zu bytes)", in->size);
}

/* A varint whose bytes must all lie before `end`. */
static bool varint_within(struct codec_in *in, size_t end, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = in->pos;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (in->pos >= end) {
            if (end == in->size) return truncated(in);
            return codec_fail_at(in, start, "malformed value: a number crosses the end of its chunk");
        }
        unsigned b = in->data[in->pos++];
        if (shift == 63 && b > 1) break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return codec_fail_at(in, start, "malformed number");
}

/* In a value at the end of a chunk: opens the next one. */
static bool next_chunk(struct codec_in *in)
{
    uint64_t len;
    if (in->value_ended) return codec_fail(in, "the value ends before its contents do");
    if (!varint_within(in, in->size, &len)) return false;
    if (len == 0) {
        in->value_ended = true;
        in->limit = in->pos;
        return codec_fail(in, "the value ends before its contents do");
    }
    if (len > in->size - in->pos) return truncated(in);
    in->limit = in->pos + (size_t)len;
    return true;
}

/* Makes sure the next primitive's first byte is available: in a value,
 * steps into the next chunk when the current one is used up. */
static bool at_data(struct codec_in *in)
{
    if (in->failed) return false;
    if (in->pos < in->limit) return true;
    if (!in->in_value) return truncated(in);
    return next_chunk(in);
}

/* n bytes (n >= 1) at the current position, inside one chunk. */
static bool need(struct codec_in *in, size_t n)
{
    if (!at_data(in)) return false;
    if (in->limit - in->pos >= n) return true;
    if (!in->in_value) return truncated(in);
    return codec_fail(in, "malformed value: %zu bytes cross the end of their chunk", n);
}

bool codec_in_begin_value(struct codec_in *in)
{
    if (in->failed) return false;
    in->in_value = true;
    in->value_ended = false;
    in->limit = in->pos;
    return true;
}

bool codec_in_end_value(struct codec_in *in)
{
    if (in->failed) return false;
    if (in->pos != in->limit)
        return codec_fail(in, "malformed value: %zu bytes left unread in its chunk", in->limit - in->pos);
    uint64_t len = 0;
    if (!in->value_ended && !varint_within(in, in->size, &len)) return false;
    if (len != 0) return codec_fail(in, "malformed value: more chunks than its contents");
    in->in_value = false;
    in->limit = in->size;
    return true;
}

bool codec_in_skip_value(struct codec_in *in)
{
    if (in->failed) return false;
    for (;;) {
        uint64_t len;
        if (!varint_within(in, in->size, &len)) return false;
        if (len == 0) return true;
        if (len > in->size - in->pos) return truncated(in);
        in->pos += (size_t)len;
    }
}

bool codec_get_u8(struct codec_in *in, unsigned *v)
{
    if (!need(in, 1)) return false;
    *v = in->data[in->pos++];
    return true;
}

bool codec_get_varint(struct codec_in *in, uint64_t *v)
{
    return at_data(in) && varint_within(in, in->limit, v);
}

bool codec_get_svarint(struct codec_in *in, int64_t *v)
{
    uint64_t u;
    if (!codec_get_varint(in, &u)) return false;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return true;
}

bool codec_get_u64(struct codec_in *in, uint64_t *v)
{
    if (!need(in, 8)) return false;
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--) r = r << 8 | in->data[in->pos + (size_t)i];
    in->pos += 8;
    *v = r;
    return true;
}

bool codec_get_double(struct codec_in *in, double *d)
{
    uint64_t bits;
    if (!codec_get_u64(in, &bits)) return false;
    memcpy(d, &bits, sizeof(*d));
    return true;
}

bool codec_get_raw(struct codec_in *in, size_t len, const void **p)
{
    if (in->failed) return false;
    if (len > 0 && !need(in, len)) return false;
    *p = in->data + in->pos;
    in->pos += len;
    return true;
}

bool codec_get_bytes(struct codec_in *in, const char **p, size_t *len)
{
    uint64_t n;
    if (!codec_get_varint(in, &n)) return false;
    if (n > in->limit - in->pos) {
        if (!in->in_value) return truncated(in);
        return codec_fail(in, "malformed value: %llu bytes cross the end of their chunk", (unsigned long long)n);
    }
    *p = (const char *)in->data + in->pos;
    *len = (size_t)n;
    in->pos += (size_t)n;
    return true;
}

bool codec_get_count(struct codec_in *in, size_t min_bytes, uint64_t *n)
{
    size_t at = in->pos;
    if (!codec_get_varint(in, n)) return false;
    if (*n > (in->size - in->pos) / (min_bytes ? min_bytes : 1))
        return codec_fail_at(in, at, "implausible count %llu: the rest of the input cannot hold it",
                             (unsigned long long)*n);
    return true;
}
