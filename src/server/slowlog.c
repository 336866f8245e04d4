#include "server/slowlog.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/config.h"
#include "util/mem.h"

#define SLOWLOG_MAX_ARGS 32
#define SLOWLOG_MAX_ARG_LEN 128

struct slowlog_entry {
    long long id;
    long long time;
    long long usec;
    int argc;
    str *argv;
    str addr;
    str name;
};

static struct slowlog_entry *entries; /* ring, newest at (head - 1) */
static size_t entry_count, entry_cap, entry_head;
static long long next_id;

static void slowlog_entry_free(struct slowlog_entry *e)
{
    for (int i = 0; i < e->argc; i++) str_free(e->argv[i]);
    mem_free(e->argv);
    str_free(e->addr);
    str_free(e->name);
}

/* Keeps at most `max` entries, dropping the oldest. */
static void slowlog_trim(size_t max)
{
    while (entry_count > max) {
        size_t oldest = (entry_head + entry_cap - entry_count) % entry_cap;
        slowlog_entry_free(&entries[oldest]);
        entry_count--;
    }
}

static void slowlog_reset(void)
{
    slowlog_trim(0);
}

/* Arguments as Redis logs them: at most 32 (the last says how many more),
 * each cut to 128 bytes with "... (N more bytes)". */
static void slowlog_fill_args(struct slowlog_entry *e, int argc, struct arg *argv)
{
    int n = argc > SLOWLOG_MAX_ARGS ? SLOWLOG_MAX_ARGS : argc;
    e->argc = n;
    e->argv = mem_alloc(sizeof(str) * (size_t)n);
    for (int i = 0; i < n; i++) {
        if (n != argc && i == n - 1) {
            e->argv[i] = str_empty(64);
            e->argv[i] = str_append_printf(e->argv[i], "... (%d more arguments)", argc - n + 1);
        } else if (argv[i].len > SLOWLOG_MAX_ARG_LEN) {
            e->argv[i] = str_new(argv[i].ptr, SLOWLOG_MAX_ARG_LEN);
            e->argv[i] = str_append_printf(e->argv[i], "... (%zu more bytes)", argv[i].len - SLOWLOG_MAX_ARG_LEN);
        } else {
            e->argv[i] = str_new(argv[i].ptr, argv[i].len);
        }
    }
}

void slowlog_maybe_add(struct client *c, int argc, struct arg *argv, long long usec)
{
    if (!slowlog_wants(usec)) return;
    if (entry_cap < (size_t)cfg.slowlog_max_len) {
        struct slowlog_entry *grown = mem_calloc(sizeof(*grown) * (size_t)cfg.slowlog_max_len);
        for (size_t i = 0; i < entry_count; i++)
            grown[i] = entries[(entry_head + entry_cap - entry_count + i) % entry_cap];
        mem_free(entries);
        entries = grown;
        entry_head = entry_count;
        entry_cap = (size_t)cfg.slowlog_max_len;
    }
    slowlog_trim((size_t)cfg.slowlog_max_len - 1);
    struct slowlog_entry *e = &entries[entry_head];
    entry_head = (entry_head + 1) % entry_cap;
    entry_count++;
    e->id = next_id++;
    e->time = (long long)time(NULL);
    e->usec = usec;
    slowlog_fill_args(e, argc, argv);
    e->addr = str_from_cstr(c->addr);
    e->name = str_from_cstr(c->name ? c->name : "");
}

static void slowlog_reply_entry(struct outbuf *o, struct slowlog_entry *e)
{
    reply_array(o, 6);
    reply_int(o, e->id);
    reply_int(o, e->time);
    reply_int(o, e->usec);
    reply_array(o, e->argc);
    for (int i = 0; i < e->argc; i++) reply_bulk(o, e->argv[i], str_len(e->argv[i]));
    reply_bulk(o, e->addr, str_len(e->addr));
    reply_bulk(o, e->name, str_len(e->name));
}

static void cmd_slowlog_get(struct request *req)
{
    long long count = 10;
    if (req->argc > 3) {
        reply_errorf(req->out, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try SLOWLOG HELP.",
                     req->argv[1].ptr);
        return;
    }
    if (req->argc == 3) {
        /* one message for a non-number and a negative count, as in Redis */
        if (!request_ll_range(req, 2, -1, LLONG_MAX, &count, "ERR count should be greater than or equal to -1"))
            return;
        if (count == -1) count = (long long)entry_count;
    }
    if (count > (long long)entry_count) count = (long long)entry_count;
    reply_array(req->out, count);
    for (long long i = 0; i < count; i++) {
        size_t idx = (entry_head + entry_cap - 1 - (size_t)i) % entry_cap;
        slowlog_reply_entry(req->out, &entries[idx]);
    }
}

static void cmd_slowlog_len(struct request *req)
{
    reply_int(req->out, (long long)entry_count);
}

static void cmd_slowlog_reset(struct request *req)
{
    slowlog_reset();
    reply_ok(req->out);
}

static void cmd_slowlog_help(struct request *req)
{
    static const char *const lines[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

struct command slowlog_subcommands[] = {
    {"get", cmd_slowlog_get, -2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous",
     "server", "Returns the slow log's entries.", "2.2.12", "O(N)"},
    {"len", cmd_slowlog_len, 2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns the number of entries in the slow log.", "2.2.12", "O(1)"},
    {"reset", cmd_slowlog_reset, 2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous",
     "server", "Clears all entries from the slow log.", "2.2.12", "O(N)"},
    {"help", cmd_slowlog_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow", "server", "Show helpful text.",
     "6.2.0", "O(1)"},
    {0},
};
