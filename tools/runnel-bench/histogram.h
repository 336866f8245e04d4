/* histogram: an HDR-style log-linear latency histogram.
 * Values below HIST_LINEAR are counted exactly; above, every power of two is
 * split into HIST_HALF equal sub-buckets, so a bucket is never wider than
 * 1/HIST_HALF (0.8%) of the values it holds. Recording is O(1) and
 * allocation-free; the whole uint64_t range fits in HIST_BUCKETS counters. */
#ifndef RUNNEL_BENCH_HISTOGRAM_H
#define RUNNEL_BENCH_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 8
#define HIST_LINEAR   (1u << HIST_SUB_BITS) /* 256 exact buckets */
#define HIST_HALF     (HIST_LINEAR / 2)     /* 128 sub-buckets per octave */
#define HIST_BUCKETS  (HIST_HALF * (64 - HIST_SUB_BITS + 1) + HIST_HALF)

struct histogram {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    double sum;
    uint64_t buckets[HIST_BUCKETS];
};

void histogram_init(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t value);
/* Adds every value of src into dst. */
void histogram_merge(struct histogram *dst, const struct histogram *src);
/* The smallest recorded-equivalent value v such that at least pct percent of
 * the values are <= v: a bucket's upper bound, clamped to [min, max].
 * pct is in [0, 100]; an empty histogram answers 0. */
uint64_t histogram_percentile(const struct histogram *h, double pct);
double histogram_mean(const struct histogram *h);

size_t histogram_bucket_index(uint64_t value);
uint64_t histogram_bucket_low(size_t index);
uint64_t histogram_bucket_high(size_t index);

#endif
