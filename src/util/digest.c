/* digest: framed SHA-1 sequences and XOR sets (see digest.h). Integers are
 * fed little-endian so a digest does not depend on the host. */
#include "util/digest.h"

#include <string.h>

void digest_seq_init(struct digest_seq *s)
{
    sha1_init(&s->sha);
}

void digest_seq_u64(struct digest_seq *s, uint64_t v)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(v >> (8 * i));
    sha1_update(&s->sha, le, sizeof(le));
}

void digest_seq_i64(struct digest_seq *s, int64_t v)
{
    digest_seq_u64(s, (uint64_t)v);
}

void digest_seq_bytes(struct digest_seq *s, const void *p, size_t len)
{
    digest_seq_u64(s, (uint64_t)len);
    if (len) sha1_update(&s->sha, p, len);
}

void digest_seq_double(struct digest_seq *s, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    digest_seq_u64(s, bits);
}

void digest_seq_digest(struct digest_seq *s, const struct digest *d)
{
    sha1_update(&s->sha, d->bytes, DIGEST_SIZE);
}

void digest_seq_set(struct digest_seq *s, const struct digest_set *set)
{
    digest_seq_u64(s, set->count);
    digest_seq_digest(s, &set->acc);
}

void digest_seq_final(struct digest_seq *s, struct digest *out)
{
    sha1_final(&s->sha, out->bytes);
}

void digest_set_init(struct digest_set *set)
{
    memset(set, 0, sizeof(*set));
}

void digest_set_add(struct digest_set *set, const struct digest *item)
{
    digest_xor(&set->acc, item);
    set->count++;
}

/* Mixes in the digest of one or two framed strings. */
static void set_add_parts(struct digest_set *set, int parts, const void *a, size_t alen, const void *b, size_t blen)
{
    struct digest_seq item;
    struct digest d;
    digest_seq_init(&item);
    digest_seq_bytes(&item, a, alen);
    if (parts == 2) digest_seq_bytes(&item, b, blen);
    digest_seq_final(&item, &d);
    digest_set_add(set, &d);
}

void digest_set_add_bytes(struct digest_set *set, const void *p, size_t len)
{
    set_add_parts(set, 1, p, len, NULL, 0);
}

void digest_set_add_pair(struct digest_set *set, const void *a, size_t alen, const void *b, size_t blen)
{
    set_add_parts(set, 2, a, alen, b, blen);
}

void digest_xor(struct digest *acc, const struct digest *d)
{
    for (int i = 0; i < DIGEST_SIZE; i++) acc->bytes[i] ^= d->bytes[i];
}

bool digest_is_zero(const struct digest *d)
{
    for (int i = 0; i < DIGEST_SIZE; i++)
        if (d->bytes[i]) return false;
    return true;
}

void digest_hex(const struct digest *d, char out[DIGEST_HEX_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < DIGEST_SIZE; i++) {
        out[2 * i] = hex[d->bytes[i] >> 4];
        out[2 * i + 1] = hex[d->bytes[i] & 15];
    }
    out[2 * DIGEST_SIZE] = '\0';
}
