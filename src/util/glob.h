/* glob: the pattern matching Redis applies to CONFIG GET, KEYS, SCAN MATCH
 * and PSUBSCRIBE (Redis's stringmatchlen). */
#ifndef RUNNEL_UTIL_GLOB_H
#define RUNNEL_UTIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Reports whether the whole of string[0..slen) matches pattern[0..plen).
 * `*` matches any run of bytes, `?` any one byte, `[abc]` `[a-z]` `[^a]` a
 * class (a reversed range is swapped, an unterminated class ends at the end
 * of the pattern), and `\x` the byte x literally. Both inputs are
 * binary-safe. nocase folds ASCII letters. Runs in O(plen * slen) time, so
 * a hostile pattern cannot make it exponential. */
bool glob_match(const char *pattern, size_t plen, const char *string, size_t slen, bool nocase);

/* Length of the pattern's literal prefix: the bytes before its first `*`,
 * `?`, `[` or `\`. Any string the pattern matches starts with them. */
size_t glob_literal_prefix(const char *pattern, size_t len);

#endif
