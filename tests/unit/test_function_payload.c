/* FUNCTION DUMP payloads: round trips, and every damage refused. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "scripting/function_payload.h"
#include "util/crc64.h"
#include "util/mem.h"

static void resign(unsigned char *p, size_t len)
{
    uint64_t crc = crc64(0, p, len - 8);
    for (int i = 0; i < 8; i++) p[len - 8 + (size_t)i] = (unsigned char)(crc >> (8 * i));
}

Test(function_payload, round_trip_in_order)
{
    struct function_code in[] = {{"#!lua name=a\nx", 14}, {"", 0}, {"#!lua name=b\n\0\xff", 15}};
    str p = function_payload_create(in, 3);
    struct function_code *out;
    size_t n;
    cr_assert_eq(function_payload_parse(p, str_len(p), &out, &n), FUNCTION_PAYLOAD_OK);
    cr_assert_eq(n, 3);
    for (size_t i = 0; i < 3; i++) cr_assert(out[i].len == in[i].len && memcmp(out[i].ptr, in[i].ptr, in[i].len) == 0);
    mem_free(out);
    str_free(p);
}

Test(function_payload, empty)
{
    str p = function_payload_create(NULL, 0);
    cr_assert_eq(str_len(p), 10);
    struct function_code *out;
    size_t n;
    cr_assert_eq(function_payload_parse(p, str_len(p), &out, &n), FUNCTION_PAYLOAD_OK);
    cr_assert_eq(n, 0);
    mem_free(out);
    str_free(p);
}

Test(function_payload, damaged_trailer_version_or_bytes)
{
    struct function_code in[] = {{"#!lua name=a\nx", 14}};
    str p = function_payload_create(in, 1);
    size_t len = str_len(p);
    struct function_code *out;
    size_t n;
    cr_assert_eq(function_payload_parse(p, 9, &out, &n), FUNCTION_PAYLOAD_BAD_TRAILER);
    for (size_t i = 0; i < len; i++) {
        p[i] ^= 0x20;
        cr_assert_eq(function_payload_parse(p, len, &out, &n), FUNCTION_PAYLOAD_BAD_TRAILER, "byte %zu", i);
        p[i] ^= 0x20;
    }
    p[len - 10] = 2; /* another version, even correctly signed */
    resign((unsigned char *)p, len);
    cr_assert_eq(function_payload_parse(p, len, &out, &n), FUNCTION_PAYLOAD_BAD_TRAILER);
    str_free(p);
}

Test(function_payload, bad_records_with_a_valid_checksum)
{
    struct function_code in[] = {{"#!lua name=a\nx", 14}};
    str p = function_payload_create(in, 1);
    size_t len = str_len(p);
    struct function_code *out;
    size_t n;
    p[0] = 0x01; /* not a library record */
    resign((unsigned char *)p, len);
    cr_assert_eq(function_payload_parse(p, len, &out, &n), FUNCTION_PAYLOAD_BAD_RECORD);
    cr_assert_null(out);
    p[0] = (char)FUNCTION_PAYLOAD_RECORD;
    p[1] = 100; /* a length past the end */
    resign((unsigned char *)p, len);
    cr_assert_eq(function_payload_parse(p, len, &out, &n), FUNCTION_PAYLOAD_BAD_RECORD);
    /* cut after the record's opcode */
    unsigned char cut[11] = {FUNCTION_PAYLOAD_RECORD, FUNCTION_PAYLOAD_VERSION, 0};
    resign(cut, sizeof(cut));
    cr_assert_eq(function_payload_parse(cut, sizeof(cut), &out, &n), FUNCTION_PAYLOAD_BAD_RECORD);
    str_free(p);
}
