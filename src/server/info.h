/* info: builds the INFO text. Sections owned by other modules contribute
 * through the hooks below, which those modules set at start-up. */
#ifndef RUNNEL_SERVER_INFO_H
#define RUNNEL_SERVER_INFO_H

#include "protocol/request.h"
#include "util/str.h"

str info_generate(struct arg *names, int count);
/* The most memory seen in use, after counting `used` (INFO, MEMORY STATS). */
size_t info_memory_peak(size_t used);
/* Bytes held by connected clients' buffers and state. */
size_t info_clients_memory(void);

extern const char *server_executable_path;
/* Number of keys clients are blocked on (messaging/blocking). */
extern long long (*info_blocking_keys)(void);
/* pubsub_channels, pubsub_patterns, pubsubshard_channels (messaging/pubsub). */
extern long long (*info_pubsub_counts[3])(void);
/* Appends aof_* and rdb_* fields (persistence/). */
extern str (*info_persistence_extension)(str s);
/* Appends the scripting fields of the memory section (scripting/). */
extern str (*info_memory_extension)(str s);
/* The replication section, and the replication fields of stats (replication/). */
extern str (*info_replication_extension)(str s);
extern str (*info_stats_extension)(str s);
/* INFO cluster's cluster_enabled (set by cluster/). */
extern bool info_cluster_enabled;

#endif
