/* Digests (DEBUG DIGEST): the framed sequences and XOR sets of
 * util/digest.c, every type's digest hook, and the keyspace walk of
 * db/db_digest.c. Equal logical data must digest equally whatever its
 * encoding, layout or history; any visible change must change the digest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/db_digest.h"
#include "db/object.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/stream.h"
#include "types/stream_pel.h"
#include "types/stream_group.h"
#include "types/types.h"
#include "types/zset.h"
#include "util/digest.h"

static void setup(void)
{
    types_init();
}

TestSuite(digest, .init = setup);

static struct digest of_object(const struct object *o)
{
    struct digest_seq seq;
    struct digest d;
    digest_seq_init(&seq);
    cr_assert(object_digest(o, &seq));
    digest_seq_final(&seq, &d);
    return d;
}

static bool same(struct digest a, struct digest b)
{
    return memcmp(a.bytes, b.bytes, DIGEST_SIZE) == 0;
}

static size_t fmt(char *buf, size_t cap, const char *prefix, int i)
{
    return (size_t)snprintf(buf, cap, "%s%d", prefix, i);
}

/* ---- util/digest ---- */

static struct digest of_strings(const char *a, const char *b)
{
    struct digest_seq seq;
    struct digest d;
    digest_seq_init(&seq);
    digest_seq_bytes(&seq, a, strlen(a));
    digest_seq_bytes(&seq, b, strlen(b));
    digest_seq_final(&seq, &d);
    return d;
}

Test(digest, sequence_items_are_framed)
{
    cr_assert(same(of_strings("ab", "c"), of_strings("ab", "c")));
    cr_assert_not(same(of_strings("ab", "c"), of_strings("a", "bc")));
    cr_assert_not(same(of_strings("", "abc"), of_strings("abc", "")));
    cr_assert_not(same(of_strings("a", "b"), of_strings("b", "a")));
}

Test(digest, sets_ignore_order_and_count_items)
{
    struct digest_set x, y, z;
    digest_set_init(&x);
    digest_set_init(&y);
    digest_set_init(&z);
    const char *items[] = {"one", "two", "three", ""};
    for (int i = 0; i < 4; i++) digest_set_add_bytes(&x, items[i], strlen(items[i]));
    for (int i = 3; i >= 0; i--) digest_set_add_bytes(&y, items[i], strlen(items[i]));
    for (int i = 0; i < 3; i++) digest_set_add_bytes(&z, items[i], strlen(items[i]));
    cr_assert(same(x.acc, y.acc));
    cr_assert_eq(x.count, 4);
    cr_assert_not(same(x.acc, z.acc));
    /* a pair is not the member made of its two strings */
    struct digest_set p, m;
    digest_set_init(&p);
    digest_set_init(&m);
    digest_set_add_pair(&p, "a", 1, "", 0);
    digest_set_add_bytes(&m, "a", 1);
    cr_assert_not(same(p.acc, m.acc));
}

Test(digest, hex_and_zero)
{
    struct digest d = {{0}};
    char hex[DIGEST_HEX_SIZE];
    cr_assert(digest_is_zero(&d));
    digest_hex(&d, hex);
    cr_assert_str_eq(hex, "0000000000000000000000000000000000000000");
    d.bytes[0] = 0xab;
    d.bytes[19] = 0x0f;
    digest_hex(&d, hex);
    cr_assert_str_eq(hex, "ab0000000000000000000000000000000000000f");
    cr_assert_not(digest_is_zero(&d));
}

/* ---- strings ---- */

Test(digest, strings_digest_their_bytes_whatever_the_encoding)
{
    struct object *i = object_string("12345", 5);
    struct object *plain = object_string_plain("12345", 5);
    cr_assert_eq(i->encoding, ENC_INT);
    cr_assert_neq(plain->encoding, ENC_INT);
    cr_assert(same(of_object(i), of_object(plain)));
    static char big[100];
    memset(big, 'x', sizeof(big));
    struct object *raw = object_string(big, sizeof(big));
    struct object *raw2 = object_string(big, sizeof(big) - 1);
    cr_assert_not(same(of_object(raw), of_object(raw2)));
    struct object *other = object_string("12346", 5);
    cr_assert_not(same(of_object(i), of_object(other)));
    object_free(i);
    object_free(plain);
    object_free(raw);
    object_free(raw2);
    object_free(other);
}

/* ---- lists ---- */

static struct object *list_of_n(int n, bool from_head, int node_size)
{
    int saved = list_max_listpack_size;
    list_max_listpack_size = node_size;
    struct object *o = list_object_create();
    char buf[32];
    for (int k = 0; k < n; k++) {
        int i = from_head ? n - 1 - k : k;
        list_object_push(o, buf, fmt(buf, sizeof(buf), "item:", i), from_head ? LIST_HEAD : LIST_TAIL);
    }
    list_max_listpack_size = saved;
    return o;
}

Test(digest, lists_ignore_node_layout_and_push_direction)
{
    struct object *a = list_of_n(10000, false, -2);
    struct object *b = list_of_n(10000, true, -2);
    struct object *c = list_of_n(10000, false, 3);
    cr_assert_gt(list_object_node_count(c), list_object_node_count(a));
    cr_assert(same(of_object(a), of_object(b)));
    cr_assert(same(of_object(a), of_object(c)));
    object_free(a);
    object_free(b);
    object_free(c);
}

Test(digest, lists_change_with_order_and_elements)
{
    struct object *a = list_object_create(), *b = list_object_create(), *c = list_object_create();
    list_object_push(a, "x", 1, LIST_TAIL);
    list_object_push(a, "y", 1, LIST_TAIL);
    list_object_push(b, "y", 1, LIST_TAIL);
    list_object_push(b, "x", 1, LIST_TAIL);
    list_object_push(c, "xy", 2, LIST_TAIL);
    cr_assert_not(same(of_object(a), of_object(b)));
    cr_assert_not(same(of_object(a), of_object(c)));
    struct digest before = of_object(a);
    cr_assert(list_object_set(a, 1, "z", 1));
    cr_assert_not(same(before, of_object(a)));
    object_free(a);
    object_free(b);
    object_free(c);
}

/* ---- hashes ---- */

Test(digest, hashes_ignore_order_and_encoding)
{
    struct object *packed = hash_object_create();
    struct object *table = hash_object_create();
    char f[32], v[32];
    for (int i = 0; i < 50; i++)
        hash_object_set(packed, f, fmt(f, sizeof(f), "f", i), v, fmt(v, sizeof(v), "", i * 7));
    static char big[200];
    memset(big, 'b', sizeof(big));
    hash_object_set(table, "big", 3, big, sizeof(big));
    for (int i = 49; i >= 0; i--)
        hash_object_set(table, f, fmt(f, sizeof(f), "f", i), v, fmt(v, sizeof(v), "", i * 7));
    cr_assert(hash_object_delete(table, "big", 3));
    cr_assert_eq(packed->encoding, ENC_LISTPACK);
    cr_assert_eq(table->encoding, ENC_HASHTABLE);
    cr_assert(same(of_object(packed), of_object(table)));

    hash_object_set(table, "f3", 2, "22", 2); /* was 21 */
    cr_assert_not(same(of_object(packed), of_object(table)));
    object_free(packed);
    object_free(table);
}

/* ---- sets ---- */

Test(digest, sets_ignore_order_and_encoding)
{
    struct object *ints = set_object_create(NULL, 0, 100);
    struct object *table = set_object_create("x", 1, 1000);
    char m[32];
    for (int i = 0; i < 100; i++) set_object_add(ints, m, fmt(m, sizeof(m), "", i));
    set_object_add(table, "x", 1);
    for (int i = 99; i >= 0; i--) set_object_add(table, m, fmt(m, sizeof(m), "", i));
    set_object_remove(table, "x", 1);
    cr_assert_eq(ints->encoding, ENC_INTSET);
    cr_assert_eq(table->encoding, ENC_HASHTABLE);
    cr_assert(same(of_object(ints), of_object(table)));

    struct object *packed = set_object_create("a", 1, 3);
    struct object *big = set_object_create("a", 1, 1000);
    set_object_add(packed, "a", 1);
    set_object_add(packed, "b", 1);
    set_object_add(big, "b", 1);
    set_object_add(big, "a", 1);
    cr_assert_eq(packed->encoding, ENC_LISTPACK);
    cr_assert_eq(big->encoding, ENC_HASHTABLE);
    cr_assert(same(of_object(packed), of_object(big)));
    set_object_add(big, "c", 1);
    cr_assert_not(same(of_object(packed), of_object(big)));
    object_free(ints);
    object_free(table);
    object_free(packed);
    object_free(big);
}

Test(digest, types_differ_with_the_same_elements)
{
    struct object *set = set_object_create("a", 1, 1);
    set_object_add(set, "a", 1);
    struct object *list = list_object_create();
    list_object_push(list, "a", 1, LIST_TAIL);
    struct object *str = object_string("a", 1);
    cr_assert_not(same(of_object(set), of_object(list)));
    cr_assert_not(same(of_object(list), of_object(str)));
    object_free(set);
    object_free(list);
    object_free(str);
}

/* ---- sorted sets ---- */

Test(digest, sorted_sets_ignore_order_and_encoding)
{
    struct object *packed = zset_object_create(1, 1);
    struct object *skip = zset_object_create(1000, 1);
    char m[32];
    double r;
    for (int i = 0; i < 60; i++) zset_object_add(packed, i * 1.5, m, fmt(m, sizeof(m), "m", i), 0, &r);
    for (int i = 59; i >= 0; i--) zset_object_add(skip, i * 1.5, m, fmt(m, sizeof(m), "m", i), 0, &r);
    cr_assert_eq(packed->encoding, ENC_LISTPACK);
    cr_assert_eq(skip->encoding, ENC_SKIPLIST);
    cr_assert(same(of_object(packed), of_object(skip)));

    zset_object_add(skip, 3.0000001, "m2", 2, 0, &r); /* was 3 */
    cr_assert_not(same(of_object(packed), of_object(skip)));
    object_free(packed);
    object_free(skip);
}

/* ---- streams ---- */

static struct object *stream_of_n(int n, int per_block)
{
    int saved = stream_node_max_entries;
    stream_node_max_entries = per_block;
    struct stream *s = stream_new();
    char v[32];
    for (int i = 0; i < n; i++) {
        struct arg pairs[4] = {{"field", 5}, {v, fmt(v, sizeof(v), "value", i)}, {"n", 1}, {v, 1}};
        struct stream_id id = {1000 + (uint64_t)i / 3, (uint64_t)i % 3}, added;
        cr_assert_eq(stream_append(s, pairs, i % 2 ? 2 : 1, &id, true, &added), STREAM_ADD_OK);
    }
    stream_node_max_entries = saved;
    return object_new(OBJ_STREAM, ENC_STREAM, s);
}

/* A group "g" with consumers "alice" and "bob", and entries 1000-0 (alice,
 * delivered twice at `when`) and 1000-1 (bob) pending. */
static void add_group(struct object *o, long long when)
{
    struct stream *s = o->v.ptr;
    struct stream_cgroup *g = stream_group_add(s, "g", 1, (struct stream_id){1000, 1}, 2);
    struct stream_consumer *alice = stream_consumer_add(g, "alice", 5, when, when);
    struct stream_consumer *bob = stream_consumer_add(g, "bob", 3, when + 5, -1);
    cr_assert(stream_pel_add(g, alice, (struct stream_id){1000, 0}, when, 2));
    cr_assert(stream_pel_add(g, bob, (struct stream_id){1000, 1}, when, 1));
}

Test(digest, streams_ignore_block_layout_and_clocks)
{
    struct object *a = stream_of_n(500, 100);
    struct object *b = stream_of_n(500, 1);
    add_group(a, 1700000000000);
    add_group(b, 1800000000000); /* other delivery and seen times */
    cr_assert(same(of_object(a), of_object(b)));
    struct object *c = object_copy(a);
    cr_assert(same(of_object(a), of_object(c)));
    object_free(a);
    object_free(b);
    object_free(c);
}

/* Changes to a stream built by stream_of_n(10, 100) + add_group(o, 1). */
static struct stream_cgroup *group_g(struct stream *s)
{
    return stream_group_find(s, "g", 1);
}
static void pend_one_more(struct stream *s)
{
    cr_assert(stream_pel_add(group_g(s), group_g(s)->consumers[1], (struct stream_id){1000, 2}, 1, 1));
}
static void add_consumer(struct stream *s)
{
    cr_assert(stream_consumer_add(group_g(s), "carol", 5, 1, 1));
}
static void set_entries_read(struct stream *s)
{
    group_g(s)->entries_read = 3;
}
static void set_last_delivered(struct stream *s)
{
    group_g(s)->last_id.seq++;
}
static void deliver_again(struct stream *s)
{
    struct stream_nack *n = stream_index_find(group_g(s)->pel, (struct stream_id){1000, 0});
    cr_assert(n);
    n->delivery_count++;
}
static void delete_entry(struct stream *s)
{
    cr_assert(stream_delete(s, (struct stream_id){1001, 1}));
}
static void count_one_more_added(struct stream *s)
{
    s->entries_added++;
}
static void move_last_id(struct stream *s)
{
    s->last_id.ms++;
}
static void add_second_group(struct stream *s)
{
    cr_assert(stream_group_add(s, "h", 1, (struct stream_id){0, 0}, 0));
}
/* XNACK: the entry stays pending, owned by nobody. */
static void release(struct stream *s, uint64_t seq)
{
    struct stream_nack *n = stream_index_find(group_g(s)->pel, (struct stream_id){1000, seq});
    cr_assert(n);
    stream_pel_assign(group_g(s), n, NULL, 0);
}
static void release_entry(struct stream *s)
{
    release(s, 0);
}

Test(digest, streams_change_with_entries_counters_and_groups)
{
    struct object *a = stream_of_n(10, 100);
    struct digest plain = of_object(a);
    add_group(a, 1);
    struct digest grouped = of_object(a);
    cr_assert_not(same(plain, grouped));
    object_free(a);

    void (*changes[])(struct stream *) = {pend_one_more,   add_consumer,         set_entries_read,
                                          set_last_delivered, deliver_again,    delete_entry,
                                          count_one_more_added, move_last_id,   add_second_group,
                                          release_entry};
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        struct object *b = stream_of_n(10, 100);
        add_group(b, 1);
        cr_assert(same(grouped, of_object(b)));
        changes[i](b->v.ptr);
        cr_assert_not(same(grouped, of_object(b)), "change %zu", i);
        object_free(b);
    }
}

Test(digest, streams_release_order_counts)
{
    struct object *a = stream_of_n(10, 100), *b = stream_of_n(10, 100);
    add_group(a, 1);
    add_group(b, 1);
    release(a->v.ptr, 0);
    release(a->v.ptr, 1);
    release(b->v.ptr, 1);
    release(b->v.ptr, 0);
    cr_assert_not(same(of_object(a), of_object(b)), "the same entries released in another order");
    struct object *c = object_copy(a);
    cr_assert(same(of_object(a), of_object(c)));
    object_free(a);
    object_free(b);
    object_free(c);
}

/* ---- the keyspace ---- */

static struct db dbs[2];

static void keyspace_setup(void)
{
    types_init();
    db_init(&dbs[0], 0);
    db_init(&dbs[1], 1);
    db_all = dbs;
    db_count = 2;
}

static void keyspace_teardown(void)
{
    db_release(&dbs[0]);
    db_release(&dbs[1]);
}

static struct digest dataset(void)
{
    struct digest d;
    cr_assert(db_digest_all(&d));
    return d;
}

static struct digest key_digest(struct db *db, const char *key)
{
    struct digest d;
    cr_assert(db_digest_key(db, key, strlen(key), &d));
    return d;
}

static void put(struct db *db, const char *key, const char *value, long long expire)
{
    cr_assert(db_add_loaded(db, key, strlen(key), object_string(value, strlen(value)), expire));
}

Test(digest, empty_dataset_and_missing_keys_are_zero, .init = keyspace_setup, .fini = keyspace_teardown)
{
    struct digest d = dataset();
    cr_assert(digest_is_zero(&d));
    d = key_digest(&dbs[0], "nope");
    cr_assert(digest_is_zero(&d));
}

Test(digest, dataset_ignores_insertion_order, .init = keyspace_setup, .fini = keyspace_teardown)
{
    char k[32];
    for (int i = 0; i < 2000; i++) {
        fmt(k, sizeof(k), "key:", i);
        put(&dbs[0], k, k, i % 3 ? -1 : 1700000000000 + i);
    }
    struct digest forward = dataset();
    struct digest one = key_digest(&dbs[0], "key:3");
    cr_assert_not(digest_is_zero(&forward));
    db_empty(&dbs[0]);
    for (int i = 1999; i >= 0; i--) {
        fmt(k, sizeof(k), "key:", i);
        put(&dbs[0], k, k, i % 3 ? -1 : 1700000000000 + i);
    }
    cr_assert(same(forward, dataset()));
    cr_assert(same(one, key_digest(&dbs[0], "key:3")));
}

Test(digest, dataset_changes_with_names_databases_and_deadlines, .init = keyspace_setup,
     .fini = keyspace_teardown)
{
    put(&dbs[0], "a", "1", -1);
    struct digest base = dataset();
    struct digest value = key_digest(&dbs[0], "a");

    db_set_expire(&dbs[0], "a", 1, 1700000000000);
    cr_assert_not(same(base, dataset()));
    cr_assert_not(same(value, key_digest(&dbs[0], "a")));
    struct digest deadline = dataset();
    db_set_expire(&dbs[0], "a", 1, 1700000000001);
    cr_assert_not(same(deadline, dataset()));
    db_persist(&dbs[0], "a", 1);
    cr_assert(same(base, dataset()));

    db_swap(&dbs[0], &dbs[1]); /* the same key in database 1 */
    cr_assert_not(same(base, dataset()));
    cr_assert(same(value, key_digest(&dbs[1], "a")));
    db_swap(&dbs[0], &dbs[1]);

    db_delete(&dbs[0], "a", 1);
    put(&dbs[0], "b", "1", -1);
    cr_assert_not(same(base, dataset()));
    cr_assert(same(value, key_digest(&dbs[0], "b"))); /* a value's digest leaves its name out */
}
