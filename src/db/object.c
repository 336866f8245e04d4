#include "db/object.h"

#include <stdlib.h>
#include <string.h>

#include "db/codec.h"
#include "util/digest.h"
#include "util/mem.h"
#include "util/numbers.h"
#include "util/str.h"

#define EMBSTR_MAX 44
/* A new key starts with this LFU counter so it is not evicted at once. */
#define LFU_INIT_VAL 5
#define LFU_MAX 255

uint32_t object_clock;
bool object_lfu_policy;
int object_lfu_log_factor = 10;
int object_lfu_decay_time = 1;

static const struct object_ops *type_ops[OBJ_TYPE_COUNT];

static struct object *object_embstr(const char *data, size_t len);

void object_register_type(enum object_type type, const struct object_ops *ops)
{
    type_ops[type] = ops;
}

const struct object_ops *object_ops_of(const struct object *o)
{
    return type_ops[o->type];
}

const char *object_type_name(const struct object *o)
{
    const struct object_ops *ops = type_ops[o->type];
    return ops ? ops->name : "none";
}

const char *object_encoding_name(const struct object *o)
{
    switch (o->encoding) {
    case ENC_RAW: return "raw";
    case ENC_INT: return "int";
    case ENC_EMBSTR: return "embstr";
    case ENC_HASHTABLE: return "hashtable";
    case ENC_INTSET: return "intset";
    case ENC_SKIPLIST: return "skiplist";
    case ENC_QUICKLIST: return "quicklist";
    case ENC_STREAM:
    case ENC_STREAM_RETAINED: return "stream";
    case ENC_LISTPACK: return "listpack";
    case ENC_LISTPACK_EX: return "listpackex";
    case ENC_HASHTABLE_EX: return "hashtable";
    default: return "unknown";
    }
}

struct object *object_new(enum object_type type, enum object_encoding enc, void *ptr)
{
    struct object *o = mem_alloc(sizeof(*o));
    o->type = (uint8_t)type;
    o->encoding = (uint8_t)enc;
    o->freq = LFU_INIT_VAL;
    o->lru = object_clock;
    o->v.ptr = ptr;
    return o;
}

unsigned object_lfu_counter(const struct object *o)
{
    unsigned counter = o->freq;
    if (object_lfu_decay_time <= 0 || object_clock <= o->lru) return counter;
    unsigned long periods = (unsigned long)(object_clock - o->lru) / 60 / (unsigned long)object_lfu_decay_time;
    return periods >= counter ? 0 : counter - (unsigned)periods;
}

/* Redis's logarithmic increment: the higher the counter, the less likely
 * one more access moves it, so 255 stands for about a million hits at the
 * default factor. */
static unsigned lfu_increment(unsigned counter)
{
    if (counter >= LFU_MAX) return LFU_MAX;
    if (counter <= LFU_INIT_VAL) return counter + 1; /* probability 1 */
    double p = 1.0 / ((double)(counter - LFU_INIT_VAL) * object_lfu_log_factor + 1);
    return (double)rand() / RAND_MAX < p ? counter + 1 : counter;
}

void object_touch(struct object *o)
{
    if (object_lfu_policy) o->freq = (uint16_t)lfu_increment(object_lfu_counter(o));
    o->lru = object_clock;
}

/* Frees a value of any type through its registered ops. */
void object_free(struct object *o)
{
    if (!o) return;
    if (o->type == OBJ_STRING) {
        if (o->encoding == ENC_RAW) str_free(o->v.ptr);
    } else if (type_ops[o->type] && type_ops[o->type]->free) {
        type_ops[o->type]->free(o);
    }
    mem_free(o);
}

struct object *object_copy(const struct object *o)
{
    if (o->type == OBJ_STRING) {
        /* Same encoding as the original (COPY of a raw "12" stays raw). */
        if (o->encoding == ENC_INT) return object_string_ll(o->v.i);
        if (o->encoding == ENC_EMBSTR) return object_embstr(o->v.ptr, str_len(o->v.ptr));
        return object_new(OBJ_STRING, ENC_RAW, str_new(o->v.ptr, str_len(o->v.ptr)));
    }
    return type_ops[o->type]->copy(o);
}

bool object_rewrite(const struct object *o, const char *key, size_t len, object_emit_fn *emit, void *ctx)
{
    if (o->type == OBJ_STRING) {
        char buf[24];
        size_t vlen;
        const char *v = object_string_bytes(o, buf, &vlen);
        struct arg set[3] = {{"SET", 3}, {(char *)key, len}, {(char *)v, vlen}};
        emit(ctx, 3, set);
        return true;
    }
    const struct object_ops *ops = type_ops[o->type];
    if (!ops || !ops->rewrite) return false;
    ops->rewrite(o, key, len, emit, ctx);
    return true;
}

/* A string's native encoding: its encoding tag, then the integer (svarint)
 * or the bytes, so OBJECT ENCODING reads the same after a reload. */
enum string_save_tag { STRING_SAVE_INT = 0, STRING_SAVE_EMBSTR = 1, STRING_SAVE_RAW = 2 };

static void string_save(const struct object *o, struct codec_out *out)
{
    if (o->encoding == ENC_INT) {
        codec_put_u8(out, STRING_SAVE_INT);
        codec_put_svarint(out, o->v.i);
        return;
    }
    codec_put_u8(out, o->encoding == ENC_EMBSTR ? STRING_SAVE_EMBSTR : STRING_SAVE_RAW);
    codec_put_bytes(out, o->v.ptr, str_len(o->v.ptr));
}

static struct object *string_load(struct codec_in *in)
{
    unsigned tag;
    if (!codec_get_u8(in, &tag)) return NULL;
    if (tag == STRING_SAVE_INT) {
        int64_t v;
        return codec_get_svarint(in, &v) ? object_string_ll(v) : NULL;
    }
    const char *p;
    size_t len;
    if (tag != STRING_SAVE_EMBSTR && tag != STRING_SAVE_RAW) {
        codec_fail(in, "unknown string encoding %u", tag);
        return NULL;
    }
    if (!codec_get_bytes(in, &p, &len)) return NULL;
    if (len > UINT32_MAX) {
        codec_fail(in, "a string of %zu bytes is longer than a string can be", len);
        return NULL;
    }
    if (tag == STRING_SAVE_EMBSTR) return object_string_plain(p, len);
    return object_new(OBJ_STRING, ENC_RAW, str_new(p, len));
}

bool object_save(const struct object *o, struct codec_out *out)
{
    if (o->type == OBJ_STRING) {
        string_save(o, out);
        return true;
    }
    const struct object_ops *ops = type_ops[o->type];
    if (!ops || !ops->save) return false;
    ops->save(o, out);
    return true;
}

struct object *object_load(enum object_type type, struct codec_in *in)
{
    if (type == OBJ_STRING) return string_load(in);
    const struct object_ops *ops = (unsigned)type < OBJ_TYPE_COUNT ? type_ops[type] : NULL;
    if (!ops || !ops->load) {
        codec_fail(in, "values of type %d cannot be loaded", (int)type);
        return NULL;
    }
    return ops->load(in);
}

/* A string digests as its bytes, however it is held: an integer, embedded
 * or separate. */
static void string_digest(const struct object *o, struct digest_seq *seq)
{
    char buf[24];
    size_t len;
    const char *p = object_string_bytes(o, buf, &len);
    digest_seq_bytes(seq, p, len);
}

bool object_digest(const struct object *o, struct digest_seq *seq)
{
    const struct object_ops *ops = type_ops[o->type];
    if (o->type != OBJ_STRING && (!ops || !ops->digest)) return false;
    digest_seq_u64(seq, o->type);
    if (o->type == OBJ_STRING) string_digest(o, seq);
    else ops->digest(o, seq);
    return true;
}

bool object_save_framed(const struct object *o, struct codec_out *out)
{
    codec_out_begin_value(out);
    bool ok = object_save(o, out);
    codec_out_end_value(out);
    return ok;
}

struct object *object_load_framed(enum object_type type, struct codec_in *in)
{
    if (!codec_in_begin_value(in)) return NULL;
    struct object *o = object_load(type, in);
    if (!o) return NULL;
    if (o->type != type) {
        object_free(o);
        codec_fail(in, "the value is not of its recorded type %d", (int)type);
        return NULL;
    }
    if (!codec_in_end_value(in)) {
        object_free(o);
        return NULL;
    }
    return o;
}

void object_set_access(struct object *o, long long idle_s, int freq)
{
    if (object_lfu_policy) {
        if (freq < 0) return;
        o->freq = (uint16_t)freq;
        o->lru = object_clock; /* decay counts from now */
    } else if (idle_s >= 0) {
        o->lru = idle_s >= (long long)object_clock ? 0 : object_clock - (uint32_t)idle_s;
    }
}

size_t object_memory(const struct object *o)
{
    if (o->type == OBJ_STRING) {
        if (o->encoding == ENC_INT) return sizeof(*o);
        if (o->encoding == ENC_EMBSTR) return mem_usable_size((void *)o);
        return sizeof(*o) + str_alloc_size(o->v.ptr);
    }
    const struct object_ops *ops = type_ops[o->type];
    return sizeof(*o) + (ops && ops->memory ? ops->memory(o) : 0);
}

struct object *object_string_ll(long long v)
{
    struct object *o = object_new(OBJ_STRING, ENC_INT, NULL);
    o->v.i = v;
    return o;
}

/* Short strings share one allocation with their object: the str header and
 * bytes follow the object directly. */
static struct object *object_embstr(const char *data, size_t len)
{
    struct object *o = mem_alloc(sizeof(*o) + sizeof(struct str_header) + len + 1);
    struct str_header *h = (struct str_header *)(o + 1);
    h->len = (uint32_t)len;
    h->cap = (uint32_t)len;
    memcpy(h->buf, data, len);
    h->buf[len] = '\0';
    o->type = OBJ_STRING;
    o->encoding = ENC_EMBSTR;
    o->freq = LFU_INIT_VAL;
    o->lru = object_clock;
    o->v.ptr = h->buf;
    return o;
}

struct object *object_string_plain(const char *data, size_t len)
{
    if (len <= EMBSTR_MAX) return object_embstr(data, len);
    return object_new(OBJ_STRING, ENC_RAW, str_new(data, len));
}

struct object *object_string(const char *data, size_t len)
{
    long long v;
    if (len <= 20 && parse_ll(data, len, &v)) return object_string_ll(v);
    return object_string_plain(data, len);
}

const char *object_string_bytes(const struct object *o, char *buf, size_t *len)
{
    if (o->encoding == ENC_INT) {
        *len = format_ll(buf, o->v.i);
        return buf;
    }
    *len = str_len(o->v.ptr);
    return o->v.ptr;
}

size_t object_string_len(const struct object *o)
{
    char buf[24];
    size_t len;
    object_string_bytes(o, buf, &len);
    return len;
}
