#include <criterion/criterion.h>
#include <string.h>

#include "util/sha1.h"

static void assert_digest(const void *data, size_t len, const char *expected)
{
    char hex[SHA1_HEX_SIZE];
    sha1_hex(data, len, hex);
    cr_assert_str_eq(hex, expected, "sha1 of %zu bytes", len);
}

static void assert_cstr(const char *msg, const char *expected)
{
    assert_digest(msg, strlen(msg), expected);
}

/* The test vectors of FIPS 180 / RFC 3174 and the NIST examples. */
Test(sha1, standard_vectors)
{
    assert_cstr("abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_cstr("", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_cstr("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    assert_cstr("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "a49b2446a02c645bf419f995b67091253a04a259");
    assert_cstr("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

Test(sha1, one_million_a)
{
    size_t n = 1000000;
    char *a = malloc(n);
    memset(a, 'a', n);
    assert_digest(a, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(a);
}

/* Redis names a script by the SHA-1 of its body. */
Test(sha1, script_names_match_redis)
{
    assert_cstr("return 1", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

static void fill_pattern(unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)((i * 7 + 3) & 255);
}

/* Lengths around the padding boundaries: the length field fits in the last
 * block only below 56 bytes mod 64. Expected values from another SHA-1. */
Test(sha1, padding_boundaries)
{
    static const struct {
        size_t len;
        const char *hex;
    } cases[] = {
        {55, "ddf57317ef34bfee3b6df83d359098930eb278bc"},  {56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369"},
        {57, "11a02dcf95859677a62e75024067c22b165d890f"},  {63, "c55856749bef509bdfe6bfebfc7bf4e793e82132"},
        {64, "bede92be29c3874e1b54ddc77988d606fc857a8e"},  {65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f"},
        {119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23"}, {120, "82134b02fb3f702491be9bed581eeab59334acb2"},
    };
    unsigned char buf[128];
    fill_pattern(buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) assert_digest(buf, cases[i].len, cases[i].hex);
}

/* Feeding the input in two pieces, split anywhere, gives the one-shot digest. */
Test(sha1, incremental_equals_one_shot)
{
    unsigned char buf[200];
    fill_pattern(buf, sizeof(buf));
    uint8_t whole[SHA1_DIGEST_SIZE], parts[SHA1_DIGEST_SIZE];
    struct sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, buf, sizeof(buf));
    sha1_final(&ctx, whole);
    for (size_t split = 0; split <= sizeof(buf); split++) {
        sha1_init(&ctx);
        sha1_update(&ctx, buf, split);
        sha1_update(&ctx, buf + split, sizeof(buf) - split);
        sha1_final(&ctx, parts);
        cr_assert_arr_eq(whole, parts, SHA1_DIGEST_SIZE, "split at %zu", split);
    }
}

Test(sha1, byte_at_a_time)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    for (const char *p = msg; *p; p++) sha1_update(&ctx, p, 1);
    sha1_final(&ctx, digest);
    static const uint8_t expected[SHA1_DIGEST_SIZE] = {0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
                                                       0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1};
    cr_assert_arr_eq(digest, expected, SHA1_DIGEST_SIZE);
}
