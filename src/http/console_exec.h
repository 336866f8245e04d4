/* console_exec: runs a command for the console through the command table,
 * as one socketless client of the server's own (so every check, the
 * operation log, the AOF and replicas see it as any client's command), and
 * hands back its reply as JSON. A command runs whole on the server's
 * thread: callers bound its work with COUNT-style arguments. */
#ifndef RUNNEL_HTTP_CONSOLE_EXEC_H
#define RUNNEL_HTTP_CONSOLE_EXEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

/* The reply to argv[0..argc) (C strings) run in database `db`, converted
 * by resp_json_parse; an error reply, or a refusal (CLIENT PAUSE holding
 * this command), is {"error": "<text>"}. The caller owns the result. */
json_object *console_exec(int db, bool writes, int argc, const char *const *argv);
/* The same with each argument's length (any bytes), for up to
 * CONSOLE_EXEC_MAX_LONG_ARGS arguments (an XADD of a whole entry). */
#define CONSOLE_EXEC_MAX_LONG_ARGS 4096
json_object *console_exec_lens(int db, bool writes, int argc, const char *const *argv, const size_t *lens);

struct outbuf;
/* The one reply queued in `o` as JSON (as console_exec gives it), and `o`
 * emptied: for replies written straight by a lower layer's function. */
json_object *console_exec_take_reply(struct outbuf *o);
/* The bytes queued in `o` (a new str), and `o` emptied. */
str console_exec_take_bytes(struct outbuf *o);

struct acl_user;
/* Makes the console's client act as `user` (NULL: the default user), as
 * the HTTP request being answered authenticated, with the peer's address
 * `addr` (NULL: "console") in CLIENT LIST and ACL LOG entries: every
 * command it runs from now on is checked with that user's ACL rules. The
 * server calls it with NULL once the request is answered, since a user may
 * be deleted between requests. */
void console_exec_as(struct acl_user *user, const char *addr);
/* The user a login form's name and password name, or NULL after the
 * failure was recorded in ACL LOG as a failed AUTH is (with the console's
 * client, which must have the peer's address from console_exec_as). */
struct acl_user *console_exec_login(const char *user, size_t ulen, const char *pass, size_t plen);
/* Whether the console's user may run argv[0..argc) (its command, keys and
 * channels): NULL, or the -NOPERM text (in buf when formatted) after the
 * denial was recorded in ACL LOG as a command's is. */
const char *console_exec_refusal(int argc, const char *const *argv, char *buf, size_t size);
/* The same check, recording nothing (to leave out keys the user may not read). */
bool console_exec_allows(int argc, const char *const *argv);

/* Whether the user may run words[0..nwords) followed by key[0..len) (a
 * key may hold any byte), recording nothing: one test for a user allowed
 * everything. */
bool console_exec_allows_key(int nwords, const char *const *words, const char *key, size_t len);

/* True when the document is an {"error": ...} reply. */
bool console_exec_failed(json_object *reply);

/* Frees the console's client (server shutdown). */
void console_exec_shutdown(void);

#endif
