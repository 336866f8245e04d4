/* stream_refs: reference policies and XDELEX / XACKDEL (see stream_refs.h).
 *
 * Whether an entry is referenced is asked of every group in turn: one
 * comparison with its last ID and one PEL lookup, O(groups × log PEL).
 * Both commands are deterministic given the dataset, so they are logged as
 * they came. */
#include "types/stream_refs.h"

#include <string.h>

#include "db/db.h"
#include "types/keyspace_events.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/stream_pel.h"
#include "util/mem.h"

static const struct arg policy_words[] = {
    [STREAM_REF_KEEP] = {"KEEPREF", 7},
    [STREAM_REF_DEL] = {"DELREF", 6},
    [STREAM_REF_ACKED] = {"ACKED", 5},
};

bool stream_ref_policy_parse(const struct arg *a, enum stream_ref_policy *p)
{
    for (int i = STREAM_REF_KEEP; i <= STREAM_REF_ACKED; i++) {
        const struct arg *w = &policy_words[i];
        if (a->len == w->len && strncasecmp(a->ptr, w->ptr, w->len) == 0) {
            *p = (enum stream_ref_policy)i;
            return true;
        }
    }
    return false;
}

struct arg stream_ref_policy_arg(enum stream_ref_policy p)
{
    return policy_words[p];
}

bool stream_entry_referenced(const struct stream *s, struct stream_id id)
{
    for (size_t i = 0; i < stream_group_count(s); i++) {
        const struct stream_cgroup *g = s->groups->items[i];
        if (stream_id_cmp(&id, &g->last_id) > 0 || stream_index_find(g->pel, id)) return true;
    }
    return false;
}

long long stream_entry_drop_refs(struct stream *s, struct stream_id id)
{
    long long dropped = 0;
    for (size_t i = 0; i < stream_group_count(s); i++) dropped += stream_pel_drop(s->groups->items[i], id);
    return dropped;
}

int stream_delete_with_policy(struct stream *s, struct stream_id id, enum stream_ref_policy p, long long *changes)
{
    if (p == STREAM_REF_DEL) *changes += stream_entry_drop_refs(s, id);
    struct stream_entry e;
    if (!stream_lookup(s, id, &e)) return -1;
    if (p == STREAM_REF_ACKED && stream_entry_referenced(s, id)) return 2;
    stream_delete(s, id);
    (*changes)++;
    return 1;
}

/* ---- XDELEX and XACKDEL ---- */

/* What follows the key (and group): a policy and the IDS block, in any order. */
struct ids_args {
    enum stream_ref_policy policy;
    struct stream_ids ids;
};

/* Parses from argv[from]; replies the error and returns false on failure. */
static bool parse_ids_args(struct request *req, int from, struct ids_args *a)
{
    *a = (struct ids_args){.policy = STREAM_REF_KEEP};
    int i = from;
    while (i < req->argc) {
        if (a->ids.first == 0 && ARG_IS(req, i, "IDS") && i + 1 < req->argc) {
            if ((i = stream_parse_ids_block(req, i, &a->ids)) < 0) return false;
        } else if (stream_ref_policy_parse(&req->argv[i], &a->policy)) {
            i++;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return stream_ids_check(req, &a->ids);
}

static void reply_all_missing(struct request *req, const struct ids_args *a)
{
    reply_array(req->out, a->ids.count);
    for (int i = 0; i < a->ids.count; i++) reply_int(req->out, -1);
}

/* Deletes each ID under the policy and replies its code. With a group
 * (XACKDEL) an ID is first acknowledged there, and one not pending in it
 * is left alone (-1). The key counts as changed when anything was, with
 * an "xdel" event when an entry went. */
static void delete_ids(struct request *req, struct stream *s, struct stream_cgroup *g, const struct ids_args *a)
{
    long long changes = 0;
    bool deleted = false;
    reply_array(req->out, a->ids.count);
    for (int i = 0; i < a->ids.count; i++) {
        struct stream_id id = stream_ids_at(req, &a->ids, i);
        int r = -1;
        if (!g || stream_pel_drop(g, id)) {
            changes += g != NULL;
            r = stream_delete_with_policy(s, id, a->policy, &changes);
        }
        deleted |= r == 1;
        reply_int(req->out, r);
    }
    if (changes == 0) return;
    struct arg *key = &req->argv[1];
    key_changed(req, key->ptr, key->len, NOTIFY_STREAM, deleted ? "xdel" : NULL);
    req->dirty += changes - 1;
}

/* XDELEX key [KEEPREF | DELREF | ACKED] IDS numids id [id ...] */
static void cmd_xdelex(struct request *req)
{
    struct ids_args a;
    if (!parse_ids_args(req, 2, &a)) return;
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    if (!s) reply_all_missing(req, &a);
    else delete_ids(req, s, NULL, &a);
}

/* XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id [id ...] */
static void cmd_xackdel(struct request *req)
{
    struct ids_args a;
    if (!parse_ids_args(req, 3, &a)) return;
    struct stream *s;
    if (!stream_find(req, &req->argv[1], true, &s)) return;
    struct stream_cgroup *g = stream_group_find(s, req->argv[2].ptr, req->argv[2].len);
    if (!g) reply_all_missing(req, &a);
    else delete_ids(req, s, g, &a);
}

#define W (CMD_WRITE | CMD_FAST)
struct command stream_refs_commands[] = {
    {"xdelex", cmd_xdelex, -5, W, 1, 1, 1, "@write @stream @fast", "stream",
     "Deletes one or multiple entries from the stream.", "8.2.0",
     "O(1) for each single item to delete in the stream, regardless of the stream size."},
    {"xackdel", cmd_xackdel, -6, W, 1, 1, 1, "@write @stream @fast", "stream",
     "Acknowledges and conditionally deletes one or multiple entries for a stream consumer group.", "8.2.0",
     "O(1) for each entry ID processed."},
    {0},
};
