/* selftest: `runnel-bench --self-test` — checks the histogram and payload
 * code on known data, so the test suite can run it without a server. */
#ifndef RUNNEL_BENCH_SELFTEST_H
#define RUNNEL_BENCH_SELFTEST_H

#include <stdio.h>

/* Runs every check, printing failures to out; returns the failure count. */
int selftest_run(FILE *out);

#endif
