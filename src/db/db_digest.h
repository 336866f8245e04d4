/* db_digest: fingerprints of keys and of the whole dataset, for DEBUG
 * DIGEST and DEBUG DIGEST-VALUE. Equal logical data gives equal digests
 * whatever the insertion order, the values' encodings or the tables'
 * rehash state; each type says what of its values counts
 * (object_ops.digest). Keys past their deadline but not yet removed count
 * like any other: looking never expires anything. */
#ifndef RUNNEL_DB_DB_DIGEST_H
#define RUNNEL_DB_DB_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "util/digest.h"

/* The digest of the value under key with its type and its deadline
 * (absolute ms, or none); all zeros when the key is missing. False when the
 * value's type has no digest hook. */
bool db_digest_key(struct db *db, const char *key, size_t len, struct digest *out);

/* The XOR, over every key of every database, of the digest of the database
 * number, the key's name and db_digest_key: all zeros for an empty
 * dataset. False when some value's type has no digest hook. */
bool db_digest_all(struct digest *out);

#endif
