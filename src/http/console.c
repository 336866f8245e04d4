/* console: see console.h. */
#include "http/console.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "http/api.h"
#include "http/console_assets.h"
#include "http/console_exec.h"
#include "server/acl.h"
#include "server/config.h"

static char csrf_token[33];

void console_init(void)
{
    if (csrf_token[0]) return;
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* no entropy source: still unguessable enough from outside the host */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (size_t i = 0; i < sizeof(raw); i++) raw[i] = (unsigned char)((ts.tv_nsec >> (i % 8)) ^ (i * 131));
    }
    for (size_t i = 0; i < sizeof(raw); i++) snprintf(csrf_token + 2 * i, 3, "%02x", raw[i]);
}

bool console_asset_find(const char *path, size_t len, const char **type, const unsigned char **data, size_t *len_out)
{
    const char *name;
    size_t name_len;
    if ((len == 1 && path[0] == '/') || (len == 4 && memcmp(path, "/ui/", 4) == 0)) {
        name = "index.html";
        name_len = strlen(name);
    } else if (len > 4 && memcmp(path, "/ui/", 4) == 0) {
        name = path + 4;
        name_len = len - 4;
    } else {
        return false;
    }
    for (size_t i = 0; i < console_asset_count; i++) {
        const struct console_asset *a = &console_assets[i];
        if (strlen(a->name) != name_len || memcmp(a->name, name, name_len) != 0) continue;
        *type = a->type;
        *data = a->data;
        *len_out = a->len;
        return true;
    }
    return false;
}

/* Whether the request's user may run at least one of the actions'
 * commands (the keys are checked per stream: /api/stream's "can"). */
static bool user_may_write(void)
{
    static const char *const commands[] = {"XACK", "XCLAIM", "XDEL", "XTRIM"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (console_exec_allows(1, &commands[i])) return true;
    return false;
}

str console_session_render(const char *user, const char *token, const char *login)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "csrf_token", json_object_new_string(token ? token : csrf_token));
    json_object_object_add(doc, "user", json_object_new_string(user));
    json_object_object_add(doc, "login", json_object_new_string(login));
    json_object_object_add(doc, "can_write", json_object_new_boolean(user_may_write()));
    json_object_object_add(doc, "password_required", json_object_new_boolean(!acl_default_user_open()));
    return api_json_text(doc);
}

/* Compares without an early exit, so timing tells nothing of the token. */
static bool same_token(const char *given, size_t len, const char *token)
{
    size_t want = strlen(token);
    unsigned diff = len != want;
    for (size_t i = 0; i < len && i < want; i++) diff |= (unsigned char)given[i] ^ (unsigned char)token[i];
    return diff == 0;
}

/* Origin "scheme://host[:port]" must name the Host the request was sent to. */
bool console_same_origin(const struct http_request *r)
{
    if (!r->origin || !r->host) return false;
    const char *sep = r->origin_len > 3 ? memchr(r->origin, ':', r->origin_len) : NULL;
    if (!sep || (size_t)(sep - r->origin) + 3 > r->origin_len || memcmp(sep, "://", 3) != 0) return false;
    const char *host = sep + 3;
    size_t host_len = r->origin_len - (size_t)(host - r->origin);
    return host_len == r->host_len && memcmp(host, r->host, host_len) == 0;
}

/* The Host without its port: "[::1]:9121" -> "::1", "a.b:80" -> "a.b". */
static size_t host_name(const char *h, size_t len, const char **name)
{
    if (len && h[0] == '[') {
        const char *close = memchr(h, ']', len);
        *name = h + 1;
        return close ? (size_t)(close - h - 1) : 0;
    }
    const char *colon = memchr(h, ':', len);
    *name = h;
    return colon ? (size_t)(colon - h) : len;
}

bool console_host_allowed(const struct http_request *r)
{
    if (!acl_default_user_open()) return true; /* a password guards it: any host name will do */
    if (!r->host) return false;
    const char *name;
    size_t len = host_name(r->host, r->host_len, &name);
    if (len == 0) return false;
    if (len == 9 && strncasecmp(name, "localhost", 9) == 0) return true;
    /* an address literal: digits and dots (IPv4) or hex digits and colons (IPv6) */
    bool v6 = name > r->host; /* it was bracketed */
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= '0' && c <= '9') || c == '.' ||
                  (v6 && (c == ':' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')));
        if (!ok) return false;
    }
    return true;
}

const char *console_action_refusal(const struct http_request *r, const char *token)
{
    if (!console_host_allowed(r)) return CONSOLE_HOST_REFUSAL;
    if (!console_same_origin(r)) return "cross-origin request refused: Origin must match Host";
    if (!r->csrf_token || !same_token(r->csrf_token, r->csrf_token_len, token ? token : csrf_token))
        return "missing or wrong X-CSRF-Token";
    return NULL;
}
