"""Streams: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD (blocking
too), IDs, trimming, notifications and memory per entry. Expected replies
and errors were checked against redis-server 7.0 side by side; where
Runnel follows 7.2 or later instead, the test says so."""
import re
import threading
import time

import pytest
import redis

from conftest import blocked_count, wait_blocked

INVALID_ID = ("error", "ERR Invalid stream ID specified as stream command argument")
TOO_SMALL = ("error", "ERR The ID specified in XADD is equal or smaller than the target stream top item")


def ids(entries):
    return [e[0] for e in entries]


def split_id(i):
    ms, seq = i.split(b"-")
    return int(ms), int(seq)


# ---- XADD and IDs ----

def test_seed_examples(r, raw):
    email = raw.call("XADD", "Email", "*", "subject", "first", "body", "hello?")
    push = raw.call("XADD", "Push", "*", "userid", "1000", "ttl", "3", "body", "Hey")
    assert re.fullmatch(rb"\d+-0", email) and re.fullmatch(rb"\d+-\d+", push)
    assert raw.call("XRANGE", "Email", "-", "+") == [[email, [b"subject", b"first", b"body", b"hello?"]]]
    assert raw.call("XRANGE", "Push", "-", "+") == [[push, [b"userid", b"1000", b"ttl", b"3", b"body", b"Hey"]]]
    assert raw.call("XADD", "mystream", "0-1", "hello", "world") == b"0-1"
    assert raw.call("XADD", "mystream", "0-2", "hello", "world") == b"0-2"
    assert raw.call("XADD", "mystream", "0-2", "hello", "world") == TOO_SMALL
    assert raw.call("XADD", "mystream", "0-1", "hello", "world") == TOO_SMALL
    assert raw.call("XLEN", "mystream") == 2
    assert raw.call("TYPE", "mystream") == "stream"
    assert raw.call("OBJECT", "ENCODING", "mystream") == b"stream"


def test_auto_id_takes_server_clock(r, raw):
    before = int(time.time() * 1000)
    ms, seq = split_id(raw.call("XADD", "s", "*", "f", "v"))
    after = int(time.time() * 1000)
    assert before - 1000 <= ms <= after + 1000
    assert seq == 0


def test_auto_ids_increase_within_one_millisecond(server, r):
    """A pipelined burst lands many entries in the same millisecond: the
    sequence advances and IDs never repeat or go back."""
    p = r.pipeline(transaction=False)
    for i in range(5000):
        p.xadd("burst", {"n": i})
    got = [split_id(i) for i in p.execute()]
    assert got == sorted(got) and len(set(got)) == len(got)
    same_ms = sum(1 for a, b in zip(got, got[1:]) if a[0] == b[0])
    assert same_ms > 0, "a burst should share milliseconds"
    for a, b in zip(got, got[1:]):
        if a[0] == b[0]:
            assert b[1] == a[1] + 1
        else:
            assert b[1] == 0


def test_auto_id_never_goes_back_behind_a_future_top_item(r, raw):
    future = int(time.time() * 1000) + 10_000_000
    assert raw.call("XADD", "s", "%d-5" % future, "f", "v") == b"%d-5" % future
    assert raw.call("XADD", "s", "*", "f", "v") == b"%d-6" % future
    assert raw.call("XADD", "s", "*", "f", "v") == b"%d-7" % future


def test_explicit_ids(r, raw):
    assert raw.call("XADD", "s", "0-*", "a", "1") == b"0-1"
    assert raw.call("XADD", "s", "5-*", "a", "1") == b"5-0"
    assert raw.call("XADD", "s", "5-*", "a", "1") == b"5-1"
    assert raw.call("XADD", "s", "6", "a", "1") == b"6-0"
    assert raw.call("XADD", "s", "6", "a", "1") == TOO_SMALL
    assert raw.call("XADD", "s", "007-1", "a", "1") == b"7-1"  # Redis accepts what strtoull accepts
    assert raw.call("XADD", "s", "18446744073709551615-*", "a", "1") == b"18446744073709551615-0"
    assert raw.call("XADD", "s", "*", "a", "1") == b"18446744073709551615-1"
    assert raw.call("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1") == \
        b"18446744073709551615-18446744073709551615"
    assert raw.call("XADD", "s", "*", "a", "1") == \
        ("error", "ERR The stream has exhausted the last possible ID, unable to add more items")


def test_invalid_ids(r, raw):
    for bad in ("x", "1-x", "-1", "1-", "18446744073709551616", "-", "+", "1-2-3"):
        assert raw.call("XADD", "s", bad, "f", "v") == INVALID_ID, bad
    assert raw.call("XADD", "s", "0-0", "f", "v") == ("error", "ERR The ID specified in XADD must be greater than 0-0")
    assert raw.call("XADD", "s", "0", "f", "v") == ("error", "ERR The ID specified in XADD must be greater than 0-0")
    assert raw.call("EXISTS", "s") == 0


def test_fields_keep_order_and_duplicates(r, raw):
    i = raw.call("XADD", "s", "*", "b", "1", "a", "2", "b", "3", "", "")
    assert raw.call("XRANGE", "s", "-", "+") == [[i, [b"b", b"1", b"a", b"2", b"b", b"3", b"", b""]]]


def test_binary_and_large_values(r, raw):
    big = b"x" * 100_000
    raw.call("XADD", "s", "1-1", b"k\x00\r\n", big)
    raw.call("XADD", "s", "1-2", b"k\x00\r\n", b"small")
    assert raw.call("XRANGE", "s", "-", "+") == [[b"1-1", [b"k\x00\r\n", big]], [b"1-2", [b"k\x00\r\n", b"small"]]]


def test_xadd_arity_and_options(r, raw):
    assert raw.call("XADD", "s", "*", "f") == ("error", "ERR wrong number of arguments for 'xadd' command")
    assert raw.call("XADD", "s", "*", "f", "v", "g") == ("error", "ERR wrong number of arguments for 'xadd' command")
    assert raw.call("XADD", "s", "MAXLEN", "1") == ("error", "ERR wrong number of arguments for 'xadd' command")
    assert raw.call("XADD", "s", "NOMKSTREAM", "*", "f", "v") is None
    assert raw.call("EXISTS", "s") == 0
    assert raw.call("XADD", "s", "MAXLEN", "-1", "*", "f", "v") == ("error", "ERR The MAXLEN argument must be >= 0.")
    assert raw.call("XADD", "s", "MAXLEN", "x", "*", "f", "v") == \
        ("error", "ERR value is not an integer or out of range")
    assert raw.call("XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "f", "v") == \
        ("error", "ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
    assert raw.call("XADD", "s", "LIMIT", "5", "*", "f", "v") == \
        ("error", "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    assert raw.call("XADD", "s", "MAXLEN", "2", "LIMIT", "5", "*", "f", "v") == \
        ("error", "ERR syntax error, LIMIT cannot be used without the special ~ option")
    assert raw.call("XADD", "s", "MAXLEN", "~", "2", "LIMIT", "-1", "*", "f", "v") == \
        ("error", "ERR The LIMIT argument must be >= 0.")
    assert raw.call("XADD", "s", "MINID", "x", "*", "f", "v") == INVALID_ID
    r.set("str", "x")
    assert raw.call("XADD", "str", "*", "f", "v") == \
        ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")


def test_xadd_trims_after_adding(r, raw):
    for i in range(1, 6):
        raw.call("XADD", "s", "%d-1" % i, "f", "v")
    assert raw.call("XADD", "s", "MAXLEN", "2", "6-1", "f", "v") == b"6-1"
    assert ids(raw.call("XRANGE", "s", "-", "+")) == [b"5-1", b"6-1"]
    assert raw.call("XADD", "s", "MINID", "=", "7", "7-1", "f", "v") == b"7-1"
    assert ids(raw.call("XRANGE", "s", "-", "+")) == [b"7-1"]
    assert raw.call("XADD", "s", "NOMKSTREAM", "MAXLEN", "=", "0", "8-1", "f", "v") == b"8-1"
    assert raw.call("XLEN", "s") == 0
    assert raw.call("EXISTS", "s") == 1, "an emptied stream stays"
    info = raw.call("XINFO", "STREAM", "s")
    assert info[info.index(b"last-generated-id") + 1] == b"8-1"
    assert info[info.index(b"entries-added") + 1] == 8


# ---- reading ranges ----

@pytest.fixture
def five(r, raw):
    for i in range(1, 6):
        raw.call("XADD", "s", "%d-1" % i, "n", str(i))
    return raw


def test_xrange_bounds(five):
    raw = five
    assert ids(raw.call("XRANGE", "s", "-", "+")) == [b"1-1", b"2-1", b"3-1", b"4-1", b"5-1"]
    assert ids(raw.call("XRANGE", "s", "2", "4")) == [b"2-1", b"3-1", b"4-1"], "incomplete IDs cover the whole ms"
    assert ids(raw.call("XRANGE", "s", "(2-1", "(4-1")) == [b"3-1"]
    assert ids(raw.call("XRANGE", "s", "(2", "+")) == [b"2-1", b"3-1", b"4-1", b"5-1"], "(2 means after 2-0"
    assert ids(raw.call("XRANGE", "s", "-", "+", "COUNT", "2")) == [b"1-1", b"2-1"]
    assert raw.call("XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert raw.call("XRANGE", "s", "-", "+", "COUNT", "-3") is None, "a negative count is zero"
    assert raw.call("XRANGE", "s", "4", "2") == []
    assert raw.call("XRANGE", "nokey", "-", "+") == []
    assert raw.call("XRANGE", "s", "(-", "+") == INVALID_ID
    assert raw.call("XRANGE", "s", "-", "(+") == INVALID_ID
    assert raw.call("XRANGE", "s", "x", "+") == INVALID_ID
    assert raw.call("XRANGE", "s", "-", "+", "COUNT") == ("error", "ERR syntax error")
    assert raw.call("XRANGE", "s", "-", "+", "LIMIT", "1") == ("error", "ERR syntax error")
    assert raw.call("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+") == \
        ("error", "ERR invalid start ID for the interval")
    assert raw.call("XRANGE", "s", "-", "(0-0") == ("error", "ERR invalid end ID for the interval")


def test_xrevrange(five):
    raw = five
    assert ids(raw.call("XREVRANGE", "s", "+", "-")) == [b"5-1", b"4-1", b"3-1", b"2-1", b"1-1"]
    assert ids(raw.call("XREVRANGE", "s", "+", "-", "COUNT", "2")) == [b"5-1", b"4-1"]
    assert ids(raw.call("XREVRANGE", "s", "(4-1", "2")) == [b"3-1", b"2-1"]
    assert raw.call("XREVRANGE", "s", "-", "+") == []
    assert raw.call("XREVRANGE", "s", "+", "-")[0] == [b"5-1", [b"n", b"5"]]


def test_ranges_across_many_blocks(r):
    """2,500 entries span 25 blocks of 100; seeks land inside blocks."""
    p = r.pipeline(transaction=False)
    for i in range(1, 2501):
        p.xadd("big", {"i": i} if i % 7 else {"i": i, "other": "field"}, id="%d-%d" % (i // 3, i % 3))
    p.execute()
    all_ids = [e[0] for e in r.xrange("big")]
    assert len(all_ids) == 2500
    assert [e[0] for e in r.xrevrange("big")] == all_ids[::-1]
    assert r.xinfo_stream("big")["radix-tree-keys"] == 25
    assert [e[0] for e in r.xrange("big", "333-1", "400", count=50)] == all_ids[999:1049]
    assert [e[0] for e in r.xrevrange("big", "(700-0", "650")] == all_ids[1949:2099][::-1]
    assert r.xrange("big", "777-1", "777-1")[0][1] == {b"i": b"2332"}
    assert r.xrange("big", "2-0", "2-0")[0][1] == {b"i": b"6"}


# ---- XDEL, XTRIM, XSETID ----

def test_xdel(five):
    raw = five
    assert raw.call("XDEL", "s", "2-1", "9-9", "2-1") == 1
    assert raw.call("XDEL", "s", "3-1", "x") == INVALID_ID
    assert raw.call("XLEN", "s") == 4, "a bad ID deletes nothing"
    assert raw.call("XDEL", "nokey", "x") == 0
    assert ids(raw.call("XRANGE", "s", "-", "+")) == [b"1-1", b"3-1", b"4-1", b"5-1"]
    assert raw.call("XDEL", "s", "1-1", "3-1", "4-1", "5-1") == 4
    assert raw.call("XLEN", "s") == 0
    info = raw.call("XINFO", "STREAM", "s")
    assert info[info.index(b"max-deleted-entry-id") + 1] == b"5-1"
    assert info[info.index(b"recorded-first-entry-id") + 1] == b"0-0"
    assert raw.call("XADD", "s", "5-1", "f", "v") == TOO_SMALL


def test_xdel_then_first_entry(five):
    raw = five
    raw.call("XDEL", "s", "1-1")
    info = raw.call("XINFO", "STREAM", "s")
    assert info[info.index(b"recorded-first-entry-id") + 1] == b"2-1"
    assert info[info.index(b"first-entry") + 1] == [b"2-1", [b"n", b"2"]]


def test_xtrim_exact_and_approximate(r):
    p = r.pipeline(transaction=False)
    for i in range(1, 351):
        p.xadd("t", {"field": "value%d" % i}, id="%d-1" % i)
    p.execute()
    c = r.execute_command
    assert c("XTRIM", "t", "MAXLEN", "~", "300") == 0, "only whole blocks go with ~"
    assert c("XTRIM", "t", "MAXLEN", "~", "120") == 200
    assert c("XLEN", "t") == 150
    assert c("XTRIM", "t", "MAXLEN", "=", "149") == 1
    assert c("XTRIM", "t", "MINID", "260") == 58
    assert r.xrange("t", count=1)[0][0] == b"260-1"
    assert c("XTRIM", "t", "MINID", "~", "301") == 41
    assert c("XTRIM", "t", "MAXLEN", "~", "10", "LIMIT", "20") == 0, "LIMIT stops before a block of 49"
    assert c("XTRIM", "t", "MAXLEN", "~", "10", "LIMIT", "100") == 0
    assert c("XTRIM", "t", "MAXLEN", "10") == 40
    assert c("XLEN", "t") == 10
    assert c("XTRIM", "nokey", "MAXLEN", "1") == 0


def test_xtrim_errors(r, raw):
    raw.call("XADD", "t", "1-1", "f", "v")
    assert raw.call("XTRIM", "t", "FOO") == ("error", "ERR wrong number of arguments for 'xtrim' command")
    assert raw.call("XTRIM", "t", "FOO", "1") == ("error", "ERR syntax error")
    assert raw.call("XTRIM", "t", "LIMIT", "10") == \
        ("error", "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    assert raw.call("XTRIM", "t", "LIMIT", "0") == \
        ("error", "ERR syntax error, XTRIM must be called with a trimming strategy")
    assert raw.call("XTRIM", "t", "MAXLEN", "10", "LIMIT", "100") == \
        ("error", "ERR syntax error, LIMIT cannot be used without the special ~ option")
    assert raw.call("XTRIM", "t", "MAXLEN", "-1") == ("error", "ERR The MAXLEN argument must be >= 0.")
    assert raw.call("XTRIM", "t", "MINID", "-") == INVALID_ID
    assert raw.call("XTRIM", "t", "MAXLEN", "~") == ("error", "ERR value is not an integer or out of range")
    r.set("str", "x")
    assert raw.call("XTRIM", "str", "MAXLEN", "1") == \
        ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")


def test_trim_to_zero_keeps_counters(r, raw):
    for i in range(1, 4):
        raw.call("XADD", "t", "%d-0" % i, "f", "v")
    assert raw.call("XTRIM", "t", "MAXLEN", "0") == 3
    info = raw.call("XINFO", "STREAM", "t")
    assert info[info.index(b"length") + 1] == 0
    assert info[info.index(b"max-deleted-entry-id") + 1] == b"0-0", "trimming is not deletion"
    assert info[info.index(b"entries-added") + 1] == 3


def test_xsetid(r, raw):
    raw.call("XADD", "s", "3-2", "a", "b")
    assert raw.call("XSETID", "s", "1-1") == \
        ("error", "ERR The ID specified in XSETID is smaller than the target stream top item")
    assert raw.call("XSETID", "s", "3-2") == "OK"
    assert raw.call("XSETID", "s", "5-5", "ENTRIESADDED", "0") == \
        ("error", "ERR The entries_added specified in XSETID is smaller than the target stream length")
    assert raw.call("XSETID", "s", "5-5", "ENTRIESADDED", "-1") == ("error", "ERR entries_added must be positive")
    assert raw.call("XSETID", "s", "5-5", "ENTRIESADDED", "10", "MAXDELETEDID", "6-0") == \
        ("error", "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
    assert raw.call("XSETID", "s", "5-5", "ENTRIESADDED", "10", "MAXDELETEDID", "4-0") == "OK"
    info = raw.call("XINFO", "STREAM", "s")
    assert info[info.index(b"last-generated-id") + 1] == b"5-5"
    assert info[info.index(b"entries-added") + 1] == 10
    assert info[info.index(b"max-deleted-entry-id") + 1] == b"4-0"
    assert raw.call("XADD", "s", "5-5", "a", "b") == TOO_SMALL
    assert raw.call("XADD", "s", "5-6", "a", "b") == b"5-6"
    assert raw.call("XSETID", "s", "9-9", "FOO") == ("error", "ERR syntax error")
    assert raw.call("XSETID", "nokey", "1-1") == ("error", "ERR no such key")
    assert raw.call("XSETID", "s", "x") == INVALID_ID


def test_xsetid_below_deleted_ids_is_refused(r, raw):
    """Redis 7.0 allowed this; later versions refuse it, as Runnel does: an
    emptied stream must not hand out IDs it already used."""
    raw.call("XADD", "s", "5-0", "a", "b")
    raw.call("XDEL", "s", "5-0")
    assert raw.call("XSETID", "s", "1-0") == \
        ("error", "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")


# ---- XREAD ----

def test_xread_basic(five):
    raw = five
    raw.call("XADD", "b", "1-5", "x", "y")
    assert raw.call("XREAD", "STREAMS", "s", "4-1") == [[b"s", [[b"5-1", [b"n", b"5"]]]]]
    assert raw.call("XREAD", "COUNT", "1", "STREAMS", "s", "b", "0", "0") == \
        [[b"s", [[b"1-1", [b"n", b"1"]]]], [b"b", [[b"1-5", [b"x", b"y"]]]]]
    assert raw.call("XREAD", "STREAMS", "s", "b", "$", "$") is None
    assert raw.call("XREAD", "STREAMS", "s", "nokey", "0", "0")[0][0] == b"s"
    assert raw.call("XREAD", "STREAMS", "nokey", "0") is None


def test_xread_plus_reads_the_last_entry(five):
    """`+` (Redis 7.4): the last entry, whatever COUNT says."""
    raw = five
    assert raw.call("XREAD", "COUNT", "10", "STREAMS", "s", "+") == [[b"s", [[b"5-1", [b"n", b"5"]]]]]
    assert raw.call("XREAD", "STREAMS", "nokey", "+") is None


def test_xread_errors(five):
    raw = five
    assert raw.call("XREAD", "STREAMS", "s", ">") == \
        ("error", "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                  "<consumer> option.")
    assert raw.call("XREAD", "STREAMS", "s", "b", "0") == \
        ("error", "ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be "
                  "specified.")
    assert raw.call("XREAD", "COUNT", "x", "STREAMS", "s", "0") == \
        ("error", "ERR value is not an integer or out of range")
    assert raw.call("XREAD", "BLOCK", "x", "STREAMS", "s", "0") == \
        ("error", "ERR timeout is not an integer or out of range")
    assert raw.call("XREAD", "BLOCK", "-1", "STREAMS", "s", "0") == ("error", "ERR timeout is negative")
    assert raw.call("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0") == \
        ("error", "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
    assert raw.call("XREAD", "NOACK", "STREAMS", "s", "0") == \
        ("error", "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
    assert raw.call("XREAD", "FOO", "STREAMS", "s", "0") == ("error", "ERR syntax error")
    assert raw.call("XREAD", "COUNT", "1", "BLOCK", "1") == ("error", "ERR syntax error")
    assert raw.call("XREAD", "STREAMS", "s", "-") == INVALID_ID
    raw.call("SET", "str", "x")
    assert raw.call("XREAD", "STREAMS", "s", "str", "0", "0") == \
        ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")


def test_xread_resp3_is_a_map(r, raw3):
    raw3.call("XADD", "s", "1-1", "f", "v")
    assert raw3.call("XREAD", "STREAMS", "s", "0") == {"s": [[b"1-1", [b"f", b"v"]]]}
    assert raw3.call("XREAD", "STREAMS", "s", "$") is None


def test_xread_skips_deleted_entries_and_blocks(r, raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    raw.call("XADD", "s", "2-1", "f", "v")
    raw.call("XDEL", "s", "2-1")
    assert raw.call("XREAD", "STREAMS", "s", "1-1") is None
    start = time.time()
    assert raw.call("XREAD", "BLOCK", "100", "STREAMS", "s", "1-1") is None
    assert time.time() - start >= 0.09


def test_xread_block_woken_by_xadd(server, r):
    waiter = server.raw()
    waiter.command("XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$")
    wait_blocked(r, 1)
    r.xadd("other", {"x": 1})
    r.xadd("b", {"k": "v"}, id="7-1")
    assert waiter.read_reply() == [[b"b", [[b"7-1", [b"k", b"v"]]]]]
    assert blocked_count(r) == 0
    waiter.close()


def test_xread_block_dollar_ignores_older_entries(server, r):
    r.xadd("s", {"old": 1}, id="1-1")
    waiter = server.raw()
    waiter.command("XREAD", "BLOCK", "5000", "STREAMS", "s", "$")
    wait_blocked(r, 1)
    r.xadd("s", {"new": 1}, id="2-1")
    assert waiter.read_reply() == [[b"s", [[b"2-1", [b"new", b"1"]]]]]
    waiter.close()


def test_xread_block_serves_every_waiter(server, r):
    waiters = [server.raw() for _ in range(3)]
    for i, w in enumerate(waiters):
        w.command("XREAD", "BLOCK", "5000", "COUNT", "10", "STREAMS", "s", "0")
        wait_blocked(r, i + 1)
    r.xadd("s", {"f": "v"}, id="1-1")
    for w in waiters:
        assert w.read_reply() == [[b"s", [[b"1-1", [b"f", b"v"]]]]]
        w.close()


def test_xread_block_times_out_to_nil(r, raw):
    start = time.time()
    assert raw.call("XREAD", "BLOCK", "150", "STREAMS", "s", "$") is None
    assert 0.14 <= time.time() - start < 2
    assert r.xread({"s": "$"}, block=50) == []  # redis-py's view of the nil


def test_xread_block_with_redis_py_thread(server, r):
    other = server.client()
    result = {}

    def reader():
        result["v"] = other.xread({"jobs": "$"}, block=5000)

    t = threading.Thread(target=reader)
    t.start()
    wait_blocked(r, 1)
    i = r.xadd("jobs", {"task": "1"})
    t.join(5)
    assert result["v"] == [[b"jobs", [(i, {b"task": b"1"})]]]


def test_xread_block_inside_multi_does_not_block(r, raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$") == "QUEUED"
    assert raw.call("EXEC") == [None]


def test_xread_block_served_after_exec(server, r):
    waiter = server.raw()
    waiter.command("XREAD", "BLOCK", "5000", "STREAMS", "s", "0")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.xadd("s", {"a": 1}, id="1-1")
    p.xadd("s", {"b": 2}, id="1-2")
    p.execute()
    assert waiter.read_reply() == [[b"s", [[b"1-1", [b"a", b"1"]], [b"1-2", [b"b", b"2"]]]]]
    waiter.close()


def test_xread_block_key_replaced_by_another_type_keeps_waiting(server, r):
    waiter = server.raw()
    waiter.command("XREAD", "BLOCK", "5000", "STREAMS", "s", "$")
    wait_blocked(r, 1)
    r.set("s", "x")
    r.delete("s")
    r.xadd("s", {"f": "v"}, id="3-3")
    assert waiter.read_reply() == [[b"s", [[b"3-3", [b"f", b"v"]]]]]
    waiter.close()


# ---- notifications, wrong types, memory ----

def collect_events(r, actions):
    """Runs actions with keyevent notifications on; returns [(event, key)]."""
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    try:
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=1)["type"] == "psubscribe"
        for a in actions:
            r.execute_command(*a)
        events = []
        while True:
            m = p.get_message(timeout=0.3)
            if m is None:
                break
            events.append((m["channel"].decode().split(":", 1)[1], m["data"].decode()))
        return events
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_keyspace_events(r):
    events = collect_events(r, [
        ("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "2-1", "f", "v"), ("XADD", "s", "MAXLEN", "1", "3-1", "f", "v"),
        ("XDEL", "s", "3-1"), ("XDEL", "s", "3-1"), ("XTRIM", "s", "MAXLEN", "0"), ("XSETID", "s", "9-9"),
        ("XTRIM", "s", "MAXLEN", "0"),
    ])
    assert events == [("xadd", "s"), ("xadd", "s"), ("xadd", "s"), ("xtrim", "s"), ("xdel", "s"), ("xsetid", "s")]


def test_wrong_type_everywhere(r, raw):
    r.set("str", "x")
    wrong = ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")
    for cmd in (("XLEN", "str"), ("XRANGE", "str", "-", "+"), ("XREVRANGE", "str", "+", "-"), ("XDEL", "str", "1"),
                ("XSETID", "str", "1-1"), ("XREAD", "STREAMS", "str", "0")):
        assert raw.call(*cmd) == wrong, cmd


def test_copy_and_memory_usage(r, raw):
    for i in range(300):
        raw.call("XADD", "s", "%d-0" % (i + 1), "f", "v")
    raw.call("XDEL", "s", "1-0")
    assert raw.call("COPY", "s", "c") == 1
    assert raw.call("XRANGE", "c", "-", "+") == raw.call("XRANGE", "s", "-", "+")
    raw.call("XADD", "c", "1000-0", "f", "v")
    assert raw.call("XLEN", "s") == 299 and raw.call("XLEN", "c") == 300
    assert 2000 < raw.call("MEMORY", "USAGE", "s") < 20000


def test_memory_per_small_entry_beats_redis(server, r):
    """The storage target: Redis keeps an `XADD s * field value` entry in
    about 16 bytes; Runnel must not use more."""
    n = 200_000
    before = r.info("memory")["used_memory"]
    sock = server.raw()
    cmd = b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$5\r\nfield\r\n$5\r\nvalue\r\n"
    for _ in range(n // 10000):
        sock.send(cmd * 10000)
        for _ in range(10000):
            sock.read_reply()
    sock.close()
    assert r.xlen("s") == n
    per_entry = (r.info("memory")["used_memory"] - before) / n
    assert per_entry <= 16, per_entry
