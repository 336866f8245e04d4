/* console_dlq: see console_dlq.h. */
#include "http/console_dlq.h"

#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/object.h"
#include "http/console_exec.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/str.h"

/* The provenance fields dead-lettering puts first in an entry. */
static const char *const dlq_fields[] = {"dlq-stream", "dlq-id",         "dlq-group",
                                         "dlq-consumer", "dlq-deliveries", "dlq-reason"};
#define DLQ_FIELDS (sizeof(dlq_fields) / sizeof(dlq_fields[0]))

/* One entry to move: its XRANGE reply and what was read from it. */
struct dead_entry {
    const char *id;
    json_object *range;  /* XRANGE dlq id id, owned */
    json_object *fields; /* its flat field/value array (borrowed from range) */
    const char *source;  /* dlq-stream's value */
    size_t source_len;
    size_t own;          /* index in fields of the first own field */
};

static json_object *fail(int *status, int code, const char *fmt, const char *a, const char *b)
{
    char text[512];
    snprintf(text, sizeof(text), fmt, a, b);
    *status = code;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(text));
    return o;
}

/* A command's error reply as the action's answer: 403 for a NOPERM. */
static json_object *fail_reply(int *status, json_object *reply)
{
    json_object *e;
    json_object_object_get_ex(reply, "error", &e);
    *status = strncmp(json_object_get_string(e), "NOPERM", 6) == 0 ? 403 : 400;
    return reply;
}

/* Index of the field named `name` among the leading provenance fields of
 * `fields` (a flat array), or -1; *own is set past those fields. */
static int provenance_find(json_object *fields, const char *name, size_t *own)
{
    size_t n = json_object_array_length(fields), i = 0;
    int found = -1;
    bool seen[DLQ_FIELDS] = {false};
    for (; i + 1 < n; i += 2) {
        const char *f = json_object_get_string(json_object_array_get_idx(fields, i));
        size_t k = 0;
        while (k < DLQ_FIELDS && (seen[k] || strcmp(f, dlq_fields[k]) != 0)) k++;
        if (k == DLQ_FIELDS) break; /* the message's own fields start here */
        seen[k] = true;
        if (strcmp(f, name) == 0) found = (int)i + 1;
    }
    *own = i;
    return found;
}

/* Reads entry e->id of `dlq` and checks that it can move back: NULL, or
 * the error document (with *status). */
static json_object *entry_read(int db, const char *dlq, struct dead_entry *e, int *status)
{
    e->range = console_exec(db, false, 4, (const char *[]){"XRANGE", dlq, e->id, e->id});
    if (console_exec_failed(e->range)) {
        json_object *r = e->range;
        e->range = NULL;
        return fail_reply(status, r);
    }
    json_object *first = json_object_is_type(e->range, json_type_array) && json_object_array_length(e->range) == 1
                             ? json_object_array_get_idx(e->range, 0)
                             : NULL;
    if (!first) return fail(status, 404, "ERR no entry %s in '%s'", e->id, dlq);
    e->fields = json_object_array_get_idx(first, 1);
    if (!json_object_is_type(e->fields, json_type_array))
        return fail(status, 400, "ERR unreadable entry %s of '%s'", e->id, dlq);
    int src = provenance_find(e->fields, "dlq-stream", &e->own), sid = provenance_find(e->fields, "dlq-id", &e->own);
    if (src < 0 || sid < 0)
        return fail(status, 400, "ERR entry %s of '%s' has no dlq-stream and dlq-id fields: it was not dead-lettered",
                    e->id, dlq);
    json_object *key = json_object_array_get_idx(e->fields, (size_t)src);
    e->source = json_object_get_string(key);
    e->source_len = (size_t)json_object_get_string_len(key);
    if (e->source_len == strlen(dlq) && memcmp(e->source, dlq, e->source_len) == 0)
        return fail(status, 400, "ERR entry %s names '%s' itself as its source", e->id, dlq);
    return NULL;
}

/* Whether the entry's source is a stream of this node: NULL, or the error
 * document. Asked once the transaction's commands are queued, so that in a
 * cluster a source in another slot is refused for its slot first. */
static json_object *entry_source_check(int db, const struct dead_entry *e, int *status)
{
    struct object *o = db_peek(&server.dbs[db], e->source, e->source_len);
    if (!o) return fail(status, 400, "ERR the source stream '%s' of entry %s does not exist", e->source, e->id);
    if (o->type != OBJ_STREAM)
        return fail(status, 400, "ERR the source key '%s' of entry %s is not a stream", e->source, e->id);
    return NULL;
}

/* The user's ACL permission for both writes of one move: NULL, or the
 * NOPERM document with *status 403. */
static json_object *entry_allowed(const char *dlq, const struct dead_entry *e, int *status)
{
    char buf[256];
    const char *why = console_exec_refusal(5, (const char *[]){"XADD", e->source, "*", "f", "v"}, buf, sizeof(buf));
    if (!why) why = console_exec_refusal(3, (const char *[]){"XDEL", dlq, e->id}, buf, sizeof(buf));
    if (!why) return NULL;
    return fail(status, 403, "%s%s", why, "");
}

/* Queues XADD source * <own fields> and XDEL dlq id in the open
 * transaction: NULL, or the refusal (CROSSSLOT in a cluster when the keys
 * are in different slots, MOVED, NOPERM) as the error document. Nothing
 * runs before EXEC, and nothing else runs on the server's thread between
 * these checks and the EXEC. */
static json_object *entry_queue(int db, const char *dlq, const struct dead_entry *e, int *status)
{
    size_t n = json_object_array_length(e->fields) - e->own;
    int argc = 3 + (int)n;
    if (argc > CONSOLE_EXEC_MAX_LONG_ARGS) return fail(status, 400, "ERR entry %s of '%s' has too many fields", e->id, dlq);
    const char **argv = mem_alloc(sizeof(*argv) * (size_t)argc);
    size_t *lens = mem_alloc(sizeof(*lens) * (size_t)argc);
    argv[0] = "XADD", lens[0] = 4;
    argv[1] = e->source, lens[1] = e->source_len;
    argv[2] = "*", lens[2] = 1;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(e->fields, e->own + i);
        argv[3 + i] = json_object_get_string(v);
        lens[3 + i] = (size_t)json_object_get_string_len(v);
    }
    json_object *add = console_exec_lens(db, true, argc, argv, lens);
    mem_free(argv);
    mem_free(lens);
    json_object *del = console_exec_failed(add) ? NULL : console_exec(db, true, 3, (const char *[]){"XDEL", dlq, e->id});
    json_object *bad = console_exec_failed(add) ? add : console_exec_failed(del) ? del : NULL;
    if (!bad) {
        json_object_put(add);
        json_object_put(del);
        return NULL;
    }
    json_object *err;
    json_object_object_get_ex(bad, "error", &err);
    char text[512];
    snprintf(text, sizeof(text), "%s (moving entry %s back to '%.*s')", json_object_get_string(err), e->id,
             (int)e->source_len, e->source);
    json_object_object_add(bad, "error", json_object_new_string(text));
    fail_reply(status, bad);
    json_object_put(bad == add ? del : add);
    return bad;
}

/* The EXEC reply, two results per entry, as {"moved": [...]}. */
static json_object *moved_doc(json_object *exec, const struct dead_entry *e, size_t n, int *status)
{
    if (!json_object_is_type(exec, json_type_array) || json_object_array_length(exec) != 2 * n) {
        if (console_exec_failed(exec)) return fail_reply(status, exec);
        json_object_put(exec);
        return fail(status, 400, "ERR unexpected transaction reply%s%s", "", "");
    }
    json_object *moved = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "id", json_object_new_string(e[i].id));
        json_object_object_add(m, "stream", json_object_new_string_len(e[i].source, (int)e[i].source_len));
        json_object_object_add(m, "new_id", json_object_get(json_object_array_get_idx(exec, 2 * i)));
        json_object_array_add(moved, m);
    }
    json_object_put(exec);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "moved", moved);
    *status = 200;
    return doc;
}

/* Splits `ids` at commas into e[].id (pointing into `copy`): the count,
 * 0 when one is empty or there are too many. */
static size_t ids_split(char *copy, struct dead_entry *e)
{
    size_t n = 0;
    for (char *p = copy, *next; p; p = next) {
        next = strchr(p, ',');
        if (next) *next++ = '\0';
        if (*p == '\0' || n == CONSOLE_DLQ_MAX_MOVES) return 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(e[k].id, p) == 0) return 0;
        e[n++].id = p;
    }
    return n;
}

json_object *console_dlq_move_back(int db, const char *dlq, const char *ids, int *status)
{
    if (db < 0 || db >= server.db_count) return fail(status, 400, "ERR DB index is out of range%s%s", "", "");
    struct dead_entry e[CONSOLE_DLQ_MAX_MOVES];
    memset(e, 0, sizeof(e));
    str copy = str_from_cstr(ids);
    size_t n = ids_split(copy, e);
    json_object *doc = NULL;
    if (n == 0) {
        char max[24];
        snprintf(max, sizeof(max), "%d", CONSOLE_DLQ_MAX_MOVES);
        doc = fail(status, 400, "ERR id must list 1 to %s different entry IDs, separated by commas%s", max, "");
    }
    for (size_t i = 0; i < n && !doc; i++) doc = entry_read(db, dlq, &e[i], status);
    for (size_t i = 0; i < n && !doc; i++) doc = entry_allowed(dlq, &e[i], status);
    if (!doc) {
        json_object *multi = console_exec(db, true, 1, (const char *[]){"MULTI"});
        if (console_exec_failed(multi)) doc = fail_reply(status, multi);
        else json_object_put(multi);
    }
    if (!doc) {
        for (size_t i = 0; i < n && !doc; i++) doc = entry_queue(db, dlq, &e[i], status);
        for (size_t i = 0; i < n && !doc; i++) doc = entry_source_check(db, &e[i], status);
        if (doc) json_object_put(console_exec(db, true, 1, (const char *[]){"DISCARD"}));
        else doc = moved_doc(console_exec(db, true, 1, (const char *[]){"EXEC"}), e, n, status);
    }
    for (size_t i = 0; i < n; i++) json_object_put(e[i].range);
    str_free(copy);
    return doc;
}
