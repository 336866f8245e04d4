/* runnel-bench: load generator and checker for Runnel (and any RESP server).
 * main parses the command line, fills in per-workload defaults, runs the
 * workload and prints its table (stdout) and JSON (--json). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "json.h"
#include "message.h"
#include "selftest.h"

struct workload {
    const char *name;
    int (*run)(const struct bench_opts *o, struct bench_result *r);
    const char *summary;
};

static const struct workload workloads[] = {
    {"pubsub", wl_pubsub_run, "P publishers, S subscribers on C channels (or patterns)"},
    {"queue", wl_queue_run, "P producers LPUSH, C consumers BRPOP (or BLMOVE + LREM)"},
    {"stream", wl_stream_run, "P producers XADD, a group of C consumers XREADGROUP + XACK"},
    {"memory", wl_memory_run, "used_memory per message: list, stream, stuck subscribers (FLUSHALL!)"},
    {"ping", wl_ping_run, "C connections, pipelined PING"},
    {"echo-limit", wl_echo_run, "ping against an in-process responder: this machine's ceiling"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: runnel-bench [-h host] [-p port] [-a password] [--seconds N | --messages N]\n"
               "                    [--size bytes] [--json file] [options] WORKLOAD\n"
               "       runnel-bench --self-test\n\n"
               "workloads:\n");
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
        fprintf(f, "  %-11s %s\n", workloads[i].name, workloads[i].summary);
    fprintf(f, "\noptions (defaults in brackets):\n"
               "  --seconds N       run length [5]           --messages N  total messages/requests instead\n"
               "  --size B          payload bytes, >= 32 [64]\n"
               "  --publishers P [2]  --subscribers S [10]  --channels C [1]  --patterns (PSUBSCRIBE)\n"
               "  --producers P [queue 4, stream 2]  --consumers C [4]  --reliable (BLMOVE + LREM)\n"
               "  --pipeline N      commands in flight per connection [16; ping/echo-limit 32]\n"
               "  --connections N   ping/echo-limit connections [50]\n"
               "  --drain S         seconds to wait for stragglers at the end [5]\n"
               "  --rate N          open loop (pubsub, queue, stream): N messages/s over all senders,\n"
               "                    latency from each message's due time [off: closed loop]\n"
               "  --quiet           no progress on stderr\n"
               "exit status: 0 ok, 1 error, 2 usage, 3 lost/duplicated/pending messages\n");
}

enum {
    OPT_SECONDS = 256,
    OPT_MESSAGES,
    OPT_SIZE,
    OPT_JSON,
    OPT_PUBLISHERS,
    OPT_SUBSCRIBERS,
    OPT_CHANNELS,
    OPT_PATTERNS,
    OPT_PRODUCERS,
    OPT_CONSUMERS,
    OPT_RELIABLE,
    OPT_PIPELINE,
    OPT_CONNECTIONS,
    OPT_DRAIN,
    OPT_RATE,
    OPT_QUIET,
    OPT_SELF_TEST,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"messages", required_argument, NULL, OPT_MESSAGES},
    {"size", required_argument, NULL, OPT_SIZE},
    {"json", required_argument, NULL, OPT_JSON},
    {"publishers", required_argument, NULL, OPT_PUBLISHERS},
    {"subscribers", required_argument, NULL, OPT_SUBSCRIBERS},
    {"channels", required_argument, NULL, OPT_CHANNELS},
    {"patterns", no_argument, NULL, OPT_PATTERNS},
    {"producers", required_argument, NULL, OPT_PRODUCERS},
    {"consumers", required_argument, NULL, OPT_CONSUMERS},
    {"reliable", no_argument, NULL, OPT_RELIABLE},
    {"pipeline", required_argument, NULL, OPT_PIPELINE},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"drain", required_argument, NULL, OPT_DRAIN},
    {"rate", required_argument, NULL, OPT_RATE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"self-test", no_argument, NULL, OPT_SELF_TEST},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Parses a number in [min, max]; exits with a usage error otherwise. */
static double parse_number(const char *opt, const char *arg, double min, double max)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || v < min || v > max) {
        fprintf(stderr, "runnel-bench: %s: expected a number in [%g, %g], got '%s'\n", opt, min, max, arg);
        exit(BENCH_EXIT_USAGE);
    }
    return v;
}

static int parse_int(const char *opt, const char *arg, int min, int max)
{
    double v = parse_number(opt, arg, min, max);
    if (v != (int)v) {
        fprintf(stderr, "runnel-bench: %s: expected an integer, got '%s'\n", opt, arg);
        exit(BENCH_EXIT_USAGE);
    }
    return (int)v;
}

/* Applies one option; false for an unknown one. */
static bool apply_option(struct bench_opts *o, int c, const char *arg, bool *self_test)
{
    switch (c) {
    case 'h': o->target.host = arg; break;
    case 'p': o->target.port = parse_int("-p", arg, 1, 65535); break;
    case 'a': o->target.password = arg; break;
    case OPT_SECONDS: o->seconds = parse_number("--seconds", arg, 0.1, 86400); break;
    case OPT_MESSAGES: o->messages = (uint64_t)parse_number("--messages", arg, 1, 1e12); break;
    case OPT_SIZE: o->size = (size_t)parse_int("--size", arg, 1, 64 << 20); break;
    case OPT_JSON: o->json_path = arg; break;
    case OPT_PUBLISHERS: o->publishers = parse_int("--publishers", arg, 0, 10000); break;
    case OPT_SUBSCRIBERS: o->subscribers = parse_int("--subscribers", arg, 0, 10000); break;
    case OPT_CHANNELS: o->channels = parse_int("--channels", arg, 1, 100000); break;
    case OPT_PATTERNS: o->patterns = true; break;
    case OPT_PRODUCERS: o->producers = parse_int("--producers", arg, 1, MSG_MAX_SOURCES); break;
    case OPT_CONSUMERS: o->consumers = parse_int("--consumers", arg, 1, 10000); break;
    case OPT_RELIABLE: o->reliable = true; break;
    case OPT_PIPELINE: o->pipeline = parse_int("--pipeline", arg, 1, 100000); break;
    case OPT_CONNECTIONS: o->connections = parse_int("--connections", arg, 1, 10000); break;
    case OPT_DRAIN: o->drain_seconds = parse_number("--drain", arg, 0, 3600); break;
    case OPT_RATE: o->rate = parse_number("--rate", arg, 1, 1e9); break;
    case OPT_QUIET: o->quiet = true; break;
    case OPT_SELF_TEST: *self_test = true; break;
    default: return false;
    }
    return true;
}

/* Fills every option the user left unset (-1 / 0) with the workload's default. */
static void apply_defaults(struct bench_opts *o)
{
    bool pinglike = strcmp(o->workload, "ping") == 0 || strcmp(o->workload, "echo-limit") == 0;
    if (o->pipeline < 0)
        o->pipeline = pinglike ? 32 : 16;
    if (o->producers < 0)
        o->producers = strcmp(o->workload, "stream") == 0 ? 2 : 4;
    if (o->publishers < 0)
        o->publishers = 2;
    if (o->subscribers < 0)
        o->subscribers = 10;
    if (o->consumers < 0)
        o->consumers = 4;
    if (o->size < MSG_HEADER_LEN)
        o->size = MSG_HEADER_LEN;
    if (!o->messages && strcmp(o->workload, "memory") == 0)
        o->messages = 100000;
}

static const struct workload *find_workload(const char *name)
{
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}

static void print_value(double v, bool integer)
{
    if (integer)
        printf("%16llu\n", (unsigned long long)v);
    else
        printf("%16.1f\n", v);
}

static void print_table(const struct bench_opts *o, const struct bench_result *r)
{
    if (strcmp(o->workload, "echo-limit") == 0)
        printf("\nrunnel-bench %s  in-process responder  %s\n", o->workload, r->params);
    else
        printf("\nrunnel-bench %s  %s:%d  %s\n", o->workload, o->target.host, o->target.port, r->params);
    printf("  %-42s%16.2f\n", "elapsed (s)", r->elapsed);
    for (int i = 0; i < r->n_metrics; i++) {
        printf("  %-42s", r->metrics[i].label);
        print_value(r->metrics[i].value, r->metrics[i].integer);
    }
    const struct histogram *h = r->latency;
    if (h && h->count) {
        const double pcts[] = {50, 99, 99.9};
        const char *names[] = {"latency p50 (us)", "latency p99 (us)", "latency p99.9 (us)"};
        for (int i = 0; i < 3; i++)
            printf("  %-42s%16.1f\n", names[i], (double)histogram_percentile(h, pcts[i]) / 1e3);
        printf("  %-42s%16.1f\n", "latency max (us)", (double)h->max / 1e3);
        printf("  %-42s%16.1f\n", "latency mean (us)", histogram_mean(h) / 1e3);
    }
    printf("  %-42s%16s\n", "result", r->status == BENCH_EXIT_OK ? "ok" : "FAILED");
}

static void json_latency(struct json_writer *w, const struct histogram *h)
{
    json_begin_object(w, "latency_us");
    json_integer(w, "count", (long long)h->count);
    json_number(w, "mean", histogram_mean(h) / 1e3);
    json_number(w, "min", h->count ? (double)h->min / 1e3 : 0);
    json_number(w, "p50", (double)histogram_percentile(h, 50) / 1e3);
    json_number(w, "p90", (double)histogram_percentile(h, 90) / 1e3);
    json_number(w, "p99", (double)histogram_percentile(h, 99) / 1e3);
    json_number(w, "p999", (double)histogram_percentile(h, 99.9) / 1e3);
    json_number(w, "max", (double)h->max / 1e3);
    json_end_object(w);
}

static void json_options(struct json_writer *w, const struct bench_opts *o)
{
    json_begin_object(w, "options");
    json_number(w, "seconds", o->messages ? 0 : o->seconds);
    json_integer(w, "messages", (long long)o->messages);
    json_integer(w, "size", (long long)o->size);
    json_integer(w, "publishers", o->publishers);
    json_integer(w, "subscribers", o->subscribers);
    json_integer(w, "channels", o->channels);
    json_bool(w, "patterns", o->patterns);
    json_integer(w, "producers", o->producers);
    json_integer(w, "consumers", o->consumers);
    json_bool(w, "reliable", o->reliable);
    json_integer(w, "pipeline", o->pipeline);
    json_integer(w, "connections", o->connections);
    json_end_object(w);
}

/* Writes the result as one JSON object; false if the file cannot be written. */
static bool write_json(const struct bench_opts *o, const struct bench_result *r)
{
    FILE *f = strcmp(o->json_path, "-") == 0 ? stdout : fopen(o->json_path, "w");
    if (!f)
        return false;
    struct json_writer w;
    json_init(&w, f);
    json_begin_object(&w, NULL);
    json_string(&w, "tool", "runnel-bench");
    json_string(&w, "workload", o->workload);
    json_string(&w, "host", o->target.host);
    json_integer(&w, "port", o->target.port);
    json_string(&w, "params", r->params);
    json_options(&w, o);
    json_bool(&w, "ok", r->status == BENCH_EXIT_OK);
    json_integer(&w, "status", r->status);
    json_string(&w, "error", r->error);
    json_number(&w, "elapsed_s", r->elapsed);
    json_integer(&w, "ops", (long long)r->ops);
    json_begin_object(&w, "metrics");
    for (int i = 0; i < r->n_metrics; i++)
        json_number(&w, r->metrics[i].name, r->metrics[i].value);
    json_end_object(&w);
    if (r->latency)
        json_latency(&w, r->latency);
    json_end_object(&w);
    return f == stdout ? fflush(f) == 0 : fclose(f) == 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {
        .target = {"127.0.0.1", 6379, NULL},
        .seconds = 5,
        .size = 64,
        .publishers = -1,
        .subscribers = -1,
        .channels = 1,
        .producers = -1,
        .consumers = -1,
        .pipeline = -1,
        .connections = 50,
        .drain_seconds = 5,
    };
    bool self_test = false;
    int c;
    while ((c = getopt_long(argc, argv, "h:p:a:", long_opts, NULL)) != -1) {
        if (c == OPT_HELP) {
            usage(stdout);
            return 0;
        }
        if (!apply_option(&o, c, optarg, &self_test)) {
            usage(stderr);
            return BENCH_EXIT_USAGE;
        }
    }
    if (self_test)
        return selftest_run(stdout) ? 1 : 0;
    const struct workload *wl = optind + 1 == argc ? find_workload(argv[optind]) : NULL;
    if (!wl) {
        fprintf(stderr, "runnel-bench: expected one workload%s%s\n", optind < argc ? ", got " : "",
                optind < argc ? argv[optind] : "");
        usage(stderr);
        return BENCH_EXIT_USAGE;
    }
    o.workload = wl->name;
    apply_defaults(&o);
    struct bench_result r = {0};
    wl->run(&o, &r);
    print_table(&o, &r);
    if (o.json_path && !write_json(&o, &r)) {
        fprintf(stderr, "runnel-bench: cannot write %s\n", o.json_path);
        free(r.latency);
        return BENCH_EXIT_ERROR;
    }
    if (r.status != BENCH_EXIT_OK)
        fprintf(stderr, "runnel-bench: %s: %s\n", o.workload, r.error);
    free(r.latency);
    return r.status;
}
