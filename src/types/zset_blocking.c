/* zset_blocking: BZPOPMIN BZPOPMAX BZMPOP — the sorted-set pops that wait.
 * Each first tries to serve at once; otherwise it parks the client with
 * messaging/blocking, handing it a serve function that performs the same
 * pop (zset_pop_reply) when a write makes one of its keys ready. Waiters
 * are served in the order they blocked; a key that holds another type by
 * then is not servable and the waiter keeps waiting, as in Redis. */
#include <string.h>

#include "db/db.h"
#include "messaging/blocking.h"
#include "types/zset.h"
#include "util/mem.h"

/* What a waiting pop remembers. */
struct zpop_state {
    bool max;
    long long count;
    enum zset_pop_shape shape;
};

static void zpop_state_free(void *p)
{
    mem_free(p);
}

/* Serves one pop from `key` if it holds a non-empty sorted set. */
static enum serve_result serve_pop(struct request *req, const char *key, size_t len, const struct zpop_state *s)
{
    struct object *o = db_find(req->db, key, len);
    if (!o || o->type != OBJ_ZSET || zset_object_length(o) == 0) return SERVE_NOT_READY;
    struct arg k = {(char *)key, len};
    zset_pop_reply(req, &k, o, s->max, s->count, true, s->shape);
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
 * of another type met first), else nil inside MULTI, else wait. */
static void blocking_zpop(struct request *req, struct arg *keys, int key_count, long long timeout_ms,
                          const struct zpop_state *proto)
{
    struct zpop_state s = *proto;
    for (int i = 0; i < key_count; i++) {
        struct object *o;
        if (!zset_lookup(req, &keys[i], true, &o)) return;
        if (o && serve_pop(req, keys[i].ptr, keys[i].len, &s) == SERVE_DONE) return;
    }
    if (req->flags & REQ_IN_MULTI) {
        reply_null_array(req->out);
        return;
    }
    struct zpop_state *state = mem_alloc(sizeof(*state));
    *state = s;
    struct blocking_spec spec = {
        .serve = serve_waiter, .timeout = reply_timeout, .state = state, .state_free = zpop_state_free};
    blocking_wait(req, keys, key_count, timeout_ms, &spec);
}

/* BZPOPMIN/BZPOPMAX key [key ...] timeout */
static void bzpop(struct request *req, bool max)
{
    long long timeout;
    if (!request_timeout_ms(req, req->argc - 1, &timeout, true)) return;
    struct zpop_state s = {max, 1, ZSET_POP_KEY_FLAT};
    blocking_zpop(req, req->argv + 1, req->argc - 2, timeout, &s);
}

static void cmd_bzpopmin(struct request *req)
{
    bzpop(req, false);
}

static void cmd_bzpopmax(struct request *req)
{
    bzpop(req, true);
}

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
static void cmd_bzmpop(struct request *req)
{
    long long timeout;
    if (!request_timeout_ms(req, 1, &timeout, true)) return;
    struct zset_mpop m;
    if (!zset_parse_mpop(req, 2, &m)) return;
    struct zpop_state s = {m.max, m.count, ZSET_POP_KEY_PAIRS};
    blocking_zpop(req, req->argv + m.first_key, m.numkeys, timeout, &s);
}

static int bzmpop_keys(const struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    (void)cmd;
    return zset_numkeys_positions(2, argv, argc, positions, max);
}

#define BW (CMD_WRITE | CMD_BLOCKING)
struct command zset_blocking_commands[] = {
    {"bzpopmin", cmd_bzpopmin, -3, BW | CMD_FAST, 1, -2, 1, "@write @sortedset @fast @blocking", "sorted-set",
     "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is "
     "available otherwise. Deletes the sorted set if the last element was popped.",
     "5.0.0", "O(log(N)) with N being the number of elements in the sorted set."},
    {"bzpopmax", cmd_bzpopmax, -3, BW | CMD_FAST, 1, -2, 1, "@write @sortedset @fast @blocking", "sorted-set",
     "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member "
     "available otherwise. Deletes the sorted set if the last element was popped.",
     "5.0.0", "O(log(N)) with N being the number of elements in the sorted set."},
    {"bzmpop", cmd_bzmpop, -5, BW | CMD_MOVABLE_KEYS, 0, 0, 0, "@write @sortedset @slow @blocking", "sorted-set",
     "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available "
     "otherwise. Deletes the sorted set if the last element was popped.",
     "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the "
              "sorted set, and M being the number of elements popped.",
     NULL, bzmpop_keys},
    {0},
};
