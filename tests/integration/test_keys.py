"""Generic keyspace commands: DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY
RENAME RENAMENX MOVE COPY, the EXPIRE and TTL families, PERSIST TOUCH
OBJECT, lazy and active expiry, SELECT SWAPDB DBSIZE FLUSHDB FLUSHALL.

Expected replies were checked against redis-server 7.0 side by side. Exact
error texts go through the raw connection (redis-py strips "ERR ")."""
import time

import pytest

LLONG_MAX = 9223372036854775807
INT_MAX = 2147483647


def err(text):
    return ("error", text)


SYNTAX = err("ERR syntax error")
NOT_INTEGER = err("ERR value is not an integer or out of range")
NO_KEY = err("ERR no such key")
SAME_OBJECT = err("ERR source and destination objects are the same")
DB_RANGE = err("ERR DB index is out of range")
INT_RANGE = err("ERR value is out of range, value must between -2147483648 and 2147483647")


@pytest.fixture
def c(r, raw):
    """A raw connection on a flushed server: replies exactly as sent."""
    return raw.call


@pytest.fixture
def lazy_server(fresh_server):
    """A private server with active expiry off, so only lookups expire keys."""
    srv = fresh_server("--enable-debug-command", "local")
    conn = srv.raw()
    assert conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    yield conn
    conn.close()


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# ---- DEL UNLINK EXISTS TYPE TOUCH ----


@pytest.mark.parametrize("cmd", ["DEL", "UNLINK"])
def test_del_unlink(c, cmd):
    assert c("MSET", "a", "1", "b", "2", "c", "3") == "OK"
    # A key named twice is deleted (and counted) once.
    assert c(cmd, "a", "a", "b", "missing") == 2
    assert c("EXISTS", "a", "b", "c") == 1
    assert c(cmd, "missing") == 0
    assert c(cmd, "c") == 1
    assert c("DBSIZE") == 0


def test_exists_counts_duplicates(c):
    assert c("MSET", "a", "1", "b", "2") == "OK"
    assert c("EXISTS", "a") == 1
    assert c("EXISTS", "a", "a", "a", "missing", "b") == 4
    assert c("EXISTS", "missing") == 0


def test_touch(c):
    assert c("MSET", "a", "1", "b", "2") == "OK"
    assert c("TOUCH", "a", "a", "b", "missing") == 3
    assert c("TOUCH", "missing") == 0


def test_type(c):
    assert c("TYPE", "missing") == "none"
    assert c("SET", "s", "v") == "OK"
    assert c("TYPE", "s") == "string"
    assert c("SET", "n", "1") == "OK"
    assert c("TYPE", "n") == "string"


def test_type_of_a_list(c):
    reply = c("RPUSH", "l", "x")
    if isinstance(reply, tuple):
        pytest.skip("no list type yet")
    assert c("TYPE", "l") == "list"


# ---- KEYS ----


def test_keys_glob_patterns(c):
    names = ["hello", "hallo", "hxllo", "hllo", "heeello", "h*llo", "h[a]llo", "h\\llo", "other"]
    for name in names:
        assert c("SET", name, "1") == "OK"

    def keys(pattern):
        return sorted(k.decode() for k in c("KEYS", pattern))

    assert keys("*") == sorted(names)
    assert keys("h?llo") == ["h*llo", "h\\llo", "hallo", "hello", "hxllo"]
    assert keys("h*llo") == sorted(n for n in names if n != "other")
    assert keys("h[ae]llo") == ["hallo", "hello"]
    assert keys("h[^e]llo") == ["h*llo", "h\\llo", "hallo", "hxllo"]
    assert keys("h[a-x]llo") == ["hallo", "hello", "hxllo"]
    assert keys("h\\*llo") == ["h*llo"]
    assert keys("h\\[a\\]llo") == ["h[a]llo"]
    assert keys("h\\\\llo") == ["h\\llo"]
    assert keys("HELLO") == []
    assert keys("nomatch*") == []
    assert keys("?????") == ["h*llo", "h\\llo", "hallo", "hello", "hxllo", "other"]


def test_keys_binary_names(c):
    assert c("SET", b"a\x00b", "1") == "OK"
    assert c("SET", b"a\r\nb", "1") == "OK"
    assert sorted(c("KEYS", "a?b")) == [b"a\x00b"]
    assert sorted(c("KEYS", "a*b")) == [b"a\x00b", b"a\r\nb"]


def test_keys_empty_db(c):
    assert c("KEYS", "*") == []


# ---- SCAN ----


@pytest.fixture
def thousand(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set("key:%d" % i, i)
    pipe.execute()
    return {b"key:%d" % i for i in range(1000)}


def scan_all(c, *args):
    """Runs a full SCAN iteration; returns (every key seen, number of calls)."""
    seen = []
    cursor = b"0"
    calls = 0
    while True:
        cursor, keys = c("SCAN", cursor, *args)
        seen.extend(keys)
        calls += 1
        assert calls < 10000
        if cursor == b"0":
            return seen, calls


@pytest.mark.parametrize("count", [None, 1, 10, 100, 5000])
def test_scan_covers_every_key(c, thousand, count):
    args = [] if count is None else ["COUNT", count]
    seen, calls = scan_all(c, *args)
    assert set(seen) == thousand
    if count == 5000:
        assert calls == 1
    if count in (None, 10):
        assert calls > 10


def test_scan_match_and_type(c, thousand):
    seen, _ = scan_all(c, "MATCH", "key:1*", "COUNT", 50)
    assert set(seen) == {k for k in thousand if k.startswith(b"key:1")}
    seen, _ = scan_all(c, "MATCH", "key:99?")
    assert set(seen) == {b"key:99%d" % i for i in range(10)}
    seen, _ = scan_all(c, "TYPE", "string", "COUNT", 100)
    assert set(seen) == thousand
    seen, _ = scan_all(c, "TYPE", "STRING", "MATCH", "key:12*", "COUNT", 100)
    assert set(seen) == {k for k in thousand if k.startswith(b"key:12")}
    # An unknown type filters everything out (no error in 7.0 or 7.2).
    seen, _ = scan_all(c, "TYPE", "nosuchtype", "COUNT", 100)
    assert seen == []
    seen, _ = scan_all(c, "TYPE", "list", "COUNT", 100)
    assert seen == []
    # The last MATCH and COUNT win.
    seen, _ = scan_all(c, "MATCH", "nothing", "MATCH", "key:5", "COUNT", 1, "COUNT", 2000)
    assert seen == [b"key:5"]


def test_scan_keeps_returning_keys_while_the_table_grows(c, r, thousand):
    """Keys present for the whole iteration come back even when inserts
    make the table resize between calls."""
    seen = set()
    cursor = b"0"
    extra = 0
    while True:
        cursor, keys = c("SCAN", cursor, "COUNT", 50)
        seen.update(keys)
        pipe = r.pipeline(transaction=False)
        for _ in range(20):
            pipe.set("extra:%d" % extra, 1)
            extra += 1
        pipe.execute()
        if cursor == b"0":
            break
    assert thousand <= seen
    assert extra >= 200  # enough inserts to cross a resize of the table


def test_scan_skips_expired_keys(lazy_server):
    c = lazy_server.call
    assert c("SET", "live", "1") == "OK"
    assert c("SET", "dead", "1", "PX", "1") == "OK"
    time.sleep(0.05)
    assert c("SCAN", "0", "COUNT", 100) == [b"0", [b"live"]]
    assert c("KEYS", "*") == [b"live"]


def test_scan_errors(c):
    assert c("SCAN", "x") == err("ERR invalid cursor")
    assert c("SCAN", "1.5") == err("ERR invalid cursor")
    assert c("SCAN", " 1") == err("ERR invalid cursor")
    assert c("SCAN", "1 ") == err("ERR invalid cursor")
    assert c("SCAN", "18446744073709551616") == err("ERR invalid cursor")
    assert c("SCAN", "0", "COUNT", "0") == SYNTAX
    assert c("SCAN", "0", "COUNT", "-1") == SYNTAX
    assert c("SCAN", "0", "COUNT", "x") == NOT_INTEGER
    assert c("SCAN", "0", "COUNT") == SYNTAX
    assert c("SCAN", "0", "MATCH") == SYNTAX
    assert c("SCAN", "0", "TYPE") == SYNTAX
    assert c("SCAN", "0", "FOO", "bar") == SYNTAX


def test_scan_cursor_is_parsed_like_strtoul(c, thousand):
    # Redis reads the cursor with strtoul: a sign is accepted and "-1"
    # wraps to 2^64-1; an empty cursor is 0.
    assert c("SCAN", "-1", "COUNT", 5) == c("SCAN", "18446744073709551615", "COUNT", 5)
    assert c("SCAN", "+0", "COUNT", 5) == c("SCAN", "0", "COUNT", 5)
    assert c("SCAN", "", "COUNT", 5) == c("SCAN", "0", "COUNT", 5)
    assert c("SCAN", "007", "COUNT", 5) == c("SCAN", "7", "COUNT", 5)
    assert c("SCAN", "0", "COUNT", LLONG_MAX)[0] == b"0"


def test_scan_empty_db(c):
    assert c("SCAN", "0") == [b"0", []]


# ---- RANDOMKEY ----


def test_randomkey(c):
    assert c("RANDOMKEY") is None
    assert c("SET", "only", "1") == "OK"
    assert c("RANDOMKEY") == b"only"
    for i in range(20):
        assert c("SET", "k%d" % i, i) == "OK"
    names = {c("RANDOMKEY") for _ in range(200)}
    assert names <= {b"only"} | {b"k%d" % i for i in range(20)}
    assert len(names) > 5


def test_randomkey_skips_and_deletes_expired_keys(lazy_server):
    c = lazy_server.call
    for i in range(200):
        assert c("SET", "dead%d" % i, "1", "PX", "1") == "OK"
    time.sleep(0.05)
    assert c("DBSIZE") == 200  # nothing has looked at them yet
    assert c("RANDOMKEY") is None
    assert c("DBSIZE") == 0
    for i in range(50):
        assert c("SET", "dead%d" % i, "1", "PX", "1") == "OK"
    assert c("SET", "live", "1") == "OK"
    time.sleep(0.05)
    assert c("RANDOMKEY") == b"live"


# ---- RENAME RENAMENX ----


def test_rename(c):
    assert c("RENAME", "missing", "x") == NO_KEY
    assert c("RENAME", "missing", "missing") == NO_KEY
    assert c("SET", "src", "v") == "OK"
    assert c("RENAME", "src", "dst") == "OK"
    assert c("EXISTS", "src") == 0
    assert c("GET", "dst") == b"v"
    assert c("RENAME", "dst", "dst") == "OK"
    assert c("GET", "dst") == b"v"
    # Overwrites the destination, whatever its TTL.
    assert c("SET", "other", "o", "EX", "100") == "OK"
    assert c("RENAME", "dst", "other") == "OK"
    assert c("GET", "other") == b"v"
    assert c("TTL", "other") == -1
    assert c("DBSIZE") == 1


def test_rename_carries_ttl(c):
    assert c("SET", "src", "v", "PX", "100000") == "OK"
    assert c("RENAME", "src", "dst") == "OK"
    assert 99000 < c("PTTL", "dst") <= 100000
    assert c("PTTL", "src") == -2
    assert c("SET", "n", "5", "EX", "50") == "OK"
    assert c("RENAMENX", "n", "m") == 1
    assert c("TTL", "m") == 50
    assert c("INCR", "m") == 6


def test_renamenx(c):
    assert c("RENAMENX", "missing", "x") == NO_KEY
    assert c("MSET", "a", "1", "b", "2") == "OK"
    assert c("RENAMENX", "a", "b") == 0
    assert c("MGET", "a", "b") == [b"1", b"2"]
    assert c("RENAMENX", "a", "a") == 0
    assert c("RENAMENX", "a", "c") == 1
    assert c("MGET", "a", "c") == [None, b"1"]


def test_rename_expired_source(lazy_server):
    c = lazy_server.call
    assert c("SET", "src", "v", "PX", "1") == "OK"
    time.sleep(0.05)
    assert c("RENAME", "src", "dst") == NO_KEY
    assert c("DBSIZE") == 0


# ---- MOVE COPY ----


def test_move(server, r):
    c0 = server.raw()
    c1 = server.raw()
    try:
        assert c1.call("SELECT", "1") == "OK"
        assert c0.call("SET", "k", "v", "EX", "100") == "OK"
        assert c0.call("MOVE", "k", "1") == 1
        assert c0.call("EXISTS", "k") == 0
        assert c1.call("GET", "k") == b"v"
        assert c1.call("TTL", "k") == 100
        # Not moved when the destination has the key, or the source does not.
        assert c0.call("SET", "k", "other") == "OK"
        assert c0.call("MOVE", "k", "1") == 0
        assert c0.call("GET", "k") == b"other"
        assert c0.call("MOVE", "missing", "1") == 0
        assert c0.call("MOVE", "k", "0") == SAME_OBJECT
        assert c1.call("MOVE", "k", "1") == SAME_OBJECT
        assert c1.call("MOVE", "k", "0") == 0
        assert c0.call("MOVE", "k", "16") == DB_RANGE
        assert c0.call("MOVE", "k", "-1") == DB_RANGE
        assert c0.call("MOVE", "k", "abc") == NOT_INTEGER
        assert c0.call("MOVE", "k", "1.5") == NOT_INTEGER
        assert c0.call("MOVE", "k", "9999999999999") == INT_RANGE
    finally:
        c0.close()
        c1.close()


def test_copy(c):
    assert c("SET", "s", "v", "EX", "100") == "OK"
    assert c("COPY", "s", "t") == 1
    assert c("GET", "t") == b"v"
    assert c("TTL", "t") == 100
    assert c("COPY", "s", "t") == 0
    assert c("SET", "s", "w") == "OK"
    assert c("COPY", "s", "t", "REPLACE") == 1
    assert c("GET", "t") == b"w"
    assert c("TTL", "t") == -1
    assert c("COPY", "missing", "t") == 0
    assert c("COPY", "missing", "t", "REPLACE") == 0
    assert c("GET", "t") == b"w"
    # The copy is independent of the original.
    assert c("APPEND", "t", "x") == 2
    assert c("GET", "s") == b"w"
    assert c("SET", "n", "41") == "OK"
    assert c("COPY", "n", "m") == 1
    assert c("INCR", "m") == 42
    assert c("GET", "n") == b"41"
    assert c("COPY", "s", "u", "REPLACE", "REPLACE") == 1


def test_copy_to_another_db(server, r):
    c0 = server.raw()
    c2 = server.raw()
    try:
        assert c2.call("SELECT", "2") == "OK"
        assert c0.call("SET", "s", "v", "PX", "100000") == "OK"
        assert c0.call("COPY", "s", "s", "DB", "2") == 1
        assert c2.call("GET", "s") == b"v"
        assert 99000 < c2.call("PTTL", "s") <= 100000
        assert c0.call("COPY", "s", "s", "DB", "2") == 0
        assert c0.call("SET", "s", "w") == "OK"
        assert c0.call("COPY", "s", "s", "db", "2", "replace") == 1
        assert c2.call("GET", "s") == b"w"
        assert c2.call("TTL", "s") == -1
        assert c0.call("GET", "s") == b"w"
    finally:
        c0.close()
        c2.close()


def test_copy_errors(c):
    assert c("SET", "s", "v") == "OK"
    assert c("COPY", "s", "s") == SAME_OBJECT
    assert c("COPY", "s", "s", "DB", "0") == SAME_OBJECT
    assert c("COPY", "missing", "missing") == SAME_OBJECT
    assert c("COPY", "s", "t", "DB", "16") == DB_RANGE
    assert c("COPY", "s", "t", "DB", "-1") == DB_RANGE
    assert c("COPY", "s", "t", "DB", "abc") == NOT_INTEGER
    assert c("COPY", "s", "t", "DB", "9999999999999") == INT_RANGE
    assert c("COPY", "s", "t", "DB") == SYNTAX
    assert c("COPY", "s", "t", "FOO") == SYNTAX
    assert c("EXISTS", "t") == 0


# ---- EXPIRE family ----


def test_expire_sets_ttl(c):
    assert c("SET", "k", "v") == "OK"
    assert c("EXPIRE", "k", "100") == 1
    assert c("TTL", "k") == 100
    assert c("PEXPIRE", "k", "50000") == 1
    assert 49000 < c("PTTL", "k") <= 50000
    at = int(time.time()) + 1000
    assert c("EXPIREAT", "k", at) == 1
    assert c("EXPIRETIME", "k") == at
    assert c("PEXPIRETIME", "k") == at * 1000
    assert c("PEXPIREAT", "k", at * 1000 + 499) == 1
    assert c("PEXPIRETIME", "k") == at * 1000 + 499
    assert c("EXPIRETIME", "k") == at
    # EXPIRETIME rounds to the nearest second, like TTL.
    assert c("PEXPIREAT", "k", at * 1000 + 500) == 1
    assert c("EXPIRETIME", "k") == at + 1
    assert c("EXPIRE", "missing", "100") == 0
    assert c("PEXPIREAT", "missing", at * 1000) == 0


@pytest.mark.parametrize(
    "cmd,arg",
    [("EXPIRE", "0"), ("EXPIRE", "-1"), ("PEXPIRE", "0"), ("EXPIREAT", "1"), ("PEXPIREAT", "1"), ("PEXPIREAT", "-5")],
)
def test_expire_in_the_past_deletes(c, cmd, arg):
    assert c("SET", "k", "v") == "OK"
    assert c(cmd, "k", arg) == 1
    assert c("EXISTS", "k") == 0
    assert c("DBSIZE") == 0


def test_expire_nx_xx_gt_lt_without_ttl(c):
    assert c("SET", "k", "v") == "OK"
    assert c("EXPIRE", "k", "100", "XX") == 0
    # No TTL counts as infinite: GT never holds, LT always does.
    assert c("EXPIRE", "k", "100", "GT") == 0
    assert c("TTL", "k") == -1
    assert c("EXPIRE", "k", "100", "LT") == 1
    assert c("TTL", "k") == 100
    assert c("PERSIST", "k") == 1
    assert c("EXPIRE", "k", "200", "NX") == 1
    assert c("TTL", "k") == 200
    assert c("EXPIRE", "k", "300", "NX") == 0
    assert c("TTL", "k") == 200


def test_expire_nx_xx_gt_lt_with_ttl(c):
    assert c("SET", "k", "v", "EX", "100") == "OK"
    assert c("EXPIRE", "k", "200", "GT") == 1
    assert c("TTL", "k") == 200
    assert c("EXPIRE", "k", "150", "GT") == 0
    assert c("EXPIRE", "k", "500", "LT") == 0
    assert c("EXPIRE", "k", "50", "LT") == 1
    assert c("TTL", "k") == 50
    assert c("EXPIRE", "k", "60", "XX") == 1
    assert c("TTL", "k") == 60
    assert c("EXPIRE", "k", "70", "XX", "GT") == 1
    assert c("EXPIRE", "k", "65", "xx", "lt") == 1
    assert c("TTL", "k") == 65
    assert c("PEXPIRE", "k", "10", "GT") == 0
    assert c("EXPIRE", "k", "-1", "GT") == 0
    assert c("EXISTS", "k") == 1
    assert c("EXPIRE", "k", "-1", "LT") == 1
    assert c("EXISTS", "k") == 0


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_option_errors(c, cmd):
    assert c("SET", "k", "v") == "OK"
    incompatible = err("ERR NX and XX, GT or LT options at the same time are not compatible")
    assert c(cmd, "k", "100", "NX", "XX") == incompatible
    assert c(cmd, "k", "100", "NX", "GT") == incompatible
    assert c(cmd, "k", "100", "LT", "NX") == incompatible
    assert c(cmd, "k", "100", "GT", "LT") == err("ERR GT and LT options at the same time are not compatible")
    assert c(cmd, "k", "100", "FOO") == err("ERR Unsupported option FOO")
    assert c(cmd, "k", "100", "NX", "bar") == err("ERR Unsupported option bar")
    # Options are checked before the amount.
    assert c(cmd, "k", "abc", "FOO") == err("ERR Unsupported option FOO")
    assert c(cmd, "k", "abc") == NOT_INTEGER
    assert c(cmd, "k", "1.5") == NOT_INTEGER
    assert c(cmd, "missing", "100", "FOO") == err("ERR Unsupported option FOO")
    assert c("TTL", "k") == -1


def test_expire_invalid_time(c):
    assert c("SET", "k", "v") == "OK"
    # The command is named in lower case, however it was typed.
    assert c("EXPIRE", "k", LLONG_MAX) == err("ERR invalid expire time in 'expire' command")
    assert c("expire", "k", "-9223372036854775808") == err("ERR invalid expire time in 'expire' command")
    assert c("ExPiRe", "k", LLONG_MAX // 1000) == err("ERR invalid expire time in 'expire' command")
    assert c("PEXPIRE", "k", LLONG_MAX) == err("ERR invalid expire time in 'pexpire' command")
    assert c("EXPIREAT", "k", LLONG_MAX) == err("ERR invalid expire time in 'expireat' command")
    assert c("EXPIRE", "missing", LLONG_MAX) == err("ERR invalid expire time in 'expire' command")
    assert c("PEXPIREAT", "k", LLONG_MAX) == 1
    assert c("PEXPIRETIME", "k") == LLONG_MAX
    assert c("EXPIREAT", "k", LLONG_MAX // 1000) == 1
    assert c("EXPIRETIME", "k") == LLONG_MAX // 1000


def test_ttl_family(c):
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert c(cmd, "missing") == -2
    assert c("SET", "k", "v") == "OK"
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert c(cmd, "k") == -1
    assert c("PEXPIRE", "k", "1800") == 1
    assert c("TTL", "k") == 2  # rounded to the nearest second
    assert 1600 < c("PTTL", "k") <= 1800
    now_ms = int(time.time() * 1000)
    assert abs(c("PEXPIRETIME", "k") - (now_ms + 1800)) < 1000
    assert c("EXPIRETIME", "k") == (c("PEXPIRETIME", "k") + 500) // 1000


def test_persist(c):
    assert c("PERSIST", "missing") == 0
    assert c("SET", "k", "v") == "OK"
    assert c("PERSIST", "k") == 0
    assert c("EXPIRE", "k", "100") == 1
    assert c("PERSIST", "k") == 1
    assert c("TTL", "k") == -1
    assert c("PERSIST", "k") == 0


# ---- expiry ----


def test_lazy_expiry(lazy_server):
    c = lazy_server.call
    assert c("SET", "k", "v", "PX", "50") == "OK"
    assert c("SET", "keep", "v") == "OK"
    assert c("GET", "k") == b"v"
    time.sleep(0.3)
    # Still stored (DBSIZE counts it) until someone looks.
    assert c("DBSIZE") == 2
    assert c("GET", "k") is None
    assert c("DBSIZE") == 1
    for cmd in (["EXISTS", "k"], ["TTL", "k"], ["PTTL", "k"], ["TYPE", "k"], ["STRLEN", "k"]):
        assert c("SET", "k", "v", "PX", "1") == "OK"
        time.sleep(0.02)
        assert c(*cmd) in (0, -2, "none"), cmd
        assert c("DBSIZE") == 1, cmd


def test_key_gone_after_px(c):
    assert c("SET", "k", "v", "PX", "50") == "OK"
    time.sleep(0.3)
    assert c("GET", "k") is None
    assert c("EXISTS", "k") == 0
    assert c("TTL", "k") == -2


def test_active_expiry(fresh_server):
    srv = fresh_server()
    conn = srv.raw()
    try:
        for start in range(0, 2000, 500):
            cmd = ["MSET"]
            for i in range(start, start + 500):
                cmd += ["vol:%d" % i, "x"]
            assert conn.call(*cmd) == "OK"
        for i in range(0, 2000):
            conn.command("PEXPIRE", "vol:%d" % i, "100")
        assert [conn.read_reply() for _ in range(2000)] == [1] * 2000
        assert conn.call("MSET", "keep1", "1", "keep2", "2") == "OK"
        assert conn.call("DBSIZE") == 2002
        # Nothing touches the volatile keys: only the cron can remove them.
        assert wait_until(lambda: conn.call("DBSIZE") == 2, timeout=10)
        assert conn.call("MGET", "keep1", "keep2") == [b"1", b"2"]
        info = conn.call("INFO", "stats").decode()
        assert "expired_keys:2000\r\n" in info
    finally:
        conn.close()


def test_no_active_expiry_when_disabled(lazy_server):
    c = lazy_server.call
    for i in range(100):
        assert c("SET", "k%d" % i, "v", "PX", "10") == "OK"
    time.sleep(0.5)
    assert c("DBSIZE") == 100
    assert c("KEYS", "*") == []


# ---- OBJECT ----


def test_object_encoding_and_refcount(c):
    assert c("SET", "small", "100") == "OK"
    assert c("SET", "large", "123456") == "OK"
    assert c("SET", "str", "hello") == "OK"
    assert c("OBJECT", "ENCODING", "small") == b"int"
    assert c("OBJECT", "ENCODING", "str") == b"embstr"
    assert c("OBJECT", "encoding", "missing") is None
    # Redis shares the integers 0..9999 and reports them with INT_MAX.
    assert c("OBJECT", "REFCOUNT", "small") == INT_MAX
    assert c("SET", "zero", "0") == "OK"
    assert c("OBJECT", "REFCOUNT", "zero") == INT_MAX
    assert c("SET", "edge", "9999") == "OK"
    assert c("OBJECT", "REFCOUNT", "edge") == INT_MAX
    assert c("SET", "edge", "10000") == "OK"
    assert c("OBJECT", "REFCOUNT", "edge") == 1
    assert c("SET", "neg", "-1") == "OK"
    assert c("OBJECT", "REFCOUNT", "neg") == 1
    assert c("OBJECT", "REFCOUNT", "large") == 1
    assert c("OBJECT", "REFCOUNT", "str") == 1
    assert c("OBJECT", "REFCOUNT", "missing") is None


def test_object_idletime_and_what_touches(c):
    # Not small integers: Redis shares those, with an old access time.
    assert c("MSET", "a", "va", "b", "vb", "t", "vt", "g", "vg") == "OK"
    assert c("OBJECT", "IDLETIME", "a") <= 1  # seconds; a boundary may pass
    assert c("OBJECT", "IDLETIME", "missing") is None
    time.sleep(2.5)
    # Looking at a key without using it does not count as an access.
    assert c("EXISTS", "a") == 1
    assert c("TYPE", "a") == "string"
    assert c("TTL", "a") == -1
    assert c("PTTL", "a") == -1
    assert c("OBJECT", "ENCODING", "a") == b"embstr"
    assert c("OBJECT", "IDLETIME", "a") >= 2
    assert c("OBJECT", "IDLETIME", "b") >= 2
    assert c("TOUCH", "t") == 1
    assert c("GET", "g") == b"vg"
    assert c("OBJECT", "IDLETIME", "t") <= 1
    assert c("OBJECT", "IDLETIME", "g") <= 1


def test_object_freq_needs_lfu_policy(c):
    assert c("SET", "k", "v") == "OK"
    assert c("OBJECT", "FREQ", "k") == err(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust."
    )
    assert c("OBJECT", "FREQ", "missing") is None


def test_object_freq_with_lfu_policy(fresh_server):
    srv = fresh_server()
    conn = srv.raw()
    try:
        c = conn.call
        assert c("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") == "OK"
        assert c("SET", "k", "hello") == "OK"
        assert c("OBJECT", "FREQ", "k") == 5  # a new key's counter
        assert c("GET", "k") == b"hello"
        assert c("OBJECT", "FREQ", "k") == 6
        assert c("EXISTS", "k") == 1
        assert c("OBJECT", "FREQ", "k") == 6
        assert c("OBJECT", "IDLETIME", "k") == err(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    finally:
        conn.close()


def test_object_help(c):
    assert c("OBJECT", "HELP") == [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]


def test_object_errors(c):
    assert c("OBJECT", "FOO") == err("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")
    assert c("OBJECT", "ENCODING") == err("ERR wrong number of arguments for 'object|encoding' command")
    assert c("OBJECT", "REFCOUNT", "a", "b") == err("ERR wrong number of arguments for 'object|refcount' command")
    assert c("OBJECT", "HELP", "x") == err("ERR wrong number of arguments for 'object|help' command")
    assert c("OBJECT") == err("ERR wrong number of arguments for 'object' command")


# ---- SELECT SWAPDB DBSIZE FLUSHDB FLUSHALL ----


def test_select_isolates_databases(server, r):
    c0, c1 = server.raw(), server.raw()
    try:
        assert c1.call("SELECT", "1") == "OK"
        assert c0.call("SET", "k", "zero") == "OK"
        assert c1.call("SET", "k", "one") == "OK"
        assert c1.call("SET", "only1", "x") == "OK"
        assert c0.call("GET", "k") == b"zero"
        assert c1.call("GET", "k") == b"one"
        assert c0.call("DBSIZE") == 1
        assert c1.call("DBSIZE") == 2
        assert c1.call("SELECT", "15") == "OK"
        assert c1.call("DBSIZE") == 0
        assert c1.call("SELECT", "16") == DB_RANGE
        assert c1.call("SELECT", "-1") == DB_RANGE
        assert c1.call("DBSIZE") == 0  # still on 15
    finally:
        c0.close()
        c1.close()


@pytest.mark.xfail(strict=True, reason="cmd_connection.c: SELECT uses Redis 6's error texts")
def test_select_error_texts(c):
    assert c("SELECT", "x") == NOT_INTEGER
    assert c("SELECT", "1.5") == NOT_INTEGER
    assert c("SELECT", "9999999999999") == INT_RANGE


def test_swapdb(server, r):
    c0, c1 = server.raw(), server.raw()
    try:
        assert c1.call("SELECT", "1") == "OK"
        assert c0.call("MSET", "a", "1", "b", "2") == "OK"
        assert c0.call("EXPIRE", "a", "100") == 1
        assert c1.call("SET", "z", "26") == "OK"
        assert c0.call("SWAPDB", "0", "1") == "OK"
        # Connections stay on their number and see the other contents.
        assert c0.call("KEYS", "*") == [b"z"]
        assert sorted(c1.call("KEYS", "*")) == [b"a", b"b"]
        assert c1.call("TTL", "a") == 100
        assert c0.call("DBSIZE") == 1
        assert c0.call("SWAPDB", "1", "1") == "OK"
        assert c1.call("DBSIZE") == 2
    finally:
        c0.close()
        c1.close()


def test_swapdb_errors(c):
    assert c("SWAPDB", "0", "16") == DB_RANGE
    assert c("SWAPDB", "-1", "0") == DB_RANGE
    assert c("SWAPDB", "x", "1") == err("ERR invalid first DB index")
    assert c("SWAPDB", "0", "x") == err("ERR invalid second DB index")
    assert c("SWAPDB", "0") == err("ERR wrong number of arguments for 'swapdb' command")


def test_swapdb_index_beyond_int(c):
    assert c("SWAPDB", "9999999999999", "0") == err("ERR invalid first DB index")
    assert c("SWAPDB", "0", "9999999999999") == err("ERR invalid second DB index")


@pytest.mark.parametrize("mode", [[], ["ASYNC"], ["SYNC"], ["async"]])
def test_flushdb_only_current_db(server, r, mode):
    c0, c1 = server.raw(), server.raw()
    try:
        assert c1.call("SELECT", "1") == "OK"
        assert c0.call("MSET", "a", "1", "b", "2") == "OK"
        assert c0.call("EXPIRE", "a", "100") == 1
        assert c1.call("SET", "z", "26") == "OK"
        assert c0.call("FLUSHDB", *mode) == "OK"
        assert c0.call("DBSIZE") == 0
        assert c0.call("TTL", "a") == -2
        assert c1.call("DBSIZE") == 1
        # A flushed key with a TTL comes back without one.
        assert c0.call("SET", "a", "new") == "OK"
        assert c0.call("TTL", "a") == -1
    finally:
        c0.close()
        c1.close()


@pytest.mark.parametrize("mode", [[], ["ASYNC"], ["SYNC"], ["sync"]])
def test_flushall(server, r, mode):
    c0, c1 = server.raw(), server.raw()
    try:
        assert c1.call("SELECT", "1") == "OK"
        assert c0.call("SET", "a", "1") == "OK"
        assert c1.call("SET", "z", "26", "EX", "100") == "OK"
        assert c0.call("FLUSHALL", *mode) == "OK"
        assert c0.call("DBSIZE") == 0
        assert c1.call("DBSIZE") == 0
        assert c1.call("RANDOMKEY") is None
    finally:
        c0.close()
        c1.close()


def test_flush_errors(c):
    assert c("FLUSHDB", "FOO") == SYNTAX
    assert c("FLUSHALL", "FOO") == SYNTAX
    assert c("FLUSHDB", "ASYNC", "SYNC") == SYNTAX
    assert c("DBSIZE", "x") == err("ERR wrong number of arguments for 'dbsize' command")


# ---- arity and RESP3 ----

ARITY_CASES = [
    ["DEL"],
    ["UNLINK"],
    ["EXISTS"],
    ["TOUCH"],
    ["TYPE"],
    ["TYPE", "a", "b"],
    ["KEYS"],
    ["KEYS", "a", "b"],
    ["SCAN"],
    ["RANDOMKEY", "x"],
    ["RENAME", "a"],
    ["RENAMENX", "a", "b", "c"],
    ["MOVE", "a"],
    ["COPY", "a"],
    ["EXPIRE", "a"],
    ["PEXPIRE", "a"],
    ["EXPIREAT", "a"],
    ["PEXPIREAT", "a"],
    ["TTL"],
    ["PTTL", "a", "b"],
    ["EXPIRETIME"],
    ["PEXPIRETIME", "a", "b"],
    ["PERSIST"],
    ["SELECT"],
    ["SWAPDB", "0"],
    ["FLUSHDB", "ASYNC", "x", "y"],
]


@pytest.mark.parametrize("cmd", ARITY_CASES, ids=lambda cmd: " ".join(cmd))
def test_wrong_arity(c, cmd):
    if cmd[0] == "FLUSHDB":
        # FLUSHDB has no fixed arity in Redis: extra words are a syntax error.
        assert c(*cmd) == SYNTAX
        return
    assert c(*cmd) == err("ERR wrong number of arguments for '%s' command" % cmd[0].lower())


def test_resp3_shapes(r, raw3):
    c = raw3.call
    assert c("SET", "k", "v") == "OK"
    raw3.command("OBJECT", "ENCODING", "missing")
    assert raw3.read_line() == b"_"
    raw3.command("RANDOMKEY")
    assert raw3.read_line() == b"$1"
    assert raw3.read_line() == b"k"
    assert c("DEL", "k") == 1
    raw3.command("RANDOMKEY")
    assert raw3.read_line() == b"_"
    raw3.command("TYPE", "missing")
    assert raw3.read_line() == b"+none"
    raw3.command("SCAN", "0")
    assert [raw3.read_line() for _ in range(4)] == [b"*2", b"$1", b"0", b"*0"]
    raw3.command("TTL", "missing")
    assert raw3.read_line() == b":-2"
    raw3.command("OBJECT", "HELP")
    assert raw3.read_line() == b"*15"
    assert raw3.read_line() == b"+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
