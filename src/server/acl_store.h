/* acl_store: the users by name, the default user, and what changing them
 * does to the clients bound to them (Redis 7: deleting a user or reloading
 * the users disconnects their clients; a subscriber whose user loses one of
 * its channels is disconnected). Internal to the acl_*.c files. */
#ifndef RUNNEL_SERVER_ACL_STORE_H
#define RUNNEL_SERVER_ACL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/acl_user.h"

struct client;

struct acl_user *acl_user_find(const char *name, size_t len);
struct acl_user *acl_default_user(void);
/* Users in name order (ACL LIST, USERS, SAVE). */
int acl_users_count(void);
struct acl_user *acl_user_at(int i);

/* ACL SETUSER: creates the user if needed and applies the rules, all or
 * nothing. On error returns false and *err is Redis's whole error text
 * (without "ERR "), malloc'd. Subscribers of the user that lost a channel
 * are disconnected (`caller` after its reply). */
bool acl_store_setuser(const char *name, size_t len, int argc, const struct arg *argv, char **err,
                       struct client *caller);
/* Deletes a user (never "default") and disconnects its clients; false if
 * there is none. */
bool acl_store_deluser(const char *name, size_t len, struct client *caller);
/* Replaces every user by `users` (ACL LOAD, start-up): the new default
 * user's rules are copied into the existing one, every client of another
 * old user is disconnected. Takes ownership of the array and the users. */
void acl_store_replace(struct acl_user **users, int n, struct client *caller);
/* A fresh default user: on, nopass, every command, key and channel. */
struct acl_user *acl_user_new_default(void);
/* The caller's user, for ACL WHOAMI and DRYRUN. */
struct acl_user *acl_client_user(const struct client *c);
/* Checks a call against every selector of u: ACL_OK, or why it is refused
 * with *pos the refused key's or channel's argument (Redis's pick among
 * selectors). Records nothing. */
enum acl_denial acl_user_check(const struct acl_user *u, struct command *cmd, int argc, struct arg *argv, int *pos);
/* The password check of AUTH, in constant time per stored hash. */
bool acl_user_password_ok(const struct acl_user *u, const char *pass, size_t plen);

#endif
