/* dump_payload: one value as DUMP hands it out and RESTORE takes it back.
 * Runnel's own format (Redis cannot load it; Redis's payloads go through
 * dump_payload_foreign), laid out as Redis lays out its payloads:
 *
 *   u8:type       enum object_type
 *   value         the framed codec value of object_save_framed (db/codec.h)
 *   u16:version   CODEC_VALUE_VERSION, little-endian
 *   u64:crc       CRC-64/Jones (util/crc64.h) of every byte before it,
 *                 little-endian
 *
 * A payload is decoded by the same type hooks as a snapshot's values, so a
 * hostile one that passes its checksum is refused by the checks they make,
 * and what it makes the decoder allocate is bounded by its size. */
#ifndef RUNNEL_DB_DUMP_PAYLOAD_H
#define RUNNEL_DB_DUMP_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "db/object.h"
#include "util/str.h"

#define DUMP_PAYLOAD_TRAILER 10 /* version and checksum */

enum dump_payload_result {
    DUMP_PAYLOAD_OK,
    DUMP_PAYLOAD_BAD_TRAILER, /* too short, another version, or a wrong checksum */
    DUMP_PAYLOAD_BAD_DATA,    /* the trailer is right but the value does not decode */
};

/* Appends the trailer to s (which it may move): version, then the CRC-64
 * of every byte before the checksum. FUNCTION DUMP signs its payloads the
 * same way. */
str dump_payload_sign(str s, unsigned version);
/* Whether payload[0..len) ends with a trailer of that version whose
 * checksum matches. */
bool dump_payload_trailer_ok(const void *payload, size_t len, unsigned version);

/* The payload of o for DUMP and MIGRATE: Runnel's format, or the foreign
 * one when dump-payload-format asks for it; NULL when its type has no save
 * hook. */
str dump_payload_create(const struct object *o);
/* Always Runnel's format, whatever the setting: payloads only Runnel reads
 * (a slot migration between Runnel nodes), which keep everything. */
str dump_payload_create_native(const struct object *o);

/* Payloads in another format (Redis's RDB value encoding), installed by
 * persistence/ at start-up: `load` is tried when a payload's trailer is not
 * Runnel's and answers as dump_payload_load does; `create` makes DUMP's
 * payload when `use_for_dump` says so (dump-payload-format redis). Members may
 * be NULL. */
struct dump_payload_foreign {
    enum dump_payload_result (*load)(const void *payload, size_t len, struct object **out, char *err, size_t errlen);
    str (*create)(const struct object *o);
    bool (*use_for_dump)(void);
};
extern struct dump_payload_foreign dump_payload_foreign;

/* Checks the trailer, then decodes the value into *out (a new object the
 * caller owns). On DUMP_PAYLOAD_BAD_DATA err holds the decoder's reason. */
enum dump_payload_result dump_payload_load(const void *payload, size_t len, struct object **out, char *err,
                                           size_t errlen);

/* The end of a decode: o (NULL when it failed, the reason in the reader)
 * must have used every byte up to the trailer. Hands it to *out, or frees
 * it and copies the reader's reason into err. */
struct codec_in;
enum dump_payload_result dump_payload_finish(struct codec_in *in, struct object *o, struct object **out, char *err,
                                             size_t errlen);

#endif
