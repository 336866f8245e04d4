/* dump_payload: see dump_payload.h for the layout. */
#include "db/dump_payload.h"

#include <stdint.h>
#include <stdio.h>

#include "db/codec.h"
#include "util/crc64.h"

static void str_sink(void *ctx, const void *p, size_t len)
{
    str *s = ctx;
    *s = str_append(*s, p, len);
}

static void put_le(unsigned char *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *in, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | in[i];
    return v;
}

struct dump_payload_foreign dump_payload_foreign;

str dump_payload_create(const struct object *o)
{
    struct dump_payload_foreign *f = &dump_payload_foreign;
    if (f->create && f->use_for_dump && f->use_for_dump()) return f->create(o);
    return dump_payload_create_native(o);
}

str dump_payload_create_native(const struct object *o)
{
    str s = str_empty(64);
    struct codec_out out;
    codec_out_init(&out, str_sink, &s);
    codec_put_u8(&out, o->type);
    bool ok = object_save_framed(o, &out);
    codec_out_finish(&out);
    if (!ok) {
        str_free(s);
        return NULL;
    }
    return dump_payload_sign(s, CODEC_VALUE_VERSION);
}

str dump_payload_sign(str s, unsigned version)
{
    unsigned char trailer[DUMP_PAYLOAD_TRAILER];
    put_le(trailer, version, 2);
    s = str_append(s, trailer, 2);
    put_le(trailer + 2, crc64(0, s, str_len(s)), 8);
    return str_append(s, trailer + 2, 8);
}

bool dump_payload_trailer_ok(const void *payload, size_t len, unsigned version)
{
    const unsigned char *p = payload;
    if (len < DUMP_PAYLOAD_TRAILER) return false;
    const unsigned char *t = p + len - DUMP_PAYLOAD_TRAILER;
    if (get_le(t, 2) != version) return false;
    return get_le(t + 2, 8) == crc64(0, p, len - 8);
}

enum dump_payload_result dump_payload_load(const void *payload, size_t len, struct object **out, char *err,
                                           size_t errlen)
{
    *out = NULL;
    if (!dump_payload_trailer_ok(payload, len, CODEC_VALUE_VERSION))
        return dump_payload_foreign.load ? dump_payload_foreign.load(payload, len, out, err, errlen)
                                         : DUMP_PAYLOAD_BAD_TRAILER;
    struct codec_in in;
    codec_in_init(&in, payload, len - DUMP_PAYLOAD_TRAILER, 0);
    unsigned type;
    struct object *o = codec_get_u8(&in, &type) ? object_load_framed((enum object_type)type, &in) : NULL;
    return dump_payload_finish(&in, o, out, err, errlen);
}

enum dump_payload_result dump_payload_finish(struct codec_in *in, struct object *o, struct object **out, char *err,
                                             size_t errlen)
{
    if (o && codec_in_offset(in) != in->size) {
        codec_fail(in, "%zu bytes follow the value", in->size - codec_in_offset(in));
        object_free(o);
        o = NULL;
    }
    if (!o) {
        snprintf(err, errlen, "%s", in->err);
        return DUMP_PAYLOAD_BAD_DATA;
    }
    *out = o;
    return DUMP_PAYLOAD_OK;
}
