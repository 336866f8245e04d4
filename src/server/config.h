/* config: the server's directives, one table of them, and the four ways they
 * are read and written: the config file, the command line, CONFIG GET/SET and
 * CONFIG REWRITE. Every directive lives in the global `cfg` (or, for
 * notify-keyspace-events, in `notify_flags` of messaging/notify.h); modules
 * read those fields directly and register an apply hook to be told when
 * CONFIG SET changes one. Names, value syntax, CONFIG GET formats and error
 * texts are those of Redis 7. docs/configuration.md lists the directives. */
#ifndef RUNNEL_SERVER_CONFIG_H
#define RUNNEL_SERVER_CONFIG_H

#include <stdbool.h>

#include "util/str.h"

enum log_level { LOG_DEBUG, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

enum maxmemory_policy {
    MAXMEMORY_NOEVICTION,
    MAXMEMORY_ALLKEYS_LRU,
    MAXMEMORY_VOLATILE_LRU,
    MAXMEMORY_ALLKEYS_LFU,
    MAXMEMORY_VOLATILE_LFU,
    MAXMEMORY_ALLKEYS_RANDOM,
    MAXMEMORY_VOLATILE_RANDOM,
    MAXMEMORY_VOLATILE_TTL,
};

/* The values match net/event_loop.h's enum event_engine. */
enum io_engine_mode { IO_ENGINE_AUTO, IO_ENGINE_URING, IO_ENGINE_EPOLL };
enum appendfsync_mode { APPENDFSYNC_ALWAYS, APPENDFSYNC_EVERYSEC, APPENDFSYNC_NO };

/* enable-debug-command and enable-protected-configs. */
enum config_permission { CONFIG_PERMIT_NO, CONFIG_PERMIT_YES, CONFIG_PERMIT_LOCAL };

/* Index into cfg.output_limit. */
enum output_class { OUTPUT_CLASS_NORMAL, OUTPUT_CLASS_REPLICA, OUTPUT_CLASS_PUBSUB, OUTPUT_CLASS_COUNT };

#define CONFIG_MAX_SAVE_RULES 16
#define CONFIG_MAX_BIND_ADDRS 16

/* Booleans are 0/1; memory values are bytes. A char * field is never NULL
 * unless its comment says so. */
struct server_config {
    int port;
    int io_engine; /* enum io_engine_mode */
    char **bind; /* addresses; a leading '-' marks one that may fail to bind */
    int bind_count;
    int protected_mode;
    char *requirepass; /* NULL: no password */
    char *aclfile;     /* "": users come from `user` lines, or are the default user alone */
    int acl_pubsub_default; /* 0 (resetchannels) or ACL_SEL_ALLCHANNELS: new users' channels */
    int acllog_max_len;
    int databases;
    int maxclients;
    int timeout;
    int tcp_keepalive;
    int tcp_backlog;
    char *dir; /* absolute; the server chdir()s into it */
    char *logfile; /* "": standard output */
    int loglevel;  /* enum log_level */
    char *pidfile; /* NULL: none */
    int daemonize; /* always 0: Runnel runs under a service manager */
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    long long maxmemory;
    int maxmemory_policy; /* enum maxmemory_policy */
    int hz;               /* always within 1..500 */
    int enable_debug_command;     /* enum config_permission */
    int enable_protected_configs; /* enum config_permission */
    long long slowlog_log_slower_than;
    int slowlog_max_len;
    long long latency_monitor_threshold;
    int latency_tracking; /* per-command histograms (LATENCY HISTOGRAM) */
    char *latency_tracking_info_percentiles; /* "50 99 99.9": INFO latencystats */
    /* the HTTP endpoint (http/) */
    int http_port;  /* 0: off */
    char *http_bind;
    int http_timeout;             /* seconds a connection may sit on an unfinished request or idle */
    int http_tls;                 /* the endpoint speaks TLS (the tls-* certificates) */
    int http_session_timeout;     /* seconds a console login lasts unused */
    int http_session_max;         /* console logins kept at once */
    char *metrics_list_patterns;  /* space-separated globs; "": no list metrics */
    int metrics_max_series;       /* per-key series /metrics reports at most */
    struct {
        long long hard, soft;
        int soft_seconds;
    } output_limit[OUTPUT_CLASS_COUNT];
    int appendonly;
    char *appendfilename;
    char *appenddirname;
    int appendfsync; /* enum appendfsync_mode */
    int auto_aof_rewrite_percentage;
    long long auto_aof_rewrite_min_size;
    int aof_load_truncated;
    int aof_use_rdb_preamble;
    int aof_timestamp_enabled;
    struct {
        int seconds;
        int changes;
    } save_rules[CONFIG_MAX_SAVE_RULES];
    int save_rule_count;
    char *dbfilename;
    int rdbcompression;
    int fork_child_nice; /* added to the niceness of snapshot, rewrite and sync children */
    int rdbchecksum;
    int stop_writes_on_bgsave_error;
    int list_max_listpack_size;
    int list_compress_depth;
    long long stream_node_max_bytes;
    int stream_node_max_entries;
    int stream_compress_depth;
    int stream_idmp_duration;
    int stream_idmp_maxsize;
    char *notify_keyspace_events_stream; /* NULL: keyspace events go to no stream */
    long long notify_keyspace_events_stream_maxlen; /* 0: no trimming */
    int hash_max_listpack_entries;
    int hash_max_listpack_value;
    int set_max_intset_entries;
    int set_max_listpack_entries;
    int set_max_listpack_value;
    int zset_max_listpack_entries;
    int zset_max_listpack_value;
    long long hll_sparse_max_bytes;
    int lazyfree_lazy_user_del;
    int lazyfree_lazy_user_flush;
    int lazyfree_lazy_expire;
    int lazyfree_lazy_eviction;
    int lazyfree_lazy_server_del;
    int active_expire_effort;
    int activerehashing;
    int busy_reply_threshold;
    char *unixsocket; /* NULL: none */
    int io_threads;
    long long maxmemory_clients; /* bytes, or -N for N% of maxmemory */
    int lfu_log_factor;
    int lfu_decay_time;
    int maxmemory_samples;
    /* replication */
    char *replicaof_host; /* NULL: a primary */
    int replicaof_port;
    char *masterauth;     /* NULL: none */
    char *masteruser;     /* NULL: none */
    int replica_read_only;
    int replica_serve_stale_data;
    int replica_priority;
    char *replica_announce_ip; /* NULL: none */
    int replica_announce_port;
    int replica_announced;
    int replica_lazy_flush;
    int replica_ignore_maxmemory;
    long long repl_backlog_size;
    int repl_backlog_ttl;
    int repl_timeout;
    int repl_ping_replica_period;
    int repl_diskless_sync;
    int repl_diskless_sync_delay;
    int repl_diskless_sync_max_replicas;
    int repl_diskless_load; /* enum repl_diskless_load */
    int dump_payload_format; /* enum dump_payload_format */
    int repl_disable_tcp_nodelay;
    int min_replicas_to_write;
    int min_replicas_max_lag;
    /* cluster */
    int cluster_enabled;
    char *cluster_etcd_endpoints;
    char *cluster_name;
    char *cluster_config_file;
    long long cluster_node_timeout; /* ms: the etcd lease's TTL */
    char *cluster_announce_ip;      /* NULL: the first IPv4 bind address, else 127.0.0.1 */
    int cluster_announce_port;      /* 0: port */
    int cluster_announce_tls_port;  /* 0: tls-port */
    int cluster_require_full_coverage;
    int cluster_allow_reads_when_down;
    int cluster_replica_no_failover;
    /* TLS (server/tls.c hands them to net/tls.c); strings "" when unset */
    int tls_port; /* 0: none */
    char *tls_cert_file, *tls_key_file, *tls_key_file_pass;
    char *tls_client_cert_file, *tls_client_key_file, *tls_client_key_file_pass;
    char *tls_ca_cert_file, *tls_ca_cert_dir;
    char *tls_dh_params_file;
    char *tls_protocols, *tls_ciphers, *tls_ciphersuites;
    int tls_auth_clients; /* enum net_tls_auth: 0 no, 1 yes, 2 optional */
    int tls_prefer_server_ciphers;
    int tls_session_caching;
    int tls_session_cache_size;
    int tls_session_cache_timeout;
    int tls_replication;
    int tls_cluster;
    int tls_handshake_timeout; /* ms */
};

enum repl_diskless_load { DISKLESS_LOAD_DISABLED, DISKLESS_LOAD_ON_EMPTY_DB, DISKLESS_LOAD_SWAPDB };
/* What DUMP writes: Runnel's payloads, or Redis's RDB value encoding. */
enum dump_payload_format { DUMP_FORMAT_RUNNEL, DUMP_FORMAT_REDIS };

extern struct server_config cfg;

/* Sets every directive to its default and forgets the config file. Frees
 * what earlier values held, so it may be called again (tests do). */
void config_init_defaults(void);

/* Reads directives from a config file into cfg (over what is there). On
 * error returns -1 and sets *err to a malloc'd (mem_alloc) "file:line:
 * reason"; the caller prints it under "*** FATAL CONFIG FILE ERROR ***" and
 * exits. Reasons are Redis 7's: "Bad directive or wrong number of
 * arguments", "wrong number of arguments", "argument must be 'yes' or 'no'",
 * "argument must be a memory value", "argument couldn't be parsed into an
 * integer", "argument must be between X and Y inclusive", "argument(s) must
 * be one of the following: ...", "Unbalanced quotes in configuration line".
 * Understands "..." (with \n \t \xHH escapes) and '...' quoting, lines
 * starting with '#', and `include path` (a glob may name several files).
 * Remembers `path` as the file CONFIG REWRITE writes. */
int config_load_file(const char *path, char **err);

/* Applies the command-line options that follow the optional config-file
 * path: `--port 7000 --bind 127.0.0.1 ::1 --save ""`. Each `--name` starts a
 * directive whose values run until the next argument starting with `--`;
 * a lone `--save` means `save ""`. Errors as config_load_file, with
 * "(command line): 'name args': reason". */
int config_load_args(int argc, char **argv, char **err);

/* The `user` lines read from the file or command line, in order: each
 * its words after "user" (the name first). */
int config_user_lines_count(void);
char *const *config_user_line(int i, int *argc);

/* Set by the ACL: appends the `user` lines CONFIG REWRITE writes ("user
 * <name> <rules>\n" each; none when users live in an aclfile, or when
 * there is only an unchanged default user and the file had no user lines). */
extern str (*config_rewrite_users)(str out, bool had_lines);

/* CONFIG GET: calls emit(ctx, name, value) once for every directive that any
 * of the patterns matches (case-insensitive glob, aliases included). A
 * directive matched by an exact name is reported under that name as typed,
 * as Redis does; one matched by a glob under its canonical name (or the
 * alias the glob matched if only that matched). Table order; each once. */
void config_get(const char **patterns, int npatterns, void (*emit)(void *ctx, const char *name, const char *value),
                void *ctx);

/* CONFIG SET with name/value pairs, from a client that is not local (see
 * config_set_ex). Either every pair takes effect and every affected apply
 * hook has agreed, or nothing changes: on error it restores every previous
 * value, re-runs the hooks, and returns -1 with *err malloc'd in Redis's
 * words (the reply's whole error line, starting "ERR "). */
int config_set(const char **names, const char **values, int npairs, char **err);

enum config_set_origin {
    /* the client connected over loopback or the unix socket, which
     * enable-protected-configs local admits to the protected directives
     * (dir, dbfilename) */
    CONFIG_SET_LOCAL = 1 << 0,
    /* a dataset is loading: appendonly and dir are refused with LOADING */
    CONFIG_SET_LOADING = 1 << 1,
};

/* As config_set, for a client described by `origin` (enum config_set_origin). */
int config_set_ex(const char **names, const char **values, int npairs, unsigned origin, char **err);

/* CONFIG REWRITE: rewrites the file the server was started with, as Redis
 * does: comments, unknown lines and includes stay, each directive's line is
 * updated in place (surplus old lines of it are dropped), directives that
 * differ from their default and had no line are appended after a
 * "# Generated by CONFIG REWRITE" line. Writes a temporary file, fsyncs it,
 * renames it over the old one. Returns -1 with *err malloc'd ("ERR ...") if
 * there is no config file or the write fails. */
int config_rewrite(char **err);

/* The config file given at start-up (absolute), or NULL. */
const char *config_file_path(void);

/* Registers a hook run after CONFIG SET changes directive `name` (canonical
 * or alias; one hook per directive, a later call replaces it). The hook
 * reads the new value from cfg; returning -1 with *err (a static string)
 * refuses it, and the whole CONFIG SET is rolled back. Aborts if the name is
 * unknown, which is a programming error. Hooks are not run at start-up. */
void config_set_apply_hook(const char *name, int (*hook)(const char **err));

/* Parses a memory value as Redis does: digits and an optional unit, k=1000
 * kb=1024 m mb g gb (case-insensitive). Sets *ok to 1 and returns the bytes,
 * or sets *ok to 0 and returns -1 if malformed or out of range. ok may be
 * NULL. */
long long config_parse_memory(const char *s, int *ok);

/* --- Shared by config.c and config_special.c only ------------------------ */

/* A directive whose value needs its own syntax (bind, save, ...). */
struct config_special {
    /* Parses argv (argc >= 0) into cfg. loading: read from the file or
     * command line, where repeated `save` lines add up. Validates every
     * argument before changing anything. 0, or -1 with *err static. */
    int (*parse)(int argc, char **argv, bool loading, const char **err);
    /* Appends the value as CONFIG GET shows it. */
    str (*format)(str out);
    /* Appends the config-file lines for the value, each "name args\n". */
    str (*rewrite)(str out, const char *name);
};

extern const struct config_special config_special_bind, config_special_save, config_special_output_limit,
    config_special_notify, config_special_dir, config_special_hz, config_special_replicaof;

/* Parses an integer argument within [min, max]; memory: units allowed.
 * On error *err is Redis's text (a static buffer for the bounds one). */
int config_parse_number(const char *s, bool memory, long long min, long long max, long long *out, const char **err);
/* Appends a memory value the way CONFIG REWRITE writes it ("64mb"). */
str config_append_memory(str out, long long bytes);
/* Appends s double-quoted with C escapes, so that the file parser reads it
 * back unchanged. */
str config_append_quoted(str out, const char *s);
/* Frees a str array from the file's tokenizer. */
void config_free_args(char **argv, int argc);

#endif
