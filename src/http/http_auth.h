/* http_auth: checks an Authorization header against the server's password
 * (requirepass): "Bearer <password>", or "Basic" with any user name (or
 * "default") and that password. */
#ifndef RUNNEL_HTTP_HTTP_AUTH_H
#define RUNNEL_HTTP_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* True when no password is set, or when header[0..len) carries it. header
 * may be NULL (no Authorization header). The comparison takes the same time
 * wherever the first difference is. */
bool http_auth_check(const char *header, size_t len, const char *password);

#endif
