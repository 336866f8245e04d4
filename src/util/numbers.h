/* numbers: strict conversions between byte strings and numbers, with the
 * rules Redis applies to command arguments (no spaces, no leading '+', no
 * leading zeros for integers that must round-trip). */
#ifndef RUNNEL_UTIL_NUMBERS_H
#define RUNNEL_UTIL_NUMBERS_H

#include <stdbool.h>
#include <stddef.h>

/* Parses a 64-bit signed integer; the whole string must be the number. */
bool parse_ll(const char *s, size_t len, long long *out);
/* Parses a long double as INCRBYFLOAT accepts it (no spaces, not NaN). */
bool parse_ld(const char *s, size_t len, long double *out);
/* Parses a double as ZADD/timeouts accept it ("inf", "-inf", "+inf" too). */
bool parse_double(const char *s, size_t len, double *out);
/* Writes the decimal form of v; returns its length (buf >= 21 bytes). */
size_t format_ll(char *buf, long long v);
size_t format_ull(char *buf, unsigned long long v);
/* Bytes as INFO's *_human fields show them: "512B", "1.50K", "2.00M"... */
void format_human_bytes(char *buf, size_t size, double n);
/* Formats a long double as INCRBYFLOAT replies (%.17Lf, trailing zeros cut). */
size_t format_ld(char *buf, size_t size, long double v);

#endif
