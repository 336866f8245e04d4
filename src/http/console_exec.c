/* console_exec: see console_exec.h. */
#include "http/console_exec.h"

#include <stdio.h>
#include <string.h>

#include "http/resp_json.h"
#include "server/acl.h"
#include "server/client.h"
#include "server/command_table.h"
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
    size_t lens[CONSOLE_EXEC_MAX_ARGS];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    return console_exec_lens(db, writes, argc, argv, lens);
}

json_object *console_exec_lens(int db, bool writes, int argc, const char *const *argv, const size_t *lens)
{
    if (argc < 1 || argc > CONSOLE_EXEC_MAX_LONG_ARGS) return error_reply("ERR bad console command");
    if (exec_paused(writes)) return error_reply("ERR the server is paused (CLIENT PAUSE)");
    if (db < 0 || db >= server.db_count) return error_reply("ERR DB index is out of range");
    struct client *c = exec_client();
    /* commands may edit their arguments in place: they get copies */
    struct arg *args = mem_alloc(sizeof(*args) * (size_t)argc);
    str *copies = mem_alloc(sizeof(*copies) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        copies[i] = str_new(argv[i], lens[i]);
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
    mem_free(copies);
    mem_free(args);
    return console_exec_take_reply(&c->out);
}

void console_exec_as(struct acl_user *user, const char *addr)
{
    struct client *c = exec_client();
    if (user) acl_client_bind(c, user);
    else acl_client_bind(c, acl_default_user_get());
    snprintf(c->addr, sizeof(c->addr), "%s", addr ? addr : "console");
}

struct acl_user *console_exec_login(const char *user, size_t ulen, const char *pass, size_t plen)
{
    if (acl_authenticate(exec_client(), user, ulen, pass, plen) != ACL_AUTH_OK) return NULL;
    return acl_enabled_user(user, ulen);
}

/* The command argv names (its subcommand when it has them), or NULL. */
static struct command *exec_lookup(int argc, struct arg *args)
{
    struct command *cmd = command_lookup(args[0].ptr, args[0].len);
    if (cmd && cmd->subcommands && argc > 1) cmd = command_lookup_sub(cmd, args[1].ptr, args[1].len);
    return cmd;
}

/* argv as the checks take it (they read, never write, the arguments). */
static int exec_args(int argc, const char *const *argv, struct arg *args)
{
    if (argc > CONSOLE_EXEC_MAX_ARGS) argc = CONSOLE_EXEC_MAX_ARGS;
    for (int i = 0; i < argc; i++) args[i] = (struct arg){(char *)argv[i], strlen(argv[i])};
    return argc;
}

const char *console_exec_refusal(int argc, const char *const *argv, char *buf, size_t size)
{
    struct arg args[CONSOLE_EXEC_MAX_ARGS];
    argc = exec_args(argc, argv, args);
    struct command *cmd = exec_lookup(argc, args);
    if (!cmd) return "ERR unknown command";
    return acl_refusal(exec_client(), cmd, argc, args, buf, size);
}

bool console_exec_allows(int argc, const char *const *argv)
{
    struct client *c = exec_client();
    struct arg args[CONSOLE_EXEC_MAX_ARGS];
    argc = exec_args(argc, argv, args);
    struct command *cmd = exec_lookup(argc, args);
    return cmd && acl_may_run(c, cmd, argc, args);
}

bool console_exec_allows_key(int nwords, const char *const *words, const char *key, size_t len)
{
    struct client *c = exec_client();
    if (acl_client_unrestricted(c)) return true;
    struct arg args[CONSOLE_EXEC_MAX_ARGS];
    int argc = exec_args(nwords, words, args);
    if (argc == CONSOLE_EXEC_MAX_ARGS) return false;
    args[argc++] = (struct arg){(char *)key, len};
    struct command *cmd = exec_lookup(argc, args);
    return cmd && acl_may_run(c, cmd, argc, args);
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
