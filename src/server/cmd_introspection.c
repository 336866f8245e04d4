/* Introspection commands: INFO COMMAND SLOWLOG LATENCY MEMORY MONITOR. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/command_table.h"
#include "server/commands.h"
#include "server/info.h"
#include "server/key_flags.h"
#include "server/latency.h"
#include "server/monitor.h"
#include "server/server.h"
#include "server/slowlog.h"
#include "util/glob.h"
#include "util/mem.h"

static void cmd_info(struct request *req)
{
    str text = info_generate(req->argv + 1, req->argc - 1);
    reply_verbatim(req->out, text, str_len(text), "txt");
    str_free(text);
}

static void cmd_monitor(struct request *req)
{
    struct client *c = req->client;
    /* queued in a transaction, a client expects one reply per command */
    if ((c->flags & CLIENT_MULTI) || (req->flags & REQ_IN_MULTI)) {
        reply_error(req->out, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->flags & CLIENT_MONITOR) return; /* already monitoring: Redis sends nothing */
    monitor_add(c);
    reply_ok(req->out);
}

/* ---- COMMAND ---- */

static const struct {
    uint32_t flag;
    const char *name;
} flag_names[] = {
    {CMD_WRITE, "write"},       {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},       {CMD_PUBSUB, "pubsub"},     {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},   {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"}, {CMD_SKIP_SLOWLOG, "skip_slowlog"}, {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},   {CMD_MAY_REPLICATE, "may_replicate"}, {CMD_NO_MULTI, "no_multi"},
    {CMD_ALLOW_BUSY, "allow_busy"}, {CMD_MOVABLE_KEYS, "movablekeys"},
};

static int command_arity(const struct command *cmd)
{
    return cmd->arity;
}

static void reply_command_flags(struct outbuf *o, const struct command *cmd)
{
    int n = 0;
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (cmd->flags & flag_names[i].flag) n++;
    reply_set(o, n);
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (cmd->flags & flag_names[i].flag) reply_simple(o, flag_names[i].name);
}

/* ACL categories as a set of "@name" words taken from the spec string. */
static void reply_acl_categories(struct outbuf *o, const char *cats)
{
    outbuf_mark mark = reply_defer(o);
    long long n = 0;
    const char *p = cats ? cats : "";
    while (*p) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (len) {
            outbuf_append(o, "+", 1); /* simple strings, as Redis replies them */
            outbuf_append(o, p, len);
            outbuf_append(o, "\r\n", 2);
            n++;
        }
        p += len;
    }
    reply_deferred_set(o, mark, n);
}

static long long subcommand_count(const struct command *cmd)
{
    long long n = 0;
    if (cmd->subcommands)
        for (const struct command *s = cmd->subcommands; s->name; s++) n++;
    return n;
}

static void reply_command_info(struct outbuf *o, struct command *cmd)
{
    reply_array(o, 10);
    reply_bulk_cstr(o, cmd->full_name);
    reply_int(o, command_arity(cmd));
    reply_command_flags(o, cmd);
    reply_int(o, cmd->first_key);
    reply_int(o, cmd->last_key);
    reply_int(o, cmd->key_step);
    reply_acl_categories(o, cmd->acl_categories);
    reply_empty_array(o); /* tips */
    reply_empty_array(o); /* key specs */
    reply_array(o, subcommand_count(cmd));
    if (cmd->subcommands)
        for (struct command *s = cmd->subcommands; s->name; s++) reply_command_info(o, s);
}

struct each_ctx {
    struct outbuf *out;
    long long count;
};

static void command_each_reply(struct command *cmd, void *p)
{
    struct each_ctx *ctx = p;
    ctx->count++;
    reply_command_info(ctx->out, cmd);
}

static void cmd_command(struct request *req)
{
    struct each_ctx ctx = {.out = req->out};
    outbuf_mark mark = reply_defer(req->out);
    command_table_each(command_each_reply, &ctx);
    reply_deferred_array(req->out, mark, ctx.count);
}

static void cmd_command_count(struct request *req)
{
    reply_int(req->out, (long long)command_table_count());
}

/* Resolves "config|get"-style or plain names for COMMAND INFO/DOCS. */
static struct command *command_by_full_name(const char *name)
{
    const char *bar = strchr(name, '|');
    if (!bar) return command_lookup(name, strlen(name));
    struct command *parent = command_lookup(name, (size_t)(bar - name));
    return parent ? command_lookup_sub(parent, bar + 1, strlen(bar + 1)) : NULL;
}

static void cmd_command_info(struct request *req)
{
    if (req->argc == 2) {
        cmd_command(req);
        return;
    }
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++) {
        struct command *cmd = command_by_full_name(req->argv[i].ptr);
        if (cmd) reply_command_info(req->out, cmd);
        else reply_null(req->out); /* Redis: a null bulk in RESP2 */
    }
}

static void reply_command_doc(struct outbuf *o, struct command *cmd)
{
    long long subs = subcommand_count(cmd);
    reply_map(o, subs ? 5 : 4);
    reply_bulk_cstr(o, "summary");
    reply_bulk_cstr(o, cmd->summary ? cmd->summary : "");
    reply_bulk_cstr(o, "since");
    reply_bulk_cstr(o, cmd->since ? cmd->since : "1.0.0");
    reply_bulk_cstr(o, "group");
    reply_bulk_cstr(o, cmd->group ? cmd->group : "generic");
    reply_bulk_cstr(o, "complexity");
    reply_bulk_cstr(o, cmd->complexity ? cmd->complexity : "O(1)");
    if (!subs) return;
    reply_bulk_cstr(o, "subcommands");
    reply_map(o, subs);
    for (struct command *s = cmd->subcommands; s->name; s++) {
        reply_bulk_cstr(o, s->full_name);
        reply_command_doc(o, s);
    }
}

static void command_each_doc(struct command *cmd, void *p)
{
    struct each_ctx *ctx = p;
    reply_bulk_cstr(ctx->out, cmd->full_name);
    reply_command_doc(ctx->out, cmd);
    ctx->count++;
}

static void cmd_command_docs(struct request *req)
{
    if (req->argc == 2) {
        struct each_ctx ctx = {.out = req->out};
        outbuf_mark mark = reply_defer(req->out);
        command_table_each(command_each_doc, &ctx);
        reply_deferred_map(req->out, mark, ctx.count);
        return;
    }
    outbuf_mark mark = reply_defer(req->out);
    long long n = 0;
    for (int i = 2; i < req->argc; i++) {
        struct command *cmd = command_by_full_name(req->argv[i].ptr);
        if (!cmd) continue;
        reply_bulk_cstr(req->out, cmd->full_name);
        reply_command_doc(req->out, cmd);
        n++;
    }
    reply_deferred_map(req->out, mark, n);
}

/* COMMAND LIST filters: a glob over full names, or an ACL category. */
struct list_ctx {
    struct outbuf *out;
    long long count;
    const char *pattern;
    const char *category; /* without its '@' */
};

static bool command_in_category(const struct command *cmd, const char *category)
{
    size_t len = strlen(category);
    for (const char *p = cmd->acl_categories ? cmd->acl_categories : ""; (p = strchr(p, '@')); p++)
        if (strncasecmp(p + 1, category, len) == 0 && (p[1 + len] == ' ' || p[1 + len] == '\0')) return true;
    return false;
}

static void command_list_one(struct command *cmd, void *p)
{
    struct list_ctx *ctx = p;
    bool match = true;
    if (ctx->pattern)
        match = glob_match(ctx->pattern, strlen(ctx->pattern), cmd->full_name, strlen(cmd->full_name), true);
    if (ctx->category) match = command_in_category(cmd, ctx->category);
    if (match) {
        reply_bulk_cstr(ctx->out, cmd->full_name);
        ctx->count++;
    }
    if (cmd->subcommands)
        for (struct command *sub = cmd->subcommands; sub->name; sub++) command_list_one(sub, ctx);
}

/* COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN glob]: every command
 * and subcommand by full name, as Redis lists them ("client|kill"). No
 * modules exist, so a MODULE filter matches nothing. */
static void cmd_command_list(struct request *req)
{
    struct list_ctx ctx = {.out = req->out};
    bool none = false;
    if (req->argc == 5 && ARG_IS(req, 2, "FILTERBY") && ARG_IS(req, 3, "PATTERN")) {
        ctx.pattern = req->argv[4].ptr;
    } else if (req->argc == 5 && ARG_IS(req, 2, "FILTERBY") && ARG_IS(req, 3, "ACLCAT")) {
        ctx.category = req->argv[4].ptr;
    } else if (req->argc == 5 && ARG_IS(req, 2, "FILTERBY") && ARG_IS(req, 3, "MODULE")) {
        none = true;
    } else if (req->argc != 2) {
        reply_syntax_error(req->out);
        return;
    }
    if (none) {
        reply_empty_array(req->out);
        return;
    }
    outbuf_mark mark = reply_defer(req->out);
    command_table_each(command_list_one, &ctx);
    reply_deferred_array(req->out, mark, ctx.count);
}

/* Finds the command named by COMMAND GETKEYS[ANDFLAGS]'s arguments and the
 * positions of its keys (in argv + 2); -1 once it replied an error. */
static int command_getkeys_resolve(struct request *req, struct command **found, int *positions, int max)
{
    struct arg *argv = req->argv + 2;
    int argc = req->argc - 2;
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd) {
        reply_error(req->out, "ERR Invalid command specified");
        return -1;
    }
    /* Redis checks that the command has keys at all before its arity */
    if ((!cmd->keys && cmd->first_key <= 0) || key_flags_channels_only(cmd)) {
        reply_error(req->out, "ERR The command has no key arguments");
        return -1;
    }
    if (cmd->arity > 0 ? argc != cmd->arity : argc < -cmd->arity) {
        reply_error(req->out, "ERR Invalid number of arguments specified for command");
        return -1;
    }
    int n = command_key_positions(cmd, argv, argc, positions, max);
    if (n == 0) {
        reply_error(req->out, "ERR Invalid arguments specified for command");
        return -1;
    }
    *found = cmd;
    return n;
}

/* The words of one key's flags as a set of simple strings. */
static void reply_key_flags(struct outbuf *o, const char *flags, size_t len)
{
    long long words = 1;
    for (size_t i = 0; i < len; i++) words += flags[i] == ' ';
    reply_set(o, words);
    for (size_t at = 0; at < len;) {
        size_t word = strcspn(flags + at, " |");
        outbuf_append(o, "+", 1);
        outbuf_append(o, flags + at, word);
        outbuf_append(o, "\r\n", 2);
        at += word + 1;
    }
}

/* COMMAND GETKEYS: the keys of a full command; GETKEYSANDFLAGS: each key
 * with what the command does to it. */
static void command_getkeys_reply(struct request *req, bool with_flags)
{
    struct command *cmd;
    int positions[256];
    int n = command_getkeys_resolve(req, &cmd, positions, 256);
    if (n < 0) return;
    struct arg *argv = req->argv + 2;
    reply_array(req->out, n);
    for (int i = 0; i < n; i++) {
        if (with_flags) reply_array(req->out, 2);
        reply_bulk(req->out, argv[positions[i]].ptr, argv[positions[i]].len);
        if (!with_flags) continue;
        size_t len;
        const char *flags = key_flags_of(cmd, argv, req->argc - 2, i, &len);
        reply_key_flags(req->out, flags, len);
    }
}

static void cmd_command_getkeys(struct request *req)
{
    command_getkeys_reply(req, false);
}

static void cmd_command_getkeysandflags(struct request *req)
{
    command_getkeys_reply(req, true);
}

static void cmd_command_help(struct request *req)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full command.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

/* ---- MEMORY ---- */

static void cmd_memory_usage(struct request *req)
{
    if (req->argc != 3 && !(req->argc == 5 && ARG_IS(req, 3, "SAMPLES"))) {
        reply_syntax_error(req->out);
        return;
    }
    long long samples;
    if (req->argc == 5) {
        if (!request_ll(req, 4, &samples)) return;
        if (samples < 0) { /* Redis answers a negative count so */
            reply_syntax_error(req->out);
            return;
        }
    }
    struct dict_entry *e = dict_find(req->db->keys, req->argv[2].ptr, req->argv[2].len);
    if (!e || db_is_expired(req->db, req->argv[2].ptr, req->argv[2].len)) {
        reply_null(req->out);
        return;
    }
    size_t bytes = sizeof(struct dict_entry) + str_alloc_size(e->key) + object_memory(e->v.ptr);
    reply_int(req->out, (long long)bytes);
}

static void reply_stat_int(struct outbuf *o, const char *name, long long v)
{
    reply_bulk_cstr(o, name);
    reply_int(o, v);
}

static void reply_stat_double(struct outbuf *o, const char *name, double v)
{
    reply_bulk_cstr(o, name);
    reply_double(o, v);
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* MEMORY STATS: Redis's fields, in its order and with its types (ratios and
 * percentages are doubles in RESP3), as far as this server measures them. */
static void cmd_memory_stats(struct request *req)
{
    struct outbuf *o = req->out;
    size_t used = mem_used(), resident = mem_resident(), rss = mem_rss();
    size_t peak = info_memory_peak(used);
    size_t clients = info_clients_memory();
    long long keys = 0;
    size_t overhead = clients;
    for (int i = 0; i < server.db_count; i++) {
        keys += (long long)db_size(&server.dbs[i]);
        overhead += (db_size(&server.dbs[i]) + db_expires_size(&server.dbs[i])) * sizeof(struct dict_entry);
    }
    size_t dataset = used > overhead ? used - overhead : 0;
    outbuf_mark mark = reply_defer(o);
    long long pairs = 0;
    reply_stat_int(o, "peak.allocated", (long long)peak), pairs++;
    reply_stat_int(o, "total.allocated", (long long)used), pairs++;
    reply_stat_int(o, "startup.allocated", 0), pairs++;
    reply_stat_int(o, "replication.backlog", 0), pairs++;
    reply_stat_int(o, "clients.slaves", 0), pairs++;
    reply_stat_int(o, "clients.normal", (long long)clients), pairs++;
    reply_stat_int(o, "cluster.links", 0), pairs++;
    reply_stat_int(o, "aof.buffer", 0), pairs++;
    reply_stat_int(o, "lua.caches", 0), pairs++;
    reply_stat_int(o, "functions.caches", 0), pairs++;
    for (int i = 0; i < server.db_count; i++) {
        struct db *db = &server.dbs[i];
        if (!db_size(db)) continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", i);
        reply_bulk_cstr(o, name);
        reply_map(o, 2);
        reply_stat_int(o, "overhead.hashtable.main", (long long)(db_size(db) * sizeof(struct dict_entry)));
        reply_stat_int(o, "overhead.hashtable.expires", (long long)(db_expires_size(db) * sizeof(struct dict_entry)));
        pairs++;
    }
    reply_stat_int(o, "overhead.total", (long long)overhead), pairs++;
    reply_stat_int(o, "keys.count", keys), pairs++;
    reply_stat_int(o, "keys.bytes-per-key", keys ? (long long)(used / (size_t)keys) : 0), pairs++;
    reply_stat_int(o, "dataset.bytes", (long long)dataset), pairs++;
    reply_stat_double(o, "dataset.percentage", ratio((double)dataset * 100, (double)used)), pairs++;
    reply_stat_double(o, "peak.percentage", ratio((double)used * 100, (double)peak)), pairs++;
    reply_stat_int(o, "allocator.allocated", (long long)used), pairs++;
    reply_stat_int(o, "allocator.active", (long long)resident), pairs++;
    reply_stat_int(o, "allocator.resident", (long long)resident), pairs++;
    reply_stat_double(o, "allocator-fragmentation.ratio", ratio((double)resident, (double)used)), pairs++;
    reply_stat_int(o, "allocator-fragmentation.bytes", (long long)resident - (long long)used), pairs++;
    reply_stat_double(o, "allocator-rss.ratio", 1.0), pairs++;
    reply_stat_int(o, "allocator-rss.bytes", 0), pairs++;
    reply_stat_double(o, "rss-overhead.ratio", ratio((double)rss, (double)resident)), pairs++;
    reply_stat_int(o, "rss-overhead.bytes", (long long)rss - (long long)resident), pairs++;
    reply_stat_double(o, "fragmentation", ratio((double)rss, (double)used)), pairs++;
    reply_stat_int(o, "fragmentation.bytes", (long long)rss - (long long)used), pairs++;
    reply_deferred_map(o, mark, pairs);
}

static void cmd_memory_doctor(struct request *req)
{
    static const char text[] = "Hi Sam, I can't find any memory issue in your instance. I can only account for "
                               "what occurs on this base.\n";
    reply_verbatim(req->out, text, sizeof(text) - 1, "txt");
}

static void cmd_memory_malloc_stats(struct request *req)
{
    char text[256];
    int n = snprintf(text, sizeof(text), "jemalloc allocated:%zu resident:%zu\n", mem_used(), mem_resident());
    reply_verbatim(req->out, text, (size_t)n, "txt");
}

static void cmd_memory_purge(struct request *req)
{
    reply_ok(req->out);
}

static void cmd_memory_help(struct request *req)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define INTRO_FLAGS (CMD_LOADING | CMD_STALE)
static struct command command_subcommands[] = {
    {"count", cmd_command_count, 2, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Returns a count of commands.", "2.8.13", "O(1)"},
    {"info", cmd_command_info, -2, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Returns information about one, multiple or all commands.", "2.8.13",
     "O(N) where N is the number of commands to look up"},
    {"docs", cmd_command_docs, -2, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Returns documentary information about one, multiple or all commands.", "7.0.0",
     "O(N) where N is the number of commands to look up"},
    {"list", cmd_command_list, -2, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Returns a list of command names.", "7.0.0", "O(N) where N is the total number of commands"},
    {"getkeys", cmd_command_getkeys, -4, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Extracts the key names from an arbitrary command.", "2.8.13",
     "O(N) where N is the number of arguments to the command"},
    {"getkeysandflags", cmd_command_getkeysandflags, -4, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Extracts the key names and access flags for an arbitrary command.", "7.0.0",
     "O(N) where N is the number of arguments to the command"},
    {"help", cmd_command_help, 2, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Returns helpful text about the different subcommands.", "5.0.0", "O(1)"},
    {0},
};

static struct command memory_subcommands[] = {
    {"usage", cmd_memory_usage, -3, CMD_READONLY, 2, 2, 1, "@read @slow", "server",
     "Estimates the memory usage of a key.", "4.0.0", "O(N) where N is the number of samples."},
    {"stats", cmd_memory_stats, 2, 0, 0, 0, 0, "@slow", "server", "Returns details about memory usage.", "4.0.0",
     "O(1)"},
    {"doctor", cmd_memory_doctor, 2, 0, 0, 0, 0, "@slow", "server", "Outputs a memory problems report.", "4.0.0",
     "O(1)"},
    {"malloc-stats", cmd_memory_malloc_stats, 2, 0, 0, 0, 0, "@slow", "server",
     "Returns the allocator statistics.", "4.0.0", "Depends on how much memory is allocated"},
    {"purge", cmd_memory_purge, 2, 0, 0, 0, 0, "@slow", "server", "Asks the allocator to release memory.", "4.0.0",
     "Depends on how much memory is allocated"},
    {"help", cmd_memory_help, 2, INTRO_FLAGS, 0, 0, 0, "@slow", "server",
     "Returns helpful text about the different subcommands.", "4.0.0", "O(1)"},
    {0},
};

struct command introspection_commands[] = {
    {"info", cmd_info, -1, INTRO_FLAGS, 0, 0, 0, "@slow @dangerous", "server",
     "Returns information and statistics about the server.", "1.0.0", "O(1)"},
    {"monitor", cmd_monitor, 1, CMD_ADMIN | CMD_NOSCRIPT | INTRO_FLAGS, 0, 0, 0, "@admin @slow @dangerous",
     "server", "Listens for all requests received by the server in real-time.", "1.0.0", "O(1)"},
    {"command", cmd_command, -1, INTRO_FLAGS, 0, 0, 0, "@slow @connection", "server",
     "Returns detailed information about all commands.", "2.8.13", "O(N) where N is the total number of commands",
     command_subcommands},
    {"slowlog", NULL, -2, 0, 0, 0, 0, "@slow", "server", "A container for slow log commands.", "2.2.12",
     "Depends on subcommand.", slowlog_subcommands},
    {"latency", NULL, -2, 0, 0, 0, 0, "@slow", "server", "A container for latency diagnostics commands.", "2.8.13",
     "Depends on subcommand.", latency_subcommands},
    {"memory", NULL, -2, 0, 0, 0, 0, "@slow", "server", "A container for memory diagnostics commands.", "4.0.0",
     "Depends on subcommand.", memory_subcommands},
    {0},
};
