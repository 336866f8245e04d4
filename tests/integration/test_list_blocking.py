"""Blocking list pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, fairness,
timeouts, transactions, CLIENT UNBLOCK, and many waiters at once."""
import socket
import threading
import time

import pytest
import redis

from conftest import blocked_count, wait_blocked


def test_brpop_serves_first_nonempty_key_in_argument_order(r):
    r.rpush("queue:b", "job1")
    r.rpush("queue:c", "job2")
    assert r.brpop(["queue:a", "queue:b", "queue:c"], timeout=1) == (b"queue:b", b"job1")
    assert r.exists("queue:b") == 0


def test_blpop_pops_head_and_brpop_tail(r):
    r.rpush("q", "a", "b", "c")
    assert r.blpop(["q"], timeout=1) == (b"q", b"a")
    assert r.brpop(["q"], timeout=1) == (b"q", b"c")


def test_timeout_returns_nil_close_to_deadline(r):
    start = time.time()
    assert r.blpop(["nothing"], timeout=0.2) is None
    elapsed = time.time() - start
    assert 0.18 <= elapsed < 1.5


def test_timeout_errors(raw):
    assert raw.call("BLPOP", "k", "-1") == ("error", "ERR timeout is negative")
    assert raw.call("BLPOP", "k", "abc") == ("error", "ERR timeout is not a float or out of range")


def test_wrongtype(r):
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.blpop(["s"], timeout=0.1)


def test_push_wakes_waiter(server, r):
    other = server.client()
    result = {}

    def waiter():
        result["v"] = other.blpop(["jobs"], timeout=5)

    t = threading.Thread(target=waiter)
    t.start()
    wait_blocked(r, 1)
    assert r.rpush("jobs", "x") == 1
    t.join(5)
    assert result["v"] == (b"jobs", b"x")
    assert r.exists("jobs") == 0
    assert blocked_count(r) == 0


def test_waiters_are_served_fifo_and_one_push_serves_several(server, r):
    conns = [server.raw() for _ in range(3)]
    for i, c in enumerate(conns):
        c.command("BLPOP", "fifo", "5")
        wait_blocked(r, i + 1)
    r.rpush("fifo", "e1", "e2", "e3")
    assert [c.read_reply() for c in conns] == [[b"fifo", b"e1"], [b"fifo", b"e2"], [b"fifo", b"e3"]]
    assert r.exists("fifo") == 0
    for c in conns:
        c.close()


def test_element_handed_to_waiter_never_appears_in_list(server, r):
    c = server.raw()
    c.command("BRPOP", "l", "5")
    wait_blocked(r, 1)
    r.lpush("l", "only")
    assert c.read_reply() == [b"l", b"only"]
    assert r.llen("l") == 0
    c.close()


def test_blmove_chain_serves_waiter_on_destination_in_same_iteration(server, r):
    a = server.raw()
    a.command("BLMOVE", "src", "mid", "LEFT", "RIGHT", "5")
    wait_blocked(r, 1)
    b = server.raw()
    b.command("BLPOP", "mid", "5")
    wait_blocked(r, 2)
    r.rpush("src", "v")
    assert a.read_reply() == b"v"
    assert b.read_reply() == [b"mid", b"v"]
    assert r.exists("src", "mid") == 0
    a.close()
    b.close()


def test_brpoplpush_and_blmove_immediate(r):
    r.rpush("s", "1", "2")
    assert r.brpoplpush("s", "d", timeout=1) == b"2"
    assert r.blmove("s", "d", 1, "LEFT", "LEFT") == b"1"
    assert r.lrange("d", 0, -1) == [b"1", b"2"]
    assert r.exists("s") == 0


def test_circular_brpoplpush(r):
    r.rpush("clist", "a", "b", "c")
    assert r.brpoplpush("clist", "clist", timeout=1) == b"c"
    assert r.lrange("clist", 0, -1) == [b"c", b"a", b"b"]


def test_blmpop(raw):
    raw.call("RPUSH", "m2", "a", "b", "c")
    assert raw.call("BLMPOP", "1", "2", "m1", "m2", "LEFT", "COUNT", "2") == [b"m2", [b"a", b"b"]]
    assert raw.call("BLMPOP", "0.1", "1", "m1", "RIGHT") is None
    assert raw.call("BLMPOP", "1", "0", "m1", "LEFT") == ("error", "ERR numkeys should be greater than 0")
    assert raw.call("BLMPOP", "1", "1", "m2", "LEFT", "COUNT", "0") == ("error", "ERR count should be greater than 0")


def test_blocking_command_inside_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.blpop(["empty"], timeout=0)
    p.brpoplpush("empty", "x", timeout=0)
    assert p.execute() == [None, None]


def test_exec_pushing_wakes_waiters_after_exec(server, r):
    c = server.raw()
    c.command("BLPOP", "tx", "5")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.rpush("tx", "a")
    p.llen("tx")
    assert p.execute() == [1, 1]  # the waiter had not taken it inside EXEC
    assert c.read_reply() == [b"tx", b"a"]
    c.close()


def test_key_replaced_by_other_type_keeps_waiting(server, r):
    c = server.raw()
    c.command("BLPOP", "k", "5")
    wait_blocked(r, 1)
    r.set("k", "string")
    time.sleep(0.1)
    assert blocked_count(r) == 1
    r.delete("k")
    r.rpush("k", "v")
    assert c.read_reply() == [b"k", b"v"]
    c.close()


def test_client_unblock_timeout_and_error(server, r):
    c = server.raw()
    cid = c.call("CLIENT", "ID")
    c.command("BLPOP", "u", "0")
    wait_blocked(r, 1)
    assert r.client_unblock(cid) == 1
    assert c.read_reply() is None
    c.command("BLPOP", "u", "0")
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert c.read_reply() == ("error", "UNBLOCKED client unblocked via CLIENT UNBLOCK")
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0
    c.close()


def test_client_list_flag_and_kill_of_blocked_client(server, r):
    c = server.raw()
    cid = c.call("CLIENT", "ID")
    c.command("BRPOP", "z", "0")
    wait_blocked(r, 1)
    line = [l for l in r.execute_command("CLIENT", "LIST").decode().splitlines() if l.startswith("id=%d " % cid)][0]
    assert " flags=b " in line
    assert r.client_kill_filter(_id=cid) == 1
    assert c.closed()
    time.sleep(0.05)
    assert blocked_count(r) == 0
    r.rpush("z", "v")
    assert r.lrange("z", 0, -1) == [b"v"]


def test_disconnect_removes_waiter(server, r):
    c = server.raw()
    c.command("BLPOP", "gone", "0")
    wait_blocked(r, 1)
    c.close()
    deadline = time.time() + 5
    while blocked_count(r) and time.time() < deadline:
        time.sleep(0.01)
    assert blocked_count(r) == 0
    r.rpush("gone", "v")
    assert r.llen("gone") == 1


def test_pipelined_commands_after_blocking_one_run_after_wakeup(server, r):
    c = server.raw()
    c.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\np\r\n$1\r\n5\r\n*1\r\n$4\r\nPING\r\n")
    wait_blocked(r, 1)
    r.rpush("p", "x")
    assert c.read_reply() == [b"p", b"x"]
    assert c.read_reply() == "PONG"
    c.close()


@pytest.mark.soak
def test_ten_thousand_blocked_clients(fresh_server):
    srv = fresh_server("--maxclients", "12000")
    r = srv.client()
    socks = []
    payload = b"*3\r\n$5\r\nBLPOP\r\n$4\r\nmany\r\n$1\r\n0\r\n"
    for _ in range(10000):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(payload)
        socks.append(s)
    wait_blocked(r, 10000, timeout=30)
    assert r.info("clients")["total_blocking_keys"] == 1
    r.rpush("many", *[str(i) for i in range(10000)])
    # the first client to block gets the first element
    first = socks[0].recv(100)
    assert first == b"*2\r\n$4\r\nmany\r\n$1\r\n0\r\n"
    deadline = time.time() + 30
    while blocked_count(r) and time.time() < deadline:
        time.sleep(0.05)
    assert blocked_count(r) == 0
    assert r.exists("many") == 0
    for s in socks:
        s.close()
