/* keys_walk: one walk over every database that finds the keys the endpoint
 * reports — every stream, and lists matching metrics-list-patterns — and
 * hands each to a visitor, at most metrics-max-series of them, leaving out
 * those the request's user may not read (XINFO STREAM or LLEN of the key,
 * console_exec_allows_key). It costs O(keys) on the server's thread. */
#ifndef RUNNEL_HTTP_KEYS_WALK_H
#define RUNNEL_HTTP_KEYS_WALK_H

#include <stdbool.h>
#include <stddef.h>

struct stream;
struct object;
struct list_counts;

/* A NULL callback leaves that kind out (it is not counted either). */
struct keys_visitor {
    void (*stream)(void *ctx, int db, const char *key, size_t len, struct stream *s);
    /* counts: the list's pushes and pops (http/list_rates.h), NULL when not counted */
    void (*list)(void *ctx, int db, const char *key, size_t len, size_t length, const struct list_counts *counts);
    void *ctx;
};

/* Visits the reported keys in each database's table order; returns how
 * many more there were beyond metrics-max-series. */
long long keys_walk(const struct keys_visitor *v);

/* Whether the key matches one of metrics-list-patterns' space-separated globs. */
bool keys_walk_list_matches(const char *key, size_t len);

#endif
