/* stream_freeze and the block codec under it: a frozen block keeps its
 * header and thaws to the same bytes; an incompressible or tiny block is
 * marked and left raw; a stream keeps its newest stream_compress_depth
 * blocks raw; reading thaws in place and queues the block, the run
 * re-freezes it; a peek reads without thawing; a freed stream leaves the
 * queues; a DUMP payload round-trips and loads frozen. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dump_payload.h"
#include "types/stream.h"
#include "types/stream_freeze.h"

static void setup(void)
{
    stream_type_register();
    stream_compress_depth = 1;
    stream_node_max_entries = 10;
    stream_node_max_bytes = 0;
}

static void teardown(void)
{
    stream_freeze_run(SIZE_MAX, true);
    stream_compress_depth = 0;
    stream_node_max_entries = 100;
    stream_node_max_bytes = 4096;
}

TestSuite(stream_freeze, .init = setup, .fini = teardown);

/* A JSON-ish job body for entry i: compressible like real messages. */
static size_t job_body(char *buf, size_t cap, int i)
{
    static const char *actions[] = {"signup", "click", "purchase", "logout"};
    return (size_t)snprintf(buf, cap, "{\"id\":%d,\"user\":\"user-%d\",\"action\":\"%s\",\"ts\":%d}", i, i % 97,
                            actions[i % 4], 1700000000 + i);
}

static struct stream_block *block_of(int n, bool random_bytes)
{
    struct stream_block *b = NULL;
    char value[64];
    for (int i = 0; i < n; i++) {
        size_t len;
        if (random_bytes) {
            for (size_t k = 0; k < sizeof(value); k++) value[k] = (char)(rand() & 0xff);
            len = sizeof(value);
        } else {
            len = job_body(value, sizeof(value), i);
        }
        struct arg pairs[2] = {{"payload", 7}, {value, len}};
        struct stream_id id = {1000 + (uint64_t)i, 0};
        b = b ? stream_block_append(b, id, pairs, 1) : stream_block_new(id, pairs, 1);
    }
    return stream_block_shrink(b);
}

Test(stream_freeze, block_freezes_and_thaws_to_the_same_bytes)
{
    struct stream_block *b = block_of(50, false);
    struct stream_block *copy = malloc(sizeof(*b) + b->used);
    memcpy(copy, b, sizeof(*b) + b->used);
    size_t before = stream_block_memory(b);
    b = stream_block_freeze(b);
    cr_assert(stream_block_is_frozen(b));
    cr_assert_lt(b->cap, copy->used - copy->used / 8, "it saves at least an eighth");
    cr_assert_lt(stream_block_memory(b), before);
    cr_assert_eq(b->used, copy->used, "the header still tells the raw size");
    cr_assert_eq(b->entries, 50);
    cr_assert_eq(stream_id_cmp(&b->first, &copy->first), 0);
    cr_assert_eq(stream_block_freeze(b), b, "freezing a frozen block does nothing");

    struct stream_block *peek = stream_block_thaw_copy(b);
    cr_assert_not(stream_block_is_frozen(peek));
    cr_assert_eq(memcmp(peek->data, copy->data, copy->used), 0);
    stream_block_free(peek);

    b = stream_block_thaw(b);
    cr_assert_not(stream_block_is_frozen(b));
    cr_assert_eq(b->used, copy->used);
    cr_assert_geq(b->cap, b->used);
    cr_assert_eq(memcmp(b->data, copy->data, copy->used), 0);
    struct stream_entry e;
    stream_block_decode(b, stream_block_begin(b), &e);
    cr_assert_eq(e.id.ms, 1000);
    struct stream_id last = stream_block_last_id(b);
    cr_assert_eq(last.ms, 1049);
    cr_assert_eq(stream_block_thaw(b), b, "thawing a raw block does nothing");
    stream_block_free(b);
    free(copy);
}

Test(stream_freeze, an_unchanged_thawed_block_gives_its_frozen_copy_back)
{
    struct stream_block *b = stream_block_freeze(block_of(50, false));
    struct stream_block *frozen = b;
    size_t frozen_memory = stream_block_memory(b);
    b = stream_block_thaw(b);
    cr_assert(b->flags & STREAM_BLOCK_KEEPS_FROZEN);
    cr_assert_gt(stream_block_memory(b), frozen_memory, "the kept copy is counted");
    cr_assert_eq(stream_block_freeze(b), frozen, "no compression: the same frozen block");

    b = stream_block_thaw(frozen);
    cr_assert(stream_block_delete(b, stream_block_begin(b)));
    cr_assert_not(b->flags & STREAM_BLOCK_KEEPS_FROZEN, "a change drops the copy");
    b = stream_block_freeze(b);
    cr_assert(stream_block_is_frozen(b));
    b = stream_block_thaw(b);
    struct stream_entry e;
    stream_block_decode(b, stream_block_begin(b), &e);
    cr_assert(e.deleted, "the change was compressed anew");
    stream_block_free(b); /* frees the kept copy too (the sanitizer build checks for leaks) */

    b = stream_block_thaw(stream_block_freeze(block_of(50, false)));
    struct arg pairs[2] = {{"payload", 7}, {"more", 4}};
    b = stream_block_append(b, (struct stream_id){5000, 0}, pairs, 1);
    cr_assert_not(b->flags & STREAM_BLOCK_KEEPS_FROZEN);
    cr_assert_eq(b->entries, 51);
    b = stream_block_shrink(b);
    stream_block_free(b);
}

Test(stream_freeze, incompressible_and_tiny_blocks_stay_raw)
{
    srand(7);
    struct stream_block *b = block_of(30, true);
    struct stream_block *same = stream_block_freeze(b);
    cr_assert_eq(same, b);
    cr_assert_not(stream_block_is_frozen(b));
    cr_assert(b->flags & STREAM_BLOCK_RAW_ONLY, "not tried again");
    stream_block_free(b);

    struct arg tiny[2] = {{"f", 1}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 44}};
    b = stream_block_new((struct stream_id){1, 0}, tiny, 1);
    cr_assert_lt(b->used, 64);
    b = stream_block_freeze(b);
    cr_assert_not(stream_block_is_frozen(b));
    cr_assert(b->flags & STREAM_BLOCK_RAW_ONLY);
    stream_block_free(b);
}

/* A stream of n job entries, IDs 1-0 .. n-0. */
static struct stream *stream_of(int n)
{
    struct stream *s = stream_new();
    char value[64];
    for (int i = 1; i <= n; i++) {
        struct arg pairs[2] = {{"payload", 7}, {value, job_body(value, sizeof(value), i)}};
        struct stream_id id = {(uint64_t)i, 0}, added;
        cr_assert_eq(stream_append(s, pairs, 1, &id, true, &added), STREAM_ADD_OK);
    }
    return s;
}

/* How many of s's blocks are frozen, and whether the newest `raw` are not. */
static size_t frozen_blocks(const struct stream *s, int raw)
{
    size_t frozen = 0, pos = 0, n = stream_index_size(s->blocks);
    struct stream_index_iter it;
    for (bool ok = stream_index_first(s->blocks, &it); ok; ok = stream_index_next(&it), pos++) {
        const struct stream_block *b = stream_index_value(&it);
        if (!stream_block_is_frozen(b)) continue;
        cr_assert_lt(pos + (size_t)raw, n, "block %zu of %zu is among the newest %d", pos, n, raw);
        frozen++;
    }
    return frozen;
}

static void check_entries(struct stream *s, int n)
{
    struct stream_iter it;
    struct stream_entry e;
    char want[64];
    int i = 0;
    stream_iter_init(&it, s, (struct stream_id){0, 0}, (struct stream_id){UINT64_MAX, UINT64_MAX}, false);
    while (stream_iter_next(&it, &e)) {
        i++;
        cr_assert_eq(e.id.ms, (uint64_t)i);
        struct stream_field_cursor c;
        const char *f, *v;
        size_t fl, vl;
        stream_entry_fields(&e, &c);
        cr_assert(stream_field_next(&c, &f, &fl, &v, &vl));
        size_t wl = job_body(want, sizeof(want), i);
        cr_assert_eq(vl, wl);
        cr_assert_eq(memcmp(v, want, wl), 0);
    }
    cr_assert_eq(i, n);
}

Test(stream_freeze, sealed_blocks_freeze_between_commands_but_the_newest_depth)
{
    struct stream *s = stream_of(100); /* ten blocks of ten */
    cr_assert_eq(stream_index_size(s->blocks), 10);
    cr_assert_eq(frozen_blocks(s, 1), 0, "nothing is compressed inside a command");
    cr_assert_gt(stream_freeze_queued(), 0);
    stream_freeze_run(SIZE_MAX, false);
    cr_assert_eq(frozen_blocks(s, 1), 9);
    cr_assert_eq(stream_freeze_queued(), 0);

    check_entries(s, 100); /* reading thaws them all, in place */
    cr_assert_eq(frozen_blocks(s, 1), 0);
    cr_assert_eq(stream_freeze_queued(), 9);
    stream_freeze_run(SIZE_MAX, false);
    cr_assert_eq(frozen_blocks(s, 1), 0, "the recently thawed few stay raw");
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(frozen_blocks(s, 1), 9);
    check_entries(s, 100);
    stream_freeze_run(SIZE_MAX, true);

    cr_assert(stream_delete(s, (struct stream_id){5, 0}), "XDEL thaws the block it changes");
    cr_assert_eq(frozen_blocks(s, 1), 8);
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(frozen_blocks(s, 1), 9);
    struct stream_entry e;
    cr_assert_not(stream_lookup(s, (struct stream_id){5, 0}, &e), "the deletion flag survived freezing");
    cr_assert(stream_lookup(s, (struct stream_id){6, 0}, &e));
    cr_assert_eq(s->length, 99);
    stream_free(s);
}

Test(stream_freeze, turned_off_blocks_thaw_for_good)
{
    struct stream *s = stream_of(100);
    stream_freeze_run(SIZE_MAX, true);
    stream_compress_depth = 0;
    check_entries(s, 100);
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(frozen_blocks(s, 1), 0);
    struct stream_index_iter it;
    for (bool ok = stream_index_first(s->blocks, &it); ok; ok = stream_index_next(&it)) {
        const struct stream_block *b = stream_index_value(&it);
        cr_assert_not(b->flags & STREAM_BLOCK_KEEPS_FROZEN, "no compressed copy lingers");
    }
    stream_free(s);
}

Test(stream_freeze, the_newest_depth_blocks_stay_raw)
{
    stream_compress_depth = 3;
    struct stream *s = stream_of(100);
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(frozen_blocks(s, 3), 7);
    check_entries(s, 100);
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(frozen_blocks(s, 3), 7);
    stream_free(s);
}

Test(stream_freeze, a_budget_bounds_one_run)
{
    struct stream *s = stream_of(100);
    cr_assert(stream_freeze_run(3, false), "work is left");
    cr_assert_eq(frozen_blocks(s, 1), 3);
    cr_assert_not(stream_freeze_run(SIZE_MAX, false));
    cr_assert_eq(frozen_blocks(s, 1), 9);
    stream_free(s);
}

Test(stream_freeze, a_peek_reads_without_thawing)
{
    struct stream *s = stream_of(100);
    stream_freeze_run(SIZE_MAX, true);
    stream_freeze_peek_begin();
    check_entries(s, 100);
    stream_freeze_peek_end();
    cr_assert_eq(frozen_blocks(s, 1), 9);
    cr_assert_eq(stream_freeze_queued(), 0);
    stream_free(s);
}

Test(stream_freeze, a_freed_stream_leaves_the_queues)
{
    struct stream *s = stream_of(100), *t = stream_of(50);
    cr_assert_gt(s->freeze_queued, 0);
    stream_free(s); /* ASan would catch a later use */
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(frozen_blocks(t, 1), 4);
    struct stream_trim trim = {.strategy = STREAM_TRIM_MAXLEN, .maxlen = 5, .approx = false};
    check_entries(t, 50);
    cr_assert_eq(stream_trim(t, &trim), 45, "blocks thawed then trimmed away are not found again");
    stream_freeze_run(SIZE_MAX, true);
    cr_assert_eq(t->length, 5);
    stream_free(t);
}

Test(stream_freeze, copies_and_dump_payloads_come_back_frozen)
{
    struct stream *s = stream_of(100);
    stream_freeze_run(SIZE_MAX, true);
    struct object *o = object_new(OBJ_STREAM, ENC_STREAM, s);
    struct object *c = object_copy(o);
    cr_assert_eq(frozen_blocks(c->v.ptr, 1), 9);
    check_entries(c->v.ptr, 100);
    str p = dump_payload_create(o);
    cr_assert_eq(frozen_blocks(s, 1), 9, "DUMP reads without thawing");
    struct object *back = NULL;
    char err[256];
    cr_assert_eq(dump_payload_load(p, str_len(p), &back, err, sizeof(err)), DUMP_PAYLOAD_OK);
    cr_assert_eq(frozen_blocks(back->v.ptr, 1), 9, "loaded blocks follow the policy");
    check_entries(back->v.ptr, 100);
    str_free(p);
    object_free(back);
    object_free(c);
    object_free(o);
}
