/* parser: turns a client's query buffer into commands, resumably.
 *
 * Accepts RESP multibulk requests (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and
 * inline commands (a line of space-separated words, with "double" and 'single'
 * quoting as redis-cli and telnet send them). Arguments are not copied: each
 * is an (offset, length) slice of the query buffer, valid until the caller
 * shifts the buffer. Inline quoted arguments are unescaped in place (the
 * result is never longer than its source).
 *
 * The parser remembers how far it got, so a command arriving in many reads is
 * scanned once, not once per read. */
#ifndef RUNNEL_PROTOCOL_PARSER_H
#define RUNNEL_PROTOCOL_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct resp_arg {
    size_t off;
    size_t len;
};

enum resp_status {
    RESP_COMMAND,    /* args[0..argc) hold one complete command */
    RESP_INCOMPLETE, /* need more bytes; everything so far is remembered */
    RESP_ERROR,      /* protocol error; `error` says what (Redis's words) */
};

struct resp_parser {
    /* limits, set by the owner */
    long long max_bulk_len;      /* proto-max-bulk-len */
    long long max_multibulk_len; /* most arguments in one request */

    /* progress through the buffer */
    size_t pos;               /* first unparsed byte */
    int kind;                 /* 0 none yet, '*' multibulk, 'i' inline */
    long long multibulk_left; /* arguments still to read */
    long long bulk_len;       /* length of the bulk being read, or -1 */

    /* the command being assembled */
    struct resp_arg *args;
    size_t argc;
    size_t arg_capacity;

    const char *error; /* set with RESP_ERROR: "Protocol error: ..." */
};

void resp_parser_init(struct resp_parser *p, long long max_bulk_len, long long max_multibulk_len);
void resp_parser_free(struct resp_parser *p);

/* Parses the next command from buf[p->pos .. len). On RESP_COMMAND the
 * command spans up to p->pos; the next call continues after it. Empty inline
 * lines and `*0`/`*-1` requests are skipped, never returned. `buf` must be
 * writable (inline unescaping) and must hold the same bytes on every call
 * (it may move: only offsets are kept). */
enum resp_status resp_parse(struct resp_parser *p, char *buf, size_t len);

/* After the caller drops the first `n` bytes of the buffer (n <= p->pos),
 * keeps offsets in step. */
void resp_parser_shift(struct resp_parser *p, size_t n);

/* While reading a big bulk argument: how many more bytes that bulk (with its
 * CRLF) still needs from position `len`, so the reader can size one read for
 * it; 0 when not inside a bulk. */
size_t resp_parser_bulk_remaining(const struct resp_parser *p, size_t len);

/* True if the buffer starting at `buf` looks like an HTTP request or header
 * line ("POST", "Host:"), which Redis treats as a cross-protocol attack. */
bool resp_is_http_attack(const char *arg, size_t len);

#endif
