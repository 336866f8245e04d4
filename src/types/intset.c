/* intset: see intset.h for the layout. Values are read and written through
 * memcpy at their width so the array needs no alignment beyond the header's. */
#include "types/intset.h"

#include <string.h>

#include "util/mem.h"

uint32_t intset_width_for(int64_t v)
{
    if (v >= INT16_MIN && v <= INT16_MAX) return 2;
    if (v >= INT32_MIN && v <= INT32_MAX) return 4;
    return 8;
}

/* The value at index i stored at width w (the intset's own or, while
 * upgrading, the old one). */
static int64_t get_at(const struct intset *is, uint32_t i, uint32_t w)
{
    const uint8_t *p = is->values + (size_t)i * w;
    if (w == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (w == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void set_at(struct intset *is, uint32_t i, int64_t v)
{
    uint8_t *p = is->values + (size_t)i * is->width;
    if (is->width == 2) {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
    } else if (is->width == 4) {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

static struct intset *resize(struct intset *is, uint32_t count)
{
    return mem_realloc(is, sizeof(*is) + (size_t)count * is->width);
}

struct intset *intset_new(void)
{
    struct intset *is = mem_alloc(sizeof(*is));
    is->width = 2;
    is->count = 0;
    return is;
}

void intset_free(struct intset *is)
{
    mem_free(is);
}

struct intset *intset_dup(const struct intset *is)
{
    size_t size = sizeof(*is) + (size_t)is->count * is->width;
    struct intset *d = mem_alloc(size);
    memcpy(d, is, size);
    return d;
}

int64_t intset_get(const struct intset *is, uint32_t i)
{
    return get_at(is, i, is->width);
}

int64_t intset_min(const struct intset *is)
{
    return get_at(is, 0, is->width);
}

int64_t intset_max(const struct intset *is)
{
    return get_at(is, is->count - 1, is->width);
}

bool intset_search(const struct intset *is, int64_t v, uint32_t *index)
{
    uint32_t lo = 0, hi = is->count;
    /* The ends first: appends and prepends (ascending IDs) skip the search. */
    if (is->count == 0 || v > intset_max(is)) {
        *index = is->count;
        return false;
    }
    if (v < intset_min(is)) {
        *index = 0;
        return false;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t m = get_at(is, mid, is->width);
        if (m == v) {
            *index = mid;
            return true;
        }
        if (m < v) lo = mid + 1;
        else hi = mid;
    }
    *index = lo;
    return false;
}

bool intset_contains(const struct intset *is, int64_t v)
{
    uint32_t i;
    return intset_width_for(v) <= is->width && intset_search(is, v, &i);
}

/* Widens every value to hold v, which is outside the current range and
 * therefore goes first (negative) or last (positive). Walks from the end so
 * values are moved before their old bytes are overwritten. */
static struct intset *upgrade_and_add(struct intset *is, int64_t v)
{
    uint32_t old_width = is->width, count = is->count;
    is->width = intset_width_for(v);
    is = resize(is, count + 1);
    bool first = v < 0;
    for (uint32_t i = count; i-- > 0;) set_at(is, i + (first ? 1 : 0), get_at(is, i, old_width));
    set_at(is, first ? 0 : count, v);
    is->count = count + 1;
    return is;
}

struct intset *intset_add(struct intset *is, int64_t v, bool *added)
{
    if (intset_width_for(v) > is->width) {
        *added = true;
        return upgrade_and_add(is, v);
    }
    uint32_t index;
    if (intset_search(is, v, &index)) {
        *added = false;
        return is;
    }
    is = resize(is, is->count + 1);
    uint8_t *at = is->values + (size_t)index * is->width;
    memmove(at + is->width, at, (size_t)(is->count - index) * is->width);
    set_at(is, index, v);
    is->count++;
    *added = true;
    return is;
}

struct intset *intset_remove(struct intset *is, int64_t v, bool *removed)
{
    uint32_t index;
    if (intset_width_for(v) > is->width || !intset_search(is, v, &index)) {
        *removed = false;
        return is;
    }
    uint8_t *at = is->values + (size_t)index * is->width;
    memmove(at, at + is->width, (size_t)(is->count - index - 1) * is->width);
    is->count--;
    *removed = true;
    return resize(is, is->count);
}

size_t intset_memory(const struct intset *is)
{
    return mem_usable_size((void *)is);
}

bool intset_validate(const struct intset *is)
{
    if (is->width != 2 && is->width != 4 && is->width != 8) return false;
    for (uint32_t i = 1; i < is->count; i++)
        if (get_at(is, i - 1, is->width) >= get_at(is, i, is->width)) return false;
    /* A wider width than needed is allowed (intsets never narrow). */
    return true;
}
