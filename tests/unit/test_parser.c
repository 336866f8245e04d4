/* Unit tests for the RESP request parser (src/protocol/parser.c).
 *
 * Most tests go through check(), which parses an input whole, byte by byte,
 * split in two at every offset, and byte by byte while dropping consumed bytes
 * the way a connection does, and requires the same transcript every time. A
 * transcript lists each command as "[arg][arg]\n" and ends with "..." (waiting
 * for more bytes) or "ERR <message>". Expected error texts were checked against
 * redis-server 7.0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/parser.h"
#include "util/mem.h"

#define MAX_BULK (512LL * 1024 * 1024)
#define MAX_MULTIBULK (1024LL * 1024)
#define LINE_MAX_BYTES (64 * 1024)

struct text {
    char *data;
    size_t len;
    size_t cap;
};

static void text_add(struct text *t, const char *bytes, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = mem_realloc(t->data, t->cap);
    }
    memcpy(t->data + t->len, bytes, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void text_adds(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* Appends one argument in brackets, with ']', '\\' and unprintable bytes as \xHH. */
static void text_add_arg(struct text *t, const char *bytes, size_t n)
{
    text_adds(t, "[");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x20 && c < 0x7f && c != ']' && c != '\\') {
            text_add(t, (const char *)&c, 1);
            continue;
        }
        char hex[8];
        snprintf(hex, sizeof(hex), "\\x%02x", c);
        text_adds(t, hex);
    }
    text_adds(t, "]");
}

/* One parse of an input, fed in pieces. With `drop`, consumed bytes are cut
 * from the front of the buffer after each call, as a connection would. */
struct run {
    struct resp_parser p;
    const char *src;
    size_t src_len;
    char *buf;   /* holds src[base .. base + len) */
    size_t base;
    size_t len;
    bool drop;
    bool failed;
    struct text log;
};

static void run_init(struct run *r, const char *src, size_t n, bool drop)
{
    memset(r, 0, sizeof(*r));
    resp_parser_init(&r->p, MAX_BULK, MAX_MULTIBULK);
    r->src = src;
    r->src_len = n;
    r->buf = mem_alloc(n + 1);
    r->drop = drop;
}

static void run_drop(struct run *r, size_t n)
{
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
    r->base += n;
    resp_parser_shift(&r->p, n);
}

static void run_log_command(struct run *r)
{
    cr_assert_gt(r->p.argc, 0);
    for (size_t i = 0; i < r->p.argc; i++) {
        const struct resp_arg *a = &r->p.args[i];
        cr_assert_leq(a->off + a->len, r->p.pos, "argument beyond the command");
        text_add_arg(&r->log, r->buf + a->off, a->len);
    }
    text_adds(&r->log, "\n");
}

/* Makes src[0..upto) available and parses as far as it goes. */
static void run_feed(struct run *r, size_t upto)
{
    if (r->failed) return;
    size_t have = r->base + r->len;
    memcpy(r->buf + r->len, r->src + have, upto - have);
    r->len += upto - have;
    for (;;) {
        enum resp_status s = resp_parse(&r->p, r->buf, r->len);
        cr_assert_leq(r->p.pos, r->len);
        if (s == RESP_ERROR) {
            text_adds(&r->log, "ERR ");
            text_adds(&r->log, r->p.error);
            r->failed = true;
            return;
        }
        if (s == RESP_INCOMPLETE) {
            if (r->drop) run_drop(r, r->p.argc ? r->p.args[0].off : r->p.pos);
            return;
        }
        run_log_command(r);
        if (r->drop) run_drop(r, r->p.pos);
    }
}

/* Ends a run and returns its transcript (caller frees with mem_free). */
static char *run_finish(struct run *r)
{
    if (!r->failed) text_adds(&r->log, "...");
    resp_parser_free(&r->p);
    mem_free(r->buf);
    return r->log.data;
}

static char *parse_whole(const char *src, size_t n)
{
    struct run r;
    run_init(&r, src, n, false);
    run_feed(&r, n);
    return run_finish(&r);
}

static char *parse_bytewise(const char *src, size_t n, bool drop)
{
    struct run r;
    run_init(&r, src, n, drop);
    for (size_t i = 0; i <= n; i++) run_feed(&r, i);
    return run_finish(&r);
}

static char *parse_split(const char *src, size_t n, size_t at, bool drop)
{
    struct run r;
    run_init(&r, src, n, drop);
    run_feed(&r, at);
    run_feed(&r, n);
    return run_finish(&r);
}

static void expect_same(char *got, const char *want, const char *how, size_t at)
{
    cr_assert_str_eq(got, want, "%s (split at %zu): got\n%s\nwant\n%s", how, at, got, want);
    mem_free(got);
}

/* Parses src[0..n) in every way described at the top and requires `want`. */
static void check_n(const char *src, size_t n, const char *want)
{
    expect_same(parse_whole(src, n), want, "whole", n);
    expect_same(parse_bytewise(src, n, false), want, "byte by byte", 0);
    expect_same(parse_bytewise(src, n, true), want, "byte by byte, dropping", 0);
    for (size_t at = 0; at <= n; at++) {
        expect_same(parse_split(src, n, at, false), want, "two pieces", at);
        expect_same(parse_split(src, n, at, true), want, "two pieces, dropping", at);
    }
}

#define check(lit, want) check_n((lit), sizeof(lit) - 1, (want))

/* A string of `n` copies of `c` after `prefix`, caller frees. */
static char *repeat(const char *prefix, char c, size_t n, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = mem_alloc(pl + n + sl + 1);
    memcpy(s, prefix, pl);
    memset(s + pl, c, n);
    memcpy(s + pl + n, suffix, sl + 1);
    return s;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- multibulk requests ---- */

Test(multibulk, set_command)
{
    check("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n", "[SET][k][value]\n...");
}

Test(multibulk, single_argument)
{
    check("*1\r\n$4\r\nPING\r\n", "[PING]\n...");
}

Test(multibulk, empty_argument)
{
    check("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n", "[SET][][]\n...");
}

Test(multibulk, binary_argument)
{
    check("*2\r\n$4\r\nECHO\r\n$8\r\na\0\r\nb\r\n\0\r\n", "[ECHO][a\\x00\\x0d\\x0ab\\x0d\\x0a\\x00]\n...");
}

Test(multibulk, bulk_that_looks_like_a_request)
{
    check("*2\r\n$4\r\nECHO\r\n$14\r\n*1\r\n$4\r\nPING\r\n\r\n", "[ECHO][*1\\x0d\\x0a$4\\x0d\\x0aPING\\x0d\\x0a]\n...");
}

Test(multibulk, pipelined_commands)
{
    check("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\nbc\r\n",
          "[PING]\n[GET][a]\n[SET][a][bc]\n...");
}

Test(multibulk, trailing_partial_command_waits)
{
    check("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\n", "[PING]\n...");
}

Test(multibulk, negative_and_zero_counts_are_skipped)
{
    check("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n*0\r\n", "[PING]\n...");
}

Test(multibulk, crlf_after_bulk_is_not_checked)
{
    /* redis-server skips the two bytes after bulk data without looking. */
    check("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", "[PING]\n[PING]\n...");
}

Test(multibulk, header_lines_end_at_cr)
{
    /* Redis looks for '\r' only and skips whatever byte follows it. */
    check("*1\rX$4\rYPING\r\n", "[PING]\n...");
}

Test(multibulk, one_and_two_digit_bulk_lengths)
{
    /* read by a shortcut: the same commands and errors as the general path */
    check("*3\r\n$0\r\n\r\n$9\r\n123456789\r\n$10\r\n0123456789\r\n", "[][123456789][0123456789]\n...");
    check("*1\r\n$99\r\n", "...");
    check("*1\r\n$01\r\nx\r\n", "ERR Protocol error: invalid bulk length");
    check("*1\r\n$00\r\n\r\n", "ERR Protocol error: invalid bulk length");
    check("*1\r\n$1x\r\nx\r\n", "ERR Protocol error: invalid bulk length");
    check("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length");
    check("*1\r\n$:\r\nx\r\n", "ERR Protocol error: invalid bulk length");
}

Test(multibulk, nul_is_an_ordinary_byte_in_headers)
{
    check("*1\0\r\n", "ERR Protocol error: invalid multibulk length");
    check("*1\r\n$4\0\r\n", "ERR Protocol error: invalid bulk length");
}

Test(multibulk, largest_counts_accepted)
{
    check("*1048576\r\n$1\r\na\r\n", "...");
    check("*1\r\n$536870912\r\nab", "...");
}

/* ---- inline requests ---- */

Test(inline_, crlf_and_lf_endings)
{
    check("PING\r\nPING\nECHO hi\n", "[PING]\n[PING]\n[ECHO][hi]\n...");
}

Test(inline_, waits_for_newline)
{
    check("SET k v", "...");
    check("SET k v\r", "...");
}

Test(inline_, blanks_between_arguments)
{
    check("  SET \t k   v  \r\n", "[SET][k][v]\n...");
}

Test(inline_, cr_inside_line_splits)
{
    check("ECHO a\rb\r\n", "[ECHO][a][b]\n...");
}

Test(inline_, only_one_cr_is_stripped)
{
    check("ECHO a\r\r\n", "[ECHO][a]\n...");
}

Test(inline_, vertical_tab_and_form_feed)
{
    /* isspace() separates arguments, but only space, tab, CR and LF end one. */
    check("ECHO a\vb\n", "[ECHO][a\\x0bb]\n...");
    check("\vECHO\f\va\n", "[ECHO\\x0c\\x0ba]\n...");
}

Test(inline_, nul_is_an_ordinary_byte)
{
    check("ECHO a\0b\n", "[ECHO][a\\x00b]\n...");
}

Test(inline_, empty_and_blank_lines_are_skipped)
{
    check("\r\n\n  \t \r\n\v\f\nPING\n\n", "[PING]\n...");
}

Test(inline_, mixed_with_multibulk)
{
    check("PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nECHO y\n*0\r\n\n", "[PING]\n[ECHO][x]\n[ECHO][y]\n...");
}

Test(inline_, line_starting_with_blank_then_star_is_inline)
{
    check(" *1\r\n", "[*1]\n...");
}

Test(inline_, double_quotes)
{
    check("SET \"hello world\" \"\"\r\n", "[SET][hello world][]\n...");
}

Test(inline_, double_quote_escapes)
{
    check("ECHO \"\\q\\\"\\\\\\t\\b\\a\\n\\r\\x4\"\r\n", "[ECHO][q\"\\x5c\\x09\\x08\\x07\\x0a\\x0dx4]\n...");
}

Test(inline_, hex_escapes)
{
    check("ECHO \"a\\x41\\xz\\xfF\\x00\\x7\"\n", "[ECHO][aAxz\\xff\\x00x7]\n...");
}

Test(inline_, single_quotes)
{
    check("ECHO 'a\\'b\\n' '\"x\"' ''\r\n", "[ECHO][a'b\\x5cn][\"x\"][]\n...");
}

Test(inline_, quote_opening_mid_word)
{
    check("ECHO a\"b c\" d'e f'\n", "[ECHO][ab c][de f]\n...");
}

Test(inline_, closing_quote_then_blank)
{
    check("ECHO \"a\"  \r\n", "[ECHO][a]\n...");
    check("ECHO \"a\"\vx\n", "[ECHO][a][x]\n...");
    check("ECHO \"a\"\tx\n", "[ECHO][a][x]\n...");
    check("ECHO \"a\"\rx\n", "[ECHO][a][x]\n...");
}

Test(inline_, unescaped_in_place)
{
    char buf[] = "SET \"a\\x41\\n\" 'b\\'c'\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_COMMAND);
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.kind, 'i');
    cr_assert_eq(p.args[1].off, 4, "an argument starts where its source does");
    cr_assert_eq(p.args[1].len, 3);
    cr_assert_eq(memcmp(buf + p.args[1].off, "aA\n", 3), 0);
    cr_assert_eq(p.args[2].len, 3);
    cr_assert_eq(memcmp(buf + p.args[2].off, "b'c", 3), 0);
    cr_assert_eq(p.pos, sizeof(buf) - 1);
    resp_parser_free(&p);
}

Test(inline_, long_line_in_one_piece_is_accepted)
{
    /* Like Redis, the 64 KB limit only applies while no newline is buffered. */
    char *src = repeat("ECHO ", 'a', 70000, "\n");
    char *got = parse_whole(src, strlen(src));
    cr_assert_eq(strlen(got), 6 + 1 + 70000 + 2 + 3);
    cr_assert_eq(strncmp(got, "[ECHO][aaa", 10), 0);
    mem_free(got);
    mem_free(src);
}

/* ---- errors (texts as redis-server 7.0 sends them, without "ERR ") ---- */

Test(errors, invalid_multibulk_length)
{
    const char *want = "ERR Protocol error: invalid multibulk length";
    check("*abc\r\n", want);
    check("*\r\n", want);
    check("*-0\r\n", want);
    check("*01\r\n", want);
    check("*+1\r\n", want);
    check("* 1\r\n", want);
    check("*1 \r\n", want);
    check("*1x\r\n", want);
    check("*2147483648\r\n", want);
    check("*99999999999999999999\r\n", want);
    check("*-99999999999999999999\r\n", want);
}

Test(errors, expected_dollar)
{
    check("*1\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'f'");
    check("*2\r\n$1\r\na\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'");
    check("*1\r\n*1\r\n", "ERR Protocol error: expected '$', got '*'");
}

Test(errors, expected_dollar_shows_line_breaks_as_spaces)
{
    check("*1\r\n\r\n", "ERR Protocol error: expected '$', got ' '");
    check("*1\r\n\n\r\n", "ERR Protocol error: expected '$', got ' '");
}

Test(errors, expected_dollar_waits_for_whole_line)
{
    check("*1\r\nfoo", "...");
}

Test(errors, invalid_bulk_length)
{
    const char *want = "ERR Protocol error: invalid bulk length";
    check("*1\r\n$-1\r\n", want);
    check("*1\r\n$+4\r\nPING\r\n", want);
    check("*1\r\n$ 4\r\nPING\r\n", want);
    check("*1\r\n$4 \r\nPING\r\n", want);
    check("*1\r\n$\r\nPING\r\n", want);
    check("*1\r\n$04\r\nPING\r\n", want);
    check("*1\r\n$4x\r\nPING\r\n", want);
    check("*1\r\n$536870913\r\n", want);
    check("*1\r\n$99999999999999999999\r\n", want);
    check("*2\r\n$4\r\nECHO\r\n$-0\r\n", want);
}

Test(errors, unbalanced_quotes)
{
    const char *want = "ERR Protocol error: unbalanced quotes in request";
    check("ECHO \"abc\r\n", want);
    check("ECHO \"abc\\\"\r\n", want);
    check("ECHO \"abc\\\n", want);
    check("ECHO 'abc\n", want);
    check("ECHO 'a\\\\'\r\n", want);
    check("ECHO \"a\"b\r\n", want);
    check("ECHO 'a'b\r\n", want);
    check("ECHO \"a\"\"b\"\n", want);
    check("ECHO \"\\x4\n", want);
    check("\"\n", want);
}

Test(errors, unbalanced_quotes_only_once_line_is_complete)
{
    check("ECHO \"abc", "...");
}

Test(errors, too_big_inline_request)
{
    char *src = repeat("", 'a', LINE_MAX_BYTES + 1, "");
    char *got = parse_whole(src, LINE_MAX_BYTES);
    cr_assert_str_eq(got, "...");
    mem_free(got);
    got = parse_whole(src, LINE_MAX_BYTES + 1);
    cr_assert_str_eq(got, "ERR Protocol error: too big inline request");
    mem_free(got);
    mem_free(src);
}

Test(errors, too_big_inline_request_counts_from_line_start)
{
    /* A complete command before the long line does not count towards it. */
    char *src = repeat("PING\r\n", 'a', LINE_MAX_BYTES, "");
    char *got = parse_whole(src, strlen(src));
    cr_assert_str_eq(got, "[PING]\n...");
    mem_free(got);
    mem_free(src);
}

Test(errors, too_big_mbulk_count_string)
{
    char *src = repeat("*", '1', LINE_MAX_BYTES, "");
    char *got = parse_whole(src, LINE_MAX_BYTES);
    cr_assert_str_eq(got, "...");
    mem_free(got);
    got = parse_whole(src, LINE_MAX_BYTES + 1);
    cr_assert_str_eq(got, "ERR Protocol error: too big mbulk count string");
    mem_free(got);
    mem_free(src);
}

Test(errors, too_big_bulk_count_string)
{
    char *src = repeat("*1\r\n$", '1', LINE_MAX_BYTES, "");
    char *got = parse_whole(src, 4 + LINE_MAX_BYTES);
    cr_assert_str_eq(got, "...");
    mem_free(got);
    got = parse_whole(src, 4 + LINE_MAX_BYTES + 1);
    cr_assert_str_eq(got, "ERR Protocol error: too big bulk count string");
    mem_free(got);
    mem_free(src);
}

Test(errors, long_header_with_cr_is_invalid_length)
{
    /* Redis: once the '\r' is buffered, the line is not "too big", just wrong. */
    char *src = repeat("*", '1', 70000, "\r\n");
    char *got = parse_whole(src, strlen(src) - 1);
    cr_assert_str_eq(got, "...");
    mem_free(got);
    got = parse_whole(src, strlen(src));
    cr_assert_str_eq(got, "ERR Protocol error: invalid multibulk length");
    mem_free(got);
    mem_free(src);
}

Test(errors, error_is_sticky)
{
    char buf[] = "*1\r\nfoo\r\n*1\r\n$4\r\nPING\r\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_ERROR);
    cr_assert_str_eq(p.error, "Protocol error: expected '$', got 'f'");
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_ERROR);
    cr_assert_eq(resp_parser_bulk_remaining(&p, sizeof(buf) - 1), 0);
    resp_parser_free(&p);
}

Test(errors, commands_before_error_are_returned)
{
    check("PING\n*1\r\n$4\r\nPING\r\n*x\r\n", "[PING]\n[PING]\nERR Protocol error: invalid multibulk length");
}

/* ---- limits ---- */

static const char *parse_limited(const char *src, long long max_bulk, long long max_multibulk)
{
    static char copy[256];
    struct resp_parser p;
    snprintf(copy, sizeof(copy), "%s", src);
    resp_parser_init(&p, max_bulk, max_multibulk);
    enum resp_status s = resp_parse(&p, copy, strlen(copy));
    const char *out = s == RESP_COMMAND ? "command" : s == RESP_INCOMPLETE ? "incomplete" : p.error;
    resp_parser_free(&p);
    return out;
}

Test(limits, max_multibulk_len)
{
    cr_assert_str_eq(parse_limited("*3\r\n", 10, 3), "incomplete");
    cr_assert_str_eq(parse_limited("*4\r\n", 10, 3), "Protocol error: invalid multibulk length");
    cr_assert_str_eq(parse_limited("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", 10, 3), "command");
}

Test(limits, max_bulk_len)
{
    cr_assert_str_eq(parse_limited("*1\r\n$10\r\n0123456789\r\n", 10, 3), "command");
    cr_assert_str_eq(parse_limited("*1\r\n$11\r\n", 10, 3), "Protocol error: invalid bulk length");
    cr_assert_str_eq(parse_limited("*1\r\n$0\r\n\r\n", 0, 1), "command");
    cr_assert_str_eq(parse_limited("*1\r\n$1\r\n", 0, 1), "Protocol error: invalid bulk length");
}

Test(limits, multibulk_count_capped_at_int_max)
{
    cr_assert_str_eq(parse_limited("*2147483647\r\n", 10, 1LL << 40), "incomplete");
    cr_assert_str_eq(parse_limited("*2147483648\r\n", 10, 1LL << 40),
                     "Protocol error: invalid multibulk length");
}

Test(limits, inline_has_no_argument_limit)
{
    cr_assert_str_eq(parse_limited("a b c d e\n", 10, 3), "command");
}

/* ---- parser state ---- */

Test(state, empty_buffer_is_incomplete)
{
    struct resp_parser p;
    char buf[1];
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, 0), RESP_INCOMPLETE);
    cr_assert_eq(p.pos, 0);
    cr_assert_eq(p.kind, 0);
    resp_parser_free(&p);
}

Test(state, next_call_starts_a_new_command)
{
    char buf[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nPING\r\n*1\r\n$3\r\nGET\r\n";
    size_t len = sizeof(buf) - 1;
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);

    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.kind, '*');
    cr_assert_eq(p.pos, 27);

    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    cr_assert_eq(p.argc, 1);
    cr_assert_eq(p.kind, 'i');
    cr_assert_eq(p.args[0].off, 27);
    cr_assert_eq(p.args[0].len, 4);
    cr_assert_eq(p.pos, 33);

    cr_assert_eq(resp_parse(&p, buf, len - 2), RESP_INCOMPLETE);
    cr_assert_eq(p.kind, '*');
    cr_assert_eq(p.multibulk_left, 1);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.bulk_len, 3);
    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    cr_assert_eq(p.argc, 1);
    cr_assert_eq(p.pos, len);

    cr_assert_eq(resp_parse(&p, buf, len), RESP_INCOMPLETE);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.kind, 0);
    resp_parser_free(&p);
}

Test(state, skipping_advances_pos)
{
    char buf[] = "\r\n*0\r\n  \n*-1\r\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_INCOMPLETE);
    cr_assert_eq(p.pos, sizeof(buf) - 1);
    cr_assert_eq(p.argc, 0);
    cr_assert_eq(p.kind, 0);
    resp_parser_free(&p);
}

Test(state, args_array_is_reused)
{
    char buf[] = "*20\r\n"
                 "$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
                 "$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
                 "$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
                 "PING\r\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_COMMAND);
    cr_assert_eq(p.argc, 20);
    size_t cap = p.arg_capacity;
    struct resp_arg *args = p.args;
    cr_assert_geq(cap, 20);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_COMMAND);
    cr_assert_eq(p.argc, 1);
    cr_assert_eq(p.arg_capacity, cap, "capacity never shrinks");
    cr_assert_eq(p.args, args);
    resp_parser_free(&p);
    cr_assert_null(p.args);
    cr_assert_eq(p.arg_capacity, 0);
}

/* ---- shift ---- */

Test(shift, keeps_offsets_of_a_partial_command)
{
    const char first[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    const char second[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv";
    const char rest[] = "alue\r\n";
    char buf[128];
    size_t len = 0;
    memcpy(buf, first, sizeof(first) - 1);
    len += sizeof(first) - 1;
    memcpy(buf + len, second, sizeof(second) - 1);
    len += sizeof(second) - 1;

    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    size_t done = p.pos;
    cr_assert_eq(done, sizeof(first) - 1);
    cr_assert_eq(resp_parse(&p, buf, len), RESP_INCOMPLETE);
    cr_assert_eq(p.argc, 2);
    size_t pos = p.pos, off0 = p.args[0].off, off1 = p.args[1].off;
    size_t remaining = resp_parser_bulk_remaining(&p, len);
    cr_assert_eq(remaining, 6);

    memmove(buf, buf + done, len - done);
    len -= done;
    resp_parser_shift(&p, done);
    cr_assert_eq(p.pos, pos - done);
    cr_assert_eq(p.args[0].off, off0 - done);
    cr_assert_eq(p.args[1].off, off1 - done);
    cr_assert_eq(memcmp(buf + p.args[0].off, "SET", 3), 0);
    cr_assert_eq(memcmp(buf + p.args[1].off, "k", 1), 0);
    cr_assert_eq(resp_parser_bulk_remaining(&p, len), remaining);

    memcpy(buf + len, rest, sizeof(rest) - 1);
    len += sizeof(rest) - 1;
    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    cr_assert_eq(p.argc, 3);
    cr_assert_eq(p.pos, len);
    cr_assert_eq(memcmp(buf + p.args[0].off, "SET", 3), 0);
    cr_assert_eq(p.args[2].len, 5);
    cr_assert_eq(memcmp(buf + p.args[2].off, "value", 5), 0);
    resp_parser_free(&p);
}

Test(shift, inside_a_pending_header)
{
    char buf[64] = "*1\r\n$4\r\nPING\r\n*1\r\n$";
    size_t len = strlen(buf);
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    cr_assert_eq(resp_parse(&p, buf, len), RESP_INCOMPLETE);
    cr_assert_eq(p.pos, 18, "the *1 line is consumed, the $ line is pending");
    memmove(buf, buf + p.pos, len - p.pos);
    len -= p.pos;
    resp_parser_shift(&p, p.pos);
    cr_assert_eq(p.pos, 0);
    memcpy(buf + len, "3\r\nGET\r\n", 8);
    len += 8;
    cr_assert_eq(resp_parse(&p, buf, len), RESP_COMMAND);
    cr_assert_eq(p.args[0].off, 4);
    cr_assert_eq(memcmp(buf + p.args[0].off, "GET", 3), 0);
    resp_parser_free(&p);
}

Test(shift, by_zero_changes_nothing)
{
    char buf[] = "*2\r\n$3\r\nGET\r\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_INCOMPLETE);
    resp_parser_shift(&p, 0);
    cr_assert_eq(p.pos, sizeof(buf) - 1);
    cr_assert_eq(p.args[0].off, 8);
    resp_parser_free(&p);
}

/* ---- big requests ---- */

Test(big, bulk_remaining_for_a_512mb_bulk)
{
    /* The bulk's bytes are never read, so most of the buffer stays untouched. */
    const size_t bulk = 512u * 1024 * 1024;
    const char header[] = "*2\r\n$3\r\nSET\r\n$536870912\r\n";
    const size_t hlen = sizeof(header) - 1;
    const size_t total = hlen + bulk + 2;
    char *buf = mem_alloc(total);
    memcpy(buf, header, hlen);
    memcpy(buf + total - 2, "\r\n", 2);

    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parser_bulk_remaining(&p, 0), 0);
    cr_assert_eq(resp_parse(&p, buf, hlen), RESP_INCOMPLETE);
    cr_assert_eq(p.argc, 1);
    cr_assert_eq(resp_parser_bulk_remaining(&p, hlen), bulk + 2);

    size_t len = hlen, calls = 0;
    const size_t piece = 16 * 1024;
    double start = now_seconds();
    while (len < total) {
        len = len + piece < total ? len + piece : total;
        calls++;
        enum resp_status s = resp_parse(&p, buf, len);
        if (len < total) {
            cr_assert_eq(s, RESP_INCOMPLETE);
            cr_assert_eq(resp_parser_bulk_remaining(&p, len), total - len);
        } else {
            cr_assert_eq(s, RESP_COMMAND);
        }
    }
    double elapsed = now_seconds() - start;
    cr_assert_gt(calls, 32000);
    cr_assert_lt(elapsed, 1.0, "%zu calls took %.3f s", calls, elapsed);
    cr_assert_eq(p.argc, 2);
    cr_assert_eq(p.args[1].off, hlen);
    cr_assert_eq(p.args[1].len, bulk);
    cr_assert_eq(resp_parser_bulk_remaining(&p, total), 0);
    resp_parser_free(&p);
    mem_free(buf);
}

Test(big, bulk_remaining_is_zero_outside_a_bulk)
{
    char buf[] = "*2\r\n$3\r\nGET\r\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, 4), RESP_INCOMPLETE);
    cr_assert_eq(resp_parser_bulk_remaining(&p, 4), 0, "between bulks");
    cr_assert_eq(resp_parse(&p, buf, 10), RESP_INCOMPLETE);
    cr_assert_eq(resp_parser_bulk_remaining(&p, 10), 3);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_INCOMPLETE);
    cr_assert_eq(resp_parser_bulk_remaining(&p, sizeof(buf) - 1), 0);
    resp_parser_free(&p);
}

/* Builds "*<n>\r\n" + n bulks holding their decimal index; sets *len. */
static char *many_args(size_t n, size_t *len)
{
    struct text t = {0};
    char line[64];
    snprintf(line, sizeof(line), "*%zu\r\n", n);
    text_adds(&t, line);
    for (size_t i = 0; i < n; i++) {
        char num[24];
        int k = snprintf(num, sizeof(num), "%zu", i);
        snprintf(line, sizeof(line), "$%d\r\n%s\r\n", k, num);
        text_adds(&t, line);
    }
    *len = t.len;
    return t.data;
}

Test(big, hundred_thousand_args_in_100_byte_pieces)
{
    const size_t n = 100000;
    size_t total;
    char *buf = many_args(n, &total);
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);

    double start = now_seconds();
    size_t len = 0;
    enum resp_status s = RESP_INCOMPLETE;
    while (len < total) {
        len = len + 100 < total ? len + 100 : total;
        s = resp_parse(&p, buf, len);
        if (len < total) cr_assert_eq(s, RESP_INCOMPLETE);
    }
    double elapsed = now_seconds() - start;
    cr_assert_eq(s, RESP_COMMAND);
    cr_assert_lt(elapsed, 1.0, "took %.3f s: rescanning?", elapsed);
    cr_assert_eq(p.argc, n);
    cr_assert_geq(p.arg_capacity, n);
    cr_assert_lt(p.arg_capacity, 2 * n, "growth is geometric, not wildly over");
    char num[24];
    for (size_t i = 0; i < n; i += 9999) {
        int k = snprintf(num, sizeof(num), "%zu", i);
        cr_assert_eq(p.args[i].len, (size_t)k);
        cr_assert_eq(memcmp(buf + p.args[i].off, num, (size_t)k), 0);
    }
    resp_parser_free(&p);
    mem_free(buf);
}

Test(big, long_inline_request)
{
    struct text t = {0};
    for (int i = 0; i < 5000; i++) text_adds(&t, "ab ");
    text_adds(&t, "\r\n");
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, t.data, t.len - 1), RESP_INCOMPLETE);
    cr_assert_eq(resp_parse(&p, t.data, t.len), RESP_COMMAND);
    cr_assert_eq(p.argc, 5000);
    cr_assert_eq(p.args[4999].off, 4999 * 3);
    resp_parser_free(&p);
    mem_free(t.data);
}

/* ---- HTTP cross-protocol detection ---- */

Test(http, post_and_host)
{
    cr_assert(resp_is_http_attack("POST", 4));
    cr_assert(resp_is_http_attack("post", 4));
    cr_assert(resp_is_http_attack("pOsT", 4));
    cr_assert(resp_is_http_attack("Host:", 5));
    cr_assert(resp_is_http_attack("HOST:", 5));
    cr_assert(resp_is_http_attack("host:", 5));
}

Test(http, other_words)
{
    cr_assert_not(resp_is_http_attack("GET", 3));
    cr_assert_not(resp_is_http_attack("POS", 3));
    cr_assert_not(resp_is_http_attack("POSTS", 5));
    cr_assert_not(resp_is_http_attack("Host", 4));
    cr_assert_not(resp_is_http_attack("Host:x", 6));
    cr_assert_not(resp_is_http_attack("", 0));
}

Test(http, first_argument_of_an_http_request)
{
    char buf[] = "POST / HTTP/1.1\r\nHost: example.com\r\n";
    struct resp_parser p;
    resp_parser_init(&p, MAX_BULK, MAX_MULTIBULK);
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_COMMAND);
    cr_assert(resp_is_http_attack(buf + p.args[0].off, p.args[0].len));
    cr_assert_eq(resp_parse(&p, buf, sizeof(buf) - 1), RESP_COMMAND);
    cr_assert(resp_is_http_attack(buf + p.args[0].off, p.args[0].len));
    resp_parser_free(&p);
}
