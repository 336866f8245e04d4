/* stream_idmp: idempotent production (see stream_idmp.h).
 *
 * Per stream: a dict of producers by producer ID, kept also in a list in
 * creation order (for saving and rewriting), and the last producer used
 * (most streams have few, so most XADDs skip the dict). Per producer: the
 * recorded pairs in a ring, oldest first, and a chained hash table of the
 * same records by the hash of their idempotent ID (at most one record per
 * bucket on average: unlinking the evicted record is a step or two). A
 * record is one allocation: its chain link, the entry ID XADD returned,
 * the time it was recorded, the ID's hash and its bytes; an XADD ... IDMP
 * that records a pair and evicts the oldest hashes once and, once the
 * producer is full, allocates nothing (the oldest record's memory takes the
 * new pair when it fits). A producer's times never go down (a record
 * takes the later of the clock and the previous record's time), so the
 * expired records are always the oldest ones.
 *
 * What the table answers depends only on the records and the clock: a
 * pair is known while its record is among the producer's last `maxsize`
 * and younger than `duration` seconds. Records past either bound are
 * dropped from the head whenever the producer is written to, but a record
 * still held past its time answers "unknown" anyway, so two servers with
 * the same records give the same answers whenever they drop them — which
 * is what lets a replica or an AOF replay (XIDMPRECORD ... TIME t) agree
 * with the primary. */
#include "types/stream_idmp.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/dict.h"
#include "db/keyed_hash.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/stream_oplog.h"
#include "types/stream_retention.h"
#include "util/mem.h"
#include "util/sha1.h"

int stream_idmp_default_duration = 100;
int stream_idmp_default_maxsize = 100;

struct idmp_record {
    struct idmp_record *next; /* in its table bucket */
    struct stream_id id;
    long long time; /* ms when recorded */
    uint64_t hash;  /* of the idempotent ID */
    uint32_t len;
    uint32_t room;  /* bytes iid[] can hold: an evicted record is reused as it is when the new ID fits */
    char iid[];
};

struct idmp_producer {
    str pid;
    struct idmp_record **buckets; /* the table: chains by hash; nbuckets a power of two */
    uint32_t nbuckets;
    struct idmp_record **ring;  /* records, oldest at head; cap a power of two */
    uint32_t cap, head, count;
};

struct stream_idmp {
    uint32_t duration; /* seconds */
    uint32_t maxsize;  /* records per producer */
    uint64_t added;
    uint64_t duplicates;
    struct dict *producers; /* pid -> struct idmp_producer * */
    struct idmp_producer **list;
    size_t nprod, capprod;
    struct idmp_producer *last; /* the producer found last, or NULL */
};

static const struct dict_type idmp_dict_type = {0};

/* Copying and comparing the few bytes of an ID or a producer's name inline,
 * with at most two loads or stores for up to 16 bytes (overlapping when
 * the length is not 8 or 16), instead of calling memcpy and memcmp. */
static inline void small_copy(char *dst, const char *src, size_t len)
{
    if (len < 8 || len > 16) {
        memcpy(dst, src, len);
        return;
    }
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + len - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + len - 8, &b, 8);
}

static inline bool small_equal(const char *x, const char *y, size_t len)
{
    if (len < 4 || len > 16) return memcmp(x, y, len) == 0;
    if (len < 8) {
        uint32_t a, b, c, d;
        memcpy(&a, x, 4), memcpy(&b, y, 4), memcpy(&c, x + len - 4, 4), memcpy(&d, y + len - 4, 4);
        return a == b && c == d;
    }
    uint64_t a, b, c, d;
    memcpy(&a, x, 8), memcpy(&b, y, 8), memcpy(&c, x + len - 8, 8), memcpy(&d, y + len - 8, 8);
    return a == b && c == d;
}

/* ---- records and producers ---- */

static struct idmp_record *ring_at(const struct idmp_producer *p, uint32_t i)
{
    return p->ring[(p->head + i) & (p->cap - 1)];
}

static void ring_push(struct idmp_producer *p, struct idmp_record *r)
{
    if (p->count == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 4;
        struct idmp_record **ring = mem_alloc(sizeof(*ring) * cap);
        for (uint32_t i = 0; i < p->count; i++) ring[i] = ring_at(p, i);
        mem_free(p->ring);
        p->ring = ring;
        p->cap = cap;
        p->head = 0;
    }
    p->ring[(p->head + p->count) & (p->cap - 1)] = r;
    p->count++;
}

/* ---- a producer's table ---- */

static inline struct idmp_record *table_find(const struct idmp_producer *p, uint64_t hash, const char *iid,
                                            size_t len)
{
    if (p->nbuckets == 0) return NULL;
    for (struct idmp_record *r = p->buckets[hash & (p->nbuckets - 1)]; r; r = r->next)
        if (r->hash == hash && r->len == len && small_equal(r->iid, iid, len)) return r;
    return NULL;
}

static void table_put(struct idmp_producer *p, struct idmp_record *r)
{
    struct idmp_record **b = &p->buckets[r->hash & (p->nbuckets - 1)];
    r->next = *b;
    *b = r;
}

/* Keeps at least a bucket per record: rebuilt twice as large from the ring. */
static void table_reserve(struct idmp_producer *p, uint32_t records)
{
    if (p->nbuckets >= records && p->nbuckets > 0) return;
    uint32_t n = p->nbuckets ? p->nbuckets : 8;
    while (n < records) n *= 2;
    mem_free(p->buckets);
    p->buckets = mem_calloc(sizeof(*p->buckets) * n);
    p->nbuckets = n;
    for (uint32_t i = 0; i < p->count; i++) table_put(p, p->ring[(p->head + i) & (p->cap - 1)]);
}

/* Unlinks r from its bucket's chain. */
static void table_remove(struct idmp_producer *p, const struct idmp_record *r)
{
    struct idmp_record **at = &p->buckets[r->hash & (p->nbuckets - 1)];
    while (*at != r) at = &(*at)->next;
    *at = r->next;
}

/* Takes the oldest record out of the producer; the caller frees it. */
static struct idmp_record *producer_take_oldest(struct idmp_producer *p)
{
    struct idmp_record *r = ring_at(p, 0);
    table_remove(p, r);
    p->head = (p->head + 1) & (p->cap - 1);
    p->count--;
    return r;
}

/* Drops one record wherever it is in the ring (rare: a pair recorded
 * again while its old record is still held). */
static void producer_remove(struct idmp_producer *p, struct idmp_record *r)
{
    uint32_t at = 0;
    while (ring_at(p, at) != r) at++;
    for (uint32_t i = at; i + 1 < p->count; i++) p->ring[(p->head + i) & (p->cap - 1)] = ring_at(p, i + 1);
    p->count--;
    table_remove(p, r);
    mem_free(r);
}

static bool record_live(const struct stream_idmp *t, const struct idmp_record *r, long long now)
{
    return now < r->time + (long long)t->duration * 1000;
}

/* Records still answering at `now`: the newest ones. */
static uint32_t producer_live(const struct stream_idmp *t, const struct idmp_producer *p, long long now)
{
    uint32_t first = p->count > t->maxsize ? p->count - t->maxsize : 0;
    while (first < p->count && !record_live(t, ring_at(p, first), now)) first++;
    return p->count - first;
}

static struct idmp_producer *producer_new(const char *pid, size_t len)
{
    struct idmp_producer *p = mem_calloc(sizeof(*p));
    p->pid = str_new(pid, len);
    return p;
}

static void producer_free(struct idmp_producer *p)
{
    for (uint32_t i = 0; i < p->count; i++) mem_free(ring_at(p, i));
    mem_free(p->buckets);
    mem_free(p->ring);
    str_free(p->pid);
    mem_free(p);
}

static inline struct idmp_producer *producer_find(struct stream_idmp *t, const char *pid, size_t len)
{
    struct idmp_producer *p = t->last;
    if (p && str_len(p->pid) == len && (len == 1 ? p->pid[0] == pid[0] : small_equal(p->pid, pid, len))) return p;
    struct dict_entry *e = dict_find(t->producers, pid, len);
    if (e) t->last = e->v.ptr;
    return e ? e->v.ptr : NULL;
}

static struct idmp_producer *producer_add(struct stream_idmp *t, const char *pid, size_t len)
{
    struct idmp_producer *p = producer_new(pid, len);
    dict_add(t->producers, p->pid, p);
    if (t->nprod == t->capprod) {
        t->capprod = t->capprod ? t->capprod * 2 : 4;
        t->list = mem_realloc(t->list, sizeof(*t->list) * t->capprod);
    }
    t->list[t->nprod++] = p;
    return p;
}

/* Adds a record, in `spare`'s memory when given (an evicted record): as
 * it is when the ID fits (the steady state of a producer whose IDs have
 * one length), reallocated otherwise. */
static void record_add(struct idmp_producer *p, uint64_t hash, const char *iid, size_t len, struct stream_id id,
                       long long time, struct idmp_record *spare)
{
    struct idmp_record *r = spare;
    uint32_t room = spare ? spare->room : 0;
    if (!r || room < len) {
        r = mem_realloc(spare, sizeof(*r) + len);
        room = (uint32_t)len;
    }
    *r = (struct idmp_record){.id = id, .time = time, .hash = hash, .len = (uint32_t)len, .room = room};
    memcpy(r->iid, iid, len);
    if (p->count > 0 && ring_at(p, p->count - 1)->time > time) r->time = ring_at(p, p->count - 1)->time;
    table_reserve(p, p->count + 1);
    table_put(p, r);
    ring_push(p, r);
}

/* ---- the state ---- */

static struct stream_idmp *idmp_new(uint32_t duration, uint32_t maxsize)
{
    struct stream_idmp *t = mem_calloc(sizeof(*t));
    t->duration = duration;
    t->maxsize = maxsize;
    t->producers = dict_create(&idmp_dict_type);
    return t;
}

/* The stream's state, created with the directives' values if missing;
 * *created says which. */
static struct stream_idmp *idmp_ensure(struct stream *s, bool *created)
{
    *created = s->idmp == NULL;
    if (!s->idmp)
        s->idmp = idmp_new((uint32_t)stream_idmp_default_duration, (uint32_t)stream_idmp_default_maxsize);
    return s->idmp;
}

static void idmp_clear(struct stream_idmp *t)
{
    for (size_t i = 0; i < t->nprod; i++) producer_free(t->list[i]);
    t->nprod = 0;
    t->last = NULL;
    dict_clear(t->producers);
}

void stream_idmp_free(struct stream_idmp *t)
{
    if (!t) return;
    idmp_clear(t);
    dict_release(t->producers);
    mem_free(t->list);
    mem_free(t);
}

struct stream_idmp *stream_idmp_copy(const struct stream_idmp *t)
{
    if (!t) return NULL;
    struct stream_idmp *c = idmp_new(t->duration, t->maxsize);
    c->added = t->added;
    c->duplicates = t->duplicates;
    for (size_t i = 0; i < t->nprod; i++) {
        const struct idmp_producer *p = t->list[i];
        struct idmp_producer *q = producer_add(c, p->pid, str_len(p->pid));
        for (uint32_t j = 0; j < p->count; j++) {
            const struct idmp_record *r = ring_at(p, j);
            record_add(q, r->hash, r->iid, r->len, r->id, r->time, NULL);
        }
    }
    return c;
}

size_t stream_idmp_memory(const struct stream_idmp *t)
{
    if (!t) return 0;
    size_t n = sizeof(*t) + sizeof(*t->list) * t->capprod + dict_buckets(t->producers) * sizeof(void *);
    for (size_t i = 0; i < t->nprod; i++) {
        const struct idmp_producer *p = t->list[i];
        n += sizeof(*p) + str_len(p->pid) + sizeof(*p->ring) * p->cap + sizeof(*p->buckets) * p->nbuckets;
        for (uint32_t j = 0; j < p->count; j++) n += sizeof(struct idmp_record) + ring_at(p, j)->room;
    }
    return n;
}

static uint64_t iid_hash(const char *iid, size_t len)
{
    return keyed_hash(iid, len);
}

/* The pair's record if its producer holds one (live or not). */
static struct idmp_record *pair_find(struct stream_idmp *t, const struct stream_idmp_pair *pair)
{
    struct idmp_producer *p = t ? producer_find(t, pair->pid.ptr, pair->pid.len) : NULL;
    return p ? table_find(p, pair->hash, pair->iid.ptr, pair->iid.len) : NULL;
}

bool stream_idmp_lookup(struct stream *s, struct stream_idmp_pair *pair, long long now, struct stream_id *id)
{
    struct stream_idmp *t = s->idmp;
    if (!t) return false;
    pair->looked_in = t;
    pair->producer = producer_find(t, pair->pid.ptr, pair->pid.len);
    pair->record = pair->producer ? table_find(pair->producer, pair->hash, pair->iid.ptr, pair->iid.len) : NULL;
    const struct idmp_record *r = pair->record;
    /* A producer never holds more than maxsize records (XCFGSET empties
     * it when maxsize changes), so only the time can make one unknown. */
    if (!r || !record_live(s->idmp, r, now)) return false;
    *id = r->id;
    s->idmp->duplicates++;
    return true;
}

/* The steady state of a producer: the lookup found it and not the pair,
 * it holds maxsize records, the one after its oldest is still live (so
 * only the oldest goes), the new ID fits in the oldest's memory, and the
 * clock has not gone back. The oldest record leaves the table and the
 * ring's head and comes back, rewritten, at the ring's tail. */
static bool record_turn(struct stream_idmp *t, const struct stream_idmp_pair *pair, struct stream_id id,
                        long long time)
{
    struct idmp_producer *p = pair->producer;
    if (pair->looked_in != t || !p || pair->record || p->count != t->maxsize || p->count < 2) return false;
    struct idmp_record *r = ring_at(p, 0);
    if (r->room < pair->iid.len || !record_live(t, ring_at(p, 1), time) || ring_at(p, p->count - 1)->time > time)
        return false;
    table_remove(p, r);
    p->head = (p->head + 1) & (p->cap - 1);
    *r = (struct idmp_record){.id = id, .time = time, .hash = pair->hash, .len = (uint32_t)pair->iid.len,
                              .room = r->room};
    small_copy(r->iid, pair->iid.ptr, pair->iid.len);
    table_put(p, r);
    p->ring[(p->head + p->count - 1) & (p->cap - 1)] = r;
    t->added++;
    return true;
}

bool stream_idmp_record(struct stream *s, const struct stream_idmp_pair *pair, struct stream_id id, long long time)
{
    if (s->idmp && record_turn(s->idmp, pair, id, time)) return false;
    bool created;
    struct stream_idmp *t = idmp_ensure(s, &created);
    bool known = pair->looked_in == t;
    struct idmp_producer *p = known ? pair->producer : producer_find(t, pair->pid.ptr, pair->pid.len);
    if (!p) p = producer_add(t, pair->pid.ptr, pair->pid.len);
    struct idmp_record *old = known ? pair->record : table_find(p, pair->hash, pair->iid.ptr, pair->iid.len);
    if (old) producer_remove(p, old);
    /* Room for one more, by time and by count: the oldest record evicted
     * (one, in the steady state) lends its memory to the new one. */
    struct idmp_record *spare = NULL;
    while (p->count > 0 && (p->count >= t->maxsize || !record_live(t, ring_at(p, 0), time))) {
        if (spare) mem_free(spare);
        spare = producer_take_oldest(p);
    }
    /* the oldest record left is live and the new one too: nothing to prune */
    record_add(p, pair->hash, pair->iid.ptr, pair->iid.len, id, time, spare);
    t->added++;
    return created;
}

/* One pair's SHA-1, its field length first so that ("ab","c") and
 * ("a","bc") differ. */
static void pair_digest(const struct arg *f, const struct arg *v, unsigned char out[SHA1_DIGEST_SIZE])
{
    struct sha1_ctx c;
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)f->len >> (8 * i));
    sha1_init(&c);
    sha1_update(&c, len, sizeof(len));
    sha1_update(&c, f->ptr, f->len);
    sha1_update(&c, v->ptr, v->len);
    sha1_final(&c, out);
}

static int digest_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SHA1_DIGEST_SIZE);
}

/* The pairs' digests sorted, then hashed together: the order of the pairs
 * does not matter, and unlike XOR-ing them, a repeated pair does not
 * cancel out. */
void stream_idmp_auto_iid(const struct arg *pairs, size_t npairs, unsigned char out[STREAM_IDMP_AUTO_LEN])
{
    unsigned char small[8][SHA1_DIGEST_SIZE];
    unsigned char(*d)[SHA1_DIGEST_SIZE] = npairs <= 8 ? small : mem_alloc(SHA1_DIGEST_SIZE * npairs);
    for (size_t i = 0; i < npairs; i++) pair_digest(&pairs[2 * i], &pairs[2 * i + 1], d[i]);
    qsort(d, npairs, SHA1_DIGEST_SIZE, digest_cmp);
    unsigned char all[SHA1_DIGEST_SIZE];
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, d, SHA1_DIGEST_SIZE * npairs);
    sha1_final(&c, all);
    memcpy(out, all, STREAM_IDMP_AUTO_LEN);
    if (d != small) mem_free(d);
}

void stream_idmp_config(const struct stream *s, long long *duration, long long *maxsize)
{
    *duration = s->idmp ? (long long)s->idmp->duration : stream_idmp_default_duration;
    *maxsize = s->idmp ? (long long)s->idmp->maxsize : stream_idmp_default_maxsize;
}

uint64_t stream_idmp_added(const struct stream *s)
{
    return s->idmp ? s->idmp->added : 0;
}

uint64_t stream_idmp_duplicates(const struct stream *s)
{
    return s->idmp ? s->idmp->duplicates : 0;
}

void stream_idmp_set_counters(struct stream *s, long long added, long long duplicates)
{
    bool created;
    struct stream_idmp *t = idmp_ensure(s, &created);
    if (added >= 0) t->added = (uint64_t)added;
    if (duplicates >= 0) t->duplicates = (uint64_t)duplicates;
}

void stream_idmp_reply_info(struct outbuf *out, struct stream *s)
{
    const struct stream_idmp *t = s->idmp;
    long long duration, maxsize, pids = 0, iids = 0;
    stream_idmp_config(s, &duration, &maxsize);
    for (size_t i = 0; t && i < t->nprod; i++) {
        uint32_t live = producer_live(t, t->list[i], db_now_ms);
        pids += live > 0;
        iids += live;
    }
    reply_bulk_cstr(out, "idmp-duration");
    reply_int(out, duration);
    reply_bulk_cstr(out, "idmp-maxsize");
    reply_int(out, maxsize);
    reply_bulk_cstr(out, "pids-tracked");
    reply_int(out, pids);
    reply_bulk_cstr(out, "iids-tracked");
    reply_int(out, iids);
    reply_bulk_cstr(out, "iids-added");
    reply_int(out, t ? (long long)t->added : 0);
    reply_bulk_cstr(out, "iids-duplicates");
    reply_int(out, t ? (long long)t->duplicates : 0);
}

/* ---- snapshots, digests, rewrites ----
 *
 * Snapshot section: u8 0 (no state) or 1, then varint duration, maxsize,
 * added, duplicates, varint producers, and per producer (creation order):
 * bytes pid, varint records, per record (oldest first): bytes iid, id,
 * svarint time. Records past their time are left out. */

/* Visits every producer with live records and those records, oldest
 * first; producers in creation order, or by name. */
struct idmp_visit {
    void (*producer)(void *ctx, const struct idmp_producer *p, uint32_t live);
    void (*record)(void *ctx, const struct idmp_record *r);
    void *ctx;
};

static int producer_cmp(const void *a, const void *b)
{
    const struct idmp_producer *p = *(struct idmp_producer *const *)a, *q = *(struct idmp_producer *const *)b;
    size_t pl = str_len(p->pid), ql = str_len(q->pid);
    int c = memcmp(p->pid, q->pid, pl < ql ? pl : ql);
    return c ? c : (pl > ql) - (pl < ql);
}

static void idmp_walk(const struct stream_idmp *t, bool by_name, const struct idmp_visit *v)
{
    struct idmp_producer **order = t->list;
    if (by_name && t->nprod > 0) {
        order = mem_alloc(sizeof(*order) * t->nprod);
        memcpy(order, t->list, sizeof(*order) * t->nprod);
        qsort(order, t->nprod, sizeof(*order), producer_cmp);
    }
    for (size_t i = 0; i < t->nprod; i++) {
        const struct idmp_producer *p = order[i];
        uint32_t live = producer_live(t, p, db_now_ms);
        if (live == 0) continue;
        v->producer(v->ctx, p, live);
        for (uint32_t j = p->count - live; j < p->count; j++) v->record(v->ctx, ring_at(p, j));
    }
    if (order != t->list) mem_free(order);
}

static void save_producer(void *ctx, const struct idmp_producer *p, uint32_t live)
{
    codec_put_bytes(ctx, p->pid, str_len(p->pid));
    codec_put_varint(ctx, live);
}

static void save_record(void *ctx, const struct idmp_record *r)
{
    codec_put_bytes(ctx, r->iid, r->len);
    codec_put_varint(ctx, r->id.ms);
    codec_put_varint(ctx, r->id.seq);
    codec_put_svarint(ctx, r->time);
}

void stream_idmp_save(const struct stream *s, struct codec_out *out)
{
    const struct stream_idmp *t = s->idmp;
    codec_put_u8(out, t != NULL);
    if (!t) return;
    codec_put_varint(out, t->duration);
    codec_put_varint(out, t->maxsize);
    codec_put_varint(out, t->added);
    codec_put_varint(out, t->duplicates);
    size_t producers = 0;
    for (size_t i = 0; i < t->nprod; i++) producers += producer_live(t, t->list[i], db_now_ms) > 0;
    codec_put_varint(out, producers);
    idmp_walk(t, false, &(struct idmp_visit){save_producer, save_record, out});
}

static bool load_producer(struct codec_in *in, struct stream_idmp *t)
{
    const char *pid, *iid;
    size_t plen, ilen;
    uint64_t n;
    if (!codec_get_bytes(in, &pid, &plen) || !codec_get_count(in, 4, &n)) return false;
    if (plen == 0 || producer_find(t, pid, plen)) return codec_fail(in, "corrupt stream: a bad or repeated producer");
    if (n == 0 || n > t->maxsize) return codec_fail(in, "corrupt stream: a producer holds %llu records",
                                                    (unsigned long long)n);
    struct idmp_producer *p = producer_add(t, pid, plen);
    for (uint64_t i = 0; i < n; i++) {
        struct stream_id id;
        int64_t time;
        if (!codec_get_bytes(in, &iid, &ilen) || !codec_get_varint(in, &id.ms) || !codec_get_varint(in, &id.seq) ||
            !codec_get_svarint(in, &time))
            return false;
        uint64_t hash = iid_hash(iid, ilen);
        if (ilen == 0 || ilen > UINT32_MAX || table_find(p, hash, iid, ilen) ||
            (p->count > 0 && ring_at(p, p->count - 1)->time > time))
            return codec_fail(in, "corrupt stream: a bad, repeated or out-of-order idempotent ID");
        record_add(p, hash, iid, ilen, id, time, NULL);
    }
    return true;
}

bool stream_idmp_load(struct codec_in *in, struct stream *s)
{
    unsigned has;
    uint64_t duration, maxsize, n;
    if (!codec_get_u8(in, &has)) return false;
    if (has == 0) return true;
    if (has != 1) return codec_fail(in, "corrupt stream: IDMP marker %u", has);
    if (!codec_get_varint(in, &duration) || !codec_get_varint(in, &maxsize)) return false;
    if (duration < 1 || duration > STREAM_IDMP_DURATION_MAX || maxsize < 1 || maxsize > STREAM_IDMP_MAXSIZE_MAX)
        return codec_fail(in, "corrupt stream: IDMP configuration out of range");
    struct stream_idmp *t = s->idmp = idmp_new((uint32_t)duration, (uint32_t)maxsize);
    if (!codec_get_varint(in, &t->added) || !codec_get_varint(in, &t->duplicates) || !codec_get_count(in, 2, &n))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (!load_producer(in, t)) return false;
    return true;
}

static void digest_producer(void *ctx, const struct idmp_producer *p, uint32_t live)
{
    digest_seq_bytes(ctx, p->pid, str_len(p->pid));
    digest_seq_u64(ctx, live);
}

static void digest_record(void *ctx, const struct idmp_record *r)
{
    digest_seq_bytes(ctx, r->iid, r->len);
    digest_seq_u64(ctx, r->id.ms);
    digest_seq_u64(ctx, r->id.seq);
    digest_seq_i64(ctx, r->time);
}

/* Producers in name order and only live records: a server that dropped
 * expired records later (a replica, a replay) digests the same. */
void stream_idmp_digest(const struct stream *s, struct digest_seq *seq)
{
    const struct stream_idmp *t = s->idmp;
    digest_seq_u64(seq, t != NULL);
    if (!t) return;
    digest_seq_u64(seq, t->duration);
    digest_seq_u64(seq, t->maxsize);
    digest_seq_u64(seq, t->added);
    digest_seq_u64(seq, t->duplicates);
    idmp_walk(t, true, &(struct idmp_visit){digest_producer, digest_record, seq});
}

static void emit_config(const struct stream_idmp *t, const struct arg *key, object_emit_fn *emit, void *ctx)
{
    char d[24], m[24];
    struct arg argv[6] = {arg_cstr("XCFGSET"), *key, arg_cstr("IDMP-DURATION"), arg_ull(d, t->duration),
                          arg_cstr("IDMP-MAXSIZE"), arg_ull(m, t->maxsize)};
    emit(ctx, 6, argv);
}

static void emit_record(const struct arg *key, const struct arg *pid, const struct arg *iid, struct stream_id id,
                        long long time, object_emit_fn *emit, void *ctx)
{
    char idbuf[ID_BUF], tbuf[24];
    struct arg argv[7] = {arg_cstr("XIDMPRECORD"), *key, *pid, *iid, arg_id(idbuf, &id), arg_cstr("TIME"),
                          arg_ll(tbuf, time)};
    emit(ctx, 7, argv);
}

struct rewrite_ctx {
    const struct arg *key;
    struct arg pid;
    object_emit_fn *emit;
    void *ctx;
};

static void rewrite_producer(void *ctx, const struct idmp_producer *p, uint32_t live)
{
    (void)live;
    ((struct rewrite_ctx *)ctx)->pid = arg_str(p->pid);
}

static void rewrite_record(void *ctx, const struct idmp_record *r)
{
    struct rewrite_ctx *rw = ctx;
    struct arg iid = {(char *)r->iid, r->len};
    emit_record(rw->key, &rw->pid, &iid, r->id, r->time, rw->emit, rw->ctx);
}

void stream_idmp_rewrite(const struct stream *s, const struct arg *key, object_emit_fn *emit, void *ctx)
{
    const struct stream_idmp *t = s->idmp;
    if (!t) return;
    emit_config(t, key, emit, ctx);
    struct rewrite_ctx rw = {.key = key, .emit = emit, .ctx = ctx};
    idmp_walk(t, false, &(struct idmp_visit){rewrite_producer, rewrite_record, &rw});
}

/* ---- XADD's side of propagation ---- */

/* Logs what an XADD ... IDMP that added an entry recorded: the
 * configuration when this XADD created the state (a replica's directives
 * may differ), then the pair with its time. */
void stream_idmp_propagate(struct request *req, const struct stream *s, bool created, const struct arg *pid,
                           const struct arg *iid, struct stream_id id, long long time)
{
    if (created) emit_config(s->idmp, &req->argv[1], stream_oplog_sink, req);
    emit_record(&req->argv[1], pid, iid, id, time, stream_oplog_sink, req);
}

/* ---- XCFGSET ---- */

static bool parse_cfg_value(struct request *req, int i, long long max, const char *err, long long *out)
{
    if (!request_ll(req, i, out)) return false;
    if (*out < 1 || *out > max) {
        reply_error(req->out, err);
        return false;
    }
    return true;
}

/* XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n] [RETENTION-MAXAGE ms]
 * [RETENTION-MAXLEN n] [RETENTION-REFS policy]: a change of either IDMP value forgets every
 * recorded pair (setting the same values keeps them); the retention
 * settings are stream_retention.c's, and leave the IDMP state alone. */
static void cmd_xcfgset(struct request *req)
{
    long long duration = -1, maxsize = -1;
    struct stream_retention_args retention = {-1, -1, -1};
    if (req->argc == 2) {
        reply_error(req->out, "ERR At least one parameter must be specified");
        return;
    }
    for (int i = 2; i < req->argc; i += 2) {
        if (i + 1 >= req->argc) {
            reply_syntax_error(req->out);
            return;
        }
        int r = stream_retention_parse(req, i, &retention);
        if (r < 0) return;
        if (r > 0) continue;
        if (ARG_IS(req, i, "IDMP-DURATION")) {
            if (!parse_cfg_value(req, i + 1, STREAM_IDMP_DURATION_MAX,
                                 "ERR IDMP-DURATION must be between 1 and 86400 seconds", &duration))
                return;
        } else if (ARG_IS(req, i, "IDMP-MAXSIZE")) {
            if (!parse_cfg_value(req, i + 1, STREAM_IDMP_MAXSIZE_MAX,
                                 "ERR IDMP-MAXSIZE must be between 1 and 10000 entries", &maxsize))
                return;
        } else {
            reply_syntax_error(req->out);
            return;
        }
    }
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    if (!s) {
        reply_error(req->out, ERR_NO_KEY);
        return;
    }
    reply_ok(req->out);
    key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_STREAM, "xcfgset");
    oplog_multi_begin();
    if (duration != -1 || maxsize != -1) {
        bool created;
        struct stream_idmp *t = idmp_ensure(s, &created);
        if ((duration != -1 && (uint32_t)duration != t->duration) ||
            (maxsize != -1 && (uint32_t)maxsize != t->maxsize)) {
            idmp_clear(t);
            if (duration != -1) t->duration = (uint32_t)duration;
            if (maxsize != -1) t->maxsize = (uint32_t)maxsize;
        }
        /* Both values, always: a value not given is this server's (perhaps a
         * default a replica does not share). */
        emit_config(t, &req->argv[1], stream_oplog_sink, req);
    }
    if (retention.maxage != -1 || retention.maxlen != -1 || retention.refs != -1)
        stream_retention_set(req, s, &retention);
    oplog_multi_end();
}

/* ---- XIDMPRECORD ---- */

/* XIDMPRECORD key pid iid stream-id [TIME unix-ms]: records a pair as an
 * XADD ... IDMP that added stream-id would have. Without TIME (Redis's
 * form) the entry must exist and the pair is recorded now; with TIME (what
 * Runnel logs and rewrites) it is recorded at that time, and the entry may
 * have been deleted since. A pair already known with this ID is a no-op;
 * known with another ID, an error. */
static void cmd_xidmprecord(struct request *req)
{
    struct stream_id id;
    long long time = db_now_ms;
    if (!stream_parse_id_or_reply(req, 4, 0, true, &id)) return;
    if (req->argc == 7 && ARG_IS(req, 5, "TIME")) {
        if (!request_ll(req, 6, &time)) return;
    } else if (req->argc != 5) {
        reply_syntax_error(req->out);
        return;
    }
    struct arg *pid = &req->argv[2], *iid = &req->argv[3];
    if (pid->len == 0 || iid->len == 0) {
        reply_error(req->out, "ERR producer ID and idempotent ID must not be empty");
        return;
    }
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    if (!s) {
        reply_error(req->out, ERR_NO_KEY);
        return;
    }
    struct stream_entry e;
    if (req->argc == 5 && !stream_lookup(s, id, &e)) {
        reply_error(req->out, "ERR The stream ID does not refer to an existing entry");
        return;
    }
    struct stream_idmp_pair pair;
    stream_idmp_pair_init(&pair, pid, iid);
    const struct idmp_record *r = pair_find(s->idmp, &pair);
    if (r && record_live(s->idmp, r, db_now_ms)) {
        if (stream_id_cmp(&r->id, &id) != 0) reply_error(req->out, "ERR The pair already maps to another stream ID");
        else reply_ok(req->out);
        return;
    }
    stream_idmp_record(s, &pair, id, time);
    reply_ok(req->out);
    req->dirty++;
}

struct command stream_idmp_commands[] = {
    {"xcfgset", cmd_xcfgset, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @stream @fast", "stream",
     "Sets the IDMP configuration parameters for a stream.", "8.6.0", "O(1)"},
    {"xidmprecord", cmd_xidmprecord, -5, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "@write @stream @fast",
     "stream", "An internal command for setting IDMP metadata on an existing stream message.", "8.8.0", "O(1)"},
    {0},
};
