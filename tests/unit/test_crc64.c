#include <criterion/criterion.h>
#include <string.h>

#include "util/crc64.h"

/* Bit-at-a-time reference: the definition the tables must agree with. */
static uint64_t crc64_bitwise(uint64_t crc, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

Test(crc64, check_value)
{
    cr_assert_eq(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
}

Test(crc64, empty_is_identity)
{
    cr_assert_eq(crc64(0, "", 0), 0);
    cr_assert_eq(crc64(0x1234, "", 0), 0x1234);
}

Test(crc64, matches_bitwise_at_every_length_and_alignment)
{
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += 3)
            cr_assert_eq(crc64(0, buf + off, len), crc64_bitwise(0, buf + off, len), "off %zu len %zu", off, len);
}

Test(crc64, incremental_equals_whole)
{
    const char *text = "The quick brown fox jumps over the lazy dog, many times over.";
    size_t len = strlen(text);
    uint64_t whole = crc64(0, text, len);
    for (size_t cut = 0; cut <= len; cut++) cr_assert_eq(crc64(crc64(0, text, cut), text + cut, len - cut), whole);
}
