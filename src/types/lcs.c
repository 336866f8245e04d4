/* lcs: LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], as Redis
 * 7.0 computes it: the classic (len1+1) x (len2+1) table of prefix LCS
 * lengths, walked back from the end. The walk's choices (up before left
 * only when strictly longer) decide which of several equally long answers
 * comes out, so they follow Redis's exactly. The table is refused when it
 * would pass proto-max-bulk-len bytes. */
#include "types/lcs.h"

#include <stdint.h>
#include <string.h>

#include "db/db.h"
#include "types/string.h"
#include "util/mem.h"
#include "util/str.h"

struct lcs_options {
    bool idx, len, with_match_len;
    long long min_match_len;
};

struct lcs_table {
    const uint8_t *a, *b;
    uint32_t alen, blen;
    uint32_t *t; /* t[i * (blen + 1) + j]: LCS length of a[0..i) and b[0..j) */
};

static uint32_t *lcs_at(const struct lcs_table *l, uint32_t i, uint32_t j)
{
    return &l->t[(size_t)i * (l->blen + 1) + j];
}

static void lcs_fill(struct lcs_table *l)
{
    for (uint32_t i = 0; i <= l->alen; i++)
        for (uint32_t j = 0; j <= l->blen; j++) {
            if (i == 0 || j == 0) *lcs_at(l, i, j) = 0;
            else if (l->a[i - 1] == l->b[j - 1]) *lcs_at(l, i, j) = *lcs_at(l, i - 1, j - 1) + 1;
            else {
                uint32_t up = *lcs_at(l, i - 1, j), left = *lcs_at(l, i, j - 1);
                *lcs_at(l, i, j) = up > left ? up : left;
            }
        }
}

static bool lcs_parse(struct request *req, struct lcs_options *o)
{
    *o = (struct lcs_options){0};
    for (int j = 3; j < req->argc; j++) {
        if (ARG_IS(req, j, "IDX")) o->idx = true;
        else if (ARG_IS(req, j, "LEN")) o->len = true;
        else if (ARG_IS(req, j, "WITHMATCHLEN")) o->with_match_len = true;
        else if (ARG_IS(req, j, "MINMATCHLEN") && j + 1 < req->argc) {
            if (!request_ll(req, ++j, &o->min_match_len)) return false;
            if (o->min_match_len < 0) o->min_match_len = 0;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    if (o->idx && o->len) {
        reply_error(req->out, "ERR If you want both the length and indexes, please just use IDX.");
        return false;
    }
    return true;
}

/* One matching range of the walk, [astart..aend] in a and [bstart..] in b. */
struct lcs_range {
    uint32_t astart, aend, bstart, bend;
    bool open;
};

static void lcs_emit(struct request *req, const struct lcs_options *o, struct lcs_range *r, long long *count)
{
    uint32_t match_len = r->aend - r->astart + 1;
    if (o->idx && (o->min_match_len == 0 || match_len >= o->min_match_len)) {
        reply_array(req->out, 2 + o->with_match_len);
        reply_array(req->out, 2);
        reply_int(req->out, r->astart);
        reply_int(req->out, r->aend);
        reply_array(req->out, 2);
        reply_int(req->out, r->bstart);
        reply_int(req->out, r->bend);
        if (o->with_match_len) reply_int(req->out, match_len);
        (*count)++;
    }
    r->open = false;
}

/* Walks the table back from the end, writing the subsequence into out and
 * (with IDX) replying the matching ranges, last first. Returns how many
 * ranges it replied. */
static long long lcs_walk(struct request *req, const struct lcs_options *o, const struct lcs_table *l, char *out)
{
    uint32_t i = l->alen, j = l->blen, k = *lcs_at(l, l->alen, l->blen);
    struct lcs_range r = {0};
    long long count = 0;
    while (i > 0 && j > 0) {
        bool emit = false;
        if (l->a[i - 1] == l->b[j - 1]) {
            out[--k] = (char)l->a[i - 1];
            if (!r.open) r = (struct lcs_range){i - 1, i - 1, j - 1, j - 1, true};
            else if (r.astart == i && r.bstart == j) r.astart--, r.bstart--;
            else emit = true;
            if (r.astart == 0 || r.bstart == 0) emit = true;
            i--, j--;
        } else {
            if (*lcs_at(l, i - 1, j) > *lcs_at(l, i, j - 1)) i--;
            else j--;
            if (r.open) emit = true;
        }
        if (emit) lcs_emit(req, o, &r, &count);
    }
    return count;
}

/* Reads both keys' strings (missing: empty); false after an error reply. */
static bool lcs_inputs(struct request *req, const char *bufs[2], size_t lens[2], char tmp[2][24])
{
    struct object *o[2];
    for (int k = 0; k < 2; k++) o[k] = db_find_read(req->db, req->argv[1 + k].ptr, req->argv[1 + k].len);
    for (int k = 0; k < 2; k++)
        if (o[k] && o[k]->type != OBJ_STRING) {
            reply_error(req->out, "ERR The specified keys must contain string values");
            return false;
        }
    for (int k = 0; k < 2; k++) {
        lens[k] = 0;
        bufs[k] = o[k] ? object_string_bytes(o[k], tmp[k], &lens[k]) : "";
    }
    return true;
}

static void cmd_lcs(struct request *req)
{
    const char *s[2];
    size_t n[2];
    char tmp[2][24];
    struct lcs_options o;
    if (!lcs_inputs(req, s, n, tmp) || !lcs_parse(req, &o)) return;
    if (n[0] >= UINT32_MAX - 1 || n[1] >= UINT32_MAX - 1) {
        reply_error(req->out, "ERR String too long for LCS");
        return;
    }
    unsigned long long cells = (unsigned long long)(n[0] + 1) * (n[1] + 1);
    if (cells * sizeof(uint32_t) > (unsigned long long)string_max_len) {
        reply_error(req->out, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    struct lcs_table l = {(const uint8_t *)s[0], (const uint8_t *)s[1], (uint32_t)n[0], (uint32_t)n[1],
                          mem_alloc(cells * sizeof(uint32_t))};
    lcs_fill(&l);
    uint32_t total = *lcs_at(&l, l.alen, l.blen);
    if (o.len) {
        reply_int(req->out, total);
    } else {
        str out = str_resize(str_empty(total), total);
        outbuf_mark mark = 0;
        if (o.idx) {
            reply_map(req->out, 2);
            reply_bulk_cstr(req->out, "matches");
            mark = reply_defer(req->out);
        }
        long long ranges = lcs_walk(req, &o, &l, out);
        if (o.idx) {
            reply_deferred_array(req->out, mark, ranges);
            reply_bulk_cstr(req->out, "len");
            reply_int(req->out, total);
        } else {
            reply_bulk(req->out, out, total);
        }
        str_free(out);
    }
    mem_free(l.t);
}

struct command lcs_commands[] = {
    {"lcs", cmd_lcs, -3, CMD_READONLY, 1, 2, 1, "@read @string @slow", "string",
     "Finds the longest common substring.", "7.0.0", "O(N*M) where N and M are the lengths of s1 and s2, respectively"},
    {0},
};
