/* The directives whose values have a syntax of their own: bind, save,
 * client-output-buffer-limit, notify-keyspace-events, dir and hz. Each is a
 * struct config_special the table in config.c points at. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "messaging/notify.h"
#include "server/config.h"
#include "util/mem.h"
#include "util/numbers.h"

/* --- bind -------------------------------------------------------------- */

/* Any address syntax is accepted here: the listener checks it when it opens
 * it (CONFIG SET's rebind hook, or start-up). */
static int bind_parse(int argc, char **argv, bool loading, const char **err)
{
    (void)loading;
    if (argc < 1 || argc > CONFIG_MAX_BIND_ADDRS) {
        *err = "Too many bind addresses specified.";
        return -1;
    }
    for (int i = 0; i < cfg.bind_count; i++) mem_free(cfg.bind[i]);
    mem_free(cfg.bind);
    cfg.bind = mem_alloc(sizeof(char *) * (size_t)argc);
    for (int i = 0; i < argc; i++) cfg.bind[i] = mem_strdup(argv[i]);
    cfg.bind_count = argc;
    return 0;
}

static str bind_format(str out)
{
    for (int i = 0; i < cfg.bind_count; i++) {
        if (i) out = str_append(out, " ", 1);
        out = str_append(out, cfg.bind[i], strlen(cfg.bind[i]));
    }
    return out;
}

static str bind_rewrite(str out, const char *name)
{
    out = str_append_printf(out, "%s ", name);
    out = bind_format(out);
    return str_append(out, "\n", 1);
}

const struct config_special config_special_bind = {bind_parse, bind_format, bind_rewrite};

/* --- save -------------------------------------------------------------- */

/* Whether a `save` line was already read during this load: the first one
 * replaces the default rules, later ones add to it (several `save` lines in
 * a file add up, as in Redis). Any parse outside a load ends the load. */
static bool save_loaded;

static bool save_parse_field(const char *s, long long min, int *out)
{
    long long v;
    if (!parse_ll(s, strlen(s), &v) || v < min || v > INT_MAX) return false;
    *out = (int)v;
    return true;
}

static int save_parse(int argc, char **argv, bool loading, const char **err)
{
    if (argc == 1 && argv[0][0] == '\0') argc = 0; /* save "" */
    int base = 0; /* save "" always clears; otherwise a load adds up */
    if (loading && save_loaded && argc > 0) base = cfg.save_rule_count;
    if (argc % 2 != 0) {
        *err = "Invalid save parameters";
        return -1;
    }
    if (base + argc / 2 > CONFIG_MAX_SAVE_RULES) {
        *err = "Too many save rules (at most 16)";
        return -1;
    }
    int values[2 * CONFIG_MAX_SAVE_RULES];
    for (int i = 0; i < argc; i++) {
        if (!save_parse_field(argv[i], i % 2 == 0 ? 1 : 0, &values[i])) {
            *err = "Invalid save parameters";
            return -1;
        }
    }
    for (int i = 0; i < argc / 2; i++) {
        cfg.save_rules[base + i].seconds = values[2 * i];
        cfg.save_rules[base + i].changes = values[2 * i + 1];
    }
    cfg.save_rule_count = base + argc / 2;
    save_loaded = loading;
    return 0;
}

static str save_format(str out)
{
    for (int i = 0; i < cfg.save_rule_count; i++)
        out = str_append_printf(out, "%s%d %d", i ? " " : "", cfg.save_rules[i].seconds, cfg.save_rules[i].changes);
    return out;
}

/* One line per rule; `save ""` when there is none, so that reloading does
 * not bring the default rules back. */
static str save_rewrite(str out, const char *name)
{
    if (cfg.save_rule_count == 0) return str_append_printf(out, "%s \"\"\n", name);
    for (int i = 0; i < cfg.save_rule_count; i++)
        out = str_append_printf(out, "%s %d %d\n", name, cfg.save_rules[i].seconds, cfg.save_rules[i].changes);
    return out;
}

const struct config_special config_special_save = {save_parse, save_format, save_rewrite};

/* --- client-output-buffer-limit ---------------------------------------- */

static const struct {
    const char *name;
    int index;
} output_classes[] = {
    {"normal", OUTPUT_CLASS_NORMAL},
    {"replica", OUTPUT_CLASS_REPLICA},
    {"slave", OUTPUT_CLASS_REPLICA},
    {"pubsub", OUTPUT_CLASS_PUBSUB},
};

/* Names the class as CONFIG GET does (Redis still says "slave"). */
/* Enough for every class given a few times over in one value. */
#define OUTPUT_LIMIT_MAX_GROUPS 16

static const char *const output_class_names[OUTPUT_CLASS_COUNT] = {"normal", "slave", "pubsub"};

static int output_class_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof(output_classes) / sizeof(output_classes[0]); i++)
        if (strcasecmp(name, output_classes[i].name) == 0) return output_classes[i].index;
    return -1;
}

/* Parses one "hard soft seconds" triple; false if any part is malformed. */
static bool output_limit_values(char **argv, long long *hard, long long *soft, int *seconds)
{
    int ok_hard, ok_soft;
    long long secs;
    *hard = config_parse_memory(argv[0], &ok_hard);
    *soft = config_parse_memory(argv[1], &ok_soft);
    if (!ok_hard || !ok_soft) return false;
    if (!parse_ll(argv[2], strlen(argv[2]), &secs) || secs < 0 || secs > INT_MAX) return false;
    *seconds = (int)secs;
    return true;
}

static int output_limit_parse(int argc, char **argv, bool loading, const char **err)
{
    (void)loading;
    if (argc == 0 || argc % 4 != 0) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return -1;
    }
    long long hard[OUTPUT_LIMIT_MAX_GROUPS], soft[OUTPUT_LIMIT_MAX_GROUPS];
    int seconds[OUTPUT_LIMIT_MAX_GROUPS], classes[OUTPUT_LIMIT_MAX_GROUPS];
    int groups = argc / 4;
    if (groups > OUTPUT_LIMIT_MAX_GROUPS) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return -1;
    }
    for (int g = 0; g < groups; g++) {
        classes[g] = output_class_lookup(argv[4 * g]);
        if (classes[g] < 0) {
            *err = "Invalid client class specified in buffer limit configuration.";
            return -1;
        }
        if (!output_limit_values(argv + 4 * g + 1, &hard[g], &soft[g], &seconds[g])) {
            *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            return -1;
        }
    }
    for (int g = 0; g < groups; g++) {
        cfg.output_limit[classes[g]].hard = hard[g];
        cfg.output_limit[classes[g]].soft = soft[g];
        cfg.output_limit[classes[g]].soft_seconds = seconds[g];
    }
    return 0;
}

static str output_limit_format(str out)
{
    for (int c = 0; c < OUTPUT_CLASS_COUNT; c++)
        out = str_append_printf(out, "%s%s %lld %lld %d", c ? " " : "", output_class_names[c], cfg.output_limit[c].hard,
                                cfg.output_limit[c].soft, cfg.output_limit[c].soft_seconds);
    return out;
}

static str output_limit_rewrite(str out, const char *name)
{
    for (int c = 0; c < OUTPUT_CLASS_COUNT; c++) {
        out = str_append_printf(out, "%s %s ", name, output_class_names[c]);
        out = config_append_memory(out, cfg.output_limit[c].hard);
        out = str_append(out, " ", 1);
        out = config_append_memory(out, cfg.output_limit[c].soft);
        out = str_append_printf(out, " %d\n", cfg.output_limit[c].soft_seconds);
    }
    return out;
}

const struct config_special config_special_output_limit = {output_limit_parse, output_limit_format,
                                                           output_limit_rewrite};

/* --- notify-keyspace-events -------------------------------------------- */

static int notify_parse(int argc, char **argv, bool loading, const char **err)
{
    (void)loading;
    int flags = argc == 1 ? notify_parse_classes(argv[0]) : -1;
    if (flags < 0) {
        *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdnoc'.";
        return -1;
    }
    notify_flags = flags;
    return 0;
}

static str notify_format(str out)
{
    char buf[64];
    notify_format_classes(notify_flags, buf);
    return str_append(out, buf, strlen(buf));
}

static str notify_rewrite(str out, const char *name)
{
    char buf[64];
    notify_format_classes(notify_flags, buf);
    out = str_append_printf(out, "%s ", name);
    out = config_append_quoted(out, buf);
    return str_append(out, "\n", 1);
}

const struct config_special config_special_notify = {notify_parse, notify_format, notify_rewrite};

/* --- dir --------------------------------------------------------------- */

/* Stores the directory as an absolute path, resolved against the current
 * directory now, so that it stays right after the server chdir()s into it.
 * The directory must exist, as Redis requires. */
static int dir_parse(int argc, char **argv, bool loading, const char **err)
{
    (void)loading;
    struct stat st;
    if (argc != 1) {
        *err = "wrong number of arguments";
        return -1;
    }
    if (stat(argv[0], &st) != 0) {
        *err = strerror(errno);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        *err = strerror(ENOTDIR);
        return -1;
    }
    char *resolved = realpath(argv[0], NULL);
    if (!resolved) {
        *err = strerror(errno);
        return -1;
    }
    mem_free(cfg.dir);
    cfg.dir = mem_strdup(resolved);
    free(resolved); /* realpath's buffer comes from libc malloc */
    return 0;
}

static str dir_format(str out)
{
    return str_append(out, cfg.dir, strlen(cfg.dir));
}

static str dir_rewrite(str out, const char *name)
{
    out = str_append_printf(out, "%s ", name);
    out = config_append_quoted(out, cfg.dir);
    return str_append(out, "\n", 1);
}

const struct config_special config_special_dir = {dir_parse, dir_format, dir_rewrite};

/* --- hz ---------------------------------------------------------------- */

/* Redis accepts any non-negative hz and clamps it to 1..500; so do we. */
static int hz_parse(int argc, char **argv, bool loading, const char **err)
{
    (void)loading;
    long long v;
    if (argc != 1) {
        *err = "wrong number of arguments";
        return -1;
    }
    if (config_parse_number(argv[0], false, 0, INT_MAX, &v, err) != 0) return -1;
    cfg.hz = v < 1 ? 1 : v > 500 ? 500 : (int)v;
    return 0;
}

static str hz_format(str out)
{
    return str_append_printf(out, "%d", cfg.hz);
}

static str hz_rewrite(str out, const char *name)
{
    return str_append_printf(out, "%s %d\n", name, cfg.hz);
}

const struct config_special config_special_hz = {hz_parse, hz_format, hz_rewrite};

/* --- replicaof ------------------------------------------------------------ */

/* "replicaof <host> <port>" or nothing; REPLICAOF keeps it in step at run
 * time, so CONFIG REWRITE records the current primary. */
static int replicaof_parse(int argc, char **argv, bool loading, const char **err)
{
    (void)loading;
    long long port;
    if (argc == 0 || (argc == 1 && argv[0][0] == '\0')) {
        mem_free(cfg.replicaof_host);
        cfg.replicaof_host = NULL;
        cfg.replicaof_port = 0;
        return 0;
    }
    if (argc != 2) {
        *err = "wrong number of arguments";
        return -1;
    }
    if (config_parse_number(argv[1], false, 0, 65535, &port, err) != 0) return -1;
    mem_free(cfg.replicaof_host);
    cfg.replicaof_host = mem_strdup(argv[0]);
    cfg.replicaof_port = (int)port;
    return 0;
}

static str replicaof_format(str out)
{
    if (!cfg.replicaof_host) return out;
    return str_append_printf(out, "%s %d", cfg.replicaof_host, cfg.replicaof_port);
}

static str replicaof_rewrite(str out, const char *name)
{
    if (!cfg.replicaof_host) return out;
    return str_append_printf(out, "%s %s %d\n", name, cfg.replicaof_host, cfg.replicaof_port);
}

const struct config_special config_special_replicaof = {replicaof_parse, replicaof_format, replicaof_rewrite};
