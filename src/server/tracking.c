/* tracking: client-side caching — CLIENT TRACKING and its invalidations
 * (see tracking.h). */
#include "server/tracking.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/dict.h"
#include "protocol/reply.h"
#include "server/client.h"
#include "server/command_table.h"
#include "server/connection.h"
#include "server/server.h"
#include "util/mem.h"

enum tracking_flags {
    TRACK_BCAST = 1 << 0,
    TRACK_OPTIN = 1 << 1,
    TRACK_OPTOUT = 1 << 2,
    TRACK_NOLOOP = 1 << 3,
    TRACK_CACHING = 1 << 4,      /* CLIENT CACHING yes (OPTIN) / no (OPTOUT) for the next command */
    TRACK_BROKEN_REDIR = 1 << 5, /* the redirect target went away */
};

/* A tracking client's state (client->tracking; NULL: tracking off). */
struct tracking_state {
    uint32_t flags;
    uint64_t redirect; /* 0: none */
    str *prefixes;     /* BCAST */
    size_t nprefixes;
    /* invalidations of its own writes, sent after its reply */
    str *owed;
    size_t nowed;
    bool owed_flush;
};

/* Client ids, a small growable array. */
struct id_list {
    size_t count, cap;
    uint64_t ids[];
};

static void id_list_free(void *p)
{
    mem_free(p);
}

static struct id_list *id_list_add(struct id_list *l, uint64_t id)
{
    if (l) {
        for (size_t i = 0; i < l->count; i++)
            if (l->ids[i] == id) return l;
    }
    if (!l || l->count == l->cap) {
        size_t cap = l ? 2 * l->cap : 2;
        struct id_list *n = mem_realloc(l, sizeof(*n) + cap * sizeof(uint64_t));
        if (!l) n->count = 0;
        n->cap = cap;
        l = n;
    }
    l->ids[l->count++] = id;
    return l;
}

/* The default mode's table: key name (whatever its database, as Redis) ->
 * ids of clients that read it since it last changed. */
static const struct dict_type table_type = {.owns_keys = true, .val_free = id_list_free};
static struct dict *table;
static long long table_items;

/* BCAST prefixes: each with its clients and the keys changed under it this
 * iteration (with who changed them, for NOLOOP). */
struct bcast_prefix {
    str prefix;
    struct id_list *clients;
    str *keys;
    uint64_t *callers;
    size_t nkeys, capkeys;
};
static struct bcast_prefix *prefixes;
static size_t nprefixes;

static long long tracking_clients;
bool tracking_active;
/* Tracking clients by id (8 bytes -> the client pointer), so an
 * invalidation finds its client without walking the client list. */
static const struct dict_type trackers_type = {.layout = DICT_EMBED_KEY_VALUE};
static struct dict *trackers;

static struct client *tracker_by_id(uint64_t id)
{
    struct dict_entry *e = trackers ? dict_find(trackers, &id, sizeof(id)) : NULL;
    if (!e) return NULL;
    size_t len;
    struct client *c;
    memcpy(&c, dict_entry_value(e, &len), sizeof(c));
    return c;
}
static struct client *caller;    /* the client whose command runs (the outermost) */
static bool flush_pending;

#define TRACKING_CHANNEL "__redis__:invalidate"

static void key_touched(struct db *db, const char *key, size_t len);
static void db_flushed(struct db *db);

/* The hooks are installed while some client tracks, or a command that ran
 * while one did has not finished (its caller is set), or BCAST keys wait
 * to be sent: otherwise writes and reads pay nothing for tracking. */
static void tracking_update_active(void)
{
    tracking_active = tracking_clients > 0;
    db_hooks.key_touched = tracking_active ? key_touched : NULL;
    db_hooks.db_flushed = tracking_active ? db_flushed : NULL;
}

static struct tracking_state *state_of(const struct client *c)
{
    return c->tracking;
}

/* ---- sending ---- */

/* The head of an invalidation for target (the value follows), or false
 * when target cannot receive one: a RESP2 client gets messages only as a
 * redirect target subscribed to the channel. */
static bool invalidation_head(struct client *target, bool redirected)
{
    if (target->resp > 2) {
        reply_push(&target->out, 2);
        reply_bulk(&target->out, "invalidate", 10);
        return true;
    }
    if (!redirected || !(target->flags & CLIENT_PUBSUB)) return false;
    reply_array(&target->out, 3);
    reply_bulk(&target->out, "message", 7);
    reply_bulk(&target->out, TRACKING_CHANNEL, sizeof(TRACKING_CHANNEL) - 1);
    return true;
}

/* Where c's invalidations go: itself, or its redirect target; NULL when the
 * target is gone (c learns it once, with a tracking-redir-broken push). */
static struct client *invalidation_target(struct client *c)
{
    struct tracking_state *t = state_of(c);
    if (!t->redirect) return c;
    struct client *target = client_by_id(t->redirect);
    if (target && !(target->flags & CLIENT_CLOSE_ASAP)) return target;
    if (!(t->flags & TRACK_BROKEN_REDIR)) {
        t->flags |= TRACK_BROKEN_REDIR;
        if (c->resp > 2) {
            reply_push(&c->out, 2);
            reply_bulk(&c->out, "tracking-redir-broken", 21);
            reply_int(&c->out, (long long)t->redirect);
            client_mark_pending_write(c);
        }
    }
    return NULL;
}

/* Sends c the keys (n of them), or a null for a flush when keys is NULL. */
static void send_invalidation(struct client *c, const str *keys, size_t n)
{
    struct client *target = invalidation_target(c);
    if (!target || !invalidation_head(target, target != c)) return;
    if (!keys) {
        reply_null(&target->out);
    } else {
        reply_array(&target->out, (long long)n);
        for (size_t i = 0; i < n; i++) reply_bulk(&target->out, keys[i], str_len(keys[i]));
    }
    client_mark_pending_write(target);
}

/* An invalidation of c's own command waits for its reply. */
static void owe_key(struct tracking_state *t, const char *key, size_t len)
{
    t->owed = mem_realloc(t->owed, (t->nowed + 1) * sizeof(str));
    t->owed[t->nowed++] = str_new(key, len);
}

static void pay_owed(struct client *c)
{
    struct tracking_state *t = state_of(c);
    if (!t) return;
    if (t->owed_flush) send_invalidation(c, NULL, 0);
    for (size_t i = 0; i < t->nowed; i++) {
        if (!t->owed_flush) send_invalidation(c, &t->owed[i], 1);
        str_free(t->owed[i]);
    }
    mem_free(t->owed);
    t->owed = NULL;
    t->nowed = 0;
    t->owed_flush = false;
}

/* ---- keys changing ---- */

static bool has_prefix(const char *key, size_t len, str prefix)
{
    return str_len(prefix) <= len && memcmp(key, prefix, str_len(prefix)) == 0;
}

static void key_touched(struct db *db, const char *key, size_t len)
{
    (void)db;
    if (table && dict_size(table)) {
        struct dict_entry *e = dict_find(table, key, len);
        if (e) {
            struct id_list *l = e->v.ptr;
            table_items -= (long long)l->count;
            for (size_t i = 0; i < l->count; i++) {
                struct client *c = tracker_by_id(l->ids[i]);
                struct tracking_state *t = c ? state_of(c) : NULL;
                if (!t || (t->flags & TRACK_BCAST)) continue;
                if ((t->flags & TRACK_NOLOOP) && c == caller) continue;
                if (c == caller) {
                    owe_key(t, key, len);
                    continue;
                }
                str k = str_new(key, len);
                send_invalidation(c, &k, 1);
                str_free(k);
            }
            dict_delete(table, key, len);
        }
    }
    for (size_t i = 0; i < nprefixes; i++) {
        struct bcast_prefix *p = &prefixes[i];
        if (!has_prefix(key, len, p->prefix)) continue;
        if (p->nkeys == p->capkeys) {
            p->capkeys = p->capkeys ? 2 * p->capkeys : 8;
            p->keys = mem_realloc(p->keys, p->capkeys * sizeof(str));
            p->callers = mem_realloc(p->callers, p->capkeys * sizeof(uint64_t));
        }
        p->keys[p->nkeys] = str_new(key, len);
        p->callers[p->nkeys++] = caller ? caller->id : 0;
    }
}

static void db_flushed(struct db *db)
{
    (void)db;
    if (tracking_clients) flush_pending = true;
    if (table) {
        dict_clear(table);
        table_items = 0;
    }
}

static void send_flushes(void)
{
    if (!flush_pending) return;
    flush_pending = false;
    for (struct client *c = server.clients; c; c = c->next) {
        struct tracking_state *t = state_of(c);
        if (!t) continue;
        if (c == caller) t->owed_flush = true;
        else send_invalidation(c, NULL, 0);
    }
}

/* Orders a prefix's changed keys as Redis's radix tree holds them
 * (bytewise, a prefix first), the same key's changes by time. */
static const struct bcast_prefix *sorting;

static int key_order(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    str x = sorting->keys[i], y = sorting->keys[j];
    size_t n = str_len(x) < str_len(y) ? str_len(x) : str_len(y);
    int c = memcmp(x, y, n);
    if (c) return c;
    if (str_len(x) != str_len(y)) return str_len(x) < str_len(y) ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Each BCAST prefix's clients get the keys changed under it, sorted, each
 * once, in one message per prefix; a NOLOOP client not the keys whose last
 * change was its own. */
static void send_bcast_prefix(struct bcast_prefix *p)
{
    size_t *order = mem_alloc(p->nkeys * sizeof(size_t));
    for (size_t k = 0; k < p->nkeys; k++) order[k] = k;
    sorting = p;
    qsort(order, p->nkeys, sizeof(size_t), key_order);
    /* the last change of each key */
    size_t n = 0;
    for (size_t k = 0; k < p->nkeys; k++) {
        bool last = k + 1 == p->nkeys || str_len(p->keys[order[k]]) != str_len(p->keys[order[k + 1]]) ||
                    memcmp(p->keys[order[k]], p->keys[order[k + 1]], str_len(p->keys[order[k]])) != 0;
        if (last) order[n++] = order[k];
    }
    str *keys = mem_alloc(n * sizeof(str));
    for (size_t j = 0; p->clients && j < p->clients->count; j++) {
        struct client *c = tracker_by_id(p->clients->ids[j]);
        if (!c || !state_of(c)) continue;
        bool noloop = state_of(c)->flags & TRACK_NOLOOP;
        size_t m = 0;
        for (size_t k = 0; k < n; k++)
            if (!noloop || p->callers[order[k]] != c->id) keys[m++] = p->keys[order[k]];
        if (m) send_invalidation(c, keys, m);
    }
    mem_free(keys);
    mem_free(order);
    for (size_t k = 0; k < p->nkeys; k++) str_free(p->keys[k]);
    p->nkeys = 0;
}

static void send_bcast(void)
{
    for (size_t i = 0; i < nprefixes; i++)
        if (prefixes[i].nkeys) send_bcast_prefix(&prefixes[i]);
}

void tracking_before_sleep(void)
{
    send_flushes();
    send_bcast();
}

/* ---- remembering keys ---- */

static void remember_key(uint64_t id, const char *key, size_t len)
{
    bool existed;
    struct dict_entry *e = dict_add_or_find(table, key, len, NULL, &existed);
    struct id_list *before = e->v.ptr;
    size_t n = before ? before->count : 0;
    e->v.ptr = id_list_add(before, id);
    table_items += (long long)(((struct id_list *)e->v.ptr)->count - n);
}

static void remember_keys(struct client *c, struct command *cmd, int argc, struct arg *argv)
{
    int small[16];
    int *pos = argc <= 16 ? small : mem_alloc(sizeof(int) * (size_t)argc);
    int n = command_key_positions(cmd, argv, argc, pos, argc <= 16 ? 16 : argc);
    for (int i = 0; i < n; i++) remember_key(c->id, argv[pos[i]].ptr, argv[pos[i]].len);
    if (pos != small) mem_free(pos);
}

struct client *tracking_push(struct client *c)
{
    struct client *outer = caller;
    if (!outer) caller = c;
    return outer;
}

void tracking_pop(struct client *outer, struct client *c, struct command *cmd, int argc, struct arg *argv)
{
    if (!tracking_clients) {
        caller = outer;
        if (!outer) tracking_update_active();
        return;
    }
    struct client *who = caller ? caller : c;
    struct tracking_state *t = state_of(who);
    if (t && !(t->flags & TRACK_BCAST) && (cmd->flags & CMD_READONLY)) {
        bool caching = t->flags & TRACK_CACHING;
        bool wanted = (t->flags & TRACK_OPTIN) ? caching : (t->flags & TRACK_OPTOUT) ? !caching : true;
        if (wanted) remember_keys(who, cmd, argc, argv);
    }
    if (outer) return;
    caller = NULL;
    if (t && strcmp(cmd->full_name, "client|caching") != 0 && !(who->flags & CLIENT_MULTI))
        t->flags &= ~TRACK_CACHING;
    send_flushes();
    if (t) pay_owed(who);
}

/* ---- turning it on and off ---- */

static struct bcast_prefix *prefix_find(const char *p, size_t len)
{
    for (size_t i = 0; i < nprefixes; i++)
        if (str_len(prefixes[i].prefix) == len && memcmp(prefixes[i].prefix, p, len) == 0) return &prefixes[i];
    return NULL;
}

static void prefix_add_client(const char *p, size_t len, uint64_t id)
{
    struct bcast_prefix *bp = prefix_find(p, len);
    if (!bp) {
        prefixes = mem_realloc(prefixes, (nprefixes + 1) * sizeof(*prefixes));
        bp = &prefixes[nprefixes++];
        memset(bp, 0, sizeof(*bp));
        bp->prefix = str_new(p, len);
    }
    bp->clients = id_list_add(bp->clients, id);
}

static void prefix_remove_client(const char *p, size_t len, uint64_t id)
{
    struct bcast_prefix *bp = prefix_find(p, len);
    if (!bp) return;
    for (size_t i = 0; bp->clients && i < bp->clients->count; i++)
        if (bp->clients->ids[i] == id) bp->clients->ids[i] = bp->clients->ids[--bp->clients->count];
    if (bp->clients && bp->clients->count) return;
    str_free(bp->prefix);
    mem_free(bp->clients);
    for (size_t k = 0; k < bp->nkeys; k++) str_free(bp->keys[k]);
    mem_free(bp->keys);
    mem_free(bp->callers);
    *bp = prefixes[--nprefixes];
}

static void tracking_disable(struct client *c)
{
    struct tracking_state *t = state_of(c);
    if (!t) return;
    for (size_t i = 0; i < t->nprefixes; i++) {
        prefix_remove_client(t->prefixes[i], str_len(t->prefixes[i]), c->id);
        str_free(t->prefixes[i]);
    }
    mem_free(t->prefixes);
    for (size_t i = 0; i < t->nowed; i++) str_free(t->owed[i]);
    mem_free(t->owed);
    mem_free(t);
    c->tracking = NULL;
    tracking_clients--;
    dict_delete(trackers, &c->id, sizeof(c->id));
}

void tracking_client_closing(struct client *c)
{
    tracking_disable(c);
}

/* Whether one of two prefixes starts the other. */
static bool prefixes_overlap(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    return memcmp(a, b, n) == 0;
}

/* A client's prefixes must not overlap, neither with those it has nor
 * among the new ones. */
static bool prefixes_check(struct request *req, const struct tracking_state *t, const struct arg *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; t && k < t->nprefixes; k++) {
            if (prefixes_overlap(t->prefixes[k], str_len(t->prefixes[k]), p[i].ptr, p[i].len)) {
                reply_errorf(req->out,
                             "ERR Prefix '%.*s' overlaps with an existing prefix '%s'. Prefixes for a single client "
                             "must not overlap.",
                             (int)p[i].len, p[i].ptr, t->prefixes[k]);
                return false;
            }
        }
        for (size_t j = i + 1; j < n; j++) {
            if (prefixes_overlap(p[i].ptr, p[i].len, p[j].ptr, p[j].len)) {
                reply_errorf(req->out,
                             "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. Prefixes for a single "
                             "client must not overlap.",
                             (int)p[i].len, p[i].ptr, (int)p[j].len, p[j].ptr);
                return false;
            }
        }
    }
    return true;
}

static struct client *req_client(struct request *req)
{
    return req->client;
}

/* CLIENT TRACKING on|off [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
void cmd_client_tracking(struct request *req)
{
    struct client *c = req_client(req);
    long long redirect = 0;
    uint32_t options = 0;
    struct arg small[8];
    struct arg *pfx = small;
    size_t npfx = 0, cap = 8;
    bool ok = false;
    for (int j = 3; j < req->argc; j++) {
        bool more = j + 1 < req->argc;
        if (ARG_IS(req, j, "REDIRECT") && more) {
            j++;
            if (redirect != 0) {
                reply_error(req->out, "ERR A client can only redirect to a single other client");
                goto done;
            }
            if (!request_ll(req, j, &redirect)) goto done;
            if (!client_by_id((uint64_t)redirect)) {
                reply_error(req->out, "ERR The client ID you want redirect to does not exist");
                goto done;
            }
        } else if (ARG_IS(req, j, "BCAST")) {
            options |= TRACK_BCAST;
        } else if (ARG_IS(req, j, "OPTIN")) {
            options |= TRACK_OPTIN;
        } else if (ARG_IS(req, j, "OPTOUT")) {
            options |= TRACK_OPTOUT;
        } else if (ARG_IS(req, j, "NOLOOP")) {
            options |= TRACK_NOLOOP;
        } else if (ARG_IS(req, j, "PREFIX") && more) {
            if (npfx == cap) {
                cap *= 2;
                struct arg *grown = mem_alloc(cap * sizeof(struct arg));
                memcpy(grown, pfx, npfx * sizeof(struct arg));
                if (pfx != small) mem_free(pfx);
                pfx = grown;
            }
            pfx[npfx++] = req->argv[++j];
        } else {
            reply_syntax_error(req->out);
            goto done;
        }
    }
    struct tracking_state *t = state_of(c);
    if (ARG_IS(req, 2, "OFF")) {
        tracking_disable(c);
        reply_ok(req->out);
        ok = true;
        goto done;
    }
    if (!ARG_IS(req, 2, "ON")) {
        reply_syntax_error(req->out);
        goto done;
    }
    const char *err = NULL;
    if (!(options & TRACK_BCAST) && npfx) err = "ERR PREFIX option requires BCAST mode to be enabled";
    else if (t && !!(t->flags & TRACK_BCAST) != !!(options & TRACK_BCAST))
        err = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
              "re-enabling it with a different mode.";
    else if ((options & TRACK_BCAST) && (options & (TRACK_OPTIN | TRACK_OPTOUT)))
        err = "ERR OPTIN and OPTOUT are not compatible with BCAST";
    else if ((options & TRACK_OPTIN) && (options & TRACK_OPTOUT)) err = "ERR You can't specify both OPTIN mode and OPTOUT mode";
    else if (t && (((options & TRACK_OPTIN) && (t->flags & TRACK_OPTOUT)) ||
                   ((options & TRACK_OPTOUT) && (t->flags & TRACK_OPTIN))))
        err = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then "
              "re-enabling it with a different mode.";
    if (err) {
        reply_error(req->out, err);
        goto done;
    }
    if ((options & TRACK_BCAST) && !prefixes_check(req, t, pfx, npfx)) goto done;
    if (!t) {
        t = mem_calloc(sizeof(*t));
        c->tracking = t;
        tracking_clients++;
        tracking_update_active();
        if (!trackers) trackers = dict_create(&trackers_type);
        dict_put_value(trackers, &c->id, sizeof(c->id), &c, sizeof(c));
        if (!table) table = dict_create(&table_type);
    }
    t->flags = (t->flags & TRACK_BCAST) | options;
    t->redirect = (uint64_t)redirect;
    if (options & TRACK_BCAST) {
        struct arg empty = {"", 0};
        struct arg *add = npfx ? pfx : &empty;
        size_t nadd = npfx ? npfx : 1;
        /* a client tracking everything ("") gets no second empty prefix */
        for (size_t i = 0; i < nadd; i++) {
            bool have = false;
            for (size_t k = 0; k < t->nprefixes; k++)
                have |= str_len(t->prefixes[k]) == add[i].len && memcmp(t->prefixes[k], add[i].ptr, add[i].len) == 0;
            if (have) continue;
            t->prefixes = mem_realloc(t->prefixes, (t->nprefixes + 1) * sizeof(str));
            t->prefixes[t->nprefixes++] = str_new(add[i].ptr, add[i].len);
            prefix_add_client(add[i].ptr, add[i].len, c->id);
        }
    }
    reply_ok(req->out);
    ok = true;
done:
    (void)ok;
    if (pfx != small) mem_free(pfx);
}

void cmd_client_caching(struct request *req)
{
    struct tracking_state *t = state_of(req_client(req));
    if (!t) {
        reply_error(req->out, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
                              "or OPTOUT mode enabled");
        return;
    }
    if (ARG_IS(req, 2, "YES")) {
        if (!(t->flags & TRACK_OPTIN)) {
            reply_error(req->out, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if (ARG_IS(req, 2, "NO")) {
        if (!(t->flags & TRACK_OPTOUT)) {
            reply_error(req->out, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        reply_syntax_error(req->out);
        return;
    }
    t->flags |= TRACK_CACHING;
    reply_ok(req->out);
}

void cmd_client_getredir(struct request *req)
{
    reply_int(req->out, tracking_redirect_id(req_client(req)));
}

void cmd_client_trackinginfo(struct request *req)
{
    const struct tracking_state *t = state_of(req_client(req));
    const char *flags[8];
    int n = 0;
    flags[n++] = t ? "on" : "off";
    if (t) {
        if (t->flags & TRACK_BCAST) flags[n++] = "bcast";
        if (t->flags & TRACK_OPTIN) flags[n++] = "optin";
        if ((t->flags & TRACK_OPTIN) && (t->flags & TRACK_CACHING)) flags[n++] = "caching-yes";
        if (t->flags & TRACK_OPTOUT) flags[n++] = "optout";
        if ((t->flags & TRACK_OPTOUT) && (t->flags & TRACK_CACHING)) flags[n++] = "caching-no";
        if (t->flags & TRACK_NOLOOP) flags[n++] = "noloop";
        if (t->flags & TRACK_BROKEN_REDIR) flags[n++] = "broken_redirect";
    }
    reply_map(req->out, 3);
    reply_bulk_cstr(req->out, "flags");
    reply_set(req->out, n);
    for (int i = 0; i < n; i++) reply_bulk_cstr(req->out, flags[i]);
    reply_bulk_cstr(req->out, "redirect");
    reply_int(req->out, tracking_redirect_id(req_client(req)));
    reply_bulk_cstr(req->out, "prefixes");
    reply_array(req->out, t ? (long long)t->nprefixes : 0);
    for (size_t i = 0; t && i < t->nprefixes; i++) reply_bulk(req->out, t->prefixes[i], str_len(t->prefixes[i]));
}

/* ---- introspection ---- */

char *tracking_client_flags(const struct client *c, char *p)
{
    const struct tracking_state *t = state_of(c);
    if (!t) return p;
    *p++ = 't';
    if (t->flags & TRACK_BROKEN_REDIR) *p++ = 'R';
    if (t->flags & TRACK_BCAST) *p++ = 'B';
    return p;
}

long long tracking_redirect_id(const struct client *c)
{
    const struct tracking_state *t = state_of(c);
    return t ? (long long)t->redirect : -1;
}

long long tracking_clients_count(void)
{
    return tracking_clients;
}

str tracking_info_stats(str s)
{
    return str_append_printf(s, "tracking_total_keys:%zu\r\ntracking_total_items:%lld\r\ntracking_total_prefixes:%zu\r\n",
                             table ? dict_size(table) : 0, table_items, nprefixes);
}

void tracking_init(void)
{
    tracking_update_active();
}
