"""Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
SDIFFSTORE SSCAN, their errors, RESP2/RESP3 reply shapes, the intset /
listpack / hashtable encodings and their conversions at every limit,
keyspace events, COPY/MEMORY/TYPE/SCAN TYPE, and big sets checked against
Python sets.

Expected replies were checked against redis-server 7.0 side by side (this
file passes against it with RUNNEL_SERVER=/usr/bin/redis-server, except the
tests marked runnel_only: Runnel's set encodings are Redis 7.2's, where small
non-integer sets are listpacks). Exact error texts go through the raw
connection."""
import os
import random

import pytest
from conftest import memory_after_load

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808

runnel_only = pytest.mark.skipif(
    os.path.basename(os.environ.get("RUNNEL_SERVER", "runnel-server")) == "redis-server",
    reason="Runnel follows Redis 7.2 here",
)


def err(text):
    return ("error", text)


SYNTAX = err("ERR syntax error")
NOT_INTEGER = err("ERR value is not an integer or out of range")
NOT_POSITIVE = err("ERR value is out of range, must be positive")
WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value")
RANGE = err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")


@pytest.fixture
def c(r, raw):
    """A raw connection on a flushed server: replies exactly as sent."""
    return raw.call


def members(n, prefix=b"m"):
    return [prefix + b"%d" % i for i in range(n)]


# ---- adding, removing, reading ----


def test_sadd_srem_scard(c):
    assert c("SADD", "s", "a", "b", "c") == 3
    assert c("SADD", "s", "a", "d", "d") == 1
    assert c("SCARD", "s") == 4
    assert c("SREM", "s", "a", "zz") == 1
    assert c("SREM", "s", "a") == 0
    assert c("SCARD", "s") == 3
    assert c("SCARD", "nokey") == 0
    assert c("SREM", "nokey", "a") == 0
    assert c("TYPE", "s") == "set"
    assert c("SREM", "s", "b", "c", "d") == 3
    assert c("EXISTS", "s") == 0


def test_arity_errors(c):
    for cmd in ("SADD", "SREM", "SMISMEMBER"):
        assert c(cmd, "s") == err("ERR wrong number of arguments for '%s' command" % cmd.lower())
    assert c("SINTERSTORE", "d") == err("ERR wrong number of arguments for 'sinterstore' command")
    assert c("SMOVE", "a", "b") == err("ERR wrong number of arguments for 'smove' command")


def test_sismember_smismember_smembers(c):
    c("SADD", "s", "a", "1", "-5")
    assert c("SISMEMBER", "s", "a") == 1
    assert c("SISMEMBER", "s", "b") == 0
    assert c("SISMEMBER", "s", "1") == 1
    assert c("SISMEMBER", "s", "01") == 0
    assert c("SISMEMBER", "nokey", "a") == 0
    assert c("SMISMEMBER", "s", "a", "b", "-5") == [1, 0, 1]
    assert c("SMISMEMBER", "nokey", "a", "b") == [0, 0]
    assert sorted(c("SMEMBERS", "s")) == [b"-5", b"1", b"a"]
    assert c("SMEMBERS", "nokey") == []


def test_members_are_binary_safe_and_exact(c):
    values = [b"", b"0", b"-0", b"007", b"+1", b" 1", b"127", b"-4096", b"32768", str(LLONG_MAX).encode(),
              str(LLONG_MIN).encode(), b"9223372036854775808", b"1.5", b"\x00\xff\r\n", b"a" * 64, b"b" * 65]
    assert c("SADD", "s", *values) == len(values)
    assert sorted(c("SMEMBERS", "s")) == sorted(values)
    for v in values:
        assert c("SISMEMBER", "s", v) == 1


def test_integer_spellings_are_distinct(c):
    c("SADD", "s", "1", "2")
    assert c("SADD", "s", "01", "+1", "1.0", "1") == 3
    assert c("SCARD", "s") == 5
    assert c("SISMEMBER", "s", "01") == 1
    assert c("SREM", "s", "1") == 1
    assert c("SISMEMBER", "s", "01") == 1


def test_resp3_shapes(r, raw3):
    c = raw3.call
    c("SADD", "s", "a", "b", "c")
    c("SADD", "t", "b", "c", "d")
    kind, items = c("SMEMBERS", "s")
    assert kind == "set" and sorted(items) == [b"a", b"b", b"c"]
    assert c("SMEMBERS", "nokey") == ("set", [])
    for cmd, want in (("SINTER", [b"b", b"c"]), ("SUNION", [b"a", b"b", b"c", b"d"]), ("SDIFF", [b"a"])):
        kind, items = c(cmd, "s", "t")
        assert kind == "set" and sorted(items) == want
    assert c("SINTER", "nokey", "t") == ("set", [])
    assert c("SMISMEMBER", "s", "a", "z") == [1, 0]
    got = c("SRANDMEMBER", "s", "2")
    assert isinstance(got, list) and len(got) == 2
    assert sorted(c("SRANDMEMBER", "s", "10")) == [b"a", b"b", b"c"]
    assert len(c("SRANDMEMBER", "s", "-5")) == 5
    assert c("SRANDMEMBER", "nokey", "2") == []
    assert c("SRANDMEMBER", "nokey") is None
    kind, items = c("SPOP", "s", "2")
    assert kind == "set" and len(items) == 2
    assert c("SPOP", "s", "0") == ("set", [])
    assert c("SPOP", "nokey", "2") == ("set", [])
    assert c("SPOP", "nokey") is None


def test_resp2_nil_shapes(r, raw):
    raw.command("SPOP", "nokey")
    assert raw.read_line() == b"$-1"
    raw.command("SRANDMEMBER", "nokey")
    assert raw.read_line() == b"$-1"
    raw.command("SPOP", "nokey", "3")
    assert raw.read_line() == b"*0"


# ---- SPOP, SRANDMEMBER ----


@pytest.mark.parametrize("kind", ["intset", "listpack", "hashtable"])
def test_spop_single_and_count(c, kind):
    model = {b"%d" % i for i in range(50)} if kind == "intset" else set(members(50 if kind == "listpack" else 600))
    c("SADD", "s", *model)
    popped = c("SPOP", "s")
    assert popped in model
    model.discard(popped)
    got = c("SPOP", "s", "10")
    assert len(got) == 10 and len(set(got)) == 10 and set(got) <= model
    model -= set(got)
    # most of what is left: SPOP keeps the few that remain instead
    got = c("SPOP", "s", str(len(model) - 3))
    assert len(set(got)) == len(model) - 3 and set(got) <= model
    model -= set(got)
    assert set(c("SMEMBERS", "s")) == model and c("SCARD", "s") == 3
    got = c("SPOP", "s", "100")
    assert set(got) == model
    assert c("EXISTS", "s") == 0


def test_spop_errors(c):
    c("SADD", "s", "a")
    assert c("SPOP", "s", "-1") == NOT_POSITIVE
    assert c("SPOP", "s", "x") == NOT_POSITIVE
    assert c("SPOP", "nokey", "x") == NOT_POSITIVE
    assert c("SPOP", "s", "1", "2") == SYNTAX
    assert c("SPOP", "s", "0") == []
    assert c("SPOP", "nokey", "2") == []
    assert c("SPOP", "nokey") is None
    assert c("SCARD", "s") == 1


@pytest.mark.parametrize("size", [5, 100, 1000])
def test_srandmember(c, size):
    model = set(members(size)) if size != 5 else {b"1", b"2", b"3", b"4", b"5"}
    c("SADD", "s", *model)
    assert c("SRANDMEMBER", "s") in model
    assert c("SRANDMEMBER", "s", "0") == []
    for count in (1, 2, size // 3, size // 3 + 1, size - 1, size, size + 10):
        got = c("SRANDMEMBER", "s", str(count))
        assert len(got) == min(count, size) and len(set(got)) == len(got) and set(got) <= model
    got = c("SRANDMEMBER", "s", str(-3 * size))
    assert len(got) == 3 * size and set(got) <= model
    assert len(set(got)) > size // 2  # spread over the set
    assert c("SCARD", "s") == size


def test_srandmember_errors(c):
    c("SADD", "s", "a")
    assert c("SRANDMEMBER", "s", "x") == NOT_INTEGER
    assert c("SRANDMEMBER", "s", str(LLONG_MIN)) == RANGE
    assert c("SRANDMEMBER", "s", "1", "2") == SYNTAX
    assert c("SRANDMEMBER", "nokey", "3") == []
    assert c("SRANDMEMBER", "nokey", "-3") == []


# ---- SMOVE ----


def test_smove(c):
    c("SADD", "src", "a", "b")
    c("SADD", "dst", "c")
    assert c("SMOVE", "src", "dst", "a") == 1
    assert sorted(c("SMEMBERS", "dst")) == [b"a", b"c"]
    assert c("SMOVE", "src", "dst", "zz") == 0
    assert c("SMOVE", "src", "new", "b") == 1
    assert c("EXISTS", "src") == 0
    assert c("SMEMBERS", "new") == [b"b"]
    assert c("SMOVE", "nokey", "dst", "a") == 0
    c("SADD", "dst", "b")
    assert c("SMOVE", "new", "dst", "b") == 1  # already in dst: still moved out of src
    assert c("EXISTS", "new") == 0
    assert c("SMOVE", "dst", "dst", "a") == 1
    assert c("SMOVE", "dst", "dst", "zz") == 0
    assert sorted(c("SMEMBERS", "dst")) == [b"a", b"b", b"c"]


def test_smove_wrongtype(c):
    c("SADD", "s", "a")
    c("SET", "str", "x")
    assert c("SMOVE", "s", "str", "a") == WRONGTYPE
    assert c("SMOVE", "str", "s", "a") == WRONGTYPE
    assert c("SMOVE", "nokey", "str", "a") == 0  # a missing source answers first
    assert c("SISMEMBER", "s", "a") == 1


def test_smove_into_intset_keeps_encoding_rules(c):
    c("SADD", "src", "5", "abc")
    c("SADD", "ints", "1", "2")
    assert c("SMOVE", "src", "ints", "5") == 1
    assert c("OBJECT", "ENCODING", "ints") == b"intset"
    assert c("SMOVE", "src", "fresh", "abc") == 1
    assert c("SMEMBERS", "fresh") == [b"abc"]


# ---- algebra ----


def test_sinter_sunion_sdiff(c):
    c("SADD", "a", "1", "2", "3", "x")
    c("SADD", "b", "2", "3", "4", "y")
    c("SADD", "c", "3", "x", "y", "z")
    assert sorted(c("SINTER", "a", "b")) == [b"2", b"3"]
    assert sorted(c("SINTER", "a", "b", "c")) == [b"3"]
    assert sorted(c("SINTER", "a")) == sorted(c("SMEMBERS", "a"))
    assert c("SINTER", "a", "nokey") == []
    assert sorted(c("SUNION", "a", "b")) == sorted([b"1", b"2", b"3", b"4", b"x", b"y"])
    assert sorted(c("SUNION", "a", "nokey")) == sorted(c("SMEMBERS", "a"))
    assert c("SUNION", "nokey") == []
    assert sorted(c("SDIFF", "a", "b")) == [b"1", b"x"]
    assert sorted(c("SDIFF", "a", "b", "c")) == [b"1"]
    assert sorted(c("SDIFF", "a", "nokey")) == sorted(c("SMEMBERS", "a"))
    assert c("SDIFF", "nokey", "a") == []
    assert c("SDIFF", "a", "a") == []
    assert sorted(c("SINTER", "a", "a")) == sorted(c("SMEMBERS", "a"))


def test_algebra_wrongtype_checks_every_key(c):
    c("SADD", "s", "a")
    c("SET", "str", "x")
    for cmd in ("SINTER", "SUNION", "SDIFF"):
        assert c(cmd, "nokey", "str") == WRONGTYPE
        assert c(cmd, "str", "nokey") == WRONGTYPE
        assert c(cmd, "s", "str") == WRONGTYPE
        assert c(cmd + "STORE", "d", "nokey", "str") == WRONGTYPE
    assert c("SINTERCARD", "2", "nokey", "str") == WRONGTYPE
    assert c("EXISTS", "d") == 0


def test_store_variants(c):
    c("SADD", "a", "1", "2", "3", "x")
    c("SADD", "b", "2", "3", "4", "y")
    assert c("SINTERSTORE", "d", "a", "b") == 2
    assert sorted(c("SMEMBERS", "d")) == [b"2", b"3"]
    assert c("SUNIONSTORE", "d", "a", "b") == 6
    assert c("SCARD", "d") == 6
    assert c("SDIFFSTORE", "d", "a", "b") == 2
    assert sorted(c("SMEMBERS", "d")) == [b"1", b"x"]
    # the destination may be a source
    assert c("SUNIONSTORE", "a", "a", "b") == 6
    assert c("SCARD", "a") == 6
    # an empty result deletes the destination, whatever it held
    c("SET", "str", "v")
    c("EXPIRE", "d", "100")
    assert c("SINTERSTORE", "str", "a", "nokey") == 0
    assert c("EXISTS", "str") == 0
    assert c("SDIFFSTORE", "d", "b", "b") == 0
    assert c("EXISTS", "d") == 0
    # a non-empty result replaces any type and drops the TTL
    c("SET", "str", "v")
    c("EXPIRE", "str", "100")
    assert c("SUNIONSTORE", "str", "b") == 4
    assert c("TYPE", "str") == "set"
    assert c("TTL", "str") == -1


def test_sintercard(c):
    c("SADD", "a", *members(100))
    c("SADD", "b", *members(50))
    c("SADD", "c", *members(10))
    assert c("SINTERCARD", "2", "a", "b") == 50
    assert c("SINTERCARD", "3", "a", "b", "c") == 10
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "7") == 7
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "0") == 50
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "1000") == 50
    assert c("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "2") == 2
    assert c("SINTERCARD", "2", "a", "nokey") == 0
    assert c("SINTERCARD", "1", "nokey") == 0


@pytest.mark.parametrize("args, error", [
    (["0", "s"], "ERR numkeys should be greater than 0"),
    (["-1", "s"], "ERR numkeys should be greater than 0"),
    (["x", "s"], "ERR numkeys should be greater than 0"),
    (["3", "s"], "ERR Number of keys can't be greater than number of args"),
    (["1", "s", "LIMIT", "-1"], "ERR LIMIT can't be negative"),
    (["1", "s", "LIMIT", "x"], "ERR LIMIT can't be negative"),
    (["1", "s", "foo"], "ERR syntax error"),
    (["1", "s", "LIMIT"], "ERR syntax error"),
])
def test_sintercard_errors(c, args, error):
    c("SADD", "s", "a", "b")
    assert c("SINTERCARD", *args) == err(error)


def test_sintercard_movable_keys(c):
    info = c("COMMAND", "INFO", "sintercard")[0]
    assert info[1] == -3
    assert "movablekeys" in info[2]
    assert c("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1") == [b"a", b"b"]


def test_big_algebra_against_model(c):
    rnd = random.Random(3)
    sets = {}
    for name in ("a", "b", "c"):
        sets[name] = {b"%d" % rnd.randrange(3000) for _ in range(2000)} | {b"s%d" % rnd.randrange(3000)
                                                                          for _ in range(1000)}
        c("SADD", name, *sets[name])
    a, b, cc = sets["a"], sets["b"], sets["c"]
    assert set(c("SINTER", "a", "b", "c")) == a & b & cc
    assert set(c("SUNION", "a", "b", "c")) == a | b | cc
    assert set(c("SDIFF", "a", "b", "c")) == a - b - cc
    assert c("SINTERCARD", "3", "a", "b", "c") == len(a & b & cc)
    # a small first set probes the big ones; a big one against small ones copies and removes
    c("SADD", "tiny", b"1", b"2", b"s5")
    assert set(c("SDIFF", "tiny", "a", "b")) == {b"1", b"2", b"s5"} - a - b
    assert set(c("SDIFF", "a", "tiny")) == a - {b"1", b"2", b"s5"}
    assert c("SDIFFSTORE", "d", "a", "b", "c") == len(a - b - cc)
    assert set(c("SMEMBERS", "d")) == a - b - cc


# ---- SSCAN ----


def scan_all(c, key, *opts):
    cursor, out = b"0", []
    while True:
        cursor, items = c("SSCAN", key, cursor, *opts)
        out += items
        if cursor == b"0":
            return out


def test_sscan_small_returns_everything_at_once(c):
    c("SADD", "ints", "1", "2", "3")
    c("SADD", "strs", "a", "b")
    for key, want in (("ints", [b"1", b"2", b"3"]), ("strs", [b"a", b"b"])):
        cursor, items = c("SSCAN", key, "0")
        assert cursor == b"0" and sorted(items) == want
    assert c("SSCAN", "nokey", "0") == [b"0", []]
    assert c("SSCAN", "ints", "0", "MATCH", "2") == [b"0", [b"2"]]


def test_sscan_big(c):
    model = set(members(3000, b"member:"))
    c("SADD", "s", *model)
    items = scan_all(c, "s", "COUNT", "100")
    assert set(items) == model and len(items) == len(model)
    got = scan_all(c, "s", "MATCH", "member:1?", "COUNT", "500")
    assert sorted(got) == sorted(m for m in model if len(m) == 9 and m.startswith(b"member:1"))


def test_sscan_errors(c):
    c("SADD", "s", "a")
    assert c("SSCAN", "s", "x") == err("ERR invalid cursor")
    assert c("SSCAN", "s", "0", "COUNT", "0") == SYNTAX
    assert c("SSCAN", "s", "0", "NOVALUES") == SYNTAX
    assert c("SSCAN", "s", "0", "MATCH") == SYNTAX
    assert c("SSCAN", "nokey", "0", "FOO") == [b"0", []]


# ---- WRONGTYPE ----


@pytest.mark.parametrize(
    "cmd",
    [
        ["SADD", "k", "a"], ["SREM", "k", "a"], ["SMEMBERS", "k"], ["SISMEMBER", "k", "a"],
        ["SMISMEMBER", "k", "a"], ["SCARD", "k"], ["SPOP", "k"], ["SPOP", "k", "2"], ["SRANDMEMBER", "k"],
        ["SRANDMEMBER", "k", "2"], ["SINTER", "k"], ["SUNION", "k"], ["SDIFF", "k"], ["SSCAN", "k", "0"],
        ["SINTERCARD", "1", "k"],
    ],
)
def test_wrongtype(c, cmd):
    c("SET", "k", "value")
    assert c(*cmd) == WRONGTYPE
    assert c("GET", "k") == b"value"


def test_command_info(c):
    expected = {"sadd": -3, "srem": -3, "smembers": 2, "sismember": 3, "smismember": -3, "scard": 2, "spop": -2,
                "srandmember": -2, "smove": 4, "sinter": -2, "sinterstore": -3, "sunion": -2, "sunionstore": -3,
                "sdiff": -2, "sdiffstore": -3, "sscan": -3}
    for name, arity in expected.items():
        info = c("COMMAND", "INFO", name)[0]
        assert info[0] == name.encode() and info[1] == arity
    assert c("COMMAND", "INFO", "sinter")[0][3:6] == [1, -1, 1]
    assert c("COMMAND", "INFO", "smove")[0][3:6] == [1, 2, 1]


# ---- encodings ----


def test_intset_until_limit_then_hashtable(c):
    c("SADD", "s", *[b"%d" % i for i in range(512)])
    assert c("OBJECT", "ENCODING", "s") == b"intset"
    c("SADD", "s", "5")
    assert c("OBJECT", "ENCODING", "s") == b"intset"
    c("SADD", "s", "512")
    assert c("OBJECT", "ENCODING", "s") == b"hashtable"
    assert c("SCARD", "s") == 513
    assert c("SISMEMBER", "s", "511") == 1


def test_intset_holds_64_bit_values(c):
    c("SADD", "s", "1", str(LLONG_MAX), str(LLONG_MIN), "-70000", "70000")
    assert c("OBJECT", "ENCODING", "s") == b"intset"
    assert sorted(int(x) for x in c("SMEMBERS", "s")) == sorted([1, LLONG_MAX, LLONG_MIN, -70000, 70000])
    c("SADD", "s", "9223372036854775808")  # not a 64-bit integer
    assert c("OBJECT", "ENCODING", "s") != b"intset"
    assert c("SISMEMBER", "s", "9223372036854775808") == 1


@runnel_only
def test_intset_to_listpack_on_string(c):
    c("SADD", "s", "1", "2", "3")
    assert c("OBJECT", "ENCODING", "s") == b"intset"
    c("SADD", "s", "abc")
    assert c("OBJECT", "ENCODING", "s") == b"listpack"
    assert sorted(c("SMEMBERS", "s")) == [b"1", b"2", b"3", b"abc"]
    c("SADD", "big", *[b"%d" % i for i in range(200)])
    c("SADD", "big", "abc")  # more than 128 members: straight to a hash table
    assert c("OBJECT", "ENCODING", "big") == b"hashtable"


@runnel_only
def test_listpack_limits(c):
    c("SADD", "s", *members(128))
    assert c("OBJECT", "ENCODING", "s") == b"listpack"
    c("SADD", "s", "m0")
    assert c("OBJECT", "ENCODING", "s") == b"listpack"
    c("SADD", "s", "one-more")
    assert c("OBJECT", "ENCODING", "s") == b"hashtable"
    assert c("SCARD", "s") == 129
    c("SADD", "v", "x" * 64)
    assert c("OBJECT", "ENCODING", "v") == b"listpack"
    c("SADD", "v", "y" * 65)
    assert c("OBJECT", "ENCODING", "v") == b"hashtable"
    c("SADD", "created", *members(129))  # created at its final size
    assert c("OBJECT", "ENCODING", "created") == b"hashtable"
    c("SADD", "w", "1", "x" * 65)  # the first member is an integer; the second does not fit a listpack
    assert c("OBJECT", "ENCODING", "w") == b"hashtable"


@runnel_only
def test_encodings_never_shrink(c):
    c("SADD", "s", *members(200))
    c("SREM", "s", *members(199))
    assert c("OBJECT", "ENCODING", "s") == b"hashtable"
    c("SADD", "l", "a", "b")
    c("SREM", "l", "a")
    assert c("OBJECT", "ENCODING", "l") == b"listpack"


@runnel_only
def test_config_limits(c):
    try:
        assert c("CONFIG", "SET", "set-max-intset-entries", "4") == "OK"
        assert c("CONFIG", "SET", "set-max-listpack-entries", "3") == "OK"
        assert c("CONFIG", "SET", "set-max-listpack-value", "5") == "OK"
        c("SADD", "i", "1", "2", "3", "4")
        assert c("OBJECT", "ENCODING", "i") == b"intset"
        c("SADD", "i", "5")
        assert c("OBJECT", "ENCODING", "i") == b"hashtable"
        c("SADD", "l", "a", "b", "c")
        assert c("OBJECT", "ENCODING", "l") == b"listpack"
        c("SADD", "l", "d")
        assert c("OBJECT", "ENCODING", "l") == b"hashtable"
        c("SADD", "v", "abcde")
        assert c("OBJECT", "ENCODING", "v") == b"listpack"
        c("SADD", "v", "abcdef")
        assert c("OBJECT", "ENCODING", "v") == b"hashtable"
        c("SADD", "wide", "123456")  # an intset whose numbers are too long for a listpack
        c("SADD", "wide", "a")
        assert c("OBJECT", "ENCODING", "wide") == b"hashtable"
    finally:
        c("CONFIG", "SET", "set-max-intset-entries", "512")
        c("CONFIG", "SET", "set-max-listpack-entries", "128")
        c("CONFIG", "SET", "set-max-listpack-value", "64")


@runnel_only
def test_store_result_encoding(c):
    c("SADD", "a", "1", "2", "x")
    c("SADD", "b", "1", "2", "y")
    c("SINTERSTORE", "d", "a", "b")
    assert c("OBJECT", "ENCODING", "d") == b"intset"
    c("SUNIONSTORE", "d", "a", "b")
    assert c("OBJECT", "ENCODING", "d") == b"listpack"
    c("SADD", "big", *members(1000))
    c("SUNIONSTORE", "d", "big", "a")
    assert c("OBJECT", "ENCODING", "d") == b"hashtable"


# ---- generic commands ----


@pytest.mark.parametrize("kind", ["intset", "listpack", "hashtable"])
def test_copy_is_deep(c, kind):
    model = {b"%d" % i for i in range(10)} if kind == "intset" else set(members(10 if kind == "listpack" else 300))
    c("SADD", "s", *model)
    assert c("COPY", "s", "t") == 1
    assert c("OBJECT", "ENCODING", "t") == c("OBJECT", "ENCODING", "s")
    c("SADD", "t", "new")
    c("SREM", "s", next(iter(model)))
    assert c("SCARD", "s") == len(model) - 1
    assert set(c("SMEMBERS", "t")) == model | {b"new"}


def test_memory_usage(c):
    c("SADD", "ints", *[b"%d" % i for i in range(100)])
    c("SADD", "big", *members(10000, b"member:"))
    assert 0 < c("MEMORY", "USAGE", "ints") < 400
    assert 10000 * 30 < c("MEMORY", "USAGE", "big") < 10000 * 200


@runnel_only
def test_hashtable_member_costs_one_small_allocation(r, c):
    """A hashtable set keeps each member inside its dict entry: member:N is
    one 32-byte allocation plus a bucket pointer (about 42.5 B per member at
    50,000 members), where an entry and a separate string cost 74.5 B.
    used_memory must grow by about as much as MEMORY USAGE says."""
    batches = [range(start, start + 1000) for start in range(0, 50000, 1000)]
    commands = [["SADD", "big"] + [b"member:%d" % i for i in batch] for batch in batches]
    usage, grown, usage_grown = memory_after_load(r, "big", commands)
    assert c("OBJECT", "ENCODING", "big") == b"hashtable"
    assert 50000 * 36 < usage < 50000 * 48
    assert abs(grown - usage_grown) < usage_grown * 0.1, (grown, usage_grown)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 20000, 1 << 20])
def test_hashtable_long_and_binary_members(c, size):
    """Members of every length-encoding size, with NUL and high bytes, come
    back exactly through every read path of a hashtable set."""
    special = [(b"\x00\xff\x80" * (size // 3 + 1))[:size], (b"x" * size)[:-1] + b"\x00" if size else b"\x00"]
    model = set(members(200, b"member:")) | set(special)
    c("SADD", "s", *model)
    assert c("OBJECT", "ENCODING", "s") == b"hashtable"
    assert set(c("SMEMBERS", "s")) == model
    assert set(scan_all(c, "s", "COUNT", "7")) == model
    assert c("SMISMEMBER", "s", *special, special[0] + b"!") == [1, 1, 0]
    assert c("SREM", "s", special[0]) == 1
    assert c("SISMEMBER", "s", special[0]) == 0
    assert c("SCARD", "s") == len(model) - 1


def test_scan_type_set(c):
    c("SADD", "s1", "a")
    c("SADD", "s2", "1")
    c("HSET", "h", "a", "1")
    c("SET", "str", "x")
    cursor, keys = b"0", []
    while True:
        cursor, got = c("SCAN", cursor, "TYPE", "set")
        keys += got
        if cursor == b"0":
            break
    assert sorted(keys) == [b"s1", b"s2"]


def test_set_commands_in_multi(c):
    assert c("MULTI") == "OK"
    assert c("SADD", "s", "a", "b") == "QUEUED"
    assert c("SMOVE", "s", "t", "a") == "QUEUED"
    assert c("SCARD", "t") == "QUEUED"
    assert c("EXEC") == [2, 1, 1]


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
        ("SADD", "s", "a", "b", "c", "d"), ("SADD", "s", "a"), ("SREM", "s", "zz"), ("SREM", "s", "a"),
        ("SPOP", "s"), ("SMOVE", "s", "t", "zz"), ("SPOP", "s", "1"), ("SMOVE", "s", "t", "nope"),
        ("SRANDMEMBER", "s"),
    ])
    assert events == [("sadd", "s"), ("srem", "s"), ("spop", "s"), ("spop", "s")]


def test_keyspace_events_exact(r):
    r.sadd("s", "a", "b")
    r.sadd("o", "x")
    events = collect_events(r, [
        ("SMOVE", "s", "t", "a"), ("SMOVE", "s", "t", "b"), ("SADD", "u", "1", "2", "3"),
        ("SINTERSTORE", "d", "u", "t"), ("SUNIONSTORE", "d", "u", "t"), ("SDIFFSTORE", "d", "u", "u"),
        ("SDIFFSTORE", "d", "u", "t"), ("SINTERSTORE", "d", "u", "nokey"), ("SPOP", "u", "10"),
        ("SREM", "o", "x"),
    ])
    assert events == [
        ("srem", "s"), ("sadd", "t"), ("srem", "s"), ("del", "s"), ("sadd", "t"), ("sadd", "u"),
        ("sunionstore", "d"), ("del", "d"), ("sdiffstore", "d"), ("del", "d"), ("spop", "u"), ("del", "u"),
        ("srem", "o"), ("del", "o"),
    ]


# ---- big sets against a model ----


def test_random_operations_against_model(r):
    rnd = random.Random(5)
    model = set()
    p = r.pipeline(transaction=False)
    expected = []
    for step in range(20000):
        m = b"%d" % rnd.randrange(4000) if rnd.random() < 0.5 else b"m%d" % rnd.randrange(4000)
        op = rnd.random()
        if op < 0.5:
            p.sadd("s", m)
            expected.append(0 if m in model else 1)
            model.add(m)
        elif op < 0.75:
            p.srem("s", m)
            expected.append(1 if m in model else 0)
            model.discard(m)
        else:
            p.sismember("s", m)
            expected.append(m in model)
        if len(p) >= 500:
            assert [int(x) for x in p.execute()] == [int(x) for x in expected]
            expected = []
    assert [int(x) for x in p.execute()] == [int(x) for x in expected]
    assert r.smembers("s") == model
    assert r.scard("s") == len(model)
    popped = set()
    while r.exists("s"):
        got = r.spop("s", rnd.randrange(1, 500))
        assert not (set(got) & popped)
        popped |= set(got)
    assert popped == model


def test_small_int_set_random_operations(r):
    rnd = random.Random(9)
    model = set()
    for step in range(3000):
        v = rnd.choice([rnd.randrange(-100, 100), rnd.randrange(-2**40, 2**40), rnd.randrange(-70000, 70000)])
        m = b"%d" % v
        if rnd.random() < 0.55:
            assert r.sadd("s", m) == (0 if m in model else 1)
            model.add(m)
        else:
            assert r.srem("s", m) == (1 if m in model else 0)
            model.discard(m)
        if step % 200 == 0:
            assert r.smembers("s") == model
            if model:
                assert r.object("encoding", "s") == (b"intset" if len(model) <= 512 else b"hashtable")
    assert r.smembers("s") == model
