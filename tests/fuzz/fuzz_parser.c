/* libFuzzer target for the RESP request parser (src/protocol/parser.c).
 *
 * Each input is parsed twice: whole, and in pieces (sizes drawn from a PRNG
 * seeded by the input) while dropping consumed bytes from the front of the
 * buffer as a connection does, with resp_parser_shift. Both runs must produce
 * the same commands and end the same way; the only allowed difference is a
 * "too big" error in the piecewise run, which may come earlier because Redis
 * measures line length against what is buffered. Structural invariants
 * (argument slices inside the consumed bytes, pos within the buffer, error
 * texts) are checked on every call. Sanitizers catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/parser.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The commands a run produced: per command its argc, then each argument's
 * length and bytes. */
struct transcript {
    char *data;
    size_t len;
    size_t cap;
    enum resp_status last;
    const char *error;
};

static void oracle_fail(const char *what)
{
    fprintf(stderr, "fuzz_parser: %s\n", what);
    abort();
}

static void transcript_add(struct transcript *t, const void *bytes, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2 + 64;
        t->data = mem_realloc(t->data, t->cap);
    }
    if (n) memcpy(t->data + t->len, bytes, n);
    t->len += n;
}

/* Checks the invariants of a returned command and records it. */
static void record_command(struct transcript *t, const struct resp_parser *p, const char *buf,
                           size_t len)
{
    if (p->argc == 0) oracle_fail("command without arguments");
    if (p->pos > len) oracle_fail("pos past the buffer");
    transcript_add(t, &p->argc, sizeof(p->argc));
    for (size_t i = 0; i < p->argc; i++) {
        const struct resp_arg *a = &p->args[i];
        if (a->off > p->pos || a->len > p->pos - a->off) oracle_fail("argument outside the command");
        transcript_add(t, &a->len, sizeof(a->len));
        transcript_add(t, buf + a->off, a->len);
    }
}

/* Checks the state the parser is left in when it wants more bytes. */
static void check_incomplete(const struct resp_parser *p, size_t len)
{
    if (p->pos > len) oracle_fail("pos past the buffer");
    if (p->kind != 0 && p->kind != '*') oracle_fail("inline request left half-parsed");
    if (resp_parser_bulk_remaining(p, len) && p->kind != '*') oracle_fail("bulk outside multibulk");
    for (size_t i = 0; i < p->argc; i++)
        if (p->args[i].off + p->args[i].len > p->pos) oracle_fail("pending argument past pos");
}

static void check_error(const struct resp_parser *p)
{
    if (!p->error || strncmp(p->error, "Protocol error: ", 16) != 0) oracle_fail("bad error text");
}

static void parse_whole(struct transcript *t, const uint8_t *data, size_t size, long long max_bulk,
                        long long max_multibulk)
{
    char *buf = mem_alloc(size);
    memcpy(buf, data, size);
    struct resp_parser p;
    resp_parser_init(&p, max_bulk, max_multibulk);
    for (;;) {
        t->last = resp_parse(&p, buf, size);
        if (t->last != RESP_COMMAND) break;
        record_command(t, &p, buf, size);
    }
    if (t->last == RESP_ERROR) check_error(&p);
    if (t->last == RESP_INCOMPLETE) check_incomplete(&p, size);
    t->error = p.error;
    resp_parser_free(&p);
    mem_free(buf);
}

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Mostly tiny pieces, sometimes larger ones, so every boundary gets hit. */
static size_t piece_size(uint64_t *state)
{
    uint64_t r = next_random(state);
    switch (r & 3) {
    case 0: return 1;
    case 1: return 1 + (r >> 8) % 4;
    case 2: return 1 + (r >> 8) % 32;
    default: return 1 + (r >> 8) % 1024;
    }
}

/* Drops the first n bytes of buf[0..*len), as a connection would. */
static void drop_front(struct resp_parser *p, char *buf, size_t *len, size_t n)
{
    memmove(buf, buf + n, *len - n);
    *len -= n;
    resp_parser_shift(p, n);
}

static void parse_pieces(struct transcript *t, const uint8_t *data, size_t size, long long max_bulk,
                         long long max_multibulk, uint64_t seed)
{
    char *buf = mem_alloc(size);
    size_t len = 0, fed = 0;
    struct resp_parser p;
    resp_parser_init(&p, max_bulk, max_multibulk);
    t->last = RESP_INCOMPLETE;
    while (fed < size) {
        size_t n = piece_size(&seed);
        if (n > size - fed) n = size - fed;
        memcpy(buf + len, data + fed, n);
        len += n;
        fed += n;
        for (;;) {
            t->last = resp_parse(&p, buf, len);
            if (t->last != RESP_COMMAND) break;
            record_command(t, &p, buf, len);
            drop_front(&p, buf, &len, p.pos);
        }
        if (t->last == RESP_ERROR) break;
        check_incomplete(&p, len);
        drop_front(&p, buf, &len, p.argc ? p.args[0].off : p.pos);
    }
    if (t->last == RESP_ERROR) check_error(&p);
    t->error = p.error;
    resp_parser_free(&p);
    mem_free(buf);
}

static bool same_bytes(const char *a, const char *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static bool is_too_big(const char *error)
{
    return error && strstr(error, "too big") != NULL;
}

/* Requires the piecewise run to agree with the whole run. */
static void compare(const struct transcript *whole, const struct transcript *pieces)
{
    if (pieces->last == RESP_ERROR && is_too_big(pieces->error) &&
        !(whole->error && strcmp(whole->error, pieces->error) == 0)) {
        if (pieces->len > whole->len || !same_bytes(whole->data, pieces->data, pieces->len))
            oracle_fail("commands before an early 'too big' differ");
        return;
    }
    if (whole->last != pieces->last) oracle_fail("runs end differently");
    if (whole->len != pieces->len || !same_bytes(whole->data, pieces->data, whole->len))
        oracle_fail("runs produced different commands");
    if (whole->last == RESP_ERROR && strcmp(whole->error, pieces->error) != 0)
        oracle_fail("runs report different errors");
}

static uint64_t hash_input(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ULL;
    return h | 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint64_t h = hash_input(data, size);
    bool small_limits = (h >> 62) == 0;
    long long max_bulk = small_limits ? 16 : 512LL * 1024 * 1024;
    long long max_multibulk = small_limits ? 4 : 1024 * 1024;

    struct transcript whole = {0}, pieces = {0};
    parse_whole(&whole, data, size, max_bulk, max_multibulk);
    parse_pieces(&pieces, data, size, max_bulk, max_multibulk, h);
    compare(&whole, &pieces);
    mem_free(whole.data);
    mem_free(pieces.data);
    return 0;
}
