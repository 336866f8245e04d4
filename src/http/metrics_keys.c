/* metrics_keys: see metrics_keys.h. */
#include "http/metrics_keys.h"

#include <stdio.h>
#include <string.h>

#include "http/console_exec.h"
#include "http/keys_walk.h"
#include "http/list_rates.h"
#include "http/metrics_text.h"
#include "types/list.h"
#include "types/stream.h"
#include "types/stream_dlq.h"
#include "types/stream_group.h"
#include "types/stream_index.h"

enum {
    FAM_STREAM_LENGTH,
    FAM_STREAM_GROUPS,
    FAM_STREAM_ENTRIES_ADDED,
    FAM_GROUP_CONSUMERS,
    FAM_GROUP_PENDING,
    FAM_GROUP_LAG,
    FAM_GROUP_ENTRIES_READ,
    FAM_GROUP_DEAD_LETTERED,
    FAM_CONSUMER_PENDING,
    FAM_LIST_LENGTH,
    FAM_LIST_PUSHED,
    FAM_LIST_POPPED,
    FAM_COUNT
};

static const struct metrics_family family_defs[FAM_COUNT] = {
    {"redis_stream_length", "gauge", "Entries in the stream.", NULL},
    {"redis_stream_groups", "gauge", "Consumer groups of the stream.", NULL},
    {"runnel_stream_entries_added_total", "counter", "Entries ever appended to the stream.", NULL},
    {"redis_stream_group_consumers", "gauge", "Consumers in the group.", NULL},
    {"redis_stream_group_messages_pending", "gauge", "Entries delivered to the group and not acknowledged.", NULL},
    {"redis_stream_group_lag", "gauge", "Entries not yet delivered to the group (XINFO GROUPS lag).", NULL},
    {"redis_stream_group_entries_read", "gauge", "The group's logical read counter (XINFO GROUPS entries-read).",
     NULL},
    {"runnel_stream_group_dead_lettered_total", "counter",
     "Entries moved to the group's dead-letter stream (XINFO GROUPS dead-lettered).", NULL},
    {"redis_stream_group_consumer_messages_pending", "gauge", "Entries pending for this consumer.", NULL},
    {"runnel_list_length", "gauge", "Elements in a list matching metrics-list-patterns.", NULL},
    {"runnel_list_pushed_total", "counter", "Elements pushed to a list matching metrics-list-patterns.", NULL},
    {"runnel_list_popped_total", "counter", "Elements popped from a list matching metrics-list-patterns.", NULL},
};

struct walk {
    struct metrics_family fam[FAM_COUNT];
    char db_label[16];
    const char *key;
    size_t key_len;
};

/* Starts a sample of family f: "name{db="dbN",stream="key"" (the caller
 * adds any further labels and closes it with sample_end). */
static void sample_begin(struct walk *w, int f, const char *key_label)
{
    str s = w->fam[f].samples ? w->fam[f].samples : str_empty(256);
    s = str_append_printf(s, "%s{db=\"%s\",%s=\"", w->fam[f].name, w->db_label, key_label);
    w->fam[f].samples = metrics_text_escape(s, w->key, w->key_len);
}

static void sample_label(struct walk *w, int f, const char *name, const char *v, size_t len)
{
    str s = str_append_printf(w->fam[f].samples, "\",%s=\"", name);
    w->fam[f].samples = metrics_text_escape(s, v, len);
}

static void sample_end(struct walk *w, int f, double value)
{
    str s = str_append(w->fam[f].samples, "\"} ", 3);
    s = metrics_text_value(s, value);
    w->fam[f].samples = str_append(s, "\n", 1);
}

static void stream_sample(struct walk *w, int f, double value)
{
    sample_begin(w, f, "stream");
    sample_end(w, f, value);
}

static void group_sample(struct walk *w, int f, const struct stream_cgroup *g, double value)
{
    sample_begin(w, f, "stream");
    sample_label(w, f, "group", g->name, str_len(g->name));
    sample_end(w, f, value);
}

static void report_group(struct walk *w, struct stream *s, const struct stream_cgroup *g)
{
    group_sample(w, FAM_GROUP_CONSUMERS, g, (double)g->consumer_count);
    group_sample(w, FAM_GROUP_PENDING, g, (double)stream_index_size(g->pel));
    long long lag;
    if (stream_group_lag(s, g, &lag)) group_sample(w, FAM_GROUP_LAG, g, (double)lag);
    if (g->entries_read >= 0) group_sample(w, FAM_GROUP_ENTRIES_READ, g, (double)g->entries_read);
    if (g->dlq) group_sample(w, FAM_GROUP_DEAD_LETTERED, g, (double)g->dlq->dead_lettered);
    for (size_t i = 0; i < g->consumer_count; i++) {
        const struct stream_consumer *c = g->consumers[i];
        sample_begin(w, FAM_CONSUMER_PENDING, "stream");
        sample_label(w, FAM_CONSUMER_PENDING, "group", g->name, str_len(g->name));
        sample_label(w, FAM_CONSUMER_PENDING, "consumer", c->name, str_len(c->name));
        sample_end(w, FAM_CONSUMER_PENDING, (double)stream_index_size(c->pel));
    }
}

static void report_stream(struct walk *w, struct stream *s)
{
    stream_sample(w, FAM_STREAM_LENGTH, (double)s->length);
    stream_sample(w, FAM_STREAM_GROUPS, (double)stream_group_count(s));
    stream_sample(w, FAM_STREAM_ENTRIES_ADDED, (double)s->entries_added);
    if (!s->groups) return;
    for (size_t i = 0; i < s->groups->count; i++) report_group(w, s, s->groups->items[i]);
}

static void on_stream(void *ctx, int db, const char *key, size_t len, struct stream *s)
{
    struct walk *w = ctx;
    snprintf(w->db_label, sizeof(w->db_label), "db%d", db);
    w->key = key;
    w->key_len = len;
    report_stream(w, s);
}

static void on_list(void *ctx, int db, const char *key, size_t len, size_t length, const struct list_counts *counts)
{
    (void)counts; /* reported from the kept counts, emptied lists too (on_counts) */
    struct walk *w = ctx;
    snprintf(w->db_label, sizeof(w->db_label), "db%d", db);
    w->key = key;
    w->key_len = len;
    sample_begin(w, FAM_LIST_LENGTH, "key");
    sample_end(w, FAM_LIST_LENGTH, (double)length);
}

/* The push and pop counts of a queue list, whether or not it holds
 * anything now, when the user may read it. */
static void on_counts(void *ctx, int db, const char *key, size_t len, const struct list_counts *c)
{
    static const char *const llen[] = {"LLEN"};
    if (!console_exec_allows_key(1, llen, key, len)) return;
    struct walk *w = ctx;
    snprintf(w->db_label, sizeof(w->db_label), "db%d", db);
    w->key = key;
    w->key_len = len;
    sample_begin(w, FAM_LIST_PUSHED, "key");
    sample_end(w, FAM_LIST_PUSHED, (double)c->pushed);
    sample_begin(w, FAM_LIST_POPPED, "key");
    sample_end(w, FAM_LIST_POPPED, (double)c->popped);
}

str metrics_keys_render(str s)
{
    struct walk w = {0};
    memcpy(w.fam, family_defs, sizeof(family_defs));
    struct keys_visitor v = {on_stream, on_list, &w};
    long long omitted = keys_walk(&v);
    list_rates_each(on_counts, &w);
    for (int f = 0; f < FAM_COUNT; f++) s = metrics_family_flush(s, &w.fam[f]);
    return metrics_text_single(s, "runnel_metrics_series_omitted", "gauge",
                               "Keys (streams, queue lists) this scrape left out: over metrics-max-series.",
                               (double)omitted);
}
