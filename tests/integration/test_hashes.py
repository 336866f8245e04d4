"""Hash commands: HSET HMSET HSETNX HGET HMGET HGETALL HKEYS HVALS HDEL
HEXISTS HLEN HSTRLEN HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, their errors,
RESP2/RESP3 reply shapes, the listpack -> hashtable conversion at both
limits, keyspace events, COPY/MEMORY/TYPE/SCAN TYPE, and big hashes checked
against a Python dict.

Expected replies were checked against redis-server 7.0 side by side (this
file passes against it with RUNNEL_SERVER=/usr/bin/redis-server, except the
tests marked runnel_only: HSCAN NOVALUES is Redis 7.4's). Exact error texts go
through the raw connection."""
import os
import random

import pytest
from conftest import memory_after_load

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808

runnel_only = pytest.mark.skipif(
    os.path.basename(os.environ.get("RUNNEL_SERVER", "runnel-server")) == "redis-server",
    reason="Runnel follows a later Redis here",
)


def err(text):
    return ("error", text)


SYNTAX = err("ERR syntax error")
NOT_INTEGER = err("ERR value is not an integer or out of range")
NOT_FLOAT = err("ERR value is not a valid float")
WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value")
RANGE = err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")


@pytest.fixture
def c(r, raw):
    """A raw connection on a flushed server: replies exactly as sent. The
    limit is set as Runnel's default (redis.conf's); redis-server without a
    config file starts at 512."""
    assert raw.call("CONFIG", "SET", "hash-max-listpack-entries", "128") == "OK"
    return raw.call


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))


# ---- setting and getting ----


def test_hset_counts_new_fields_and_overwrites(c):
    assert c("HSET", "h", "a", "1", "b", "2") == 2
    assert c("HSET", "h", "a", "10", "c", "3") == 1
    assert c("HGET", "h", "a") == b"10"
    assert c("HGET", "h", "c") == b"3"
    assert c("HGET", "h", "nope") is None
    assert c("HGET", "nokey", "a") is None
    assert c("HLEN", "h") == 3
    assert c("TYPE", "h") == "hash"


def test_hset_same_field_twice_in_one_call(c):
    assert c("HSET", "h", "a", "1", "a", "2") == 1
    assert c("HGET", "h", "a") == b"2"
    assert c("HLEN", "h") == 1


def test_hmset_replies_ok(c):
    assert c("HMSET", "h", "a", "1", "b", "2") == "OK"
    assert c("HMGET", "h", "a", "b", "zz") == [b"1", b"2", None]


@pytest.mark.parametrize("cmd", ["HSET", "HMSET"])
def test_hset_arity(c, cmd):
    assert c(cmd, "h", "a") == err("ERR wrong number of arguments for '%s' command" % cmd.lower())
    assert c(cmd, "h", "a", "1", "b") == err("ERR wrong number of arguments for '%s' command" % cmd.lower())
    assert c(cmd, "h") == err("ERR wrong number of arguments for '%s' command" % cmd.lower())
    assert c("EXISTS", "h") == 0


def test_hsetnx(c):
    assert c("HSETNX", "h", "a", "1") == 1
    assert c("HSETNX", "h", "a", "2") == 0
    assert c("HGET", "h", "a") == b"1"
    assert c("HSETNX", "h", "b", "2") == 1
    assert c("HLEN", "h") == 2


def test_values_are_binary_safe_and_exact(c):
    values = [b"", b"0", b"-0", b"007", b"+1", b" 1", b"127", b"-4096", b"32768", str(LLONG_MAX).encode(),
              str(LLONG_MIN).encode(), b"9223372036854775808", b"1.5", b"\x00\xff\r\n", b"a" * 64]
    args = []
    for i, v in enumerate(values):
        args += [b"f%d" % i, v]
    c("HSET", "h", *args)
    assert c("HMGET", "h", *[b"f%d" % i for i in range(len(values))]) == values
    # fields too: integers and odd bytes come back as written
    c("HSET", "g", *sum(([v, b"x"] for v in values), []))
    assert sorted(c("HKEYS", "g")) == sorted(values)
    for v in values:
        assert c("HEXISTS", "g", v) == 1
        assert c("HSTRLEN", "h", b"f%d" % values.index(v)) == len(v)


def test_integer_field_does_not_match_other_spellings(c):
    c("HSET", "h", "1", "one", "01", "zero-one")
    assert c("HGET", "h", "1") == b"one"
    assert c("HGET", "h", "01") == b"zero-one"
    assert c("HGET", "h", "+1") is None
    assert c("HGET", "h", "1.0") is None


def test_hexists_hlen_hstrlen(c):
    c("HSET", "h", "a", "hello", "n", "12345")
    assert c("HEXISTS", "h", "a") == 1
    assert c("HEXISTS", "h", "b") == 0
    assert c("HEXISTS", "nokey", "a") == 0
    assert c("HSTRLEN", "h", "a") == 5
    assert c("HSTRLEN", "h", "n") == 5
    assert c("HSTRLEN", "h", "zz") == 0
    assert c("HSTRLEN", "nokey", "a") == 0
    assert c("HLEN", "nokey") == 0


def test_hgetall_hkeys_hvals(c):
    c("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert pairs(c("HGETALL", "h")) == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert sorted(c("HKEYS", "h")) == [b"a", b"b", b"c"]
    assert sorted(c("HVALS", "h")) == [b"1", b"2", b"3"]
    # HKEYS and HVALS walk in the same order
    flat = c("HGETALL", "h")
    assert c("HKEYS", "h") == flat[0::2]
    assert c("HVALS", "h") == flat[1::2]
    assert c("HGETALL", "nokey") == []
    assert c("HKEYS", "nokey") == []
    assert c("HVALS", "nokey") == []


def test_resp3_shapes(r, raw3):
    c = raw3.call
    c("HSET", "h", "a", "1", "b", "2")
    assert c("HGETALL", "h") == {"a": b"1", "b": b"2"}
    assert c("HGETALL", "nokey") == {}
    assert sorted(c("HKEYS", "h")) == [b"a", b"b"]
    assert c("HMGET", "nokey", "a") == [None]
    assert c("HGET", "h", "zz") is None
    assert sorted(c("HRANDFIELD", "h", "2", "WITHVALUES")) == [[b"a", b"1"], [b"b", b"2"]]
    assert sorted(c("HRANDFIELD", "h", "5", "WITHVALUES")) == [[b"a", b"1"], [b"b", b"2"]]
    got = c("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(got) == 3 and all(p in ([b"a", b"1"], [b"b", b"2"]) for p in got)
    assert sorted(c("HRANDFIELD", "h", "5")) == [b"a", b"b"]
    assert c("HRANDFIELD", "nokey", "2", "WITHVALUES") == []
    assert c("HRANDFIELD", "nokey") is None


def test_resp2_nil_shapes(r, raw):
    raw.command("HGET", "nokey", "a")
    assert raw.read_line() == b"$-1"
    raw.command("HRANDFIELD", "nokey")
    assert raw.read_line() == b"$-1"
    raw.command("HRANDFIELD", "nokey", "3")
    assert raw.read_line() == b"*0"


# ---- deleting ----


def test_hdel_counts_and_deletes_empty_hash(c):
    c("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert c("HDEL", "h", "a", "zz") == 1
    assert c("HDEL", "h", "a") == 0
    assert c("HDEL", "h", "b", "c", "b") == 2
    assert c("EXISTS", "h") == 0
    assert c("HDEL", "nokey", "a") == 0
    assert c("HDEL", "h") == err("ERR wrong number of arguments for 'hdel' command")


def test_hdel_emptying_big_hash_deletes_key(c):
    fields = ["f%d" % i for i in range(300)]
    c("HSET", "h", *sum(([f, "v"] for f in fields), []))
    assert c("OBJECT", "ENCODING", "h") == b"hashtable"
    assert c("HDEL", "h", *fields) == 300
    assert c("EXISTS", "h") == 0


# ---- counters ----


def test_hincrby(c):
    assert c("HINCRBY", "h", "n", "5") == 5
    assert c("HINCRBY", "h", "n", "-7") == -2
    assert c("HGET", "h", "n") == b"-2"
    c("HSET", "h", "big", str(LLONG_MAX))
    assert c("HINCRBY", "h", "big", "1") == err("ERR increment or decrement would overflow")
    c("HSET", "h", "small", str(LLONG_MIN))
    assert c("HINCRBY", "h", "small", "-1") == err("ERR increment or decrement would overflow")
    assert c("HINCRBY", "h", "small", "0") == LLONG_MIN
    assert c("HINCRBY", "h", "n", "x") == NOT_INTEGER
    assert c("HINCRBY", "h", "n", "9223372036854775808") == NOT_INTEGER
    for bad in ("abc", " 1", "01", "1.0", ""):
        c("HSET", "h", "s", bad)
        assert c("HINCRBY", "h", "s", "1") == err("ERR hash value is not an integer")
    assert c("HINCRBY", "nokey", "n", "x") == NOT_INTEGER
    assert c("EXISTS", "nokey") == 0


def test_hincrbyfloat(c):
    assert c("HINCRBYFLOAT", "h", "f", "1") == b"1"
    assert c("HINCRBYFLOAT", "h", "f", "1e-5") == b"1.00001"
    assert c("HINCRBYFLOAT", "h", "f", "-0.00001") == b"1"
    assert c("HINCRBYFLOAT", "h", "g", "5.0e3") == b"5000"
    assert c("HINCRBYFLOAT", "h", "g", "0.1") == b"5000.10000000000000009"  # as Redis: long double
    c("HSET", "h", "i", "10")
    assert c("HINCRBYFLOAT", "h", "i", "2.5") == b"12.5"
    assert c("HINCRBYFLOAT", "h", "f", "inf") == err("ERR value is NaN or Infinity")
    assert c("HINCRBYFLOAT", "h", "f", "x") == NOT_FLOAT
    assert c("HINCRBYFLOAT", "h", "f", " 1") == NOT_FLOAT
    c("HSET", "h", "s", "abc")
    assert c("HINCRBYFLOAT", "h", "s", "1") == err("ERR hash value is not a float")
    c("HSET", "h", "sp", "  1")
    assert c("HINCRBYFLOAT", "h", "sp", "1") == err("ERR hash value is not a float")
    c("HSET", "h", "z", "01")
    assert c("HINCRBYFLOAT", "h", "z", "1") == b"2"  # a float may have leading zeros
    c("HSET", "h", "huge", "1e308")
    got = c("HINCRBYFLOAT", "h", "huge", "1e308")  # long double: no overflow at 2e308
    assert got.startswith(b"19999999999999999999")


def test_hincrby_on_packed_and_table_encodings(c):
    c("HSET", "h", "n", "1")
    c("HSET", "t", "n", "1", "long", "x" * 100)
    assert c("OBJECT", "ENCODING", "t") == b"hashtable"
    for key in ("h", "t"):
        for _ in range(100):
            c("HINCRBY", key, "n", "1000")
        assert c("HGET", key, "n") == b"100001"
        assert c("HINCRBYFLOAT", key, "n", "0.5") == b"100001.5"


# ---- HRANDFIELD ----


def test_hrandfield_single_and_count(c):
    c("HSET", "h", "a", "1", "b", "2", "c", "3")
    for _ in range(20):
        assert c("HRANDFIELD", "h") in (b"a", b"b", b"c")
    assert c("HRANDFIELD", "h", "0") == []
    got = c("HRANDFIELD", "h", "2")
    assert len(got) == 2 and len(set(got)) == 2 and set(got) <= {b"a", b"b", b"c"}
    assert sorted(c("HRANDFIELD", "h", "3")) == [b"a", b"b", b"c"]
    assert sorted(c("HRANDFIELD", "h", "100")) == [b"a", b"b", b"c"]
    got = c("HRANDFIELD", "h", "-10")
    assert len(got) == 10 and set(got) <= {b"a", b"b", b"c"}
    got = c("HRANDFIELD", "h", "2", "WITHVALUES")
    assert len(got) == 4
    d = pairs(got)
    assert len(d) == 2 and all({b"a": b"1", b"b": b"2", b"c": b"3"}[k] == v for k, v in d.items())
    got = c("HRANDFIELD", "h", "-5", "withvalues")
    assert len(got) == 10
    assert all({b"a": b"1", b"b": b"2", b"c": b"3"}[k] == v for k, v in zip(got[0::2], got[1::2]))


def test_hrandfield_errors(c):
    c("HSET", "h", "a", "1")
    assert c("HRANDFIELD", "h", "x") == NOT_INTEGER
    assert c("HRANDFIELD", "nokey", "x") == NOT_INTEGER
    assert c("HRANDFIELD", "h", "1", "foo") == SYNTAX
    assert c("HRANDFIELD", "h", "1", "WITHVALUES", "foo") == SYNTAX
    assert c("HRANDFIELD", "h", str(LLONG_MIN)) == RANGE
    assert c("HRANDFIELD", "h", str(LLONG_MIN), "WITHVALUES") == RANGE
    assert c("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES") == err("ERR value is out of range")
    assert c("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == err("ERR value is out of range")
    assert c("HRANDFIELD", "nokey", "3") == []
    assert c("HRANDFIELD", "nokey", "3", "WITHVALUES") == []


@pytest.mark.parametrize("size", [5, 100, 1000])
def test_hrandfield_distinct_on_every_encoding(c, size):
    model = {b"f%d" % i: b"v%d" % i for i in range(size)}
    c("HSET", "h", *sum(([k, v] for k, v in model.items()), []))
    for count in (1, 2, size // 3, size // 3 + 1, size - 1, size):
        got = c("HRANDFIELD", "h", str(count), "WITHVALUES")
        fields = got[0::2]
        assert len(fields) == count and len(set(fields)) == count
        assert all(model[f] == v for f, v in zip(fields, got[1::2]))
    seen = set()
    for _ in range(size * 3):
        seen.add(c("HRANDFIELD", "h"))
    assert len(seen) > size // 2  # draws are spread over the hash


# ---- HSCAN ----


def scan_all(c, key, *opts):
    cursor, out = b"0", []
    while True:
        cursor, items = c("HSCAN", key, cursor, *opts)
        out += items
        if cursor == b"0":
            return out


def test_hscan_small_returns_everything_at_once(c):
    c("HSET", "h", "a", "1", "b", "2")
    cursor, items = c("HSCAN", "h", "0")
    assert cursor == b"0"
    assert pairs(items) == {b"a": b"1", b"b": b"2"}
    assert c("HSCAN", "nokey", "0") == [b"0", []]
    assert c("HSCAN", "h", "01") == [b"0", items]
    assert c("HSCAN", "h", "-1")[0] == b"0"


def test_hscan_big_covers_every_field_once(c):
    model = {b"field:%d" % i: b"%d" % i for i in range(2000)}
    c("HSET", "h", *sum(([k, v] for k, v in model.items()), []))
    items = scan_all(c, "h", "COUNT", "50")
    got = pairs(items)
    assert got == model
    assert len(items) == 2 * len(model)  # no duplicates without resizes


def test_hscan_match_and_count(c):
    model = {b"user:%d" % i: b"x" for i in range(300)}
    model.update({b"other:%d" % i: b"y" for i in range(300)})
    c("HSET", "h", *sum(([k, v] for k, v in model.items()), []))
    got = pairs(scan_all(c, "h", "MATCH", "user:1*", "COUNT", "1000"))
    assert got == {k: v for k, v in model.items() if k.startswith(b"user:1")}
    c("HSET", "small", "ab", "1", "ac", "2", "b", "3")
    assert pairs(c("HSCAN", "small", "0", "MATCH", "a*")[1]) == {b"ab": b"1", b"ac": b"2"}
    assert pairs(c("HSCAN", "small", "0", "MATCH", "*")[1]) == {b"ab": b"1", b"ac": b"2", b"b": b"3"}


@runnel_only
def test_hscan_novalues(c):
    c("HSET", "h", "a", "1", "b", "2")
    cursor, items = c("HSCAN", "h", "0", "NOVALUES")
    assert cursor == b"0" and sorted(items) == [b"a", b"b"]
    c("HSET", "big", *sum(([b"f%d" % i, b"v"] for i in range(500)), []))
    assert sorted(scan_all(c, "big", "NOVALUES", "MATCH", "f1*")) == sorted(
        b"f%d" % i for i in range(500) if str(i).startswith("1"))


def test_hscan_errors(c):
    c("HSET", "h", "a", "1")
    assert c("HSCAN", "h", "x") == err("ERR invalid cursor")
    assert c("HSCAN", "nokey", "x") == err("ERR invalid cursor")
    assert c("HSCAN", "h", "0", "COUNT", "0") == SYNTAX
    assert c("HSCAN", "h", "0", "COUNT", "x") == NOT_INTEGER
    assert c("HSCAN", "h", "0", "MATCH") == SYNTAX
    assert c("HSCAN", "h", "0", "TYPE", "string") == SYNTAX
    assert c("HSCAN", "h", "0", "FOO", "bar") == SYNTAX
    assert c("HSCAN", "nokey", "0", "FOO") == [b"0", []]


# ---- WRONGTYPE ----


@pytest.mark.parametrize(
    "cmd",
    [
        ["HSET", "s", "a", "1"], ["HMSET", "s", "a", "1"], ["HSETNX", "s", "a", "1"], ["HGET", "s", "a"],
        ["HMGET", "s", "a"], ["HGETALL", "s"], ["HKEYS", "s"], ["HVALS", "s"], ["HDEL", "s", "a"],
        ["HEXISTS", "s", "a"], ["HLEN", "s"], ["HSTRLEN", "s", "a"], ["HINCRBY", "s", "a", "1"],
        ["HINCRBYFLOAT", "s", "a", "1"], ["HRANDFIELD", "s"], ["HRANDFIELD", "s", "2"], ["HSCAN", "s", "0"],
    ],
)
def test_wrongtype(c, cmd):
    c("SET", "s", "value")
    assert c(*cmd) == WRONGTYPE
    assert c("GET", "s") == b"value"


def test_other_types_refuse_hashes(c):
    c("HSET", "h", "a", "1")
    assert c("GET", "h") == WRONGTYPE
    assert c("LPUSH", "h", "x") == WRONGTYPE
    assert c("SADD", "h", "x") == WRONGTYPE


def test_command_info(c):
    expected = {"hset": -4, "hmset": -4, "hsetnx": 4, "hget": 3, "hmget": -3, "hgetall": 2, "hkeys": 2,
                "hvals": 2, "hdel": -3, "hexists": 3, "hlen": 2, "hstrlen": 3, "hincrby": 4, "hincrbyfloat": 4,
                "hrandfield": -2, "hscan": -3}
    for name, arity in expected.items():
        info = c("COMMAND", "INFO", name)[0]
        assert info[0] == name.encode() and info[1] == arity
        assert info[3:6] == [1, 1, 1]


# ---- encodings ----


def test_encoding_listpack_to_hashtable_by_entries(c):
    fields = sum(([b"f%d" % i, b"v"] for i in range(128)), [])
    c("HSET", "h", *fields)
    assert c("OBJECT", "ENCODING", "h") == b"listpack"
    c("HSET", "h", "f0", "changed")  # an update adds nothing
    assert c("OBJECT", "ENCODING", "h") == b"listpack"
    c("HSET", "h", "one-more", "v")
    assert c("OBJECT", "ENCODING", "h") == b"hashtable"
    assert c("HLEN", "h") == 129
    assert c("HGET", "h", "f0") == b"changed"
    c("HDEL", "h", *[b"f%d" % i for i in range(120)])
    assert c("OBJECT", "ENCODING", "h") == b"hashtable"  # never converts back


def test_encoding_listpack_to_hashtable_by_value_length(c):
    c("HSET", "h", "a", "x" * 64)
    assert c("OBJECT", "ENCODING", "h") == b"listpack"
    c("HSET", "h", "b", "x" * 65)
    assert c("OBJECT", "ENCODING", "h") == b"hashtable"
    assert c("HGET", "h", "a") == b"x" * 64
    c("HSET", "g", "f" * 64, "1")
    assert c("OBJECT", "ENCODING", "g") == b"listpack"
    c("HSET", "g", "f" * 65, "1")
    assert c("OBJECT", "ENCODING", "g") == b"hashtable"
    c("HSET", "k", "n", "1")
    c("HSETNX", "k", "long", "y" * 100)
    assert c("OBJECT", "ENCODING", "k") == b"hashtable"


@runnel_only
def test_default_limits(fresh_server):
    r = fresh_server().client()
    assert r.config_get("hash-max-listpack-*") == {"hash-max-listpack-entries": "128",
                                                   "hash-max-listpack-value": "64"}
    r.close()


def test_config_limits(c):
    assert c("CONFIG", "SET", "hash-max-listpack-entries", "4") == "OK"
    assert c("CONFIG", "SET", "hash-max-listpack-value", "8") == "OK"
    try:
        c("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4")
        assert c("OBJECT", "ENCODING", "h") == b"listpack"
        c("HSET", "h", "e", "5")
        assert c("OBJECT", "ENCODING", "h") == b"hashtable"
        c("HSET", "v", "a", "12345678")
        assert c("OBJECT", "ENCODING", "v") == b"listpack"
        c("HINCRBYFLOAT", "v", "a", "0.5")  # "12345678.5" is 10 bytes
        assert c("OBJECT", "ENCODING", "v") == b"hashtable"
        assert c("HGET", "v", "a") == b"12345678.5"
        assert c("CONFIG", "SET", "hash-max-ziplist-entries", "0") == "OK"  # the old name is an alias
        c("HSET", "z", "a", "1")
        assert c("OBJECT", "ENCODING", "z") == b"hashtable"
    finally:
        c("CONFIG", "SET", "hash-max-listpack-entries", "128")
        c("CONFIG", "SET", "hash-max-listpack-value", "64")


# ---- generic commands ----


def test_copy_is_deep_for_both_encodings(c):
    c("HSET", "small", "a", "1", "b", "2")
    c("HSET", "big", *sum(([b"f%d" % i, b"v%d" % i] for i in range(500)), []))
    for key in ("small", "big"):
        assert c("COPY", key, key + "2") == 1
        assert c("OBJECT", "ENCODING", key + "2") == c("OBJECT", "ENCODING", key)
        c("HSET", key + "2", "a", "changed", "new", "x")
        c("HDEL", key, "b")
        assert c("HGET", key, "a") in (b"1", None)
        assert c("HGET", key + "2", "a") == b"changed"
        assert c("HEXISTS", key, "new") == 0
    assert pairs(c("HGETALL", "big2"))[b"f499"] == b"v499"
    assert c("HLEN", "big2") == 502


def test_memory_usage_grows_with_hash(c):
    c("HSET", "small", "a", "1")
    c("HSET", "big", *sum(([b"field:%d" % i, b"value"] for i in range(10000)), []))
    small = c("MEMORY", "USAGE", "small")
    big = c("MEMORY", "USAGE", "big")
    assert 0 < small < 200
    assert 10000 * 40 < big < 10000 * 200


@runnel_only
def test_hashtable_field_costs_one_small_allocation(r, c):
    """A hashtable hash keeps field and value inside the dict entry:
    field:N = value is one 32-byte allocation plus a bucket pointer (about
    42.5 B per field at 50,000 fields), where an entry and a separate block
    cost 74.5 B. used_memory must grow by about as much as MEMORY USAGE says."""
    batches = [range(start, start + 1000) for start in range(0, 50000, 1000)]
    commands = [["HSET", "big"] + sum(([b"field:%d" % i, b"value"] for i in batch), []) for batch in batches]
    usage, grown, usage_grown = memory_after_load(r, "big", commands)
    assert c("OBJECT", "ENCODING", "big") == b"hashtable"
    assert 50000 * 36 < usage < 50000 * 48
    assert abs(grown - usage_grown) < usage_grown * 0.1, (grown, usage_grown)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 20000, 1 << 20])
def test_hashtable_long_and_binary_fields_and_values(c, size):
    """Fields and values of every length-encoding size, with NUL and high
    bytes, come back exactly; values replaced by longer and shorter ones
    (the entry is reallocated) keep every other field intact."""
    blob = (b"\x00\xff\x80" * (size // 3 + 1))[:size]
    model = {b"f%d" % i: b"v%d" % i for i in range(200)}
    model[blob] = blob + b"!"
    model[b"k"] = blob
    c("HSET", "h", *sum(([f, v] for f, v in model.items()), []))
    assert c("OBJECT", "ENCODING", "h") == b"hashtable"
    for new in (blob * 2, b"", blob[: size // 2], b"\x00", blob):
        assert c("HSET", "h", b"k", new) == 0
        model[b"k"] = new
        assert c("HGET", "h", b"k") == new
        assert c("HSTRLEN", "h", b"k") == len(new)
    assert c("HGET", "h", blob) == blob + b"!"
    assert pairs(c("HGETALL", "h")) == model
    assert c("HINCRBY", "h", blob, 1) == err("ERR hash value is not an integer")
    assert c("HDEL", "h", blob) == 1
    assert c("HEXISTS", "h", blob) == 0
    assert c("HLEN", "h") == len(model) - 1


def test_scan_type_hash(c):
    c("HSET", "h1", "a", "1")
    c("HSET", "h2", "a", "1")
    c("SET", "s", "x")
    c("RPUSH", "l", "x")
    cursor, keys = b"0", []
    while True:
        cursor, got = c("SCAN", cursor, "TYPE", "hash")
        keys += got
        if cursor == b"0":
            break
    assert sorted(keys) == [b"h1", b"h2"]


def test_hash_commands_in_multi(c):
    assert c("MULTI") == "OK"
    assert c("HSET", "h", "a", "1") == "QUEUED"
    assert c("HINCRBY", "h", "a", "2") == "QUEUED"
    assert c("HGET", "h", "a") == "QUEUED"
    assert c("EXEC") == [1, 3, b"3"]


# ---- keyspace events ----


def collect_events(r, actions):
    """Runs actions with keyevent notifications on; returns [(event, key)]."""
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    try:
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=1)["type"] == "psubscribe"
        for a in actions:
            try:
                r.execute_command(*a)
            except Exception:
                pass
        events = []
        while True:
            m = p.get_message(timeout=0.3)
            if m is None:
                break
            events.append((m["channel"].decode().split(":", 1)[1], m["data"].decode()))
        return events
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_keyspace_events(r):
    events = collect_events(r, [
        ("HSET", "h", "a", "1", "b", "2"), ("HMSET", "h", "c", "3"), ("HSETNX", "h", "a", "9"),
        ("HSETNX", "h", "d", "4"), ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "f", "1.5"),
        ("HINCRBY", "h", "a", "x"), ("HDEL", "h", "zz"), ("HDEL", "h", "a", "b"),
        ("HDEL", "h", "c", "d", "n", "f"), ("HGET", "h", "a"),
    ])
    assert events == [
        ("hset", "h"), ("hset", "h"), ("hset", "h"), ("hincrby", "h"), ("hincrbyfloat", "h"), ("hdel", "h"),
        ("hdel", "h"), ("del", "h"),
    ]


# ---- big hashes against a model ----


def test_random_operations_against_model(r):
    rnd = random.Random(7)
    model = {}
    p = r.pipeline(transaction=False)
    expected = []
    for step in range(20000):
        f = b"f%d" % rnd.randrange(3000)
        op = rnd.random()
        if op < 0.45:
            v = b"v%d" % rnd.randrange(10**6) if rnd.random() < 0.9 else b"x" * rnd.randrange(100)
            p.hset("h", f, v)
            expected.append(0 if f in model else 1)
            model[f] = v
        elif op < 0.6:
            p.hdel("h", f)
            expected.append(1 if model.pop(f, None) is not None else 0)
        elif op < 0.7:
            p.hincrby("h", b"n" + f, 3)
            n = int(model.get(b"n" + f, b"0")) + 3
            model[b"n" + f] = b"%d" % n
            expected.append(n)
        else:
            p.hget("h", f)
            expected.append(model.get(f))
        if len(p) >= 500:
            assert p.execute() == expected
            expected = []
    assert p.execute() == expected
    assert r.hlen("h") == len(model)
    assert r.hgetall("h") == model
    assert r.object("encoding", "h") == b"hashtable"
    for f in list(model):
        r.hdel("h", f)
    assert r.exists("h") == 0


def test_small_hash_random_operations_stay_packed(r):
    rnd = random.Random(11)
    model = {}
    for step in range(3000):
        f = b"%d" % rnd.randrange(-50, 50) if rnd.random() < 0.5 else b"k%d" % rnd.randrange(60)
        if rnd.random() < 0.6:
            v = b"%d" % rnd.randrange(-1000, 1000)
            assert r.hset("s", f, v) == (0 if f in model else 1)
            model[f] = v
        else:
            assert r.hdel("s", f) == (1 if model.pop(f, None) is not None else 0)
        if step % 100 == 0:
            assert r.hgetall("s") == model
    assert r.hgetall("s") == model
    if model:
        assert r.object("encoding", "s") == b"listpack"
