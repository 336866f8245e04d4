/* stream_save: a stream's native encoding for snapshots and the AOF base —
 * its packed blocks copied as they are in memory, the index metadata and
 * counters, and every consumer group with its consumers and pending
 * entries. The layout is described in stream_save.c. */
#ifndef RUNNEL_TYPES_STREAM_SAVE_H
#define RUNNEL_TYPES_STREAM_SAVE_H

#include "db/codec.h"
#include "db/object.h"

/* object_ops.save / .load of the stream type. */
void stream_save(const struct object *o, struct codec_out *out);
struct object *stream_load(struct codec_in *in);

#endif
