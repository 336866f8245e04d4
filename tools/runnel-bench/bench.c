/* bench: result and progress helpers shared by the workloads. */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void result_add(struct bench_result *r, const char *name, const char *label, double value)
{
    if (r->n_metrics == BENCH_MAX_METRICS)
        return;
    r->metrics[r->n_metrics++] = (struct bench_metric){name, label, value, false};
}

void result_add_count(struct bench_result *r, const char *name, const char *label, uint64_t value)
{
    result_add(r, name, label, (double)value);
    if (r->n_metrics > 0)
        r->metrics[r->n_metrics - 1].integer = true;
}

void result_fail(struct bench_result *r, int status, const char *fmt, ...)
{
    if (r->status != BENCH_EXIT_OK)
        return;
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
}

void result_note_rate(struct bench_result *r, const struct bench_opts *o)
{
    if (o->rate <= 0)
        return;
    size_t used = strlen(r->params);
    snprintf(r->params + used, sizeof(r->params) - used, ", open loop at %.0f/s", o->rate);
}

void bench_progress(const struct bench_opts *o, const char *fmt, ...)
{
    if (o->quiet)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%s] %s\n", o->workload, line);
}

bool bench_time_up(const struct bench_opts *o, uint64_t start_ns)
{
    if (o->messages)
        return false;
    return (double)(now_ns() - start_ns) / 1e9 >= o->seconds;
}

void pacer_init(struct bench_pacer *p, uint64_t start_ns, double per_second)
{
    p->start_ns = start_ns;
    p->interval_ns = 1e9 / per_second;
    p->next = 0;
}

uint64_t pacer_due(struct bench_pacer *p, uint64_t now)
{
    uint64_t due = p->start_ns + (uint64_t)((double)p->next * p->interval_ns);
    if (due > now)
        return 0;
    p->next++;
    return due ? due : 1;
}

int bench_tick_us(const struct bench_opts *o, int closed_us)
{
    return o->rate > 0 ? 100 : closed_us;
}
