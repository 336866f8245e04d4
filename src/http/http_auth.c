/* http_auth: see http_auth.h. */
#include "http/http_auth.h"

#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/str.h"

/* Compares without an early exit, so that timing tells nothing of the password. */
static bool same_secret(const char *given, size_t glen, const char *password)
{
    size_t plen = strlen(password);
    unsigned diff = glen != plen;
    for (size_t i = 0; i < glen; i++) diff |= (unsigned char)given[i] ^ (unsigned char)password[i % (plen ? plen : 1)];
    return diff == 0 && plen > 0;
}

/* Splits "scheme credentials"; false if there is no space after the scheme. */
static bool split_scheme(const char *h, size_t len, const char *scheme, const char **rest, size_t *rest_len)
{
    size_t n = strlen(scheme);
    if (len <= n || strncasecmp(h, scheme, n) != 0 || h[n] != ' ') return false;
    size_t i = n;
    while (i < len && h[i] == ' ') i++;
    *rest = h + i;
    *rest_len = len - i;
    return true;
}

static bool basic_matches(const char *cred, size_t len, const char *password)
{
    str decoded = NULL;
    if (!base64_decode(cred, len, &decoded)) return false;
    size_t dlen = str_len(decoded);
    const char *colon = memchr(decoded, ':', dlen);
    bool ok = false;
    /* any user name: only the password is checked, as AUTH <password> does */
    if (colon) ok = same_secret(colon + 1, dlen - (size_t)(colon - decoded) - 1, password);
    str_free(decoded);
    return ok;
}

bool http_auth_check(const char *header, size_t len, const char *password)
{
    if (!password || !password[0]) return true;
    if (!header) return false;
    const char *rest;
    size_t rest_len;
    if (split_scheme(header, len, "Bearer", &rest, &rest_len)) return same_secret(rest, rest_len, password);
    if (split_scheme(header, len, "Basic", &rest, &rest_len)) return basic_matches(rest, rest_len, password);
    return false;
}
