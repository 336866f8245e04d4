/* stream: append-only logs of field/value entries.
 *
 * Encoding: an ordered index (stream_index, a B+tree keyed by 128-bit IDs)
 * maps each block's first ID to a packed block (stream_block) of up to
 * stream-node-max-entries entries / stream-node-max-bytes bytes. Seeking an
 * ID is a tree descent plus a scan of one block; a range read decodes
 * entries in place, block after block, allocating nothing. New entries go
 * to the last block until it is full; deletions flag entries and a block
 * goes away once all its entries are deleted, so approximate trimming (`~`)
 * frees whole blocks.
 *
 * The stream also keeps the counters Redis 7 reports and uses for consumer
 * group lag: entries ever added, the last ID, the first live ID and the
 * greatest ID deleted by XDEL.
 *
 * Commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD. XADD and
 * `~` XTRIM log their effect (concrete ID, exact trim) rather than their
 * arguments; stream_oplog.h has the forms and the AOF rewrite. */
#include "types/stream.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/stream_delay.h"
#include "types/stream_digest.h"
#include "types/stream_freeze.h"
#include "types/stream_group.h"
#include "types/stream_idmp.h"
#include "types/stream_oplog.h"
#include "types/stream_retention.h"
#include "types/stream_save.h"
#include "util/mem.h"
#include "util/numbers.h"

long long stream_node_max_bytes = 4096;
int stream_node_max_entries = 100;

#define ERR_INVALID_ID "ERR Invalid stream ID specified as stream command argument"
#define ERR_TRIM_MIX "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
#define ERR_TRIM_MIX_AGE "ERR syntax error, MAXLEN, MINID and MAXAGE options at the same time are not compatible"
#define ID_MAX ((struct stream_id){UINT64_MAX, UINT64_MAX})
#define ID_ZERO ((struct stream_id){0, 0})
/* A blocked XREAD without COUNT gets at most this many entries per key. */
#define XREAD_BLOCKED_DEFAULT_COUNT 1000

/* ---- lifetime ---- */

struct stream *stream_new(void)
{
    struct stream *s = mem_calloc(sizeof(*s));
    s->blocks = stream_index_new();
    return s;
}

static void free_block(void *b)
{
    stream_block_free(b);
}

void stream_free(struct stream *s)
{
    if (!s) return;
    stream_freeze_forget(s);
    stream_index_free(s->blocks, free_block);
    stream_groups_free(s->groups);
    stream_idmp_free(s->idmp);
    stream_delay_free(s);
    mem_free(s);
}

struct stream *stream_copy(const struct stream *s)
{
    struct stream *c = stream_new();
    struct stream_index_iter it;
    for (bool ok = stream_index_first(s->blocks, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_block *b = stream_index_value(&it);
        size_t bytes = stream_block_is_frozen(b) ? b->cap : b->used; /* frozen: cap is what it holds */
        struct stream_block *nb = mem_alloc(sizeof(*b) + bytes);
        memcpy(nb, b, sizeof(*b) + bytes);
        nb->cap = (uint32_t)bytes;
        nb->flags &= ~STREAM_BLOCK_KEEPS_FROZEN; /* the kept copy stays with the original */
        stream_index_insert(c->blocks, stream_index_key(&it), nb);
    }
    stream_freeze_all(c); /* blocks the source had thawed for its readers */
    c->length = s->length;
    c->entries_added = s->entries_added;
    c->last_id = s->last_id;
    c->first_id = s->first_id;
    c->max_deleted_id = s->max_deleted_id;
    c->groups = stream_groups_copy(s->groups);
    c->idmp = stream_idmp_copy(s->idmp);
    stream_delay_copy(c, s);
    stream_retention_copy(c, s);
    return c;
}

size_t stream_memory(const struct stream *s)
{
    size_t n = sizeof(*s) + stream_index_memory(s->blocks);
    struct stream_index_iter it;
    for (bool ok = stream_index_first(s->blocks, &it); ok; ok = stream_index_next(&it))
        n += stream_block_memory(stream_index_value(&it));
    return n + stream_groups_memory(s->groups) + stream_idmp_memory(s->idmp) + stream_delay_memory(s);
}

static void stream_object_free(struct object *o)
{
    stream_free(o->v.ptr);
}

static struct object *stream_object_copy(const struct object *o)
{
    struct stream *c = stream_copy(o->v.ptr);
    return object_new(OBJ_STREAM, stream_retention_encoding(c), c);
}

static size_t stream_object_memory(const struct object *o)
{
    return stream_memory(o->v.ptr);
}

static const struct object_ops stream_ops = {.name = "stream",
                                            .free = stream_object_free,
                                            .copy = stream_object_copy,
                                            .memory = stream_object_memory,
                                            .rewrite = stream_rewrite,
                                            .save = stream_save,
                                            .load = stream_load,
                                            .digest = stream_digest};

void stream_type_register(void)
{
    object_register_type(OBJ_STREAM, &stream_ops);
    stream_retention_init();
}

/* ---- appending ---- */

/* The ID `*` takes: the clock, or one past the last ID when the clock is
 * behind it (it went backwards, or many entries share this millisecond). */
static bool next_auto_id(const struct stream *s, struct stream_id *id)
{
    uint64_t now = db_now_ms > 0 ? (uint64_t)db_now_ms : 0;
    if (now > s->last_id.ms) {
        *id = (struct stream_id){now, 0};
        return true;
    }
    *id = s->last_id;
    return stream_id_incr(id);
}

/* Whether the last block takes one more entry of `size` bytes. The byte
 * limit counts the block's header too: a sealed block is shrunk to its
 * size, and one just over a power of two (4096 + a header) would fall into
 * the allocator's next size class and waste up to a fifth of itself. */
static bool block_has_room(const struct stream_block *b, struct stream_id id, size_t size)
{
    if (!stream_block_can_hold(b, id)) return false;
    if ((uint64_t)b->used + size > UINT32_MAX / 2) return false;
    if (stream_node_max_bytes > 0 && (long long)(sizeof(*b) + b->used + size) > stream_node_max_bytes) return false;
    if (stream_node_max_entries > 0 && b->entries >= (uint32_t)stream_node_max_entries) return false;
    return true;
}

/* Adds an entry whose ID is greater than every ID in the stream. */
static void append_entry(struct stream *s, struct stream_id id, const struct arg *pairs, size_t npairs)
{
    struct stream_index_iter it;
    struct stream_block *b = stream_index_last(s->blocks, &it) ? stream_freeze_open(s, &it) : NULL;
    if (b && block_has_room(b, id, stream_block_entry_size(b, id, pairs, npairs))) {
        struct stream_block *moved = stream_block_append(b, id, pairs, npairs);
        if (moved != b) stream_index_set_value(&it, moved);
        return;
    }
    if (b) {
        /* The block is sealed: give back its spare room. */
        struct stream_block *moved = stream_block_shrink(b);
        if (moved != b) stream_index_set_value(&it, moved);
    }
    stream_index_insert(s->blocks, id, stream_block_new(id, pairs, npairs));
    stream_freeze_sealed(s);
}

static bool entry_too_large(const struct arg *pairs, size_t npairs)
{
    size_t total = 0;
    for (size_t i = 0; i < 2 * npairs; i++) {
        total += pairs[i].len + 10;
        if (total >= STREAM_BLOCK_MAX_ENTRY) return true;
    }
    return false;
}

enum stream_add_result stream_append(struct stream *s, const struct arg *pairs, size_t npairs,
                                     const struct stream_id *given, bool seq_given, struct stream_id *added)
{
    struct stream_id id;
    if (!given) {
        if (!next_auto_id(s, &id)) return STREAM_ADD_ID_TOO_SMALL;
    } else if (!seq_given && given->ms == s->last_id.ms) {
        /* "ms-*" in the top item's millisecond: the next sequence. */
        if (s->last_id.seq == UINT64_MAX) return STREAM_ADD_ID_TOO_SMALL;
        id = (struct stream_id){given->ms, s->last_id.seq + 1};
    } else {
        id = (struct stream_id){given->ms, seq_given ? given->seq : 0};
    }
    if (stream_id_cmp(&id, &s->last_id) <= 0) return STREAM_ADD_ID_TOO_SMALL;
    if (entry_too_large(pairs, npairs)) return STREAM_ADD_TOO_LARGE;
    append_entry(s, id, pairs, npairs);
    s->length++;
    s->entries_added++;
    s->last_id = id;
    if (s->length == 1) s->first_id = id;
    *added = id;
    return STREAM_ADD_OK;
}

/* ---- iteration ---- */

void stream_iter_init(struct stream_iter *it, struct stream *s, struct stream_id start, struct stream_id end,
                      bool reverse)
{
    *it = (struct stream_iter){.s = s, .start = start, .end = end, .reverse = reverse};
    it->done = s->length == 0 || stream_id_cmp(&start, &end) > 0;
}

/* Moves to the next block in the walk's direction; false when none is left. */
static bool iter_next_block(struct stream_iter *it)
{
    struct stream_index *blocks = it->s->blocks;
    struct stream_index_iter ii;
    struct stream_id k = it->block_key;
    bool found;
    if (!it->have_key && !it->reverse)
        found = stream_index_seek_le(blocks, it->start, &ii) || stream_index_first(blocks, &ii);
    else if (!it->have_key)
        found = stream_index_seek_le(blocks, it->end, &ii);
    else if (!it->reverse)
        found = stream_id_incr(&k) && stream_index_seek_ge(blocks, k, &ii);
    else
        found = stream_id_decr(&k) && stream_index_seek_le(blocks, k, &ii);
    if (!found) return false;
    it->block_key = stream_index_key(&ii);
    it->have_key = true;
    if (!it->reverse && stream_id_cmp(&it->block_key, &it->end) > 0) return false;
    it->block = stream_freeze_open(it->s, &ii);
    it->offset = it->reverse ? stream_block_end(it->block) : stream_block_begin(it->block);
    return true;
}

/* Decodes the next entry of the current block, or returns false at its edge. */
static bool iter_step(struct stream_iter *it, struct stream_entry *e)
{
    struct stream_block *b = it->block;
    if (!it->reverse) {
        if (it->offset >= stream_block_end(b)) return false;
        stream_block_decode(b, it->offset, e);
        it->offset = e->end;
        return true;
    }
    uint32_t prev;
    if (!stream_block_prev(b, it->offset, &prev)) return false;
    stream_block_decode(b, prev, e);
    it->offset = prev;
    return true;
}

bool stream_iter_next(struct stream_iter *it, struct stream_entry *e)
{
    while (!it->done) {
        if (!it->block && !iter_next_block(it)) break;
        if (!iter_step(it, e)) {
            it->block = NULL;
            continue;
        }
        /* Deleted entries are skipped before the range check: only live
         * entries are guaranteed in order (XSETID ... MAXDELETEDID can let
         * a new entry follow a deleted one with a greater ID). */
        if (e->deleted) continue;
        bool before = stream_id_cmp(&e->id, &it->start) < 0, after = stream_id_cmp(&e->id, &it->end) > 0;
        if ((!it->reverse && after) || (it->reverse && before)) break;
        if (!before && !after) return true;
    }
    it->done = true;
    return false;
}

void stream_iter_delete(struct stream_iter *it, const struct stream_entry *e)
{
    struct stream_block *b = it->block;
    if (!stream_block_delete(b, e->offset)) return;
    it->s->length--;
    if (stream_block_live(b) > 0) return;
    stream_index_remove(it->s->blocks, it->block_key, NULL);
    stream_block_free(b);
    it->block = NULL;
}

bool stream_lookup(struct stream *s, struct stream_id id, struct stream_entry *e)
{
    struct stream_iter it;
    stream_iter_init(&it, s, id, id, false);
    return stream_iter_next(&it, e);
}

bool stream_first_live(struct stream *s, struct stream_id *id)
{
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, ID_ZERO, ID_MAX, false);
    if (!stream_iter_next(&it, &e)) return false;
    *id = e.id;
    return true;
}

bool stream_last_live(struct stream *s, struct stream_id *id)
{
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, ID_ZERO, ID_MAX, true);
    if (!stream_iter_next(&it, &e)) return false;
    *id = e.id;
    return true;
}

static void refresh_first_id(struct stream *s)
{
    if (s->length == 0 || !stream_first_live(s, &s->first_id)) s->first_id = ID_ZERO;
}

bool stream_delete(struct stream *s, struct stream_id id)
{
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, id, id, false);
    if (!stream_iter_next(&it, &e)) return false;
    stream_iter_delete(&it, &e);
    if (stream_id_cmp(&id, &s->max_deleted_id) > 0) s->max_deleted_id = id;
    if (s->length == 0) s->first_id = ID_ZERO;
    else if (stream_id_cmp(&id, &s->first_id) == 0) refresh_first_id(s);
    return true;
}

/* ---- trimming ---- */

/* Whether the whole first block can go, given the trim's threshold. */
static bool trim_whole_block(const struct stream *s, const struct stream_block *b, const struct stream_trim *t)
{
    if (t->strategy == STREAM_TRIM_MAXLEN) return s->length - stream_block_live(b) >= (uint64_t)t->maxlen;
    struct stream_id last = stream_block_last_id(b);
    return stream_id_cmp(&last, &t->minid) < 0;
}

/* Calls fn on the ID of each live entry of b until it returns true;
 * returns whether it did. fn must not change the stream's entries. */
static bool block_any_live(struct stream *s, const struct stream_block *b,
                           bool (*fn)(struct stream *s, struct stream_id id))
{
    struct stream_entry e;
    for (uint32_t off = stream_block_begin(b); off < stream_block_end(b); off = e.end) {
        stream_block_decode(b, off, &e);
        if (!e.deleted && fn(s, e.id)) return true;
    }
    return false;
}

static bool entry_referenced(struct stream *s, struct stream_id id)
{
    return stream_entry_referenced(s, id);
}

static bool entry_drop_refs(struct stream *s, struct stream_id id)
{
    stream_entry_drop_refs(s, id);
    return false;
}

/* Whether the trim has removed enough once it reaches entry `id`. */
static bool trim_reached(const struct stream *s, const struct stream_trim *t, const struct stream_id *id)
{
    if (t->strategy == STREAM_TRIM_MAXLEN) return s->length <= (uint64_t)t->maxlen;
    return stream_id_cmp(id, &t->minid) >= 0;
}

/* Deletes entries from the block keyed `key` onwards until the threshold
 * holds; the caller saw that the whole block cannot go, so this stops
 * inside it (a block left with no live entry is dropped). Returns how many
 * were removed. */
static long long trim_inside_block(struct stream *s, struct stream_id key, const struct stream_trim *t, bool delref)
{
    struct stream_iter it;
    struct stream_entry e;
    long long removed = 0;
    stream_iter_init(&it, s, key, ID_MAX, false);
    while (stream_iter_next(&it, &e) && !trim_reached(s, t, &e.id)) {
        if (delref) stream_entry_drop_refs(s, e.id);
        stream_iter_delete(&it, &e);
        removed++;
    }
    return removed;
}

/* An exact ACKED trim: walks from the first entry, stepping over entries a
 * group still refers to and deleting the others, until the threshold
 * holds. An entry deleted after one kept is a tombstone inside the stream,
 * so it moves max_deleted_id as XDEL would (the groups' lag depends on it). */
static long long trim_acked(struct stream *s, const struct stream_trim *t)
{
    struct stream_iter it;
    struct stream_entry e;
    long long removed = 0;
    bool kept = false;
    stream_iter_init(&it, s, ID_ZERO, ID_MAX, false);
    while (stream_iter_next(&it, &e) && !trim_reached(s, t, &e.id)) {
        if (stream_entry_referenced(s, e.id)) {
            kept = true;
            continue;
        }
        stream_iter_delete(&it, &e);
        removed++;
        if (kept && stream_id_cmp(&e.id, &s->max_deleted_id) > 0) s->max_deleted_id = e.id;
    }
    return removed;
}

/* Removes whole blocks from the head while the threshold allows, then
 * (exact trims) entries of the next block. */
static long long trim_blocks(struct stream *s, const struct stream_trim *t, bool acked, bool delref)
{
    long long removed = 0;
    struct stream_index_iter it;
    while (stream_index_first(s->blocks, &it)) {
        if (t->strategy == STREAM_TRIM_MAXLEN && s->length <= (uint64_t)t->maxlen) break;
        /* the counts are in the header; the entries only when they are read */
        bool read = t->strategy == STREAM_TRIM_MINID || acked || delref;
        struct stream_block *b = read ? stream_freeze_open(s, &it) : stream_index_value(&it);
        struct stream_id key = stream_index_key(&it);
        long long live = stream_block_live(b);
        if (t->limit && removed + live > t->limit) break;
        if (trim_whole_block(s, b, t) && !(acked && block_any_live(s, b, entry_referenced))) {
            if (delref) block_any_live(s, b, entry_drop_refs);
            stream_index_remove(s->blocks, key, NULL);
            stream_block_free(b);
            s->length -= (uint64_t)live;
            removed += live;
            continue;
        }
        if (!t->approx) removed += trim_inside_block(s, key, t, delref);
        break;
    }
    return removed;
}

long long stream_trim(struct stream *s, const struct stream_trim *t)
{
    if (t->strategy == STREAM_TRIM_NONE) return 0;
    bool groups = stream_group_count(s) > 0;
    bool acked = groups && t->policy == STREAM_REF_ACKED, delref = groups && t->policy == STREAM_REF_DEL;
    long long removed = acked && !t->approx ? trim_acked(s, t) : trim_blocks(s, t, acked, delref);
    if (removed > 0) refresh_first_id(s); /* appends keep it otherwise */
    return removed;
}

/* ---- IDs and replies ---- */

size_t stream_id_format(char *buf, const struct stream_id *id)
{
    size_t n = format_ull(buf, id->ms);
    buf[n++] = '-';
    return n + format_ull(buf + n, id->seq);
}

void stream_reply_id(struct outbuf *out, const struct stream_id *id)
{
    char buf[48];
    reply_bulk(out, buf, stream_id_format(buf, id));
}

/* The entry's [field, value, ...] array. */
static void reply_fields(struct outbuf *out, const struct stream_entry *e)
{
    reply_array(out, 2LL * e->field_count);
    struct stream_field_cursor c;
    const char *f, *v;
    size_t fl, vl;
    stream_entry_fields(e, &c);
    while (stream_field_next(&c, &f, &fl, &v, &vl)) {
        reply_bulk(out, f, fl);
        reply_bulk(out, v, vl);
    }
}

void stream_reply_entry(struct outbuf *out, const struct stream_entry *e)
{
    reply_array(out, 2);
    stream_reply_id(out, &e->id);
    reply_fields(out, e);
}

void stream_reply_entry_meta(struct outbuf *out, const struct stream_entry *e, long long idle, long long deliveries)
{
    reply_array(out, 4);
    stream_reply_id(out, &e->id);
    reply_fields(out, e);
    reply_int(out, idle);
    reply_int(out, deliveries);
}

long long stream_reply_range(struct outbuf *out, struct stream *s, struct stream_id start, struct stream_id end,
                             long long count, bool reverse)
{
    outbuf_mark mark = reply_defer(out);
    struct stream_iter it;
    struct stream_entry e;
    long long n = 0;
    stream_iter_init(&it, s, start, end, reverse);
    while ((count == 0 || n < count) && stream_iter_next(&it, &e)) {
        stream_reply_entry(out, &e);
        n++;
    }
    reply_deferred_array(out, mark, n);
    return n;
}

/* Parses an unsigned 64-bit number as Redis's string2ull: a strict integer,
 * or failing that whatever strtoull accepts in full ("007", "+5"). */
static bool parse_u64(const char *p, size_t len, uint64_t *out)
{
    long long ll;
    if (parse_ll(p, len, &ll)) {
        if (ll < 0) return false;
        *out = (uint64_t)ll;
        return true;
    }
    char buf[128];
    if (len == 0 || len >= sizeof(buf) || memchr(p, '\0', len)) return false;
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno == EINVAL || errno == ERANGE || *end != '\0') return false;
    *out = v;
    return true;
}

bool stream_parse_id(const struct arg *a, uint64_t missing_seq, bool strict, struct stream_id *id,
                     bool *seq_given)
{
    const char *p = a->ptr;
    size_t len = a->len;
    if (len > 127) return false;
    bool single = len == 1;
    if (strict && single && (p[0] == '-' || p[0] == '+')) return false;
    if (seq_given) *seq_given = true;
    if (single && p[0] == '-') {
        *id = ID_ZERO;
        return true;
    }
    if (single && p[0] == '+') {
        *id = ID_MAX;
        return true;
    }
    const char *dash = memchr(p, '-', len);
    size_t ms_len = dash ? (size_t)(dash - p) : len;
    if (!parse_u64(p, ms_len, &id->ms)) return false;
    if (!dash) {
        id->seq = missing_seq;
        return true;
    }
    const char *seq = dash + 1;
    size_t seq_len = len - ms_len - 1;
    if (seq_given && seq_len == 1 && seq[0] == '*') {
        id->seq = 0;
        *seq_given = false;
        return true;
    }
    return parse_u64(seq, seq_len, &id->seq);
}

bool stream_parse_id_or_reply(struct request *req, int i, uint64_t missing_seq, bool strict, struct stream_id *id)
{
    if (stream_parse_id(&req->argv[i], missing_seq, strict, id, NULL)) return true;
    reply_error(req->out, ERR_INVALID_ID);
    return false;
}

bool stream_parse_range_id(struct request *req, int i, uint64_t missing_seq, struct stream_id *id, bool *exclusive)
{
    struct arg a = req->argv[i];
    *exclusive = a.len > 1 && a.ptr[0] == '(';
    if (*exclusive) {
        a.ptr++;
        a.len--;
    }
    if (stream_parse_id(&a, missing_seq, *exclusive, id, NULL)) return true;
    reply_error(req->out, ERR_INVALID_ID);
    return false;
}

int stream_parse_ids_block(struct request *req, int i, struct stream_ids *ids)
{
    long long n;
    if (!request_ll_range(req, i + 1, 1, INT_MAX, &n, "ERR Number of IDs must be a positive integer")) return -1;
    if (n > req->argc - (i + 2)) {
        reply_error(req->out, "ERR The `numids` parameter must match the number of arguments");
        return -1;
    }
    *ids = (struct stream_ids){i + 2, (int)n};
    return i + 2 + (int)n;
}

bool stream_ids_check(struct request *req, const struct stream_ids *ids)
{
    if (ids->first == 0) {
        reply_syntax_error(req->out);
        return false;
    }
    struct stream_id id;
    for (int j = ids->first; j < ids->first + ids->count; j++)
        if (!stream_parse_id_or_reply(req, j, 0, true, &id)) return false;
    return true;
}

struct stream_id stream_ids_at(const struct request *req, const struct stream_ids *ids, int n)
{
    struct stream_id id;
    stream_parse_id(&req->argv[ids->first + n], 0, true, &id, NULL);
    return id;
}

bool stream_find(struct request *req, const struct arg *key, bool write, struct stream **out)
{
    struct object *o = write ? db_find(req->db, key->ptr, key->len) : db_find_read(req->db, key->ptr, key->len);
    if (o && o->type != OBJ_STREAM) {
        reply_wrong_type(req->out);
        return false;
    }
    *out = o ? o->v.ptr : NULL;
    return true;
}

/* ---- XADD and XTRIM options ---- */

struct add_options {
    bool nomkstream;
    bool id_given;
    bool seq_given;
    struct stream_id id;
    int idmp_pid;  /* argv index of IDMP's or IDMPAUTO's producer ID, 0: neither */
    int idmp_iid;  /* argv index of IDMP's idempotent ID, 0: IDMPAUTO (or neither) */
    bool delay_given; /* DELAY or DELAYAT (stream_delay.h) */
    long long due;    /* not delivered to groups before (unix ms), 0: at once */
};

/* Whether a is the 4- or 8-letter word `lower` (lowercase ASCII letters
 * only) in any case: setting bit 5 of every byte folds exactly a letter's
 * two cases together, so one load and one compare do what strncasecmp's
 * call does, for the options every call of a producer carries. */
static inline bool word_is(const struct arg *a, const char *lower, size_t n)
{
    if (a->len != n) return false;
    if (n == 4) {
        uint32_t x, w;
        memcpy(&x, a->ptr, 4);
        memcpy(&w, lower, 4);
        return (x | 0x20202020u) == w;
    }
    uint64_t x, w;
    memcpy(&x, a->ptr, 8);
    memcpy(&w, lower, 8);
    return (x | 0x2020202020202020ull) == w;
}

/* IDMP producer-id idempotent-id / IDMPAUTO producer-id at argv[*i];
 * advances *i past it. */
static bool parse_idmp(struct request *req, int *i, struct add_options *o)
{
    bool automatic = req->argv[*i].len == 8;
    if (o->idmp_pid) {
        reply_error(req->out, "ERR IDMP/IDMPAUTO specified multiple times");
        return false;
    }
    o->idmp_pid = ++(*i);
    if (req->argv[o->idmp_pid].len == 0) {
        reply_error(req->out, automatic ? "ERR IDMPAUTO requires a non-empty producer ID"
                                        : "ERR IDMP requires a non-empty producer ID");
        return false;
    }
    if (automatic) return true;
    o->idmp_iid = ++(*i);
    if (req->argv[o->idmp_iid].len == 0) {
        reply_error(req->out, "ERR IDMP requires a non-empty idempotent ID");
        return false;
    }
    return true;
}

/* Reads "[=|~] threshold" at argv[*i + 1]; advances *i past it. MAXAGE ms
 * becomes the MINID now - ms (entries whose ID time is older go). */
static bool parse_threshold(struct request *req, int *i, struct stream_trim *t)
{
    int more = req->argc - 1 - *i;
    bool minid = ARG_IS(req, *i, "MINID"), maxage = ARG_IS(req, *i, "MAXAGE");
    if (t->strategy != STREAM_TRIM_NONE) {
        reply_error(req->out, maxage || t->by_age ? ERR_TRIM_MIX_AGE : ERR_TRIM_MIX);
        return false;
    }
    t->approx = false;
    if (more >= 2 && ARG_IS(req, *i + 1, "~")) {
        t->approx = true;
        (*i)++;
    } else if (more >= 2 && ARG_IS(req, *i + 1, "=")) {
        (*i)++;
    }
    (*i)++;
    if (minid) {
        if (!stream_parse_id_or_reply(req, *i, 0, true, &t->minid)) return false;
        t->strategy = STREAM_TRIM_MINID;
    } else if (maxage) {
        long long age;
        if (!request_ll(req, *i, &age)) return false;
        if (age < 0) {
            reply_error(req->out, "ERR The MAXAGE argument must be >= 0.");
            return false;
        }
        t->strategy = STREAM_TRIM_MINID;
        t->by_age = true;
        t->minid = (struct stream_id){db_now_ms > age ? (uint64_t)(db_now_ms - age) : 0, 0};
    } else {
        if (!request_ll(req, *i, &t->maxlen)) return false;
        if (t->maxlen < 0) {
            reply_error(req->out, "ERR The MAXLEN argument must be >= 0.");
            return false;
        }
        t->strategy = STREAM_TRIM_MAXLEN;
    }
    return true;
}

/* Checks LIMIT against the strategy and fills in the default limit. */
static bool settle_limit(struct request *req, bool xadd, bool limit_given, struct stream_trim *t)
{
    if (t->limit && t->strategy == STREAM_TRIM_NONE) {
        reply_error(req->out, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return false;
    }
    if (!xadd && t->strategy == STREAM_TRIM_NONE) {
        reply_error(req->out, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return false;
    }
    if (limit_given && !t->approx) {
        reply_error(req->out, "ERR syntax error, LIMIT cannot be used without the special ~ option");
        return false;
    }
    if (!limit_given) {
        t->limit = t->approx ? 100LL * stream_node_max_entries : 0;
        if (t->approx && t->limit <= 0) t->limit = 10000;
    }
    return true;
}

/* Parses XADD (from argv[2]) or XTRIM options; returns the index of XADD's
 * ID argument (or argc), or -1 after replying an error. */
static int parse_add_or_trim(struct request *req, bool xadd, struct stream_trim *t, struct add_options *o)
{
    *t = (struct stream_trim){.strategy = STREAM_TRIM_NONE};
    *o = (struct add_options){0};
    bool limit_given = false;
    int i = 2;
    for (; i < req->argc; i++) {
        bool more = req->argc - 1 - i > 0;
        if (xadd && req->argv[i].len == 1 && req->argv[i].ptr[0] == '*') break;
        /* IDMP before the trim options: it comes on every call of a producer that uses it */
        if (xadd && ((word_is(&req->argv[i], "idmp", 4) && req->argc - 1 - i >= 2) ||
                     (word_is(&req->argv[i], "idmpauto", 8) && more))) {
            if (!parse_idmp(req, &i, o)) return -1;
            continue;
        }
        if ((ARG_IS(req, i, "MAXLEN") || ARG_IS(req, i, "MINID") || ARG_IS(req, i, "MAXAGE")) && more) {
            if (!parse_threshold(req, &i, t)) return -1;
        } else if (ARG_IS(req, i, "LIMIT") && more) {
            if (!request_ll(req, ++i, &t->limit)) return -1;
            if (t->limit < 0) {
                reply_error(req->out, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = true;
        } else if (stream_ref_policy_parse(&req->argv[i], &t->policy)) {
            continue;
        } else if (xadd && ARG_IS(req, i, "NOMKSTREAM")) {
            o->nomkstream = true;
        } else if (xadd && (ARG_IS(req, i, "DELAY") || ARG_IS(req, i, "DELAYAT")) && more) {
            if (!stream_delay_parse(req, &i, "xadd", &o->delay_given, &o->due)) return -1;
        } else if (xadd) {
            if (!stream_parse_id(&req->argv[i], 0, true, &o->id, &o->seq_given)) {
                reply_error(req->out, ERR_INVALID_ID);
                return -1;
            }
            o->id_given = true;
            if (o->idmp_pid) {
                reply_error(req->out, "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs");
                return -1;
            }
            break;
        } else {
            reply_syntax_error(req->out);
            return -1;
        }
    }
    return settle_limit(req, xadd, limit_given, t) ? i : -1;
}

/* ---- what XADD and XTRIM log ---- */

/* The trim arguments that remove, on replay, exactly what `t` removed. A
 * `~` trim depends on block boundaries, which a replayed or rewritten
 * stream need not share, so it is logged as Redis logs it: the exact trim
 * that leaves the same entries (MAXLEN = <length>, MINID = <first ID>).
 * That holds under every reference policy: a `~` trim removes whole blocks
 * from the head, and under ACKED only blocks no group refers to, so the
 * exact trim finds the same entries first. MAXAGE depends on the clock, so
 * it is logged as the MINID it stood for. The policy follows, unless it is
 * the default. */
int stream_trim_effect_args(const struct stream *s, const struct stream_trim *t, struct arg *out, char *buf)
{
    if (t->strategy == STREAM_TRIM_NONE) return 0;
    bool minid = t->strategy == STREAM_TRIM_MINID;
    out[1] = (struct arg){"=", 1};
    if (!t->approx && minid) {
        out[0] = (struct arg){"MINID", 5};
        out[2] = (struct arg){buf, stream_id_format(buf, &t->minid)};
    } else if (!t->approx) {
        out[0] = (struct arg){"MAXLEN", 6};
        out[2] = (struct arg){buf, format_ull(buf, (unsigned long long)t->maxlen)};
    } else if (minid && s->length > 0) {
        out[0] = (struct arg){"MINID", 5};
        out[2] = (struct arg){buf, stream_id_format(buf, &s->first_id)};
    } else {
        out[0] = (struct arg){"MAXLEN", 6};
        out[2] = (struct arg){buf, format_ull(buf, s->length)};
    }
    if (t->policy == STREAM_REF_KEEP) return 3;
    out[3] = stream_ref_policy_arg(t->policy);
    return 4;
}

/* Logs an XADD as the entry it added: the ID it took (not `*` or `ms-*`)
 * and its trim made exact. LIMIT goes: it only bounds `~` trims. */
static void xadd_propagate(struct request *req, const struct add_options *opt, const struct stream_trim *trim,
                           const struct stream *s, struct stream_id id, const struct arg *pairs, int fields)
{
    struct arg small[32];
    int most = 10 + fields;
    struct arg *argv = most <= 32 ? small : mem_alloc(sizeof(struct arg) * (size_t)most);
    char idbuf[48], trimbuf[48];
    int n = 0;
    argv[n++] = (struct arg){"XADD", 4};
    argv[n++] = req->argv[1];
    if (opt->nomkstream) argv[n++] = (struct arg){"NOMKSTREAM", 10};
    char duebuf[24];
    if (opt->due) {
        argv[n++] = (struct arg){"DELAYAT", 7};
        argv[n++] = (struct arg){duebuf, format_ll(duebuf, opt->due)};
    }
    n += stream_trim_effect_args(s, trim, argv + n, trimbuf);
    argv[n++] = (struct arg){idbuf, stream_id_format(idbuf, &id)};
    for (int i = 0; i < fields; i++) argv[n++] = pairs[i];
    oplog_propagate(req, n, argv);
    if (argv != small) mem_free(argv);
}

/* An XADD ... IDMP whose pair is known: replies the original entry's ID
 * and adds nothing. Only the duplicates counter changed; it is logged as
 * XSETID ... IDMPDUPLICATES so that replicas and replays count the same. */
static bool xadd_duplicate(struct request *req, struct stream *s, struct stream_idmp_pair *pair)
{
    struct stream_id id;
    if (!stream_idmp_lookup(s, pair, db_now_ms, &id)) return false;
    stream_reply_id(req->out, &id);
    char last[48], dups[24];
    struct arg argv[5] = {{"XSETID", 6}, req->argv[1], {last, stream_id_format(last, &s->last_id)},
                          {"IDMPDUPLICATES", 14}, {dups, format_ull(dups, stream_idmp_duplicates(s))}};
    oplog_propagate(req, 5, argv);
    req->dirty++;
    return true;
}

/* ---- commands ---- */

static void cmd_xadd(struct request *req)
{
    struct stream_trim trim;
    struct add_options opt;
    int id_pos = parse_add_or_trim(req, true, &trim, &opt);
    if (id_pos < 0) return;
    int fields = req->argc - (id_pos + 1);
    if (fields < 2 || fields % 2 == 1) {
        reply_wrong_arity(req->out, "xadd");
        return;
    }
    if (opt.id_given && opt.seq_given && stream_id_is_zero(&opt.id)) {
        reply_error(req->out, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    struct arg *key = &req->argv[1];
    struct stream *s;
    if (!stream_find(req, key, true, &s)) return;
    if (!s && opt.nomkstream) {
        reply_null(req->out);
        return;
    }
    struct arg *pairs = &req->argv[id_pos + 1];
    if (entry_too_large(pairs, (size_t)fields / 2)) {
        reply_error(req->out, "ERR Elements are too large to be stored");
        return;
    }
    unsigned char auto_iid[STREAM_IDMP_AUTO_LEN];
    struct stream_idmp_pair pair;
    if (opt.idmp_pid) {
        struct arg iid = {(char *)auto_iid, sizeof(auto_iid)};
        if (opt.idmp_iid) iid = req->argv[opt.idmp_iid];
        else stream_idmp_auto_iid(pairs, (size_t)fields / 2, auto_iid);
        stream_idmp_pair_init(&pair, &req->argv[opt.idmp_pid], &iid);
        if (s && xadd_duplicate(req, s, &pair)) return;
    }
    if (!s) {
        s = stream_new();
        db_add(req->db, key->ptr, key->len, object_new(OBJ_STREAM, ENC_STREAM, s));
    }
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(req->out, "ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    struct stream_id id;
    size_t blocks = stream_index_size(s->blocks);
    if (stream_append(s, pairs, (size_t)fields / 2, opt.id_given ? &opt.id : NULL, opt.seq_given, &id) !=
        STREAM_ADD_OK) {
        reply_error(req->out, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        return;
    }
    bool new_block = stream_index_size(s->blocks) > blocks;
    stream_reply_id(req->out, &id);
    /* A due time already past delivers at once, except on replay, where the
     * schedule is rebuilt as it was. */
    if (opt.due > db_now_ms || (opt.due > 0 && !stream_delay_enforced())) stream_delay_schedule(s, id, opt.due);
    else opt.due = 0;
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xadd");
    if (stream_trim(s, &trim) > 0) notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_STREAM, "xtrim");
    bool created = opt.idmp_pid && stream_idmp_record(s, &pair, id, db_now_ms);
    /* Nothing reads the log without an AOF or replicas: skip formatting. */
    /* A delayed entry behind a group's position is logged with the XNACK
     * that holds it in that group, in one transaction. */
    bool one_transaction = oplog_enabled && (opt.idmp_pid || (opt.due && s->groups && s->groups->count));
    if (one_transaction) oplog_multi_begin();
    if (oplog_enabled) xadd_propagate(req, &opt, &trim, s, id, pairs, fields);
    if (oplog_enabled && opt.idmp_pid) stream_idmp_propagate(req, s, created, &pair.pid, &pair.iid, id, db_now_ms);
    if (opt.due) stream_delay_added(req, key, s, id, opt.due);
    if (one_transaction) oplog_multi_end();
    /* the standing policy removes whole blocks: looking once per new block
     * is enough, and keeps the other XADDs at their plain cost */
    if (new_block && stream_retention_active(s)) stream_retention_enforce(req->db, key->ptr, key->len, s);
    blocking_key_ready(req->db, key->ptr, key->len);
}

static void cmd_xlen(struct request *req)
{
    struct stream *s;
    if (!stream_find(req, &req->argv[1], false, &s)) return;
    reply_int(req->out, s ? (long long)s->length : 0);
}

/* XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n] */
static void xrange(struct request *req, bool reverse)
{
    struct stream_id start, end;
    bool start_ex, end_ex;
    int start_arg = reverse ? 3 : 2, end_arg = reverse ? 2 : 3;
    if (!stream_parse_range_id(req, start_arg, 0, &start, &start_ex)) return;
    if (start_ex && !stream_id_incr(&start)) {
        reply_error(req->out, "ERR invalid start ID for the interval");
        return;
    }
    if (!stream_parse_range_id(req, end_arg, UINT64_MAX, &end, &end_ex)) return;
    if (end_ex && !stream_id_decr(&end)) {
        reply_error(req->out, "ERR invalid end ID for the interval");
        return;
    }
    long long count = -1;
    for (int i = 4; i < req->argc; i++) {
        if (ARG_IS(req, i, "COUNT") && i + 1 < req->argc) {
            if (!request_ll(req, ++i, &count)) return;
            if (count < 0) count = 0;
        } else {
            reply_syntax_error(req->out);
            return;
        }
    }
    struct stream *s;
    if (!stream_find(req, &req->argv[1], false, &s)) return;
    if (!s) reply_empty_array(req->out);
    else if (count == 0) reply_null_array(req->out);
    else stream_reply_range(req->out, s, start, end, count < 0 ? 0 : count, reverse);
}

static void cmd_xrange(struct request *req)
{
    xrange(req, false);
}

static void cmd_xrevrange(struct request *req)
{
    xrange(req, true);
}

static void cmd_xdel(struct request *req)
{
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    if (!s) {
        reply_int(req->out, 0);
        return;
    }
    /* Every ID is checked first: a bad one must not leave the command half done. */
    struct stream_id id;
    for (int i = 2; i < req->argc; i++)
        if (!stream_parse_id_or_reply(req, i, 0, true, &id)) return;
    long long deleted = 0;
    for (int i = 2; i < req->argc; i++) {
        stream_parse_id(&req->argv[i], 0, true, &id, NULL);
        if (stream_delete(s, id)) deleted++;
    }
    if (deleted > 0) {
        struct arg *key = &req->argv[1];
        key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xdel");
        req->dirty += deleted - 1;
    }
    reply_int(req->out, deleted);
}

static void cmd_xtrim(struct request *req)
{
    struct stream_trim trim;
    struct add_options opt;
    if (parse_add_or_trim(req, false, &trim, &opt) < 0) return;
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    long long removed = s ? stream_trim(s, &trim) : 0;
    if (removed > 0) {
        struct arg *key = &req->argv[1];
        key_changed(req, key->ptr, key->len, NOTIFY_STREAM, "xtrim");
        req->dirty += removed - 1;
        if (trim.approx || trim.by_age) {
            struct arg argv[6] = {{"XTRIM", 5}, *key};
            char buf[48];
            oplog_propagate(req, 2 + stream_trim_effect_args(s, &trim, argv + 2, buf), argv);
        }
    }
    reply_int(req->out, removed);
}

struct setid_options {
    struct stream_id id;
    struct stream_id max_deleted;
    long long entries_added; /* -1: not given */
    long long idmp_added;    /* IDMPADDED (Runnel's, for replays), -1: not given */
    long long idmp_duplicates; /* IDMPDUPLICATES, -1: not given */
};

static bool parse_setid(struct request *req, struct setid_options *o)
{
    *o = (struct setid_options){.entries_added = -1, .idmp_added = -1, .idmp_duplicates = -1};
    if (!stream_parse_id_or_reply(req, 2, 0, true, &o->id)) return false;
    for (int i = 3; i < req->argc; i += 2) {
        bool more = i + 1 < req->argc;
        if (ARG_IS(req, i, "ENTRIESADDED") && more) {
            if (!request_ll(req, i + 1, &o->entries_added)) return false;
            if (o->entries_added < 0) {
                reply_error(req->out, "ERR entries_added must be positive");
                return false;
            }
        } else if ((ARG_IS(req, i, "IDMPADDED") || ARG_IS(req, i, "IDMPDUPLICATES")) && more) {
            long long *v = ARG_IS(req, i, "IDMPADDED") ? &o->idmp_added : &o->idmp_duplicates;
            if (!request_ll_range(req, i + 1, 0, LLONG_MAX, v, "ERR IDMP counters must be positive")) return false;
        } else if (ARG_IS(req, i, "MAXDELETEDID") && more) {
            if (!stream_parse_id_or_reply(req, i + 1, 0, true, &o->max_deleted)) return false;
            if (stream_id_cmp(&o->id, &o->max_deleted) < 0) {
                reply_error(req->out,
                            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return false;
            }
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

/* Refuses a last ID (or entries-added) that would break the stream's
 * ordering or counters; replies the error. */
static bool setid_allowed(struct request *req, struct stream *s, const struct setid_options *o)
{
    struct stream_id top;
    if (s->length > 0 && stream_last_live(s, &top)) {
        if (stream_id_cmp(&o->id, &top) < 0) {
            reply_error(req->out, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return false;
        }
        if (o->entries_added != -1 && s->length > (uint64_t)o->entries_added) {
            reply_error(req->out,
                        "ERR The entries_added specified in XSETID is smaller than the target stream length");
            return false;
        }
    }
    /* Redis 7.0 lacks this check (later versions have it): without it an
     * emptied stream could be set back below deleted IDs and reuse them. */
    if (stream_id_is_zero(&o->max_deleted) && stream_id_cmp(&o->id, &s->max_deleted_id) < 0) {
        reply_error(req->out, "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id");
        return false;
    }
    return true;
}

static void cmd_xsetid(struct request *req)
{
    struct setid_options o;
    if (!parse_setid(req, &o)) return;
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    if (!s) {
        reply_error(req->out, ERR_NO_KEY);
        return;
    }
    if (!setid_allowed(req, s, &o)) return;
    s->last_id = o.id;
    if (o.entries_added != -1) s->entries_added = (uint64_t)o.entries_added;
    if (!stream_id_is_zero(&o.max_deleted)) s->max_deleted_id = o.max_deleted;
    if (o.idmp_added != -1 || o.idmp_duplicates != -1) stream_idmp_set_counters(s, o.idmp_added, o.idmp_duplicates);
    reply_ok(req->out);
    key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_STREAM, "xsetid");
}

/* ---- XREAD ---- */

static bool read_option_refused(struct request *req, const char *option)
{
    reply_errorf(req->out, "ERR The %s option is only supported by XREADGROUP. You called XREAD instead.", option);
    return false;
}

bool stream_read_parse(struct request *req, bool group, struct stream_read_args *a)
{
    *a = (struct stream_read_args){.timeout_ms = -1, .claim = -1};
    for (int i = 1; i < req->argc; i++) {
        int more = req->argc - i - 1;
        if (ARG_IS(req, i, "BLOCK") && more) {
            if (!request_timeout_ms(req, ++i, &a->timeout_ms, false)) return false;
        } else if (ARG_IS(req, i, "COUNT") && more) {
            if (!request_ll(req, ++i, &a->count)) return false;
            if (a->count < 0) a->count = 0;
        } else if ((ARG_IS(req, i, "MAXCOUNT") || ARG_IS(req, i, "MAXSIZE")) && more) {
            bool size = ARG_IS(req, i, "MAXSIZE");
            long long *v = size ? &a->maxsize : &a->maxcount;
            if (!request_ll(req, ++i, v)) return false;
            if (*v <= 0) {
                reply_error(req->out, size ? "ERR MAXSIZE must be a positive integer"
                                           : "ERR MAXCOUNT must be a positive integer");
                return false;
            }
        } else if (ARG_IS(req, i, "STREAMS") && more) {
            a->streams_arg = i + 1;
            int n = req->argc - a->streams_arg;
            if (n % 2 != 0) {
                /* 7.4 wording: XREAD also takes `+` (Redis 7.0/7.2 say "an ID or '$'") */
                reply_error(req->out, group ? "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an "
                                              "ID or '>' must be specified."
                                            : "ERR Unbalanced 'xread' list of streams: for each stream key an ID, "
                                              "'+', or '$' must be specified.");
                return false;
            }
            a->nstreams = n / 2;
            break;
        } else if (ARG_IS(req, i, "GROUP") && more >= 2) {
            if (!group) return read_option_refused(req, "GROUP");
            a->group_arg = i + 1;
            i += 2;
        } else if (ARG_IS(req, i, "CLAIM") && more) {
            if (!group) return read_option_refused(req, "CLAIM");
            if (!request_ll_range(req, ++i, 0, LLONG_MAX, &a->claim,
                                  "ERR Invalid min-idle-time argument for XREADGROUP"))
                return false;
        } else if (ARG_IS(req, i, "NOACK")) {
            if (!group) return read_option_refused(req, "NOACK");
            a->noack = true;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    if (a->streams_arg == 0) {
        reply_syntax_error(req->out);
        return false;
    }
    if (group && a->group_arg == 0) {
        reply_error(req->out, "ERR Missing GROUP option for XREADGROUP");
        return false;
    }
    if (a->maxcount && a->count > a->maxcount) {
        reply_error(req->out, "ERR MAXCOUNT must be greater than or equal to COUNT");
        return false;
    }
    return true;
}

struct stream_budget stream_budget_of(const struct stream_read_args *a)
{
    return (struct stream_budget){.maxcount = a->maxcount, .maxsize = a->maxsize};
}

static size_t bulk_size(size_t len)
{
    char digits[24];
    return 1 + format_ull(digits, len) + 2 + len + 2;
}

/* The bytes of an entry's reply: [id, [field, value...]] (RESP2 and
 * RESP3 alike), with CLAIM's two numbers counted as small integers. */
static size_t entry_reply_size(const struct stream_entry *e, const struct stream_id *id, bool meta)
{
    char buf[48];
    size_t n = 4 + bulk_size(stream_id_format(buf, e ? &e->id : id));
    if (!e) return n + 5;
    n += 1 + format_ull(buf, 2ULL * e->field_count) + 2;
    struct stream_field_cursor c;
    const char *f, *v;
    size_t fl, vl;
    stream_entry_fields(e, &c);
    while (stream_field_next(&c, &f, &fl, &v, &vl)) n += bulk_size(fl) + bulk_size(vl);
    return meta ? n + 2 * 8 : n;
}

static bool budget_check(struct stream_budget *b, const struct stream_entry *e, const struct stream_id *id, bool meta,
                         bool take)
{
    if (b->full) return false;
    if (b->maxcount && b->entries >= b->maxcount) {
        b->full = true;
        return false;
    }
    if (b->maxsize) {
        long long size = (long long)entry_reply_size(e, id, meta);
        if (b->entries > 0 && b->bytes + size > b->maxsize) {
            b->full = true;
            return false;
        }
        if (take) b->bytes += size;
    }
    if (take) b->entries++;
    return true;
}

bool stream_budget_take(struct stream_budget *b, const struct stream_entry *e, const struct stream_id *id, bool meta)
{
    return budget_check(b, e, id, meta, true);
}

bool stream_budget_fits(struct stream_budget *b, const struct stream_entry *e, const struct stream_id *id, bool meta)
{
    return budget_check(b, e, id, meta, false);
}

void stream_read_reply_key(struct outbuf *out, const char *key, size_t len)
{
    if (out->resp == 2) reply_array(out, 2);
    reply_bulk(out, key, len);
}

/* What a blocked XREAD remembers: per key (in argument order) the ID after
 * which entries are wanted, and how many to send. */
struct xread_wait {
    long long count;
    long long maxcount, maxsize;
    struct stream_id ids[];
};

static void xread_wait_free(void *p)
{
    mem_free(p);
}

/* Finds the first entry of s after `after` into it/e; false when there is
 * none or it does not fit the budget (the key is then left out). */
static bool xread_first(struct stream *s, struct stream_id after, struct stream_budget *b, struct stream_iter *it,
                        struct stream_entry *e)
{
    if (!s || !stream_id_incr(&after)) return false;
    stream_iter_init(it, s, after, ID_MAX, false);
    return stream_iter_next(it, e) && stream_budget_fits(b, e, NULL, false);
}

/* Replies one key: its name and up to count (0: all) entries from e on,
 * within the budget. */
static void xread_reply_key(struct outbuf *out, const struct arg *key, struct stream_iter *it, struct stream_entry *e,
                            long long count, struct stream_budget *b)
{
    stream_read_reply_key(out, key->ptr, key->len);
    outbuf_mark mark = reply_defer(out);
    long long n = 0;
    do {
        if (!stream_budget_take(b, e, NULL, false)) break;
        stream_reply_entry(out, e);
        n++;
    } while ((count == 0 || n < count) && stream_iter_next(it, e));
    reply_deferred_array(out, mark, n);
}

static enum serve_result xread_serve(struct waiter *w, struct request *req, const char *key, size_t len)
{
    struct xread_wait *st = w->spec.state;
    int i = 0;
    while (i < w->key_count && (str_len(w->keys[i]) != len || memcmp(w->keys[i], key, len) != 0)) i++;
    struct object *o = db_find(req->db, key, len);
    if (i == w->key_count || !o || o->type != OBJ_STREAM) return SERVE_NOT_READY;
    struct stream_id last;
    if (!stream_last_live(o->v.ptr, &last) || stream_id_cmp(&last, &st->ids[i]) <= 0) return SERVE_NOT_READY;
    if (req->out->resp == 2) reply_array(req->out, 1);
    else reply_map(req->out, 1);
    struct arg k = {(char *)key, len};
    struct stream_budget b = {.maxcount = st->maxcount, .maxsize = st->maxsize};
    struct stream_iter it;
    struct stream_entry e;
    xread_first(o->v.ptr, st->ids[i], &b, &it, &e);
    xread_reply_key(req->out, &k, &it, &e, st->count, &b);
    return SERVE_DONE;
}

static void xread_timeout(struct waiter *w, struct request *req)
{
    (void)w;
    reply_null_array(req->out);
}

/* Resolves the ID argument of key i: `$` the last ID, `+` just before the
 * last entry (Redis 7.4), else a strict ID. Replies on error. */
static bool xread_resolve_id(struct request *req, const struct stream_read_args *a, int i, struct stream_id *id)
{
    int arg = a->streams_arg + a->nstreams + i;
    struct stream *s;
    if (!stream_find(req, &req->argv[a->streams_arg + i], false, &s)) return false;
    if (ARG_IS(req, arg, "$")) {
        *id = s ? s->last_id : ID_ZERO;
        return true;
    }
    if (ARG_IS(req, arg, ">")) {
        reply_error(req->out, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                              "<consumer> option.");
        return false;
    }
    if (ARG_IS(req, arg, "+")) {
        *id = s ? s->last_id : ID_ZERO;
        if (s && s->length > 0) stream_id_decr(id);
        return true;
    }
    return stream_parse_id_or_reply(req, arg, 0, true, id);
}

static void cmd_xread(struct request *req)
{
    struct stream_read_args a;
    if (!stream_read_parse(req, false, &a)) return;
    struct xread_wait *st = mem_alloc(sizeof(*st) + sizeof(struct stream_id) * (size_t)a.nstreams);
    st->count = a.count;
    for (int i = 0; i < a.nstreams; i++) {
        if (!xread_resolve_id(req, &a, i, &st->ids[i])) {
            mem_free(st);
            return;
        }
    }
    outbuf_mark mark = 0;
    long long served = 0;
    struct stream_budget b = stream_budget_of(&a);
    for (int i = 0; i < a.nstreams && !b.full; i++) {
        struct arg *key = &req->argv[a.streams_arg + i];
        struct object *o = db_find(req->db, key->ptr, key->len);
        struct stream_iter it;
        struct stream_entry e;
        if (!o || !xread_first(o->v.ptr, st->ids[i], &b, &it, &e)) continue;
        if (served++ == 0) mark = reply_defer(req->out);
        xread_reply_key(req->out, key, &it, &e, a.count, &b);
    }
    if (served > 0) {
        if (req->out->resp == 2) reply_deferred_array(req->out, mark, served);
        else reply_deferred_map(req->out, mark, served);
    }
    if (served > 0 || a.timeout_ms < 0 || (req->flags & REQ_IN_MULTI)) {
        if (served == 0) reply_null_array(req->out);
        mem_free(st);
        return;
    }
    if (st->count == 0) st->count = XREAD_BLOCKED_DEFAULT_COUNT;
    st->maxcount = a.maxcount;
    st->maxsize = a.maxsize;
    struct blocking_spec spec = {
        .serve = xread_serve, .timeout = xread_timeout, .state = st, .state_free = xread_wait_free};
    blocking_wait(req, &req->argv[a.streams_arg], a.nstreams, a.timeout_ms, &spec);
}

/* XREAD's keys follow STREAMS: the first half of what comes after it. */
int stream_read_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    int streams = 0;
    for (int i = 1; i < argc && !streams; i++)
        if (argv[i].len == 7 && strncasecmp(argv[i].ptr, "STREAMS", 7) == 0) streams = i + 1;
    if (!streams || (argc - streams) % 2 != 0) return 0;
    int n = 0;
    for (int i = streams; i < streams + (argc - streams) / 2 && n < max; i++) positions[n++] = i;
    return n;
}

#define W (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
struct command stream_commands[] = {
    {"xadd", cmd_xadd, -5, W | CMD_FAST, 1, 1, 1, "@write @stream @fast", "stream",
     "Appends a new message to a stream. Creates the key if it doesn't exist.", "5.0.0",
     "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."},
    {"xlen", cmd_xlen, 2, R | CMD_FAST, 1, 1, 1, "@read @stream @fast", "stream",
     "Return the number of messages in a stream.", "5.0.0", "O(1)"},
    {"xrange", cmd_xrange, -4, R, 1, 1, 1, "@read @stream @slow", "stream",
     "Returns the messages from a stream within a range of IDs.", "5.0.0",
     "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first "
     "10 elements with COUNT), you can consider it O(1)."},
    {"xrevrange", cmd_xrevrange, -4, R, 1, 1, 1, "@read @stream @slow", "stream",
     "Returns the messages from a stream within a range of IDs in reverse order.", "5.0.0",
     "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 "
     "elements with COUNT), you can consider it O(1)."},
    {"xdel", cmd_xdel, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast", "stream",
     "Returns the number of messages after removing them from a stream.", "5.0.0",
     "O(1) for each single item to delete in the stream, regardless of the stream size."},
    {"xtrim", cmd_xtrim, -4, CMD_WRITE, 1, 1, 1, "@write @stream @slow", "stream",
     "Deletes messages from the beginning of a stream.", "5.0.0",
     "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are "
     "organized in macro nodes containing multiple entries that can be released with a single deallocation."},
    {"xsetid", cmd_xsetid, -3, W | CMD_FAST, 1, 1, 1, "@write @stream @fast", "stream",
     "An internal command for replicating stream values.", "5.0.0", "O(1)"},
    {"xread", cmd_xread, -4, R | CMD_BLOCKING | CMD_MOVABLE_KEYS, 0, 0, 0, "@read @stream @slow @blocking",
     "stream", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a "
     "message is available otherwise.",
     "5.0.0",
     "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing "
     "with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to "
     "serve the M clients blocked on the stream getting new data.",
     NULL, stream_read_keys},
    {0},
};
