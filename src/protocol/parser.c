/* parser: RESP multibulk and inline request parsing, following redis-server
 * 7.x (networking.c processMultibulkBuffer / processInlineBuffer and
 * sdssplitargs) down to its error texts and quirks:
 *  - header lines end at the first '\r'; the byte after it is skipped unseen;
 *  - the two bytes after bulk data are skipped unseen;
 *  - a header or inline line is only "too big" while no terminator has
 *    arrived and more than 64 KB are buffered from its start.
 * Unlike Redis, a NUL byte is an ordinary byte everywhere (Redis's C-string
 * scans stall on it). Inline requests have no argument-count limit, as in
 * Redis. Once an error is returned, the parser keeps returning it. */
#include "protocol/parser.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"

/* Redis's PROTO_INLINE_MAX_SIZE: the most bytes a header or inline line may
 * have buffered before its terminator arrives. */
#define RESP_LINE_MAX (64 * 1024)
#define RESP_ARGS_MIN 16

/* What one parsing step achieved. */
enum step {
    STEP_PROGRESS, /* consumed something; go on */
    STEP_COMMAND,  /* a command is complete */
    STEP_MORE,     /* need more bytes */
    STEP_ERROR,    /* p->error is set */
};

/* A reader over an inline line that unescapes in place: `w` never passes `r`. */
struct cursor {
    char *buf;
    size_t r;   /* next byte to read */
    size_t w;   /* next byte to write */
    size_t end; /* end of the line, excluding its terminator */
};

void resp_parser_init(struct resp_parser *p, long long max_bulk_len, long long max_multibulk_len)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = max_bulk_len;
    p->max_multibulk_len = max_multibulk_len;
    p->bulk_len = -1;
}

void resp_parser_free(struct resp_parser *p)
{
    mem_free(p->args);
    p->args = NULL;
    p->argc = 0;
    p->arg_capacity = 0;
}

static enum step fail(struct resp_parser *p, const char *msg)
{
    p->error = msg;
    return STEP_ERROR;
}

/* Formats the "expected '$'" error into a static buffer (the parser is used
 * from one thread). CR/LF become spaces, as in Redis's error replies. */
static enum step fail_expected_dollar(struct resp_parser *p, char got)
{
    static char msg[64];

    if (got == '\r' || got == '\n') got = ' ';
    snprintf(msg, sizeof(msg), "Protocol error: expected '$', got '%c'", got);
    return fail(p, msg);
}

/* Parses s[0..n) as a long long by Redis's string2ll rules: optional '-', no
 * '+', no spaces, no leading zeros ("0" alone is fine), no overflow. Never
 * reads past s[n-1], so s need not be terminated. */
static bool parse_ll(const char *s, size_t n, long long *out)
{
    if (n == 0 || n > 20) return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    bool negative = s[0] == '-';
    size_t i = negative ? 1 : 0;
    if (i == n || s[i] < '1' || s[i] > '9') return false;

    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        *out = -(long long)(v - 1) - 1;
        return true;
    }
    if (v > (unsigned long long)LLONG_MAX) return false;
    *out = (long long)v;
    return true;
}

/* Doubles the args array (out of line: a client's array soon has room). */
static __attribute__((noinline, cold)) void grow_args(struct resp_parser *p)
{
    size_t cap = p->arg_capacity ? p->arg_capacity * 2 : RESP_ARGS_MIN;
    p->args = mem_realloc(p->args, cap * sizeof(*p->args));
    p->arg_capacity = cap;
}

/* Appends an argument slice, growing the array geometrically. */
static inline void push_arg(struct resp_parser *p, size_t off, size_t len)
{
    if (p->argc == p->arg_capacity) grow_args(p);
    p->args[p->argc].off = off;
    p->args[p->argc].len = len;
    p->argc++;
}

/* Forgets the command just returned so the next one can be assembled; the
 * args array keeps its capacity. */
static void start_command(struct resp_parser *p)
{
    p->kind = 0;
    p->argc = 0;
    p->multibulk_left = 0;
    p->bulk_len = -1;
}

/* Finds the end of the header line at p->pos: sets *cr to its '\r' once that
 * and one more byte have arrived. Fails with `too_big` if no '\r' is buffered
 * and the line already exceeds RESP_LINE_MAX. Requires p->pos < len. */
static enum step find_header(struct resp_parser *p, const char *buf, size_t len,
                             const char *too_big, size_t *cr)
{
    size_t avail = len - p->pos;
    const char *found = memchr(buf + p->pos, '\r', avail);
    if (!found) return avail > RESP_LINE_MAX ? fail(p, too_big) : STEP_MORE;

    size_t off = (size_t)(found - buf);
    if (off + 1 >= len) return STEP_MORE;
    *cr = off;
    return STEP_PROGRESS;
}

/* Reads the `*<count>` line at p->pos (which holds '*'). Counts <= 0 are
 * consumed as empty requests; otherwise the multibulk body begins. */
static enum step parse_multibulk_count(struct resp_parser *p, const char *buf, size_t len)
{
    size_t cr;
    enum step s = find_header(p, buf, len, "Protocol error: too big mbulk count string", &cr);
    if (s != STEP_PROGRESS) return s;

    long long count;
    if (!parse_ll(buf + p->pos + 1, cr - p->pos - 1, &count) || count > INT_MAX ||
        count > p->max_multibulk_len)
        return fail(p, "Protocol error: invalid multibulk length");

    p->pos = cr + 2;
    if (count <= 0) return STEP_PROGRESS;
    p->kind = '*';
    p->multibulk_left = count;
    p->bulk_len = -1;
    return STEP_PROGRESS;
}

/* The usual `$<len>` line, of one or two digits ("$0" to "$99", no
 * leading zero) whose '\r' and one byte after it have arrived: its length
 * and the '\r''s offset, without the general search and number parse.
 * False for anything else (which the general path then reads, with the
 * same result for these). */
static inline bool small_bulk_header(const char *buf, size_t pos, size_t len, long long *n, size_t *cr)
{
    unsigned a = (unsigned char)buf[pos + 1] - '0';
    if (pos + 3 < len && buf[pos + 2] == '\r' && a <= 9) {
        *n = a;
        *cr = pos + 2;
        return true;
    }
    unsigned b = pos + 2 < len ? (unsigned char)buf[pos + 2] - '0' : 10;
    if (pos + 4 < len && buf[pos + 3] == '\r' && a - 1 <= 8 && b <= 9) {
        *n = 10 * a + b;
        *cr = pos + 3;
        return true;
    }
    return false;
}

/* Reads the `$<len>` line at p->pos and records the bulk length. */
static enum step parse_bulk_header(struct resp_parser *p, const char *buf, size_t len)
{
    size_t cr;
    long long n;
    if (buf[p->pos] == '$' && p->pos + 1 < len && small_bulk_header(buf, p->pos, len, &n, &cr) &&
        n <= p->max_bulk_len) {
        p->pos = cr + 2;
        p->bulk_len = n;
        return STEP_PROGRESS;
    }
    enum step s = find_header(p, buf, len, "Protocol error: too big bulk count string", &cr);
    if (s != STEP_PROGRESS) return s;
    if (buf[p->pos] != '$') return fail_expected_dollar(p, buf[p->pos]);

    if (!parse_ll(buf + p->pos + 1, cr - p->pos - 1, &n) || n < 0 || n > p->max_bulk_len)
        return fail(p, "Protocol error: invalid bulk length");

    p->pos = cr + 2;
    p->bulk_len = n;
    return STEP_PROGRESS;
}

/* Reads as many bulk arguments of the current multibulk as have fully
 * arrived; each one is recorded once, so nothing is rescanned later. */
static enum step parse_bulks(struct resp_parser *p, const char *buf, size_t len)
{
    while (p->multibulk_left > 0) {
        if (p->bulk_len < 0) {
            if (p->pos >= len) return STEP_MORE;
            enum step s = parse_bulk_header(p, buf, len);
            if (s != STEP_PROGRESS) return s;
        }
        unsigned long long need = (unsigned long long)p->bulk_len + 2;
        if (len - p->pos < need) return STEP_MORE;

        push_arg(p, p->pos, (size_t)p->bulk_len);
        p->pos += (size_t)need;
        p->bulk_len = -1;
        p->multibulk_left--;
    }
    return STEP_COMMAND;
}

/* Separators between inline arguments: C isspace() in the C locale. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Bytes that end an unquoted inline argument (narrower than is_blank, as in
 * sdssplitargs: "a\vb" is one argument). */
static bool ends_token(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put(struct cursor *c, char byte)
{
    c->buf[c->w++] = byte;
}

/* Accepts the closing quote at c->r if the line ends or a blank follows it. */
static bool close_quote(struct cursor *c)
{
    if (c->r + 1 < c->end && !is_blank(c->buf[c->r + 1])) return false;
    c->r++;
    return true;
}

/* Decodes the escape at c->r ('\\' with at least one byte after it) inside
 * double quotes: \xHH, \n \r \t \b \a, or the escaped byte itself. */
static void read_escape(struct cursor *c)
{
    char next = c->buf[c->r + 1];
    if (next == 'x' && c->r + 3 < c->end) {
        int hi = hex_value(c->buf[c->r + 2]);
        int lo = hex_value(c->buf[c->r + 3]);
        if (hi >= 0 && lo >= 0) {
            put(c, (char)(hi * 16 + lo));
            c->r += 4;
            return;
        }
    }
    switch (next) {
    case 'n': next = '\n'; break;
    case 'r': next = '\r'; break;
    case 't': next = '\t'; break;
    case 'b': next = '\b'; break;
    case 'a': next = '\a'; break;
    default: break;
    }
    put(c, next);
    c->r += 2;
}

/* Reads a "double quoted" part; c->r is just past the opening quote. False
 * if the quote is never closed or is followed by a non-blank. */
static bool read_double_quoted(struct cursor *c)
{
    while (c->r < c->end) {
        char ch = c->buf[c->r];
        if (ch == '"') return close_quote(c);
        if (ch == '\\' && c->r + 1 < c->end) {
            read_escape(c);
            continue;
        }
        put(c, ch);
        c->r++;
    }
    return false;
}

/* Reads a 'single quoted' part, where only \' is an escape; c->r is just
 * past the opening quote. False on a missing or misplaced closing quote. */
static bool read_single_quoted(struct cursor *c)
{
    while (c->r < c->end) {
        char ch = c->buf[c->r];
        if (ch == '\\' && c->r + 1 < c->end && c->buf[c->r + 1] == '\'') {
            put(c, '\'');
            c->r += 2;
            continue;
        }
        if (ch == '\'') return close_quote(c);
        put(c, ch);
        c->r++;
    }
    return false;
}

/* Reads one argument starting at a non-blank c->r: bare bytes, optionally
 * ending in one quoted part (a quote may open mid-word, as in Redis). */
static bool read_token(struct cursor *c)
{
    while (c->r < c->end) {
        char ch = c->buf[c->r++];
        if (ends_token(ch)) return true;
        if (ch == '"') return read_double_quoted(c);
        if (ch == '\'') return read_single_quoted(c);
        put(c, ch);
    }
    return true;
}

/* Splits buf[start..end) into arguments, unescaping each in place. False on
 * unbalanced quotes (buf may then be partly rewritten). */
static bool split_inline(struct resp_parser *p, char *buf, size_t start, size_t end)
{
    struct cursor c = {.buf = buf, .r = start, .end = end};
    for (;;) {
        while (c.r < c.end && is_blank(buf[c.r])) c.r++;
        if (c.r == c.end) return true;
        size_t arg = c.r;
        c.w = c.r;
        if (!read_token(&c)) return false;
        push_arg(p, arg, c.w - arg);
    }
}

/* Parses one inline line once its '\n' has arrived; blank lines are
 * consumed without producing a command. */
static enum step parse_inline(struct resp_parser *p, char *buf, size_t len)
{
    size_t avail = len - p->pos;
    const char *nl = memchr(buf + p->pos, '\n', avail);
    if (!nl) {
        if (avail > RESP_LINE_MAX) return fail(p, "Protocol error: too big inline request");
        return STEP_MORE;
    }
    size_t end = (size_t)(nl - buf);
    size_t next = end + 1;
    if (end > p->pos && buf[end - 1] == '\r') end--;

    if (!split_inline(p, buf, p->pos, end))
        return fail(p, "Protocol error: unbalanced quotes in request");
    p->pos = next;
    if (p->argc == 0) return STEP_PROGRESS;
    p->kind = 'i';
    return STEP_COMMAND;
}

/* A command was returned by the previous call. (An inline request sets kind
 * only when complete; a multibulk one has no arguments left only then.) */
static bool command_returned(const struct resp_parser *p)
{
    return p->kind != 0 && p->multibulk_left == 0;
}

/* Takes one step: continues a multibulk, or starts a request whose kind its
 * first byte decides, as Redis does. Requires p->pos < len. */
static enum step parse_step(struct resp_parser *p, char *buf, size_t len)
{
    if (p->kind == '*') return parse_bulks(p, buf, len);
    if (buf[p->pos] == '*') return parse_multibulk_count(p, buf, len);
    return parse_inline(p, buf, len);
}

enum resp_status resp_parse(struct resp_parser *p, char *buf, size_t len)
{
    if (p->error) return RESP_ERROR;
    if (command_returned(p)) start_command(p);

    for (;;) {
        if (p->pos >= len) return RESP_INCOMPLETE;
        switch (parse_step(p, buf, len)) {
        case STEP_PROGRESS: break;
        case STEP_COMMAND: return RESP_COMMAND;
        case STEP_MORE: return RESP_INCOMPLETE;
        case STEP_ERROR: return RESP_ERROR;
        }
    }
}

void resp_parser_shift(struct resp_parser *p, size_t n)
{
    if (n == 0) return;
    p->pos -= n;
    for (size_t i = 0; i < p->argc; i++) p->args[i].off -= n;
}

size_t resp_parser_bulk_remaining(const struct resp_parser *p, size_t len)
{
    if (p->error || p->kind != '*' || p->bulk_len < 0) return 0;
    size_t need = p->pos + (size_t)p->bulk_len + 2;
    return need > len ? need - len : 0;
}

bool resp_is_http_attack(const char *arg, size_t len)
{
    if (len == 4 && strncasecmp(arg, "post", 4) == 0) return true;
    return len == 5 && strncasecmp(arg, "host:", 5) == 0;
}
