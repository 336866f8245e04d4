/* stream_freeze: compressed ("frozen") stream blocks (stream-compress-depth).
 *
 * The newest `stream_compress_depth` blocks of every stream stay raw; older
 * ones are compressed (stream_block_freeze) between commands. Every path
 * that reads or changes a block's entries takes the block through
 * stream_freeze_open, which thaws a frozen one in place, so pointers into
 * it (struct stream_entry) stay valid for the whole command. Nothing is
 * compressed inside a command: sealed blocks and thawed ones are queued and
 * re-frozen by stream_freeze_run (before the loop sleeps and in the cron),
 * which keeps the most recently thawed few raw so that a reader paging
 * through a backlog thaws each block once.
 *
 * The queues name a stream by pointer and a block by its key: a stream
 * leaves them in stream_free (stream_freeze_forget); a block that was
 * trimmed or freed is simply not found when its turn comes. */
#ifndef RUNNEL_TYPES_STREAM_FREEZE_H
#define RUNNEL_TYPES_STREAM_FREEZE_H

#include <stdbool.h>
#include <stddef.h>

#include "types/stream_block.h"
#include "types/stream_index.h"

struct stream;

/* Newest blocks of each stream kept raw; 0: no compression. */
extern int stream_compress_depth;

/* The block at `it` (an iterator over s->blocks), raw: a frozen block is
 * thawed, replaces itself in the index and is queued for re-freezing.
 * Inside a read-only walk (stream_freeze_peek_begin) it is decompressed
 * into a scratch copy instead and the stream is left untouched. */
struct stream_block *stream_freeze_open(struct stream *s, struct stream_index_iter *it);
/* A new block was started: the one `stream_compress_depth` positions back
 * from it may be frozen at the next stream_freeze_run. */
void stream_freeze_sealed(struct stream *s);
/* The stream is being freed: drops it from the queues. */
void stream_freeze_forget(struct stream *s);
/* Freezes every block of s the policy wants frozen, now. Only for a stream
 * nothing points into yet (just loaded, restored or copied). */
void stream_freeze_all(struct stream *s);
/* Re-freezes up to `budget` queued blocks; keeps the newest few thawed ones
 * raw unless `all`. Returns whether work is left. Between commands only. */
bool stream_freeze_run(size_t budget, bool all);
/* Blocks waiting in the queues (tests, INFO). */
size_t stream_freeze_queued(void);

/* A read-only walk (a snapshot, rewrite or digest, perhaps in a forked
 * child): until the matching end, stream_freeze_open and stream_freeze_view
 * decompress into one scratch block instead of thawing in place, so only
 * one block at a time may be in use. Nests. */
void stream_freeze_peek_begin(void);
void stream_freeze_peek_end(void);
/* The block's bytes as raw entries: itself, or (frozen) a scratch copy
 * valid until the next call or stream_freeze_peek_end. Inside a peek only. */
const struct stream_block *stream_freeze_view(const struct stream_block *b);

#endif
