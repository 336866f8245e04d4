/* rdb_write: see rdb_write.h; the format is in rdb_format.h and
 * rdb_packed.c. Listpacks are built in memory (a str) and written as one
 * RDB string, as Redis does. */
#include "persistence/rdb_write.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "persistence/rdb_format.h"
#include "persistence/snapshot.h"
#include "server/server.h"
#include "types/hash.h"
#include "types/intset.h"
#include "types/list.h"
#include "types/set.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/zset.h"
#include "util/crc64.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

/* Entries per list node and per stream node (Redis's defaults: 128 and 100),
 * and the bytes after which a list node is closed early. */
#define RDB_LIST_NODE_ENTRIES 128
#define RDB_LIST_NODE_BYTES 8192
#define RDB_STREAM_NODE_ENTRIES 100

/* ---- primitives ---- */

static void put_len(struct codec_out *out, uint64_t len)
{
    unsigned char b[9];
    if (len < 64) {
        codec_put_u8(out, (unsigned)len);
    } else if (len < 16384) {
        b[0] = (unsigned char)(0x40 | (len >> 8));
        b[1] = (unsigned char)len;
        codec_put_raw(out, b, 2);
    } else if (len <= UINT32_MAX) {
        b[0] = RDB_LEN_32BIT;
        for (int i = 0; i < 4; i++) b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        codec_put_raw(out, b, 5);
    } else {
        b[0] = RDB_LEN_64BIT;
        for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        codec_put_raw(out, b, 9);
    }
}

static void put_le(struct codec_out *out, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++) b[i] = (unsigned char)(v >> (8 * i));
    codec_put_raw(out, b, (size_t)bytes);
}

/* A string; one that is a canonical integer of 32 bits goes as one. */
static void put_string(struct codec_out *out, const char *p, size_t len)
{
    long long v;
    if (len <= 11 && parse_ll(p, len, &v) && v >= INT32_MIN && v <= INT32_MAX) {
        int w = v >= INT8_MIN && v <= INT8_MAX ? 1 : v >= INT16_MIN && v <= INT16_MAX ? 2 : 4;
        codec_put_u8(out, (RDB_LEN_ENCVAL << 6) | (w == 1 ? RDB_ENC_INT8 : w == 2 ? RDB_ENC_INT16 : RDB_ENC_INT32));
        put_le(out, (uint64_t)v, w);
        return;
    }
    put_len(out, len);
    codec_put_raw(out, p, len);
}

static void put_raw_id(struct codec_out *out, const struct stream_id *id)
{
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(id->ms >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
    }
    codec_put_raw(out, b, 16);
}

/* ---- listpacks ---- */

struct lp {
    str buf; /* header room, then the entries */
    uint32_t count;
};

static void lp_init(struct lp *lp)
{
    lp->buf = str_new("\0\0\0\0\0\0", 6);
    lp->count = 0;
}

static void lp_backlen(struct lp *lp, size_t l)
{
    unsigned char b[5];
    int n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    for (int i = 0; i < n; i++) {
        b[i] = (unsigned char)((l >> (7 * (n - 1 - i))) & 127);
        if (i > 0) b[i] |= 128;
    }
    lp->buf = str_append(lp->buf, b, (size_t)n);
}

static void lp_int(struct lp *lp, long long v)
{
    unsigned char b[9];
    size_t n;
    if (v >= 0 && v <= 127) {
        b[0] = (unsigned char)v;
        n = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t u = (uint64_t)v & 0x1fff;
        b[0] = (unsigned char)(0xC0 | (u >> 8));
        b[1] = (unsigned char)u;
        n = 2;
    } else {
        int w = v >= INT16_MIN && v <= INT16_MAX ? 2 : v >= -(1 << 23) && v < (1 << 23) ? 3
                : v >= INT32_MIN && v <= INT32_MAX                                        ? 4
                                                                                          : 8;
        b[0] = (unsigned char)(w == 2 ? 0xF1 : w == 3 ? 0xF2 : w == 4 ? 0xF3 : 0xF4);
        for (int i = 0; i < w; i++) b[1 + i] = (unsigned char)((uint64_t)v >> (8 * i));
        n = 1 + (size_t)w;
    }
    lp->buf = str_append(lp->buf, b, n);
    lp_backlen(lp, n);
    lp->count++;
}

static void lp_str(struct lp *lp, const char *p, size_t len)
{
    long long v;
    if (len <= 20 && parse_ll(p, len, &v)) {
        lp_int(lp, v);
        return;
    }
    unsigned char b[5];
    size_t n;
    if (len < 64) {
        b[0] = (unsigned char)(0x80 | len);
        n = 1;
    } else if (len < 4096) {
        b[0] = (unsigned char)(0xE0 | (len >> 8));
        b[1] = (unsigned char)len;
        n = 2;
    } else {
        b[0] = 0xF0;
        for (int i = 0; i < 4; i++) b[1 + i] = (unsigned char)(len >> (8 * i));
        n = 5;
    }
    lp->buf = str_append(lp->buf, b, n);
    lp->buf = str_append(lp->buf, p, len);
    lp_backlen(lp, n + len);
    lp->count++;
}

/* Closes the listpack: the terminator, then its size and count in the
 * header. Returns the blob, which the caller frees. */
static str lp_finish(struct lp *lp)
{
    str b = str_append(lp->buf, "\xff", 1);
    size_t total = str_len(b);
    unsigned count = lp->count < 65535 ? lp->count : 65535;
    for (int i = 0; i < 4; i++) b[i] = (char)(total >> (8 * i));
    b[4] = (char)count;
    b[5] = (char)(count >> 8);
    lp->buf = NULL;
    return b;
}

/* Closes the listpack, writes it as one RDB string and frees it. */
static void lp_put(struct codec_out *out, struct lp *lp)
{
    str b = lp_finish(lp);
    put_len(out, str_len(b));
    codec_put_raw(out, b, str_len(b));
    str_free(b);
}

/* ---- values ---- */

static void put_string_value(struct codec_out *out, const struct object *o)
{
    char buf[24];
    size_t len;
    const char *p = object_string_bytes(o, buf, &len);
    put_string(out, p, len);
}

/* A list's nodes are gathered into listpacks, then written with the count. */
struct list_nodes {
    str *nodes;
    size_t count, cap;
    struct lp cur;
};

static void list_nodes_close(struct list_nodes *n)
{
    if (!n->cur.buf) return;
    if (n->count == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 8;
        n->nodes = mem_realloc(n->nodes, sizeof(str) * n->cap);
    }
    n->nodes[n->count++] = lp_finish(&n->cur);
}

static bool list_gather(void *ctx, const char *p, size_t len)
{
    struct list_nodes *n = ctx;
    if (!n->cur.buf) lp_init(&n->cur);
    lp_str(&n->cur, p, len);
    if (n->cur.count >= RDB_LIST_NODE_ENTRIES || str_len(n->cur.buf) >= RDB_LIST_NODE_BYTES) list_nodes_close(n);
    return true;
}

static void put_list(struct codec_out *out, const struct object *o)
{
    struct list_nodes n = {0};
    list_object_each(o, list_gather, &n);
    list_nodes_close(&n);
    put_len(out, n.count);
    for (size_t i = 0; i < n.count; i++) {
        put_len(out, RDB_QUICKLIST_NODE_PACKED);
        put_len(out, str_len(n.nodes[i]));
        codec_put_raw(out, n.nodes[i], str_len(n.nodes[i]));
        str_free(n.nodes[i]);
    }
    mem_free(n.nodes);
}

static bool hash_pair_lp(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    lp_str(ctx, f, flen);
    lp_str(ctx, v, vlen);
    return true;
}

static bool hash_pair_plain(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    put_string(ctx, f, flen);
    put_string(ctx, v, vlen);
    return true;
}

/* A hash with field deadlines (which Redis 7.0 cannot hold): its live
 * fields, without their deadlines. */
struct live_fields {
    const struct object *o;
    long long now;
    bool counting;
    size_t count;
    struct codec_out *out;
};

static bool hash_pair_live(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct live_fields *l = ctx;
    long long when = hash_object_deadline(l->o, f, flen);
    if (when == HASH_FIELD_MISSING || (when >= 0 && when <= l->now)) return true;
    if (l->counting) l->count++;
    else hash_pair_plain(l->out, f, flen, v, vlen);
    return true;
}

static void put_hash_with_deadlines(struct codec_out *out, const struct object *o)
{
    struct live_fields l = {.o = o, .now = db_wall_ms(), .counting = true, .out = out};
    hash_object_each(o, hash_pair_live, &l);
    put_len(out, l.count);
    l.counting = false;
    hash_object_each(o, hash_pair_live, &l);
    static long long last_warning;
    if (l.now - last_warning > 60000) {
        last_warning = l.now;
        log_warning("Hash fields' deadlines are left out of an RDB file: Redis 7.0 has no field expiry");
    }
}

static void put_hash(struct codec_out *out, const struct object *o)
{
    if (hash_object_has_deadlines(o)) {
        put_hash_with_deadlines(out, o);
        return;
    }
    if (o->encoding == ENC_LISTPACK) {
        struct lp lp;
        lp_init(&lp);
        hash_object_each(o, hash_pair_lp, &lp);
            lp_put(out, &lp);
        return;
    }
    put_len(out, hash_object_length(o));
    hash_object_each(o, hash_pair_plain, out);
}

static bool set_member_plain(void *ctx, const char *p, size_t len)
{
    put_string(ctx, p, len);
    return true;
}

static void put_set(struct codec_out *out, const struct object *o)
{
    if (o->encoding != ENC_INTSET) { /* Redis 7.0 has no listpack sets */
            put_len(out, set_object_length(o));
        set_object_each(o, set_member_plain, out);
        return;
    }
    const struct intset *is = o->v.ptr;
    uint32_t n = intset_count(is);
    int64_t lo = n ? intset_min(is) : 0, hi = n ? intset_max(is) : 0;
    unsigned w = lo >= INT16_MIN && hi <= INT16_MAX ? 2 : lo >= INT32_MIN && hi <= INT32_MAX ? 4 : 8;
    str blob = str_empty(8 + (size_t)n * w);
    unsigned char b[8];
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(w >> (8 * i));
    for (int i = 0; i < 4; i++) b[4 + i] = (unsigned char)(n >> (8 * i));
    blob = str_append(blob, b, 8);
    for (uint32_t k = 0; k < n; k++) {
        uint64_t v = (uint64_t)intset_get(is, k);
        for (unsigned i = 0; i < w; i++) b[i] = (unsigned char)(v >> (8 * i));
        blob = str_append(blob, b, w);
    }
    put_len(out, str_len(blob));
    codec_put_raw(out, blob, str_len(blob));
    str_free(blob);
}

/* A score as Redis keeps it in a listpack: an integer when it is one,
 * else its shortest round-tripping text. */
static void zset_member_lp(void *ctx, const char *m, size_t len, double score)
{
    lp_str(ctx, m, len);
    char buf[64];
    if (isinf(score)) lp_str(ctx, score > 0 ? "inf" : "-inf", score > 0 ? 3 : 4);
    else if (score == floor(score) && fabs(score) < 9007199254740992.0) lp_int(ctx, (long long)score);
    else lp_str(ctx, buf, (size_t)snprintf(buf, sizeof(buf), "%.17g", score));
}

static void zset_member_plain(void *ctx, const char *m, size_t len, double score)
{
    uint64_t bits;
    memcpy(&bits, &score, sizeof(bits));
    put_string(ctx, m, len);
    put_le(ctx, bits, 8);
}

static void put_zset(struct codec_out *out, const struct object *o)
{
    if (o->encoding == ENC_LISTPACK) {
        struct lp lp;
        lp_init(&lp);
        zset_object_each(o, zset_member_lp, &lp);
            lp_put(out, &lp);
        return;
    }
    put_len(out, zset_object_length(o));
    zset_object_each(o, zset_member_plain, out);
}

/* ---- streams ---- */

/* One stream node under construction: the master entry's fields are the
 * first entry's, and entries whose fields match them go SAMEFIELDS. */
struct stream_node {
    struct stream_id master;
    const char **fields;
    size_t *field_lens;
    size_t field_count, field_cap;
    struct lp body; /* the entries after the master entry */
    uint32_t entries;
};

static void node_start(struct stream_node *n, const struct stream_entry *e)
{
    n->master = e->id;
    n->field_count = 0;
    n->entries = 0;
    lp_init(&n->body);
    struct stream_field_cursor c;
    const char *f, *v;
    size_t flen, vlen;
    stream_entry_fields(e, &c);
    while (stream_field_next(&c, &f, &flen, &v, &vlen)) {
        if (n->field_count == n->field_cap) {
            n->field_cap = n->field_cap ? n->field_cap * 2 : 8;
            n->fields = mem_realloc(n->fields, sizeof(*n->fields) * n->field_cap);
            n->field_lens = mem_realloc(n->field_lens, sizeof(*n->field_lens) * n->field_cap);
        }
        n->fields[n->field_count] = f;
        n->field_lens[n->field_count++] = flen;
    }
}

static bool node_same_fields(const struct stream_node *n, const struct stream_entry *e)
{
    if (e->field_count != n->field_count) return false;
    struct stream_field_cursor c;
    const char *f, *v;
    size_t flen, vlen, i = 0;
    stream_entry_fields(e, &c);
    for (; stream_field_next(&c, &f, &flen, &v, &vlen); i++)
        if (flen != n->field_lens[i] || memcmp(f, n->fields[i], flen) != 0) return false;
    return true;
}

static void node_add(struct stream_node *n, const struct stream_entry *e)
{
    bool same = node_same_fields(n, e);
    struct lp *lp = &n->body;
    lp_int(lp, same ? RDB_STREAM_ITEM_SAMEFIELDS : 0);
    lp_int(lp, (long long)(e->id.ms - n->master.ms));
    lp_int(lp, (long long)(e->id.seq - n->master.seq));
    if (!same) lp_int(lp, e->field_count);
    struct stream_field_cursor c;
    const char *f, *v;
    size_t flen, vlen;
    stream_entry_fields(e, &c);
    while (stream_field_next(&c, &f, &flen, &v, &vlen)) {
        if (!same) lp_str(lp, f, flen);
        lp_str(lp, v, vlen);
    }
    lp_int(lp, same ? (long long)e->field_count + 3 : (long long)e->field_count * 2 + 4);
    n->entries++;
}

/* Writes the node: its master ID as the key, then the listpack of the
 * master entry followed by the entries. */
static void node_put(struct codec_out *out, struct stream_node *n)
{
    struct lp lp;
    lp_init(&lp);
    lp_int(&lp, n->entries);
    lp_int(&lp, 0);
    lp_int(&lp, (long long)n->field_count);
    for (size_t i = 0; i < n->field_count; i++) lp_str(&lp, n->fields[i], n->field_lens[i]);
    lp_int(&lp, 0);
    lp.buf = str_append(lp.buf, n->body.buf + 6, str_len(n->body.buf) - 6);
    lp.count += n->body.count;
    str_free(n->body.buf);
    n->body.buf = NULL;
    put_len(out, 16);
    put_raw_id(out, &n->master);
    lp_put(out, &lp);
}

static size_t stream_node_count(struct stream *s)
{
    size_t nodes = 0, in_node = 0;
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, (struct stream_id){0, 0}, (struct stream_id){UINT64_MAX, UINT64_MAX}, false);
    while (stream_iter_next(&it, &e))
        if (in_node++ % RDB_STREAM_NODE_ENTRIES == 0) nodes++;
    return nodes;
}

static void put_stream_entries(struct codec_out *out, struct stream *s)
{
    put_len(out, stream_node_count(s));
    struct stream_node n = {0};
    bool open = false;
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, (struct stream_id){0, 0}, (struct stream_id){UINT64_MAX, UINT64_MAX}, false);
    while (stream_iter_next(&it, &e)) {
        if (!open) node_start(&n, &e);
        open = true;
        node_add(&n, &e);
        if (n.entries == RDB_STREAM_NODE_ENTRIES) {
            node_put(out, &n);
            open = false;
        }
    }
    if (open) node_put(out, &n);
    mem_free(n.fields);
    mem_free(n.field_lens);
}

/* Entries released by XNACK have no owner, which Redis cannot hold. */
static size_t group_owned_count(const struct stream_cgroup *g)
{
    size_t n = 0;
    struct stream_index_iter it;
    for (bool ok = stream_index_first(g->pel, &it); ok; ok = stream_index_next(&it))
        n += ((struct stream_nack *)stream_index_value(&it))->consumer != NULL;
    return n;
}

static void put_group(struct codec_out *out, const struct stream_cgroup *g)
{
    put_string(out, g->name, str_len(g->name));
    put_len(out, g->last_id.ms);
    put_len(out, g->last_id.seq);
    put_len(out, g->entries_read < 0 ? UINT64_MAX : (uint64_t)g->entries_read);
    size_t owned = group_owned_count(g);
    if (owned != stream_index_size(g->pel))
        log_warning("Group '%s': %zu pending entries released by XNACK are left out of the RDB (Redis has no "
                    "unowned pending entries)",
                    g->name, stream_index_size(g->pel) - owned);
    if (g->dlq)
        log_warning("Group '%s': its dead-letter settings are left out of the RDB (Redis has none)", g->name);
    put_len(out, owned);
    struct stream_index_iter it;
    for (bool ok = stream_index_first(g->pel, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_nack *nack = stream_index_value(&it);
        if (!nack->consumer) continue;
        put_raw_id(out, &nack->id);
        put_le(out, (uint64_t)nack->delivery_time, 8);
        put_len(out, nack->delivery_count);
    }
    put_len(out, g->consumer_count);
    for (size_t i = 0; i < g->consumer_count; i++) {
        const struct stream_consumer *c = g->consumers[i];
        put_string(out, c->name, str_len(c->name));
        put_le(out, (uint64_t)c->seen_time, 8);
        put_len(out, stream_index_size(c->pel));
        for (bool ok = stream_index_first(c->pel, &it); ok; ok = stream_index_next(&it)) {
            struct stream_id id = stream_index_key(&it);
            put_raw_id(out, &id);
        }
    }
}

static void put_stream(struct codec_out *out, const struct object *o)
{
    struct stream *s = o->v.ptr;
    put_stream_entries(out, s);
    put_len(out, s->length);
    put_len(out, s->last_id.ms);
    put_len(out, s->last_id.seq);
    put_len(out, s->first_id.ms);
    put_len(out, s->first_id.seq);
    put_len(out, s->max_deleted_id.ms);
    put_len(out, s->max_deleted_id.seq);
    put_len(out, s->entries_added);
    size_t groups = s->groups ? s->groups->count : 0;
    put_len(out, groups);
    for (size_t i = 0; i < groups; i++) put_group(out, s->groups->items[i]);
}

/* The type byte the value is written under; -1 for a type RDB cannot hold. */
static int value_type(const struct object *o)
{
    switch (o->type) {
    case OBJ_STRING: return RDB_TYPE_STRING;
    case OBJ_LIST: return RDB_TYPE_LIST_QUICKLIST_2;
    case OBJ_HASH:
        return o->encoding == ENC_LISTPACK && !hash_object_has_deadlines(o) ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
    case OBJ_SET: return o->encoding == ENC_INTSET ? RDB_TYPE_SET_INTSET : RDB_TYPE_SET;
    case OBJ_ZSET: return o->encoding == ENC_LISTPACK ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
    case OBJ_STREAM: return RDB_TYPE_STREAM_LISTPACKS_2;
    }
    return -1;
}

/* The value after its type byte. */
static bool put_value(struct codec_out *out, const struct object *o)
{
    switch (o->type) {
    case OBJ_STRING: put_string_value(out, o); return true;
    case OBJ_LIST: put_list(out, o); return true;
    case OBJ_HASH: put_hash(out, o); return true;
    case OBJ_SET: put_set(out, o); return true;
    case OBJ_ZSET: put_zset(out, o); return true;
    case OBJ_STREAM: put_stream(out, o); return true;
    default: return false;
    }
    return false;
}

/* ---- DUMP ---- */

static void str_sink(void *ctx, const void *p, size_t len)
{
    str *s = ctx;
    *s = str_append(*s, p, len);
}

str rdb_dump_create(const struct object *o)
{
    int type = value_type(o);
    if (type < 0) return NULL;
    str s = str_empty(64);
    struct codec_out out;
    codec_out_init(&out, str_sink, &s);
    codec_put_u8(&out, (unsigned)type);
    bool ok = put_value(&out, o);
    put_le(&out, RDB_VERSION_WRITE, 2);
    codec_out_finish(&out);
    if (!ok) {
        str_free(s);
        return NULL;
    }
    unsigned char crc[8];
    uint64_t c = crc64(0, s, str_len(s));
    for (int i = 0; i < 8; i++) crc[i] = (unsigned char)(c >> (8 * i));
    return str_append(s, crc, 8);
}

/* ---- the file ---- */

static void put_aux(struct codec_out *out, const char *name, const char *value)
{
    codec_put_u8(out, RDB_OPCODE_AUX);
    put_string(out, name, strlen(name));
    put_string(out, value, strlen(value));
}

static void emit_aux(void *ctx, const char *name, const char *value)
{
    put_aux(ctx, name, value);
}

static void emit_function(void *ctx, const char *code, size_t len)
{
    codec_put_u8(ctx, RDB_OPCODE_FUNCTION2);
    put_string(ctx, code, len);
}

static bool put_db(struct codec_out *out, struct db *db)
{
    if (db_size(db) == 0) return true;
    codec_put_u8(out, RDB_OPCODE_SELECTDB);
    put_len(out, (uint64_t)db->id);
    codec_put_u8(out, RDB_OPCODE_RESIZEDB);
    put_len(out, db_size(db));
    put_len(out, db_expires_size(db));
    struct dict_iter it;
    dict_iter_init(&it, db->keys, false);
    bool ok = true;
    for (struct dict_entry *e; ok && (e = dict_iter_next(&it));) {
        long long when = db_get_expire(db, e->key, str_len(e->key));
        if (when != -1) {
            codec_put_u8(out, RDB_OPCODE_EXPIRETIME_MS);
            put_le(out, (uint64_t)when, 8);
        }
        int type = value_type(e->v.ptr);
        if (type < 0) {
            log_warning("Can't write values of type %s in an RDB file", object_type_name(e->v.ptr));
            ok = false;
            break;
        }
        codec_put_u8(out, (unsigned)type);
        put_string(out, e->key, str_len(e->key));
        ok = put_value(out, e->v.ptr);
    }
    dict_iter_done(&it);
    return ok;
}

bool rdb_write_body(struct codec_out *out)
{
    char header[RDB_HEADER_LEN + 1], num[24];
    snprintf(header, sizeof(header), "%s%04d", RDB_MAGIC, RDB_VERSION_WRITE);
    codec_put_raw(out, header, RDB_HEADER_LEN);
    put_aux(out, "runnel-ver", RUNNEL_VERSION);
    put_aux(out, "redis-bits", sizeof(void *) == 8 ? "64" : "32");
    format_ll(num, (long long)time(NULL));
    put_aux(out, "ctime", num);
    put_aux(out, "aof-base", "0");
    if (snapshot_aux_save_hook) snapshot_aux_save_hook(emit_aux, out);
    if (snapshot_function_hooks.each) snapshot_function_hooks.each(emit_function, out);
    bool ok = true;
    for (int i = 0; i < server.db_count && ok; i++) ok = put_db(out, &server.dbs[i]);
    return ok;
}
