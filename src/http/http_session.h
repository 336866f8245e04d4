/* http_session: the console's logins. A login through the form makes a
 * session: a 256-bit id drawn from the system's random source (getrandom),
 * sent to the browser as the cookie runnel_session (HttpOnly,
 * SameSite=Strict), and a CSRF token of its own for the actions. The
 * server keeps at most http-session-max of them, in a table searched with
 * constant-time compares; a session unused for http-session-timeout
 * seconds ends, and a new one past the limit ends the least recently used.
 * A session names its user and keeps that user's fingerprint
 * (acl_user_fingerprint): when the user is deleted, disabled or its
 * passwords change, its sessions end at their next use. */
#ifndef RUNNEL_HTTP_HTTP_SESSION_H
#define RUNNEL_HTTP_HTTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_SESSION_COOKIE "runnel_session"
#define HTTP_SESSION_ID_LEN 64 /* hex digits */

struct acl_user;
struct http_session;

/* A new session for `u`, or NULL when the random source failed. */
struct http_session *http_session_open(struct acl_user *u);
/* The live session the Cookie header value cookie[0..len) names, its user
 * in *user; NULL (ending the session if it had expired or its user
 * changed) when there is none. A found session counts as used now. */
struct http_session *http_session_find(const char *cookie, size_t len, struct acl_user **user);
/* Ends a session (logout). */
void http_session_close(struct http_session *s);
/* The session's id (HTTP_SESSION_ID_LEN hex digits) and CSRF token. */
const char *http_session_id(const struct http_session *s);
const char *http_session_csrf(const struct http_session *s);
/* Sessions kept now (expired ones not yet noticed included). */
int http_session_count(void);
/* Ends every session (server shutdown). */
void http_session_close_all(void);

#endif
