/* aof: the append-only file. The operation log (db/oplog.h) is drained
 * before every sleep of the event loop and appended to the current
 * incremental file; with `appendfsync always` it is fsync'd before any reply
 * acknowledging those writes leaves the server (group commit), with
 * `everysec` a background thread fsyncs once a second, with `no` the kernel
 * decides. A rewrite (BGREWRITEAOF) writes a new base in a forked child while
 * the server goes on appending to a fresh incremental file; the manifest
 * switches to them atomically when the child succeeds. */
#ifndef RUNNEL_PERSISTENCE_AOF_H
#define RUNNEL_PERSISTENCE_AOF_H

#include <stdbool.h>

#include "protocol/command.h"
#include "util/str.h"

/* At start-up, with appendonly yes: loads the files named by the manifest
 * (or creates an empty set) and opens the incremental file for appending.
 * Returns -1 after logging why the server must not start. */
int aof_startup(void);
/* DEBUG LOADAOF: writes and syncs what the log holds, empties every
 * database and replays the AOF's files as start-up does; replies through
 * req. Refused while the files may not hold the whole dataset (AOF off, or
 * a rewrite or the first base still being written). */
struct request;
void aof_debug_loadaof(struct request *req);
/* Before the loop sleeps: writes what the oplog holds, fsyncs per policy. */
void aof_before_sleep(void);
/* From the cron: rewrite children, automatic rewrites, everysec health. */
void aof_cron(void);
/* SHUTDOWN / SIGTERM: write and fsync everything, stop the fsync thread. */
void aof_shutdown(void);
/* Turns the AOF on or off at run time (CONFIG SET appendonly). */
int aof_set_enabled(bool on, const char **err);
/* Starts a background rewrite; -1 with *err when one is running. */
int aof_rewrite_start(const char **err);
str aof_info(str s);

extern struct command aof_commands[];

/* ---- shared by aof*.c ---- */

struct aof_manifest;
/* Replays every file of the manifest into the dataset. */
int aof_load(const char *dir, struct aof_manifest *m);
/* Child side of a rewrite with aof-use-rdb-preamble no: writes the dataset
 * as commands to `path`. */
int aof_write_dataset(const char *path);

#endif
