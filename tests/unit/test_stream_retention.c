/* A stream's retention policy in DUMP payloads (the snapshot's value
 * encoding): it round-trips with the value's encoding tag, and a value out
 * of range is refused on loading. */
#include <criterion/criterion.h>
#include <string.h>

#include "db/dump_payload.h"
#include "types/stream.h"
#include "types/stream_retention.h"

static void setup(void)
{
    stream_type_register();
}

TestSuite(stream_retention, .init = setup);

/* A stream of n entries with IDs 1-0 .. n-0. */
static struct stream *stream_of(int n)
{
    struct stream *s = stream_new();
    struct arg pair[2] = {{"f", 1}, {"v", 1}};
    for (int i = 1; i <= n; i++) {
        struct stream_id id = {(uint64_t)i, 0}, added;
        cr_assert_eq(stream_append(s, pair, 1, &id, true, &added), STREAM_ADD_OK);
    }
    return s;
}

static struct object *round_trip(struct stream *s, enum dump_payload_result want)
{
    struct object *o = object_new(OBJ_STREAM, stream_retention_encoding(s), s);
    str p = dump_payload_create(o);
    cr_assert(p);
    struct object *back = NULL;
    char err[256];
    cr_assert_eq(dump_payload_load(p, str_len(p), &back, err, sizeof(err)), want);
    str_free(p);
    object_free(o);
    return back;
}

Test(stream_retention, policy_round_trips_with_its_encoding)
{
    struct stream *s = stream_of(5);
    s->retention_maxage = 604800000;
    s->retention_maxlen = 1000;
    s->retention_refs = STREAM_REF_ACKED;
    struct object *o = round_trip(s, DUMP_PAYLOAD_OK);
    struct stream *t = o->v.ptr;
    cr_assert_eq(o->encoding, ENC_STREAM_RETAINED);
    cr_assert(object_has_item_deadlines(o));
    cr_assert_eq(t->length, 5);
    cr_assert_eq(t->retention_maxage, 604800000);
    cr_assert_eq(t->retention_maxlen, 1000);
    cr_assert_eq(t->retention_refs, STREAM_REF_ACKED);
    object_free(o);
}

Test(stream_retention, refs_alone_are_kept_without_listing_the_key)
{
    struct stream *s = stream_of(2);
    s->retention_refs = STREAM_REF_DEL;
    struct object *o = round_trip(s, DUMP_PAYLOAD_OK);
    struct stream *t = o->v.ptr;
    cr_assert_eq(o->encoding, ENC_STREAM);
    cr_assert_not(object_has_item_deadlines(o));
    cr_assert_eq(t->retention_refs, STREAM_REF_DEL);
    cr_assert(stream_retention_configured(t) && !stream_retention_active(t));
    object_free(o);
}

Test(stream_retention, a_stream_without_policy_has_none_after_loading)
{
    struct object *o = round_trip(stream_of(3), DUMP_PAYLOAD_OK);
    struct stream *t = o->v.ptr;
    cr_assert_eq(o->encoding, ENC_STREAM);
    cr_assert_not(stream_retention_configured(t));
    object_free(o);
}

Test(stream_retention, out_of_range_values_are_refused)
{
    struct stream *s = stream_of(2);
    s->retention_maxlen = 10;
    s->retention_refs = 7; /* no such reference policy */
    cr_assert_null(round_trip(s, DUMP_PAYLOAD_BAD_DATA));
    s = stream_of(2);
    s->retention_maxage = (uint64_t)INT64_MAX + 1;
    cr_assert_null(round_trip(s, DUMP_PAYLOAD_BAD_DATA));
}
