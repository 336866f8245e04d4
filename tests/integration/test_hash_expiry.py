"""Hash field expiry (Redis 7.4 / 8.0): HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT
HTTL HPTTL HEXPIRETIME HPEXPIRETIME HPERSIST HGETEX HSETEX HGETDEL, lazy and
active expiry, keyspace events, persistence (AOF, rewrite, snapshots,
DUMP/RESTORE) and replication of the deadlines as absolute times."""
import os
import subprocess
import time

import pytest
import redis

from conftest import RunnelProcess
from replication_helpers import start_primary, start_replica, wait_caught_up, wait_for, wait_link_up


def now_ms():
    return int(time.time() * 1000)


def error(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def info_stat(r, name):
    return r.info("stats")[name]


# ---- setting deadlines ----


def test_hexpire_replies_per_field(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.execute_command("HEXPIRE", "h", 100, "FIELDS", 3, "a", "b", "nope") == [1, 1, -2]
    assert r.execute_command("HTTL", "h", "FIELDS", 4, "a", "b", "c", "nope") == [100, 100, -1, -2]
    assert 99000 < r.execute_command("HPTTL", "h", "FIELDS", 1, "a")[0] <= 100000
    # a missing key: every field -2
    assert r.execute_command("HEXPIRE", "missing", 10, "FIELDS", 2, "a", "b") == [-2, -2]
    assert r.execute_command("HTTL", "missing", "FIELDS", 1, "a") == [-2]
    # 0 seconds deletes the field at once (2), the key with its last field
    assert r.execute_command("HEXPIRE", "h", 0, "FIELDS", 1, "c") == [2]
    assert r.hkeys("h") == [b"a", b"b"] or sorted(r.hkeys("h")) == [b"a", b"b"]
    assert r.execute_command("HPEXPIREAT", "h", 1, "FIELDS", 2, "a", "b") == [2, 2]
    assert not r.exists("h")


def test_conditions(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    # NX: only fields without a deadline
    assert r.execute_command("HEXPIRE", "h", 100, "NX", "FIELDS", 1, "a") == [1]
    assert r.execute_command("HEXPIRE", "h", 200, "NX", "FIELDS", 2, "a", "b") == [0, 1]
    # XX: only fields with one
    r.hset("h", "c", 3)
    assert r.execute_command("HEXPIRE", "h", 300, "XX", "FIELDS", 2, "a", "c") == [1, 0]
    # GT: a field without a deadline counts as infinite, so GT fails on it
    assert r.execute_command("HEXPIRE", "h", 50, "GT", "FIELDS", 3, "a", "b", "c") == [0, 0, 0]
    assert r.execute_command("HEXPIRE", "h", 400, "GT", "FIELDS", 1, "a") == [1]
    # LT: and LT always holds on it
    assert r.execute_command("HEXPIRE", "h", 500, "LT", "FIELDS", 3, "a", "b", "c") == [0, 0, 1]
    assert r.execute_command("HEXPIRE", "h", 10, "lt", "FIELDS", 1, "a") == [1]
    assert r.execute_command("HTTL", "h", "FIELDS", 3, "a", "b", "c") == [10, 200, 500]


def test_absolute_and_relative_forms(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    at = int(time.time()) + 1000
    assert r.execute_command("HEXPIREAT", "h", at, "FIELDS", 1, "a") == [1]
    assert r.execute_command("HEXPIRETIME", "h", "FIELDS", 2, "a", "b") == [at, -1]
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "a") == [at * 1000]
    r.execute_command("HPEXPIREAT", "h", at * 1000 + 123, "FIELDS", 1, "b")
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "b") == [at * 1000 + 123]
    # HTTL rounds up
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "b")[0] in (1000, 1001)
    before = now_ms()
    r.execute_command("HPEXPIRE", "h", 5000, "FIELDS", 1, "a")
    when = r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "a")[0]
    assert before + 5000 <= when <= now_ms() + 5000


def test_errors(r):
    r.hset("h", "a", 1)
    r.set("s", "x")
    assert error(r, "HEXPIRE", "s", 10, "FIELDS", 1, "a").startswith("WRONGTYPE")
    assert error(r, "HTTL", "s", "FIELDS", 1, "a").startswith("WRONGTYPE")
    assert error(r, "HEXPIRE", "h", "x", "FIELDS", 1, "a") == "value is not an integer or out of range"
    assert error(r, "HEXPIRE", "h", -1, "FIELDS", 1, "a") == "invalid expire time, must be >= 0"
    assert error(r, "HEXPIRE", "h", 2 ** 46, "FIELDS", 1, "a") == "invalid expire time in 'hexpire' command"
    assert error(r, "HPEXPIREAT", "h", 2 ** 46, "FIELDS", 1, "a") == "invalid expire time in 'hpexpireat' command"
    assert error(r, "HEXPIRE", "h", 10, "BAD", "FIELDS", 1, "a") == \
        "Mandatory argument FIELDS is missing or not at the right position"
    assert error(r, "HEXPIRE", "h", 10, "FIELDS", 0, "a") == "Parameter `numFields` should be greater than 0"
    assert error(r, "HEXPIRE", "h", 10, "FIELDS", "x", "a") == "Parameter `numFields` should be greater than 0"
    assert error(r, "HEXPIRE", "h", 10, "FIELDS", 2, "a") == \
        "The `numfields` parameter must match the number of arguments"
    assert error(r, "HTTL", "h", "FIELDZ", 1, "a") == \
        "Mandatory argument FIELDS is missing or not at the right position"
    assert error(r, "HTTL", "h", "FIELDS", 0, "a") == "Number of fields must be a positive integer"
    assert error(r, "HPERSIST", "h", "FIELDS", "x", "a") == "Number of fields must be a positive integer"
    assert error(r, "HGETDEL", "h", "FIELDS", 3, "a") == "The `numfields` parameter must match the number of arguments"
    assert error(r, "HGETEX", "h", "EX", -5, "FIELDS", 1, "a") == "invalid expire time, must be >= 0"
    assert error(r, "HGETEX", "h", "FIELDS", "-1", "a") == "Number of fields must be a positive integer"
    assert error(r, "HEXPIRE", "h", 10, "FIELDS", 1) == "wrong number of arguments for 'hexpire' command"
    # HSETEX parses its options before anything else
    assert error(r, "HSETEX", "h", "EX", 10, "PX", 10, "FIELDS", 1, "a", "b") == \
        "Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"
    assert error(r, "HSETEX", "h", "KEEPTTL", "EX", 10, "FIELDS", 1, "a", "b") == \
        "Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"
    assert error(r, "HSETEX", "h", "FNX", "FXX", "FIELDS", 1, "a", "b") == \
        "Only one of FXX or FNX arguments can be specified"
    assert error(r, "HSETEX", "h", "BOGUS", "FIELDS", 1, "a", "b") == "unknown argument: BOGUS"
    assert error(r, "HSETEX", "h", "FIELDS", 2, "a", "b") == "wrong number of arguments for 'hsetex' command"
    assert error(r, "HSETEX", "h", "FIELDS", 0, "a", "b") == "invalid number of fields"
    assert error(r, "HSETEX", "h", "FNX", "KEEPTTL", "EX") == "wrong number of arguments for 'hsetex' command"
    assert error(r, "HSETEX", "s", "FIELDS", 1, "a", "b").startswith("WRONGTYPE")


def test_resp3_replies(raw3):
    raw3.call("DEL", "h")
    raw3.call("HSET", "h", "a", "1")
    assert raw3.call("HEXPIRE", "h", "100", "FIELDS", "2", "a", "x") == [1, -2]
    assert raw3.call("HTTL", "h", "FIELDS", "1", "a") == [100]
    assert raw3.call("HGETEX", "h", "PERSIST", "FIELDS", "2", "a", "x") == [b"1", None]
    assert raw3.call("HPERSIST", "h", "FIELDS", "1", "a") == [-1]
    assert raw3.call("HSETEX", "h", "PX", "100000", "FIELDS", "1", "b", "2") == 1
    assert raw3.call("HGETDEL", "h", "FIELDS", "2", "b", "x") == [b"2", None]


# ---- reading, persisting, the combined commands ----


def test_hpersist_and_encodings(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    assert r.object("encoding", "h") == b"listpack"
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a")
    assert r.object("encoding", "h") == b"listpackex"
    assert r.execute_command("HPERSIST", "h", "FIELDS", 3, "a", "b", "nope") == [1, -1, -2]
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "a") == [-1]
    # the last deadline gone, the hash is plain again
    assert r.object("encoding", "h") == b"listpack"
    big = {"f%d" % i: i for i in range(200)}
    r.hset("big", mapping=big)
    r.execute_command("HEXPIRE", "big", 100, "FIELDS", 1, "f1")
    assert r.object("encoding", "big") == b"hashtable"
    assert r.execute_command("HTTL", "big", "FIELDS", 2, "f1", "f2") == [100, -1]
    assert r.hlen("big") == 200 and r.hget("big", "f1") == b"1"


def test_overwrite_drops_the_deadline_increments_keep_it(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 1.5, "d": 4})
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 4, "a", "b", "c", "d")
    r.hset("h", "a", 10)
    r.hincrby("h", "b", 1)
    r.hincrbyfloat("h", "c", 1)
    r.hsetnx("h", "d", 5)
    assert r.execute_command("HTTL", "h", "FIELDS", 4, "a", "b", "c", "d") == [-1, 100, 100, 100]
    r.hdel("h", "b")
    r.hset("h", "b", 1)
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "b") == [-1]


def test_hgetex(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.execute_command("HGETEX", "h", "FIELDS", 2, "a", "x") == [b"1", None]
    assert r.execute_command("HGETEX", "h", "EX", 100, "FIELDS", 2, "a", "x") == [b"1", None]
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "a") == [100]
    assert r.execute_command("HGETEX", "h", "PX", 50000, "FIELDS", 1, "b") == [b"2"]
    at = int(time.time()) + 500
    r.execute_command("HGETEX", "h", "EXAT", at, "FIELDS", 1, "c")
    assert r.execute_command("HEXPIRETIME", "h", "FIELDS", 1, "c") == [at]
    r.execute_command("HGETEX", "h", "PXAT", at * 1000 + 7, "FIELDS", 1, "c")
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "c") == [at * 1000 + 7]
    assert r.execute_command("HGETEX", "h", "PERSIST", "FIELDS", 2, "a", "b") == [b"1", b"2"]
    assert r.execute_command("HTTL", "h", "FIELDS", 3, "a", "b", "c") == [-1, -1, 500]
    # a time in the past deletes after reading
    assert r.execute_command("HGETEX", "h", "PXAT", 1, "FIELDS", 2, "a", "b") == [b"1", b"2"]
    assert r.hkeys("h") == [b"c"]
    assert r.execute_command("HGETEX", "missing", "EX", 1, "FIELDS", 2, "a", "b") == [None, None]


def test_hsetex(r):
    assert r.execute_command("HSETEX", "h", "EX", 100, "FIELDS", 2, "a", "1", "b", "2") == 1
    assert r.execute_command("HTTL", "h", "FIELDS", 2, "a", "b") == [100, 100]
    # FNX: only when none of the fields exists; FXX: only when all do
    assert r.execute_command("HSETEX", "h", "FNX", "FIELDS", 2, "a", "9", "c", "3") == 0
    assert r.execute_command("HSETEX", "h", "FNX", "FIELDS", 1, "c", "3") == 1
    assert r.execute_command("HSETEX", "h", "FXX", "FIELDS", 2, "a", "9", "d", "4") == 0
    assert r.execute_command("HSETEX", "h", "FXX", "KEEPTTL", "FIELDS", 2, "a", "9", "b", "8") == 1
    assert r.execute_command("HTTL", "h", "FIELDS", 3, "a", "b", "c") == [100, 100, -1]
    # without KEEPTTL or a time, a set field loses its deadline
    assert r.execute_command("HSETEX", "h", "FIELDS", 1, "a", "0") == 1
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "a") == [-1]
    assert r.execute_command("HSETEX", "missing", "FXX", "FIELDS", 1, "a", "1") == 0
    assert not r.exists("missing")
    # a deadline already past: set, then gone
    assert r.execute_command("HSETEX", "h2", "PXAT", 1, "FIELDS", 1, "a", "1") == 1
    assert not r.exists("h2")
    at = now_ms() + 100000
    r.execute_command("HSETEX", "h", "PXAT", at, "FIELDS", 1, "z", "1")
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "z") == [at]


def test_hgetdel(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    assert r.execute_command("HGETDEL", "h", "FIELDS", 2, "a", "x") == [b"1", None]
    assert r.hkeys("h") == [b"b"]
    assert r.execute_command("HGETDEL", "h", "FIELDS", 1, "b") == [b"2"]
    assert not r.exists("h")
    assert r.execute_command("HGETDEL", "h", "FIELDS", 1, "b") == [None]


# ---- expiry ----


def test_lazy_expiry_reads_as_missing_and_deletes(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
        r.execute_command("HPEXPIRE", "h", 50, "FIELDS", 2, "a", "b")
        time.sleep(0.1)
        before = info_stat(r, "expired_subkeys")
        assert r.hget("h", "a") is None
        assert r.hgetall("h") == {b"c": b"3"}
        assert r.hlen("h") == 1
        assert info_stat(r, "expired_subkeys") == before + 2
        assert r.execute_command("HTTL", "h", "FIELDS", 1, "a") == [-2]
        r.execute_command("HPEXPIRE", "h", 50, "FIELDS", 1, "c")
        time.sleep(0.1)
        assert r.hexists("h", "c") == 0
        assert not r.exists("h")
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


def test_active_expiry_removes_untouched_fields_and_keys(r):
    for k in range(20):
        r.hset("h%d" % k, mapping={"a": 1, "b": 2})
        r.execute_command("HPEXPIRE", "h%d" % k, 30, "FIELDS", 2, "a", "b")
    r.hset("keep", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "keep", 30, "FIELDS", 1, "a")
    assert r.info("keyspace")["db0"]["subexpiry"] == 21
    wait_for(lambda: r.dbsize() == 1, 5, "active field expiry")
    # the survivor lost its field, through the cron alone
    assert r.info("keyspace")["db0"]["subexpiry"] == 0
    assert r.hgetall("keep") == {b"b": b"2"}
    assert r.object("encoding", "keep") == b"listpack"


def test_keyspace_events(server, r):
    r.config_set("notify-keyspace-events", "KEA")
    try:
        p = r.pubsub()
        p.psubscribe("__keyspace@0__:h")
        p.get_message(timeout=1)
        r.hset("h", mapping={"a": 1, "b": 2})
        r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a")
        r.execute_command("HPERSIST", "h", "FIELDS", 1, "a")
        r.execute_command("HEXPIRE", "h", 0, "FIELDS", 1, "a")
        r.execute_command("HPEXPIRE", "h", 20, "FIELDS", 1, "b")
        time.sleep(0.3)
        r.exists("h")
        events = []
        while True:
            m = p.get_message(timeout=0.5)
            if m is None:
                break
            events.append(m["data"])
        assert events == [b"hset", b"hexpire", b"hpersist", b"hdel", b"hexpire", b"hexpired", b"del"]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_rename_copy_and_dump_keep_deadlines(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "h", 100000, "FIELDS", 1, "a")
    when = r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "a")[0]
    r.copy("h", "c")
    assert r.execute_command("HPEXPIRETIME", "c", "FIELDS", 2, "a", "b") == [when, -1]
    payload = r.dump("h")
    r.restore("d", 0, payload)
    assert r.execute_command("HPEXPIRETIME", "d", "FIELDS", 2, "a", "b") == [when, -1]
    r.rename("h", "renamed")
    r.execute_command("HPEXPIRE", "renamed", 30, "FIELDS", 1, "b")
    assert r.info("keyspace")["db0"]["subexpiry"] == 3
    # the active cycle follows the renamed key
    wait_for(lambda: r.execute_command("HPEXPIRETIME", "renamed", "FIELDS", 1, "b") == [-2] and
             r.info("stats")["expired_subkeys"] >= 1, 5, "expiry after rename")
    assert r.hgetall("renamed") == {b"a": b"1"}


def test_hscan_and_hrandfield_skip_expired_fields(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        r.hset("h", mapping={"f%d" % i: i for i in range(300)})
        r.execute_command("HPEXPIRE", "h", 20, "FIELDS", 100, *["f%d" % i for i in range(100)])
        time.sleep(0.05)
        cursor, seen = 0, {}
        while True:
            cursor, part = r.hscan("h", cursor, count=50)
            seen.update(part)
            if cursor == 0:
                break
        assert len(seen) == 200 and b"f0" not in seen
        fields = r.hrandfield("h", 500)
        assert len(fields) == 200
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


# ---- persistence ----


def start_aof(*args):
    return RunnelProcess("--appendonly", "yes", *args)


def restart_same_dir(srv, *args):
    srv.stop()
    new = RunnelProcess.__new__(RunnelProcess)
    new.port = srv.port
    new.dir = srv.dir
    cmd = [srv.proc.args[0], "--port", str(new.port), "--dir", new.dir, "--save", "", *args]
    new.log_path = os.path.join(new.dir, "restart.log")
    new.log = open(new.log_path, "w")
    new.proc = subprocess.Popen(cmd, stdout=new.log, stderr=subprocess.STDOUT)
    new._wait_ready()
    return new


def fill_with_deadlines(c):
    c.hset("small", mapping={"a": 1, "b": 2, "c": 3})
    c.execute_command("HPEXPIRE", "small", 1000000, "FIELDS", 2, "a", "b")
    c.execute_command("HSETEX", "small", "EX", 2000, "FIELDS", 1, "d", "4")
    c.hset("big", mapping={"f%d" % i: i for i in range(300)})
    c.execute_command("HEXPIRE", "big", 3000, "FIELDS", 3, "f1", "f2", "f3")
    c.hincrbyfloat("big", "f1", 0.5)
    c.hset("gone", mapping={"x": 1, "y": 2})
    c.execute_command("HPEXPIRE", "gone", 1, "FIELDS", 1, "x")
    time.sleep(0.05)
    c.hget("gone", "x")
    return {
        "small": c.execute_command("HPEXPIRETIME", "small", "FIELDS", 4, "a", "b", "c", "d"),
        "big": c.execute_command("HPEXPIRETIME", "big", "FIELDS", 4, "f1", "f2", "f3", "f4"),
        "values": (c.hgetall("small"), c.hgetall("big"), c.hgetall("gone")),
    }


def check_restored(c, expected):
    assert c.execute_command("HPEXPIRETIME", "small", "FIELDS", 4, "a", "b", "c", "d") == expected["small"]
    assert c.execute_command("HPEXPIRETIME", "big", "FIELDS", 4, "f1", "f2", "f3", "f4") == expected["big"]
    assert (c.hgetall("small"), c.hgetall("big"), c.hgetall("gone")) == expected["values"]
    assert c.object("encoding", "small") == b"listpackex"
    # a hash whose last deadline went is dropped from the count by the cycle
    wait_for(lambda: c.info("keyspace")["db0"]["subexpiry"] == 2, 5, "subexpiry")


@pytest.mark.parametrize("rewrite", ["none", "preamble", "commands"])
def test_aof_restart_keeps_absolute_deadlines(rewrite):
    srv = start_aof()
    try:
        c = srv.client()
        expected = fill_with_deadlines(c)
        if rewrite != "none":
            c.config_set("aof-use-rdb-preamble", "yes" if rewrite == "preamble" else "no")
            c.bgrewriteaof()
            wait_for(lambda: c.info("persistence")["aof_rewrites"] >= 1 and
                     not c.info("persistence")["aof_rewrite_in_progress"], 10, "the rewrite")
        time.sleep(0.3)  # a restart later: relative times must not be replayed as relative
        srv = restart_same_dir(srv, "--appendonly", "yes", "--aof-use-rdb-preamble",
                               "no" if rewrite == "commands" else "yes")
        check_restored(srv.client(), expected)
    finally:
        srv.stop()


def test_snapshot_restart_keeps_deadlines(fresh_server):
    srv = fresh_server()
    c = srv.client()
    expected = fill_with_deadlines(c)
    c.save()
    srv = restart_same_dir(srv)
    try:
        check_restored(srv.client(), expected)
        srv.client().execute_command("DEBUG", "RELOAD")
        check_restored(srv.client(), expected)
    finally:
        srv.stop()


def test_fields_past_their_deadline_at_load_expire_after(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.hset("h", mapping={"a": 1, "b": 2})
    c.execute_command("HPEXPIRE", "h", 300, "FIELDS", 1, "a")
    c.save()
    srv.stop()
    time.sleep(0.4)
    srv = restart_same_dir(srv)
    try:
        c = srv.client()
        wait_for(lambda: c.info("stats")["expired_subkeys"] == 1, 5, "the loaded field to expire")
        assert c.hgetall("h") == {b"b": b"2"}
    finally:
        srv.stop()


# ---- replication ----


def test_replica_gets_absolute_deadlines_and_waits_for_the_primarys_hdel():
    primary = start_primary()
    replica = start_replica(primary)
    try:
        wait_link_up(replica)
        p, rc = primary.client(), replica.client()
        p.hset("h", mapping={"a": 1, "b": 2, "c": 3})
        p.execute_command("HEXPIRE", "h", 1000, "FIELDS", 1, "a")
        p.execute_command("HSETEX", "h", "PX", 500000, "FIELDS", 1, "d", "4")
        p.execute_command("HGETEX", "h", "EX", 700, "FIELDS", 1, "c")
        wait_caught_up(primary, replica)
        fields = ("a", "b", "c", "d")
        assert rc.execute_command("HPEXPIRETIME", "h", "FIELDS", 4, *fields) == \
            p.execute_command("HPEXPIRETIME", "h", "FIELDS", 4, *fields)
        # with the primary's active expiry off, a field past its deadline
        # reads as missing on the replica but stays until the primary's HDEL
        p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
        p.execute_command("HPEXPIRE", "h", 50, "FIELDS", 1, "b")
        wait_caught_up(primary, replica)
        time.sleep(0.3)
        assert rc.hget("h", "b") is None
        assert rc.execute_command("HTTL", "h", "FIELDS", 1, "b") == [-2]
        assert b"b" not in rc.hgetall("h")
        assert rc.hlen("h") == 4
        p.hget("h", "b")  # the primary removes it and sends HDEL
        wait_caught_up(primary, replica)
        assert rc.hlen("h") == 3
        p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
        # active expiry on the primary reaches the replica too
        p.execute_command("HPEXPIRE", "h", 30, "FIELDS", 3, "a", "c", "d")
        wait_for(lambda: not rc.exists("h"), 5, "the HDELs on the replica")
        assert not p.exists("h")
        assert p.execute_command("DEBUG", "DIGEST") == rc.execute_command("DEBUG", "DIGEST")
    finally:
        replica.stop()
        primary.stop()


def test_increment_of_a_field_past_its_deadline_starts_anew(r):
    """A lookup removes at most 1,000 expired fields; one left behind still
    reads as missing, and HINCRBY on it starts from 0 without a deadline."""
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    try:
        fields = ["f%04d" % i for i in range(1001)]
        r.hset("h", mapping={**{f: 10 for f in fields}, "keep": 1})
        r.execute_command("HPEXPIRE", "h", 20, "FIELDS", len(fields), *fields)
        time.sleep(0.1)
        assert r.hincrby("h", "f1000", 5) == 5
        assert r.execute_command("HTTL", "h", "FIELDS", 1, "f1000") == [-1]
        assert r.hincrbyfloat("h", "keep", 1) == 2.0
        assert r.hgetall("h") == {b"f1000": b"5", b"keep": b"2"}
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)


class Model:
    """What the hash commands must answer, for deadlines far in the future
    (so no field expires during the test): field -> [value, deadline ms or None]."""

    def __init__(self):
        self.h = {}

    def hset(self, f, v):
        added = f not in self.h
        self.h[f] = [v, None]
        return int(added)

    def hexpireat(self, when, cond, fields):
        out = []
        for f in fields:
            if f not in self.h:
                out.append(-2)
                continue
            prev = self.h[f][1]
            if prev is None:
                if cond in ("XX", "GT"):
                    out.append(0)
                    continue
            elif cond == "NX" or (cond == "GT" and prev >= when) or (cond == "LT" and prev <= when):
                out.append(0)
                continue
            self.h[f][1] = when
            out.append(1)
        return out

    def hpexpiretime(self, fields):
        return [-2 if f not in self.h else (-1 if self.h[f][1] is None else self.h[f][1]) for f in fields]

    def hpersist(self, fields):
        out = []
        for f in fields:
            if f not in self.h:
                out.append(-2)
            elif self.h[f][1] is None:
                out.append(-1)
            else:
                self.h[f][1] = None
                out.append(1)
        return out

    def hincrby(self, f, n):
        if f in self.h:
            self.h[f][0] = str(int(self.h[f][0]) + n)
        else:
            self.h[f] = [str(n), None]
        return int(self.h[f][0])

    def hgetdel(self, fields):
        out = []
        for f in fields:
            out.append(self.h.pop(f)[0].encode() if f in self.h else None)
        return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_commands_against_a_model(r, seed):
    """Random HSET/HEXPIREAT (every condition)/HPERSIST/HINCRBY/HGETDEL/HSETEX
    on one hash that grows past the packed limits and shrinks, with DEBUG
    RELOAD now and then: every reply and every deadline as the model says."""
    import random
    rng = random.Random(seed)
    m = Model()
    base = now_ms() + 10 ** 8
    names = ["f%d" % i for i in range(300)] + ["long-field-name-" + "x" * 70]
    for step in range(3000):
        op = rng.random()
        if op < 0.3:
            f, v = rng.choice(names), str(rng.randint(0, 99))
            assert r.hset("h", f, v) == m.hset(f, v), step
        elif op < 0.55:
            when = base + rng.randint(0, 1000)
            cond = rng.choice([None, "NX", "XX", "GT", "LT"])
            fields = rng.sample(names, rng.randint(1, 5))
            args = ["HPEXPIREAT", "h", when] + ([cond] if cond else []) + ["FIELDS", len(fields)] + fields
            expected = m.hexpireat(when, cond, fields) if m.h else [-2] * len(fields)
            assert r.execute_command(*args) == expected, (step, args)
        elif op < 0.65:
            fields = rng.sample(names, rng.randint(1, 4))
            assert r.execute_command("HPERSIST", "h", "FIELDS", len(fields), *fields) == m.hpersist(fields), step
        elif op < 0.75:
            f = rng.choice(names)
            assert r.hincrby("h", f, 2) == m.hincrby(f, 2), step
        elif op < 0.82:
            fields = rng.sample(names, rng.randint(1, 3))
            assert r.execute_command("HGETDEL", "h", "FIELDS", len(fields), *fields) == m.hgetdel(fields), step
        elif op < 0.9:
            f, v = rng.choice(names), str(rng.randint(0, 99))
            keep = rng.random() < 0.5
            args = ["HSETEX", "h"] + (["KEEPTTL"] if keep else []) + ["FIELDS", 1, f, v]
            assert r.execute_command(*args) == 1
            if f in m.h and keep:
                m.h[f][0] = v
            else:
                m.hset(f, v)
        elif op < 0.9015:
            r.execute_command("DEBUG", "RELOAD")
        else:
            fields = rng.sample(names, 6)
            assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 6, *fields) == m.hpexpiretime(fields), step
        if step % 500 == 0:
            got = {k.decode(): v.decode() for k, v in r.hgetall("h").items()}
            assert got == {k: v[0] for k, v in m.h.items()}, step
            assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", len(names), *names) == m.hpexpiretime(names)
            has = any(v[1] is not None for v in m.h.values())
            if m.h:
                enc = r.object("encoding", "h")
                assert (enc in (b"listpackex", b"hashtable")) if has else (enc in (b"listpack", b"hashtable"))
    r.execute_command("DEBUG", "RELOAD")
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", len(names), *names) == m.hpexpiretime(names)


# A DUMP of a hash table with two deadlines from before the deadlines moved
# into the entries (its value tag 3: the fields, then a sorted set of the
# deadlines): a=1 until 4102444800000, b=2, c=3 until 4102444800123.
LEGACY_TABLE_PAYLOAD = bytes.fromhex(
    "04230303016301330162013201610131000212026180e09ecce5ee010263f6e19ecce5ee010002005e0046e97b1f2849")


def test_a_hash_table_dumped_with_its_deadlines_as_a_sorted_set_restores(r):
    r.restore("old", 0, LEGACY_TABLE_PAYLOAD)
    assert r.object("encoding", "old") == b"hashtable"
    expected = [4102444800000, -1, 4102444800123]
    assert r.execute_command("HPEXPIRETIME", "old", "FIELDS", 3, "a", "b", "c") == expected
    assert r.hgetall("old") == {b"a": b"1", b"b": b"2", b"c": b"3"}
    r.restore("again", 0, r.dump("old"))
    assert r.execute_command("HPEXPIRETIME", "again", "FIELDS", 3, "a", "b", "c") == expected
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "old") == r.execute_command("DEBUG", "DIGEST-VALUE", "again")


def test_a_deadline_costs_a_big_hash_little_memory(r):
    """Every field of a 5,000-field hash given a deadline: the deadlines live
    in the fields' entries and a heap of pointers, about 28 bytes a field
    (a sorted set of field -> deadline took about 70)."""
    n = 5000
    p = r.pipeline(transaction=False)
    for i in range(0, n, 500):
        p.hset("big", mapping={"field:%d" % j: "value" for j in range(i, i + 500)})
    p.execute()
    plain = r.memory_usage("big", samples=0)
    fields = ["field:%d" % j for j in range(n)]
    r.execute_command("HPEXPIRE", "big", 3600000, "FIELDS", n, *fields)
    per_field = (r.memory_usage("big", samples=0) - plain) / n
    assert per_field < 36, per_field
    assert r.execute_command("HPERSIST", "big", "FIELDS", n, *fields) == [1] * n
    assert r.object("encoding", "big") == b"hashtable"
