/* metrics_keys: the per-key families of /metrics — streams and their
 * consumer groups (redis_exporter's names and labels), and lists matching
 * metrics-list-patterns as queues — from one keys_walk (at most
 * metrics-max-series keys, the rest counted). */
#ifndef RUNNEL_HTTP_METRICS_KEYS_H
#define RUNNEL_HTTP_METRICS_KEYS_H

#include "util/str.h"

/* Appends the per-key families and runnel_metrics_series_omitted. */
str metrics_keys_render(str s);

#endif
