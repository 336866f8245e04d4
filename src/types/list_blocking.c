/* list_blocking: BLPOP BRPOP BLMOVE BLMOVEM BRPOPLPUSH BLMPOP — the list pops that
 * wait. Each first tries to serve at once; otherwise it parks the client with
 * messaging/blocking, handing it a serve function that performs the same pop
 * when a push makes one of its keys ready. The pops and moves themselves are
 * the non-blocking commands' helpers (list_pop_reply, list_move_reply). */
#include <string.h>

#include "db/db.h"
#include "messaging/blocking.h"
#include "types/list.h"
#include "util/mem.h"

/* What a waiting pop remembers: which end, how many, the reply shape, and
 * for BLMOVE/BRPOPLPUSH the destination. */
struct pop_state {
    enum list_end from;
    enum list_end to;
    long long count;
    enum list_pop_shape shape;
    str destination; /* NULL for plain pops */
};

static void pop_state_free(void *p)
{
    struct pop_state *s = p;
    str_free(s->destination);
    mem_free(s);
}

static struct pop_state *pop_state_new(enum list_end from, enum list_pop_shape shape, long long count)
{
    struct pop_state *s = mem_calloc(sizeof(*s));
    s->from = from;
    s->shape = shape;
    s->count = count;
    return s;
}

/* Serves one pop or move from `key` if it holds a non-empty list. */
static enum serve_result serve_pop(struct request *req, const char *key, size_t len, const struct pop_state *s)
{
    struct object *o = db_find(req->db, key, len);
    if (!o || o->type != OBJ_LIST || list_object_length(o) == 0) return SERVE_NOT_READY;
    struct arg src = {(char *)key, len};
    if (s->destination) {
        struct arg dst = {s->destination, str_len(s->destination)};
        list_move_reply(req, &src, o, &dst, s->from, s->to);
    } else {
        list_pop_reply(req, &src, o, s->from, s->count, s->shape);
    }
    return SERVE_DONE;
}

static enum serve_result serve_waiter(struct waiter *w, struct request *req, const char *key, size_t len)
{
    return serve_pop(req, key, len, w->spec.state);
}

static void reply_timeout(struct waiter *w, struct request *req)
{
    (void)w;
    reply_null_array(req->out);
}

/* The shared body: serve from the first non-empty key (WRONGTYPE for a key
 * of another type met first), else nil inside MULTI, else wait. Takes
 * ownership of `state`. */
static void blocking_pop(struct request *req, struct arg *keys, int key_count, long long timeout_ms,
                         struct pop_state *state)
{
    for (int i = 0; i < key_count; i++) {
        struct object *o;
        if (!list_lookup(req, &keys[i], true, &o)) {
            pop_state_free(state);
            return;
        }
        if (o && serve_pop(req, keys[i].ptr, keys[i].len, state) == SERVE_DONE) {
            pop_state_free(state);
            return;
        }
    }
    if (req->flags & REQ_IN_MULTI) {
        reply_null_array(req->out);
        pop_state_free(state);
        return;
    }
    struct blocking_spec spec = {
        .serve = serve_waiter, .timeout = reply_timeout, .state = state, .state_free = pop_state_free};
    blocking_wait(req, keys, key_count, timeout_ms, &spec);
}

static void bpop(struct request *req, enum list_end from)
{
    long long timeout;
    if (!request_timeout_ms(req, req->argc - 1, &timeout, true)) return;
    blocking_pop(req, req->argv + 1, req->argc - 2, timeout, pop_state_new(from, LIST_POP_KEY_ELEMENT, 1));
}

static void cmd_blpop(struct request *req)
{
    bpop(req, LIST_HEAD);
}

static void cmd_brpop(struct request *req)
{
    bpop(req, LIST_TAIL);
}

/* BLMOVE/BRPOPLPUSH. As in Redis, a destination of another type is only
 * checked once there is an element to move: the client waits, then gets
 * WRONGTYPE and the element stays in the source (list_move_reply checks the
 * destination before it pops). */
static void bmove(struct request *req, enum list_end from, enum list_end to, int timeout_index)
{
    long long timeout;
    if (!request_timeout_ms(req, timeout_index, &timeout, true)) return;
    struct pop_state *s = pop_state_new(from, LIST_POP_ELEMENT, 1);
    s->to = to;
    s->destination = str_new(req->argv[2].ptr, req->argv[2].len);
    blocking_pop(req, req->argv + 1, 1, timeout, s);
}

static void cmd_blmove(struct request *req)
{
    enum list_end from, to;
    if (!list_parse_end(req, 3, &from) || !list_parse_end(req, 4, &to)) return;
    bmove(req, from, to, 5);
}

static void cmd_brpoplpush(struct request *req)
{
    bmove(req, LIST_TAIL, LIST_HEAD, 3);
}

/* ---- BLMOVEM ---- */

/* What a waiting BLMOVEM remembers. */
struct movem_state {
    struct list_movem m;
    str destination;
};

static void movem_state_free(void *p)
{
    struct movem_state *s = p;
    str_free(s->destination);
    mem_free(s);
}

/* Serves the move once the source holds what it needs: one element for
 * COUNT, all of them for EXACTLY (an EXACTLY waiter lets later waiters take
 * elements meanwhile, as Redis does). */
static enum serve_result serve_movem(struct request *req, const char *key, size_t len, const struct movem_state *s)
{
    struct object *o = db_find(req->db, key, len);
    if (!o || o->type != OBJ_LIST || list_object_length(o) < list_movem_needs(&s->m)) return SERVE_NOT_READY;
    struct arg src = {(char *)key, len}, dst = {s->destination, str_len(s->destination)};
    list_movem_reply(req, &src, o, &dst, &s->m);
    return SERVE_DONE;
}

static enum serve_result serve_movem_waiter(struct waiter *w, struct request *req, const char *key, size_t len)
{
    return serve_movem(req, key, len, w->spec.state);
}

/* BLMOVEM source destination LEFT|RIGHT LEFT|RIGHT timeout
 * [<COUNT n | EXACTLY n> <OBO | BULK>]: LMOVEM that waits (nil on timeout);
 * logged as the LMOVEM ... EXACTLY it did. */
static void cmd_blmovem(struct request *req)
{
    long long timeout;
    struct movem_state *s = mem_calloc(sizeof(*s));
    if (!list_parse_movem(req, 6, &s->m) || !request_timeout_ms(req, 5, &timeout, true)) {
        mem_free(s);
        return;
    }
    struct object *o;
    if (!list_lookup(req, &req->argv[1], true, &o)) {
        mem_free(s);
        return;
    }
    s->destination = str_new(req->argv[2].ptr, req->argv[2].len);
    bool done = o && serve_movem(req, req->argv[1].ptr, req->argv[1].len, s) == SERVE_DONE;
    if (!done && (req->flags & REQ_IN_MULTI)) {
        reply_null_array(req->out);
        done = true;
    }
    if (done) {
        movem_state_free(s);
        return;
    }
    struct blocking_spec spec = {
        .serve = serve_movem_waiter, .timeout = reply_timeout, .state = s, .state_free = movem_state_free};
    blocking_wait(req, req->argv + 1, 1, timeout, &spec);
}

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
static void cmd_blmpop(struct request *req)
{
    long long timeout;
    if (!request_timeout_ms(req, 1, &timeout, true)) return;
    struct list_mpop m;
    if (!list_parse_mpop(req, 2, &m)) return;
    blocking_pop(req, req->argv + m.first_key, m.numkeys, timeout, pop_state_new(m.end, LIST_POP_KEY_ARRAY, m.count));
}

#define BW (CMD_WRITE | CMD_BLOCKING)
struct command list_blocking_commands[] = {
    {"blpop", cmd_blpop, -3, BW, 1, -2, 1, "@write @list @slow @blocking", "list",
     "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the "
     "list if the last element was popped.",
     "2.0.0", "O(N) where N is the number of provided keys."},
    {"brpop", cmd_brpop, -3, BW, 1, -2, 1, "@write @list @slow @blocking", "list",
     "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the "
     "list if the last element was popped.",
     "2.0.0", "O(N) where N is the number of provided keys."},
    {"brpoplpush", cmd_brpoplpush, 4, BW | CMD_DENYOOM, 1, 2, 1, "@write @list @slow @blocking", "list",
     "Pops an element from a list, pushes it to another list and returns it. Block until an element is available "
     "otherwise. Deletes the list if the last element was popped.",
     "2.2.0", "O(1)"},
    {"blmove", cmd_blmove, 6, BW | CMD_DENYOOM, 1, 2, 1, "@write @list @slow @blocking", "list",
     "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available "
     "otherwise. Deletes the list if the last element was moved.",
     "6.2.0", "O(1)"},
    {"blmovem", cmd_blmovem, -6, BW | CMD_DENYOOM, 1, 2, 1, "@write @list @slow @blocking", "list",
     "Moves up to (or exactly) a number of elements from one list to another and returns them. Blocks until the "
     "elements are available otherwise. Deletes the source list if it becomes empty.",
     "8.10.0", "O(N) where N is the number of elements moved."},
    {"blmpop", cmd_blmpop, -5, BW | CMD_MOVABLE_KEYS, 0, 0, 0, "@write @list @slow @blocking", "list",
     "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes "
     "the list if the last element was popped.",
     "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", NULL,
     list_blmpop_keys},
    {0},
};
