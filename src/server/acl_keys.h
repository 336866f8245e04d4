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
/* acl_key_index_match (declared in acl_user.h, whose fast path calls it):
 * whether a pattern granting at least `perm` (enum acl_perm bits) matches
 * the key, as trying each with glob_match would say. It remembers the last
 * prefix that decided, and tries it first: consecutive keys of one user
 * mostly share a prefix (a worker's queue:*). */

#endif
