/* Unit tests for Redis's packed blobs as the RDB reader walks them
 * (persistence/rdb_packed.c): listpack and ziplist elements of every
 * encoding, their counts and bounds, intsets, and LZF decompression,
 * including the damaged forms each must refuse. */
#include <criterion/criterion.h>
#include <string.h>

#include "persistence/rdb_packed.h"

/* A listpack: 5 (7-bit), "x" (6-bit string), -1 (13-bit), 1000 (int16). */
static const unsigned char LP[] = {18, 0, 0, 0, 4, 0, 0x05, 0x01, 0x81, 'x', 0x02, 0xDF, 0xFF, 0x02,
                                   0xF1, 0xE8, 0x03, 0x03, 0xFF};

Test(rdb_packed, listpack_elements)
{
    struct rdb_packed_iter it;
    struct rdb_elem e;
    unsigned char lp[sizeof(LP)];
    memcpy(lp, LP, sizeof(LP));
    lp[0] = sizeof(LP);
    cr_assert(rdb_packed_init(&it, RDB_PACKED_LISTPACK, lp, sizeof(lp)));
    cr_assert(rdb_packed_next(&it, &e) && e.is_int && e.v == 5);
    cr_assert(rdb_packed_next(&it, &e) && !e.is_int && e.len == 1 && e.p[0] == 'x');
    cr_assert(rdb_packed_next(&it, &e) && e.is_int && e.v == -1);
    cr_assert(rdb_packed_next(&it, &e) && e.is_int && e.v == 1000);
    rdb_elem_bytes(&e);
    cr_assert(e.len == 4 && memcmp(e.p, "1000", 4) == 0);
    cr_assert(!rdb_packed_next(&it, &e));
    cr_assert(rdb_packed_ok(&it));
}

Test(rdb_packed, listpack_damage_refused)
{
    unsigned char lp[sizeof(LP)];
    struct rdb_packed_iter it;
    struct rdb_elem e;
    memcpy(lp, LP, sizeof(LP));
    cr_assert(!rdb_packed_init(&it, RDB_PACKED_LISTPACK, lp, sizeof(lp)), "header size 18 for 19 bytes");
    lp[0] = sizeof(LP);
    lp[4] = 5; /* the count says five */
    cr_assert(rdb_packed_init(&it, RDB_PACKED_LISTPACK, lp, sizeof(lp)));
    while (rdb_packed_next(&it, &e)) {
    }
    cr_assert(!rdb_packed_ok(&it) && it.bad);
    lp[4] = 4;
    lp[8] = 0xBF; /* a 63-byte string in a 19-byte blob */
    cr_assert(rdb_packed_init(&it, RDB_PACKED_LISTPACK, lp, sizeof(lp)));
    while (rdb_packed_next(&it, &e)) {
    }
    cr_assert(!rdb_packed_ok(&it));
}

Test(rdb_packed, ziplist_elements)
{
    /* "ab", 7 (immediate), -2 (int8), 70000 (int24), then the end */
    unsigned char zl[] = {0, 0, 0, 0, 0, 0, 0, 0, 4, 0,        0x00, 0x02, 'a', 'b', 0x04, 0xF8,
                          0x02, 0xFE, 0xFE, 0x03, 0xF0, 0x70, 0x11, 0x01, 0xFF};
    zl[0] = sizeof(zl);
    struct rdb_packed_iter it;
    struct rdb_elem e;
    cr_assert(rdb_packed_init(&it, RDB_PACKED_ZIPLIST, zl, sizeof(zl)));
    cr_assert(rdb_packed_next(&it, &e) && !e.is_int && e.len == 2 && memcmp(e.p, "ab", 2) == 0);
    cr_assert(rdb_packed_next(&it, &e) && e.is_int && e.v == 7);
    cr_assert(rdb_packed_next(&it, &e) && e.is_int && e.v == -2);
    cr_assert(rdb_packed_next(&it, &e) && e.is_int && e.v == 70000);
    cr_assert(!rdb_packed_next(&it, &e) && rdb_packed_ok(&it));
    zl[10] = 0xFF; /* a prevlen of 255 is the end marker, not an entry */
    cr_assert(rdb_packed_init(&it, RDB_PACKED_ZIPLIST, zl, sizeof(zl)));
    cr_assert(!rdb_packed_next(&it, &e) && !rdb_packed_ok(&it));
}

Test(rdb_packed, intset)
{
    unsigned char is[] = {2, 0, 0, 0, 3, 0, 0, 0, 0xFE, 0xFF, 1, 0, 0x10, 0x27};
    unsigned width;
    uint32_t n;
    cr_assert(rdb_intset_open(is, sizeof(is), &width, &n) && width == 2 && n == 3);
    cr_assert(rdb_intset_get(is, width, 0) == -2 && rdb_intset_get(is, width, 2) == 10000);
    cr_assert(!rdb_intset_open(is, sizeof(is) - 1, &width, &n));
    is[0] = 3;
    cr_assert(!rdb_intset_open(is, sizeof(is), &width, &n));
}

Test(rdb_packed, lzf)
{
    const unsigned char in[] = {0x02, 'a', 'b', 'c', 0x80, 0x02};
    char out[9];
    cr_assert(rdb_lzf_decompress(in, sizeof(in), out, sizeof(out)));
    cr_assert(memcmp(out, "abcabcabc", 9) == 0);
    cr_assert(!rdb_lzf_decompress(in, sizeof(in), out, 8), "more output than room");
    char big[10];
    cr_assert(!rdb_lzf_decompress(in, sizeof(in), big, sizeof(big)), "less output than claimed");
    const unsigned char before_start[] = {0x00, 'a', 0x80, 0x05};
    cr_assert(!rdb_lzf_decompress(before_start, sizeof(before_start), out, 7), "a reference before the start");
    cr_assert(!rdb_lzf_decompress(in, 3, out, sizeof(out)), "a literal run cut short");
}
