/* INFO: the server's state as "field:value" lines grouped in sections. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "net/event_loop.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/info.h"
#include "server/tracking.h"
#include "server/latency.h"
#include "server/server.h"
#include "server/stats.h"
#include "util/mem.h"
#include "util/numbers.h"

const char *server_executable_path = "";
long long (*info_blocking_keys)(void);
long long (*info_pubsub_counts[3])(void);
str (*info_persistence_extension)(str s);
str (*info_memory_extension)(str s);
str (*info_replication_extension)(str s);
bool info_cluster_enabled;
str (*info_stats_extension)(str s);

static str info_server(str s)
{
    struct utsname uts;
    uname(&uts);
    long long uptime = (event_now_ms() - server.start_monotonic_ms) / 1000;
    return str_append_printf(s,
                             "# Server\r\n"
                             "redis_version:%s\r\n"
                             "runnel_version:%s\r\n"
                             "redis_git_sha1:00000000\r\n"
                             "redis_git_dirty:0\r\n"
                             "redis_mode:standalone\r\n"
                             "os:%s %s %s\r\n"
                             "arch_bits:%d\r\n"
                             "multiplexing_api:%s\r\n"
                             "io_engine:%s\r\n"
                             "gcc_version:%d.%d.%d\r\n"
                             "process_id:%ld\r\n"
                             "run_id:%s\r\n"
                             "tcp_port:%d\r\n"
                             "server_time_usec:%lld\r\n"
                             "uptime_in_seconds:%lld\r\n"
                             "uptime_in_days:%lld\r\n"
                             "hz:%d\r\n"
                             "configured_hz:%d\r\n"
                             "lru_clock:%u\r\n"
                             "executable:%s\r\n"
                             "config_file:%s\r\n",
                             REDIS_COMPAT_VERSION, RUNNEL_VERSION, uts.sysname, uts.release, uts.machine,
                             (int)(sizeof(long) * 8), event_loop_engine_name(server.loop),
                             event_loop_uses_uring(server.loop) ? "uring" : "epoll",
#ifdef __GNUC__
                             __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
                             0, 0, 0,
#endif
                             (long)getpid(), server.run_id, cfg.port, db_wall_ms() * 1000, uptime, uptime / 86400,
                             cfg.hz, cfg.hz, object_clock, server_executable_path,
                             config_file_path() ? config_file_path() : "");
}

static str info_clients(str s)
{
    size_t biggest_in = 0, biggest_out = 0;
    long long blocked = 0, in_timeout_table = 0, pubsub = 0, watching = 0, watched_keys = 0;
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->qcap > biggest_in) biggest_in = c->qcap;
        if (c->out.pending > biggest_out) biggest_out = c->out.pending;
        if (c->flags & CLIENT_BLOCKED) in_timeout_table++;
        if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED)) blocked++; /* a command held by CLIENT PAUSE too */
        if (c->flags & CLIENT_PUBSUB) pubsub++;
        if (c->watch.count) watching++;
        watched_keys += (long long)c->watch.count;
    }
    return str_append_printf(s,
                             "# Clients\r\n"
                             "connected_clients:%zu\r\n"
                             "cluster_connections:0\r\n"
                             "maxclients:%d\r\n"
                             "client_recent_max_input_buffer:%zu\r\n"
                             "client_recent_max_output_buffer:%zu\r\n"
                             "blocked_clients:%lld\r\n"
                             "tracking_clients:%lld\r\n"
                             "pubsub_clients:%lld\r\n"
                             "watching_clients:%lld\r\n"
                             "clients_in_timeout_table:%lld\r\n"
                             "total_watched_keys:%lld\r\n"
                             "total_blocking_keys:%lld\r\n"
                             "total_blocking_keys_on_nokey:0\r\n",
                             server.client_count, cfg.maxclients, biggest_in, biggest_out, blocked,
                             tracking_clients_count(), pubsub, watching,
                             in_timeout_table, watched_keys, info_blocking_keys ? info_blocking_keys() : 0LL);
}

static void capture_value(void *ctx, const char *name, const char *value)
{
    (void)name;
    snprintf(ctx, 32, "%s", value);
}

size_t info_memory_peak(size_t used)
{
    static size_t peak;
    if (used > peak) peak = used;
    return peak;
}

size_t info_clients_memory(void)
{
    size_t bytes = 0;
    for (struct client *c = server.clients; c; c = c->next) bytes += sizeof(*c) + c->qcap + outbuf_memory(&c->out);
    return bytes;
}

static str info_memory(str s)
{
    char policy[32] = "noeviction";
    const char *pattern = "maxmemory-policy";
    config_get(&pattern, 1, capture_value, policy);
    size_t used = mem_used(), rss = mem_rss(), resident = mem_resident();
    size_t peak = info_memory_peak(used);
    char h_used[32], h_rss[32], h_peak[32], h_max[32];
    format_human_bytes(h_used, sizeof(h_used), (double)used);
    format_human_bytes(h_rss, sizeof(h_rss), (double)rss);
    format_human_bytes(h_peak, sizeof(h_peak), (double)peak);
    format_human_bytes(h_max, sizeof(h_max), (double)cfg.maxmemory);
    size_t clients_mem = info_clients_memory();
    s = str_append_printf(s,
                             "# Memory\r\n"
                             "used_memory:%zu\r\n"
                             "used_memory_human:%s\r\n"
                             "used_memory_rss:%zu\r\n"
                             "used_memory_rss_human:%s\r\n"
                             "used_memory_peak:%zu\r\n"
                             "used_memory_peak_human:%s\r\n"
                             "used_memory_clients:%zu\r\n"
                             "allocator_allocated:%zu\r\n"
                             "allocator_resident:%zu\r\n"
                             "maxmemory:%lld\r\n"
                             "maxmemory_human:%s\r\n"
                             "maxmemory_policy:%s\r\n"
                             "mem_fragmentation_ratio:%.2f\r\n"
                             "mem_allocator:jemalloc\r\n"
                             "lazyfree_pending_objects:0\r\n",
                             used, h_used, rss, h_rss, peak, h_peak, clients_mem, used, resident, cfg.maxmemory, h_max,
                             policy, used ? (double)rss / (double)used : 0.0);
    return info_memory_extension ? info_memory_extension(s) : s;
}

static str info_persistence(str s)
{
    s = str_append_printf(s,
                          "# Persistence\r\n"
                          "loading:%d\r\n"
                          "async_loading:0\r\n"
                          "rdb_changes_since_last_save:%lld\r\n"
                          "rdb_last_save_time:%lld\r\n",
                          server.loading ? 1 : 0, server.dirty, server.last_save);
    if (info_persistence_extension) s = info_persistence_extension(s);
    return s;
}

static str info_stats(str s)
{
    struct server_stats *st = &server.stats;
    s = str_append_printf(
        s,
        "# Stats\r\n"
        "total_connections_received:%lld\r\n"
        "total_commands_processed:%lld\r\n"
        "instantaneous_ops_per_sec:%lld\r\n"
        "total_net_input_bytes:%lld\r\n"
        "total_net_output_bytes:%lld\r\n"
        "instantaneous_input_kbps:%.2f\r\n"
        "instantaneous_output_kbps:%.2f\r\n"
        "rejected_connections:%lld\r\n"
        "expired_keys:%lld\r\n"
        "expired_subkeys:%lld\r\n"
        "expired_stale_perc:0.00\r\n"
        "expired_time_cap_reached_count:0\r\n"
        "evicted_keys:0\r\n"
        "evicted_clients:0\r\n"
        "keyspace_hits:%lld\r\n"
        "keyspace_misses:%lld\r\n"
        "pubsub_channels:%lld\r\n"
        "pubsub_patterns:%lld\r\n"
        "pubsubshard_channels:%lld\r\n"
        "latest_fork_usec:%lld\r\n"
        "total_forks:%lld\r\n"
        "client_query_buffer_limit_disconnections:%lld\r\n"
        "client_output_buffer_limit_disconnections:%lld\r\n"
        "client_output_buffer_limit_disconnections_normal:%lld\r\n"
        "client_output_buffer_limit_disconnections_pubsub:%lld\r\n"
        "total_error_replies:%lld\r\n"
        "unexpected_error_replies:0\r\n"
        "total_reads_processed:%lld\r\n"
        "total_writes_processed:%lld\r\n",
        st->total_connections, st->total_commands, stats_instantaneous_ops(), st->net_input_bytes,
        st->net_output_bytes, stats_instantaneous(st->net_in_samples) / 1024,
        stats_instantaneous(st->net_out_samples) / 1024, st->rejected_connections, db_stats.expired_keys,
        db_stats.expired_subkeys,        db_stats.keyspace_hits, db_stats.keyspace_misses, info_pubsub_counts[0] ? info_pubsub_counts[0]() : 0LL,
        info_pubsub_counts[1] ? info_pubsub_counts[1]() : 0LL, info_pubsub_counts[2] ? info_pubsub_counts[2]() : 0LL,
        latency_last_fork_usec(), latency_total_forks(), st->client_query_buffer_limit_disconnections,
        st->client_output_buffer_limit_disconnections[0] + st->client_output_buffer_limit_disconnections[1] +
            st->client_output_buffer_limit_disconnections[2],
        st->client_output_buffer_limit_disconnections[0], st->client_output_buffer_limit_disconnections[2],
        st->total_error_replies, st->io_reads, st->io_writes);
    s = tracking_info_stats(s);
    return info_stats_extension ? info_stats_extension(s) : s;
}

static str info_replication(str s)
{
    if (info_replication_extension) return info_replication_extension(s);
    return str_append_printf(s, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
}

static str info_cpu(str s)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return str_append_printf(s,
                             "# CPU\r\n"
                             "used_cpu_sys:%ld.%06ld\r\n"
                             "used_cpu_user:%ld.%06ld\r\n"
                             "used_cpu_sys_children:%ld.%06ld\r\n"
                             "used_cpu_user_children:%ld.%06ld\r\n",
                             (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
                             (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec,
                             (long)children.ru_stime.tv_usec, (long)children.ru_utime.tv_sec,
                             (long)children.ru_utime.tv_usec);
}

static void info_command_line(struct command *cmd, void *ctx)
{
    str *s = ctx;
    if (cmd->calls || cmd->rejected_calls || cmd->failed_calls) {
        *s = str_append_printf(*s,
                               "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
                               "failed_calls=%lld\r\n",
                               cmd->full_name, cmd->calls, cmd->usec,
                               cmd->calls ? (double)cmd->usec / (double)cmd->calls : 0.0, cmd->rejected_calls,
                               cmd->failed_calls);
    }
    if (!cmd->subcommands) return;
    for (struct command *sub = cmd->subcommands; sub->name; sub++) info_command_line(sub, ctx);
}

static str info_commandstats(str s)
{
    s = str_append(s, "# Commandstats\r\n", 16);
    command_table_each(info_command_line, &s);
    return s;
}

static str info_errorstats(str s)
{
    s = str_append(s, "# Errorstats\r\n", 14);
    return stats_append_errorstats(s);
}

static str info_keyspace(str s)
{
    s = str_append(s, "# Keyspace\r\n", 12);
    for (int i = 0; i < server.db_count; i++) {
        struct db *db = &server.dbs[i];
        if (db_size(db) == 0) continue;
        s = str_append_printf(s, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld,subexpiry=%zu\r\n", i, db_size(db),
                              db_expires_size(db), db->avg_ttl, db_hexpires_size(db));
    }
    return s;
}

static str info_modules(str s)
{
    return str_append(s, "# Modules\r\n", 11);
}

static str info_cluster(str s)
{
    return str_append_printf(s, "# Cluster\r\ncluster_enabled:%d\r\n", info_cluster_enabled ? 1 : 0);
}

struct info_section {
    const char *name;
    str (*fn)(str);
    bool in_default;
};

static const struct info_section sections[] = {
    {"server", info_server, true},
    {"clients", info_clients, true},
    {"memory", info_memory, true},
    {"persistence", info_persistence, true},
    {"stats", info_stats, true},
    {"replication", info_replication, true},
    {"cpu", info_cpu, true},
    {"modules", info_modules, true},
    {"commandstats", info_commandstats, false},
    {"errorstats", info_errorstats, true},
    {"latencystats", latency_info_stats, false},
    {"cluster", info_cluster, true},
    {"keyspace", info_keyspace, true},
};

/* Selects sections by the INFO arguments: none or "default" gives the
 * default set, "all"/"everything" every section, else those named. */
str info_generate(struct arg *names, int count)
{
    size_t n = sizeof(sections) / sizeof(sections[0]);
    bool want[sizeof(sections) / sizeof(sections[0])] = {0};
    if (count == 0)
        for (size_t i = 0; i < n; i++) want[i] = sections[i].in_default;
    for (int a = 0; a < count; a++) {
        const char *name = names[a].ptr;
        bool all = !strcasecmp(name, "all") || !strcasecmp(name, "everything");
        bool dflt = !strcasecmp(name, "default");
        for (size_t i = 0; i < n; i++)
            if (all || (dflt && sections[i].in_default) || !strcasecmp(name, sections[i].name)) want[i] = true;
    }
    str s = str_empty(4096);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!want[i]) continue;
        if (!first) s = str_append(s, "\r\n", 2);
        s = sections[i].fn(s);
        first = false;
    }
    return s;
}
