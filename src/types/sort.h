/* sort: SORT and SORT_RO over lists, sets and sorted sets. */
#ifndef RUNNEL_TYPES_SORT_H
#define RUNNEL_TYPES_SORT_H

#include <stdbool.h>

#include "protocol/command.h"

extern struct command sort_commands[];

/* Whether the caller may use BY and GET patterns, which read keys no ACL
 * check saw beforehand (Redis 7 allows them only to a user with access to
 * every key for this command). server/acl.c installs it; NULL allows all. */
extern bool (*sort_patterns_allowed)(struct request *req);

/* Set by the cluster: the keys BY and GET patterns name may live on other
 * nodes, so (as Redis 7.0) a BY pattern with '*' and every GET are refused. */
extern bool sort_patterns_cluster_refused;

#endif
