/* rdb_write: Runnel's values and dataset in Redis's RDB format, version
 * RDB_VERSION_WRITE (10), with only the encodings Redis 7.0 reads: strings
 * (integers encoded), lists as quicklists of listpacks, hashes and sorted
 * sets as listpacks while small and as plain pairs when large, sets as
 * intsets or plain members, streams as listpacks v2 with their groups. For
 * redis-cli --rdb, a redis-server replicating from Runnel, and DUMP with
 * dump-payload-format redis.
 *
 * What Redis 7.0 cannot represent is left out and logged: pending entries
 * released by XNACK (they have no owner there) and hash fields' deadlines
 * (the live fields go without them). */
#ifndef RUNNEL_PERSISTENCE_RDB_WRITE_H
#define RUNNEL_PERSISTENCE_RDB_WRITE_H

#include <stdbool.h>

#include "db/codec.h"
#include "db/object.h"
#include "util/str.h"

/* Writes the header, aux fields, functions and every database's keys (not
 * the end marker and checksum, which the caller adds as snapshots do). */
bool rdb_write_body(struct codec_out *out);

/* A DUMP payload in Redis's format: the value, version 10, CRC-64. NULL
 * when the type cannot be written. */
str rdb_dump_create(const struct object *o);

#endif
