/* rdb_load: see rdb_load.h. One pass over the records after the checksum
 * was verified:
 *
 *   0xFA aux (name, value)    replication's repl-id and repl-offset go to
 *                             snapshot_aux_load_hook, the rest is logged
 *   0xF5 a library's code     loaded into the scripting layer's pending set
 *   0xFE select, 0xFB resize  which database, and its size hints
 *   0xFC/0xFD expiry, 0xF8 idle, 0xF9 freq   attributes of the next key
 *   type key value            a key
 *   0xFF crc64                the end
 *
 * Keys go into staging databases (db_init'd here, the key index hooks held
 * off while they are filled); the commit moves them into the server's. */
#include "persistence/rdb_load.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db/codec.h"
#include "db/db.h"
#include "db/oplog.h"
#include "persistence/loading.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_read.h"
#include "server/config.h"
#include "server/server.h"
#include "util/crc64.h"
#include "util/log.h"
#include "util/mem.h"

struct rdb_loader {
    struct codec_in in;
    int version;
    unsigned flags;
    long long now_ms;
    struct snapshot_load_result *res;
    struct db *staged; /* one per database, initialised when first used */
    bool *staged_used;
    int db;            /* the SELECTed database */
    size_t reported;   /* offset loading progress was last reported at */
    char key_name[64]; /* the start of the key being read, for the error */
    size_t key_len;
    bool in_key; /* a key is being read: a failure names it */
};

bool rdb_image_is_rdb(const void *data, size_t size)
{
    return size >= RDB_MAGIC_LEN && memcmp(data, RDB_MAGIC, RDB_MAGIC_LEN) == 0;
}

static bool read_header(struct rdb_loader *l)
{
    const void *p;
    if (!codec_get_raw(&l->in, RDB_HEADER_LEN, &p)) return codec_fail(&l->in, "the file is shorter than its header");
    const char *h = p;
    int v = 0;
    for (int i = RDB_MAGIC_LEN; i < RDB_HEADER_LEN; i++) {
        if (h[i] < '0' || h[i] > '9') return codec_fail_at(&l->in, 0, "the RDB header's version is not a number");
        v = v * 10 + (h[i] - '0');
    }
    if (v < RDB_VERSION_MIN || v > RDB_VERSION_MAX)
        return codec_fail_at(&l->in, 0, "RDB version %d is not supported (Runnel reads versions %d to %d)", v,
                             RDB_VERSION_MIN, RDB_VERSION_MAX);
    l->version = v;
    return true;
}

/* The trailer: 0xFF then the CRC-64 of everything before it (0: not
 * computed), which must end the image. Checked before anything is read. */
static bool check_trailer(struct rdb_loader *l, bool verify)
{
    struct codec_in *in = &l->in;
    if (in->size < RDB_HEADER_LEN + 9 || in->data[in->size - 9] != RDB_OPCODE_EOF)
        return codec_fail_at(in, in->size, "the file is truncated (no end-of-file marker before its checksum)");
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--) want = want << 8 | in->data[in->size - 8 + i];
    in->size -= 8; /* records never read into the checksum */
    in->limit = in->size;
    if (!verify || want == 0) return true;
    uint64_t got = crc64(0, in->data, in->size);
    if (got != want)
        return codec_fail_at(in, in->size, "wrong checksum (expected %016llx, computed %016llx)",
                             (unsigned long long)want, (unsigned long long)got);
    return true;
}

static struct db *staged_db(struct rdb_loader *l)
{
    if (!l->staged_used[l->db]) {
        db_init(&l->staged[l->db], l->db);
        l->staged_used[l->db] = true;
    }
    return &l->staged[l->db];
}

static bool read_aux(struct rdb_loader *l)
{
    struct rdb_string name, value;
    if (!rdb_get_string(&l->in, &name)) return false;
    if (!rdb_get_string(&l->in, &value)) {
        rdb_string_release(&name);
        return false;
    }
    if (name.len == 9 && memcmp(name.p, "redis-ver", 9) == 0)
        log_notice("Loading an RDB file written by Redis %.*s", (int)(value.len > 32 ? 32 : value.len), value.p);
    if (snapshot_aux_load_hook) snapshot_aux_load_hook(name.p, name.len, value.p, value.len);
    rdb_string_release(&name);
    rdb_string_release(&value);
    return true;
}

static bool read_function(struct rdb_loader *l)
{
    struct rdb_string code;
    if (!rdb_get_string(&l->in, &code)) return false;
    char why[512];
    bool ok = !snapshot_function_hooks.load || snapshot_function_hooks.load(code.p, code.len, why, sizeof(why)) ||
              codec_fail(&l->in, "a library of functions does not load: %s", why);
    rdb_string_release(&code);
    return ok;
}

/* Attributes the opcodes before a key give it. */
struct key_attrs {
    long long expire_ms; /* -1: none */
    long long idle_s;    /* -1: not given */
    int freq;            /* -1: not given */
};

static bool read_key(struct rdb_loader *l, unsigned type, struct key_attrs *a)
{
    struct codec_in *in = &l->in;
    struct rdb_string key;
    size_t at = codec_in_offset(in);
    if (!rdb_get_string(in, &key)) return false;
    l->key_len = key.len < sizeof(l->key_name) ? key.len : sizeof(l->key_name);
    memcpy(l->key_name, key.p, l->key_len); /* not formatted: this runs for every key */
    l->in_key = true;
    bool ok = true, empty = false;
    struct object *o = NULL;
    if (!rdb_type_supported(type)) {
        ok = codec_fail_at(in, at - 1,
                           type == RDB_TYPE_MODULE_2 || type == RDB_TYPE_MODULE_PRE_GA
                               ? "a module's value type, which Runnel does not load"
                               : "unknown value type %u",
                           type);
    } else {
        o = rdb_value_read(in, type, &empty);
        ok = o || empty;
    }
    bool load = ok && o && ((l->flags & SNAPSHOT_KEEP_EXPIRED) || a->expire_ms == -1 || a->expire_ms >= l->now_ms);
    if (load) {
        object_set_access(o, a->idle_s, a->freq);
        struct db_key_index_hooks index = db_key_index;
        db_key_index = (struct db_key_index_hooks){0};
        bool added = db_add_loaded(staged_db(l), key.p, key.len, o, a->expire_ms);
        db_key_index = index;
        if (!added) {
            object_free(o);
            ok = codec_fail_at(in, at, "the key appears twice");
        } else {
            l->res->keys_loaded++;
        }
    } else if (o) {
        object_free(o);
        l->res->keys_expired++;
    }
    rdb_string_release(&key);
    if (ok) l->in_key = false;
    *a = (struct key_attrs){.expire_ms = -1, .idle_s = -1, .freq = -1};
    size_t now = codec_in_offset(in);
    loading_progress(now - l->reported);
    l->reported = now;
    return ok;
}

static bool read_records(struct rdb_loader *l)
{
    struct codec_in *in = &l->in;
    struct key_attrs a = {.expire_ms = -1, .idle_s = -1, .freq = -1};
    for (;;) {
        unsigned op;
        uint64_t v, v2;
        size_t at = codec_in_offset(in);
        if (!codec_get_u8(in, &op)) return false;
        switch (op) {
        case RDB_OPCODE_EOF:
            if (codec_in_offset(in) != in->size) return codec_fail_at(in, at, "bytes follow the end-of-file marker");
            return true;
        case RDB_OPCODE_SELECTDB:
            if (!rdb_get_len(in, &v)) return false;
            if (v >= (uint64_t)server.db_count)
                return codec_fail_at(in, at, "database %llu is out of range (databases is %d)",
                                     (unsigned long long)v, server.db_count);
            l->db = (int)v;
            break;
        case RDB_OPCODE_RESIZEDB:
            if (!rdb_get_len(in, &v) || !rdb_get_len(in, &v2)) return false;
            if (v <= in->size && v2 <= in->size) db_reserve(staged_db(l), (size_t)v, (size_t)v2);
            break;
        case RDB_OPCODE_AUX:
            if (!read_aux(l)) return false;
            break;
        case RDB_OPCODE_FUNCTION2:
            if (!read_function(l)) return false;
            break;
        case RDB_OPCODE_EXPIRETIME_MS:
            if (!rdb_get_le(in, 8, &v)) return false;
            a.expire_ms = (long long)v;
            break;
        case RDB_OPCODE_EXPIRETIME:
            if (!rdb_get_le(in, 4, &v)) return false;
            a.expire_ms = (long long)v * 1000;
            break;
        case RDB_OPCODE_IDLE:
            if (!rdb_get_len(in, &v)) return false;
            a.idle_s = v > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)v;
            break;
        case RDB_OPCODE_FREQ:
            if (!codec_get_u8(in, &op)) return false;
            a.freq = (int)op;
            break;
        case RDB_OPCODE_MODULE_AUX: return codec_fail_at(in, at, "module aux data, which Runnel does not load");
        case RDB_OPCODE_FUNCTION_PRE_GA:
            return codec_fail_at(in, at, "functions in the pre-release format of Redis 7.0 release candidates");
        default:
            if (op > RDB_TYPE_LAST_KNOWN && op < RDB_OPCODE_FUNCTION2)
                return codec_fail_at(in, at, "unknown opcode or value type %u", op);
            if (!read_key(l, op, &a)) return false;
        }
    }
}

/* Moves the staged keys into the server's databases: after check_commit,
 * this cannot fail. An empty target takes the staged tables whole. */
static void commit_db(struct rdb_loader *l, int id)
{
    struct db *from = &l->staged[id], *to = &server.dbs[id];
    bool merge = l->flags & SNAPSHOT_MERGE;
    if (db_size(to) == 0) {
        db_swap(to, from);
        if (db_key_index.inserted) {
            struct dict_iter it;
            dict_iter_init(&it, to->keys, false);
            for (struct dict_entry *e; (e = dict_iter_next(&it));) db_key_index.inserted(to, e->key);
            dict_iter_done(&it);
        }
        return;
    }
    struct dict_iter it;
    dict_iter_init(&it, from->keys, true);
    for (struct dict_entry *e; (e = dict_iter_next(&it));) {
        struct dict_entry *x = dict_find(from->expires, e->key, str_len(e->key));
        if (merge) db_delete(to, e->key, str_len(e->key));
        db_add_loaded(to, e->key, str_len(e->key), e->v.ptr, x ? x->v.i64 : -1);
        e->v.ptr = NULL; /* now the server's */
    }
    dict_iter_done(&it);
}

/* Without MERGE a key the databases already hold (DEBUG RELOAD NOFLUSH)
 * refuses the whole file, before anything moves. */
static bool check_commit(struct rdb_loader *l)
{
    if (l->flags & SNAPSHOT_MERGE) return true;
    for (int id = 0; id < server.db_count; id++) {
        if (!l->staged_used[id] || db_size(&server.dbs[id]) == 0) continue;
        struct dict_iter it;
        dict_iter_init(&it, l->staged[id].keys, false);
        bool clash = false;
        for (struct dict_entry *e; !clash && (e = dict_iter_next(&it));)
            clash = db_peek(&server.dbs[id], e->key, str_len(e->key)) != NULL;
        dict_iter_done(&it);
        if (clash) return codec_fail_at(&l->in, 0, "a key of database %d is already in the server's", id);
    }
    return true;
}

bool rdb_load_image(const void *data, size_t size, unsigned flags, struct snapshot_load_result *res, char *err,
                    size_t errlen)
{
    *res = (struct snapshot_load_result){0};
    struct rdb_loader l = {.flags = flags, .now_ms = db_wall_ms(), .res = res};
    codec_in_init(&l.in, data, size, 0);
    l.staged = mem_alloc(sizeof(*l.staged) * (size_t)server.db_count);
    l.staged_used = mem_alloc(sizeof(bool) * (size_t)server.db_count);
    memset(l.staged_used, 0, sizeof(bool) * (size_t)server.db_count);
    bool was_logging = oplog_enabled, was_loading = db_loading;
    oplog_enabled = false;
    db_loading = true;
    if (snapshot_function_hooks.load_begin) snapshot_function_hooks.load_begin();
    bool ok = read_header(&l) && check_trailer(&l, cfg.rdbchecksum) && read_records(&l) && check_commit(&l);
    if (snapshot_function_hooks.load_end) snapshot_function_hooks.load_end(ok);
    if (ok)
        for (int id = 0; id < server.db_count; id++)
            if (l.staged_used[id]) commit_db(&l, id);
    db_loading = was_loading;
    oplog_enabled = was_logging;
    for (int id = 0; id < server.db_count; id++)
        if (l.staged_used[id]) db_release(&l.staged[id]);
    if (!ok) {
        if (l.in_key) snprintf(err, errlen, "key '%.*s': %s", (int)l.key_len, l.key_name, l.in.err);
        else snprintf(err, errlen, "%s", l.in.err);
        *res = (struct snapshot_load_result){0};
    }
    mem_free(l.staged);
    mem_free(l.staged_used);
    return ok;
}
