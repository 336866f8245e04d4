/* message: the payload every workload sends, and the exactly-once ledger.
 * A payload starts with a fixed 32-character ASCII header — send time
 * (monotonic ns, 16 hex digits), source (producer index, 4 hex digits) and
 * sequence number (12 hex digits) — padded with 'x' to the requested size, so
 * a consumer can compute end-to-end latency and check delivery. */
#ifndef RUNNEL_BENCH_MESSAGE_H
#define RUNNEL_BENCH_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_HEADER_LEN  32
#define MSG_MAX_SOURCES 0xffff

struct msg_header {
    uint64_t sent_ns;
    uint32_t source;
    uint64_t seq;
};

/* Writes a payload of max(size, MSG_HEADER_LEN) bytes into buf (which must
 * hold that many) and returns its length. The padding is written only when
 * fill is true, so callers reusing one buffer can skip it after the first. */
size_t msg_format(char *buf, size_t size, const struct msg_header *h, bool fill);
/* Parses a payload's header; false when it is not one of ours. */
bool msg_parse(const char *buf, size_t len, struct msg_header *h);

/* Per-source sequence counters and bitmaps of sequence numbers seen, to
 * count duplicates and (against what was sent) losses. Grows on demand. */
struct msg_ledger {
    uint32_t sources;
    uint64_t *sent;  /* sent[source]: sequence numbers handed out */
    uint64_t **bits; /* bits[source]: one bit per sequence number */
    uint64_t *words; /* words[source]: length of bits[source] in words */
    uint64_t distinct;
    uint64_t duplicated;
    uint64_t foreign; /* payloads that did not parse or named an unknown source */
};

void msg_ledger_init(struct msg_ledger *l, uint32_t sources);
void msg_ledger_free(struct msg_ledger *l);
/* Hands out source's next sequence number. */
static inline uint64_t msg_ledger_next(struct msg_ledger *l, uint32_t source)
{
    return l->sent[source]++;
}
/* Total sequence numbers handed out over all sources. */
uint64_t msg_ledger_sent(const struct msg_ledger *l);
/* Records one delivery; returns false if it was a duplicate or foreign (an
 * unknown source, or a sequence number never handed out). */
bool msg_ledger_mark(struct msg_ledger *l, uint32_t source, uint64_t seq);

#endif
