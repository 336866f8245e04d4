/* stats: counters INFO reports that are not owned by one module —
 * errors by code, instantaneous rates sampled by the cron. */
#ifndef RUNNEL_SERVER_STATS_H
#define RUNNEL_SERVER_STATS_H

#include "util/str.h"

/* Takes one sample of the rate counters (called from the cron). */
void stats_sample(void);
double stats_instantaneous(const long long *samples);
long long stats_instantaneous_ops(void);
/* CONFIG RESETSTAT. */
void stats_reset(void);
/* Appends "errorstat_<CODE>:count=N" lines for INFO errorstats. */
str stats_append_errorstats(str s);

#endif
