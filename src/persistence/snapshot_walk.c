/* snapshot_walk: the record structure of a snapshot (see snapshot_walk.h).
 * Every read goes through a codec reader over the whole image, so offsets
 * in error messages are file offsets. */
#include "persistence/snapshot_walk.h"

#include <stdio.h>
#include <string.h>

#include "db/object.h"
#include "util/crc64.h"

struct walk {
    const struct snapshot_image *image;
    const struct snapshot_visitor *v; /* NULL: only check */
    uint64_t databases;
    int db;
};

/* ---- version 1 values: commands ---- */

bool snapshot_v1_command(struct codec_in *in, uint64_t *argc)
{
    size_t at = codec_in_offset(in);
    /* every argument takes at least a byte: a corrupted count fails here */
    if (!codec_get_count(in, 1, argc)) return false;
    if (*argc > INT32_MAX) return codec_fail_at(in, at, "implausible argument count %llu", (unsigned long long)*argc);
    return true;
}

bool snapshot_v1_arg(struct codec_in *in, const struct snapshot_key *k, const char **p, size_t *len)
{
    uint64_t n;
    if (!codec_get_varint(in, &n)) return false;
    if (n == 0) {
        *p = k->key;
        *len = k->key_len;
        return true;
    }
    const void *bytes;
    if (n - 1 > SIZE_MAX || !codec_get_raw(in, (size_t)(n - 1), &bytes)) return false;
    *p = bytes;
    *len = (size_t)(n - 1);
    return true;
}

static bool skip_v1_value(struct codec_in *in, const struct snapshot_key *k)
{
    bool any = false;
    for (;;) {
        uint64_t argc;
        if (!snapshot_v1_command(in, &argc)) return false;
        if (argc == 0) break;
        for (uint64_t i = 0; i < argc; i++) {
            const char *p;
            size_t len;
            if (!snapshot_v1_arg(in, k, &p, &len)) return false;
        }
        any = true;
    }
    return any || codec_fail(in, "the value has no commands");
}

/* ---- records ---- */

/* Puts the key in front of the reader's error message. */
static void name_key_in_error(struct codec_in *in, const struct snapshot_key *k)
{
    char msg[sizeof(in->err) + 128];
    snprintf(msg, sizeof(msg), "key '%.*s' in database %d: %s", (int)(k->key_len > 64 ? 64 : k->key_len), k->key,
             k->db, in->err);
    size_t len = strnlen(msg, sizeof(in->err) - 1);
    memcpy(in->err, msg, len);
    in->err[len] = '\0';
}

static bool read_key(struct walk *w, struct codec_in *in, bool with_expire)
{
    size_t at = codec_in_offset(in);
    struct snapshot_key k = {.db = w->db, .expire_ms = -1};
    uint64_t expire;
    if (!codec_get_u8(in, &k.type)) return false;
    if (k.type >= OBJ_TYPE_COUNT) return codec_fail_at(in, at, "unknown value type %u", k.type);
    if (with_expire) {
        if (!codec_get_u64(in, &expire)) return false;
        if (expire > INT64_MAX) return codec_fail_at(in, at, "expiry time out of range");
        k.expire_ms = (long long)expire;
    }
    if (!codec_get_bytes(in, &k.key, &k.key_len)) return false;
    bool ok;
    if (w->v && w->v->key) ok = w->v->key(w->v->ctx, in, &k);
    else ok = w->image->version == 1 ? skip_v1_value(in, &k) : codec_in_skip_value(in);
    if (!ok) name_key_in_error(in, &k);
    return ok;
}

static bool read_select(struct walk *w, struct codec_in *in)
{
    size_t at = codec_in_offset(in);
    uint64_t db;
    if (!codec_get_varint(in, &db)) return false;
    if (db >= w->databases)
        return codec_fail_at(in, at, "the file holds database %llu but `databases` is %llu", (unsigned long long)db,
                             (unsigned long long)w->databases);
    w->db = (int)db;
    return !w->v || !w->v->select || w->v->select(w->v->ctx, in, w->db);
}

/* Least bytes a key record takes: opcode, type, key length, value end. */
#define MIN_KEY_RECORD 4

static bool read_dbsize(struct walk *w, struct codec_in *in)
{
    uint64_t keys, expires;
    if (!codec_get_varint(in, &keys) || !codec_get_varint(in, &expires)) return false;
    uint64_t most = (in->size - codec_in_offset(in)) / MIN_KEY_RECORD;
    if (keys > most) keys = most;
    if (expires > keys) expires = keys;
    return !w->v || !w->v->resize || w->v->resize(w->v->ctx, in, keys, expires);
}

static bool read_aux(struct walk *w, struct codec_in *in)
{
    const char *name, *value;
    size_t nlen, vlen;
    if (!codec_get_bytes(in, &name, &nlen) || !codec_get_bytes(in, &value, &vlen)) return false;
    return !w->v || !w->v->aux || w->v->aux(w->v->ctx, in, name, nlen, value, vlen);
}

static bool read_function(struct walk *w, struct codec_in *in, size_t at)
{
    if (w->image->version < SNAPSHOT_FIRST_FUNCTIONS_VERSION)
        return codec_fail_at(in, at, "a function library in a version %d file", w->image->version);
    const char *code;
    size_t len;
    if (!codec_get_bytes(in, &code, &len)) return false;
    return !w->v || !w->v->function || w->v->function(w->v->ctx, in, code, len);
}

/* Reads records from just after the header to the end marker. */
static bool walk_records(struct walk *w, struct codec_in *in)
{
    for (;;) {
        size_t at = codec_in_offset(in);
        unsigned op;
        if (!codec_get_u8(in, &op)) return false;
        bool ok;
        switch (op) {
        case SNAP_OP_EOF: return true;
        case SNAP_OP_SELECT: ok = read_select(w, in); break;
        case SNAP_OP_KEY: ok = read_key(w, in, false); break;
        case SNAP_OP_KEY_EXPIRE: ok = read_key(w, in, true); break;
        case SNAP_OP_AUX: ok = read_aux(w, in); break;
        case SNAP_OP_DBSIZE: ok = read_dbsize(w, in); break;
        case SNAP_OP_FUNCTION: ok = read_function(w, in, at); break;
        default: return codec_fail_at(in, at, "unknown record type 0x%02x", op);
        }
        if (!ok) return false;
    }
}

static bool read_header(struct snapshot_image *image, struct codec_in *in)
{
    if (image->size < SNAPSHOT_HEADER_LEN)
        return codec_fail_at(in, 0, "truncated: %zu bytes, shorter than the header", image->size);
    if (memcmp(image->data, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) != 0)
        return codec_fail_at(in, 0, "not a Runnel snapshot (wrong signature)");
    int version = 0;
    for (int i = SNAPSHOT_MAGIC_LEN; i < SNAPSHOT_HEADER_LEN; i++) {
        unsigned char d = image->data[i];
        if (d < '0' || d > '9') return codec_fail_at(in, (size_t)i, "malformed format version");
        version = version * 10 + (d - '0');
    }
    if (version < 1 || version > SNAPSHOT_VERSION)
        return codec_fail_at(in, SNAPSHOT_MAGIC_LEN, "format version %d is not supported (this build reads up to %d)",
                             version, SNAPSHOT_VERSION);
    image->version = version;
    in->pos = SNAPSHOT_HEADER_LEN;
    return true;
}

/* After the end marker: exactly the checksum, and it must match. */
static bool read_trailer(struct snapshot_image *image, struct codec_in *in, bool verify_crc)
{
    image->end = codec_in_offset(in);
    size_t left = image->size - image->end;
    if (left < 8) return codec_fail(in, "truncated: the checksum after the end marker is missing");
    if (left > 8) return codec_fail(in, "%zu unexpected bytes after the end of the data", left - 8);
    codec_get_u64(in, &image->stored_crc);
    if (image->stored_crc == 0 || !verify_crc) return true;
    uint64_t computed = crc64(0, image->data, image->end);
    if (computed != image->stored_crc)
        return codec_fail_at(in, image->end, "checksum mismatch: the file says %016llx, its contents give %016llx",
                             (unsigned long long)image->stored_crc, (unsigned long long)computed);
    return true;
}

static bool report(const struct codec_in *in, bool ok, char *err, size_t errlen)
{
    if (!ok) snprintf(err, errlen, "%s", in->err);
    return ok;
}

bool snapshot_check(struct snapshot_image *image, uint64_t databases, bool verify_crc, char *err, size_t errlen)
{
    struct codec_in in;
    codec_in_init(&in, image->data, image->size, 0);
    struct walk w = {.image = image, .databases = databases};
    bool ok = read_header(image, &in) && walk_records(&w, &in) && read_trailer(image, &in, verify_crc);
    return report(&in, ok, err, errlen);
}

bool snapshot_walk(const struct snapshot_image *image, const struct snapshot_visitor *v, char *err, size_t errlen)
{
    struct codec_in in;
    codec_in_init(&in, image->data, image->end, SNAPSHOT_HEADER_LEN);
    struct walk w = {.image = image, .v = v, .databases = UINT64_MAX};
    return report(&in, walk_records(&w, &in), err, errlen);
}
