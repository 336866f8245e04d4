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
