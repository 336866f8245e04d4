/* aof_state: what the AOF files (aof.c, aof_rewrite.c) share: the open
 * incremental file, the manifest, the counters INFO reports. */
#ifndef RUNNEL_PERSISTENCE_AOF_STATE_H
#define RUNNEL_PERSISTENCE_AOF_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "persistence/aof_manifest.h"
#include "util/str.h"

#define AOF_MANIFEST_SUFFIX ".manifest"

struct aof_state {
    bool on;
    bool waiting_first_rewrite; /* turned on at run time: no base yet */
    char dir[1024];
    char manifest_name[300];
    struct aof_manifest manifest;
    int fd;                  /* current incremental file */
    long long incr_seq;
    str unwritten;           /* drained from the oplog, not yet written */
    unsigned long long written_total;
    unsigned long long synced_total;
    long long current_size;  /* bytes in the incremental files since the base */
    long long base_size;
    int last_write_errno;
    bool last_write_ok;
    char write_error[128];

    /* the background thread (aof.c): everysec fsyncs, early writeback, and
     * the fsync and close of the file a switch left behind */
    pthread_t fsync_thread;
    bool fsync_thread_running;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* work for the thread */
    pthread_cond_t idle;  /* the thread finished a piece of work */
    bool fsync_requested;
    bool writeback_requested;
    bool busy;            /* the thread is doing I/O, the lock released */
    bool stop_thread;
    int retired_fd;       /* previous file to fsync and close, or -1 */
    unsigned long long retired_target; /* written_total when it was retired */
    unsigned long long writeback_requested_at; /* written_total at the last request */
    int wake_fd;          /* eventfd the thread wakes the loop with after an fsync */
    long long fsync_started_ms; /* 0 when idle */
    long long last_fsync_request_ms;
    long long postponed_since_ms; /* writes held back behind a slow fsync */
    long long delayed_fsyncs;

    /* rewrite */
    pid_t rewrite_pid;
    long long rewrite_started_ms;
    long long last_rewrite_seconds;
    bool last_rewrite_ok;
    long long rewrites;
    long long rewrite_failed_at_ms;
    char rewrite_temp[1100];
    bool rewrite_snapshot;       /* the child writes a snapshot base (aof-use-rdb-preamble) */
    int rewrite_prev_incr_count; /* incr files that the new base replaces */
};

extern struct aof_state aof;

/* Writes the unwritten bytes to the current file; false on an error. */
bool aof_write_unwritten(void);
/* Opens a new incremental file with the next sequence number as the
 * current one (the previous one fsync'd and closed). */
int aof_open_next_incr(void);
long long aof_now_ms(void);

#endif
