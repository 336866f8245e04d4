/* snapshot: writing snapshots (format in snapshot.h) in the foreground
 * (SAVE, SHUTDOWN, DEBUG RELOAD) or from a forked child that sees the
 * dataset frozen at the fork through copy-on-write (BGSAVE, `save` rules),
 * and what follows from their outcome: LASTSAVE, the dirty counter, INFO,
 * and the MISCONF refusal of writes after a failed background save. */
#include "persistence/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db/codec.h"
#include "db/db.h"
#include "db/oplog.h"
#include "db/watch.h"
#include "persistence/aof.h"
#include "persistence/aof_manifest.h"
#include "persistence/aof_state.h"
#include "persistence/loading.h"
#include "persistence/rdb_write.h"
#include "persistence/snapshot_walk.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/latency.h"
#include "server/server.h"
#include "util/crc64.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

/* Redis's wait before retrying a failed rule-triggered BGSAVE. */
#define BGSAVE_RETRY_DELAY_S 5

/* The full MISCONF reply: dispatch sends an oplog_sink_error that starts
 * with "MISCONF " as it is (see snapshot_refresh_misconf). */
static const char snapshot_misconf[] =
    "MISCONF Runnel is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that "
    "may modify the data set are disabled, because this instance is configured to report errors during writes if "
    "RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Runnel logs for details about the "
    "RDB error.";

static struct {
    pid_t child_pid;           /* BGSAVE child, 0 when none */
    long long child_started_ms;
    long long dirty_at_fork;
    bool scheduled;            /* BGSAVE SCHEDULE waiting for a free slot */
    bool last_bgsave_ok;
    long long last_bgsave_seconds;
    long long last_try;        /* unix seconds of the last BGSAVE attempt */
    long long saves;
    struct snapshot_load_result last_load;
} snap = {.last_bgsave_ok = true, .last_bgsave_seconds = -1};

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the writer ---- */

/* Where the codec's bytes go: the file, with the running checksum. */
struct file_sink {
    int fd;
    uint64_t crc;
    int error; /* errno of the first failure; nothing is written after it */
};

static void file_sink_write(void *ctx, const void *p, size_t len)
{
    struct file_sink *f = ctx;
    f->crc = crc64(f->crc, p, len);
    const char *s = p;
    while (len > 0 && !f->error) {
        ssize_t n = write(f->fd, s, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            f->error = n < 0 ? errno : ENOSPC;
            break;
        }
        s += n;
        len -= (size_t)n;
    }
}

/* One key: its record header, then its value framed (codec.h). */
static bool write_key(struct codec_out *out, struct db *db, const struct dict_entry *e)
{
    const struct object *o = e->v.ptr;
    size_t len = str_len(e->key);
    long long when = db_get_expire(db, e->key, len);
    codec_put_u8(out, when == -1 ? SNAP_OP_KEY : SNAP_OP_KEY_EXPIRE);
    codec_put_u8(out, o->type);
    if (when != -1) codec_put_u64(out, (uint64_t)when);
    codec_put_bytes(out, e->key, len);
    bool ok = object_save_framed(o, out);
    if (!ok) log_warning("Can't save values of type %s in a snapshot: the type has no save hook", object_type_name(o));
    return ok;
}

static bool write_db(struct codec_out *out, struct file_sink *sink, struct db *db)
{
    if (db_size(db) == 0) return true;
    codec_put_u8(out, SNAP_OP_SELECT);
    codec_put_varint(out, (uint64_t)db->id);
    codec_put_u8(out, SNAP_OP_DBSIZE);
    codec_put_varint(out, db_size(db));
    codec_put_varint(out, db_expires_size(db));
    struct dict_iter it;
    dict_iter_init(&it, db->keys, false);
    struct dict_entry *e;
    bool ok = true;
    while (ok && !sink->error && (e = dict_iter_next(&it))) ok = write_key(out, db, e);
    dict_iter_done(&it);
    return ok;
}

static void write_aux(struct codec_out *out, const char *name, const char *value)
{
    codec_put_u8(out, SNAP_OP_AUX);
    codec_put_bytes(out, name, strlen(name));
    codec_put_bytes(out, value, strlen(value));
}

void (*snapshot_aux_save_hook)(void (*emit)(void *ctx, const char *name, const char *value), void *ctx);
void (*snapshot_aux_load_hook)(const char *name, size_t nlen, const char *value, size_t vlen);

struct snapshot_function_hooks snapshot_function_hooks;

static void emit_aux(void *ctx, const char *name, const char *value)
{
    write_aux(ctx, name, value);
}

static void emit_function(void *ctx, const char *code, size_t len)
{
    codec_put_u8(ctx, SNAP_OP_FUNCTION);
    codec_put_bytes(ctx, code, len);
}

/* Everything before the end marker in Runnel's format. */
static bool write_body(struct codec_out *out, struct file_sink *sink, bool aof_base)
{
    char header[SNAPSHOT_HEADER_LEN + 1], ctime[24];
    snprintf(header, sizeof(header), "%s%04d", SNAPSHOT_MAGIC, SNAPSHOT_VERSION);
    codec_put_raw(out, header, SNAPSHOT_HEADER_LEN);
    write_aux(out, "runnel-ver", RUNNEL_VERSION);
    format_ll(ctime, (long long)time(NULL));
    write_aux(out, "ctime", ctime);
    if (aof_base) write_aux(out, "aof-base", "1");
    if (snapshot_aux_save_hook) snapshot_aux_save_hook(emit_aux, out);
    if (snapshot_function_hooks.each) snapshot_function_hooks.each(emit_function, out);
    bool ok = true;
    for (int i = 0; i < server.db_count && ok && !sink->error; i++) ok = write_db(out, sink, &server.dbs[i]);
    return ok;
}

/* Writes the whole dataset to an open file, in Runnel's format or (rdb)
 * Redis's; both end with 0xFF and the CRC-64. false (logged) on failure. */
static bool write_dataset(int fd, bool aof_base, bool rdb)
{
    struct file_sink sink = {.fd = fd};
    struct codec_out out;
    codec_out_init(&out, file_sink_write, &sink);
    bool ok = rdb ? rdb_write_body(&out) : write_body(&out, &sink, aof_base);
    codec_put_u8(&out, SNAP_OP_EOF);
    codec_out_flush(&out); /* the checksum covers everything up to here */
    codec_put_u64(&out, cfg.rdbchecksum ? sink.crc : 0);
    codec_out_finish(&out);
    if (sink.error) log_warning("Write error saving DB on disk: %s", strerror(sink.error));
    return ok && !sink.error;
}

int snapshot_write_file(const char *path, bool aof_base)
{
    return snapshot_write_file_as(path, aof_base, false);
}

int snapshot_write_file_as(const char *path, bool aof_base, bool rdb)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        char cwd[1024];
        log_warning("Failed opening the snapshot file %s (in server root dir %s) for saving: %s", path,
                    getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
        return -1;
    }
    bool ok = write_dataset(fd, aof_base, rdb);
    if (ok && fsync(fd) != 0) {
        log_warning("Error fsyncing the snapshot %s: %s", path, strerror(errno));
        ok = false;
    }
    if (close(fd) != 0 && ok) {
        log_warning("Error closing the snapshot %s: %s", path, strerror(errno));
        ok = false;
    }
    return ok ? 0 : -1;
}

int snapshot_write_fd(int fd, bool rdb)
{
    return write_dataset(fd, false, rdb) ? 0 : -1;
}

/* Writes `tmp`, makes it durable, and renames it over dbfilename: a crash
 * leaves either the old snapshot or the new one, never a torn file. */
static int write_snapshot_file(const char *tmp)
{
    bool ok = snapshot_write_file(tmp, false) == 0;
    if (ok && rename(tmp, cfg.dbfilename) != 0) {
        log_warning("Error moving the temp snapshot %s on the final destination %s: %s", tmp, cfg.dbfilename,
                    strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        return -1;
    }
    if (aof_fsync_dir(".") != 0) log_warning("Error fsyncing the directory of %s: %s", cfg.dbfilename, strerror(errno));
    return 0;
}

static void temp_name(char *out, size_t size, pid_t pid)
{
    snprintf(out, size, "temp-%d.rdb", (int)pid);
}

/* ---- MISCONF ---- */

/* Redis refuses writes while the last background save failed, save rules
 * exist and stop-writes-on-bgsave-error is on. The refusal travels through
 * oplog_sink_error, which the AOF also sets and clears for its own write
 * errors: the snapshot error takes precedence (as in Redis), and when it
 * clears, the AOF's own error, if any, is put back. */
static void snapshot_refresh_misconf(void)
{
    bool deny = cfg.stop_writes_on_bgsave_error && cfg.save_rule_count > 0 && !snap.last_bgsave_ok;
    if (deny) {
        oplog_sink_error = snapshot_misconf;
        return;
    }
    if (oplog_sink_error == snapshot_misconf) oplog_sink_error = aof.on && !aof.last_write_ok ? aof.write_error : NULL;
}

/* ---- saving ---- */

static void save_succeeded(long long dirty_covered)
{
    server.dirty = server.dirty > dirty_covered ? server.dirty - dirty_covered : 0;
    server.last_save = (long long)time(NULL);
    snap.last_bgsave_ok = true;
    snap.saves++;
    snapshot_refresh_misconf();
}

int snapshot_save(void)
{
    char tmp[64];
    temp_name(tmp, sizeof(tmp), getpid());
    if (write_snapshot_file(tmp) != 0) return -1;
    log_notice("DB saved on disk");
    save_succeeded(server.dirty);
    return 0;
}

static pid_t foreign_child;

void snapshot_foreign_child_set(pid_t pid)
{
    foreign_child = pid;
}

static bool child_active(void)
{
    return snap.child_pid > 0 || aof.rewrite_pid > 0 || foreign_child > 0;
}

bool snapshot_child_busy(void)
{
    return child_active();
}

/* Forks the BGSAVE child; -1 (logged, counted as a failed save) if fork fails. */
static int bgsave_start(void)
{
    snap.last_try = (long long)time(NULL);
    snap.scheduled = false;
    long long dirty = server.dirty;
    pid_t pid = latency_fork();
    if (pid < 0) {
        log_warning("Can't save in background: fork: %s", strerror(errno));
        snap.last_bgsave_ok = false;
        snapshot_refresh_misconf();
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        char tmp[64];
        temp_name(tmp, sizeof(tmp), getpid());
        int rc = write_snapshot_file(tmp);
        if (rc == 0) log_notice("DB saved on disk");
        _exit(rc == 0 ? 0 : 1);
    }
    snap.child_pid = pid;
    snap.child_started_ms = monotonic_ms();
    snap.dirty_at_fork = dirty;
    log_notice("Background saving started by pid %d", (int)pid);
    return 0;
}

static void bgsave_done(int status)
{
    snap.last_bgsave_seconds = (monotonic_ms() - snap.child_started_ms) / 1000;
    pid_t pid = snap.child_pid;
    snap.child_pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        log_notice("Background saving terminated with success");
        save_succeeded(snap.dirty_at_fork);
        return;
    }
    if (WIFSIGNALED(status)) log_warning("Background saving terminated by signal %d", WTERMSIG(status));
    else log_warning("Background saving error");
    char tmp[64];
    temp_name(tmp, sizeof(tmp), pid);
    unlink(tmp);
    snap.last_bgsave_ok = false;
    snapshot_refresh_misconf();
}

/* Whether a `save <seconds> <changes>` rule is due. */
static bool save_rule_due(void)
{
    long long now = (long long)time(NULL);
    if (!snap.last_bgsave_ok && now - snap.last_try <= BGSAVE_RETRY_DELAY_S) return false;
    for (int i = 0; i < cfg.save_rule_count; i++) {
        if (server.dirty >= cfg.save_rules[i].changes && now - server.last_save > cfg.save_rules[i].seconds) {
            log_notice("%d changes in %d seconds. Saving...", cfg.save_rules[i].changes, cfg.save_rules[i].seconds);
            return true;
        }
    }
    return false;
}

void snapshot_cron(void)
{
    if (snap.child_pid > 0) {
        int status;
        if (waitpid(snap.child_pid, &status, WNOHANG) == snap.child_pid) bgsave_done(status);
    }
    if (!child_active() && (snap.scheduled || save_rule_due())) bgsave_start();
    snapshot_refresh_misconf();
}

void snapshot_before_sleep(void)
{
    snapshot_refresh_misconf();
}

/* ---- start-up, shutdown, DEBUG RELOAD ---- */

/* Loads dbfilename into the emptied databases (or over their keys with
 * SNAPSHOT_MERGE): 1 when loaded, 0 when there is none, -1 (logged) on
 * failure. */
static int load_snapshot(unsigned flags)
{
    char err[512];
    long long start = monotonic_ms();
    struct stat st;
    bool exists = stat(cfg.dbfilename, &st) == 0;
    if (exists) loading_start((long long)st.st_size);
    int rc = snapshot_load_file(cfg.dbfilename, flags, &snap.last_load, err, sizeof(err));
    if (exists) loading_end();
    if (rc < 0) {
        log_warning("Can't load the snapshot %s: %s", cfg.dbfilename, err);
        return -1;
    }
    if (rc > 0)
        log_notice("DB loaded from disk: %.3f seconds, %lld keys loaded, %lld expired keys skipped",
                   (double)(monotonic_ms() - start) / 1000, snap.last_load.keys_loaded, snap.last_load.keys_expired);
    return rc;
}

int snapshot_startup(void)
{
    if (load_snapshot(0) >= 0) return 0;
    log_warning("Refusing to start over a snapshot that can't be loaded: fix or move %s away", cfg.dbfilename);
    return -1;
}

/* Stops a running BGSAVE child (its file would be older than the final one). */
static void bgsave_kill(void)
{
    if (snap.child_pid <= 0) return;
    log_warning("There is a child saving a snapshot. Killing it!");
    kill(snap.child_pid, SIGUSR1);
    int status;
    waitpid(snap.child_pid, &status, 0);
    char tmp[64];
    temp_name(tmp, sizeof(tmp), snap.child_pid);
    unlink(tmp);
    snap.child_pid = 0;
}

/* The client that sent SHUTDOWN (the command does not reply when it works:
 * the connection closes) gets the refusal. */
static void shutdown_refused_reply(void)
{
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->fd < 0 || !c->last_cmd || strcmp(c->last_cmd->full_name, "shutdown") != 0) continue;
        reply_error(&c->out, "ERR Errors trying to SHUTDOWN. Check logs.");
        c->last_cmd = NULL; /* answered: a later failed shutdown must not answer it again */
        client_mark_pending_write(c);
    }
}

int snapshot_shutdown(int flags)
{
    bgsave_kill();
    bool save = !(flags & SHUTDOWN_NOSAVE) && (cfg.save_rule_count > 0 || (flags & SHUTDOWN_SAVE));
    if (!save) return 0;
    log_notice("Saving the final snapshot before exiting.");
    if (snapshot_save() == 0) return 0;
    if (flags & SHUTDOWN_FORCE) {
        log_warning("Error trying to save the DB. Exit anyway.");
        return 0;
    }
    log_warning("Error trying to save the DB, can't exit.");
    shutdown_refused_reply();
    return -1;
}

void snapshot_empty_databases(void)
{
    for (int i = 0; i < server.db_count; i++) {
        watch_touch_db(&server.dbs[i], NULL);
        db_empty(&server.dbs[i]);
    }
}

/* DEBUG RELOAD's options, as Redis reads them: NOSAVE loads the file as it
 * is, NOFLUSH keeps the databases' keys (a key the file also holds then
 * fails the load, unless MERGE, where the file's value replaces it). */
struct reload_options {
    bool save, flush, merge;
};

static bool reload_parse(struct request *req, struct reload_options *o)
{
    *o = (struct reload_options){.save = true, .flush = true};
    for (int i = 2; i < req->argc; i++) {
        if (ARG_IS(req, i, "nosave")) o->save = false;
        else if (ARG_IS(req, i, "noflush")) o->flush = false;
        else if (ARG_IS(req, i, "merge")) o->merge = true;
        else {
            reply_error(req->out, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return false;
        }
    }
    return true;
}

static void debug_reload(struct request *req)
{
    struct reload_options o;
    if (!reload_parse(req, &o)) return;
    if (o.save && snapshot_save() != 0) {
        reply_error(req->out, "ERR");
        return;
    }
    if (o.flush) {
        snapshot_empty_databases();
    } else {
        for (int i = 0; i < server.db_count; i++) watch_touch_db(&server.dbs[i], NULL);
    }
    /* keys past their deadline come back and expire as usual: their DELs
     * reach the AOF and the replicas, which still hold them */
    if (load_snapshot(SNAPSHOT_KEEP_EXPIRED | (o.merge ? SNAPSHOT_MERGE : 0)) < 0) {
        reply_error(req->out, "ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    log_notice("DB reloaded by DEBUG RELOAD");
    reply_ok(req->out);
}

bool snapshot_debug(struct request *req)
{
    bool reload = ARG_IS(req, 1, "reload"), loadaof = req->argc == 2 && ARG_IS(req, 1, "loadaof");
    if (!reload && !loadaof) return false;
    if (server.loading) { /* it would save the half-loaded dataset over the file */
        reply_error(req->out, ERR_LOADING);
        return true;
    }
    if (reload) debug_reload(req);
    else aof_debug_loadaof(req);
    return true;
}

str snapshot_info(str s)
{
    return str_append_printf(s,
                             "rdb_bgsave_in_progress:%d\r\n"
                             "rdb_last_bgsave_status:%s\r\n"
                             "rdb_last_bgsave_time_sec:%lld\r\n"
                             "rdb_current_bgsave_time_sec:%lld\r\n"
                             "rdb_saves:%lld\r\n"
                             "rdb_last_load_keys_expired:%lld\r\n"
                             "rdb_last_load_keys_loaded:%lld\r\n",
                             snap.child_pid > 0 ? 1 : 0, snap.last_bgsave_ok ? "ok" : "err", snap.last_bgsave_seconds,
                             snap.child_pid > 0 ? (monotonic_ms() - snap.child_started_ms) / 1000 : -1LL, snap.saves,
                             snap.last_load.keys_expired, snap.last_load.keys_loaded);
}

/* ---- commands ---- */

static void cmd_save(struct request *req)
{
    if (snap.child_pid > 0) {
        reply_error(req->out, "ERR Background save already in progress");
        return;
    }
    if (snapshot_save() == 0) reply_ok(req->out);
    else reply_error(req->out, "ERR");
}

/* BGSAVE [SCHEDULE]: inside MULTI, or while an AOF rewrite child runs (with
 * SCHEDULE), the save starts from the cron once nothing else is forked. */
static void cmd_bgsave(struct request *req)
{
    bool schedule = false;
    if (req->argc > 1) {
        if (req->argc != 2 || !ARG_IS(req, 1, "schedule")) {
            reply_syntax_error(req->out);
            return;
        }
        schedule = true;
    }
    if (snap.child_pid > 0) {
        reply_error(req->out, "ERR Background save already in progress");
        return;
    }
    if (child_active() || (req->flags & REQ_IN_MULTI)) {
        if (!schedule && !(req->flags & REQ_IN_MULTI)) {
            reply_error(req->out, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
                                  "SCHEDULE in order to schedule a BGSAVE whenever possible.");
            return;
        }
        snap.scheduled = true;
        reply_simple(req->out, "Background saving scheduled");
        return;
    }
    if (bgsave_start() != 0) {
        reply_error(req->out, "ERR Background saving failed: can't fork");
        return;
    }
    reply_simple(req->out, "Background saving started");
}

struct command snapshot_commands[] = {
    {"save", cmd_save, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Synchronously saves the database(s) to disk.", "1.0.0", "O(N) where N is the total number of keys in all databases"},
    {"bgsave", cmd_bgsave, -1, CMD_ADMIN | CMD_NOSCRIPT, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Asynchronously saves the database(s) to disk.", "1.0.0", "O(1)"},
    {0},
};
