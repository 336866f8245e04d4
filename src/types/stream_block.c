/* stream_block: packed runs of stream entries (see stream_block.h).
 *
 * Byte layout of data[]:
 *
 *   master:  varint n, then n × (varint len, name bytes)
 *   entry:   varint head      (ms - first.ms) << 2 | flags
 *            varint seq       seq - first.seq when ms == first.ms, else seq
 *            [varint nfields] only without FLAG_SAME
 *            FLAG_SAME: master_count × (varint len, value bytes)
 *            otherwise: nfields × (varint len, name, varint len, value)
 *            rvarint back     bytes from head to here, readable backwards
 *
 * Varints are LEB128 (7 bits a byte, low group first). The back length is
 * stored highest group first with the continuation bit on every group but
 * the highest, so reading from the entry's end recovers it. A two-field
 * entry ("field" "value" with a master of "field") takes about ten bytes.
 *
 * Deletion sets a flag bit in the head varint: its low bits never change
 * its encoded length, so it is rewritten in place. */
#include "types/stream_block.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "types/list_compress.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/varint.h"

#define FLAG_DELETED 1u
#define FLAG_SAME 2u
#define MAX_MS_DELTA (UINT64_MAX >> 2)

/* ---- back lengths (forward varints are util/varint.h) ---- */

/* Writes v so that it can be read backwards from its last byte. */
static uint8_t *rvarint_put(uint8_t *p, uint64_t v)
{
    size_t n = varint_len(v);
    for (size_t j = n; j-- > 0;) {
        uint8_t group = (uint8_t)((v >> (7 * j)) & 0x7f);
        if (j + 1 < n) group |= 0x80; /* every group below the highest continues */
        *p++ = group;
    }
    return p;
}

/* Reads a back length whose last byte is at end[-1]; *start gets its first byte. */
static uint64_t rvarint_get(const uint8_t *end, const uint8_t **start)
{
    uint64_t v = 0;
    unsigned shift = 0;
    const uint8_t *p = end;
    for (;;) {
        uint8_t b = *--p;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
    }
    *start = p;
    return v;
}

/* ---- sizes ---- */

static size_t bytes_len(size_t len)
{
    return varint_len(len) + len;
}

static size_t master_size(const struct arg *pairs, size_t npairs)
{
    size_t n = varint_len(npairs);
    for (size_t i = 0; i < npairs; i++) n += bytes_len(pairs[2 * i].len);
    return n;
}

/* Whether the entry's field names are exactly the block's master names. */
static bool same_as_master(const struct stream_block *b, const struct arg *pairs, size_t npairs)
{
    if (npairs != b->master_count) return false;
    uint64_t skip;
    const uint8_t *p = varint_get(b->data, &skip);
    for (size_t i = 0; i < npairs; i++) {
        uint64_t len;
        p = varint_get(p, &len);
        if (len != pairs[2 * i].len || memcmp(p, pairs[2 * i].ptr, len) != 0) return false;
        p += len;
    }
    return true;
}

static uint64_t head_of(const struct stream_block *b, struct stream_id id, unsigned flags)
{
    return (id.ms - b->first.ms) << 2 | flags;
}

static uint64_t seq_of(const struct stream_block *b, struct stream_id id)
{
    return id.ms == b->first.ms ? id.seq - b->first.seq : id.seq;
}

/* Bytes of the entry before its back length. */
static size_t body_size(const struct stream_block *b, struct stream_id id, const struct arg *pairs, size_t npairs,
                        bool same)
{
    size_t n = varint_len(head_of(b, id, 0)) + varint_len(seq_of(b, id));
    if (!same) n += varint_len(npairs);
    for (size_t i = 0; i < npairs; i++) {
        if (!same) n += bytes_len(pairs[2 * i].len);
        n += bytes_len(pairs[2 * i + 1].len);
    }
    return n;
}

size_t stream_block_entry_size(const struct stream_block *b, struct stream_id id, const struct arg *pairs,
                               size_t npairs)
{
    size_t body = body_size(b, id, pairs, npairs, same_as_master(b, pairs, npairs));
    return body + varint_len(body);
}

bool stream_block_can_hold(const struct stream_block *b, struct stream_id id)
{
    return id.ms >= b->first.ms && id.ms - b->first.ms <= MAX_MS_DELTA;
}

/* ---- a thawed block's kept frozen copy ---- */

/* Where a thawed block keeps the pointer: the first 8-byte boundary past
 * its entries (aligned, so that leak checkers scanning memory see it). */
static size_t kept_offset(uint32_t used)
{
    size_t at = offsetof(struct stream_block, data) + used; /* from the block's start */
    return (((at + 7) & ~(size_t)7)) - offsetof(struct stream_block, data);
}

static struct stream_block *kept_frozen(const struct stream_block *b)
{
    struct stream_block *f;
    memcpy(&f, b->data + kept_offset(b->used), sizeof(f));
    return f;
}

void stream_block_drop_kept(struct stream_block *b)
{
    if (!(b->flags & STREAM_BLOCK_KEEPS_FROZEN)) return;
    mem_free(kept_frozen(b));
    b->flags &= ~STREAM_BLOCK_KEEPS_FROZEN;
}

/* ---- building ---- */

/* Makes room for `extra` more bytes; the block may move. */
static struct stream_block *reserve(struct stream_block *b, size_t extra)
{
    size_t need = (size_t)b->used + extra;
    if (need <= b->cap) return b;
    b = mem_realloc(b, sizeof(*b) + need);
    b->cap = (uint32_t)(mem_usable_size(b) - sizeof(*b));
    return b;
}

static uint8_t *bytes_put(uint8_t *p, const char *data, size_t len)
{
    p = varint_put(p, len);
    memcpy(p, data, len);
    return p + len;
}

struct stream_block *stream_block_new(struct stream_id id, const struct arg *pairs, size_t npairs)
{
    struct stream_block *b = mem_alloc(sizeof(*b));
    *b = (struct stream_block){.first = id};
    size_t master = master_size(pairs, npairs);
    b = reserve(b, master);
    uint8_t *p = varint_put(b->data, npairs);
    for (size_t i = 0; i < npairs; i++) p = bytes_put(p, pairs[2 * i].ptr, pairs[2 * i].len);
    b->used = b->master_bytes = (uint32_t)master;
    b->master_count = (uint32_t)npairs;
    return stream_block_append(b, id, pairs, npairs);
}

void stream_block_free(struct stream_block *b)
{
    if (!b) return;
    stream_block_drop_kept(b);
    mem_free(b);
}

size_t stream_block_memory(const struct stream_block *b)
{
    size_t n = sizeof(*b) + b->cap;
    if (b->flags & STREAM_BLOCK_KEEPS_FROZEN)
        n += kept_offset(b->used) - b->used + sizeof(void *) + stream_block_memory(kept_frozen(b));
    return n;
}

struct stream_block *stream_block_append(struct stream_block *b, struct stream_id id, const struct arg *pairs,
                                         size_t npairs)
{
    stream_block_drop_kept(b);
    bool same = same_as_master(b, pairs, npairs);
    size_t body = body_size(b, id, pairs, npairs, same);
    b = reserve(b, body + varint_len(body));
    uint8_t *p = b->data + b->used;
    p = varint_put(p, head_of(b, id, same ? FLAG_SAME : 0));
    p = varint_put(p, seq_of(b, id));
    if (!same) p = varint_put(p, npairs);
    for (size_t i = 0; i < npairs; i++) {
        if (!same) p = bytes_put(p, pairs[2 * i].ptr, pairs[2 * i].len);
        p = bytes_put(p, pairs[2 * i + 1].ptr, pairs[2 * i + 1].len);
    }
    p = rvarint_put(p, body);
    b->used = (uint32_t)(p - b->data);
    b->entries++;
    return b;
}

struct stream_block *stream_block_shrink(struct stream_block *b)
{
    stream_block_drop_kept(b);
    if (b->cap == b->used) return b;
    b = mem_realloc(b, sizeof(*b) + b->used);
    b->cap = (uint32_t)(mem_usable_size(b) - sizeof(*b));
    return b;
}

/* ---- freezing ---- */

/* Blocks smaller than this are not worth a compressor's setup. */
#define FREEZE_MIN_BYTES 64

struct stream_block *stream_block_freeze(struct stream_block *b)
{
    if (b->flags & STREAM_BLOCK_KEEPS_FROZEN) { /* unchanged since thawed: no need to compress */
        struct stream_block *f = kept_frozen(b);
        mem_free(b);
        return f;
    }
    if (b->flags & (STREAM_BLOCK_FROZEN | STREAM_BLOCK_RAW_ONLY)) return b;
    if (b->used < FREEZE_MIN_BYTES) {
        b->flags |= STREAM_BLOCK_RAW_ONLY;
        return b;
    }
    /* compression must save an eighth, or the thaw it costs later is not paid for */
    size_t cap = b->used - b->used / 8;
    uint8_t *tmp = mem_alloc(cap);
    size_t zlen = list_compress(b->data, b->used, tmp, cap);
    if (zlen == 0) {
        b->flags |= STREAM_BLOCK_RAW_ONLY;
    } else {
        memcpy(b->data, tmp, zlen);
        b = mem_realloc(b, sizeof(*b) + zlen);
        b->cap = (uint32_t)zlen;
        b->flags |= STREAM_BLOCK_FROZEN;
    }
    mem_free(tmp);
    return b;
}

/* A raw block decompressed from b, with `extra` bytes allocated past data[used]. */
static struct stream_block *thaw_alloc(const struct stream_block *b, size_t extra)
{
    struct stream_block *raw = mem_alloc(sizeof(*raw) + b->used + extra);
    *raw = *b;
    if (!list_decompress(b->data, b->cap, raw->data, b->used)) {
        log_warning("corrupt frozen stream block");
        abort();
    }
    raw->cap = b->used;
    raw->flags &= ~STREAM_BLOCK_FROZEN;
    return raw;
}

struct stream_block *stream_block_thaw_copy(const struct stream_block *b)
{
    return thaw_alloc(b, 0);
}

struct stream_block *stream_block_thaw(struct stream_block *b)
{
    if (!stream_block_is_frozen(b)) return b;
    struct stream_block *raw = thaw_alloc(b, kept_offset(b->used) - b->used + sizeof(b));
    memcpy(raw->data + kept_offset(raw->used), &b, sizeof(b));
    raw->flags |= STREAM_BLOCK_KEEPS_FROZEN;
    return raw;
}

/* ---- reading ---- */

/* Skips a length-prefixed string. */
static const uint8_t *bytes_skip(const uint8_t *p)
{
    uint64_t len;
    p = varint_get(p, &len);
    return p + len;
}

void stream_block_decode(const struct stream_block *b, uint32_t offset, struct stream_entry *e)
{
    const uint8_t *p = b->data + offset;
    uint64_t head, seq, n;
    p = varint_get(p, &head);
    p = varint_get(p, &seq);
    uint64_t ms_delta = head >> 2;
    e->id.ms = b->first.ms + ms_delta;
    e->id.seq = ms_delta == 0 ? b->first.seq + seq : seq;
    e->offset = offset;
    e->deleted = head & FLAG_DELETED;
    e->same_fields = head & FLAG_SAME;
    if (e->same_fields) {
        e->field_count = b->master_count;
        e->names = varint_get(b->data, &n);
    } else {
        p = varint_get(p, &n);
        e->field_count = (uint32_t)n;
        e->names = NULL;
    }
    e->payload = p;
    for (uint32_t i = 0; i < e->field_count; i++) {
        if (!e->same_fields) p = bytes_skip(p);
        p = bytes_skip(p);
    }
    p += varint_len((uint64_t)(p - (b->data + offset)));
    e->end = (uint32_t)(p - b->data);
}

bool stream_block_prev(const struct stream_block *b, uint32_t offset, uint32_t *prev)
{
    if (offset <= b->master_bytes) return false;
    const uint8_t *start;
    uint64_t body = rvarint_get(b->data + offset, &start);
    *prev = (uint32_t)((size_t)(start - b->data) - body);
    return true;
}

struct stream_id stream_block_last_id(const struct stream_block *b)
{
    uint32_t off;
    struct stream_entry e;
    if (!stream_block_prev(b, b->used, &off)) return b->first;
    stream_block_decode(b, off, &e);
    return e.id;
}

bool stream_block_delete(struct stream_block *b, uint32_t offset)
{
    uint8_t *p = b->data + offset;
    uint64_t head;
    varint_get(p, &head);
    if (head & FLAG_DELETED) return false;
    stream_block_drop_kept(b);
    /* Setting bit 0 never changes the varint's length. */
    varint_put(p, head | FLAG_DELETED);
    b->deleted++;
    return true;
}

/* ---- validation (untrusted input: every read is bounded) ---- */

struct cursor {
    const uint8_t *p, *end;
};

static inline bool cursor_varint(struct cursor *c, uint64_t *out)
{
    if (c->p < c->end && *c->p < 0x80) { /* the common one-byte case */
        *out = *c->p++;
        return true;
    }
    const uint8_t *next = varint_get_bounded(c->p, c->end, out);
    if (!next) return false;
    c->p = next;
    return true;
}

static bool cursor_skip_bytes(struct cursor *c)
{
    uint64_t len;
    if (!cursor_varint(c, &len) || len > (uint64_t)(c->end - c->p)) return false;
    c->p += len;
    return true;
}

static bool validate_master(const struct stream_block *b)
{
    struct cursor c = {b->data, b->data + b->master_bytes};
    uint64_t n;
    if (b->master_bytes > b->used || !cursor_varint(&c, &n) || n != b->master_count) return false;
    for (uint64_t i = 0; i < n; i++)
        if (!cursor_skip_bytes(&c)) return false;
    return c.p == c.end;
}

/* The entry at c->p: its ID and fields in bounds, then its exact back length. */
static bool validate_entry(const struct stream_block *b, struct cursor *c, struct stream_id *id, bool *deleted)
{
    const uint8_t *start = c->p;
    uint64_t head, seq, n = b->master_count;
    if (!cursor_varint(c, &head) || !cursor_varint(c, &seq)) return false;
    uint64_t delta = head >> 2;
    if (delta > UINT64_MAX - b->first.ms || (delta == 0 && seq > UINT64_MAX - b->first.seq)) return false;
    id->ms = b->first.ms + delta;
    id->seq = delta == 0 ? b->first.seq + seq : seq;
    *deleted = head & FLAG_DELETED;
    bool same = head & FLAG_SAME;
    if (!same && (!cursor_varint(c, &n) || n > (uint64_t)(c->end - c->p) / 2)) return false;
    for (uint64_t i = 0; i < n; i++)
        if ((!same && !cursor_skip_bytes(c)) || !cursor_skip_bytes(c)) return false;
    size_t body = (size_t)(c->p - start);
    if (body < 0x80) { /* a one-byte back length: the body size itself */
        if (c->p == c->end || *c->p != body) return false;
        c->p++;
        return true;
    }
    uint8_t back[10];
    size_t back_len = (size_t)(rvarint_put(back, body) - back);
    if (back_len > (size_t)(c->end - c->p) || memcmp(c->p, back, back_len) != 0) return false;
    c->p += back_len;
    return true;
}

bool stream_block_validate(const struct stream_block *b, struct stream_id *first_live, struct stream_id *last_live,
                           const char **why)
{
    if (!validate_master(b)) {
        *why = "malformed master field list";
        return false;
    }
    struct cursor c = {b->data + b->master_bytes, b->data + b->used};
    uint32_t entries = 0, deleted = 0;
    bool any_live = false;
    while (c.p < c.end) {
        struct stream_id id;
        bool dead;
        if (entries == UINT32_MAX || !validate_entry(b, &c, &id, &dead)) {
            *why = "malformed entry";
            return false;
        }
        if (entries++ == 0 && stream_id_cmp(&id, &b->first) != 0) {
            *why = "its first entry does not have the block's ID";
            return false;
        }
        if (dead) {
            deleted++;
            continue;
        }
        if (any_live && stream_id_cmp(&id, last_live) <= 0) {
            *why = "live entries out of order";
            return false;
        }
        if (!any_live) *first_live = id;
        *last_live = id;
        any_live = true;
    }
    if (entries != b->entries || deleted != b->deleted) {
        *why = "entry counts do not match its contents";
        return false;
    }
    if (!any_live) {
        *why = "no live entry";
        return false;
    }
    return true;
}

void stream_entry_fields(const struct stream_entry *e, struct stream_field_cursor *c)
{
    c->names = e->names;
    c->values = e->payload;
    c->left = e->field_count;
    c->same_fields = e->same_fields;
}

bool stream_field_next(struct stream_field_cursor *c, const char **field, size_t *flen, const char **value,
                       size_t *vlen)
{
    if (c->left == 0) return false;
    uint64_t len;
    const uint8_t **names = c->same_fields ? &c->names : &c->values;
    *names = varint_get(*names, &len);
    *field = (const char *)*names;
    *flen = len;
    *names += len;
    c->values = varint_get(c->values, &len);
    *value = (const char *)c->values;
    *vlen = len;
    c->values += len;
    c->left--;
    return true;
}
