/* rdb_dump: see rdb_dump.h. */
#include <stdbool.h>
#include <stdint.h>

#include "db/codec.h"
#include "db/dump_payload.h"
#include "persistence/rdb_dump.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_read.h"
#include "persistence/rdb_write.h"
#include "util/crc64.h"

static enum dump_payload_result rdb_dump_load(const void *payload, size_t len, struct object **out, char *err,
                                              size_t errlen)
{
    const unsigned char *p = payload;
    *out = NULL;
    if (len < DUMP_PAYLOAD_TRAILER + 1) return DUMP_PAYLOAD_BAD_TRAILER;
    const unsigned char *t = p + len - DUMP_PAYLOAD_TRAILER;
    unsigned version = t[0] | (unsigned)t[1] << 8;
    uint64_t want = 0;
    for (int i = 9; i >= 2; i--) want = want << 8 | t[i];
    if (version > RDB_VERSION_MAX || want != crc64(0, p, len - 8)) return DUMP_PAYLOAD_BAD_TRAILER;
    struct codec_in in;
    codec_in_init(&in, payload, len - DUMP_PAYLOAD_TRAILER, 0);
    unsigned type;
    bool empty = false;
    struct object *o = NULL;
    if (codec_get_u8(&in, &type)) {
        if (rdb_type_supported(type)) o = rdb_value_read(&in, type, &empty);
        else codec_fail(&in, "value type %u is not one Runnel loads", type);
    }
    if (!o && empty) codec_fail(&in, "an empty collection");
    return dump_payload_finish(&in, o, out, err, errlen);
}

void rdb_dump_install(bool (*use_redis_format)(void))
{
    dump_payload_foreign.load = rdb_dump_load;
    dump_payload_foreign.create = rdb_dump_create;
    dump_payload_foreign.use_for_dump = use_redis_format;
}
