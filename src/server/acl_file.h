/* acl_file: users from the config file's `user` lines or from the aclfile
 * (ACL LOAD, ACL SAVE). */
#ifndef RUNNEL_SERVER_ACL_FILE_H
#define RUNNEL_SERVER_ACL_FILE_H

#include <stdbool.h>

#include "util/str.h"

struct client;

/* At start-up (acl_init): the config's users, or the aclfile. -1 with *err
 * malloc'd when they cannot be loaded, or when both are configured. */
int acl_file_startup(char **err);
/* ACL LOAD/SAVE refuse without an aclfile: Redis's text, or NULL. */
const char *acl_file_not_configured(void);
/* Replaces every user by the aclfile's; NULL, or the errors (malloc'd),
 * in which case nothing changed. Clients of replaced users are
 * disconnected (`caller` after its reply). */
char *acl_file_load(struct client *caller);
/* CONFIG REWRITE's user lines (installed as config_rewrite_users). */
str acl_file_rewrite_users(str out, bool had_lines);
/* Writes every user to the aclfile (a temporary file renamed over it);
 * NULL or the error (malloc'd). */
char *acl_file_save(void);

#endif
