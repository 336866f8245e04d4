/* stream_refs: how deleting a stream entry treats the consumer groups that
 * still refer to it — Redis 8.2's reference policies — and the commands
 * built on them, XDELEX and XACKDEL.
 *
 * A group refers to an entry while the entry is in its PEL (delivered, not
 * acknowledged) or while the group has not delivered it yet (the entry
 * lies past the group's last ID). KEEPREF deletes and leaves PELs alone
 * (XDEL's way), DELREF also drops the entry from every PEL, ACKED deletes
 * only what no group refers to. Trims (XADD, XTRIM) take the same words. */
#ifndef RUNNEL_TYPES_STREAM_REFS_H
#define RUNNEL_TYPES_STREAM_REFS_H

#include <stdbool.h>

#include "protocol/command.h"
#include "protocol/request.h"
#include "types/stream_index.h"

struct stream;

enum stream_ref_policy { STREAM_REF_KEEP, STREAM_REF_DEL, STREAM_REF_ACKED };

extern struct command stream_refs_commands[];

/* Reads KEEPREF, DELREF or ACKED (any case); false when `a` is none. */
bool stream_ref_policy_parse(const struct arg *a, enum stream_ref_policy *p);
/* The policy's word, as a command would spell it. */
struct arg stream_ref_policy_arg(enum stream_ref_policy p);

/* Whether some group still refers to entry `id` (see above). */
bool stream_entry_referenced(const struct stream *s, struct stream_id id);
/* Drops `id` from every group's PEL; returns from how many. */
long long stream_entry_drop_refs(struct stream *s, struct stream_id id);

/* Deletes entry `id` under policy p. Returns -1 when the stream has no such
 * entry, 1 when it was deleted, 2 when ACKED kept it. DELREF drops the
 * references even when the entry is gone already. *changes grows by every
 * change made (entry or PEL), for the caller's dirty count. */
int stream_delete_with_policy(struct stream *s, struct stream_id id, enum stream_ref_policy p, long long *changes);

#endif
