/* zset_commands: the sorted set commands that read or edit one set, and the
 * helpers the store and blocking commands share with them.
 *
 * Commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT
 * ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
 * ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE
 * ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZSCAN.
 *
 * Every interval (score, lex, rank) is turned into a range of ranks first;
 * the ZRANGE family is one function over a small description of the
 * variant, as Redis's zrangeGenericCommand. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "types/scan.h"
#include "types/zset.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numbers.h"

#define ERR_NOT_FLOAT_RANGE "ERR min or max is not a float"
#define ERR_NOT_LEX_RANGE "ERR min or max not valid string range item"
#define ERR_NAN_SCORE "ERR resulting score is not a number (NaN)"
/* Members live in nodes whose length field is 32 bits. */
#define ZSET_MAX_MEMBER_LEN ((size_t)UINT32_MAX - 64)

/* ---- helpers shared with zset_store.c and zset_blocking.c ---- */

bool zset_lookup(struct request *req, const struct arg *key, bool write, struct object **out)
{
    struct object *o = write ? db_find(req->db, key->ptr, key->len) : db_find_read(req->db, key->ptr, key->len);
    if (o && o->type != OBJ_ZSET) {
        reply_wrong_type(req->out);
        return false;
    }
    *out = o;
    return true;
}

void zset_reply_score(struct request *req, double score)
{
    reply_double(req->out, score);
}

void zset_reply_member(struct request *req, const char *member, size_t len, double score, bool withscores, bool pair)
{
    if (pair) reply_array(req->out, 2);
    reply_bulk(req->out, member, len);
    if (withscores) reply_double(req->out, score);
}

/* Array header for n members: RESP3 nests scored members as pairs. */
static bool reply_members_header(struct request *req, long long n, bool withscores)
{
    bool pairs = withscores && req->out->resp >= 3;
    reply_array(req->out, withscores && !pairs ? n * 2 : n);
    return pairs;
}

void zset_removed(struct request *req, const struct arg *key, struct object *o, const char *event, long long n)
{
    key_changed(req, key->ptr, key->len, NOTIFY_ZSET, event);
    req->dirty += n - 1;
    if (zset_object_length(o) > 0) return;
    db_delete(req->db, key->ptr, key->len);
    notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_GENERIC, "del");
}

void zset_store_result(struct request *req, const struct arg *dst, struct object *result, const char *event)
{
    size_t n = result ? zset_object_length(result) : 0;
    if (n == 0) {
        if (result) object_free(result);
        if (db_delete(req->db, dst->ptr, dst->len)) key_changed(req, dst->ptr, dst->len, NOTIFY_GENERIC, "del");
        reply_int(req->out, 0);
        return;
    }
    db_overwrite(req->db, dst->ptr, dst->len, result, false);
    key_changed(req, dst->ptr, dst->len, NOTIFY_ZSET, event);
    reply_int(req->out, (long long)n);
}

/* ---- intervals ---- */

/* A score interval (ZRANGEBYSCORE's min and max) or a lex one ([a (a - +). */
enum lex_kind { LEX_NEG_INF, LEX_POS_INF, LEX_INCLUSIVE, LEX_EXCLUSIVE };

struct lex_bound {
    enum lex_kind kind;
    const char *p;
    size_t len;
};

struct interval {
    bool lex;
    double min, max;
    bool minex, maxex;
    struct lex_bound lmin, lmax;
};

/* Redis parses score bounds with plain strtod: leading spaces, hex and an
 * empty string (0) pass; NaN does not. "(" makes the bound exclusive. */
static bool parse_score_bound(const struct arg *a, double *v, bool *exclusive)
{
    const char *p = a->ptr;
    size_t len = a->len;
    *exclusive = len > 0 && p[0] == '(';
    if (*exclusive) {
        p++;
        len--;
    }
    char small[128];
    char *s = len < sizeof(small) ? small : mem_alloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    char *end;
    *v = strtod(s, &end);
    bool ok = end == s + len && !isnan(*v);
    if (s != small) mem_free(s);
    return ok;
}

static bool parse_lex_bound(const struct arg *a, struct lex_bound *b)
{
    if (a->len == 0) return false;
    b->p = a->ptr + 1;
    b->len = a->len - 1;
    switch (a->ptr[0]) {
    case '-': b->kind = LEX_NEG_INF; return a->len == 1;
    case '+': b->kind = LEX_POS_INF; return a->len == 1;
    case '[': b->kind = LEX_INCLUSIVE; return true;
    case '(': b->kind = LEX_EXCLUSIVE; return true;
    default: return false;
    }
}

static bool parse_interval(struct request *req, int min_index, int max_index, bool lex, struct interval *iv)
{
    iv->lex = lex;
    if (lex) {
        if (parse_lex_bound(&req->argv[min_index], &iv->lmin) && parse_lex_bound(&req->argv[max_index], &iv->lmax))
            return true;
        reply_error(req->out, ERR_NOT_LEX_RANGE);
        return false;
    }
    if (parse_score_bound(&req->argv[min_index], &iv->min, &iv->minex) &&
        parse_score_bound(&req->argv[max_index], &iv->max, &iv->maxex))
        return true;
    reply_error(req->out, ERR_NOT_FLOAT_RANGE);
    return false;
}

static int lex_compare(const char *m, size_t len, const struct lex_bound *b)
{
    size_t min = len < b->len ? len : b->len;
    int c = min ? memcmp(m, b->p, min) : 0;
    if (c) return c;
    return len < b->len ? -1 : len > b->len;
}

/* Members before the interval's start... */
static bool below_min(const void *ctx, double score, const char *m, size_t len)
{
    const struct interval *iv = ctx;
    if (!iv->lex) return iv->minex ? score <= iv->min : score < iv->min;
    switch (iv->lmin.kind) {
    case LEX_NEG_INF: return false;
    case LEX_POS_INF: return true;
    case LEX_INCLUSIVE: return lex_compare(m, len, &iv->lmin) < 0;
    default: return lex_compare(m, len, &iv->lmin) <= 0;
    }
}

/* ...and members up to its end. */
static bool upto_max(const void *ctx, double score, const char *m, size_t len)
{
    const struct interval *iv = ctx;
    if (!iv->lex) return iv->maxex ? score < iv->max : score <= iv->max;
    switch (iv->lmax.kind) {
    case LEX_NEG_INF: return false;
    case LEX_POS_INF: return true;
    case LEX_INCLUSIVE: return lex_compare(m, len, &iv->lmax) <= 0;
    default: return lex_compare(m, len, &iv->lmax) < 0;
    }
}

/* The ranks [*start, *end] of the members inside the interval; false when
 * there are none. */
static bool interval_ranks(const struct object *o, const struct interval *iv, size_t *start, size_t *end)
{
    size_t lo = zset_object_count_prefix(o, below_min, iv);
    size_t hi = zset_object_count_prefix(o, upto_max, iv);
    if (hi <= lo) return false;
    *start = lo;
    *end = hi - 1;
    return true;
}

/* Redis's rank normalisation (negative counts from the end, clamped);
 * false when the range is empty. */
static bool rank_range(long long start, long long end, size_t length, size_t *s, size_t *e)
{
    long long len = (long long)length;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) return false;
    if (end >= len) end = len - 1;
    *s = (size_t)start;
    *e = (size_t)end;
    return true;
}

/* ---- ZADD ZINCRBY ZREM ---- */

static bool parse_scores(struct request *req, int first, double *scores, int pairs)
{
    for (int i = 0; i < pairs; i++) {
        struct arg *a = &req->argv[first + 2 * i];
        if (!parse_double(a->ptr, a->len, &scores[i])) {
            reply_error(req->out, ERR_NOT_FLOAT);
            return false;
        }
        if (req->argv[first + 2 * i + 1].len > ZSET_MAX_MEMBER_LEN) {
            reply_error(req->out, "ERR member too large for a sorted set");
            return false;
        }
    }
    return true;
}

/* Adds the score/member pairs from argv[first] on under ZSET_IN_* flags
 * and replies as ZADD (ch: count changes too) or, with INCR, ZINCRBY. */
static void zadd_pairs(struct request *req, int first, int flags, bool ch)
{
    int pairs = (req->argc - first) / 2;
    double small[16];
    double *scores = pairs <= 16 ? small : mem_alloc(sizeof(double) * (size_t)pairs);
    if (parse_scores(req, first, scores, pairs)) zset_add_scored(req, scores, first + 1, 2, pairs, flags, ch);
    if (scores != small) mem_free(scores);
}

void zset_add_scored(struct request *req, const double *scores, int first, int stride, int n, int flags, bool ch)
{
    struct arg *key = &req->argv[1];
    bool incr = flags & ZSET_IN_INCR;
    struct object *o;
    if (!zset_lookup(req, key, true, &o)) return;
    long long added = 0, updated = 0;
    double result = 0;
    bool refused = false;
    if (!o) {
        if (flags & ZSET_IN_XX) {
            refused = true;
            goto reply;
        }
        size_t longest = 0;
        for (int i = 0; i < n; i++)
            if (req->argv[first + stride * i].len > longest) longest = req->argv[first + stride * i].len;
        o = zset_object_create((size_t)n, longest);
        db_add(req->db, key->ptr, key->len, o);
    }
    for (int i = 0; i < n; i++) {
        struct arg *m = &req->argv[first + stride * i];
        int out = zset_object_add(o, scores[i], m->ptr, m->len, flags, &result);
        if (out & ZSET_OUT_NAN) {
            /* only INCR (a single pair on an existing member) gets here */
            reply_error(req->out, ERR_NAN_SCORE);
            return;
        }
        if (out & ZSET_OUT_ADDED) added++;
        if (out & ZSET_OUT_UPDATED) updated++;
        if (out & ZSET_OUT_NOP) refused = true;
    }
    if (added + updated > 0) {
        key_changed(req, key->ptr, key->len, NOTIFY_ZSET, incr ? "zincr" : "zadd");
        req->dirty += added + updated - 1;
    }
reply:
    if (!incr) reply_int(req->out, ch ? added + updated : added);
    else if (refused) reply_null(req->out);
    else zset_reply_score(req, result);
}

static void cmd_zadd(struct request *req)
{
    int flags = 0, i = 2;
    bool ch = false;
    for (; i < req->argc; i++) {
        if (ARG_IS(req, i, "NX")) flags |= ZSET_IN_NX;
        else if (ARG_IS(req, i, "XX")) flags |= ZSET_IN_XX;
        else if (ARG_IS(req, i, "GT")) flags |= ZSET_IN_GT;
        else if (ARG_IS(req, i, "LT")) flags |= ZSET_IN_LT;
        else if (ARG_IS(req, i, "INCR")) flags |= ZSET_IN_INCR;
        else if (ARG_IS(req, i, "CH")) ch = true;
        else break;
    }
    int left = req->argc - i;
    if (left == 0 || left % 2) {
        reply_syntax_error(req->out);
        return;
    }
    if ((flags & ZSET_IN_NX) && (flags & ZSET_IN_XX)) {
        reply_error(req->out, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    int gt_lt_nx = !!(flags & ZSET_IN_GT) + !!(flags & ZSET_IN_LT) + !!(flags & ZSET_IN_NX);
    if (gt_lt_nx > 1) {
        reply_error(req->out, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if ((flags & ZSET_IN_INCR) && left > 2) {
        reply_error(req->out, "ERR INCR option supports a single increment-element pair");
        return;
    }
    zadd_pairs(req, i, flags, ch);
}

static void cmd_zincrby(struct request *req)
{
    zadd_pairs(req, 2, ZSET_IN_INCR, false);
}

static void cmd_zrem(struct request *req)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!zset_lookup(req, key, true, &o)) return;
    long long removed = 0;
    for (int i = 2; o && i < req->argc; i++) {
        if (zset_object_remove(o, req->argv[i].ptr, req->argv[i].len)) removed++;
        if (zset_object_length(o) == 0) break;
    }
    if (removed) zset_removed(req, key, o, "zrem", removed);
    reply_int(req->out, removed);
}

/* ---- single-member reads ---- */

static void cmd_zcard(struct request *req)
{
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    reply_int(req->out, o ? (long long)zset_object_length(o) : 0);
}

static void cmd_zscore(struct request *req)
{
    struct object *o;
    double score;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    if (o && zset_object_score(o, req->argv[2].ptr, req->argv[2].len, &score)) zset_reply_score(req, score);
    else reply_null(req->out);
}

static void cmd_zmscore(struct request *req)
{
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++) {
        double score;
        if (o && zset_object_score(o, req->argv[i].ptr, req->argv[i].len, &score)) zset_reply_score(req, score);
        else reply_null(req->out);
    }
}

/* ZRANK/ZREVRANK key member [WITHSCORE] (WITHSCORE as Redis 7.2). */
static void rank_generic(struct request *req, bool reverse)
{
    if (req->argc > 4) {
        reply_wrong_arity(req->out, reverse ? "zrevrank" : "zrank");
        return;
    }
    bool withscore = req->argc == 4;
    if (withscore && !ARG_IS(req, 3, "WITHSCORE")) {
        reply_syntax_error(req->out);
        return;
    }
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    double score;
    long long rank = o ? zset_object_rank(o, req->argv[2].ptr, req->argv[2].len, reverse, &score) : -1;
    if (rank < 0) {
        if (withscore) reply_null_array(req->out);
        else reply_null(req->out);
        return;
    }
    if (!withscore) {
        reply_int(req->out, rank);
        return;
    }
    reply_array(req->out, 2);
    reply_int(req->out, rank);
    zset_reply_score(req, score);
}

static void cmd_zrank(struct request *req)
{
    rank_generic(req, false);
}

static void cmd_zrevrank(struct request *req)
{
    rank_generic(req, true);
}

/* ZCOUNT and ZLEXCOUNT. */
static void count_generic(struct request *req, bool lex)
{
    struct interval iv;
    if (!parse_interval(req, 2, 3, lex, &iv)) return;
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    size_t start, end;
    reply_int(req->out, o && interval_ranks(o, &iv, &start, &end) ? (long long)(end - start + 1) : 0);
}

static void cmd_zcount(struct request *req)
{
    count_generic(req, false);
}

static void cmd_zlexcount(struct request *req)
{
    count_generic(req, true);
}

/* ---- the ZRANGE family ---- */

enum range_kind { RANGE_AUTO, RANGE_RANK, RANGE_SCORE, RANGE_LEX };
enum range_dir { DIR_AUTO, DIR_FORWARD, DIR_REVERSE };

struct range_opts {
    enum range_kind kind;
    enum range_dir dir;
    bool withscores;
    long long offset, limit; /* LIMIT; limit < 0: no limit */
};

struct range_sink {
    struct request *req;
    struct object *dst; /* ZRANGESTORE: members go here instead of the reply */
    bool withscores;
    bool pairs;
};

static void range_emit(void *ctx, const char *member, size_t len, double score)
{
    struct range_sink *s = ctx;
    if (s->dst) {
        double ignored;
        zset_object_add(s->dst, score, member, len, 0, &ignored);
        return;
    }
    zset_reply_member(s->req, member, len, score, s->withscores, s->pairs);
}

/* Parses the options after min and max (argv[first..]); `store` refuses
 * WITHSCORES, a preset kind or direction refuses BY.../REV. */
static bool parse_range_opts(struct request *req, int first, bool store, struct range_opts *r)
{
    for (int j = first; j < req->argc; j++) {
        int left = req->argc - j - 1;
        if (!store && ARG_IS(req, j, "WITHSCORES")) {
            r->withscores = true;
        } else if (ARG_IS(req, j, "LIMIT") && left >= 2) {
            if (!request_ll(req, j + 1, &r->offset) || !request_ll(req, j + 2, &r->limit)) return false;
            j += 2;
        } else if (r->dir == DIR_AUTO && ARG_IS(req, j, "REV")) {
            r->dir = DIR_REVERSE;
        } else if (r->kind == RANGE_AUTO && ARG_IS(req, j, "BYSCORE")) {
            r->kind = RANGE_SCORE;
        } else if (r->kind == RANGE_AUTO && ARG_IS(req, j, "BYLEX")) {
            r->kind = RANGE_LEX;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    if (r->kind == RANGE_AUTO) r->kind = RANGE_RANK;
    if (r->dir == DIR_AUTO) r->dir = DIR_FORWARD;
    if (r->withscores && r->kind == RANGE_LEX) {
        reply_error(req->out, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return false;
    }
    if ((r->offset != 0 || r->limit != -1) && r->kind == RANGE_RANK) {
        reply_error(req->out, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return false;
    }
    return true;
}

/* Applies LIMIT to the ranks [*s, *e] of an interval read in `reverse`;
 * false when nothing is left. */
static bool apply_limit(const struct range_opts *r, bool reverse, size_t *s, size_t *e)
{
    if (r->offset < 0 || r->limit == 0 || (unsigned long long)r->offset > *e - *s) return false;
    size_t offset = (size_t)r->offset;
    if (!reverse) {
        *s += offset;
        if (r->limit > 0 && (unsigned long long)r->limit <= *e - *s) *e = *s + (size_t)r->limit - 1;
    } else {
        *e -= offset;
        if (r->limit > 0 && (unsigned long long)r->limit <= *e - *s) *s = *e - (size_t)r->limit + 1;
    }
    return true;
}

/* ZRANGE and its variants. argv[src] is the source key, followed by min
 * and max; dst_index > 0 stores the result (ZRANGESTORE). */
static void range_generic(struct request *req, int src, int dst_index, enum range_kind kind, enum range_dir dir)
{
    struct range_opts r = {kind, dir, false, 0, -1};
    if (!parse_range_opts(req, src + 3, dst_index > 0, &r)) return;
    bool reverse = r.dir == DIR_REVERSE;
    int min_index = src + 1, max_index = src + 2;
    if (reverse && r.kind != RANGE_RANK) {
        min_index = src + 2;
        max_index = src + 1;
    }
    long long rstart = 0, rend = 0;
    struct interval iv;
    if (r.kind == RANGE_RANK) {
        if (!request_ll(req, min_index, &rstart) || !request_ll(req, max_index, &rend)) return;
    } else if (!parse_interval(req, min_index, max_index, r.kind == RANGE_LEX, &iv)) {
        return;
    }
    struct object *o;
    if (!zset_lookup(req, &req->argv[src], false, &o)) return;
    size_t s = 0, e = 0;
    bool any = false;
    if (o && r.kind == RANGE_RANK) {
        size_t len = zset_object_length(o);
        any = rank_range(rstart, rend, len, &s, &e);
        if (any && reverse) {
            size_t fs = len - 1 - e, fe = len - 1 - s;
            s = fs;
            e = fe;
        }
    } else if (o) {
        any = interval_ranks(o, &iv, &s, &e) && apply_limit(&r, reverse, &s, &e);
    }
    size_t n = any ? e - s + 1 : 0;
    struct range_sink sink = {req, NULL, r.withscores, false};
    if (dst_index > 0) {
        sink.dst = n ? zset_object_create(n, 0) : NULL;
        if (n) zset_object_range(o, s, e, reverse, range_emit, &sink);
        zset_store_result(req, &req->argv[dst_index], sink.dst, "zrangestore");
        return;
    }
    sink.pairs = reply_members_header(req, (long long)n, r.withscores);
    if (n) zset_object_range(o, s, e, reverse, range_emit, &sink);
}

static void cmd_zrange(struct request *req)
{
    range_generic(req, 1, 0, RANGE_AUTO, DIR_AUTO);
}

static void cmd_zrangestore(struct request *req)
{
    range_generic(req, 2, 1, RANGE_AUTO, DIR_AUTO);
}

static void cmd_zrevrange(struct request *req)
{
    range_generic(req, 1, 0, RANGE_RANK, DIR_REVERSE);
}

static void cmd_zrangebyscore(struct request *req)
{
    range_generic(req, 1, 0, RANGE_SCORE, DIR_FORWARD);
}

static void cmd_zrevrangebyscore(struct request *req)
{
    range_generic(req, 1, 0, RANGE_SCORE, DIR_REVERSE);
}

static void cmd_zrangebylex(struct request *req)
{
    range_generic(req, 1, 0, RANGE_LEX, DIR_FORWARD);
}

static void cmd_zrevrangebylex(struct request *req)
{
    range_generic(req, 1, 0, RANGE_LEX, DIR_REVERSE);
}

/* ---- ZREMRANGEBY* ---- */

static void remrange_generic(struct request *req, enum range_kind kind)
{
    static const char *const events[] = {
        [RANGE_RANK] = "zremrangebyrank", [RANGE_SCORE] = "zremrangebyscore", [RANGE_LEX] = "zremrangebylex"};
    struct arg *key = &req->argv[1];
    long long rstart = 0, rend = 0;
    struct interval iv;
    if (kind == RANGE_RANK) {
        if (!request_ll(req, 2, &rstart) || !request_ll(req, 3, &rend)) return;
    } else if (!parse_interval(req, 2, 3, kind == RANGE_LEX, &iv)) {
        return;
    }
    struct object *o;
    if (!zset_lookup(req, key, true, &o)) return;
    size_t s, e;
    bool any = o && (kind == RANGE_RANK ? rank_range(rstart, rend, zset_object_length(o), &s, &e)
                                        : interval_ranks(o, &iv, &s, &e));
    if (!any) {
        reply_int(req->out, 0);
        return;
    }
    size_t removed = zset_object_delete_range(o, s, e);
    zset_removed(req, key, o, events[kind], (long long)removed);
    reply_int(req->out, (long long)removed);
}

static void cmd_zremrangebyrank(struct request *req)
{
    remrange_generic(req, RANGE_RANK);
}

static void cmd_zremrangebyscore(struct request *req)
{
    remrange_generic(req, RANGE_SCORE);
}

static void cmd_zremrangebylex(struct request *req)
{
    remrange_generic(req, RANGE_LEX);
}

/* ---- pops ---- */

struct pop_sink {
    struct request *req;
    bool pairs;
};

static void pop_emit(void *ctx, const char *member, size_t len, double score)
{
    struct pop_sink *s = ctx;
    zset_reply_member(s->req, member, len, score, true, s->pairs);
}

void zset_pop_reply(struct request *req, const struct arg *key, struct object *o, bool max, long long count,
                    bool has_count, enum zset_pop_shape shape)
{
    size_t len = zset_object_length(o);
    size_t n = (unsigned long long)count < len ? (size_t)count : len;
    struct pop_sink sink = {req, false};
    if (shape == ZSET_POP_FLAT) {
        sink.pairs = has_count && req->out->resp >= 3;
        reply_array(req->out, sink.pairs ? (long long)n : (long long)n * 2);
    } else if (shape == ZSET_POP_KEY_FLAT) {
        reply_array(req->out, 3);
        reply_bulk(req->out, key->ptr, key->len);
    } else {
        reply_array(req->out, 2);
        reply_bulk(req->out, key->ptr, key->len);
        reply_array(req->out, (long long)n);
        sink.pairs = true;
    }
    size_t start = max ? len - n : 0, end = start + n - 1;
    zset_object_range(o, start, end, max, pop_emit, &sink);
    zset_object_delete_range(o, start, end);
    /* logged as the plain pop it was, whatever command (BZPOPMIN, ZMPOP) did it */
    char num[24];
    struct arg pop[3] = {{max ? "ZPOPMAX" : "ZPOPMIN", 7}, *key, {num, format_ull(num, n)}};
    oplog_propagate(req, 3, pop);
    zset_removed(req, key, o, max ? "zpopmax" : "zpopmin", (long long)n);
}

static void pop_generic(struct request *req, bool max)
{
    if (req->argc > 3) {
        reply_syntax_error(req->out);
        return;
    }
    bool has_count = req->argc == 3;
    long long count = 1;
    if (has_count &&
        !request_ll_range(req, 2, 0, LLONG_MAX, &count, "ERR value is out of range, must be positive"))
        return;
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], true, &o)) return;
    if (!o || count == 0) {
        reply_empty_array(req->out);
        return;
    }
    zset_pop_reply(req, &req->argv[1], o, max, count, has_count, ZSET_POP_FLAT);
}

static void cmd_zpopmin(struct request *req)
{
    pop_generic(req, false);
}

static void cmd_zpopmax(struct request *req)
{
    pop_generic(req, true);
}

bool zset_parse_mpop(struct request *req, int numkeys_index, struct zset_mpop *m)
{
    if (!request_mpop_keys(req, numkeys_index, &m->first_key, &m->numkeys)) return false;
    int where = m->first_key + m->numkeys;
    if (ARG_IS(req, where, "MIN")) {
        m->max = false;
    } else if (ARG_IS(req, where, "MAX")) {
        m->max = true;
    } else {
        reply_syntax_error(req->out);
        return false;
    }
    return request_mpop_count(req, where + 1, &m->count);
}

int zset_numkeys_positions(int numkeys_index, struct arg *argv, int argc, int *positions, int max)
{
    long long numkeys;
    if (numkeys_index >= argc || !parse_ll(argv[numkeys_index].ptr, argv[numkeys_index].len, &numkeys)) return 0;
    if (numkeys < 1 || numkeys > argc - numkeys_index - 1) return 0;
    int n = 0;
    for (int i = 0; i < (int)numkeys && n < max; i++) positions[n++] = numkeys_index + 1 + i;
    return n;
}

static int zmpop_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    return zset_numkeys_positions(1, argv, argc, positions, max);
}

static void cmd_zmpop(struct request *req)
{
    struct zset_mpop m;
    if (!zset_parse_mpop(req, 1, &m)) return;
    for (int i = 0; i < m.numkeys; i++) {
        struct arg *key = &req->argv[m.first_key + i];
        struct object *o;
        if (!zset_lookup(req, key, true, &o)) return;
        if (!o) continue;
        zset_pop_reply(req, key, o, m.max, m.count, true, ZSET_POP_KEY_PAIRS);
        return;
    }
    reply_null_array(req->out);
}

/* ---- ZRANDMEMBER ---- */

static uint64_t rand_state;

static uint64_t rand_next(void)
{
    if (!rand_state) rand_state = (uint64_t)db_wall_ms() ^ ((uint64_t)(uintptr_t)&rand_state << 16) ^ 0x5DEECE66DULL;
    /* splitmix64 */
    uint64_t z = (rand_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static size_t rand_below(size_t n)
{
    return (size_t)(rand_next() % n);
}

/* A set of ranks for Floyd's sampling: open addressing, rank + 1 stored
 * so that 0 marks a free slot. */
struct rank_set {
    uint64_t *slots;
    size_t mask;
};

static bool rank_set_add(struct rank_set *s, size_t rank)
{
    uint64_t v = (uint64_t)rank + 1;
    for (size_t i = (size_t)(v * 0x9E3779B97F4A7C15ULL) & s->mask;; i = (i + 1) & s->mask) {
        if (s->slots[i] == v) return false;
        if (s->slots[i] == 0) {
            s->slots[i] = v;
            return true;
        }
    }
}

/* Fills picks[0..count) with distinct random ranks below size (count <
 * size), in random order. */
static void sample_ranks(size_t size, size_t count, size_t *picks)
{
    size_t cap = 16;
    while (cap < count * 2) cap <<= 1;
    struct rank_set set = {mem_calloc(cap * sizeof(uint64_t)), cap - 1};
    size_t n = 0;
    for (size_t j = size - count; j < size; j++) {
        size_t t = rand_below(j + 1);
        picks[n++] = rank_set_add(&set, t) ? t : (rank_set_add(&set, j), j);
    }
    mem_free(set.slots);
    for (size_t i = count; i > 1; i--) {
        size_t k = rand_below(i), tmp = picks[i - 1];
        picks[i - 1] = picks[k];
        picks[k] = tmp;
    }
}

static void random_with_count(struct request *req, long long count, bool withscores)
{
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    if (!o || count == 0) {
        reply_empty_array(req->out);
        return;
    }
    size_t size = zset_object_length(o);
    struct range_sink sink = {req, NULL, withscores, false};
    if (count < 0) {
        /* repetitions allowed: every pick independent */
        size_t n = (size_t)(-count);
        sink.pairs = reply_members_header(req, (long long)n, withscores);
        for (size_t i = 0; i < n; i++) {
            size_t r = rand_below(size);
            zset_object_range(o, r, r, false, range_emit, &sink);
        }
        return;
    }
    if ((unsigned long long)count >= size) {
        sink.pairs = reply_members_header(req, (long long)size, withscores);
        zset_object_each(o, range_emit, &sink);
        return;
    }
    size_t n = (size_t)count;
    size_t *picks = mem_alloc(n * sizeof(size_t));
    sample_ranks(size, n, picks);
    sink.pairs = reply_members_header(req, (long long)n, withscores);
    for (size_t i = 0; i < n; i++) zset_object_range(o, picks[i], picks[i], false, range_emit, &sink);
    mem_free(picks);
}

static void cmd_zrandmember(struct request *req)
{
    if (req->argc == 2) {
        struct object *o;
        if (!zset_lookup(req, &req->argv[1], false, &o)) return;
        if (!o) {
            reply_null(req->out);
            return;
        }
        size_t r = rand_below(zset_object_length(o));
        struct range_sink sink = {req, NULL, false, false};
        zset_object_range(o, r, r, false, range_emit, &sink);
        return;
    }
    long long count;
    if (!request_ll(req, 2, &count)) return;
    if (count == LLONG_MIN) {
        reply_error(req->out, "ERR value is out of range, value must between -9223372036854775807 and "
                              "9223372036854775807");
        return;
    }
    bool withscores = req->argc == 4;
    if (req->argc > 4 || (withscores && !ARG_IS(req, 3, "WITHSCORES"))) {
        reply_syntax_error(req->out);
        return;
    }
    if (withscores && (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2)) {
        reply_error(req->out, "ERR value is out of range");
        return;
    }
    random_with_count(req, count, withscores);
}

/* ---- ZSCAN ---- */

/* ZSCAN's cursor precedes the members in the reply, so the members a step
 * visits are collected first (copies: a set may not change under a reply,
 * but the bytes of a packed set are only valid during the visit). */
struct zscan_batch {
    const struct scan_args *args;
    long long seen;
    size_t count, cap;
    str *members;
    double *scores;
};

static void zscan_collect(void *ctx, const char *member, size_t len, double score)
{
    struct zscan_batch *b = ctx;
    b->seen++;
    if (!scan_matches(b->args, member, len)) return;
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->members = mem_realloc(b->members, b->cap * sizeof(str));
        b->scores = mem_realloc(b->scores, b->cap * sizeof(double));
    }
    b->members[b->count] = str_new(member, len);
    b->scores[b->count++] = score;
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
static void cmd_zscan(struct request *req)
{
    struct scan_args a;
    if (!scan_parse_cursor(req, 2, &a)) return;
    struct object *o;
    if (!zset_lookup(req, &req->argv[1], false, &o)) return;
    if (!o) {
        scan_reply_empty(req->out);
        return;
    }
    if (!scan_parse_options(req, 3, 0, &a)) return;
    struct zscan_batch batch = {.args = &a};
    uint64_t cursor = a.cursor;
    long long iterations = a.count > LLONG_MAX / 10 ? LLONG_MAX : a.count * 10;
    do {
        cursor = zset_object_scan(o, cursor, zscan_collect, &batch);
    } while (cursor && iterations-- && batch.seen < a.count);
    struct scan_reply reply;
    scan_reply_begin(&reply, req->out, cursor);
    char buf[64];
    for (size_t i = 0; i < batch.count; i++) {
        /* scores are strings here even in RESP3, as Redis replies them */
        scan_reply_item(&reply, batch.members[i], str_len(batch.members[i]));
        scan_reply_item(&reply, buf, reply_format_double(buf, sizeof(buf), batch.scores[i]));
        str_free(batch.members[i]);
    }
    scan_reply_end(&reply);
    mem_free(batch.members);
    mem_free(batch.scores);
}

#define W (CMD_WRITE)
#define WD (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
#define F (CMD_FAST)
#define LOG_N "O(log(N)) where N is the number of elements in the sorted set."
#define LOG_N_M                                                                                                  \
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."
#define REMOVED_M                                                                                                \
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by " \
    "the operation."
struct command zset_commands[] = {
    {"zadd", cmd_zadd, -4, WD | F, 1, 1, 1, "@write @sortedset @fast", "sorted-set",
     "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
     "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
    {"zincrby", cmd_zincrby, 4, WD | F, 1, 1, 1, "@write @sortedset @fast", "sorted-set",
     "Increments the score of a member in a sorted set.", "1.2.0", LOG_N},
    {"zrem", cmd_zrem, -3, W | F, 1, 1, 1, "@write @sortedset @fast", "sorted-set",
     "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
     "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to "
              "be removed."},
    {"zcard", cmd_zcard, 2, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the number of members in a sorted set.", "1.2.0", "O(1)"},
    {"zscore", cmd_zscore, 3, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the score of a member in a sorted set.", "1.2.0", "O(1)"},
    {"zmscore", cmd_zmscore, -3, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the score of one or more members in a sorted set.", "6.2.0",
     "O(N) where N is the number of members being requested."},
    {"zrank", cmd_zrank, -3, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0", LOG_N},
    {"zrevrank", cmd_zrevrank, -3, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0", LOG_N},
    {"zcount", cmd_zcount, 4, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the count of members in a sorted set that have scores within a range.", "2.0.0", LOG_N},
    {"zlexcount", cmd_zlexcount, 4, R | F, 1, 1, 1, "@read @sortedset @fast", "sorted-set",
     "Returns the number of members in a sorted set within a lexicographical range.", "2.8.9", LOG_N},
    {"zrange", cmd_zrange, -4, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns members in a sorted set within a range of indexes.", "1.2.0", LOG_N_M},
    {"zrangestore", cmd_zrangestore, -5, WD, 1, 2, 1, "@write @sortedset @slow", "sorted-set",
     "Stores a range of members from sorted set in a key.", "6.2.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into "
     "the destination key."},
    {"zrevrange", cmd_zrevrange, -4, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0", LOG_N_M},
    {"zrangebyscore", cmd_zrangebyscore, -4, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns members in a sorted set within a range of scores.", "1.0.5", LOG_N_M},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns members in a sorted set within a range of scores in reverse order.", "2.2.0", LOG_N_M},
    {"zrangebylex", cmd_zrangebylex, -4, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns members in a sorted set within a lexicographical range.", "2.8.9", LOG_N_M},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9", LOG_N_M},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, W, 1, 1, 1, "@write @sortedset @slow", "sorted-set",
     "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
     "2.0.0", REMOVED_M},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, W, 1, 1, 1, "@write @sortedset @slow", "sorted-set",
     "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
     "1.2.0", REMOVED_M},
    {"zremrangebylex", cmd_zremrangebylex, 4, W, 1, 1, 1, "@write @sortedset @slow", "sorted-set",
     "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were "
     "removed.",
     "2.8.9", REMOVED_M},
    {"zpopmin", cmd_zpopmin, -2, W | F, 1, 1, 1, "@write @sortedset @fast", "sorted-set",
     "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last "
     "member was popped.",
     "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of "
              "elements popped."},
    {"zpopmax", cmd_zpopmax, -2, W | F, 1, 1, 1, "@write @sortedset @fast", "sorted-set",
     "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last "
     "member was popped.",
     "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of "
              "elements popped."},
    {"zmpop", cmd_zmpop, -4, W | CMD_MOVABLE_KEYS, 0, 0, 0, "@write @sortedset @slow", "sorted-set",
     "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the "
     "sorted set if the last member was popped.",
     "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the "
              "sorted set, and M being the number of elements popped.",
     NULL, zmpop_keys},
    {"zrandmember", cmd_zrandmember, -2, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Returns one or more random members from a sorted set.", "6.2.0",
     "O(N) where N is the number of members returned"},
    {"zscan", cmd_zscan, -3, R, 1, 1, 1, "@read @sortedset @slow", "sorted-set",
     "Iterates over members and scores of a sorted set.", "2.8.0",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return "
     "back to 0. N is the number of elements inside the collection."},
    {0},
};
