/* Unit tests for util/bits.c: counting and finding bits over ranges that
 * start and end inside bytes (checked against a bit-by-bit model), field
 * reads and writes across byte boundaries, and BITFIELD's overflow rules
 * for WRAP, SAT and FAIL at the edges of each width. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/bits.h"

static int bit_at(const uint8_t *p, uint64_t i)
{
    return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

Test(bits, count_and_find_match_a_bit_by_bit_model)
{
    uint8_t buf[40];
    srand(7);
    for (int round = 0; round < 300; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (uint8_t)(rand() % 4 == 0 ? 0xff : rand() % 3 ? 0 : rand());
        uint64_t a = (uint64_t)rand() % 320, b = (uint64_t)rand() % 320;
        uint64_t first = a < b ? a : b, last = a < b ? b : a;
        uint64_t count = 0;
        int64_t pos[2] = {-1, -1};
        for (uint64_t i = first; i <= last; i++) {
            count += (uint64_t)bit_at(buf, i);
            if (pos[bit_at(buf, i)] < 0) pos[bit_at(buf, i)] = (int64_t)i;
        }
        cr_assert_eq(bits_count(buf, first, last), count, "count %lu..%lu", first, last);
        cr_assert_eq(bits_find(buf, first, last, 0), pos[0], "find 0 in %lu..%lu", first, last);
        cr_assert_eq(bits_find(buf, first, last, 1), pos[1], "find 1 in %lu..%lu", first, last);
    }
}

Test(bits, find_skips_long_runs)
{
    uint8_t buf[100];
    memset(buf, 0xff, sizeof(buf));
    cr_assert_eq(bits_find(buf, 0, 799, 0), -1);
    buf[77] = 0xfe;
    cr_assert_eq(bits_find(buf, 3, 799, 0), 77 * 8 + 7);
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(bits_find(buf, 0, 799, 1), -1);
    buf[99] = 0x80;
    cr_assert_eq(bits_find(buf, 1, 799, 1), 792);
    cr_assert_eq(bits_find(buf, 1, 791, 1), -1);
}

Test(bits, fields_round_trip_across_bytes)
{
    uint8_t buf[16] = {0};
    bits_set(buf, 5, 13, 0x1abc);
    cr_assert_eq(bits_get_unsigned(buf, 5, 13), 0x1abc);
    cr_assert_eq(bits_get_signed(buf, 5, 13), (int64_t)0x1abc - 0x2000);
    bits_set(buf, 60, 64, 0x8000000000000001ULL);
    cr_assert_eq(bits_get_signed(buf, 60, 64), INT64_MIN + 1);
    cr_assert_eq(bits_get_unsigned(buf, 5, 13), 0x1abc, "neighbouring field untouched");
    uint8_t one[1] = {0};
    bits_set(one, 0, 1, 1);
    cr_assert_eq(one[0], 0x80);
}

Test(bits, unsigned_overflow)
{
    uint64_t lim = 0;
    cr_assert_eq(bits_overflow_unsigned(250, 5, 8, BITS_WRAP, &lim), 0);
    cr_assert_eq(bits_overflow_unsigned(250, 10, 8, BITS_WRAP, &lim), 1);
    cr_assert_eq(lim, 4);
    cr_assert_eq(bits_overflow_unsigned(250, 10, 8, BITS_SAT, &lim), 1);
    cr_assert_eq(lim, 255);
    cr_assert_eq(bits_overflow_unsigned(3, -4, 8, BITS_SAT, &lim), -1);
    cr_assert_eq(lim, 0);
    cr_assert_eq(bits_overflow_unsigned(3, -4, 8, BITS_WRAP, &lim), -1);
    cr_assert_eq(lim, 255);
    cr_assert_eq(bits_overflow_unsigned((uint64_t)-1, 0, 4, BITS_WRAP, &lim), 1, "SET of -1");
    cr_assert_eq(lim, 15);
}

Test(bits, signed_overflow)
{
    int64_t lim = 0;
    cr_assert_eq(bits_overflow_signed(100, 27, 8, BITS_SAT, &lim), 0);
    cr_assert_eq(bits_overflow_signed(100, 28, 8, BITS_SAT, &lim), 1);
    cr_assert_eq(lim, 127);
    cr_assert_eq(bits_overflow_signed(100, 28, 8, BITS_WRAP, &lim), 1);
    cr_assert_eq(lim, -128);
    cr_assert_eq(bits_overflow_signed(-100, -29, 8, BITS_SAT, &lim), -1);
    cr_assert_eq(lim, -128);
    cr_assert_eq(bits_overflow_signed(INT64_MAX, 1, 64, BITS_WRAP, &lim), 1);
    cr_assert_eq(lim, INT64_MIN);
    cr_assert_eq(bits_overflow_signed(INT64_MIN, -1, 64, BITS_SAT, &lim), -1);
    cr_assert_eq(lim, INT64_MIN);
    cr_assert_eq(bits_overflow_signed(-5, 0, 64, BITS_FAIL, &lim), 0);
}
