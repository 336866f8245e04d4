#include "types/scan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "util/glob.h"
#include "util/numbers.h"

/* Parses the cursor as Redis does, with strtoul: an optional sign ("-1"
 * wraps to 2^64-1), then decimal digits; "" is 0; leading space, trailing
 * bytes or more than 64 bits are invalid. Arguments are NUL-terminated, so
 * an embedded NUL leaves bytes after the number. */
static bool scan_cursor(struct request *req, int i, uint64_t *cursor)
{
    const char *p = req->argv[i].ptr;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (isspace((unsigned char)p[0]) || end != p + req->argv[i].len || errno == ERANGE) {
        reply_error(req->out, "ERR invalid cursor");
        return false;
    }
    *cursor = v;
    return true;
}

bool scan_parse_cursor(struct request *req, int cursor_index, struct scan_args *a)
{
    *a = (struct scan_args){.count = 10};
    return scan_cursor(req, cursor_index, &a->cursor);
}

bool scan_parse(struct request *req, int cursor_index, unsigned accepted, struct scan_args *a)
{
    return scan_parse_cursor(req, cursor_index, a) && scan_parse_options(req, cursor_index + 1, accepted, a);
}

bool scan_parse_options(struct request *req, int first, unsigned accepted, struct scan_args *a)
{
    for (int i = first; i < req->argc; i++) {
        bool more = i + 1 < req->argc;
        if (ARG_IS(req, i, "COUNT") && more) {
            if (!request_ll(req, ++i, &a->count)) return false;
            if (a->count < 1) {
                reply_syntax_error(req->out);
                return false;
            }
        } else if (ARG_IS(req, i, "MATCH") && more) {
            a->pattern = &req->argv[++i];
            if (a->pattern->len == 1 && a->pattern->ptr[0] == '*') a->pattern = NULL;
        } else if ((accepted & SCAN_OPT_TYPE) && ARG_IS(req, i, "TYPE") && more) {
            a->type_name = req->argv[++i].ptr;
        } else if ((accepted & SCAN_OPT_NOVALUES) && ARG_IS(req, i, "NOVALUES")) {
            a->novalues = true;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

bool scan_matches(const struct scan_args *a, const char *p, size_t len)
{
    return !a->pattern || glob_match(a->pattern->ptr, a->pattern->len, p, len, false);
}

void scan_reply_begin(struct scan_reply *r, struct outbuf *out, uint64_t next_cursor)
{
    char buf[24];
    r->out = out;
    r->count = 0;
    r->begun = true;
    reply_array(out, 2);
    reply_bulk(out, buf, format_ull(buf, next_cursor));
    r->items = reply_defer(out);
}

void scan_reply_item(struct scan_reply *r, const char *p, size_t len)
{
    reply_bulk(r->out, p, len);
    r->count++;
}

void scan_reply_end(struct scan_reply *r)
{
    reply_deferred_array(r->out, r->items, r->count);
}

void scan_reply_empty(struct outbuf *out)
{
    reply_array(out, 2);
    reply_bulk(out, "0", 1);
    reply_empty_array(out);
}
