"""LMOVEM and BLMOVEM (Redis 8.10): moving several list elements at once,
COUNT and EXACTLY, OBO and BULK orderings, replies in RESP2 and RESP3,
errors, notifications, blocking (FIFO with the other list waiters, EXACTLY
waiting until the source holds enough), and propagation to the AOF."""
import itertools

import pytest

from conftest import wait_blocked
from test_notifications import Watcher, expand

SYNTAX = ("error", "ERR syntax error")
COUNT_ERR = ("error", "ERR count should be greater than 0")
WRONGTYPE = ("error", "WRONGTYPE Operation against a key holding the wrong kind of value")


@pytest.fixture
def raw(raw_flushed):
    return raw_flushed


def model(src, dst, frm, to, count, bulk):
    """What LMOVEM does, in Python: (src, dst, reply)."""
    src, dst = list(src), list(dst)
    n = min(count, len(src))
    if frm == "LEFT":
        popped, src = src[:n], src[n:]
    else:
        popped, src = src[::-1][:n], src[:len(src) - n]
    if bulk:
        block = popped if frm == "LEFT" else popped[::-1]
    else:
        block = popped[::-1] if to == "LEFT" else popped
    dst = block + dst if to == "LEFT" else dst + block
    return src, dst, block


@pytest.mark.parametrize("frm,to,order", list(itertools.product(("LEFT", "RIGHT"), ("LEFT", "RIGHT"),
                                                                 ("OBO", "BULK"))))
def test_orderings_match_the_model(raw, frm, to, order):
    src, dst = ["1", "2", "3", "4", "5"], ["x", "y"]
    raw.call("RPUSH", "s", *src)
    raw.call("RPUSH", "d", *dst)
    reply = raw.call("LMOVEM", "s", "d", frm, to, "COUNT", "3", order)
    want_src, want_dst, want_reply = model(src, dst, frm, to, 3, order == "BULK")
    assert [e.decode() for e in reply] == want_reply
    assert [e.decode() for e in raw.call("LRANGE", "d", "0", "-1")] == want_dst
    assert [e.decode() for e in raw.call("LRANGE", "s", "0", "-1")] == want_src


def test_redis_examples(raw):
    raw.call("RPUSH", "mylist", "1", "2", "3", "4")
    assert raw.call("LMOVEM", "mylist", "myotherlist", "LEFT", "LEFT", "COUNT", "2", "OBO") == [b"2", b"1"]
    assert raw.call("LRANGE", "mylist", "0", "-1") == [b"3", b"4"]
    assert raw.call("LRANGE", "myotherlist", "0", "-1") == [b"2", b"1"]
    assert raw.call("LMOVEM", "mylist", "myotherlist", "LEFT", "LEFT", "EXACTLY", "5", "BULK") is None
    raw.call("RPUSH", "samelist", "a", "b", "c")
    assert raw.call("LMOVEM", "samelist", "samelist", "LEFT", "LEFT", "EXACTLY", "2", "OBO") == [b"b", b"a"]
    assert raw.call("LRANGE", "samelist", "0", "-1") == [b"b", b"a", b"c"]
    # BULK onto itself at the same end changes nothing; at the other end it rotates
    assert raw.call("LMOVEM", "samelist", "samelist", "LEFT", "LEFT", "COUNT", "2", "BULK") == [b"b", b"a"]
    assert raw.call("LRANGE", "samelist", "0", "-1") == [b"b", b"a", b"c"]
    assert raw.call("LMOVEM", "samelist", "samelist", "LEFT", "RIGHT", "COUNT", "2", "BULK") == [b"b", b"a"]
    assert raw.call("LRANGE", "samelist", "0", "-1") == [b"c", b"b", b"a"]


def test_without_the_block_it_is_lmove_with_an_array(raw):
    raw.call("RPUSH", "s", "a", "b", "c")
    assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT") == [b"a"]
    assert raw.call("LMOVEM", "s", "d", "RIGHT", "LEFT") == [b"c"]
    assert raw.call("LRANGE", "d", "0", "-1") == [b"c", b"a"]


def test_count_moves_what_there_is_and_deletes_the_source(raw):
    raw.call("RPUSH", "s", "a", "b")
    assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", "COUNT", "100", "BULK") == [b"a", b"b"]
    assert raw.call("EXISTS", "s") == 0
    raw.call("RPUSH", "s", "1", "2", "3")
    assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", "EXACTLY", "3", "BULK") == [b"1", b"2", b"3"]
    assert raw.call("EXISTS", "s") == 0
    assert raw.call("LRANGE", "d", "0", "-1") == [b"a", b"b", b"1", b"2", b"3"]


def test_exactly_is_all_or_nothing(raw):
    raw.call("RPUSH", "s", "a", "b")
    assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", "EXACTLY", "3", "OBO") is None
    assert raw.call("LRANGE", "s", "0", "-1") == [b"a", b"b"]
    assert raw.call("EXISTS", "d") == 0


def test_missing_source_replies_resp2_and_resp3(raw, raw3):
    # COUNT (or no block): an empty array; EXACTLY: nil (a null array)
    raw.command("LMOVEM", "none", "d", "LEFT", "RIGHT")
    assert raw.read_line() == b"*0"
    raw.command("LMOVEM", "none", "d", "LEFT", "RIGHT", "COUNT", "5", "BULK")
    assert raw.read_line() == b"*0"
    raw.command("LMOVEM", "none", "d", "LEFT", "RIGHT", "EXACTLY", "5", "BULK")
    assert raw.read_line() == b"*-1"
    raw3.command("LMOVEM", "none", "d", "LEFT", "RIGHT", "EXACTLY", "5", "BULK")
    assert raw3.read_line() == b"_"
    raw3.command("LMOVEM", "none", "d", "LEFT", "RIGHT", "COUNT", "5", "BULK")
    assert raw3.read_line() == b"*0"
    raw3.call("RPUSH", "s3", "a", "b")
    assert raw3.call("LMOVEM", "s3", "d3", "LEFT", "RIGHT", "COUNT", "5", "BULK") == [b"a", b"b"]
    assert raw.call("EXISTS", "d") == 0


def test_errors(raw):
    raw.call("RPUSH", "s", "a", "b", "c")
    assert raw.call("LMOVEM", "s", "d", "LEFT") == ("error", "ERR wrong number of arguments for 'lmovem' command")
    for bad in ("0", "-1", "a", ""):
        assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", "COUNT", bad, "BULK") == COUNT_ERR
        assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", "EXACTLY", bad, "OBO") == COUNT_ERR
    for args in (("COUNT", "2"), ("COUNT", "2", "OBO", "extra"), ("BAD", "2", "OBO"), ("COUNT", "2", "BADORDER")):
        assert raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", *args) == SYNTAX
    assert raw.call("LMOVEM", "s", "d", "UP", "RIGHT", "COUNT", "2", "OBO") == SYNTAX
    assert raw.call("LMOVEM", "s", "d", "LEFT", "DOWN", "COUNT", "2", "OBO") == SYNTAX
    raw.call("SET", "str", "x")
    assert raw.call("LMOVEM", "str", "d", "LEFT", "RIGHT") == WRONGTYPE
    assert raw.call("LMOVEM", "s", "str", "LEFT", "RIGHT", "COUNT", "2", "BULK") == WRONGTYPE
    assert raw.call("LRANGE", "s", "0", "-1") == [b"a", b"b", b"c"]
    # a missing source does not look at the destination
    assert raw.call("LMOVEM", "none", "str", "LEFT", "RIGHT") == []
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT") == (
        "error", "ERR wrong number of arguments for 'blmovem' command")
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "x") == (
        "error", "ERR timeout is not a float or out of range")
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "-1") == ("error", "ERR timeout is negative")
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "COUNT", "0", "OBO") == COUNT_ERR
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "COUNT", "1") == SYNTAX


def test_notifications(server, r, raw):
    raw.call("RPUSH", "s", "a", "b", "c")
    r.config_set("notify-keyspace-events", "KElg")
    w = Watcher(server)
    try:
        raw.call("LMOVEM", "s", "d", "LEFT", "RIGHT", "COUNT", "2", "OBO")
        raw.call("LMOVEM", "s", "d", "RIGHT", "LEFT", "COUNT", "5", "BULK")
        raw.call("LMOVEM", "s", "d", "RIGHT", "LEFT", "EXACTLY", "5", "BULK")
        assert w.collect(r) == expand([("d", "rpush"), ("s", "lpop"), ("d", "lpush"), ("s", "rpop"), ("s", "del")])
    finally:
        w.close()
        r.config_set("notify-keyspace-events", "")


def test_command_metadata(raw):
    info = raw.call("COMMAND", "INFO", "LMOVEM", "BLMOVEM")
    assert info[0][:3] == [b"lmovem", -5, ["write", "denyoom"]]
    assert info[1][0] == b"blmovem" and info[1][1] == -6 and "blocking" in info[1][2]
    keys = raw.call("COMMAND", "GETKEYSANDFLAGS", "LMOVEM", "a", "b", "LEFT", "RIGHT")
    assert keys == [[b"a", ["RW", "access", "delete"]], [b"b", ["RW", "insert"]]]


# ---- BLMOVEM ----


def test_blmovem_serves_at_once_when_it_can(raw):
    raw.call("RPUSH", "s", "1", "2", "3")
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "COUNT", "2", "BULK") == [b"1", b"2"]
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0") == [b"3"]
    assert raw.call("LRANGE", "d", "0", "-1") == [b"1", b"2", b"3"]


def test_blmovem_count_takes_what_the_first_push_brings(server, r):
    c = server.raw()
    try:
        c.command("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "COUNT", "5", "BULK")
        wait_blocked(r, 1)
        r.rpush("s", "a", "b")
        assert c.read_reply() == [b"a", b"b"]
        assert r.lrange("d", 0, -1) == [b"a", b"b"] and r.exists("s") == 0
    finally:
        c.close()


def test_blmovem_exactly_waits_until_the_source_holds_enough(server, r):
    c = server.raw()
    try:
        c.command("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "EXACTLY", "4", "OBO")
        wait_blocked(r, 1)
        r.rpush("s", "1", "2")
        r.linsert("s", "BEFORE", "1", "0")      # 3: not yet
        assert r.info("clients")["blocked_clients"] == 1
        assert r.lrange("s", 0, -1) == [b"0", b"1", b"2"] and r.exists("d") == 0
        r.rpush("feed", "9")
        r.lmove("feed", "s", "LEFT", "RIGHT")   # 4: now
        assert c.read_reply() == [b"0", b"1", b"2", b"9"]
        assert r.exists("s") == 0
    finally:
        c.close()


def test_blmovem_exactly_woken_by_an_overwrite(server, r):
    c = server.raw()
    try:
        r.rpush("s", "1")
        c.command("BLMOVEM", "s", "d", "RIGHT", "LEFT", "0", "EXACTLY", "3", "BULK")
        wait_blocked(r, 1)
        r.rpush("feed", "3", "1", "2")
        r.sort("feed", store="s")
        assert c.read_reply() == [b"1", b"2", b"3"]
        assert r.lrange("d", 0, -1) == [b"1", b"2", b"3"]
    finally:
        c.close()


def test_blmovem_times_out_with_nil_and_does_not_block_in_multi(server, r, raw, raw3):
    raw.command("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0.05", "EXACTLY", "3", "BULK")
    assert raw.read_line() == b"*-1"
    raw3.command("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0.05")
    assert raw3.read_line() == b"_"
    assert raw.call("MULTI") == "OK"
    assert raw.call("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "EXACTLY", "3", "BULK") == "QUEUED"
    assert raw.call("EXEC") == [None]


def test_waiters_are_served_in_order_with_blmove_and_blpop(server, r):
    conns = [server.raw() for _ in range(4)]
    try:
        conns[0].command("BLMOVEM", "q", "d1", "LEFT", "RIGHT", "0", "COUNT", "2", "BULK")
        wait_blocked(r, 1)
        conns[1].command("BLMOVE", "q", "d2", "LEFT", "RIGHT", "0")
        wait_blocked(r, 2)
        conns[2].command("BLMOVEM", "q", "d3", "LEFT", "RIGHT", "0", "EXACTLY", "5", "BULK")
        wait_blocked(r, 3)
        conns[3].command("BLPOP", "q", "0")
        wait_blocked(r, 4)
        r.rpush("q", "a", "b", "c", "d")
        assert conns[0].read_reply() == [b"a", b"b"]
        assert conns[1].read_reply() == b"c"
        # the EXACTLY 5 waiter cannot be served: the one after it is
        assert conns[3].read_reply() == [b"q", b"d"]
        assert r.info("clients")["blocked_clients"] == 1
        r.rpush("q", "1", "2", "3", "4", "5")
        assert conns[2].read_reply() == [b"1", b"2", b"3", b"4", b"5"]
    finally:
        for c in conns:
            c.close()


def test_blmovem_chain_serves_a_waiter_on_the_destination(server, r):
    a, b = server.raw(), server.raw()
    try:
        a.command("BLMOVEM", "src", "mid", "LEFT", "RIGHT", "0", "COUNT", "3", "BULK")
        wait_blocked(r, 1)
        b.command("BLMOVEM", "mid", "out", "LEFT", "LEFT", "0", "EXACTLY", "3", "OBO")
        wait_blocked(r, 2)
        r.rpush("src", "x", "y", "z")
        assert a.read_reply() == [b"x", b"y", b"z"]
        assert b.read_reply() == [b"z", b"y", b"x"]
        assert r.exists("src", "mid") == 0 and r.lrange("out", 0, -1) == [b"z", b"y", b"x"]
    finally:
        a.close()
        b.close()


def test_blocked_blmovem_gets_wrongtype_when_the_destination_is_not_a_list(server, r):
    c = server.raw()
    try:
        r.set("d", "str")
        c.command("BLMOVEM", "s", "d", "LEFT", "RIGHT", "0", "COUNT", "2", "BULK")
        wait_blocked(r, 1)
        r.rpush("s", "a")
        assert c.read_reply() == WRONGTYPE
        assert r.lrange("s", 0, -1) == [b"a"]
    finally:
        c.close()


def test_moves_replay_from_the_aof(fresh_server):
    srv = fresh_server("--appendonly", "yes")
    r = srv.client()
    r.rpush("s", *[str(i) for i in range(20)])
    r.execute_command("LMOVEM", "s", "d", "RIGHT", "LEFT", "COUNT", "3", "OBO")
    r.execute_command("LMOVEM", "s", "d", "LEFT", "LEFT", "EXACTLY", "4", "BULK")
    r.execute_command("LMOVEM", "s", "s", "LEFT", "RIGHT", "COUNT", "2", "OBO")
    r.execute_command("BLMOVEM", "s", "e", "LEFT", "RIGHT", "0", "COUNT", "50", "BULK")
    before = {k: r.lrange(k, 0, -1) for k in ("s", "d", "e")}
    digest = r.execute_command("DEBUG", "DIGEST")
    assert r.execute_command("DEBUG", "LOADAOF") in (b"OK", "OK", True)
    assert {k: r.lrange(k, 0, -1) for k in ("s", "d", "e")} == before
    assert r.execute_command("DEBUG", "DIGEST") == digest


def test_moves_reach_a_replica(fresh_server):
    from replication_helpers import FAST_SYNC, wait_caught_up, wait_link_up
    primary = fresh_server(*FAST_SYNC)
    replica = fresh_server(*FAST_SYNC, "--replicaof", "127.0.0.1", str(primary.port))
    wait_link_up(replica)
    r = primary.client()
    r.rpush("s", *[str(i) for i in range(10)])
    r.execute_command("LMOVEM", "s", "d", "RIGHT", "LEFT", "COUNT", "3", "OBO")
    waiter = primary.raw()
    try:
        waiter.command("BLMOVEM", "q", "d", "LEFT", "LEFT", "0", "EXACTLY", "2", "BULK")
        wait_blocked(r, 1)
        r.rpush("q", "a")
        r.rpush("q", "b", "c")
        assert waiter.read_reply() == [b"a", b"b"]
    finally:
        waiter.close()
    wait_caught_up(primary, replica)
    rr = replica.client()
    for k in ("s", "d", "q"):
        assert rr.lrange(k, 0, -1) == r.lrange(k, 0, -1)
    assert rr.execute_command("DEBUG", "DIGEST") == r.execute_command("DEBUG", "DIGEST")
