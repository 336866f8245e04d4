/* reply: encodes replies in the client's protocol version (RESP2 or RESP3)
 * into its output queue. Callers say what a value is (map, set, double,
 * null...); the writer picks the wire form for the version, so command code
 * never branches on the protocol. */
#ifndef RUNNEL_PROTOCOL_REPLY_H
#define RUNNEL_PROTOCOL_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/outbuf.h"

void reply_simple(struct outbuf *o, const char *status); /* +status */
void reply_ok(struct outbuf *o);
/* An error line; `msg` starts with its code ("ERR ...", "WRONGTYPE ..."). */
void reply_error(struct outbuf *o, const char *msg);
void reply_errorf(struct outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct outbuf *o, long long v);
void reply_bulk(struct outbuf *o, const void *data, size_t len);
void reply_bulk_cstr(struct outbuf *o, const char *s);
void reply_bulk_ll(struct outbuf *o, long long v);
void reply_null(struct outbuf *o);       /* RESP2 $-1, RESP3 _ */
void reply_null_array(struct outbuf *o); /* RESP2 *-1, RESP3 _ */
void reply_array(struct outbuf *o, long long n);
void reply_map(struct outbuf *o, long long pairs);   /* RESP2: flat array of 2n */
void reply_set(struct outbuf *o, long long n);       /* RESP2: array */
void reply_push(struct outbuf *o, long long n);      /* RESP2: array */
void reply_attribute(struct outbuf *o, long long n); /* RESP3 only */
void reply_double(struct outbuf *o, double d);       /* RESP2: bulk string */
/* The same with every digit ("%.17g": 0.1 is 0.10000000000000001), as Redis
 * 7.0 wrote every double; for replies that still match it (ACL LOG). */
void reply_double_17g(struct outbuf *o, double d);
void reply_bool(struct outbuf *o, bool b);           /* RESP2: :1 / :0 */
void reply_verbatim(struct outbuf *o, const char *data, size_t len, const char *ext); /* RESP2: bulk */
void reply_empty_array(struct outbuf *o);
void reply_raw(struct outbuf *o, const void *data, size_t len);
/* A HELP reply: one status line per entry. */
void reply_help(struct outbuf *o, const char *const *lines, size_t n);

/* Aggregates whose length is known only after their elements are written. */
outbuf_mark reply_defer(struct outbuf *o);
void reply_deferred_array(struct outbuf *o, outbuf_mark mark, long long n);
void reply_deferred_map(struct outbuf *o, outbuf_mark mark, long long pairs);
void reply_deferred_set(struct outbuf *o, outbuf_mark mark, long long n);

/* Encodes a frame header ("*3\r\n", "$5\r\n") into buf; returns its length.
 * Exposed for pub/sub, which builds shared message blocks itself. */
size_t reply_encode_header(char *buf, char type, long long n);

/* Formats a double as Redis does (shortest round-trip, "inf", "-inf", "nan"). */
size_t reply_format_double(char *buf, size_t size, double d);

#endif
