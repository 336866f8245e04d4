/* stream_info: XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS
 * and XINFO HELP — read-only views of a stream and its consumer groups, in
 * the shape Redis 7.2 replies (maps in RESP3, flat arrays in RESP2). */
#include <string.h>

#include "db/db.h"
#include "types/stream.h"
#include "types/stream_delay.h"
#include "types/stream_dlq.h"
#include "types/stream_group.h"
#include "types/stream_idmp.h"
#include "types/stream_pel.h"
#include "types/stream_retention.h"

#define ID_MAX ((struct stream_id){UINT64_MAX, UINT64_MAX})
#define ID_ZERO ((struct stream_id){0, 0})

static void reply_key(struct outbuf *out, const char *name)
{
    reply_bulk_cstr(out, name);
}

/* Finds the stream at argv[2]; replies "no such key" or WRONGTYPE. */
static struct stream *info_stream(struct request *req)
{
    struct stream *s;
    if (!stream_find(req, &req->argv[2], false, &s)) return NULL;
    if (!s) reply_error(req->out, ERR_NO_KEY);
    return s;
}

static void reply_lag(struct outbuf *out, struct stream *s, const struct stream_cgroup *g)
{
    long long lag;
    if (stream_group_lag(s, g, &lag)) reply_int(out, lag);
    else reply_null(out);
}

static void reply_entries_read(struct outbuf *out, const struct stream_cgroup *g)
{
    if (g->entries_read != -1) reply_int(out, g->entries_read);
    else reply_null(out);
}

/* The fields XINFO STREAM shows in both forms, up to iids-duplicates. */
static void reply_stream_counters(struct outbuf *out, struct stream *s)
{
    reply_key(out, "length");
    reply_int(out, (long long)s->length);
    reply_key(out, "radix-tree-keys");
    reply_int(out, (long long)stream_index_size(s->blocks));
    reply_key(out, "radix-tree-nodes");
    reply_int(out, (long long)stream_index_nodes(s->blocks));
    reply_key(out, "last-generated-id");
    stream_reply_id(out, &s->last_id);
    reply_key(out, "max-deleted-entry-id");
    stream_reply_id(out, &s->max_deleted_id);
    reply_key(out, "entries-added");
    reply_int(out, (long long)s->entries_added);
    reply_key(out, "recorded-first-entry-id");
    stream_reply_id(out, &s->first_id);
    stream_idmp_reply_info(out, s);
    stream_retention_reply_info(out, s);
}

/* The first or last live entry, or nil. */
static void reply_edge_entry(struct outbuf *out, struct stream *s, bool last)
{
    struct stream_iter it;
    struct stream_entry e;
    stream_iter_init(&it, s, ID_ZERO, ID_MAX, last);
    if (stream_iter_next(&it, &e)) stream_reply_entry(out, &e);
    else reply_null(out);
}

static void xinfo_stream_brief(struct request *req, struct stream *s)
{
    struct outbuf *out = req->out;
    reply_map(out, 10 + STREAM_IDMP_INFO_FIELDS + stream_retention_info_fields(s) + stream_delay_info_fields(s));
    reply_stream_counters(out, s);
    reply_key(out, "groups");
    reply_int(out, (long long)stream_group_count(s));
    reply_key(out, "first-entry");
    reply_edge_entry(out, s, false);
    reply_key(out, "last-entry");
    reply_edge_entry(out, s, true);
    stream_delay_info_reply(out, s);
}

/* Up to `count` (0: all) entries of a PEL; with_owner adds the consumer. */
static void reply_pel(struct outbuf *out, struct stream_index *pel, long long count, bool with_owner)
{
    outbuf_mark mark = reply_defer(out);
    long long n = 0;
    struct stream_index_iter it;
    for (bool ok = stream_index_first(pel, &it); ok && (!count || n < count); ok = stream_index_next(&it), n++) {
        struct stream_id id = stream_index_key(&it);
        const struct stream_nack *nack = stream_index_value(&it);
        reply_array(out, with_owner ? 4 : 3);
        stream_reply_id(out, &id);
        if (with_owner) stream_reply_owner(out, nack);
        reply_int(out, nack->delivery_time);
        reply_int(out, (long long)nack->delivery_count);
    }
    reply_deferred_array(out, mark, n);
}

static void reply_full_consumer(struct outbuf *out, const struct stream_consumer *c, long long count)
{
    reply_map(out, 5);
    reply_key(out, "name");
    reply_bulk(out, c->name, str_len(c->name));
    reply_key(out, "seen-time");
    reply_int(out, c->seen_time);
    reply_key(out, "active-time");
    reply_int(out, c->active_time);
    reply_key(out, "pel-count");
    reply_int(out, (long long)stream_index_size(c->pel));
    reply_key(out, "pending");
    reply_pel(out, c->pel, count, false);
}

static void reply_full_group(struct outbuf *out, struct stream *s, const struct stream_cgroup *g, long long count)
{
    reply_map(out, 7 + stream_dlq_info_fields(g));
    reply_key(out, "name");
    reply_bulk(out, g->name, str_len(g->name));
    reply_key(out, "last-delivered-id");
    stream_reply_id(out, &g->last_id);
    reply_key(out, "entries-read");
    reply_entries_read(out, g);
    reply_key(out, "lag");
    reply_lag(out, s, g);
    stream_dlq_reply_info(out, g);
    reply_key(out, "pel-count");
    reply_int(out, (long long)stream_index_size(g->pel));
    reply_key(out, "pending");
    reply_pel(out, g->pel, count, true);
    reply_key(out, "consumers");
    reply_array(out, (long long)g->consumer_count);
    for (size_t i = 0; i < g->consumer_count; i++) reply_full_consumer(out, g->consumers[i], count);
}

static void xinfo_stream_full(struct request *req, struct stream *s, long long count)
{
    struct outbuf *out = req->out;
    reply_map(out, 9 + STREAM_IDMP_INFO_FIELDS + stream_retention_info_fields(s) + stream_delay_info_fields(s));
    reply_stream_counters(out, s);
    reply_key(out, "entries");
    stream_reply_range(out, s, ID_ZERO, ID_MAX, count, false);
    reply_key(out, "groups");
    size_t n = stream_group_count(s);
    reply_array(out, (long long)n);
    for (size_t i = 0; i < n; i++) reply_full_group(out, s, s->groups->items[i], count);
    stream_delay_info_reply(out, s);
}

/* XINFO STREAM key [FULL [COUNT count]]: the key's type is checked before
 * the options, its existence after them, as Redis does. */
static void cmd_xinfo_stream(struct request *req)
{
    long long count = 10;
    bool full = false;
    struct stream *s;
    if (!stream_find(req, &req->argv[2], false, &s)) return;
    if (req->argc > 3) {
        if (!ARG_IS(req, 3, "FULL") || (req->argc != 4 && req->argc != 6) ||
            (req->argc == 6 && !ARG_IS(req, 4, "COUNT"))) {
            reply_errorf(req->out, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try XINFO HELP.",
                         (int)(req->argv[1].len > 128 ? 128 : req->argv[1].len), req->argv[1].ptr);
            return;
        }
        full = true;
        if (req->argc == 6) {
            if (!request_ll(req, 5, &count)) return;
            if (count < 0) count = 0;
        }
    }
    if (s) stream_delay_arm(req->db, req->argv[2].ptr, req->argv[2].len, s); /* drops past-due records */
    if (!s) reply_error(req->out, ERR_NO_KEY);
    else if (full) xinfo_stream_full(req, s, count);
    else xinfo_stream_brief(req, s);
}

/* XINFO GROUPS key */
static void cmd_xinfo_groups(struct request *req)
{
    struct stream *s = info_stream(req);
    if (!s) return;
    struct outbuf *out = req->out;
    size_t n = stream_group_count(s);
    reply_array(out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const struct stream_cgroup *g = s->groups->items[i];
        reply_map(out, 6 + stream_dlq_info_fields(g) + stream_delay_group_info_fields(g));
        reply_key(out, "name");
        reply_bulk(out, g->name, str_len(g->name));
        reply_key(out, "consumers");
        reply_int(out, (long long)g->consumer_count);
        reply_key(out, "pending");
        reply_int(out, (long long)stream_index_size(g->pel));
        reply_key(out, "last-delivered-id");
        stream_reply_id(out, &g->last_id);
        reply_key(out, "entries-read");
        reply_entries_read(out, g);
        reply_key(out, "lag");
        reply_lag(out, s, g);
        stream_dlq_reply_info(out, g);
        stream_delay_group_info_reply(out, g);
    }
}

/* XINFO CONSUMERS key group: idle is the time since the consumer was last
 * seen (any read or claim attempt), inactive since it last got something
 * (-1: never). */
static void cmd_xinfo_consumers(struct request *req)
{
    struct stream *s = info_stream(req);
    if (!s) return;
    struct arg *group = &req->argv[3];
    struct stream_cgroup *g = stream_group_find(s, group->ptr, group->len);
    if (!g) {
        reply_errorf(req->out, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)group->len,
                     group->ptr, (int)req->argv[2].len, req->argv[2].ptr);
        return;
    }
    struct outbuf *out = req->out;
    reply_array(out, (long long)g->consumer_count);
    for (size_t i = 0; i < g->consumer_count; i++) {
        const struct stream_consumer *c = g->consumers[i];
        long long idle = db_now_ms - c->seen_time;
        long long inactive = c->active_time == -1 ? -1 : db_now_ms - c->active_time;
        reply_map(out, 4);
        reply_key(out, "name");
        reply_bulk(out, c->name, str_len(c->name));
        reply_key(out, "pending");
        reply_int(out, (long long)stream_index_size(c->pel));
        reply_key(out, "idle");
        reply_int(out, idle < 0 ? 0 : idle);
        reply_key(out, "inactive");
        reply_int(out, inactive < -1 ? 0 : inactive);
    }
}

static void cmd_xinfo_help(struct request *req)
{
    static const char *lines[] = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array(req->out, (long long)n);
    for (size_t i = 0; i < n; i++) reply_simple(req->out, lines[i]);
}

#define R (CMD_READONLY)
static struct command xinfo_subcommands[] = {
    {"consumers", cmd_xinfo_consumers, 4, R, 2, 2, 1, "@read @stream @slow", "stream",
     "Returns a list of the consumers in a consumer group.", "5.0.0", "O(1)"},
    {"groups", cmd_xinfo_groups, 3, R, 2, 2, 1, "@read @stream @slow", "stream",
     "Returns a list of the consumer groups of a stream.", "5.0.0", "O(1)"},
    {"stream", cmd_xinfo_stream, -3, R, 2, 2, 1, "@read @stream @slow", "stream",
     "Returns information about a stream.", "5.0.0", "O(1)"},
    {"help", cmd_xinfo_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@stream @slow", "stream",
     "Returns helpful text about the different subcommands.", "5.0.0", "O(1)"},
    {0},
};

struct command stream_info_commands[] = {
    {"xinfo", NULL, -2, 0, 0, 0, 0, "@slow", "stream", "A container for stream introspection commands.", "5.0.0",
     "Depends on subcommand.", xinfo_subcommands},
    {0},
};
