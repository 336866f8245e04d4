/* aof_rewrite: compaction. A forked child writes the whole dataset into a
 * temporary base file — a snapshot with aof-use-rdb-preamble yes (the
 * default), else commands — while the parent keeps serving and
 * appends new writes to a fresh incremental file. When the child succeeds
 * the temporary file becomes the new base and the manifest switches to
 * [new base, new incremental] with one atomic rename; the files it replaces
 * are deleted. When it fails, the manifest still lists the old base and
 * every incremental file, so nothing is lost, and the rewrite is retried. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "db/oplog.h"
#include "persistence/aof.h"
#include "persistence/aof_state.h"
#include "persistence/snapshot.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/latency.h"
#include "server/server.h"
#include "util/file_drop.h"
#include "util/log.h"
#include "util/numbers.h"

#define REWRITE_RETRY_MS 5000

/* ---- the child: dataset to file ---- */

struct rewrite_out {
    FILE *f;
    bool failed;
};

static void emit_bulk(FILE *f, const char *p, size_t len)
{
    fprintf(f, "$%zu\r\n", len);
    fwrite(p, 1, len, f);
    fwrite("\r\n", 1, 2, f);
}

static void emit_command(void *ctx, int argc, const struct arg *argv)
{
    struct rewrite_out *out = ctx;
    fprintf(out->f, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) emit_bulk(out->f, argv[i].ptr, argv[i].len);
}

static bool rewrite_db(struct db *db, struct rewrite_out *out)
{
    if (db_size(db) == 0) return true;
    char num[24];
    struct arg select[2] = {{"SELECT", 6}, {num, format_ll(num, db->id)}};
    emit_command(out, 2, select);
    struct dict_iter it;
    dict_iter_init(&it, db->keys, false);
    struct dict_entry *e;
    bool ok = true;
    while ((e = dict_iter_next(&it)) && ok) {
        size_t len = str_len(e->key);
        if (!object_rewrite(e->v.ptr, e->key, len, emit_command, out)) {
            log_warning("AOF rewrite: no rewrite for values of type %s", object_type_name(e->v.ptr));
            ok = false;
            break;
        }
        long long when = db_get_expire(db, e->key, len);
        if (when == -1) continue;
        char ms[24];
        struct arg at[3] = {{"PEXPIREAT", 9}, {e->key, len}, {ms, format_ll(ms, when)}};
        emit_command(out, 3, at);
    }
    dict_iter_done(&it);
    return ok;
}

/* A library as the command that loads it again. */
static void emit_function_load(void *ctx, const char *code, size_t len)
{
    struct arg load[3] = {{"FUNCTION", 8}, {"LOAD", 4}, {(char *)code, len}};
    emit_command(ctx, 3, load);
}

int aof_write_dataset(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    struct rewrite_out out = {.f = f};
    if (snapshot_function_hooks.each) snapshot_function_hooks.each(emit_function_load, &out);
    bool ok = true;
    for (int i = 0; i < db_count && ok; i++) ok = rewrite_db(&db_all[i], &out);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

/* ---- the parent ---- */

int aof_rewrite_start(const char **err)
{
    if (aof.rewrite_pid > 0) {
        *err = "ERR Background append only file rewriting already in progress";
        return -1;
    }
    if (!aof.on) {
        *err = "ERR Background AOF rewrite needs appendonly yes";
        return -1;
    }
    /* everything logged so far goes to the files the new base replaces */
    aof_before_sleep();
    aof.rewrite_prev_incr_count = aof.manifest.incr_count;
    if (aof_open_next_incr() != 0) {
        *err = "ERR Can't open a new append only file";
        return -1;
    }
    if (!aof.waiting_first_rewrite) aof_manifest_save(aof.dir, aof.manifest_name, &aof.manifest);
    snprintf(aof.rewrite_temp, sizeof(aof.rewrite_temp), "%s/temp-rewriteaof-bg-%d.aof", aof.dir, (int)getpid());
    aof.rewrite_snapshot = cfg.aof_use_rdb_preamble;
    pid_t pid = latency_fork();
    if (pid < 0) {
        *err = "ERR Can't fork for the AOF rewrite";
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        const char *path = aof.rewrite_temp;
        int rc = aof.rewrite_snapshot ? snapshot_write_file(path, true) : aof_write_dataset(path);
        _exit(rc == 0 ? 0 : 1);
    }
    aof.rewrite_pid = pid;
    aof.rewrite_started_ms = aof_now_ms();
    log_notice("Background append only file rewriting started by pid %d", (int)pid);
    return 0;
}

/* Deletes a file the new base replaced; its blocks are freed in the
 * background, not while clients wait. */
static void unlink_in_dir(const char *name)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s", aof.dir, name);
    file_drop(path);
}

/* The child's base is complete: it becomes the base, and the incremental
 * files written before the fork are no longer needed. */
static bool rewrite_install(void)
{
    struct aof_manifest next = {0};
    long long seq = aof.manifest.base_seq + 1;
    if (seq <= aof.incr_seq - 1) seq = aof.incr_seq;
    aof_file_name(next.base, sizeof(next.base), cfg.appendfilename, seq,
                  aof.rewrite_snapshot ? AOF_FILE_BASE_SNAPSHOT : AOF_FILE_BASE);
    next.base_seq = seq;
    for (int i = aof.rewrite_prev_incr_count; i < aof.manifest.incr_count; i++) {
        snprintf(next.incr[next.incr_count], sizeof(next.incr[0]), "%s", aof.manifest.incr[i]);
        next.incr_seq[next.incr_count++] = aof.manifest.incr_seq[i];
    }
    char base_path[1400];
    snprintf(base_path, sizeof(base_path), "%s/%s", aof.dir, next.base);
    if (rename(aof.rewrite_temp, base_path) != 0) return false;
    if (aof_manifest_save(aof.dir, aof.manifest_name, &next) != 0) return false;
    if (aof.manifest.base[0] && strcmp(aof.manifest.base, next.base) != 0) unlink_in_dir(aof.manifest.base);
    for (int i = 0; i < aof.rewrite_prev_incr_count; i++) unlink_in_dir(aof.manifest.incr[i]);
    aof.manifest = next;
    aof_fsync_dir(aof.dir);
    struct stat st;
    aof.base_size = stat(base_path, &st) == 0 ? (long long)st.st_size : 0;
    aof.current_size = 0;
    aof.waiting_first_rewrite = false;
    return true;
}

static void rewrite_finished(int status)
{
    bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    bool ok = child_ok && rewrite_install();
    aof.last_rewrite_seconds = (aof_now_ms() - aof.rewrite_started_ms) / 1000;
    aof.rewrite_pid = 0;
    aof.last_rewrite_ok = ok;
    if (ok) {
        aof.rewrites++;
        log_notice("Background AOF rewrite finished successfully");
        return;
    }
    unlink(aof.rewrite_temp);
    aof.rewrite_failed_at_ms = aof_now_ms();
    log_warning("Background AOF rewrite failed; the previous files stay in use and it will be retried");
}

/* Whether the incremental files grew enough past the base to compact. */
static bool rewrite_due(void)
{
    if (aof.waiting_first_rewrite) return true;
    if (cfg.auto_aof_rewrite_percentage <= 0 || aof.current_size < cfg.auto_aof_rewrite_min_size) return false;
    long long base = aof.base_size > 0 ? aof.base_size : 1;
    return aof.current_size * 100 / base >= cfg.auto_aof_rewrite_percentage;
}

void aof_cron(void)
{
    if (aof.rewrite_pid > 0) {
        int status;
        pid_t done = waitpid(aof.rewrite_pid, &status, WNOHANG);
        if (done == aof.rewrite_pid) rewrite_finished(status);
        return;
    }
    if (!aof.on || !rewrite_due()) return;
    if (aof.rewrite_failed_at_ms && aof_now_ms() - aof.rewrite_failed_at_ms < REWRITE_RETRY_MS) return;
    const char *err;
    if (aof_rewrite_start(&err) != 0) aof.rewrite_failed_at_ms = aof_now_ms();
}

static void cmd_bgrewriteaof(struct request *req)
{
    const char *err;
    if (aof_rewrite_start(&err) != 0) {
        reply_error(req->out, err);
        return;
    }
    reply_simple(req->out, "Background append only file rewriting started");
}

struct command aof_commands[] = {
    {"bgrewriteaof", cmd_bgrewriteaof, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, 0, 0, 0,
     "@admin @slow @dangerous", "server", "Asynchronously rewrites the append-only file to disk.", "1.0.0", "O(1)"},
    {0},
};
