/* Server administration commands: DBSIZE FLUSHDB FLUSHALL SWAPDB TIME
 * LASTSAVE SHUTDOWN DEBUG CONFIG. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "db/db_digest.h"
#include "messaging/blocking.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/server.h"
#include "server/stats.h"
#include "util/mem.h"

static void cmd_dbsize(struct request *req)
{
    reply_int(req->out, (long long)db_size(req->db));
}

/* FLUSHDB/FLUSHALL take an optional ASYNC or SYNC; both free at once here. */
static bool flush_mode_ok(struct request *req)
{
    if (req->argc == 1) return true;
    if (req->argc == 2 && (ARG_IS(req, 1, "ASYNC") || ARG_IS(req, 1, "SYNC"))) return true;
    reply_syntax_error(req->out);
    return false;
}

static long long flush_db(struct db *db)
{
    watch_touch_db(db, NULL);
    long long removed = db_empty(db);
    blocking_db_ready(db);
    return removed;
}

static void cmd_flushdb(struct request *req)
{
    if (!flush_mode_ok(req)) return;
    req->dirty += flush_db(req->db);
    reply_ok(req->out);
}

static void cmd_flushall(struct request *req)
{
    if (!flush_mode_ok(req)) return;
    long long removed = 0;
    for (int i = 0; i < server.db_count; i++) removed += flush_db(&server.dbs[i]);
    req->dirty += removed + 1;
    reply_ok(req->out);
}

static void cmd_swapdb(struct request *req)
{
    long long a, b;
    if (!request_ll_range(req, 1, INT_MIN, INT_MAX, &a, "ERR invalid first DB index")) return;
    if (!request_ll_range(req, 2, INT_MIN, INT_MAX, &b, "ERR invalid second DB index")) return;
    if (a < 0 || a >= server.db_count || b < 0 || b >= server.db_count) {
        reply_error(req->out, "ERR DB index is out of range");
        return;
    }
    if (a != b) {
        watch_touch_db(&server.dbs[a], &server.dbs[b]);
        watch_touch_db(&server.dbs[b], &server.dbs[a]);
        db_swap(&server.dbs[a], &server.dbs[b]);
        blocking_db_ready(&server.dbs[a]);
        blocking_db_ready(&server.dbs[b]);
    }
    req->dirty++;
    reply_ok(req->out);
}

static void cmd_time(struct request *req)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    reply_array(req->out, 2);
    reply_bulk_ll(req->out, (long long)tv.tv_sec);
    reply_bulk_ll(req->out, (long long)tv.tv_usec);
}

static void cmd_lastsave(struct request *req)
{
    reply_int(req->out, server.last_save);
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: the loop stops after this
 * iteration; main() then flushes persistence and exits. */
static void cmd_shutdown(struct request *req)
{
    int flags = 0;
    for (int i = 1; i < req->argc; i++) {
        if (ARG_IS(req, i, "NOSAVE")) flags |= SHUTDOWN_NOSAVE;
        else if (ARG_IS(req, i, "SAVE")) flags |= SHUTDOWN_SAVE;
        else if (ARG_IS(req, i, "NOW")) flags |= SHUTDOWN_NOW;
        else if (ARG_IS(req, i, "FORCE")) flags |= SHUTDOWN_FORCE;
        else if (ARG_IS(req, i, "ABORT")) flags |= SHUTDOWN_ABORT;
        else {
            reply_syntax_error(req->out);
            return;
        }
    }
    if ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE)) {
        reply_syntax_error(req->out);
        return;
    }
    if (flags & SHUTDOWN_ABORT) {
        if (flags != SHUTDOWN_ABORT) {
            reply_syntax_error(req->out);
            return;
        }
        if (!server.shutdown_asap) {
            reply_error(req->out, "ERR No shutdown in progress.");
            return;
        }
        server.shutdown_asap = false;
        reply_ok(req->out);
        return;
    }
    if (server.script_busy && !(flags & SHUTDOWN_NOSAVE)) {
        reply_error(req->out, server.busy_function ? ERR_BUSY_FUNCTION : ERR_BUSY_SCRIPT);
        return;
    }
    server.shutdown_asap = true;
    server.shutdown_flags = flags;
    event_loop_stop(server.loop);
}

/* ---- DEBUG ---- */

static bool debug_allowed(struct request *req)
{
    struct client *c = req->client;
    int mode = cfg.enable_debug_command;
    bool local = strncmp(c->addr, "127.", 4) == 0 || strncmp(c->addr, "::1:", 4) == 0 || c->fd < 0;
    if (mode == 1 || (mode == 2 && local)) return true;
    reply_error(req->out, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
                          "you can run it from a local connection, otherwise you need to set this option in the "
                          "configuration file, and then restart the server.");
    return false;
}

static void cmd_debug_sleep(struct request *req)
{
    double seconds;
    if (!request_double(req, 2, &seconds)) return;
    if (seconds > 0) usleep((useconds_t)(seconds * 1e6));
    reply_ok(req->out);
}

static void cmd_debug_set_active_expire(struct request *req)
{
    long long on;
    if (!request_ll(req, 2, &on)) return;
    server_active_expire_enabled = on != 0;
    reply_ok(req->out);
}

static void cmd_debug_object(struct request *req)
{
    struct object *o = db_peek(req->db, req->argv[2].ptr, req->argv[2].len);
    if (!o) {
        reply_error(req->out, ERR_NO_KEY);
        return;
    }
    char line[256];
    snprintf(line, sizeof(line), "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%u",
             (void *)o, object_encoding_name(o), object_memory(o), o->lru, object_clock - o->lru);
    reply_simple(req->out, line);
}

static void cmd_debug_jmap(struct request *req)
{
    char line[256];
    snprintf(line, sizeof(line), "allocated:%zu resident:%zu rss:%zu", mem_used(), mem_resident(), mem_rss());
    reply_simple(req->out, line);
}

/* Replies a digest as Redis does: a status of 40 hex digits. */
static bool reply_digest(struct request *req, bool ok, const struct digest *d)
{
    if (!ok) {
        reply_error(req->out, "ERR a value's type cannot be digested");
        return false;
    }
    char hex[DIGEST_HEX_SIZE];
    digest_hex(d, hex);
    reply_simple(req->out, hex);
    return true;
}

/* DEBUG DIGEST: the whole dataset's digest (db/db_digest.h). */
static void cmd_debug_digest(struct request *req)
{
    struct digest d;
    reply_digest(req, db_digest_all(&d), &d);
}

/* DEBUG DIGEST-VALUE key...: one digest per key of the current database,
 * 40 zeros for a missing key. */
static void cmd_debug_digest_value(struct request *req)
{
    reply_array(req->out, req->argc - 2);
    for (int i = 2; i < req->argc; i++) {
        struct digest d;
        reply_digest(req, db_digest_key(req->db, req->argv[i].ptr, req->argv[i].len, &d), &d);
    }
}

/* The subcommands Runnel has, in the shape of Redis's help. */
static void cmd_debug_help(struct request *req)
{
    static const char *const lines[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "JMAP",
        "    Show the allocator's allocated, resident and RSS byte counts.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "LOADAOF",
        "    Write and sync the AOF, empty every database and load the AOF back.",
        "RELOAD [NOSAVE] [NOFLUSH] [MERGE]",
        "    Save the snapshot, empty every database and load the file back; NOSAVE loads the file as it is,",
        "    NOFLUSH keeps the databases' keys, MERGE lets the file's keys replace them.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    0 stops the background expiry of keys nobody reads (lazy expiry still runs); 1 restarts it.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

static void cmd_debug_dispatch(struct request *req)
{
    if (!debug_allowed(req)) return;
    const struct {
        const char *name;
        int arity; /* as a command's: exact when positive, at least -arity when negative */
        void (*fn)(struct request *);
    } subs[] = {
        {"sleep", 3, cmd_debug_sleep},
        {"set-active-expire", 3, cmd_debug_set_active_expire},
        {"object", 3, cmd_debug_object},
        {"jmap", 2, cmd_debug_jmap},
        {"digest", 2, cmd_debug_digest},
        {"digest-value", -2, cmd_debug_digest_value},
        {"help", 2, cmd_debug_help},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcasecmp(req->argv[1].ptr, subs[i].name) != 0) continue;
        int arity = subs[i].arity;
        if (arity > 0 ? req->argc != arity : req->argc < -arity) break;
        subs[i].fn(req);
        return;
    }
    if (server_debug_extension && server_debug_extension(req)) return;
    /* Redis's words for an unknown subcommand and a known one's wrong arity alike. */
    reply_errorf(req->out, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try DEBUG HELP.",
                 req->argv[1].ptr);
}

/* ---- CONFIG ---- */

struct config_get_ctx {
    struct outbuf *out;
    long long pairs;
};

static void config_get_emit(void *ctx, const char *name, const char *value)
{
    struct config_get_ctx *g = ctx;
    reply_bulk_cstr(g->out, name);
    reply_bulk_cstr(g->out, value);
    g->pairs++;
}

static void cmd_config_get(struct request *req)
{
    const char *patterns[64];
    int n = req->argc - 2 > 64 ? 64 : req->argc - 2;
    for (int i = 0; i < n; i++) patterns[i] = req->argv[i + 2].ptr;
    struct config_get_ctx g = {.out = req->out};
    outbuf_mark mark = reply_defer(req->out);
    config_get(patterns, n, config_get_emit, &g);
    reply_deferred_map(req->out, mark, g.pairs);
}

static void cmd_config_set(struct request *req)
{
    if ((req->argc - 2) % 2 != 0) {
        reply_wrong_arity(req->out, "config|set");
        return;
    }
    int pairs = (req->argc - 2) / 2;
    const char **names = mem_alloc(sizeof(char *) * (size_t)pairs);
    const char **values = mem_alloc(sizeof(char *) * (size_t)pairs);
    for (int i = 0; i < pairs; i++) {
        names[i] = req->argv[2 + 2 * i].ptr;
        values[i] = req->argv[3 + 2 * i].ptr;
    }
    char *err = NULL;
    struct client *c = req->client;
    bool local = strncmp(c->addr, "127.", 4) == 0 || strncmp(c->addr, "::1:", 4) == 0 || c->fd < 0;
    unsigned origin = (local ? CONFIG_SET_LOCAL : 0) | (server.loading ? CONFIG_SET_LOADING : 0);
    if (config_set_ex(names, values, pairs, origin, &err) == 0) {
        reply_ok(req->out);
    } else {
        reply_error(req->out, err ? err : "ERR CONFIG SET failed");
        mem_free(err);
    }
    mem_free(names);
    mem_free(values);
}

static void cmd_config_resetstat(struct request *req)
{
    stats_reset();
    reply_ok(req->out);
}

static void cmd_config_rewrite(struct request *req)
{
    char *err = NULL;
    if (config_rewrite(&err) == 0) {
        reply_ok(req->out);
        return;
    }
    reply_error(req->out, err ? err : "ERR Rewriting config file failed");
    mem_free(err);
}

static void cmd_config_help(struct request *req)
{
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define ADMIN_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
static struct command config_subcommands[] = {
    {"get", cmd_config_get, -3, ADMIN_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns the effective values of configuration parameters.", "2.0.0",
     "O(N) when N is the number of configuration parameters provided"},
    {"set", cmd_config_set, -4, ADMIN_FLAGS | CMD_MAY_REPLICATE, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Sets configuration parameters in-flight.", "2.0.0",
     "O(N) when N is the number of configuration parameters provided"},
    {"resetstat", cmd_config_resetstat, 2, ADMIN_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Resets the server's statistics.", "2.0.0", "O(1)"},
    {"rewrite", cmd_config_rewrite, 2, ADMIN_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Persists the effective configuration to file.", "2.8.0", "O(1)"},
    {"help", cmd_config_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow", "server",
     "Returns helpful text about the different subcommands.", "5.0.0", "O(1)"},
    {0},
};

/* LOLWUT [VERSION n]: the server's version line. Redis draws art for some
 * versions; Runnel answers the line alone whatever the version. */
static void cmd_lolwut(struct request *req)
{
    long long version;
    for (int i = 1; i + 1 < req->argc; i += 2)
        if (ARG_IS(req, i, "VERSION") && !request_ll(req, i + 1, &version)) return;
    static const char line[] = "Runnel ver. " RUNNEL_VERSION "\n";
    reply_verbatim(req->out, line, sizeof(line) - 1, "txt");
}

struct command server_commands[] = {
    {"lolwut", cmd_lolwut, -1, CMD_READONLY | CMD_FAST, 0, 0, 0, "@read @fast", "server",
     "Displays computer art and the Redis version", "5.0.0", "N/A"},
    {"dbsize", cmd_dbsize, 1, CMD_READONLY | CMD_FAST, 0, 0, 0, "@keyspace @read @fast", "server",
     "Returns the number of keys in the database.", "1.0.0", "O(1)"},
    {"flushdb", cmd_flushdb, -1, CMD_WRITE, 0, 0, 0, "@keyspace @write @slow @dangerous", "server",
     "Removes all keys from the current database.", "1.0.0", "O(N)"},
    {"flushall", cmd_flushall, -1, CMD_WRITE, 0, 0, 0, "@keyspace @write @slow @dangerous", "server",
     "Removes all keys from all databases.", "1.0.0", "O(N)"},
    {"swapdb", cmd_swapdb, 3, CMD_WRITE | CMD_FAST, 0, 0, 0, "@keyspace @write @fast @dangerous", "server",
     "Swaps two Redis databases.", "4.0.0", "O(N)"},
    {"time", cmd_time, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@fast", "server",
     "Returns the server time.", "2.6.0", "O(1)"},
    {"lastsave", cmd_lastsave, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@admin @fast @dangerous", "server",
     "Returns the Unix timestamp of the last successful save to disk.", "1.0.0", "O(1)"},
    {"shutdown", cmd_shutdown, -1, ADMIN_FLAGS | CMD_NO_MULTI | CMD_ALLOW_BUSY, 0, 0, 0, "@admin @slow @dangerous",
     "server", "Synchronously saves the database(s) to disk and shuts down the server.", "1.0.0",
     "O(N) when saving, where N is the total number of keys in all databases"},
    {"debug", cmd_debug_dispatch, -2, ADMIN_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "A container for debugging commands.", "1.0.0", "Depends on subcommand."},
    {"config", NULL, -2, 0, 0, 0, 0, "@slow", "server", "A container for server configuration commands.", "2.0.0",
     "Depends on subcommand.", config_subcommands},
    {0},
};
