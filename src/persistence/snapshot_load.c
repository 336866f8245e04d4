/* snapshot_load: reads a snapshot (format in snapshot.h) back into the
 * databases. The file is mapped and checked whole first (snapshot_check:
 * structure, framing, checksum), so a damaged file is refused before it
 * changes anything; then snapshot_walk hands each key to apply_key, which
 * has the key's type decode its value (object_load) and adds it to its
 * database. Version 1 files hold commands instead, replayed through the
 * command table as a client whose replies go nowhere, as aof_load.c does. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/oplog.h"
#include "persistence/loading.h"
#include "persistence/rdb_load.h"
#include "persistence/snapshot.h"
#include "persistence/snapshot_walk.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

struct loader {
    int version;
    bool keep_expired;
    bool merge; /* keys already present are replaced */
    long long now_ms;
    struct snapshot_load_result *res;
    struct db *db;
    size_t reported; /* file offset loading progress was last reported at */

    /* version 1: the replaying client and the command being rebuilt */
    struct client *client;
    struct arg *argv;
    int argv_cap;
    char *scratch; /* the arguments, each NUL-terminated */
    size_t scratch_cap;
};

/* ---- version 1: replaying commands ---- */

static void reserve_argv(struct loader *l, int argc, size_t bytes)
{
    if (argc > l->argv_cap) {
        l->argv_cap = argc < 16 ? 16 : argc;
        l->argv = mem_realloc(l->argv, sizeof(struct arg) * (size_t)l->argv_cap);
    }
    if (bytes > l->scratch_cap) {
        l->scratch_cap = bytes < 4096 ? 4096 : bytes;
        l->scratch = mem_realloc(l->scratch, l->scratch_cap);
    }
}

/* Finds the command (or subcommand, as XGROUP CREATE) and checks its arity. */
static struct command *resolve(struct codec_in *in, int argc, struct arg *argv)
{
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd || !cmd->proc) {
        codec_fail(in, "unknown command '%.64s' in the value", argv[0].ptr);
        return NULL;
    }
    bool arity_ok = cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
    if (!arity_ok) {
        codec_fail(in, "wrong number of arguments for '%s'", cmd->full_name);
        return NULL;
    }
    return cmd;
}

static bool run_command(struct loader *l, struct codec_in *in, int argc)
{
    struct command *cmd = resolve(in, argc, l->argv);
    if (!cmd) return false;
    struct client *c = l->client;
    c->out.last_error[0] = '\0';
    dispatch_call(c, cmd, argc, l->argv, REQ_REPLAYING);
    if (c->out.last_error[0]) return codec_fail(in, "replaying '%s' failed (%s)", cmd->full_name, c->out.last_error);
    return true;
}

/* One command: its arguments are walked once for the room their copies
 * need, then copied NUL-terminated (commands may read them as C strings). */
static bool replay_command(struct loader *l, struct codec_in *in, const struct snapshot_key *k, uint64_t argc,
                           bool run)
{
    size_t start = codec_in_offset(in), bytes = 0;
    const char *p;
    size_t len;
    for (uint64_t i = 0; i < argc; i++) {
        if (!snapshot_v1_arg(in, k, &p, &len)) return false;
        bytes += len + 1;
    }
    if (!run) return true;
    reserve_argv(l, (int)argc, bytes);
    in->pos = start;
    size_t used = 0;
    for (uint64_t i = 0; i < argc; i++) {
        snapshot_v1_arg(in, k, &p, &len);
        memcpy(l->scratch + used, p, len);
        l->scratch[used + len] = '\0';
        l->argv[i] = (struct arg){l->scratch + used, len};
        used += len + 1;
    }
    return run_command(l, in, (int)argc);
}

/* After a value's commands ran: the key must exist with the recorded type. */
static bool check_rebuilt(struct loader *l, struct codec_in *in, const struct snapshot_key *k)
{
    struct object *o = db_peek(l->db, k->key, k->key_len);
    if (!o) return codec_fail(in, "its commands left no value");
    if (o->type != k->type)
        return codec_fail(in, "recorded as type %u but rebuilt as %s", k->type, object_type_name(o));
    return true;
}

static bool apply_v1_value(struct loader *l, struct codec_in *in, const struct snapshot_key *k, bool run)
{
    if (!l->client) {
        l->client = client_create(NULL);
        l->client->flags |= CLIENT_AUTHENTICATED | CLIENT_REPLY_OFF | CLIENT_LOADER;
        l->client->out.muted = true;
        client_select_db(l->client, l->db->id);
    }
    for (;;) {
        uint64_t argc;
        if (!snapshot_v1_command(in, &argc)) return false;
        if (argc == 0) break;
        if (!replay_command(l, in, k, argc, run)) return false;
    }
    if (!run) return true;
    if (!check_rebuilt(l, in, k)) return false;
    if (k->expire_ms != -1) db_set_expire(l->db, k->key, k->key_len, k->expire_ms);
    return true;
}

/* ---- version 2: native values ---- */

static bool apply_v2_value(struct loader *l, struct codec_in *in, const struct snapshot_key *k, bool load)
{
    if (!load) return codec_in_skip_value(in);
    struct object *o = object_load_framed((enum object_type)k->type, in);
    if (!o) return false;
    if (!db_add_loaded(l->db, k->key, k->key_len, o, k->expire_ms)) {
        object_free(o);
        return codec_fail(in, "the key appears twice");
    }
    return true;
}

/* ---- the visitor ---- */

static bool apply_select(void *ctx, struct codec_in *in, int db)
{
    (void)in;
    struct loader *l = ctx;
    l->db = &server.dbs[db];
    if (l->client) client_select_db(l->client, db);
    return true;
}

static bool apply_resize(void *ctx, struct codec_in *in, uint64_t keys, uint64_t expires)
{
    (void)in;
    struct loader *l = ctx;
    if (l->db) db_reserve(l->db, (size_t)keys, (size_t)expires);
    return true;
}

static bool apply_aux(void *ctx, struct codec_in *in, const char *name, size_t nlen, const char *value, size_t vlen)
{
    (void)ctx;
    (void)in;
    if (nlen == 10 && memcmp(name, "runnel-ver", 10) == 0)
        log_notice("Loading a snapshot written by Runnel %.*s", (int)(vlen > 32 ? 32 : vlen), value);
    if (snapshot_aux_load_hook) snapshot_aux_load_hook(name, nlen, value, vlen);
    return true; /* unknown aux fields are informational */
}

static bool apply_function(void *ctx, struct codec_in *in, const char *code, size_t len)
{
    (void)ctx;
    if (!snapshot_function_hooks.load) return true;
    char why[512];
    if (snapshot_function_hooks.load(code, len, why, sizeof(why))) return true;
    return codec_fail(in, "a function library does not load: %s", why);
}

static bool apply_key(void *ctx, struct codec_in *in, const struct snapshot_key *k)
{
    struct loader *l = ctx;
    if (!l->db) l->db = &server.dbs[0];
    /* a key already past its deadline is not brought back, as Redis does */
    bool load = l->keep_expired || k->expire_ms == -1 || k->expire_ms >= l->now_ms;
    if (load && l->merge) db_delete(l->db, k->key, k->key_len);
    if (l->version == 1) {
        if (load && db_peek(l->db, k->key, k->key_len)) return codec_fail(in, "the key appears twice");
        if (!apply_v1_value(l, in, k, load)) return false;
    } else if (!apply_v2_value(l, in, k, load)) {
        return false;
    }
    if (load) l->res->keys_loaded++;
    else l->res->keys_expired++;
    size_t at = codec_in_offset(in);
    loading_progress(at - l->reported);
    l->reported = at;
    return true;
}

/* Applies a checked image with nothing logged to the AOF (the data is
 * already there or is being loaded from it) and nothing expiring. */
static bool apply(const struct snapshot_image *image, unsigned flags, struct snapshot_load_result *res, char *err,
                  size_t errlen)
{
    struct loader l = {.version = image->version,
                       .keep_expired = flags & SNAPSHOT_KEEP_EXPIRED,
                       .merge = flags & SNAPSHOT_MERGE,
                       .now_ms = db_wall_ms(),
                       .res = res};
    struct snapshot_visitor v = {
        .ctx = &l,
        .select = apply_select,
        .resize = apply_resize,
        .aux = apply_aux,
        .function = apply_function,
        .key = apply_key,
    };
    bool was_logging = oplog_enabled, was_loading = db_loading;
    long long dirty = server.dirty;
    oplog_enabled = false;
    db_loading = true;
    if (snapshot_function_hooks.load_begin) snapshot_function_hooks.load_begin();
    bool ok = snapshot_walk(image, &v, err, errlen);
    if (snapshot_function_hooks.load_end) snapshot_function_hooks.load_end(ok);
    db_loading = was_loading;
    oplog_enabled = was_logging;
    server.dirty = dirty;
    if (l.client) client_close(l.client);
    mem_free(l.argv);
    mem_free(l.scratch);
    return ok;
}

bool snapshot_file_is_snapshot(const char *path)
{
    char head[SNAPSHOT_MAGIC_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool yes = read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
               (memcmp(head, SNAPSHOT_MAGIC, sizeof(head)) == 0 || rdb_image_is_rdb(head, sizeof(head)));
    close(fd);
    return yes;
}

int snapshot_load_memory(const void *data, size_t size, struct snapshot_load_result *res, char *err, size_t errlen)
{
    *res = (struct snapshot_load_result){0};
    if (rdb_image_is_rdb(data, size)) return rdb_load_image(data, size, 0, res, err, errlen) ? 1 : -1;
    struct snapshot_image image = {.data = size ? data : (const unsigned char *)"", .size = size};
    bool ok = snapshot_check(&image, (uint64_t)server.db_count, cfg.rdbchecksum, err, errlen) &&
              apply(&image, 0, res, err, errlen);
    return ok ? 1 : -1;
}

int snapshot_load_file(const char *path, unsigned flags, struct snapshot_load_result *res, char *err, size_t errlen)
{
    *res = (struct snapshot_load_result){0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "can't open it: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "can't stat it: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct snapshot_image image = {.size = (size_t)st.st_size};
    void *map = NULL;
    if (image.size > 0) {
        map = mmap(NULL, image.size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            snprintf(err, errlen, "can't map it: %s", strerror(errno));
            close(fd);
            return -1;
        }
        madvise(map, image.size, MADV_SEQUENTIAL);
    }
    close(fd);
    image.data = map ? map : (const unsigned char *)"";
    if (rdb_image_is_rdb(image.data, image.size)) {
        bool loaded = rdb_load_image(image.data, image.size, flags, res, err, errlen);
        if (map) munmap(map, image.size);
        return loaded ? 1 : -1;
    }
    bool ok = snapshot_check(&image, (uint64_t)server.db_count, cfg.rdbchecksum, err, errlen) &&
              apply(&image, flags, res, err, errlen);
    if (map) munmap(map, image.size);
    return ok ? 1 : -1;
}
