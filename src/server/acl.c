/* The user store, the binding of clients to users, authentication and the
 * permission checks dispatch, EXEC and scripts ask for. */
#include "server/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messaging/pubsub.h"
#include "server/acl_file.h"
#include "server/acl_log.h"
#include "server/acl_store.h"
#include "server/client.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/server.h"
#include "types/sort.h"
#include "util/mem.h"

static struct acl_user **users; /* sorted by name */
static int users_count;
static struct acl_user *default_user;

/* --- the store --------------------------------------------------------- */

static int name_cmp(const struct acl_user *u, const char *name, size_t len)
{
    size_t ulen = str_len(u->name);
    int c = memcmp(u->name, name, ulen < len ? ulen : len);
    if (c) return c;
    return ulen < len ? -1 : ulen > len ? 1 : 0;
}

/* Index of the user, or -(insertion point) - 1. */
static int user_index(const char *name, size_t len)
{
    int lo = 0, hi = users_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = name_cmp(users[mid], name, len);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -lo - 1;
}

struct acl_user *acl_user_find(const char *name, size_t len)
{
    int i = user_index(name, len);
    return i >= 0 ? users[i] : NULL;
}

bool acl_user_exists(const char *name, size_t len)
{
    return acl_user_find(name, len) != NULL;
}

struct acl_user *acl_default_user(void)
{
    return default_user;
}

int acl_users_count(void)
{
    return users_count;
}

struct acl_user *acl_user_at(int i)
{
    return users[i];
}

static void users_insert(struct acl_user *u)
{
    int at = -user_index(u->name, str_len(u->name)) - 1;
    users = mem_realloc(users, sizeof(*users) * (size_t)(users_count + 1));
    memmove(users + at + 1, users + at, sizeof(*users) * (size_t)(users_count - at));
    users[at] = u;
    users_count++;
}

struct acl_user *acl_user_new_default(void)
{
    struct acl_user *u = acl_user_new("default", 7);
    const char *err;
    static const char *const rules[] = {"+@all", "~*", "&*", "on", "nopass"};
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) acl_user_apply(u, rules[i], strlen(rules[i]), &err);
    return u;
}

/* Puts src's contents into dst (whose address clients hold) and frees
 * what dst held. */
static void user_overwrite(struct acl_user *dst, struct acl_user *src)
{
    struct acl_user old = *dst;
    *dst = *src;
    *src = old;
    acl_user_free(src);
}

/* --- clients ------------------------------------------------------------- */

/* What a disconnected client is bound to until it is freed: nothing is
 * allowed, so commands already read behind its last one cannot run as a
 * user that no longer exists. */
static struct acl_user *nobody;

static void client_disconnect(struct client *c, struct client *caller)
{
    c->user = nobody;
    if (c == caller) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    else client_close_async(c);
}

static void disconnect_clients_of(struct acl_user *u, struct client *caller)
{
    for (struct client *c = server.clients; c; c = c->next)
        if (c->user == u) client_disconnect(c, caller);
}

static bool user_allows_channel(const struct acl_user *u, const char *name, size_t len, bool pattern)
{
    for (int i = 0; i < u->nselectors; i++)
        if (acl_selector_channel_ok(u->selectors[i], name, len, pattern)) return true;
    return false;
}

static bool channel_still_allowed(const char *name, size_t len, void *ctx)
{
    return user_allows_channel(ctx, name, len, false);
}

static bool pattern_still_allowed(const char *name, size_t len, void *ctx)
{
    return user_allows_channel(ctx, name, len, true);
}

/* Subscribers of u whose subscriptions u no longer allows are disconnected. */
static void disconnect_lost_subscribers(struct acl_user *u, struct client *caller)
{
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->user != u || !(c->flags & CLIENT_PUBSUB)) continue;
        bool ok = pubsub_client_all(&c->subscriptions, PUBSUB_CHANNEL, channel_still_allowed, u) &&
                  pubsub_client_all(&c->subscriptions, PUBSUB_SHARD, channel_still_allowed, u) &&
                  pubsub_client_all(&c->subscriptions, PUBSUB_PATTERN, pattern_still_allowed, u);
        if (!ok) client_disconnect(c, caller);
    }
}

void acl_client_init(struct client *c)
{
    c->user = default_user;
    bool open = !default_user || acl_default_user_open();
    if (open) c->flags |= CLIENT_AUTHENTICATED;
    else c->flags &= ~CLIENT_AUTHENTICATED;
}

const char *acl_client_user_name(const struct client *c)
{
    return c->user && c->user != nobody ? c->user->name : "default";
}

struct acl_user *acl_client_user(const struct client *c)
{
    return c->user ? c->user : default_user;
}

bool acl_default_user_nopass(void)
{
    return default_user->flags & ACL_USER_NOPASS;
}

bool acl_client_unrestricted(const struct client *c)
{
    return !c->user || c->user->unrestricted;
}

bool acl_may_run(struct client *c, struct command *cmd, int argc, struct arg *argv)
{
    int pos;
    return !c->user || c->user->unrestricted || acl_user_check(c->user, cmd, argc, argv, &pos) == ACL_OK;
}

/* A selector's keys cover every key for reading: allkeys, or a "*" pattern
 * with read permission (%R~* counts; %W~* does not). */
static bool selector_reads_all_keys(const struct acl_selector *s)
{
    if (s->flags & ACL_SEL_ALLKEYS) return true;
    for (int i = 0; i < s->nkeys; i++)
        if ((s->keys[i].perm & ACL_PERM_READ) && str_len(s->keys[i].pattern) == 1 && s->keys[i].pattern[0] == '*')
            return true;
    return false;
}

/* SORT's BY and GET patterns: allowed when one selector allows the call
 * and reads every key, as Redis 7 decides (another selector's narrower
 * keys do not count). */
static bool sort_patterns_hook(struct request *req)
{
    struct client *c = req->client;
    if (!c || !c->user || c->user->unrestricted) return true;
    struct command *cmd = command_lookup(req->argv[0].ptr, req->argv[0].len);
    if (!cmd) return false;
    for (int i = 0; i < c->user->nselectors; i++) {
        const struct acl_selector *s = c->user->selectors[i];
        int pos;
        if (selector_reads_all_keys(s) && acl_selector_check(s, cmd, req->argv, req->argc, &pos) == ACL_OK) return true;
    }
    return false;
}

bool acl_default_user_open(void)
{
    return (default_user->flags & ACL_USER_NOPASS) && (default_user->flags & ACL_USER_ON);
}

/* --- changing users -------------------------------------------------------- */

bool acl_store_setuser(const char *name, size_t len, int argc, const struct arg *argv, char **err,
                       struct client *caller)
{
    struct acl_user *existing = acl_user_find(name, len);
    struct acl_user *u = existing ? acl_user_copy(existing) : acl_user_new(name, len);
    const char *reason;
    int bad;
    if (!acl_user_apply_all(u, argc, argv, &reason, &bad)) {
        char buf[512];
        if (reason)
            snprintf(buf, sizeof(buf), "Error in ACL SETUSER modifier '%.*s': %s", (int)argv[bad].len, argv[bad].ptr,
                     reason);
        else
            snprintf(buf, sizeof(buf), "Unmatched parenthesis in acl selector starting at '%.*s'.",
                     (int)argv[bad].len, argv[bad].ptr);
        *err = mem_strdup(buf);
        acl_user_free(u);
        return false;
    }
    if (!existing) {
        users_insert(u);
        return true;
    }
    user_overwrite(existing, u);
    disconnect_lost_subscribers(existing, caller);
    return true;
}

bool acl_store_deluser(const char *name, size_t len, struct client *caller)
{
    int i = user_index(name, len);
    if (i < 0) return false;
    struct acl_user *u = users[i];
    disconnect_clients_of(u, caller);
    memmove(users + i, users + i + 1, sizeof(*users) * (size_t)(users_count - i - 1));
    users_count--;
    acl_user_free(u);
    return true;
}

void acl_store_replace(struct acl_user **fresh, int n, struct client *caller)
{
    struct acl_user *new_default = NULL;
    for (int i = 0; i < n; i++)
        if (str_len(fresh[i]->name) == 7 && !memcmp(fresh[i]->name, "default", 7)) new_default = fresh[i];
    for (int i = 0; i < users_count; i++) {
        if (users[i] == default_user) continue;
        disconnect_clients_of(users[i], caller);
        acl_user_free(users[i]);
    }
    mem_free(users);
    users = NULL;
    users_count = 0;
    if (!new_default) new_default = acl_user_new_default();
    else {
        for (int i = 0; i < n; i++)
            if (fresh[i] == new_default) fresh[i] = NULL;
    }
    user_overwrite(default_user, new_default);
    users_insert(default_user);
    for (int i = 0; i < n; i++)
        if (fresh[i]) users_insert(fresh[i]);
    mem_free(fresh);
    disconnect_lost_subscribers(default_user, caller);
}

/* requirepass is the default user's password: setting it replaces every
 * password of the default user, setting it empty makes it nopass. */
static void acl_apply_requirepass(void)
{
    const char *err;
    acl_user_apply(default_user, "resetpass", 9, &err);
    if (cfg.requirepass && cfg.requirepass[0]) {
        size_t n = strlen(cfg.requirepass);
        char *rule = mem_alloc(n + 2);
        rule[0] = '>';
        memcpy(rule + 1, cfg.requirepass, n + 1);
        acl_user_apply(default_user, rule, n + 1, &err);
        mem_free(rule);
    } else {
        acl_user_apply(default_user, "nopass", 6, &err);
    }
}

static int requirepass_hook(const char **err)
{
    (void)err;
    acl_apply_requirepass();
    return 0;
}

static int pubsub_default_hook(const char **err)
{
    (void)err;
    acl_pubsub_default = cfg.acl_pubsub_default ? ACL_SEL_ALLCHANNELS : 0;
    return 0;
}

static int log_max_len_hook(const char **err)
{
    (void)err;
    acl_log_trim();
    return 0;
}

int acl_init(char **err)
{
    *err = NULL;
    acl_commands_index();
    pubsub_default_hook(NULL);
    sort_patterns_allowed = sort_patterns_hook;
    nobody = acl_user_new("default", 7);
    default_user = acl_user_new_default();
    users_insert(default_user);
    if (cfg.requirepass && cfg.requirepass[0]) acl_apply_requirepass();
    if (acl_file_startup(err) != 0) return -1;
    if (cfg.requirepass && cfg.requirepass[0]) acl_apply_requirepass();
    config_rewrite_users = acl_file_rewrite_users;
    config_set_apply_hook("requirepass", requirepass_hook);
    config_set_apply_hook("acl-pubsub-default", pubsub_default_hook);
    config_set_apply_hook("acllog-max-len", log_max_len_hook);
    for (struct client *c = server.clients; c; c = c->next) acl_client_init(c);
    return 0;
}

/* --- authentication -------------------------------------------------------- */

bool acl_user_password_ok(const struct acl_user *u, const char *pass, size_t plen)
{
    if (u->flags & ACL_USER_NOPASS) return true;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(pass, plen, digest);
    bool match = false;
    for (int i = 0; i < u->npasswords; i++) match |= sha256_equal(digest, u->passwords[i]);
    return match;
}

struct acl_user *acl_enabled_user(const char *name, size_t len)
{
    struct acl_user *u = acl_user_find(name, len);
    return u && (u->flags & ACL_USER_ON) ? u : NULL;
}

struct acl_user *acl_credentials_user(const char *user, size_t ulen, const char *pass, size_t plen)
{
    struct acl_user *u = acl_enabled_user(user, ulen);
    return u && acl_user_password_ok(u, pass, plen) ? u : NULL;
}

bool acl_credentials_ok(const char *user, size_t ulen, const char *pass, size_t plen)
{
    return acl_credentials_user(user, ulen, pass, plen) != NULL;
}

struct acl_user *acl_default_user_get(void)
{
    return default_user;
}

const char *acl_user_name(const struct acl_user *u)
{
    return u->name;
}

void acl_client_bind(struct client *c, struct acl_user *u)
{
    c->user = u;
    c->flags |= CLIENT_AUTHENTICATED;
}

void acl_user_fingerprint(const struct acl_user *u, unsigned char out[32])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, &u->serial, sizeof(u->serial));
    uint32_t nopass = u->flags & ACL_USER_NOPASS;
    sha256_update(&ctx, &nopass, sizeof(nopass));
    for (int i = 0; i < u->npasswords; i++) sha256_update(&ctx, u->passwords[i], SHA256_DIGEST_SIZE);
    sha256_final(&ctx, out);
}

enum acl_auth acl_authenticate(struct client *c, const char *user, size_t ulen, const char *pass, size_t plen)
{
    struct acl_user *u = acl_credentials_user(user, ulen, pass, plen);
    if (!u) {
        acl_log_add(ACL_DENIED_AUTH, ACL_LOG_TOPLEVEL, "auth", 4, user, ulen, c);
        return ACL_AUTH_FAILED;
    }
    c->user = u;
    c->flags |= CLIENT_AUTHENTICATED;
    return ACL_AUTH_OK;
}

/* --- permission checks ----------------------------------------------------- */

/* Every selector is tried; the denial reported is the command when no
 * selector allows it, else the highest-ranked reason, for the last
 * argument position among those (Redis's choice). */
enum acl_denial acl_user_check(const struct acl_user *u, struct command *cmd, int argc, struct arg *argv, int *pos)
{
    enum acl_denial worst = ACL_DENIED_CMD;
    int worst_pos = 0;
    for (int i = 0; i < u->nselectors; i++) {
        int p = 0;
        enum acl_denial d = acl_selector_check(u->selectors[i], cmd, argv, argc, &p);
        if (d == ACL_OK) return ACL_OK;
        if (d > worst || (d == worst && p > worst_pos)) {
            worst = d;
            worst_pos = p;
        }
    }
    *pos = worst_pos;
    return worst;
}

/* Checks and, when denied, logs; the object is the command, key or channel. */
static enum acl_denial check_and_log(struct client *c, struct client *logged, struct command *cmd, int argc,
                                     struct arg *argv, enum acl_log_context context)
{
    const struct acl_user *u = c->user;
    int pos = 0;
    enum acl_denial d = acl_user_check(u, cmd, argc, argv, &pos);
    if (d == ACL_OK) return d;
    /* the entry's client info names the refused command, as Redis's does
     * (a script's caller still shows the script's command) */
    if (context != ACL_LOG_LUA) logged->last_cmd = cmd;
    const char *object = cmd->full_name;
    size_t olen = strlen(object);
    if (d != ACL_DENIED_CMD) {
        object = argv[pos].ptr;
        olen = argv[pos].len;
    }
    acl_log_add(d, context, object, olen, u->name, str_len(u->name), logged);
    return d;
}

/* Everything but the fast test: out of line, so that the registers and the
 * stack it needs are not paid by calls the fast test allows. */
__attribute__((noinline)) static const char *refusal_checked(struct client *c, struct command *cmd, int argc,
                                                             struct arg *argv, char *buf, size_t size)
{
    int pos;
    /* the usual user has no selectors: an allowed call asks its own rules once */
    if (c->user->nselectors == 1) {
        const struct acl_selector *s = c->user->selectors[0];
        if ((cmd->acl_traits & ACL_TRAIT_ONE_KEY) && acl_selector_allows_one_key(s, cmd, argv, argc, true)) return NULL;
        if (acl_selector_check(s, cmd, argv, argc, &pos) == ACL_OK) return NULL;
    }
    enum acl_log_context context = (c->flags & CLIENT_MULTI) ? ACL_LOG_MULTI : ACL_LOG_TOPLEVEL;
    switch (check_and_log(c, c, cmd, argc, argv, context)) {
    case ACL_OK: return NULL;
    case ACL_DENIED_CMD:
        snprintf(buf, size, "NOPERM this user has no permissions to run the '%s' command", cmd->full_name);
        return buf;
    case ACL_DENIED_KEY: return "NOPERM this user has no permissions to access one of the keys used as arguments";
    case ACL_DENIED_CHANNEL:
        return "NOPERM this user has no permissions to access one of the channels used as arguments";
    default: return "NOPERM no permission";
    }
}

const char *acl_refusal(struct client *c, struct command *cmd, int argc, struct arg *argv, char *buf, size_t size)
{
    const struct acl_user *u = c->user;
    if (!u || u->unrestricted) return NULL;
    /* most calls of a restricted user: one selector, one key at argv[1]
     * under the prefix that granted the previous key */
    if (u->nselectors == 1 && (cmd->acl_traits & ACL_TRAIT_ONE_KEY) &&
        acl_selector_allows_one_key(u->selectors[0], cmd, argv, argc, false))
        return NULL;
    return refusal_checked(c, cmd, argc, argv, buf, size);
}

const char *acl_exec_refusal(struct client *c, struct command *cmd, int argc, struct arg *argv, char *buf,
                             size_t size)
{
    if (!c->user || c->user->unrestricted) return NULL;
    const char *reason;
    switch (check_and_log(c, c, cmd, argc, argv, ACL_LOG_MULTI)) {
    case ACL_OK: return NULL;
    case ACL_DENIED_CMD: reason = "no permission to execute the command or subcommand"; break;
    case ACL_DENIED_KEY: reason = "no permission to touch the specified keys"; break;
    case ACL_DENIED_CHANNEL: reason = "no permission to access one of the channels used as arguments"; break;
    default: reason = "no permission"; break;
    }
    snprintf(buf, size,
             "NOPERM ACLs rules changed between the moment the transaction was accumulated and its execution. "
             "The user can no longer execute the command: %s",
             reason);
    return buf;
}

const char *acl_script_refusal(struct client *caller, struct command *cmd, int argc, struct arg *argv)
{
    if (!caller || !caller->user || caller->user->unrestricted) return NULL;
    switch (check_and_log(caller, caller, cmd, argc, argv, ACL_LOG_LUA)) {
    case ACL_OK: return NULL;
    case ACL_DENIED_CMD: return "The user executing the script can't run this command or subcommand";
    case ACL_DENIED_KEY:
        return "The user executing the script can't access at least one of the keys mentioned in the command "
               "arguments";
    case ACL_DENIED_CHANNEL: return "The user executing the script can't publish to the channel mentioned in the command";
    default: return "The user executing the script is lacking the permissions for the command";
    }
}
