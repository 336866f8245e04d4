/* keyspace_stream: keyspace events appended to a stream
 * (`notify-keyspace-events-stream <key>`, trimmed to about
 * `notify-keyspace-events-stream-maxlen` entries), so that a consumer group
 * reads them with acknowledgements and misses none across disconnects and
 * restarts.
 *
 * Every event notify-keyspace-events selects (K and E do not matter here)
 * is queued as it happens and appended, as one entry `db <n> event <name>
 * key <key>` of the stream under that key in database 0, when the command
 * that caused it has been logged (dispatch_call), or before the loop sleeps
 * for events of the cron and of served blocked clients. Each append is
 * logged as a concrete XADD with its exact trim, after the command, so the
 * AOF and replicas hold the same entries with the same IDs; nothing is
 * recorded on a replica or while a file loads (the primary's XADDs arrive
 * instead), nor in a cluster. Events about the stream itself are not
 * recorded. */
#ifndef RUNNEL_SERVER_KEYSPACE_STREAM_H
#define RUNNEL_SERVER_KEYSPACE_STREAM_H

#include <stdbool.h>

/* Installs notify_record_hook. */
void keyspace_stream_init(void);
/* Appends the queued events (if any) and logs them; returns whether any
 * was appended (the caller serves clients blocked on the stream). */
bool keyspace_stream_flush(void);

#endif
