"""Consumer groups: XGROUP XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO,
the pending entries lists, Redis 7's entries-read and lag, blocking group
reads, and notifications. Replies were checked against redis-server 7.0;
where Runnel follows 7.2 (consumer seen/active times, consumers created by
blocked reads, answers to readers whose group vanished) the test says so."""
import time

import pytest
import redis

from conftest import blocked_count, wait_blocked

WRONGTYPE = ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")
INVALID_ID = ("error", "ERR Invalid stream ID specified as stream command argument")


def ids(entries):
    return [e[0] for e in entries]


def info_groups(raw, key):
    """XINFO GROUPS as a list of dicts (RESP2 flat pairs)."""
    out = []
    for g in raw.call("XINFO", "GROUPS", key):
        out.append({g[i].decode(): g[i + 1] for i in range(0, len(g), 2)})
    return out


def group(raw, key, name):
    return next(g for g in info_groups(raw, key) if g["name"] == name.encode())


@pytest.fixture
def stream5(r, raw):
    """Stream x with 1-0 .. 5-0 and group g at 0."""
    for i in range(1, 6):
        raw.call("XADD", "x", "%d-0" % i, "n", str(i))
    assert raw.call("XGROUP", "CREATE", "x", "g", "0") == "OK"
    return raw


# ---- XGROUP ----

def test_xgroup_create(r, raw):
    raw.call("XADD", "s", "1-1", "a", "b")
    raw.call("XADD", "s", "2-1", "a", "b")
    assert raw.call("XGROUP", "CREATE", "s", "g", "$") == "OK"
    assert raw.call("XGROUP", "CREATE", "s", "g", "0") == ("error", "BUSYGROUP Consumer Group name already exists")
    assert raw.call("XGROUP", "CREATE", "s", "g2", "0") == "OK"
    assert raw.call("XGROUP", "CREATE", "s", "g3", "1-1", "ENTRIESREAD", "1") == "OK"
    assert raw.call("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "-2") == \
        ("error", "ERR value for ENTRIESREAD must be positive or -1")
    assert raw.call("XGROUP", "CREATE", "s", "g4", "-") == INVALID_ID
    assert raw.call("XGROUP", "CREATE", "s", "g4", "0", "FOO") == \
        ("error", "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.")
    assert raw.call("XGROUP", "CREATE", "s", "g4") == \
        ("error", "ERR wrong number of arguments for 'xgroup|create' command")
    assert raw.call("XGROUP", "CREATE", "nokey", "g", "$") == \
        ("error", "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
                  "the MKSTREAM option to create an empty stream automatically.")
    assert raw.call("XGROUP", "CREATE", "nokey", "g", "$", "MKSTREAM") == "OK"
    assert raw.call("XLEN", "nokey") == 0
    r.set("str", "x")
    assert raw.call("XGROUP", "CREATE", "str", "g", "$") == WRONGTYPE
    groups = info_groups(raw, "s")
    assert [g["name"] for g in groups] == [b"g", b"g2", b"g3"]
    assert groups[0]["last-delivered-id"] == b"2-1" and groups[0]["entries-read"] is None
    assert groups[0]["lag"] == 0
    assert groups[1]["last-delivered-id"] == b"0-0" and groups[1]["lag"] == 2
    assert groups[2]["entries-read"] == 1 and groups[2]["lag"] == 1


def test_xgroup_setid_destroy_and_consumers(stream5):
    raw = stream5
    assert raw.call("XGROUP", "SETID", "x", "g", "3-0", "ENTRIESREAD", "3") == "OK"
    assert group(raw, "x", "g")["last-delivered-id"] == b"3-0"
    assert group(raw, "x", "g")["entries-read"] == 3 and group(raw, "x", "g")["lag"] == 2
    assert raw.call("XGROUP", "SETID", "x", "g", "$") == "OK"
    assert group(raw, "x", "g")["last-delivered-id"] == b"5-0" and group(raw, "x", "g")["entries-read"] is None
    assert raw.call("XGROUP", "SETID", "x", "g", "-") == "OK", "SETID takes - and +"
    assert raw.call("XGROUP", "SETID", "x", "nog", "0") == \
        ("error", "NOGROUP No such consumer group 'nog' for key name 'x'")
    assert raw.call("XGROUP", "SETID", "x", "g", "0", "MKSTREAM") == \
        ("error", "ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.")
    assert raw.call("XGROUP", "CREATECONSUMER", "x", "g", "bob") == 1
    assert raw.call("XGROUP", "CREATECONSUMER", "x", "g", "bob") == 0
    assert raw.call("XGROUP", "CREATECONSUMER", "x", "nog", "bob") == \
        ("error", "NOGROUP No such consumer group 'nog' for key name 'x'")
    raw.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "x", ">")
    assert raw.call("XGROUP", "DELCONSUMER", "x", "g", "alice") == 2
    assert raw.call("XPENDING", "x", "g")[0] == 0, "a deleted consumer's entries leave the group PEL"
    assert raw.call("XGROUP", "DELCONSUMER", "x", "g", "alice") == 0
    assert raw.call("XGROUP", "DESTROY", "x", "g") == 1
    assert raw.call("XGROUP", "DESTROY", "x", "g") == 0
    assert raw.call("XGROUP", "DESTROY", "nokey", "g")[1].startswith("ERR The XGROUP subcommand requires")
    assert raw.call("XGROUP", "FOO") == ("error", "ERR unknown subcommand 'FOO'. Try XGROUP HELP.")
    help_lines = raw.call("XGROUP", "HELP")
    assert help_lines[0].startswith("XGROUP <subcommand>") and help_lines[-1] == "    Prints this help."


# ---- XREADGROUP ----

def test_xreadgroup_delivers_new_then_replays_own_history(stream5):
    raw = stream5
    assert raw.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "x", ">") == \
        [[b"x", [[b"1-0", [b"n", b"1"]], [b"2-0", [b"n", b"2"]]]]]
    assert raw.call("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "x", ">") == \
        [[b"x", [[b"3-0", [b"n", b"3"]]]]]
    assert group(raw, "x", "g")["last-delivered-id"] == b"3-0"
    assert group(raw, "x", "g")["entries-read"] == 3
    assert ids(raw.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", "0")[0][1]) == [b"1-0", b"2-0"]
    assert ids(raw.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", "1-0")[0][1]) == [b"2-0"]
    assert ids(raw.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "x", "0")[0][1]) == [b"3-0"]
    assert raw.call("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "x", "0") == [[b"x", []]]
    pending = raw.call("XPENDING", "x", "g", "-", "+", "10")
    assert [(p[0], p[1], p[3]) for p in pending] == [(b"1-0", b"alice", 2), (b"2-0", b"alice", 3), (b"3-0", b"bob", 2)]
    assert raw.call("XREADGROUP", "GROUP", "g", "dan", "STREAMS", "x", ">")[0][1][-1][0] == b"5-0"
    assert raw.call("XREADGROUP", "GROUP", "g", "dan", "STREAMS", "x", ">") is None


def test_history_reports_deleted_entries_as_nil(r, raw):
    raw.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    raw.call("XADD", "s", "1", "field1", "A")
    raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    raw.call("XADD", "s", "MAXLEN", "1", "2", "field1", "B")
    raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0-1") == \
        [[b"s", [[b"1-0", None], [b"2-0", [b"field1", b"B"]]]]]


def test_noack_leaves_no_pending_entry(stream5):
    raw = stream5
    assert ids(raw.call("XREADGROUP", "GROUP", "g", "c", "NOACK", "COUNT", "2", "STREAMS", "x", ">")[0][1]) == \
        [b"1-0", b"2-0"]
    assert raw.call("XPENDING", "x", "g") == [0, None, None, None]
    assert group(raw, "x", "g")["last-delivered-id"] == b"2-0"
    assert group(raw, "x", "g")["entries-read"] == 2


def test_setid_backwards_reassigns_pending_entries(stream5):
    raw = stream5
    raw.call("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "x", ">")
    raw.call("XGROUP", "SETID", "x", "g", "-")
    assert len(raw.call("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "x", ">")[0][1]) == 5
    summary = raw.call("XPENDING", "x", "g")
    assert summary == [5, b"1-0", b"5-0", [[b"c2", b"5"]]]
    assert {p[3] for p in raw.call("XPENDING", "x", "g", "-", "+", "10")} == {1}


def test_xreadgroup_errors(stream5):
    raw = stream5
    assert raw.call("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "x", ">") == \
        ("error", "NOGROUP No such key 'x' or consumer group 'nog' in XREADGROUP with GROUP option")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">") == \
        ("error", "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", "$")[1].startswith(
        "ERR The $ ID is meaningless in the context of XREADGROUP")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", "y", ">") == \
        ("error", "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.")
    assert raw.call("XREADGROUP", "GROUPS", "g", "c", "STREAMS", "x", ">") == ("error", "ERR syntax error")
    assert raw.call("XREADGROUP", "COUNT", "1", "NOACK", "STREAMS", "x", ">") == \
        ("error", "ERR Missing GROUP option for XREADGROUP")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", "abc-def") == INVALID_ID
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "x", ">") == \
        ("error", "ERR timeout is negative")
    raw.call("SET", "str", "x")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">") == WRONGTYPE


def test_xreadgroup_resp3_is_a_map(stream5, raw3):
    assert raw3.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "x", ">") == \
        {"x": [[b"1-0", [b"n", b"1"]]]}


def test_xreadgroup_creates_consumer_even_without_entries(r, raw):
    """Redis 7.2: XREADGROUP creates its consumer whether or not it reads."""
    raw.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    assert raw.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">") is None
    consumers = raw.call("XINFO", "CONSUMERS", "s", "g")
    assert [c[1] for c in consumers] == [b"alice"]
    assert consumers[0][consumers[0].index(b"inactive") + 1] == -1


# ---- XACK and XPENDING ----

def test_xack(stream5):
    raw = stream5
    raw.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "x", ">")
    assert raw.call("XACK", "x", "g", "1-0", "9-9") == 1
    assert raw.call("XACK", "x", "g", "1-0") == 0
    assert raw.call("XACK", "x", "g", "2-0", "x") == INVALID_ID
    assert raw.call("XPENDING", "x", "g")[0] == 2, "a bad ID acknowledges nothing"
    assert raw.call("XACK", "x", "g", "2-0", "3-0") == 2
    assert raw.call("XACK", "x", "nog", "1-0") == 0
    assert raw.call("XACK", "nokey", "g", "1-0") == 0
    assert raw.call("XPENDING", "x", "g") == [0, None, None, None]


def test_xpending_forms(stream5):
    raw = stream5
    raw.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "x", ">")
    time.sleep(0.05)
    raw.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "x", ">")
    assert raw.call("XPENDING", "x", "g") == [5, b"1-0", b"5-0", [[b"alice", b"2"], [b"bob", b"3"]]]
    full = raw.call("XPENDING", "x", "g", "-", "+", "10")
    assert [p[0] for p in full] == [b"1-0", b"2-0", b"3-0", b"4-0", b"5-0"]
    assert all(p[3] == 1 for p in full)
    assert full[0][2] >= 50 and full[4][2] < 50
    assert ids(raw.call("XPENDING", "x", "g", "(1-0", "(4-0", "10")) == [b"2-0", b"3-0"]
    assert ids(raw.call("XPENDING", "x", "g", "-", "+", "2")) == [b"1-0", b"2-0"]
    assert ids(raw.call("XPENDING", "x", "g", "-", "+", "10", "bob")) == [b"3-0", b"4-0", b"5-0"]
    assert raw.call("XPENDING", "x", "g", "-", "+", "10", "nobody") == []
    assert ids(raw.call("XPENDING", "x", "g", "IDLE", "40", "-", "+", "10")) == [b"1-0", b"2-0"]
    assert ids(raw.call("XPENDING", "x", "g", "IDLE", "40", "-", "+", "10", "bob")) == []
    assert raw.call("XPENDING", "x", "g", "-", "+") == ("error", "ERR syntax error")
    assert raw.call("XPENDING", "x", "g", "IDLE", "10", "-", "+") == ("error", "ERR syntax error")
    assert raw.call("XPENDING", "x", "g", "-", "+", "x") == ("error", "ERR value is not an integer or out of range")
    assert raw.call("XPENDING", "x", "nog") == ("error", "NOGROUP No such key 'x' or consumer group 'nog'")
    assert raw.call("XPENDING", "nokey", "g") == ("error", "NOGROUP No such key 'nokey' or consumer group 'g'")


# ---- XCLAIM ----

def test_xclaim_respects_min_idle_and_counts_deliveries(stream5):
    raw = stream5
    raw.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "x", ">")
    assert raw.call("XCLAIM", "x", "g", "bob", "100000", "1-0") == [], "not idle long enough"
    time.sleep(0.06)
    assert raw.call("XCLAIM", "x", "g", "bob", "50", "1-0") == [[b"1-0", [b"n", b"1"]]]
    p = raw.call("XPENDING", "x", "g", "-", "+", "10")
    assert (p[0][1], p[0][3]) == (b"bob", 2) and p[0][2] < 50, "owner, count + 1, idle reset"
    assert raw.call("XCLAIM", "x", "g", "carol", "0", "1-0", "JUSTID") == [b"1-0"]
    assert raw.call("XPENDING", "x", "g", "-", "+", "10")[0][3] == 2, "JUSTID does not count a delivery"
    assert raw.call("XCLAIM", "x", "g", "carol", "0", "1-0", "RETRYCOUNT", "9", "IDLE", "5000", "JUSTID") == [b"1-0"]
    p = raw.call("XPENDING", "x", "g", "-", "+", "1")[0]
    assert p[3] == 9 and 5000 <= p[2] < 6000
    ms = int(time.time() * 1000) - 7000
    raw.call("XCLAIM", "x", "g", "carol", "0", "1-0", "TIME", str(ms), "JUSTID")
    assert 7000 <= raw.call("XPENDING", "x", "g", "-", "+", "1")[0][2] < 8000
    assert raw.call("XCLAIM", "x", "g", "carol", "0", "4-0") == [], "not pending and no FORCE"
    assert raw.call("XCLAIM", "x", "g", "carol", "0", "4-0", "FORCE", "JUSTID") == [b"4-0"]
    assert raw.call("XCLAIM", "x", "g", "carol", "0", "9-0", "FORCE") == [], "FORCE needs the entry"
    assert raw.call("XPENDING", "x", "g") == [3, b"1-0", b"4-0", [[b"alice", b"1"], [b"carol", b"2"]]]
    assert raw.call("XCLAIM", "x", "g", "carol", "0", "4-0", "LASTID", "4-0", "JUSTID") == [b"4-0"]
    assert group(raw, "x", "g")["last-delivered-id"] == b"4-0"


def test_xclaim_drops_deleted_entries(r, raw):
    for i in (1, 2, 3):
        raw.call("XADD", "x", "%d-0" % i, "f", "v")
    raw.call("XGROUP", "CREATE", "x", "grp", "0")
    raw.call("XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "x", ">")
    raw.call("XDEL", "x", "2-0")
    assert raw.call("XCLAIM", "x", "grp", "Bob", "0", "1-0", "2-0", "3-0") == \
        [[b"1-0", [b"f", b"v"]], [b"3-0", [b"f", b"v"]]]
    assert raw.call("XPENDING", "x", "grp", "-", "+", "10", "Alice") == []
    assert raw.call("XPENDING", "x", "grp")[0] == 2


def test_xclaim_errors(stream5):
    raw = stream5
    raw.call("XREADGROUP", "GROUP", "g", "a", "STREAMS", "x", ">")
    assert raw.call("XCLAIM", "x", "g", "b", "x", "1-0") == \
        ("error", "ERR Invalid min-idle-time argument for XCLAIM")
    assert raw.call("XCLAIM", "x", "g", "b", "0", "1-0", "IDLE", "x") == \
        ("error", "ERR Invalid IDLE option argument for XCLAIM")
    assert raw.call("XCLAIM", "x", "g", "b", "0", "1-0", "TIME", "x") == \
        ("error", "ERR Invalid TIME option argument for XCLAIM")
    assert raw.call("XCLAIM", "x", "g", "b", "0", "1-0", "RETRYCOUNT", "x") == \
        ("error", "ERR Invalid RETRYCOUNT option argument for XCLAIM")
    assert raw.call("XCLAIM", "x", "g", "b", "0", "1-0", "LASTID", "x") == INVALID_ID
    assert raw.call("XCLAIM", "x", "g", "b", "0", "1-0", "FOO") == ("error", "ERR Unrecognized XCLAIM option 'FOO'")
    assert raw.call("XCLAIM", "x", "g", "b", "0", "x") == ("error", "ERR Unrecognized XCLAIM option 'x'")
    assert raw.call("XCLAIM", "x", "nog", "b", "0", "1-0") == \
        ("error", "NOGROUP No such key 'x' or consumer group 'nog'")
    assert raw.call("XCLAIM", "nokey", "g", "b", "0", "1-0") == \
        ("error", "NOGROUP No such key 'nokey' or consumer group 'g'")
    assert raw.call("XPENDING", "x", "g")[3] == [[b"a", b"5"]], "a failed XCLAIM claims nothing"


# ---- XAUTOCLAIM ----

def test_xautoclaim_iterates_with_a_cursor(stream5):
    raw = stream5
    raw.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", ">")
    cursor, claimed, deleted = raw.call("XAUTOCLAIM", "x", "g", "bob", "0", "-", "COUNT", "2")
    assert (cursor, ids(claimed), deleted) == (b"3-0", [b"1-0", b"2-0"], [])
    assert claimed[0] == [b"1-0", [b"n", b"1"]]
    cursor, claimed, deleted = raw.call("XAUTOCLAIM", "x", "g", "bob", "0", cursor, "COUNT", "2", "JUSTID")
    assert (cursor, claimed, deleted) == (b"5-0", [b"3-0", b"4-0"], [])
    assert raw.call("XAUTOCLAIM", "x", "g", "bob", "0", cursor) == [b"0-0", [[b"5-0", [b"n", b"5"]]], []]
    counts = {p[0]: p[3] for p in raw.call("XPENDING", "x", "g", "-", "+", "10")}
    assert counts == {b"1-0": 2, b"2-0": 2, b"3-0": 1, b"4-0": 1, b"5-0": 2}, "JUSTID does not count"
    assert raw.call("XPENDING", "x", "g")[3] == [[b"bob", b"5"]]
    assert raw.call("XAUTOCLAIM", "x", "g", "carol", "100000", "-") == [b"0-0", [], []], "nothing idle enough"
    assert raw.call("XAUTOCLAIM", "x", "g", "carol", "0", "(4-0", "JUSTID") == [b"0-0", [b"5-0"], []]


def test_xautoclaim_reports_and_removes_deleted_entries(r, raw):
    for i in (1, 2, 3):
        raw.call("XADD", "x", "%d-0" % i, "f", "v")
    raw.call("XGROUP", "CREATE", "x", "grp", "0")
    raw.call("XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "x", ">")
    raw.call("XDEL", "x", "1-0", "2-0")
    assert raw.call("XAUTOCLAIM", "x", "grp", "Bob", "0", "0-0", "COUNT", "1") == [b"2-0", [], [b"1-0"]]
    assert raw.call("XAUTOCLAIM", "x", "grp", "Bob", "0", "2-0", "COUNT", "1") == [b"3-0", [], [b"2-0"]]
    assert raw.call("XAUTOCLAIM", "x", "grp", "Bob", "0", "3-0", "COUNT", "1") == [b"0-0", [[b"3-0", [b"f", b"v"]]], []]
    assert raw.call("XPENDING", "x", "grp", "-", "+", "10", "Alice") == []
    assert raw.call("XPENDING", "x", "grp") == [1, b"3-0", b"3-0", [[b"Bob", b"1"]]]


def test_xautoclaim_after_trim(r, raw):
    for i in (1, 2, 3):
        raw.call("XADD", "x", "%d-0" % i, "f", "v")
    raw.call("XGROUP", "CREATE", "x", "grp", "0")
    raw.call("XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "x", ">")
    raw.call("XTRIM", "x", "MAXLEN", "1")
    assert raw.call("XAUTOCLAIM", "x", "grp", "Bob", "0", "0-0") == [b"0-0", [[b"3-0", [b"f", b"v"]]], [b"1-0", b"2-0"]]


def test_xautoclaim_errors(stream5):
    raw = stream5
    assert raw.call("XAUTOCLAIM", "x", "g", "c", "0", "-", "COUNT", "0") == ("error", "ERR COUNT must be > 0")
    assert raw.call("XAUTOCLAIM", "x", "g", "c", "0", "-", "COUNT", "8070450532247928833") == \
        ("error", "ERR COUNT must be > 0")
    assert raw.call("XAUTOCLAIM", "x", "g", "c", "x", "-") == \
        ("error", "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    assert raw.call("XAUTOCLAIM", "x", "g", "c", "0", "x") == INVALID_ID
    assert raw.call("XAUTOCLAIM", "x", "g", "c", "0", "-", "FOO") == ("error", "ERR syntax error")
    assert raw.call("XAUTOCLAIM", "x", "g", "c", "0", "(18446744073709551615-18446744073709551615") == \
        ("error", "ERR invalid start ID for the interval")
    assert raw.call("XAUTOCLAIM", "x", "nog", "c", "0", "-") == \
        ("error", "NOGROUP No such key 'x' or consumer group 'nog'")


# ---- entries-read and lag (Redis 7) ----

def read_lag(raw, key="x", name="g1"):
    g = group(raw, key, name)
    return g["entries-read"], g["lag"]


def test_lag_sanity(r, raw):
    for i in range(1, 6):
        raw.call("XADD", "x", "%d-0" % i, "data", "v")
    raw.call("XGROUP", "CREATE", "x", "g1", "0")
    assert read_lag(raw) == (None, 5)
    raw.call("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "x", ">")
    assert read_lag(raw) == (1, 4)
    raw.call("XREADGROUP", "GROUP", "g1", "c", "COUNT", "10", "STREAMS", "x", ">")
    assert read_lag(raw) == (5, 0)
    raw.call("XADD", "x", "6-0", "data", "f")
    assert read_lag(raw) == (5, 1)


def test_lag_with_deletions_becomes_unknown(r, raw):
    for i in range(1, 6):
        raw.call("XADD", "x", "%d-0" % i, "data", "v")
    raw.call("XDEL", "x", "3-0")
    raw.call("XGROUP", "CREATE", "x", "g1", "0")
    raw.call("XGROUP", "CREATE", "x", "g2", "0")
    assert read_lag(raw) == (None, None)
    for _ in range(3):
        raw.call("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "x", ">")
        assert read_lag(raw) == (None, None), "a tombstone lies ahead"
    raw.call("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "x", ">")
    assert read_lag(raw) == (5, 0), "at the last entry the counter is known again"
    raw.call("XADD", "x", "6-0", "data", "f")
    assert read_lag(raw) == (5, 1)
    raw.call("XTRIM", "x", "MINID", "=", "3-0")
    assert read_lag(raw) == (5, 1)
    assert read_lag(raw, name="g2") == (None, 3)
    raw.call("XTRIM", "x", "MINID", "=", "5-0")
    assert read_lag(raw, name="g2") == (None, 2)


def test_lag_in_empty_streams(r, raw):
    raw.call("XGROUP", "CREATE", "x", "g1", "0", "MKSTREAM")
    assert read_lag(raw) == (None, 0)
    raw.call("XADD", "x", "1-0", "data", "a")
    raw.call("XDEL", "x", "1-0")
    assert read_lag(raw) == (None, 0)


def test_lag_after_trim_follows_redis7(r, raw):
    """Redis 7 keeps counting from the group's counter after XTRIM (trimming
    leaves no tombstone), so the lag counts trimmed entries as unread; Redis
    8 changed this, Runnel keeps 7's numbers."""
    raw.call("XGROUP", "CREATE", "x", "g1", "$", "MKSTREAM")
    for i in range(1, 6):
        raw.call("XADD", "x", "%d-0" % i, "data", "v")
    raw.call("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "x", ">")
    assert raw.call("XTRIM", "x", "MAXLEN", "1") == 4
    assert read_lag(raw) == (1, 4)
    raw.call("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "x", ">")
    assert read_lag(raw) == (2, 3)
    raw.call("XADD", "x", "6-0", "data", "f")
    assert read_lag(raw) == (2, 4)
    raw.call("XTRIM", "x", "MAXLEN", "0")
    assert read_lag(raw) == (2, 4), "Redis 7 keeps the counter even for an emptied stream"


def test_lag_when_a_tombstone_falls_behind_the_first_entry(r, raw):
    raw.call("XGROUP", "CREATE", "x", "g1", "$", "MKSTREAM")
    raw.call("XADD", "x", "1-0", "data", "a")
    raw.call("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "x", ">")
    raw.call("XADD", "x", "2-0", "data", "c")
    raw.call("XADD", "x", "3-0", "data", "d")
    raw.call("XDEL", "x", "2-0")
    assert read_lag(raw) == (1, None)
    raw.call("XDEL", "x", "1-0")
    assert read_lag(raw) == (1, 2)
    raw.call("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "x", ">")
    assert read_lag(raw) == (2, 1)


# ---- XINFO ----

def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def test_xinfo_stream_full(r, raw):
    for i, f in zip(range(100, 105), "abcef"):
        raw.call("XADD", "x", str(i), f, "1")
    raw.call("XGROUP", "CREATE", "x", "g1", "0")
    raw.call("XGROUP", "CREATE", "x", "g2", "0")
    raw.call("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "1", "STREAMS", "x", ">")
    raw.call("XREADGROUP", "GROUP", "g1", "Bob", "COUNT", "1", "STREAMS", "x", ">")
    raw.call("XREADGROUP", "GROUP", "g1", "Bob", "NOACK", "COUNT", "1", "STREAMS", "x", ">")
    raw.call("XREADGROUP", "GROUP", "g2", "Charlie", "COUNT", "4", "STREAMS", "x", ">")
    raw.call("XDEL", "x", "103")
    full = raw.call("XINFO", "STREAM", "x", "FULL")
    assert len(full) == 30  # 9 fields of Redis 7.2 and the 6 IDMP fields of Redis 8.6
    info = pairs(full)
    assert info["length"] == 4 and info["entries-added"] == 5 and info["max-deleted-entry-id"] == b"103-0"
    assert ids(info["entries"]) == [b"100-0", b"101-0", b"102-0", b"104-0"]
    g1, g2 = [pairs(g) for g in info["groups"]]
    assert g1["name"] == b"g1" and g1["last-delivered-id"] == b"102-0" and g1["pel-count"] == 2
    assert [(p[0], p[1], p[3]) for p in g1["pending"]] == [(b"100-0", b"Alice", 1), (b"101-0", b"Bob", 1)]
    alice = pairs(g1["consumers"][0])
    assert list(alice) == ["name", "seen-time", "active-time", "pel-count", "pending"]
    assert alice["name"] == b"Alice" and alice["pel-count"] == 1 and alice["pending"][0][0] == b"100-0"
    assert abs(alice["active-time"] - time.time() * 1000) < 5000
    charlie = pairs(g2["consumers"][0])
    assert [p[0] for p in charlie["pending"]] == [b"100-0", b"101-0", b"102-0", b"103-0"]
    short = pairs(raw.call("XINFO", "STREAM", "x", "FULL", "COUNT", "1"))
    assert ids(short["entries"]) == [b"100-0"]
    assert len(pairs(short["groups"][1])["pending"]) == 1
    brief = pairs(raw.call("XINFO", "STREAM", "x"))
    assert list(brief) == ["length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
                           "max-deleted-entry-id", "entries-added", "recorded-first-entry-id", "idmp-duration",
                           "idmp-maxsize", "pids-tracked", "iids-tracked", "iids-added", "iids-duplicates", "groups",
                           "first-entry", "last-entry"]
    assert brief["groups"] == 2 and brief["first-entry"] == [b"100-0", [b"a", b"1"]]
    assert brief["last-entry"] == [b"104-0", [b"f", b"1"]]


def test_xinfo_resp3_maps(r, raw3):
    raw3.call("XADD", "x", "1-1", "f", "v")
    raw3.call("XGROUP", "CREATE", "x", "g", "0")
    info = raw3.call("XINFO", "STREAM", "x")
    assert info["length"] == 1 and info["last-entry"] == [b"1-1", [b"f", b"v"]]
    assert raw3.call("XINFO", "GROUPS", "x") == [
        {"name": b"g", "consumers": 0, "pending": 0, "last-delivered-id": b"0-0", "entries-read": None, "lag": 1}]


def test_xinfo_consumers_idle_and_inactive(r, raw):
    """Redis 7.2: idle counts from the last attempt, inactive from the last
    successful read (-1 before any)."""
    raw.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    raw.call("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    time.sleep(0.1)
    alice = pairs(raw.call("XINFO", "CONSUMERS", "s", "g")[0])
    assert alice["idle"] >= 100 and alice["inactive"] == -1 and alice["pending"] == 0
    raw.call("XADD", "s", "*", "f", "v")
    raw.call("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    alice = pairs(raw.call("XINFO", "CONSUMERS", "s", "g")[0])
    assert alice["idle"] < 80 and alice["inactive"] < 80 and alice["pending"] == 1
    time.sleep(0.1)
    raw.call("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    alice = pairs(raw.call("XINFO", "CONSUMERS", "s", "g")[0])
    assert alice["idle"] < 80 and alice["inactive"] >= 100


def test_xinfo_errors(r, raw):
    raw.call("XADD", "s", "1-1", "f", "v")
    r.set("str", "x")
    assert raw.call("XINFO", "STREAM", "nokey") == ("error", "ERR no such key")
    assert raw.call("XINFO", "GROUPS", "nokey") == ("error", "ERR no such key")
    assert raw.call("XINFO", "STREAM", "str") == WRONGTYPE
    assert raw.call("XINFO", "CONSUMERS", "s", "nog") == \
        ("error", "NOGROUP No such consumer group 'nog' for key name 's'")
    assert raw.call("XINFO", "STREAM", "s", "FOO") == \
        ("error", "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    assert raw.call("XINFO", "STREAM", "s", "FULL", "COUNT", "x") == \
        ("error", "ERR value is not an integer or out of range")
    assert raw.call("XINFO", "HELP")[-1] == "    Prints this help."


# ---- blocking group reads ----

def test_blocked_xreadgroup_woken_by_xadd(server, r):
    r.xgroup_create("s", "g", "$", mkstream=True)
    waiter = server.raw()
    waiter.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    assert [c["name"] for c in r.xinfo_consumers("s", "g")] == [b"c"], "created before blocking (7.2)"
    r.xadd("s", {"f": "v"}, id="5-0")
    assert waiter.read_reply() == [[b"s", [[b"5-0", [b"f", b"v"]]]]]
    assert r.xpending("s", "g")["pending"] == 1
    waiter.close()


def test_blocked_xreadgroup_waiters_share_new_entries(server, r):
    r.xgroup_create("s", "g", "$", mkstream=True)
    a, b = server.raw(), server.raw()
    a.command("XREADGROUP", "GROUP", "g", "a", "BLOCK", "5000", "COUNT", "1", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    b.command("XREADGROUP", "GROUP", "g", "b", "BLOCK", "5000", "COUNT", "1", "STREAMS", "s", ">")
    wait_blocked(r, 2)
    p = r.pipeline(transaction=True)
    p.xadd("s", {"n": 1}, id="1-0")
    p.xadd("s", {"n": 2}, id="2-0")
    p.execute()
    assert a.read_reply() == [[b"s", [[b"1-0", [b"n", b"1"]]]]]
    assert b.read_reply() == [[b"s", [[b"2-0", [b"n", b"2"]]]]]
    a.close()
    b.close()


def test_blocked_xreadgroup_noack(server, r):
    r.xgroup_create("s", "g", "$", mkstream=True)
    waiter = server.raw()
    waiter.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "NOACK", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    r.xadd("s", {"f": "v"}, id="5-0")
    assert waiter.read_reply() == [[b"s", [[b"5-0", [b"f", b"v"]]]]]
    assert r.xpending("s", "g")["pending"] == 0
    waiter.close()


def test_blocked_xreadgroup_times_out(r, raw):
    r.xgroup_create("s", "g", "$", mkstream=True)
    start = time.time()
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "120", "STREAMS", "s", ">") is None
    assert 0.11 <= time.time() - start < 2


def test_xreadgroup_history_ignores_block(r, raw):
    r.xgroup_create("s", "g", "$", mkstream=True)
    raw.call("XADD", "s", "666", "key", "value")
    raw.call("XDEL", "s", "666")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0") == [[b"s", []]]


def test_blocked_xreadgroup_not_woken_by_deleted_entry(server, r, raw):
    """An entry added and deleted in one transaction gives nothing to read:
    the reader keeps waiting rather than getting an empty reply."""
    r.xgroup_create("s", "g", "$", mkstream=True)
    waiter = server.raw()
    waiter.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.xadd("s", {"f": "v"}, id="1-0")
    p.xdel("s", "1-0")
    p.execute()
    time.sleep(0.1)
    assert blocked_count(r) == 1
    r.xadd("s", {"f": "w"}, id="2-0")
    assert waiter.read_reply() == [[b"s", [[b"2-0", [b"f", b"w"]]]]]
    waiter.close()


def test_group_destroyed_under_blocked_reader(server, r):
    """Redis 7.2 answers as the command would if run again (7.0 said "the
    consumer group this client was blocked on no longer exists")."""
    r.xgroup_create("s", "g", "$", mkstream=True)
    waiter = server.raw()
    waiter.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    assert r.xgroup_destroy("s", "g") == 1
    assert waiter.read_reply() == \
        ("error", "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option")
    assert blocked_count(r) == 0
    waiter.close()


def test_stream_deleted_under_blocked_reader(server, r):
    """Redis 7.2 answers as the command would now: NOGROUP after DEL,
    WRONGTYPE when another type took the key (7.0 said "UNBLOCKED the
    stream key no longer exists")."""
    r.xgroup_create("s", "g", "$", mkstream=True)
    waiter = server.raw()
    waiter.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "3000", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    r.delete("s")
    assert waiter.read_reply() == \
        ("error", "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option")
    r.xgroup_create("s", "g", "$", mkstream=True)
    waiter.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "3000", "STREAMS", "s", ">")
    wait_blocked(r, 1)
    r.set("s", "x")
    assert waiter.read_reply() == WRONGTYPE
    waiter.close()


def test_xreadgroup_block_inside_multi(r, raw):
    r.xgroup_create("s", "g", "$", mkstream=True)
    assert raw.call("MULTI") == "OK"
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">") == "QUEUED"
    assert raw.call("EXEC") == [None]


# ---- notifications ----

def collect_events(r, actions):
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
            events.append(m["channel"].decode().split(":", 1)[1])
        return events
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_group_keyspace_events(r):
    events = collect_events(r, [
        ("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"), ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c"), ("XGROUP", "SETID", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"), ("XGROUP", "DELCONSUMER", "s", "g", "c"),
        ("XGROUP", "DELCONSUMER", "s", "g", "nobody"), ("XGROUP", "DESTROY", "s", "g"),
        ("XGROUP", "DESTROY", "s", "g"),
    ])
    assert events == ["xgroup-create", "xgroup-createconsumer", "xgroup-setid", "xgroup-createconsumer",
                      "xgroup-delconsumer", "xgroup-destroy"]


def test_redis_py_group_api(r):
    r.xadd("jobs", {"task": "a"})
    r.xgroup_create("jobs", "workers", id="0")
    got = r.xreadgroup("workers", "w1", {"jobs": ">"}, count=10)
    (key, entries), = got
    assert key == b"jobs" and entries[0][1] == {b"task": b"a"}
    assert r.xack("jobs", "workers", entries[0][0]) == 1
    assert r.xpending("jobs", "workers")["pending"] == 0
    assert r.xinfo_groups("jobs")[0]["lag"] == 0


def test_entries_read_at_its_largest_stays_there(r, raw):
    """ENTRIESREAD takes up to 9223372036854775807; a read past it keeps
    that count (no overflow into a negative one a replica would refuse)."""
    r.xadd("s", {"f": "v"}, id="1-1")
    top = 2 ** 63 - 1
    assert raw.call("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", top) == "OK"
    r.xreadgroup("g", "c", {"s": ">"})
    g = group(raw, "s", "g")
    assert g["entries-read"] == top
    assert g["lag"] == 1 - top
