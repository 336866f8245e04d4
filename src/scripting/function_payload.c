/* function_payload: see function_payload.h for the layout. */
#include "scripting/function_payload.h"

#include <stdint.h>

#include "db/codec.h"
#include "db/dump_payload.h"
#include "util/mem.h"

static void str_sink(void *ctx, const void *p, size_t len)
{
    str *s = ctx;
    *s = str_append(*s, p, len);
}

str function_payload_create(const struct function_code *codes, size_t n)
{
    str s = str_empty(64);
    struct codec_out out;
    codec_out_init(&out, str_sink, &s);
    for (size_t i = 0; i < n; i++) {
        codec_put_u8(&out, FUNCTION_PAYLOAD_RECORD);
        codec_put_bytes(&out, codes[i].ptr, codes[i].len);
    }
    codec_out_finish(&out);
    return dump_payload_sign(s, FUNCTION_PAYLOAD_VERSION);
}

enum function_payload_result function_payload_parse(const void *payload, size_t len, struct function_code **codes,
                                                    size_t *n)
{
    *codes = NULL;
    *n = 0;
    if (!dump_payload_trailer_ok(payload, len, FUNCTION_PAYLOAD_VERSION)) return FUNCTION_PAYLOAD_BAD_TRAILER;
    struct codec_in in;
    codec_in_init(&in, payload, len - DUMP_PAYLOAD_TRAILER, 0);
    size_t cap = 0;
    while (codec_in_offset(&in) < in.size) {
        unsigned op;
        struct function_code c;
        if (!codec_get_u8(&in, &op) || op != FUNCTION_PAYLOAD_RECORD || !codec_get_bytes(&in, &c.ptr, &c.len)) {
            mem_free(*codes);
            *codes = NULL;
            *n = 0;
            return FUNCTION_PAYLOAD_BAD_RECORD;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *codes = mem_realloc(*codes, sizeof(**codes) * cap);
        }
        (*codes)[(*n)++] = c;
    }
    return FUNCTION_PAYLOAD_OK;
}
