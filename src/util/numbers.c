#include "util/numbers.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool parse_ll(const char *s, size_t len, long long *out)
{
    if (len == 0 || len > 20) return false;
    size_t i = 0;
    bool negative = false;
    if (s[0] == '-') {
        negative = true;
        i = 1;
        if (len == 1) return false;
    }
    if (s[i] == '0') {
        if (len == i + 1 && !negative) {
            *out = 0;
            return true;
        }
        return false; /* leading zero, or "-0" */
    }
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return false;
        *out = (long long)v;
    }
    return true;
}

static bool copy_to_cbuf(char *buf, size_t size, const char *s, size_t len)
{
    if (len == 0 || len >= size) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return true;
}

bool parse_ld(const char *s, size_t len, long double *out)
{
    char buf[5120];
    if (!copy_to_cbuf(buf, sizeof(buf), s, len)) return false;
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r') return false;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (end != buf + len || isnan(v) || (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)))
        return false;
    *out = v;
    return true;
}

bool parse_double(const char *s, size_t len, double *out)
{
    char buf[5120];
    if (!copy_to_cbuf(buf, sizeof(buf), s, len)) return false;
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r') return false;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len || isnan(v) || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)))
        return false;
    *out = v;
    return true;
}

size_t format_ull(char *buf, unsigned long long v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t format_ll(char *buf, long long v)
{
    if (v >= 0) return format_ull(buf, (unsigned long long)v);
    buf[0] = '-';
    return 1 + format_ull(buf + 1, 0 - (unsigned long long)v);
}

size_t format_ld(char *buf, size_t size, long double v)
{
    if (isinf(v)) return (size_t)snprintf(buf, size, v > 0 ? "inf" : "-inf");
    int n = snprintf(buf, size, "%.17Lf", v);
    if (n < 0 || (size_t)n >= size) return 0;
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0') n--;
        if (n > 0 && buf[n - 1] == '.') n--;
        buf[n] = '\0';
    }
    if (n == 2 && strcmp(buf, "-0") == 0) {
        buf[0] = '0';
        buf[1] = '\0';
        n = 1;
    }
    return (size_t)n;
}

void format_human_bytes(char *buf, size_t size, double n)
{
    const char *units = "BKMGTP";
    int u = 0;
    while (n >= 1024 && u < 5) {
        n /= 1024;
        u++;
    }
    if (u == 0) snprintf(buf, size, "%.0fB", n);
    else snprintf(buf, size, "%.2f%c", n, units[u]);
}
