#include "db/object.h"

#include <string.h>

#include "util/mem.h"
#include "util/numbers.h"
#include "util/str.h"

#define EMBSTR_MAX 44

uint32_t object_clock;

static const struct object_ops *type_ops[OBJ_TYPE_COUNT];

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
    case ENC_STREAM: return "stream";
    case ENC_LISTPACK: return "listpack";
    default: return "unknown";
    }
}

struct object *object_new(enum object_type type, enum object_encoding enc, void *ptr)
{
    struct object *o = mem_alloc(sizeof(*o));
    o->type = (uint8_t)type;
    o->encoding = (uint8_t)enc;
    o->freq = 0;
    o->lru = object_clock;
    o->v.ptr = ptr;
    return o;
}

void object_touch(struct object *o)
{
    o->lru = object_clock;
    if (o->freq < UINT16_MAX) o->freq++;
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
        if (o->encoding == ENC_INT) return object_string_ll(o->v.i);
        return object_string(o->v.ptr, str_len(o->v.ptr));
    }
    return type_ops[o->type]->copy(o);
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
    o->freq = 0;
    o->lru = object_clock;
    o->v.ptr = h->buf;
    return o;
}

struct object *object_string(const char *data, size_t len)
{
    long long v;
    if (len <= 20 && parse_ll(data, len, &v)) return object_string_ll(v);
    if (len <= EMBSTR_MAX) return object_embstr(data, len);
    return object_new(OBJ_STRING, ENC_RAW, str_new(data, len));
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
