"""String commands: SET and its options, the GET family, MGET/MSET,
APPEND/STRLEN/GETRANGE/SETRANGE, the counters, encodings and limits.

Expected replies were checked against redis-server 7.0 side by side; where
7.2 differs from 7.0 the test says so. Exact error texts go through the raw
connection (redis-py strips the "ERR " prefix)."""
import time

import pytest

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808


def err(text):
    return ("error", text)


def invalid_expire(command):
    return err("ERR invalid expire time in '%s' command" % command)


SYNTAX = err("ERR syntax error")
NOT_INTEGER = err("ERR value is not an integer or out of range")
NOT_FLOAT = err("ERR value is not a valid float")
WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value")


@pytest.fixture
def c(r, raw):
    """A raw connection on a flushed server: replies exactly as sent."""
    return raw.call


def make_list(c, key):
    """Creates a non-string key, or skips while no list command exists."""
    reply = c("RPUSH", key, "x")
    if isinstance(reply, tuple) and "unknown command" in reply[1]:
        pytest.skip("no list type yet to provoke WRONGTYPE")
    assert reply == 1


# ---- SET ----


def test_set_and_get(c):
    assert c("SET", "k", "v") == "OK"
    assert c("GET", "k") == b"v"
    assert c("SET", "k", "w") == "OK"
    assert c("GET", "k") == b"w"
    assert c("GET", "missing") is None


def test_set_nx_xx(c):
    assert c("SET", "k", "1", "XX") is None
    assert c("EXISTS", "k") == 0
    assert c("SET", "k", "1", "NX") == "OK"
    assert c("SET", "k", "2", "NX") is None
    assert c("GET", "k") == b"1"
    assert c("SET", "k", "3", "xx") == "OK"
    assert c("GET", "k") == b"3"


@pytest.mark.parametrize(
    "opts",
    [
        ["NX", "XX"],
        ["XX", "NX"],
        ["EX", "10", "PX", "100"],
        ["PX", "100", "EX", "10"],
        ["EX", "10", "EXAT", "99999999999"],
        ["PXAT", "99999999999999", "EXAT", "99999999999"],
        ["EX", "10", "KEEPTTL"],
        ["KEEPTTL", "PX", "100"],
        ["PERSIST"],
        ["EX"],
        ["PX"],
        ["EXAT"],
        ["PXAT"],
        ["FOO"],
        ["NX", "EX"],
    ],
)
def test_set_option_errors(c, opts):
    assert c("SET", "k", "v", *opts) == SYNTAX
    assert c("EXISTS", "k") == 0


def test_set_repeated_options_are_allowed(c):
    # Redis accepts an option given twice; the last EX value wins.
    assert c("SET", "k", "v", "EX", "10", "EX", "100") == "OK"
    assert c("TTL", "k") == 100
    assert c("SET", "k", "v", "NX", "NX") is None
    assert c("SET", "k", "w", "XX", "XX", "KEEPTTL", "KEEPTTL") == "OK"
    assert c("TTL", "k") == 100
    assert c("SET", "k", "x", "GET", "GET") == b"w"


def test_set_ex_px(c):
    assert c("SET", "k", "v", "EX", "100") == "OK"
    assert c("TTL", "k") == 100
    assert c("SET", "k", "v", "PX", "100000") == "OK"
    assert 99000 < c("PTTL", "k") <= 100000
    assert c("SET", "k", "v", "ex", "5") == "OK"
    assert c("TTL", "k") == 5


def test_set_exat_pxat(c):
    at = int(time.time()) + 1000
    assert c("SET", "k", "v", "EXAT", at) == "OK"
    assert c("EXPIRETIME", "k") == at
    assert c("PEXPIRETIME", "k") == at * 1000
    assert c("SET", "k", "v", "PXAT", at * 1000 + 123) == "OK"
    assert c("PEXPIRETIME", "k") == at * 1000 + 123
    # A deadline in the past is accepted and the key is gone at once.
    assert c("SET", "k", "v", "EXAT", "1") == "OK"
    assert c("EXISTS", "k") == 0
    assert c("SET", "k", "v", "PXAT", "1") == "OK"
    assert c("GET", "k") is None
    # The largest absolute deadlines that fit.
    assert c("SET", "k", "v", "PXAT", LLONG_MAX) == "OK"
    assert c("PEXPIRETIME", "k") == LLONG_MAX
    assert c("SET", "k", "v", "EXAT", LLONG_MAX // 1000) == "OK"
    assert c("EXPIRETIME", "k") == LLONG_MAX // 1000


def test_set_plain_drops_ttl_keepttl_keeps_it(c):
    assert c("SET", "k", "v", "EX", "100") == "OK"
    assert c("SET", "k", "w", "KEEPTTL") == "OK"
    assert c("TTL", "k") == 100
    assert c("GET", "k") == b"w"
    assert c("SET", "k", "x") == "OK"
    assert c("TTL", "k") == -1


@pytest.mark.parametrize("opt", ["EX", "PX", "EXAT", "PXAT"])
@pytest.mark.parametrize("value", ["0", "-1", str(LLONG_MIN)])
def test_set_invalid_expire_time(c, opt, value):
    assert c("SET", "k", "v", opt, value) == invalid_expire("set")
    assert c("EXISTS", "k") == 0


def test_set_expire_overflow(c):
    assert c("SET", "k", "v", "EX", LLONG_MAX) == invalid_expire("set")
    assert c("SET", "k", "v", "EXAT", LLONG_MAX // 1000 + 1) == invalid_expire("set")
    # Fits after *1000 but overflows once "now" is added.
    assert c("SET", "k", "v", "EX", LLONG_MAX // 1000) == invalid_expire("set")
    assert c("SET", "k", "v", "PX", LLONG_MAX) == invalid_expire("set")
    assert c("SET", "k", "v", "EX", "abc") == NOT_INTEGER
    assert c("SET", "k", "v", "PX", "1.5") == NOT_INTEGER
    assert c("EXISTS", "k") == 0
    # A syntax error is reported before a bad expire value.
    assert c("SET", "k", "v", "EX", "abc", "FOO") == SYNTAX


def test_set_get_option(c):
    assert c("SET", "k", "v1", "GET") is None
    assert c("GET", "k") == b"v1"
    assert c("SET", "k", "v2", "GET") == b"v1"
    assert c("GET", "k") == b"v2"
    # NX with GET: the old value comes back and nothing is written.
    assert c("SET", "k", "v3", "NX", "GET") == b"v2"
    assert c("GET", "k") == b"v2"
    assert c("SET", "new", "v", "NX", "GET") is None
    assert c("GET", "new") == b"v"
    # XX with GET on a missing key: nil, not written.
    assert c("SET", "gone", "v", "XX", "GET") is None
    assert c("EXISTS", "gone") == 0
    assert c("SET", "k", "v4", "XX", "GET", "EX", "50") == b"v2"
    assert c("TTL", "k") == 50
    assert c("SET", "n", "12", "GET") is None
    assert c("SET", "n", "13", "GET") == b"12"


def test_set_get_wrongtype(c):
    make_list(c, "l")
    assert c("SET", "l", "v", "GET") == WRONGTYPE
    assert c("TYPE", "l") == "list"
    assert c("GETSET", "l", "v") == WRONGTYPE
    assert c("GET", "l") == WRONGTYPE
    # SET without GET replaces whatever was there.
    assert c("SET", "l", "v") == "OK"
    assert c("GET", "l") == b"v"


def test_string_commands_wrongtype(c):
    make_list(c, "l")
    for cmd in (
        ["GETDEL", "l"],
        ["GETEX", "l"],
        ["APPEND", "l", "x"],
        ["STRLEN", "l"],
        ["GETRANGE", "l", "0", "1"],
        ["SETRANGE", "l", "0", "x"],
        ["INCR", "l"],
        ["DECRBY", "l", "2"],
        ["INCRBYFLOAT", "l", "1.5"],
    ):
        assert c(*cmd) == WRONGTYPE, cmd
    # MGET answers nil for a non-string instead of failing.
    assert c("SET", "s", "v") == "OK"
    assert c("MGET", "s", "l") == [b"v", None]


# ---- SETNX SETEX PSETEX GETSET ----


def test_setnx(c):
    assert c("SETNX", "k", "a") == 1
    assert c("SETNX", "k", "b") == 0
    assert c("GET", "k") == b"a"


def test_setex_psetex(c):
    assert c("SETEX", "k", "100", "v") == "OK"
    assert c("TTL", "k") == 100
    assert c("GET", "k") == b"v"
    assert c("PSETEX", "p", "100000", "v") == "OK"
    assert 99000 < c("PTTL", "p") <= 100000
    for value in ("0", "-5"):
        assert c("SETEX", "k", value, "v") == invalid_expire("setex")
        assert c("PSETEX", "k", value, "v") == invalid_expire("psetex")
    assert c("SETEX", "k", LLONG_MAX, "v") == invalid_expire("setex")
    assert c("SETEX", "k", "abc", "v") == NOT_INTEGER
    assert c("PSETEX", "k", "1.0", "v") == NOT_INTEGER
    assert c("TTL", "k") == 100


def test_getset(c):
    assert c("GETSET", "k", "a") is None
    assert c("GETSET", "k", "b") == b"a"
    assert c("GET", "k") == b"b"
    assert c("EXPIRE", "k", "100") == 1
    assert c("GETSET", "k", "c") == b"b"
    assert c("TTL", "k") == -1


# ---- GETDEL GETEX ----


def test_getdel(c):
    assert c("SET", "k", "v", "EX", "100") == "OK"
    assert c("GETDEL", "k") == b"v"
    assert c("EXISTS", "k") == 0
    assert c("GETDEL", "k") is None
    assert c("SET", "n", "42") == "OK"
    assert c("GETDEL", "n") == b"42"


def test_getex_options(c):
    assert c("GETEX", "missing") is None
    assert c("GETEX", "missing", "EX", "10") is None
    assert c("EXISTS", "missing") == 0
    assert c("SET", "k", "v") == "OK"
    assert c("GETEX", "k") == b"v"
    assert c("TTL", "k") == -1
    assert c("GETEX", "k", "EX", "100") == b"v"
    assert c("TTL", "k") == 100
    assert c("GETEX", "k") == b"v"
    assert c("TTL", "k") == 100  # no option leaves the TTL alone
    assert c("GETEX", "k", "PX", "50000") == b"v"
    assert 49000 < c("PTTL", "k") <= 50000
    at = int(time.time()) + 500
    assert c("GETEX", "k", "EXAT", at) == b"v"
    assert c("EXPIRETIME", "k") == at
    assert c("GETEX", "k", "PXAT", at * 1000 + 7) == b"v"
    assert c("PEXPIRETIME", "k") == at * 1000 + 7
    assert c("GETEX", "k", "PERSIST") == b"v"
    assert c("TTL", "k") == -1
    assert c("GETEX", "k", "persist", "PERSIST") == b"v"


def test_getex_past_deadline_deletes(c):
    assert c("SET", "k", "v") == "OK"
    assert c("GETEX", "k", "EXAT", "1") == b"v"
    assert c("EXISTS", "k") == 0
    assert c("SET", "k", "w") == "OK"
    assert c("GETEX", "k", "PXAT", "1") == b"w"
    assert c("GET", "k") is None


@pytest.mark.parametrize(
    "opts",
    [
        ["EX", "10", "PX", "10"],
        ["PERSIST", "EX", "10"],
        ["EX", "10", "PERSIST"],
        ["EXAT", "10", "PXAT", "10"],
        ["NX"],
        ["XX"],
        ["GET"],
        ["KEEPTTL"],
        ["EX"],
        ["FOO"],
    ],
)
def test_getex_syntax_errors(c, opts):
    assert c("SET", "k", "v", "EX", "100") == "OK"
    assert c("GETEX", "k", *opts) == SYNTAX
    assert c("TTL", "k") == 100


def test_getex_invalid_expire(c):
    assert c("SET", "k", "v") == "OK"
    for opt in ("EX", "PX", "EXAT", "PXAT"):
        assert c("GETEX", "k", opt, "0") == invalid_expire("getex")
        assert c("GETEX", "k", opt, "-1") == invalid_expire("getex")
    assert c("GETEX", "k", "EX", LLONG_MAX) == invalid_expire("getex")
    assert c("GETEX", "k", "EX", "x") == NOT_INTEGER
    assert c("TTL", "k") == -1
    # A missing key answers nil before the expire value is looked at.
    assert c("GETEX", "missing", "EX", "0") is None
    assert c("GETEX", "missing", "PX", "abc") is None
    assert c("GETEX", "missing", "EX", LLONG_MAX) is None


# ---- MGET MSET MSETNX ----


def test_mget(c):
    assert c("MSET", "a", "1", "b", "2") == "OK"
    assert c("MGET", "a", "missing", "b", "a") == [b"1", None, b"2", b"1"]


def test_mset(c):
    assert c("MSET", "a", "1", "b", "2", "a", "3") == "OK"
    assert c("MGET", "a", "b") == [b"3", b"2"]
    assert c("EXPIRE", "b", "100") == 1
    assert c("MSET", "b", "x") == "OK"
    assert c("TTL", "b") == -1
    assert c("MSET", "a", "1", "b") == err("ERR wrong number of arguments for 'mset' command")
    assert c("MSET", "a") == err("ERR wrong number of arguments for 'mset' command")


def test_msetnx(c):
    assert c("MSETNX", "a", "1", "b", "2") == 1
    assert c("MSETNX", "b", "x", "c", "3") == 0
    assert c("MGET", "a", "b", "c") == [b"1", b"2", None]
    # The same new key twice: the last value wins.
    assert c("MSETNX", "d", "1", "d", "2") == 1
    assert c("GET", "d") == b"2"
    assert c("MSETNX", "e", "1", "f") == err("ERR wrong number of arguments for 'msetnx' command")


# ---- APPEND STRLEN ----


def test_append_strlen(c):
    assert c("STRLEN", "k") == 0
    assert c("APPEND", "k", "hello") == 5
    assert c("APPEND", "k", " world") == 11
    assert c("GET", "k") == b"hello world"
    assert c("STRLEN", "k") == 11
    assert c("APPEND", "k", "") == 11
    assert c("SET", "n", "123") == "OK"
    assert c("STRLEN", "n") == 3
    assert c("APPEND", "n", "4") == 4
    assert c("GET", "n") == b"1234"
    assert c("APPEND", "e", "") == 0
    assert c("EXISTS", "e") == 1


def test_append_keeps_ttl(c):
    assert c("SET", "k", "a", "EX", "100") == "OK"
    assert c("APPEND", "k", "b") == 2
    assert c("TTL", "k") == 100


# ---- GETRANGE SUBSTR ----


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (0, 4, b"hello"),
        (-5, -1, b"world"),
        (6, -1, b"world"),
        (5, 2, b""),
        (-1, -5, b""),
        # An end before the start of the string clamps to 0, so the first
        # byte comes back (7.0 and 7.2 alike; redis#12272 was reverted).
        (0, -100, b"h"),
        (-100, -100, b"h"),
        (-100, -101, b""),
        (-100, 100, b"hello world"),
        (100, 200, b""),
        (0, LLONG_MAX, b"hello world"),
        (LLONG_MIN, LLONG_MAX, b"hello world"),
        (10, 10, b"d"),
        (11, 11, b""),
        (-1, -1, b"d"),
        (0, 0, b"h"),
    ],
)
def test_getrange(c, start, end, expected):
    assert c("SET", "k", "hello world") == "OK"
    assert c("GETRANGE", "k", start, end) == expected
    assert c("SUBSTR", "k", start, end) == expected


def test_getrange_edges(c):
    assert c("GETRANGE", "missing", "0", "10") == b""
    assert c("GETRANGE", "missing", "x", "10") == NOT_INTEGER
    assert c("SET", "e", "") == "OK"
    assert c("GETRANGE", "e", "0", "-1") == b""
    assert c("GETRANGE", "e", "-1", "-1") == b""
    assert c("SET", "n", "12345") == "OK"
    assert c("GETRANGE", "n", "1", "2") == b"23"
    assert c("GETRANGE", "n", "-2", "-1") == b"45"
    assert c("GETRANGE", "n", "a", "1") == NOT_INTEGER
    assert c("GETRANGE", "n", "1", "1.5") == NOT_INTEGER


# ---- SETRANGE ----


def test_setrange_pads_with_zeros(c):
    assert c("SETRANGE", "k", "5", "hi") == 7
    assert c("GET", "k") == b"\x00\x00\x00\x00\x00hi"
    assert c("SETRANGE", "k", "0", "HELLO") == 7
    assert c("GET", "k") == b"HELLOhi"
    assert c("SETRANGE", "k", "9", "!") == 10
    assert c("GET", "k") == b"HELLOhi\x00\x00!"
    assert c("SETRANGE", "k", "1", "") == 10


def test_setrange_integer_value(c):
    assert c("SET", "n", "12345") == "OK"
    assert c("SETRANGE", "n", "1", "ab") == 5
    assert c("GET", "n") == b"1ab45"
    assert c("SET", "m", "100", "EX", "100") == "OK"
    assert c("SETRANGE", "m", "0", "2") == 3
    assert c("GET", "m") == b"200"
    assert c("TTL", "m") == 100
    assert c("INCR", "m") == 201


def test_setrange_errors(c):
    assert c("SETRANGE", "k", "-1", "x") == err("ERR offset is out of range")
    assert c("SETRANGE", "k", "x", "x") == NOT_INTEGER
    assert c("SETRANGE", "k", "-1", "") == err("ERR offset is out of range")
    # An empty value never creates the key.
    assert c("SETRANGE", "k", "1", "") == 0
    assert c("EXISTS", "k") == 0
    too_big = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    assert c("SETRANGE", "k", 512 * 1024 * 1024, "x") == too_big
    assert c("SETRANGE", "k", 536870912, "") == 0
    assert c("EXISTS", "k") == 0
    # Regression: offset + length overflowed and the server tried to allocate 2^63.
    assert c("SETRANGE", "k", LLONG_MAX, "x") == too_big
    assert c("SET", "s", "abc") == "OK"
    assert c("SETRANGE", "s", LLONG_MAX, "x") == too_big
    # With an empty value the length comes back before any size check.
    assert c("SETRANGE", "s", LLONG_MAX, "") == 3
    assert c("GET", "s") == b"abc"


def test_proto_max_bulk_len_limits_strings(fresh_server):
    srv = fresh_server()
    conn = srv.raw()
    too_big = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    assert conn.call("CONFIG", "SET", "proto-max-bulk-len", "1000") == err(
        "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - "
        "argument must be between 1048576 and 9223372036854775807 inclusive"
    )
    assert conn.call("CONFIG", "SET", "proto-max-bulk-len", "1mb") == "OK"
    limit = 1024 * 1024
    assert conn.call("SETRANGE", "k", limit, "x") == too_big
    assert conn.call("EXISTS", "k") == 0
    assert conn.call("SETRANGE", "k", limit - 1, "x") == limit
    assert conn.call("APPEND", "k", "y") == too_big
    assert conn.call("STRLEN", "k") == limit
    assert conn.call("SET", "small", "ab") == "OK"
    assert conn.call("SETRANGE", "small", limit - 1, "xy") == too_big
    assert conn.call("SETRANGE", "small", limit - 2, "xy") == limit
    conn.close()


# ---- counters ----


def test_incr_decr(c):
    assert c("INCR", "n") == 1
    assert c("INCR", "n") == 2
    assert c("DECR", "n") == 1
    assert c("INCRBY", "n", "10") == 11
    assert c("DECRBY", "n", "20") == -9
    assert c("INCRBY", "n", "-1") == -10
    assert c("DECRBY", "n", "-10") == 0
    assert c("GET", "n") == b"0"
    assert c("DECR", "m") == -1
    assert c("INCRBY", "o", LLONG_MAX) == LLONG_MAX


def test_incr_keeps_ttl(c):
    assert c("SET", "n", "10", "EX", "100") == "OK"
    assert c("INCR", "n") == 11
    assert c("TTL", "n") == 100
    assert c("SET", "r", "41") == "OK"
    assert c("APPEND", "r", "") == 2  # now raw-encoded, not int
    assert c("EXPIRE", "r", "100") == 1
    assert c("INCR", "r") == 42
    assert c("TTL", "r") == 100


def test_incr_overflow(c):
    assert c("SET", "n", LLONG_MAX) == "OK"
    assert c("INCR", "n") == err("ERR increment or decrement would overflow")
    assert c("INCRBY", "n", "1") == err("ERR increment or decrement would overflow")
    assert c("INCRBY", "n", "0") == LLONG_MAX
    assert c("SET", "m", LLONG_MIN) == "OK"
    assert c("DECR", "m") == err("ERR increment or decrement would overflow")
    assert c("DECRBY", "m", "1") == err("ERR increment or decrement would overflow")
    assert c("INCRBY", "m", "-1") == err("ERR increment or decrement would overflow")
    assert c("GET", "m") == str(LLONG_MIN).encode()
    assert c("DECRBY", "x", LLONG_MIN) == err("ERR decrement would overflow")
    assert c("DECRBY", "x", LLONG_MAX) == -LLONG_MAX
    assert c("INCRBY", "y", LLONG_MIN) == LLONG_MIN


@pytest.mark.parametrize("value", ["abc", " 1", "1 ", "01", "+1", "-0", "1.0", "", "12345678901234567890", "1\x00"])
def test_incr_not_an_integer(c, value):
    assert c("SET", "k", value) == "OK"
    assert c("INCR", "k") == NOT_INTEGER
    assert c("DECRBY", "k", "1") == NOT_INTEGER
    assert c("GET", "k") == value.encode()


def test_incrby_argument_errors(c):
    assert c("INCRBY", "k", "x") == NOT_INTEGER
    assert c("INCRBY", "k", "1.5") == NOT_INTEGER
    assert c("DECRBY", "k", "9223372036854775808") == NOT_INTEGER
    assert c("INCRBY", "k", "") == NOT_INTEGER
    assert c("EXISTS", "k") == 0


def test_incrbyfloat(c):
    # Long double arithmetic printed with %.17Lf and trailing zeros
    # trimmed: identical in Redis 7.0 and 7.2 (7.2's shortest round-trip
    # printing applies to double replies, not to this stored string).
    assert c("INCRBYFLOAT", "f", "10.5") == b"10.5"
    assert c("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert c("INCRBYFLOAT", "f", "-5") == b"5.6"
    assert c("GET", "f") == b"5.6"
    assert c("INCRBYFLOAT", "g", "5.0e3") == b"5000"
    assert c("INCRBYFLOAT", "h", "1e20") == b"100000000000000000000"
    assert c("INCRBYFLOAT", "i", "1.23e-10") == b"0.000000000123"
    assert c("INCRBYFLOAT", "j", "0.1") == b"0.1"
    assert c("INCRBYFLOAT", "j", "0.2") == b"0.3"
    assert c("INCRBYFLOAT", "z", "-0.0") == b"0"
    assert c("SET", "s", "1.50") == "OK"
    assert c("INCRBYFLOAT", "s", "0") == b"1.5"
    assert c("SET", "n", "10") == "OK"
    assert c("INCRBYFLOAT", "n", "1.1") == b"11.1"


def test_incrbyfloat_errors(c):
    nan_inf = err("ERR increment would produce NaN or Infinity")
    for bad in ("abc", "", " 1", "1 ", "nan", "1e5000", "1.5.5", "0x"):
        assert c("INCRBYFLOAT", "f", bad) == NOT_FLOAT, bad
    assert c("INCRBYFLOAT", "f", "inf") == nan_inf
    assert c("INCRBYFLOAT", "f", "-inf") == nan_inf
    assert c("EXISTS", "f") == 0
    assert c("SET", "f", "1.7976931348623157e308") == "OK"
    # Twice DBL_MAX still fits a long double: no overflow error.
    doubled = (
        b"3595386269724631399918420935482088680967728938886583569706288415303532570462487927094037372167741711288575"
        b"8683885104137861741672690227211071579455605295523414699795537257678967123632658809118886985907489458125496"
        b"1338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768"
    )
    assert c("INCRBYFLOAT", "f", "1.7976931348623157e308") == doubled
    assert c("SET", "s", "abc") == "OK"
    assert c("INCRBYFLOAT", "s", "1") == NOT_FLOAT
    assert c("GET", "s") == b"abc"


def test_incrbyfloat_value_with_nul_is_not_a_float(c):
    assert c("SET", "f", b"1\x00") == "OK"
    assert c("INCRBYFLOAT", "f", "1") == NOT_FLOAT
    assert c("SETRANGE", "g", "2", "5") == 3  # "\0\05"
    assert c("INCRBYFLOAT", "g", "1") == NOT_FLOAT
    assert c("INCRBYFLOAT", "h", b"2\x00") == NOT_FLOAT
    assert c("MGET", "f", "g", "h") == [b"1\x00", b"\x00\x005", None]


def test_incrbyfloat_keeps_ttl_and_stores_text(c):
    assert c("SET", "f", "10", "EX", "100") == "OK"
    assert c("INCRBYFLOAT", "f", "1.5") == b"11.5"
    assert c("TTL", "f") == 100
    # An integral result is still stored as text, not as an integer.
    assert c("INCRBYFLOAT", "g", "3") == b"3"
    assert c("OBJECT", "ENCODING", "g") == b"embstr"
    assert c("INCR", "g") == 4
    assert c("OBJECT", "ENCODING", "g") == b"int"


# ---- encodings ----


def test_object_encoding_transitions(c):
    enc = lambda key: c("OBJECT", "ENCODING", key)  # noqa: E731
    assert c("SET", "k", "12345") == "OK"
    assert enc("k") == b"int"
    for value in (str(LLONG_MAX), str(LLONG_MIN), "-1", "0"):
        assert c("SET", "k", value) == "OK"
        assert enc("k") == b"int", value
    for value in ("12345678901234567890", "01", "+1", "1.5", " 1"):
        assert c("SET", "k", value) == "OK"
        assert enc("k") == b"embstr", value
    assert c("SET", "k", "a" * 44) == "OK"
    assert enc("k") == b"embstr"
    assert c("SET", "k", "a" * 45) == "OK"
    assert enc("k") == b"raw"
    # Edits turn embstr and int into raw.
    assert c("SET", "k", "x") == "OK"
    assert c("APPEND", "k", "y") == 2
    assert enc("k") == b"raw"
    assert c("SET", "k", "1") == "OK"
    assert c("APPEND", "k", "2") == 2
    assert enc("k") == b"raw"
    assert c("INCR", "k") == 13
    assert enc("k") == b"int"
    assert c("SET", "k", "x") == "OK"
    assert c("SETRANGE", "k", "0", "y") == 1
    assert enc("k") == b"raw"
    assert c("SETRANGE", "new", "0", "abc") == 3
    assert enc("new") == b"raw"
    assert c("APPEND", "app", "abc") == 3
    assert enc("app") == b"embstr"
    assert c("APPEND", "appn", "17") == 2
    assert enc("appn") == b"int"
    assert c("GETSET", "k", "10") == b"y"
    assert enc("k") == b"int"
    assert enc("missing") is None


def test_copy_keeps_the_encoding(c):
    enc = lambda key: c("OBJECT", "ENCODING", key)  # noqa: E731
    assert c("SET", "r", "12") == "OK"
    assert c("APPEND", "r", "3") == 3
    assert enc("r") == b"raw"
    assert c("COPY", "r", "r2") == 1
    assert enc("r2") == b"raw"
    assert c("SET", "e", "abc") == "OK"
    assert c("COPY", "e", "e2") == 1
    assert enc("e2") == b"embstr"
    assert c("SET", "i", "123456") == "OK"
    assert c("COPY", "i", "i2") == 1
    assert enc("i2") == b"int"
    assert c("MGET", "r2", "e2", "i2") == [b"123", b"abc", b"123456"]


# ---- binary safety and size ----


def test_binary_safe_keys_and_values(c):
    key = b"k\x00\r\n\xff"
    value = b"\x00a\r\nb\x00\xfe\r\n"
    assert c("SET", key, value) == "OK"
    assert c("GET", key) == value
    assert c("GET", b"k") is None
    assert c("STRLEN", key) == len(value)
    assert c("GETRANGE", key, "1", "4") == b"a\r\nb"
    assert c("APPEND", key, b"\x00\x00") == len(value) + 2
    assert c("GET", key) == value + b"\x00\x00"
    assert c("SETRANGE", key, "0", b"\r\n") == len(value) + 2
    assert c("MGET", key, b"k\x00") == [b"\r\n" + value[2:] + b"\x00\x00", None]
    assert c("SET", b"\x00", b"") == "OK"
    assert c("GET", b"\x00") == b""
    assert c("STRLEN", b"\x00") == 0


def test_binary_safe_via_redis_py(r):
    value = bytes(range(256)) * 4
    r.set(b"bin\x00key", value)
    assert r.get(b"bin\x00key") == value
    assert r.strlen(b"bin\x00key") == 1024


def test_set_arriving_in_pieces(c, raw):
    """A command whose arguments arrive in separate reads."""
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n")
    time.sleep(0.05)
    raw.send(b"$5\r\nhel")
    time.sleep(0.05)
    raw.send(b"lo\r\n")
    assert raw.read_reply() == "OK"
    assert c("GET", "k") == b"hello"


def test_one_megabyte_value(r, raw):
    value = bytes((i * 7) % 256 for i in range(1024 * 1024))
    assert r.set("big", value) is True
    assert r.get("big") == value
    assert r.strlen("big") == len(value)
    assert r.getrange("big", -3, -1) == value[-3:]
    assert r.append("big", b"tail") == len(value) + 4
    assert raw.call("OBJECT", "ENCODING", "big") == b"raw"
    assert r.getrange("big", len(value) - 2, -1) == value[-2:] + b"tail"
    assert r.setrange("big", 1024 * 1024 * 2, b"!") == 2 * 1024 * 1024 + 1
    assert r.getrange("big", len(value) + 4, len(value) + 7) == b"\x00" * 4


# ---- arity and RESP3 shapes ----

ARITY_CASES = [
    ["GET"],
    ["GET", "a", "b"],
    ["SET"],
    ["SET", "k"],
    ["SETNX", "k"],
    ["SETEX", "k", "1"],
    ["PSETEX", "k", "1"],
    ["GETSET", "k"],
    ["GETDEL"],
    ["GETDEL", "a", "b"],
    ["GETEX"],
    ["MGET"],
    ["MSET"],
    ["MSETNX"],
    ["APPEND", "k"],
    ["STRLEN"],
    ["GETRANGE", "k", "0"],
    ["SUBSTR", "k", "0"],
    ["SETRANGE", "k", "0"],
    ["INCR"],
    ["DECR", "a", "b"],
    ["INCRBY", "k"],
    ["DECRBY", "k", "1", "2"],
    ["INCRBYFLOAT", "k"],
]


@pytest.mark.parametrize("cmd", ARITY_CASES, ids=lambda cmd: " ".join(cmd))
def test_wrong_arity(c, cmd):
    assert c(*cmd) == err("ERR wrong number of arguments for '%s' command" % cmd[0].lower())


def test_wrong_arity_names_the_command_in_lower_case(c):
    assert c("gEt") == err("ERR wrong number of arguments for 'get' command")


def test_resp3_nulls_and_shapes(r, raw3):
    raw3.command("GET", "missing")
    assert raw3.read_line() == b"_"
    raw3.command("SET", "k", "v")
    assert raw3.read_line() == b"+OK"
    raw3.command("SET", "k", "w", "NX")
    assert raw3.read_line() == b"_"
    raw3.command("SET", "k", "w", "GET")
    assert raw3.read_line() == b"$1"
    assert raw3.read_line() == b"v"
    raw3.command("MGET", "k", "missing")
    assert [raw3.read_line() for _ in range(4)] == [b"*2", b"$1", b"w", b"_"]
    raw3.command("GETEX", "missing")
    assert raw3.read_line() == b"_"
    raw3.command("INCRBYFLOAT", "f", "1.5")
    assert [raw3.read_line() for _ in range(2)] == [b"$3", b"1.5"]  # a bulk string, not a RESP3 double
    raw3.command("INCR", "n")
    assert raw3.read_line() == b":1"
    raw3.command("GETRANGE", "missing", "0", "1")
    assert [raw3.read_line() for _ in range(2)] == [b"$0", b""]


def test_resp2_nulls(r, raw):
    raw.command("GET", "missing")
    assert raw.read_line() == b"$-1"
    raw.command("MGET", "missing")
    assert [raw.read_line() for _ in range(2)] == [b"*1", b"$-1"]
    raw.command("SET", "k", "v", "XX")
    assert raw.read_line() == b"$-1"


def test_pipelined_string_commands(r):
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set("k%d" % i, i)
        pipe.incr("k%d" % i)
    results = pipe.execute()
    assert results == [x for i in range(200) for x in (True, i + 1)]
    assert r.mget(["k0", "k199"]) == [b"1", b"200"]


def test_write_lookups_do_not_count_keyspace_hits(r):
    """Regression: INCR/APPEND/SETRANGE/INCRBYFLOAT counted keyspace hits;
    Redis counts only read lookups."""
    r.set("n", "1")
    r.config_resetstat()
    r.incr("n")
    r.append("n", "0")
    r.setrange("n", 0, "1")
    r.incrbyfloat("n", 1)
    stats = r.info("stats")
    assert stats["keyspace_hits"] == 0
    assert stats["keyspace_misses"] == 0
    r.get("n")
    assert r.info("stats")["keyspace_hits"] == 1
