/* snapshot_walk: reads a snapshot image (the format is in snapshot.h)
 * record by record. It needs nothing but the bytes — no server, no types —
 * so the server's loader (snapshot_load.c) and runnel-check-aof share it:
 * snapshot_check verifies a whole image before anything is applied, and
 * snapshot_walk then hands each record of a checked image to a visitor. */
#ifndef RUNNEL_PERSISTENCE_SNAPSHOT_WALK_H
#define RUNNEL_PERSISTENCE_SNAPSHOT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/codec.h"

#define SNAPSHOT_MAGIC "RUNNEL"
#define SNAPSHOT_MAGIC_LEN 6
/* The version written: 3 added function libraries; 2 (the same without
 * them) and 1 (commands for values) are still read. */
#define SNAPSHOT_VERSION 3
#define SNAPSHOT_FIRST_FUNCTIONS_VERSION 3
#define SNAPSHOT_HEADER_LEN 10 /* magic + four version digits */

enum snapshot_opcode {
    SNAP_OP_KEY = 0x01,
    SNAP_OP_KEY_EXPIRE = 0x02,
    SNAP_OP_FUNCTION = 0xF5, /* a library of functions: its code */
    SNAP_OP_AUX = 0xFA,
    SNAP_OP_DBSIZE = 0xFB,
    SNAP_OP_SELECT = 0xFE,
    SNAP_OP_EOF = 0xFF,
};

/* A mapped image and what snapshot_check learnt about it. */
struct snapshot_image {
    const unsigned char *data;
    size_t size;
    int version;
    size_t end;          /* offset just past the end marker */
    uint64_t stored_crc; /* 0: not computed when written */
};

struct snapshot_key {
    int db;
    unsigned type;       /* enum object_type, < OBJ_TYPE_COUNT */
    long long expire_ms; /* -1: none */
    const char *key;
    size_t key_len;
};

/* What a walk does with each record. Callbacks return false to stop the
 * walk, after codec_fail on the reader they get (or on the one passed to
 * `key`). */
struct snapshot_visitor {
    void *ctx;
    bool (*select)(void *ctx, struct codec_in *in, int db);
    /* The size hint of the current database, each count capped at what
     * the rest of the file could hold. */
    bool (*resize)(void *ctx, struct codec_in *in, uint64_t keys, uint64_t expires);
    bool (*aux)(void *ctx, struct codec_in *in, const char *name, size_t nlen, const char *value, size_t vlen);
    /* A library of functions: its whole code (version 3 on). */
    bool (*function)(void *ctx, struct codec_in *in, const char *code, size_t len);
    /* The reader stands at the key's value; the callback must read all of
     * it (version 2: a framed value, see codec_in_begin_value; version 1:
     * its commands, see snapshot_v1_command and snapshot_v1_arg). */
    bool (*key)(void *ctx, struct codec_in *in, const struct snapshot_key *k);
};

/* Checks image->data[0..size): header and version, every record and the
 * framing of every value, the end marker, exactly eight checksum bytes
 * after it, and — when verify_crc and the file has one — the checksum. A
 * SELECT of a database >= databases is refused. Fills version, end and
 * stored_crc; false with the reason (and offset) in err. */
bool snapshot_check(struct snapshot_image *image, uint64_t databases, bool verify_crc, char *err, size_t errlen);

/* Walks the records of an image snapshot_check accepted, calling the
 * visitor; false with the reason in err. */
bool snapshot_walk(const struct snapshot_image *image, const struct snapshot_visitor *v, char *err, size_t errlen);

/* Version 1 values. The next command of the value: its argument count, 0
 * after the last one. */
bool snapshot_v1_command(struct codec_in *in, uint64_t *argc);
/* The next argument of the command, the record's key when it is the
 * back-reference; its bytes stay in the image. */
bool snapshot_v1_arg(struct codec_in *in, const struct snapshot_key *k, const char **p, size_t *len);

#endif
