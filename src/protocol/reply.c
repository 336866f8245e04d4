#include "protocol/reply.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/numbers.h"

size_t reply_encode_header(char *buf, char type, long long n)
{
    buf[0] = type;
    size_t len = 1 + format_ll(buf + 1, n);
    buf[len++] = '\r';
    buf[len++] = '\n';
    return len;
}

static void reply_header(struct outbuf *o, char type, long long n)
{
    if (o->muted) return;
    char *p = outbuf_reserve(o, 24);
    outbuf_commit(o, reply_encode_header(p, type, n));
}

void reply_raw(struct outbuf *o, const void *data, size_t len)
{
    outbuf_append(o, data, len);
}

void reply_help(struct outbuf *o, const char *const *lines, size_t n)
{
    reply_array(o, (long long)n);
    for (size_t i = 0; i < n; i++) reply_simple(o, lines[i]);
}

void reply_simple(struct outbuf *o, const char *status)
{
    size_t len = strlen(status);
    if (o->muted) return;
    if (len <= 256) {
        char *p = outbuf_reserve(o, len + 3);
        p[0] = '+';
        memcpy(p + 1, status, len);
        p[len + 1] = '\r';
        p[len + 2] = '\n';
        outbuf_commit(o, len + 3);
        return;
    }
    outbuf_append(o, "+", 1);
    outbuf_append(o, status, len);
    outbuf_append(o, "\r\n", 2);
}

void reply_ok(struct outbuf *o)
{
    outbuf_append(o, "+OK\r\n", 5);
}

/* Records the error's code (its first word) for INFO errorstats, then writes
 * the error with newlines flattened, as Redis does, so the reply stays one line. */
void reply_error(struct outbuf *o, const char *msg)
{
    o->errors++;
    size_t code = strcspn(msg, " ");
    if (code >= sizeof(o->last_error)) code = sizeof(o->last_error) - 1;
    memcpy(o->last_error, msg, code);
    o->last_error[code] = '\0';
    if (o->muted) return;
    size_t len = strlen(msg);
    outbuf_append(o, "-", 1);
    while (len > 0) { /* in pieces, so that a long message needs no big block */
        size_t n = len < 4096 ? len : 4096;
        char *p = outbuf_reserve(o, n);
        for (size_t i = 0; i < n; i++) p[i] = (msg[i] == '\r' || msg[i] == '\n') ? ' ' : msg[i];
        outbuf_commit(o, n);
        msg += n;
        len -= n;
    }
    outbuf_append(o, "\r\n", 2);
}

void reply_errorf(struct outbuf *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    reply_error(o, buf);
}

void reply_int(struct outbuf *o, long long v)
{
    reply_header(o, ':', v);
}

void reply_bulk(struct outbuf *o, const void *data, size_t len)
{
    if (o->muted) return;
    if (len <= 1024) {
        char *p = outbuf_reserve(o, len + 32);
        size_t h = reply_encode_header(p, '$', (long long)len);
        memcpy(p + h, data, len);
        p[h + len] = '\r';
        p[h + len + 1] = '\n';
        outbuf_commit(o, h + len + 2);
        return;
    }
    reply_header(o, '$', (long long)len);
    outbuf_append(o, data, len);
    outbuf_append(o, "\r\n", 2);
}

void reply_bulk_cstr(struct outbuf *o, const char *s)
{
    if (!s) {
        reply_null(o);
        return;
    }
    reply_bulk(o, s, strlen(s));
}

void reply_bulk_ll(struct outbuf *o, long long v)
{
    char buf[24];
    size_t n = format_ll(buf, v);
    reply_bulk(o, buf, n);
}

void reply_null(struct outbuf *o)
{
    if (o->resp >= 3) outbuf_append(o, "_\r\n", 3);
    else outbuf_append(o, "$-1\r\n", 5);
}

void reply_null_array(struct outbuf *o)
{
    if (o->resp >= 3) outbuf_append(o, "_\r\n", 3);
    else outbuf_append(o, "*-1\r\n", 5);
}

void reply_array(struct outbuf *o, long long n)
{
    reply_header(o, '*', n);
}

void reply_empty_array(struct outbuf *o)
{
    outbuf_append(o, "*0\r\n", 4);
}

void reply_map(struct outbuf *o, long long pairs)
{
    if (o->resp >= 3) reply_header(o, '%', pairs);
    else reply_header(o, '*', pairs * 2);
}

void reply_set(struct outbuf *o, long long n)
{
    reply_header(o, o->resp >= 3 ? '~' : '*', n);
}

void reply_push(struct outbuf *o, long long n)
{
    reply_header(o, o->resp >= 3 ? '>' : '*', n);
}

void reply_attribute(struct outbuf *o, long long n)
{
    if (o->resp >= 3) reply_header(o, '|', n);
}

/* Shortest decimal form that reads back as the same double, laid out as
 * %.17g lays numbers out (plain for decimal exponents -4..16, else
 * scientific), which is what Redis 7.2 prints: 30 is "30", not the "3e+01"
 * that %.1g would give. Any decimal of at most 15 digits survives a trip
 * through a double (DBL_DIG), so when 15 digits read back, those digits
 * without their trailing zeros are the shortest form; only the rest need
 * 16 or 17 (subnormals, short of bits, are searched from 1 digit).
 * Integers, the common case (timestamps, counters), skip all that. */
size_t reply_format_double(char *buf, size_t size, double d)
{
    if (isinf(d)) return (size_t)snprintf(buf, size, d > 0 ? "inf" : "-inf");
    if (isnan(d)) return (size_t)snprintf(buf, size, "nan");
    if (size >= 24 && fabs(d) < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d)))
        return format_ll(buf, (long long)d);
    char sci[40];
    int precision = fabs(d) < DBL_MIN ? 1 : 15; /* subnormals carry fewer digits */
    for (; precision < 17; precision++) {
        snprintf(sci, sizeof(sci), "%.*e", precision - 1, d);
        if (strtod(sci, NULL) == d) break;
    }
    if (precision == 17) snprintf(sci, sizeof(sci), "%.16e", d);
    char *exp = strchr(sci, 'e'), *end = exp;
    while (end[-1] == '0') end--;
    if (end[-1] == '.') end--;
    int digits = (int)(end - sci) - (sci[0] == '-') - (memchr(sci, '.', (size_t)(end - sci)) != NULL);
    int exponent = atoi(exp + 1);
    int n;
    if (exponent < -4 || exponent >= 17) n = snprintf(buf, size, "%.*s%s", (int)(end - sci), sci, exp);
    else n = snprintf(buf, size, "%.*f", digits - 1 - exponent > 0 ? digits - 1 - exponent : 0, d);
    return n < 0 ? 0 : (size_t)n;
}

/* A double already formatted: a bulk string in RESP2, a double in RESP3. */
static void reply_double_text(struct outbuf *o, const char *buf, size_t n)
{
    if (o->resp < 3) {
        reply_bulk(o, buf, n);
        return;
    }
    outbuf_append(o, ",", 1);
    outbuf_append(o, buf, n);
    outbuf_append(o, "\r\n", 2);
}

void reply_double(struct outbuf *o, double d)
{
    char buf[64];
    reply_double_text(o, buf, reply_format_double(buf, sizeof(buf), d));
}

void reply_double_17g(struct outbuf *o, double d)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%.17g", d);
    reply_double_text(o, buf, (size_t)n);
}

void reply_bool(struct outbuf *o, bool b)
{
    if (o->resp >= 3) outbuf_append(o, b ? "#t\r\n" : "#f\r\n", 4);
    else outbuf_append(o, b ? ":1\r\n" : ":0\r\n", 4);
}

void reply_verbatim(struct outbuf *o, const char *data, size_t len, const char *ext)
{
    if (o->resp < 3) {
        reply_bulk(o, data, len);
        return;
    }
    reply_header(o, '=', (long long)len + 4);
    outbuf_append(o, ext, 3);
    outbuf_append(o, ":", 1);
    outbuf_append(o, data, len);
    outbuf_append(o, "\r\n", 2);
}

outbuf_mark reply_defer(struct outbuf *o)
{
    return outbuf_defer(o);
}

static void reply_fill(struct outbuf *o, outbuf_mark mark, char type, long long n)
{
    char buf[24];
    outbuf_fill_deferred(o, mark, buf, reply_encode_header(buf, type, n));
}

void reply_deferred_array(struct outbuf *o, outbuf_mark mark, long long n)
{
    reply_fill(o, mark, '*', n);
}

void reply_deferred_map(struct outbuf *o, outbuf_mark mark, long long pairs)
{
    if (o->resp >= 3) reply_fill(o, mark, '%', pairs);
    else reply_fill(o, mark, '*', pairs * 2);
}

void reply_deferred_set(struct outbuf *o, outbuf_mark mark, long long n)
{
    reply_fill(o, mark, o->resp >= 3 ? '~' : '*', n);
}
