/* metrics: the text of GET /metrics — redis_exporter's metrics for the facts
 * Runnel has (INFO's fields, command statistics, keys per database,
 * streams and consumer groups) under its names and labels, so existing
 * dashboards work, plus runnel_* broker metrics. Built on the server's
 * thread from the lower layers' public functions; see docs/observability.md
 * for each metric and what a scrape costs. */
#ifndef RUNNEL_HTTP_METRICS_H
#define RUNNEL_HTTP_METRICS_H

#include "util/str.h"

/* The whole exposition, Prometheus text format 0.0.4. */
str metrics_render(void);

#endif
