#include "messaging/pubsub.h"

#include <string.h>

#include "db/dict.h"
#include "messaging/pattern_index.h"
#include "protocol/reply.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/str.h"

struct pubsub_hooks pubsub_hooks;

/* A client's subscriptions: per kind, name -> its index in that name's
 * subscriber array, so unsubscribing is O(1). */
struct pubsub_client {
    void *client;
    struct outbuf *out;
    struct dict *subs[PUBSUB_KINDS];
};

struct subscribers {
    struct pubsub_client **items;
    size_t count;
    size_t capacity;
};

struct kind_spec {
    const char *subscribed;   /* reply to a subscribe */
    const char *unsubscribed; /* reply to an unsubscribe */
    const char *message;      /* name of a delivered message */
};

static const struct kind_spec kinds[PUBSUB_KINDS] = {
    [PUBSUB_CHANNEL] = {"subscribe", "unsubscribe", "message"},
    [PUBSUB_PATTERN] = {"psubscribe", "punsubscribe", "pmessage"},
    [PUBSUB_SHARD] = {"ssubscribe", "sunsubscribe", "smessage"},
};

static void subscribers_free(void *p)
{
    struct subscribers *s = p;
    mem_free(s->items);
    mem_free(s);
}

static const struct dict_type registry_type = {.nocase = false, .owns_keys = true, .val_free = subscribers_free};
static const struct dict_type client_subs_type = {.nocase = false, .owns_keys = true, .val_free = NULL};
static struct dict *registry[PUBSUB_KINDS];
/* The patterns again, by literal prefix: a PUBLISH matches only the
 * patterns whose prefix the channel starts with. */
static struct pattern_index *patterns;

void pubsub_init(void)
{
    for (int k = 0; k < PUBSUB_KINDS; k++) registry[k] = dict_create(&registry_type);
    patterns = pattern_index_create();
}

long long pubsub_registry_size(enum pubsub_kind kind)
{
    return (long long)dict_size(registry[kind]);
}

/* ---- per-client state ---- */

static struct pubsub_client *pubsub_state(void **slot, void *client, struct outbuf *out)
{
    if (*slot) return *slot;
    struct pubsub_client *pc = mem_calloc(sizeof(*pc));
    pc->client = client;
    pc->out = out;
    for (int k = 0; k < PUBSUB_KINDS; k++) pc->subs[k] = dict_create(&client_subs_type);
    *slot = pc;
    return pc;
}

long long pubsub_client_count(void *const *slot, enum pubsub_kind kind)
{
    const struct pubsub_client *pc = *slot;
    return pc ? (long long)dict_size(pc->subs[kind]) : 0;
}

bool pubsub_client_all(void *const *slot, enum pubsub_kind kind, bool (*fn)(const char *name, size_t len, void *ctx),
                       void *ctx)
{
    const struct pubsub_client *pc = *slot;
    if (!pc || dict_size(pc->subs[kind]) == 0) return true;
    struct dict_iter it;
    dict_iter_init(&it, pc->subs[kind], false);
    struct dict_entry *e;
    bool all = true;
    while (all && (e = dict_iter_next(&it))) {
        size_t len;
        const char *name = dict_entry_key(pc->subs[kind], e, &len);
        all = fn(name, len, ctx);
    }
    dict_iter_done(&it);
    return all;
}

/* The count a (un)subscribe reply reports: classic channels and patterns
 * together, sharded channels on their own (as Redis does). */
static long long reply_count(struct pubsub_client *pc, enum pubsub_kind kind)
{
    if (kind == PUBSUB_SHARD) return (long long)dict_size(pc->subs[PUBSUB_SHARD]);
    return (long long)(dict_size(pc->subs[PUBSUB_CHANNEL]) + dict_size(pc->subs[PUBSUB_PATTERN]));
}

static long long total_count(struct pubsub_client *pc)
{
    long long n = 0;
    for (int k = 0; k < PUBSUB_KINDS; k++) n += (long long)dict_size(pc->subs[k]);
    return n;
}

/* A (un)subscribe confirmation is a push, like the messages: Redis sends it
 * even under CLIENT REPLY OFF or SKIP, and clients wait for it. */
static void reply_subscription(struct outbuf *out, const char *what, const char *name, size_t len, long long count)
{
    bool muted = out->muted;
    out->muted = false;
    reply_push(out, 3);
    reply_bulk_cstr(out, what);
    if (name) reply_bulk(out, name, len);
    else reply_null(out);
    reply_int(out, count);
    out->muted = muted;
}

static bool subscribe(struct pubsub_client *pc, enum pubsub_kind kind, const char *name, size_t len)
{
    bool existed;
    struct dict_entry *mine = dict_add_or_find(pc->subs[kind], name, len, NULL, &existed);
    if (existed) return false;
    struct dict_entry *e = dict_add_or_find(registry[kind], name, len, NULL, &existed);
    if (!existed) {
        e->v.ptr = mem_calloc(sizeof(struct subscribers));
        if (kind == PUBSUB_PATTERN) pattern_index_add(patterns, name, len, e->v.ptr);
    }
    struct subscribers *s = e->v.ptr;
    if (s->count == s->capacity) {
        s->capacity = s->capacity ? s->capacity * 2 : 4;
        s->items = mem_realloc(s->items, sizeof(*s->items) * s->capacity);
    }
    mine->v.i64 = (int64_t)s->count;
    s->items[s->count++] = pc;
    return true;
}

/* Swap-removes the client from the name's subscriber array, fixing the
 * index the moved subscriber keeps. */
static bool unsubscribe(struct pubsub_client *pc, enum pubsub_kind kind, const char *name, size_t len)
{
    struct dict_entry *mine = dict_find(pc->subs[kind], name, len);
    if (!mine) return false;
    size_t index = (size_t)mine->v.i64;
    dict_delete(pc->subs[kind], name, len);
    struct dict_entry *e = dict_find(registry[kind], name, len);
    struct subscribers *s = e->v.ptr;
    struct pubsub_client *last = s->items[--s->count];
    if (index != s->count) {
        s->items[index] = last;
        dict_find(last->subs[kind], name, len)->v.i64 = (int64_t)index;
    }
    if (s->count == 0) {
        if (kind == PUBSUB_PATTERN) pattern_index_remove(patterns, name, len, s);
        dict_delete(registry[kind], name, len);
    }
    return true;
}

static void notify_total(struct pubsub_client *pc, long long before)
{
    long long after = total_count(pc);
    if (after != before && pubsub_hooks.subscriptions_changed) pubsub_hooks.subscriptions_changed(pc->client, after);
}

void pubsub_subscribe_names(void **slot, void *client, struct outbuf *out, enum pubsub_kind kind,
                            const struct arg *names, int count)
{
    struct pubsub_client *pc = pubsub_state(slot, client, out);
    long long before = total_count(pc);
    for (int i = 0; i < count; i++) {
        subscribe(pc, kind, names[i].ptr, names[i].len);
        reply_subscription(out, kinds[kind].subscribed, names[i].ptr, names[i].len, reply_count(pc, kind));
    }
    notify_total(pc, before);
}

/* Unsubscribes from the names given, or from everything of this kind when
 * none are given (replying once with a nil name if there was nothing). A
 * client that never subscribed gets its replies without any state being
 * made for it. */
void pubsub_unsubscribe_names(void **slot, void *client, struct outbuf *out, enum pubsub_kind kind,
                              const struct arg *names, int count, bool reply)
{
    (void)client;
    struct pubsub_client *pc = *slot;
    const char *what = kinds[kind].unsubscribed;
    if (!pc) {
        if (!reply) return;
        for (int i = 0; i < count; i++) reply_subscription(out, what, names[i].ptr, names[i].len, 0);
        if (count == 0) reply_subscription(out, what, NULL, 0, 0);
        return;
    }
    long long before = total_count(pc);
    if (count > 0) {
        for (int i = 0; i < count; i++) {
            unsubscribe(pc, kind, names[i].ptr, names[i].len);
            if (reply) reply_subscription(out, what, names[i].ptr, names[i].len, reply_count(pc, kind));
        }
    } else if (dict_size(pc->subs[kind]) == 0) {
        if (reply) reply_subscription(out, what, NULL, 0, reply_count(pc, kind));
    } else {
        struct dict_iter it;
        dict_iter_init(&it, pc->subs[kind], true);
        struct dict_entry *e;
        while ((e = dict_iter_next(&it))) {
            str name = str_dup(e->key);
            unsubscribe(pc, kind, name, str_len(name));
            if (reply) reply_subscription(out, what, name, str_len(name), reply_count(pc, kind));
            str_free(name);
        }
        dict_iter_done(&it);
    }
    notify_total(pc, before);
}

/* Every kind is emptied before any table is freed: unsubscribing counts the
 * client's subscriptions over all kinds. */
void pubsub_client_release(void **slot)
{
    struct pubsub_client *pc = *slot;
    if (!pc) return;
    for (int k = 0; k < PUBSUB_KINDS; k++)
        pubsub_unsubscribe_names(slot, pc->client, pc->out, (enum pubsub_kind)k, NULL, 0, false);
    for (int k = 0; k < PUBSUB_KINDS; k++) dict_release(pc->subs[k]);
    mem_free(pc);
    *slot = NULL;
}

/* ---- delivery ---- */

/* One encoded message per protocol version, built on first need. */
struct message_frames {
    struct outblock *block[2]; /* RESP2, RESP3 */
    const char *kind_name;
    const char *pattern;
    size_t plen;
    const char *channel;
    size_t clen;
    const char *msg;
    size_t mlen;
};

static void block_bulk(struct outblock *b, const char *p, size_t len)
{
    char header[24];
    outblock_append(b, header, reply_encode_header(header, '$', (long long)len));
    outblock_append(b, p, len);
    outblock_append(b, "\r\n", 2);
}

static struct outblock *frame_for(struct message_frames *f, int resp)
{
    int v = resp >= 3 ? 1 : 0;
    if (f->block[v]) return f->block[v];
    size_t size = 4 * 24 + strlen(f->kind_name) + f->plen + f->clen + f->mlen + 16;
    struct outblock *b = outblock_new(size);
    char header[24];
    int parts = f->pattern ? 4 : 3;
    outblock_append(b, header, reply_encode_header(header, v ? '>' : '*', parts));
    block_bulk(b, f->kind_name, strlen(f->kind_name));
    if (f->pattern) block_bulk(b, f->pattern, f->plen);
    block_bulk(b, f->channel, f->clen);
    block_bulk(b, f->msg, f->mlen);
    f->block[v] = b;
    return b;
}

static void frames_release(struct message_frames *f)
{
    outblock_release(f->block[0]);
    outblock_release(f->block[1]);
}

/* A subscriber that keeps up gets a small message copied into its own
 * reply block, so its replies leave in one contiguous write as Redis's do;
 * one that falls behind (or any big message) gets a reference to the shared
 * block, so a backlog costs a few bytes per subscriber, not a copy. */
#define PUBSUB_COPY_MAX 512
#define PUBSUB_SHARE_BACKLOG (64 * 1024)

static void deliver_one(struct pubsub_client *pc, struct outblock *frame)
{
    if (frame->used < PUBSUB_COPY_MAX && pc->out->pending < PUBSUB_SHARE_BACKLOG)
        outbuf_append(pc->out, frame->data, frame->used);
    else
        outbuf_append_shared(pc->out, frame);
}

static long long deliver(struct subscribers *s, struct message_frames *f)
{
    for (size_t i = 0; i < s->count; i++) {
        struct pubsub_client *pc = s->items[i];
        deliver_one(pc, frame_for(f, pc->out->resp));
        if (pubsub_hooks.delivered) pubsub_hooks.delivered(pc->client);
    }
    return (long long)s->count;
}

struct pattern_delivery {
    const char *channel, *msg;
    size_t clen, mlen;
    long long receivers;
};

static void deliver_to_pattern(const char *pattern, size_t plen, void *subscribers, void *ctx)
{
    struct pattern_delivery *d = ctx;
    struct message_frames f = {.kind_name = kinds[PUBSUB_PATTERN].message, .pattern = pattern, .plen = plen,
                               .channel = d->channel, .clen = d->clen, .msg = d->msg, .mlen = d->mlen};
    d->receivers += deliver(subscribers, &f);
    frames_release(&f);
}

static long long deliver_to_patterns(const char *channel, size_t clen, const char *msg, size_t mlen)
{
    struct pattern_delivery d = {.channel = channel, .clen = clen, .msg = msg, .mlen = mlen};
    pattern_index_match(patterns, channel, clen, deliver_to_pattern, &d);
    return d.receivers;
}

long long pubsub_publish(enum pubsub_kind kind, const char *channel, size_t clen, const char *msg, size_t mlen)
{
    long long receivers = 0;
    struct dict_entry *e = dict_find(registry[kind], channel, clen);
    if (e) {
        struct message_frames f = {.kind_name = kinds[kind].message, .channel = channel, .clen = clen, .msg = msg,
                                   .mlen = mlen};
        receivers += deliver(e->v.ptr, &f);
        frames_release(&f);
    }
    if (kind == PUBSUB_CHANNEL) receivers += deliver_to_patterns(channel, clen, msg, mlen);
    return receivers;
}

/* ---- introspection (PUBSUB CHANNELS / NUMSUB ...) ---- */

void pubsub_reply_channels(struct outbuf *out, enum pubsub_kind kind, const struct arg *pattern)
{
    outbuf_mark mark = reply_defer(out);
    long long n = 0;
    struct dict_iter it;
    dict_iter_init(&it, registry[kind], false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        size_t len = str_len(e->key);
        if (pattern && !glob_match(pattern->ptr, pattern->len, e->key, len, false)) continue;
        reply_bulk(out, e->key, len);
        n++;
    }
    dict_iter_done(&it);
    reply_deferred_array(out, mark, n);
}

long long pubsub_subscriber_count(enum pubsub_kind kind, const char *name, size_t len)
{
    struct dict_entry *e = dict_find(registry[kind], name, len);
    return e ? (long long)((struct subscribers *)e->v.ptr)->count : 0;
}

/* Unsubscribes every client from the names of `kind` that `match` picks,
 * telling each with the unsubscribe push (a cluster slot that left this
 * node: its shard channels' subscribers re-subscribe at the new owner). */
void pubsub_drop_names(enum pubsub_kind kind, bool (*match)(const char *name, size_t len, void *ctx), void *ctx)
{
    struct dict_iter it;
    dict_iter_init(&it, registry[kind], true);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) {
        if (!match(e->key, str_len(e->key), ctx)) continue;
        str name = str_dup(e->key);
        struct subscribers *s = e->v.ptr;
        while (s && s->count > 0) {
            struct pubsub_client *pc = s->items[s->count - 1];
            long long before = total_count(pc);
            bool last = s->count == 1; /* the entry (and s) goes with the last one */
            unsubscribe(pc, kind, name, str_len(name));
            reply_subscription(pc->out, kinds[kind].unsubscribed, name, str_len(name), reply_count(pc, kind));
            if (pubsub_hooks.delivered) pubsub_hooks.delivered(pc->client);
            notify_total(pc, before);
            if (last) break;
        }
        str_free(name);
    }
    dict_iter_done(&it);
}
