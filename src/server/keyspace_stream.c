/* keyspace_stream: keyspace events into a stream (see keyspace_stream.h). */
#include "server/keyspace_stream.h"

#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "messaging/blocking.h"
#include "messaging/notify.h"
#include "server/config.h"
#include "server/server.h"
#include "types/stream.h"
#include "util/log.h"
#include "util/numbers.h"
#include "util/str.h"

/* Events waiting to be appended, one record each: db, event length, key
 * length (uint32 each), then the event's and the key's bytes. */
static str pending;
static bool flushing;
static bool warned_wrong_type;

/* The events stream's key, when events are recorded right now. Not in a
 * cluster: the key would belong to one node's slots, and the others could
 * neither hold it nor send their events there. */
static const char *recording_key(size_t *len)
{
    const char *key = cfg.notify_keyspace_events_stream;
    if (!key || server_is_replica || db_loading || cfg.cluster_enabled) return NULL;
    *len = strlen(key);
    return key;
}

static void record_event(int db, const char *key, size_t len, const char *event)
{
    size_t slen;
    const char *stream_key = recording_key(&slen);
    if (!stream_key || flushing) return;
    if (db == 0 && len == slen && memcmp(key, stream_key, len) == 0) return;
    uint32_t head[3] = {(uint32_t)db, (uint32_t)strlen(event), (uint32_t)len};
    if (!pending) pending = str_empty(256);
    pending = str_append(pending, head, sizeof(head));
    pending = str_append(pending, event, head[1]);
    pending = str_append(pending, key, len);
}

void keyspace_stream_init(void)
{
    notify_record_hook = record_event;
}

/* The stream under key in database 0, created when missing; NULL (events
 * dropped, logged once) when the key holds another type. */
static struct stream *events_stream(struct db *db, const char *key, size_t len)
{
    struct object *o = db_find(db, key, len);
    if (o && o->type != OBJ_STREAM) {
        if (!warned_wrong_type)
            log_warning("notify-keyspace-events-stream: key '%s' is not a stream; keyspace events are not recorded",
                        key);
        warned_wrong_type = true;
        return NULL;
    }
    warned_wrong_type = false;
    if (o) return o->v.ptr;
    struct stream *s = stream_new();
    db_add(db, key, len, object_new(OBJ_STREAM, ENC_STREAM, s));
    return s;
}

/* Whether a `~` trim to maxlen would remove anything: whole blocks only, so
 * only when the first block can go (most appends need not set one up). */
static bool first_block_removable(struct stream *s, uint64_t maxlen)
{
    struct stream_index_iter it;
    if (s->length <= maxlen || !stream_index_first(s->blocks, &it)) return false;
    return s->length - stream_block_live(stream_index_value(&it)) >= maxlen;
}

/* Appends one event and logs it as XADD key MAXLEN = <length> <id> db ...
 * (the `~` trim made exact), as XADD itself logs. */
static void append_event(struct db *db, struct stream *s, const struct arg *stream_key, int event_db,
                         const struct arg *event, const struct arg *key)
{
    char dbbuf[24], idbuf[48], trimbuf[48];
    struct arg pairs[6] = {{"db", 2}, {dbbuf, format_ll(dbbuf, event_db)}, {"event", 5}, *event, {"key", 3}, *key};
    struct stream_id id;
    if (stream_append(s, pairs, 3, NULL, false, &id) != STREAM_ADD_OK) return; /* the last possible ID */
    struct stream_trim trim = {.strategy = STREAM_TRIM_NONE, .approx = true, .policy = STREAM_REF_KEEP};
    if (cfg.notify_keyspace_events_stream_maxlen > 0) {
        trim.strategy = STREAM_TRIM_MAXLEN;
        trim.maxlen = cfg.notify_keyspace_events_stream_maxlen;
        if (first_block_removable(s, (uint64_t)trim.maxlen)) stream_trim(s, &trim);
    }
    if (!oplog_enabled) return;
    struct arg argv[12] = {{"XADD", 4}, *stream_key};
    int n = 2;
    n += stream_trim_effect_args(s, &trim, argv + n, trimbuf);
    argv[n++] = (struct arg){idbuf, stream_id_format(idbuf, &id)};
    memcpy(argv + n, pairs, sizeof(pairs));
    oplog_append(db->id, n + 6, argv);
}

bool keyspace_stream_flush(void)
{
    if (!pending || str_len(pending) == 0) return false;
    size_t slen;
    const char *stream_key = recording_key(&slen);
    struct db *db = db_by_index(0);
    struct stream *s = stream_key ? events_stream(db, stream_key, slen) : NULL;
    long long appended = 0;
    flushing = true;
    for (size_t off = 0; s && off < str_len(pending);) {
        uint32_t head[3];
        memcpy(head, pending + off, sizeof(head));
        off += sizeof(head);
        struct arg event = {pending + off, head[1]}, key = {pending + off + head[1], head[2]};
        off += (size_t)head[1] + head[2];
        append_event(db, s, &(struct arg){(char *)stream_key, slen}, (int)head[0], &event, &key);
        appended++;
    }
    flushing = false;
    /* a command that reported very many events (DEL of many keys) does not
     * leave its buffer behind */
    if (str_len(pending) > 4096 && str_alloc_size(pending) > 64 * 1024) {
        str_free(pending);
        pending = NULL;
    } else {
        str_set_len(pending, 0);
    }
    if (appended == 0) return false;
    server.dirty += appended;
    db_touch_key(db, stream_key, slen);
    notify_keyspace_event(0, stream_key, slen, NOTIFY_STREAM, "xadd");
    blocking_key_ready(db, stream_key, slen);
    return true;
}
