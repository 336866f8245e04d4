/* http_auth: see http_auth.h. */
#include "http/http_auth.h"

#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/str.h"

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

static void *basic_user(const char *cred, size_t len, http_auth_verify_fn *verify)
{
    str decoded = NULL;
    if (!base64_decode(cred, len, &decoded)) return NULL;
    size_t dlen = str_len(decoded);
    const char *colon = memchr(decoded, ':', dlen);
    void *ok = NULL;
    if (colon) {
        size_t ulen = (size_t)(colon - decoded);
        const char *user = ulen ? decoded : "default";
        ok = verify(user, ulen ? ulen : 7, colon + 1, dlen - ulen - 1);
    }
    str_free(decoded);
    return ok;
}

void *http_auth_user(const char *header, size_t len, http_auth_verify_fn *verify)
{
    if (!header) return NULL;
    const char *rest;
    size_t rest_len;
    if (split_scheme(header, len, "Bearer", &rest, &rest_len)) return verify("default", 7, rest, rest_len);
    if (split_scheme(header, len, "Basic", &rest, &rest_len)) return basic_user(rest, rest_len, verify);
    return NULL;
}
