/* api: see api.h. Documents are built with json-c, which escapes what
 * key names hold. */
#include "http/api.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "http/keys_walk.h"
#include "server/info.h"
#include "types/list.h"
#include "types/stream.h"
#include "types/stream_group.h"
#include "types/stream_index.h"

/* An INFO value as JSON: an integer or a number when it is one, else a string. */
static json_object *info_json_value(const char *v)
{
    char *end;
    long long i = strtoll(v, &end, 10);
    if (*v && !*end) return json_object_new_int64(i);
    double d = strtod(v, &end);
    if (*v && !*end) return json_object_new_double(d);
    return json_object_new_string(v);
}

json_object *api_info_sections(const char *name)
{
    json_object *root = json_object_new_object(), *section = NULL;
    struct arg arg = {(char *)name, name ? strlen(name) : 0};
    str info = info_generate(name ? &arg : NULL, name ? 1 : 0);
    for (char *line = strtok(info, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        if (line[0] == '#') {
            char name[64];
            size_t n = 0;
            for (const char *p = line + 2; *p && n < sizeof(name) - 1; p++) name[n++] = (char)(*p | 0x20);
            name[n] = '\0';
            section = json_object_new_object();
            json_object_object_add(root, name, section);
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon || !section) continue;
        *colon = '\0';
        json_object_object_add(section, line, info_json_value(colon + 1));
    }
    str_free(info);
    return root;
}

static json_object *databases(void)
{
    json_object *arr = json_object_new_array();
    for (int i = 0; i < db_count; i++) {
        struct db *db = db_by_index(i);
        if (db_size(db) == 0) continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "db", json_object_new_int(i));
        json_object_object_add(o, "keys", json_object_new_int64((int64_t)db_size(db)));
        json_object_object_add(o, "expires", json_object_new_int64((int64_t)db_expires_size(db)));
        json_object_array_add(arr, o);
    }
    return arr;
}

static json_object *id_json(const struct stream_id *id)
{
    char buf[48];
    size_t n = stream_id_format(buf, id);
    return json_object_new_string_len(buf, (int)n);
}

static json_object *consumer_json(const struct stream_consumer *c, long long now)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string_len(c->name, (int)str_len(c->name)));
    json_object_object_add(o, "pending", json_object_new_int64((int64_t)stream_index_size(c->pel)));
    long long idle = now - c->seen_time;
    json_object_object_add(o, "idle_ms", json_object_new_int64(idle < 0 ? 0 : idle));
    return o;
}

static json_object *group_json(struct stream *s, const struct stream_cgroup *g, long long now)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string_len(g->name, (int)str_len(g->name)));
    json_object_object_add(o, "pending", json_object_new_int64((int64_t)stream_index_size(g->pel)));
    long long lag;
    json_object_object_add(o, "lag", stream_group_lag(s, g, &lag) ? json_object_new_int64(lag) : NULL);
    json_object_object_add(o, "entries_read", g->entries_read < 0 ? NULL : json_object_new_int64(g->entries_read));
    json_object_object_add(o, "last_delivered_id", id_json(&g->last_id));
    json_object *consumers = json_object_new_array();
    for (size_t i = 0; i < g->consumer_count; i++) json_object_array_add(consumers, consumer_json(g->consumers[i], now));
    json_object_object_add(o, "consumers", consumers);
    return o;
}

/* The fields every reported key starts with. */
static json_object *key_json(int db, const char *key, size_t len)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "db", json_object_new_int(db));
    json_object_object_add(o, "key", json_object_new_string_len(key, (int)len));
    return o;
}

static void on_stream(void *ctx, int db, const char *key, size_t len, struct stream *s)
{
    json_object *o = key_json(db, key, len);
    json_object_object_add(o, "length", json_object_new_int64((int64_t)s->length));
    json_object_object_add(o, "entries_added", json_object_new_int64((int64_t)s->entries_added));
    json_object_object_add(o, "first_id", id_json(&s->first_id));
    json_object_object_add(o, "last_id", id_json(&s->last_id));
    json_object *groups = json_object_new_array();
    long long now = db_wall_ms();
    for (size_t i = 0; s->groups && i < s->groups->count; i++)
        json_object_array_add(groups, group_json(s, s->groups->items[i], now));
    json_object_object_add(o, "groups", groups);
    json_object_array_add(ctx, o);
}

static void on_list(void *ctx, int db, const char *key, size_t len, size_t length, const struct list_counts *counts)
{
    json_object *o = key_json(db, key, len);
    json_object_object_add(o, "length", json_object_new_int64((int64_t)length));
    json_object_object_add(o, "pushed", counts ? json_object_new_int64(counts->pushed) : NULL);
    json_object_object_add(o, "popped", counts ? json_object_new_int64(counts->popped) : NULL);
    json_object_array_add(ctx, o);
}

/* {"<name>": [...], "omitted": N} over the keys one visitor reports. */
static json_object *keys_document(const char *name, bool streams)
{
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    struct keys_visitor v = {streams ? on_stream : NULL, streams ? NULL : on_list, arr};
    long long omitted = keys_walk(&v);
    json_object_object_add(root, name, arr);
    json_object_object_add(root, "omitted", json_object_new_int64(omitted));
    return root;
}

static bool path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(path, want, len) == 0;
}

str api_json_text(json_object *doc)
{
    size_t n;
    const char *text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &n);
    str out = str_new(text, n);
    json_object_put(doc);
    return str_append(out, "\n", 1);
}

str api_render(const char *path, size_t len)
{
    json_object *doc = NULL;
    if (path_is(path, len, "/api/overview")) {
        doc = json_object_new_object();
        json_object_object_add(doc, "info", api_info_sections(NULL));
        json_object_object_add(doc, "databases", databases());
    } else if (path_is(path, len, "/api/streams")) {
        doc = keys_document("streams", true);
    } else if (path_is(path, len, "/api/queues")) {
        doc = keys_document("queues", false);
    }
    return doc ? api_json_text(doc) : NULL;
}
