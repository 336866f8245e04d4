/* aof_load: replays AOF files at start-up by feeding their commands through
 * the command table as a client whose replies go nowhere; a base written as
 * a snapshot (aof-use-rdb-preamble) goes to the snapshot loader. A torn tail (the
 * process died mid-write) is cut off when aof-load-truncated allows it;
 * anything else malformed stops start-up with the file and offset. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "persistence/aof.h"
#include "persistence/aof_manifest.h"
#include "persistence/loading.h"
#include "persistence/snapshot.h"
#include "protocol/parser.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "server/multi.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

struct aof_replay {
    const char *path;
    char *data;
    size_t size;
    struct client *client;
    size_t multi_start; /* offset of an open MULTI, to revert it if the file ends inside */
    long long commands;
};

static void replay_bind_args(struct aof_replay *r, struct resp_parser *p)
{
    struct client *c = r->client;
    if ((int)p->argc > c->argv_cap) {
        c->argv_cap = (int)p->argc;
        c->argv = mem_realloc(c->argv, sizeof(struct arg) * (size_t)c->argv_cap);
    }
    for (size_t i = 0; i < p->argc; i++) {
        c->argv[i].ptr = r->data + p->args[i].off;
        c->argv[i].len = p->args[i].len;
    }
    c->argc = (int)p->argc;
}

/* Runs one parsed command; false (logged) for a command Runnel does not know. */
static bool replay_one(struct aof_replay *r, struct resp_parser *p, size_t start)
{
    replay_bind_args(r, p);
    struct client *c = r->client;
    if (!command_lookup(c->argv[0].ptr, c->argv[0].len)) {
        log_warning("Unknown command '%.*s' reading the append only file %s", (int)c->argv[0].len, c->argv[0].ptr,
                    r->path);
        return false;
    }
    bool opening_multi = c->argv[0].len == 5 && strncasecmp(c->argv[0].ptr, "MULTI", 5) == 0;
    if (opening_multi) r->multi_start = start;
    dispatch_command(c);
    r->commands++;
    loading_progress(p->pos - start);
    return true;
}

/* Cuts a torn tail off the file, if allowed; false when start-up must stop. */
static bool replay_truncate(struct aof_replay *r, size_t good, bool last_file)
{
    size_t dropped = r->size - good;
    if (!last_file || !cfg.aof_load_truncated) {
        log_warning("Bad file format reading the append only file %s at offset %zu: make a backup of your AOF file, "
                    "then use ./runnel-check-aof --fix <filename.manifest>",
                    r->path, good);
        return false;
    }
    log_warning("!!! Warning: short read while loading the AOF file %s!!!", r->path);
    log_warning("AOF %s loaded anyway because aof-load-truncated is enabled: %zu bytes of an incomplete command "
                "dropped at offset %zu",
                r->path, dropped, good);
    if (truncate(r->path, (off_t)good) != 0) {
        log_warning("Error truncating the AOF file %s: %s", r->path, strerror(errno));
        return false;
    }
    return true;
}

/* Parses and runs every command of the mapped file. */
static bool replay_commands(struct aof_replay *r, bool last_file)
{
    struct resp_parser p;
    resp_parser_init(&p, cfg.proto_max_bulk_len, 1LL << 31);
    size_t good = 0;
    bool ok = true;
    for (;;) {
        if (good < r->size && r->data[good] != '*') { /* the log holds only multibulk commands */
            log_warning("Bad file format reading the append only file %s at offset %zu: make a backup of your AOF "
                        "file, then use ./runnel-check-aof --fix <filename.manifest>",
                        r->path, good);
            ok = false;
            break;
        }
        enum resp_status st = resp_parse(&p, r->data, r->size);
        if (st == RESP_COMMAND) {
            if (!replay_one(r, &p, good)) {
                ok = false;
                break;
            }
            good = p.pos;
            if (!(r->client->flags & CLIENT_MULTI)) r->multi_start = good;
            continue;
        }
        if (st == RESP_ERROR) {
            log_warning("Bad file format reading the append only file %s at offset %zu (%s): make a backup of your "
                        "AOF file, then use ./runnel-check-aof --fix <filename.manifest>",
                        r->path, good, p.error);
            ok = false;
            break;
        }
        break; /* incomplete: end of file */
    }
    if (ok && r->client->flags & CLIENT_MULTI) {
        log_warning("Revert incomplete MULTI/EXEC transaction in AOF file %s", r->path);
        good = r->multi_start;
        ok = replay_truncate(r, good, last_file);
    } else if (ok && good < r->size) {
        ok = replay_truncate(r, good, last_file);
    }
    resp_parser_free(&p);
    return ok;
}

/* Copies a file into writable memory (the parser unescapes inline text in place). */
static char *read_whole(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    *size = (size_t)st.st_size;
    char *data = mem_alloc(*size + 1);
    size_t got = 0;
    while (got < *size) {
        ssize_t n = read(fd, data + got, *size - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    *size = got;
    return data;
}

/* A snapshot base (aof-use-rdb-preamble yes): loaded whole, keys past their
 * deadline included — the log that follows still refers to them, and its
 * DELs remove them. A damaged base cannot be cut short: start-up stops. */
static bool load_snapshot_base(const char *path, const char *name)
{
    struct snapshot_load_result res;
    char err[512] = "the file is gone";
    if (snapshot_load_file(path, SNAPSHOT_KEEP_EXPIRED, &res, err, sizeof(err)) <= 0) {
        log_warning("Can't load the AOF base %s (a snapshot): %s", path, err);
        return false;
    }
    log_notice("DB loaded from base file %s: snapshot, %lld keys", name, res.keys_loaded);
    return true;
}

static bool aof_load_file(const char *dir, const char *name, bool last_file, struct client *client)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (snapshot_file_is_snapshot(path)) return load_snapshot_base(path, name);
    struct aof_replay r = {.path = path, .client = client};
    r.data = read_whole(path, &r.size);
    if (!r.data) {
        log_warning("Can't open the append-only file %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = replay_commands(&r, last_file);
    if (client->flags & CLIENT_MULTI) multi_discard(client);
    client_select_db(client, 0);
    mem_free(r.data);
    bool is_base = strstr(name, ".base.") != NULL;
    if (ok) log_notice("DB loaded from %s file %s: %lld commands", is_base ? "base" : "incr", name, r.commands);
    return ok;
}

int aof_load(const char *dir, struct aof_manifest *m)
{
    struct client *client = client_create(NULL);
    client->flags |= CLIENT_AUTHENTICATED | CLIENT_REPLY_OFF | CLIENT_LOADER;
    db_loading = true;
    long long start = db_monotonic_us();
    bool ok = true;
    int files = (m->base[0] ? 1 : 0) + m->incr_count;
    int index = 0;
    if (m->base[0]) ok = aof_load_file(dir, m->base, ++index == files, client);
    for (int i = 0; ok && i < m->incr_count; i++) ok = aof_load_file(dir, m->incr[i], ++index == files, client);
    db_loading = false;
    client_close(client);
    if (ok) log_notice("Done loading the AOF in %.3f seconds", (double)(db_monotonic_us() - start) / 1e6);
    return ok ? 0 : -1;
}
