/* rdb_load: loads a whole RDB file written by redis-server (versions 9 to
 * 11; persistence/rdb_format.h) into the databases. snapshot_load_file and
 * snapshot_load_memory hand over any image that starts with Redis's magic,
 * so start-up with such a dbfilename, DEBUG RELOAD and a replica's full sync
 * from a Redis primary all come here.
 *
 * Nothing is half-loaded: the checksum is checked first, then every key is
 * decoded into databases of the loader's own (and the functions into a
 * library set of their own); only when the whole file decoded are they moved
 * into the server's, which cannot fail. Module values, module aux data and
 * unknown opcodes or value types refuse the file, naming the key and the
 * byte offset. */
#ifndef RUNNEL_PERSISTENCE_RDB_LOAD_H
#define RUNNEL_PERSISTENCE_RDB_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "persistence/snapshot.h"

/* Whether data starts with an RDB file's magic ("REDIS"). */
bool rdb_image_is_rdb(const void *data, size_t size);

/* Loads the RDB image data[0..size) as snapshot_load_file loads a snapshot
 * (flags: enum snapshot_load_flags). true when loaded; false with the
 * reason in err, and nothing changed. */
bool rdb_load_image(const void *data, size_t size, unsigned flags, struct snapshot_load_result *res, char *err,
                    size_t errlen);

#endif
