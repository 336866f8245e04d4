/* A big hash's deadlines kept in its entries with a heap (types/hash_ttl.h),
 * against a model: deadlines set, changed and cleared, values replaced
 * through sizes that move the entries (the heap must follow), fields
 * overwritten and deleted, the hash converted from packed, copied, dumped
 * and restored, and expired fields removed earliest first. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/dump_payload.h"
#include "db/object.h"
#include "types/hash.h"
#include "types/zset.h"
#include "util/mem.h"

enum { FIELDS = 400 };

struct model {
    bool present[FIELDS];
    long long when[FIELDS]; /* -1: none */
};

static size_t field_name(char *buf, int i)
{
    return (size_t)snprintf(buf, 32, "field:%d", i);
}

static void check(const struct object *o, const struct model *m)
{
    cr_assert(hash_object_validate(o));
    long long first = -1;
    size_t count = 0;
    for (int i = 0; i < FIELDS; i++) {
        char f[32];
        size_t flen = field_name(f, i);
        long long want = !m->present[i] ? -2 : m->when[i];
        cr_assert_eq(hash_object_deadline(o, f, flen), want, "field %d", i);
        if (m->present[i]) count++;
        if (m->present[i] && m->when[i] >= 0 && (first < 0 || m->when[i] < first)) first = m->when[i];
    }
    cr_assert_eq(hash_object_length(o), count);
    cr_assert_eq(hash_object_first_deadline(o), first);
    cr_assert_eq(hash_object_has_deadlines(o), first >= 0);
}

static struct object *round_trip(struct object *o)
{
    str p = dump_payload_create(o);
    struct object *back = NULL;
    char err[128];
    cr_assert_eq(dump_payload_load(p, str_len(p), &back, err, sizeof(err)), DUMP_PAYLOAD_OK, "%s", err);
    str_free(p);
    return back;
}

Test(hash_ttl, random_operations_against_a_model)
{
    hash_type_register();
    zset_type_register();
    db_now_ms = 1000;
    struct object *o = hash_object_create();
    struct model m;
    for (int i = 0; i < FIELDS; i++) m.present[i] = false, m.when[i] = -1;
    static char value[300];
    memset(value, 'v', sizeof(value));
    unsigned x = 7;
    for (int step = 0; step < 20000; step++) {
        x = x * 1103515245 + 12345;
        int i = (int)((x >> 8) % FIELDS), op = (int)((x >> 20) % 10);
        char f[32];
        size_t flen = field_name(f, i);
        size_t vlen = (x >> 4) % 200; /* values of every size move entries */
        if (op < 3) { /* HSET: drops the deadline */
            hash_object_set(o, f, flen, value, vlen);
            m.present[i] = true, m.when[i] = -1;
        } else if (op < 6) {
            if (m.present[i]) {
                long long when = 1000000 + (long long)((x >> 3) % 5000); /* many ties */
                hash_object_set_deadline(o, f, flen, when);
                m.when[i] = when;
            }
        } else if (op < 8) { /* HINCRBY-like: keeps the deadline */
            hash_object_update(o, f, flen, value, vlen);
            if (!m.present[i]) m.present[i] = true, m.when[i] = -1;
        } else if (op == 8) {
            cr_assert_eq(hash_object_persist(o, f, flen), m.present[i] && m.when[i] >= 0);
            m.when[i] = -1;
        } else if (hash_object_length(o) > 1) {
            cr_assert_eq(hash_object_delete(o, f, flen), m.present[i]);
            m.present[i] = false, m.when[i] = -1;
        }
        if (step % 2000 == 1999) {
            check(o, &m);
            struct object *c = object_copy(o), *r = round_trip(o);
            check(c, &m);
            check(r, &m);
            object_free(c);
            object_free(r);
        }
    }
    cr_assert_eq(o->encoding, hash_object_has_deadlines(o) ? ENC_HASHTABLE_EX : ENC_HASHTABLE);
    object_free(o);
}

struct removed {
    long long last;
    const struct object *o;
    int count;
};

static void on_removed(void *ctx, const char *field, size_t flen)
{
    struct removed *r = ctx;
    long long when = hash_object_deadline(r->o, field, flen);
    cr_assert_geq(when, r->last, "earliest first");
    r->last = when;
    r->count++;
}

Test(hash_ttl, expired_fields_go_earliest_first_and_the_last_makes_it_plain)
{
    hash_type_register();
    zset_type_register();
    db_now_ms = 0; /* the deadlines are read before they count */
    struct object *o = hash_object_create();
    for (int i = 0; i < FIELDS; i++) {
        char f[32];
        size_t flen = field_name(f, i);
        hash_object_set(o, f, flen, "v", 1);
        /* packed at first: the deadlines move into the entries on conversion */
        if (i % 2 == 0) hash_object_set_deadline(o, f, flen, 5000 - i);
    }
    cr_assert_eq(o->encoding, ENC_HASHTABLE_EX);
    cr_assert(hash_object_validate(o));
    struct removed r = {0, o, 0};
    cr_assert_eq(hash_object_remove_expired(o, 4900, 30, on_removed, &r), 30);
    cr_assert_eq(r.count, 30);
    cr_assert_eq(hash_object_first_deadline(o), 5000 - 2 * (FIELDS / 2 - 31));
    cr_assert_eq(hash_object_remove_expired(o, 1LL << 40, FIELDS, on_removed, &r), FIELDS / 2 - 30);
    cr_assert_eq(o->encoding, ENC_HASHTABLE, "no deadline left");
    cr_assert_eq(hash_object_length(o), FIELDS / 2);
    cr_assert(hash_object_validate(o));
    object_free(o);
}
