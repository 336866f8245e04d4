/* keyed_hash (see keyed_hash.h). The input is absorbed 16 bytes at a time
 * (one AES round per block, chained); an input of at most 16 bytes is
 * packed into one block (which, with its length, determines it) and goes
 * through one keyed round. The length is mixed in after that first
 * nonlinear round, and three more rounds finish every input: short inputs
 * of one length, through a keyed permutation, collide only in the final
 * fold to 64 bits. */
#include "db/keyed_hash.h"

#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db/dict.h"

#if defined(__x86_64__)
#include <immintrin.h>

static __m128i aes_key[3];
static int aes_state; /* 0: not decided, 1: AES rounds, -1: SipHash */

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static void aes_decide(void)
{
    aes_state = __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1") ? 1 : -1;
    unsigned char key[sizeof(aes_key)];
    if (getrandom(key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key)) {
        uint64_t s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)key;
        for (size_t i = 0; i < sizeof(key); i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            key[i] = (unsigned char)(s >> 56);
        }
    }
    memcpy(aes_key, key, sizeof(key));
}

__attribute__((target("aes,sse4.1"))) static uint64_t aes_hash(const unsigned char *p, size_t len)
{
    __m128i x;
    if (len <= 16) {
        uint64_t lo = 0, hi = 0;
        if (len >= 8) {
            lo = load64(p);
            hi = load64(p + len - 8);
        } else if (len >= 4) {
            lo = load32(p) | (uint64_t)load32(p + len - 4) << 32;
        } else if (len > 0) {
            lo = (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 | (uint64_t)p[len - 1] << 16;
        }
        /* a keyed round before the length goes in: which (block, length)
         * pairs then meet depends on the key */
        x = _mm_aesenc_si128(_mm_xor_si128(_mm_set_epi64x((long long)hi, (long long)lo), aes_key[0]), aes_key[1]);
    } else {
        x = aes_key[0];
        size_t off = 0;
        for (; off + 16 <= len; off += 16)
            x = _mm_aesenc_si128(_mm_xor_si128(x, _mm_loadu_si128((const __m128i *)(const void *)(p + off))),
                                 aes_key[1]);
        if (off < len) /* the last 16 bytes, overlapping what came before */
            x = _mm_aesenc_si128(_mm_xor_si128(x, _mm_loadu_si128((const __m128i *)(const void *)(p + len - 16))),
                                 aes_key[1]);
    }
    x = _mm_xor_si128(x, _mm_cvtsi64_si128((long long)len));
    x = _mm_aesenc_si128(x, aes_key[1]);
    x = _mm_aesenc_si128(x, aes_key[2]);
    x = _mm_aesenc_si128(x, aes_key[1]);
    return (uint64_t)_mm_cvtsi128_si64(x) ^ (uint64_t)_mm_extract_epi64(x, 1);
}

uint64_t keyed_hash(const void *p, size_t len)
{
    if (__builtin_expect(aes_state == 0, 0)) aes_decide();
    if (aes_state > 0) return aes_hash(p, len);
    return dict_hash(p, len);
}

#else

uint64_t keyed_hash(const void *p, size_t len)
{
    return dict_hash(p, len);
}

#endif
