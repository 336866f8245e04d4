/* codec: the byte encoding values are saved in (snapshots and the AOF base)
 * and read back from. Types write their native encodings with it
 * (object_ops.save / .load); persistence frames them into files.
 *
 * Primitives, all little-endian:
 *   u8       one byte
 *   varint   unsigned LEB128, 7 bits a byte, low group first, at most 10 bytes
 *   svarint  a signed 64-bit integer zigzag-mapped to a varint (-1 is one byte)
 *   u64      eight bytes (doubles travel as their bits)
 *   bytes    a varint length, then the bytes
 *   raw      n bytes whose count the reader already knows
 *
 * Values are framed: between codec_out_begin_value and codec_out_end_value
 * the writer emits chunks — a varint length and that many bytes — and a
 * zero length ends the value. A reader can so step over a value without
 * decoding it (a snapshot is checked whole before anything is applied). No
 * primitive is ever split between two chunks, so the reader hands out
 * pointers straight into the bytes it reads (a stream block is one memcpy
 * from the mapped file). Outside a value the same primitives are written
 * without framing.
 *
 * The reader checks every bound: a truncated or hostile input makes it fail
 * with a message and the byte offset, never read past the end. Counts that
 * size an allocation go through codec_get_count, which refuses any count the
 * remaining input could not hold. After the first failure every read fails,
 * so a loader may check once at the end of a run of reads. */
#ifndef RUNNEL_DB_CODEC_H
#define RUNNEL_DB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version of values written through the codec by the types' save hooks
 * (their native encodings and the framing): a snapshot carries it in its
 * header, a DUMP payload in its trailer. Bump it when either changes. */
#define CODEC_VALUE_VERSION 2

/* Receives the writer's bytes, in order. */
typedef void codec_sink_fn(void *ctx, const void *p, size_t len);

struct codec_out {
    unsigned char *buf;
    size_t cap;
    size_t used;
    bool in_value;
    size_t chunk_start; /* in a value: where the open chunk's header was reserved */
    codec_sink_fn *sink;
    void *ctx;
};

/* A writer with a buffer of its own, handing full buffers to sink. */
void codec_out_init(struct codec_out *o, codec_sink_fn *sink, void *ctx);
/* Hands what is buffered to the sink and frees the buffer (outside a value). */
void codec_out_finish(struct codec_out *o);
/* Hands what is buffered to the sink (outside a value). */
void codec_out_flush(struct codec_out *o);

void codec_out_begin_value(struct codec_out *o);
void codec_out_end_value(struct codec_out *o);

void codec_put_u8(struct codec_out *o, unsigned v);
void codec_put_varint(struct codec_out *o, uint64_t v);
void codec_put_svarint(struct codec_out *o, int64_t v);
void codec_put_u64(struct codec_out *o, uint64_t v);
void codec_put_double(struct codec_out *o, double d);
void codec_put_bytes(struct codec_out *o, const void *p, size_t len);
void codec_put_raw(struct codec_out *o, const void *p, size_t len);

struct codec_in {
    const unsigned char *data;
    size_t size;
    size_t pos;
    size_t limit;  /* end of the open chunk in a value, else size */
    bool in_value;
    bool value_ended; /* the terminator was read */
    bool failed;
    char err[256];
};

/* A reader over data[0..size) positioned at `pos` (offsets it reports are
 * from data[0]). */
void codec_in_init(struct codec_in *in, const void *data, size_t size, size_t pos);

/* Records the first failure: the message, then " (offset N)". Returns false
 * so that loaders can `return codec_fail(...)`. */
bool codec_fail(struct codec_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool codec_fail_at(struct codec_in *in, size_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Enters a value (reads its first chunk's length). */
bool codec_in_begin_value(struct codec_in *in);
/* Leaves a value: fails unless every byte of it was read. */
bool codec_in_end_value(struct codec_in *in);
/* Steps over a whole value from its start, reading only chunk lengths. */
bool codec_in_skip_value(struct codec_in *in);

bool codec_get_u8(struct codec_in *in, unsigned *v);
bool codec_get_varint(struct codec_in *in, uint64_t *v);
bool codec_get_svarint(struct codec_in *in, int64_t *v);
bool codec_get_u64(struct codec_in *in, uint64_t *v);
bool codec_get_double(struct codec_in *in, double *d);
/* The bytes stay in the reader's input: *p points into it. */
bool codec_get_bytes(struct codec_in *in, const char **p, size_t *len);
bool codec_get_raw(struct codec_in *in, size_t len, const void **p);
/* A count of items that each take at least min_bytes (>= 1) of input:
 * refused when the rest of the input is too short to hold them, so a
 * corrupted count can never size an allocation. */
bool codec_get_count(struct codec_in *in, size_t min_bytes, uint64_t *n);

/* Offset of the next byte to read. */
static inline size_t codec_in_offset(const struct codec_in *in)
{
    return in->pos;
}

#endif
