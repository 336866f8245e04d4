/* http_session: see http_session.h. */
#include "http/http_session.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "net/event_loop.h"
#include "server/acl.h"
#include "server/config.h"
#include "util/mem.h"
#include "util/str.h"

struct http_session {
    char id[HTTP_SESSION_ID_LEN + 1];
    char csrf[33];
    str user;
    unsigned char fingerprint[32];
    long long used_ms;            /* last use, for the timeout */
    unsigned long long used_turn; /* last use as a count of uses, for the limit (ms tie) */
};

static unsigned long long turns;

static struct http_session **sessions;
static int count;

/* n random bytes as 2n hex digits; false if the random source failed. */
static bool random_hex(char *out, size_t n)
{
    unsigned char raw[32];
    if (n > sizeof(raw)) return false;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(raw + got, n - got, 0);
        if (r <= 0) return false;
        got += (size_t)r;
    }
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return true;
}

static void drop_at(int i)
{
    str_free(sessions[i]->user);
    mem_free(sessions[i]);
    sessions[i] = sessions[--count];
}

struct http_session *http_session_open(struct acl_user *u)
{
    struct http_session *s = mem_calloc(sizeof(*s));
    if (!random_hex(s->id, HTTP_SESSION_ID_LEN / 2) || !random_hex(s->csrf, 16)) {
        mem_free(s);
        return NULL;
    }
    while (count >= cfg.http_session_max) {
        int oldest = 0;
        for (int i = 1; i < count; i++)
            if (sessions[i]->used_turn < sessions[oldest]->used_turn) oldest = i;
        drop_at(oldest);
    }
    s->user = str_from_cstr(acl_user_name(u));
    acl_user_fingerprint(u, s->fingerprint);
    s->used_ms = event_now_ms();
    s->used_turn = ++turns;
    sessions = mem_realloc(sessions, sizeof(*sessions) * (size_t)(count + 1));
    sessions[count++] = s;
    return s;
}

/* The value of the runnel_session cookie in a Cookie header ("a=1; runnel_session=..."). */
static bool cookie_value(const char *h, size_t len, const char **v, size_t *vlen)
{
    static const char name[] = HTTP_SESSION_COOKIE "=";
    size_t nlen = sizeof(name) - 1;
    for (size_t i = 0; i + nlen <= len;) {
        while (i < len && (h[i] == ' ' || h[i] == ';')) i++;
        size_t end = i;
        while (end < len && h[end] != ';') end++;
        if (end - i > nlen && memcmp(h + i, name, nlen) == 0) {
            *v = h + i + nlen;
            *vlen = end - i - nlen;
            return true;
        }
        i = end;
    }
    return false;
}

/* Compares the whole id whatever differs, so timing tells nothing of it. */
static bool same_id(const char *a, const char *b, size_t len)
{
    unsigned diff = 0;
    for (size_t i = 0; i < len; i++) diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
    return diff == 0;
}

/* Whether the session's user still exists, is on and has the passwords it
 * logged in with; *user set when so. */
static bool user_unchanged(const struct http_session *s, struct acl_user **user)
{
    struct acl_user *u = acl_enabled_user(s->user, str_len(s->user));
    if (!u) return false;
    unsigned char now[32];
    acl_user_fingerprint(u, now);
    if (memcmp(now, s->fingerprint, sizeof(now)) != 0) return false;
    *user = u;
    return true;
}

struct http_session *http_session_find(const char *cookie, size_t len, struct acl_user **user)
{
    const char *v;
    size_t vlen;
    if (!cookie || !cookie_value(cookie, len, &v, &vlen) || vlen != HTTP_SESSION_ID_LEN) return NULL;
    long long now = event_now_ms();
    for (int i = 0; i < count; i++) {
        struct http_session *s = sessions[i];
        if (!same_id(s->id, v, HTTP_SESSION_ID_LEN)) continue;
        if (now - s->used_ms > (long long)cfg.http_session_timeout * 1000 || !user_unchanged(s, user)) {
            drop_at(i);
            return NULL;
        }
        s->used_ms = now;
        s->used_turn = ++turns;
        return s;
    }
    return NULL;
}

void http_session_close(struct http_session *s)
{
    for (int i = 0; i < count; i++)
        if (sessions[i] == s) {
            drop_at(i);
            return;
        }
}

const char *http_session_id(const struct http_session *s)
{
    return s->id;
}

const char *http_session_csrf(const struct http_session *s)
{
    return s->csrf;
}

int http_session_count(void)
{
    return count;
}

void http_session_close_all(void)
{
    while (count) drop_at(count - 1);
    mem_free(sessions);
    sessions = NULL;
}
