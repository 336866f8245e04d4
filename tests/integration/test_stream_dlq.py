"""Dead-letter streams of consumer groups (XGROUP CREATE ... MAXDELIVERIES n
DEADLETTER key, XGROUP SETDLQ): an entry past the group's delivery limit, or
given back with XNACK FATAL, goes to the dead-letter stream instead of being
delivered again, through every delivery path; the settings and the counter
survive the AOF (replay and rewrite), snapshots, DUMP/RESTORE and a replica;
XINFO shows them in RESP2 and RESP3; the `xdeadletter` event fires."""
import shutil
import threading
import time

import pytest
import redis

from conftest import RunnelProcess
from replication_helpers import digest, start_primary, start_replica, wait_caught_up, wait_for, wait_link_up
from test_redis_rdb import env  # noqa: F401  (the fixture of the redis-server replica test)
from test_aof import restart
from test_stream_aof import wait_rewrite

META = [b"dlq-stream", b"dlq-id", b"dlq-group", b"dlq-consumer", b"dlq-deliveries", b"dlq-reason"]


@pytest.fixture(scope="module")
def srv():
    s = RunnelProcess()
    yield s
    s.stop()


@pytest.fixture
def r(srv):
    c = srv.client()
    c.flushall()
    yield c
    c.config_set("notify-keyspace-events", "")


def pairs(flat):
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def dead(r, key="dlq"):
    """The dead-letter stream's entries as dicts (field order checked)."""
    out = []
    for _, fields in r.xrange(key):
        assert list(fields)[:6] == META
        out.append(fields)
    return out


def group_info(r, key="s", group="g"):
    return next(g for g in r.xinfo_groups(key) if g["name"] == group.encode())


def make_group(r, n=3, max_deliveries=2, **kw):
    ids = [r.xadd("s", {"n": str(i)}) for i in range(n)]
    r.execute_command("XGROUP", "CREATE", "s", "g", "0", "MAXDELIVERIES", max_deliveries, "DEADLETTER", "dlq")
    return ids


# ---- settings and errors ----

def test_create_options_and_errors(r):
    r.xadd("s", {"a": 1})
    ex = r.execute_command
    assert ex("XGROUP", "CREATE", "s", "g", "$", "MAXDELIVERIES", 3, "DEADLETTER", "dlq") == b"OK"
    assert ex("XGROUP", "CREATE", "s2", "g", "0", "MKSTREAM", "ENTRIESREAD", 0, "DEADLETTER", "d",
              "MAXDELIVERIES", 1) == b"OK"
    info = group_info(r, "s2")
    assert (info["max-deliveries"], info["dead-letter-key"], info["dead-lettered"]) == (1, b"d", 0)
    for args, msg in [
        (("MAXDELIVERIES", 3), "MAXDELIVERIES and DEADLETTER must be given together"),
        (("DEADLETTER", "x"), "MAXDELIVERIES and DEADLETTER must be given together"),
        (("MAXDELIVERIES", 0, "DEADLETTER", "x"), "MAXDELIVERIES must be a positive integer"),
        (("MAXDELIVERIES", "x", "DEADLETTER", "x"), "MAXDELIVERIES must be a positive integer"),
        (("MAXDELIVERIES", 2, "DEADLETTER", "s"), "the dead-letter stream must be another key"),
        (("FOO",), "unknown subcommand or wrong number of arguments for 'CREATE'"),
        (("MAXDELIVERIES",), "unknown subcommand or wrong number of arguments for 'CREATE'"),
        (("MKSTREAM",) * 4, "unknown subcommand or wrong number of arguments for 'CREATE'"),
    ]:
        with pytest.raises(redis.ResponseError, match=msg):
            ex("XGROUP", "CREATE", "s", "h", "$", *args)
    assert len(r.xinfo_groups("s")) == 1


def test_setdlq_sets_changes_and_removes(r):
    r.xadd("s", {"a": 1})
    r.xgroup_create("s", "g", "0")
    ex = r.execute_command
    assert set(group_info(r)) == {"name", "consumers", "pending", "last-delivered-id", "entries-read", "lag"}
    assert ex("XGROUP", "SETDLQ", "s", "g", "dlq", "MAXDELIVERIES", 5) == b"OK"
    assert group_info(r)["max-deliveries"] == 5
    assert ex("XGROUP", "SETDLQ", "s", "g", "dlq2", "MAXDELIVERIES", 2, "DEADLETTERED", 7) == b"OK"
    info = group_info(r)
    assert (info["max-deliveries"], info["dead-letter-key"], info["dead-lettered"]) == (2, b"dlq2", 7)
    assert ex("XGROUP", "SETDLQ", "s", "g", "dlq2", "MAXDELIVERIES", 3) == b"OK"
    assert group_info(r)["dead-lettered"] == 7  # changing the limit keeps the counter
    assert ex("XGROUP", "SETDLQ", "s", "g", "NONE") == b"OK"
    assert "max-deliveries" not in group_info(r)
    for args, msg in [
        (("s", "g", "dlq"), "needs MAXDELIVERIES"),
        (("s", "g", "dlq", "MAXDELIVERIES"), "syntax error"),
        (("s", "g", "dlq", "MAXDELIVERIES", 0), "MAXDELIVERIES must be a positive integer"),
        (("s", "g", "dlq", "MAXDELIVERIES", 2, "BOGUS", 1), "syntax error"),
        (("s", "g", "s", "MAXDELIVERIES", 2), "the dead-letter stream must be another key"),
        (("s", "nope", "NONE"), "NOGROUP No such consumer group 'nope' for key name 's'"),
        (("missing", "g", "NONE"), "requires the key to exist"),
    ]:
        with pytest.raises(redis.ResponseError, match=msg):
            ex("XGROUP", "SETDLQ", *args)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        ex("XGROUP", "SETDLQ", "s", "g")
    help_text = b"\n".join(ex("XGROUP", "HELP"))
    assert b"SETDLQ" in help_text and b"MAXDELIVERIES" in help_text


def test_getkeys_names_the_dead_letter_key(srv):
    raw = srv.raw()
    ex = raw.call
    assert ex("COMMAND", "GETKEYS", "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM", "MAXDELIVERIES", "2",
              "DEADLETTER", "d") == [b"s", b"d"]
    assert ex("COMMAND", "GETKEYS", "XGROUP", "CREATE", "s", "g", "$") == [b"s"]
    assert ex("COMMAND", "GETKEYS", "XGROUP", "SETDLQ", "s", "g", "d", "MAXDELIVERIES", "2") == [b"s", b"d"]
    assert ex("COMMAND", "GETKEYS", "XGROUP", "SETDLQ", "s", "g", "NONE") == [b"s"]
    raw.close()


def test_xinfo_in_resp2_and_resp3(srv, r):
    make_group(r, n=1, max_deliveries=1)
    r.xreadgroup("g", "c", {"s": ">"})
    r.xclaim("s", "g", "c", 0, [r.xrange("s")[0][0]])
    raw = srv.raw()
    flat = raw.call("XINFO", "GROUPS", "s")[0]
    g2 = pairs(flat)
    assert (g2[b"max-deliveries"], g2[b"dead-letter-key"], g2[b"dead-lettered"]) == (1, b"dlq", 1)
    assert len(flat) == 18
    assert raw.call("HELLO", "3")["proto"] == 3
    g3 = raw.call("XINFO", "GROUPS", "s")[0]
    assert (g3["max-deliveries"], g3["dead-letter-key"], g3["dead-lettered"]) == (1, b"dlq", 1)
    full = raw.call("XINFO", "STREAM", "s", "FULL")
    grp = full["groups"][0]
    assert (grp["max-deliveries"], grp["dead-letter-key"], grp["dead-lettered"]) == (1, b"dlq", 1)
    raw.close()


# ---- delivery paths ----

def test_xreadgroup_claim_dead_letters_past_the_limit(r):
    ids = make_group(r, n=2, max_deliveries=2)
    assert len(r.xreadgroup("g", "c1", {"s": ">"}, count=1)[0][1]) == 1  # delivery 1 of ids[0]
    got = r.execute_command("XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "CLAIM", "0", "STREAMS", "s", ">")
    assert got[0][1][0][0] == ids[0]  # delivery 2
    # the third delivery of ids[0] would pass the limit: it goes to the dlq,
    # and the read goes on with the new entry
    got = r.execute_command("XREADGROUP", "GROUP", "g", "c3", "COUNT", "1", "CLAIM", "0", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [ids[1]]
    [d] = dead(r)
    assert d == {b"dlq-stream": b"s", b"dlq-id": ids[0], b"dlq-group": b"g", b"dlq-consumer": b"c2",
                 b"dlq-deliveries": b"2", b"dlq-reason": b"maxdeliveries", b"n": b"0"}
    assert [p["message_id"] for p in r.xpending_range("s", "g", "-", "+", 10)] == [ids[1]]
    assert group_info(r)["dead-lettered"] == 1


def test_xreadgroup_claim_with_only_poison_answers_nothing(srv, r):
    ids = make_group(r, n=1, max_deliveries=1)
    r.xreadgroup("g", "c1", {"s": ">"})
    raw = srv.raw()
    assert raw.call("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "0", "STREAMS", "s", ">") is None
    raw.close()
    assert dead(r)[0][b"dlq-id"] == ids[0]


def test_blocked_claim_reader_dead_letters_when_woken(srv, r):
    """A blocked XREADGROUP ... CLAIM woken by a new entry first moves what
    became due while it waited, then gets the new entry."""
    ids = make_group(r, n=1, max_deliveries=1)
    r.xreadgroup("g", "c1", {"s": ">"})
    got = {}

    def reader():
        raw = srv.raw()
        got["r"] = raw.call("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "150", "BLOCK", "3000", "STREAMS", "s", ">")
        raw.close()

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)  # ids[0] is idle long enough now, but nothing woke the reader
    assert r.xlen("dlq") == 0
    new = r.xadd("s", {"n": "new"})
    t.join(5)
    assert [e[0] for e in got["r"][0][1]] == [new]
    assert [d[b"dlq-id"] for d in dead(r)] == ids


def test_acl_needs_write_access_to_the_dead_letter_key(srv, r):
    r.xadd("s", {"a": 1})
    r.execute_command("ACL", "SETUSER", "dlquser", "on", "nopass", "~s*", "+@all")
    try:
        c = srv.client(username="dlquser", password="x")
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MAXDELIVERIES", 2, "DEADLETTER", "other")
        # a second DEADLETTER would name a key the ACL check did not see
        with pytest.raises(redis.ResponseError, match="^DEADLETTER may be given only once$"):
            c.execute_command("XGROUP", "CREATE", "s", "g", "$", "DEADLETTER", "s:dead", "DEADLETTER", "other",
                              "MAXDELIVERIES", 2)
        assert not c.xinfo_groups("s")
        assert c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MAXDELIVERIES", 2, "DEADLETTER", "s:dead")
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.execute_command("XGROUP", "SETDLQ", "s", "g", "other", "MAXDELIVERIES", 2)
        c.close()
    finally:
        r.execute_command("ACL", "DELUSER", "dlquser")


def test_history_read_dead_letters_past_the_limit(r):
    ids = make_group(r, n=3, max_deliveries=2)
    r.xreadgroup("g", "c", {"s": ">"})
    r.xreadgroup("g", "c", {"s": "0"}, count=1)  # ids[0] delivered twice
    got = r.xreadgroup("g", "c", {"s": "0"})
    assert [e[0] for e in got[0][1]] == ids[1:]
    assert [d[b"dlq-id"] for d in dead(r)] == [ids[0]]


def test_xclaim_dead_letters_but_not_justid_or_retrycount(r):
    ids = make_group(r, n=3, max_deliveries=1)
    r.xreadgroup("g", "c1", {"s": ">"})
    assert r.xclaim("s", "g", "c2", 0, ids) == []
    assert [d[b"dlq-id"] for d in dead(r)] == ids
    assert r.xpending("s", "g")["pending"] == 0
    r.xadd("s", {"n": "3"})
    [new] = [e[0] for e in r.xreadgroup("g", "c1", {"s": ">"})[0][1]]
    assert r.xclaim("s", "g", "c2", 0, [new], justid=True) == [new]
    assert r.xclaim("s", "g", "c2", 0, [new], retrycount=5) != []
    assert len(dead(r)) == 3


def test_xautoclaim_dead_letters_and_keeps_going(srv, r):
    ids = make_group(r, n=4, max_deliveries=1)
    raw = srv.raw()
    r.xreadgroup("g", "c1", {"s": ">"}, count=2)  # ids[0], ids[1] delivered once
    r.xreadgroup("g", "c1", {"s": ">"})  # ids[2], ids[3]
    r.xclaim("s", "g", "c1", 0, [ids[2]], retrycount=0)  # ids[2] may be delivered once more
    cursor, claimed, deleted = raw.call("XAUTOCLAIM", "s", "g", "c2", "0", "0")
    assert [e[0] for e in claimed] == [ids[2]] and deleted == []
    assert [d[b"dlq-id"] for d in dead(r)] == [ids[0], ids[1], ids[3]]
    assert raw.call("XAUTOCLAIM", "s", "g", "c2", "0", "0", "JUSTID")[1] == [ids[2]]
    assert len(dead(r)) == 3
    raw.close()


def test_xautoclaim_count_includes_moved_entries(srv, r):
    ids = make_group(r, n=3, max_deliveries=1)
    r.xreadgroup("g", "c1", {"s": ">"})
    raw = srv.raw()
    cursor, claimed, deleted = raw.call("XAUTOCLAIM", "s", "g", "c2", "0", "0", "COUNT", "2")
    assert (cursor, claimed, deleted) == (ids[2], [], [])
    assert [d[b"dlq-id"] for d in dead(r)] == ids[:2]
    raw.close()


def test_xnack_fatal_fail_and_restore_forms(r):
    ids = make_group(r, n=4, max_deliveries=2)
    r.xreadgroup("g", "c1", {"s": ">"})
    ex = r.execute_command
    assert ex("XNACK", "s", "g", "FATAL", "IDS", 1, ids[0]) == 1
    d = dead(r)[0]
    assert (d[b"dlq-id"], d[b"dlq-reason"], d[b"dlq-consumer"], d[b"dlq-deliveries"]) == (ids[0], b"fatal", b"c1", b"1")
    assert ex("XNACK", "s", "g", "FAIL", "IDS", 1, ids[1]) == 1  # 1 of 2 deliveries: released
    assert len(dead(r)) == 1
    r.xclaim("s", "g", "c1", 0, [ids[2]])  # 2 of 2: it could only come back past the limit
    assert ex("XNACK", "s", "g", "FAIL", "IDS", 2, ids[2], ids[3]) == 2
    assert [d[b"dlq-id"] for d in dead(r)] == [ids[0], ids[2]]
    assert dead(r)[1][b"dlq-reason"] == b"maxdeliveries"
    assert [p["message_id"] for p in r.xpending_range("s", "g", "-", "+", 10)] == [ids[1], ids[3]]
    # FORCE and RETRYCOUNT set the PEL exactly and never move anything
    assert ex("XNACK", "s", "g", "FATAL", "IDS", 1, ids[1], "RETRYCOUNT", 9) == 1
    assert ex("XNACK", "s", "g", "FATAL", "IDS", 1, ids[3], "FORCE") == 1
    assert len(dead(r)) == 2
    assert group_info(r)["dead-lettered"] == 2


def test_xnack_fatal_without_dead_letter_stream_keeps_redis_behaviour(r):
    ids = [r.xadd("s", {"a": 1})]
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.execute_command("XNACK", "s", "g", "FATAL", "IDS", 1, ids[0]) == 1
    assert r.xpending_range("s", "g", "-", "+", 10)[0]["times_delivered"] == 2 ** 63 - 1
    assert r.exists("dlq") == 0


def test_wrong_type_dead_letter_key_delivers_as_usual(r):
    ids = make_group(r, n=1, max_deliveries=1)
    r.set("dlq", "not a stream")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.xclaim("s", "g", "c2", 0, ids)[0][0] == ids[0]
    assert group_info(r)["dead-lettered"] == 0
    r.delete("dlq")
    assert r.xclaim("s", "g", "c2", 0, ids) == []
    assert len(dead(r)) == 1


def test_renamed_onto_its_dead_letter_key_moves_nothing(r):
    ids = make_group(r, n=1, max_deliveries=1)
    r.xreadgroup("g", "c", {"s": ">"})
    r.rename("s", "dlq")
    assert r.xclaim("dlq", "g", "c2", 0, ids)[0][0] == ids[0]
    assert r.xlen("dlq") == 1


def test_keyspace_events_and_blocked_dead_letter_reader(srv, r):
    ids = make_group(r, n=1, max_deliveries=1)
    r.config_set("notify-keyspace-events", "KEA")
    p = srv.client().pubsub()
    p.psubscribe("__key*__:*")
    time.sleep(0.05)
    got = {}

    def reader():
        c = srv.client()
        got["r"] = c.xread({"dlq": "$"}, block=3000)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.1)
    r.xreadgroup("g", "c", {"s": ">"})
    r.xclaim("s", "g", "c", 0, ids)
    t.join(5)
    assert got["r"][0][1][0][1][b"dlq-id"] == ids[0]
    events = []
    deadline = time.time() + 2
    while time.time() < deadline and len(events) < 20:
        m = p.get_message(timeout=0.1)
        if m and m["type"] == "pmessage":
            events.append((m["channel"], m["data"]))
    assert (b"__keyevent@0__:xdeadletter", b"s") in events
    assert (b"__keyspace@0__:s", b"xdeadletter") in events
    assert (b"__keyevent@0__:xadd", b"dlq") in events
    p.close()


def test_transaction_and_copy_and_dump_restore(r):
    ids = make_group(r, n=2, max_deliveries=1)
    r.xreadgroup("g", "c", {"s": ">"})
    pipe = r.pipeline(transaction=True)
    pipe.xclaim("s", "g", "c2", 0, ids[:1])
    pipe.xlen("dlq")
    assert pipe.execute() == [[], 1]
    assert r.copy("s", "s-copy")
    assert group_info(r, "s-copy")["dead-letter-key"] == b"dlq"
    payload = r.dump("s")
    r.restore("s-restored", 0, payload)
    info = group_info(r, "s-restored")
    assert (info["max-deliveries"], info["dead-letter-key"], info["dead-lettered"]) == (1, b"dlq", 1)
    assert r.xclaim("s-restored", "g", "c2", 0, ids[1:]) == []
    assert r.xlen("dlq") == 2
    assert dead(r)[1][b"dlq-stream"] == b"s-restored"


def test_metrics_count_dead_lettered_entries():
    from test_metrics import scrape, start, value
    srv = start()
    try:
        r = srv.client()
        ids = make_group(r, n=2, max_deliveries=1)
        r.xgroup_create("s", "plain", "0")
        r.xreadgroup("g", "c", {"s": ">"})
        r.xclaim("s", "g", "c2", 0, ids)
        samples, types = scrape(srv.http_port)
        assert types["runnel_stream_group_dead_lettered"] == "counter"
        assert value(samples, "runnel_stream_group_dead_lettered_total", db="db0", stream="s", group="g") == 2
        assert ("runnel_stream_group_dead_lettered_total",
                frozenset(dict(db="db0", stream="s", group="plain").items())) not in samples
    finally:
        srv.stop()


def test_settings_beside_a_retention_policy_survive_reload_and_dump(r):
    """A stream with both a group's dead-letter settings (encoding 3) and a
    retention policy (the tag's flag) keeps both."""
    make_group(r, n=2, max_deliveries=2)
    r.execute_command("XCFGSET", "s", "RETENTION-MAXLEN", 1000)
    payload = r.dump("s")
    assert r.execute_command("DEBUG", "RELOAD") in (True, b"OK")
    r.restore("s2", 0, payload)
    for key in ("s", "s2"):
        assert r.xinfo_stream(key)["retention-maxlen"] == 1000
        assert group_info(r, key)["dead-letter-key"] == b"dlq"


# ---- persistence and replication ----

def state(c):
    out = {}
    for key in sorted(c.keys("*")):
        if c.type(key) != b"stream":
            continue
        groups = [sorted(g.items()) for g in c.xinfo_groups(key)]
        pel = [(g[0][1], [(p["message_id"], p["consumer"], p["times_delivered"])
                          for p in c.xpending_range(key, dict(g)["name"], "-", "+", 100)]) for g in groups]
        out[key] = (c.xrange(key), groups, pel)
    return out


def workload(c):
    ids = [c.xadd("s", {"n": str(i)}) for i in range(6)]
    c.execute_command("XGROUP", "CREATE", "s", "g", "0", "MAXDELIVERIES", 2, "DEADLETTER", "dlq")
    c.xgroup_create("s", "other", "0")
    c.xreadgroup("g", "c1", {"s": ">"})
    c.xclaim("s", "g", "c2", 0, ids[:2])
    c.xclaim("s", "g", "c2", 0, ids[:1])  # ids[0] dead-lettered
    c.execute_command("XAUTOCLAIM", "s", "g", "c3", 0, 0, "COUNT", 2)  # ids[1] dead-lettered, ids[2] claimed
    c.execute_command("XNACK", "s", "g", "FATAL", "IDS", 1, ids[3])
    c.execute_command("XNACK", "s", "g", "FAIL", "IDS", 1, ids[4])
    c.execute_command("XREADGROUP", "GROUP", "g", "c4", "CLAIM", "0", "STREAMS", "s", ">")  # ids[2] moved
    c.eval("return redis.call('XCLAIM', KEYS[1], 'g', 'c5', 0, ARGV[1])", 1, "s", ids[4])  # moved in a script
    return ids


def test_aof_replay_and_rewrite_keep_everything():
    srv = RunnelProcess("--appendonly", "yes")
    try:
        c = srv.client()
        workload(c)
        before = state(c)
        assert len(before[b"dlq"][0]) == 5
        srv = restart(srv)
        assert state(srv.client()) == before
        srv.client().bgrewriteaof()
        wait_rewrite(srv.client())
        srv = restart(srv)
        assert state(srv.client()) == before
        # the limit still applies after the restarts
        c = srv.client()
        c.xclaim("s", "g", "c9", 0, [p["message_id"] for p in c.xpending_range("s", "g", "-", "+", 10)])
        assert c.xlen("dlq") == 6  # ids[5] had its two deliveries
    finally:
        srv.stop()


def test_rewrite_without_preamble_keeps_a_group_renamed_onto_its_dead_letter_key():
    """The rewritten file says XGROUP SETDLQ dlq g dlq ...: loading it keeps
    the settings, though a client may not give that command."""
    srv = RunnelProcess("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    try:
        c = srv.client()
        make_group(c, n=1, max_deliveries=1)
        c.rename("s", "dlq")
        with pytest.raises(redis.ResponseError, match="must be another key"):
            c.execute_command("XGROUP", "SETDLQ", "dlq", "g", "dlq", "MAXDELIVERIES", 1)
        before = state(c)
        c.bgrewriteaof()
        wait_rewrite(c)
        srv = restart(srv, "--aof-use-rdb-preamble", "no")
        assert state(srv.client()) == before
        assert group_info(srv.client(), "dlq")["dead-letter-key"] == b"dlq"
    finally:
        srv.stop()


def test_snapshot_and_debug_reload_keep_settings(tmp_path):
    srv = RunnelProcess()
    try:
        c = srv.client()
        workload(c)
        before = state(c)
        assert c.execute_command("DEBUG", "RELOAD") in (True, b"OK")
        assert state(c) == before
        assert c.save()
        srv.stop()
        srv = restart(srv, "--appendonly", "no")
        assert state(srv.client()) == before
        assert group_info(srv.client())["dead-lettered"] == 5
    finally:
        srv.stop()


def test_replica_applies_the_same_moves():
    primary = start_primary()
    replica = start_replica(primary)
    try:
        wait_link_up(replica)
        c = primary.client()
        workload(c)
        wait_caught_up(primary, replica)
        assert state(replica.client()) == state(c)
        assert digest(replica) == digest(primary)
        assert group_info(replica.client())["dead-lettered"] == 5
    finally:
        replica.stop()
        primary.stop()


def test_redis_server_replica_resyncs_after_a_move(env):  # noqa: F811
    """redis-server has no dead-letter settings: the RDB it gets leaves them
    out, and the XGROUP SETDLQ a move logs drops its link into a full resync
    that brings the move's effect."""
    from test_redis_rdb import REDIS_SERVER
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server not installed")
    dst = env.runnel(None, "--repl-diskless-sync-delay", "0")
    b = dst.client()
    ids = make_group(b, n=2, max_deliveries=1)
    b.xreadgroup("g", "c", {"s": ">"})
    rep = env.redis("--replicaof", "127.0.0.1", str(dst.port)).client()
    wait_for(lambda: rep.info("replication")["master_link_status"] == "up", what="the link")
    assert [g["name"] for g in rep.xinfo_groups("s")] == [b"g"]
    assert "its dead-letter settings are left out of the RDB" in open(dst.log_path).read()
    b.xclaim("s", "g", "c2", 0, ids[:1])
    wait_for(lambda: "not Runnel and can't apply XGROUP" in open(dst.log_path).read(), what="the refusal")
    wait_for(lambda: rep.info("replication")["master_link_status"] == "up" and rep.exists("dlq"),
             what="the full resync")
    assert rep.xrange("dlq") == b.xrange("dlq")
    assert [p["message_id"] for p in rep.xpending_range("s", "g", "-", "+", 10)] == ids[1:]
    b.execute_command("XGROUP", "CREATE", "s", "g2", "$", "MAXDELIVERIES", 1, "DEADLETTER", "dlq")
    wait_for(lambda: open(dst.log_path).read().count("can't apply XGROUP") == 2, what="the second refusal")
    wait_for(lambda: rep.info("replication")["master_link_status"] == "up" and len(rep.xinfo_groups("s")) == 2,
             what="the second resync")


def random_ops(c, raw, rnd, steps):
    """A random mix of everything that delivers, releases, moves or
    acknowledges, on one stream with three groups (two with dead-letter
    streams); errors (a missing ID and the like) are part of the mix. The
    commands whose replies redis-py would parse go through `raw`."""
    c.xadd("s", {"f": "0"})
    c.execute_command("XGROUP", "CREATE", "s", "g1", "0", "MAXDELIVERIES", 2, "DEADLETTER", "d1")
    c.execute_command("XGROUP", "CREATE", "s", "g2", "0", "MAXDELIVERIES", 3, "DEADLETTER", "d2")
    c.xgroup_create("s", "g3", "0")
    ex = raw.call
    for i in range(steps):
        g, who = rnd.choice(["g1", "g2", "g2", "g3"]), rnd.choice(["a", "b", "c"])
        pending = [p["message_id"] for p in c.xpending_range("s", g, "-", "+", 50)]
        some = rnd.sample(pending, min(len(pending), rnd.randint(1, 3))) or ["0-1"]
        op = rnd.randrange(12)
        try:
            if op < 3:
                c.xadd("s", {"f": str(i)})
            elif op == 3:
                ex("XREADGROUP", "GROUP", g, who, "COUNT", rnd.randint(1, 4), "STREAMS", "s", ">")
            elif op == 4:
                ex("XREADGROUP", "GROUP", g, who, "COUNT", rnd.randint(1, 4), "CLAIM", 0, "STREAMS", "s", ">")
            elif op == 5:
                ex("XREADGROUP", "GROUP", g, who, "COUNT", 3, "STREAMS", "s", "0")
            elif op == 6:
                ex("XCLAIM", "s", g, who, 0, *some, *rnd.choice([[], [], ["JUSTID"], ["RETRYCOUNT", 1]]))
            elif op == 7:
                ex("XAUTOCLAIM", "s", g, who, 0, "0", "COUNT", rnd.randint(1, 4), *rnd.choice([[], ["JUSTID"]]))
            elif op == 8:
                mode = rnd.choice(["SILENT", "FAIL", "FAIL", "FATAL"])
                ex("XNACK", "s", g, mode, "IDS", len(some), *some, *rnd.choice([[], [], ["FORCE"], ["RETRYCOUNT", 2]]))
            elif op == 9:
                c.xack("s", g, *some)
            elif op == 10 and rnd.random() < 0.3:
                c.xdel("s", rnd.choice(some))
            elif op == 11 and rnd.random() < 0.2:
                if rnd.random() < 0.5:
                    ex("XGROUP", "SETDLQ", "s", "g1", "NONE")
                else:
                    ex("XGROUP", "SETDLQ", "s", "g1", rnd.choice(["d1", "d3"]), "MAXDELIVERIES", rnd.randint(1, 3))
        except redis.ResponseError:
            pass


@pytest.mark.parametrize("seed", [1, 2])
def test_random_workload_same_on_replica_after_replay_and_rewrite(seed):
    import random
    primary = start_primary("--appendonly", "yes")
    replica = start_replica(primary)
    try:
        wait_link_up(replica)
        c = primary.client()
        raw = primary.raw()
        random_ops(c, raw, random.Random(seed), 500)
        raw.close()
        assert sum(c.xlen(k) for k in ("d1", "d2", "d3") if c.exists(k)) > 0
        before, want = state(c), digest(primary)
        wait_caught_up(primary, replica)
        assert digest(replica) == want
        assert state(replica.client()) == before
        replica.stop()
        primary = restart(primary)
        assert digest(primary) == want
        primary.client().bgrewriteaof()
        wait_rewrite(primary.client())
        primary = restart(primary)
        assert digest(primary) == want
        assert state(primary.client()) == before
    finally:
        replica.stop()
        primary.stop()


# ---- a worker loop ----

def test_worker_loop_sends_the_poison_message_to_the_dlq_after_n_tries(srv, r):
    """Good messages flow; a worker crashes (gives the entry back with
    XNACK FAIL) on the poison one every time; after 3 tries it is in the
    dead-letter stream and the workers stop seeing it."""
    r.execute_command("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM", "MAXDELIVERIES", 3,
                      "DEADLETTER", "jobs:dead")
    poison = None
    for i in range(60):
        mid = r.xadd("jobs", {"job": "poison" if i == 20 else "ok-%d" % i})
        if i == 20:
            poison = mid
    done, tries = [], 0
    w = srv.raw()
    for _ in range(200):
        got = w.call("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "5", "CLAIM", "0", "STREAMS", "jobs", ">")
        if not got:
            break
        for mid, fields, *_ in got[0][1]:
            fields = pairs(fields)
            if fields[b"job"] == b"poison":
                tries += 1
                w.call("XNACK", "jobs", "workers", "FAIL", "IDS", 1, mid)
            else:
                w.call("XACK", "jobs", "workers", mid)
                done.append(mid)
    w.close()
    assert tries == 3
    assert len(done) == 59
    [d] = dead(r, "jobs:dead")
    assert d[b"dlq-id"] == poison and d[b"dlq-deliveries"] == b"3" and d[b"dlq-consumer"] == b"w1"
    assert r.xpending("jobs", "workers")["pending"] == 0


# ---- cluster ----

def while_cluster_down(c, *args, timeout=10):
    """Runs a command, again while the one-node cluster reports itself down:
    on a loaded machine its etcd session can lapse and come back (seen in a
    full run next to other builds); that is not what these tests look at."""
    deadline = time.time() + timeout
    while True:
        try:
            return c.execute_command(*args)
        except redis.ResponseError as e:
            if not str(e).startswith("CLUSTERDOWN") or time.time() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd not installed")
def test_cluster_refuses_a_dead_letter_key_in_another_slot():
    from cluster_helpers import Etcd, start_node
    etcd = Etcd()
    node = start_node(etcd, "dlq")
    try:
        c = node.client()
        c.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.time() + 10
        while b"cluster_state:ok" not in c.execute_command("CLUSTER", "INFO"):
            assert time.time() < deadline
            time.sleep(0.05)
        with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
            while_cluster_down(c, "XGROUP", "CREATE", "jobs", "g", "$", "MKSTREAM", "MAXDELIVERIES", 2,
                               "DEADLETTER", "jobs:dead")
        assert while_cluster_down(c, "XGROUP", "CREATE", "{jobs}", "g", "$", "MKSTREAM", "MAXDELIVERIES", 2,
                                  "DEADLETTER", "{jobs}:dead") == b"OK"
        with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
            while_cluster_down(c, "XGROUP", "SETDLQ", "{jobs}", "g", "elsewhere", "MAXDELIVERIES", 2)
        assert while_cluster_down(c, "XGROUP", "SETDLQ", "{jobs}", "g", "NONE") == b"OK"
    finally:
        node.stop()
        etcd.stop()
