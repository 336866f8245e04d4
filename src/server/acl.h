/* acl: users and what each may do, as Redis 7's ACL. Every connection is
 * bound to a user (the "default" user until AUTH or HELLO AUTH); dispatch asks
 * acl_refusal before a command runs or is queued, EXEC asks again for each
 * queued command, scripts ask for each redis.call. Denials are recorded in
 * ACL LOG. `requirepass` is the default user's password; `user` lines in the
 * config file or an `aclfile` define the others. */
#ifndef RUNNEL_SERVER_ACL_H
#define RUNNEL_SERVER_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/command.h"

struct client;
struct acl_user;

/* Numbers the commands, creates the default user, applies requirepass and
 * the config file's `user` lines or the aclfile. Call once every command
 * table is registered. -1 with *err (malloc'd) when the users cannot be
 * loaded: the server must not start. */
int acl_init(char **err);

/* Binds a new or RESET connection to the default user; it is authenticated
 * when the default user is on and needs no password. */
void acl_client_init(struct client *c);
/* The name CLIENT LIST shows after user=. */
const char *acl_client_user_name(const struct client *c);
/* True when the default user is on and needs no password (protected mode's
 * test, and whether new connections start authenticated). */
bool acl_default_user_open(void);
/* Whether a user of that name exists (CLIENT KILL USER). */
bool acl_user_exists(const char *name, size_t len);
/* True when the default user is nopass (AUTH <password> is then an error). */
bool acl_default_user_nopass(void);
/* True when c's user is allowed every command, key and channel (or none is checked). */
bool acl_client_unrestricted(const struct client *c);
/* Whether c's user may run the call; records nothing (redis.acl_check_cmd). */
bool acl_may_run(struct client *c, struct command *cmd, int argc, struct arg *argv);

/* Whether `c` may run this call; NULL, or the -NOPERM text (in buf when
 * formatted) after recording the denial in ACL LOG (context "multi" while
 * the client queues a transaction). Users allowed everything cost one test. */
const char *acl_refusal(struct client *c, struct command *cmd, int argc, struct arg *argv, char *buf, size_t size);
/* The same at EXEC, for a queued command, with Redis's EXEC-time text. */
const char *acl_exec_refusal(struct client *c, struct command *cmd, int argc, struct arg *argv, char *buf,
                             size_t size);
/* The same for redis.call inside a script run by `caller`: the error text
 * without its "ERR " prefix, logged with context "lua". */
const char *acl_script_refusal(struct client *caller, struct command *cmd, int argc, struct arg *argv);

enum acl_auth { ACL_AUTH_OK, ACL_AUTH_FAILED };
/* AUTH and HELLO AUTH: checks the pair and binds `c` to the user, or
 * records the failure in ACL LOG. */
enum acl_auth acl_authenticate(struct client *c, const char *user, size_t ulen, const char *pass, size_t plen);
/* Whether a user name and password are valid (an enabled user, nopass or
 * a matching password), without binding or logging: for the HTTP endpoint. */
bool acl_credentials_ok(const char *user, size_t ulen, const char *pass, size_t plen);

/* The enabled user a name and password pair names (as acl_credentials_ok
 * accepts it), or NULL; nothing is logged. The pointer stays valid until
 * the users change (ACL SETUSER keeps it, DELUSER and LOAD may free it):
 * the HTTP endpoint holds it for one request only. */
struct acl_user *acl_credentials_user(const char *user, size_t ulen, const char *pass, size_t plen);
/* The enabled user of that name, or NULL. */
struct acl_user *acl_enabled_user(const char *name, size_t len);
/* The default user (never freed). */
struct acl_user *acl_default_user_get(void);
const char *acl_user_name(const struct acl_user *u);
/* Binds `c` to `u` as AUTH does (the HTTP endpoint's own client acts as
 * the user each request authenticated as). */
void acl_client_bind(struct client *c, struct acl_user *u);
/* 32 bytes that change when u's passwords change (or nopass is set or
 * cleared), or when the user is deleted and made again or reloaded by ACL
 * LOAD: what a login session checks to still be valid. */
void acl_user_fingerprint(const struct acl_user *u, unsigned char out[32]);

/* The ACL command's table (server/acl_commands.c). */
extern struct command acl_commands[];

#endif
