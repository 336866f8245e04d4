/* stream_save: streams in snapshots (see stream_save.h).
 *
 * Layout (codec.h primitives; an id is two varints, ms then seq):
 *
 *   u8 2                                  encoding: blocks, released entries, IDMP
 *   varint length, varint entries-added
 *   id last-id, id first-id, id max-deleted-id
 *   varint blocks, then per block:
 *     id first, varint entries, varint deleted, varint master-count,
 *     varint master-bytes, bytes data     (data[0..used) exactly as in memory)
 *   varint groups, then per group (in name order):
 *     bytes name, id last-delivered, svarint entries-read (-1: unknown)
 *     varint consumers, then per consumer (in name order):
 *       bytes name, svarint seen-time, svarint active-time
 *     varint pending, then per pending entry (in ID order):
 *       id, svarint delivery-time, varint delivery-count,
 *       varint owner (its consumer's position above + 1; 0: released by XNACK)
 *     varint released, then the released entries' IDs in release order
 *   the IDMP state (stream_idmp_save)
 *   (encoding 3) varint sections, then per section: u8 kind, its content
 *     kind 1: the groups' dead-letter settings (stream_dlq_save)
 *     kind 2: the delay schedule and back-off schedules (stream_delay_save)
 *   with the tag's 0x80 bit: varint retention-maxage, varint retention-maxlen,
 *   varint retention-refs
 *
 * Encoding 3 is written only when a section has something to hold, so a
 * stream that uses none of them is saved as encoding 2. Each later
 * addition to a stream's state takes a new section kind (or, like the
 * retention policy, a flag bit of the tag). A pending entry owned by nobody
 * with a delivery time above 0 is scheduled (its time is its not-before
 * time, stream_delay.h) and is not in the release order.
 * retention policy, a flag bit of the tag).
 *
 * Encoding 1 (files written before idempotent production) is the same
 * without the IDMP state; encoding 0 (before XNACK) also without the
 * released list, with owner being the consumer's position itself.
 *
 * Loading copies each block with one memcpy and checks it
 * (stream_block_validate) before the stream can decode it; then the blocks
 * must follow each other in ID order, their live entries must add up to the
 * length, and no live entry may lie past the last ID. Each consumer's own
 * PEL is rebuilt from the group's. */
#include "types/stream_save.h"

#include <string.h>

#include "types/stream.h"
#include "types/stream_delay.h"
#include "types/stream_dlq.h"
#include "types/stream_freeze.h"
#include "types/stream_group.h"
#include "types/stream_idmp.h"
#include "types/stream_pel.h"
#include "types/stream_retention.h"
#include "util/mem.h"

#define STREAM_SAVE_BLOCKS_V0 0
#define STREAM_SAVE_BLOCKS_V1 1
#define STREAM_SAVE_BLOCKS 2
#define STREAM_SAVE_SECTIONS 3
#define SECTION_DLQ 1
#define SECTION_DELAY 2
/* Or'ed into the tag: the retention policy (stream_retention_save) follows
 * everything else. A flag rather than a version, so that it combines with
 * any later version of the rest. */
#define STREAM_SAVE_RETENTION 0x80
/* Least bytes each item of a counted list takes in the file. */
#define MIN_BLOCK_BYTES 7
#define MIN_GROUP_BYTES 6
#define MIN_CONSUMER_BYTES 3
#define MIN_PENDING_BYTES 5

/* ---- saving ---- */

static void put_id(struct codec_out *out, struct stream_id id)
{
    codec_put_varint(out, id.ms);
    codec_put_varint(out, id.seq);
}

/* A frozen block goes out thawed (docs/architecture.md, Decisions): the
 * format stays the one every version reads. Inside a peek. */
static void save_block(struct codec_out *out, const struct stream_block *frozen_or_raw)
{
    const struct stream_block *b = stream_freeze_view(frozen_or_raw);
    put_id(out, b->first);
    codec_put_varint(out, b->entries);
    codec_put_varint(out, b->deleted);
    codec_put_varint(out, b->master_count);
    codec_put_varint(out, b->master_bytes);
    codec_put_bytes(out, b->data, b->used);
}

static void save_group(struct codec_out *out, const struct stream_cgroup *g)
{
    codec_put_bytes(out, g->name, str_len(g->name));
    put_id(out, g->last_id);
    codec_put_svarint(out, g->entries_read);
    codec_put_varint(out, g->consumer_count);
    for (size_t i = 0; i < g->consumer_count; i++) {
        const struct stream_consumer *c = g->consumers[i];
        codec_put_bytes(out, c->name, str_len(c->name));
        codec_put_svarint(out, c->seen_time);
        codec_put_svarint(out, c->active_time);
    }
    codec_put_varint(out, stream_index_size(g->pel));
    struct stream_index_iter it;
    for (bool ok = stream_index_first(g->pel, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_nack *n = stream_index_value(&it);
        put_id(out, stream_index_key(&it));
        codec_put_svarint(out, n->delivery_time);
        codec_put_varint(out, n->delivery_count);
        codec_put_varint(out, n->consumer ? stream_consumer_index(g, n->consumer) + 1 : 0);
    }
    size_t released = 0;
    for (const struct stream_nack *n = stream_pel_idlest(g, NULL); n && !n->consumer; n = stream_pel_idlest(g, n))
        released++;
    codec_put_varint(out, released);
    for (const struct stream_nack *n = stream_pel_idlest(g, NULL); n && !n->consumer; n = stream_pel_idlest(g, n))
        put_id(out, n->id);
}

void stream_save(const struct object *o, struct codec_out *out)
{
    const struct stream *s = o->v.ptr;
    bool dlq = stream_dlq_any(s), delay = stream_delay_needs_section(s);
    codec_put_u8(out, (dlq || delay ? STREAM_SAVE_SECTIONS : STREAM_SAVE_BLOCKS) |
                          (stream_retention_configured(s) ? STREAM_SAVE_RETENTION : 0));
    codec_put_varint(out, s->length);
    codec_put_varint(out, s->entries_added);
    put_id(out, s->last_id);
    put_id(out, s->first_id);
    put_id(out, s->max_deleted_id);
    codec_put_varint(out, stream_index_size(s->blocks));
    struct stream_index_iter it;
    stream_freeze_peek_begin();
    for (bool ok = stream_index_first(s->blocks, &it); ok; ok = stream_index_next(&it))
        save_block(out, stream_index_value(&it));
    stream_freeze_peek_end();
    size_t groups = stream_group_count(s);
    codec_put_varint(out, groups);
    for (size_t i = 0; i < groups; i++) save_group(out, s->groups->items[i]);
    stream_idmp_save(s, out);
    if (dlq || delay) codec_put_varint(out, (uint64_t)dlq + delay);
    if (dlq) {
        codec_put_u8(out, SECTION_DLQ);
        stream_dlq_save(s, out);
    }
    if (delay) {
        codec_put_u8(out, SECTION_DELAY);
        stream_delay_save(s, out);
    }
    if (stream_retention_configured(s)) stream_retention_save(s, out);
}

/* ---- loading ---- */

static bool get_id(struct codec_in *in, struct stream_id *id)
{
    return codec_get_varint(in, &id->ms) && codec_get_varint(in, &id->seq);
}

static bool get_u32(struct codec_in *in, uint32_t *v)
{
    uint64_t u;
    if (!codec_get_varint(in, &u)) return false;
    if (u > UINT32_MAX) return codec_fail(in, "stream block field %llu out of range", (unsigned long long)u);
    *v = (uint32_t)u;
    return true;
}

/* What the blocks read so far add up to. */
struct blocks_seen {
    uint64_t live;
    bool any;
    struct stream_id last_live;
};

/* Reads, checks and appends one block. */
static bool load_block(struct codec_in *in, struct stream *s, struct blocks_seen *seen)
{
    size_t at = codec_in_offset(in);
    struct stream_block h = {0};
    const char *data;
    size_t used;
    if (!get_id(in, &h.first) || !get_u32(in, &h.entries) || !get_u32(in, &h.deleted) ||
        !get_u32(in, &h.master_count) || !get_u32(in, &h.master_bytes) || !codec_get_bytes(in, &data, &used))
        return false;
    if (used > UINT32_MAX / 2) return codec_fail_at(in, at, "a stream block of %zu bytes is too large", used);
    struct stream_block *b = mem_alloc(sizeof(*b) + used);
    *b = h;
    b->used = b->cap = (uint32_t)used;
    memcpy(b->data, data, used);
    struct stream_id first_live, last_live;
    const char *why;
    if (!stream_block_validate(b, &first_live, &last_live, &why)) {
        stream_block_free(b);
        return codec_fail_at(in, at, "corrupt stream block: %s", why);
    }
    if (seen->any && stream_id_cmp(&b->first, &seen->last_live) <= 0) {
        stream_block_free(b);
        return codec_fail_at(in, at, "corrupt stream: blocks out of ID order");
    }
    stream_index_insert(s->blocks, b->first, b);
    seen->live += stream_block_live(b);
    seen->last_live = last_live;
    seen->any = true;
    return true;
}

static bool load_consumers(struct codec_in *in, struct stream_cgroup *g)
{
    uint64_t n;
    if (!codec_get_count(in, MIN_CONSUMER_BYTES, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        const char *name;
        size_t len;
        int64_t seen, active;
        if (!codec_get_bytes(in, &name, &len) || !codec_get_svarint(in, &seen) || !codec_get_svarint(in, &active))
            return false;
        if (len > UINT32_MAX || !stream_consumer_add(g, name, len, seen, active))
            return codec_fail(in, "corrupt stream: a consumer name repeats in a group");
    }
    return true;
}

/* Reads the pending entries; `v0`: owners are plain positions, none released. */
static bool load_pending(struct codec_in *in, struct stream_cgroup *g, bool v0, uint64_t *released)
{
    uint64_t n;
    *released = 0;
    if (!codec_get_count(in, MIN_PENDING_BYTES, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        struct stream_id id;
        int64_t time;
        uint64_t count, owner;
        if (!get_id(in, &id) || !codec_get_svarint(in, &time) || !codec_get_varint(in, &count) ||
            !codec_get_varint(in, &owner))
            return false;
        struct stream_consumer *c = NULL;
        if (v0 || owner > 0) {
            uint64_t pos = v0 ? owner : owner - 1;
            if (pos >= g->consumer_count) return codec_fail(in, "corrupt stream: a pending entry has no consumer");
            c = g->consumers[pos];
        } else if (time == 0) {
            (*released)++; /* a later time: scheduled (stream_delay.h), not released */
        }
        if (!stream_pel_add(g, c, id, time, count))
            return codec_fail(in, "corrupt stream: an ID is pending twice in a group");
    }
    return true;
}

/* Reads the release order: every released entry once. Moving each to the
 * tail of the NACK zone in turn leaves them in the order written. */
static bool load_released(struct codec_in *in, struct stream_cgroup *g, uint64_t released)
{
    uint64_t n;
    if (!codec_get_count(in, 2, &n)) return false;
    if (n != released) return codec_fail(in, "corrupt stream: the release order does not list every released entry");
    struct stream_index *seen = stream_index_new();
    bool ok = true;
    for (uint64_t i = 0; ok && i < n; i++) {
        struct stream_id id;
        ok = get_id(in, &id);
        struct stream_nack *nack = ok ? stream_index_find(g->pel, id) : NULL;
        if (ok && (!nack || nack->consumer || !stream_index_insert(seen, id, NULL)))
            ok = codec_fail(in, "corrupt stream: the release order names an entry that is not released");
        if (ok) stream_pel_assign(g, nack, NULL, nack->delivery_time);
    }
    stream_index_free(seen, NULL);
    return ok;
}

static bool load_groups(struct codec_in *in, struct stream *s, bool v0)
{
    uint64_t n;
    if (!codec_get_count(in, MIN_GROUP_BYTES, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        const char *name;
        size_t len;
        struct stream_id last;
        int64_t entries_read;
        if (!codec_get_bytes(in, &name, &len) || !get_id(in, &last) || !codec_get_svarint(in, &entries_read))
            return false;
        struct stream_cgroup *g = len <= UINT32_MAX ? stream_group_add(s, name, len, last, entries_read) : NULL;
        if (!g) return codec_fail(in, "corrupt stream: a group name repeats");
        uint64_t released;
        if (!load_consumers(in, g) || !load_pending(in, g, v0, &released)) return false;
        if (!v0 && !load_released(in, g, released)) return false;
    }
    return true;
}

/* The sections of encoding 3, each kind at most once. */
static bool load_sections(struct codec_in *in, struct stream *s)
{
    uint64_t n;
    unsigned kind, seen = 0;
    if (!codec_get_count(in, 2, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        if (!codec_get_u8(in, &kind)) return false;
        if (kind == SECTION_DLQ && !(seen & (1u << kind))) {
            if (!stream_dlq_load(in, s)) return false;
        } else if (kind == SECTION_DELAY && !(seen & (1u << kind))) {
            if (!stream_delay_load(in, s)) return false;
        } else {
            return codec_fail(in, "corrupt stream: section kind %u unknown or repeated", kind);
        }
        seen |= 1u << kind;
    }
    return true;
}

static bool load_stream(struct codec_in *in, struct stream *s)
{
    unsigned tag;
    uint64_t blocks;
    if (!codec_get_u8(in, &tag)) return false;
    bool retention = tag & STREAM_SAVE_RETENTION;
    tag &= ~(unsigned)STREAM_SAVE_RETENTION;
    if (tag > STREAM_SAVE_SECTIONS) return codec_fail(in, "unknown stream encoding %u", tag);
    if (!codec_get_varint(in, &s->length) || !codec_get_varint(in, &s->entries_added) || !get_id(in, &s->last_id) ||
        !get_id(in, &s->first_id) || !get_id(in, &s->max_deleted_id) ||
        !codec_get_count(in, MIN_BLOCK_BYTES, &blocks))
        return false;
    struct blocks_seen seen = {0};
    for (uint64_t i = 0; i < blocks; i++)
        if (!load_block(in, s, &seen)) return false;
    if (seen.live != s->length) return codec_fail(in, "corrupt stream: its blocks do not hold its length");
    if (seen.any && stream_id_cmp(&seen.last_live, &s->last_id) > 0)
        return codec_fail(in, "corrupt stream: an entry lies past its last ID");
    if (!load_groups(in, s, tag == STREAM_SAVE_BLOCKS_V0)) return false;
    if (tag >= STREAM_SAVE_BLOCKS && !stream_idmp_load(in, s)) return false;
    if (tag >= STREAM_SAVE_SECTIONS && !load_sections(in, s)) return false;
    return !retention || stream_retention_load(in, s);
}

struct object *stream_load(struct codec_in *in)
{
    struct stream *s = stream_new();
    if (!load_stream(in, s)) {
        stream_free(s);
        return NULL;
    }
    stream_freeze_all(s); /* the same policy as blocks sealed here */
    return object_new(OBJ_STREAM, stream_retention_encoding(s), s);
}
