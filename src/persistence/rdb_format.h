/* rdb_format: the constants of Redis's RDB format (the files redis-server
 * writes, versions 9 to 11 for Redis 6.0 to 7.2, and the value encoding of
 * its DUMP payloads), which Runnel reads to import a dataset and writes to
 * hand one back.
 *
 * A file: "REDIS" and four ASCII digits of version, then records each led by
 * an opcode byte (or a value type byte, which starts a key), 0xFF, and the
 * CRC-64/Jones of everything before it, little-endian (0 when the writer did
 * not compute it).
 *
 * Lengths: the top two bits of the first byte pick the form —
 *   00xxxxxx            6-bit length
 *   01xxxxxx yyyyyyyy   14-bit length, big-endian
 *   10000000 + 4 bytes  32-bit length, big-endian
 *   10000001 + 8 bytes  64-bit length, big-endian
 *   11xxxxxx            a string in a special encoding (below), strings only
 * Strings: a length and the bytes, or 11000000/01/10 + a little-endian
 * 8/16/32-bit integer, or 11000011 + compressed length + plain length + LZF
 * data. Integers the other records carry (expiry times, stream delivery and
 * seen times) are fixed-width little-endian; stream IDs inside a group are
 * 16 bytes big-endian (ms, seq). */
#ifndef RUNNEL_PERSISTENCE_RDB_FORMAT_H
#define RUNNEL_PERSISTENCE_RDB_FORMAT_H

#define RDB_MAGIC "REDIS"
#define RDB_MAGIC_LEN 5
#define RDB_HEADER_LEN 9
#define RDB_VERSION_MIN 9  /* Redis 6.0 */
#define RDB_VERSION_MAX 11 /* Redis 7.2 */
#define RDB_VERSION_WRITE 10 /* what Runnel writes: Redis 7.0 reads it */

/* Value types: the byte before a key (and the first of a DUMP payload). */
enum rdb_type {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3, /* scores as strings */
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5, /* scores as binary doubles */
    RDB_TYPE_MODULE_PRE_GA = 6,
    RDB_TYPE_MODULE_2 = 7,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_STREAM_LISTPACKS = 15,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_STREAM_LISTPACKS_2 = 19,
    RDB_TYPE_SET_LISTPACK = 20,
    RDB_TYPE_STREAM_LISTPACKS_3 = 21,
    RDB_TYPE_LAST_KNOWN = 21,
};

/* Opcodes: records that are not keys. */
enum rdb_opcode {
    RDB_OPCODE_FUNCTION2 = 245,   /* a library of functions: its code */
    RDB_OPCODE_FUNCTION_PRE_GA = 246,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,         /* LRU idle seconds of the next key */
    RDB_OPCODE_FREQ = 249,         /* LFU counter of the next key */
    RDB_OPCODE_AUX = 250,          /* name, value */
    RDB_OPCODE_RESIZEDB = 251,     /* keys, expires (size hints) */
    RDB_OPCODE_EXPIRETIME_MS = 252, /* u64 ms of the next key */
    RDB_OPCODE_EXPIRETIME = 253,   /* u32 seconds of the next key */
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

#define RDB_LEN_6BIT 0
#define RDB_LEN_14BIT 1
#define RDB_LEN_32BIT 0x80
#define RDB_LEN_64BIT 0x81
#define RDB_LEN_ENCVAL 3
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* A list quicklist-2 node's container. */
#define RDB_QUICKLIST_NODE_PLAIN 1
#define RDB_QUICKLIST_NODE_PACKED 2

/* Stream entries' flags inside a listpack. */
#define RDB_STREAM_ITEM_DELETED 1
#define RDB_STREAM_ITEM_SAMEFIELDS 2

#endif
