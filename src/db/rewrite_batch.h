/* rewrite_batch: how a collection rebuilds itself for the AOF rewrite and
 * snapshots — "CMD key a b c ..." commands of up to 64 items, each item one
 * or two arguments copied out of the value (its bytes may only be valid
 * during the visit). Every collection type uses this one batcher. */
#ifndef RUNNEL_DB_REWRITE_BATCH_H
#define RUNNEL_DB_REWRITE_BATCH_H

#include <stddef.h>

#include "db/object.h"
#include "util/str.h"

#define REWRITE_BATCH_ITEMS 64

struct rewrite_batch {
    struct arg argv[2 + 2 * REWRITE_BATCH_ITEMS];
    str copies[2 * REWRITE_BATCH_ITEMS];
    int args;  /* arguments after the key */
    int items; /* items in this batch */
    object_emit_fn *emit;
    void *ctx;
};

/* Allocates a batcher for `command key ...`; the key must outlive it. */
struct rewrite_batch *rewrite_batch_new(const char *command, const char *key, size_t len, object_emit_fn *emit,
                                        void *ctx);
/* Adds one argument of the current item (copied). */
void rewrite_batch_arg(struct rewrite_batch *b, const char *p, size_t len);
/* Closes the current item; emits the command when the batch is full. */
void rewrite_batch_item_done(struct rewrite_batch *b);
/* Emits what is left and frees the batcher. */
void rewrite_batch_finish(struct rewrite_batch *b);

#endif
