/* stream_block: the packed encoding of a run of stream entries.
 *
 * A block is one allocation: a small header, the block's "master" field
 * names (those of its first entry), then entries back to back. IDs are
 * stored as varint deltas against the block's first ID; an entry whose
 * field names equal the master's stores only its values. Entries are
 * deleted by flagging them in place; the stream drops a block once every
 * entry in it is deleted. Each entry ends with its own length, written
 * to be read backwards, so a block is walked in either direction without
 * decoding from its start.
 *
 * Offsets are byte positions of entries inside the block; they stay valid
 * while the block only grows (appends and deletions never move entries),
 * even when the block itself moves in memory. */
#ifndef RUNNEL_TYPES_STREAM_BLOCK_H
#define RUNNEL_TYPES_STREAM_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/request.h"
#include "types/stream_index.h"

struct stream_block {
    struct stream_id first; /* base of the ID deltas; also the block's key in the index */
    uint32_t used;          /* bytes of data[] in use */
    uint32_t cap;           /* bytes of data[] allocated */
    uint32_t entries;       /* entries stored, deleted ones included */
    uint32_t deleted;       /* entries flagged deleted */
    uint32_t master_bytes;  /* size of the master field list at data[0] */
    uint32_t master_count;  /* fields in the master list */
    uint32_t flags;         /* STREAM_BLOCK_FROZEN, STREAM_BLOCK_RAW_ONLY */
    uint8_t data[];
};

/* A frozen block's data[] holds `cap` bytes compressed with list_compress
 * that stand for `used` bytes of entries. Its header (first, used, entries,
 * deleted, master_*) stays true, so counts are read without thawing; only
 * stream_block_thaw, stream_block_thaw_copy, stream_block_free and
 * stream_block_memory accept a frozen block, everything else needs it
 * thawed first (stream_freeze.h does that for a stream's blocks). */
#define STREAM_BLOCK_FROZEN (1u << 0)
#define STREAM_BLOCK_RAW_ONLY (1u << 1) /* freezing was tried and did not pay */
/* A thawed block not changed since keeps the frozen block it came from
 * (its pointer stored just past data[used], 8-byte aligned): freezing it again gives that
 * back without compressing. Any change (append, delete, shrink) or
 * stream_block_free drops the kept copy. */
#define STREAM_BLOCK_KEEPS_FROZEN (1u << 2)

/* A decoded entry: where it lies and how to read its fields. */
struct stream_entry {
    struct stream_id id;
    uint32_t offset;         /* start of the entry */
    uint32_t end;            /* start of the next entry (== used at the end) */
    bool deleted;
    bool same_fields;        /* field names are the master's */
    uint32_t field_count;
    const uint8_t *payload;  /* values, or field/value pairs */
    const uint8_t *names;    /* the master names, when same_fields */
};

/* Walks the field/value pairs of an entry. */
struct stream_field_cursor {
    const uint8_t *names;
    const uint8_t *values;
    uint32_t left;
    bool same_fields;
};

/* Largest single entry a block accepts (Redis refuses elements past 1 GB). */
#define STREAM_BLOCK_MAX_ENTRY (1u << 30)

/* A new block whose master fields are those of `pairs` (field, value, ...,
 * 2*npairs args) and which holds that one entry with ID `id`. */
struct stream_block *stream_block_new(struct stream_id id, const struct arg *pairs, size_t npairs);
void stream_block_free(struct stream_block *b);
/* Bytes the block takes from the allocator (with a kept frozen copy). */
size_t stream_block_memory(const struct stream_block *b);

/* Bytes an entry would take in this block (exact). */
size_t stream_block_entry_size(const struct stream_block *b, struct stream_id id, const struct arg *pairs,
                               size_t npairs);
/* Whether `id` is close enough to the block's first ID to be delta-coded
 * here (it must also be greater than every ID in the block). */
bool stream_block_can_hold(const struct stream_block *b, struct stream_id id);
/* Appends an entry with an ID greater than all in the block; returns the
 * block, which may have moved. */
struct stream_block *stream_block_append(struct stream_block *b, struct stream_id id, const struct arg *pairs,
                                         size_t npairs);
/* Gives back spare capacity once the block is full; may move it. */
struct stream_block *stream_block_shrink(struct stream_block *b);

/* Compresses the block when that saves at least an eighth of its bytes;
 * otherwise marks it RAW_ONLY so it is not tried again. Returns the block,
 * which may have moved; a no-op on a frozen or RAW_ONLY block. */
struct stream_block *stream_block_freeze(struct stream_block *b);
/* Restores a frozen block's entries and returns the raw block, which keeps
 * the frozen one (STREAM_BLOCK_KEEPS_FROZEN). A no-op on a raw block.
 * Aborts on corrupt input (blocks are only frozen by this process, from
 * checked bytes). */
struct stream_block *stream_block_thaw(struct stream_block *b);
/* A raw copy of a frozen block, leaving it as it is (for read-only walks:
 * a snapshot or rewrite child must not grow the parent's pages). It keeps
 * nothing: its flags are the frozen block's but FROZEN. */
struct stream_block *stream_block_thaw_copy(const struct stream_block *b);
/* Frees the frozen copy a thawed block keeps (the block is to stay raw). */
void stream_block_drop_kept(struct stream_block *b);
static inline bool stream_block_is_frozen(const struct stream_block *b)
{
    return b->flags & STREAM_BLOCK_FROZEN;
}

/* Offset of the first entry, and the end offset (== offset past the last). */
static inline uint32_t stream_block_begin(const struct stream_block *b)
{
    return b->master_bytes;
}
static inline uint32_t stream_block_end(const struct stream_block *b)
{
    return b->used;
}
/* Decodes the entry starting at `offset` (begin <= offset < end). */
void stream_block_decode(const struct stream_block *b, uint32_t offset, struct stream_entry *e);
/* Offset of the entry before the one at `offset`; false at the first. */
bool stream_block_prev(const struct stream_block *b, uint32_t offset, uint32_t *prev);
/* Flags the entry at `offset` deleted; false if it already was. */
bool stream_block_delete(struct stream_block *b, uint32_t offset);
/* Live entries in the block. */
static inline uint32_t stream_block_live(const struct stream_block *b)
{
    return b->entries - b->deleted;
}
/* ID of the last entry, deleted or not. */
struct stream_id stream_block_last_id(const struct stream_block *b);

/* Checks a block read from a file before anything decodes it: the master
 * list and every entry lie exactly inside data[0..used) as stream_block.c
 * lays them out (back lengths included), the counts match, the first entry
 * has the block's first ID, no ID overflows, the live entries ascend and
 * there is at least one. Gives the first and last live IDs; false with the
 * reason in *why otherwise. */
bool stream_block_validate(const struct stream_block *b, struct stream_id *first_live, struct stream_id *last_live,
                           const char **why);

void stream_entry_fields(const struct stream_entry *e, struct stream_field_cursor *c);
/* Next field and value of the entry; false when there are no more. */
bool stream_field_next(struct stream_field_cursor *c, const char **field, size_t *flen, const char **value,
                       size_t *vlen);

#endif
