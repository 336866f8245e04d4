/* histogram: log-linear buckets (see histogram.h) and percentile queries. */
#include "histogram.h"

#include <math.h>
#include <string.h>

void histogram_init(struct histogram *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

/* Index of the bucket holding value: values < HIST_LINEAR map to themselves;
 * above, shift right until HIST_SUB_BITS significant bits remain, and the
 * shift count selects the octave. */
size_t histogram_bucket_index(uint64_t value)
{
    if (value < HIST_LINEAR)
        return (size_t)value;
    unsigned msb = 63u - (unsigned)__builtin_clzll(value);
    unsigned shift = msb - (HIST_SUB_BITS - 1);
    return (size_t)HIST_HALF * shift + (size_t)(value >> shift);
}

uint64_t histogram_bucket_low(size_t index)
{
    if (index < HIST_LINEAR)
        return index;
    unsigned shift = (unsigned)(index / HIST_HALF) - 1;
    uint64_t mantissa = index % HIST_HALF + HIST_HALF;
    return mantissa << shift;
}

uint64_t histogram_bucket_high(size_t index)
{
    if (index < HIST_LINEAR)
        return index;
    unsigned shift = (unsigned)(index / HIST_HALF) - 1;
    uint64_t width = (uint64_t)1 << shift;
    return histogram_bucket_low(index) + (width - 1);
}

void histogram_record(struct histogram *h, uint64_t value)
{
    h->buckets[histogram_bucket_index(value)]++;
    h->count++;
    h->sum += (double)value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void histogram_merge(struct histogram *dst, const struct histogram *src)
{
    if (src->count == 0)
        return;
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t histogram_percentile(const struct histogram *h, double pct)
{
    if (h->count == 0)
        return 0;
    if (pct <= 0)
        return h->min;
    /* The epsilon keeps 99% of 10000 at rank 9900 despite 0.99 being inexact. */
    double exact = ceil(pct / 100.0 * (double)h->count - 1e-9);
    uint64_t rank = exact < 1 ? 1 : (uint64_t)exact;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen < rank)
            continue;
        uint64_t v = histogram_bucket_high(i);
        if (v > h->max)
            v = h->max;
        return v < h->min ? h->min : v;
    }
    return h->max;
}

double histogram_mean(const struct histogram *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
