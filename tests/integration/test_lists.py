"""List commands (non-blocking): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN
LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, their
errors, RESP2/RESP3 reply shapes, encodings, keyspace events, and large
lists spanning many nodes checked against a Python model.

Expected replies were checked against redis-server 7.0 side by side; where
Runnel follows 7.2 instead (OBJECT ENCODING listpack, LPOS RANK range check)
the test says so. Exact error texts go through the raw connection."""
import random
import threading
import time

import pytest
import redis

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808


def err(text):
    return ("error", text)


SYNTAX = err("ERR syntax error")
NOT_INTEGER = err("ERR value is not an integer or out of range")
NOT_POSITIVE = err("ERR value is out of range, must be positive")
WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value")
RANK_ZERO = err(
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)


@pytest.fixture
def c(r, raw):
    """A raw connection on a flushed server: replies exactly as sent."""
    return raw.call


def raw_bytes(raw, *args):
    """Sends one command and returns the exact reply line (for nil shapes)."""
    raw.command(*args)
    return raw.read_line()


# ---- push ----


def test_lpush_rpush_order_and_length(c):
    assert c("RPUSH", "l", "a", "b") == 2
    assert c("LPUSH", "l", "x", "y") == 4
    assert c("RPUSH", "l", "c") == 5
    assert c("LRANGE", "l", "0", "-1") == [b"y", b"x", b"a", b"b", b"c"]
    assert c("TYPE", "l") == "list"
    assert c("LLEN", "l") == 5


def test_pushx_requires_existing_list(c):
    # The seed's example: RPUSHX on a missing timeline creates nothing.
    assert c("RPUSHX", "Timelinecache:userD", "x") == 0
    assert c("EXISTS", "Timelinecache:userD") == 0
    assert c("LPUSHX", "nokey", "a", "b") == 0
    assert c("EXISTS", "nokey") == 0
    assert c("RPUSH", "q", "a") == 1
    assert c("RPUSHX", "q", "b", "c") == 3
    assert c("LPUSHX", "q", "z", "y") == 5
    assert c("LRANGE", "q", "0", "-1") == [b"y", b"z", b"a", b"b", b"c"]


def test_push_arity(c):
    for cmd in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        assert c(cmd, "k") == err("ERR wrong number of arguments for '%s' command" % cmd.lower())


def test_values_are_binary_safe_and_exact(c):
    values = [b"", b"0", b"-0", b"007", b"+1", b" 1", b"1 ", b"127", b"128", b"-4096", b"-4097", b"32768",
              b"8388608", b"2147483648", str(LLONG_MAX).encode(), str(LLONG_MIN).encode(),
              b"9223372036854775808", b"-9223372036854775809", b"1.5", b"\x00\xff\r\n", b"a" * 63, b"b" * 64,
              b"c" * 4095, b"d" * 4096, b"e" * 100000]
    assert c("RPUSH", "l", *values) == len(values)
    assert c("LRANGE", "l", "0", "-1") == values
    for i, v in enumerate(values):
        assert c("LINDEX", "l", str(i)) == v
    assert c("LPOS", "l", "007") == 3
    assert c("LPOS", "l", "7") is None
    assert c("LPOS", "l", str(LLONG_MIN)) == 15


# ---- pop ----


def test_pop_single_and_count(c):
    c("RPUSH", "l", "a", "b", "c", "d", "e")
    assert c("LPOP", "l") == b"a"
    assert c("RPOP", "l") == b"e"
    assert c("LPOP", "l", "2") == [b"b", b"c"]
    assert c("RPOP", "l", "0") == []
    assert c("RPOP", "l", "10") == [b"d"]
    assert c("EXISTS", "l") == 0
    assert c("LPOP", "l") is None


def test_pop_count_errors(c):
    c("RPUSH", "l", "a")
    assert c("LPOP", "l", "-1") == NOT_POSITIVE
    assert c("RPOP", "l", "abc") == NOT_POSITIVE
    assert c("LPOP", "l", "1", "2") == err("ERR wrong number of arguments for 'lpop' command")
    assert c("RPOP", "l", "1", "2") == err("ERR wrong number of arguments for 'rpop' command")
    # The count is parsed before the key is looked at.
    assert c("LPOP", "nokey", "-1") == NOT_POSITIVE


def test_pop_missing_key_shapes_resp2(r, raw):
    assert raw_bytes(raw, "LPOP", "nokey") == b"$-1"
    assert raw_bytes(raw, "LPOP", "nokey", "5") == b"*-1"
    assert raw_bytes(raw, "RPOP", "nokey", "0") == b"*-1"
    r.rpush("l", "x")
    assert raw_bytes(raw, "LPOP", "l", "0") == b"*0"


def test_pop_missing_key_shapes_resp3(r, raw3):
    assert raw_bytes(raw3, "LPOP", "nokey") == b"_"
    assert raw_bytes(raw3, "RPOP", "nokey", "3") == b"_"
    r.rpush("l", "x", "y")
    assert raw3.call("LPOP", "l", "1") == [b"x"]
    assert raw3.call("LMPOP", "1", "l", "LEFT") == [b"l", [b"y"]]
    assert raw_bytes(raw3, "LMPOP", "1", "l", "LEFT") == b"_"
    assert raw_bytes(raw3, "LPOS", "l", "x") == b"_"
    assert raw_bytes(raw3, "LINDEX", "l", "0") == b"_"
    assert raw_bytes(raw3, "LMOVE", "l", "m", "LEFT", "LEFT") == b"_"


# ---- reading ----


def test_llen(c):
    assert c("LLEN", "nokey") == 0
    c("RPUSH", "l", "a", "b")
    assert c("LLEN", "l") == 2


@pytest.mark.parametrize(
    "start,stop,expect",
    [
        (0, -1, "abcde"), (1, 3, "bcd"), (-2, -1, "de"), (-100, 100, "abcde"), (2, 1, ""), (5, 10, ""),
        (1, -100, ""), (-3, 2, "c"), (0, 0, "a"), (4, 4, "e"), (LLONG_MIN, LLONG_MAX, "abcde"),
        (LLONG_MAX, LLONG_MAX, ""), (-1, -1, "e"), (-5, -5, "a"), (-6, -5, "a"),
    ],
)
def test_lrange(c, start, stop, expect):
    c("RPUSH", "l", *"abcde")
    assert c("LRANGE", "l", str(start), str(stop)) == [x.encode() for x in expect]


def test_lrange_errors_and_missing(c):
    assert c("LRANGE", "nokey", "0", "-1") == []
    assert c("LRANGE", "nokey", "abc", "1") == NOT_INTEGER
    c("RPUSH", "l", "a")
    assert c("LRANGE", "l", "0", "1.5") == NOT_INTEGER


def test_lindex(c):
    c("RPUSH", "l", "a", "b", "c")
    assert c("LINDEX", "l", "0") == b"a"
    assert c("LINDEX", "l", "-1") == b"c"
    assert c("LINDEX", "l", "-3") == b"a"
    assert c("LINDEX", "l", "3") is None
    assert c("LINDEX", "l", "-4") is None
    assert c("LINDEX", "l", "abc") == NOT_INTEGER
    # The key is looked up before the index is parsed, as in Redis.
    assert c("LINDEX", "nokey", "abc") is None


def test_lset(c):
    assert c("LSET", "nokey", "0", "x") == err("ERR no such key")
    c("RPUSH", "l", "a", "b", "c")
    assert c("LSET", "l", "abc", "x") == NOT_INTEGER
    assert c("LSET", "l", "3", "x") == err("ERR index out of range")
    assert c("LSET", "l", "-4", "x") == err("ERR index out of range")
    assert c("LSET", "l", "-1", "Z") == "OK"
    assert c("LSET", "l", "0", "1234567") == "OK"
    assert c("LSET", "l", "1", "x" * 10000) == "OK"
    assert c("LRANGE", "l", "0", "-1") == [b"1234567", b"x" * 10000, b"Z"]


def test_linsert(c):
    assert c("LINSERT", "nokey", "BEFORE", "a", "x") == 0
    assert c("EXISTS", "nokey") == 0
    c("RPUSH", "l", "a", "b", "a")
    assert c("LINSERT", "l", "middle", "a", "x") == SYNTAX
    assert c("LINSERT", "l", "BEFORE", "zzz", "x") == -1
    assert c("LINSERT", "l", "before", "a", "B") == 4
    assert c("LINSERT", "l", "AFTER", "a", "A") == 5
    assert c("LINSERT", "l", "after", "a", "tail") == 6  # first match only
    assert c("LRANGE", "l", "0", "-1") == [b"B", b"a", b"tail", b"A", b"b", b"a"]
    assert c("LINSERT", "l", "AFTER", "a", "") == 7
    assert c("LINDEX", "l", "2") == b""


def test_linsert_integer_pivot_is_exact(c):
    c("RPUSH", "l", "10", "010", "1e1")
    assert c("LINSERT", "l", "AFTER", "010", "x") == 4
    assert c("LRANGE", "l", "0", "-1") == [b"10", b"010", b"x", b"1e1"]


# ---- removing ----


def test_lrem(c):
    assert c("LREM", "nokey", "0", "a") == 0
    c("RPUSH", "l", *"abacada")
    assert c("LREM", "l", "abc", "a") == NOT_INTEGER
    assert c("LREM", "l", "2", "a") == 2
    assert c("LRANGE", "l", "0", "-1") == [b"b", b"c", b"a", b"d", b"a"]
    assert c("LREM", "l", "-1", "a") == 1
    assert c("LRANGE", "l", "0", "-1") == [b"b", b"c", b"a", b"d"]
    assert c("LREM", "l", "0", "a") == 1
    assert c("LREM", "l", "0", "zzz") == 0
    for v in "bcd":
        assert c("LREM", "l", "0", v) == 1
    assert c("EXISTS", "l") == 0


def test_lrem_extreme_counts(c):
    c("RPUSH", "l", "a", "b", "a")
    assert c("LREM", "l", str(LLONG_MIN), "a") == 2
    c("RPUSH", "l", "a", "a")
    assert c("LREM", "l", str(LLONG_MAX), "a") == 2
    assert c("LRANGE", "l", "0", "-1") == [b"b"]


@pytest.mark.parametrize(
    "start,stop,expect",
    [
        (1, -2, "bcdef"), (0, -1, "abcdefg"), (-100, 100, "abcdefg"), (3, 1, None), (7, 10, None),
        (-1, -1, "g"), (0, 0, "a"), (2, 2, "c"), (-3, -2, "ef"), (LLONG_MIN, LLONG_MAX, "abcdefg"),
    ],
)
def test_ltrim(c, start, stop, expect):
    c("RPUSH", "l", *"abcdefg")
    assert c("LTRIM", "l", str(start), str(stop)) == "OK"
    if expect is None:
        assert c("EXISTS", "l") == 0
    else:
        assert c("LRANGE", "l", "0", "-1") == [x.encode() for x in expect]


def test_ltrim_errors_and_missing(c):
    assert c("LTRIM", "nokey", "0", "1") == "OK"
    assert c("LTRIM", "nokey", "abc", "1") == NOT_INTEGER
    assert c("LTRIM", "nokey", "0", "abc") == NOT_INTEGER


def test_capped_list_pattern(c):
    for i in range(200):
        c("LPUSH", "recent", "event-%d" % i)
        assert c("LTRIM", "recent", "0", "99") == "OK"
    assert c("LLEN", "recent") == 100
    assert c("LINDEX", "recent", "0") == b"event-199"
    assert c("LINDEX", "recent", "-1") == b"event-100"


# ---- LPOS ----


@pytest.fixture
def plist(c):
    c("RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "1", "2", "3", "c")
    return c


@pytest.mark.parametrize(
    "args,expect",
    [
        (["c"], 2), (["c", "RANK", "2"], 6), (["c", "RANK", "-1"], 10), (["c", "RANK", "-2"], 6),
        (["c", "RANK", "4"], None), (["c", "COUNT", "0"], [2, 6, 10]), (["c", "COUNT", "2"], [2, 6]),
        (["c", "MAXLEN", "3"], 2), (["c", "MAXLEN", "2"], None), (["c", "MAXLEN", "3", "COUNT", "0"], [2]),
        (["c", "RANK", "-1", "COUNT", "2", "MAXLEN", "1"], [10]), (["c", "RANK", "2", "COUNT", "0"], [6, 10]),
        (["c", "rank", "-2", "count", "5"], [6, 2]), (["zzz"], None), (["zzz", "COUNT", "0"], []),
        (["1", "COUNT", "0"], [3, 7]), (["c", "RANK", str(LLONG_MAX)], None),
        (["c", "RANK", "1", "RANK", "2"], 6),
    ],
)
def test_lpos(plist, args, expect):
    assert plist("LPOS", "p", *args) == expect


@pytest.mark.parametrize(
    "args,error",
    [
        (["RANK", "0"], RANK_ZERO),
        (["RANK", "abc"], NOT_INTEGER),
        (["COUNT", "-1"], err("ERR COUNT can't be negative")),
        (["COUNT", "abc"], err("ERR COUNT can't be negative")),
        (["MAXLEN", "-1"], err("ERR MAXLEN can't be negative")),
        (["MAXLEN", "abc"], err("ERR MAXLEN can't be negative")),
        (["foo"], SYNTAX),
        (["RANK"], SYNTAX),
        # Redis 7.2 refuses the one rank that cannot be negated (7.0 misbehaves).
        (["RANK", str(LLONG_MIN)],
         err("ERR value is out of range, must be between -9223372036854775807 and 9223372036854775807")),
    ],
)
def test_lpos_errors(plist, args, error):
    assert plist("LPOS", "p", "c", *args) == error


def test_lpos_missing_key(c):
    assert c("LPOS", "nokey", "a") is None
    assert c("LPOS", "nokey", "a", "COUNT", "1") == []
    # Options are checked before the key.
    assert c("LPOS", "nokey", "a", "RANK", "0") == RANK_ZERO


# ---- moving ----


@pytest.mark.parametrize(
    "wherefrom,whereto,src,dst",
    [
        ("LEFT", "LEFT", "bc", "axy"), ("LEFT", "RIGHT", "bc", "xya"),
        ("RIGHT", "LEFT", "ab", "cxy"), ("RIGHT", "RIGHT", "ab", "xyc"),
    ],
)
def test_lmove_directions(c, wherefrom, whereto, src, dst):
    c("RPUSH", "src", "a", "b", "c")
    c("RPUSH", "dst", "x", "y")
    moved = c("LMOVE", "src", "dst", wherefrom, whereto)
    assert moved == (b"a" if wherefrom == "LEFT" else b"c")
    assert c("LRANGE", "src", "0", "-1") == [x.encode() for x in src]
    assert c("LRANGE", "dst", "0", "-1") == [x.encode() for x in dst]


def test_lmove_creates_destination_and_deletes_source(c):
    c("RPUSH", "src", "only")
    assert c("LMOVE", "src", "dst", "right", "left") == b"only"
    assert c("EXISTS", "src") == 0
    assert c("LRANGE", "dst", "0", "-1") == [b"only"]


def test_lmove_same_key_rotates(c):
    c("RPUSH", "c", "1", "2", "3")
    assert c("LMOVE", "c", "c", "LEFT", "RIGHT") == b"1"
    assert c("LRANGE", "c", "0", "-1") == [b"2", b"3", b"1"]
    assert c("LMOVE", "c", "c", "RIGHT", "LEFT") == b"1"
    assert c("LMOVE", "c", "c", "LEFT", "LEFT") == b"1"
    assert c("LMOVE", "c", "c", "RIGHT", "RIGHT") == b"3"
    assert c("LRANGE", "c", "0", "-1") == [b"1", b"2", b"3"]
    c("RPUSH", "one", "x")
    assert c("LMOVE", "one", "one", "LEFT", "RIGHT") == b"x"
    assert c("LRANGE", "one", "0", "-1") == [b"x"]


def test_rpoplpush_circular(c):
    # The seed's circular queue: RPOPLPUSH onto the same list rotates it.
    c("RPUSH", "clist", "A", "B", "C", "D")
    seen = [c("RPOPLPUSH", "clist", "clist") for _ in range(4)]
    assert seen == [b"D", b"C", b"B", b"A"]
    assert c("LRANGE", "clist", "0", "-1") == [b"A", b"B", b"C", b"D"]


def test_rpoplpush_between_lists(c):
    c("RPUSH", "jobs", "j1", "j2")
    assert c("RPOPLPUSH", "jobs", "processing") == b"j2"
    assert c("RPOPLPUSH", "jobs", "processing") == b"j1"
    assert c("RPOPLPUSH", "jobs", "processing") is None
    assert c("LRANGE", "processing", "0", "-1") == [b"j1", b"j2"]
    assert c("EXISTS", "jobs") == 0


def test_lmove_errors(c):
    c("RPUSH", "l", "a")
    c("SET", "s", "v")
    assert c("LMOVE", "l", "m", "UP", "LEFT") == SYNTAX
    assert c("LMOVE", "l", "m", "LEFT", "DOWN") == SYNTAX
    assert c("LMOVE", "nokey", "s", "LEFT", "LEFT") is None
    assert c("LMOVE", "s", "l", "LEFT", "LEFT") == WRONGTYPE
    assert c("LMOVE", "l", "s", "LEFT", "LEFT") == WRONGTYPE
    assert c("RPOPLPUSH", "l", "s") == WRONGTYPE
    assert c("LRANGE", "l", "0", "-1") == [b"a"]  # nothing popped


# ---- LMPOP ----


def test_lmpop(c):
    c("RPUSH", "l2", "a", "b", "c", "d")
    assert c("LMPOP", "2", "l1", "l2", "LEFT") == [b"l2", [b"a"]]
    assert c("LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "2") == [b"l2", [b"d", b"c"]]
    assert c("LMPOP", "1", "l2", "left", "count", "100") == [b"l2", [b"b"]]
    assert c("EXISTS", "l2") == 0
    assert c("LMPOP", "2", "l1", "l2", "LEFT") is None


def test_lmpop_first_nonempty_key_wins(c):
    c("RPUSH", "b", "1")
    c("RPUSH", "c", "2")
    assert c("LMPOP", "3", "a", "b", "c", "LEFT") == [b"b", [b"1"]]
    assert c("LMPOP", "3", "a", "b", "c", "LEFT") == [b"c", [b"2"]]


def test_lmpop_wrongtype_stops_the_scan(c):
    c("SET", "s", "v")
    c("RPUSH", "l", "x")
    assert c("LMPOP", "2", "s", "l", "LEFT") == WRONGTYPE
    assert c("LMPOP", "2", "l", "s", "LEFT") == [b"l", [b"x"]]


def test_lmpop_nil_array_resp2(raw):
    assert raw_bytes(raw, "LMPOP", "1", "nokey", "LEFT") == b"*-1"


@pytest.mark.parametrize(
    "args,error",
    [
        (["0", "l", "LEFT"], err("ERR numkeys should be greater than 0")),
        (["-1", "l", "LEFT"], err("ERR numkeys should be greater than 0")),
        (["abc", "l", "LEFT"], err("ERR numkeys should be greater than 0")),
        (["3", "l", "LEFT"], SYNTAX),
        (["2", "l", "LEFT"], SYNTAX),
        (["1", "l", "MIDDLE"], SYNTAX),
        (["1", "l", "LEFT", "COUNT", "0"], err("ERR count should be greater than 0")),
        (["1", "l", "LEFT", "COUNT", "-1"], err("ERR count should be greater than 0")),
        (["1", "l", "LEFT", "COUNT", "abc"], err("ERR count should be greater than 0")),
        (["1", "l", "LEFT", "COUNT", "1", "COUNT", "2"], SYNTAX),
        (["1", "l", "LEFT", "COUNT"], SYNTAX),
        (["1", "l", "LEFT", "foo"], SYNTAX),
        (["99999999999999999999", "l", "LEFT"], err("ERR numkeys should be greater than 0")),
        (["9223372036854775807", "l", "LEFT"], SYNTAX),
    ],
)
def test_lmpop_errors(c, args, error):
    c("RPUSH", "l", "x")
    assert c("LMPOP", *args) == error
    assert c("LLEN", "l") == 1


def test_lmpop_movable_keys(c):
    assert c("COMMAND", "GETKEYS", "LMPOP", "3", "a", "b", "c", "LEFT", "COUNT", "2") == [b"a", b"b", b"c"]
    info = c("COMMAND", "INFO", "lmpop")[0]
    assert info[1] == -4
    assert "movablekeys" in info[2]
    assert info[3:6] == [0, 0, 0]


def test_command_info_shapes(c):
    expected = {
        "lpush": -3, "rpush": -3, "lpushx": -3, "rpushx": -3, "lpop": -2, "rpop": -2, "llen": 2, "lrange": 4,
        "lindex": 3, "lset": 4, "linsert": 5, "lrem": 4, "ltrim": 4, "lpos": -3, "lmove": 5, "rpoplpush": 3,
    }
    for name, arity in expected.items():
        info = c("COMMAND", "INFO", name)[0]
        assert info[0] == name.encode()
        assert info[1] == arity
        last = 2 if name in ("lmove", "rpoplpush") else 1
        assert info[3:6] == [1, last, 1]


# ---- WRONGTYPE ----


@pytest.mark.parametrize(
    "cmd",
    [
        ["LPUSH", "s", "x"], ["RPUSH", "s", "x"], ["LPUSHX", "s", "x"], ["RPUSHX", "s", "x"], ["LPOP", "s"],
        ["RPOP", "s", "2"], ["LLEN", "s"], ["LRANGE", "s", "0", "-1"], ["LINDEX", "s", "0"],
        ["LSET", "s", "0", "x"], ["LINSERT", "s", "BEFORE", "a", "b"], ["LREM", "s", "0", "a"],
        ["LTRIM", "s", "0", "1"], ["LPOS", "s", "a"], ["LMOVE", "s", "d", "LEFT", "LEFT"],
        ["RPOPLPUSH", "s", "d"], ["LMPOP", "1", "s", "LEFT"],
    ],
)
def test_wrongtype(c, cmd):
    c("SET", "s", "value")
    assert c(*cmd) == WRONGTYPE
    assert c("GET", "s") == b"value"


def test_string_commands_refuse_lists(c):
    c("RPUSH", "l", "a")
    assert c("GET", "l") == WRONGTYPE
    assert c("APPEND", "l", "x") == WRONGTYPE


# ---- encodings (Redis 7.2: listpack while small) ----


def test_encoding_small_is_listpack(c):
    c("RPUSH", "l", "a", "b", "1")
    assert c("OBJECT", "ENCODING", "l") == b"listpack"


def test_encoding_grows_to_quicklist_and_shrinks_back(c):
    c("RPUSH", "l", *["v%d" % i for i in range(2000)])
    assert c("OBJECT", "ENCODING", "l") == b"quicklist"
    c("LTRIM", "l", "0", "9")
    assert c("OBJECT", "ENCODING", "l") == b"listpack"
    c("RPUSH", "big", "x" * 9000)
    assert c("OBJECT", "ENCODING", "big") == b"quicklist"
    c("RPUSH", "big", "y")
    c("LPOP", "big")
    assert c("OBJECT", "ENCODING", "big") == b"listpack"


def test_encoding_boundary_matches_redis_72(c):
    # 8192-byte listpack limit: 7 bytes of listpack header/end, then entries of
    # 3 bytes for a 1-byte string; Redis adds raw lengths when checking a push.
    c("RPUSH", "l", *(["a"] * 2728))  # 7 + 2728*3 = 8191
    assert c("OBJECT", "ENCODING", "l") == b"listpack"
    c("RPUSH", "l", "a")  # 8191 + 1 = 8192: still fits
    assert c("OBJECT", "ENCODING", "l") == b"listpack"
    c("RPUSH", "l", "a", "a")  # 8194 + 2 > 8192
    assert c("OBJECT", "ENCODING", "l") == b"quicklist"


def test_config_list_max_listpack_size(c):
    assert c("CONFIG", "SET", "list-max-listpack-size", "4") == "OK"
    try:
        c("RPUSH", "l", "a", "b", "c", "d")
        assert c("OBJECT", "ENCODING", "l") == b"listpack"
        c("RPUSH", "l", "e")
        assert c("OBJECT", "ENCODING", "l") == b"quicklist"
        assert c("LRANGE", "l", "0", "-1") == [b"a", b"b", b"c", b"d", b"e"]
    finally:
        c("CONFIG", "SET", "list-max-listpack-size", "-2")


# ---- COPY, keyspace events ----


def test_copy_is_deep(c):
    c("RPUSH", "src", *["e%d" % i for i in range(5000)])
    assert c("COPY", "src", "dst") == 1
    c("LPOP", "src")
    c("LSET", "dst", "1", "changed")
    assert c("LLEN", "src") == 4999
    assert c("LLEN", "dst") == 5000
    assert c("LINDEX", "dst", "0") == b"e0"
    assert c("LINDEX", "src", "0") == b"e1"
    assert c("LINDEX", "dst", "1") == b"changed"
    assert c("TYPE", "dst") == "list"


def collect_events(r, actions):
    """Runs actions with keyevent notifications on; returns [(event, key)]."""
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    try:
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=1)["type"] == "psubscribe"
        for a in actions:
            r.execute_command(*a)
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
        ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "z"), ("LPUSHX", "l", "y"), ("RPUSHX", "l", "x"),
        ("LSET", "l", "0", "Y"), ("LINSERT", "l", "BEFORE", "a", "A"), ("LINSERT", "l", "BEFORE", "nope", "A"),
        ("LREM", "l", "0", "A"), ("LREM", "l", "0", "nope"), ("LTRIM", "l", "0", "-1"), ("LPOP", "l"),
        ("RPOP", "l", "2"), ("LMOVE", "l", "m", "LEFT", "RIGHT"), ("RPOPLPUSH", "l", "m"),
        ("LMPOP", "1", "m", "LEFT", "COUNT", "5"), ("LPOP", "l"), ("LPOP", "l"),
    ])
    assert events == [
        ("rpush", "l"), ("lpush", "l"), ("lpush", "l"), ("rpush", "l"), ("lset", "l"), ("linsert", "l"),
        ("lrem", "l"), ("ltrim", "l"), ("lpop", "l"), ("rpop", "l"), ("rpush", "m"), ("lpop", "l"),
        ("lpush", "m"), ("rpop", "l"), ("lpop", "m"), ("del", "m"), ("lpop", "l"), ("del", "l"),
    ]


def test_keyspace_events_trim_to_empty(r):
    r.rpush("l", "a", "b")
    events = collect_events(r, [("LTRIM", "l", "5", "10")])
    assert events == [("ltrim", "l"), ("del", "l")]


# ---- transactions ----


def test_list_commands_in_multi(c):
    assert c("MULTI") == "OK"
    assert c("RPUSH", "l", "a", "b") == "QUEUED"
    assert c("LMOVE", "l", "l", "LEFT", "RIGHT") == "QUEUED"
    assert c("LRANGE", "l", "0", "-1") == "QUEUED"
    assert c("EXEC") == [2, b"a", [b"b", b"a"]]


# ---- large lists against a model ----


def fill(r, key, values, chunk=1000):
    p = r.pipeline(transaction=False)
    for i in range(0, len(values), chunk):
        p.rpush(key, *values[i:i + chunk])
    p.execute()


def test_large_list_random_ops_against_model(r):
    rng = random.Random(42)
    model = ["v%d" % i if i % 7 else str(i) for i in range(100000)]
    fill(r, "big", model)
    assert r.llen("big") == 100000
    assert r.object("encoding", "big") == b"quicklist"
    for step in range(3000):
        n = len(model)
        op = rng.randrange(10)
        i = rng.randrange(n)
        if op == 0:
            assert r.lindex("big", i) == model[i].encode()
            assert r.lindex("big", i - n) == model[i].encode()
        elif op == 1:
            v = "set%d" % step if step % 3 else "x" * rng.randrange(1, 3000)
            assert r.lset("big", i, v)
            model[i] = v
        elif op == 2:
            pivot = model[i]
            where = rng.choice(["BEFORE", "AFTER"])
            v = "ins%d" % step
            first = model.index(pivot)
            assert r.linsert("big", where, pivot, v) == n + 1
            model.insert(first + (1 if where == "AFTER" else 0), v)
        elif op == 3:
            start = rng.randrange(n)
            stop = start + rng.randrange(200)
            assert r.lrange("big", start, stop) == [x.encode() for x in model[start:stop + 1]]
        elif op == 4:
            v = "dup%d" % rng.randrange(20)
            pos = rng.randrange(n)
            r.linsert("big", "BEFORE", model[pos], v)
            model.insert(model.index(model[pos]), v)
            count = rng.choice([0, 1, -1, 2, -2])
            removed = r.lrem("big", count, v)
            expect = 0
            if count >= 0:
                k = 0
                while k < len(model) and (count == 0 or expect < count):
                    if model[k] == v:
                        del model[k]
                        expect += 1
                    else:
                        k += 1
            else:
                k = len(model) - 1
                while k >= 0 and expect < -count:
                    if model[k] == v:
                        del model[k]
                        expect += 1
                    k -= 1
            assert removed == expect
        elif op == 5:
            end = rng.choice(["l", "r"])
            v = "push%d" % step
            if end == "l":
                r.lpush("big", v)
                model.insert(0, v)
            else:
                r.rpush("big", v)
                model.append(v)
        elif op == 6:
            k = rng.randrange(1, 5)
            if rng.randrange(2):
                assert r.lpop("big", k) == [x.encode() for x in model[:k]]
                del model[:k]
            else:
                assert r.rpop("big", k) == [x.encode() for x in reversed(model[-k:])]
                del model[-k:]
        elif op == 7:
            v = model[i]
            assert r.lpos("big", v) == model.index(v)
        elif op == 8:
            head, tail = rng.randrange(3), rng.randrange(3)
            r.ltrim("big", head, -1 - tail)
            model = model[head:len(model) - tail]
        else:
            lo = rng.randrange(n)
            assert r.lrange("big", lo - n, lo - n + 50) == [x.encode() for x in model[lo:lo + 51]]
        assert r.llen("big") == len(model)
    assert r.lrange("big", 0, -1) == [x.encode() for x in model]


def test_large_list_queue_drain(r):
    values = ["job-%06d" % i for i in range(100000)]
    fill(r, "q", values)
    p = r.pipeline(transaction=False)
    for _ in range(1000):
        p.lpop("q", 100)
    out = [v for batch in p.execute() for v in batch]
    assert out == [v.encode() for v in values]
    assert r.exists("q") == 0


def test_large_list_middle_edits(c, r):
    fill(r, "m", [str(i) for i in range(100000)])
    assert c("LINDEX", "m", "50000") == b"50000"
    assert c("LSET", "m", "50000", "middle") == "OK"
    assert c("LINSERT", "m", "AFTER", "middle", "after-middle") == 100001
    assert c("LRANGE", "m", "49999", "50002") == [b"49999", b"middle", b"after-middle", b"50001"]
    assert c("LREM", "m", "0", "after-middle") == 1
    assert c("LPOS", "m", "middle") == 50000
    assert c("LPOS", "m", "99999", "RANK", "-1") == 99999
    assert c("LTRIM", "m", "25000", "74999") == "OK"
    assert c("LLEN", "m") == 50000
    assert c("LINDEX", "m", "0") == b"25000"
    assert c("LINDEX", "m", "-1") == b"74999"


def test_memory_per_small_element(r):
    before = r.info("memory")["used_memory"]
    p = r.pipeline(transaction=False)
    for i in range(200000):
        p.rpush("q", "payload-%010d" % i)  # 18 bytes
        if i % 10000 == 9999:
            p.execute()
    p.execute()
    per = (r.info("memory")["used_memory"] - before) / 200000
    if per == 0:
        pytest.skip("no allocator statistics (sanitizer build)")
    assert per <= 20.5, "%.2f bytes per element" % per


# ---- list-compress-depth ----


@pytest.fixture
def compressed(r):
    assert r.config_set("list-compress-depth", 1)
    yield r
    r.config_set("list-compress-depth", 0)


def test_compressed_list_against_model(compressed):
    r = compressed
    rng = random.Random(7)
    model = ["order:%06d:status=pending" % i for i in range(30000)]
    fill(r, "c", model)
    for step in range(600):
        n = len(model)
        i = rng.randrange(n)
        op = rng.randrange(6)
        if op == 0:
            assert r.lindex("c", i) == model[i].encode()
        elif op == 1:
            assert r.lset("c", i, "set%d" % step)
            model[i] = "set%d" % step
        elif op == 2:
            assert r.linsert("c", "AFTER", model[i], "ins%d" % step) == n + 1
            model.insert(model.index(model[i]) + 1, "ins%d" % step)
        elif op == 3:
            assert r.lrange("c", i, i + 30) == [x.encode() for x in model[i:i + 31]]
        elif op == 4:
            assert r.lpop("c", 3) == [x.encode() for x in model[:3]]
            del model[:3]
            r.rpush("c", "tail%d" % step)
            model.append("tail%d" % step)
        else:
            assert r.lrem("c", 1, model[i]) == 1
            model.remove(model[i])
    assert r.lrange("c", 0, -1) == [x.encode() for x in model]


def test_compression_saves_memory_on_similar_messages(r):
    def used_for(depth):
        r.delete("q")
        r.config_set("list-compress-depth", depth)
        before = r.info("memory")["used_memory"]
        fill(r, "q", ["{\"job\":%d,\"state\":\"pending\",\"queue\":\"mail\"}" % i for i in range(50000)])
        used = r.info("memory")["used_memory"] - before
        assert r.lindex("q", 25000) == b"{\"job\":25000,\"state\":\"pending\",\"queue\":\"mail\"}"
        r.delete("q")
        return used

    try:
        plain, packed = used_for(0), used_for(1)
    finally:
        r.config_set("list-compress-depth", 0)
    if plain == 0:
        pytest.skip("no allocator statistics (sanitizer build)")
    assert packed < plain / 2, (plain, packed)
