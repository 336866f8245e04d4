/* Connection commands: PING ECHO QUIT RESET SELECT AUTH HELLO, and CLIENT. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/acl.h"
#include "server/blocked.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatch.h"
#include "server/monitor.h"
#include "server/multi.h"
#include "server/server.h"
#include "server/tracking.h"
#include "util/mem.h"

static struct client *req_client(struct request *req)
{
    return req->client;
}

static void cmd_ping(struct request *req)
{
    struct client *c = req_client(req);
    if (req->argc > 2) {
        reply_wrong_arity(req->out, "ping");
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) {
        reply_array(req->out, 2);
        reply_bulk(req->out, "pong", 4);
        if (req->argc == 2) reply_bulk(req->out, req->argv[1].ptr, req->argv[1].len);
        else reply_bulk(req->out, "", 0);
        return;
    }
    if (req->argc == 2) reply_bulk(req->out, req->argv[1].ptr, req->argv[1].len);
    else outbuf_append(req->out, "+PONG\r\n", 7);
}

static void cmd_echo(struct request *req)
{
    reply_bulk(req->out, req->argv[1].ptr, req->argv[1].len);
}

static void cmd_quit(struct request *req)
{
    req_client(req)->flags |= CLIENT_CLOSE_AFTER_REPLY;
    reply_ok(req->out);
}

static void cmd_select(struct request *req)
{
    long long index;
    if (!request_ll_range(req, 1, INT_MIN, INT_MAX, &index, NULL)) return; /* Redis 7 wording */
    if (index < 0 || index >= server.db_count) {
        reply_error(req->out, "ERR DB index is out of range");
        return;
    }
    client_select_db(req_client(req), (int)index);
    reply_ok(req->out);
}

/* Checks a username/password pair (no user: the default user) and binds
 * the client to the user; replies the refusal when it fails. */
static bool auth_check(struct request *req, struct arg *user, struct arg *pass)
{
    struct client *c = req_client(req);
    static struct arg default_name = {"default", 7};
    if (!user) {
        if (acl_default_user_nopass()) {
            reply_error(req->out, "ERR AUTH <password> called without any password configured for the default "
                                  "user. Are you sure your configuration is correct?");
            return false;
        }
        user = &default_name;
    }
    if (acl_authenticate(c, user->ptr, user->len, pass->ptr, pass->len) != ACL_AUTH_OK) {
        reply_error(req->out, "WRONGPASS invalid username-password pair or user is disabled.");
        return false;
    }
    return true;
}

static void cmd_auth(struct request *req)
{
    if (req->argc > 3) {
        reply_syntax_error(req->out);
        return;
    }
    struct arg *user = req->argc == 3 ? &req->argv[1] : NULL;
    if (auth_check(req, user, &req->argv[req->argc - 1])) reply_ok(req->out);
}

static bool client_name_valid(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] < '!' || p[i] > '~') return false;
    return true;
}

static bool client_set_name(struct request *req, struct arg *name)
{
    struct client *c = req_client(req);
    if (!client_name_valid(name->ptr, name->len)) {
        reply_error(req->out, "ERR Client names cannot contain spaces, newlines or special characters.");
        return false;
    }
    str_free(c->name);
    c->name = name->len ? str_new(name->ptr, name->len) : NULL;
    return true;
}

static void reply_hello_map(struct request *req)
{
    struct client *c = req_client(req);
    reply_map(req->out, 7);
    reply_bulk_cstr(req->out, "server");
    reply_bulk_cstr(req->out, "redis");
    reply_bulk_cstr(req->out, "version");
    reply_bulk_cstr(req->out, REDIS_COMPAT_VERSION);
    reply_bulk_cstr(req->out, "proto");
    reply_int(req->out, c->resp);
    reply_bulk_cstr(req->out, "id");
    reply_int(req->out, (long long)c->id);
    reply_bulk_cstr(req->out, "mode");
    reply_bulk_cstr(req->out, server_cluster_hooks.refusal ? "cluster" : "standalone");
    reply_bulk_cstr(req->out, "role");
    reply_bulk_cstr(req->out, "master");
    reply_bulk_cstr(req->out, "modules");
    reply_empty_array(req->out);
}

/* HELLO [protover [AUTH user pass] [SETNAME name]]: options are checked
 * before anything changes, so a bad option leaves the connection as it was. */
static void cmd_hello(struct request *req)
{
    struct client *c = req_client(req);
    long long ver = c->resp;
    if (req->argc >= 2) {
        if (!request_ll_msg(req, 1, &ver, "ERR Protocol version is not an integer or out of range")) return;
        if (ver < 2 || ver > 3) {
            reply_error(req->out, "NOPROTO unsupported protocol version");
            return;
        }
    }
    struct arg *user = NULL, *pass = NULL, *name = NULL;
    for (int i = 2; i < req->argc; i++) {
        bool more = req->argc - i - 1;
        if (ARG_IS(req, i, "AUTH") && req->argc - i - 1 >= 2) {
            user = &req->argv[i + 1];
            pass = &req->argv[i + 2];
            i += 2;
        } else if (ARG_IS(req, i, "SETNAME") && more) {
            name = &req->argv[++i];
        } else {
            reply_errorf(req->out, "ERR Syntax error in HELLO option '%.128s'", req->argv[i].ptr);
            return;
        }
    }
    if (user && !auth_check(req, user, pass)) return;
    if (!(c->flags & CLIENT_AUTHENTICATED)) {
        reply_error(req->out, "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                              "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                              "select the RESP protocol version at the same time");
        return;
    }
    if (name && !client_set_name(req, name)) return;
    c->resp = (int)ver;
    c->out.resp = (uint8_t)ver;
    reply_hello_map(req);
}

/* RESET: back to a fresh connection's state, keeping the socket. */
static void cmd_reset(struct request *req)
{
    struct client *c = req_client(req);
    dispatch_client_closing(c);
    client_select_db(c, 0);
    c->resp = 2;
    c->out.resp = 2;
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_EVICT | CLIENT_NO_TOUCH);
    c->out.muted = false; /* RESET's own reply is sent even after CLIENT REPLY OFF */
    str_free(c->name);
    c->name = NULL;
    acl_client_init(c);
    reply_simple(req->out, "RESET");
}

/* ---- CLIENT ---- */

static void cmd_client_id(struct request *req)
{
    reply_int(req->out, (long long)req->client_id);
}

static void cmd_client_setname(struct request *req)
{
    if (client_set_name(req, &req->argv[2])) reply_ok(req->out);
}

static void cmd_client_getname(struct request *req)
{
    struct client *c = req_client(req);
    if (c->name) reply_bulk(req->out, c->name, str_len(c->name));
    else reply_null(req->out);
}

static void cmd_client_setinfo(struct request *req)
{
    struct client *c = req_client(req);
    struct arg *v = &req->argv[3];
    bool is_name = ARG_IS(req, 2, "LIB-NAME");
    if (!is_name && !ARG_IS(req, 2, "LIB-VER")) {
        reply_errorf(req->out, "ERR Unrecognized option '%.128s'", req->argv[2].ptr);
        return;
    }
    if (!client_name_valid(v->ptr, v->len)) {
        /* Redis names the attribute as the client spelled it */
        reply_errorf(req->out, "ERR %.128s cannot contain spaces, newlines or special characters.", req->argv[2].ptr);
        return;
    }
    str *slot = is_name ? &c->lib_name : &c->lib_ver;
    str_free(*slot);
    *slot = v->len ? str_new(v->ptr, v->len) : NULL;
    reply_ok(req->out);
}

static int client_type_of(struct client *c)
{
    if (c->flags & CLIENT_MASTER) return 3;
    if (c->flags & CLIENT_REPLICA) return 1;
    if (c->flags & CLIENT_PUBSUB) return 2;
    return 0;
}

static int client_type_parse(const char *name)
{
    if (!strcasecmp(name, "normal")) return 0;
    if (!strcasecmp(name, "replica") || !strcasecmp(name, "slave")) return 1;
    if (!strcasecmp(name, "pubsub")) return 2;
    if (!strcasecmp(name, "master")) return 3;
    return -1;
}

static void cmd_client_list(struct request *req)
{
    int type = -1;
    long long *ids = NULL;
    int id_count = 0;
    if (req->argc >= 4 && ARG_IS(req, 2, "TYPE") && req->argc == 4) {
        type = client_type_parse(req->argv[3].ptr);
        if (type < 0) {
            reply_errorf(req->out, "ERR Unknown client type '%s'", req->argv[3].ptr);
            return;
        }
    } else if (req->argc >= 4 && ARG_IS(req, 2, "ID")) {
        ids = mem_alloc(sizeof(long long) * (size_t)(req->argc - 3));
        for (int i = 3; i < req->argc; i++) {
            if (!request_ll_range(req, i, 1, (1LL << 62), &ids[id_count++], "ERR Invalid client ID")) {
                mem_free(ids);
                return;
            }
        }
    } else if (req->argc != 2) {
        reply_syntax_error(req->out);
        return;
    }
    str out = str_empty(256);
    for (struct client *c = server.clients; c; c = c->next) {
        if (type >= 0 && client_type_of(c) != type) continue;
        if (ids) {
            bool match = false;
            for (int i = 0; i < id_count; i++) match |= (uint64_t)ids[i] == c->id;
            if (!match) continue;
        }
        out = client_info_line(c, out);
        out = str_append(out, "\n", 1);
    }
    reply_verbatim(req->out, out, str_len(out), "txt");
    str_free(out);
    mem_free(ids);
}

static void cmd_client_info(struct request *req)
{
    str out = client_info_line(req_client(req), str_empty(256));
    out = str_append(out, "\n", 1);
    reply_verbatim(req->out, out, str_len(out), "txt");
    str_free(out);
}

struct kill_filter {
    long long id;
    const char *addr;
    const char *laddr;
    const char *user;
    int type;
    bool skipme;
};

static bool kill_filter_match(const struct kill_filter *f, struct client *c, struct client *self)
{
    if (f->id && (uint64_t)f->id != c->id) return false;
    if (f->addr && strcmp(f->addr, c->addr) != 0) return false;
    if (f->laddr && strcmp(f->laddr, c->laddr) != 0) return false;
    if (f->user && strcmp(f->user, acl_client_user_name(c)) != 0) return false;
    if (f->type >= 0 && client_type_of(c) != f->type) return false;
    if (f->skipme && c == self) return false;
    return true;
}

/* Kills matching clients; the caller (itself possibly matching) is closed
 * after its reply. */
static long long client_kill_matching(const struct kill_filter *f, struct client *self)
{
    long long killed = 0;
    for (struct client *c = server.clients; c; c = c->next) {
        if (!kill_filter_match(f, c, self)) continue;
        if (c == self) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        else client_close_async(c);
        killed++;
    }
    return killed;
}

static bool kill_parse_filters(struct request *req, struct kill_filter *f)
{
    for (int i = 2; i < req->argc; i += 2) {
        if (i + 1 >= req->argc) {
            reply_syntax_error(req->out);
            return false;
        }
        const char *v = req->argv[i + 1].ptr;
        if (ARG_IS(req, i, "ID")) {
            if (!request_ll_range(req, i + 1, 1, (1LL << 62), &f->id, "ERR client-id should be greater than 0"))
                return false;
        } else if (ARG_IS(req, i, "ADDR")) {
            f->addr = v;
        } else if (ARG_IS(req, i, "LADDR")) {
            f->laddr = v;
        } else if (ARG_IS(req, i, "USER")) {
            f->user = v;
            if (!acl_user_exists(v, req->argv[i + 1].len)) {
                reply_errorf(req->out, "ERR No such user '%s'", v);
                return false;
            }
        } else if (ARG_IS(req, i, "TYPE")) {
            f->type = client_type_parse(v);
            if (f->type < 0) {
                reply_errorf(req->out, "ERR Unknown client type '%s'", v);
                return false;
            }
        } else if (ARG_IS(req, i, "SKIPME")) {
            if (!strcasecmp(v, "yes")) f->skipme = true;
            else if (!strcasecmp(v, "no")) f->skipme = false;
            else {
                reply_syntax_error(req->out);
                return false;
            }
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

static void cmd_client_kill(struct request *req)
{
    struct client *self = req_client(req);
    struct kill_filter f = {.type = -1, .skipme = true};
    if (req->argc == 3) { /* old form: CLIENT KILL addr:port */
        f.addr = req->argv[2].ptr;
        f.skipme = false;
        if (client_kill_matching(&f, self) == 0) reply_error(req->out, "ERR No such client");
        else reply_ok(req->out);
        return;
    }
    if (!kill_parse_filters(req, &f)) return;
    reply_int(req->out, client_kill_matching(&f, self));
}

static void cmd_client_reply(struct request *req)
{
    struct client *c = req_client(req);
    if (ARG_IS(req, 2, "ON")) {
        c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT);
        c->out.muted = false;
        reply_ok(req->out);
    } else if (ARG_IS(req, 2, "OFF")) {
        c->flags |= CLIENT_REPLY_OFF;
        c->out.muted = true;
    } else if (ARG_IS(req, 2, "SKIP")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
        c->out.muted = true;
    } else {
        reply_syntax_error(req->out);
    }
}

static void pause_timer_fired(struct event_loop *loop, void *data)
{
    (void)loop, (void)data;
    if (server.pause_until_ms && event_now_ms() >= server.pause_until_ms) {
        server.pause_until_ms = 0;
        server.resume_paused = true;
    }
}

/* CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the timeout,
 * and a fifth argument is Redis's generic subcommand error. */
static void cmd_client_pause(struct request *req)
{
    if (req->argc > 4) {
        reply_errorf(req->out, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try CLIENT HELP.",
                     req->argv[1].ptr);
        return;
    }
    bool writes_only = false;
    if (req->argc == 4) {
        if (ARG_IS(req, 3, "WRITE")) writes_only = true;
        else if (!ARG_IS(req, 3, "ALL")) {
            reply_error(req->out, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (!request_ll_msg(req, 2, &ms, "ERR timeout is not an integer or out of range")) return;
    if (ms < 0) {
        reply_error(req->out, "ERR timeout is negative");
        return;
    }
    long long until = event_now_ms() + ms;
    server_pause(until, writes_only);
    event_timer_at(server.loop, until + 1, pause_timer_fired, NULL);
    reply_ok(req->out);
}

/* Over a pause in force, the later end and the stricter mode each win, as
 * in Redis: ALL then WRITE stays ALL until the later end. */
void server_pause(long long until_ms, bool writes_only)
{
    bool active = server.pause_until_ms && event_now_ms() < server.pause_until_ms;
    if (!active) {
        server.pause_until_ms = until_ms;
        server.pause_writes_only = writes_only;
        return;
    }
    if (until_ms > server.pause_until_ms) server.pause_until_ms = until_ms;
    if (!writes_only) server.pause_writes_only = false;
}

void server_unpause(void)
{
    server.pause_until_ms = 0;
    server.resume_paused = true; /* held commands run before the loop sleeps */
}

static void cmd_client_unpause(struct request *req)
{
    server_unpause();
    reply_ok(req->out);
}

static void client_flag_toggle(struct request *req, uint32_t flag)
{
    struct client *c = req_client(req);
    if (ARG_IS(req, 2, "ON")) c->flags |= flag;
    else if (ARG_IS(req, 2, "OFF")) c->flags &= ~flag;
    else {
        reply_syntax_error(req->out);
        return;
    }
    reply_ok(req->out);
}

static void cmd_client_no_evict(struct request *req)
{
    client_flag_toggle(req, CLIENT_NO_EVICT);
}

static void cmd_client_no_touch(struct request *req)
{
    client_flag_toggle(req, CLIENT_NO_TOUCH);
}

static void cmd_client_help(struct request *req)
{
    static const char *const lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, USER, TYPE, SKIPME.",
        "LIST [options ...]",
        "    Return information about client connections. Options: TYPE, ID.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Set client meta attributes.",
        "NO-EVICT (ON|OFF)",
        "    Protect the current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define CLIENT_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
static struct command client_subcommands[] = {
    {"id", cmd_client_id, 2, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Returns the unique client ID of the connection.", "5.0.0", "O(1)"},
    {"setname", cmd_client_setname, 3, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Sets the connection name.", "2.6.9", "O(1)"},
    {"getname", cmd_client_getname, 2, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Returns the name of the connection.", "2.6.9", "O(1)"},
    {"setinfo", cmd_client_setinfo, 4, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Sets information specific to the client or connection.", "7.2.0", "O(1)"},
    {"list", cmd_client_list, -2, CLIENT_FLAGS | CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous @connection",
     "connection", "Lists open connections.", "2.4.0", "O(N) where N is the number of client connections"},
    {"info", cmd_client_info, 2, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Returns information about the connection.", "6.2.0", "O(1)"},
    {"kill", cmd_client_kill, -3, CLIENT_FLAGS | CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous @connection",
     "connection", "Terminates open connections.", "2.4.0", "O(N) where N is the number of client connections"},
    {"reply", cmd_client_reply, 3, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Instructs the server whether to reply to commands.", "3.2.0", "O(1)"},
    {"pause", cmd_client_pause, -3, CLIENT_FLAGS | CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous @connection",
     "connection", "Suspends commands processing.", "3.0.0", "O(1)"},
    {"unpause", cmd_client_unpause, 2, CLIENT_FLAGS | CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous @connection",
     "connection", "Resumes processing commands from paused clients.", "6.2.0",
     "O(N) Where N is the number of paused clients"},
    {"no-evict", cmd_client_no_evict, 3, CLIENT_FLAGS | CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous @connection",
     "connection", "Sets the client eviction mode of the connection.", "7.0.0", "O(1)"},
    {"no-touch", cmd_client_no_touch, 3, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "7.2.0", "O(1)"},
    {"unblock", cmd_client_unblock, -3, CLIENT_FLAGS | CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous @connection",
     "connection", "Unblocks a client blocked by a blocking command from a different connection.", "5.0.0",
     "O(log N) where N is the number of client connections"},
    {"tracking", cmd_client_tracking, -3, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Controls server-assisted client-side caching for the connection.", "6.0.0",
     "O(1). Some options may introduce additional complexity."},
    {"caching", cmd_client_caching, 3, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Instructs the server whether to track the keys in the next request.", "6.0.0", "O(1)"},
    {"getredir", cmd_client_getredir, 2, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Returns the client ID to which the connection's tracking notifications are redirected.", "6.0.0", "O(1)"},
    {"trackinginfo", cmd_client_trackinginfo, 2, CLIENT_FLAGS, 0, 0, 0, "@slow @connection", "connection",
     "Returns information about server-assisted client-side caching for the connection.", "6.2.0", "O(1)"},
    {"help", cmd_client_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow @connection", "connection",
     "Returns helpful text about the different subcommands.", "5.0.0", "O(1)"},
    {0},
};

#define CONN_FLAGS (CMD_FAST | CMD_LOADING | CMD_STALE)
struct command connection_commands[] = {
    /* not CMD_LOADING: as in Redis, PING answers LOADING until the dataset is in */
    {"ping", cmd_ping, -1, CMD_FAST | CMD_SUBSCRIBED_OK, 0, 0, 0, "@fast @connection", "connection",
     "Returns the server's liveliness response.", "1.0.0", "O(1)"},
    {"echo", cmd_echo, 2, CONN_FLAGS, 0, 0, 0, "@fast @connection", "connection", "Returns the given string.",
     "1.0.0", "O(1)"},
    {"quit", cmd_quit, -1,
     CMD_ALLOW_BUSY | CMD_NOSCRIPT | CONN_FLAGS | CMD_NO_AUTH | CMD_SUBSCRIBED_OK | CMD_MULTI_CONTROL, 0, 0, 0,
     "@fast @connection", "connection", "Closes the connection.", "1.0.0", "O(1)"},
    {"reset", cmd_reset, 1,
     CMD_NOSCRIPT | CONN_FLAGS | CMD_NO_AUTH | CMD_SUBSCRIBED_OK | CMD_MULTI_CONTROL | CMD_ALLOW_BUSY, 0, 0, 0,
     "@fast @connection", "connection", "Resets the connection.", "6.2.0", "O(1)"},
    {"select", cmd_select, 2, CONN_FLAGS, 0, 0, 0, "@fast @connection", "connection",
     "Changes the selected database.", "1.0.0", "O(1)"},
    {"auth", cmd_auth, -2, CMD_NOSCRIPT | CONN_FLAGS | CMD_NO_AUTH | CMD_ALLOW_BUSY, 0, 0, 0,
     "@fast @connection", "connection", "Authenticates the connection.", "1.0.0",
     "O(N) where N is the number of passwords defined for the user"},
    {"hello", cmd_hello, -1, CMD_NOSCRIPT | CONN_FLAGS | CMD_NO_AUTH | CMD_ALLOW_BUSY, 0, 0, 0,
     "@fast @connection", "connection", "Handshakes with the Redis-protocol server.", "6.0.0", "O(1)"},
    {"client", NULL, -2, CMD_SUBSCRIBED_OK * 0, 0, 0, 0, "@slow", "connection",
     "A container for client connection commands.", "2.4.0", "Depends on subcommand.", client_subcommands},
    {0},
};
