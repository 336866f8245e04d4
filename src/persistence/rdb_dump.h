/* rdb_dump: DUMP payloads in Redis's format — RESTORE of what a
 * redis-server's DUMP (or its MIGRATE) sends, and DUMP in Redis's format
 * under dump-payload-format redis — installed into db/dump_payload.h's
 * foreign format hooks at start-up.
 *
 *   u8:type value   one value in the RDB encoding (rdb_read.h)
 *   u16:version     the RDB version of the encoding, little-endian (<= 11)
 *   u64:crc         CRC-64/Jones of everything before it, little-endian */
#ifndef RUNNEL_PERSISTENCE_RDB_DUMP_H
#define RUNNEL_PERSISTENCE_RDB_DUMP_H

#include <stdbool.h>

/* Installs the hooks; `use_redis_format` says whether DUMP writes Redis's
 * format (the directive's current value). */
void rdb_dump_install(bool (*use_redis_format)(void));

#endif
