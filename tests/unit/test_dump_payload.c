#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/codec.h"
#include "db/dump_payload.h"
#include "util/crc64.h"

static enum dump_payload_result load(const void *p, size_t len, struct object **o)
{
    char err[256];
    return dump_payload_load(p, len, o, err, sizeof(err));
}

/* Rewrites the checksum after the payload's bytes were changed. */
static void resign(unsigned char *p, size_t len)
{
    uint64_t crc = crc64(0, p, len - 8);
    for (int i = 0; i < 8; i++) p[len - 8 + (size_t)i] = (unsigned char)(crc >> (8 * i));
}

Test(dump_payload, strings_round_trip_with_their_encoding)
{
    struct object *values[] = {object_string_ll(-42), object_string_plain("12", 2),
                               object_new(OBJ_STRING, ENC_RAW, str_new("raw bytes", 9))};
    for (size_t i = 0; i < 3; i++) {
        str p = dump_payload_create(values[i]);
        cr_assert(p);
        size_t len = str_len(p);
        cr_assert_eq((unsigned char)p[0], OBJ_STRING);
        cr_assert_eq((unsigned char)p[len - 10], CODEC_VALUE_VERSION);
        cr_assert_eq(p[len - 9], 0);
        struct object *o;
        cr_assert_eq(load(p, len, &o), DUMP_PAYLOAD_OK);
        cr_assert_eq(o->encoding, values[i]->encoding);
        char a[24], b[24];
        size_t alen, blen;
        const char *x = object_string_bytes(o, a, &alen), *y = object_string_bytes(values[i], b, &blen);
        cr_assert(alen == blen && memcmp(x, y, alen) == 0);
        object_free(o);
        object_free(values[i]);
        str_free(p);
    }
}

Test(dump_payload, trailer_problems_are_told_from_bad_data)
{
    struct object *v = object_string_plain("value", 5);
    str p = dump_payload_create(v);
    size_t len = str_len(p);
    struct object *o;
    cr_assert_eq(load(p, 9, &o), DUMP_PAYLOAD_BAD_TRAILER);
    cr_assert_null(o);
    p[len - 1] ^= 1; /* the checksum */
    cr_assert_eq(load(p, len, &o), DUMP_PAYLOAD_BAD_TRAILER);
    p[len - 1] ^= 1;
    p[len - 10]++; /* another version, checksum made right */
    resign((unsigned char *)p, len);
    cr_assert_eq(load(p, len, &o), DUMP_PAYLOAD_BAD_TRAILER);
    p[len - 10]--;
    p[0] = 5; /* no such type */
    resign((unsigned char *)p, len);
    cr_assert_eq(load(p, len, &o), DUMP_PAYLOAD_BAD_DATA);
    cr_assert_null(o);
    object_free(v);
    str_free(p);
}

Test(dump_payload, bytes_after_the_value_are_bad_data)
{
    struct object *v = object_string_ll(7);
    str p = dump_payload_create(v);
    size_t len = str_len(p);
    unsigned char *q = malloc(len + 1);
    memcpy(q, p, len - 10);
    q[len - 10] = 0;
    memcpy(q + len - 9, p + len - 10, 10);
    resign(q, len + 1);
    struct object *o;
    char err[256];
    cr_assert_eq(dump_payload_load(q, len + 1, &o, err, sizeof(err)), DUMP_PAYLOAD_BAD_DATA);
    cr_assert(strstr(err, "follow the value"), "%s", err);
    free(q);
    object_free(v);
    str_free(p);
}

/* Every single-byte change with a recomputed checksum decodes or is
 * refused; none reads out of bounds (the ASan pass runs this too). */
Test(dump_payload, every_byte_changed_is_decoded_or_refused)
{
    struct object *v = object_new(OBJ_STRING, ENC_RAW, str_new("a string of some length", 23));
    str p = dump_payload_create(v);
    size_t len = str_len(p);
    for (size_t at = 0; at < len - 10; at++) {
        for (unsigned b = 0; b < 256; b++) {
            unsigned char *q = malloc(len);
            memcpy(q, p, len);
            q[at] = (unsigned char)b;
            resign(q, len);
            struct object *o;
            enum dump_payload_result r = load(q, len, &o);
            cr_assert(r == DUMP_PAYLOAD_OK || r == DUMP_PAYLOAD_BAD_DATA);
            cr_assert_eq(r == DUMP_PAYLOAD_OK, o != NULL);
            object_free(o);
            free(q);
        }
    }
    object_free(v);
    str_free(p);
}
