/* list_commands: the non-blocking list commands, and the helpers the
 * blocking ones (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) share with them.
 *
 * Commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET
 * LINSERT LREM LTRIM LPOS LMOVE LMOVEM RPOPLPUSH LMPOP.
 *
 * The variants that differ only in the end they work on (LPUSH/RPUSH,
 * LPOP/RPOP...) share one function and index small tables by that end. */
#include <limits.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "messaging/blocking.h"
#include "types/keyspace_events.h"
#include "types/list.h"
#include "util/mem.h"
#include "util/numbers.h"

static const char *const push_events[] = {"lpush", "rpush"};
static const char *const pop_events[] = {"lpop", "rpop"};
static const char *const pop_names[] = {"lpop", "rpop"};

#define ERR_NOT_POSITIVE "ERR value is out of range, must be positive"

/* ---- helpers shared with the blocking commands ---- */

bool list_lookup(struct request *req, const struct arg *key, bool write, struct object **out)
{
    struct object *o = write ? db_find(req->db, key->ptr, key->len) : db_find_read(req->db, key->ptr, key->len);
    if (o && o->type != OBJ_LIST) {
        reply_wrong_type(req->out);
        return false;
    }
    *out = o;
    return true;
}

bool list_parse_end(struct request *req, int i, enum list_end *end)
{
    if (ARG_IS(req, i, "LEFT")) *end = LIST_HEAD;
    else if (ARG_IS(req, i, "RIGHT")) *end = LIST_TAIL;
    else {
        reply_syntax_error(req->out);
        return false;
    }
    return true;
}

/* key_changed for a change of n elements (Redis counts each one dirty). */
static void list_changed(struct request *req, const struct arg *key, const char *event, long long n)
{
    key_changed(req, key->ptr, key->len, NOTIFY_LIST, event);
    req->dirty += n - 1;
}

/* After n elements left the list o under key: reports `event`, then deletes
 * the key (reporting "del") when the list is empty. o may be freed. */
static void list_removed(struct request *req, const struct arg *key, struct object *o, const char *event, long long n)
{
    list_changed(req, key, event, n);
    if (list_object_length(o) > 0) return;
    db_delete(req->db, key->ptr, key->len);
    notify_keyspace_event(req->db->id, key->ptr, key->len, NOTIFY_GENERIC, "del");
}

static void reply_elem(void *ctx, const char *p, size_t len)
{
    reply_bulk(ctx, p, len);
}

void list_pop_reply(struct request *req, const struct arg *key, struct object *o, enum list_end end, long long count,
                    enum list_pop_shape shape)
{
    size_t len = list_object_length(o), n = 1;
    if (shape == LIST_POP_ARRAY || shape == LIST_POP_KEY_ARRAY) n = (unsigned long long)count < len ? (size_t)count : len;
    if (shape == LIST_POP_KEY_ELEMENT || shape == LIST_POP_KEY_ARRAY) {
        reply_array(req->out, 2);
        reply_bulk(req->out, key->ptr, key->len);
    }
    if (shape == LIST_POP_ARRAY || shape == LIST_POP_KEY_ARRAY) reply_array(req->out, (long long)n);
    for (size_t i = 0; i < n; i++) list_object_pop(o, end, reply_elem, req->out);
    /* logged as the plain pop it was, whatever command (BLPOP, LMPOP) did it */
    char num[24];
    struct arg pop[3] = {{end == LIST_HEAD ? "LPOP" : "RPOP", 4}, *key, {num, format_ull(num, n)}};
    oplog_propagate(req, 3, pop);
    list_removed(req, key, o, pop_events[end], (long long)n);
}

/* An element copied out of a list before it is removed: small ones on the
 * stack, large ones on the heap. */
struct elem_copy {
    char small[128];
    char *p;
    size_t len;
};

static void elem_save(void *ctx, const char *p, size_t len)
{
    struct elem_copy *c = ctx;
    c->p = len <= sizeof(c->small) ? c->small : mem_alloc(len);
    c->len = len;
    memcpy(c->p, p, len);
}

static void elem_release(struct elem_copy *c)
{
    if (c->p != c->small) mem_free(c->p);
}

/* A new, empty list stored under key, counting its pushes and pops when
 * the layer above asks (list_counts_for). */
static struct object *list_new_key(struct request *req, const struct arg *key)
{
    struct object *o = list_object_create();
    db_add(req->db, key->ptr, key->len, o);
    if (list_counts_for) list_object_count_into(o, list_counts_for(req->db->id, key->ptr, key->len));
    return o;
}

bool list_move_reply(struct request *req, const struct arg *src, struct object *so, const struct arg *dst,
                     enum list_end from, enum list_end to)
{
    struct object *dobj;
    if (!list_lookup(req, dst, true, &dobj)) return false;
    struct elem_copy elem;
    list_object_pop(so, from, elem_save, &elem);
    static const struct arg ends[2] = {{"LEFT", 4}, {"RIGHT", 5}};
    struct arg move[5] = {{"LMOVE", 5}, *src, *dst, ends[from], ends[to]};
    oplog_propagate(req, 5, move);
    if (!dobj) {
        dobj = list_new_key(req, dst);
    }
    list_object_push(dobj, elem.p, elem.len, to);
    list_changed(req, dst, push_events[to], 1);
    blocking_key_ready(req->db, dst->ptr, dst->len);
    reply_bulk(req->out, elem.p, elem.len);
    elem_release(&elem);
    list_removed(req, src, so, pop_events[from], 1);
    return true;
}

bool list_parse_movem(struct request *req, int block_index, struct list_movem *m)
{
    *m = (struct list_movem){.count = 1};
    if (!list_parse_end(req, 3, &m->from) || !list_parse_end(req, 4, &m->to)) return false;
    int left = req->argc - block_index;
    if (left == 0) return true;
    if (left != 3 || !(ARG_IS(req, block_index, "COUNT") || ARG_IS(req, block_index, "EXACTLY"))) {
        reply_syntax_error(req->out);
        return false;
    }
    m->exactly = ARG_IS(req, block_index, "EXACTLY");
    if (!request_ll_range(req, block_index + 1, 1, LLONG_MAX, &m->count, "ERR count should be greater than 0"))
        return false;
    if (ARG_IS(req, block_index + 2, "BULK")) m->bulk = true;
    else if (!ARG_IS(req, block_index + 2, "OBO")) {
        reply_syntax_error(req->out);
        return false;
    }
    return true;
}

size_t list_movem_needs(const struct list_movem *m)
{
    return m->exactly ? (size_t)m->count : 1;
}

static void elem_str(void *ctx, const char *p, size_t len)
{
    *(str *)ctx = str_new(p, len);
}

/* Where the moved elements end up, head to tail: one LMOVE after another
 * (OBO) reverses them at the head; a block (BULK) keeps the order they
 * had in the source, which a pop from the tail reverses. */
static bool movem_reversed(const struct list_movem *m)
{
    return m->bulk ? m->from == LIST_TAIL : m->to == LIST_HEAD;
}

static void movem_propagate(struct request *req, const struct arg *src, const struct arg *dst,
                            const struct list_movem *m, size_t n)
{
    static const struct arg ends[2] = {{"LEFT", 4}, {"RIGHT", 5}};
    char num[24];
    struct arg argv[8] = {{"LMOVEM", 6}, *src, *dst, ends[m->from], ends[m->to], {"EXACTLY", 7},
                          {num, format_ull(num, n)}, m->bulk ? (struct arg){"BULK", 4} : (struct arg){"OBO", 3}};
    oplog_propagate(req, 8, argv);
}

bool list_movem_reply(struct request *req, const struct arg *src, struct object *so, const struct arg *dst,
                      const struct list_movem *m)
{
    struct object *dobj;
    if (!list_lookup(req, dst, true, &dobj)) return false;
    size_t len = list_object_length(so);
    size_t n = (unsigned long long)m->count < len ? (size_t)m->count : len;
    str *moved = mem_alloc(sizeof(str) * n);
    for (size_t i = 0; i < n; i++) list_object_pop(so, m->from, elem_str, &moved[i]);
    if (!dobj) {
        dobj = list_new_key(req, dst);
    }
    bool reversed = movem_reversed(m);
    reply_array(req->out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        str e = moved[reversed ? n - 1 - i : i];
        reply_bulk(req->out, e, str_len(e));
    }
    /* To the tail, the destination order as it is; to the head, backwards. */
    bool backwards = (m->to == LIST_HEAD) != reversed;
    for (size_t i = 0; i < n; i++) {
        str e = moved[backwards ? n - 1 - i : i];
        list_object_push(dobj, e, str_len(e), m->to);
        str_free(e);
    }
    mem_free(moved);
    movem_propagate(req, src, dst, m, n);
    list_changed(req, dst, push_events[m->to], (long long)n);
    blocking_key_ready(req->db, dst->ptr, dst->len);
    list_removed(req, src, so, pop_events[m->from], (long long)n);
    return true;
}

/* LMOVEM source destination LEFT|RIGHT LEFT|RIGHT [<COUNT n | EXACTLY n> <OBO | BULK>] */
static void cmd_lmovem(struct request *req)
{
    struct list_movem m;
    if (!list_parse_movem(req, 5, &m)) return;
    struct arg *src = &req->argv[1], *dst = &req->argv[2];
    struct object *so;
    if (!list_lookup(req, src, true, &so)) return;
    if (!so || list_object_length(so) < list_movem_needs(&m)) {
        if (m.exactly) reply_null_array(req->out);
        else reply_empty_array(req->out);
        return;
    }
    list_movem_reply(req, src, so, dst, &m);
}

bool list_parse_mpop(struct request *req, int numkeys_index, struct list_mpop *m)
{
    if (!request_mpop_keys(req, numkeys_index, &m->first_key, &m->numkeys)) return false;
    int where = m->first_key + m->numkeys;
    if (!list_parse_end(req, where, &m->end)) return false;
    return request_mpop_count(req, where + 1, &m->count);
}

bool list_mpop_serve(struct request *req, const struct list_mpop *m)
{
    for (int i = 0; i < m->numkeys; i++) {
        const struct arg *key = &req->argv[m->first_key + i];
        struct object *o;
        if (!list_lookup(req, key, true, &o)) return true;
        if (!o) continue;
        list_pop_reply(req, key, o, m->end, m->count, LIST_POP_KEY_ARRAY);
        return true;
    }
    return false;
}

/* Key positions of a command with numkeys at argv[numkeys_index]; none
 * when numkeys is malformed. */
static int mpop_keys(int numkeys_index, struct arg *argv, int argc, int *positions, int max)
{
    long long numkeys;
    if (numkeys_index >= argc || !parse_ll(argv[numkeys_index].ptr, argv[numkeys_index].len, &numkeys)) return 0;
    if (numkeys < 1 || numkeys > argc - numkeys_index - 1) return 0;
    int n = 0;
    for (int i = 0; i < (int)numkeys && n < max; i++) positions[n++] = numkeys_index + 1 + i;
    return n;
}

int list_lmpop_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    return mpop_keys(1, argv, argc, positions, max);
}

int list_blmpop_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    return mpop_keys(2, argv, argc, positions, max);
}

/* ---- push ---- */

/* Refuses (replying an error) when any of argv[first..last] is too large to
 * be a list element. */
static bool elements_fit(struct request *req, int first, int last)
{
    for (int i = first; i <= last; i++) {
        if (req->argv[i].len <= LIST_MAX_ELEMENT_LEN) continue;
        reply_error(req->out, "ERR element too large for a list");
        return false;
    }
    return true;
}

/* LPUSH RPUSH LPUSHX RPUSHX: `existing` refuses to create the list. */
static void push_generic(struct request *req, enum list_end end, bool existing)
{
    struct arg *key = &req->argv[1];
    struct object *o;
    if (!elements_fit(req, 2, req->argc - 1) || !list_lookup(req, key, true, &o)) return;
    if (!o) {
        if (existing) {
            reply_int(req->out, 0);
            return;
        }
        o = list_new_key(req, key);
    }
    list_object_push_many(o, req->argv + 2, req->argc - 2, end);
    list_changed(req, key, push_events[end], req->argc - 2);
    blocking_key_ready(req->db, key->ptr, key->len);
    reply_int(req->out, (long long)list_object_length(o));
}

static void cmd_lpush(struct request *req)
{
    push_generic(req, LIST_HEAD, false);
}

static void cmd_rpush(struct request *req)
{
    push_generic(req, LIST_TAIL, false);
}

static void cmd_lpushx(struct request *req)
{
    push_generic(req, LIST_HEAD, true);
}

static void cmd_rpushx(struct request *req)
{
    push_generic(req, LIST_TAIL, true);
}

/* ---- pop ---- */

static void pop_generic(struct request *req, enum list_end end)
{
    if (req->argc > 3) {
        reply_wrong_arity(req->out, pop_names[end]);
        return;
    }
    bool has_count = req->argc == 3;
    long long count = 1;
    if (has_count && !request_ll_range(req, 2, 0, LLONG_MAX, &count, ERR_NOT_POSITIVE)) return;
    struct object *o;
    if (!list_lookup(req, &req->argv[1], true, &o)) return;
    if (!o) {
        if (has_count) reply_null_array(req->out);
        else reply_null(req->out);
        return;
    }
    if (has_count && count == 0) {
        reply_empty_array(req->out);
        return;
    }
    list_pop_reply(req, &req->argv[1], o, end, count, has_count ? LIST_POP_ARRAY : LIST_POP_ELEMENT);
}

static void cmd_lpop(struct request *req)
{
    pop_generic(req, LIST_HEAD);
}

static void cmd_rpop(struct request *req)
{
    pop_generic(req, LIST_TAIL);
}

/* ---- reading ---- */

static void cmd_llen(struct request *req)
{
    struct object *o;
    if (!list_lookup(req, &req->argv[1], false, &o)) return;
    reply_int(req->out, o ? (long long)list_object_length(o) : 0);
}

static void cmd_lrange(struct request *req)
{
    long long start, end;
    if (!request_ll(req, 2, &start) || !request_ll(req, 3, &end)) return;
    struct object *o;
    if (!list_lookup(req, &req->argv[1], false, &o)) return;
    long long len = o ? (long long)list_object_length(o) : 0;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) {
        reply_empty_array(req->out);
        return;
    }
    if (end >= len) end = len - 1;
    size_t n = (size_t)(end - start + 1);
    reply_array(req->out, (long long)n);
    list_object_range(o, (size_t)start, n, reply_elem, req->out);
}

static void cmd_lindex(struct request *req)
{
    struct object *o;
    if (!list_lookup(req, &req->argv[1], false, &o)) return;
    if (!o) {
        reply_null(req->out);
        return;
    }
    long long index;
    if (!request_ll(req, 2, &index)) return;
    if (!list_object_index(o, index, reply_elem, req->out)) reply_null(req->out);
}

struct lpos_first {
    bool found;
    long long index;
};

static void lpos_reply(void *ctx, long long index)
{
    reply_int(ctx, index);
}

static void lpos_keep(void *ctx, long long index)
{
    struct lpos_first *f = ctx;
    f->found = true;
    f->index = index;
}

/* Parses LPOS's RANK COUNT MAXLEN; count stays -1 when COUNT is absent. */
static bool lpos_options(struct request *req, long long *rank, long long *count, long long *maxlen)
{
    for (int j = 3; j < req->argc; j++) {
        bool more = j + 1 < req->argc;
        if (ARG_IS(req, j, "RANK") && more) {
            if (!request_ll(req, ++j, rank)) return false;
            if (*rank == LLONG_MIN) {
                reply_error(req->out, "ERR value is out of range, must be between -9223372036854775807 and "
                                      "9223372036854775807");
                return false;
            }
            if (*rank == 0) {
                reply_error(req->out, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                                      "second ... or use negative to start from the end of the list");
                return false;
            }
        } else if (ARG_IS(req, j, "COUNT") && more) {
            if (!request_ll_range(req, ++j, 0, LLONG_MAX, count, "ERR COUNT can't be negative")) return false;
        } else if (ARG_IS(req, j, "MAXLEN") && more) {
            if (!request_ll_range(req, ++j, 0, LLONG_MAX, maxlen, "ERR MAXLEN can't be negative")) return false;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

static void cmd_lpos(struct request *req)
{
    long long rank = 1, count = -1, maxlen = 0;
    if (!lpos_options(req, &rank, &count, &maxlen)) return;
    struct object *o;
    if (!list_lookup(req, &req->argv[1], false, &o)) return;
    struct arg *elem = &req->argv[2];
    if (count != -1) {
        if (!o) {
            reply_empty_array(req->out);
            return;
        }
        outbuf_mark mark = reply_defer(req->out);
        size_t n = list_object_find(o, elem->ptr, elem->len, rank, (size_t)count, (size_t)maxlen, lpos_reply,
                                    req->out);
        reply_deferred_array(req->out, mark, (long long)n);
        return;
    }
    struct lpos_first first = {false, 0};
    if (o) list_object_find(o, elem->ptr, elem->len, rank, 1, (size_t)maxlen, lpos_keep, &first);
    if (first.found) reply_int(req->out, first.index);
    else reply_null(req->out);
}

/* ---- editing in place ---- */

static void cmd_lset(struct request *req)
{
    struct arg *key = &req->argv[1], *value = &req->argv[3];
    struct object *o;
    if (!list_lookup(req, key, true, &o)) return;
    if (!o) {
        reply_error(req->out, ERR_NO_KEY);
        return;
    }
    long long index;
    if (!request_ll(req, 2, &index) || !elements_fit(req, 3, 3)) return;
    if (!list_object_set(o, index, value->ptr, value->len)) {
        reply_error(req->out, "ERR index out of range");
        return;
    }
    list_changed(req, key, "lset", 1);
    reply_ok(req->out);
}

static void cmd_linsert(struct request *req)
{
    struct arg *key = &req->argv[1], *pivot = &req->argv[3], *value = &req->argv[4];
    bool after;
    if (ARG_IS(req, 2, "AFTER")) after = true;
    else if (ARG_IS(req, 2, "BEFORE")) after = false;
    else {
        reply_syntax_error(req->out);
        return;
    }
    struct object *o;
    if (!elements_fit(req, 4, 4) || !list_lookup(req, key, true, &o)) return;
    if (!o) {
        reply_int(req->out, 0);
        return;
    }
    if (!list_object_insert(o, after, pivot->ptr, pivot->len, value->ptr, value->len)) {
        reply_int(req->out, -1);
        return;
    }
    list_changed(req, key, "linsert", 1);
    blocking_key_ready(req->db, key->ptr, key->len);
    reply_int(req->out, (long long)list_object_length(o));
}

static void cmd_lrem(struct request *req)
{
    struct arg *key = &req->argv[1], *value = &req->argv[3];
    long long count;
    if (!request_ll(req, 2, &count)) return;
    struct object *o;
    if (!list_lookup(req, key, true, &o)) return;
    if (!o) {
        reply_int(req->out, 0);
        return;
    }
    size_t removed = list_object_remove(o, value->ptr, value->len, count);
    if (removed) list_removed(req, key, o, "lrem", (long long)removed);
    reply_int(req->out, (long long)removed);
}

static void cmd_ltrim(struct request *req)
{
    struct arg *key = &req->argv[1];
    long long start, end;
    if (!request_ll(req, 2, &start) || !request_ll(req, 3, &end)) return;
    struct object *o;
    if (!list_lookup(req, key, true, &o)) return;
    if (!o) {
        reply_ok(req->out);
        return;
    }
    long long len = (long long)list_object_length(o), head, tail;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) {
        head = len;
        tail = 0;
    } else {
        if (end >= len) end = len - 1;
        head = start;
        tail = len - end - 1;
    }
    list_object_trim(o, (size_t)head, (size_t)tail);
    list_removed(req, key, o, "ltrim", head + tail);
    reply_ok(req->out);
}

/* ---- moving between lists ---- */

static void move_generic(struct request *req, enum list_end from, enum list_end to)
{
    struct object *so;
    if (!list_lookup(req, &req->argv[1], true, &so)) return;
    if (!so) {
        reply_null(req->out);
        return;
    }
    list_move_reply(req, &req->argv[1], so, &req->argv[2], from, to);
}

static void cmd_lmove(struct request *req)
{
    enum list_end from, to;
    if (!list_parse_end(req, 3, &from) || !list_parse_end(req, 4, &to)) return;
    move_generic(req, from, to);
}

static void cmd_rpoplpush(struct request *req)
{
    move_generic(req, LIST_TAIL, LIST_HEAD);
}

static void cmd_lmpop(struct request *req)
{
    struct list_mpop m;
    if (!list_parse_mpop(req, 1, &m)) return;
    if (!list_mpop_serve(req, &m)) reply_null_array(req->out);
}

#define W (CMD_WRITE)
#define WD (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
#define F (CMD_FAST)
#define PUSH_COMPLEXITY \
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
struct command list_commands[] = {
    {"lpush", cmd_lpush, -3, WD | F, 1, 1, 1, "@write @list @fast", "list",
     "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", PUSH_COMPLEXITY},
    {"rpush", cmd_rpush, -3, WD | F, 1, 1, 1, "@write @list @fast", "list",
     "Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", PUSH_COMPLEXITY},
    {"lpushx", cmd_lpushx, -3, WD | F, 1, 1, 1, "@write @list @fast", "list",
     "Prepends one or more elements to a list only when the list exists.", "2.2.0", PUSH_COMPLEXITY},
    {"rpushx", cmd_rpushx, -3, WD | F, 1, 1, 1, "@write @list @fast", "list",
     "Appends an element to a list only when the list exists.", "2.2.0", PUSH_COMPLEXITY},
    {"lpop", cmd_lpop, -2, W | F, 1, 1, 1, "@write @list @fast", "list",
     "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
     "1.0.0", "O(N) where N is the number of elements returned"},
    {"rpop", cmd_rpop, -2, W | F, 1, 1, 1, "@write @list @fast", "list",
     "Returns and removes the last elements of the list. Deletes the list if the last element was popped.",
     "1.0.0", "O(N) where N is the number of elements returned"},
    {"llen", cmd_llen, 2, R | F, 1, 1, 1, "@read @list @fast", "list", "Returns the length of a list.", "1.0.0",
     "O(1)"},
    {"lrange", cmd_lrange, 4, R, 1, 1, 1, "@read @list @slow", "list", "Returns a range of elements from a list.",
     "1.0.0",
     "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) "
     "for large lists; and N is the number of elements in the specified range."},
    {"lindex", cmd_lindex, 3, R, 1, 1, 1, "@read @list @slow", "list", "Returns an element from a list by its index.",
     "1.0.0",
     "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for "
     "the first or the last element of the list O(1)."},
    {"lset", cmd_lset, 4, WD, 1, 1, 1, "@write @list @slow", "list",
     "Sets the value of an element in a list by its index.", "1.0.0",
     "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."},
    {"linsert", cmd_linsert, 5, WD, 1, 1, 1, "@write @list @slow", "list",
     "Inserts an element before or after another element in a list.", "2.2.0",
     "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting "
     "somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end "
     "(tail) is O(N)."},
    {"lrem", cmd_lrem, 4, W, 1, 1, 1, "@write @list @slow", "list",
     "Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0",
     "O(N+M) where N is the length of the list and M is the number of elements removed."},
    {"ltrim", cmd_ltrim, 4, W, 1, 1, 1, "@write @list @slow", "list",
     "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0",
     "O(N) where N is the number of elements to be removed by the operation."},
    {"lpos", cmd_lpos, -3, R, 1, 1, 1, "@read @list @slow", "list", "Returns the index of matching elements in a list.",
     "6.0.6",
     "O(N) where N is the number of elements in the list, for the average case. When searching for elements near "
     "the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant "
     "time."},
    {"lmove", cmd_lmove, 5, WD, 1, 2, 1, "@write @list @slow", "list",
     "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last "
     "element was moved.",
     "6.2.0", "O(1)"},
    {"lmovem", cmd_lmovem, -5, WD, 1, 2, 1, "@write @list @slow", "list",
     "Moves up to (or exactly) a number of elements from one list to another and returns them. Deletes the source "
     "list if it becomes empty.",
     "8.10.0", "O(N) where N is the number of elements moved."},
    {"rpoplpush", cmd_rpoplpush, 3, WD, 1, 2, 1, "@write @list @slow", "list",
     "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the "
     "last element was popped.",
     "1.2.0", "O(1)"},
    {"lmpop", cmd_lmpop, -4, W | CMD_MOVABLE_KEYS, 0, 0, 0, "@write @list @slow", "list",
     "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
     "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", NULL,
     list_lmpop_keys},
    {0},
};
