/* sort: SORT and SORT_RO — the elements of a list, set or sorted set,
 * ordered by their own value or by keys a BY pattern names, optionally
 * replaced by GET patterns, cut by LIMIT, and replied or stored as a list.
 *
 * Order, as Redis 7.0: numbers by value, ties by the elements' bytes;
 * ALPHA by bytes (Runnel compares bytes where Redis uses strcoll, the same
 * in the C locale); with BY, elements whose key is missing count as 0 (or,
 * with ALPHA, come first). BY without '*' keeps a list's or sorted set's
 * own order. A set has none: its members come out by value when all are
 * integers (an intset's order in Redis), else by bytes, and with STORE
 * they are sorted ALPHA, as Redis does.
 *
 * The sort is stable and a set's members enter it in that order, so the
 * result depends only on the data: SORT ... STORE is logged as it came. */
#include "types/sort.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "types/hash.h"
#include "types/keyspace_events.h"
#include "types/list.h"
#include "types/set.h"
#include "types/zset.h"
#include "util/mem.h"
#include "util/numbers.h"
#include "util/str.h"

struct sort_options {
    bool desc, alpha, dont_sort;
    const struct arg *by;   /* NULL: the elements themselves */
    const struct arg *store;
    long long limit_start, limit_count;
    int *gets, ngets;       /* argv positions of GET patterns (room for argc) */
    int access;             /* patterns allowed by the ACL: 0 not asked yet, 1 yes, -1 no */
};

struct sort_item {
    str elem;
    str cmp;       /* ALPHA BY: the value sorted by (NULL when missing) */
    double score;  /* numeric: the value sorted by */
    size_t order;  /* position before sorting, for stability */
};

struct sort_vector {
    struct sort_item *items;
    size_t n, cap;
};

bool (*sort_patterns_allowed)(struct request *req);
bool sort_patterns_cluster_refused;

/* Asks the ACL once per call, when a pattern first needs it: *cached is
 * 0 (not asked yet), 1 allowed, -1 refused. */
static bool sort_access(struct request *req, int *cached)
{
    if (*cached == 0) *cached = !sort_patterns_allowed || sort_patterns_allowed(req) ? 1 : -1;
    return *cached > 0;
}

/* Parses SORT's options from argv[2..]; false after an error reply. */
static bool sort_parse(struct request *req, bool read_only, struct sort_options *o)
{
    *o = (struct sort_options){.limit_count = -1, .gets = o->gets};
    for (int j = 2; j < req->argc; j++) {
        int left = req->argc - j - 1;
        if (ARG_IS(req, j, "ASC")) o->desc = false;
        else if (ARG_IS(req, j, "DESC")) o->desc = true;
        else if (ARG_IS(req, j, "ALPHA")) o->alpha = true;
        else if (ARG_IS(req, j, "LIMIT") && left >= 2) {
            if (!request_ll(req, j + 1, &o->limit_start) || !request_ll(req, j + 2, &o->limit_count)) return false;
            j += 2;
        } else if (!read_only && ARG_IS(req, j, "STORE") && left >= 1) {
            o->store = &req->argv[++j];
        } else if (ARG_IS(req, j, "BY") && left >= 1) {
            o->by = &req->argv[++j];
            o->dont_sort = memchr(o->by->ptr, '*', o->by->len) == NULL;
            if (!o->dont_sort && sort_patterns_cluster_refused) {
                reply_error(req->out, "ERR BY option of SORT denied in Cluster mode.");
                return false;
            }
            if (!o->dont_sort && !sort_access(req, &o->access)) {
                reply_error(req->out, "ERR BY option of SORT denied due to insufficient ACL permissions.");
                return false;
            }
        } else if (ARG_IS(req, j, "GET") && left >= 1) {
            if (sort_patterns_cluster_refused) {
                reply_error(req->out, "ERR GET option of SORT denied in Cluster mode.");
                return false;
            }
            if (!sort_access(req, &o->access)) {
                reply_error(req->out, "ERR GET option of SORT denied due to insufficient ACL permissions.");
                return false;
            }
            o->gets[o->ngets++] = ++j;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

/* ---- BY and GET patterns ---- */

/* The value a pattern names for element elem: "#" is the element, the
 * first '*' is replaced by it, and "->field" after it reads a hash field.
 * Returns a new str, or NULL when the key, the field or a '*' is missing
 * or the key holds another type. */
static str sort_lookup(struct request *req, const struct arg *pat, const char *elem, size_t elen)
{
    if (pat->len == 1 && pat->ptr[0] == '#') return str_new(elem, elen);
    const char *star = memchr(pat->ptr, '*', pat->len);
    if (!star) return NULL;
    const char *end = pat->ptr + pat->len, *arrow = NULL;
    for (const char *p = star + 1; p + 2 < end; p++) /* "->" with a field after it */
        if (p[0] == '-' && p[1] == '>') {
            arrow = p;
            break;
        }
    const char *key_end = arrow ? arrow : end;
    str key = str_new(pat->ptr, (size_t)(star - pat->ptr));
    key = str_append(key, elem, elen);
    key = str_append(key, star + 1, (size_t)(key_end - star - 1));
    struct object *o = db_find_read(req->db, key, str_len(key));
    str_free(key);
    if (!o) return NULL;
    if (!arrow) {
        if (o->type != OBJ_STRING) return NULL;
        char buf[24];
        size_t len;
        const char *p = object_string_bytes(o, buf, &len);
        return str_new(p, len);
    }
    struct hash_value v;
    if (o->type != OBJ_HASH || !hash_object_get(o, arrow + 2, (size_t)(end - arrow - 2), &v)) return NULL;
    return str_new(v.p, v.len);
}

/* ---- loading the elements ---- */

static bool sort_vector_add(void *ctx, const char *p, size_t len)
{
    struct sort_vector *v = ctx;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = mem_realloc(v->items, v->cap * sizeof(*v->items));
    }
    v->items[v->n] = (struct sort_item){.elem = str_new(p, len), .order = v->n};
    v->n++;
    return true;
}

static void sort_vector_add_member(void *ctx, const char *member, size_t len, double score)
{
    (void)score;
    sort_vector_add(ctx, member, len);
}

static int sort_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int sort_elem_cmp(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    return sort_bytes_cmp(a->elem, str_len(a->elem), b->elem, str_len(b->elem));
}

/* Compares two members that are both integers, by value. */
static int sort_integer_cmp(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    long long m = 0, n = 0;
    parse_ll(a->elem, str_len(a->elem), &m);
    parse_ll(b->elem, str_len(b->elem), &n);
    return (m > n) - (m < n);
}

/* Puts a set's members in an order that depends on them alone (storage
 * order depends on history): by value when all are integers — the order
 * of Redis's intsets, which ties keep there — else by bytes. */
static void sort_vector_canonical(struct sort_vector *v)
{
    bool integers = true;
    for (size_t i = 0; i < v->n && integers; i++) {
        long long n;
        integers = parse_ll(v->items[i].elem, str_len(v->items[i].elem), &n);
    }
    qsort(v->items, v->n, sizeof(*v->items), integers ? sort_integer_cmp : sort_elem_cmp);
    for (size_t i = 0; i < v->n; i++) v->items[i].order = i;
}

static void sort_vector_load(const struct object *o, struct sort_vector *v)
{
    if (!o) return;
    if (o->type == OBJ_LIST) list_object_each(o, sort_vector_add, v);
    else if (o->type == OBJ_ZSET) zset_object_each(o, sort_vector_add_member, v);
    else {
        set_object_each(o, sort_vector_add, v);
        sort_vector_canonical(v);
    }
}

static void sort_vector_free(struct sort_vector *v)
{
    for (size_t i = 0; i < v->n; i++) {
        str_free(v->items[i].elem);
        if (v->items[i].cmp) str_free(v->items[i].cmp);
    }
    mem_free(v->items);
}

/* ---- ordering ---- */

/* Reads what each element sorts by; false when a numeric sort meets a value
 * that is not a number (Redis's strtod rules: the whole string, no NaN,
 * in range). */
static bool sort_load_keys(struct request *req, const struct sort_options *o, struct sort_vector *v)
{
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        struct sort_item *it = &v->items[i];
        str by = o->by ? sort_lookup(req, o->by, it->elem, str_len(it->elem)) : NULL;
        if (o->alpha) {
            it->cmp = by;
            continue;
        }
        const char *text = o->by ? by : it->elem;
        if (text) {
            char *endp;
            errno = 0;
            it->score = strtod(text, &endp);
            if (*endp != '\0' || errno == ERANGE || isnan(it->score)) ok = false;
        }
        if (by) str_free(by);
    }
    return ok;
}

static struct sort_options sort_current; /* the comparator's options; the server has one thread */

static int sort_cmp(const void *x, const void *y)
{
    const struct sort_item *a = x, *b = y;
    int c;
    if (!sort_current.alpha) {
        c = a->score > b->score ? 1 : a->score < b->score ? -1 : sort_elem_cmp(a, b);
    } else if (sort_current.by) {
        if (!a->cmp || !b->cmp) c = (a->cmp != NULL) - (b->cmp != NULL);
        else c = sort_bytes_cmp(a->cmp, str_len(a->cmp), b->cmp, str_len(b->cmp));
    } else {
        c = sort_elem_cmp(a, b);
    }
    if (sort_current.desc) c = -c;
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* ---- output ---- */

/* The [start, end) slice of the sorted vector that LIMIT selects. */
static void sort_limit(const struct sort_options *o, size_t n, size_t *start, size_t *end)
{
    long long s = o->limit_start < 0 ? 0 : o->limit_start;
    *start = (unsigned long long)s >= n ? n : (size_t)s;
    if (o->limit_count < 0 || (unsigned long long)o->limit_count >= n - *start) *end = n;
    else *end = *start + (size_t)o->limit_count;
}

static void sort_reply(struct request *req, const struct sort_options *o, struct sort_vector *v, size_t start,
                       size_t end)
{
    reply_array(req->out, (long long)(end - start) * (o->ngets ? o->ngets : 1));
    for (size_t i = start; i < end; i++) {
        struct sort_item *it = &v->items[i];
        if (!o->ngets) reply_bulk(req->out, it->elem, str_len(it->elem));
        for (int g = 0; g < o->ngets; g++) {
            str val = sort_lookup(req, &req->argv[o->gets[g]], it->elem, str_len(it->elem));
            if (val) reply_bulk(req->out, val, str_len(val));
            else reply_null(req->out);
            if (val) str_free(val);
        }
    }
}

/* STORE: the result as a list under the destination (GET values missing
 * become empty strings), or the destination deleted when it is empty. */
static void sort_store(struct request *req, const struct sort_options *o, struct sort_vector *v, size_t start,
                       size_t end)
{
    const struct arg *dst = o->store;
    struct object *list = list_object_create();
    for (size_t i = start; i < end; i++) {
        struct sort_item *it = &v->items[i];
        if (!o->ngets) list_object_push(list, it->elem, str_len(it->elem), LIST_TAIL);
        for (int g = 0; g < o->ngets; g++) {
            str val = sort_lookup(req, &req->argv[o->gets[g]], it->elem, str_len(it->elem));
            list_object_push(list, val ? val : "", val ? str_len(val) : 0, LIST_TAIL);
            if (val) str_free(val);
        }
    }
    size_t n = list_object_length(list);
    if (n) {
        db_overwrite(req->db, dst->ptr, dst->len, list, false);
        key_changed(req, dst->ptr, dst->len, NOTIFY_LIST, "sortstore");
    } else {
        object_free(list);
        if (db_delete(req->db, dst->ptr, dst->len)) key_changed(req, dst->ptr, dst->len, NOTIFY_GENERIC, "del");
    }
    reply_int(req->out, (long long)n);
}

static void sort_run(struct request *req, struct sort_options *o, const struct object *src)
{
    struct sort_vector v = {0};
    sort_vector_load(src, &v);
    bool is_set = src && src->type == OBJ_SET;
    if (is_set && o->dont_sort && o->store) {
        o->dont_sort = false; /* Redis sorts what it stores from a set */
        o->alpha = true;
        o->by = NULL;
    }
    bool numbers_ok = true;
    if (!o->dont_sort) {
        numbers_ok = sort_load_keys(req, o, &v);
        sort_current = *o;
        if (v.n > 1) qsort(v.items, v.n, sizeof(*v.items), sort_cmp);
    } else if (o->desc && !is_set) { /* a set has no order to reverse */
        for (size_t i = 0; i < v.n / 2; i++) {
            struct sort_item t = v.items[i];
            v.items[i] = v.items[v.n - 1 - i];
            v.items[v.n - 1 - i] = t;
        }
    }
    size_t start, end;
    sort_limit(o, v.n, &start, &end);
    if (!numbers_ok) reply_error(req->out, "ERR One or more scores can't be converted into double");
    else if (o->store) sort_store(req, o, &v, start, end);
    else sort_reply(req, o, &v, start, end);
    sort_vector_free(&v);
}

static void sort_command(struct request *req, bool read_only)
{
    struct sort_options o = {.gets = mem_alloc(sizeof(int) * (size_t)req->argc)};
    int *gets = o.gets;
    if (sort_parse(req, read_only, &o)) {
        struct object *src = db_find_read(req->db, req->argv[1].ptr, req->argv[1].len);
        if (src && src->type != OBJ_LIST && src->type != OBJ_SET && src->type != OBJ_ZSET) reply_wrong_type(req->out);
        else sort_run(req, &o, src);
    }
    mem_free(gets);
}

static void cmd_sort(struct request *req)
{
    sort_command(req, false);
}

static void cmd_sort_ro(struct request *req)
{
    sort_command(req, true);
}

/* SORT's keys: the sorted key and STORE's destination (options with
 * arguments are stepped over, as Redis's sortGetKeys does). */
static int sort_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    int n = 0, store = 0;
    if (max > 0) positions[n++] = 1;
    for (int j = 2; j < argc; j++) {
        if (argv[j].len == 5 && strncasecmp(argv[j].ptr, "LIMIT", 5) == 0) j += 2;
        else if ((argv[j].len == 3 && strncasecmp(argv[j].ptr, "GET", 3) == 0) ||
                 (argv[j].len == 2 && strncasecmp(argv[j].ptr, "BY", 2) == 0))
            j++;
        else if (argv[j].len == 5 && strncasecmp(argv[j].ptr, "STORE", 5) == 0 && j + 1 < argc)
            store = j + 1; /* the last STORE counts; its argument is not skipped (as Redis) */
    }
    if (store && n < max) positions[n++] = store;
    return n;
}

struct command sort_commands[] = {
    {"sort", cmd_sort, -2, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1,
     "@write @set @sortedset @list @slow @dangerous", "generic",
     "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", "1.0.0",
     "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned "
     "elements. When the elements are not sorted, complexity is O(N).",
     .keys = sort_keys},
    {"sort_ro", cmd_sort_ro, -2, CMD_READONLY, 1, 1, 1, "@read @set @sortedset @list @slow @dangerous", "generic",
     "Returns the sorted elements of a list, a set, or a sorted set.", "7.0.0",
     "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned "
     "elements. When the elements are not sorted, complexity is O(N)."},
    {0},
};
