/* stream_freeze: when stream blocks are compressed and thawed (see
 * stream_freeze.h).
 *
 * Two FIFO queues of (stream, block key): `sealed` holds the block that
 * became old enough to freeze when a newer one was started; `thawed` holds
 * blocks a command thawed. stream_freeze_run empties `sealed` and all of
 * `thawed` but its newest THAWED_KEEP entries younger than THAWED_KEEP_MS.
 * An entry is only a hint: its block is looked up again, and frozen only if
 * it still exists, is raw and is not among its stream's newest
 * stream_compress_depth blocks. */
#include "types/stream_freeze.h"

#include <string.h>

#include "db/db.h"
#include "types/stream.h"
#include "util/mem.h"

int stream_compress_depth = 0;

/* Thawed blocks kept raw between commands, and for how long at most. */
#define THAWED_KEEP 64
#define THAWED_KEEP_MS 1000

struct queued {
    struct stream *s; /* NULL: the stream was freed */
    struct stream_id key;
    long long at;     /* db_now_ms when queued */
};

struct queue {
    struct queued *items;
    size_t head, len, cap; /* items[head..len) are waiting */
};

static struct queue sealed, thawed;

static void queue_push(struct queue *q, struct stream *s, struct stream_id key)
{
    if (q->head > 0 && q->head >= q->len / 2) { /* reuse the consumed front */
        memmove(q->items, q->items + q->head, (q->len - q->head) * sizeof(*q->items));
        q->len -= q->head;
        q->head = 0;
    }
    if (q->len == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->items = mem_realloc(q->items, q->cap * sizeof(*q->items));
    }
    q->items[q->len++] = (struct queued){s, key, db_now_ms};
    s->freeze_queued++;
}

static size_t queue_size(const struct queue *q)
{
    return q->len - q->head;
}

/* Entries a queue keeps room for once emptied; a bulk load may have grown
 * it far past that, and its memory would otherwise stay allocated. */
#define QUEUE_KEEP 1024

/* Takes the oldest entry; its stream (if still there) no longer counts it. */
static struct queued queue_pop(struct queue *q)
{
    struct queued e = q->items[q->head++];
    if (q->head == q->len) {
        q->head = q->len = 0;
        if (q->cap > QUEUE_KEEP) {
            mem_free(q->items);
            q->items = NULL;
            q->cap = 0;
        }
    }
    if (e.s) e.s->freeze_queued--;
    return e;
}

static void queue_forget(struct queue *q, struct stream *s)
{
    for (size_t i = q->head; i < q->len; i++)
        if (q->items[i].s == s) q->items[i].s = NULL;
}

/* Whether the block at `it` is among the stream's newest `depth`. */
static bool among_newest(const struct stream_index_iter *it)
{
    struct stream_index_iter probe = *it;
    for (int i = 0; i < stream_compress_depth; i++)
        if (!stream_index_next(&probe)) return true;
    return false;
}

/* Freezes the block at `it`, putting the moved block back in the index. */
static void freeze_at(struct stream_index_iter *it)
{
    struct stream_block *b = stream_index_value(it);
    struct stream_block *nb = stream_block_freeze(b);
    if (nb != b) stream_index_set_value(it, nb);
}

/* Freezes s's block keyed `key` if it still exists and the policy wants
 * it; a block the policy keeps raw (the setting went down, or it became one
 * of the newest) lets go of its kept frozen copy. */
static void freeze_key(struct stream *s, struct stream_id key)
{
    struct stream_index_iter it;
    if (!stream_index_seek_ge(s->blocks, key, &it)) return;
    struct stream_id found = stream_index_key(&it);
    if (stream_id_cmp(&found, &key) != 0) return;
    if (stream_compress_depth <= 0 || among_newest(&it)) {
        stream_block_drop_kept(stream_index_value(&it));
        return;
    }
    freeze_at(&it);
}

/* ---- the read-only scratch ---- */

static int peek_depth;
static struct stream_block *scratch;          /* raw copy of scratch_of */
static const struct stream_block *scratch_of; /* the frozen block it copies */

void stream_freeze_peek_begin(void)
{
    peek_depth++;
}

void stream_freeze_peek_end(void)
{
    if (--peek_depth > 0) return;
    mem_free(scratch);
    scratch = NULL;
    scratch_of = NULL;
}

const struct stream_block *stream_freeze_view(const struct stream_block *b)
{
    if (!stream_block_is_frozen(b)) return b;
    if (scratch_of == b) return scratch;
    mem_free(scratch);
    scratch = stream_block_thaw_copy(b);
    scratch_of = b;
    return scratch;
}

/* ---- the policy ---- */

struct stream_block *stream_freeze_open(struct stream *s, struct stream_index_iter *it)
{
    struct stream_block *b = stream_index_value(it);
    if (!stream_block_is_frozen(b)) return b;
    if (peek_depth > 0) return (struct stream_block *)stream_freeze_view(b);
    b = stream_block_thaw(b);
    stream_index_set_value(it, b);
    queue_push(&thawed, s, stream_index_key(it));
    return b;
}

void stream_freeze_sealed(struct stream *s)
{
    if (stream_compress_depth <= 0) return;
    struct stream_index_iter it;
    if (!stream_index_last(s->blocks, &it)) return;
    for (int i = 0; i < stream_compress_depth; i++)
        if (!stream_index_prev(&it)) return;
    const struct stream_block *b = stream_index_value(&it);
    if (b->flags & (STREAM_BLOCK_FROZEN | STREAM_BLOCK_RAW_ONLY)) return;
    queue_push(&sealed, s, stream_index_key(&it));
}

void stream_freeze_forget(struct stream *s)
{
    if (s->freeze_queued == 0) return;
    queue_forget(&sealed, s);
    queue_forget(&thawed, s);
    s->freeze_queued = 0;
}

void stream_freeze_all(struct stream *s)
{
    if (stream_compress_depth <= 0) return;
    struct stream_index_iter it;
    bool ok = stream_index_last(s->blocks, &it);
    for (int i = 0; ok && i < stream_compress_depth; i++) ok = stream_index_prev(&it);
    for (; ok; ok = stream_index_prev(&it)) freeze_at(&it);
}

/* Whether the oldest thawed entry must be frozen now (`all`: every one). */
static bool thawed_due(bool all)
{
    size_t n = queue_size(&thawed);
    if (n == 0) return false;
    if (all || n > THAWED_KEEP) return true;
    return db_now_ms - thawed.items[thawed.head].at >= THAWED_KEEP_MS;
}

bool stream_freeze_run(size_t budget, bool all)
{
    size_t done = 0;
    while (done < budget && queue_size(&sealed) > 0) {
        struct queued e = queue_pop(&sealed);
        if (e.s) freeze_key(e.s, e.key);
        done++;
    }
    while (done < budget && thawed_due(all)) {
        struct queued e = queue_pop(&thawed);
        if (e.s) freeze_key(e.s, e.key);
        done++;
    }
    return queue_size(&sealed) > 0 || thawed_due(all);
}

size_t stream_freeze_queued(void)
{
    return queue_size(&sealed) + queue_size(&thawed);
}
