"""DUMP and RESTORE: every type in every encoding comes back identical
under another name (values, OBJECT ENCODING, XINFO STREAM FULL, TTLs);
RESTORE's options, errors and their order, TTLs relative and absolute,
IDLETIME and FREQ, keyspace notifications, WATCH, the AOF; and hostile
payloads (random bytes, truncations, bit flips with a recomputed checksum)
are refused without harm.

Expected replies were checked against redis-server 7.0 side by side. Exact
error texts go through the raw connection (redis-py strips "ERR ")."""
import contextlib
import glob
import os
import random
import struct
import time

import pytest
import redis

from test_aof import restart
from test_keys import NOT_INTEGER, SYNTAX, err
from test_snapshot_native import NODE, assert_same, crc64_jones, dump, exercise, populate


BUSYKEY = err("BUSYKEY Target key name already exists.")
BAD_TRAILER = err("ERR DUMP payload version or checksum are wrong")
BAD_DATA = err("ERR Bad data format")


def resign(body):
    """A payload from a type byte and value: version 2 and the checksum."""
    body = bytes(body) + struct.pack("<H", 2)
    return body + struct.pack("<Q", crc64_jones(body))


@pytest.fixture
def node_server(fresh_server):
    """Small list and stream nodes with compression, so a few elements
    exercise every encoding; DEBUG allowed."""
    return fresh_server(*NODE, "--enable-debug-command", "yes")


@pytest.fixture
def c(r, raw):
    return raw.call


# ---- round trips ----


def restore_everything_under_other_names(srv):
    """Every key is dumped, restored as "copy:" + key with its TTL, the
    original deleted and the copy renamed back."""
    r = srv.client()
    for db in (0, 3):
        r.execute_command("SELECT", db)
        for key in r.keys("*"):
            payload, pttl = r.dump(key), r.pttl(key)
            copy = b"copy:" + key
            assert r.restore(copy, max(pttl, 0), payload) == b"OK"
            assert r.object("encoding", copy) == r.object("encoding", key)
            r.delete(key)
            r.rename(copy, key)
    r.close()


def test_every_type_and_encoding_round_trips(node_server):
    srv = node_server
    populate(srv.client())
    before = dump(srv)
    restore_everything_under_other_names(srv)
    assert_same(before, dump(srv))


def test_round_trip_survives_debug_reload(node_server):
    srv = node_server
    r = srv.client()
    populate(r)
    restore_everything_under_other_names(srv)
    before = dump(srv)
    r.execute_command("DEBUG", "RELOAD")
    assert_same(before, dump(srv))


def test_dump_of_a_missing_key_is_nil(c, raw3):
    assert c("DUMP", "nope") is None
    raw3.send(b"*2\r\n$4\r\nDUMP\r\n$4\r\nnope\r\n")
    assert raw3.read_line() == b"_"


def test_payload_layout_and_resp3_bulk(c, raw3):
    c("SET", "k", "hello")
    payload = c("DUMP", "k")
    assert payload[0] == 0  # the string type
    assert payload[-10:-8] == b"\x02\x00"
    assert struct.unpack("<Q", payload[-8:])[0] == crc64_jones(payload[:-8])
    assert raw3.call("DUMP", "k") == payload
    assert c("RESTORE", "k2", 0, payload) == "OK"
    assert c("GET", "k2") == b"hello"


def test_strings_keep_their_encoding(c):
    c("SET", "i", "-12345")
    c("SET", "e", "short")
    c("APPEND", "raw", "ab")
    c("SET", "float", "1")
    c("INCRBYFLOAT", "float", "0.5")
    for key in ("i", "e", "raw", "float"):
        c("RESTORE", "c:" + key, 0, c("DUMP", key))
        assert c("OBJECT", "ENCODING", "c:" + key) == c("OBJECT", "ENCODING", key)
        assert c("GET", "c:" + key) == c("GET", key)


def test_dump_touches_the_key(c):
    c("SET", "k", "v")
    c("RESTORE", "idle", 0, c("DUMP", "k"), "IDLETIME", 100)
    assert c("OBJECT", "IDLETIME", "idle") >= 100
    c("DUMP", "idle")
    assert c("OBJECT", "IDLETIME", "idle") < 100


# ---- RESTORE's options and errors ----


def test_restore_errors_in_redis_order(c):
    c("SET", "k", "v")
    p = c("DUMP", "k")
    assert c("RESTORE", "k", 0, p) == BUSYKEY
    assert c("RESTORE", "k", 0, "x", "FOO") == SYNTAX  # options before BUSYKEY
    assert c("RESTORE", "k", -1, p) == BUSYKEY  # BUSYKEY before the TTL
    assert c("RESTORE", "n", -1, p) == err("ERR Invalid TTL value, must be >= 0")
    assert c("RESTORE", "n", "abc", p) == NOT_INTEGER
    assert c("RESTORE", "n", -1, "x") == err("ERR Invalid TTL value, must be >= 0")  # TTL before the payload
    assert c("RESTORE", "n", 0, "x") == BAD_TRAILER
    assert c("RESTORE", "n", 0, "") == BAD_TRAILER
    assert c("RESTORE", "n", 0, p, "IDLETIME") == SYNTAX
    assert c("RESTORE", "n", 0, p, "FREQ") == SYNTAX
    assert c("RESTORE", "n", 0, p, "IDLETIME", 1, "FREQ", 2) == SYNTAX
    assert c("RESTORE", "n", 0, p, "FREQ", 2, "IDLETIME", 1) == SYNTAX
    assert c("RESTORE", "n", 0, p, "IDLETIME", -1) == err("ERR Invalid IDLETIME value, must be >= 0")
    assert c("RESTORE", "n", 0, p, "IDLETIME", "abc") == NOT_INTEGER
    assert c("RESTORE", "n", 0, p, "FREQ", 256) == err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    assert c("RESTORE", "n", 0, p, "FREQ", -1) == err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    assert c("RESTORE", "n", 0) == err("ERR wrong number of arguments for 'restore' command")
    assert c("DUMP") == err("ERR wrong number of arguments for 'dump' command")
    assert c("EXISTS", "n") == 0


def test_trailer_checks(c):
    c("SET", "k", "v")
    p = c("DUMP", "k")
    wrong_version = p[:-10] + b"\x0c\x00"  # neither Runnel's (2) nor an RDB version Runnel reads (<= 11)
    assert c("RESTORE", "n", 0, wrong_version + struct.pack("<Q", crc64_jones(wrong_version))) == BAD_TRAILER
    assert c("RESTORE", "n", 0, p[:-1] + bytes([p[-1] ^ 1])) == BAD_TRAILER
    assert c("RESTORE", "n", 0, p[:9]) == BAD_TRAILER
    assert c("RESTORE", "n", 0, resign(p[:-10] + b"x")) == BAD_DATA  # a byte after the value
    assert c("RESTORE", "n", 0, resign(b"\x05" + p[1:-10])) == BAD_DATA  # no such type
    assert c("RESTORE", "n", 0, resign(b"\x01" + p[1:-10])) == BAD_DATA  # a string's bytes as a list
    assert c("RESTORE", "n", 0, resign(b"")) == BAD_DATA
    assert c("EXISTS", "n") == 0


def test_replace(c):
    c("SET", "k", "old")
    c("EXPIRE", "k", 100)
    c("RPUSH", "src", "a", "b")
    assert c("RESTORE", "k", 0, c("DUMP", "src"), "REPLACE") == "OK"
    assert c("TYPE", "k") == "list" and c("TTL", "k") == -1
    assert c("LRANGE", "k", 0, -1) == [b"a", b"b"]


def test_ttl_relative_and_absolute(c):
    c("SET", "k", "v")
    p = c("DUMP", "k")
    assert c("RESTORE", "rel", 5000, p) == "OK"
    assert 4000 < c("PTTL", "rel") <= 5000
    at = int(time.time() * 1000) + 100_000
    assert c("RESTORE", "abs", at, p, "ABSTTL") == "OK"
    assert c("PEXPIRETIME", "abs") == at
    assert c("RESTORE", "none", 0, p, "ABSTTL") == "OK"
    assert c("TTL", "none") == -1


def test_absttl_in_the_past_creates_nothing(c):
    c("SET", "k", "v")
    p = c("DUMP", "k")
    assert c("RESTORE", "gone", 1, p, "ABSTTL") == "OK"
    assert c("EXISTS", "gone") == 0
    assert c("RESTORE", "k", 1, p, "ABSTTL", "REPLACE") == "OK"
    assert c("EXISTS", "k") == 0


def test_idletime_and_freq(server, c):
    c("SET", "k", "v")
    p = c("DUMP", "k")
    assert c("RESTORE", "idle", 0, p, "IDLETIME", 1000) == "OK"
    assert 1000 <= c("OBJECT", "IDLETIME", "idle") <= 1002
    assert c("RESTORE", "ancient", 0, p, "IDLETIME", 10**15) == "OK"
    assert c("OBJECT", "IDLETIME", "ancient") > 10**6
    assert c("RESTORE", "f", 0, p, "FREQ", 100) == "OK"  # ignored without an LFU policy
    assert c("OBJECT", "IDLETIME", "f") <= 1
    c("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    try:
        assert c("RESTORE", "f2", 0, p, "FREQ", 100) == "OK"
        assert c("OBJECT", "FREQ", "f2") == 100
        assert c("RESTORE", "f3", 0, p, "IDLETIME", 1000) == "OK"  # ignored with one
        assert c("OBJECT", "FREQ", "f3") == 5
    finally:
        c("CONFIG", "SET", "maxmemory-policy", "noeviction")


@contextlib.contextmanager
def keyspace_events(r, flags):
    """A subscription to db 0's keyspace channels with the given classes."""
    r.config_set("notify-keyspace-events", flags)
    p = r.pubsub()
    p.psubscribe("__keyspace@0__:*")
    p.get_message(timeout=1)
    try:
        yield p
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def received(p):
    events = []
    while True:
        m = p.get_message(timeout=0.3)
        if not m:
            return events
        events.append((m["channel"].split(b":", 1)[1], m["data"]))


def test_notifications(server, r):
    with keyspace_events(r, "KEA") as p:
        r.set("k", "v")
        payload = r.dump("k")
        r.restore("k", 0, payload, replace=True)
        r.restore("k", 1, payload, replace=True, absttl=True)  # removes k: del
        r.restore("k2", 1, payload, absttl=True)  # nothing happened: no event
        r.restore("k3", 0, payload)
        assert received(p) == [(b"k", b"set"), (b"k", b"restore"), (b"k", b"del"), (b"k3", b"restore")]


def test_new_notification(server, r):
    with keyspace_events(r, "Kn") as p:
        r.set("k", "v")
        r.restore("k2", 0, r.dump("k"))
        assert received(p) == [(b"k", b"new"), (b"k2", b"new")]


def test_restore_invalidates_watch(server, r):
    r.set("src", "v")
    payload = r.dump("src")
    for args in (("k", 0, payload), ("k", 0, payload, "REPLACE")):
        pipe = r.pipeline()
        pipe.watch("k")
        pipe.multi()
        pipe.get("k")
        server.client().execute_command("RESTORE", *args)
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_command_info(c):
    dump_info, restore_info = c("COMMAND", "INFO", "dump", "restore")
    assert dump_info[:7] == [b"dump", 2, ["readonly"], 1, 1, 1, ["@keyspace", "@read", "@slow"]]
    assert restore_info[:7] == [b"restore", -4, ["write", "denyoom"], 1, 1, 1,
                                ["@keyspace", "@write", "@slow", "@dangerous"]]


# ---- the AOF ----


def test_restore_is_logged_with_an_absolute_deadline_and_replays(fresh_server):
    srv = fresh_server("--appendonly", "yes")
    r = srv.client()
    r.rpush("l", *range(50))
    payload = r.dump("l")
    r.restore("rel", 100_000, payload)
    r.restore("plain", 0, payload, idletime=5)
    r.restore("l", 1, payload, replace=True, absttl=True)  # deletes l
    r.restore("never", 1, payload, absttl=True)  # changes nothing
    deadline = r.pexpiretime("rel")
    log = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(srv.dir, "appendonlydir", "*.incr.aof")))
    assert b"$6\r\nABSTTL\r\n" in log and (b"%d" % deadline) in log
    assert b"$3\r\nDEL\r\n$1\r\nl\r\n" in log and b"never" not in log
    again = restart(srv)
    r2 = again.client()
    assert sorted(r2.keys()) == [b"plain", b"rel"]
    assert r2.pexpiretime("rel") == deadline and r2.ttl("plain") == -1
    assert r2.lrange("rel", 0, -1) == r2.lrange("plain", 0, -1) == [b"%d" % i for i in range(50)]
    again.stop()


# ---- hostile payloads ----


def accepted_or_refused(raw, payload):
    reply = raw.call("RESTORE", "h", 0, payload, "REPLACE")
    assert reply in ("OK", BAD_DATA, BAD_TRAILER), reply
    return reply == "OK"


def test_hostile_payloads_are_refused_without_harm(node_server):
    srv = node_server
    r = srv.client()
    populate(r)
    raw = srv.raw()
    payloads = [r.dump(k) for k in r.keys("*")]
    rng = random.Random(11)
    accepted = refused = 0
    for _ in range(150):
        p = rng.choice(payloads)
        body = bytearray(p[:-10])
        kind = rng.choice(("flip", "flip", "byte", "truncate", "random"))
        if kind == "flip":
            for _ in range(rng.choice((1, 1, 2, 5))):
                body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            body[rng.randrange(len(body))] = rng.randrange(256)
        elif kind == "truncate":
            body = body[:rng.randrange(len(body))]
        else:
            body = bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        assert raw.call("RESTORE", "h", 0, p[:rng.randrange(len(p))]) == BAD_TRAILER
        if accepted_or_refused(raw, resign(body)):
            accepted += 1
            if accepted <= 10:  # whatever was accepted must hold up in use
                try:
                    exercise(srv.port)
                except redis.ResponseError:
                    pass  # a damaged value may answer WRONGTYPE and the like
        else:
            refused += 1
        raw.call("DEL", "h")
    assert refused > 0 and accepted > 0
    assert raw.call("PING") == "PONG"
    raw.close()


def test_huge_counts_do_not_allocate(c):
    """A list, hash, set and stream payload claiming 2^60 elements in a few
    bytes is refused (the count is checked against what is left)."""
    for type_code in (1, 2, 3, 4, 6):
        for tag in range(4):
            body = bytes([type_code, 11, tag]) + b"\xff" * 9 + b"\x01" + b"\x00"
            assert c("RESTORE", "n", 0, resign(body)) == BAD_DATA
    assert c("EXISTS", "n") == 0
