/* acl_log: the entries ACL LOG shows — denied commands, keys, channels and
 * failed AUTHs — grouped as Redis 7.0 groups them (the same reason, context,
 * object and user within 60 seconds count as one entry), newest first, at
 * most `acllog-max-len`. */
#ifndef RUNNEL_SERVER_ACL_LOG_H
#define RUNNEL_SERVER_ACL_LOG_H

#include <stddef.h>

#include "protocol/outbuf.h"
#include "server/acl_user.h"

struct client;

enum acl_log_context { ACL_LOG_TOPLEVEL, ACL_LOG_MULTI, ACL_LOG_LUA };

/* Records a denial (or, with ACL_DENIED_AUTH, a failed AUTH by `username`)
 * of client c. */
void acl_log_add(enum acl_denial reason, enum acl_log_context context, const char *object, size_t olen,
                 const char *username, size_t ulen, struct client *c);
/* ACL LOG [count]: the newest `count` entries (all if count < 0). */
void acl_log_reply(struct outbuf *o, long long count);
void acl_log_reset(void);
/* Drops the oldest entries past acllog-max-len (after CONFIG SET). */
void acl_log_trim(void);

#endif
