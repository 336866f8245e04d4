/* console_exec: see console_exec.h. */
#include "http/console_exec.h"

#include <string.h>

#include "http/resp_json.h"
#include "server/client.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/str.h"

#define CONSOLE_EXEC_MAX_ARGS 16

static struct client *console_client;

/* The console's client, made on first use: authenticated (the HTTP request
 * was), RESP3 so that replies keep their maps, named for CLIENT LIST
 * readers of the slow log. */
static struct client *exec_client(void)
{
    if (console_client) return console_client;
    console_client = client_create(NULL);
    console_client->flags |= CLIENT_AUTHENTICATED;
    console_client->resp = 3;
    console_client->out.resp = 3;
    console_client->name = str_from_cstr("runnel-console");
    strcpy(console_client->addr, "console");
    return console_client;
}

static json_object *error_reply(const char *text)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(text));
    return o;
}

/* CLIENT PAUSE would hold the command, and a socketless client can't wait:
 * the console is told instead. */
static bool exec_paused(bool writes)
{
    if (server.pause_until_ms == 0 || event_now_ms() >= server.pause_until_ms) return false;
    return writes || !server.pause_writes_only;
}

str console_exec_take_bytes(struct outbuf *o)
{
    str bytes = str_empty(256);
    for (uint32_t i = 0; i < o->count; i++) {
        const struct outseg *s = &o->segs[(o->head + i) % o->capacity];
        if (s->block) bytes = str_append(bytes, s->block->data + s->start, s->end - s->start);
    }
    outbuf_clear(o);
    return bytes;
}

json_object *console_exec_take_reply(struct outbuf *o)
{
    str bytes = console_exec_take_bytes(o);
    json_object *reply = NULL;
    size_t used;
    if (!resp_json_parse(bytes, str_len(bytes), &used, &reply)) reply = error_reply("ERR unreadable reply");
    str_free(bytes);
    return reply;
}

json_object *console_exec(int db, bool writes, int argc, const char *const *argv)
{
    if (argc < 1 || argc > CONSOLE_EXEC_MAX_ARGS) return error_reply("ERR bad console command");
    if (exec_paused(writes)) return error_reply("ERR the server is paused (CLIENT PAUSE)");
    if (db < 0 || db >= server.db_count) return error_reply("ERR DB index is out of range");
    struct client *c = exec_client();
    /* commands may edit their arguments in place: they get copies */
    struct arg args[CONSOLE_EXEC_MAX_ARGS];
    str copies[CONSOLE_EXEC_MAX_ARGS];
    for (int i = 0; i < argc; i++) {
        copies[i] = str_from_cstr(argv[i]);
        args[i] = (struct arg){copies[i], str_len(copies[i])};
    }
    client_select_db(c, db);
    struct arg *saved = c->argv;
    c->argv = args;
    c->argc = argc;
    dispatch_command(c);
    c->argv = saved;
    c->argc = 0;
    for (int i = 0; i < argc; i++) str_free(copies[i]);
    return console_exec_take_reply(&c->out);
}

bool console_exec_failed(json_object *reply)
{
    return json_object_is_type(reply, json_type_object) && json_object_object_get_ex(reply, "error", NULL);
}

void console_exec_shutdown(void)
{
    if (!console_client) return;
    client_close(console_client);
    console_client = NULL;
}
