/* stream_digest: a stream's logical content for DEBUG DIGEST — what XRANGE,
 * XINFO and XPENDING show of it, without its block layout or the clocks
 * that differ between a primary and its replica. */
#ifndef RUNNEL_TYPES_STREAM_DIGEST_H
#define RUNNEL_TYPES_STREAM_DIGEST_H

#include "db/object.h"

/* object_ops.digest of the stream type. */
void stream_digest(const struct object *o, struct digest_seq *seq);

#endif
