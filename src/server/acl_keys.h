/* acl_keys: a selector's key patterns indexed by literal prefix, for the
 * per-key check (see acl_keys.c). Rebuilt whenever the patterns change. */
#ifndef RUNNEL_SERVER_ACL_KEYS_H
#define RUNNEL_SERVER_ACL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/acl_user.h"

struct acl_key_index;

/* Indexes pats[0..n); the index points into the patterns' strings, which
 * must outlive it unchanged. */
struct acl_key_index *acl_key_index_build(const struct acl_keypat *pats, int n);
void acl_key_index_free(struct acl_key_index *ix);
/* acl_key_index_match and the fast test acl_key_hot_grants are declared in
 * acl_user.h, whose per-call check uses them. */

#endif
