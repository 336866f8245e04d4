/* full_sync: a full synchronisation's snapshot, from a forked child to the
 * replicas waiting for one. The child sees the dataset frozen at the fork
 * by copy-on-write, so the primary's clients never wait for it.
 *
 * Diskless (repl-diskless-sync yes, the default): the child writes the
 * snapshot into a pipe; the loop reads it as it comes and queues each
 * chunk, once, as a shared block on every receiving replica's output
 * (framed "$EOF:<mark>\r\n" <snapshot> <mark>). With a file
 * (repl-diskless-sync no) the child writes a temporary file, which is then
 * sent with its length ("$<len>\r\n"). Either way reading stops while a
 * replica's queue is full, so a slow replica costs a bounded amount of
 * memory. The stream from the fork's offset waits in the replication buffer
 * and follows the snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/oplog.h"
#include "persistence/snapshot.h"
#include "replication/repl_state.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/latency.h"
#include "server/server.h"
#include "net/event_loop.h"
#include "util/file_drop.h"
#include "util/log.h"

#define SYNC_READ_CHUNK (64 * 1024)
#define SYNC_QUEUE_PAUSE (8 * 1024 * 1024)  /* a replica's queue this full stops the reading */
#define SYNC_QUEUE_RESUME (1 * 1024 * 1024) /* ...until every queue is below this */
#define SYNC_DISK_READS_PER_TURN 32

static struct {
    pid_t pid;            /* the child, until reaped */
    int fd;               /* the pipe (diskless) or the file being sent; -1 */
    bool disk;
    bool rdb;             /* this snapshot is a Redis RDB file (for replicas that are not Runnel) */
    bool watching;        /* the pipe is registered with the loop */
    bool paused;          /* a replica's queue is full */
    char path[64];        /* the temporary file (disk) */
    char mark[REPL_ID_LEN + 1];
    long long first_wait_ms;
    long long started_ms;
} job = {.fd = -1};

bool full_sync_running(void)
{
    return job.pid > 0 || job.fd >= 0;
}

static int count_in_state(enum replica_state st)
{
    int n = 0;
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r))
        n += primary_replica_state(r) == st;
    return n;
}

/* Queues bytes that every receiving replica must get, in order. */
static void send_to_receivers(const char *bytes, size_t len)
{
    struct outblock *b = outblock_new(len);
    outblock_append(b, bytes, len);
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r)) {
        if (primary_replica_state(r) != REPLICA_SEND_SNAPSHOT) continue;
        client_send_block(primary_replica_client(r), b);
    }
    outblock_release(b);
}

static bool receivers_full(void)
{
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r))
        if (primary_replica_state(r) == REPLICA_SEND_SNAPSHOT && primary_replica_client(r)->out.pending > SYNC_QUEUE_PAUSE)
            return true;
    return false;
}

static bool receivers_drained(void)
{
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r))
        if (primary_replica_state(r) == REPLICA_SEND_SNAPSHOT && primary_replica_client(r)->out.pending > SYNC_QUEUE_RESUME)
            return false;
    return true;
}

static void stop_watching(void)
{
    if (!job.watching) return;
    event_loop_unwatch(server.loop, job.fd, EV_READ);
    job.watching = false;
}

static void close_source(void)
{
    stop_watching();
    if (job.fd >= 0) close(job.fd);
    job.fd = -1;
    job.paused = false;
}

/* The snapshot is out (ok) or failed: receivers go online, or are dropped
 * to try again. */
static void finish(bool ok)
{
    close_source();
    if (job.disk && job.path[0]) file_drop(job.path); /* freeing a big file's blocks: not on the loop */
    job.path[0] = '\0';
    if (ok && !job.disk) send_to_receivers(job.mark, REPL_ID_LEN);
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r)) {
        if (primary_replica_state(r) != REPLICA_SEND_SNAPSHOT) continue;
        if (ok) primary_replica_snapshot_sent(r);
        else client_close_async(primary_replica_client(r));
    }
    if (ok) log_notice("Synchronization with replica(s) succeeded (%lld ms)", event_now_ms() - job.started_ms);
    else log_warning("Synchronization with replica(s) failed");
}

static bool child_succeeded(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Reads what the source has (until a queue is full, the pipe is empty or
 * the file ends). At the end of the pipe, the child has exited or is
 * about to: it is reaped here and its status decides. */
static void pump(void)
{
    char chunk[SYNC_READ_CHUNK];
    for (int turns = 0; job.fd >= 0; turns++) {
        if (count_in_state(REPLICA_SEND_SNAPSHOT) == 0) {
            full_sync_abort();
            return;
        }
        if (receivers_full() || (job.disk && turns >= SYNC_DISK_READS_PER_TURN)) {
            job.paused = receivers_full();
            stop_watching();
            return;
        }
        ssize_t n = read(job.fd, chunk, sizeof(chunk));
        if (n > 0) {
            send_to_receivers(chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        bool ok = n == 0;
        if (!job.disk && job.pid > 0) {
            int status = 0;
            waitpid(job.pid, &status, 0);
            ok = ok && child_succeeded(status);
            job.pid = 0;
            snapshot_foreign_child_set(0);
        }
        finish(ok);
        return;
    }
}

static void on_pipe_readable(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)loop, (void)fd, (void)data, (void)mask;
    pump();
}

static void watch_pipe(void)
{
    if (job.watching || job.disk || job.fd < 0) return;
    if (event_loop_watch(server.loop, job.fd, EV_READ, on_pipe_readable, NULL) == 0) job.watching = true;
}

/* The child: the dataset as it was at the fork, to the pipe or the file. */
static void child_main(int out_fd)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    int rc = job.disk ? snapshot_write_file_as(job.path, false, job.rdb) : snapshot_write_fd(out_fd, job.rdb);
    _exit(rc == 0 ? 0 : 1);
}

/* Tells each waiting replica that takes this job's format where its stream
 * will start and what frames the snapshot, and moves it to receiving; the
 * others wait for the next job. */
static void announce(long long pos)
{
    char line[160];
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r)) {
        if (primary_replica_state(r) != REPLICA_WAIT_SNAPSHOT || primary_replica_wants_rdb(r) != job.rdb) continue;
        int n = 0;
        if (primary_replica_wants_fullresync_line(r))
            n = snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", repl.replid, pos);
        if (!job.disk) n += snprintf(line + n, sizeof(line) - (size_t)n, "$EOF:%s\r\n", job.mark);
        client_send_raw(primary_replica_client(r), line, (size_t)n);
        primary_replica_start_snapshot(r, pos);
    }
}

/* The format of the first waiting replica's choice. */
static bool first_waiting_wants_rdb(void)
{
    for (struct replica *r = primary_replica_next(NULL); r; r = primary_replica_next(r))
        if (primary_replica_state(r) == REPLICA_WAIT_SNAPSHOT) return primary_replica_wants_rdb(r);
    return false;
}

static void start(void)
{
    job.disk = !cfg.repl_diskless_sync;
    job.rdb = first_waiting_wants_rdb();
    int fds[2] = {-1, -1};
    if (!job.disk && pipe2(fds, O_CLOEXEC) != 0) {
        log_warning("Can't create a pipe for the replicas' snapshot: %s", strerror(errno));
        return;
    }
    if (job.disk) snprintf(job.path, sizeof(job.path), "temp-repl-%d.rdb", (int)getpid());
    repl_id_generate(job.mark);
    long long pos = repl_offset_now();
    oplog_reset_selected_db(); /* the stream after the snapshot starts by naming its database */
    pid_t pid = latency_fork();
    if (pid < 0) {
        log_warning("Can't fork for the replicas' snapshot: %s", strerror(errno));
        if (fds[0] >= 0) close(fds[0]), close(fds[1]);
        return;
    }
    if (pid == 0) {
        if (fds[0] >= 0) close(fds[0]);
        child_main(fds[1]);
    }
    job.pid = pid;
    job.started_ms = event_now_ms();
    job.first_wait_ms = 0;
    snapshot_foreign_child_set(pid);
    if (!job.disk) {
        close(fds[1]);
        job.fd = fds[0];
        fcntl(job.fd, F_SETFL, fcntl(job.fd, F_GETFL) | O_NONBLOCK);
        watch_pipe();
    }
    log_notice("Starting BGSAVE for SYNC with target: %s (pid %d)%s", job.disk ? "disk" : "replicas sockets", (int)pid,
               job.rdb ? ", as an RDB file" : "");
    announce(pos);
}

void full_sync_maybe_start(void)
{
    if (full_sync_running()) return;
    int waiting = count_in_state(REPLICA_WAIT_SNAPSHOT);
    if (waiting == 0) {
        job.first_wait_ms = 0;
        return;
    }
    long long now = event_now_ms();
    if (!job.first_wait_ms) job.first_wait_ms = now;
    if (snapshot_child_busy()) return;
    bool enough = cfg.repl_diskless_sync_max_replicas > 0 && waiting >= cfg.repl_diskless_sync_max_replicas;
    if (cfg.repl_diskless_sync && !enough && now - job.first_wait_ms < (long long)cfg.repl_diskless_sync_delay * 1000)
        return;
    start();
}

/* With a file, the child is reaped here; the file is then sent. */
static void disk_child_check(void)
{
    int status;
    if (job.pid <= 0 || waitpid(job.pid, &status, WNOHANG) != job.pid) return;
    job.pid = 0;
    snapshot_foreign_child_set(0);
    if (!child_succeeded(status) || (job.fd = open(job.path, O_RDONLY | O_CLOEXEC)) < 0) {
        finish(false);
        return;
    }
    struct stat st;
    fstat(job.fd, &st);
    char header[32];
    int n = snprintf(header, sizeof(header), "$%lld\r\n", (long long)st.st_size);
    send_to_receivers(header, (size_t)n);
}

void full_sync_before_flush(void)
{
    if (job.disk) disk_child_check();
    if (job.fd < 0) return;
    if (job.paused && !receivers_drained()) return;
    job.paused = false;
    if (job.disk) pump();
    else if (!job.watching) {
        watch_pipe();
        pump();
    }
}

/* No receiver is left (or the server is going away): the child is killed
 * and its output dropped. */
void full_sync_abort(void)
{
    if (job.pid > 0) {
        kill(job.pid, SIGUSR1);
        int status;
        waitpid(job.pid, &status, 0);
        job.pid = 0;
        snapshot_foreign_child_set(0);
    }
    finish(false);
}
