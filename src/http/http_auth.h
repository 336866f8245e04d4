/* http_auth: checks an Authorization header against the server's users:
 * "Basic" with a user name and password (an empty name is the default
 * user, as AUTH <password> is), or "Bearer <password>" for the default user. */
#ifndef RUNNEL_HTTP_HTTP_AUTH_H
#define RUNNEL_HTTP_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* The user a name and password pair names, or NULL when the pair is
 * wrong; the server passes a wrapper of acl_credentials_user
 * (server/acl.h). The result is opaque here. */
typedef void *http_auth_verify_fn(const char *user, size_t ulen, const char *pass, size_t plen);

/* The user header[0..len) authenticates (what `verify` returned for its
 * pair), or NULL when header is NULL (no Authorization header), of another
 * scheme, malformed, or names a wrong pair. */
void *http_auth_user(const char *header, size_t len, http_auth_verify_fn *verify);

#endif
