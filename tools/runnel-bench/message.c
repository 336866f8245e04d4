/* message: payload header encoding and the exactly-once ledger. */
#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

static void put_hex(char *out, uint64_t value, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = hex_digits[value & 0xf];
        value >>= 4;
    }
}

/* Parses exactly `digits` lowercase hex digits; false on any other byte. */
static bool get_hex(const char *in, int digits, uint64_t *value)
{
    uint64_t v = 0;
    for (int i = 0; i < digits; i++) {
        char c = in[i];
        if (c >= '0' && c <= '9')
            v = (v << 4) | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = (v << 4) | (uint64_t)(c - 'a' + 10);
        else
            return false;
    }
    *value = v;
    return true;
}

size_t msg_format(char *buf, size_t size, const struct msg_header *h, bool fill)
{
    put_hex(buf, h->sent_ns, 16);
    put_hex(buf + 16, h->source, 4);
    put_hex(buf + 20, h->seq, 12);
    if (size <= MSG_HEADER_LEN)
        return MSG_HEADER_LEN;
    if (fill)
        memset(buf + MSG_HEADER_LEN, 'x', size - MSG_HEADER_LEN);
    return size;
}

bool msg_parse(const char *buf, size_t len, struct msg_header *h)
{
    uint64_t source;
    if (len < MSG_HEADER_LEN)
        return false;
    if (!get_hex(buf, 16, &h->sent_ns) || !get_hex(buf + 16, 4, &source) || !get_hex(buf + 20, 12, &h->seq))
        return false;
    h->source = (uint32_t)source;
    return true;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "runnel-bench: out of memory\n");
        abort();
    }
    return p;
}

void msg_ledger_init(struct msg_ledger *l, uint32_t sources)
{
    memset(l, 0, sizeof(*l));
    l->sources = sources;
    l->sent = xcalloc(sources, sizeof(*l->sent));
    l->bits = xcalloc(sources, sizeof(*l->bits));
    l->words = xcalloc(sources, sizeof(*l->words));
}

void msg_ledger_free(struct msg_ledger *l)
{
    for (uint32_t i = 0; i < l->sources; i++)
        free(l->bits[i]);
    free(l->bits);
    free(l->words);
    free(l->sent);
    memset(l, 0, sizeof(*l));
}

/* Makes bits[source] hold at least `need` words, doubling to amortise. */
static void ledger_grow(struct msg_ledger *l, uint32_t source, uint64_t need)
{
    uint64_t words = l->words[source] ? l->words[source] : 1024;
    while (words < need)
        words *= 2;
    uint64_t *bits = realloc(l->bits[source], words * sizeof(uint64_t));
    if (!bits) {
        fprintf(stderr, "runnel-bench: out of memory\n");
        abort();
    }
    memset(bits + l->words[source], 0, (words - l->words[source]) * sizeof(uint64_t));
    l->bits[source] = bits;
    l->words[source] = words;
}

bool msg_ledger_mark(struct msg_ledger *l, uint32_t source, uint64_t seq)
{
    if (source >= l->sources || seq >= l->sent[source]) {
        l->foreign++;
        return false;
    }
    uint64_t word = seq / 64, mask = (uint64_t)1 << (seq % 64);
    if (word >= l->words[source])
        ledger_grow(l, source, word + 1);
    if (l->bits[source][word] & mask) {
        l->duplicated++;
        return false;
    }
    l->bits[source][word] |= mask;
    l->distinct++;
    return true;
}

uint64_t msg_ledger_sent(const struct msg_ledger *l)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < l->sources; i++)
        total += l->sent[i];
    return total;
}
