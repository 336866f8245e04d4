/* Unit tests for the HyperLogLog registers (types/hll.c): random register
 * updates on a sparse value checked against a plain array (through the
 * dense conversion and the union), the sparse size limit, the cached
 * estimate, and estimates of known sets within the documented error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/hll.h"

static void expect_registers(str s, const uint8_t *model)
{
    static uint8_t merged[HLL_REGISTERS];
    memset(merged, 0, sizeof(merged));
    cr_assert(hll_merge(merged, s, str_len(s)));
    cr_assert_eq(memcmp(merged, model, HLL_REGISTERS), 0, "registers differ from the model");
}

Test(hll, sparse_updates_match_a_register_array)
{
    static uint8_t model[HLL_REGISTERS];
    memset(model, 0, sizeof(model));
    str s = hll_new();
    srand(3);
    long long saved = hll_sparse_max_bytes;
    hll_sparse_max_bytes = 1 << 20; /* stay sparse for the whole run */
    for (int i = 0; i < 3000; i++) {
        long index = rand() % 64 < 60 ? rand() % 200 : rand() % HLL_REGISTERS;
        int count = 1 + rand() % 32;
        int want = count > model[index];
        cr_assert_eq(hll_set(&s, index, count), want, "set %ld to %d", index, count);
        if (want) model[index] = (uint8_t)count;
        cr_assert_eq(s[4], HLL_SPARSE);
    }
    expect_registers(s, model);
    uint64_t sparse_card, dense_card;
    cr_assert(hll_count(s, str_len(s), &sparse_card));
    cr_assert(hll_to_dense(&s));
    cr_assert_eq(str_len(s), HLL_DENSE_SIZE);
    expect_registers(s, model);
    cr_assert(hll_count(s, str_len(s), &dense_card));
    cr_assert_eq(sparse_card, dense_card);
    cr_assert_eq(hll_count_registers(model), dense_card);
    hll_sparse_max_bytes = saved;
    str_free(s);
}

Test(hll, large_values_and_the_size_limit_turn_dense)
{
    str s = hll_new();
    cr_assert_eq(hll_set(&s, 5, 33), 1);
    cr_assert_eq(s[4], HLL_DENSE);
    cr_assert_eq(hll_dense_get((const uint8_t *)s + HLL_HEADER_SIZE, 5), 33);
    str_free(s);
    s = hll_new();
    long long saved = hll_sparse_max_bytes;
    hll_sparse_max_bytes = 40;
    for (long i = 0; i < 200 && s[4] == HLL_SPARSE; i += 7) hll_set(&s, i, 1);
    cr_assert_eq(s[4], HLL_DENSE);
    hll_sparse_max_bytes = saved;
    str_free(s);
}

Test(hll, estimates_are_within_the_documented_error)
{
    str s = hll_new();
    uint64_t card;
    cr_assert(hll_count(s, str_len(s), &card));
    cr_assert_eq(card, 0);
    char ele[32];
    for (int n = 1; n <= 100000; n++) {
        int len = snprintf(ele, sizeof(ele), "element:%d", n);
        hll_add(&s, ele, (size_t)len);
        if (n == 10 || n == 1000 || n == 100000) {
            cr_assert(hll_count(s, str_len(s), &card));
            double err = ((double)card - n) / n;
            cr_assert(err < 0.03 && err > -0.03, "n=%d estimate %lu", n, (unsigned long)card);
        }
    }
    str_free(s);
}

Test(hll, cached_estimate)
{
    str s = hll_new();
    uint64_t card = 99;
    cr_assert(hll_cache_get(s, &card));
    cr_assert_eq(card, 0);
    hll_cache_invalidate(s);
    cr_assert_not(hll_cache_get(s, &card));
    hll_cache_set(s, 0x0102030405ULL);
    cr_assert(hll_cache_get(s, &card));
    cr_assert_eq(card, 0x0102030405ULL);
    cr_assert_eq((uint8_t)s[8], 0x05);
    str_free(s);
}

Test(hll, validity_and_corrupt_opcodes)
{
    str s = hll_new();
    cr_assert(hll_is_valid(s, str_len(s)));
    cr_assert_not(hll_is_valid("HYLL\x00", 5));
    s[HLL_HEADER_SIZE + 1] = 0; /* XZERO now covers 16129 registers: short */
    uint64_t card;
    cr_assert_not(hll_count(s, str_len(s), &card));
    cr_assert_eq(hll_set(&s, 16383, 1), -1);
    str_free(s);
}

Test(hll, elements_land_where_redis_puts_them)
{
    /* PFADD t hello; PFDEBUG DECODE t on redis-server 7.0: "Z:9216 v:1,1 Z:7167" */
    long index;
    int count = hll_pattern("hello", 5, &index);
    cr_assert_eq(index, 9216);
    cr_assert_eq(count, 1);
}
