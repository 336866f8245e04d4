/* api_console: see api_console.h. Commands run through console_exec, so
 * the documents hold exactly what XINFO, XRANGE, XPENDING, SLOWLOG and
 * LATENCY answer a client; clients and pub/sub names are read through the
 * server's and pub/sub's public functions with a row limit. */
#include "http/api_console.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "db/db.h"
#include "http/api.h"
#include "http/console_dlq.h"
#include "http/console_exec.h"
#include "http/console_history.h"
#include "http/http_request.h"
#include "http/resp_json.h"
#include "messaging/pubsub.h"
#include "protocol/outbuf.h"
#include "server/client.h"
#include "server/connection.h"
#include "net/event_loop.h"
#include "server/info.h"
#include "server/server.h"
#include "util/mem.h"

#define API_CONSOLE_MAX_GROUPS 32
#define API_CONSOLE_TOP_SUBSCRIBERS 50

struct params {
    const char *query;
    size_t len;
};

/* A parameter's decoded value, or NULL; the caller frees it. */
static str param(const struct params *p, const char *name)
{
    return p->query ? http_query_param(p->query, p->len, name) : NULL;
}

/* An integer parameter clamped to [min, max]; `dflt` when absent or not a number. */
static long long param_int(const struct params *p, const char *name, long long dflt, long long min, long long max)
{
    str v = param(p, name);
    if (!v) return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    bool ok = str_len(v) > 0 && *end == '\0';
    str_free(v);
    if (!ok) return dflt;
    return n < min ? min : n > max ? max : n;
}

static json_object *error_doc(const char *text)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(text));
    return o;
}

/* The key (and its database) every stream document needs; NULL (with the
 * error document in *err) when the key is missing. */
static str require(const struct params *p, const char *name, json_object **err)
{
    str v = param(p, name);
    if (!v || str_len(v) == 0) {
        str_free(v);
        char text[96];
        snprintf(text, sizeof(text), "ERR missing parameter '%s'", name);
        *err = error_doc(text);
        return NULL;
    }
    return v;
}

static json_object *run(int db, int argc, const char *const *argv)
{
    return console_exec(db, false, argc, argv);
}

/* {"ack": bool, "claim", "delete", "trim", "moveback"}: which actions the request's
 * user may take on this stream (its ACL rules for the commands and the
 * key), so that the console offers only those. */
static json_object *stream_actions_allowed(const char *key)
{
    bool ack = console_exec_allows(4, (const char *[]){"XACK", key, "g", "0-0"});
    bool claim = console_exec_allows(7, (const char *[]){"XCLAIM", key, "g", "c", "0", "0-0", "JUSTID"});
    bool del = ack && console_exec_allows(3, (const char *[]){"XDEL", key, "0-0"});
    bool trim = console_exec_allows(5, (const char *[]){"XTRIM", key, "MAXLEN", "=", "0"});
    bool move_back = console_exec_allows(4, (const char *[]){"XRANGE", key, "-", "+"}) &&
                     console_exec_allows(3, (const char *[]){"XDEL", key, "0-0"});
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ack", json_object_new_boolean(ack));
    json_object_object_add(o, "claim", json_object_new_boolean(claim));
    json_object_object_add(o, "delete", json_object_new_boolean(del));
    json_object_object_add(o, "trim", json_object_new_boolean(trim));
    /* moving a dead-lettered entry back also needs XADD on its source */
    json_object_object_add(o, "moveback", json_object_new_boolean(move_back));
    return o;
}

/* {"key", "db", "info": XINFO STREAM, "groups": XINFO GROUPS, each with
 * "consumers": XINFO CONSUMERS} for at most API_CONSOLE_MAX_GROUPS groups. */
static json_object *stream_doc(const struct params *p)
{
    json_object *err = NULL;
    str key = require(p, "key", &err);
    if (!key) return err;
    int db = (int)param_int(p, "db", 0, 0, 1 << 20);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "key", json_object_new_string_len(key, (int)str_len(key)));
    json_object_object_add(doc, "db", json_object_new_int(db));
    json_object *info = run(db, 3, (const char *[]){"XINFO", "STREAM", key});
    if (console_exec_failed(info)) {
        json_object_put(doc);
        str_free(key);
        return info;
    }
    json_object_object_add(doc, "info", info);
    json_object *groups = run(db, 3, (const char *[]){"XINFO", "GROUPS", key});
    size_t n = json_object_is_type(groups, json_type_array) ? json_object_array_length(groups) : 0;
    for (size_t i = 0; i < n && i < API_CONSOLE_MAX_GROUPS; i++) {
        json_object *g = json_object_array_get_idx(groups, i), *name;
        if (!json_object_object_get_ex(g, "name", &name)) continue;
        const char *argv[] = {"XINFO", "CONSUMERS", key, json_object_get_string(name)};
        json_object_object_add(g, "consumers", run(db, 4, argv));
    }
    json_object_object_add(doc, "groups", groups);
    json_object_object_add(doc, "can", stream_actions_allowed(key));
    int64_t omitted = n > API_CONSOLE_MAX_GROUPS ? (int64_t)(n - API_CONSOLE_MAX_GROUPS) : 0;
    json_object_object_add(doc, "groups_omitted", json_object_new_int64(omitted));
    str_free(key);
    return doc;
}

/* A page of entries: XRANGE key start end COUNT n, or with rev=1
 * XREVRANGE key end start COUNT n. The console pages on with an exclusive
 * "(id" bound. */
static json_object *entries_doc(const struct params *p)
{
    json_object *err = NULL;
    str key = require(p, "key", &err);
    if (!key) return err;
    int db = (int)param_int(p, "db", 0, 0, 1 << 20);
    bool rev = param_int(p, "rev", 0, 0, 1) == 1;
    long long count = param_int(p, "count", 50, 1, API_CONSOLE_MAX_PAGE);
    str start = param(p, "start"), end = param(p, "end");
    char count_text[24];
    snprintf(count_text, sizeof(count_text), "%lld", count);
    const char *lo = start ? start : (rev ? "+" : "-");
    const char *hi = end ? end : (rev ? "-" : "+");
    const char *argv[] = {rev ? "XREVRANGE" : "XRANGE", key, lo, hi, "COUNT", count_text};
    json_object *entries = run(db, 6, argv);
    str_free(start);
    str_free(end);
    str_free(key);
    if (console_exec_failed(entries)) return entries;
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "entries", entries);
    json_object_object_add(doc, "count", json_object_new_int64(count));
    return doc;
}

/* A group's pending list: the XPENDING summary and a page of the extended
 * form (optionally one consumer's). */
static json_object *pending_doc(const struct params *p)
{
    json_object *err = NULL;
    str key = require(p, "key", &err);
    if (!key) return err;
    str group = require(p, "group", &err);
    if (!group) {
        str_free(key);
        return err;
    }
    int db = (int)param_int(p, "db", 0, 0, 1 << 20);
    long long count = param_int(p, "count", 50, 1, API_CONSOLE_MAX_PAGE);
    str start = param(p, "start"), consumer = param(p, "consumer");
    char count_text[24];
    snprintf(count_text, sizeof(count_text), "%lld", count);
    json_object *summary = run(db, 3, (const char *[]){"XPENDING", key, group});
    json_object *doc = summary;
    if (!console_exec_failed(summary)) {
        const char *argv[] = {"XPENDING", key, group, start ? start : "-", "+", count_text, consumer};
        bool one = consumer && str_len(consumer) > 0;
        doc = json_object_new_object();
        json_object_object_add(doc, "summary", summary);
        json_object_object_add(doc, "entries", run(db, one ? 7 : 6, argv));
        json_object_object_add(doc, "count", json_object_new_int64(count));
    }
    str_free(key);
    str_free(group);
    str_free(start);
    str_free(consumer);
    return doc;
}

/* "id=7 addr=... name=x ..." as {"id": "7", "addr": ..., ...}. */
static json_object *client_line_json(const char *line, size_t len)
{
    json_object *o = json_object_new_object();
    const char *end = line + len;
    for (const char *p = line; p < end;) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *stop = sp ? sp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq) {
            char name[32];
            size_t n = (size_t)(eq - p) < sizeof(name) - 1 ? (size_t)(eq - p) : sizeof(name) - 1;
            memcpy(name, p, n);
            name[n] = '\0';
            json_object_object_add(o, name, json_object_new_string_len(eq + 1, (int)(stop - eq - 1)));
        }
        p = stop + 1;
    }
    return o;
}

/* CLIENT LIST's TYPE of a client: normal, replica, pubsub or master. */
static const char *client_type(const struct client *c)
{
    if (c->flags & CLIENT_MASTER) return "master";
    if (c->flags & CLIENT_REPLICA) return "replica";
    if (c->flags & CLIENT_PUBSUB) return "pubsub";
    return "normal";
}

/* Clients as CLIENT LIST shows them, filtered by type and by a text the
 * line must contain, at most `limit` of them. */
static json_object *clients_doc(const struct params *p)
{
    str type = param(p, "type"), text = param(p, "q");
    long long limit = param_int(p, "limit", API_CONSOLE_MAX_ROWS, 1, API_CONSOLE_MAX_ROWS);
    json_object *rows = json_object_new_array();
    long long matched = 0;
    str line = str_empty(512);
    for (struct client *c = server.clients; c; c = c->next) {
        if (type && str_len(type) && strcmp(type, client_type(c)) != 0) continue;
        str_set_len(line, 0);
        line = client_info_line(c, line);
        if (text && str_len(text) && !memmem(line, str_len(line), text, str_len(text))) continue;
        if (matched++ < limit) {
            json_object *o = client_line_json(line, str_len(line));
            json_object_object_add(o, "type", json_object_new_string(client_type(c)));
            json_object_array_add(rows, o);
        }
    }
    str_free(line);
    str_free(type);
    str_free(text);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "clients", rows);
    json_object_object_add(doc, "matched", json_object_new_int64(matched));
    json_object_object_add(doc, "total", json_object_new_int64((int64_t)server.client_count));
    return doc;
}

/* The first API_CONSOLE_MAX_ROWS names of one pub/sub kind, as JSON
 * strings. Listing them walks every name, as PUBSUB CHANNELS does (about
 * 50 ms for 100,000 channels on this project's machine), so a list whose
 * walk took longer than NAMES_SLOW_US is kept and reused for NAMES_KEEP_MS:
 * a page refreshing every 2 seconds then walks them once in 30 seconds. */
#define NAMES_SLOW_US 5000
#define NAMES_KEEP_MS 30000

static struct {
    json_object *names; /* NULL: none kept */
    long long at_ms;
} names_kept[PUBSUB_KINDS];

static json_object *pubsub_first_names(enum pubsub_kind kind)
{
    long long now = event_now_ms();
    if (names_kept[kind].names && now - names_kept[kind].at_ms < NAMES_KEEP_MS)
        return json_object_get(names_kept[kind].names);
    json_object_put(names_kept[kind].names);
    names_kept[kind].names = NULL;
    long long start = db_monotonic_us();
    struct outbuf o;
    outbuf_init(&o);
    pubsub_reply_channels(&o, kind, NULL);
    str bytes = console_exec_take_bytes(&o);
    outbuf_free(&o);
    /* "*<n>\r\n" then one bulk string per name: only the first ones are read */
    json_object *names = json_object_new_array();
    const char *p = memchr(bytes, '\n', str_len(bytes));
    size_t pos = p ? (size_t)(p - bytes) + 1 : str_len(bytes);
    for (int i = 0; i < API_CONSOLE_MAX_ROWS && pos < str_len(bytes); i++) {
        json_object *name;
        size_t used;
        if (!resp_json_parse(bytes + pos, str_len(bytes) - pos, &used, &name)) break;
        json_object_array_add(names, name);
        pos += used;
    }
    str_free(bytes);
    if (db_monotonic_us() - start > NAMES_SLOW_US) {
        names_kept[kind].names = json_object_get(names);
        names_kept[kind].at_ms = now;
    }
    return names;
}

/* [{"name", "subscribers"}] for the first names of one pub/sub kind. */
static json_object *pubsub_names(enum pubsub_kind kind)
{
    json_object *names = pubsub_first_names(kind);
    json_object *rows = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(names); i++) {
        json_object *name = json_object_array_get_idx(names, i);
        json_object *row = json_object_new_object();
        const char *s = json_object_get_string(name);
        size_t len = (size_t)json_object_get_string_len(name);
        json_object_object_add(row, "name", json_object_get(name));
        json_object_object_add(row, "subscribers", json_object_new_int64(pubsub_subscriber_count(kind, s, len)));
        json_object_array_add(rows, row);
    }
    json_object_put(names);
    return rows;
}

struct owed {
    struct client *c;
    size_t bytes;
};

static int owed_cmp(const void *a, const void *b)
{
    size_t x = ((const struct owed *)a)->bytes, y = ((const struct owed *)b)->bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The subscribed clients owed the most bytes (slow subscribers first). */
static json_object *top_subscribers(long long *count)
{
    size_t cap = 64, n = 0;
    struct owed *all = mem_alloc(sizeof(*all) * cap);
    for (struct client *c = server.clients; c; c = c->next) {
        if (!(c->flags & CLIENT_PUBSUB)) continue;
        if (n == cap) all = mem_realloc(all, sizeof(*all) * (cap *= 2));
        all[n++] = (struct owed){c, client_output_pending(c)};
    }
    qsort(all, n, sizeof(*all), owed_cmp);
    json_object *rows = json_object_new_array();
    str line = str_empty(512);
    for (size_t i = 0; i < n && i < API_CONSOLE_TOP_SUBSCRIBERS; i++) {
        str_set_len(line, 0);
        line = client_info_line(all[i].c, line);
        json_object *o = client_line_json(line, str_len(line));
        json_object_object_add(o, "owed_bytes", json_object_new_int64((int64_t)all[i].bytes));
        json_object_array_add(rows, o);
    }
    str_free(line);
    mem_free(all);
    *count = (long long)n;
    return rows;
}

static json_object *pubsub_doc(void)
{
    static const struct {
        enum pubsub_kind kind;
        const char *name;
    } kinds[] = {{PUBSUB_CHANNEL, "channels"}, {PUBSUB_PATTERN, "patterns"}, {PUBSUB_SHARD, "shard_channels"}};
    json_object *doc = json_object_new_object();
    json_object *totals = json_object_new_object();
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        json_object_object_add(doc, kinds[k].name, pubsub_names(kinds[k].kind));
        json_object_object_add(totals, kinds[k].name, json_object_new_int64(pubsub_registry_size(kinds[k].kind)));
    }
    json_object_object_add(doc, "totals", totals);
    long long subscribed;
    json_object_object_add(doc, "subscribers", top_subscribers(&subscribed));
    json_object_object_add(doc, "subscribed_clients", json_object_new_int64(subscribed));
    return doc;
}

/* The slow log, LATENCY LATEST, and INFO commandstats and latencystats. */
static json_object *slowlog_doc(const struct params *p)
{
    long long count = param_int(p, "count", 128, 1, API_CONSOLE_MAX_PAGE);
    char count_text[24];
    snprintf(count_text, sizeof(count_text), "%lld", count);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "slowlog", run(0, 3, (const char *[]){"SLOWLOG", "GET", count_text}));
    json_object_object_add(doc, "slowlog_len", run(0, 2, (const char *[]){"SLOWLOG", "LEN"}));
    json_object_object_add(doc, "latency", run(0, 2, (const char *[]){"LATENCY", "LATEST"}));
    json_object *stats = api_info_sections("commandstats"), *section;
    json_object_object_add(doc, "commandstats",
                           json_object_object_get_ex(stats, "commandstats", &section) ? json_object_get(section)
                                                                                        : json_object_new_object());
    json_object_put(stats);
    return doc;
}

/* INFO replication, and the cluster's nodes when it is one. */
static json_object *topology_doc(void)
{
    json_object *doc = json_object_new_object();
    json_object *info = api_info_sections("replication"), *section;
    json_object_object_add(doc, "replication",
                           json_object_object_get_ex(info, "replication", &section) ? json_object_get(section)
                                                                                    : json_object_new_object());
    json_object_put(info);
    json_object_object_add(doc, "cluster_enabled", json_object_new_boolean(info_cluster_enabled));
    if (info_cluster_enabled) {
        json_object_object_add(doc, "cluster_info", run(0, 2, (const char *[]){"CLUSTER", "INFO"}));
        json_object_object_add(doc, "cluster_nodes", run(0, 2, (const char *[]){"CLUSTER", "NODES"}));
    }
    return doc;
}

static bool path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(path, want, len) == 0;
}

str api_console_render(const char *path, size_t len, const char *query, size_t query_len)
{
    struct params p = {query, query_len};
    json_object *doc = NULL;
    if (path_is(path, len, "/api/stream")) doc = stream_doc(&p);
    else if (path_is(path, len, "/api/stream/entries")) doc = entries_doc(&p);
    else if (path_is(path, len, "/api/stream/pending")) doc = pending_doc(&p);
    else if (path_is(path, len, "/api/clients")) doc = clients_doc(&p);
    else if (path_is(path, len, "/api/pubsub")) doc = pubsub_doc();
    else if (path_is(path, len, "/api/slowlog")) doc = slowlog_doc(&p);
    else if (path_is(path, len, "/api/topology")) doc = topology_doc();
    else if (path_is(path, len, "/api/history")) doc = console_history_json();
    return doc ? api_json_text(doc) : NULL;
}

/* --- actions ------------------------------------------------------------ */

/* The parameters an action needs, all present, or an error. */
struct action_args {
    int db;
    int status; /* 403 once a check refused (or another status an action chose) */
    str key, group, id, consumer, strategy, threshold;
};

static void action_args_free(struct action_args *a)
{
    str *all[] = {&a->key, &a->group, &a->id, &a->consumer, &a->strategy, &a->threshold};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) str_free(*all[i]);
}

static json_object *write_cmd(const struct action_args *a, int argc, const char *const *argv)
{
    return console_exec(a->db, true, argc, argv);
}

/* The user's permission for a command the action will run, checked before
 * any of them runs (an action is all or nothing): the NOPERM error
 * document, with a->status 403, or NULL. */
static json_object *refused(struct action_args *a, int argc, const char *const *argv)
{
    char buf[256];
    const char *why = console_exec_refusal(argc, argv, buf, sizeof(buf));
    if (!why) return NULL;
    a->status = 403;
    return error_doc(why);
}

/* XACK key group id. */
static json_object *action_ack(struct action_args *a)
{
    const char *argv[] = {"XACK", a->key, a->group, a->id};
    json_object *r = refused(a, 4, argv);
    if (r) return r;
    r = write_cmd(a, 4, argv);
    if (console_exec_failed(r)) return r;
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "acknowledged", r);
    return doc;
}

/* XCLAIM key group consumer 0 id JUSTID: the entry moves to the consumer
 * whatever its idle time. */
static json_object *action_claim(struct action_args *a)
{
    const char *argv[] = {"XCLAIM", a->key, a->group, a->consumer, "0", a->id, "JUSTID"};
    json_object *r = refused(a, 7, argv);
    if (r) return r;
    r = write_cmd(a, 7, argv);
    if (console_exec_failed(r)) return r;
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "claimed", r);
    return doc;
}

/* XACK then XDEL: the entry leaves the group's pending list and the stream. */
static json_object *action_delete(struct action_args *a)
{
    const char *ack[] = {"XACK", a->key, a->group, a->id}, *del[] = {"XDEL", a->key, a->id};
    json_object *no = refused(a, 4, ack);
    if (!no) no = refused(a, 3, del);
    if (no) return no;
    json_object *acked = write_cmd(a, 4, ack);
    if (console_exec_failed(acked)) return acked;
    json_object *deleted = write_cmd(a, 3, del);
    if (console_exec_failed(deleted)) {
        json_object_put(acked);
        return deleted;
    }
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "acknowledged", acked);
    json_object_object_add(doc, "deleted", deleted);
    return doc;
}

/* XTRIM key MAXLEN|MINID = threshold. */
static json_object *action_trim(struct action_args *a)
{
    bool minid = strcasecmp(a->strategy, "minid") == 0;
    if (!minid && strcasecmp(a->strategy, "maxlen") != 0) return error_doc("ERR strategy must be maxlen or minid");
    const char *argv[] = {"XTRIM", a->key, minid ? "MINID" : "MAXLEN", "=", a->threshold};
    json_object *r = refused(a, 5, argv);
    if (r) return r;
    r = write_cmd(a, 5, argv);
    if (console_exec_failed(r)) return r;
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "trimmed", r);
    return doc;
}

/* Moves dead-lettered entries (id: one or more, comma-separated) back to
 * their source streams; see console_dlq.h. */
static json_object *action_move_back(struct action_args *a)
{
    int status;
    json_object *doc = console_dlq_move_back(a->db, a->key, a->id, &status);
    if (status != 200) a->status = status;
    return doc;
}

static const struct {
    const char *path;
    const char *needs[4];
    json_object *(*run)(struct action_args *a);
} actions[] = {
    {"/api/action/ack", {"key", "group", "id", NULL}, action_ack},
    {"/api/action/claim", {"key", "group", "id", "consumer"}, action_claim},
    {"/api/action/delete", {"key", "group", "id", NULL}, action_delete},
    {"/api/action/trim", {"key", "strategy", "threshold", NULL}, action_trim},
    {"/api/action/moveback", {"key", "id", NULL, NULL}, action_move_back},
};

/* The slot in `a` for a parameter name. */
static str *arg_slot(struct action_args *a, const char *name)
{
    if (!strcmp(name, "key")) return &a->key;
    if (!strcmp(name, "group")) return &a->group;
    if (!strcmp(name, "id")) return &a->id;
    if (!strcmp(name, "consumer")) return &a->consumer;
    if (!strcmp(name, "strategy")) return &a->strategy;
    return &a->threshold;
}

str api_console_action(const char *path, size_t len, const char *query, size_t query_len, int *status)
{
    struct params p = {query, query_len};
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (!path_is(path, len, actions[i].path)) continue;
        struct action_args a = {.db = (int)param_int(&p, "db", 0, 0, 1 << 20)};
        json_object *doc = NULL;
        for (int k = 0; k < 4 && actions[i].needs[k] && !doc; k++)
            *arg_slot(&a, actions[i].needs[k]) = require(&p, actions[i].needs[k], &doc);
        if (!doc) doc = actions[i].run(&a);
        action_args_free(&a);
        *status = a.status ? a.status : console_exec_failed(doc) ? 400 : 200;
        return api_json_text(doc);
    }
    *status = 404;
    return NULL;
}
