/* keyspace_events: what a write command reports after changing a key — the
 * WATCH invalidation, the dirty counter, and the keyspace notification —
 * in one call, so no command forgets one of them. */
#ifndef RUNNEL_TYPES_KEYSPACE_EVENTS_H
#define RUNNEL_TYPES_KEYSPACE_EVENTS_H

#include <stddef.h>

#include "messaging/notify.h"
#include "protocol/request.h"

/* The key changed: touch watchers, count one change, notify `event` in
 * `class` (no notification when event is NULL). */
void key_changed(struct request *req, const char *key, size_t len, int class, const char *event);

#endif
