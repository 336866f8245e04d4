/* Unit tests for server/config (directives, file, command line, CONFIG
 * GET/SET/REWRITE) and util/glob. Criterion runs each test in its own
 * process, so the global cfg starts fresh every time. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messaging/notify.h"
#include "server/config.h"
#include "util/glob.h"
#include "util/mem.h"

/* --- Helpers ------------------------------------------------------------- */

static char tmpdir[64];

static void setup(void)
{
    config_init_defaults();
    strcpy(tmpdir, "/tmp/runnel-config-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", tmpdir);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Writes a file under tmpdir and returns its path (static buffer per call
 * site is not needed: callers copy when they keep two). */
static const char *write_file(const char *name, const char *text)
{
    static char path[2][256];
    static int which;
    char *p = path[which++ % 2];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

struct capture {
    int count;
    char names[256][64];
    char values[256][256];
};

static void capture_emit(void *ctx, const char *name, const char *value)
{
    struct capture *c = ctx;
    cr_assert_lt(c->count, 256);
    snprintf(c->names[c->count], 64, "%s", name);
    snprintf(c->values[c->count], 256, "%s", value);
    c->count++;
}

/* CONFIG GET of one exact name; returns its value or NULL. */
static const char *get(const char *name)
{
    static struct capture c;
    c.count = 0;
    config_get(&name, 1, capture_emit, &c);
    return c.count ? c.values[0] : NULL;
}

/* Loads a config file from text; returns config_load_file's result. */
static int load_text(const char *text, char **err)
{
    return config_load_file(write_file("runnel.conf", text), err);
}

static void load_ok(const char *text)
{
    char *err = NULL;
    int rc = load_text(text, &err);
    cr_assert_eq(rc, 0, "load failed: %s", err ? err : "(no error)");
}

/* Loads text and expects an error whose text ends with `suffix`. */
static void load_fails(const char *text, const char *suffix)
{
    char *err = NULL;
    cr_assert_eq(load_text(text, &err), -1, "expected failure for: %s", text);
    cr_assert_not_null(err);
    size_t n = strlen(err), m = strlen(suffix);
    cr_assert(n >= m && strcmp(err + n - m, suffix) == 0, "error '%s' does not end with '%s'", err, suffix);
    mem_free(err);
}

static int set1(const char *name, const char *value, char **err)
{
    return config_set(&name, &value, 1, err);
}

static void set_ok(const char *name, const char *value)
{
    char *err = NULL;
    int rc = set1(name, value, &err);
    cr_assert_eq(rc, 0, "CONFIG SET %s %s failed: %s", name, value, err ? err : "");
}

static void set_fails(const char *name, const char *value, const char *expected)
{
    char *err = NULL;
    cr_assert_eq(set1(name, value, &err), -1, "CONFIG SET %s %s should fail", name, value);
    cr_assert_str_eq(err, expected);
    mem_free(err);
}

static int load_argv(int argc, const char **argv, char **err)
{
    return config_load_args(argc, (char **)argv, err);
}

/* --- Defaults ------------------------------------------------------------ */

Test(config, defaults_in_cfg)
{
    cr_assert_eq(cfg.port, 6379);
    cr_assert_eq(cfg.bind_count, 2);
    cr_assert_str_eq(cfg.bind[0], "127.0.0.1");
    cr_assert_str_eq(cfg.bind[1], "-::1");
    cr_assert_eq(cfg.protected_mode, 1);
    cr_assert_null(cfg.requirepass);
    cr_assert_eq(cfg.databases, 16);
    cr_assert_eq(cfg.maxclients, 10000);
    cr_assert_eq(cfg.tcp_keepalive, 300);
    cr_assert_eq(cfg.tcp_backlog, 511);
    cr_assert_str_eq(cfg.logfile, "");
    cr_assert_null(cfg.pidfile);
    cr_assert_null(cfg.unixsocket);
    cr_assert_eq(cfg.loglevel, LOG_NOTICE);
    cr_assert_eq(cfg.daemonize, 0);
    cr_assert_eq(cfg.proto_max_bulk_len, 512LL * 1024 * 1024);
    cr_assert_eq(cfg.client_query_buffer_limit, 1024LL * 1024 * 1024);
    cr_assert_eq(cfg.maxmemory, 0);
    cr_assert_eq(cfg.maxmemory_policy, MAXMEMORY_NOEVICTION);
    cr_assert_eq(cfg.hz, 10);
    cr_assert_eq(cfg.enable_debug_command, CONFIG_PERMIT_LOCAL);
    cr_assert_eq(cfg.enable_protected_configs, CONFIG_PERMIT_NO);
    cr_assert_eq(cfg.slowlog_log_slower_than, 10000);
    cr_assert_eq(cfg.slowlog_max_len, 128);
    cr_assert_eq(cfg.latency_monitor_threshold, 0);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_NORMAL].hard, 0);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_REPLICA].hard, 256LL * 1024 * 1024);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_REPLICA].soft, 64LL * 1024 * 1024);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_REPLICA].soft_seconds, 60);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_PUBSUB].hard, 32LL * 1024 * 1024);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_PUBSUB].soft, 8LL * 1024 * 1024);
    cr_assert_eq(cfg.appendonly, 0);
    cr_assert_str_eq(cfg.appendfilename, "appendonly.aof");
    cr_assert_str_eq(cfg.appenddirname, "appendonlydir");
    cr_assert_eq(cfg.appendfsync, APPENDFSYNC_EVERYSEC);
    cr_assert_eq(cfg.auto_aof_rewrite_percentage, 100);
    cr_assert_eq(cfg.auto_aof_rewrite_min_size, 64LL * 1024 * 1024);
    cr_assert_eq(cfg.aof_load_truncated, 1);
    cr_assert_eq(cfg.aof_use_rdb_preamble, 1);
    cr_assert_eq(cfg.aof_timestamp_enabled, 0);
    cr_assert_eq(cfg.save_rule_count, 3);
    cr_assert_eq(cfg.save_rules[0].seconds, 3600);
    cr_assert_eq(cfg.save_rules[2].changes, 10000);
    cr_assert_str_eq(cfg.dbfilename, "dump.rdb");
    cr_assert_eq(cfg.rdbcompression + cfg.rdbchecksum + cfg.stop_writes_on_bgsave_error, 3);
    cr_assert_eq(cfg.list_max_listpack_size, -2);
    cr_assert_eq(cfg.stream_node_max_bytes, 4096);
    cr_assert_eq(cfg.stream_node_max_entries, 100);
    cr_assert_eq(cfg.hash_max_listpack_entries, 128);
    cr_assert_eq(cfg.hash_max_listpack_value, 64);
    cr_assert_eq(cfg.set_max_intset_entries, 512);
    cr_assert_eq(cfg.zset_max_listpack_entries, 128);
    cr_assert_eq(cfg.lazyfree_lazy_user_del + cfg.lazyfree_lazy_server_del, 0);
    cr_assert_eq(cfg.active_expire_effort, 1);
    cr_assert_eq(cfg.activerehashing, 1);
    cr_assert_eq(cfg.busy_reply_threshold, 5000);
    cr_assert_eq(cfg.io_threads, 1);
    cr_assert_eq(cfg.maxmemory_samples, 5);
    cr_assert_eq(cfg.lfu_log_factor, 10);
    cr_assert_eq(cfg.lfu_decay_time, 1);
    cr_assert_eq(cfg.replica_read_only, 1);
    cr_assert_eq(notify_flags, 0);
    cr_assert_null(config_file_path());
}

Test(config, defaults_as_config_get_shows_them)
{
    cr_assert_str_eq(get("client-output-buffer-limit"),
                     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    cr_assert_str_eq(get("save"), "3600 1 300 100 60 10000");
    cr_assert_str_eq(get("bind"), "127.0.0.1 -::1");
    cr_assert_str_eq(get("proto-max-bulk-len"), "536870912");
    cr_assert_str_eq(get("maxmemory"), "0");
    cr_assert_str_eq(get("maxmemory-policy"), "noeviction");
    cr_assert_str_eq(get("appendfsync"), "everysec");
    cr_assert_str_eq(get("enable-debug-command"), "local");
    cr_assert_str_eq(get("protected-mode"), "yes");
    cr_assert_str_eq(get("requirepass"), "");
    cr_assert_str_eq(get("notify-keyspace-events"), "");
    cr_assert_str_eq(get("list-max-listpack-size"), "-2");
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    cr_assert_str_eq(get("dir"), cwd);
}

Test(config, init_defaults_resets_changed_values)
{
    load_ok("port 7000\nrequirepass secret\nsave 1 1\n");
    config_init_defaults();
    cr_assert_eq(cfg.port, 6379);
    cr_assert_null(cfg.requirepass);
    cr_assert_eq(cfg.save_rule_count, 3);
    cr_assert_null(config_file_path());
}

/* --- Config file --------------------------------------------------------- */

Test(config, file_basic_directives_and_comments)
{
    load_ok("# a comment\n"
            "\n"
            "   # indented comment\n"
            "port 7000\n"
            "  maxmemory 100mb  \n"
            "PROTECTED-MODE NO\n"
            "appendonly YES\r\n"
            "maxmemory-policy ALLKEYS-LRU\n"
            "notify-keyspace-events KEA\n");
    cr_assert_eq(cfg.port, 7000);
    cr_assert_eq(cfg.maxmemory, 100LL * 1024 * 1024);
    cr_assert_eq(cfg.protected_mode, 0);
    cr_assert_eq(cfg.appendonly, 1);
    cr_assert_eq(cfg.maxmemory_policy, MAXMEMORY_ALLKEYS_LRU);
    cr_assert_eq(notify_flags, NOTIFY_ALL | NOTIFY_KEYSPACE | NOTIFY_KEYEVENT);
    cr_assert_str_eq(get("notify-keyspace-events"), "AKE");
    cr_assert_not_null(config_file_path());
    cr_assert_eq(config_file_path()[0], '/');
}

Test(config, file_quoting_forms)
{
    load_ok("requirepass \"a b\\\"c\\t\\x41\"\n"
            "logfile 'x y \\' z'\n"
            "dbfilename \"\"\n"
            "unixsocket \"\"\n");
    cr_assert_str_eq(cfg.requirepass, "a b\"c\tA");
    cr_assert_str_eq(cfg.logfile, "x y ' z");
    cr_assert_str_eq(cfg.dbfilename, "");
    cr_assert_null(cfg.unixsocket);
}

Test(config, file_quoted_empty_requirepass_is_null)
{
    load_ok("requirepass secret\nrequirepass \"\"\n");
    cr_assert_null(cfg.requirepass);
}

Test(config, file_hash_inside_value_is_not_a_comment)
{
    load_ok("requirepass foo#bar\n");
    cr_assert_str_eq(cfg.requirepass, "foo#bar");
}

Test(config, file_aliases)
{
    load_ok("hash-max-ziplist-entries 7\nlist-max-ziplist-size -3\nzset-max-ziplist-value 1kb\n"
            "slave-read-only no\nlua-time-limit 100\n");
    cr_assert_eq(cfg.hash_max_listpack_entries, 7);
    cr_assert_eq(cfg.list_max_listpack_size, -3);
    cr_assert_eq(cfg.zset_max_listpack_value, 1024);
    cr_assert_eq(cfg.replica_read_only, 0);
    cr_assert_eq(cfg.busy_reply_threshold, 100);
}

Test(config, file_save_lines_add_up_and_empty_clears)
{
    load_ok("save 900 1\nsave 300 10 60 10000\n");
    cr_assert_eq(cfg.save_rule_count, 3);
    cr_assert_eq(cfg.save_rules[0].seconds, 900);
    cr_assert_eq(cfg.save_rules[2].changes, 10000);
    cr_assert_str_eq(get("save"), "900 1 300 10 60 10000");
    config_init_defaults();
    load_ok("save \"\"\n");
    cr_assert_eq(cfg.save_rule_count, 0);
    cr_assert_str_eq(get("save"), "");
}

Test(config, file_without_save_keeps_default_rules)
{
    load_ok("port 7000\n");
    cr_assert_eq(cfg.save_rule_count, 3);
}

Test(config, file_bind_and_output_limits)
{
    load_ok("bind 127.0.0.1 -::1\n"
            "client-output-buffer-limit pubsub 64mb 16mb 90\n"
            "client-output-buffer-limit REPLICA 1gb 0 0\n");
    cr_assert_eq(cfg.bind_count, 2);
    cr_assert_str_eq(cfg.bind[1], "-::1");
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_PUBSUB].hard, 64LL * 1024 * 1024);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_PUBSUB].soft_seconds, 90);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_REPLICA].hard, 1024LL * 1024 * 1024);
    cr_assert_eq(cfg.output_limit[OUTPUT_CLASS_REPLICA].soft, 0);
}

Test(config, file_include_relative_absolute_and_glob)
{
    write_file("a.conf", "port 7001\n");
    write_file("b.conf", "maxclients 77\n");
    char text[512];
    snprintf(text, sizeof(text), "include %s/a.conf\nhz 20\ninclude %s/[b].conf\ninclude %s/none-*.conf\n", tmpdir,
             tmpdir, tmpdir);
    load_ok(text);
    cr_assert_eq(cfg.port, 7001);
    cr_assert_eq(cfg.maxclients, 77);
    cr_assert_eq(cfg.hz, 20);
    /* The rewrite target stays the top file, not an included one. */
    cr_assert(strstr(config_file_path(), "runnel.conf") != NULL);
}

Test(config, file_error_names_file_and_line)
{
    char *err = NULL;
    const char *path = write_file("bad.conf", "port 7000\n# comment\nfoo bar\n");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s:3: Bad directive or wrong number of arguments", path);
    cr_assert_eq(config_load_file(path, &err), -1);
    cr_assert_str_eq(err, expected);
    mem_free(err);
}

Test(config, file_error_in_included_file_names_that_file)
{
    char *err = NULL;
    const char *inc = write_file("inc.conf", "\n\nmaxmemory lots\n");
    char included[256], text[512], expected[512];
    snprintf(included, sizeof(included), "%s", inc);
    snprintf(text, sizeof(text), "port 1\ninclude %s\n", included);
    snprintf(expected, sizeof(expected), "%s:3: argument must be a memory value", included);
    cr_assert_eq(load_text(text, &err), -1);
    cr_assert_str_eq(err, expected);
    mem_free(err);
}

Test(config, file_error_reasons)
{
    load_fails("port\n", ":1: wrong number of arguments");
    load_fails("port 1 2\n", ":1: wrong number of arguments");
    load_fails("\nport abc\n", ":2: argument couldn't be parsed into an integer");
    load_fails("port 70000\n", ":1: argument must be between 0 and 65535 inclusive");
    load_fails("appendonly maybe\n", ":1: argument must be 'yes' or 'no'");
    load_fails("maxmemory 1tb\n", ":1: argument must be a memory value");
    load_fails("appendfsync sometimes\n",
               ":1: argument(s) must be one of the following: everysec, always, no");
    load_fails("maxmemory-policy lru\n",
               ":1: argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
               "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction");
    load_fails("requirepass \"abc\n", ":1: Unbalanced quotes in configuration line");
    load_fails("requirepass \"abc\"def\n", ":1: Unbalanced quotes in configuration line");
    load_fails("requirepass 'abc\n", ":1: Unbalanced quotes in configuration line");
    load_fails("save 60\n", ":1: Invalid save parameters");
    load_fails("save 0 1\n", ":1: Invalid save parameters");
    load_fails("client-output-buffer-limit master 1 2 3\n",
               ":1: Invalid client class specified in buffer limit configuration.");
    load_fails("client-output-buffer-limit normal 1 2\n",
               ":1: Wrong number of arguments in buffer limit configuration.");
    load_fails("notify-keyspace-events Q\n", ":1: Invalid event class character. Use 'Ag$lshzxeKEtmdnoc'.");
    load_fails("dir /nonexistent/runnel\n", ":1: No such file or directory");
    load_fails("dbfilename a/b.rdb\n", ":1: dbfilename can't be a path, just a filename");
    load_fails("daemonize yes\n", ":1: Runnel does not daemonize: run it under a service manager instead");
    load_fails("include\n", ":1: Bad directive or wrong number of arguments");
}

Test(config, file_missing)
{
    char *err = NULL;
    cr_assert_eq(config_load_file("/nonexistent/runnel.conf", &err), -1);
    cr_assert_str_eq(err, "/nonexistent/runnel.conf: can't open config file: No such file or directory");
    mem_free(err);
}

Test(config, file_include_cycle_is_refused)
{
    char text[256];
    snprintf(text, sizeof(text), "include %s/runnel.conf\n", tmpdir);
    load_fails(text, ":1: include nesting too deep");
}

Test(config, file_dir_is_stored_absolute)
{
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    cr_assert_eq(chdir(tmpdir), 0);
    cr_assert_eq(mkdir("data", 0755), 0);
    load_ok("dir ./data\n");
    char expected[PATH_MAX + 16];
    char *real = realpath(tmpdir, NULL);
    snprintf(expected, sizeof(expected), "%s/data", real);
    free(real);
    cr_assert_str_eq(cfg.dir, expected);
    cr_assert_eq(chdir(cwd), 0);
}

/* --- Command line -------------------------------------------------------- */

Test(config, args_multi_value_bind_and_empty_save)
{
    const char *argv[] = {"--port", "7000", "--bind", "127.0.0.1", "::1", "--save", "", "--loglevel", "warning"};
    char *err = NULL;
    cr_assert_eq(load_argv(9, argv, &err), 0, "%s", err ? err : "");
    cr_assert_eq(cfg.port, 7000);
    cr_assert_eq(cfg.bind_count, 2);
    cr_assert_str_eq(cfg.bind[0], "127.0.0.1");
    cr_assert_str_eq(cfg.bind[1], "::1");
    cr_assert_eq(cfg.save_rule_count, 0);
    cr_assert_eq(cfg.loglevel, LOG_WARNING);
}

Test(config, args_save_without_value)
{
    const char *argv[] = {"--save", "--port", "7001"};
    char *err = NULL;
    cr_assert_eq(load_argv(3, argv, &err), 0, "%s", err ? err : "");
    cr_assert_eq(cfg.save_rule_count, 0);
    cr_assert_eq(cfg.port, 7001);
    config_init_defaults();
    const char *last[] = {"--port", "7002", "--save"};
    cr_assert_eq(load_argv(3, last, &err), 0, "%s", err ? err : "");
    cr_assert_eq(cfg.save_rule_count, 0);
}

Test(config, args_negative_values_and_save_pairs)
{
    const char *argv[] = {"--list-max-listpack-size", "-4", "--save", "60", "5", "10", "100"};
    char *err = NULL;
    cr_assert_eq(load_argv(7, argv, &err), 0, "%s", err ? err : "");
    cr_assert_eq(cfg.list_max_listpack_size, -4);
    cr_assert_str_eq(get("save"), "60 5 10 100");
}

Test(config, args_option_and_value_in_one_argument)
{
    const char *argv[] = {"--port 6380", "--requirepass", "a b"};
    char *err = NULL;
    cr_assert_eq(load_argv(3, argv, &err), 0, "%s", err ? err : "");
    cr_assert_eq(cfg.port, 6380);
    cr_assert_str_eq(cfg.requirepass, "a b");
}

Test(config, args_override_file)
{
    load_ok("port 7000\nsave 60 1\n");
    const char *argv[] = {"--port", "7001", "--save", "30", "2"};
    char *err = NULL;
    cr_assert_eq(load_argv(5, argv, &err), 0);
    cr_assert_eq(cfg.port, 7001);
    cr_assert_str_eq(get("save"), "60 1 30 2"); /* one start-up load, as Redis */
}

Test(config, args_empty_save_clears_rules_from_file)
{
    load_ok("save 60 1\nsave \"\"\nsave 30 2\n");
    cr_assert_str_eq(get("save"), "30 2");
    const char *argv[] = {"--save", ""};
    char *err = NULL;
    cr_assert_eq(load_argv(2, argv, &err), 0);
    cr_assert_eq(cfg.save_rule_count, 0);
}

Test(config, args_errors)
{
    char *err = NULL;
    const char *bad_mem[] = {"--port", "7000", "--maxmemory", "abc"};
    cr_assert_eq(load_argv(4, bad_mem, &err), -1);
    cr_assert_str_eq(err, "(command line): 'maxmemory abc': argument must be a memory value");
    mem_free(err);
    const char *unknown[] = {"--foo", "1"};
    cr_assert_eq(load_argv(2, unknown, &err), -1);
    cr_assert_str_eq(err, "(command line): 'foo 1': Bad directive or wrong number of arguments");
    mem_free(err);
    const char *missing[] = {"--port"};
    cr_assert_eq(load_argv(1, missing, &err), -1);
    cr_assert_str_eq(err, "(command line): 'port': wrong number of arguments");
    mem_free(err);
    const char *stray[] = {"port", "7000"};
    cr_assert_eq(load_argv(2, stray, &err), -1);
    cr_assert_str_eq(err, "(command line): 'port': expected an option starting with --");
    mem_free(err);
}

Test(config, args_leave_argv_unchanged)
{
    char a0[] = "--port", a1[] = "7000";
    char *argv[] = {a0, a1};
    char *err = NULL;
    cr_assert_eq(config_load_args(2, argv, &err), 0);
    cr_assert_eq(argv[0], a0);
    cr_assert_str_eq(argv[0], "--port");
}

/* --- Memory values and bounds -------------------------------------------- */

Test(config, memory_units)
{
    static const struct {
        const char *text;
        long long bytes;
    } cases[] = {
        {"0", 0},
        {"100", 100},
        {"0100", 100},
        {"1k", 1000},
        {"1K", 1000},
        {"1kb", 1024},
        {"1KB", 1024},
        {"1kB", 1024},
        {"2m", 2000000},
        {"2mb", 2LL * 1024 * 1024},
        {"1g", 1000000000},
        {"1gb", 1024LL * 1024 * 1024},
        {"3GB", 3LL * 1024 * 1024 * 1024},
        {"9223372036854775807", LLONG_MAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int ok = 0;
        cr_assert_eq(config_parse_memory(cases[i].text, &ok), cases[i].bytes, "%s", cases[i].text);
        cr_assert_eq(ok, 1, "%s", cases[i].text);
    }
}

Test(config, memory_malformed)
{
    static const char *bad[] = {"", "-1", "1b", "1tb", " 1", "1 ", "1.5gb", "+1", "gb",
                                "9223372036854775808", "9999999999gb", "18446744073709551616", "1kbb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int ok = 1;
        cr_assert_eq(config_parse_memory(bad[i], &ok), -1, "'%s'", bad[i]);
        cr_assert_eq(ok, 0, "'%s'", bad[i]);
    }
    cr_assert_eq(config_parse_memory("1k", NULL), 1000);
}

Test(config, memory_directives_accept_units_and_show_bytes)
{
    set_ok("maxmemory", "1GB");
    cr_assert_str_eq(get("maxmemory"), "1073741824");
    set_ok("hash-max-listpack-value", "2kb");
    cr_assert_eq(cfg.hash_max_listpack_value, 2048);
    set_ok("stream-node-max-bytes", "1k");
    cr_assert_str_eq(get("stream-node-max-bytes"), "1000");
    set_fails("hash-max-listpack-value", "4gb",
              "ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-value') - argument must be "
              "between 0 and 2147483647 inclusive");
    set_fails("proto-max-bulk-len", "1",
              "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be "
              "between 1048576 and 9223372036854775807 inclusive");
}

Test(config, integers_follow_redis_rules)
{
    set_ok("slowlog-log-slower-than", "-1");
    cr_assert_eq(cfg.slowlog_log_slower_than, -1);
    set_fails("maxclients", "010",
              "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into "
              "an integer");
    set_fails("maxclients", "+5",
              "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into "
              "an integer");
    set_fails("timeout", "1k",
              "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an "
              "integer");
    set_fails("timeout", "-1",
              "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and "
              "2147483647 inclusive");
    set_fails("slowlog-log-slower-than", "-2",
              "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be "
              "between -1 and 9223372036854775807 inclusive");
    set_fails("active-expire-effort", "11",
              "ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be "
              "between 1 and 10 inclusive");
    set_fails("list-max-listpack-size", "-6",
              "ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - argument must be "
              "between -5 and 2147483647 inclusive");
    set_fails("port", "65536",
              "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 "
              "inclusive");
}

Test(config, hz_is_clamped_like_redis)
{
    set_ok("hz", "1000");
    cr_assert_eq(cfg.hz, 500);
    cr_assert_str_eq(get("hz"), "500");
    set_ok("hz", "0");
    cr_assert_eq(cfg.hz, 1);
    set_fails("hz", "-1",
              "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 "
              "inclusive");
}

Test(config, maxmemory_clients_percent)
{
    set_ok("maxmemory-clients", "10%");
    cr_assert_eq(cfg.maxmemory_clients, -10);
    cr_assert_str_eq(get("maxmemory-clients"), "10%");
    set_ok("maxmemory-clients", "1mb");
    cr_assert_eq(cfg.maxmemory_clients, 1024 * 1024);
    set_fails("maxmemory-clients", "101%",
              "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be "
              "less or equal to 100");
    set_fails("maxmemory-clients", "-5",
              "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or "
              "percent value");
}

/* --- Enums and booleans -------------------------------------------------- */

Test(config, enums_by_name_case_insensitive)
{
    set_ok("maxmemory-policy", "VOLATILE-TTL");
    cr_assert_eq(cfg.maxmemory_policy, MAXMEMORY_VOLATILE_TTL);
    cr_assert_str_eq(get("maxmemory-policy"), "volatile-ttl");
    set_ok("appendfsync", "always");
    cr_assert_eq(cfg.appendfsync, APPENDFSYNC_ALWAYS);
    set_ok("appendfsync", "no");
    cr_assert_eq(cfg.appendfsync, APPENDFSYNC_NO);
    set_ok("loglevel", "debug");
    cr_assert_eq(cfg.loglevel, LOG_DEBUG);
    set_fails("loglevel", "loud",
              "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the "
              "following: debug, verbose, notice, warning");
    load_ok("enable-debug-command yes\nenable-protected-configs local\n");
    cr_assert_eq(cfg.enable_debug_command, CONFIG_PERMIT_YES);
    cr_assert_eq(cfg.enable_protected_configs, CONFIG_PERMIT_LOCAL);
}

Test(config, booleans_yes_no_only)
{
    set_ok("appendonly", "Yes");
    cr_assert_eq(cfg.appendonly, 1);
    cr_assert_str_eq(get("appendonly"), "yes");
    set_fails("appendonly", "1",
              "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'");
    set_fails("appendonly", "true",
              "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'");
}

/* --- CONFIG GET ---------------------------------------------------------- */

Test(config, get_glob_matches_in_table_order)
{
    struct capture c = {0};
    const char *pattern = "maxmemory*";
    config_get(&pattern, 1, capture_emit, &c);
    cr_assert_eq(c.count, 4);
    cr_assert_str_eq(c.names[0], "maxmemory-clients");
    cr_assert_str_eq(c.names[1], "maxmemory");
    cr_assert_str_eq(c.names[2], "maxmemory-policy");
    cr_assert_str_eq(c.names[3], "maxmemory-samples");
}

Test(config, get_star_lists_each_directive_once)
{
    struct capture c = {0};
    const char *patterns[] = {"*", "port", "*-max-*"};
    config_get(patterns, 3, capture_emit, &c);
    cr_assert_gt(c.count, 60);
    for (int i = 0; i < c.count; i++)
        for (int j = i + 1; j < c.count; j++) cr_assert_str_neq(c.names[i], c.names[j]);
    /* "*" gives canonical names, never the aliases. */
    for (int i = 0; i < c.count; i++) cr_assert_null(strstr(c.names[i], "ziplist"));
}

Test(config, get_exact_names_as_typed_and_aliases)
{
    struct capture c = {0};
    const char *patterns[] = {"HZ", "hash-max-ziplist-entries", "hz", "nosuch", "hash-max-listpack-entries"};
    config_get(patterns, 5, capture_emit, &c);
    cr_assert_eq(c.count, 2);
    cr_assert_str_eq(c.names[0], "HZ");
    cr_assert_str_eq(c.values[0], "10");
    cr_assert_str_eq(c.names[1], "hash-max-ziplist-entries");
    cr_assert_str_eq(c.values[1], "128");
}

Test(config, get_glob_features)
{
    struct capture c = {0};
    const char *patterns[] = {"*ZIPLIST*", "h?", "[p]ort", "appendf[^x]*", "nomatch*"};
    config_get(patterns, 5, capture_emit, &c);
    /* 5 ziplist aliases, hz, port, appendfilename and appendfsync. */
    cr_assert_eq(c.count, 9);
    cr_assert_str_eq(c.names[0], "list-max-ziplist-size");
    cr_assert_str_eq(c.names[5], "hz");
    cr_assert_str_eq(c.names[6], "port");
    cr_assert_str_eq(c.names[7], "appendfilename");
    cr_assert_str_eq(c.names[8], "appendfsync");
}

/* --- CONFIG SET ---------------------------------------------------------- */

Test(config, set_several_pairs)
{
    const char *names[] = {"port", "maxmemory", "save", "notify-keyspace-events"};
    const char *values[] = {"7000", "2mb", "10 1 20 2", "Ex"};
    char *err = NULL;
    cr_assert_eq(config_set(names, values, 4, &err), 0, "%s", err ? err : "");
    cr_assert_eq(cfg.port, 7000);
    cr_assert_eq(cfg.maxmemory, 2 * 1024 * 1024);
    cr_assert_eq(cfg.save_rule_count, 2);
    cr_assert_eq(notify_flags, NOTIFY_KEYEVENT | NOTIFY_EXPIRED);
    cr_assert_str_eq(get("notify-keyspace-events"), "xE");
}

Test(config, set_rolls_back_all_on_one_bad_value)
{
    const char *names[] = {"port", "requirepass", "save", "client-output-buffer-limit", "maxmemory"};
    const char *values[] = {"7000", "secret", "", "pubsub 1mb 1mb 1", "abc"};
    char *err = NULL;
    cr_assert_eq(config_set(names, values, 5, &err), -1);
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a "
                          "memory value");
    mem_free(err);
    cr_assert_eq(cfg.port, 6379);
    cr_assert_null(cfg.requirepass);
    cr_assert_eq(cfg.save_rule_count, 3);
    cr_assert_str_eq(get("client-output-buffer-limit"),
                     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    cr_assert_eq(cfg.maxmemory, 0);
}

Test(config, set_unknown_duplicate_immutable_protected)
{
    char *err = NULL;
    const char *n1[] = {"port", "nosuch"}, *v1[] = {"7000", "1"};
    cr_assert_eq(config_set(n1, v1, 2, &err), -1);
    cr_assert_str_eq(err, "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
    mem_free(err);
    cr_assert_eq(cfg.port, 6379);

    const char *n2[] = {"hz", "HZ"}, *v2[] = {"20", "30"};
    cr_assert_eq(config_set(n2, v2, 2, &err), -1);
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter");
    mem_free(err);
    cr_assert_eq(cfg.hz, 10);

    const char *n3[] = {"hash-max-listpack-entries", "hash-max-ziplist-entries"}, *v3[] = {"1", "2"};
    cr_assert_eq(config_set(n3, v3, 2, &err), -1);
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - "
                          "duplicate parameter");
    mem_free(err);

    static const char *immutable[] = {"daemonize", "databases", "unixsocket", "io-threads", "pidfile",
                                      "logfile", "appenddirname", "appendfilename", "tcp-backlog",
                                      "enable-debug-command", "enable-protected-configs"};
    for (size_t i = 0; i < sizeof(immutable) / sizeof(immutable[0]); i++) {
        char expected[256];
        snprintf(expected, sizeof(expected),
                 "ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config",
                 immutable[i]);
        set_fails(immutable[i], "1", expected);
    }
    set_fails("dir", "/tmp", "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
    set_fails("dbfilename", "x.rdb",
              "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config");
}

Test(config, set_protected_when_allowed)
{
    load_ok("enable-protected-configs local\n");
    const char *name = "dbfilename", *value = "x.rdb";
    char *err = NULL;
    cr_assert_eq(config_set_ex(&name, &value, 1, false, &err), -1);
    mem_free(err);
    cr_assert_eq(config_set_ex(&name, &value, 1, true, &err), 0);
    cr_assert_str_eq(cfg.dbfilename, "x.rdb");
    config_init_defaults();
    load_ok("enable-protected-configs yes\n");
    set_ok("dir", tmpdir);
    char *real = realpath(tmpdir, NULL);
    cr_assert_str_eq(cfg.dir, real);
    free(real);
}

Test(config, set_multi_arg_values)
{
    set_ok("save", "");
    cr_assert_eq(cfg.save_rule_count, 0);
    set_ok("save", "100  1 200 2");
    cr_assert_str_eq(get("save"), "100 1 200 2");
    set_ok("client-output-buffer-limit", "pubsub 1mb 2mb 3 NORMAL 1 2 3");
    cr_assert_str_eq(get("client-output-buffer-limit"),
                     "normal 1 2 3 slave 268435456 67108864 60 pubsub 1048576 2097152 3");
    set_fails("save", "1 x", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters");
    set_fails("client-output-buffer-limit", "normal 1x 2 3",
              "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Error in hard, soft "
              "or soft_seconds setting in buffer limit configuration.");
}

Test(config, set_string_values)
{
    set_ok("requirepass", "p w");
    cr_assert_str_eq(cfg.requirepass, "p w");
    cr_assert_str_eq(get("requirepass"), "p w");
    set_ok("requirepass", "");
    cr_assert_null(cfg.requirepass);
}

static int hook_calls;
static int refuse;

static int counting_hook(const char **err)
{
    hook_calls++;
    if (refuse && cfg.maxclients == 5) {
        *err = "not now";
        return -1;
    }
    return 0;
}

Test(config, apply_hooks_run_once_and_can_refuse)
{
    config_set_apply_hook("maxclients", counting_hook);
    config_set_apply_hook("timeout", counting_hook);
    const char *names[] = {"maxclients", "timeout"}, *values[] = {"50", "3"};
    char *err = NULL;
    cr_assert_eq(config_set(names, values, 2, &err), 0);
    cr_assert_eq(hook_calls, 1); /* one hook shared by both: run once */

    refuse = 1;
    hook_calls = 0;
    const char *n2[] = {"port", "maxclients"}, *v2[] = {"7000", "5"};
    cr_assert_eq(config_set(n2, v2, 2, &err), -1);
    cr_assert_str_eq(err, "ERR CONFIG SET failed (possibly related to argument 'maxclients') - not now");
    mem_free(err);
    cr_assert_eq(cfg.port, 6379);
    cr_assert_eq(cfg.maxclients, 50);
    cr_assert_eq(hook_calls, 2); /* refused, then told about the restored value */
}

Test(config, apply_hook_by_alias_not_run_at_load)
{
    config_set_apply_hook("hash-max-ziplist-entries", counting_hook);
    load_ok("hash-max-listpack-entries 5\n");
    cr_assert_eq(hook_calls, 0);
    set_ok("hash-max-listpack-entries", "6");
    cr_assert_eq(hook_calls, 1);
}

/* --- CONFIG REWRITE ------------------------------------------------------ */

/* Every directive's CONFIG GET value, joined, to compare two states. */
static char *snapshot(void)
{
    static char buf[2][16384];
    static int which;
    char *out = buf[which++ % 2];
    struct capture c = {0};
    const char *all = "*";
    config_get(&all, 1, capture_emit, &c);
    out[0] = '\0';
    for (int i = 0; i < c.count; i++) {
        strcat(out, c.names[i]);
        strcat(out, "=");
        strcat(out, c.values[i]);
        strcat(out, "\n");
    }
    return out;
}

Test(config, rewrite_without_file)
{
    char *err = NULL;
    cr_assert_eq(config_rewrite(&err), -1);
    cr_assert_str_eq(err, "ERR The server is running without a config file");
    mem_free(err);
}

Test(config, rewrite_round_trip)
{
    load_ok("# Runnel test config\n"
            "port 7000\n"
            "\n"
            "# memory\n"
            "maxmemory 100mb\n"
            "hash-max-ziplist-entries 64\n"
            "save 60 1\n"
            "save 30 2\n"
            "timeout 0\n");
    char path[512];
    snprintf(path, sizeof(path), "%s", config_file_path());
    chmod(path, 0640);
    /* A line the server no longer understands (edited in by hand). */
    FILE *f = fopen(path, "a");
    fputs("some-module-option 1 2\n", f);
    fclose(f);

    const char *names[] = {"port", "maxmemory", "save", "requirepass", "notify-keyspace-events", "appendonly",
                           "client-output-buffer-limit", "maxmemory-clients", "hash-max-listpack-entries"};
    const char *values[] = {"7001", "1gb", "900 1", "p \"w\"", "KEA", "yes", "pubsub 1mb 0 0", "5%", "128"};
    char *err = NULL;
    cr_assert_eq(config_set(names, values, 9, &err), 0, "%s", err ? err : "");
    char *before = mem_strdup(snapshot());
    cr_assert_eq(config_rewrite(&err), 0, "%s", err ? err : "");

    const char *text = read_file(path);
    cr_assert(strstr(text, "# Runnel test config\nport 7001\n\n# memory\nmaxmemory 1gb\n") == text, "%s", text);
    cr_assert(strstr(text, "hash-max-listpack-entries 128\nsave 900 1\ntimeout 0\nsome-module-option 1 2\n"),
              "%s", text);
    cr_assert_null(strstr(text, "save 30 2"));
    cr_assert(strstr(text, "# Generated by CONFIG REWRITE\n"), "%s", text);
    cr_assert(strstr(text, "requirepass \"p \\\"w\\\"\"\n"), "%s", text);
    cr_assert(strstr(text, "notify-keyspace-events \"AKE\"\n"), "%s", text);
    cr_assert(strstr(text, "client-output-buffer-limit pubsub 1mb 0 0\n"), "%s", text);
    cr_assert(strstr(text, "maxmemory-clients 5%\n"), "%s", text);
    cr_assert(strstr(text, "dir \""), "%s", text);
    cr_assert_null(strstr(text, "\nloglevel"), "defaults are not appended");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640);

    /* Reload into defaults: the unknown line is the only thing it refuses, so
     * drop it first, as an operator would. */
    f = fopen(path, "w");
    char *copy = mem_strdup(text);
    const char *line = "some-module-option 1 2\n";
    char *unknown = strstr(copy, line);
    memmove(unknown, unknown + strlen(line), strlen(unknown + strlen(line)) + 1);
    fputs(copy, f);
    fclose(f);
    mem_free(copy);
    config_init_defaults();
    load_ok(read_file(path));
    cr_assert_str_eq(snapshot(), before);
    mem_free(before);
}

Test(config, rewrite_twice_is_stable_and_signature_once)
{
    load_ok("port 7000\n");
    set_ok("maxclients", "123");
    char *err = NULL;
    cr_assert_eq(config_rewrite(&err), 0);
    char first[16384];
    snprintf(first, sizeof(first), "%s", read_file(config_file_path()));
    cr_assert_eq(config_rewrite(&err), 0);
    cr_assert_str_eq(read_file(config_file_path()), first);
    set_ok("timeout", "9");
    cr_assert_eq(config_rewrite(&err), 0);
    const char *text = read_file(config_file_path());
    const char *sig = strstr(text, "# Generated by CONFIG REWRITE");
    cr_assert_not_null(sig);
    cr_assert_null(strstr(sig + 1, "# Generated by CONFIG REWRITE"));
    cr_assert(strstr(sig, "maxclients 123\n"), "%s", text);
    cr_assert(strstr(sig, "timeout 9\n"), "%s", text); /* appended below the signature too */
}

Test(config, rewrite_keeps_includes_and_empty_save)
{
    char inc[256];
    snprintf(inc, sizeof(inc), "%s", write_file("inc.conf", "maxclients 99\n"));
    char text[512];
    snprintf(text, sizeof(text), "include %s/inc.conf\nport 7000\n", tmpdir);
    load_ok(text);
    set_ok("save", "");
    char *err = NULL;
    cr_assert_eq(config_rewrite(&err), 0);
    const char *out = read_file(config_file_path());
    cr_assert(strstr(out, "include "), "%s", out);
    cr_assert(strstr(out, "save \"\"\n"), "%s", out);
    cr_assert(strstr(out, "maxclients 99\n"), "%s", out); /* from the include, so appended */
    cr_assert_str_eq(read_file(inc), "maxclients 99\n"); /* included files are left alone */
}

Test(config, rewrite_recreates_a_deleted_file)
{
    load_ok("port 7000\n");
    unlink(config_file_path());
    char *err = NULL;
    cr_assert_eq(config_rewrite(&err), 0, "%s", err ? err : "");
    cr_assert(strstr(read_file(config_file_path()), "port 7000\n"));
}

/* --- runnel.conf and docs/configuration.md ------------------------------- */

/* Path of a file at the repository root, found from this source file's
 * path so the test works from the root (make) or with an absolute __FILE__. */
static const char *repo_file(const char *name)
{
    static char path[PATH_MAX];
    const char *suffix = "tests/unit/test_config.c";
    size_t root = strlen(__FILE__) - strlen(suffix);
    snprintf(path, sizeof(path), "%.*s%s", (int)root, __FILE__, name);
    return path;
}

static bool is_directive(const char *name)
{
    struct capture c = {0};
    config_get(&name, 1, capture_emit, &c);
    return c.count == 1;
}

Test(config, example_file_loads_and_documents_every_directive)
{
    char *err = NULL;
    cr_assert_eq(config_load_file(repo_file("runnel.conf"), &err), 0, "%s", err ? err : "");
    char *example = mem_strdup(read_file(repo_file("runnel.conf")));
    char *docs = mem_strdup(read_file(repo_file("docs/configuration.md")));
    struct capture all = {0};
    const char *star = "*";
    config_get(&star, 1, capture_emit, &all);
    for (int i = 0; i < all.count; i++) {
        char line[96], cell[96];
        snprintf(line, sizeof(line), "\n# %s ", all.names[i]);
        snprintf(cell, sizeof(cell), "| `%s` |", all.names[i]);
        cr_assert(strstr(example, line), "runnel.conf does not show '%s'", all.names[i]);
        cr_assert(strstr(docs, cell), "docs/configuration.md does not list '%s'", all.names[i]);
    }
    mem_free(example);
    mem_free(docs);
}

/* Uncommenting every directive line of runnel.conf must give the defaults
 * (except the example paths of pidfile and unixsocket). */
Test(config, example_file_shows_the_real_defaults)
{
    char *before = mem_strdup(snapshot());
    char *text = mem_strdup(read_file(repo_file("runnel.conf")));
    char *active = mem_calloc(strlen(text) + 1);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        if (sscanf(line, "# %63s", name) != 1 || !is_directive(name)) continue;
        if (strcmp(name, "pidfile") == 0 || strcmp(name, "unixsocket") == 0) continue;
        strcat(active, line + 2);
        strcat(active, "\n");
    }
    cr_assert(strstr(active, "port 6379\n"));
    load_ok(active);
    cr_assert_str_eq(snapshot(), before);
    mem_free(before);
    mem_free(text);
    mem_free(active);
}

/* --- glob_match ---------------------------------------------------------- */

static bool gm(const char *p, const char *s, bool nocase)
{
    return glob_match(p, strlen(p), s, strlen(s), nocase);
}

Test(glob, star_and_question)
{
    cr_assert(gm("*", "", false));
    cr_assert(gm("*", "anything", false));
    cr_assert(gm("a*", "abc", false));
    cr_assert(gm("*c", "abc", false));
    cr_assert(gm("a*c", "ac", false));
    cr_assert(gm("a**c", "abbbc", false));
    cr_assert(gm("*b*d*", "abcde", false));
    cr_assert_not(gm("a*d", "abc", false));
    cr_assert(gm("h?llo", "hello", false));
    cr_assert_not(gm("h?llo", "hllo", false));
    cr_assert(gm("???", "abc", false));
    cr_assert_not(gm("???", "ab", false));
    cr_assert_not(gm("", "a", false));
    cr_assert(gm("", "", false));
}

Test(glob, classes)
{
    cr_assert(gm("h[ae]llo", "hallo", false));
    cr_assert(gm("h[ae]llo", "hello", false));
    cr_assert_not(gm("h[ae]llo", "hillo", false));
    cr_assert(gm("h[^e]llo", "hallo", false));
    cr_assert_not(gm("h[^e]llo", "hello", false));
    cr_assert(gm("h[a-c]llo", "hbllo", false));
    cr_assert_not(gm("h[a-c]llo", "hdllo", false));
    cr_assert(gm("h[c-a]llo", "hbllo", false)); /* reversed range */
    cr_assert(gm("[\\]]", "]", false));
    cr_assert(gm("[a\\-z]", "-", false));
    cr_assert_not(gm("[a\\-z]", "b", false));
    cr_assert_not(gm("[]", "a", false));
    cr_assert(gm("[^]", "a", false));
    cr_assert(gm("ab[c", "abc", false)); /* unterminated class ends at the pattern's end */
}

Test(glob, escapes)
{
    cr_assert(gm("a\\*b", "a*b", false));
    cr_assert_not(gm("a\\*b", "axb", false));
    cr_assert(gm("\\?", "?", false));
    cr_assert_not(gm("\\?", "x", false));
    cr_assert(gm("a\\", "a\\", false)); /* a trailing backslash is literal */
}

Test(glob, nocase)
{
    cr_assert(gm("HeLLo*", "hello world", true));
    cr_assert_not(gm("HeLLo*", "hello world", false));
    cr_assert(gm("[A-C]x", "bX", true));
    cr_assert_not(gm("[A-C]x", "bx", false));
    cr_assert(gm("[^a]", "B", true));
    cr_assert_not(gm("[^a]", "A", true));
}

Test(glob, binary_and_long_inputs)
{
    cr_assert(glob_match("a?c", 3, "a\0c", 3, false));
    cr_assert(glob_match("*\0*", 3, "xx\0yy", 5, false));
    /* A pattern that is exponential for naive recursion. */
    char s[201];
    memset(s, 'a', 200);
    s[200] = '\0';
    cr_assert_not(gm("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s, false));
    cr_assert(gm("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", s, false));
}
