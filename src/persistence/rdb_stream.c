/* rdb_stream: Redis's stream value types (15, 19 and 21: listpacks v1 to
 * v3) decoded into a Runnel stream.
 *
 *   nodes       { string:master-id (16 bytes, ms and seq big-endian)
 *                 string:listpack }
 *   len:length len:last-ms len:last-seq
 *   v2+: len:first-ms len:first-seq len:max-deleted-ms len:max-deleted-seq
 *        len:entries-added
 *   len:groups  { string:name len:last-ms len:last-seq [v2+ len:entries-read]
 *                 len:pending { 16 bytes:id u64le:delivery-ms len:count }
 *                 len:consumers { string:name u64le:seen-ms [v3+ u64le:active-ms]
 *                                 len:pending { 16 bytes:id } } }
 *
 * A listpack node holds a master entry (count, deleted, field count, the
 * fields, 0) and then entries: flags, ms and seq relative to the node's
 * master ID, then (SAMEFIELDS) the values of the master's fields, or a
 * field count and field/value pairs; then the entry's element count.
 * Live entries are appended through stream_append, so they land in
 * Runnel's own blocks; deleted ones (tombstones) are counted and dropped. */
#include <limits.h>
#include <string.h>

#include "persistence/rdb_format.h"
#include "persistence/rdb_packed.h"
#include "persistence/rdb_read.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/stream_pel.h"
#include "util/mem.h"
#include "util/numbers.h"

/* The walk over one node's listpack. */
struct node_walk {
    struct codec_in *in;
    struct rdb_packed_iter it;
    struct rdb_elem *fields; /* the master entry's fields */
    size_t field_count;
    struct rdb_elem *values; /* one entry's elements */
    struct arg *args;
    size_t cap;
};

static bool walk_elem(struct node_walk *w, struct rdb_elem *e)
{
    if (rdb_packed_next(&w->it, e)) return true;
    return codec_fail(w->in, "%s", w->it.bad ? w->it.bad : "a stream node ends inside an entry");
}

static bool walk_int(struct node_walk *w, long long *v)
{
    struct rdb_elem e;
    if (!walk_elem(w, &e)) return false;
    if (e.is_int) *v = e.v;
    else if (!parse_ll(e.p, e.len, v)) return codec_fail(w->in, "a stream node holds a string where a number is");
    return true;
}

/* Room for n elements (n is bounded by the node's bytes). */
static void walk_reserve(struct node_walk *w, size_t n)
{
    if (n <= w->cap) return;
    w->cap = n < 16 ? 16 : n;
    w->values = mem_realloc(w->values, sizeof(*w->values) * w->cap);
    w->args = mem_realloc(w->args, sizeof(*w->args) * w->cap);
}

/* One entry after its flags and ID; appended when live. */
static bool walk_entry(struct node_walk *w, struct stream *s, struct stream_id id, long long flags, uint64_t *live,
                       uint64_t *deleted)
{
    long long nfields = (long long)w->field_count;
    bool same = flags & RDB_STREAM_ITEM_SAMEFIELDS;
    if (!same && !walk_int(w, &nfields)) return false;
    if (nfields < 0 || (size_t)nfields > (size_t)(w->it.end - w->it.p))
        return codec_fail(w->in, "a stream entry's field count is impossible");
    size_t n = (size_t)nfields * 2;
    walk_reserve(w, n);
    for (size_t i = 0; i < n; i++) {
        struct rdb_elem *e = &w->values[i];
        if (same && i % 2 == 0) {
            *e = w->fields[i / 2];
        } else if (!walk_elem(w, e)) {
            return false;
        }
        rdb_elem_bytes(e);
        if (e->is_int) e->p = e->buf; /* the copy's own buffer */
        w->args[i] = (struct arg){(char *)e->p, e->len};
    }
    long long lp_count;
    if (!walk_int(w, &lp_count)) return false;
    if (flags & RDB_STREAM_ITEM_DELETED) {
        (*deleted)++;
        return true;
    }
    struct stream_id added;
    switch (stream_append(s, w->args, (size_t)nfields, &id, true, &added)) {
    case STREAM_ADD_OK: break;
    case STREAM_ADD_ID_TOO_SMALL: return codec_fail(w->in, "stream entries are out of order");
    case STREAM_ADD_TOO_LARGE: return codec_fail(w->in, "a stream entry is too large");
    }
    (*live)++;
    return true;
}

static bool walk_node(struct node_walk *w, struct stream *s, struct stream_id master)
{
    long long count, deleted_count, nfields, zero;
    if (!walk_int(w, &count) || !walk_int(w, &deleted_count) || !walk_int(w, &nfields)) return false;
    if (nfields < 0 || (size_t)nfields > (size_t)(w->it.end - w->it.p))
        return codec_fail(w->in, "a stream node's field count is impossible");
    w->field_count = (size_t)nfields;
    w->fields = mem_alloc(sizeof(*w->fields) * (w->field_count ? w->field_count : 1));
    for (size_t i = 0; i < w->field_count; i++)
        if (!walk_elem(w, &w->fields[i])) return false;
    if (!walk_int(w, &zero)) return false;
    if (zero != 0) return codec_fail(w->in, "a stream node's master entry is not terminated");
    uint64_t live = 0, deleted = 0;
    while (w->it.p != w->it.end) {
        long long flags, ms_diff, seq_diff;
        if (!walk_int(w, &flags) || !walk_int(w, &ms_diff) || !walk_int(w, &seq_diff)) return false;
        struct stream_id id = {master.ms + (uint64_t)ms_diff, master.seq + (uint64_t)seq_diff};
        if (!walk_entry(w, s, id, flags, &live, &deleted)) return false;
    }
    if (live + deleted == 0) return codec_fail(w->in, "a stream node holds no entries");
    if ((long long)live != count || (long long)deleted != deleted_count)
        return codec_fail(w->in, "a stream node's counts do not match its entries");
    return true;
}

static bool get_master_id(struct codec_in *in, struct stream_id *id)
{
    struct rdb_string key;
    if (!rdb_get_string(in, &key)) return false;
    bool ok = key.len == 16 || codec_fail(in, "a stream node's key is not an ID");
    if (ok) {
        const unsigned char *p = (const unsigned char *)key.p;
        id->ms = id->seq = 0;
        for (int i = 0; i < 8; i++) id->ms = id->ms << 8 | p[i];
        for (int i = 8; i < 16; i++) id->seq = id->seq << 8 | p[i];
    }
    rdb_string_release(&key);
    return ok;
}

static bool read_nodes(struct codec_in *in, struct stream *s)
{
    uint64_t nodes;
    if (!rdb_get_count(in, 2, &nodes)) return false;
    for (uint64_t i = 0; i < nodes; i++) {
        struct stream_id master;
        struct rdb_string lp;
        if (!get_master_id(in, &master) || !rdb_get_string(in, &lp)) return false;
        struct node_walk w = {.in = in};
        bool ok = rdb_packed_init(&w.it, RDB_PACKED_LISTPACK, lp.p, lp.len) || codec_fail(in, "%s", w.it.bad);
        ok = ok && walk_node(&w, s, master);
        mem_free(w.fields);
        mem_free(w.values);
        mem_free(w.args);
        rdb_string_release(&lp);
        if (!ok) return false;
    }
    return true;
}

static bool get_id_lens(struct codec_in *in, struct stream_id *id)
{
    return rdb_get_len(in, &id->ms) && rdb_get_len(in, &id->seq);
}

/* A group's read counter as Redis estimates it for a v1 stream (which did
 * not record it): known only where the group's ID pins it down. */
static long long estimate_entries_read(const struct stream *s, const struct stream_id *id)
{
    if (!s->entries_added) return 0;
    int cmp_last = stream_id_cmp(id, &s->last_id);
    if (!s->length && cmp_last <= 0) return (long long)s->entries_added;
    if (cmp_last == 0) return (long long)s->entries_added;
    if (cmp_last > 0) return -1;
    int cmp_first = stream_id_cmp(id, &s->first_id);
    bool no_tombstone_ahead = (s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0) ||
                              stream_id_cmp(&s->max_deleted_id, &s->first_id) < 0;
    if (no_tombstone_ahead && cmp_first < 0) return (long long)(s->entries_added - s->length);
    if (no_tombstone_ahead && cmp_first == 0) return (long long)(s->entries_added - s->length + 1);
    return -1;
}

static bool get_raw_id(struct codec_in *in, struct stream_id *id)
{
    const void *p;
    if (!codec_get_raw(in, 16, &p)) return false;
    const unsigned char *b = p;
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) id->ms = id->ms << 8 | b[i];
    for (int i = 8; i < 16; i++) id->seq = id->seq << 8 | b[i];
    return true;
}

/* A group's pending entry before its owner is known. */
struct pending {
    struct stream_id id;
    long long time;
    uint64_t count;
    struct stream_consumer *owner;
};

static struct pending *pending_find(struct pending *p, size_t n, const struct stream_id *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = stream_id_cmp(&p[mid].id, id);
        if (c == 0) return &p[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static bool read_consumers(struct codec_in *in, struct stream_cgroup *g, struct pending *pel, size_t npel, bool v3)
{
    uint64_t n;
    if (!rdb_get_count(in, 10, &n)) return false;
    for (uint64_t i = 0; i < n; i++) {
        struct rdb_string name;
        uint64_t seen, active, owned;
        if (!rdb_get_string(in, &name)) return false;
        bool ok = rdb_get_le(in, 8, &seen) && (!v3 || rdb_get_le(in, 8, &active));
        if (!v3) active = seen;
        struct stream_consumer *c = NULL;
        if (ok) {
            c = name.len <= UINT32_MAX ? stream_consumer_add(g, name.p, name.len, (long long)seen, (long long)active)
                                       : NULL;
            ok = c || codec_fail(in, "a consumer name repeats in its group");
        }
        rdb_string_release(&name);
        if (!ok || !rdb_get_count(in, 16, &owned)) return false;
        for (uint64_t k = 0; k < owned; k++) {
            struct stream_id id;
            if (!get_raw_id(in, &id)) return false;
            struct pending *p = pending_find(pel, npel, &id);
            if (!p) return codec_fail(in, "a consumer's pending entry is not in its group's");
            if (p->owner) return codec_fail(in, "a pending entry has two owners");
            p->owner = c;
        }
    }
    return true;
}

static bool read_group_pel(struct codec_in *in, struct pending **out, size_t *count)
{
    uint64_t n;
    if (!rdb_get_count(in, 26, &n)) return false;
    struct pending *pel = mem_alloc(sizeof(*pel) * (n ? n : 1));
    *out = pel;
    *count = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t time;
        if (!get_raw_id(in, &pel[i].id) || !rdb_get_le(in, 8, &time) || !rdb_get_len(in, &pel[i].count)) return false;
        if (i > 0 && stream_id_cmp(&pel[i - 1].id, &pel[i].id) >= 0)
            return codec_fail(in, "a group's pending entries are out of order");
        pel[i].time = (long long)time;
        pel[i].owner = NULL;
        *count = i + 1;
    }
    return true;
}

static bool read_group(struct codec_in *in, struct stream *s, unsigned type)
{
    struct rdb_string name;
    struct stream_id last;
    uint64_t read_counter = 0;
    if (!rdb_get_string(in, &name)) return false;
    bool ok = get_id_lens(in, &last) && (type == RDB_TYPE_STREAM_LISTPACKS || rdb_get_len(in, &read_counter));
    long long entries_read = type == RDB_TYPE_STREAM_LISTPACKS ? estimate_entries_read(s, &last)
                             : read_counter > LLONG_MAX      ? -1
                                                             : (long long)read_counter;
    struct stream_cgroup *g = NULL;
    if (ok) {
        g = name.len <= UINT32_MAX ? stream_group_add(s, name.p, name.len, last, entries_read) : NULL;
        ok = g || codec_fail(in, "a group name repeats");
    }
    rdb_string_release(&name);
    struct pending *pel = NULL;
    size_t npel = 0;
    ok = ok && read_group_pel(in, &pel, &npel) &&
         read_consumers(in, g, pel, npel, type == RDB_TYPE_STREAM_LISTPACKS_3);
    for (size_t i = 0; ok && i < npel; i++) {
        if (!pel[i].owner) ok = codec_fail(in, "a pending entry has no owner");
        else stream_pel_add(g, pel[i].owner, pel[i].id, pel[i].time, pel[i].count);
    }
    mem_free(pel);
    return ok;
}

static bool read_stream(struct codec_in *in, struct stream *s, unsigned type)
{
    uint64_t length, groups;
    struct stream_id last, first = {0, 0}, max_deleted = {0, 0};
    uint64_t entries_added;
    if (!read_nodes(in, s) || !rdb_get_len(in, &length) || !get_id_lens(in, &last)) return false;
    bool v2 = type != RDB_TYPE_STREAM_LISTPACKS;
    if (v2 && (!get_id_lens(in, &first) || !get_id_lens(in, &max_deleted) || !rdb_get_len(in, &entries_added)))
        return false;
    if (length != s->length) return codec_fail(in, "a stream's length does not match its entries");
    if (s->length && stream_id_cmp(&s->last_id, &last) > 0)
        return codec_fail(in, "a stream entry lies past the stream's last ID");
    s->last_id = last;
    s->max_deleted_id = max_deleted;
    s->entries_added = v2 ? entries_added : length;
    if (!stream_first_live(s, &s->first_id)) s->first_id = (struct stream_id){0, 0};
    (void)first;
    if (!rdb_get_count(in, 4, &groups)) return false;
    for (uint64_t i = 0; i < groups; i++)
        if (!read_group(in, s, type)) return false;
    return true;
}

struct object *rdb_stream_read(struct codec_in *in, unsigned type, bool *empty)
{
    *empty = false;
    struct stream *s = stream_new();
    if (!read_stream(in, s, type)) {
        stream_free(s);
        return NULL;
    }
    return object_new(OBJ_STREAM, ENC_STREAM, s);
}
