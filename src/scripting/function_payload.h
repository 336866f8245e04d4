/* function_payload: the libraries as FUNCTION DUMP hands them out and
 * FUNCTION RESTORE takes them back. Runnel's own format (Redis cannot load
 * it, nor Runnel Redis's), laid out as Redis lays out its payload, in the
 * primitives of db/codec.h:
 *
 *   { u8:0xF5 bytes:code }   one record per library: its whole code
 *   u16:version              FUNCTION_PAYLOAD_VERSION, little-endian
 *   u64:crc                  CRC-64/Jones of every byte before it
 *
 * The code is all a library is: restoring runs it again. */
#ifndef RUNNEL_SCRIPTING_FUNCTION_PAYLOAD_H
#define RUNNEL_SCRIPTING_FUNCTION_PAYLOAD_H

#include <stddef.h>

#include "util/str.h"

#define FUNCTION_PAYLOAD_VERSION 1
#define FUNCTION_PAYLOAD_RECORD 0xF5

/* A library's code, as a slice. */
struct function_code {
    const char *ptr;
    size_t len;
};

/* The payload holding these codes, in this order. */
str function_payload_create(const struct function_code *codes, size_t n);

enum function_payload_result {
    FUNCTION_PAYLOAD_OK,
    FUNCTION_PAYLOAD_BAD_TRAILER, /* too short, another version or a wrong checksum */
    FUNCTION_PAYLOAD_BAD_RECORD,  /* a record is not a library, or is cut short */
};

/* Checks the trailer and reads the records: *codes (mem_free it) gets
 * slices into the payload, *n their number. */
enum function_payload_result function_payload_parse(const void *payload, size_t len, struct function_code **codes,
                                                    size_t *n);

#endif
