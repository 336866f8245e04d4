/* zset_store: set algebra over sorted sets — ZUNIONSTORE ZINTERSTORE
 * ZDIFFSTORE ZUNION ZINTER ZDIFF (WEIGHTS, AGGREGATE, WITHSCORES) and
 * ZINTERCARD (LIMIT).
 *
 * One function parses every variant (as Redis's
 * zunionInterDiffGenericCommand) and computes the result as an array of
 * (member, score) copies sorted like a sorted set; the store variants build
 * a set from it in the encoding its size calls for, the others reply it.
 * Inputs are visited smallest first for union and intersection, as Redis
 * does, so floating-point sums add up in the same order.
 *
 * Inputs may be sorted sets or plain sets, whose members score 1 (through
 * the set type's low-level API); any other type is WRONGTYPE. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/dict.h"
#include "types/set.h"
#include "types/zset.h"
#include "util/mem.h"
#include "util/numbers.h"

enum setop { OP_UNION, OP_INTER, OP_DIFF };
enum aggregate { AGG_SUM, AGG_MIN, AGG_MAX };

/* What the store variants report on their destination. */
static const char *const store_events[] = {[OP_UNION] = "zunionstore", [OP_INTER] = "zinterstore",
                                           [OP_DIFF] = "zdiffstore"};

struct input {
    struct object *o; /* a zset or a set; NULL: missing key, an empty set */
    double weight;
    size_t size;
};

/* ---- inputs: sorted sets, or sets whose members score 1 ---- */

static size_t input_length(const struct object *o)
{
    return o->type == OBJ_SET ? set_object_length(o) : zset_object_length(o);
}

static bool input_score(const struct object *o, const char *member, size_t len, double *score)
{
    if (o->type != OBJ_SET) return zset_object_score(o, member, len, score);
    *score = 1.0;
    return set_object_contains(o, member, len);
}

struct set_adapter {
    zset_visit_fn *fn;
    void *ctx;
};

static bool set_member_visit(void *ctx, const char *p, size_t len)
{
    struct set_adapter *a = ctx;
    a->fn(a->ctx, p, len, 1.0);
    return true;
}

static void input_each(const struct object *o, zset_visit_fn *fn, void *ctx)
{
    if (o->type != OBJ_SET) {
        zset_object_each(o, fn, ctx);
        return;
    }
    struct set_adapter a = {fn, ctx};
    set_object_each(o, set_member_visit, &a);
}

struct result_entry {
    str member;
    double score;
};

struct result {
    struct result_entry *items;
    size_t count, cap;
    size_t longest; /* member bytes, for the destination's encoding */
};

static void result_push(struct result *r, const char *member, size_t len, double score)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->items = mem_realloc(r->items, r->cap * sizeof(*r->items));
    }
    r->items[r->count].member = str_new(member, len);
    r->items[r->count++].score = score;
    if (len > r->longest) r->longest = len;
}

static void result_free(struct result *r)
{
    for (size_t i = 0; i < r->count; i++) str_free(r->items[i].member);
    mem_free(r->items);
}

static int entry_order(const void *a, const void *b)
{
    const struct result_entry *x = a, *y = b;
    return zsl_compare(x->score, x->member, str_len(x->member), y->score, y->member, str_len(y->member));
}

static void aggregate_into(double *target, double value, enum aggregate agg)
{
    if (agg == AGG_SUM) {
        *target += value;
        if (isnan(*target)) *target = 0.0; /* inf + -inf */
    } else if (agg == AGG_MIN) {
        if (value < *target) *target = value;
    } else if (value > *target) {
        *target = value;
    }
}

/* A weighted score; inf * 0 counts as 0, as in Redis. */
static double weighted(double score, double weight)
{
    double v = score * weight;
    return isnan(v) ? 0.0 : v;
}

/* ---- union ---- */

/* member -> accumulated score (v.d) */
static const struct dict_type union_dict_type = {.nocase = false, .owns_keys = true, .val_free = NULL};

struct union_ctx {
    struct dict *acc;
    double weight;
    enum aggregate agg;
};

static void union_visit(void *ctx, const char *member, size_t len, double score)
{
    struct union_ctx *u = ctx;
    bool existed;
    struct dict_entry *e = dict_add_or_find(u->acc, member, len, NULL, &existed);
    double v = weighted(score, u->weight);
    if (!existed) e->v.d = v;
    else aggregate_into(&e->v.d, v, u->agg);
}

static void compute_union(struct input *in, int n, enum aggregate agg, struct result *r)
{
    struct union_ctx u = {dict_create(&union_dict_type), 0, agg};
    for (int i = 0; i < n; i++) {
        if (!in[i].o) continue;
        u.weight = in[i].weight;
        input_each(in[i].o, union_visit, &u);
    }
    struct dict_iter it;
    dict_iter_init(&it, u.acc, false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) result_push(r, e->key, str_len(e->key), e->v.d);
    dict_iter_done(&it);
    dict_release(u.acc);
}

/* ---- intersection and difference ---- */

struct member_ctx {
    struct input *in;
    int n;
    enum aggregate agg;
    struct result *r;
    long long limit; /* ZINTERCARD: stop counting here (0: no limit) */
};

static void inter_visit(void *ctx, const char *member, size_t len, double score)
{
    struct member_ctx *c = ctx;
    if (c->limit && (long long)c->r->count >= c->limit) return;
    double total = weighted(score, c->in[0].weight);
    for (int j = 1; j < c->n; j++) {
        double other;
        if (!input_score(c->in[j].o, member, len, &other)) return;
        aggregate_into(&total, other * c->in[j].weight, c->agg);
    }
    result_push(c->r, member, len, total);
}

static void diff_visit(void *ctx, const char *member, size_t len, double score)
{
    struct member_ctx *c = ctx;
    double other;
    for (int j = 1; j < c->n; j++)
        if (c->in[j].o && input_score(c->in[j].o, member, len, &other)) return;
    result_push(c->r, member, len, score);
}

static int by_size(const void *a, const void *b)
{
    const struct input *x = a, *y = b;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* Computes the operation into r (unsorted). */
static void compute(enum setop op, struct input *in, int n, enum aggregate agg, long long limit, struct result *r)
{
    if (op != OP_DIFF) {
        /* stable, so that equal sizes keep their argument order */
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && by_size(&in[j - 1], &in[j]) > 0; j--) {
                struct input t = in[j];
                in[j] = in[j - 1];
                in[j - 1] = t;
            }
    }
    if (op == OP_UNION) {
        compute_union(in, n, agg, r);
        return;
    }
    if (!in[0].o) return; /* intersection with, or difference from, nothing */
    if (op == OP_INTER)
        for (int i = 1; i < n; i++)
            if (!in[i].o) return;
    struct member_ctx c = {in, n, agg, r, limit};
    input_each(in[0].o, op == OP_INTER ? inter_visit : diff_visit, &c);
}

/* ---- the commands ---- */

/* Looks up the numkeys inputs from argv[first] on; replies WRONGTYPE and
 * returns false when one is neither a sorted set nor a set. */
static bool lookup_inputs(struct request *req, int first, int n, struct input *in)
{
    for (int i = 0; i < n; i++) {
        struct arg *key = &req->argv[first + i];
        struct object *o = db_find_read(req->db, key->ptr, key->len);
        if (o && o->type != OBJ_ZSET && o->type != OBJ_SET) {
            reply_wrong_type(req->out);
            return false;
        }
        in[i].o = o;
        in[i].weight = 1.0;
        in[i].size = o ? input_length(o) : 0;
    }
    return true;
}

struct setop_opts {
    enum aggregate agg;
    bool withscores;
    long long limit;
};

static bool parse_setop_opts(struct request *req, int first, enum setop op, bool store, bool card_only,
                             struct input *in, int n, struct setop_opts *o)
{
    for (int j = first; j < req->argc; j++) {
        int remaining = req->argc - j - 1;
        if (op != OP_DIFF && !card_only && remaining >= n && ARG_IS(req, j, "WEIGHTS")) {
            for (int i = 0; i < n; i++) {
                struct arg *a = &req->argv[++j];
                if (!parse_double(a->ptr, a->len, &in[i].weight)) {
                    reply_error(req->out, "ERR weight value is not a float");
                    return false;
                }
            }
        } else if (op != OP_DIFF && !card_only && remaining >= 1 && ARG_IS(req, j, "AGGREGATE")) {
            j++;
            if (ARG_IS(req, j, "SUM")) o->agg = AGG_SUM;
            else if (ARG_IS(req, j, "MIN")) o->agg = AGG_MIN;
            else if (ARG_IS(req, j, "MAX")) o->agg = AGG_MAX;
            else {
                reply_syntax_error(req->out);
                return false;
            }
        } else if (!store && !card_only && ARG_IS(req, j, "WITHSCORES")) {
            o->withscores = true;
        } else if (card_only && remaining >= 1 && ARG_IS(req, j, "LIMIT")) {
            if (!request_ll_range(req, ++j, 0, LLONG_MAX, &o->limit, "ERR LIMIT can't be negative")) return false;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

static void reply_result(struct request *req, const struct result *r, bool withscores)
{
    bool pairs = withscores && req->out->resp >= 3;
    reply_array(req->out, (long long)r->count * (withscores && !pairs ? 2 : 1));
    for (size_t i = 0; i < r->count; i++) {
        const struct result_entry *e = &r->items[i];
        zset_reply_member(req, e->member, str_len(e->member), e->score, withscores, pairs);
    }
}

static struct object *build_set(const struct result *r)
{
    if (r->count == 0) return NULL;
    struct object *o = zset_object_create(r->count, r->longest);
    for (size_t i = 0; i < r->count; i++) {
        double ignored;
        zset_object_add(o, r->items[i].score, r->items[i].member, str_len(r->items[i].member), 0, &ignored);
    }
    return o;
}

/* The shared body: numkeys at argv[numkeys_index]; dst_index > 0 stores
 * the result there; card_only is ZINTERCARD. `command` names it in errors. */
static void setop_generic(struct request *req, const char *command, int dst_index, int numkeys_index, enum setop op,
                          bool card_only)
{
    long long numkeys;
    if (!request_ll(req, numkeys_index, &numkeys)) return;
    if (numkeys < 1) {
        reply_errorf(req->out, "ERR at least 1 input key is needed for '%s' command", command);
        return;
    }
    if (numkeys > req->argc - numkeys_index - 1) {
        reply_syntax_error(req->out);
        return;
    }
    int n = (int)numkeys, first = numkeys_index + 1;
    struct input small[8];
    struct input *in = n <= 8 ? small : mem_alloc(sizeof(*in) * (size_t)n);
    struct setop_opts opts = {AGG_SUM, false, 0};
    struct result r = {NULL, 0, 0, 0};
    if (!lookup_inputs(req, first, n, in) ||
        !parse_setop_opts(req, first + n, op, dst_index > 0, card_only, in, n, &opts))
        goto done;
    compute(op, in, n, opts.agg, card_only ? opts.limit : 0, &r);
    if (card_only) {
        reply_int(req->out, (long long)r.count);
        goto done;
    }
    if (r.count > 1) qsort(r.items, r.count, sizeof(*r.items), entry_order);
    if (dst_index > 0) zset_store_result(req, &req->argv[dst_index], build_set(&r), store_events[op]);
    else reply_result(req, &r, opts.withscores);
done:
    result_free(&r);
    if (in != small) mem_free(in);
}

static void cmd_zunionstore(struct request *req)
{
    setop_generic(req, "zunionstore", 1, 2, OP_UNION, false);
}

static void cmd_zinterstore(struct request *req)
{
    setop_generic(req, "zinterstore", 1, 2, OP_INTER, false);
}

static void cmd_zdiffstore(struct request *req)
{
    setop_generic(req, "zdiffstore", 1, 2, OP_DIFF, false);
}

static void cmd_zunion(struct request *req)
{
    setop_generic(req, "zunion", 0, 1, OP_UNION, false);
}

static void cmd_zinter(struct request *req)
{
    setop_generic(req, "zinter", 0, 1, OP_INTER, false);
}

static void cmd_zdiff(struct request *req)
{
    setop_generic(req, "zdiff", 0, 1, OP_DIFF, false);
}

static void cmd_zintercard(struct request *req)
{
    setop_generic(req, "zintercard", 0, 1, OP_INTER, true);
}

/* The store variants' keys: the destination, then numkeys inputs. */
static int store_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    if (argc < 2 || max < 1) return 0;
    positions[0] = 1;
    return 1 + zset_numkeys_positions(2, argv, argc, positions + 1, max - 1);
}

static int read_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    return zset_numkeys_positions(1, argv, argc, positions, max);
}

#define WD (CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS)
#define RM (CMD_READONLY | CMD_MOVABLE_KEYS)
#define STORE_COMPLEXITY                                                                                            \
    "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of "     \
    "elements in the resulting sorted set."
#define INTER_COMPLEXITY                                                                                            \
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input "      \
    "sorted sets and M being the number of elements in the resulting sorted set."
#define DIFF_COMPLEXITY                                                                                             \
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the " \
    "first set, and K is the size of the result set."
struct command zset_store_commands[] = {
    {"zunionstore", cmd_zunionstore, -4, WD, 1, 1, 1, "@write @sortedset @slow", "sorted-set",
     "Stores the union of multiple sorted sets in a key.", "2.0.0", STORE_COMPLEXITY, NULL, store_keys},
    {"zinterstore", cmd_zinterstore, -4, WD, 1, 1, 1, "@write @sortedset @slow", "sorted-set",
     "Stores the intersect of multiple sorted sets in a key.", "2.0.0", INTER_COMPLEXITY, NULL, store_keys},
    {"zdiffstore", cmd_zdiffstore, -4, WD, 1, 1, 1, "@write @sortedset @slow", "sorted-set",
     "Stores the difference of multiple sorted sets in a key.", "6.2.0", DIFF_COMPLEXITY, NULL, store_keys},
    {"zunion", cmd_zunion, -3, RM, 0, 0, 0, "@read @sortedset @slow", "sorted-set",
     "Returns the union of multiple sorted sets.", "6.2.0", STORE_COMPLEXITY, NULL, read_keys},
    {"zinter", cmd_zinter, -3, RM, 0, 0, 0, "@read @sortedset @slow", "sorted-set",
     "Returns the intersect of multiple sorted sets.", "6.2.0", INTER_COMPLEXITY, NULL, read_keys},
    {"zdiff", cmd_zdiff, -3, RM, 0, 0, 0, "@read @sortedset @slow", "sorted-set",
     "Returns the difference between multiple sorted sets.", "6.2.0", DIFF_COMPLEXITY, NULL, read_keys},
    {"zintercard", cmd_zintercard, -3, RM, 0, 0, 0, "@read @sortedset @slow", "sorted-set",
     "Returns the number of members of the intersect of multiple sorted sets.", "7.0.0",
     "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
     NULL, read_keys},
    {0},
};
