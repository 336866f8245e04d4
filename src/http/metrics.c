/* metrics: see metrics.h. */
#include "http/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "http/metrics_keys.h"
#include "http/metrics_text.h"
#include "protocol/command.h"
#include "server/command_table.h"
#include "server/info.h"
#include "server/latency.h"

/* An INFO field exported as one unlabelled metric. A field whose value is
 * "ok"/"err" (a status) is exported as 1/0, as redis_exporter does. */
struct info_metric {
    const char *field;
    const char *name;
    const char *type;
    const char *help;
};

static const struct info_metric info_metrics[] = {
    {"uptime_in_seconds", "redis_uptime_in_seconds", "gauge", "Seconds since the server started."},
    {"process_id", "redis_process_id", "gauge", "The server's process id."},
    {"connected_clients", "redis_connected_clients", "gauge", "Client connections (replicas excluded)."},
    {"blocked_clients", "redis_blocked_clients", "gauge", "Clients in a blocking command or held by CLIENT PAUSE."},
    {"client_recent_max_input_buffer", "redis_client_recent_max_input_buffer_bytes", "gauge",
     "The biggest client query buffer."},
    {"client_recent_max_output_buffer", "redis_client_recent_max_output_buffer_bytes", "gauge",
     "The most bytes a client is owed."},
    {"pubsub_clients", "runnel_pubsub_clients", "gauge", "Clients subscribed to a channel or pattern."},
    {"used_memory", "redis_memory_used_bytes", "gauge", "Bytes allocated by the server."},
    {"used_memory_rss", "redis_memory_used_rss_bytes", "gauge", "Resident set size of the process."},
    {"used_memory_peak", "redis_memory_used_peak_bytes", "gauge", "The most bytes ever allocated."},
    {"used_memory_lua", "redis_memory_used_lua_bytes", "gauge", "Bytes used by the Lua engine."},
    {"maxmemory", "redis_memory_max_bytes", "gauge", "The maxmemory setting (0: none)."},
    {"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", "gauge", "RSS over allocated bytes."},
    {"loading", "redis_loading_dump_file", "gauge", "1 while the dataset is being loaded."},
    {"rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", "gauge", "Changes since the last snapshot."},
    {"rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", "gauge", "1 while a background snapshot runs."},
    {"rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", "gauge", "Unix time of the last snapshot."},
    {"rdb_last_bgsave_status", "redis_rdb_last_bgsave_status", "gauge", "1 if the last background save succeeded."},
    {"aof_enabled", "redis_aof_enabled", "gauge", "1 when appendonly is on."},
    {"aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", "gauge", "1 while an AOF rewrite runs."},
    {"aof_rewrite_scheduled", "redis_aof_rewrite_scheduled", "gauge", "1 when an AOF rewrite waits to start."},
    {"aof_last_bgrewrite_status", "redis_aof_last_bgrewrite_status", "gauge", "1 if the last AOF rewrite succeeded."},
    {"aof_last_write_status", "redis_aof_last_write_status", "gauge", "1 if the last AOF write succeeded."},
    {"aof_current_size", "redis_aof_current_size_bytes", "gauge", "Size of the AOF."},
    {"aof_base_size", "redis_aof_base_size_bytes", "gauge", "Size of the AOF at its last rewrite."},
    {"aof_delayed_fsync", "redis_aof_delayed_fsync", "gauge", "Times an fsync was late (everysec)."},
    {"total_connections_received", "redis_connections_received_total", "counter", "Connections accepted."},
    {"total_commands_processed", "redis_commands_processed_total", "counter", "Commands run."},
    {"instantaneous_ops_per_sec", "redis_instantaneous_ops_per_sec", "gauge", "Commands per second, recent."},
    {"total_net_input_bytes", "redis_net_input_bytes_total", "counter", "Bytes read from clients."},
    {"total_net_output_bytes", "redis_net_output_bytes_total", "counter", "Bytes written to clients."},
    {"rejected_connections", "redis_rejected_connections_total", "counter", "Connections refused (maxclients)."},
    {"expired_keys", "redis_expired_keys_total", "counter", "Keys removed because they expired."},
    {"evicted_keys", "redis_evicted_keys_total", "counter", "Keys evicted by maxmemory."},
    {"keyspace_hits", "redis_keyspace_hits_total", "counter", "Key lookups that found the key."},
    {"keyspace_misses", "redis_keyspace_misses_total", "counter", "Key lookups that did not."},
    {"pubsub_channels", "redis_pubsub_channels", "gauge", "Channels with at least one subscriber."},
    {"pubsub_patterns", "redis_pubsub_patterns", "gauge", "Patterns with at least one subscriber."},
    {"pubsubshard_channels", "redis_pubsubshard_channels", "gauge", "Shard channels with a subscriber."},
    {"latest_fork_usec", "redis_latest_fork_usec", "gauge", "Microseconds the last fork took."},
    {"connected_slaves", "redis_connected_slaves", "gauge", "Connected replicas."},
    {"master_repl_offset", "redis_master_repl_offset", "gauge", "The replication offset."},
    {"repl_backlog_size", "redis_replication_backlog_bytes", "gauge", "Size of the replication backlog."},
    {"repl_backlog_histlen", "redis_repl_backlog_history_bytes", "gauge", "Bytes held in the backlog."},
    {"used_cpu_sys", "redis_cpu_sys_seconds_total", "counter", "System CPU time of the server."},
    {"used_cpu_user", "redis_cpu_user_seconds_total", "counter", "User CPU time of the server."},
    {"used_cpu_sys_children", "redis_cpu_sys_children_seconds_total", "counter", "System CPU time of children."},
    {"used_cpu_user_children", "redis_cpu_user_children_seconds_total", "counter", "User CPU time of children."},
};

#define INFO_METRIC_COUNT (sizeof(info_metrics) / sizeof(info_metrics[0]))

/* The metric for an INFO field, or NULL. */
static const struct info_metric *info_metric_for(const char *field, size_t len)
{
    for (size_t i = 0; i < INFO_METRIC_COUNT; i++)
        if (strlen(info_metrics[i].field) == len && memcmp(info_metrics[i].field, field, len) == 0)
            return &info_metrics[i];
    return NULL;
}

/* A field's value as a number: "ok" is 1, "err" 0; false if neither a number nor a status. */
static bool info_value(const char *v, size_t len, double *out)
{
    if (len == 2 && memcmp(v, "ok", 2) == 0) return *out = 1, true;
    if (len == 3 && memcmp(v, "err", 3) == 0) return *out = 0, true;
    char buf[64];
    if (len == 0 || len >= sizeof(buf)) return false;
    memcpy(buf, v, len);
    buf[len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0';
}

/* The INFO fields of info_metrics, in INFO's order, read from INFO's own text. */
static str render_info(str s)
{
    str info = info_generate(NULL, 0);
    for (const char *line = info; *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        const struct info_metric *m = colon ? info_metric_for(line, (size_t)(colon - line)) : NULL;
        double v;
        if (m && info_value(colon + 1, len - (size_t)(colon - line) - 1, &v))
            s = metrics_text_single(s, m->name, m->type, m->help, v);
        line += len + (eol ? 2 : 0);
    }
    str_free(info);
    return s;
}

struct command_walk {
    struct metrics_family calls, seconds, duration;
};

static void command_sample(struct metrics_family *f, const char *cmd, double value)
{
    str s = f->samples ? f->samples : str_empty(1024);
    s = str_append_printf(s, "%s{cmd=\"", f->name);
    s = metrics_text_escape(s, cmd, strlen(cmd));
    s = str_append(s, "\"} ", 3);
    s = metrics_text_value(s, value);
    f->samples = str_append(s, "\n", 1);
}

/* runnel_command_duration_seconds of one command: its LATENCY HISTOGRAM
 * points as cumulative Prometheus buckets. Point k holds calls of at most
 * latency_points_usec[k] microseconds; the last one also holds the slower
 * calls, so it is "+Inf". _sum is INFO commandstats' usec (which counts
 * calls made while latency-tracking was off too), _count the histogram's
 * total. */
static void command_histogram(struct metrics_family *f, const struct command *cmd)
{
    long long total = 0;
    for (int b = 0; b < COMMAND_LATENCY_BUCKETS; b++) total += cmd->latency_hist[b];
    if (total == 0) return;
    str s = f->samples ? f->samples : str_empty(4096);
    long long cumulative = 0;
    for (int k = 0; k < LATENCY_POINTS; k++) {
        cumulative += latency_point_count(cmd, k);
        s = str_append_printf(s, "%s_bucket{cmd=\"", f->name);
        s = metrics_text_escape(s, cmd->full_name, strlen(cmd->full_name));
        if (k == LATENCY_POINTS - 1) s = str_append_printf(s, "\",le=\"+Inf\"} %lld\n", cumulative);
        else s = str_append_printf(s, "\",le=\"%.6f\"} %lld\n", (double)latency_points_usec[k] / 1e6, cumulative);
    }
    s = str_append_printf(s, "%s_sum{cmd=\"", f->name);
    s = metrics_text_escape(s, cmd->full_name, strlen(cmd->full_name));
    s = str_append(s, "\"} ", 3);
    s = metrics_text_value(s, (double)cmd->usec / 1e6);
    s = str_append_printf(s, "\n%s_count{cmd=\"", f->name);
    s = metrics_text_escape(s, cmd->full_name, strlen(cmd->full_name));
    f->samples = str_append_printf(s, "\"} %lld\n", total);
}

/* Commands (and subcommands) that ran, as INFO commandstats lists them. */
static void command_visit(struct command *cmd, void *ctx)
{
    struct command_walk *w = ctx;
    if (cmd->calls) {
        command_sample(&w->calls, cmd->full_name, (double)cmd->calls);
        command_sample(&w->seconds, cmd->full_name, (double)cmd->usec / 1e6);
        command_histogram(&w->duration, cmd);
    }
    if (!cmd->subcommands) return;
    for (struct command *sub = cmd->subcommands; sub->name; sub++) command_visit(sub, ctx);
}

static str render_commands(str s)
{
    struct command_walk w = {
        {"redis_commands_total", "counter", "Calls of each command.", NULL},
        {"redis_commands_duration_seconds_total", "counter", "Seconds spent in each command.", NULL},
        {"runnel_command_duration_seconds", "histogram",
         "Time each call took (LATENCY HISTOGRAM's power-of-two buckets).", NULL},
    };
    command_table_each(command_visit, &w);
    s = metrics_family_flush(s, &w.calls);
    s = metrics_family_flush(s, &w.seconds);
    return metrics_family_flush(s, &w.duration);
}

/* redis_db_keys and redis_db_keys_expiring for every database, empty ones too. */
static str render_keyspace(str s)
{
    static const char *names[2] = {"redis_db_keys", "redis_db_keys_expiring"};
    static const char *helps[2] = {"Keys in the database.", "Keys with an expiry in the database."};
    for (int k = 0; k < 2; k++) {
        s = metrics_text_header(s, names[k], "gauge", helps[k]);
        for (int i = 0; i < db_count; i++) {
            struct db *db = db_by_index(i);
            size_t n = k == 0 ? db_size(db) : db_expires_size(db);
            s = str_append_printf(s, "%s{db=\"db%d\"} %zu\n", names[k], i, n);
        }
    }
    return s;
}

str metrics_render(void)
{
    str s = str_empty(16384);
    s = metrics_text_single(s, "redis_up", "gauge", "1: the server answered.", 1);
    s = render_info(s);
    s = render_commands(s);
    s = render_keyspace(s);
    return metrics_keys_render(s);
}
