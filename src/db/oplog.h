/* oplog: the changes made to the dataset, as the commands that reproduce
 * them, in the order they happened. Commands land here after they run;
 * persistence drains the log before the loop sleeps and appends it to the
 * AOF. Nothing is logged while the log is disabled (no AOF).
 *
 * By default the server logs a write command's own arguments. A command
 * whose effect is not reproduced by replaying its arguments (relative
 * expiry, random choices, server-chosen IDs, blocking pops) logs what it
 * actually did with oplog_propagate instead. */
#ifndef RUNNEL_DB_OPLOG_H
#define RUNNEL_DB_OPLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/request.h"
#include "util/str.h"

/* Whether anything is logged: some consumer reads the log. */
extern bool oplog_enabled;

/* Who reads the log: the AOF, and a primary's replication stream. The log
 * is enabled while either does. */
enum oplog_consumer { OPLOG_AOF = 1 << 0, OPLOG_REPL = 1 << 1, OPLOG_OBSERVER = 1 << 2 };
void oplog_consumer_set(enum oplog_consumer who, bool on);
bool oplog_feeds_replication(void);

/* Appends one command that runs against database `db`. */
void oplog_append(int db, int argc, const struct arg *argv);
/* The same with C strings (all NUL-terminated). */
void oplog_append_cstr(int db, int argc, const char *const *argv);
/* Logs a command in place of the request's own arguments; the request is
 * marked so that the server does not log its arguments as well. */
void oplog_propagate(struct request *req, int argc, const struct arg *argv);
void oplog_propagate_cstr(struct request *req, int argc, const char *const *argv);

/* Appends a command for replicas only (PUBLISH, the primary's PING): it
 * takes its place in the order of the stream, but the AOF never sees it and
 * it does not count in oplog_logged_total. Nothing happens unless the log
 * feeds replication. db -1: no SELECT before it. */
void oplog_append_repl_only(int db, int argc, const struct arg *argv);

/* Wraps what is logged between these in MULTI/EXEC (only if anything is). */
void oplog_multi_begin(void);
void oplog_multi_end(void);

/* Bytes ever logged; a reply acknowledging a write may leave the server
 * only once the log is durable up to the point right after that write. */
unsigned long long oplog_logged_total(void);
/* How far the log is durable (set by persistence; everything when no AOF). */
extern unsigned long long oplog_durable_total;
/* Why the log cannot be written right now (disk full...), or NULL; writes
 * are refused with MISCONF while it is set. */
extern const char *oplog_sink_error;

/* Bytes ever logged for replication: what oplog_logged_total counts plus
 * the replica-only commands. Replication maps it to its offsets. */
unsigned long long oplog_stream_total(void);
/* Called with every batch as it leaves the log (drain, exchange or
 * discard), whole, replica-only commands included: replication's feed. */
void oplog_set_tap(void (*tap)(const char *bytes, size_t len));

/* Called with every command as it is logged (not the SELECTs, MULTIs and
 * EXECs the log adds around them, nor replica-only commands); the observer
 * must also be set as the OPLOG_OBSERVER consumer so that logging is on.
 * The cluster's slot migration forwards the writes of the slots it moves. */
void oplog_set_observer(void (*observer)(int db, int argc, const struct arg *argv));

/* Takes everything logged so far, without the replica-only commands
 * (NULL when empty); the caller frees it. */
str oplog_drain(void);
/* Takes everything logged so far and hands the log `spare` (emptied) to
 * write into next, so a steady stream of writes allocates nothing. Returns
 * NULL, keeping `spare` with the caller, when nothing was logged. */
str oplog_exchange(str spare);
/* Drops the batch (nobody writes it to a file: no AOF). */
void oplog_discard(void);
/* Forgets the selected database, so the next entry starts with SELECT
 * (a new file). */
void oplog_reset_selected_db(void);
size_t oplog_pending_bytes(void);

#endif
