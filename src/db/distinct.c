#include "db/distinct.h"

#include <string.h>

#include "db/dict.h"
#include "util/mem.h"

/* Up to this many strings, each new one is compared with all before it. */
#define DIRECT_MAX 32

void distinct_init(struct distinct *d, size_t n)
{
    d->count = 0;
    if (n <= DIRECT_MAX) {
        d->slots = d->small;
        d->mask = 0;
        return;
    }
    size_t size = 64;
    while (size < 2 * n) size *= 2;
    d->slots = size <= DISTINCT_SMALL ? d->small : mem_alloc(size * sizeof(*d->slots));
    memset(d->slots, 0, size * sizeof(*d->slots));
    d->mask = size - 1;
}

static uint64_t tag_of(const unsigned char *p, size_t len)
{
    return len ? (uint64_t)len << 16 | (uint64_t)p[0] << 8 | p[len - 1] : 0;
}

static bool same(const struct distinct_slot *s, const void *p, size_t len, uint64_t tag)
{
    return s->tag == tag && s->len == len && memcmp(s->p, p, len) == 0;
}

bool distinct_add(struct distinct *d, const void *p, size_t len)
{
    uint64_t tag = tag_of(p, len);
    if (d->mask == 0) {
        for (size_t i = 0; i < d->count; i++)
            if (same(&d->slots[i], p, len, tag)) return false;
        d->slots[d->count++] = (struct distinct_slot){p, len, tag};
        return true;
    }
    for (size_t i = (size_t)dict_hash(p, len) & d->mask;; i = (i + 1) & d->mask) {
        struct distinct_slot *s = &d->slots[i];
        if (!s->p) {
            *s = (struct distinct_slot){p, len, tag};
            d->count++;
            return true;
        }
        if (same(s, p, len, tag)) return false;
    }
}

void distinct_done(struct distinct *d)
{
    if (d->slots != d->small) mem_free(d->slots);
    d->slots = NULL;
}
