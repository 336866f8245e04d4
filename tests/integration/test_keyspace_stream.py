"""Keyspace events into a stream: notify-keyspace-events-stream <key> and
notify-keyspace-events-stream-maxlen <n>. Every event notify-keyspace-events
selects is appended (fields db, event, key) to that stream in database 0; a
consumer group reads them with acknowledgements across a consumer's
disconnect and a server restart; the AOF and a replica hold the same
entries with the same IDs."""
import threading
import time

import pytest

from conftest import RunnelProcess, assert_no_sanitizer_report, wait_blocked
from replication_helpers import start_primary, start_replica, wait_caught_up, wait_for, wait_link_up
from test_aof import restart


def events(r, key="ev", start="-"):
    """[(db, event, key)] of the events stream, oldest first."""
    out = []
    for _, fields in r.xrange(key, start, "+"):
        out.append((int(fields[b"db"]), fields[b"event"].decode(), fields[b"key"].decode()))
    return out


@pytest.fixture
def srv():
    s = RunnelProcess("--notify-keyspace-events", "KEA", "--notify-keyspace-events-stream", "ev")
    yield s
    assert_no_sanitizer_report(s)


def test_config_get_set(srv):
    r = srv.client()
    assert r.config_get("notify-keyspace-events-stream*") == {
        "notify-keyspace-events-stream": "ev", "notify-keyspace-events-stream-maxlen": "100000"}
    assert r.config_set("notify-keyspace-events-stream-maxlen", "50")
    assert r.config_get("notify-keyspace-events-stream-maxlen")["notify-keyspace-events-stream-maxlen"] == "50"
    with pytest.raises(Exception):
        r.config_set("notify-keyspace-events-stream-maxlen", "-1")
    assert r.config_set("notify-keyspace-events-stream", "")
    r.set("a", "1")
    assert r.exists("ev") == 0  # "" records nothing
    assert r.config_set("notify-keyspace-events-stream", "other")
    r.set("a", "2")
    assert events(r, "other") == [(0, "set", "a")]


def test_events_are_recorded_with_db_event_and_key(srv):
    r = srv.client()
    r.set("a", "1")
    r.lpush("l", "x")
    r.delete("a")
    r3 = srv.client(db=3)
    r3.hset("h", "f", "v")
    r.get("nothing")  # keymiss is not selected by A
    assert events(r) == [(0, "set", "a"), (0, "lpush", "l"), (0, "del", "a"), (3, "hset", "h")]
    # the classes of notify-keyspace-events decide; K and E do not matter
    r.config_set("notify-keyspace-events", "g")
    r.set("s", "1")
    r.delete("s")
    assert events(r)[-1] == (0, "del", "s") and (0, "set", "s") not in events(r)


def test_events_about_the_stream_itself_are_not_recorded(srv):
    r = srv.client()
    r.set("a", "1")
    r.xgroup_create("ev", "g", "0")
    r.xreadgroup("g", "c", {"ev": ">"})
    r.xadd("ev", {"db": "0", "event": "by-hand", "key": "k"})
    r.xtrim("ev", maxlen=10)
    # in another database, a key of the same name is just a key
    srv.client(db=1).set("ev", "x")
    assert [e for e in events(r)] == [(0, "set", "a"), (0, "by-hand", "k"), (1, "set", "ev")]


def test_a_key_of_another_type_drops_the_events(srv):
    r = srv.client()
    r.config_set("notify-keyspace-events-stream", "str")
    r.set("str", "x")
    r.set("a", "1")
    assert r.get("str") == b"x"
    assert "not a stream" in srv.output()


def test_maxlen_trims_in_whole_blocks(srv):
    r = srv.client()
    r.config_set("stream-node-max-entries", "10")
    r.config_set("notify-keyspace-events-stream-maxlen", "25")
    for i in range(100):
        r.set("k%d" % i, i)
    assert 25 <= r.xlen("ev") < 35
    assert events(r)[-1] == (0, "set", "k99")


def test_blocked_group_reader_is_woken(srv):
    r = srv.client()
    r.xgroup_create("ev", "g", "$", mkstream=True)
    reader = srv.client()
    got = []
    t = threading.Thread(target=lambda: got.append(reader.xreadgroup("g", "c", {"ev": ">"}, block=5000)))
    t.start()
    wait_blocked(r, 1)
    r.set("wake", "1")
    t.join(5)
    assert got and got[0][0][1][0][1][b"key"] == b"wake"


def test_expired_keys_from_the_cron_are_recorded(srv):
    r = srv.client()
    r.set("short", "1", px=30)
    wait_for(lambda: (0, "expired", "short") in events(r), what="the expired event")


def read_group(r, consumer, start, count=None):
    reply = r.xreadgroup("g", consumer, {"ev": start}, count=count)
    return [(i, f[b"key"].decode()) for i, f in (reply[0][1] if reply else [])]


def test_a_consumer_group_misses_nothing_across_disconnect_and_restart(started_servers):
    srv = RunnelProcess("--appendonly", "yes", "--notify-keyspace-events", "E$g",
                        "--notify-keyspace-events-stream", "ev")
    started_servers.append(srv)
    admin = srv.client()
    admin.xgroup_create("ev", "g", "$", mkstream=True)
    for i in range(5):
        admin.set("a%d" % i, i)
    worker = srv.client()
    first = read_group(worker, "w", ">", count=3)
    assert [k for _, k in first] == ["a0", "a1", "a2"]
    worker.xack("ev", "g", first[0][0])
    worker.connection_pool.disconnect()  # the consumer goes away with two unacknowledged
    for i in range(5, 8):
        admin.set("a%d" % i, i)
    before = admin.xrange("ev")
    srv = restart(srv, "--notify-keyspace-events", "E$g", "--notify-keyspace-events-stream", "ev")
    started_servers.append(srv)
    worker = srv.client()
    # nothing doubled by the replay, nothing lost
    assert worker.xrange("ev") == before
    pending = read_group(worker, "w", "0")
    assert [k for _, k in pending] == ["a1", "a2"]
    worker.xack("ev", "g", *[i for i, _ in pending])
    srv.client().set("a8", 8)
    rest = read_group(worker, "w", ">")
    assert [k for _, k in rest] == ["a3", "a4", "a5", "a6", "a7", "a8"]
    worker.xack("ev", "g", *[i for i, _ in rest])
    assert worker.xpending("ev", "g")["pending"] == 0


def test_log_order_and_transactions_replay_exactly(started_servers):
    """The events' XADDs are logged after the command that caused them, so a
    command that deletes the stream itself replays to the same state."""
    srv = RunnelProcess("--appendonly", "yes", "--notify-keyspace-events", "KEA",
                        "--notify-keyspace-events-stream", "ev")
    started_servers.append(srv)
    r = srv.client()
    r.set("a", "1")
    r.delete("ev", "a")  # the del of a is recorded after ev went
    p = r.pipeline(transaction=True)
    p.set("b", "1").incr("n").delete("ev").lpush("l", "x")
    p.execute()
    r.eval("redis.call('set', 'c', '1'); redis.call('del', 'c')", 0)
    before, digest = r.xrange("ev"), r.execute_command("DEBUG", "DIGEST")
    assert [(e[1][b"event"], e[1][b"key"]) for e in before] == [(b"lpush", b"l"), (b"set", b"c"), (b"del", b"c")]
    srv = restart(srv, "--notify-keyspace-events", "KEA", "--notify-keyspace-events-stream", "ev")
    started_servers.append(srv)
    r = srv.client()
    assert r.xrange("ev") == before
    assert r.execute_command("DEBUG", "DIGEST") == digest


def test_a_replica_holds_the_primarys_events_and_records_none_itself(started_servers):
    args = ("--notify-keyspace-events", "KEA", "--notify-keyspace-events-stream", "ev")
    primary = start_primary(*args)
    started_servers.append(primary)
    replica = start_replica(primary, *args)
    started_servers.append(replica)
    wait_link_up(replica)
    p = primary.client()
    for i in range(20):
        p.set("k%d" % i, i)
    p.set("t", "1", px=50)
    wait_for(lambda: (0, "expired", "t") in events(p), what="the expiry")
    p.set("after", "1")
    wait_caught_up(primary, replica)
    rr = replica.client()
    assert rr.xrange("ev") == p.xrange("ev")
    assert rr.execute_command("DEBUG", "DIGEST") == p.execute_command("DEBUG", "DIGEST")


def test_events_and_the_group_survive_a_snapshot_restart(started_servers):
    args = ("--notify-keyspace-events", "E$", "--notify-keyspace-events-stream", "ev")
    srv = RunnelProcess(*args)
    started_servers.append(srv)
    r = srv.client()
    r.xgroup_create("ev", "g", "$", mkstream=True)
    for i in range(3):
        r.set("s%d" % i, i)
    assert [k for _, k in read_group(r, "w", ">", count=1)] == ["s0"]
    before = r.xrange("ev")
    assert r.save()
    srv = restart(srv, "--appendonly", "no", *args)
    started_servers.append(srv)
    r = srv.client()
    assert r.xrange("ev") == before
    r.set("s3", 3)
    assert [k for _, k in read_group(r, "w", "0")] == ["s0"]
    assert [k for _, k in read_group(r, "w", ">")] == ["s1", "s2", "s3"]
