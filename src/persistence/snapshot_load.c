/* snapshot_load: reads a snapshot (format in snapshot.h) back into the
 * databases. One parser walks the file twice: first only checking it
 * (every record well formed, the end marker present, the checksum right), so
 * a damaged file is refused before it changes anything; then replaying each
 * value's commands through the command table as a client whose replies go
 * nowhere, as aof_load.c does. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/oplog.h"
#include "persistence/loading.h"
#include "persistence/snapshot.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "server/server.h"
#include "util/crc64.h"
#include "util/log.h"
#include "util/mem.h"

struct snap_reader {
    const unsigned char *data;
    size_t size;
    size_t pos;
    bool apply;           /* second pass: execute */
    char *err;
    size_t errlen;
    bool failed;

    /* apply state */
    struct client *client;
    struct db *db;
    long long now_ms;
    struct snapshot_load_result *res;
    struct arg *argv;     /* the command being rebuilt */
    int argv_cap;
    char *scratch;        /* its arguments, each NUL-terminated */
    size_t scratch_cap;
};

static bool reader_fail(struct snap_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool reader_fail(struct snap_reader *r, const char *fmt, ...)
{
    if (r->failed) return false;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool reader_truncated(struct snap_reader *r)
{
    return reader_fail(r, "truncated: the file ends inside a record at offset %zu (%zu bytes)", r->pos, r->size);
}

static bool read_byte(struct snap_reader *r, unsigned *out)
{
    if (r->pos >= r->size) return reader_truncated(r);
    *out = r->data[r->pos++];
    return true;
}

static bool read_varint(struct snap_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->size) return reader_truncated(r);
        unsigned b = r->data[r->pos++];
        if (shift == 63 && (b & 0x7e)) break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return reader_fail(r, "malformed length at offset %zu", r->pos);
}

static bool read_le64(struct snap_reader *r, uint64_t *out)
{
    if (r->size - r->pos < 8) return reader_truncated(r);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | r->data[r->pos + (size_t)i];
    r->pos += 8;
    *out = v;
    return true;
}

/* A length-prefixed string: its bytes stay in the mapped file. */
static bool read_string(struct snap_reader *r, const char **p, size_t *len)
{
    uint64_t n;
    if (!read_varint(r, &n)) return false;
    if (n > r->size - r->pos) return reader_truncated(r);
    *p = (const char *)r->data + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return true;
}

/* ---- replaying one command ---- */

static void reserve_argv(struct snap_reader *r, int argc, size_t bytes)
{
    if (argc > r->argv_cap) {
        r->argv_cap = argc < 16 ? 16 : argc;
        r->argv = mem_realloc(r->argv, sizeof(struct arg) * (size_t)r->argv_cap);
    }
    if (bytes > r->scratch_cap) {
        r->scratch_cap = bytes < 4096 ? 4096 : bytes;
        r->scratch = mem_realloc(r->scratch, r->scratch_cap);
    }
}

/* Finds the command (or subcommand, as XGROUP CREATE) and checks its arity. */
static struct command *resolve(struct snap_reader *r, int argc, struct arg *argv)
{
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd || !cmd->proc) {
        reader_fail(r, "unknown command '%.64s' in the value at offset %zu", argv[0].ptr, r->pos);
        return NULL;
    }
    bool arity_ok = cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
    if (!arity_ok) {
        reader_fail(r, "wrong number of arguments for '%s' at offset %zu", cmd->full_name, r->pos);
        return NULL;
    }
    return cmd;
}

static bool run_command(struct snap_reader *r, int argc, const char *key, size_t key_len)
{
    struct command *cmd = resolve(r, argc, r->argv);
    if (!cmd) return false;
    struct client *c = r->client;
    c->out.last_error[0] = '\0';
    dispatch_call(c, cmd, argc, r->argv, REQ_REPLAYING);
    if (c->out.last_error[0])
        return reader_fail(r, "replaying '%s' for key '%.*s' failed (%s) at offset %zu", cmd->full_name,
                           (int)(key_len > 128 ? 128 : key_len), key, c->out.last_error, r->pos);
    return true;
}

/* One command of a value: argc, then its arguments. Executes it when
 * applying and `run`. */
static bool read_command(struct snap_reader *r, uint64_t argc, const char *key, size_t key_len, bool run)
{
    /* every argument takes at least a byte: a corrupted count fails here,
     * before it sizes anything */
    if (argc > r->size - r->pos || argc > INT32_MAX)
        return reader_fail(r, "implausible argument count %llu at offset %zu", (unsigned long long)argc, r->pos);
    size_t start = r->pos, bytes = 0;
    /* first walk: bounds, and the room the copies need */
    for (uint64_t i = 0; i < argc; i++) {
        uint64_t n = 0;
        if (!read_varint(r, &n)) return false;
        if (n == 0) {
            bytes += key_len + 1;
            continue;
        }
        if (n - 1 > r->size - r->pos) return reader_truncated(r);
        r->pos += (size_t)(n - 1);
        bytes += (size_t)(n - 1) + 1;
    }
    if (!r->apply || !run) return true;
    reserve_argv(r, (int)argc, bytes);
    size_t end = r->pos, used = 0;
    r->pos = start;
    for (uint64_t i = 0; i < argc; i++) {
        uint64_t n = 0;
        read_varint(r, &n);
        const char *p = key;
        size_t len = key_len;
        if (n > 0) {
            p = (const char *)r->data + r->pos;
            len = (size_t)(n - 1);
            r->pos += len;
        }
        memcpy(r->scratch + used, p, len);
        r->scratch[used + len] = '\0'; /* commands may read arguments as C strings */
        r->argv[i] = (struct arg){r->scratch + used, len};
        used += len + 1;
    }
    r->pos = end;
    return run_command(r, (int)argc, key, key_len);
}

/* ---- records ---- */

static bool read_select(struct snap_reader *r)
{
    uint64_t id;
    if (!read_varint(r, &id)) return false;
    if (id >= (uint64_t)server.db_count)
        return reader_fail(r, "the file holds database %llu but `databases` is %d", (unsigned long long)id,
                           server.db_count);
    r->db = &server.dbs[id];
    if (r->apply) client_select_db(r->client, (int)id);
    return true;
}

/* After a value's commands ran: the key must exist with the recorded type. */
static bool check_rebuilt(struct snap_reader *r, unsigned type, const char *key, size_t key_len)
{
    struct object *o = db_peek(r->db, key, key_len);
    if (!o) return reader_fail(r, "the commands of key '%.*s' left no value (offset %zu)", (int)key_len, key, r->pos);
    if (o->type != type)
        return reader_fail(r, "key '%.*s' was recorded as type %u but rebuilt as %s (offset %zu)", (int)key_len, key,
                           type, object_type_name(o), r->pos);
    return true;
}

static bool read_key(struct snap_reader *r, bool with_expire)
{
    unsigned type = 0;
    uint64_t expire = 0;
    const char *key;
    size_t key_len;
    if (!read_byte(r, &type)) return false;
    if (type >= OBJ_TYPE_COUNT) return reader_fail(r, "unknown value type %u at offset %zu", type, r->pos - 1);
    if (with_expire && !read_le64(r, &expire)) return false;
    if (!read_string(r, &key, &key_len)) return false;
    if (!r->db) r->db = &server.dbs[0];
    bool run = true;
    if (r->apply) {
        if (db_peek(r->db, key, key_len))
            return reader_fail(r, "duplicate key '%.*s' in database %d", (int)key_len, key, r->db->id);
        /* a key already past its deadline is not brought back, as Redis does */
        if (with_expire && (long long)expire < r->now_ms) run = false;
    }
    bool any = false;
    for (;;) {
        uint64_t argc;
        if (!read_varint(r, &argc)) return false;
        if (argc == 0) break;
        if (!read_command(r, argc, key, key_len, run)) return false;
        any = true;
    }
    if (!any) return reader_fail(r, "key '%.*s' has no value (offset %zu)", (int)key_len, key, r->pos);
    if (!r->apply) return true;
    if (!run) {
        r->res->keys_expired++;
        return true;
    }
    if (!check_rebuilt(r, type, key, key_len)) return false;
    if (with_expire) db_set_expire(r->db, key, key_len, (long long)expire);
    r->res->keys_loaded++;
    return true;
}

static bool read_aux(struct snap_reader *r)
{
    const char *name, *value;
    size_t name_len, value_len;
    if (!read_string(r, &name, &name_len) || !read_string(r, &value, &value_len)) return false;
    if (r->apply && name_len == 10 && memcmp(name, "runnel-ver", 10) == 0)
        log_notice("Loading a snapshot written by Runnel %.*s", (int)(value_len > 32 ? 32 : value_len), value);
    return true; /* unknown aux fields are informational: ignored */
}

/* Walks the records up to the end marker; false (err set) on the first problem. */
static bool read_records(struct snap_reader *r)
{
    r->pos = SNAPSHOT_HEADER_LEN;
    r->db = NULL;
    for (;;) {
        unsigned op = 0;
        size_t at = r->pos;
        if (!read_byte(r, &op)) return false;
        bool ok;
        switch (op) {
        case SNAP_OP_EOF: return true;
        case SNAP_OP_SELECT: ok = read_select(r); break;
        case SNAP_OP_KEY: ok = read_key(r, false); break;
        case SNAP_OP_KEY_EXPIRE: ok = read_key(r, true); break;
        case SNAP_OP_AUX: ok = read_aux(r); break;
        case SNAP_OP_DBSIZE: {
            uint64_t keys, expires;
            ok = read_varint(r, &keys) && read_varint(r, &expires);
            break;
        }
        default: return reader_fail(r, "unknown record type 0x%02x at offset %zu", op, at);
        }
        if (!ok) return false;
        loading_progress(r->apply ? r->pos - at : 0);
    }
}

static bool check_header(struct snap_reader *r)
{
    if (r->size < SNAPSHOT_HEADER_LEN) return reader_fail(r, "truncated: %zu bytes, shorter than the header", r->size);
    if (memcmp(r->data, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) != 0)
        return reader_fail(r, "not a Runnel snapshot (wrong signature)");
    int version = 0;
    for (int i = SNAPSHOT_MAGIC_LEN; i < SNAPSHOT_HEADER_LEN; i++) {
        unsigned char d = r->data[i];
        if (d < '0' || d > '9') return reader_fail(r, "malformed format version");
        version = version * 10 + (d - '0');
    }
    if (version < 1 || version > SNAPSHOT_VERSION)
        return reader_fail(r, "format version %d is not supported (this build reads up to %d)", version,
                           SNAPSHOT_VERSION);
    return true;
}

/* First pass: the structure is sound, exactly the checksum follows the end
 * marker, and the checksum matches (unless it was not written or
 * rdbchecksum is off). */
static bool verify(struct snap_reader *r)
{
    if (!check_header(r) || !read_records(r)) return false;
    size_t end = r->pos;
    if (r->size - end < 8) return reader_fail(r, "truncated: the checksum after offset %zu is missing", end);
    if (r->size - end > 8)
        return reader_fail(r, "%zu unexpected bytes after the end of the data at offset %zu", r->size - end - 8, end);
    uint64_t stored;
    read_le64(r, &stored);
    if (stored == 0 || !cfg.rdbchecksum) return true;
    uint64_t computed = crc64(0, r->data, end);
    if (computed != stored)
        return reader_fail(r, "checksum mismatch: the file says %016llx, its contents give %016llx",
                           (unsigned long long)stored, (unsigned long long)computed);
    return true;
}

/* Second pass: replays everything with nothing logged to the AOF (the data
 * is already there or is being loaded from it) and nothing expiring. */
static bool apply(struct snap_reader *r)
{
    struct client *c = client_create(-1);
    c->flags |= CLIENT_AUTHENTICATED | CLIENT_REPLY_OFF | CLIENT_LOADER;
    c->out.muted = true;
    r->client = c;
    r->apply = true;
    r->now_ms = db_wall_ms();
    bool was_logging = oplog_enabled;
    bool was_loading = db_loading;
    long long dirty = server.dirty;
    oplog_enabled = false;
    db_loading = true;
    bool ok = read_records(r);
    db_loading = was_loading;
    oplog_enabled = was_logging;
    server.dirty = dirty;
    client_close(c);
    mem_free(r->argv);
    mem_free(r->scratch);
    return ok;
}

int snapshot_load_file(const char *path, struct snapshot_load_result *res, char *err, size_t errlen)
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
    struct snap_reader r = {.size = (size_t)st.st_size, .err = err, .errlen = errlen, .res = res};
    void *map = NULL;
    if (r.size > 0) {
        map = mmap(NULL, r.size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            snprintf(err, errlen, "can't map it: %s", strerror(errno));
            close(fd);
            return -1;
        }
        madvise(map, r.size, MADV_SEQUENTIAL);
    }
    close(fd);
    r.data = map ? map : (const unsigned char *)"";
    bool ok = verify(&r) && apply(&r);
    if (map) munmap(map, r.size);
    return ok ? 1 : -1;
}
