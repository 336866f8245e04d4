/* console_dlq: the console's "move back" of dead-lettered entries. An
 * entry of a dead-letter stream (see types/stream_dlq.h) starts with the
 * fields dlq-stream, dlq-id, dlq-group, dlq-consumer, dlq-deliveries and
 * dlq-reason, then holds the message's own fields; moving it back appends
 * those own fields to its source stream with a new ID (so the groups there
 * deliver it again) and deletes it from the dead-letter stream, as one
 * MULTI/EXEC run through console_exec: checked against the request's ACL
 * user for both keys, logged to the AOF and replicas as a transaction, and
 * (by the HTTP server) answered once durable. */
#ifndef RUNNEL_HTTP_CONSOLE_DLQ_H
#define RUNNEL_HTTP_CONSOLE_DLQ_H

#include <json-c/json.h>

/* At most this many entries move in one request. */
#define CONSOLE_DLQ_MAX_MOVES 100

/* Moves the entries `ids` (comma-separated IDs) of the dead-letter stream
 * `dlq` in database `db` back to their source streams, all or none:
 * {"moved": [{"id", "stream", "new_id"}]} with *status 200, or
 * {"error": text} with *status 400 (not a dead-lettered entry, source
 * missing or not a stream, another cluster slot, a command's error), 403
 * (the ACL user may not) or 404 (no such entry). The caller owns it. */
json_object *console_dlq_move_back(int db, const char *dlq, const char *ids, int *status);

#endif
