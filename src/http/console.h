/* console: the web console's side of the HTTP endpoint — its files at "/"
 * and "/ui/<file>", GET /api/session (the CSRF token and what the user may
 * do), and the guard in front of its POST actions: a request must come from
 * the console's own origin (Origin equal to the Host it was sent to) and
 * carry the token in X-CSRF-Token. */
#ifndef RUNNEL_HTTP_CONSOLE_H
#define RUNNEL_HTTP_CONSOLE_H

#include <stdbool.h>

#include "http/http_request.h"

/* Draws the CSRF token (once per process). */
void console_init(void);

/* A console file for GET path: *type, *data and *len set; false when the
 * path names none. "/" and "/ui/" give index.html. */
bool console_asset_find(const char *path, size_t len, const char **type, const unsigned char **data, size_t *len_out);

/* The JSON text of GET /api/session for the request's user (named `user`):
 * {"csrf_token" (`token`, a login session's own, or with NULL the one of
 * requests authenticated otherwise), "user", "login" ("session", "basic"
 * or "open"), "can_write" (whether its ACL rules allow any of the actions'
 * commands), "password_required"}. */
str console_session_render(const char *user, const char *token, const char *login);

/* Origin "scheme://host[:port]" names the Host the request was sent to. */
bool console_same_origin(const struct http_request *r);

/* Without a password, a web page elsewhere could reach the console through
 * a name it re-points at this host (DNS rebinding): then the console answers
 * only requests sent to an address (127.0.0.1:9121, [::1]:9121) or to
 * "localhost". With requirepass set, any Host is fine (such a page has no
 * password to send). */
bool console_host_allowed(const struct http_request *r);
#define CONSOLE_HOST_REFUSAL \
    "the console is reached by address or localhost only while no password is set (requirepass)"

/* Why a POST action must be refused (a 403's reason), or NULL when it may
 * run: the origin check and the token (`token`: the login session's, or
 * with NULL the one of requests authenticated otherwise). (The user's permission for each
 * command the action runs is checked by api_console_action.) */
const char *console_action_refusal(const struct http_request *r, const char *token);

#endif
