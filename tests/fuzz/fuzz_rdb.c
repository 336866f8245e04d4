/* libFuzzer target for Redis RDB loading (persistence/rdb_load.c,
 * rdb_read.c, rdb_stream.c, rdb_packed.c): each input is loaded as a whole
 * RDB file (checksum off, so damage reaches the decoders) and, from its
 * second byte on, as one value of the type its first byte names (RESTORE's
 * path). Loading must refuse bad input cleanly: no crash, no leak, no
 * undefined behaviour (built with ASan + UBSan by scripts/fuzz). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "db/codec.h"
#include "db/db.h"
#include "persistence/rdb_load.h"
#include "persistence/rdb_read.h"
#include "server/config.h"
#include "server/server.h"
#include "types/types.h"
#include "util/mem.h"

#define FUZZ_DBS 4

/* Defined by main.c in the server binary. */
struct server server;
bool (*server_debug_extension)(struct request *req);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    config_init_defaults();
    cfg.rdbchecksum = 0;
    types_init();
    server.db_count = FUZZ_DBS;
    server.dbs = mem_calloc(sizeof(struct db) * FUZZ_DBS);
    for (int i = 0; i < FUZZ_DBS; i++) db_init(&server.dbs[i], i);
    db_all = server.dbs;
    db_count = FUZZ_DBS;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snapshot_load_result res;
    char err[512];
    if (rdb_load_image(data, size, 0, &res, err, sizeof(err)))
        for (int i = 0; i < FUZZ_DBS; i++) db_empty(&server.dbs[i]);
    if (size > 1) {
        struct codec_in in;
        codec_in_init(&in, data + 1, size - 1, 0);
        bool empty;
        if (rdb_type_supported(data[0])) object_free(rdb_value_read(&in, data[0], &empty));
    }
    return 0;
}
