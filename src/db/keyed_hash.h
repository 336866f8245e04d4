/* keyed_hash: a fast keyed 64-bit hash of short byte strings, for tables
 * whose keys come from clients but whose hashes never leave the process
 * (they are recomputed after a restart): IDMP's idempotent IDs.
 *
 * On x86-64 with AES-NI it runs AES rounds under a random 384-bit key
 * drawn at first use (a few instructions per 16 bytes, where SipHash-1-2
 * takes about 130 for a 12-byte ID); elsewhere it is the dict's SipHash.
 * Without the key, nobody can tell which inputs collide, so clients cannot
 * pile their keys into one probe run. */
#ifndef RUNNEL_DB_KEYED_HASH_H
#define RUNNEL_DB_KEYED_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t keyed_hash(const void *p, size_t len);

#endif
