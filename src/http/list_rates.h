/* list_rates: push and pop counts of the lists matching
 * metrics-list-patterns (runnel_list_pushed_total, runnel_list_popped_total,
 * the queues page's rates). A list created under a matching name while the
 * endpoint runs (not while a dataset loads) gets the counts kept for its
 * database and name, and adds every push and pop to them
 * (types/list.h's list_counts); lists the metrics walk finds without counts
 * (loaded, restored, renamed into a matching name) start counting then.
 * The counts outlive the list: a queue that empties and fills again keeps
 * counting where it was. At most metrics-max-series names are kept; lists
 * past that are not counted. Other lists pay nothing but, when patterns
 * are set, the pattern test when they are created. */
#ifndef RUNNEL_HTTP_LIST_RATES_H
#define RUNNEL_HTTP_LIST_RATES_H

#include <stddef.h>

struct list_counts;
struct object;

/* Installs the hook types/list.c asks when a list is created. */
void list_rates_start(void);
/* Makes a matching list found without counts count from now on. */
void list_rates_adopt(int db, const char *key, size_t len, struct object *o);

typedef void list_rates_fn(void *ctx, int db, const char *key, size_t len, const struct list_counts *c);
/* Visits the counts of every name kept that matches the patterns now. */
void list_rates_each(list_rates_fn *fn, void *ctx);

#endif
