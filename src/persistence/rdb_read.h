/* rdb_read: Redis's RDB value encodings (persistence/rdb_format.h) decoded
 * into Runnel's own values, built through the types' APIs so that each
 * lands in the compact encoding its size calls for. Used by the RDB file
 * loader (rdb_load.c) and by RESTORE of a Redis DUMP payload (rdb_dump.c).
 *
 * Reads go through a db/codec.h reader (struct codec_in) for its bounds
 * checks and its failure messages with the byte offset; counts are checked
 * against the bytes left before anything is sized by them, and every packed
 * blob is walked with its bounds checked (rdb_packed.h). */
#ifndef RUNNEL_PERSISTENCE_RDB_READ_H
#define RUNNEL_PERSISTENCE_RDB_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/codec.h"
#include "db/object.h"

/* A string as read: p/len point into the input, into buf (an integer
 * encoding) or into owned (LZF, freed by rdb_string_release). */
struct rdb_string {
    const char *p;
    size_t len;
    char *owned;
    char buf[24];
};
void rdb_string_release(struct rdb_string *s);

/* A length (RDB_LEN_* forms); fails on the special string encodings. */
bool rdb_get_len(struct codec_in *in, uint64_t *len);
/* A length that counts items of at least min_bytes each: refused when the
 * rest of the input could not hold them. */
bool rdb_get_count(struct codec_in *in, size_t min_bytes, uint64_t *n);
bool rdb_get_string(struct codec_in *in, struct rdb_string *s);
/* A fixed-width little-endian integer (expiry and stream times). */
bool rdb_get_le(struct codec_in *in, int bytes, uint64_t *v);

/* Whether a type byte names a value type Runnel decodes. */
bool rdb_type_supported(unsigned type);

/* Decodes one value of `type`. NULL with *empty set when the value is a
 * well-formed empty collection (Redis skips those keys too); NULL with the
 * reason in the reader otherwise. */
struct object *rdb_value_read(struct codec_in *in, unsigned type, bool *empty);

/* The stream types (rdb_stream.c), called by rdb_value_read. */
struct object *rdb_stream_read(struct codec_in *in, unsigned type, bool *empty);

#endif
