/* selftest: histogram bucket bounds and percentiles, payload round trips
 * and the exactly-once ledger, each against values known in advance. */
#include "selftest.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "message.h"

static int failures;

#define CHECK(out, cond, ...)                                                                                \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            failures++;                                                                                      \
            fprintf(out, "self-test: %s:%d: ", __FILE__, __LINE__);                                          \
            fprintf(out, __VA_ARGS__);                                                                       \
            fputc('\n', out);                                                                                \
        }                                                                                                    \
    } while (0)

/* Every value falls inside its bucket, buckets tile without gaps, and no
 * bucket is wider than 1/HIST_HALF of its lower bound. */
static void test_bucket_bounds(FILE *out)
{
    for (size_t i = 0; i + 1 < HIST_BUCKETS; i++) {
        uint64_t lo = histogram_bucket_low(i), hi = histogram_bucket_high(i);
        CHECK(out, histogram_bucket_low(i + 1) == hi + 1,
              "bucket %zu ends at %" PRIu64 " but next starts at %" PRIu64, i, hi,
              histogram_bucket_low(i + 1));
        CHECK(out, i < HIST_LINEAR || (hi - lo + 1) * HIST_HALF <= lo, "bucket %zu too wide", i);
    }
    CHECK(out, histogram_bucket_high(HIST_BUCKETS - 1) == UINT64_MAX,
          "last bucket does not reach UINT64_MAX");
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < 100000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t v = x >> (x % 64);
        size_t i = histogram_bucket_index(v);
        CHECK(out, histogram_bucket_low(i) <= v && v <= histogram_bucket_high(i),
              "%" PRIu64 " outside bucket %zu", v, i);
    }
}

/* Small values are exact: 1..100 once each. */
static void test_exact_percentiles(FILE *out)
{
    struct histogram *h = malloc(sizeof(*h));
    histogram_init(h);
    CHECK(out, histogram_percentile(h, 50) == 0, "empty histogram p50 not 0");
    for (uint64_t v = 1; v <= 100; v++)
        histogram_record(h, v);
    CHECK(out, histogram_percentile(h, 50) == 50, "p50 of 1..100 = %" PRIu64, histogram_percentile(h, 50));
    CHECK(out, histogram_percentile(h, 99) == 99, "p99 of 1..100 = %" PRIu64, histogram_percentile(h, 99));
    CHECK(out, histogram_percentile(h, 100) == 100, "p100 of 1..100 = %" PRIu64,
          histogram_percentile(h, 100));
    CHECK(out, histogram_percentile(h, 0) == 1, "p0 of 1..100 = %" PRIu64, histogram_percentile(h, 0));
    CHECK(out, fabs(histogram_mean(h) - 50.5) < 1e-9, "mean of 1..100 = %f", histogram_mean(h));
    free(h);
}

/* Large values land within the bucket precision: 1..1,000,000 µs in ns. */
static void test_large_percentiles(FILE *out)
{
    struct histogram *h = malloc(sizeof(*h)), *half = malloc(sizeof(*half));
    histogram_init(h);
    histogram_init(half);
    for (uint64_t v = 1; v <= 1000000; v++)
        histogram_record(v % 2 ? h : half, v * 1000);
    histogram_merge(h, half);
    const double pcts[] = {50, 90, 99, 99.9};
    for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
        double want = pcts[k] / 100 * 1e9, got = (double)histogram_percentile(h, pcts[k]);
        CHECK(out, got >= want && got <= want * (1 + 1.0 / HIST_HALF), "p%g = %.0f, want %.0f (+0.8%%)",
              pcts[k], got, want);
    }
    CHECK(out, histogram_percentile(h, 100) == 1000000000ull, "max percentile not exact");
    CHECK(out, h->count == 1000000 && h->min == 1000 && h->max == 1000000000ull,
          "count/min/max wrong after merge");
    struct histogram *one = half;
    histogram_init(one);
    histogram_record(one, 123456789);
    CHECK(out, histogram_percentile(one, 50) == 123456789, "single value not reported exactly");
    free(h);
    free(half);
}

/* A skewed distribution: 99% at 100, 1% at 10,000. */
static void test_skewed(FILE *out)
{
    struct histogram *h = malloc(sizeof(*h));
    histogram_init(h);
    for (int k = 0; k < 9900; k++)
        histogram_record(h, 100);
    for (int k = 0; k < 100; k++)
        histogram_record(h, 10000);
    CHECK(out, histogram_percentile(h, 99) == 100, "skewed p99 = %" PRIu64, histogram_percentile(h, 99));
    CHECK(out, histogram_percentile(h, 99.5) == 10000, "skewed p99.5 = %" PRIu64,
          histogram_percentile(h, 99.5));
    free(h);
}

static void test_message(FILE *out)
{
    char buf[128];
    struct msg_header in = {0x0123456789abcdefull, 0xbeef, 0xfedcba987654ull}, got;
    size_t len = msg_format(buf, 100, &in, true);
    CHECK(out, len == 100 && buf[99] == 'x', "payload length %zu", len);
    CHECK(out,
          msg_parse(buf, len, &got) && got.sent_ns == in.sent_ns && got.source == in.source &&
              got.seq == in.seq,
          "payload header does not round-trip");
    CHECK(out, msg_format(buf, 3, &in, true) == MSG_HEADER_LEN, "short payload not padded to the header");
    CHECK(out, !msg_parse("hello", 5, &got), "short payload parsed");
    memcpy(buf, "zz", 2);
    CHECK(out, !msg_parse(buf, len, &got), "non-hex header parsed");
}

static void test_ledger(FILE *out)
{
    struct msg_ledger l;
    msg_ledger_init(&l, 2);
    for (int k = 0; k < 100000; k++)
        msg_ledger_next(&l, 1);
    msg_ledger_next(&l, 0);
    CHECK(out, msg_ledger_mark(&l, 1, 99999) && msg_ledger_mark(&l, 1, 0) && msg_ledger_mark(&l, 0, 0),
          "fresh mark refused");
    CHECK(out, !msg_ledger_mark(&l, 1, 99999) && l.duplicated == 1, "duplicate not caught");
    CHECK(out, !msg_ledger_mark(&l, 0, 1) && !msg_ledger_mark(&l, 5, 0) && l.foreign == 2,
          "foreign not caught");
    CHECK(out, l.distinct == 3 && msg_ledger_sent(&l) == 100001, "ledger counts wrong");
    msg_ledger_free(&l);
}

int selftest_run(FILE *out)
{
    failures = 0;
    test_bucket_bounds(out);
    test_exact_percentiles(out);
    test_large_percentiles(out);
    test_skewed(out);
    test_message(out);
    test_ledger(out);
    fprintf(out, "self-test: %s (%d failure%s)\n", failures ? "FAILED" : "ok", failures,
            failures == 1 ? "" : "s");
    return failures;
}
