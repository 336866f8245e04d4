"""Redis 8 stream features: the reference policies KEEPREF / DELREF / ACKED
(XDELEX, XACKDEL, and on XADD and XTRIM), XNACK, and XREADGROUP ... CLAIM.
Syntax, replies (RESP2 and RESP3) and error strings follow the redis.io
command pages; each feature also survives an AOF replay, a rewrite and a
snapshot with the same DEBUG DIGEST."""
import time

import pytest

from conftest import RunnelProcess
from test_aof import restart

WRONGTYPE = ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")
INVALID_ID = ("error", "ERR Invalid stream ID specified as stream command argument")
SYNTAX = ("error", "ERR syntax error")
NUMIDS_POSITIVE = ("error", "ERR Number of IDs must be a positive integer")
NUMIDS_MISMATCH = ("error", "ERR The `numids` parameter must match the number of arguments")


def ids(entries):
    return [e[0] for e in entries]


def pending(raw, key, group):
    """XPENDING's extended form as (id, consumer, count) tuples."""
    return [(p[0], p[1], p[3]) for p in raw.call("XPENDING", key, group, "-", "+", "100")]


@pytest.fixture
def s5(r, raw):
    """Stream x with 1-0 .. 5-0."""
    for i in range(1, 6):
        raw.call("XADD", "x", "%d-0" % i, "n", str(i))
    return raw


@pytest.fixture
def two_groups(s5):
    """x with groups g1 (delivered 1-0..3-0 to alice) and g2 (delivered 1-0 to bob)."""
    raw = s5
    raw.call("XGROUP", "CREATE", "x", "g1", "0")
    raw.call("XGROUP", "CREATE", "x", "g2", "0")
    raw.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "x", ">")
    raw.call("XREADGROUP", "GROUP", "g2", "bob", "COUNT", "1", "STREAMS", "x", ">")
    return raw


# ---- XDELEX ----


def test_xdelex_keepref_is_xdel(two_groups):
    raw = two_groups
    assert raw.call("XDELEX", "x", "IDS", "2", "1-0", "9-0") == [1, -1]
    assert raw.call("XDELEX", "x", "KEEPREF", "IDS", "1", "2-0") == [1]
    assert ids(raw.call("XRANGE", "x", "-", "+")) == [b"3-0", b"4-0", b"5-0"]
    # the PELs still hold the deleted entries
    assert [p[0] for p in pending(raw, "x", "g1")] == [b"1-0", b"2-0", b"3-0"]
    assert [p[0] for p in pending(raw, "x", "g2")] == [b"1-0"]


def test_xdelex_delref_drops_every_reference(two_groups):
    raw = two_groups
    assert raw.call("XDELEX", "x", "DELREF", "IDS", "2", "1-0", "2-0") == [1, 1]
    assert [p[0] for p in pending(raw, "x", "g1")] == [b"3-0"]
    assert pending(raw, "x", "g2") == []
    # a reference left behind by XDEL goes too, though the entry is gone (-1)
    raw.call("XDEL", "x", "3-0")
    assert raw.call("XDELEX", "x", "DELREF", "IDS", "1", "3-0") == [-1]
    assert pending(raw, "x", "g1") == []


def test_xdelex_acked_keeps_what_a_group_needs(two_groups):
    raw = two_groups
    # 1-0 pending in both; 2-0 pending in g1 and not yet read by g2; 5-0 unread by both
    assert raw.call("XDELEX", "x", "ACKED", "IDS", "3", "1-0", "2-0", "5-0") == [2, 2, 2]
    raw.call("XACK", "x", "g1", "1-0")
    assert raw.call("XDELEX", "x", "ACKED", "IDS", "1", "1-0") == [2]
    raw.call("XACK", "x", "g2", "1-0")
    assert raw.call("XDELEX", "x", "ACKED", "IDS", "2", "1-0", "1-0") == [1, -1]
    assert raw.call("XLEN", "x") == 4


def test_xdelex_acked_without_groups_deletes(s5):
    assert s5.call("XDELEX", "x", "ACKED", "IDS", "1", "3-0") == [1]
    assert s5.call("XLEN", "x") == 4


def test_xdelex_ids_block_anywhere_and_policy_case(s5):
    assert s5.call("XDELEX", "x", "IDS", "1", "1-0", "delref") == [1]
    assert s5.call("XDELEX", "x", "acked", "ids", "1", "2-0") == [1]


def test_xdelex_missing_key_and_wrong_type(r, raw):
    assert raw.call("XDELEX", "nokey", "IDS", "2", "1-0", "2-0") == [-1, -1]
    raw.call("SET", "str", "v")
    assert raw.call("XDELEX", "str", "IDS", "1", "1-0") == WRONGTYPE


@pytest.mark.parametrize("args, error", [
    (["IDS", "0", "1-0"], NUMIDS_POSITIVE),
    (["IDS", "-1", "1-0"], NUMIDS_POSITIVE),
    (["IDS", "x", "1-0"], NUMIDS_POSITIVE),
    (["IDS", "3", "1-0", "2-0"], NUMIDS_MISMATCH),
    (["IDS", "1", "1-0", "2-0"], SYNTAX),
    (["FOO", "IDS", "1", "1-0"], SYNTAX),
    (["KEEPREF", "1-0", "2-0"], SYNTAX),
    (["IDS", "1", "bogus"], INVALID_ID),
    (["IDS", "2", "1-0", "+"], INVALID_ID),
])
def test_xdelex_errors(s5, args, error):
    assert s5.call("XDELEX", "x", *args) == error
    assert s5.call("XLEN", "x") == 5


def test_xdelex_arity(raw):
    assert raw.call("XDELEX", "x", "IDS", "1")[1].startswith("ERR wrong number of arguments")


def test_xdelex_resp3_and_event(server, r, raw3):
    raw3.call("XADD", "x", "1-0", "a", "1")
    sub = server.raw()
    raw3.call("CONFIG", "SET", "notify-keyspace-events", "Et")
    try:
        sub.call("SUBSCRIBE", "__keyevent@0__:xdel")
        assert raw3.call("XDELEX", "x", "IDS", "2", "1-0", "1-0") == [1, -1]
        assert sub.read_reply() == [b"message", b"__keyevent@0__:xdel", b"x"]
    finally:
        raw3.call("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()


# ---- XACKDEL ----


def test_xackdel_keepref(two_groups):
    raw = two_groups
    assert raw.call("XACKDEL", "x", "g1", "IDS", "3", "1-0", "2-0", "4-0") == [1, 1, -1]
    assert [p[0] for p in pending(raw, "x", "g1")] == [b"3-0"]
    assert [p[0] for p in pending(raw, "x", "g2")] == [b"1-0"]  # g2 keeps its reference
    assert ids(raw.call("XRANGE", "x", "-", "+")) == [b"3-0", b"4-0", b"5-0"]


def test_xackdel_delref(two_groups):
    raw = two_groups
    assert raw.call("XACKDEL", "x", "g1", "DELREF", "IDS", "1", "1-0") == [1]
    assert pending(raw, "x", "g2") == []


def test_xackdel_acked(two_groups):
    raw = two_groups
    # g2 still holds 1-0 and has not read 2-0: acknowledged in g1, kept
    assert raw.call("XACKDEL", "x", "g1", "ACKED", "IDS", "2", "1-0", "2-0") == [2, 2]
    assert [p[0] for p in pending(raw, "x", "g1")] == [b"3-0"]
    assert raw.call("XLEN", "x") == 5
    # now the last group lets go of 1-0
    assert raw.call("XACKDEL", "x", "g2", "ACKED", "IDS", "1", "1-0") == [1]
    assert raw.call("XLEN", "x") == 4
    # not pending in the group: -1, nothing deleted
    assert raw.call("XACKDEL", "x", "g2", "ACKED", "IDS", "1", "3-0") == [-1]


def test_xackdel_entry_already_gone(two_groups):
    raw = two_groups
    raw.call("XDEL", "x", "1-0")
    assert raw.call("XACKDEL", "x", "g1", "IDS", "1", "1-0") == [-1]
    assert [p[0] for p in pending(raw, "x", "g1")] == [b"2-0", b"3-0"]  # acknowledged all the same


def test_xackdel_missing_key_group_and_errors(two_groups):
    raw = two_groups
    assert raw.call("XACKDEL", "nokey", "g", "IDS", "2", "1-0", "2-0") == [-1, -1]
    assert raw.call("XACKDEL", "x", "nogroup", "IDS", "1", "1-0") == [-1]
    raw.call("SET", "str", "v")
    assert raw.call("XACKDEL", "str", "g", "IDS", "1", "1-0") == WRONGTYPE
    assert raw.call("XACKDEL", "x", "g1", "IDS", "0", "1-0") == NUMIDS_POSITIVE
    assert raw.call("XACKDEL", "x", "g1", "IDS", "2", "1-0") == NUMIDS_MISMATCH
    assert raw.call("XACKDEL", "x", "g1", "NOPE", "IDS", "1", "1-0") == SYNTAX
    assert raw.call("XACKDEL", "x", "g1", "IDS", "1", "x-y") == INVALID_ID
    assert raw.call("XACKDEL", "x", "g1", "IDS", "1")[1].startswith("ERR wrong number of arguments")
    assert len(pending(raw, "x", "g1")) == 3


# ---- reference policies on XTRIM and XADD ----


def test_xtrim_default_is_keepref(two_groups):
    raw = two_groups
    assert raw.call("XTRIM", "x", "MAXLEN", "2") == 3
    assert len(pending(raw, "x", "g1")) == 3


def test_xtrim_delref(two_groups):
    raw = two_groups
    assert raw.call("XTRIM", "x", "MAXLEN", "3", "DELREF") == 2
    assert [p[0] for p in pending(raw, "x", "g1")] == [b"3-0"]
    assert pending(raw, "x", "g2") == []


def test_xtrim_acked_steps_over_referenced_entries(two_groups):
    raw = two_groups
    raw.call("XACK", "x", "g1", "1-0", "3-0")
    raw.call("XACK", "x", "g2", "1-0")
    raw.call("XGROUP", "SETID", "x", "g2", "$")
    assert raw.call("XTRIM", "x", "MAXLEN", "0", "ACKED") == 2  # g1 has not read 4-0, 5-0 yet
    raw.call("XGROUP", "SETID", "x", "g1", "$")
    # only 2-0 is still needed (pending in g1)
    assert raw.call("XTRIM", "x", "MAXLEN", "0", "ACKED") == 2
    assert ids(raw.call("XRANGE", "x", "-", "+")) == [b"2-0"]


def test_xtrim_acked_stops_at_threshold(two_groups):
    raw = two_groups
    raw.call("XGROUP", "DESTROY", "x", "g2")
    raw.call("XACK", "x", "g1", "1-0", "2-0", "3-0")
    raw.call("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">")  # 4-0, 5-0 pending now
    raw.call("XACK", "x", "g1", "5-0")
    assert raw.call("XTRIM", "x", "MAXLEN", "2", "ACKED") == 3
    assert ids(raw.call("XRANGE", "x", "-", "+")) == [b"4-0", b"5-0"]
    assert raw.call("XTRIM", "x", "MINID", "9", "ACKED") == 1
    assert ids(raw.call("XRANGE", "x", "-", "+")) == [b"4-0"]


def test_xtrim_acked_hole_moves_max_deleted_id(two_groups):
    raw = two_groups
    raw.call("XGROUP", "DESTROY", "x", "g2")
    raw.call("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">")
    raw.call("XACK", "x", "g1", "2-0", "3-0", "4-0", "5-0")
    assert raw.call("XTRIM", "x", "MAXLEN", "0", "ACKED") == 4
    info = raw.call("XINFO", "STREAM", "x")
    fields = {info[i]: info[i + 1] for i in range(0, len(info), 2)}
    assert fields[b"max-deleted-entry-id"] == b"5-0"
    assert fields[b"recorded-first-entry-id"] == b"1-0"


def test_xadd_with_policy(two_groups):
    raw = two_groups
    assert raw.call("XADD", "x", "MAXLEN", "2", "DELREF", "6-0", "n", "6") == b"6-0"
    assert pending(raw, "x", "g1") == []
    assert raw.call("XADD", "x", "ACKED", "MAXLEN", "0", "7-0", "n", "7") == b"7-0"
    assert raw.call("XLEN", "x") == 3  # nothing was read by either group since


def test_approx_trim_acked_removes_whole_unreferenced_blocks(fresh_server):
    srv = fresh_server("--stream-node-max-entries", "2")
    raw = srv.raw()
    for i in range(1, 9):
        raw.call("XADD", "x", "%d-0" % i, "n", str(i))
    raw.call("XGROUP", "CREATE", "x", "g", "0")
    raw.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">")
    raw.call("XACK", "x", "g", "1-0", "2-0", "3-0", "4-0", "6-0", "7-0", "8-0")
    # blocks [1,2] [3,4] go; [5,6] holds 5-0, still pending: the trim stops there
    assert raw.call("XTRIM", "x", "MAXLEN", "~", "0", "ACKED") == 4
    assert ids(raw.call("XRANGE", "x", "-", "+"))[0] == b"5-0"
    raw.close()


def test_policy_errors(s5):
    assert s5.call("XTRIM", "x", "ACKED", "KEEPREF") == ("error", "ERR syntax error, XTRIM must be called with a trimming "
                                                     "strategy")
    assert s5.call("XTRIM", "x", "MAXLEN", "1", "FOO") == SYNTAX


# ---- persistence ----


def digest(srv):
    return srv.client().execute_command("DEBUG", "DIGEST")


def dump(raw, key, groups):
    """What must survive a reload (not the block layout, which a rewrite
    may change)."""
    info = raw.call("XINFO", "STREAM", key)
    info = {info[i]: info[i + 1] for i in range(0, len(info), 2) if not info[i].startswith(b"radix-tree")}
    out = {"entries": raw.call("XRANGE", key, "-", "+"), "info": info}
    for g in groups:
        out[g] = [(p[0], p[1], p[3]) for p in raw.call("XPENDING", key, g, "-", "+", "1000")]
    return out


def check_reloads(srv, servers, key, groups, *args):
    """The same data after an AOF replay, after a rewrite, and after a
    snapshot: XRANGE, XINFO STREAM, the PELs and DEBUG DIGEST."""
    raw = srv.raw()
    before, d = dump(raw, key, groups), digest(srv)
    raw.close()
    srv = restart(srv, *args)
    servers.append(srv)
    raw = srv.raw()
    assert dump(raw, key, groups) == before and digest(srv) == d
    assert raw.call("BGREWRITEAOF").startswith("Background")
    wait_for(lambda: srv.client().info("persistence")["aof_rewrite_in_progress"] == 0 and
             srv.client().info("persistence")["aof_rewrites"] >= 1)
    raw.close()
    srv = restart(srv, *args)
    servers.append(srv)
    raw = srv.raw()
    assert dump(raw, key, groups) == before and digest(srv) == d
    assert raw.call("DEBUG", "RELOAD") == "OK"
    assert dump(raw, key, groups) == before and digest(srv) == d
    raw.close()
    return srv


def wait_for(cond, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline
        time.sleep(0.05)


@pytest.fixture
def aof_servers():
    servers = []
    yield servers
    for s in servers:
        s.stop()


def test_reference_policies_replay(aof_servers):
    srv = RunnelProcess("--appendonly", "yes", "--stream-node-max-entries", "3")
    aof_servers.append(srv)
    raw = srv.raw()
    for i in range(1, 31):
        raw.call("XADD", "x", "*", "n", str(i))
    raw.call("XGROUP", "CREATE", "x", "g1", "0")
    raw.call("XGROUP", "CREATE", "x", "g2", "0")
    raw.call("XREADGROUP", "GROUP", "g1", "a", "COUNT", "20", "STREAMS", "x", ">")
    raw.call("XREADGROUP", "GROUP", "g2", "b", "COUNT", "10", "STREAMS", "x", ">")
    first = ids(raw.call("XRANGE", "x", "-", "+"))
    raw.call("XACKDEL", "x", "g1", "ACKED", "IDS", "3", first[0], first[1], first[12])
    raw.call("XACK", "x", "g2", *first[:8])
    raw.call("XACK", "x", "g1", *first[2:6])
    raw.call("XDELEX", "x", "DELREF", "IDS", "2", first[6], first[25])
    raw.call("XTRIM", "x", "MAXLEN", "~", "5", "ACKED")
    raw.call("XADD", "x", "MAXLEN", "~", "20", "DELREF", "*", "n", "new")
    raw.call("XTRIM", "x", "MINID", first[15], "ACKED")
    raw.close()
    check_reloads(srv, aof_servers, "x", ["g1", "g2"], "--stream-node-max-entries", "3")


# ---- XNACK ----


@pytest.fixture
def delivered(s5):
    """x with group g; alice was given 1-0..4-0 (one delivery each)."""
    raw = s5
    raw.call("XGROUP", "CREATE", "x", "g", "0")
    raw.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "x", ">")
    return raw


def pel(raw, key="x", group="g"):
    """XPENDING's extended form as (id, consumer, idle or -1, count)."""
    return [(p[0], p[1], -1 if p[2] == -1 else "idle", p[3]) for p in raw.call("XPENDING", key, group, "-", "+", "100")]


def test_xnack_modes(delivered):
    raw = delivered
    raw.call("XCLAIM", "x", "g", "alice", "0", "1-0", "2-0", "3-0")  # counts 2
    assert raw.call("XNACK", "x", "g", "SILENT", "IDS", "1", "1-0") == 1
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "2-0") == 1
    assert raw.call("XNACK", "x", "g", "FATAL", "IDS", "1", "3-0") == 1
    assert pel(raw) == [(b"1-0", b"", -1, 1), (b"2-0", b"", -1, 2), (b"3-0", b"", -1, 9223372036854775807),
                        (b"4-0", b"alice", "idle", 1)]
    assert raw.call("XPENDING", "x", "g") == [4, b"1-0", b"4-0", [[b"alice", b"1"]]]
    consumers = raw.call("XINFO", "CONSUMERS", "x", "g")
    assert consumers[0][3] == 1  # alice's own PEL holds 4-0 only


def test_xnack_retrycount_and_silent_floor(delivered):
    raw = delivered
    assert raw.call("XNACK", "x", "g", "FATAL", "IDS", "2", "1-0", "2-0", "RETRYCOUNT", "5") == 2
    assert raw.call("XNACK", "x", "g", "SILENT", "IDS", "1", "3-0", "RETRYCOUNT", "0") == 1
    assert raw.call("XNACK", "x", "g", "SILENT", "IDS", "1", "3-0") == 1  # released again; 0 stays 0
    assert [p[3] for p in pel(raw)] == [5, 5, 0, 1]


def test_xnack_ignores_what_is_not_pending_unless_forced(delivered):
    raw = delivered
    raw.call("XACK", "x", "g", "1-0")
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "3", "1-0", "5-0", "9-0") == 0
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "3", "1-0", "5-0", "9-0", "FORCE") == 2
    assert raw.call("XNACK", "x", "g", "FATAL", "IDS", "1", "9-0", "FORCE") == 0  # not in the stream
    got = {p[0]: p for p in pel(raw)}
    assert got[b"1-0"] == (b"1-0", b"", -1, 0) and got[b"5-0"] == (b"5-0", b"", -1, 0)
    raw.call("XACK", "x", "g", "1-0")
    assert raw.call("XNACK", "x", "g", "FATAL", "FORCE", "IDS", "1", "1-0") == 1
    assert {p[0]: p for p in pel(raw)}[b"1-0"][3] == 9223372036854775807


def test_xnack_errors(delivered):
    raw = delivered
    assert raw.call("XNACK", "x", "g", "MAYBE", "IDS", "1", "1-0") == SYNTAX
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "0", "1-0") == NUMIDS_POSITIVE
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "3", "1-0", "2-0") == NUMIDS_MISMATCH
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "1-0", "BOGUS") == SYNTAX
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "zz") == INVALID_ID
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "1-0", "RETRYCOUNT", "-1") == (
        "error", "ERR Invalid RETRYCOUNT option argument for XNACK")
    assert raw.call("XNACK", "x", "nogroup", "FAIL", "IDS", "1", "1-0") == (
        "error", "NOGROUP No such key 'x' or consumer group 'nogroup'")
    assert raw.call("XNACK", "nokey", "g", "FAIL", "IDS", "1", "1-0")[1].startswith("NOGROUP")
    raw.call("SET", "str", "v")
    assert raw.call("XNACK", "str", "g", "FAIL", "IDS", "1", "1-0") == WRONGTYPE
    assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "1")[1].startswith("ERR wrong number of arguments")
    assert all(p[1] == b"alice" for p in pel(raw))


def test_released_entries_are_claimable_at_once(delivered):
    raw = delivered
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "2", "2-0", "3-0")
    # XCLAIM and XAUTOCLAIM take them whatever the min-idle-time
    assert ids(raw.call("XCLAIM", "x", "g", "bob", "3600000", "2-0", "4-0")) == [b"2-0"]
    reply = raw.call("XAUTOCLAIM", "x", "g", "carol", "3600000", "0")
    assert ids(reply[1]) == [b"3-0"]
    assert [(p[0], p[1]) for p in pel(raw)] == [(b"1-0", b"alice"), (b"2-0", b"bob"), (b"3-0", b"carol"),
                                                (b"4-0", b"alice")]


def test_xinfo_full_shows_released_entries(delivered):
    raw = delivered
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "2-0")
    full = raw.call("XINFO", "STREAM", "x", "FULL")
    g = dict(zip(full[0::2], full[1::2]))[b"groups"][0]
    g = dict(zip(g[0::2], g[1::2]))
    entry = next(p for p in g[b"pending"] if p[0] == b"2-0")
    assert entry[1] == b"" and entry[2] == 0 and entry[3] == 1


# ---- XREADGROUP ... CLAIM ----


def test_claim_order_released_then_idle_then_new(delivered):
    raw = delivered
    now = int(time.time() * 1000)
    raw.call("XCLAIM", "x", "g", "alice", "0", "1-0", "TIME", now - 5000, "JUSTID")
    raw.call("XCLAIM", "x", "g", "alice", "0", "3-0", "TIME", now - 9000, "JUSTID")
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "2", "4-0", "2-0")
    reply = raw.call("XREADGROUP", "GROUP", "g", "bob", "CLAIM", "1000", "STREAMS", "x", ">")
    assert reply[0][0] == b"x"
    entries = reply[0][1]
    assert ids(entries) == [b"4-0", b"2-0", b"3-0", b"1-0", b"5-0"]
    assert [e[1] for e in entries][:1] == [[b"n", b"4"]]
    assert [e[2] for e in entries[:2]] == [-1, -1]  # released: no idle time
    assert 9000 <= entries[2][2] < 20000 and 5000 <= entries[3][2] < 9000
    assert [e[3] for e in entries] == [1, 1, 1, 1, 0]
    assert entries[4][2] == 0  # a new entry: 0 0
    assert [(p[0], p[1], p[3]) for p in raw.call("XPENDING", "x", "g", "-", "+", "10")] == [
        (b"1-0", b"bob", 2), (b"2-0", b"bob", 2), (b"3-0", b"bob", 2), (b"4-0", b"bob", 2), (b"5-0", b"bob", 1)]


def test_claim_respects_count_and_min_idle(delivered):
    raw = delivered
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "3-0")
    reply = raw.call("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "CLAIM", "3600000", "STREAMS", "x", ">")
    assert ids(reply[0][1]) == [b"3-0", b"5-0"]  # 1-0, 2-0, 4-0 are not idle long enough
    assert raw.call("XREADGROUP", "GROUP", "g", "bob", "CLAIM", "3600000", "STREAMS", "x", ">") is None
    time.sleep(0.02)
    reply = raw.call("XREADGROUP", "GROUP", "g", "carol", "COUNT", "2", "CLAIM", "10", "STREAMS", "x", ">")
    assert ids(reply[0][1]) == [b"1-0", b"2-0"]


def test_claim_ignores_noack_for_claimed_entries(delivered):
    raw = delivered
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "1-0")
    reply = raw.call("XREADGROUP", "GROUP", "g", "bob", "NOACK", "CLAIM", "0", "STREAMS", "x", ">")
    assert ids(reply[0][1])[:1] == [b"1-0"] and b"5-0" in ids(reply[0][1])
    owners = {p[0]: p[1] for p in raw.call("XPENDING", "x", "g", "-", "+", "10")}
    assert owners[b"1-0"] == b"bob"
    assert b"5-0" not in owners  # the new entry went unacknowledged


def test_claim_drops_entries_gone_from_the_stream(delivered):
    raw = delivered
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "2", "1-0", "2-0")
    raw.call("XDEL", "x", "1-0")
    reply = raw.call("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "CLAIM", "0", "STREAMS", "x", ">")
    assert ids(reply[0][1]) == [b"2-0"]
    assert b"1-0" not in [p[0] for p in raw.call("XPENDING", "x", "g", "-", "+", "10")]


def test_claim_ignored_with_an_explicit_id(delivered):
    raw = delivered
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "1-0")
    reply = raw.call("XREADGROUP", "GROUP", "g", "alice", "CLAIM", "0", "STREAMS", "x", "0")
    assert ids(reply[0][1]) == [b"2-0", b"3-0", b"4-0"]
    assert all(len(e) == 2 for e in reply[0][1])


def test_claim_resp3(server, r, raw3):
    raw3.call("XADD", "x", "1-0", "a", "1")
    raw3.call("XGROUP", "CREATE", "x", "g", "0")
    raw3.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">")
    raw3.call("XNACK", "x", "g", "SILENT", "IDS", "1", "1-0")
    reply = raw3.call("XREADGROUP", "GROUP", "g", "d", "CLAIM", "0", "STREAMS", "x", ">")
    assert reply == {"x": [[b"1-0", [b"a", b"1"], -1, 0]]}


def test_claim_errors(delivered):
    raw = delivered
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "CLAIM", "-1", "STREAMS", "x", ">") == (
        "error", "ERR Invalid min-idle-time argument for XREADGROUP")
    assert raw.call("XREADGROUP", "GROUP", "g", "c", "CLAIM", "x", "STREAMS", "x", ">")[1].startswith("ERR Invalid")
    assert raw.call("XREAD", "CLAIM", "0", "STREAMS", "x", "0") == (
        "error", "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead.")


def test_blocked_claim_reader_is_served_by_xnack(server, delivered):
    raw = delivered
    raw.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", ">")  # 5-0 too: nothing new left
    waiter = server.raw()
    try:
        waiter.command("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "5000", "CLAIM", "3600000", "STREAMS", "x", ">")
        from conftest import wait_blocked
        wait_blocked(server.client(), 1)
        assert raw.call("XNACK", "x", "g", "FAIL", "IDS", "1", "3-0") == 1
        reply = waiter.read_reply()
        assert reply[0][0] == b"x" and reply[0][1] == [[b"3-0", [b"n", b"3"], -1, 1]]
    finally:
        waiter.close()


def test_nack_and_claim_replay(aof_servers):
    srv = RunnelProcess("--appendonly", "yes")
    aof_servers.append(srv)
    raw = srv.raw()
    for i in range(1, 21):
        raw.call("XADD", "x", "%d-0" % i, "n", str(i))
    raw.call("XGROUP", "CREATE", "x", "g", "0")
    raw.call("XGROUP", "CREATE", "x", "h", "0")
    raw.call("XREADGROUP", "GROUP", "g", "a", "COUNT", "12", "STREAMS", "x", ">")
    raw.call("XREADGROUP", "GROUP", "h", "b", "COUNT", "5", "STREAMS", "x", ">")
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "3", "7-0", "2-0", "9-0")
    raw.call("XNACK", "x", "g", "FATAL", "IDS", "1", "4-0")
    raw.call("XNACK", "x", "g", "SILENT", "IDS", "2", "3-0", "15-0", "FORCE")
    raw.call("XNACK", "x", "h", "FAIL", "IDS", "1", "1-0")
    raw.call("XDEL", "x", "9-0")  # a released entry gone from the stream
    raw.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "CLAIM", "0", "STREAMS", "x", ">")
    raw.close()
    srv = check_reloads(srv, aof_servers, "x", ["g", "h"])
    # the release order itself survived: the next CLAIM takes the same entries
    raw = srv.raw()
    reply = raw.call("XREADGROUP", "GROUP", "g", "d", "COUNT", "3", "CLAIM", "3600000", "STREAMS", "x", ">")
    assert ids(reply[0][1]) == [b"4-0", b"3-0", b"15-0"]  # 9-0, deleted, left the PEL on the way
    assert [e[3] for e in reply[0][1]] == [9223372036854775807, 0, 0]
    raw.close()


# A DUMP of a stream written before XNACK (stream encoding 0): x holds 1-0..6-0,
# group g delivered 1-0, 2-0 to alice and 3-0, 4-0 to bob, then 1-0 was
# claimed by bob with TIME 1700000000000 RETRYCOUNT 7.
V0_PAYLOAD = bytes.fromhex(
    "06848100000606060001000000010100060001032101016e020001310406000132040a000133040e0001340412000135041600013604"
    "0101670400080205616c696365bcd29787ca68bcd29787ca6803626f62bcd29787ca68bcd29787ca6804010080a0abfef96207010200"
    "bcd29787ca6801000300bcd29787ca6801010400bcd29787ca680101000200166cfc1285c98ec4")


def test_stream_encoding_0_still_loads(r, raw):
    assert raw.call("RESTORE", "x", "0", V0_PAYLOAD) == "OK"
    assert [(p[0], p[1], p[3]) for p in raw.call("XPENDING", "x", "g", "-", "+", "10")] == [
        (b"1-0", b"bob", 7), (b"2-0", b"alice", 1), (b"3-0", b"bob", 1), (b"4-0", b"bob", 1)]
    # the idle order is rebuilt: 1-0, delivered long ago, is the idlest
    reply = raw.call("XREADGROUP", "GROUP", "g", "carol", "COUNT", "1", "CLAIM", "100000", "STREAMS", "x", ">")
    assert ids(reply[0][1]) == [b"1-0"] and reply[0][1][0][3] == 7
    # and it saves in the current encoding, released entries included
    raw.call("XNACK", "x", "g", "FAIL", "IDS", "2", "4-0", "2-0")
    d = raw.call("DEBUG", "DIGEST-VALUE", "x")
    assert raw.call("RESTORE", "y", "0", raw.call("DUMP", "x")) == "OK"
    assert raw.call("DEBUG", "DIGEST-VALUE", "y") == d


def test_fatal_count_stays_at_its_maximum(aof_servers):
    """A delivery after FATAL does not wrap the counter (regression: it went
    negative and the logged RETRYCOUNT did not replay)."""
    srv = RunnelProcess("--appendonly", "yes")
    aof_servers.append(srv)
    raw = srv.raw()
    raw.call("XADD", "x", "1-0", "n", "1")
    raw.call("XGROUP", "CREATE", "x", "g", "0")
    raw.call("XREADGROUP", "GROUP", "g", "a", "STREAMS", "x", ">")
    raw.call("XNACK", "x", "g", "FATAL", "IDS", "1", "1-0")
    raw.call("XCLAIM", "x", "g", "b", "0", "1-0")
    raw.call("XREADGROUP", "GROUP", "g", "b", "STREAMS", "x", "0")
    raw.call("XAUTOCLAIM", "x", "g", "c", "0", "0")
    assert raw.call("XPENDING", "x", "g", "-", "+", "10")[0][3] == 9223372036854775807
    raw.close()
    check_reloads(srv, aof_servers, "x", ["g"])


# ---- MAXCOUNT / MAXSIZE (Redis 8.10) ----


@pytest.fixture
def three(r, raw):
    """Streams a, b, c with 3 entries each (1-0..3-0, fields f/v)."""
    for k in ("a", "b", "c"):
        for i in range(1, 4):
            raw.call("XADD", k, "%d-0" % i, "f", "v")
    return raw


def counts(reply):
    return [(k, len(v)) for k, v in reply]


# One entry [1-0, [f, v]] is *2 $3 1-0 *2 $1 f $1 v: 31 bytes.
ENTRY = 31


def test_maxcount_caps_entries_across_streams(three):
    raw = three
    reply = raw.call("XREAD", "COUNT", "2", "MAXCOUNT", "3", "STREAMS", "a", "b", "c", "0", "0", "0")
    assert counts(reply) == [(b"a", 2), (b"b", 1)]
    reply = raw.call("XREAD", "MAXCOUNT", "4", "STREAMS", "a", "b", "c", "0", "0", "0")
    assert counts(reply) == [(b"a", 3), (b"b", 1)]
    assert ids(reply[1][1]) == [b"1-0"]
    # empty or missing streams take nothing from the budget
    reply = raw.call("XREAD", "MAXCOUNT", "2", "STREAMS", "none", "c", "a", "0", "2-0", "0")
    assert counts(reply) == [(b"c", 1), (b"a", 1)]
    # with enough budget, the same as without
    assert raw.call("XREAD", "MAXCOUNT", "100", "STREAMS", "a", "b", "0", "0") == raw.call(
        "XREAD", "STREAMS", "a", "b", "0", "0")
    assert raw.call("XREAD", "MAXCOUNT", "5", "STREAMS", "a", "3-0") is None


def test_maxsize_caps_reply_bytes_but_always_gives_one_entry(three):
    raw = three
    assert counts(raw.call("XREAD", "MAXSIZE", "1", "STREAMS", "a", "b", "0", "0")) == [(b"a", 1)]
    assert counts(raw.call("XREAD", "MAXSIZE", str(2 * ENTRY), "STREAMS", "a", "0")) == [(b"a", 2)]
    assert counts(raw.call("XREAD", "MAXSIZE", str(2 * ENTRY - 1), "STREAMS", "a", "0")) == [(b"a", 1)]
    # a stream whose first entry does not fit is left out, and the ones after it too
    reply = raw.call("XREAD", "MAXSIZE", str(4 * ENTRY), "STREAMS", "a", "b", "c", "0", "0", "0")
    assert counts(reply) == [(b"a", 3), (b"b", 1)]
    raw.call("XADD", "big", "1-0", "f", "x" * 100)
    reply = raw.call("XREAD", "MAXSIZE", str(ENTRY), "STREAMS", "a", "big", "c", "2-0", "0", "0")
    assert counts(reply) == [(b"a", 1)]
    # both limits: whichever is reached first
    assert counts(raw.call("XREAD", "MAXCOUNT", "2", "MAXSIZE", "1000", "STREAMS", "a", "0")) == [(b"a", 2)]
    assert counts(raw.call("XREAD", "MAXCOUNT", "3", "MAXSIZE", str(ENTRY), "STREAMS", "a", "0")) == [(b"a", 1)]


def test_maxcount_resp3(server, three, raw3):
    reply = raw3.call("XREAD", "COUNT", "1", "MAXCOUNT", "2", "STREAMS", "a", "b", "c", "0", "0", "0")
    assert reply == {"a": [[b"1-0", [b"f", b"v"]]], "b": [[b"1-0", [b"f", b"v"]]]}
    raw3.call("XGROUP", "CREATE", "a", "g", "0")
    reply = raw3.call("XREADGROUP", "GROUP", "g", "c1", "MAXSIZE", "1", "STREAMS", "a", ">")
    assert reply == {"a": [[b"1-0", [b"f", b"v"]]]}


def test_xreadgroup_skipped_entries_stay_undelivered(three):
    raw = three
    for k in ("a", "b"):
        raw.call("XGROUP", "CREATE", k, "g", "0")
    reply = raw.call("XREADGROUP", "GROUP", "g", "c1", "MAXCOUNT", "4", "STREAMS", "a", "b", ">", ">")
    assert counts(reply) == [(b"a", 3), (b"b", 1)]
    assert raw.call("XPENDING", "b", "g")[0] == 1
    groups = raw.call("XINFO", "GROUPS", "b")[0]
    assert groups[groups.index(b"last-delivered-id") + 1] == b"1-0"
    # the next read gets the rest of b
    reply = raw.call("XREADGROUP", "GROUP", "g", "c1", "MAXSIZE", "1", "STREAMS", "a", "b", ">", ">")
    assert counts(reply) == [(b"b", 1)] and ids(reply[0][1]) == [b"2-0"]
    assert raw.call("XPENDING", "b", "g")[0] == 2
    # history reads (explicit ID) are capped the same way
    reply = raw.call("XREADGROUP", "GROUP", "g", "c1", "MAXCOUNT", "2", "STREAMS", "a", "b", "0", "0")
    assert counts(reply) == [(b"a", 2)]


def test_maxcount_with_claim(three):
    raw = three
    raw.call("XGROUP", "CREATE", "a", "g", "0")
    raw.call("XREADGROUP", "GROUP", "g", "old", "COUNT", "2", "STREAMS", "a", ">")
    reply = raw.call("XREADGROUP", "GROUP", "g", "new", "MAXCOUNT", "1", "CLAIM", "0", "STREAMS", "a", ">")
    assert [e[0] for e in reply[0][1]] == [b"1-0"] and len(reply[0][1][0]) == 4
    # 2-0 is still old's; 3-0 was not delivered
    pel = pending(raw, "a", "g")
    assert pel == [(b"1-0", b"new", 2), (b"2-0", b"old", 1)]
    # a claimed entry counts its two numbers: [1-0, [f, v], idle, 1] no longer fits with another
    reply = raw.call("XREADGROUP", "GROUP", "g", "new", "MAXSIZE", str(2 * ENTRY), "CLAIM", "0",
                     "STREAMS", "a", ">")
    assert len(reply[0][1]) == 1


def test_blocked_reads_respect_the_caps(server, r, raw):
    raw.call("XADD", "a", "1-0", "f", "v")
    raw.call("XGROUP", "CREATE", "a", "g", "$")
    w1, w2 = server.raw(), server.raw()
    try:
        w1.command("XREAD", "BLOCK", "5000", "MAXCOUNT", "2", "STREAMS", "a", "$")
        w2.command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "MAXSIZE", "1", "STREAMS", "a", ">")
        from conftest import wait_blocked
        wait_blocked(r, 2)
        raw.call("MULTI")
        for i in range(2, 6):
            raw.call("XADD", "a", "%d-0" % i, "f", "v")
        raw.call("EXEC")
        assert ids(w1.read_reply()[0][1]) == [b"2-0", b"3-0"]
        assert ids(w2.read_reply()[0][1]) == [b"2-0"]
        assert raw.call("XPENDING", "a", "g")[0] == 1
    finally:
        w1.close()
        w2.close()


def test_maxcount_maxsize_errors(three):
    raw = three
    for opt in ("MAXCOUNT", "MAXSIZE"):
        for cmd in (("XREAD",), ("XREADGROUP", "GROUP", "g", "c")):
            for bad in ("0", "-1"):
                assert raw.call(*cmd, opt, bad, "STREAMS", "a", "0") == (
                    "error", "ERR %s must be a positive integer" % opt)
            assert raw.call(*cmd, opt, "x", "STREAMS", "a", "0") == (
                "error", "ERR value is not an integer or out of range")
    assert raw.call("XREAD", "COUNT", "3", "MAXCOUNT", "2", "STREAMS", "a", "0") == (
        "error", "ERR MAXCOUNT must be greater than or equal to COUNT")
    assert counts(raw.call("XREAD", "COUNT", "2", "MAXCOUNT", "2", "STREAMS", "a", "0")) == [(b"a", 2)]
    assert raw.call("XREAD", "MAXCOUNT", "STREAMS", "a", "0")[0] == "error"


def test_capped_group_reads_replay(aof_servers):
    srv = RunnelProcess("--appendonly", "yes")
    aof_servers.append(srv)
    raw = srv.raw()
    for k in ("x", "y"):
        for i in range(1, 11):
            raw.call("XADD", k, "%d-0" % i, "n", str(i))
        raw.call("XGROUP", "CREATE", k, "g", "0")
    raw.call("XREADGROUP", "GROUP", "g", "a", "COUNT", "4", "MAXCOUNT", "6", "STREAMS", "x", "y", ">", ">")
    raw.call("XREADGROUP", "GROUP", "g", "b", "MAXSIZE", "100", "CLAIM", "0", "STREAMS", "y", "x", ">", ">")
    raw.close()
    check_reloads(srv, aof_servers, "x", ["g"])
