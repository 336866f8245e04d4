/* db_digest: key and dataset digests (see db_digest.h). */
#include "db/db_digest.h"

#include <string.h>

/* A key's digest from its value, without looking the key up again. */
static bool digest_value(struct db *db, const char *key, size_t len, const struct object *o, struct digest *out)
{
    struct digest_seq seq;
    digest_seq_init(&seq);
    if (!object_digest(o, &seq)) return false;
    digest_seq_i64(&seq, db_get_expire(db, key, len));
    digest_seq_final(&seq, out);
    return true;
}

bool db_digest_key(struct db *db, const char *key, size_t len, struct digest *out)
{
    memset(out, 0, sizeof(*out));
    struct object *o = db_peek(db, key, len);
    return !o || digest_value(db, key, len, o, out);
}

/* Mixes every key of db into *acc; false at a value that cannot be digested. */
static bool digest_db(struct db *db, struct digest *acc)
{
    struct dict_iter it;
    struct dict_entry *e;
    bool ok = true;
    dict_iter_init(&it, db->keys, false);
    while (ok && (e = dict_iter_next(&it))) {
        size_t len;
        const char *key = dict_entry_key(db->keys, e, &len);
        struct digest value, item;
        ok = digest_value(db, key, len, e->v.ptr, &value);
        struct digest_seq seq;
        digest_seq_init(&seq);
        digest_seq_i64(&seq, db->id);
        digest_seq_bytes(&seq, key, len);
        digest_seq_digest(&seq, &value);
        digest_seq_final(&seq, &item);
        digest_xor(acc, &item);
    }
    dict_iter_done(&it);
    return ok;
}

bool db_digest_all(struct digest *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < db_count; i++)
        if (!digest_db(&db_all[i], out)) return false;
    return true;
}
