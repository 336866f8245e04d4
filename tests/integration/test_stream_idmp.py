"""Idempotent production on streams (Redis 8.6): XADD ... IDMP / IDMPAUTO,
XCFGSET, the stream-idmp-* directives, the XINFO STREAM fields, and the
dedup state across AOF replay, rewrite, snapshot, DUMP/RESTORE and a
replica."""
import time

import pytest

from conftest import RunnelProcess
from replication_helpers import start_primary, start_replica, wait_caught_up, wait_link_up
from test_aof import restart

SYNTAX = ("error", "ERR syntax error")
NOT_INTEGER = ("error", "ERR value is not an integer or out of range")
DURATION_RANGE = ("error", "ERR IDMP-DURATION must be between 1 and 86400 seconds")
MAXSIZE_RANGE = ("error", "ERR IDMP-MAXSIZE must be between 1 and 10000 entries")
ONLY_AUTO = ("error", "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs")
TWICE = ("error", "ERR IDMP/IDMPAUTO specified multiple times")


@pytest.fixture
def raw(raw_flushed):
    return raw_flushed


def info(raw, key, *extra):
    reply = raw.call("XINFO", "STREAM", key, *extra)
    if isinstance(reply, dict):
        return reply
    return {reply[i].decode(): reply[i + 1] for i in range(0, len(reply), 2)}


def idmp_info(raw, key):
    i = info(raw, key)
    return {k: i[k] for k in ("idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked", "iids-added",
                              "iids-duplicates")}


# ---- XADD ... IDMP ----


def test_repeated_pair_returns_the_original_id_and_adds_nothing(raw):
    first = raw.call("XADD", "s", "IDMP", "p1", "pay-1", "*", "amount", "100")
    again = raw.call("XADD", "s", "IDMP", "p1", "pay-1", "*", "amount", "200")
    assert again == first
    assert raw.call("XLEN", "s") == 1
    assert raw.call("XRANGE", "s", "-", "+") == [[first, [b"amount", b"100"]]]
    # another idempotent ID, another producer: new entries
    second = raw.call("XADD", "s", "IDMP", "p1", "pay-2", "*", "amount", "100")
    third = raw.call("XADD", "s", "IDMP", "p2", "pay-1", "*", "amount", "100")
    assert len({first, second, third}) == 3
    assert raw.call("XLEN", "s") == 3


def test_idmp_option_positions_and_other_options(raw):
    a = raw.call("XADD", "s", "MAXLEN", "~", "100", "IDMP", "p", "a", "*", "f", "v")
    b = raw.call("XADD", "s", "IDMP", "p", "b", "KEEPREF", "MAXLEN", "=", "100", "*", "f", "v")
    c = raw.call("XADD", "s", "NOMKSTREAM", "IDMP", "p", "c", "MINID", "0", "*", "f", "v")
    assert len({a, b, c}) == 3
    # the duplicate does not trim
    assert raw.call("XADD", "s", "IDMP", "p", "a", "MAXLEN", "0", "*", "f", "v") == a
    assert raw.call("XLEN", "s") == 3
    # NOMKSTREAM on a missing key: nil, nothing recorded
    assert raw.call("XADD", "t", "NOMKSTREAM", "IDMP", "p", "a", "*", "f", "v") is None
    assert raw.call("EXISTS", "t") == 0


def test_idempotent_ids_are_binary_safe(raw):
    iid = b"\x00\x01\xff req"
    a = raw.call("XADD", "s", "IDMP", b"\x00pid", iid, "*", "f", "v")
    assert raw.call("XADD", "s", "IDMP", b"\x00pid", iid, "*", "f", "w") == a
    assert raw.call("XADD", "s", "IDMP", b"\x00pid", b"\x00\x01\xff req2", "*", "f", "v") != a
    # words of the syntax are plain IDs once they stand in an ID's place
    for word in ("*", "IDMP", "MAXLEN", "1-1", "+"):
        assert raw.call("XADD", "s", "IDMP", "p", word, "*", "f", "v") != a
    assert raw.call("XLEN", "s") == 7


def test_original_id_is_returned_after_the_entry_is_deleted(raw):
    a = raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    assert raw.call("XDEL", "s", a) == 1
    assert raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v") == a
    assert raw.call("XLEN", "s") == 0


def test_idmpauto_hashes_the_pairs_in_any_order(raw):
    a = raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f1", "a", "f2", "b")
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f2", "b", "f1", "a") == a
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "f1", "a", "f2", "x") != a
    # a field and its value are not interchangeable, nor split differently
    b = raw.call("XADD", "s", "IDMPAUTO", "p", "*", "ab", "c")
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "a", "bc") != b
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "c", "ab") != b
    # a repeated pair does not cancel out
    c = raw.call("XADD", "s", "IDMPAUTO", "p", "*", "k", "v", "k", "v", "z", "1")
    assert raw.call("XADD", "s", "IDMPAUTO", "p", "*", "z", "1") != c
    # other producers have their own namespace
    assert raw.call("XADD", "s", "IDMPAUTO", "q", "*", "f1", "a", "f2", "b") != a
    assert raw.call("XLEN", "s") == 8


def test_in_a_transaction(raw):
    assert raw.call("MULTI") == "OK"
    for iid in ("a", "b", "a"):
        assert raw.call("XADD", "s", "IDMP", "p", iid, "*", "f", "v") == "QUEUED"
    ids = raw.call("EXEC")
    assert ids[0] == ids[2] and ids[1] != ids[0]
    assert raw.call("XLEN", "s") == 2


def test_xadd_idmp_errors(raw):
    assert raw.call("XADD", "s", "IDMP", "p1", "*", "f", "v") == (
        "error", "ERR Invalid stream ID specified as stream command argument")
    assert raw.call("XADD", "s", "IDMP", "p1", "i", "1-1", "f", "v") == ONLY_AUTO
    assert raw.call("XADD", "s", "IDMPAUTO", "p1", "1-*", "f", "v") == ONLY_AUTO
    assert raw.call("XADD", "s", "IDMP", "p1", "i", "IDMP", "p2", "j", "*", "f", "v") == TWICE
    assert raw.call("XADD", "s", "IDMPAUTO", "p1", "IDMP", "p2", "j", "*", "f", "v") == TWICE
    assert raw.call("XADD", "s", "IDMP", "p1", "i", "IDMPAUTO", "p2", "*", "f", "v") == TWICE
    assert raw.call("XADD", "s", "IDMPAUTO", "p1", "IDMPAUTO", "p2", "*", "f", "v") == TWICE
    assert raw.call("XADD", "s", "IDMP", "", "i", "*", "f", "v") == ("error", "ERR IDMP requires a non-empty producer ID")
    assert raw.call("XADD", "s", "IDMP", "p", "", "*", "f", "v") == (
        "error", "ERR IDMP requires a non-empty idempotent ID")
    assert raw.call("XADD", "s", "IDMPAUTO", "", "*", "f", "v") == (
        "error", "ERR IDMPAUTO requires a non-empty producer ID")
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f") == (
        "error", "ERR wrong number of arguments for 'xadd' command")
    assert raw.call("EXISTS", "s") == 0
    raw.call("SET", "str", "x")
    assert raw.call("XADD", "str", "IDMP", "p", "i", "*", "f", "v")[1].startswith("WRONGTYPE")


# ---- XINFO STREAM, XCFGSET ----


def test_xinfo_fields_and_counters_resp2_and_resp3(raw, raw3):
    raw.call("XADD", "s", "*", "f", "v")
    assert idmp_info(raw, "s") == {"idmp-duration": 100, "idmp-maxsize": 100, "pids-tracked": 0,
                                   "iids-tracked": 0, "iids-added": 0, "iids-duplicates": 0}
    raw.call("XADD", "s", "IDMP", "p1", "a", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p1", "b", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p2", "a", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p1", "a", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p2", "a", "*", "f", "v")
    want = {"idmp-duration": 100, "idmp-maxsize": 100, "pids-tracked": 2, "iids-tracked": 3, "iids-added": 3,
            "iids-duplicates": 2}
    assert idmp_info(raw, "s") == want
    # the fields sit after recorded-first-entry-id, in both forms and both protocols
    keys = list(info(raw, "s").keys())
    at = keys.index("recorded-first-entry-id")
    assert keys[at + 1:at + 7] == list(want)
    assert keys[at + 7] == "groups"
    full = info(raw, "s", "FULL")
    assert {k: full[k] for k in want} == want
    keys = list(info(raw, "s", "FULL").keys())
    assert keys[keys.index("recorded-first-entry-id") + 1:][:6] == list(want)
    r3 = raw3.call("XINFO", "STREAM", "s")
    assert isinstance(r3, dict) and {k: r3[k] for k in want} == want
    r3 = raw3.call("XINFO", "STREAM", "s", "FULL")
    assert {k: r3[k] for k in want} == want


def test_maxsize_keeps_the_newest_ids_per_producer(raw):
    raw.call("XADD", "s", "*", "f", "v")
    assert raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "3") == "OK"
    ids = {i: raw.call("XADD", "s", "IDMP", "p", str(i), "*", "f", "v") for i in range(1, 6)}
    other = raw.call("XADD", "s", "IDMP", "q", "1", "*", "f", "v")
    assert idmp_info(raw, "s")["iids-tracked"] == 4
    for i in (3, 4, 5):
        assert raw.call("XADD", "s", "IDMP", "p", str(i), "*", "f", "dup") == ids[i]
    assert raw.call("XADD", "s", "IDMP", "q", "1", "*", "f", "dup") == other
    # 1 and 2 were evicted: they add again (and evict 3 and 4)
    assert raw.call("XADD", "s", "IDMP", "p", "1", "*", "f", "new") != ids[1]
    assert raw.call("XADD", "s", "IDMP", "p", "2", "*", "f", "new") != ids[2]
    assert raw.call("XADD", "s", "IDMP", "p", "5", "*", "f", "dup") == ids[5]
    assert raw.call("XADD", "s", "IDMP", "p", "3", "*", "f", "new") != ids[3]
    i = idmp_info(raw, "s")
    assert (i["iids-tracked"], i["iids-added"], i["iids-duplicates"]) == (4, 9, 5)


def test_many_pairs_against_a_model(raw):
    """Random pairs (many repeats) under maxsize 50: the table must answer
    as a list of each producer's last 50 pairs does. The IDs' lengths vary
    (an evicted record's memory is reused only when the new ID fits) and so
    does the option's case."""
    import random
    rnd = random.Random(7)
    raw.call("XADD", "s", "*", "f", "v")
    raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "50")
    known = {"p": [], "q": []}  # per producer: [(iid, id)] oldest first
    for _ in range(3000):
        pid = rnd.choice("pq")
        n = rnd.randrange(120)
        iid = "i%d" % n + "x" * (n % 37)
        got = raw.call("XADD", "s", rnd.choice(("IDMP", "idmp", "IdMp")), pid, iid, "*", "f", "v")
        hit = [e for e in known[pid] if e[0] == iid]
        if hit:
            assert got == hit[0][1]
        else:
            known[pid].append((iid, got))
            known[pid] = known[pid][-50:]
    i = idmp_info(raw, "s")
    assert i["iids-tracked"] == 100 and i["pids-tracked"] == 2


def test_duration_expires_ids(raw):
    raw.call("XADD", "s", "*", "f", "v")
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "1") == "OK"
    a = raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    assert raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v") == a
    time.sleep(1.2)
    assert idmp_info(raw, "s")["iids-tracked"] == 0 and idmp_info(raw, "s")["pids-tracked"] == 0
    b = raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    assert b != a
    assert raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v") == b


def test_a_full_producer_past_its_duration_drops_every_expired_record(raw):
    """At maxsize with the records after the oldest expired too, a new pair
    evicts all of them, not just the oldest (the one-in one-out path is only
    for a producer whose second-oldest record is still live)."""
    raw.call("XADD", "s", "*", "f", "v")
    raw.call("XCFGSET", "s", "IDMP-DURATION", "1", "IDMP-MAXSIZE", "3")
    old = [raw.call("XADD", "s", "IDMP", "p", iid, "*", "f", "v") for iid in ("a", "b", "c")]
    assert raw.call("XADD", "s", "IDMP", "p", "d", "*", "f", "v") != old[0]  # one in, one out
    assert raw.call("XADD", "s", "IDMP", "p", "b", "*", "f", "v") == old[1]
    time.sleep(1.1)
    new = raw.call("XADD", "s", "IDMP", "p", "e", "*", "f", "v")
    assert idmp_info(raw, "s")["iids-tracked"] == 1
    assert raw.call("XADD", "s", "IDMP", "p", "e", "*", "f", "again") == new
    assert raw.call("XADD", "s", "IDMP", "p", "c", "*", "f", "v") != old[2]


def test_xcfgset_clears_history_only_when_a_value_changes(raw):
    a = raw.call("XADD", "s", "IDMP", "p1", "a", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p2", "a", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p1", "a", "*", "f", "v")
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "100", "IDMP-MAXSIZE", "100") == "OK"
    assert raw.call("XADD", "s", "IDMP", "p1", "a", "*", "f", "v") == a
    assert raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "50") == "OK"
    i = idmp_info(raw, "s")
    assert (i["idmp-maxsize"], i["pids-tracked"], i["iids-tracked"], i["iids-added"], i["iids-duplicates"]) == (
        50, 0, 0, 2, 2)
    assert raw.call("XADD", "s", "IDMP", "p1", "a", "*", "f", "v") != a
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "86400") == "OK"
    assert raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "10000", "IDMP-DURATION", "1") == "OK"
    i = idmp_info(raw, "s")
    assert (i["idmp-duration"], i["idmp-maxsize"]) == (1, 10000)


def test_xcfgset_errors(raw):
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "5") == ("error", "ERR no such key")
    raw.call("XADD", "s", "*", "f", "v")
    assert raw.call("XCFGSET", "s") == ("error", "ERR At least one parameter must be specified")
    assert raw.call("XCFGSET", "s", "IDMP-DURATION") == SYNTAX
    assert raw.call("XCFGSET", "s", "IDMP-MAXSIZE") == SYNTAX
    assert raw.call("XCFGSET", "s", "INVALID") == SYNTAX
    assert raw.call("XCFGSET", "s", "FOO", "1") == SYNTAX
    for bad in ("A", "3.14", "120-5", "000000000", "+", "IDMP-DURATION"):
        assert raw.call("XCFGSET", "s", "IDMP-DURATION", bad) == NOT_INTEGER
        assert raw.call("XCFGSET", "s", "IDMP-MAXSIZE", bad) == NOT_INTEGER
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "INVALID", "IDMP-MAXSIZE") == NOT_INTEGER
    for bad in ("0", "-100", "86401"):
        assert raw.call("XCFGSET", "s", "IDMP-DURATION", bad) == DURATION_RANGE
    for bad in ("0", "-50", "10001"):
        assert raw.call("XCFGSET", "s", "IDMP-MAXSIZE", bad) == MAXSIZE_RANGE
    # a bad value changes nothing, even with a good one before it
    assert raw.call("XCFGSET", "s", "IDMP-DURATION", "7", "IDMP-MAXSIZE", "0") == MAXSIZE_RANGE
    assert idmp_info(raw, "s")["idmp-duration"] == 100
    raw.call("SET", "str", "x")
    assert raw.call("XCFGSET", "str", "IDMP-DURATION", "5")[1].startswith("WRONGTYPE")


def test_directives_set_the_defaults(raw):
    assert raw.call("CONFIG", "GET", "stream-idmp-duration") == [b"stream-idmp-duration", b"100"]
    assert raw.call("CONFIG", "GET", "stream-idmp-maxsize") == [b"stream-idmp-maxsize", b"100"]
    for name, top in (("stream-idmp-duration", 86400), ("stream-idmp-maxsize", 10000)):
        for bad in ("0", "-1", str(top + 1)):
            err = raw.call("CONFIG", "SET", name, bad)
            assert err[0] == "error" and "must be between 1 and %d" % top in err[1]
    assert raw.call("CONFIG", "SET", "stream-idmp-duration", "300") == "OK"
    assert raw.call("CONFIG", "SET", "stream-idmp-maxsize", "7") == "OK"
    try:
        raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
        i = idmp_info(raw, "s")
        assert (i["idmp-duration"], i["idmp-maxsize"]) == (300, 7)
        # a stream keeps the values it started with
        raw.call("CONFIG", "SET", "stream-idmp-maxsize", "9")
        assert idmp_info(raw, "s")["idmp-maxsize"] == 7
    finally:
        raw.call("CONFIG", "SET", "stream-idmp-duration", "100")
        raw.call("CONFIG", "SET", "stream-idmp-maxsize", "100")


def test_xidmprecord(raw):
    a = raw.call("XADD", "s", "*", "f", "v")
    b = raw.call("XADD", "s", "*", "f", "v")
    assert raw.call("XIDMPRECORD", "s", "p", "i", a) == "OK"
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a
    assert raw.call("XIDMPRECORD", "s", "p", "i", a) == "OK"
    assert raw.call("XIDMPRECORD", "s", "p", "i", b) == ("error", "ERR The pair already maps to another stream ID")
    assert raw.call("XIDMPRECORD", "s", "p", "j", "9-9") == (
        "error", "ERR The stream ID does not refer to an existing entry")
    assert raw.call("XIDMPRECORD", "nokey", "p", "j", a) == ("error", "ERR no such key")
    assert raw.call("XIDMPRECORD", "s", "", "j", a)[0] == "error"
    assert raw.call("XIDMPRECORD", "s", "p", "", a)[0] == "error"
    assert raw.call("XIDMPRECORD", "s", "p", "j", a, "FOO") == SYNTAX
    assert raw.call("XIDMPRECORD", "s", "p", "j", a, "TIME", "x") == NOT_INTEGER
    assert raw.call("XIDMPRECORD", "s", "p", "j", "bad") == (
        "error", "ERR Invalid stream ID specified as stream command argument")


def test_command_metadata(raw):
    doc = raw.call("COMMAND", "INFO", "XCFGSET", "XIDMPRECORD")
    assert doc[0][0] == b"xcfgset" and doc[0][1] == -2 and "write" in doc[0][2]
    assert doc[1][0] == b"xidmprecord" and doc[1][1] == -5
    docs = raw.call("COMMAND", "DOCS", "XCFGSET")
    assert b"since" in docs[1] and docs[1][docs[1].index(b"since") + 1] == b"8.6.0"


def test_copy_and_dump_restore_keep_the_state(raw):
    a = raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "5")
    a = raw.call("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
    assert raw.call("COPY", "s", "c") == 1
    payload = raw.call("DUMP", "s")
    assert raw.call("RESTORE", "d", "0", payload) == "OK"
    want = idmp_info(raw, "s")
    d = raw.call("DEBUG", "DIGEST-VALUE", "s")
    for k in ("c", "d"):
        assert idmp_info(raw, k) == want
        assert raw.call("DEBUG", "DIGEST-VALUE", k) == d
        assert raw.call("XADD", k, "IDMP", "p", "a", "*", "f", "v") == a
    # the copies are independent
    raw.call("XADD", "c", "IDMP", "p", "new", "*", "f", "v")
    assert idmp_info(raw, "s")["iids-tracked"] == 1


def test_digest_covers_the_state(raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    raw.call("XADD", "t", "1-1", "f", "v")
    assert raw.call("DEBUG", "DIGEST-VALUE", "s") == raw.call("DEBUG", "DIGEST-VALUE", "t")
    raw.call("XIDMPRECORD", "s", "p", "i", "1-1")
    assert raw.call("DEBUG", "DIGEST-VALUE", "s") != raw.call("DEBUG", "DIGEST-VALUE", "t")


# ---- restart and replicas ----


def digest(srv):
    return srv.client().execute_command("DEBUG", "DIGEST")


def wait_for(cond, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline
        time.sleep(0.05)


def fill(raw):
    """A stream with IDMP state under a small maxsize, duplicates counted,
    a deleted original, two producers; returns {(pid, iid): id}."""
    known = {}
    raw.call("XADD", "s", "*", "f", "init")
    raw.call("XCFGSET", "s", "IDMP-MAXSIZE", "4", "IDMP-DURATION", "3600")
    for i in range(6):
        known[("p", str(i))] = raw.call("XADD", "s", "IDMP", "p", str(i), "*", "n", str(i))
    known[("q", "auto")] = raw.call("XADD", "s", "IDMPAUTO", "q", "*", "x", "1")
    raw.call("XADD", "s", "IDMP", "p", "5", "*", "n", "dup")
    raw.call("XADD", "s", "IDMPAUTO", "q", "*", "x", "1")
    raw.call("XDEL", "s", known[("p", "4")])
    # a second stream whose state comes from the directives alone
    raw.call("XADD", "u", "IDMP", "r", "1", "*", "f", "v")
    return known


def check_known(raw, known):
    for (pid, iid), id_ in known.items():
        if iid == "auto":
            assert raw.call("XADD", "s", "IDMPAUTO", pid, "*", "x", "1") == id_
        elif int(iid) >= 2:
            assert raw.call("XADD", "s", "IDMP", pid, iid, "*", "n", "again") == id_
    # 0 and 1 were evicted by maxsize 4
    assert raw.call("XADD", "s", "IDMP", "p", "0", "*", "n", "again") != known[("p", "0")]


@pytest.fixture
def servers():
    started = []
    yield started
    for s in started:
        s.stop()


def test_state_survives_aof_replay_rewrite_and_snapshot(servers):
    srv = RunnelProcess("--appendonly", "yes")
    servers.append(srv)
    raw = srv.raw()
    known = fill(raw)
    before, d = (idmp_info(raw, "s"), idmp_info(raw, "u")), digest(srv)
    raw.close()
    for step in ("replay", "rewrite", "reload"):
        if step == "rewrite":
            srv.client().execute_command("BGREWRITEAOF")
            wait_for(lambda: srv.client().info("persistence")["aof_rewrite_in_progress"] == 0 and
                     srv.client().info("persistence")["aof_rewrites"] >= 1)
        if step == "reload":
            assert srv.client().execute_command("DEBUG", "RELOAD") in (b"OK", "OK", True)
        else:
            srv = restart(srv)
            servers.append(srv)
        raw = srv.raw()
        assert (idmp_info(raw, "s"), idmp_info(raw, "u")) == before, step
        assert digest(srv) == d, step
        raw.close()
    raw = srv.raw()
    check_known(raw, known)
    raw.close()


def test_state_survives_a_rewrite_without_the_snapshot_preamble(servers):
    srv = RunnelProcess("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    servers.append(srv)
    raw = srv.raw()
    known = fill(raw)
    before, d = idmp_info(raw, "s"), digest(srv)
    srv.client().execute_command("BGREWRITEAOF")
    wait_for(lambda: srv.client().info("persistence")["aof_rewrite_in_progress"] == 0 and
             srv.client().info("persistence")["aof_rewrites"] >= 1)
    raw.close()
    srv = restart(srv, "--aof-use-rdb-preamble", "no")
    servers.append(srv)
    raw = srv.raw()
    assert idmp_info(raw, "s") == before and digest(srv) == d
    check_known(raw, known)


def test_snapshot_restart(servers):
    srv = RunnelProcess("--save", "")
    servers.append(srv)
    raw = srv.raw()
    known = fill(raw)
    before, d = idmp_info(raw, "s"), digest(srv)
    assert raw.call("SAVE") == "OK"
    raw.close()
    srv2 = restart(srv, "--appendonly", "no")
    servers.append(srv2)
    raw = srv2.raw()
    assert idmp_info(raw, "s") == before and digest(srv2) == d
    check_known(raw, known)


def test_replica_gets_the_state_exactly(servers):
    primary = start_primary("--stream-idmp-maxsize", "4")
    servers.append(primary)
    # the replica's own defaults differ: what it holds must come from the primary
    replica = start_replica(primary, "--stream-idmp-maxsize", "50", "--stream-idmp-duration", "7")
    servers.append(replica)
    wait_link_up(replica)
    raw = primary.raw()
    known = {}
    for i in range(6):
        known[str(i)] = raw.call("XADD", "s", "IDMP", "p", str(i), "*", "n", str(i))
    raw.call("XADD", "s", "IDMP", "p", "5", "*", "n", "dup")
    raw.call("XADD", "s", "IDMPAUTO", "q", "*", "n", "1")
    raw.call("XADD", "s", "IDMPAUTO", "q", "*", "n", "1")
    raw.call("XCFGSET", "t", "IDMP-DURATION", "5") if raw.call("XADD", "t", "*", "f", "v") else None
    raw.call("XADD", "t", "IDMP", "p", "a", "*", "f", "v")
    wait_caught_up(primary, replica)
    rraw = replica.raw()
    for key in ("s", "t"):
        assert idmp_info(rraw, key) == idmp_info(raw, key)
        assert rraw.call("DEBUG", "DIGEST-VALUE", key) == raw.call("DEBUG", "DIGEST-VALUE", key)
    assert digest(replica) == digest(primary)
    # a full sync (snapshot) gives the same
    replica2 = start_replica(primary)
    servers.append(replica2)
    wait_link_up(replica2)
    wait_caught_up(primary, replica2)
    assert digest(replica2) == digest(primary)
    # promoted, the replica answers as the primary would
    assert rraw.call("REPLICAOF", "NO", "ONE") == "OK"
    assert rraw.call("XADD", "s", "IDMP", "p", "5", "*", "n", "again") == known["5"]
    assert rraw.call("XADD", "s", "IDMP", "p", "1", "*", "n", "again") != known["1"]


# A DUMP of a stream written before idempotent production (stream encoding 1):
# x holds 1-0 (a 1) and 2-0 (b 2), group g delivered 1-0 to alice.
V1_PAYLOAD = bytes.fromhex(
    "06460102020200010000000101000200010310010161020001310404000101620132070101670100020105616c696365aab9b392"
    "ca68aab9b392ca68010100aab9b392ca68010100000200bd323d5681b58e43")


def test_stream_encoding_1_still_loads(raw):
    assert raw.call("RESTORE", "x", "0", V1_PAYLOAD) == "OK"
    assert raw.call("XRANGE", "x", "-", "+") == [[b"1-0", [b"a", b"1"]], [b"2-0", [b"b", b"2"]]]
    assert raw.call("XPENDING", "x", "g")[0] == 1
    assert idmp_info(raw, "x") == {"idmp-duration": 100, "idmp-maxsize": 100, "pids-tracked": 0,
                                   "iids-tracked": 0, "iids-added": 0, "iids-duplicates": 0}
    a = raw.call("XADD", "x", "IDMP", "p", "i", "*", "f", "v")
    assert raw.call("XADD", "x", "IDMP", "p", "i", "*", "f", "v") == a
    # and a DUMP now writes encoding 2, which loads back with the pair
    assert raw.call("RESTORE", "y", "0", raw.call("DUMP", "x")) == "OK"
    assert raw.call("XADD", "y", "IDMP", "p", "i", "*", "f", "v") == a


def test_a_replayed_pair_expires_when_the_original_would(servers):
    """The AOF carries the time a pair was recorded: replayed later, it is
    forgotten at the original deadline, not the replay's."""
    srv = RunnelProcess("--appendonly", "yes")
    servers.append(srv)
    raw = srv.raw()
    raw.call("XADD", "s", "*", "f", "v")
    raw.call("XCFGSET", "s", "IDMP-DURATION", "2")
    t0 = time.time()
    a = raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    raw.close()
    time.sleep(1.3)
    srv = restart(srv)
    servers.append(srv)
    raw = srv.raw()
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") == a  # still inside the window
    time.sleep(max(0, t0 + 2.3 - time.time()))
    assert raw.call("XADD", "s", "IDMP", "p", "i", "*", "f", "v") != a
    raw.close()
