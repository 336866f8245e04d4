/* latency: event series and the LATENCY commands (LATEST, HISTORY, RESET,
 * GRAPH, DOCTOR). See latency.h for what is recorded. */
#include "server/latency.h"

#include <errno.h>
#include <stdint.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "protocol/reply.h"
#include "server/command_table.h"
#include "server/config.h"
#include "util/mem.h"
#include "util/str.h"

#define LATENCY_SAMPLES 160
#define LATENCY_EVENTS 32
#define GRAPH_COLUMNS 80
#define GRAPH_ROWS 4

struct latency_sample {
    int64_t time; /* unix seconds; 0: an unused slot */
    uint32_t ms;
};

struct latency_series {
    const char *event; /* NULL: an unused entry */
    int next;          /* slot the next sample goes to */
    uint32_t max;      /* highest ever */
    struct latency_sample samples[LATENCY_SAMPLES];
};

static struct latency_series series[LATENCY_EVENTS];
static long long last_fork_usec, total_forks;

static struct latency_series *series_find(const char *event, size_t len)
{
    for (int i = 0; i < LATENCY_EVENTS; i++)
        if (series[i].event && strlen(series[i].event) == len && memcmp(series[i].event, event, len) == 0)
            return &series[i];
    return NULL;
}

static struct latency_series *series_get(const char *event)
{
    struct latency_series *s = series_find(event, strlen(event));
    for (int i = 0; !s && i < LATENCY_EVENTS; i++)
        if (!series[i].event) s = &series[i];
    if (s && !s->event) s->event = event;
    return s;
}

static const struct latency_sample *series_last(const struct latency_series *s)
{
    return &s->samples[(s->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
}

void latency_add_sample_if_needed(const char *event, long long ms)
{
    if (cfg.latency_monitor_threshold <= 0 || ms < cfg.latency_monitor_threshold) return;
    struct latency_series *s = series_get(event);
    if (!s) return; /* more event names than slots: never with the server's own */
    uint32_t v = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    int64_t now = (int64_t)time(NULL);
    if (v > s->max) s->max = v;
    struct latency_sample *last = &s->samples[(s->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
    if (last->time == now) {
        if (v > last->ms) last->ms = v;
        return;
    }
    s->samples[s->next] = (struct latency_sample){now, v};
    s->next = (s->next + 1) % LATENCY_SAMPLES;
}

/* The child's work can wait; the server's clients should not. Set by the
 * parent right after fork() returns, before it answers the command that
 * forked; a child it cannot lower still does its work. */
static void lower_child_priority(pid_t pid)
{
    if (cfg.fork_child_nice <= 0) return;
    errno = 0;
    int current = getpriority(PRIO_PROCESS, 0);
    if (errno != 0) return;
    int target = current + cfg.fork_child_nice;
    setpriority(PRIO_PROCESS, (id_t)pid, target > 19 ? 19 : target);
}

pid_t latency_fork(void)
{
    long long start = db_monotonic_us();
    pid_t pid = fork();
    if (pid <= 0) return pid;
    lower_child_priority(pid);
    last_fork_usec = db_monotonic_us() - start;
    total_forks++;
    latency_add_sample_if_needed("fork", last_fork_usec / 1000);
    return pid;
}

long long latency_last_fork_usec(void)
{
    return last_fork_usec;
}

long long latency_total_forks(void)
{
    return total_forks;
}

/* Calls fn on each sample of s, oldest first. */
static void series_each(const struct latency_series *s, void (*fn)(const struct latency_sample *, void *), void *ctx)
{
    for (int i = 0; i < LATENCY_SAMPLES; i++) {
        const struct latency_sample *x = &s->samples[(s->next + i) % LATENCY_SAMPLES];
        if (x->time) fn(x, ctx);
    }
}

static void count_sample(const struct latency_sample *x, void *ctx)
{
    (void)x;
    (*(int *)ctx)++;
}

static int series_count(const struct latency_series *s)
{
    int n = 0;
    series_each(s, count_sample, &n);
    return n;
}

/* ---- LATENCY LATEST | HISTORY | RESET ---- */

static void cmd_latency_latest(struct request *req)
{
    int n = 0;
    for (int i = 0; i < LATENCY_EVENTS; i++) n += series[i].event != NULL;
    reply_array(req->out, n);
    for (int i = 0; i < LATENCY_EVENTS; i++) {
        const struct latency_series *s = &series[i];
        if (!s->event) continue;
        const struct latency_sample *last = series_last(s);
        reply_array(req->out, 4);
        reply_bulk(req->out, s->event, strlen(s->event));
        reply_int(req->out, last->time);
        reply_int(req->out, last->ms);
        reply_int(req->out, s->max);
    }
}

static void reply_sample(const struct latency_sample *x, void *ctx)
{
    struct outbuf *out = ctx;
    reply_array(out, 2);
    reply_int(out, x->time);
    reply_int(out, x->ms);
}

static void cmd_latency_history(struct request *req)
{
    const struct latency_series *s = series_find(req->argv[2].ptr, req->argv[2].len);
    if (!s) {
        reply_empty_array(req->out);
        return;
    }
    reply_array(req->out, series_count(s));
    series_each(s, reply_sample, req->out);
}

/* LATENCY RESET [event ...]: the number of series dropped. */
static void cmd_latency_reset(struct request *req)
{
    long long dropped = 0;
    for (int i = 0; i < LATENCY_EVENTS; i++) {
        struct latency_series *s = &series[i];
        if (!s->event) continue;
        bool named = req->argc == 2;
        for (int a = 2; a < req->argc && !named; a++)
            named = strlen(s->event) == req->argv[a].len && memcmp(s->event, req->argv[a].ptr, req->argv[a].len) == 0;
        if (!named) continue;
        memset(s, 0, sizeof(*s));
        dropped++;
    }
    reply_int(req->out, dropped);
}

/* ---- LATENCY GRAPH ---- */

struct graph {
    uint32_t low, high;
    int64_t first, last;
    int columns;
    uint32_t values[GRAPH_COLUMNS];
};

/* Keeps the newest GRAPH_COLUMNS samples (older ones shift out). */
static void graph_add(const struct latency_sample *x, void *ctx)
{
    struct graph *g = ctx;
    if (g->columns == GRAPH_COLUMNS) {
        memmove(g->values, g->values + 1, sizeof(g->values[0]) * (GRAPH_COLUMNS - 1));
        g->columns--;
    }
    g->values[g->columns++] = x->ms;
    g->last = x->time;
}

static void graph_range(struct graph *g)
{
    g->low = UINT32_MAX;
    for (int i = 0; i < g->columns; i++) {
        if (g->values[i] < g->low) g->low = g->values[i];
        if (g->values[i] > g->high) g->high = g->values[i];
    }
}

/* Rows of '#' scaled between the lowest and highest sample shown (a sample
 * always gets at least one), then where the columns lie in time. */
static str graph_render(const struct latency_series *s, const struct graph *g)
{
    str out = str_append_printf(str_empty(1024), "%s - high %u ms, low %u ms (all time high %u ms)\n", s->event,
                                g->high, g->low, s->max);
    for (int i = 0; i < GRAPH_COLUMNS; i++) out = str_append(out, "-", 1);
    out = str_append(out, "\n", 1);
    for (int row = GRAPH_ROWS; row >= 1; row--) {
        for (int c = 0; c < g->columns; c++) {
            uint32_t span = g->high - g->low;
            int height = span ? 1 + (int)((uint64_t)(g->values[c] - g->low) * (GRAPH_ROWS - 1) / span) : GRAPH_ROWS;
            out = str_append(out, height >= row ? "#" : " ", 1);
        }
        out = str_append(out, "\n", 1);
    }
    long long now = (long long)time(NULL);
    return str_append_printf(out, "%d samples, one per column, from %llds ago to %llds ago\n", g->columns,
                             now - (long long)g->first, now - (long long)g->last);
}

static void cmd_latency_graph(struct request *req)
{
    const struct latency_series *s = series_find(req->argv[2].ptr, req->argv[2].len);
    if (!s) {
        reply_errorf(req->out, "ERR No samples available for event '%.*s'", (int)req->argv[2].len,
                     req->argv[2].ptr);
        return;
    }
    struct graph g = {0};
    series_each(s, graph_add, &g);
    int skipped = series_count(s) - g.columns;
    for (int i = 0, seen = 0; i < LATENCY_SAMPLES; i++) {
        const struct latency_sample *x = &s->samples[(s->next + i) % LATENCY_SAMPLES];
        if (x->time && seen++ == skipped) g.first = x->time;
    }
    graph_range(&g);
    str text = graph_render(s, &g);
    reply_verbatim(req->out, text, str_len(text), "txt");
    str_free(text);
}

/* ---- LATENCY DOCTOR ---- */

struct series_stats {
    int count;
    double sum, deviation, mean;
    int64_t first, last;
};

static void stats_add(const struct latency_sample *x, void *ctx)
{
    struct series_stats *st = ctx;
    if (!st->count) st->first = x->time;
    st->last = x->time;
    st->count++;
    st->sum += x->ms;
}

static void stats_deviate(const struct latency_sample *x, void *ctx)
{
    struct series_stats *st = ctx;
    double d = x->ms - st->mean;
    st->deviation += d < 0 ? -d : d;
}

/* What to look at for an event, by the part of the server that reports it. */
static const char *doctor_advice(const char *event)
{
    if (strcmp(event, "command") == 0)
        return "SLOWLOG GET names the slow commands; O(N) commands on big keys (KEYS, SMEMBERS, LRANGE of a "
               "whole list...) are the usual cause.";
    if (strcmp(event, "fast-command") == 0)
        return "O(1) and O(log N) commands were slow: the machine may be overloaded, swapping, or the "
               "process paused by its host.";
    if (strcmp(event, "fork") == 0)
        return "Forking for BGSAVE or an AOF rewrite stops the server for a time that grows with the memory "
               "used; INFO's latest_fork_usec shows the last one.";
    if (strcmp(event, "expire-cycle") == 0)
        return "Many keys expired together; spreading their deadlines (a random part in each TTL) helps.";
    if (strncmp(event, "aof-", 4) == 0)
        return "The disk was slow to take the append-only file; appendfsync everysec, or a disk of its own, "
               "keeps it off the commands' path.";
    return "See the documentation of the latency monitor for this event.";
}

static str doctor_report(void)
{
    str out = str_empty(1024);
    int n = 0;
    for (int i = 0; i < LATENCY_EVENTS; i++) {
        const struct latency_series *s = &series[i];
        if (!s->event) continue;
        struct series_stats st = {0};
        series_each(s, stats_add, &st);
        st.mean = st.count ? st.sum / st.count : 0;
        series_each(s, stats_deviate, &st);
        long long period = st.count > 1 ? (long long)(st.last - st.first) / (st.count - 1) : 0;
        out = str_append_printf(out,
                                "%d. %s: %d latency spikes (average %.0f ms, mean deviation %.0f ms, period %lld s). "
                                "Worst all time event %u ms.\n   %s\n",
                                ++n, s->event, st.count, st.mean, st.count ? st.deviation / st.count : 0, period,
                                s->max, doctor_advice(s->event));
    }
    if (n) return out;
    if (cfg.latency_monitor_threshold <= 0)
        return str_append_printf(out, "I have no latency reports to show you at this moment. Latency monitoring "
                                      "is disabled unless latency-monitor-threshold is set.\n");
    return str_append_printf(out, "No latency spike of %lld ms or more has been recorded since the server "
                                  "started or the last LATENCY RESET.\n",
                             cfg.latency_monitor_threshold);
}

static void cmd_latency_doctor(struct request *req)
{
    str text = doctor_report();
    reply_verbatim(req->out, text, str_len(text), "txt");
    str_free(text);
}

/* ---- per-command histograms ---- */

const long long latency_points_usec[LATENCY_POINTS] = {
    1,    2,     4,     8,     16,     33,     66,     132,    264,    528,    1056,
    2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065, 1073741,
};

/* latency_counter_small[d]: counter 0 for 0 µs, 1 for 1 µs, then k + 1
 * for the first point k >= d. */
const unsigned char latency_counter_small[64] = {
    0, 1, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
};

/* Point 2^b >= usec > 2^(b-1) lies at or just above point b (each point k
 * is 2^k µs plus at most 3.3%), so the answer is b or b - 1. */
int latency_counter_large(unsigned long long usec)
{
    if (usec > (unsigned long long)latency_points_usec[LATENCY_POINTS - 2]) return COMMAND_LATENCY_BUCKETS - 1;
    int b = 64 - __builtin_clzll(usec - 1); /* 2^(b-1) < usec <= 2^b */
    if (usec <= (unsigned long long)latency_points_usec[b - 1]) b--;
    return b + 1;
}

static long long histogram_calls(const struct command *cmd)
{
    long long n = 0;
    for (int b = 0; b < COMMAND_LATENCY_BUCKETS; b++) n += cmd->latency_hist[b];
    return n;
}

/* One command's entry: its full name, then {calls, histogram_usec} with the
 * cumulative count at every point that added calls, as Redis 7 replies. */
static void histogram_reply_one(struct outbuf *out, const struct command *cmd, long long calls)
{
    const char *name = cmd->full_name ? cmd->full_name : cmd->name;
    reply_bulk(out, name, strlen(name));
    reply_map(out, 2);
    reply_bulk(out, "calls", 5);
    reply_int(out, calls);
    reply_bulk(out, "histogram_usec", 14);
    int used = 0;
    for (int k = 0; k < LATENCY_POINTS; k++) used += latency_point_count(cmd, k) != 0;
    reply_map(out, used);
    long long cumulative = 0;
    for (int k = 0; k < LATENCY_POINTS; k++) {
        long long n = latency_point_count(cmd, k);
        if (!n) continue;
        cumulative += n;
        reply_int(out, latency_points_usec[k]);
        reply_int(out, cumulative);
    }
}

/* The highest value of the HDR sub-bucket (two significant digits: 256
 * sub-buckets, 128 per power of two above them) holding ns, which Redis's
 * INFO latencystats reports for a percentile (in µs, three decimals). */
static long long hdr_highest_equivalent(long long ns)
{
    if (ns < 256) return ns;
    int shift = 63 - __builtin_clzll((unsigned long long)ns) - 7;
    return ((ns >> shift) << shift) + (1LL << shift) - 1;
}

/* What INFO latencystats says for a percentile that falls in counter b: the
 * HDR value Redis would give for the slowest call the counter can hold (0
 * µs: Redis records 1 ns; above the last point: its cap, 1 s). Exact for
 * calls of 0 and 1 µs and for calls at the top of their counter's range. */
static double counter_report_usec(int b)
{
    if (b == 0) return 0.001;
    if (b == COMMAND_LATENCY_BUCKETS - 1) return (double)hdr_highest_equivalent(1000000000LL) / 1000.0;
    return (double)hdr_highest_equivalent(latency_points_usec[b - 1] * 1000) / 1000.0;
}

/* The commands a LATENCY HISTOGRAM reply holds: a command with calls, and
 * for a command with subcommands, each of them that has calls. */
struct histogram_pick {
    const struct command **cmds;
    size_t count, cap;
};

static void histogram_pick_add(struct histogram_pick *p, const struct command *cmd)
{
    if (cmd->subcommands) {
        for (const struct command *sub = cmd->subcommands; sub->name; sub++) histogram_pick_add(p, sub);
        return;
    }
    if (histogram_calls(cmd) == 0) return;
    if (p->count == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->cmds = mem_realloc(p->cmds, p->cap * sizeof(*p->cmds));
    }
    p->cmds[p->count++] = cmd;
}

static void histogram_pick_each(struct command *cmd, void *ctx)
{
    histogram_pick_add(ctx, cmd);
}

/* A name as LATENCY HISTOGRAM takes it: "set", or "config|get". */
static const struct command *histogram_lookup(const struct arg *a)
{
    const char *bar = memchr(a->ptr, '|', a->len);
    if (!bar) return command_lookup(a->ptr, a->len);
    struct command *parent = command_lookup(a->ptr, (size_t)(bar - a->ptr));
    if (!parent || !parent->subcommands) return NULL;
    return command_lookup_sub(parent, bar + 1, a->len - (size_t)(bar - a->ptr) - 1);
}

static void cmd_latency_histogram(struct request *req)
{
    struct histogram_pick pick = {0};
    if (req->argc == 2) {
        command_table_each(histogram_pick_each, &pick);
    } else {
        for (int i = 2; i < req->argc; i++) {
            const struct command *cmd = histogram_lookup(&req->argv[i]);
            if (cmd) histogram_pick_add(&pick, cmd);
        }
    }
    reply_map(req->out, (long long)pick.count);
    for (size_t i = 0; i < pick.count; i++) histogram_reply_one(req->out, pick.cmds[i], histogram_calls(pick.cmds[i]));
    mem_free(pick.cmds);
}

/* One INFO latencystats line: the bound of the bucket holding each
 * configured percentile of the command's calls. */
static void info_stats_line(struct command *cmd, void *ctx)
{
    if (cmd->subcommands) {
        for (struct command *sub = cmd->subcommands; sub->name; sub++) info_stats_line(sub, ctx);
        return;
    }
    long long calls = histogram_calls(cmd);
    if (!calls) return;
    str *s = ctx;
    *s = str_append_printf(*s, "latency_percentiles_usec_%s:", cmd->full_name ? cmd->full_name : cmd->name);
    const char *p = cfg.latency_tracking_info_percentiles ? cfg.latency_tracking_info_percentiles : "";
    bool first = true;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *end;
        double pct = strtod(p, &end);
        p = end;
        /* the smallest counter whose cumulative count reaches pct of the calls */
        double want = pct / 100.0 * (double)calls;
        long long cumulative = 0;
        int b = 0;
        for (; b < COMMAND_LATENCY_BUCKETS - 1; b++) {
            cumulative += cmd->latency_hist[b];
            if (cumulative > 0 && (double)cumulative >= want) break;
        }
        *s = str_append_printf(*s, "%sp%g=%.3f", first ? "" : ",", pct, counter_report_usec(b));
        first = false;
    }
    *s = str_append(*s, "\r\n", 2);
}

str latency_info_stats(str s)
{
    s = str_append(s, "# Latencystats\r\n", 16);
    if (cfg.latency_tracking) command_table_each(info_stats_line, &s);
    return s;
}

static void cmd_latency_help(struct request *req)
{
    static const char *const lines[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define LATENCY_FLAGS (CMD_ADMIN | CMD_LOADING | CMD_STALE)
struct command latency_subcommands[] = {
    {"latest", cmd_latency_latest, 2, LATENCY_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns the latest latency samples for all events.", "2.8.13", "O(1)"},
    {"history", cmd_latency_history, 3, LATENCY_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns timestamp-latency samples for an event.", "2.8.13", "O(1)"},
    {"reset", cmd_latency_reset, -2, LATENCY_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Resets the latency data for one or more events.", "2.8.13", "O(1)"},
    {"graph", cmd_latency_graph, 3, LATENCY_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns a latency graph for an event.", "2.8.13", "O(1)"},
    {"doctor", cmd_latency_doctor, 2, LATENCY_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns a human-readable latency analysis report.", "2.8.13", "O(1)"},
    {"histogram", cmd_latency_histogram, -2, LATENCY_FLAGS, 0, 0, 0, "@admin @slow @dangerous", "server",
     "Returns the cumulative distribution of latencies of a subset or all commands.", "7.0.0",
     "O(N) where N is the number of commands with latency information being retrieved."},
    {"help", cmd_latency_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow", "server",
     "Returns helpful text about the different subcommands.", "2.8.13", "O(1)"},
    {0},
};
