"""Behaviour that differs between Redis versions or that a new user tripped
over (issue 13), each checked the way a client sees it.

The same file runs against a redis-server for comparison (conftest's
`server` fixture then connects to it):
    REDIS_COMPAT_PORT=16402 /usr/bin/python3 -m pytest tests/integration/test_redis_compat.py
Tests marked `since_72` check Redis 7.2+ behaviour that Debian's 7.0.15 lacks
and are skipped there; `runnel_only` ones check Runnel's own additions."""
import os
import time

import pytest
import redis

EXTERNAL_PORT = os.environ.get("REDIS_COMPAT_PORT")
since_72 = pytest.mark.skipif(EXTERNAL_PORT is not None, reason="Redis 7.2+ behaviour; the reference is 7.0")
runnel_only = pytest.mark.skipif(EXTERNAL_PORT is not None, reason="Runnel's own behaviour")


@pytest.fixture
def r2(server):
    """A second client, for changes made behind the first one's back."""
    c = server.client()
    yield c
    c.close()


# ---- item 2: WATCH of a key that had already expired ----

def watch_expired_then(r, r2, change):
    """WATCHes x after its deadline passed (active expiry off, so it is still
    stored), lets `change` run, then tries a transaction: True if EXEC ran."""
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r.execute_command("SET", "x", "foo", "PX", "1")
    time.sleep(0.01)
    pipe = r.pipeline()
    pipe.watch("x")
    change(pipe, r2)
    pipe.multi()
    pipe.ping()
    try:
        return pipe.execute() == [True]
    except redis.WatchError:
        return False
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


@since_72
def test_watch_expired_key_deleted_lazily_keeps_exec(r, r2):
    assert watch_expired_then(r, r2, lambda pipe, other: pipe.exists("x"))


@since_72
def test_watch_expired_key_deleted_by_others_keeps_exec(r, r2):
    assert watch_expired_then(r, r2, lambda pipe, other: other.get("x"))
    assert watch_expired_then(r, r2, lambda pipe, other: other.delete("x"))


@since_72
def test_watch_expired_key_deleted_by_active_expiry_keeps_exec(r, r2):
    def active(pipe, other):
        other.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        deadline = time.time() + 5
        while other.dbsize() and time.time() < deadline:
            time.sleep(0.02)

    assert watch_expired_then(r, r2, active)


@since_72
def test_watch_expired_key_flushed_or_swapped_keeps_exec(r, r2):
    assert watch_expired_then(r, r2, lambda pipe, other: other.flushdb())
    assert watch_expired_then(r, r2, lambda pipe, other: other.flushall())
    assert watch_expired_then(r, r2, lambda pipe, other: other.swapdb(0, 1))  # db 1 is empty


@since_72
def test_watch_expired_key_swapped_for_another_expired_keeps_exec(r, r2):
    def swap(pipe, other):
        other.execute_command("SELECT", "1")
        other.execute_command("SET", "x", "db1", "PX", "1")
        time.sleep(0.01)
        other.swapdb(0, 1)
        other.execute_command("SELECT", "0")

    assert watch_expired_then(r, r2, swap)


def test_watch_expired_key_written_again_aborts_exec(r, r2):
    assert not watch_expired_then(r, r2, lambda pipe, other: other.set("x", "new"))
    assert not watch_expired_then(r, r2, lambda pipe, other: (other.get("x"), other.set("x", "new")))


def test_watch_expired_key_swapped_for_a_live_one_aborts_exec(r, r2):
    def swap(pipe, other):
        other.execute_command("SELECT", "1")
        other.set("x", "live")
        other.swapdb(0, 1)
        other.execute_command("SELECT", "0")

    assert not watch_expired_then(r, r2, swap)


@since_72
def test_watch_missing_key_swapped_for_an_expired_one_keeps_exec(r, r2):
    r2.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r2.execute_command("SELECT", "1")
        r2.execute_command("SET", "y", "db1", "PX", "1")
        time.sleep(0.01)
        pipe = r.pipeline()
        pipe.watch("y")
        r2.swapdb(0, 1)
        r2.execute_command("SELECT", "0")
        pipe.multi()
        pipe.ping()
        assert pipe.execute() == [True]
    finally:
        r2.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# ---- item 6: (un)subscribe confirmations under CLIENT REPLY OFF / SKIP ----

SUBSCRIBE_SEQUENCE = [
    (("SUBSCRIBE", "ch", "ch2"), [["subscribe", "ch", 1], ["subscribe", "ch2", 2]]),
    (("PSUBSCRIBE", "p*"), [["psubscribe", "p*", 3]]),
    (("SSUBSCRIBE", "sch"), [["ssubscribe", "sch", 1]]),
    (("UNSUBSCRIBE", "ch2"), [["unsubscribe", "ch2", 2]]),
    (("PUNSUBSCRIBE",), [["punsubscribe", "p*", 1]]),
    (("SUNSUBSCRIBE", "sch"), [["sunsubscribe", "sch", 0]]),
    (("SUBSCRIBE", "ch"), [["subscribe", "ch", 1]]),
]


def confirmation(reply):
    """A confirmation as plain values, whether RESP2 array or RESP3 push."""
    if isinstance(reply, tuple) and reply[0] == "push":
        reply = reply[1]
    return [v.decode() if isinstance(v, bytes) else v for v in reply]


def check_confirmations_while_muted(conn, r, mode):
    """Each (un)subscribe command after CLIENT REPLY `mode` (repeated before
    each command for SKIP, which RESP3 allows in subscribed mode)."""
    def mute():
        if mode == "SKIP" or not muted:
            conn.command("CLIENT", "REPLY", mode)

    muted = False
    for args, expected in SUBSCRIBE_SEQUENCE:
        mute()
        muted = True
        conn.command(*args)
        got = [confirmation(conn.read_reply()) for _ in expected]
        assert got == expected, args
    assert r.publish("ch", "hi") == 1
    assert confirmation(conn.read_reply()) == ["message", "ch", "hi"]
    mute()
    conn.command("UNSUBSCRIBE")
    assert confirmation(conn.read_reply()) == ["unsubscribe", "ch", 0]
    mute()
    conn.command("UNSUBSCRIBE")  # nothing left: one confirmation, name nil
    assert confirmation(conn.read_reply()) == ["unsubscribe", None, 0]
    if mode == "SKIP":
        assert conn.call("PING") == "PONG"  # SKIP muted only the command after it
    else:
        conn.command("PING")
        conn.command("CLIENT", "REPLY", "ON")
        assert conn.read_reply() == "OK"  # nothing came for the PING


def test_subscribe_confirmations_sent_under_reply_off_resp2(raw, r):
    check_confirmations_while_muted(raw, r, "OFF")


def test_subscribe_confirmation_sent_under_reply_skip_resp2(raw, r):
    raw.command("CLIENT", "REPLY", "SKIP")
    raw.command("SUBSCRIBE", "ch")
    assert confirmation(raw.read_reply()) == ["subscribe", "ch", 1]
    assert raw.call("UNSUBSCRIBE") == [b"unsubscribe", b"ch", 0]
    assert raw.call("PING") == "PONG"


@pytest.mark.parametrize("mode", ["OFF", "SKIP"])
def test_subscribe_confirmations_sent_under_reply_off_resp3(raw3, r, mode):
    check_confirmations_while_muted(raw3, r, mode)


# ---- item 7: errors given to blocked clients when they are let go ----

def blocked_call_error(server, r, args, release):
    """Runs `args` on a client of its own until it blocks, then `release(r,
    client_id)`; returns the error text the blocked client got."""
    waiter = server.raw()
    try:
        waiter_id = waiter.call("CLIENT", "ID")
        waiter.command(*args)
        deadline = time.time() + 5
        while r.info("clients")["blocked_clients"] < 1 and time.time() < deadline:
            time.sleep(0.01)
        release(r, waiter_id)
        reply = waiter.read_reply()
        assert isinstance(reply, tuple) and reply[0] == "error", reply
        return reply[1]
    finally:
        waiter.close()


def assert_counted(r, command, code):
    assert r.info("errorstats") == {"errorstat_" + code: "count=1"}
    assert r.info("stats")["total_error_replies"] == 1
    assert r.info("commandstats")["cmdstat_" + command]["failed_calls"] == 1


@pytest.mark.parametrize("release", ["destroy", "delete", "retype", "unblock"])
def test_error_to_blocked_xreadgroup_is_counted(server, r, release):
    r.xgroup_create("s", "g", mkstream=True)
    r.config_resetstat()
    how = {
        "destroy": lambda c, _: c.xgroup_destroy("s", "g"),
        "delete": lambda c, _: c.delete("s"),
        "retype": lambda c, _: c.transaction(lambda p: (p.delete("s"), p.set("s", "x"))),
        "unblock": lambda c, waiter_id: c.client_unblock(waiter_id, error=True),
    }[release]
    error = blocked_call_error(server, r, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"), how)
    code = error.split()[0]
    # Redis 7.2+ runs the command again, which finds no group or another
    # type; 7.0 answered both with UNBLOCKED
    expected = {"destroy": "NOGROUP", "delete": "NOGROUP", "retype": "WRONGTYPE", "unblock": "UNBLOCKED"}[release]
    if EXTERNAL_PORT and release in ("delete", "retype"):
        expected = "UNBLOCKED"
    assert code == expected
    assert_counted(r, "xreadgroup", code)


@pytest.mark.parametrize("args", [("BLPOP", "l", "0"), ("BZPOPMIN", "z", "0"), ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                                  ("BLMOVE", "a", "b", "LEFT", "LEFT", "0")])
def test_client_unblock_error_is_counted(server, r, args):
    r.config_resetstat()
    error = blocked_call_error(server, r, args, lambda c, waiter_id: c.client_unblock(waiter_id, error=True))
    assert error.startswith("UNBLOCKED")
    assert_counted(r, args[0].lower(), "UNBLOCKED")


def test_timeout_of_blocked_client_is_no_error(server, r):
    r.config_resetstat()
    assert r.blpop("l", timeout=0.05) is None
    assert r.info("errorstats") == {}
    assert r.info("commandstats")["cmdstat_blpop"]["failed_calls"] == 0


# ---- item 9: COMMAND GETKEYSANDFLAGS ----

@pytest.mark.parametrize("args, expected", [
    (("GET", "k"), [["k", {"RO", "access"}]]),
    (("SET", "k", "v"), [["k", {"OW", "update"}]]),
    (("SET", "k", "v", "GET"), [["k", {"RW", "access", "update"}]]),
    (("LMOVE", "a", "b", "LEFT", "RIGHT"), [["a", {"RW", "access", "delete"}], ["b", {"RW", "insert"}]]),
    (("ZUNIONSTORE", "d", "2", "a", "b"), [["d", {"OW", "update"}], ["a", {"RO", "access"}], ["b", {"RO", "access"}]]),
    (("DEL", "a", "b"), [["a", {"RM", "delete"}], ["b", {"RM", "delete"}]]),
    (("MSET", "a", "1", "b", "2"), [["a", {"OW", "update"}], ["b", {"OW", "update"}]]),
    (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", "s2", ">", ">"),
     [["s1", {"RO", "access"}], ["s2", {"RO", "access"}]]),
    (("EVAL", "return 1", "2", "k1", "k2", "arg"), [["k1", {"RW", "access", "update"}], ["k2", {"RW", "access", "update"}]]),
    (("OBJECT", "ENCODING", "k"), [["k", {"RO"}]]),
    (("XGROUP", "CREATE", "s", "g", "$"), [["s", {"RW", "insert"}]]),
])
def test_command_getkeysandflags(raw, args, expected):
    got = raw.call("COMMAND", "GETKEYSANDFLAGS", *args)
    assert [[key.decode(), set(flags)] for key, flags in got] == expected


def test_command_getkeysandflags_resp3_flags_are_a_set(raw3):
    assert raw3.call("COMMAND", "GETKEYSANDFLAGS", "RPOPLPUSH", "a", "b") == [
        [b"a", ("set", ["RW", "access", "delete"])], [b"b", ("set", ["RW", "insert"])]]


def test_command_getkeysandflags_errors(raw):
    assert raw.call("COMMAND", "GETKEYSANDFLAGS", "PING", "x") == ("error", "ERR The command has no key arguments")
    assert raw.call("COMMAND", "GETKEYSANDFLAGS", "NOSUCH", "x") == ("error", "ERR Invalid command specified")
    assert raw.call("COMMAND", "GETKEYSANDFLAGS", "GET", "a", "b") == (
        "error", "ERR Invalid number of arguments specified for command")
    assert raw.call("COMMAND", "GETKEYSANDFLAGS", "GET")[0] == "error"


@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
def test_command_getkeys_sharded_channels_are_not_keys(raw, sub):
    for args in (("SPUBLISH", "ch", "m"), ("SSUBSCRIBE", "a", "b"), ("SUNSUBSCRIBE", "a")):
        assert raw.call("COMMAND", sub, *args) == ("error", "ERR The command has no key arguments")


def test_command_getkeysandflags_listed(raw):
    assert b"command|getkeysandflags" in raw.call("COMMAND", "LIST")
    info = raw.call("COMMAND", "INFO", "COMMAND|GETKEYSANDFLAGS")[0]
    assert info[0] == b"command|getkeysandflags" and info[1] == -4


# ---- item 10: CLIENT LIST / CLIENT INFO qbuf and qbuf-free ----

def query_buffer(line):
    """(qbuf, qbuf-free) from a CLIENT LIST or CLIENT INFO line."""
    fields = dict(f.split(b"=", 1) for f in line.split() if b"=" in f)
    return int(fields[b"qbuf"]), int(fields[b"qbuf-free"])


def client_line(conn, client_id):
    lines = conn.call("CLIENT", "LIST", "ID", client_id).splitlines()
    assert len(lines) == 1
    return lines[0]


def test_qbuf_counts_the_command_being_run(raw):
    # *2 $6 CLIENT $4 INFO: 4 + 4 + 8 + 4 + 6 bytes
    assert query_buffer(raw.call("CLIENT", "INFO"))[0] == 26
    my_id = raw.call("CLIENT", "ID")
    line = client_line(raw, my_id)
    assert query_buffer(line)[0] == len(b"*4\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n$2\r\nID\r\n$%d\r\n%d\r\n"
                                        % (len(str(my_id)), my_id))


def test_qbuf_counts_the_pipelined_batch(raw):
    raw.send(b"*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n*1\r\n$4\r\nPING\r\n")
    assert raw.read_reply() == "PONG"
    assert query_buffer(raw.read_reply())[0] == 14 + 26 + 14
    assert raw.read_reply() == "PONG"


def test_qbuf_of_a_partial_command_seen_by_another_client(server, raw):
    sender = server.raw()
    try:
        sender_id = sender.call("CLIENT", "ID")
        sender.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$400000\r\n" + b"x" * 200000)
        deadline = time.time() + 5
        while query_buffer(client_line(raw, sender_id))[0] < 200000 and time.time() < deadline:
            time.sleep(0.01)
        qbuf, free = query_buffer(client_line(raw, sender_id))
        assert qbuf == 200000 and qbuf + free >= 400000  # room for the whole argument
        sender.send(b"x" * 200000 + b"\r\n")
        assert sender.read_reply() == "OK"
    finally:
        sender.close()


def test_query_buffer_kept_after_a_big_command_then_shrunk(server, raw):
    sender = server.raw()
    try:
        sender_id = sender.call("CLIENT", "ID")
        sender.command("SET", "k", "x" * 400000)
        assert sender.read_reply() == "OK"
        # right after it the buffer that held the command is still there
        qbuf, free = query_buffer(sender.call("CLIENT", "INFO"))
        assert qbuf + free > 32768
        # idle, it is given back (Redis: by its cron, once idle for 2 s)
        deadline = time.time() + 6
        while sum(query_buffer(client_line(raw, sender_id))) >= 400000 and time.time() < deadline:
            time.sleep(0.05)
        assert sum(query_buffer(client_line(raw, sender_id))) < 400000
    finally:
        sender.close()


# ---- item 4: clients held by CLIENT PAUSE count as blocked ----

def wait_blocked_clients(r, n, timeout=5):
    deadline = time.time() + timeout
    while r.info("clients")["blocked_clients"] != n and time.time() < deadline:
        time.sleep(0.01)
    return r.info("clients")["blocked_clients"]


@pytest.mark.parametrize("args", [("SET", "x", "1"), ("EVAL", "return 1", "0"), ("PUBLISH", "ch", "m")])
def test_clients_held_by_pause_are_blocked(server, r, args):
    held = server.raw()
    try:
        held_id = held.call("CLIENT", "ID")
        assert r.execute_command("CLIENT", "PAUSE", "100000", "WRITE") in (b"OK", True)
        try:
            held.command(*args)
            assert wait_blocked_clients(r, 1) == 1
            line = [entry for entry in r.client_list() if int(entry["id"]) == held_id][0]
            assert "b" in line["flags"] and line["cmd"] == args[0].lower()
        finally:
            r.execute_command("CLIENT", "UNPAUSE")
        assert held.read_reply() in ("OK", 1, 0)
        assert wait_blocked_clients(r, 0) == 0
    finally:
        held.close()


def test_held_client_that_disconnects_is_no_longer_blocked(server, r):
    held = server.raw()
    r.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    try:
        held.command("SET", "x", "1")
        assert wait_blocked_clients(r, 1) == 1
        held.close()
        assert wait_blocked_clients(r, 0) == 0
    finally:
        r.execute_command("CLIENT", "UNPAUSE")


# ---- item 3: CLIENT PAUSE WRITE lets read-only scripts run ----

READ_ONLY_SCRIPT = "#!lua flags=no-writes\nreturn 12"


@pytest.fixture
def paused_writes(r):
    r.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    yield
    r.execute_command("CLIENT", "UNPAUSE")


def test_pause_write_lets_read_only_scripts_run(server, r, paused_writes):
    sha = r.script_load(READ_ONLY_SCRIPT)
    conn = server.raw()
    try:
        conn.sock.settimeout(2)
        assert conn.call("EVAL", READ_ONLY_SCRIPT, "0") == 12
        assert conn.call("EVALSHA", sha, "0") == 12
        assert conn.call("MULTI") == "OK"
        assert conn.call("EVAL", READ_ONLY_SCRIPT, "0") == "QUEUED"
        assert conn.call("EVALSHA", sha, "0") == "QUEUED"
        assert conn.call("GET", "x") == "QUEUED"
        assert conn.call("EXEC") == [12, 12, None]
    finally:
        conn.close()


@pytest.mark.parametrize("script", ["return 1", "#!lua\nreturn 1"])
def test_pause_write_holds_scripts_that_may_write(server, r, paused_writes, script):
    conn = server.raw()
    try:
        conn.command("EVAL", script, "0")
        assert wait_blocked_clients(r, 1) == 1
        conn.command("MULTI")  # nothing runs behind the held command
        assert wait_blocked_clients(r, 1) == 1
    finally:
        r.execute_command("CLIENT", "UNPAUSE")
        assert conn.read_reply() == 1
        assert conn.read_reply() == "OK"
        conn.close()


def test_pause_write_holds_a_script_that_may_write_when_queued(server, r, paused_writes):
    conn = server.raw()
    try:
        assert conn.call("MULTI") == "OK"
        assert conn.call("EVAL", READ_ONLY_SCRIPT, "0") == "QUEUED"
        conn.command("EVAL", "#!lua\nreturn 2", "0")  # held before it is queued, as Redis holds it
        assert wait_blocked_clients(r, 1) == 1
    finally:
        r.execute_command("CLIENT", "UNPAUSE")
        assert conn.read_reply() == "QUEUED"
        assert conn.call("EXEC") == [12, 2]
        conn.close()


# ---- item 5: blocking moves into a destination of another type ----

MOVES = [("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"), ("BRPOPLPUSH", "src", "dst", "0")]


@pytest.mark.parametrize("args", MOVES)
def test_blocking_move_to_wrong_type_waits_then_refuses(server, r, args):
    r.set("dst", "string")
    r.config_resetstat()
    waiter = server.raw()
    try:
        waiter.command(*args)
        assert wait_blocked_clients(r, 1) == 1
        r.rpush("src", "e")
        reply = waiter.read_reply()
        assert isinstance(reply, tuple) and reply[1].startswith("WRONGTYPE"), reply
        assert wait_blocked_clients(r, 0) == 0
        assert r.lrange("src", 0, -1) == [b"e"]
        assert r.get("dst") == b"string"
        assert_counted(r, args[0].lower(), "WRONGTYPE")
    finally:
        waiter.close()


@pytest.mark.parametrize("args", MOVES)
def test_blocking_move_to_wrong_type_refuses_at_once_when_source_has_one(r, args):
    r.set("dst", "string")
    r.rpush("src", "e")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.execute_command(*args)
    assert r.lrange("src", 0, -1) == [b"e"]


def test_refused_blocking_move_leaves_the_element_to_the_next_waiter(server, r):
    r.set("dst", "string")
    mover, popper = server.raw(), server.raw()
    try:
        mover.command("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        assert wait_blocked_clients(r, 1) == 1
        popper.command("BLPOP", "src", "0")
        assert wait_blocked_clients(r, 2) == 2
        r.rpush("src", "e")
        assert mover.read_reply()[1].startswith("WRONGTYPE")
        assert popper.read_reply() == [b"src", b"e"]
        assert r.exists("src") == 0
    finally:
        mover.close()
        popper.close()


# ---- item 11: random picks are uniform in every encoding ----

LONG = "v" * 100  # past every *-max-listpack-value: forces the hash table


def chi_square(picks, population):
    """Pearson's statistic of `picks` against a uniform draw from
    `population`; fails at once on a pick outside it."""
    counts = dict.fromkeys(population, 0)
    for p in picks:
        counts[p] += 1
    expected = len(picks) / len(population)
    return sum((c - expected) ** 2 / expected for c in counts.values())


def picks_of(r, args, rounds=1):
    pipe = r.pipeline(transaction=False)
    for _ in range(rounds):
        pipe.execute_command(*args)
    out = []
    for reply in pipe.execute():
        out.extend(reply if isinstance(reply, list) else [reply])
    return out


def fill(r, kind, key, names, long_one):
    """Creates `key` of `kind` holding `names`; long_one makes one element
    (or value) long, so the collection is not packed."""
    if kind == "hash":
        r.hset(key, mapping={n: (LONG if long_one and i == 0 else "x") for i, n in enumerate(names)})
    elif kind == "set":
        r.sadd(key, *[(n + LONG if long_one and i == 0 else n) for i, n in enumerate(names)])
    else:
        r.zadd(key, {(n + LONG if long_one and i == 0 else n): i for i, n in enumerate(names)})
    return [m for m in (r.hkeys(key) if kind == "hash" else r.smembers(key) if kind == "set"
                        else r.zrange(key, 0, -1))]


RANDOM_COMMANDS = {"hash": "HRANDFIELD", "set": "SRANDMEMBER", "zset": "ZRANDMEMBER"}


@pytest.mark.parametrize("long_one", [False, True], ids=["packed", "table"])
@pytest.mark.parametrize("kind", ["hash", "set", "zset"])
def test_random_picks_with_repeats_are_uniform(r, kind, long_one):
    # Each run hashes under a new seed; several keys give several chain layouts
    for k in range(5):
        population = fill(r, kind, "c%d" % k, ["f%d" % i for i in range(10)], long_one)
        picks = picks_of(r, (RANDOM_COMMANDS[kind], "c%d" % k, -1000))
        assert len(picks) == 1000
        assert chi_square(picks, population) < 40


@pytest.mark.parametrize("kind", ["hash", "set", "zset"])
def test_single_random_picks_are_uniform(r, kind):
    for k in range(3):
        population = fill(r, kind, "c%d" % k, ["f%d" % i for i in range(10)], True)
        picks = picks_of(r, (RANDOM_COMMANDS[kind], "c%d" % k), rounds=1000)
        assert chi_square(picks, population) < 40


@pytest.mark.parametrize("kind", ["hash", "set"])
def test_random_samples_without_repeats_are_uniform(r, kind):
    # 5 of 40: small enough a part to be drawn one by one from the table
    population = fill(r, kind, "c", ["f%d" % i for i in range(40)], True)
    picks = picks_of(r, (RANDOM_COMMANDS[kind], "c", 5), rounds=400)
    assert len(picks) == 2000
    assert chi_square(picks, population) < 90  # 39 degrees of freedom


def test_randomkey_is_uniform(r):
    for k in range(3):
        r.flushall()
        names = ["key%d:%d" % (k, i) for i in range(10)]
        for n in names:
            r.set(n, "x")
        picks = [p.decode() for p in picks_of(r, ("RANDOMKEY",), rounds=1000)]
        assert chi_square(picks, names) < 40


def test_spop_is_uniform(r):
    names = ["f%d" % i for i in range(9)] + ["f9" + LONG]
    pipe = r.pipeline(transaction=False)
    for _ in range(1000):
        pipe.delete("c")
        pipe.sadd("c", *names)
        pipe.spop("c")
    picks = [p.decode() for p in pipe.execute()[2::3]]
    assert chi_square(picks, names) < 40


# ---- item 1: CONFIG SET port and bind rebind, or roll the whole call back ----

def connects(port):
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, socket_connect_timeout=2)
    try:
        return c.ping()
    except redis.ConnectionError:
        return False
    finally:
        c.close()


def test_config_set_port_listens_on_the_new_port(server, r):
    from conftest import free_port
    old, new = server.port, free_port()
    assert r.config_set("port", new)
    try:
        assert connects(new) and not connects(old)
        assert r.config_get("port") == {"port": str(new)}
        assert r.ping()  # clients already connected stay
    finally:
        r.config_set("port", old)
    assert connects(old) and not connects(new)


def test_config_set_port_in_use_rolls_the_call_back(server, r):
    import socket
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    try:
        before = r.config_get("maxmemory")["maxmemory"]
        for args in (("port", taken), ("maxmemory", "7mb", "port", taken), ("port", taken, "maxmemory", "7mb")):
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command("CONFIG", "SET", *args)
            assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'port') - "
                                    "Unable to listen on this port. Check server logs.")
            assert r.config_get("port") == {"port": str(server.port)}
            assert r.config_get("maxmemory") == {"maxmemory": before}
            assert connects(server.port)
    finally:
        holder.close()


def test_config_set_bind(server, r):
    old = r.config_get("bind")["bind"]
    try:
        assert r.config_set("bind", "127.0.0.1")
        assert r.config_get("bind") == {"bind": "127.0.0.1"}
        assert connects(server.port)
        # 192.0.2.1 (TEST-NET-1) is no address of this machine
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("CONFIG", "SET", "maxmemory-samples", "7", "bind", "127.0.0.1 192.0.2.1")
        assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'bind') - "
                                "Failed to bind to specified addresses.")
        assert r.config_get("bind") == {"bind": "127.0.0.1"}
        assert r.config_get("maxmemory-samples") == {"maxmemory-samples": "5"}
        assert connects(server.port)
        assert r.config_set("bind", "127.0.0.1 -192.0.2.1")  # optional: may fail
        assert connects(server.port)
    finally:
        r.config_set("bind", old)
    assert connects(server.port)


@runnel_only
@pytest.mark.parametrize("args", [("bind", "-192.0.2.1"), ("port", "0")])
def test_config_set_that_would_listen_nowhere_is_refused(server, r, args):
    # Redis accepts both and is then unreachable over TCP
    before = r.config_get(args[0])
    with pytest.raises(redis.ResponseError, match="possibly related to argument '%s'" % args[0]):
        r.config_set(*args)
    assert r.config_get(args[0]) == before
    assert connects(server.port)


# ---- item 8: the latency monitor ----

@pytest.fixture
def monitor(r):
    r.execute_command("LATENCY", "RESET")
    r.config_set("latency-monitor-threshold", 200)
    yield r
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("LATENCY", "RESET")


def text(reply):
    return reply.decode() if isinstance(reply, bytes) else reply


def test_latency_monitor_records_a_slow_command(monitor):
    r = monitor
    with pytest.raises(redis.ResponseError, match="^No samples available for event 'command'$"):
        r.execute_command("LATENCY", "GRAPH", "command")
    r.execute_command("DEBUG", "SLEEP", "0.3")
    latest = r.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    event, when, last, worst = latest[0]
    assert event == b"command" and abs(when - time.time()) < 5 and 300 <= last < 600 and worst == last
    history = r.execute_command("LATENCY", "HISTORY", "command")
    assert history == [[when, last]]
    assert r.execute_command("LATENCY", "HISTORY", "fork") == []
    graph = text(r.execute_command("LATENCY", "GRAPH", "command"))
    assert graph.startswith("command - high %d ms, low %d ms (all time high %d ms)\n" % (last, last, last))
    assert "command" in text(r.execute_command("LATENCY", "DOCTOR"))
    assert r.execute_command("LATENCY", "RESET", "nothing") == 0
    assert r.execute_command("LATENCY", "RESET", "command", "nothing") == 1
    assert r.execute_command("LATENCY", "LATEST") == []


def test_latency_monitor_keeps_one_sample_a_second_and_the_worst(monitor):
    r = monitor
    r.execute_command("DEBUG", "SLEEP", "0.3")
    r.execute_command("DEBUG", "SLEEP", "0.25")
    history = r.execute_command("LATENCY", "HISTORY", "command")
    assert 1 <= len(history) <= 2
    latest = r.execute_command("LATENCY", "LATEST")[0]
    assert latest[3] == max(ms for _, ms in history) >= 300
    assert latest[2] == history[-1][1]


def test_latency_monitor_off_or_below_threshold_records_nothing(monitor):
    r = monitor
    r.execute_command("DEBUG", "SLEEP", "0.1")
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("DEBUG", "SLEEP", "0.25")
    assert r.execute_command("LATENCY", "LATEST") == []


def test_latency_of_a_blocked_command_is_not_recorded(monitor):
    assert monitor.blpop("nothing", timeout=0.3) is None
    assert monitor.execute_command("LATENCY", "LATEST") == []


def test_forks_are_timed(r):
    before = r.info("stats")["total_forks"]
    r.bgsave()
    deadline = time.time() + 10
    while r.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
        time.sleep(0.02)
    stats = r.info("stats")
    assert stats["total_forks"] == before + 1
    assert stats["latest_fork_usec"] > 0


# ---- item 12: DEBUG LOADAOF and DEBUG RELOAD's options ----

def wait_aof_rewritten(r, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info.get("aof_rewrite_scheduled", 0):
            return
        time.sleep(0.02)
    raise AssertionError("the AOF rewrite did not end")


@pytest.fixture
def aof_on(r):
    r.config_set("appendonly", "yes")
    wait_aof_rewritten(r)
    yield r
    r.config_set("appendonly", "no")


def test_debug_loadaof_reloads_the_dataset_from_the_aof(aof_on):
    r = aof_on
    r.set("a", "1")
    r.rpush("l", "x", "y")
    r.hset("h", mapping={"f": "v"})
    digest = r.execute_command("DEBUG", "DIGEST")
    assert r.execute_command("DEBUG", "LOADAOF") in (b"OK", True)
    assert r.execute_command("DEBUG", "DIGEST") == digest
    assert r.get("a") == b"1" and r.lrange("l", 0, -1) == [b"x", b"y"]
    # a write just before it, in the same batch, is written first, not lost
    pipe = r.pipeline(transaction=False)
    pipe.set("b", "2")
    pipe.execute_command("DEBUG", "LOADAOF")
    pipe.execute()
    assert r.get("b") == b"2"
    # and the reload itself adds nothing to the AOF
    size = r.info("persistence")["aof_current_size"]
    r.execute_command("DEBUG", "LOADAOF")
    assert r.info("persistence")["aof_current_size"] == size


@runnel_only
def test_debug_loadaof_refused_without_aof(r):
    r.set("a", "1")
    with pytest.raises(redis.ResponseError, match="appendonly yes"):
        r.execute_command("DEBUG", "LOADAOF")
    assert r.get("a") == b"1"


def test_debug_reload_noflush_merge(r):
    r.set("a", "1")
    r.save()
    r.set("a", "2")
    r.set("b", "2")
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") in (b"OK", True)
    assert r.mget("a", "b") == [b"1", b"2"]  # the file's value wins, other keys stay
    r.set("a", "3")
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE", "MERGE") in (b"OK", True)
    assert r.mget("a", "b") == [b"1", None]  # flushed first: MERGE changes nothing
    with pytest.raises(redis.ResponseError, match="^DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.$"):
        r.execute_command("DEBUG", "RELOAD", "xyz")


@runnel_only
def test_debug_reload_noflush_over_the_same_key_fails_without_crashing(r):
    # Redis stops with "Duplicate key" here
    r.set("a", "1")
    r.save()
    with pytest.raises(redis.ResponseError, match="^Error trying to load the RDB dump"):
        r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
    assert r.ping()
