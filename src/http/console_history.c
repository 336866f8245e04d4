/* console_history: see console_history.h. */
#include "http/console_history.h"

#include <string.h>
#include <sys/time.h>

#include "server/blocked.h"
#include "server/command_table.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/mem.h"

/* Commands whose calls make up the traffic series. */
static const char *const push_cmds[] = {"lpush", "rpush", "lpushx", "rpushx", NULL};
static const char *const pop_cmds[] = {"lpop",  "rpop",   "blpop",     "brpop",      "lmpop",
                                       "blmpop", "lmove", "blmove", "rpoplpush", "brpoplpush", NULL};
static const char *const xadd_cmds[] = {"xadd", NULL};
static const char *const xread_cmds[] = {"xreadgroup", NULL};
static const char *const xack_cmds[] = {"xack", NULL};
static const char *const publish_cmds[] = {"publish", "spublish", NULL};

/* A series: a counter sampled as a rate per second, or a gauge as is. */
enum series {
    S_OPS,
    S_NET_IN,
    S_NET_OUT,
    S_PUSHES,
    S_POPS,
    S_XADDS,
    S_XREADS,
    S_XACKS,
    S_PUBLISHES,
    S_MEMORY,
    S_CLIENTS,
    S_BLOCKED,
    S_COUNT
};

static const char *const series_names[S_COUNT] = {
    "ops", "net_in", "net_out", "pushes", "pops", "xadds", "xreadgroups", "xacks", "publishes", "memory", "clients",
    "blocked"};

#define RATE_COUNT S_MEMORY /* the series before it are rates */

static struct {
    struct event_loop *loop;
    struct event_timer *timer;
    long long last_ms;                  /* monotonic time of the previous sample, 0: none */
    long long last_counter[RATE_COUNT]; /* counters at the previous sample */
    long long t[CONSOLE_HISTORY_SECONDS];
    long long v[S_COUNT][CONSOLE_HISTORY_SECONDS];
    int next;  /* where the next sample goes */
    int count; /* samples held */
} hist;

/* Calls made so far of the named commands. */
static long long calls_of(const char *const *names)
{
    long long total = 0;
    for (; *names; names++) {
        struct command *c = command_lookup(*names, strlen(*names));
        if (c) total += c->calls;
    }
    return total;
}

static void read_counters(long long *out)
{
    out[S_OPS] = server.stats.total_commands;
    out[S_NET_IN] = server.stats.net_input_bytes;
    out[S_NET_OUT] = server.stats.net_output_bytes;
    out[S_PUSHES] = calls_of(push_cmds);
    out[S_POPS] = calls_of(pop_cmds);
    out[S_XADDS] = calls_of(xadd_cmds);
    out[S_XREADS] = calls_of(xread_cmds);
    out[S_XACKS] = calls_of(xack_cmds);
    out[S_PUBLISHES] = calls_of(publish_cmds);
}

static long long wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void console_history_sample(void)
{
    long long now = event_now_ms();
    long long counters[RATE_COUNT];
    read_counters(counters);
    if (hist.last_ms == 0 || now <= hist.last_ms) {
        /* the first reading only sets the baseline of the rates */
        hist.last_ms = now;
        memcpy(hist.last_counter, counters, sizeof(counters));
        return;
    }
    double seconds = (double)(now - hist.last_ms) / 1000.0;
    int i = hist.next;
    hist.t[i] = wall_ms();
    for (int s = 0; s < RATE_COUNT; s++) {
        long long delta = counters[s] - hist.last_counter[s];
        /* CONFIG RESETSTAT makes counters go back */
        hist.v[s][i] = delta < 0 ? 0 : (long long)((double)delta / seconds + 0.5);
    }
    hist.v[S_MEMORY][i] = (long long)mem_used();
    hist.v[S_CLIENTS][i] = (long long)server.client_count;
    hist.v[S_BLOCKED][i] = blocked_client_count();
    hist.last_ms = now;
    memcpy(hist.last_counter, counters, sizeof(counters));
    hist.next = (i + 1) % CONSOLE_HISTORY_SECONDS;
    if (hist.count < CONSOLE_HISTORY_SECONDS) hist.count++;
}

static void on_tick(struct event_loop *loop, void *data)
{
    (void)data;
    console_history_sample();
    hist.timer = event_timer_at(loop, event_now_ms() + 1000, on_tick, NULL);
}

void console_history_start(struct event_loop *loop)
{
    hist.loop = loop;
    console_history_sample();
    hist.timer = event_timer_at(loop, event_now_ms() + 1000, on_tick, NULL);
}

void console_history_stop(void)
{
    if (hist.timer) event_timer_cancel(hist.loop, hist.timer);
    hist.timer = NULL;
}

/* One series of the ring as an array, oldest first. */
static json_object *series_json(const long long *values, int first)
{
    json_object *arr = json_object_new_array_ext(hist.count);
    for (int k = 0; k < hist.count; k++)
        json_object_array_add(arr, json_object_new_int64(values[(first + k) % CONSOLE_HISTORY_SECONDS]));
    return arr;
}

json_object *console_history_json(void)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "interval_ms", json_object_new_int(1000));
    int first = (hist.next - hist.count + CONSOLE_HISTORY_SECONDS) % CONSOLE_HISTORY_SECONDS;
    json_object_object_add(doc, "t", series_json(hist.t, first));
    for (int s = 0; s < S_COUNT; s++) json_object_object_add(doc, series_names[s], series_json(hist.v[s], first));
    return doc;
}
