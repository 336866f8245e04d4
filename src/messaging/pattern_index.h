/* pattern_index: glob patterns indexed by their literal prefix, so that
 * finding the patterns a channel matches costs the channel's length plus the
 * candidates whose prefix the channel starts with, not one glob match per
 * pattern. The literal prefix is everything before the first `*`, `?`, `[`
 * or `\`; each candidate is still checked with the full glob, so matching is
 * exactly glob_match's. */
#ifndef RUNNEL_MESSAGING_PATTERN_INDEX_H
#define RUNNEL_MESSAGING_PATTERN_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct pattern_index;

struct pattern_index *pattern_index_create(void);
void pattern_index_release(struct pattern_index *idx);
/* Adds a pattern with its value; the caller adds each (pattern, value) once. */
void pattern_index_add(struct pattern_index *idx, const char *pattern, size_t len, void *value);
/* Removes the pattern added with `value`; false if it is not there. */
bool pattern_index_remove(struct pattern_index *idx, const char *pattern, size_t len, void *value);
size_t pattern_index_size(const struct pattern_index *idx);

/* Calls fn for every pattern that matches `name` (case-sensitive), shortest
 * literal prefix first. fn must not add or remove patterns. */
typedef void pattern_index_fn(const char *pattern, size_t len, void *value, void *ctx);
void pattern_index_match(const struct pattern_index *idx, const char *name, size_t len, pattern_index_fn *fn,
                         void *ctx);

#endif
