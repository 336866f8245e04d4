#include "persistence/aof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "db/oplog.h"
#include "net/event_loop.h"
#include "persistence/aof_state.h"
#include "persistence/loading.h"
#include "persistence/snapshot.h"
#include "server/config.h"
#include "server/latency.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

struct aof_state aof = {.fd = -1, .retired_fd = -1, .wake_fd = -1, .last_write_ok = true, .last_rewrite_ok = true};

long long aof_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the background thread: everysec fsyncs, early writeback, retired files ----
 *
 * The main thread only sets work flags under the lock and signals; the
 * thread takes them and does the slow calls with the lock released, so
 * asking never waits for a disk. */

/* Bytes written since the last writeback request after which the thread is
 * asked to start writing the new pages out (sync_file_range, which does not
 * wait for the disk). The once-a-second fdatasync then finds little left to
 * write, so it is short, and so are the waits it causes. */
#define AOF_WRITEBACK_BYTES (1024 * 1024)

/* Tells the loop that an fsync ended: writes held back behind it (and
 * WAITAOF callers) go on at once instead of at the next event. */
static void wake_loop(void)
{
    if (aof.wake_fd < 0) return;
    uint64_t one = 1;
    ssize_t n = write(aof.wake_fd, &one, sizeof(one));
    (void)n; /* a full counter already means "wake up" */
}

static void on_wake(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop, (void)data, (void)mask;
    uint64_t count;
    ssize_t n = read(fd, &count, sizeof(count));
    (void)n; /* the before-sleep hook that follows does the work */
}

static void advance_synced(unsigned long long target)
{
    if (target > __atomic_load_n(&aof.synced_total, __ATOMIC_ACQUIRE))
        __atomic_store_n(&aof.synced_total, target, __ATOMIC_RELEASE);
}

/* fdatasync with the start shown to the main thread (which holds writes
 * back meanwhile); on success every byte up to `target` is on disk. */
static void fsync_upto(int fd, unsigned long long target)
{
    __atomic_store_n(&aof.fsync_started_ms, aof_now_ms(), __ATOMIC_RELEASE);
    int rc = fdatasync(fd);
    __atomic_store_n(&aof.fsync_started_ms, 0, __ATOMIC_RELEASE);
    if (rc == 0) advance_synced(target);
}

static void *fsync_thread_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&aof.lock);
    for (;;) {
        while (!aof.fsync_requested && !aof.writeback_requested && aof.retired_fd < 0 && !aof.stop_thread)
            pthread_cond_wait(&aof.wake, &aof.lock);
        int retired = aof.retired_fd;
        unsigned long long retired_target = aof.retired_target;
        bool fsync = aof.fsync_requested, writeback = aof.writeback_requested;
        int fd = aof.fd;
        /* the main thread reads these without the lock: atomics keep it honest */
        unsigned long long target = __atomic_load_n(&aof.written_total, __ATOMIC_ACQUIRE);
        if (retired < 0 && !fsync && !writeback) break; /* stopping, nothing left */
        aof.fsync_requested = aof.writeback_requested = false;
        aof.busy = true;
        pthread_mutex_unlock(&aof.lock);
        if (retired >= 0) {
            /* the file a switch left behind: after it, all written before the switch is on disk */
            fsync_upto(retired, retired_target);
            close(retired);
        }
        if (writeback && !fsync && fd >= 0) sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        if (fsync && fd >= 0) fsync_upto(fd, target);
        pthread_mutex_lock(&aof.lock);
        if (retired >= 0) aof.retired_fd = -1;
        aof.busy = false;
        pthread_cond_broadcast(&aof.idle);
        if (retired >= 0 || fsync) wake_loop();
    }
    pthread_mutex_unlock(&aof.lock);
    return NULL;
}

static void fsync_thread_start(void)
{
    if (aof.fsync_thread_running) return;
    pthread_mutex_init(&aof.lock, NULL);
    pthread_cond_init(&aof.wake, NULL);
    pthread_cond_init(&aof.idle, NULL);
    aof.stop_thread = false;
    aof.retired_fd = -1;
    if (aof.wake_fd < 0) {
        aof.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (aof.wake_fd >= 0 && event_loop_watch(server.loop, aof.wake_fd, EV_READ, on_wake, NULL) != 0) {
            close(aof.wake_fd);
            aof.wake_fd = -1;
        }
    }
    if (pthread_create(&aof.fsync_thread, NULL, fsync_thread_main, NULL) == 0) aof.fsync_thread_running = true;
}

/* Lets the thread finish what it was given (a retired file included). */
static void fsync_thread_stop(void)
{
    if (!aof.fsync_thread_running) return;
    pthread_mutex_lock(&aof.lock);
    aof.stop_thread = true;
    pthread_cond_signal(&aof.wake);
    pthread_mutex_unlock(&aof.lock);
    pthread_join(aof.fsync_thread, NULL);
    aof.fsync_thread_running = false;
}

/* Waits until the thread holds no file and does no work (before the main
 * thread fsyncs or closes the current file itself). */
static void fsync_thread_wait_idle(void)
{
    if (!aof.fsync_thread_running) return;
    pthread_mutex_lock(&aof.lock);
    while (aof.busy || aof.retired_fd >= 0 || aof.fsync_requested || aof.writeback_requested)
        pthread_cond_wait(&aof.idle, &aof.lock);
    pthread_mutex_unlock(&aof.lock);
}

/* Asks the thread for an fsync at most once a second, and to start the
 * writeback of every further AOF_WRITEBACK_BYTES in between. */
static void fsync_request_everysec(void)
{
    long long now = aof_now_ms();
    unsigned long long written = aof.written_total;
    bool fsync_due = now - aof.last_fsync_request_ms >= 1000 &&
                     __atomic_load_n(&aof.synced_total, __ATOMIC_ACQUIRE) < written;
    bool writeback_due = written - aof.writeback_requested_at >= AOF_WRITEBACK_BYTES;
    if (!fsync_due && !writeback_due) return;
    pthread_mutex_lock(&aof.lock); /* held only briefly by the thread */
    if (fsync_due) {
        aof.fsync_requested = true;
        aof.last_fsync_request_ms = now;
    } else {
        aof.writeback_requested = true;
    }
    aof.writeback_requested_at = written;
    pthread_cond_signal(&aof.wake);
    pthread_mutex_unlock(&aof.lock);
}

/* ---- writing ---- */

static void record_write_error(int err)
{
    if (aof.last_write_ok) log_warning("Error writing to the AOF file: %s", strerror(err));
    aof.last_write_ok = false;
    aof.last_write_errno = err;
    snprintf(aof.write_error, sizeof(aof.write_error), "%s", strerror(err));
    oplog_sink_error = aof.write_error;
}

static void clear_write_error(void)
{
    if (aof.last_write_ok) return;
    log_warning("AOF write error looks solved. Runnel can write again.");
    aof.last_write_ok = true;
    oplog_sink_error = NULL;
}

bool aof_write_unwritten(void)
{
    size_t len = aof.unwritten ? str_len(aof.unwritten) : 0;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(aof.fd, aof.unwritten + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            record_write_error(n < 0 ? errno : ENOSPC);
            break;
        }
        done += (size_t)n;
    }
    if (done > 0) {
        /* keep what did not fit; it is retried before the next sleep */
        memmove(aof.unwritten, aof.unwritten + done, len - done);
        str_set_len(aof.unwritten, len - done);
        __atomic_store_n(&aof.written_total, aof.written_total + done, __ATOMIC_RELEASE);
        aof.current_size += (long long)done;
    }
    if (done < len) return false;
    clear_write_error();
    return true;
}

/* Moves the oplog into the unwritten buffer. In the common case (all of the
 * last batch was written) the two buffers just trade places. */
static void take_oplog(void)
{
    if (!aof.unwritten || str_len(aof.unwritten) == 0) {
        str drained = oplog_exchange(aof.unwritten);
        if (drained) aof.unwritten = drained;
        return;
    }
    str drained = oplog_drain();
    if (!drained) return;
    aof.unwritten = str_append(aof.unwritten, drained, str_len(drained));
    str_free(drained);
}

/* With `always`, nothing counts as durable before fdatasync returns, and
 * replies to the writes wait until it does (see oplog_durable_total). */
static void sync_always(void)
{
    if (aof.synced_total >= aof.written_total) return;
    fsync_thread_wait_idle(); /* a file retired before the switch to always */
    if (fdatasync(aof.fd) != 0) {
        record_write_error(errno);
        return;
    }
    aof.synced_total = aof.written_total;
}

/* everysec, as Redis does: while the background fsync is busy, a write()
 * would block behind it, so new data waits in memory — for at most two
 * seconds, after which it is written anyway (counted as a delayed fsync). */
static bool postpone_for_fsync(void)
{
    if (cfg.appendfsync != APPENDFSYNC_EVERYSEC || !__atomic_load_n(&aof.fsync_started_ms, __ATOMIC_ACQUIRE)) {
        aof.postponed_since_ms = 0;
        return false;
    }
    long long now = aof_now_ms();
    if (!aof.postponed_since_ms) aof.postponed_since_ms = now;
    if (now - aof.postponed_since_ms < 2000) return true;
    aof.delayed_fsyncs++;
    aof.postponed_since_ms = 0;
    return false;
}

void aof_before_sleep(void)
{
    if (!aof.on) {
        oplog_discard(); /* replication has read it, if it reads it */
        return;
    }
    take_oplog();
    if (postpone_for_fsync()) return;
    long long start = aof_now_ms();
    aof_write_unwritten();
    latency_add_sample_if_needed("aof-write", aof_now_ms() - start);
    if (cfg.appendfsync == APPENDFSYNC_ALWAYS) {
        start = aof_now_ms();
        sync_always();
        latency_add_sample_if_needed("aof-fsync-always", aof_now_ms() - start);
        oplog_durable_total = aof.synced_total;
    } else {
        if (cfg.appendfsync == APPENDFSYNC_EVERYSEC) fsync_request_everysec();
        /* everysec/no acknowledge once written to the kernel */
        oplog_durable_total = aof.written_total;
    }
}

/* ---- files ---- */

static int open_append(const char *name)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s", aof.dir, name);
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static long long file_size(const char *name)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s", aof.dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* Makes `fd` the current file. The previous one is fsync'd and closed by
 * the thread when it runs (the loop does not wait for a disk at a
 * rewrite's start); with `always` (whose writes are fsync'd already) or
 * without the thread, here. */
static void retire_current(int fd)
{
    if (!aof.fsync_thread_running || cfg.appendfsync == APPENDFSYNC_ALWAYS) {
        fsync_thread_wait_idle();
        if (fdatasync(aof.fd) == 0) advance_synced(aof.written_total);
        close(aof.fd);
        aof.fd = fd;
        return;
    }
    pthread_mutex_lock(&aof.lock);
    while (aof.retired_fd >= 0) pthread_cond_wait(&aof.idle, &aof.lock); /* one at a time; rare */
    aof.retired_fd = aof.fd;
    aof.retired_target = aof.written_total;
    aof.fd = fd;
    pthread_cond_signal(&aof.wake);
    pthread_mutex_unlock(&aof.lock);
}

int aof_open_next_incr(void)
{
    char name[256];
    aof.incr_seq++;
    aof_file_name(name, sizeof(name), cfg.appendfilename, aof.incr_seq, AOF_FILE_INCR);
    int fd = open_append(name);
    if (fd < 0) {
        log_warning("Can't open the append-only file %s: %s", name, strerror(errno));
        aof.incr_seq--;
        return -1;
    }
    if (aof.fd >= 0) retire_current(fd);
    else aof.fd = fd;
    struct aof_manifest *m = &aof.manifest;
    if (m->incr_count < AOF_MAX_INCR) {
        snprintf(m->incr[m->incr_count], sizeof(m->incr[0]), "%s", name);
        m->incr_seq[m->incr_count++] = aof.incr_seq;
    }
    oplog_reset_selected_db();
    return 0;
}

static void aof_paths_init(void)
{
    snprintf(aof.dir, sizeof(aof.dir), "%s", cfg.appenddirname);
    snprintf(aof.manifest_name, sizeof(aof.manifest_name), "%s%s", cfg.appendfilename, AOF_MANIFEST_SUFFIX);
}

static long long base_file_size(void)
{
    return aof.manifest.base[0] ? file_size(aof.manifest.base) : 0;
}

static long long manifest_sizes(void)
{
    long long total = 0;
    for (int i = 0; i < aof.manifest.incr_count; i++) total += file_size(aof.manifest.incr[i]);
    return total;
}

/* Loads an existing manifest's files, or starts an empty one. */
int aof_startup(void)
{
    if (!cfg.appendonly) return 0;
    aof_paths_init();
    if (mkdir(aof.dir, 0755) != 0 && errno != EEXIST) {
        log_warning("Can't create the append-only directory %s: %s", aof.dir, strerror(errno));
        return -1;
    }
    char err[512];
    int found = aof_manifest_load(aof.dir, aof.manifest_name, &aof.manifest, err, sizeof(err));
    if (found < 0) {
        log_warning("%s", err);
        return -1;
    }
    if (found) {
        loading_start(base_file_size() + manifest_sizes());
        int rc = aof_load(aof.dir, &aof.manifest);
        loading_end();
        if (rc != 0) return -1;
    }
    aof.base_size = base_file_size();
    aof.current_size = manifest_sizes();
    for (int i = 0; i < aof.manifest.incr_count; i++)
        if (aof.manifest.incr_seq[i] > aof.incr_seq) aof.incr_seq = aof.manifest.incr_seq[i];
    if (aof.manifest.incr_count > 0) {
        /* keep appending to the last incremental file */
        aof.fd = open_append(aof.manifest.incr[aof.manifest.incr_count - 1]);
        if (aof.fd < 0) return -1;
    } else if (aof_open_next_incr() != 0 || aof_manifest_save(aof.dir, aof.manifest_name, &aof.manifest) != 0) {
        return -1;
    }
    aof.on = true;
    oplog_consumer_set(OPLOG_AOF, true);
    oplog_reset_selected_db();
    fsync_thread_start();
    return 0;
}

void aof_debug_loadaof(struct request *req)
{
    if (!aof.on) {
        reply_error(req->out, "ERR DEBUG LOADAOF needs appendonly yes: the AOF's files are not kept up to date");
        return;
    }
    if (aof.rewrite_pid > 0 || aof.waiting_first_rewrite) {
        reply_error(req->out, "ERR DEBUG LOADAOF must wait for the AOF rewrite in progress");
        return;
    }
    take_oplog();
    if (!aof_write_unwritten() || fdatasync(aof.fd) != 0) {
        reply_error(req->out, "ERR Error writing the AOF before reloading it, check server logs.");
        return;
    }
    snapshot_empty_databases();
    /* what is replayed is already in the files: log none of it again */
    bool was_logging = oplog_enabled;
    long long dirty = server.dirty;
    oplog_enabled = false;
    loading_start(base_file_size() + manifest_sizes());
    int rc = aof_load(aof.dir, &aof.manifest);
    loading_end();
    oplog_enabled = was_logging;
    server.dirty = dirty;
    if (rc != 0) {
        reply_error(req->out, "ERR Error trying to load the AOF files, check server logs.");
        return;
    }
    log_notice("Append Only File loaded by DEBUG LOADAOF");
    reply_ok(req->out);
}

void aof_shutdown(void)
{
    if (!aof.on) return;
    take_oplog();
    aof_write_unwritten();
    fsync_thread_stop();
    if (aof.fd >= 0) {
        if (fdatasync(aof.fd) == 0) log_notice("Calling fsync() on the AOF file.");
        close(aof.fd);
        aof.fd = -1;
    }
}

/* CONFIG SET appendonly yes: start logging to a fresh incremental file and
 * write a base with a rewrite; the manifest names them only once the base
 * exists, so a crash in between leaves the previous state intact. */
int aof_set_enabled(bool on, const char **err)
{
    if (on == aof.on) return 0;
    if (!on) {
        aof_shutdown();
        aof.on = false;
        oplog_consumer_set(OPLOG_AOF, false);
        oplog_durable_total = ~0ULL;
        return 0;
    }
    aof_paths_init();
    if (mkdir(aof.dir, 0755) != 0 && errno != EEXIST) {
        *err = "Can't create the append-only directory";
        return -1;
    }
    char errbuf[512];
    if (aof_manifest_load(aof.dir, aof.manifest_name, &aof.manifest, errbuf, sizeof(errbuf)) < 0)
        memset(&aof.manifest, 0, sizeof(aof.manifest));
    for (int i = 0; i < aof.manifest.incr_count; i++)
        if (aof.manifest.incr_seq[i] > aof.incr_seq) aof.incr_seq = aof.manifest.incr_seq[i];
    if (aof.manifest.base_seq > aof.incr_seq) aof.incr_seq = aof.manifest.base_seq;
    memset(&aof.manifest, 0, sizeof(aof.manifest));
    if (aof_open_next_incr() != 0) {
        *err = "Can't open the append-only file";
        return -1;
    }
    aof.on = true;
    aof.waiting_first_rewrite = true;
    oplog_consumer_set(OPLOG_AOF, true);
    fsync_thread_start();
    if (aof_rewrite_start(err) != 0) aof.rewrite_failed_at_ms = aof_now_ms();
    return 0;
}

str aof_info(str s)
{
    long long now = aof_now_ms();
    return str_append_printf(
        s,
        "aof_enabled:%d\r\n"
        "aof_rewrite_in_progress:%d\r\n"
        "aof_rewrite_scheduled:0\r\n"
        "aof_last_rewrite_time_sec:%lld\r\n"
        "aof_current_rewrite_time_sec:%lld\r\n"
        "aof_last_bgrewrite_status:%s\r\n"
        "aof_rewrites:%lld\r\n"
        "aof_last_write_status:%s\r\n"
        "aof_last_write_error:%s\r\n"
        "aof_current_size:%lld\r\n"
        "aof_base_size:%lld\r\n"
        "aof_buffer_length:%zu\r\n"
        "aof_pending_bio_fsync:%d\r\n"
        "aof_delayed_fsync:%lld\r\n",
        aof.on ? 1 : 0, aof.rewrite_pid > 0 ? 1 : 0, aof.last_rewrite_seconds,
        aof.rewrite_pid > 0 ? (now - aof.rewrite_started_ms) / 1000 : -1LL, aof.last_rewrite_ok ? "ok" : "err",
        aof.rewrites, aof.last_write_ok ? "ok" : "err", aof.last_write_ok ? "" : aof.write_error,
        aof.current_size + aof.base_size, aof.base_size, aof.unwritten ? str_len(aof.unwritten) : (size_t)0,
        aof.fsync_started_ms ? 1 : 0, aof.delayed_fsyncs);
}
