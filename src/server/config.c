/* config: one table describes every directive (name, alias, kind, storage,
 * default, bounds, flags); the file loader, the command line, CONFIG
 * GET/SET/REWRITE and config_init_defaults all walk it, so a directive is
 * added in one line. Defaults are written in the directive's own syntax and
 * parsed like any value, so "512mb" means the same in the table as in a
 * file. The directives with a syntax of their own live in
 * config_special.c. */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/request.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numbers.h"

struct server_config cfg;

enum config_kind { KIND_BOOL, KIND_INT, KIND_LL, KIND_STRING, KIND_ENUM, KIND_SPECIAL };

enum config_flag {
    F_IMMUTABLE = 1 << 0,  /* start-up only: CONFIG SET refuses it */
    F_PROTECTED = 1 << 1,  /* CONFIG SET only as enable-protected-configs allows */
    F_MEMORY = 1 << 2,     /* numeric value with units: 64mb */
    F_PERCENT = 1 << 3,    /* numeric value may be N%, stored as -N */
    F_EMPTY_NULL = 1 << 4, /* string: "" is stored as NULL */
    F_MULTI_ARG = 1 << 5,  /* special: several arguments (CONFIG SET splits on spaces) */
    F_ALWAYS_REWRITE = 1 << 6, /* CONFIG REWRITE writes it even at its default */
    F_ONLY_NO = 1 << 7,    /* bool that must stay "no" (daemonize) */
    F_DENY_LOADING = 1 << 8, /* CONFIG SET refuses it while a dataset loads */
};

struct enum_name {
    const char *name;
    int value;
};

struct directive {
    const char *name;
    const char *alias; /* older name Redis still accepts, or NULL */
    enum config_kind kind;
    unsigned flags;
    void *storage; /* int *, long long * or char ** by kind; unused by specials */
    const char *def; /* default, in the directive's own syntax */
    long long min, max;
    const struct enum_name *enums;       /* KIND_ENUM, NULL-terminated */
    const struct config_special *special; /* KIND_SPECIAL */
    const char *(*check)(const char *value); /* KIND_STRING: reason to refuse, or NULL */
    int (*hook)(const char **err);           /* set by config_set_apply_hook */
};

/* --- Enumerations, in the order Redis lists them in its errors ---------- */

static const struct enum_name loglevel_names[] = {
    {"debug", LOG_DEBUG}, {"verbose", LOG_VERBOSE}, {"notice", LOG_NOTICE}, {"warning", LOG_WARNING}, {NULL, 0}};

static const struct enum_name policy_names[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU},       {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM}, {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU},         {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM},   {"noeviction", MAXMEMORY_NOEVICTION},
    {NULL, 0}};

static const struct enum_name fsync_names[] = {
    {"everysec", APPENDFSYNC_EVERYSEC}, {"always", APPENDFSYNC_ALWAYS}, {"no", APPENDFSYNC_NO}, {NULL, 0}};

static const struct enum_name io_engine_names[] = {
    {"auto", IO_ENGINE_AUTO}, {"uring", IO_ENGINE_URING}, {"epoll", IO_ENGINE_EPOLL}, {NULL, 0}};

static const struct enum_name dump_format_names[] = {
    {"runnel", DUMP_FORMAT_RUNNEL}, {"redis", DUMP_FORMAT_REDIS}, {NULL, 0}};

static const struct enum_name diskless_load_names[] = {{"disabled", DISKLESS_LOAD_DISABLED},
                                                       {"on-empty-db", DISKLESS_LOAD_ON_EMPTY_DB},
                                                       {"swapdb", DISKLESS_LOAD_SWAPDB},
                                                       {NULL, 0}};

/* The values are acl_user.h's selector flags: 0, or ACL_SEL_ALLCHANNELS. */
static const struct enum_name pubsub_default_names[] = {{"allchannels", 4}, {"resetchannels", 0}, {NULL, 0}};
static const struct enum_name tls_auth_names[] = {{"no", 0}, {"yes", 1}, {"optional", 2}, {NULL, 0}};

static const struct enum_name permit_names[] = {
    {"no", CONFIG_PERMIT_NO}, {"yes", CONFIG_PERMIT_YES}, {"local", CONFIG_PERMIT_LOCAL}, {NULL, 0}};

/* --- String checks ------------------------------------------------------ */

static const char *check_dbfilename(const char *v)
{
    return strchr(v, '/') ? "dbfilename can't be a path, just a filename" : NULL;
}

static const char *check_appendfilename(const char *v)
{
    return strchr(v, '/') ? "appendfilename can't be a path, just a filename" : NULL;
}

static const char *check_appenddirname(const char *v)
{
    return strchr(v, '/') ? "appenddirname can't be a path, just a dirname" : NULL;
}

/* Space-separated percentiles between 0 and 100 (possibly none). */
static const char *check_percentiles(const char *v)
{
    const char *p = v;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *end;
        double d = strtod(p, &end);
        if (end == p || (*end && *end != ' ')) return "Invalid latency-tracking-info-percentiles parameters";
        if (!(d >= 0 && d <= 100)) return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        p = end;
    }
    return NULL;
}

static const char *check_cluster_name(const char *v)
{
    if (!v[0]) return "cluster-name can't be empty";
    for (const char *p = v; *p; p++)
        if (*p == '/' || *p <= ' ') return "cluster-name can't contain '/' or spaces";
    return NULL;
}

/* --- The table ---------------------------------------------------------- */

#define BOOL(n, a, field, d, fl) \
    {.name = n, .alias = a, .kind = KIND_BOOL, .flags = fl, .storage = &cfg.field, .def = d}
#define INT(n, a, field, d, lo, hi, fl) \
    {.name = n, .alias = a, .kind = KIND_INT, .flags = fl, .storage = &cfg.field, .def = d, .min = lo, .max = hi}
#define LL(n, field, d, lo, hi, fl) \
    {.name = n, .kind = KIND_LL, .flags = fl, .storage = &cfg.field, .def = d, .min = lo, .max = hi}
#define STRING(n, field, d, fl, chk) \
    {.name = n, .kind = KIND_STRING, .flags = fl, .storage = &cfg.field, .def = d, .check = chk}
#define ENUM(n, field, d, names, fl) \
    {.name = n, .kind = KIND_ENUM, .flags = fl, .storage = &cfg.field, .def = d, .enums = names}
#define SPECIAL(n, sp, d, fl) {.name = n, .kind = KIND_SPECIAL, .flags = fl, .def = d, .special = &sp}

#define MB (1024LL * 1024)

static struct directive directives[] = {
    /* Network and clients */
    INT("port", NULL, port, "6379", 0, 65535, 0),
    SPECIAL("bind", config_special_bind, "127.0.0.1 -::1", F_MULTI_ARG),
    STRING("unixsocket", unixsocket, "", F_IMMUTABLE | F_EMPTY_NULL, NULL),
    BOOL("protected-mode", NULL, protected_mode, "yes", 0),
    STRING("requirepass", requirepass, "", F_EMPTY_NULL, NULL),
    STRING("aclfile", aclfile, "", F_IMMUTABLE, NULL),
    ENUM("acl-pubsub-default", acl_pubsub_default, "resetchannels", pubsub_default_names, 0),
    INT("acllog-max-len", NULL, acllog_max_len, "128", 0, INT_MAX, 0),
    INT("maxclients", NULL, maxclients, "10000", 1, INT_MAX, 0),
    INT("timeout", NULL, timeout, "0", 0, INT_MAX, 0),
    INT("tcp-keepalive", NULL, tcp_keepalive, "300", 0, INT_MAX, 0),
    INT("tcp-backlog", NULL, tcp_backlog, "511", 0, INT_MAX, F_IMMUTABLE),
    ENUM("io-engine", io_engine, "auto", io_engine_names, F_IMMUTABLE),
    INT("io-threads", NULL, io_threads, "1", 1, 128, F_IMMUTABLE),
    LL("proto-max-bulk-len", proto_max_bulk_len, "512mb", MB, LLONG_MAX, F_MEMORY),
    LL("client-query-buffer-limit", client_query_buffer_limit, "1gb", MB, LLONG_MAX, F_MEMORY),
    SPECIAL("client-output-buffer-limit", config_special_output_limit,
            "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60", F_MULTI_ARG),
    LL("maxmemory-clients", maxmemory_clients, "0", -100, LLONG_MAX, F_MEMORY | F_PERCENT),
    /* General */
    INT("databases", NULL, databases, "16", 1, INT_MAX, F_IMMUTABLE),
    BOOL("daemonize", NULL, daemonize, "no", F_IMMUTABLE | F_ONLY_NO),
    STRING("pidfile", pidfile, "", F_IMMUTABLE | F_EMPTY_NULL, NULL),
    STRING("logfile", logfile, "", F_IMMUTABLE, NULL),
    ENUM("loglevel", loglevel, "notice", loglevel_names, 0),
    SPECIAL("dir", config_special_dir, ".", F_PROTECTED | F_ALWAYS_REWRITE | F_DENY_LOADING),
    SPECIAL("hz", config_special_hz, "10", 0),
    ENUM("enable-debug-command", enable_debug_command, "local", permit_names, F_IMMUTABLE),
    ENUM("enable-protected-configs", enable_protected_configs, "no", permit_names, F_IMMUTABLE),
    SPECIAL("notify-keyspace-events", config_special_notify, "", 0),
    INT("busy-reply-threshold", "lua-time-limit", busy_reply_threshold, "5000", 0, INT_MAX, 0),
    /* Memory and eviction */
    LL("maxmemory", maxmemory, "0", 0, LLONG_MAX, F_MEMORY),
    ENUM("maxmemory-policy", maxmemory_policy, "noeviction", policy_names, 0),
    INT("maxmemory-samples", NULL, maxmemory_samples, "5", 1, INT_MAX, 0),
    INT("lfu-log-factor", NULL, lfu_log_factor, "10", 0, INT_MAX, 0),
    INT("lfu-decay-time", NULL, lfu_decay_time, "1", 0, INT_MAX, 0),
    INT("active-expire-effort", NULL, active_expire_effort, "1", 1, 10, 0),
    BOOL("activerehashing", NULL, activerehashing, "yes", 0),
    BOOL("lazyfree-lazy-user-del", NULL, lazyfree_lazy_user_del, "no", 0),
    BOOL("lazyfree-lazy-user-flush", NULL, lazyfree_lazy_user_flush, "no", 0),
    BOOL("lazyfree-lazy-expire", NULL, lazyfree_lazy_expire, "no", 0),
    BOOL("lazyfree-lazy-eviction", NULL, lazyfree_lazy_eviction, "no", 0),
    BOOL("lazyfree-lazy-server-del", NULL, lazyfree_lazy_server_del, "no", 0),
    /* Observability */
    LL("slowlog-log-slower-than", slowlog_log_slower_than, "10000", -1, LLONG_MAX, 0),
    INT("slowlog-max-len", NULL, slowlog_max_len, "128", 0, INT_MAX, 0),
    LL("latency-monitor-threshold", latency_monitor_threshold, "0", 0, LLONG_MAX, 0),
    BOOL("latency-tracking", NULL, latency_tracking, "yes", 0),
    STRING("latency-tracking-info-percentiles", latency_tracking_info_percentiles, "50 99 99.9", 0,
           check_percentiles),
    INT("http-port", NULL, http_port, "0", 0, 65535, F_IMMUTABLE),
    STRING("http-bind", http_bind, "127.0.0.1", F_IMMUTABLE, NULL),
    INT("http-timeout", NULL, http_timeout, "10", 1, 3600, 0),
    BOOL("http-tls", NULL, http_tls, "no", F_IMMUTABLE),
    INT("http-session-timeout", NULL, http_session_timeout, "3600", 1, 2592000, 0),
    INT("http-session-max", NULL, http_session_max, "100", 1, 10000, 0),
    STRING("metrics-list-patterns", metrics_list_patterns, "", 0, NULL),
    INT("metrics-max-series", NULL, metrics_max_series, "1000", 0, INT_MAX, 0),
    /* Append-only file */
    BOOL("appendonly", NULL, appendonly, "no", F_DENY_LOADING),
    STRING("appendfilename", appendfilename, "appendonly.aof", F_IMMUTABLE, check_appendfilename),
    STRING("appenddirname", appenddirname, "appendonlydir", F_IMMUTABLE, check_appenddirname),
    ENUM("appendfsync", appendfsync, "everysec", fsync_names, 0),
    INT("auto-aof-rewrite-percentage", NULL, auto_aof_rewrite_percentage, "100", 0, INT_MAX, 0),
    LL("auto-aof-rewrite-min-size", auto_aof_rewrite_min_size, "64mb", 0, LLONG_MAX, F_MEMORY),
    BOOL("aof-load-truncated", NULL, aof_load_truncated, "yes", 0),
    BOOL("aof-use-rdb-preamble", NULL, aof_use_rdb_preamble, "yes", 0),
    BOOL("aof-timestamp-enabled", NULL, aof_timestamp_enabled, "no", 0),
    /* Snapshots */
    SPECIAL("save", config_special_save, "3600 1 300 100 60 10000", F_MULTI_ARG),
    STRING("dbfilename", dbfilename, "dump.rdb", F_PROTECTED, check_dbfilename),
    BOOL("rdbcompression", NULL, rdbcompression, "yes", 0),
    BOOL("rdbchecksum", NULL, rdbchecksum, "yes", 0),
    BOOL("stop-writes-on-bgsave-error", NULL, stop_writes_on_bgsave_error, "yes", 0),
    INT("fork-child-nice", NULL, fork_child_nice, "10", 0, 19, 0),
    /* Replication */
    SPECIAL("replicaof", config_special_replicaof, "", F_IMMUTABLE | F_MULTI_ARG),
    STRING("masterauth", masterauth, "", F_EMPTY_NULL, NULL),
    STRING("masteruser", masteruser, "", F_EMPTY_NULL, NULL),
    BOOL("replica-read-only", "slave-read-only", replica_read_only, "yes", 0),
    BOOL("replica-serve-stale-data", "slave-serve-stale-data", replica_serve_stale_data, "yes", 0),
    INT("replica-priority", "slave-priority", replica_priority, "100", 0, INT_MAX, 0),
    STRING("replica-announce-ip", replica_announce_ip, "", F_EMPTY_NULL, NULL),
    INT("replica-announce-port", "slave-announce-port", replica_announce_port, "0", 0, 65535, 0),
    BOOL("replica-announced", NULL, replica_announced, "yes", 0),
    BOOL("replica-lazy-flush", "slave-lazy-flush", replica_lazy_flush, "no", 0),
    BOOL("replica-ignore-maxmemory", "slave-ignore-maxmemory", replica_ignore_maxmemory, "yes", 0),
    LL("repl-backlog-size", repl_backlog_size, "1mb", 1, LLONG_MAX, F_MEMORY),
    INT("repl-backlog-ttl", NULL, repl_backlog_ttl, "3600", 0, INT_MAX, 0),
    INT("repl-timeout", NULL, repl_timeout, "60", 1, INT_MAX, 0),
    INT("repl-ping-replica-period", "repl-ping-slave-period", repl_ping_replica_period, "10", 1, INT_MAX, 0),
    BOOL("repl-diskless-sync", NULL, repl_diskless_sync, "yes", 0),
    INT("repl-diskless-sync-delay", NULL, repl_diskless_sync_delay, "5", 0, INT_MAX, 0),
    INT("repl-diskless-sync-max-replicas", NULL, repl_diskless_sync_max_replicas, "0", 0, INT_MAX, 0),
    ENUM("repl-diskless-load", repl_diskless_load, "disabled", diskless_load_names, 0),
    ENUM("dump-payload-format", dump_payload_format, "runnel", dump_format_names, 0),
    BOOL("repl-disable-tcp-nodelay", NULL, repl_disable_tcp_nodelay, "no", 0),
    INT("min-replicas-to-write", "min-slaves-to-write", min_replicas_to_write, "0", 0, INT_MAX, 0),
    INT("min-replicas-max-lag", "min-slaves-max-lag", min_replicas_max_lag, "10", 0, INT_MAX, 0),
    /* Cluster */
    BOOL("cluster-enabled", NULL, cluster_enabled, "no", F_IMMUTABLE),
    STRING("cluster-etcd-endpoints", cluster_etcd_endpoints, "http://127.0.0.1:2379", F_IMMUTABLE, NULL),
    STRING("cluster-name", cluster_name, "runnel", F_IMMUTABLE, check_cluster_name),
    STRING("cluster-config-file", cluster_config_file, "nodes.conf", F_IMMUTABLE, NULL),
    LL("cluster-node-timeout", cluster_node_timeout, "5000", 1000, LLONG_MAX, 0),
    STRING("cluster-announce-ip", cluster_announce_ip, "", F_IMMUTABLE | F_EMPTY_NULL, NULL),
    INT("cluster-announce-port", NULL, cluster_announce_port, "0", 0, 65535, F_IMMUTABLE),
    INT("cluster-announce-tls-port", NULL, cluster_announce_tls_port, "0", 0, 65535, F_IMMUTABLE),
    BOOL("cluster-require-full-coverage", NULL, cluster_require_full_coverage, "yes", 0),
    BOOL("cluster-allow-reads-when-down", NULL, cluster_allow_reads_when_down, "no", 0),
    BOOL("cluster-replica-no-failover", "cluster-slave-no-failover", cluster_replica_no_failover, "no", 0),
    /* TLS */
    INT("tls-port", NULL, tls_port, "0", 0, 65535, 0),
    STRING("tls-cert-file", tls_cert_file, "", 0, NULL),
    STRING("tls-key-file", tls_key_file, "", 0, NULL),
    STRING("tls-key-file-pass", tls_key_file_pass, "", 0, NULL),
    STRING("tls-client-cert-file", tls_client_cert_file, "", 0, NULL),
    STRING("tls-client-key-file", tls_client_key_file, "", 0, NULL),
    STRING("tls-client-key-file-pass", tls_client_key_file_pass, "", 0, NULL),
    STRING("tls-ca-cert-file", tls_ca_cert_file, "", 0, NULL),
    STRING("tls-ca-cert-dir", tls_ca_cert_dir, "", 0, NULL),
    STRING("tls-dh-params-file", tls_dh_params_file, "", 0, NULL),
    STRING("tls-protocols", tls_protocols, "", 0, NULL),
    STRING("tls-ciphers", tls_ciphers, "", 0, NULL),
    STRING("tls-ciphersuites", tls_ciphersuites, "", 0, NULL),
    ENUM("tls-auth-clients", tls_auth_clients, "yes", tls_auth_names, 0),
    BOOL("tls-prefer-server-ciphers", NULL, tls_prefer_server_ciphers, "no", 0),
    BOOL("tls-session-caching", NULL, tls_session_caching, "yes", 0),
    INT("tls-session-cache-size", NULL, tls_session_cache_size, "20480", 0, INT_MAX, 0),
    INT("tls-session-cache-timeout", NULL, tls_session_cache_timeout, "300", 0, INT_MAX, 0),
    BOOL("tls-replication", NULL, tls_replication, "no", 0),
    BOOL("tls-cluster", NULL, tls_cluster, "no", 0),
    INT("tls-handshake-timeout", NULL, tls_handshake_timeout, "10000", 0, INT_MAX, 0),
    /* Encodings */
    INT("list-max-listpack-size", "list-max-ziplist-size", list_max_listpack_size, "-2", -5, INT_MAX, 0),
    INT("list-compress-depth", NULL, list_compress_depth, "0", 0, INT_MAX, 0),
    LL("stream-node-max-bytes", stream_node_max_bytes, "4096", 0, LLONG_MAX, F_MEMORY),
    INT("stream-node-max-entries", NULL, stream_node_max_entries, "100", 0, INT_MAX, 0),
    INT("stream-compress-depth", NULL, stream_compress_depth, "0", 0, 1000, 0),
    INT("stream-idmp-duration", NULL, stream_idmp_duration, "100", 1, 86400, 0),
    INT("stream-idmp-maxsize", NULL, stream_idmp_maxsize, "100", 1, 10000, 0),
    STRING("notify-keyspace-events-stream", notify_keyspace_events_stream, "", F_EMPTY_NULL, NULL),
    LL("notify-keyspace-events-stream-maxlen", notify_keyspace_events_stream_maxlen, "100000", 0, LLONG_MAX, 0),
    INT("hash-max-listpack-entries", "hash-max-ziplist-entries", hash_max_listpack_entries, "128", 0, INT_MAX, 0),
    INT("hash-max-listpack-value", "hash-max-ziplist-value", hash_max_listpack_value, "64", 0, INT_MAX, F_MEMORY),
    INT("set-max-intset-entries", NULL, set_max_intset_entries, "512", 0, INT_MAX, 0),
    INT("set-max-listpack-entries", NULL, set_max_listpack_entries, "128", 0, INT_MAX, 0),
    INT("set-max-listpack-value", NULL, set_max_listpack_value, "64", 0, INT_MAX, F_MEMORY),
    INT("zset-max-listpack-entries", "zset-max-ziplist-entries", zset_max_listpack_entries, "128", 0, INT_MAX, 0),
    LL("hll-sparse-max-bytes", hll_sparse_max_bytes, "3000", 0, LLONG_MAX, F_MEMORY),
    INT("zset-max-listpack-value", "zset-max-ziplist-value", zset_max_listpack_value, "64", 0, INT_MAX, F_MEMORY),
};

#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

/* The CONFIG GET form of each directive's default, for CONFIG REWRITE. */
static str default_values[NDIRECTIVES];
/* The config file given at start-up, absolute; NULL if none. */
static char *config_path;

#define REWRITE_SIGNATURE "# Generated by CONFIG REWRITE"
#define MAX_INCLUDE_DEPTH 16

/* --- Small helpers ------------------------------------------------------ */

/* Returns a mem_alloc'd printf-formatted string. */
static char *errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errorf(const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return mem_strdup("(unformattable error)");
    if ((size_t)n < sizeof(small)) return mem_strdup(small);
    char *buf = mem_alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return buf;
}

static struct directive *directive_lookup(const char *name)
{
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        struct directive *d = &directives[i];
        if (strcasecmp(name, d->name) == 0 || (d->alias && strcasecmp(name, d->alias) == 0)) return d;
    }
    return NULL;
}

void config_free_args(char **argv, int argc)
{
    if (!argv) return;
    for (int i = 0; i < argc; i++) mem_free(argv[i]);
    mem_free(argv);
}

/* Splits s on runs of spaces, as CONFIG SET does for multi-argument
 * directives ("" gives no argument). Free with config_free_args. */
static char **split_spaces(const char *s, int *argc)
{
    char **argv = mem_alloc(sizeof(char *) * (strlen(s) / 2 + 1));
    int n = 0;
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        size_t len = strcspn(s, " ");
        argv[n] = mem_alloc(len + 1);
        memcpy(argv[n], s, len);
        argv[n++][len] = '\0';
        s += len;
    }
    *argc = n;
    return argv;
}

/* --- Numbers ------------------------------------------------------------ */

long long config_parse_memory(const char *s, int *ok)
{
    static const struct {
        const char *unit;
        long long mul;
    } units[] = {{"", 1},       {"k", 1000}, {"kb", 1024}, {"m", 1000 * 1000}, {"mb", 1024 * 1024},
                 {"g", 1000 * 1000 * 1000}, {"gb", 1024LL * 1024 * 1024}};
    if (ok) *ok = 0;
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 19) return -1;
    long long mul = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(s + digits, units[i].unit) == 0) mul = units[i].mul;
    if (mul == 0) return -1;
    unsigned long long v = 0;
    for (size_t i = 0; i < digits; i++) v = v * 10 + (unsigned long long)(s[i] - '0');
    if (v > (unsigned long long)LLONG_MAX / (unsigned long long)mul) return -1;
    if (ok) *ok = 1;
    return (long long)v * mul;
}

/* Redis's error texts are fixed strings except this one; one buffer is
 * enough because every caller reports the error before parsing again. */
static const char *bounds_error(long long min, long long max)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "argument must be between %lld and %lld inclusive", min, max);
    return buf;
}

int config_parse_number(const char *s, bool memory, long long min, long long max, long long *out, const char **err)
{
    long long v;
    int ok = 0;
    if (memory) {
        v = config_parse_memory(s, &ok);
    } else {
        ok = parse_ll(s, strlen(s), &v);
    }
    if (!ok) {
        *err = memory ? "argument must be a memory value" : "argument couldn't be parsed into an integer";
        return -1;
    }
    if (v < min || v > max) {
        *err = bounds_error(min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses "N%" (0 <= N <= -min) into -N, for F_PERCENT directives. */
static int parse_percent(const struct directive *d, const char *s, long long *out, const char **err)
{
    static char buf[96];
    size_t len = strlen(s);
    long long pct;
    if (len < 2 || s[len - 1] != '%' || !parse_ll(s, len - 1, &pct) || pct < 0) {
        *err = "argument must be a memory or percent value";
        return -1;
    }
    if (-pct < d->min) {
        snprintf(buf, sizeof(buf), "percentage argument must be less or equal to %lld", -d->min);
        *err = buf;
        return -1;
    }
    *out = -pct;
    return 0;
}

static int parse_numeric(const struct directive *d, const char *s, long long *out, const char **err)
{
    if ((d->flags & F_PERCENT) && s[0] && s[strlen(s) - 1] == '%') return parse_percent(d, s, out, err);
    long long lo = (d->flags & F_PERCENT) ? 0 : d->min;
    if (config_parse_number(s, d->flags & F_MEMORY, lo, d->max, out, err) == 0) return 0;
    if ((d->flags & F_PERCENT) && strcmp(*err, "argument must be a memory value") == 0)
        *err = "argument must be a memory or percent value";
    return -1;
}

str config_append_memory(str out, long long bytes)
{
    static const struct {
        const char *unit;
        long long size;
    } units[] = {{"gb", 1024LL * 1024 * 1024}, {"mb", 1024 * 1024}, {"kb", 1024}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (bytes != 0 && bytes % units[i].size == 0)
            return str_append_printf(out, "%lld%s", bytes / units[i].size, units[i].unit);
    return str_append_printf(out, "%lld", bytes);
}

str config_append_quoted(str out, const char *s)
{
    out = str_append(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\': out = str_append(out, "\\\\", 2); break;
        case '"': out = str_append(out, "\\\"", 2); break;
        case '\n': out = str_append(out, "\\n", 2); break;
        case '\r': out = str_append(out, "\\r", 2); break;
        case '\t': out = str_append(out, "\\t", 2); break;
        default:
            if (isprint(*p)) out = str_append(out, (const char *)p, 1);
            else out = str_append_printf(out, "\\x%02x", *p);
        }
    }
    return str_append(out, "\"", 1);
}

/* --- Parsing and formatting one directive -------------------------------- */

static int parse_bool(const struct directive *d, const char *s, const char **err)
{
    int v;
    if (strcasecmp(s, "yes") == 0) {
        v = 1;
    } else if (strcasecmp(s, "no") == 0) {
        v = 0;
    } else {
        *err = "argument must be 'yes' or 'no'";
        return -1;
    }
    if (v && (d->flags & F_ONLY_NO)) {
        *err = "Runnel does not daemonize: run it under a service manager instead";
        return -1;
    }
    *(int *)d->storage = v;
    return 0;
}

static const char *enum_error(const struct enum_name *names)
{
    static char buf[512];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "argument(s) must be one of the following: ");
    for (int i = 0; names[i].name && n < sizeof(buf); i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", names[i].name);
    return buf;
}

static int parse_enum(const struct directive *d, const char *s, const char **err)
{
    for (int i = 0; d->enums[i].name; i++) {
        if (strcasecmp(s, d->enums[i].name) == 0) {
            *(int *)d->storage = d->enums[i].value;
            return 0;
        }
    }
    *err = enum_error(d->enums);
    return -1;
}

static int parse_string(const struct directive *d, const char *s, const char **err)
{
    const char *refusal = d->check ? d->check(s) : NULL;
    if (refusal) {
        *err = refusal;
        return -1;
    }
    char **slot = d->storage;
    mem_free(*slot);
    *slot = (s[0] == '\0' && (d->flags & F_EMPTY_NULL)) ? NULL : mem_strdup(s);
    return 0;
}

static int parse_scalar(const struct directive *d, const char *s, const char **err)
{
    long long v;
    switch (d->kind) {
    case KIND_BOOL: return parse_bool(d, s, err);
    case KIND_ENUM: return parse_enum(d, s, err);
    case KIND_STRING: return parse_string(d, s, err);
    case KIND_INT:
        if (parse_numeric(d, s, &v, err) != 0) return -1;
        *(int *)d->storage = (int)v;
        return 0;
    case KIND_LL:
        if (parse_numeric(d, s, &v, err) != 0) return -1;
        *(long long *)d->storage = v;
        return 0;
    case KIND_SPECIAL: break;
    }
    return -1;
}

/* Parses a directive's arguments (without its name) into its storage; the
 * storage is unchanged on error. loading: read from file or command line. */
static int parse_args(const struct directive *d, int argc, char **argv, bool loading, const char **err)
{
    if (d->kind == KIND_SPECIAL && (d->flags & F_MULTI_ARG)) return d->special->parse(argc, argv, loading, err);
    if (argc != 1) {
        *err = "wrong number of arguments";
        return -1;
    }
    if (d->kind == KIND_SPECIAL) return d->special->parse(argc, argv, loading, err);
    return parse_scalar(d, argv[0], err);
}

/* Parses a value given as one string (CONFIG SET, defaults, rollback). */
static int parse_value(const struct directive *d, const char *value, const char **err)
{
    if (!(d->flags & F_MULTI_ARG)) return parse_args(d, 1, (char **)&value, false, err);
    int argc;
    char **argv = split_spaces(value, &argc);
    int rc = parse_args(d, argc, argv, false, err);
    config_free_args(argv, argc);
    return rc;
}

static str format_number(const struct directive *d, long long v, bool rewrite)
{
    if ((d->flags & F_PERCENT) && v < 0) return str_append_printf(str_empty(8), "%lld%%", -v);
    if (rewrite && (d->flags & F_MEMORY)) return config_append_memory(str_empty(16), v);
    return str_from_int(v);
}

/* Returns the value as CONFIG GET shows it (rewrite false) or as CONFIG
 * REWRITE writes it after the name (rewrite true: units, quotes). */
static str format_value(const struct directive *d, bool rewrite)
{
    switch (d->kind) {
    case KIND_BOOL: return str_from_cstr(*(int *)d->storage ? "yes" : "no");
    case KIND_INT: return format_number(d, *(int *)d->storage, rewrite);
    case KIND_LL: return format_number(d, *(long long *)d->storage, rewrite);
    case KIND_STRING: {
        const char *s = *(char **)d->storage;
        if (!s) s = "";
        return rewrite ? config_append_quoted(str_empty(16), s) : str_from_cstr(s);
    }
    case KIND_ENUM:
        for (int i = 0; d->enums[i].name; i++)
            if (d->enums[i].value == *(int *)d->storage) return str_from_cstr(d->enums[i].name);
        return str_from_cstr("");
    case KIND_SPECIAL: return d->special->format(str_empty(32));
    }
    return str_from_cstr("");
}

/* Returns the lines CONFIG REWRITE writes for d, each ending in '\n'. */
static str rewrite_text(const struct directive *d)
{
    if (d->kind == KIND_SPECIAL) return d->special->rewrite(str_empty(64), d->name);
    str value = format_value(d, true);
    str out = str_append_printf(str_empty(64), "%s %s\n", d->name, value);
    str_free(value);
    return out;
}

static bool directive_at_default(size_t i)
{
    str now = format_value(&directives[i], false);
    bool same = strcmp(now, default_values[i]) == 0;
    str_free(now);
    return same;
}

/* --- Defaults ----------------------------------------------------------- */

static void forget_user_lines(void);

void config_init_defaults(void)
{
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        const char *err = NULL;
        if (parse_value(&directives[i], directives[i].def, &err) != 0) {
            fprintf(stderr, "config: bad default for %s: %s\n", directives[i].name, err);
            abort();
        }
        str_free(default_values[i]);
        default_values[i] = format_value(&directives[i], false);
    }
    mem_free(config_path);
    config_path = NULL;
    forget_user_lines();
}

/* --- Loading: file and command line -------------------------------------- */

/* Appends the byte an escape "\c" inside double quotes stands for. */
static char unescape(char c)
{
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads one double-quoted token starting after the opening quote; returns
 * the position after the closing quote, or NULL if it is unbalanced or not
 * followed by a space or the end. */
static const char *token_double_quoted(const char *p, char *out, size_t *n)
{
    for (;; p++) {
        if (!*p) return NULL;
        if (p[0] == '\\' && p[1] == 'x' && hex_value(p[2]) >= 0 && hex_value(p[3]) >= 0) {
            out[(*n)++] = (char)(hex_value(p[2]) * 16 + hex_value(p[3]));
            p += 3;
        } else if (p[0] == '\\' && p[1]) {
            out[(*n)++] = unescape(*++p);
        } else if (*p == '"') {
            return (p[1] && !isspace((unsigned char)p[1])) ? NULL : p + 1;
        } else {
            out[(*n)++] = *p;
        }
    }
}

/* As token_double_quoted, for '...' where only \' is an escape. */
static const char *token_single_quoted(const char *p, char *out, size_t *n)
{
    for (;; p++) {
        if (!*p) return NULL;
        if (p[0] == '\\' && p[1] == '\'') {
            out[(*n)++] = *++p;
        } else if (*p == '\'') {
            return (p[1] && !isspace((unsigned char)p[1])) ? NULL : p + 1;
        } else {
            out[(*n)++] = *p;
        }
    }
}

/* Splits a config line into arguments as Redis does (sdssplitargs): spaces
 * separate, "..." and '...' quote. Returns NULL on unbalanced quotes.
 * Free with config_free_args. */
static char **split_line(const char *line, int *argc)
{
    size_t cap = strlen(line) + 1;
    char **argv = mem_alloc(sizeof(char *) * cap);
    char *tok = mem_alloc(cap);
    int count = 0;
    const char *p = line;
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        size_t n = 0;
        while (p && *p && !isspace((unsigned char)*p)) {
            if (*p == '"') p = token_double_quoted(p + 1, tok, &n);
            else if (*p == '\'') p = token_single_quoted(p + 1, tok, &n);
            else tok[n++] = *p++;
        }
        if (!p) {
            mem_free(tok);
            config_free_args(argv, count);
            return NULL;
        }
        argv[count] = mem_alloc(n + 1);
        memcpy(argv[count], tok, n);
        argv[count++][n] = '\0';
    }
    mem_free(tok);
    *argc = count;
    return argv;
}

/* `user` lines: kept as read for the ACL, which applies them once every
 * command is known. They are not a directive of the table (CONFIG GET does
 * not show them, as in Redis). */
static struct {
    char **words;
    int count;
} *user_lines;
static int user_lines_count;

static int add_user_line(int argc, char **argv, const char **reason)
{
    if (argc < 1) {
        *reason = "wrong number of arguments";
        return -1;
    }
    user_lines = mem_realloc(user_lines, sizeof(*user_lines) * (size_t)(user_lines_count + 1));
    char **words = mem_alloc(sizeof(char *) * (size_t)argc);
    for (int i = 0; i < argc; i++) words[i] = mem_strdup(argv[i]);
    user_lines[user_lines_count].words = words;
    user_lines[user_lines_count++].count = argc;
    return 0;
}

static void forget_user_lines(void)
{
    for (int i = 0; i < user_lines_count; i++) config_free_args(user_lines[i].words, user_lines[i].count);
    mem_free(user_lines);
    user_lines = NULL;
    user_lines_count = 0;
}

int config_user_lines_count(void)
{
    return user_lines_count;
}

char *const *config_user_line(int i, int *argc)
{
    *argc = user_lines[i].count;
    return user_lines[i].words;
}

/* Applies one directive read at start-up: argv[0] is its name. */
static int apply_loaded(int argc, char **argv, const char **reason)
{
    if (strcasecmp(argv[0], "user") == 0) return add_user_line(argc - 1, argv + 1, reason);
    const struct directive *d = directive_lookup(argv[0]);
    if (!d) {
        *reason = "Bad directive or wrong number of arguments";
        return -1;
    }
    return parse_args(d, argc - 1, argv + 1, true, reason);
}

static int load_path(const char *path, int depth, char **err);

/* `include pattern`: loads every file the pattern names, in order. A
 * pattern with no wildcard must name an existing file. */
static int load_include(const char *pattern, int depth, char **err)
{
    if (!strpbrk(pattern, "*?[")) return load_path(pattern, depth, err);
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) return 0;
    if (rc != 0) {
        *err = errorf("can't expand include pattern '%s'", pattern);
        return -1;
    }
    rc = 0;
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) rc = load_path(g.gl_pathv[i], depth, err);
    globfree(&g);
    return rc;
}

/* Loads one line. Returns 0; -1 with *reason for an error of this line; or
 * -2 with *err already set by an included file. */
static int load_line(const char *line, int depth, const char **reason, char **err)
{
    while (isspace((unsigned char)*line)) line++;
    if (*line == '\0' || *line == '#') return 0;
    int argc;
    char **argv = split_line(line, &argc);
    if (!argv) {
        *reason = "Unbalanced quotes in configuration line";
        return -1;
    }
    int rc = 0;
    if (argc > 0 && strcasecmp(argv[0], "include") == 0) {
        if (argc != 2) {
            *reason = "Bad directive or wrong number of arguments";
            rc = -1;
        } else if (depth >= MAX_INCLUDE_DEPTH) {
            *reason = "include nesting too deep";
            rc = -1;
        } else if (load_include(argv[1], depth + 1, err) != 0) {
            rc = -2;
        }
    } else if (argc > 0) {
        rc = apply_loaded(argc, argv, reason);
    }
    config_free_args(argv, argc);
    return rc;
}

static int load_stream(FILE *f, const char *path, int depth, char **err)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        const char *reason = NULL;
        rc = load_line(line, depth, &reason, err);
        if (rc == -1) *err = errorf("%s:%d: %s", path, lineno, reason);
    }
    free(line); /* getline's buffer comes from libc malloc */
    return rc == 0 ? 0 : -1;
}

static int load_path(const char *path, int depth, char **err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *err = errorf("%s: can't open config file: %s", path, strerror(errno));
        return -1;
    }
    int rc = load_stream(f, path, depth, err);
    fclose(f);
    return rc;
}

int config_load_file(const char *path, char **err)
{
    *err = NULL;
    char *resolved = realpath(path, NULL);
    mem_free(config_path);
    config_path = mem_strdup(resolved ? resolved : path);
    free(resolved); /* realpath's buffer comes from libc malloc */
    return load_path(path, 0, err);
}

static str join_args(int argc, char **argv)
{
    str s = str_empty(64);
    for (int i = 0; i < argc; i++) s = str_append_printf(s, "%s%s", i ? " " : "", argv[i]);
    return s;
}

/* Applies one `--name values...` group; argv[0] is the name without "--". */
static int load_option(int argc, char **argv, char **err)
{
    const char *reason = NULL;
    char *empty = "";
    char *save_empty[] = {argv[0], empty};
    if (argc == 1 && strcasecmp(argv[0], "save") == 0) { /* --save alone: save "" */
        argv = save_empty;
        argc = 2;
    }
    if (argc < 2) reason = "wrong number of arguments";
    else if (apply_loaded(argc, argv, &reason) == 0) return 0;
    str text = join_args(argc, argv);
    *err = errorf("(command line): '%s': %s", text, reason);
    str_free(text);
    return -1;
}

/* Handles one argument that holds a whole option ("--port 6380"). */
static int load_option_string(const char *text, char **err)
{
    int argc;
    char **argv = split_line(text, &argc);
    if (!argv) {
        *err = errorf("(command line): '%s': Unbalanced quotes in configuration line", text);
        return -1;
    }
    int rc = load_option(argc, argv, err);
    config_free_args(argv, argc);
    return rc;
}

static bool is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] == '-';
}

/* Directives whose value is several words. */
static bool takes_several_values(const char *name)
{
    static const char *const names[] = {"save", "client-output-buffer-limit", "bind"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0) return true;
    return false;
}

static int load_joined_option(const char *name, const char *value, char **err)
{
    str line = str_from_cstr(name);
    line = str_append(line, " ", 1);
    line = str_append(line, value, strlen(value));
    int rc = load_option_string(line, err);
    str_free(line);
    return rc;
}

int config_load_args(int argc, char **argv, char **err)
{
    *err = NULL;
    int i = 0;
    while (i < argc) {
        if (!is_option(argv[i])) {
            *err = errorf("(command line): '%s': expected an option starting with --", argv[i]);
            return -1;
        }
        if (strchr(argv[i], ' ')) {
            if (load_option_string(argv[i] + 2, err) != 0) return -1;
            i++;
            continue;
        }
        int end = i + 1;
        while (end < argc && !is_option(argv[end])) end++;
        if (end - i == 2 && takes_several_values(argv[i] + 2) && strchr(argv[i + 1], ' ')) {
            /* --save "900 1 300 10": one shell word holding several values, as redis-server allows */
            if (load_joined_option(argv[i] + 2, argv[i + 1], err) != 0) return -1;
            i = end;
            continue;
        }
        char *name = argv[i];
        argv[i] = name + 2; /* borrowed for the call, restored below */
        int rc = load_option(end - i, argv + i, err);
        argv[i] = name;
        if (rc != 0) return -1;
        i = end;
    }
    return 0;
}

/* --- CONFIG GET --------------------------------------------------------- */

static bool pattern_matches(const char *pattern, const char *name)
{
    return name && glob_match(pattern, strlen(pattern), name, strlen(name), true);
}

static void emit_directive(size_t i, const char *name, void (*emit)(void *, const char *, const char *), void *ctx)
{
    str value = format_value(&directives[i], false);
    emit(ctx, name, value);
    str_free(value);
}

void config_get(const char **patterns, int npatterns, void (*emit)(void *ctx, const char *name, const char *value),
                void *ctx)
{
    bool seen[NDIRECTIVES] = {false};
    for (int p = 0; p < npatterns; p++) {
        const char *pattern = patterns[p];
        if (!strpbrk(pattern, "*?[")) {
            struct directive *d = directive_lookup(pattern);
            size_t i = d ? (size_t)(d - directives) : 0;
            if (d && !seen[i]) emit_directive(i, pattern, emit, ctx);
            if (d) seen[i] = true;
            continue;
        }
        for (size_t i = 0; i < NDIRECTIVES; i++) {
            const char *name = NULL;
            if (pattern_matches(pattern, directives[i].name)) name = directives[i].name;
            else if (pattern_matches(pattern, directives[i].alias)) name = directives[i].alias;
            if (!name || seen[i]) continue;
            seen[i] = true;
            emit_directive(i, name, emit, ctx);
        }
    }
}

/* --- CONFIG SET --------------------------------------------------------- */

static char *set_error(const char *name, const char *reason)
{
    return errorf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, reason);
}

static bool protected_allowed(bool client_is_local)
{
    return cfg.enable_protected_configs == CONFIG_PERMIT_YES ||
           (cfg.enable_protected_configs == CONFIG_PERMIT_LOCAL && client_is_local);
}

/* Resolves every name, refusing unknown, immutable, protected and repeated
 * ones, and while a dataset loads those it must not change under the loader;
 * fills set[]. Redis checks all names before changing anything, and its
 * LOADING refusal takes precedence (clients may retry on it). */
static int set_resolve(const char **names, int npairs, unsigned origin, struct directive **set, char **err)
{
    bool deny_loading = false;
    for (int i = 0; i < npairs; i++) {
        set[i] = directive_lookup(names[i]);
        if (!set[i]) {
            *err = errorf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", names[i]);
            return -1;
        }
        const char *reason = NULL;
        if (set[i]->flags & F_IMMUTABLE) reason = "can't set immutable config";
        else if ((set[i]->flags & F_PROTECTED) && !protected_allowed(origin & CONFIG_SET_LOCAL))
            reason = "can't set protected config";
        for (int j = 0; j < i && !reason; j++)
            if (set[j] == set[i]) reason = "duplicate parameter";
        if (reason && !*err) *err = set_error(names[i], reason);
        if (!reason && (origin & CONFIG_SET_LOADING) && (set[i]->flags & F_DENY_LOADING)) deny_loading = true;
    }
    if (deny_loading) {
        mem_free(*err);
        *err = errorf("%s", ERR_LOADING);
    }
    return *err ? -1 : 0;
}

/* Whether set[i]'s hook already ran for an earlier pair: a module may give
 * several directives one hook, which then runs once per CONFIG SET. */
static bool hook_seen(struct directive **set, int i)
{
    for (int j = 0; j < i; j++)
        if (set[j]->hook == set[i]->hook) return true;
    return false;
}

/* Runs each distinct hook of set[0..n) once; returns the index of the pair
 * whose hook refused (with *reason), or -1. */
static int set_run_hooks(struct directive **set, int n, const char **reason)
{
    for (int i = 0; i < n; i++) {
        if (!set[i]->hook || hook_seen(set, i)) continue;
        *reason = NULL;
        if (set[i]->hook(reason) != 0) return i;
    }
    return -1;
}

/* Puts back the values saved in old[0..n) and re-runs their hooks so that
 * the modules see the restored values. */
static void set_restore(struct directive **set, str *old, int n)
{
    const char *ignored;
    for (int i = 0; i < n; i++) parse_value(set[i], old[i], &ignored);
    set_run_hooks(set, n, &ignored);
}

int config_set_ex(const char **names, const char **values, int npairs, unsigned origin, char **err)
{
    *err = NULL;
    struct directive **set = mem_alloc(sizeof(*set) * (size_t)(npairs + 1));
    str *old = mem_calloc(sizeof(*old) * (size_t)(npairs + 1));
    int rc = set_resolve(names, npairs, origin, set, err);
    int applied = 0;
    for (; rc == 0 && applied < npairs; applied++) {
        const char *reason = NULL;
        old[applied] = format_value(set[applied], false);
        if (parse_value(set[applied], values[applied], &reason) != 0) {
            *err = set_error(names[applied], reason);
            rc = -1;
            break;
        }
    }
    const char *reason = NULL;
    int refused = rc == 0 ? set_run_hooks(set, npairs, &reason) : -1;
    if (refused >= 0) {
        *err = set_error(names[refused], reason ? reason : "rejected by the server");
        rc = -1;
    }
    if (rc != 0) set_restore(set, old, applied);
    for (int i = 0; i < npairs; i++) str_free(old[i]);
    mem_free(old);
    mem_free(set);
    return rc;
}

int config_set(const char **names, const char **values, int npairs, char **err)
{
    return config_set_ex(names, values, npairs, 0, err);
}

void config_set_apply_hook(const char *name, int (*hook)(const char **err))
{
    struct directive *d = directive_lookup(name);
    if (!d) {
        fprintf(stderr, "config_set_apply_hook: unknown directive '%s'\n", name);
        abort();
    }
    d->hook = hook;
}

const char *config_file_path(void)
{
    return config_path;
}

/* --- CONFIG REWRITE ----------------------------------------------------- */

/* The old file's lines and, for each, the directive it sets (an index into
 * directives[]) or -1 for a line kept verbatim (comments, blank lines,
 * include, unknown or already rewritten lines). A NULL line is dropped. */
struct rewrite_state {
    char **lines;
    int *owner;
    int count, cap;
    bool signed_; /* the file already has the REWRITE_SIGNATURE line */
};

static void rewrite_push(struct rewrite_state *st, char *line, int owner)
{
    if (st->count == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->lines = mem_realloc(st->lines, sizeof(char *) * (size_t)st->cap);
        st->owner = mem_realloc(st->owner, sizeof(int) * (size_t)st->cap);
    }
    st->lines[st->count] = line;
    st->owner[st->count++] = owner;
}

static void rewrite_free(struct rewrite_state *st)
{
    for (int i = 0; i < st->count; i++) mem_free(st->lines[i]);
    mem_free(st->lines);
    mem_free(st->owner);
}

/* `user` lines: their own owner index, after the table's. */
#define USER_LINES_OWNER ((int)NDIRECTIVES)

/* Which directive a line of the old file sets (USER_LINES_OWNER for a
 * `user` line), or -1. */
static int line_owner(const char *line)
{
    while (isspace((unsigned char)*line)) line++;
    if (*line == '\0' || *line == '#') return -1;
    int argc, owner = -1;
    char **argv = split_line(line, &argc);
    if (!argv) return -1;
    const struct directive *d = argc > 0 ? directive_lookup(argv[0]) : NULL;
    if (d) owner = (int)(d - directives);
    else if (argc > 0 && strcasecmp(argv[0], "user") == 0) owner = USER_LINES_OWNER;
    config_free_args(argv, argc);
    return owner;
}

str (*config_rewrite_users)(str out, bool had_lines);

/* The users' lines, in place of the old ones (see config_rewrite_users). */
static void rewrite_lines(struct rewrite_state *st, int owner, str text);

static void rewrite_users(struct rewrite_state *st)
{
    bool in_file = false;
    for (int k = 0; k < st->count && !in_file; k++) in_file = st->owner[k] == USER_LINES_OWNER;
    rewrite_lines(st, USER_LINES_OWNER, config_rewrite_users ? config_rewrite_users(str_empty(256), in_file) : NULL);
}

/* Reads the old file; a file that no longer exists reads as empty. */
static int rewrite_read(struct rewrite_state *st, const char *path, char **err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        *err = errorf("ERR Rewriting config file: %s", strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, REWRITE_SIGNATURE) == 0) st->signed_ = true;
        rewrite_push(st, mem_strdup(line), line_owner(line));
    }
    free(line); /* getline's buffer comes from libc malloc */
    fclose(f);
    return 0;
}

/* Puts one new line of directive i in place of its next old line, or
 * appends it below the signature. *pos is where the search resumes. */
static void rewrite_place(struct rewrite_state *st, int i, const char *line, size_t len, int *pos)
{
    char *copy = mem_alloc(len + 1);
    memcpy(copy, line, len);
    copy[len] = '\0';
    while (*pos < st->count && st->owner[*pos] != i) (*pos)++;
    if (*pos < st->count) {
        mem_free(st->lines[*pos]);
        st->lines[*pos] = copy;
        st->owner[*pos] = -1;
        return;
    }
    if (!st->signed_) {
        rewrite_push(st, mem_strdup(REWRITE_SIGNATURE), -1);
        st->signed_ = true;
    }
    rewrite_push(st, copy, -1);
    *pos = st->count;
}

/* Updates directive i's lines: rewritten in place where it had lines (even
 * at its default, as Redis does), appended if it differs from its default,
 * surplus old lines dropped. */
static void rewrite_directive(struct rewrite_state *st, int i)
{
    bool in_file = false;
    for (int k = 0; k < st->count && !in_file; k++) in_file = st->owner[k] == i;
    if (!in_file && !(directives[i].flags & F_ALWAYS_REWRITE) && directive_at_default((size_t)i)) return;
    rewrite_lines(st, i, rewrite_text(&directives[i]));
}

/* Puts text's lines (freed here; NULL: none) in place of owner's old lines,
 * dropping the old lines left over. */
static void rewrite_lines(struct rewrite_state *st, int owner, str text)
{
    int pos = 0;
    for (const char *p = text ? text : ""; *p;) {
        size_t len = strcspn(p, "\n");
        rewrite_place(st, owner, p, len, &pos);
        p += len + (p[len] == '\n');
    }
    str_free(text);
    for (int k = 0; k < st->count; k++) {
        if (st->owner[k] != owner) continue;
        mem_free(st->lines[k]);
        st->lines[k] = NULL;
        st->owner[k] = -1;
    }
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes a rename inside dir durable. */
static void fsync_parent_dir(const char *path)
{
    char *copy = mem_strdup(path);
    char *slash = strrchr(copy, '/');
    if (slash == copy) slash[1] = '\0';
    else if (slash) *slash = '\0';
    int fd = open(slash ? copy : ".", O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    mem_free(copy);
}

/* Writes text to path atomically: a temporary file beside it, fsync,
 * rename. Keeps the old file's permissions. */
static int write_atomically(const char *path, const char *text, char **err)
{
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    char *tmp = errorf("%s.rewrite-XXXXXX", path);
    int fd = mkstemp(tmp);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0 && (fchmod(fd, mode) != 0 || write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0)) rc = -1;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0) rc = -1, saved = errno;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1, saved = errno;
    if (rc != 0) {
        if (fd >= 0) unlink(tmp);
        *err = errorf("ERR Rewriting config file: %s", strerror(saved));
    } else {
        fsync_parent_dir(path);
    }
    mem_free(tmp);
    return rc;
}

int config_rewrite(char **err)
{
    *err = NULL;
    if (!config_path) {
        *err = mem_strdup("ERR The server is running without a config file");
        return -1;
    }
    struct rewrite_state st = {0};
    if (rewrite_read(&st, config_path, err) != 0) return -1;
    for (size_t i = 0; i < NDIRECTIVES; i++) rewrite_directive(&st, (int)i);
    rewrite_users(&st);
    str text = str_empty(4096);
    for (int k = 0; k < st.count; k++)
        if (st.lines[k]) text = str_append_printf(text, "%s\n", st.lines[k]);
    int rc = write_atomically(config_path, text, err);
    str_free(text);
    rewrite_free(&st);
    return rc;
}
