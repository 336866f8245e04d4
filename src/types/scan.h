/* scan: what SCAN, HSCAN, SSCAN and ZSCAN share — the cursor and option
 * parsing, the MATCH filter, and the [cursor, [items...]] reply whose item
 * count is known only at the end. */
#ifndef RUNNEL_TYPES_SCAN_H
#define RUNNEL_TYPES_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/request.h"

enum scan_options {
    SCAN_OPT_TYPE = 1 << 0,     /* SCAN ... TYPE t */
    SCAN_OPT_NOVALUES = 1 << 1, /* HSCAN ... NOVALUES */
};

struct scan_args {
    uint64_t cursor;
    long long count;           /* COUNT, default 10 */
    const struct arg *pattern; /* MATCH, or NULL for everything ("*" too) */
    const char *type_name;     /* TYPE, or NULL */
    bool novalues;
};

/* Parses "cursor [MATCH p] [COUNT n] [TYPE t] [NOVALUES]" starting at
 * argv[cursor_index]; `accepted` says which of the last two are allowed.
 * Replies Redis's error and returns false when malformed. */
bool scan_parse(struct request *req, int cursor_index, unsigned accepted, struct scan_args *a);
/* The same in two steps, for HSCAN/SSCAN/ZSCAN, which look the key up in
 * between (a missing key answers an empty scan whatever its options). */
bool scan_parse_cursor(struct request *req, int cursor_index, struct scan_args *a);
bool scan_parse_options(struct request *req, int first, unsigned accepted, struct scan_args *a);
bool scan_matches(const struct scan_args *a, const char *p, size_t len);

/* The reply: begin once the next cursor is known, add items, end. */
struct scan_reply {
    struct outbuf *out;
    outbuf_mark items;
    long long count;
    bool begun;
};
void scan_reply_begin(struct scan_reply *r, struct outbuf *out, uint64_t next_cursor);
void scan_reply_item(struct scan_reply *r, const char *p, size_t len);
void scan_reply_end(struct scan_reply *r);
/* [ "0", [] ]: the answer for a missing key. */
void scan_reply_empty(struct outbuf *out);

#endif
