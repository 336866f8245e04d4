/* http_auth: checks an Authorization header against the server's users:
 * "Basic" with a user name and password (an empty name is the default
 * user, as AUTH <password> is), or "Bearer <password>" for the default user. */
#ifndef RUNNEL_HTTP_HTTP_AUTH_H
#define RUNNEL_HTTP_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Whether a user name and password pair is valid; the server passes
 * acl_credentials_ok (server/acl.h). */
typedef bool http_auth_verify_fn(const char *user, size_t ulen, const char *pass, size_t plen);

/* True when `open` (the default user needs no password), or when
 * header[0..len) carries a pair `verify` accepts. header may be NULL (no
 * Authorization header). */
bool http_auth_check(const char *header, size_t len, bool open, http_auth_verify_fn *verify);

#endif
