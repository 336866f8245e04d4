#include "server/stats.h"

#include <string.h>

#include "db/dict.h"
#include "server/command_table.h"
#include "server/server.h"

static const struct dict_type errors_type = {.nocase = false, .owns_keys = true, .val_free = NULL};
static struct dict *error_codes;

/* Redis caps the distinct error codes it tracks at 128. */
#define MAX_ERROR_CODES 128

void server_count_error(const char *code)
{
    if (!error_codes) error_codes = dict_create(&errors_type);
    server.stats.total_error_replies++;
    size_t len = strlen(code);
    struct dict_entry *e = dict_find(error_codes, code, len);
    if (!e) {
        if (dict_size(error_codes) >= MAX_ERROR_CODES) return;
        e = dict_add(error_codes, str_new(code, len), NULL);
        e->v.i64 = 0;
    }
    e->v.i64++;
}

str stats_append_errorstats(str s)
{
    if (!error_codes) return s;
    struct dict_iter it;
    dict_iter_init(&it, error_codes, false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) s = str_append_printf(s, "errorstat_%s:count=%lld\r\n", e->key, (long long)e->v.i64);
    dict_iter_done(&it);
    return s;
}

void stats_sample(void)
{
    struct server_stats *st = &server.stats;
    long long now = event_now_ms();
    long long elapsed = now - st->ops_sample_time_ms;
    if (elapsed <= 0) return;
    int i = st->ops_sample_index;
    st->ops_samples[i] = (st->total_commands - st->ops_sample_count) * 1000 / elapsed;
    st->net_in_samples[i] = (st->net_input_bytes - st->net_in_sample_count) * 1000 / elapsed;
    st->net_out_samples[i] = (st->net_output_bytes - st->net_out_sample_count) * 1000 / elapsed;
    st->ops_sample_index = (i + 1) % OPS_SAMPLES;
    st->ops_sample_time_ms = now;
    st->ops_sample_count = st->total_commands;
    st->net_in_sample_count = st->net_input_bytes;
    st->net_out_sample_count = st->net_output_bytes;
}

double stats_instantaneous(const long long *samples)
{
    long long sum = 0;
    for (int i = 0; i < OPS_SAMPLES; i++) sum += samples[i];
    return (double)sum / OPS_SAMPLES;
}

long long stats_instantaneous_ops(void)
{
    return (long long)stats_instantaneous(server.stats.ops_samples);
}

static void reset_command_stats(struct command *cmd, void *ctx)
{
    (void)ctx;
    cmd->calls = cmd->usec = cmd->rejected_calls = cmd->failed_calls = 0;
    memset(cmd->latency_hist, 0, sizeof(cmd->latency_hist));
    if (!cmd->subcommands) return;
    for (struct command *sub = cmd->subcommands; sub->name; sub++) reset_command_stats(sub, NULL);
}

void stats_reset(void)
{
    memset(&server.stats, 0, sizeof(server.stats));
    server.stats.ops_sample_time_ms = event_now_ms();
    memset(&db_stats, 0, sizeof(db_stats));
    if (error_codes) dict_clear(error_codes);
    command_table_each(reset_command_stats, NULL);
}
