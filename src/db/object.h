/* object: the value stored under a key — a type tag, an encoding tag, an
 * access clock, and a pointer (or an integer held in place). Types register
 * how to free, copy and measure their values, so the keyspace can manage any
 * value without including the types above it. */
#ifndef RUNNEL_DB_OBJECT_H
#define RUNNEL_DB_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/request.h"

struct codec_out;
struct codec_in;
struct digest_seq;

enum object_type {
    OBJ_STRING = 0,
    OBJ_LIST = 1,
    OBJ_SET = 2,
    OBJ_ZSET = 3,
    OBJ_HASH = 4,
    OBJ_STREAM = 6,
    OBJ_TYPE_COUNT = 7,
};

enum object_encoding {
    ENC_RAW = 0,     /* str */
    ENC_INT = 1,     /* integer held in v.i */
    ENC_EMBSTR = 8,  /* str allocated together with the object */
    ENC_HASHTABLE = 2,
    ENC_INTSET = 6,
    ENC_SKIPLIST = 7,
    ENC_QUICKLIST = 9,
    ENC_STREAM = 10,
    ENC_LISTPACK = 11,
    /* a hash with fields that expire: its packed or table encoding plus the
     * fields' deadlines (types/hash.c) */
    ENC_LISTPACK_EX = 12,
    ENC_HASHTABLE_EX = 13,
    /* a stream with a standing retention policy (types/stream_retention.c):
     * listed, like the two above, for the cron's field-expiry cycle */
    ENC_STREAM_RETAINED = 14,
};

struct object {
    uint8_t type;
    uint8_t encoding;
    uint16_t freq;     /* logarithmic access counter, Redis's LFU (OBJECT FREQ) */
    uint32_t lru;      /* seconds clock of last access (OBJECT IDLETIME) */
    union {
        void *ptr;
        long long i;
    } v;
};

/* Receives the commands that rebuild a value (AOF rewrite). */
typedef void object_emit_fn(void *ctx, int argc, const struct arg *argv);

struct object_ops {
    const char *name;                         /* as TYPE replies */
    void (*free)(struct object *o);           /* frees v.ptr's contents */
    struct object *(*copy)(const struct object *o);
    size_t (*memory)(const struct object *o); /* MEMORY USAGE estimate */
    /* Emits commands that recreate the value under `key` from nothing. */
    void (*rewrite)(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx);
    /* Writes the value in the type's native encoding (snapshots, the AOF
     * base), starting with its encoding tag. */
    void (*save)(const struct object *o, struct codec_out *out);
    /* Rebuilds a value from what save wrote, checking everything it copies
     * in; NULL after reporting the problem with codec_fail. */
    struct object *(*load)(struct codec_in *in);
    /* Feeds the value's logical content into a digest (DEBUG DIGEST): equal
     * values feed the same items whatever their encoding, layout or
     * history; any visible difference feeds different ones. */
    void (*digest)(const struct object *o, struct digest_seq *seq);
};

void object_register_type(enum object_type type, const struct object_ops *ops);
/* Whether o holds items that leave by themselves (a hash with expiring
 * fields, a stream with a retention policy). */
static inline bool object_has_item_deadlines(const struct object *o)
{
    return o->encoding == ENC_LISTPACK_EX || o->encoding == ENC_HASHTABLE_EX || o->encoding == ENC_STREAM_RETAINED;
}
const struct object_ops *object_ops_of(const struct object *o);
const char *object_type_name(const struct object *o);
const char *object_encoding_name(const struct object *o);

struct object *object_new(enum object_type type, enum object_encoding enc, void *ptr);
void object_free(struct object *o);
struct object *object_copy(const struct object *o);
size_t object_memory(const struct object *o);
/* Emits the commands that rebuild o under key; false if its type cannot. */
bool object_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx);

/* Writes o's native encoding; false if its type has no save hook. */
bool object_save(const struct object *o, struct codec_out *out);
/* Reads a value of `type` written by object_save; NULL (the reason reported
 * through the reader) when it is malformed or the type cannot be loaded. */
struct object *object_load(enum object_type type, struct codec_in *in);

/* Feeds o's type and logical content into seq (DEBUG DIGEST); false if
 * its type has no digest hook. */
bool object_digest(const struct object *o, struct digest_seq *seq);

/* The same, framed as one codec value (codec_out_begin_value ...
 * codec_in_end_value): how snapshots and DUMP payloads carry a value. The
 * loader also refuses a value that decodes to another type than `type` or
 * leaves bytes of its frame unread. */
bool object_save_framed(const struct object *o, struct codec_out *out);
struct object *object_load_framed(enum object_type type, struct codec_in *in);

/* RESTORE's IDLETIME and FREQ, as Redis applies them: with an LFU policy
 * only freq (0..255) counts, otherwise only idle_s (>= 0); -1 leaves the
 * field as a new value has it. */
void object_set_access(struct object *o, long long idle_s, int freq);

/* The seconds clock objects are stamped with; advanced by the server cron. */
extern uint32_t object_clock;
/* Counts an access: stamps the clock and bumps the LFU counter. */
void object_touch(struct object *o);

/* Access-frequency tracking, as Redis's LFU: the server sets these from
 * maxmemory-policy, lfu-log-factor and lfu-decay-time. With an LFU policy
 * OBJECT FREQ answers and OBJECT IDLETIME refuses; otherwise the reverse. */
extern bool object_lfu_policy;
extern int object_lfu_log_factor;
extern int object_lfu_decay_time;
/* The counter after decay for the minutes since the last access. */
unsigned object_lfu_counter(const struct object *o);

/* Strings: a value is kept as an integer when it is one that round-trips,
 * embedded with its object when short, else as a separate str. */
struct object *object_string(const char *data, size_t len);
struct object *object_string_ll(long long v);
/* Embedded or separate bytes, never an integer, even when the bytes are one
 * (INCRBYFLOAT's result, as Redis stores it). */
struct object *object_string_plain(const char *data, size_t len);
/* The bytes of a string object; integers are formatted into `buf` (>= 24 bytes). */
const char *object_string_bytes(const struct object *o, char *buf, size_t *len);
size_t object_string_len(const struct object *o);

#endif
