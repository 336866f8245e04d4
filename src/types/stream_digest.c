/* stream_digest: streams in DEBUG DIGEST (see stream_digest.h).
 *
 * Fed in this order (an id is two u64s, ms then seq):
 *   length, entries-added, last-id, first-id, max-deleted-id
 *   every live entry in ID order: id, its pair count, then field, value...
 *   the group count, then per group (in name order):
 *     name, last-delivered-id, entries-read (-1: unknown)
 *     the consumer count, then every consumer's name (in name order)
 *     the pending count, then per pending entry (in ID order):
 *       id, whether it is owned, its consumer's name (when owned), its
 *       delivery count
 *     then the IDs of the entries released by XNACK, in release order
 *     then, with dead-letter settings, the key, limit and counter
 *   the IDMP state (stream_idmp_digest): configuration, counters, live pairs
 *   the retention policy, when there is one (stream_retention_digest)
 * Left out: deleted entries still held in blocks, how entries are split
 * into blocks, delivery times, and consumers' seen and active times. */
#include "types/stream_digest.h"

#include "types/stream.h"
#include "types/stream_dlq.h"
#include "types/stream_freeze.h"
#include "types/stream_group.h"
#include "types/stream_idmp.h"
#include "types/stream_pel.h"
#include "types/stream_retention.h"
#include "util/digest.h"

static void feed_id(struct digest_seq *seq, struct stream_id id)
{
    digest_seq_u64(seq, id.ms);
    digest_seq_u64(seq, id.seq);
}

static void feed_entries(struct digest_seq *seq, struct stream *s)
{
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, (struct stream_id){0, 0}, (struct stream_id){UINT64_MAX, UINT64_MAX}, false);
    while (stream_iter_next(&it, &e)) {
        feed_id(seq, e.id);
        digest_seq_u64(seq, e.field_count);
        struct stream_field_cursor c;
        const char *f, *v;
        size_t flen, vlen;
        stream_entry_fields(&e, &c);
        while (stream_field_next(&c, &f, &flen, &v, &vlen)) {
            digest_seq_bytes(seq, f, flen);
            digest_seq_bytes(seq, v, vlen);
        }
    }
}

static void feed_group(struct digest_seq *seq, const struct stream_cgroup *g)
{
    digest_seq_bytes(seq, g->name, str_len(g->name));
    feed_id(seq, g->last_id);
    digest_seq_i64(seq, g->entries_read);
    digest_seq_u64(seq, g->consumer_count);
    for (size_t i = 0; i < g->consumer_count; i++)
        digest_seq_bytes(seq, g->consumers[i]->name, str_len(g->consumers[i]->name));
    digest_seq_u64(seq, stream_index_size(g->pel));
    struct stream_index_iter it;
    for (bool ok = stream_index_first(g->pel, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_nack *n = stream_index_value(&it);
        feed_id(seq, stream_index_key(&it));
        digest_seq_u64(seq, n->consumer != NULL);
        if (n->consumer) digest_seq_bytes(seq, n->consumer->name, str_len(n->consumer->name));
        digest_seq_u64(seq, n->delivery_count);
    }
    for (const struct stream_nack *n = stream_pel_idlest(g, NULL); n && !n->consumer; n = stream_pel_idlest(g, n))
        feed_id(seq, n->id);
    stream_dlq_digest(seq, g);
}

void stream_digest(const struct object *o, struct digest_seq *seq)
{
    struct stream *s = o->v.ptr;
    digest_seq_u64(seq, s->length);
    digest_seq_u64(seq, s->entries_added);
    feed_id(seq, s->last_id);
    feed_id(seq, s->first_id);
    feed_id(seq, s->max_deleted_id);
    stream_freeze_peek_begin();
    feed_entries(seq, s);
    stream_freeze_peek_end();
    size_t groups = stream_group_count(s);
    digest_seq_u64(seq, groups);
    for (size_t i = 0; i < groups; i++) feed_group(seq, s->groups->items[i]);
    stream_idmp_digest(s, seq);
    stream_retention_digest(s, seq);
}
