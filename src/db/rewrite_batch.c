#include "db/rewrite_batch.h"

#include <string.h>

#include "util/mem.h"

struct rewrite_batch *rewrite_batch_new(const char *command, const char *key, size_t len, object_emit_fn *emit,
                                        void *ctx)
{
    struct rewrite_batch *b = mem_alloc(sizeof(*b));
    b->argv[0] = (struct arg){(char *)command, strlen(command)};
    b->argv[1] = (struct arg){(char *)key, len};
    b->args = 0;
    b->items = 0;
    b->emit = emit;
    b->ctx = ctx;
    return b;
}

static void rewrite_batch_flush(struct rewrite_batch *b)
{
    if (b->args == 0) return;
    b->emit(b->ctx, 2 + b->args, b->argv);
    for (int i = 0; i < b->args; i++) str_free(b->copies[i]);
    b->args = 0;
    b->items = 0;
}

void rewrite_batch_arg(struct rewrite_batch *b, const char *p, size_t len)
{
    b->copies[b->args] = str_new(p, len);
    b->argv[2 + b->args] = (struct arg){b->copies[b->args], len};
    b->args++;
}

void rewrite_batch_item_done(struct rewrite_batch *b)
{
    if (++b->items == REWRITE_BATCH_ITEMS) rewrite_batch_flush(b);
}

void rewrite_batch_finish(struct rewrite_batch *b)
{
    rewrite_batch_flush(b);
    mem_free(b);
}
