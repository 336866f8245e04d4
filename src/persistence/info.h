/* info: the persistence part of INFO, past the two fields the server layer
 * writes itself (rdb_changes_since_last_save, rdb_last_save_time). */
#ifndef RUNNEL_PERSISTENCE_INFO_H
#define RUNNEL_PERSISTENCE_INFO_H

#include "util/str.h"

/* Appends the snapshot's rdb_* fields, the AOF's aof_* fields, then the
 * loading_* fields while a file loads. Installed as
 * info_persistence_extension. */
str persistence_info(str s);

#endif
