"""MULTI/EXEC/DISCARD and WATCH: queuing, aborts, runtime errors, and every
way a watched key can change under a transaction; then redis-py's pipeline
and WATCH-retry helpers.

Expected replies were checked side by side against Debian's redis-server
7.0."""
import threading
import time

import pytest
import redis

EXECABORT = ("error", "EXECABORT Transaction discarded because of previous errors.")


@pytest.fixture
def other(server):
    """A second connection, for changes made behind a transaction's back."""
    conn = server.raw()
    yield conn
    conn.close()


def exec_line(conn):
    """EXEC's raw first line: "*-1" when a WATCH aborted it."""
    conn.command("EXEC")
    line = conn.read_line()
    if line.startswith(b"*") and line != b"*-1":
        for _ in range(int(line[1:])):
            conn.read_reply()
    return line


def watched_exec_aborts(conn, change, *keys):
    """WATCHes `keys`, runs `change` (another client's doing), then a
    transaction; True if EXEC was aborted."""
    assert conn.call("WATCH", *keys) == "OK"
    change()
    assert conn.call("MULTI") == "OK"
    assert conn.call("PING") == "QUEUED"
    return exec_line(conn) == b"*-1"


# ---- MULTI / EXEC / DISCARD ----

def test_multi_exec_queues_and_runs(raw, r):
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "a", "1") == "QUEUED"
    assert raw.call("INCR", "a") == "QUEUED"
    assert raw.call("GET", "a") == "QUEUED"
    assert r.get("a") is None  # nothing ran yet
    assert raw.call("EXEC") == ["OK", 2, b"2"]
    assert r.get("a") == b"2"


def test_exec_empty_transaction(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("EXEC") == []


def test_discard(raw, r):
    raw.call("MULTI")
    raw.call("SET", "d", "1")
    assert raw.call("DISCARD") == "OK"
    assert r.exists("d") == 0
    assert raw.call("EXEC") == ("error", "ERR EXEC without MULTI")
    assert raw.call("GET", "d") is None  # back to running commands at once


def test_exec_and_discard_without_multi(raw):
    assert raw.call("EXEC") == ("error", "ERR EXEC without MULTI")
    assert raw.call("DISCARD") == ("error", "ERR DISCARD without MULTI")


def test_nested_multi_is_an_error_but_keeps_the_transaction(raw):
    raw.call("MULTI")
    raw.call("SET", "n", "1")
    assert raw.call("MULTI") == ("error", "ERR MULTI calls can not be nested")
    assert raw.call("GET", "n") == "QUEUED"
    assert raw.call("EXEC") == ["OK", b"1"]  # the nested MULTI does not abort


def test_execabort_on_unknown_command(raw, r):
    raw.call("MULTI")
    assert raw.call("SET", "x", "1") == "QUEUED"
    assert raw.call("NOSUCH", "arg") == (
        "error", "ERR unknown command 'NOSUCH', with args beginning with: 'arg' ")
    assert raw.call("SET", "y", "1") == "QUEUED"  # still queuing after the error
    assert raw.call("EXEC") == EXECABORT
    assert r.exists("x", "y") == 0
    assert raw.call("EXEC") == ("error", "ERR EXEC without MULTI")


def test_execabort_on_wrong_arity(raw, r):
    raw.call("MULTI")
    assert raw.call("GET") == ("error", "ERR wrong number of arguments for 'get' command")
    raw.call("SET", "x", "1")
    assert raw.call("EXEC") == EXECABORT
    assert r.exists("x") == 0


def test_execabort_on_command_refused_in_multi(raw):
    raw.call("MULTI")
    assert raw.call("SHUTDOWN") == ("error", "ERR Command not allowed inside a transaction")
    assert raw.call("EXEC") == EXECABORT


def test_runtime_errors_do_not_abort_the_rest(raw, r):
    raw.call("MULTI")
    raw.call("SET", "s", "text")
    raw.call("INCR", "s")  # queued fine, fails when run
    raw.call("SET", "t", "ok")
    raw.call("APPEND", "s", "!")
    result = raw.call("EXEC")
    assert result == ["OK", ("error", "ERR value is not an integer or out of range"), "OK", 5]
    assert r.get("s") == b"text!"
    assert r.get("t") == b"ok"


def test_select_inside_transaction(raw, r):
    raw.call("MULTI")
    raw.call("SELECT", "4")
    raw.call("SET", "in4", "v")
    assert raw.call("EXEC") == ["OK", "OK"]
    assert raw.call("GET", "in4") == b"v"  # the SELECT lasts after EXEC
    assert r.exists("in4") == 0


def test_multi_reply_order_when_pipelined(raw):
    raw.send(b"MULTI\r\nECHO a\r\nECHO b\r\nEXEC\r\nECHO after\r\n")
    assert [raw.read_reply() for _ in range(5)] == ["OK", "QUEUED", "QUEUED", [b"a", b"b"], b"after"]


def test_transaction_is_atomic_for_other_clients(raw, other, r):
    r.set("counter", 0)
    raw.call("MULTI")
    for _ in range(100):
        raw.call("INCR", "counter")
    raw.command("EXEC")
    other.command("GET", "counter")
    assert raw.read_reply() == list(range(1, 101))
    assert other.read_reply() in (b"0", b"100")  # never a value in between


# ---- WATCH ----

def test_watch_invalidated_by_another_client(raw, other):
    raw.call("SET", "w", "1")
    assert watched_exec_aborts(raw, lambda: other.call("SET", "w", "2"), "w")
    assert raw.call("GET", "w") == b"2"


def test_watch_untouched_key_lets_exec_run(raw, other):
    raw.call("SET", "w", "1")
    assert not watched_exec_aborts(raw, lambda: other.call("SET", "unrelated", "2"), "w")
    assert not watched_exec_aborts(raw, lambda: other.call("GET", "w"), "w")  # reads change nothing


def test_watch_same_value_write_still_invalidates(raw, other):
    raw.call("SET", "w", "same")
    assert watched_exec_aborts(raw, lambda: other.call("SET", "w", "same"), "w")


def test_watch_own_write_invalidates(raw):
    raw.call("SET", "w", "1")
    assert watched_exec_aborts(raw, lambda: raw.call("SET", "w", "2"), "w")


def test_watch_missing_key_created(raw, other):
    assert watched_exec_aborts(raw, lambda: other.call("SET", "created", "1"), "created")


def test_watch_del(raw, other):
    raw.call("SET", "w", "1")
    assert watched_exec_aborts(raw, lambda: other.call("DEL", "w"), "w")
    # deleting a key that does not exist changes nothing
    assert not watched_exec_aborts(raw, lambda: other.call("DEL", "never"), "never")


def test_watch_several_keys(raw, other):
    raw.call("MSET", "k1", "1", "k2", "2", "k3", "3")
    assert watched_exec_aborts(raw, lambda: other.call("SET", "k3", "x"), "k1", "k2", "k3")


def test_watch_rename_and_move(raw, other):
    raw.call("SET", "src", "1")
    assert watched_exec_aborts(raw, lambda: other.call("RENAME", "src", "dst"), "src")
    raw.call("SET", "src", "1")
    assert watched_exec_aborts(raw, lambda: other.call("RENAME", "src", "dst2"), "dst2")
    raw.call("SET", "mv", "1")
    assert watched_exec_aborts(raw, lambda: other.call("MOVE", "mv", "1"), "mv")


def test_watch_is_per_database(raw, other):
    raw.call("SET", "dbkey", "1")
    other.call("SELECT", "1")
    assert not watched_exec_aborts(raw, lambda: other.call("SET", "dbkey", "x"), "dbkey")


def test_watch_invalidated_by_expire_command(raw, other):
    raw.call("SET", "e", "1")
    assert watched_exec_aborts(raw, lambda: other.call("EXPIRE", "e", "100"), "e")
    # PERSIST on a key without a TTL changes nothing
    raw.call("SET", "p", "1")
    assert not watched_exec_aborts(raw, lambda: other.call("PERSIST", "p"), "p")


def test_watch_invalidated_when_watched_key_expires(raw):
    raw.call("SET", "short", "v", "PX", "100")
    assert watched_exec_aborts(raw, lambda: time.sleep(0.25), "short")


def test_watch_key_already_expired_when_watched(raw):
    raw.call("SET", "gone", "v", "PX", "20")
    time.sleep(0.1)
    # it was already gone when WATCHed, so its removal is no change
    raw.call("WATCH", "gone")
    raw.call("MULTI")
    raw.call("GET", "gone")
    assert raw.call("EXEC") == [None]


def test_watch_invalidated_by_flushall_and_flushdb(raw, other):
    raw.call("SET", "f", "1")
    assert watched_exec_aborts(raw, lambda: other.call("FLUSHALL"), "f")
    raw.call("SET", "f", "1")
    assert watched_exec_aborts(raw, lambda: other.call("FLUSHDB"), "f")
    # a flush that removes nothing watched leaves the transaction alone
    assert not watched_exec_aborts(raw, lambda: other.call("FLUSHALL"), "absent")
    raw.call("SET", "f", "1")
    other.call("SELECT", "1")
    assert not watched_exec_aborts(raw, lambda: other.call("FLUSHDB"), "f")


def test_watch_invalidated_by_swapdb(raw, other):
    raw.call("SET", "sw", "in0")
    assert watched_exec_aborts(raw, lambda: other.call("SWAPDB", "0", "1"), "sw")
    assert raw.call("GET", "sw") is None  # db 0 is now the old db 1
    other.call("SELECT", "1")
    assert other.call("GET", "sw") == b"in0"
    # a key that appears through the swap counts as changed too
    assert watched_exec_aborts(raw, lambda: other.call("SWAPDB", "0", "1"), "sw")
    assert raw.call("GET", "sw") == b"in0"


def test_watch_inside_multi_is_an_error(raw):
    raw.call("MULTI")
    assert raw.call("WATCH", "x") == ("error", "ERR WATCH inside MULTI is not allowed")
    raw.call("SET", "x", "1")
    assert raw.call("EXEC") == ["OK"]  # the transaction goes on


def test_watch_arity(raw):
    assert raw.call("WATCH") == ("error", "ERR wrong number of arguments for 'watch' command")
    assert raw.call("UNWATCH", "x") == ("error", "ERR wrong number of arguments for 'unwatch' command")


def test_unwatch(raw, other):
    raw.call("SET", "u", "1")
    raw.call("WATCH", "u")
    assert raw.call("UNWATCH") == "OK"
    other.call("SET", "u", "2")
    raw.call("MULTI")
    raw.call("GET", "u")
    assert raw.call("EXEC") == [b"2"]


def test_unwatch_inside_multi_is_queued(raw):
    raw.call("MULTI")
    assert raw.call("UNWATCH") == "QUEUED"
    assert raw.call("EXEC") == ["OK"]


def test_exec_and_discard_forget_watches(raw, other):
    raw.call("SET", "fw", "1")
    raw.call("WATCH", "fw")
    raw.call("MULTI")
    assert raw.call("EXEC") == []
    other.call("SET", "fw", "2")
    raw.call("MULTI")
    assert raw.call("EXEC") == []  # the WATCH ended with the first EXEC

    raw.call("WATCH", "fw")
    raw.call("MULTI")
    raw.call("DISCARD")
    other.call("SET", "fw", "3")
    raw.call("MULTI")
    assert raw.call("EXEC") == []


def test_aborted_exec_also_forgets_watches(raw, other):
    raw.call("SET", "aw", "1")
    raw.call("WATCH", "aw")
    other.call("SET", "aw", "3")
    raw.call("MULTI")
    assert exec_line(raw) == b"*-1"
    other.call("SET", "aw", "4")
    raw.call("MULTI")
    assert raw.call("EXEC") == []


def test_watch_counts_in_info(raw):
    # watching_clients and total_watched_keys are Redis 7.4 fields
    raw.call("WATCH", "i1", "i2")
    text = raw.call("INFO", "clients").decode()
    assert "watching_clients:1\r\n" in text and "total_watched_keys:2\r\n" in text
    raw.call("UNWATCH")
    assert "total_watched_keys:0\r\n" in raw.call("INFO", "clients").decode()


# ---- redis-py helpers ----

def test_redis_py_pipeline_transaction(r):
    with r.pipeline(transaction=True) as pipe:
        pipe.set("p", 1).incr("p").incrby("p", 10).get("p")
        assert pipe.execute() == [True, 2, 12, b"12"]


def test_redis_py_pipeline_runtime_error(r):
    r.set("bad", "x")
    with r.pipeline(transaction=True) as pipe:
        pipe.set("fine", 1).incr("bad").get("fine")
        results = pipe.execute(raise_on_error=False)
    assert results[0] is True and results[2] == b"1"
    assert isinstance(results[1], redis.ResponseError)


def test_redis_py_pipeline_execabort(r):
    with r.pipeline(transaction=True) as pipe:
        pipe.set("x", 1)
        pipe.execute_command("NOSUCH")
        with pytest.raises(redis.ResponseError, match="EXECABORT|unknown command"):
            pipe.execute()
    assert r.exists("x") == 0


def test_redis_py_watch_retry_pattern(r, server):
    r.set("balance", 100)
    attempts = []
    intruder = server.client()

    def debit(pipe):
        attempts.append(1)
        current = int(pipe.get("balance"))
        if len(attempts) == 1:
            intruder.incrby("balance", 5)  # a concurrent change: first try must retry
        pipe.multi()
        pipe.set("balance", current - 30)

    result = r.transaction(debit, "balance")
    assert result == [True]
    assert len(attempts) == 2
    assert r.get("balance") == b"75"
    intruder.close()


def test_redis_py_watch_error_when_changed(r, server):
    r.set("k", 1)
    intruder = server.client()
    with r.pipeline() as pipe:
        pipe.watch("k")
        intruder.set("k", 2)
        pipe.multi()
        pipe.set("k", 3)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("k") == b"2"
    intruder.close()


def test_concurrent_increments_with_watch(server):
    """Four clients add 25 each with WATCH/MULTI/EXEC retries: none is lost."""
    c = server.client()
    c.set("shared", 0)
    c.close()

    def worker():
        conn = server.client()
        for _ in range(25):
            def add(pipe):
                value = int(pipe.get("shared"))
                pipe.multi()
                pipe.set("shared", value + 1)
            conn.transaction(add, "shared")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    c = server.client()
    assert c.get("shared") == b"100"
    c.close()


def test_swapdb_leaves_watch_on_key_absent_from_both_dbs(server, r):
    """Regression: SWAPDB invalidated every watch; Redis touches only keys
    that exist in one of the two databases."""
    c = server.raw()
    assert c.call("WATCH", "absent-everywhere") == "OK"
    r.swapdb(0, 1)
    r.swapdb(0, 1)
    assert c.call("MULTI") == "OK"
    assert c.call("PING") == "QUEUED"
    assert c.call("EXEC") == ["PONG"]
    c.close()


def test_a_refused_exec_aborts_the_transaction_and_says_why(fresh_server):
    srv = fresh_server("--requirepass", "pw")
    raw = srv.raw()
    assert raw.call("EXEC") == ("error", "EXECABORT Transaction discarded because of: NOAUTH Authentication required.")
    assert raw.call("AUTH", "pw") == "OK"
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "k", "v") == "QUEUED"
    other = srv.raw()
    other.call("AUTH", "pw")
    other.call("CONFIG", "SET", "maxmemory", "1")
    try:
        # EXEC of a queued write is refused over maxmemory: the queue is dropped
        assert raw.call("EXEC")[1].startswith("EXECABORT Transaction discarded because of: OOM")
        assert raw.call("EXEC") == ("error", "ERR EXEC without MULTI")
    finally:
        other.call("CONFIG", "SET", "maxmemory", "0")
