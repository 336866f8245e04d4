#include <criterion/criterion.h>
#include <string.h>

#include "util/sha256.h"

static void assert_digest(const void *data, size_t len, const char *expected)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    char hex[SHA256_HEX_SIZE];
    sha256(data, len, digest);
    sha256_to_hex(digest, hex);
    cr_assert_str_eq(hex, expected, "sha256 of %zu bytes", len);
}

static void assert_cstr(const char *msg, const char *expected)
{
    assert_digest(msg, strlen(msg), expected);
}

/* FIPS 180-2 examples and common vectors. */
Test(sha256, standard_vectors)
{
    assert_cstr("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_cstr("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_cstr("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_cstr("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    assert_cstr("The quick brown fox jumps over the lazy dog",
                "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

Test(sha256, one_million_a)
{
    size_t n = 1000000;
    char *a = malloc(n);
    memset(a, 'a', n);
    assert_digest(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* Fed in pieces of every size across block boundaries, the digest is the same. */
Test(sha256, incremental_updates)
{
    char msg[300];
    for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (char)(i * 7 + 1);
    uint8_t whole[SHA256_DIGEST_SIZE];
    sha256(msg, sizeof(msg), whole);
    for (size_t step = 1; step < 130; step++) {
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        for (size_t at = 0; at < sizeof(msg); at += step)
            sha256_update(&ctx, msg + at, at + step > sizeof(msg) ? sizeof(msg) - at : step);
        uint8_t parts[SHA256_DIGEST_SIZE];
        sha256_final(&ctx, parts);
        cr_assert(sha256_equal(whole, parts), "step %zu", step);
    }
    /* lengths around the padding boundary (55, 56, 63, 64 bytes) */
    assert_digest(msg, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(sha256, hex_round_trip_and_equality)
{
    uint8_t d[SHA256_DIGEST_SIZE], back[SHA256_DIGEST_SIZE];
    char hex[SHA256_HEX_SIZE];
    sha256("pw", 2, d);
    sha256_to_hex(d, hex);
    cr_assert_str_eq(hex, "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
    cr_assert(sha256_from_hex(hex, 64, back));
    cr_assert(sha256_equal(d, back));
    back[31] ^= 1;
    cr_assert_not(sha256_equal(d, back));
    cr_assert_not(sha256_from_hex(hex, 63, back), "too short");
    hex[0] = 'A';
    cr_assert_not(sha256_from_hex(hex, 64, back), "uppercase is refused, as Redis refuses it");
    hex[0] = 'g';
    cr_assert_not(sha256_from_hex(hex, 64, back));
}
