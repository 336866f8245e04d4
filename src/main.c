/* runnel-server: start-up, signals and shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/dict.h"
#include "cluster/cluster.h"
#include "http/http_server.h"
#include "persistence/aof.h"
#include "persistence/info.h"
#include "persistence/loading.h"
#include "persistence/rdb_dump.h"
#include "persistence/snapshot.h"
#include "replication/replication.h"
#include "scripting/functions.h"
#include "scripting/script_timeout.h"
#include "scripting/scripting.h"
#include "server/acl.h"
#include "server/blocked.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/cron.h"
#include "server/dispatch.h"
#include "server/info.h"
#include "server/keyspace_stream.h"
#include "server/server.h"
#include "server/subscriptions.h"
#include "server/tls_config.h"
#include "server/tracking.h"
#include "types/hash.h"
#include "types/hll.h"
#include "types/list.h"
#include "types/set.h"
#include "types/stream.h"
#include "types/stream_delay.h"
#include "types/stream_freeze.h"
#include "types/stream_idmp.h"
#include "types/string.h"
#include "types/types.h"
#include "types/zset.h"
#include "util/log.h"
#include "util/mem.h"

struct server server;
bool (*server_debug_extension)(struct request *req);

static void print_usage(void)
{
    fprintf(stderr,
            "Usage: ./runnel-server [/path/to/runnel.conf] [options] [-]\n"
            "       ./runnel-server - (read config from stdin)\n"
            "       ./runnel-server -v or --version\n"
            "       ./runnel-server -h or --help\n\n"
            "Examples:\n"
            "       ./runnel-server (run the server with default conf)\n"
            "       ./runnel-server /etc/runnel/6379.conf\n"
            "       ./runnel-server --port 7777\n"
            "       ./runnel-server /etc/myrunnel.conf --loglevel verbose\n");
}

static void on_shutdown_signal(int sig)
{
    (void)sig;
    server.shutdown_asap = true;
    event_loop_stop(server.loop);
}

static void setup_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_shutdown_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Seeds the hash function and the run id from /dev/urandom. */
static void seed_randomness(void)
{
    uint8_t seed[36] = {0};
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ssize_t got = read(fd, seed, sizeof(seed));
        (void)got;
        close(fd);
    }
    uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < 8; i++) seed[i] ^= (uint8_t)(t >> (8 * i));
    dict_set_hash_seed(seed);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        server.run_id[2 * i] = hex[seed[16 + i % 20] >> 4];
        server.run_id[2 * i + 1] = hex[seed[16 + i % 20] & 15];
    }
    server.run_id[40] = '\0';
}

/* Parses the command line as redis-server does: an optional config file
 * first, then --directive value... pairs. Exits on error. */
static void load_configuration(int argc, char **argv)
{
    config_init_defaults();
    int first_option = 1;
    char *err = NULL;
    if (argc >= 2 && argv[1][0] != '-') {
        first_option = 2;
        if (config_load_file(argv[1], &err) != 0) {
            fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Runnel %s) ***\n%s\n", RUNNEL_VERSION, err);
            exit(1);
        }
    }
    if (argc > first_option && config_load_args(argc - first_option, argv + first_option, &err) != 0) {
        fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Runnel %s) ***\n%s\n", RUNNEL_VERSION, err);
        exit(1);
    }
}

static void apply_logging(void)
{
    log_min_level = cfg.loglevel;
    log_set_file(cfg.logfile);
}

static int apply_logging_hook(const char **err)
{
    (void)err;
    apply_logging();
    return 0;
}

static int apply_string_limit_hook(const char **err)
{
    (void)err;
    string_max_len = cfg.proto_max_bulk_len;
    for (struct client *c = server.clients; c; c = c->next) c->parser.max_bulk_len = cfg.proto_max_bulk_len;
    return 0;
}

/* Copies the data types' tunables from the configuration; types keep their
 * own variables because they sit below the server layer. */
static int apply_type_tunables(const char **err)
{
    (void)err;
    list_max_listpack_size = cfg.list_max_listpack_size;
    list_compress_depth = cfg.list_compress_depth;
    stream_node_max_bytes = cfg.stream_node_max_bytes;
    stream_node_max_entries = cfg.stream_node_max_entries;
    stream_compress_depth = cfg.stream_compress_depth;
    stream_idmp_default_duration = cfg.stream_idmp_duration;
    stream_idmp_default_maxsize = cfg.stream_idmp_maxsize;
    hash_max_listpack_entries = cfg.hash_max_listpack_entries;
    hash_max_listpack_value = cfg.hash_max_listpack_value;
    set_max_intset_entries = cfg.set_max_intset_entries;
    set_max_listpack_entries = cfg.set_max_listpack_entries;
    set_max_listpack_value = cfg.set_max_listpack_value;
    zset_max_listpack_entries = cfg.zset_max_listpack_entries;
    zset_max_listpack_value = cfg.zset_max_listpack_value;
    hll_sparse_max_bytes = cfg.hll_sparse_max_bytes;
    object_lfu_policy = cfg.maxmemory_policy == MAXMEMORY_ALLKEYS_LFU || cfg.maxmemory_policy == MAXMEMORY_VOLATILE_LFU;
    object_lfu_log_factor = cfg.lfu_log_factor;
    object_lfu_decay_time = cfg.lfu_decay_time;
    return 0;
}

static int apply_appendonly_hook(const char **err)
{
    return aof_set_enabled(cfg.appendonly != 0, err);
}

static void persistence_before_flush(void)
{
    aof_before_sleep();
    snapshot_before_sleep();
}

static void persistence_cron(void)
{
    aof_cron();
    snapshot_cron();
}

/* Persistence sits above the server: it plugs its work into the loop, the
 * cron, INFO, DEBUG and the command table here. */
static bool dump_redis_format(void)
{
    return cfg.dump_payload_format == DUMP_FORMAT_REDIS;
}

static void persistence_init(void)
{
    rdb_dump_install(dump_redis_format);
    server_persistence_hooks.before_flush = persistence_before_flush;
    server_persistence_hooks.cron = persistence_cron;
    info_persistence_extension = persistence_info;
    info_memory_extension = scripting_info_memory;
    server_debug_extension = snapshot_debug;
    command_table_add(aof_commands);
    command_table_add(snapshot_commands);
    config_set_apply_hook("appendonly", apply_appendonly_hook);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)cfg.maxclients + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void server_init(void)
{
    server.pid = getpid();
    server.start_time_ms = db_wall_ms();
    server.start_monotonic_ms = event_now_ms();
    server.last_save = (long long)time(NULL);
    raise_fd_limit();
    const char *why = NULL;
    server.loop = event_loop_create_engine(cfg.maxclients + 1024, cfg.io_engine, &why);
    if (!server.loop) {
        log_warning("io-engine uring: io_uring can't be used here: %s", why ? why : "the event loop failed");
        exit(1);
    }
    if (why) log_notice("io-engine auto: using epoll, since %s", why);
    else log_notice("I/O engine: %s", event_loop_engine_name(server.loop));
    server.db_count = cfg.databases;
    server.dbs = mem_calloc(sizeof(struct db) * (size_t)cfg.databases);
    for (int i = 0; i < cfg.databases; i++) db_init(&server.dbs[i], i);
    db_all = server.dbs;
    db_count = server.db_count;
    types_init();
    stream_delay_set_loop(server.loop);
    blocked_init();
    subscriptions_init();
    keyspace_stream_init();
    tracking_init();
    command_table_init();
    string_max_len = cfg.proto_max_bulk_len;
    config_set_apply_hook("loglevel", apply_logging_hook);
    config_set_apply_hook("proto-max-bulk-len", apply_string_limit_hook);
    config_set_apply_hook("list-max-listpack-size", apply_type_tunables);
    config_set_apply_hook("list-compress-depth", apply_type_tunables);
    config_set_apply_hook("maxmemory-policy", apply_type_tunables);
    config_set_apply_hook("stream-node-max-bytes", apply_type_tunables);
    config_set_apply_hook("stream-node-max-entries", apply_type_tunables);
    config_set_apply_hook("stream-compress-depth", apply_type_tunables);
    config_set_apply_hook("stream-idmp-duration", apply_type_tunables);
    config_set_apply_hook("stream-idmp-maxsize", apply_type_tunables);
    config_set_apply_hook("zset-max-listpack-entries", apply_type_tunables);
    config_set_apply_hook("zset-max-listpack-value", apply_type_tunables);
    config_set_apply_hook("lfu-log-factor", apply_type_tunables);
    config_set_apply_hook("lfu-decay-time", apply_type_tunables);
    config_set_apply_hook("hash-max-listpack-entries", apply_type_tunables);
    config_set_apply_hook("hash-max-listpack-value", apply_type_tunables);
    config_set_apply_hook("set-max-intset-entries", apply_type_tunables);
    config_set_apply_hook("set-max-listpack-entries", apply_type_tunables);
    config_set_apply_hook("set-max-listpack-value", apply_type_tunables);
    config_set_apply_hook("hll-sparse-max-bytes", apply_type_tunables);
    apply_type_tunables(NULL);
    event_loop_set_before_sleep(server.loop, server_before_sleep);
}

static void remove_pidfile(void)
{
    if (cfg.pidfile && cfg.pidfile[0]) unlink(cfg.pidfile);
}

static void server_shutdown(void)
{
    log_warning("User requested shutdown...");
    listeners_close();
    http_server_stop();
    replication_shutdown();
    aof_shutdown();
    connections_flush_pending();
    remove_pidfile();
    log_warning("Runnel is now ready to exit, bye bye...");
}

static void write_pidfile(void)
{
    if (!cfg.pidfile || !cfg.pidfile[0]) return;
    FILE *f = fopen(cfg.pidfile, "w");
    if (!f) return;
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
}

/* SHUTDOWN or SIGTERM while the dataset loads, or while a script is busy:
 * exit at once without saving, as Redis does. A save would overwrite the
 * file being loaded with part of it, or hold half a script's work (the AOF
 * gets the script's writes without their EXEC, which a load drops). */
static void exit_without_saving(void)
{
    log_warning("Shutdown requested while %s: exiting without saving",
                server.loading ? "loading the dataset" : "a script is busy");
    server_shutdown();
    exit(0);
}

/* The AOF is the more complete record: the snapshot only loads without it.
 * Clients are served meanwhile (commands without CMD_LOADING get LOADING). */
static int load_dataset(void)
{
    loading_serve_clients(exit_without_saving);
    int rc = aof_startup() != 0 || (!cfg.appendonly && snapshot_startup() != 0) ? -1 : 0;
    loading_serve_clients(NULL);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("Runnel server v=%s (Redis %s compatible)\n", RUNNEL_VERSION, REDIS_COMPAT_VERSION);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        print_usage();
        return 0;
    }
    server_executable_path = argv[0];
    seed_randomness();
    load_configuration(argc, argv);
    apply_logging();
    if (cfg.dir && cfg.dir[0] && chdir(cfg.dir) != 0) {
        log_warning("Can't chdir to '%s': %s", cfg.dir, strerror(errno));
        return 1;
    }
    setup_signals();
    server_init();
    dispatch_refresh_clock();
    persistence_init();
    scripting_init(); /* before loading: an AOF written by Redis 6 may hold EVAL */
    command_table_add(scripting_commands);
    command_table_add(function_commands);
    snapshot_function_hooks = (struct snapshot_function_hooks){
        .each = functions_each_code,
        .load_begin = functions_load_begin,
        .load = functions_load_code,
        .load_end = functions_load_end,
    };
    replication_init();
    replication_debug_install();
    command_table_add(replication_commands);
    if (cluster_init() != 0) return 1;
    command_table_add(cluster_enabled() ? cluster_commands : cluster_disabled_commands);
    char *acl_err = NULL;
    if (acl_init(&acl_err) != 0) {
        log_warning("Aborting Runnel startup because of ACL errors: %s", acl_err);
        mem_free(acl_err);
        return 1;
    }
    script_timeout_on_shutdown(exit_without_saving);
    if (tls_config_init() != 0) return 1;
    if (listeners_open() != 0) {
        log_warning("No listening socket: aborting.");
        return 1;
    }
    config_set_apply_hook("port", listeners_port_hook);
    config_set_apply_hook("bind", listeners_bind_hook);
    if (http_server_start(server.loop) != 0) return 1;
    write_pidfile();
    log_notice("Runnel %s started, pid=%ld, port=%d", RUNNEL_VERSION, (long)getpid(), cfg.port);
    if (load_dataset() != 0) {
        remove_pidfile();
        return 1;
    }
    log_notice("Ready to accept connections tcp");
    replication_start();
    cron_start();
    if (!server.shutdown_asap) event_loop_run(server.loop); /* a SIGTERM may have come at the end of loading */
    while (snapshot_shutdown(server.shutdown_flags) != 0) { /* the final save failed: keep serving */
        server.shutdown_asap = false;
        server.shutdown_flags = 0;
        event_loop_run(server.loop);
    }
    server_shutdown();
    return 0;
}
