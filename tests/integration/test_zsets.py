"""Sorted sets: every command and option, Redis's exact errors, RESP2 and
RESP3 reply shapes, listpack/skiplist encodings and the conversion between
them, random operations checked against a Python model, blocking pops
(woken, timed out, FIFO, MULTI), keyspace events and persistence.

Expected values were recorded from Debian's redis-server 7.0 running the
same commands; the suite also runs against it (RUNNEL_SERVER=redis-server),
skipping what Redis 7.0 lacks or prints differently (ZRANK WITHSCORE, the
shortest round-trip score formatting of Redis 7.2)."""
import math
import random
import threading
import time

import pytest
import redis

from conftest import blocked_count, wait_blocked


def cmd(r, *args):
    return r.execute_command(*args)


@pytest.fixture
def is_runnel(r):
    return "runnel_version" in r.info("server")


@pytest.fixture
def runnel_only(is_runnel):
    if not is_runnel:
        pytest.skip("Redis 7.2 behaviour (Redis 7.0 differs)")


@pytest.fixture
def thresholds(r):
    yield
    r.config_set("zset-max-listpack-entries", 128)
    r.config_set("zset-max-listpack-value", 64)


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


# ---- ZADD ----


def test_zadd_adds_and_updates(r):
    assert cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c") == 3
    assert cmd(r, "ZADD", "z", 1, "a") == 0
    assert cmd(r, "ZADD", "z", 5, "a", 4, "d") == 1
    assert cmd(r, "ZRANGE", "z", 0, -1, "WITHSCORES") == [b"b", b"2", b"c", b"3", b"d", b"4", b"a", b"5"]
    assert cmd(r, "ZADD", "z", 1, "dup", 2, "dup") == 1
    assert r.zscore("z", "dup") == 2.0


def test_zadd_ch_nx_xx_gt_lt(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert cmd(r, "ZADD", "z", "CH", 1, "a", 9, "b", 10, "new") == 2
    assert cmd(r, "ZADD", "z", "NX", 100, "a", 7, "n2") == 1
    assert r.zscore("z", "a") == 1.0
    assert cmd(r, "ZADD", "z", "XX", 100, "a", 7, "n3") == 0
    assert r.zscore("z", "a") == 100.0 and r.zscore("z", "n3") is None
    assert cmd(r, "ZADD", "z", "GT", "CH", 50, "a", 200, "b", 1, "n4") == 2
    assert r.zscore("z", "a") == 100.0 and r.zscore("z", "b") == 200.0 and r.zscore("z", "n4") == 1.0
    assert cmd(r, "ZADD", "z", "LT", "CH", 0, "a", 300, "b") == 1
    assert r.zscore("z", "a") == 0.0 and r.zscore("z", "b") == 200.0
    assert cmd(r, "ZADD", "z", "XX", "GT", 500, "a", 0, "never") == 0
    assert r.zscore("z", "a") == 500.0 and r.zscore("z", "never") is None
    assert cmd(r, "ZADD", "z", "xx", "ch", 500, "a") == 0


def test_zadd_incr(r, raw):
    assert raw.call("ZADD", "z", "INCR", 5, "a") == b"5"
    assert raw.call("ZADD", "z", "INCR", 1.5, "a") == b"6.5"
    assert raw.call("ZADD", "z", "NX", "INCR", 1, "a") is None
    assert raw.call("ZADD", "z", "XX", "INCR", 1, "missing") is None
    assert raw.call("ZADD", "z", "GT", "INCR", -1, "a") is None
    assert raw.call("ZADD", "z", "LT", "INCR", -1, "a") == b"5.5"
    assert raw.call("ZADD", "z", "INCR", 0, "a") == b"5.5"
    assert raw.call("ZADD", "nokey", "XX", "INCR", 1, "a") is None
    assert r.exists("nokey") == 0
    assert raw.call("ZADD", "nokey", "XX", 1, "a") == 0
    assert r.exists("nokey") == 0


def test_zadd_errors(r):
    cmd(r, "ZADD", "z", 1, "a")
    assert err(r, "ZADD", "z", "XX", "NX", 1, "a") == "XX and NX options at the same time are not compatible"
    for opts in (("GT", "LT"), ("GT", "NX"), ("LT", "NX")):
        assert err(r, "ZADD", "z", *opts, 1, "a") == "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "INCR", 1, "a", 2, "b") == "INCR option supports a single increment-element pair"
    assert err(r, "ZADD", "z", "nan", "a") == "value is not a valid float"
    assert err(r, "ZADD", "z", "abc", "a") == "value is not a valid float"
    assert err(r, "ZADD", "z", "", "a") == "value is not a valid float"
    assert err(r, "ZADD", "z", "1e400", "a") == "value is not a valid float"
    assert err(r, "ZADD", "z", 1, "a", 2) == "syntax error"
    assert err(r, "ZADD", "z", "NX", 1) == "syntax error"
    assert err(r, "ZADD", "z", "FOO", 1, "a") == "syntax error"
    assert err(r, "ZADD", "z", "NX") == "wrong number of arguments for 'zadd' command"
    assert err(r, "ZADD", "z", 1) == "wrong number of arguments for 'zadd' command"
    r.set("s", "v")
    assert err(r, "ZADD", "s", "x", "a") == "value is not a valid float"  # parsed before the type check
    assert err(r, "ZADD", "s", 1, "a").startswith("WRONGTYPE")


def test_zadd_incr_nan_is_refused(r):
    cmd(r, "ZADD", "z", "inf", "a")
    assert err(r, "ZADD", "z", "INCR", "-inf", "a") == "resulting score is not a number (NaN)"
    assert err(r, "ZINCRBY", "z", "-inf", "a") == "resulting score is not a number (NaN)"
    assert r.zscore("z", "a") == math.inf


def test_scores_accept_redis_float_syntax(r):
    assert cmd(r, "ZADD", "z", "+inf", "a", "-inf", "b", "infinity", "c", "0x10", "d", "1e3", "e", "-.5", "f") == 6
    assert cmd(r, "ZRANGE", "z", 0, -1, "WITHSCORES") == [
        b"b", b"-inf", b"f", b"-0.5", b"d", b"16", b"e", b"1000", b"a", b"inf", b"c", b"inf"]


def test_zincrby(r):
    assert r.zincrby("z", 2.5, "a") == 2.5
    assert r.zincrby("z", -1, "a") == 1.5
    assert err(r, "ZINCRBY", "z", "x", "a") == "value is not a valid float"
    assert err(r, "ZINCRBY", "z", "nan", "a") == "value is not a valid float"
    assert err(r, "ZINCRBY", "z", 1) == "wrong number of arguments for 'zincrby' command"
    r.set("s", "v")
    assert err(r, "ZINCRBY", "s", 1, "a").startswith("WRONGTYPE")


# ---- single members ----


def test_zrem_zcard_zscore_zmscore(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert r.zcard("z") == 3 and r.zcard("nokey") == 0
    assert r.zscore("z", "b") == 2.0 and r.zscore("z", "x") is None and r.zscore("nokey", "a") is None
    assert cmd(r, "ZMSCORE", "z", "a", "x", "c") == [1.0, None, 3.0]
    assert cmd(r, "ZMSCORE", "nokey", "a", "b") == [None, None]
    assert r.zrem("z", "x", "y") == 0
    assert r.zrem("z", "a", "b", "nothere") == 2
    assert r.zrem("z", "c") == 1
    assert r.exists("z") == 0
    assert r.zrem("z", "c") == 0
    assert err(r, "ZREM", "z") == "wrong number of arguments for 'zrem' command"
    assert err(r, "ZMSCORE", "z") == "wrong number of arguments for 'zmscore' command"
    r.set("s", "v")
    for c in (("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZREM", "s", "a")):
        assert err(r, *c).startswith("WRONGTYPE")


def test_zrank_zrevrank(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert r.zrank("z", "a") == 0 and r.zrank("z", "c") == 2
    assert r.zrevrank("z", "a") == 2 and r.zrevrank("z", "c") == 0
    assert r.zrank("z", "x") is None and r.zrank("nokey", "a") is None


def test_zrank_withscore(r, raw, raw3, runnel_only):
    cmd(r, "ZADD", "z", 1, "a", 2.5, "b")
    assert raw.call("ZRANK", "z", "b", "WITHSCORE") == [1, b"2.5"]
    assert raw.call("ZREVRANK", "z", "b", "withscore") == [0, b"2.5"]
    assert raw3.call("ZRANK", "z", "b", "WITHSCORE") == [1, 2.5]
    assert raw.call("ZRANK", "z", "x", "WITHSCORE") is None
    raw.send(b"*4\r\n$5\r\nZRANK\r\n$1\r\nz\r\n$1\r\nx\r\n$9\r\nWITHSCORE\r\n")
    assert raw.read_line() == b"*-1"
    assert raw.call("ZRANK", "nokey", "x", "WITHSCORE") is None
    assert raw.call("ZRANK", "z", "a", "FOO") == ("error", "ERR syntax error")
    assert raw.call("ZRANK", "z", "a", "WITHSCORE", "x") == (
        "error", "ERR wrong number of arguments for 'zrank' command")


def test_zcount_zlexcount(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")
    assert r.zcount("z", "-inf", "+inf") == 5
    assert r.zcount("z", "(1", "(5") == 3
    assert r.zcount("z", 2, 2) == 1 and r.zcount("z", "(2", 2) == 0
    assert r.zcount("z", 5, 1) == 0
    assert r.zcount("nokey", "-inf", "inf") == 0
    assert err(r, "ZCOUNT", "z", "x", 1) == "min or max is not a float"
    assert err(r, "ZCOUNT", "z", "(nan", 1) == "min or max is not a float"
    cmd(r, "ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d")
    assert r.zlexcount("l", "-", "+") == 4
    assert r.zlexcount("l", "[b", "(d") == 2
    assert r.zlexcount("l", "(a", "[a") == 0
    assert r.zlexcount("l", "+", "-") == 0
    assert r.zlexcount("nokey", "-", "+") == 0
    for bad in (("a", "b"), ("-x", "+"), ("", "+"), ("[a", "++")):
        assert err(r, "ZLEXCOUNT", "l", *bad) == "min or max not valid string range item"
    r.set("s", "v")
    assert err(r, "ZCOUNT", "s", "x", 1) == "min or max is not a float"  # parsed first
    assert err(r, "ZCOUNT", "s", 0, 1).startswith("WRONGTYPE")


def test_score_bounds_parse_like_strtod(r):
    cmd(r, "ZADD", "z", 0, "zero", 1, "one", 2, "two")
    assert cmd(r, "ZRANGEBYSCORE", "z", "(", 1) == [b"one"]  # "(" alone is an exclusive 0
    assert cmd(r, "ZRANGEBYSCORE", "z", "", 0) == [b"zero"]
    assert cmd(r, "ZRANGEBYSCORE", "z", " 1", "0x2") == [b"one", b"two"]
    assert err(r, "ZRANGEBYSCORE", "z", "1 ", 2) == "min or max is not a float"


# ---- ZRANGE family ----


@pytest.fixture
def five(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")
    return r


def test_zrange_by_rank(five):
    r = five
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", 1, 2, "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZRANGE", "z", -2, -1) == [b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", -100, 1) == [b"a", b"b"]
    assert cmd(r, "ZRANGE", "z", 3, 100) == [b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", 5, 10) == []
    assert cmd(r, "ZRANGE", "z", 3, 1) == []
    assert cmd(r, "ZRANGE", "z", 0, 1, "REV") == [b"e", b"d"]
    assert cmd(r, "ZREVRANGE", "z", 0, 1, "WITHSCORES") == [b"e", b"5", b"d", b"4"]
    assert cmd(r, "ZREVRANGE", "z", -1, -1) == [b"a"]
    assert cmd(r, "ZRANGE", "z", 0, -1, "LIMIT", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGE", "z", 0, -1, "WITHSCORES", "WITHSCORES") == cmd(r, "ZRANGE", "z", 0, -1, "WITHSCORES")
    assert cmd(r, "ZRANGE", "nokey", 0, -1) == []


def test_zrange_by_score(five):
    r = five
    assert cmd(r, "ZRANGE", "z", "(1", 3, "BYSCORE") == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, 2, "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZRANGE", "z", "(5", "(1", "BYSCORE", "REV") == [b"d", b"c", b"b"]
    assert cmd(r, "ZRANGE", "z", "(3", "-inf", "BYSCORE", "REV", "LIMIT", 0, 1) == [b"b"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 2, 4) == [b"b", b"c", b"d"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 2, 4, "LIMIT", 1, 1) == [b"c"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 1, 5, "LIMIT", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 1, 5, "LIMIT", -1, 2) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", 1, 5, "LIMIT", 2, 0) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", 1, 5, "LIMIT", 10, 2) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", 1, 3, "LIMIT", 0, 1, "LIMIT", 1, 1) == [b"b"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", 1, 2) == [b"d", b"4", b"c", b"3"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", 4, "(2") == [b"d", b"c"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 4, 2) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "(2", "(2") == []


def test_zrange_by_lex(r):
    cmd(r, "ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e", 0, "ee")
    assert cmd(r, "ZRANGE", "l", "[b", "(d", "BYLEX") == [b"b", b"c"]
    assert cmd(r, "ZRANGE", "l", "+", "-", "BYLEX", "REV", "LIMIT", 1, 2) == [b"e", b"d"]
    assert cmd(r, "ZRANGEBYLEX", "l", "-", "+") == [b"a", b"b", b"c", b"d", b"e", b"ee"]
    assert cmd(r, "ZRANGEBYLEX", "l", "(e", "+") == [b"ee"]
    assert cmd(r, "ZRANGEBYLEX", "l", "[e", "[e") == [b"e"]
    assert cmd(r, "ZRANGEBYLEX", "l", "-", "+", "LIMIT", 2, 3) == [b"c", b"d", b"e"]
    assert cmd(r, "ZREVRANGEBYLEX", "l", "[c", "(a") == [b"c", b"b"]
    assert cmd(r, "ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", 1, 5) == [b"e", b"d", b"c", b"b", b"a"]
    assert cmd(r, "ZRANGEBYLEX", "l", "+", "-") == []
    assert cmd(r, "ZRANGEBYLEX", "l", "[z", "+") == []


def test_zrange_errors(five):
    r = five
    assert err(r, "ZRANGE", "z", 0, -1, "BYSCORE", "BYLEX") == "syntax error"
    assert err(r, "ZRANGE", "z", 0, -1, "REV", "REV") == "syntax error"
    assert err(r, "ZRANGE", "z", 0, -1, "BYSCORE", "BYSCORE") == "syntax error"
    assert err(r, "ZRANGE", "z", 0, -1, "LIMIT", 0) == "syntax error"
    assert err(r, "ZRANGE", "z", 0, -1, "LIMIT", 0, 1) == (
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    assert err(r, "ZREVRANGE", "z", 0, -1, "LIMIT", 0, 1) == (
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    assert err(r, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == (
        "syntax error, WITHSCORES not supported in combination with BYLEX")
    assert err(r, "ZRANGEBYLEX", "z", "-", "+", "WITHSCORES") == (
        "syntax error, WITHSCORES not supported in combination with BYLEX")
    assert err(r, "ZRANGE", "z", 0, "x") == "value is not an integer or out of range"
    assert err(r, "ZRANGE", "z", "x", "y", "BYSCORE") == "min or max is not a float"
    assert err(r, "ZRANGE", "z", 0, -1, "BYLEX") == "min or max not valid string range item"
    assert err(r, "ZRANGEBYSCORE", "z", 1, 3, "REV") == "syntax error"
    assert err(r, "ZRANGEBYSCORE", "z", 1, 3, "BYSCORE") == "syntax error"
    assert err(r, "ZRANGEBYSCORE", "z", 1, 3, "LIMIT", 1, "x") == "value is not an integer or out of range"
    assert err(r, "ZRANGEBYSCORE", "z", 1, 3, "WITHSCORES", "LIMIT", 1, 1, "foo") == "syntax error"
    assert err(r, "ZREVRANGE", "z", 0, -1, "WITHSCORES", "foo") == "syntax error"
    assert err(r, "ZRANGE", "z", 0) == "wrong number of arguments for 'zrange' command"
    r.set("s", "v")
    assert err(r, "ZRANGE", "s", 0, -1, "LIMIT", 0, 1).startswith("syntax error, LIMIT")
    assert err(r, "ZRANGE", "s", 0, -1).startswith("WRONGTYPE")


def test_zrangestore(five, thresholds):
    r = five
    assert cmd(r, "ZRANGESTORE", "dst", "z", 1, 3) == 3
    assert cmd(r, "ZRANGE", "dst", 0, -1, "WITHSCORES") == [b"b", b"2", b"c", b"3", b"d", b"4"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", 0, -1, "REV") == 5
    assert cmd(r, "ZRANGE", "dst", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", "(1", "+inf", "BYSCORE", "LIMIT", 1, 2) == 2
    assert cmd(r, "ZRANGE", "dst", 0, -1) == [b"c", b"d"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", "+", "[c", "BYLEX", "REV") == 3
    r.expire("dst", 100)
    assert cmd(r, "ZRANGESTORE", "dst", "z", 0, 0) == 1
    assert r.ttl("dst") == -1
    assert cmd(r, "ZRANGESTORE", "dst", "z", 10, 20) == 0
    assert r.exists("dst") == 0
    assert cmd(r, "ZRANGESTORE", "dst", "nokey", 0, -1) == 0
    r.set("str", "v")
    assert cmd(r, "ZRANGESTORE", "str", "z", 0, 1) == 2  # the destination's old type does not matter
    assert r.type("str") == b"zset"
    assert cmd(r, "ZRANGESTORE", "z", "z", 0, 1) == 2  # source and destination alike
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"b"]
    assert err(r, "ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES") == "syntax error"
    assert err(r, "ZRANGESTORE", "dst", "z", 0, -1, "LIMIT", 0, 1).startswith("syntax error, LIMIT")
    r.set("s2", "v")
    assert err(r, "ZRANGESTORE", "dst", "s2", 0, -1).startswith("WRONGTYPE")
    # the destination's encoding follows its size, not the source's
    r.config_set("zset-max-listpack-entries", 4)
    cmd(r, "ZADD", "big", 1, "v", 2, "w", 3, "x", 4, "y", 5, "z")
    assert r.object("encoding", "big") == b"skiplist"
    assert cmd(r, "ZRANGESTORE", "small", "big", 0, 1) == 2
    assert r.object("encoding", "small") == b"listpack"
    assert cmd(r, "ZRANGESTORE", "large", "big", 0, -1) == 5
    assert r.object("encoding", "large") == b"skiplist"


# ---- ZREMRANGEBY* ----


def test_zremrangebyrank(five):
    r = five
    assert r.zremrangebyrank("z", 0, 0) == 1
    assert r.zremrangebyrank("z", 5, 10) == 0
    assert r.zremrangebyrank("z", -2, -1) == 2
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"b", b"c"]
    assert r.zremrangebyrank("z", -100, 100) == 2
    assert r.exists("z") == 0
    assert r.zremrangebyrank("nokey", 0, -1) == 0
    assert err(r, "ZREMRANGEBYRANK", "z", "x", 1) == "value is not an integer or out of range"


def test_zremrangebyscore_and_lex(five):
    r = five
    assert r.zremrangebyscore("z", "(1", 3) == 2
    assert r.zremrangebyscore("z", 100, 200) == 0
    assert cmd(r, "ZRANGE", "z", 0, -1) == [b"a", b"d", b"e"]
    assert err(r, "ZREMRANGEBYSCORE", "z", "x", 1) == "min or max is not a float"
    cmd(r, "ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d")
    assert r.zremrangebylex("l", "(a", "[c") == 2
    assert cmd(r, "ZRANGE", "l", 0, -1) == [b"a", b"d"]
    assert err(r, "ZREMRANGEBYLEX", "l", "x", "+") == "min or max not valid string range item"
    assert r.zremrangebylex("l", "-", "+") == 2
    assert r.exists("l") == 0
    r.set("s", "v")
    assert err(r, "ZREMRANGEBYSCORE", "s", 0, 1).startswith("WRONGTYPE")


# ---- pops ----


def test_zpopmin_zpopmax(raw, raw3, r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    assert raw.call("ZPOPMIN", "z") == [b"a", b"1"]
    assert raw.call("ZPOPMAX", "z", 2) == [b"d", b"4", b"c", b"3"]
    assert raw.call("ZPOPMIN", "z", 0) == []
    assert raw.call("ZPOPMIN", "z", 10) == [b"b", b"2"]
    assert r.exists("z") == 0
    assert raw.call("ZPOPMIN", "z") == []
    assert raw.call("ZPOPMIN", "z", 2) == []
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert raw3.call("ZPOPMIN", "z") == [b"a", 1.0]
    assert raw3.call("ZPOPMAX", "z", 2) == [[b"c", 3.0], [b"b", 2.0]]
    assert raw3.call("ZPOPMIN", "z") == []
    assert raw.call("ZPOPMIN", "z", -1) == ("error", "ERR value is out of range, must be positive")
    assert raw.call("ZPOPMIN", "z", "x") == ("error", "ERR value is out of range, must be positive")
    assert raw.call("ZPOPMIN", "z", 1, 2) == ("error", "ERR syntax error")
    r.set("s", "v")
    assert raw.call("ZPOPMAX", "s")[1].startswith("WRONGTYPE")


def test_zmpop(raw, raw3, r):
    assert raw.call("ZMPOP", 2, "x", "y", "MIN") is None
    cmd(r, "ZADD", "y", 1, "a", 2, "b", 3, "c")
    assert raw.call("ZMPOP", 2, "x", "y", "MIN") == [b"y", [[b"a", b"1"]]]
    assert raw.call("ZMPOP", 2, "x", "y", "MAX", "COUNT", 5) == [b"y", [[b"c", b"3"], [b"b", b"2"]]]
    assert r.exists("y") == 0
    cmd(r, "ZADD", "y", 1, "a")
    assert raw3.call("ZMPOP", 1, "y", "max") == [b"y", [[b"a", 1.0]]]
    assert raw3.call("ZMPOP", 1, "y", "max") is None
    errors = [
        ((0, "z", "MIN"), "ERR numkeys should be greater than 0"),
        ((1, "z", "foo"), "ERR syntax error"),
        ((1, "z", "MIN", "COUNT", 0), "ERR count should be greater than 0"),
        ((1, "z", "MIN", "COUNT", -1), "ERR count should be greater than 0"),
        ((1, "z", "MIN", "COUNT", 1, "COUNT", 2), "ERR syntax error"),
        ((2, "z", "MIN"), "ERR syntax error"),
        ((1, "z"), "ERR wrong number of arguments for 'zmpop' command"),
    ]
    for args, message in errors:
        assert raw.call("ZMPOP", *args) == ("error", message)
    r.set("s", "v")
    cmd(r, "ZADD", "later", 1, "a")
    assert raw.call("ZMPOP", 2, "s", "later", "MIN")[1].startswith("WRONGTYPE")


# ---- set algebra ----


@pytest.fixture
def two(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    cmd(r, "ZADD", "y", 10, "b", 20, "c", 30, "d")
    return r


def test_zunion_zinter_zdiff(two, raw3):
    r = two
    assert cmd(r, "ZUNION", 2, "z", "y", "WITHSCORES") == [b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert cmd(r, "ZUNION", 2, "z", "y") == [b"a", b"b", b"c", b"d"]
    assert cmd(r, "ZINTER", 2, "z", "y", "WITHSCORES", "AGGREGATE", "MAX") == [b"b", b"10", b"c", b"20"]
    assert cmd(r, "ZINTER", 2, "z", "y", "AGGREGATE", "MIN", "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZDIFF", 2, "z", "y", "WITHSCORES") == [b"a", b"1"]
    assert cmd(r, "ZDIFF", 2, "y", "z") == [b"d"]
    assert cmd(r, "ZDIFF", 2, "nokey", "y") == []
    assert cmd(r, "ZINTER", 2, "z", "nokey") == []
    assert cmd(r, "ZUNION", 2, "z", "nokey", "WEIGHTS", 2, 3, "WITHSCORES") == [b"a", b"2", b"b", b"4", b"c", b"6"]
    assert cmd(r, "ZUNION", 1, "z", "WITHSCORES", "WITHSCORES") == [b"a", b"1", b"b", b"2", b"c", b"3"]
    assert raw3.call("ZUNION", 1, "z", "WITHSCORES") == [[b"a", 1.0], [b"b", 2.0], [b"c", 3.0]]
    assert raw3.call("ZINTER", 2, "z", "y", "WITHSCORES") == [[b"b", 12.0], [b"c", 23.0]]
    assert raw3.call("ZDIFF", 1, "z", "WITHSCORES") == [[b"a", 1.0], [b"b", 2.0], [b"c", 3.0]]
    assert raw3.call("ZDIFF", 1, "z") == [b"a", b"b", b"c"]


def test_store_variants(two):
    r = two
    assert cmd(r, "ZUNIONSTORE", "out", 2, "z", "y", "WEIGHTS", 1, 2) == 4
    assert cmd(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"22", b"c", b"43", b"d", b"60"]
    assert cmd(r, "ZINTERSTORE", "out", 2, "z", "y", "WEIGHTS", 1, 0.5) == 2
    assert cmd(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"b", b"7", b"c", b"13"]
    assert cmd(r, "ZDIFFSTORE", "out", 2, "z", "y") == 1
    assert cmd(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"a", b"1"]
    r.expire("out", 100)
    assert cmd(r, "ZUNIONSTORE", "out", 1, "z", "AGGREGATE", "MIN", "AGGREGATE", "MAX") == 3
    assert r.ttl("out") == -1
    assert cmd(r, "ZINTERSTORE", "out", 2, "z", "nokey") == 0
    assert r.exists("out") == 0
    assert cmd(r, "ZUNIONSTORE", "nothing", 1, "nokey") == 0
    assert r.exists("nothing") == 0
    # an input may be the destination
    assert cmd(r, "ZUNIONSTORE", "z", 2, "z", "y") == 4
    assert cmd(r, "ZRANGE", "z", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    r.set("str", "v")
    assert cmd(r, "ZINTERSTORE", "str", 1, "y") == 3
    assert r.type("str") == b"zset"


def test_weights_and_infinities(r):
    cmd(r, "ZADD", "z", "inf", "a", "-inf", "b", 1, "c")
    assert cmd(r, "ZINTERSTORE", "out", 2, "z", "z", "WEIGHTS", 0, 0) == 3
    assert cmd(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"a", b"0", b"b", b"0", b"c", b"0"]
    assert cmd(r, "ZUNIONSTORE", "out", 2, "z", "z", "WEIGHTS", 1, -1) == 3
    assert cmd(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"a", b"0", b"b", b"0", b"c", b"0"]
    assert cmd(r, "ZUNIONSTORE", "out", 1, "z", "WEIGHTS", "-inf") == 3
    assert cmd(r, "ZRANGE", "out", 0, -1, "WITHSCORES") == [b"a", b"-inf", b"c", b"-inf", b"b", b"inf"]


def test_set_algebra_errors(two):
    r = two
    assert err(r, "ZUNIONSTORE", "out", 0, "z") == "at least 1 input key is needed for 'zunionstore' command"
    assert err(r, "ZUNION", 0, "z") == "at least 1 input key is needed for 'zunion' command"
    assert err(r, "zinterstore", "out", -1, "z") == "at least 1 input key is needed for 'zinterstore' command"
    assert err(r, "ZUNIONSTORE", "out", "x", "z") == "value is not an integer or out of range"
    assert err(r, "ZUNIONSTORE", "out", 2, "z") == "syntax error"
    assert err(r, "ZUNIONSTORE", "out", 1, "z", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r, "ZUNIONSTORE", "out", 1, "nokey", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r, "ZUNIONSTORE", "out", 1, "z", "WEIGHTS", 1, 2) == "syntax error"
    assert err(r, "ZUNIONSTORE", "out", 1, "z", "WEIGHTS") == "syntax error"
    assert err(r, "ZUNIONSTORE", "out", 1, "z", "AGGREGATE", "foo") == "syntax error"
    assert err(r, "ZUNIONSTORE", "out", 1, "z", "WITHSCORES") == "syntax error"
    assert err(r, "ZINTER", 2, "z") == "syntax error"
    assert err(r, "ZDIFF", 1, "z", "WEIGHTS", 1) == "syntax error"
    assert err(r, "ZDIFF", 1, "z", "AGGREGATE", "SUM") == "syntax error"
    r.set("s", "v")
    # the inputs' types are checked before the options
    assert err(r, "ZUNIONSTORE", "out", 1, "s", "WEIGHTS", "x").startswith("WRONGTYPE")


def test_zintercard(two):
    r = two
    assert cmd(r, "ZINTERCARD", 2, "z", "y") == 2
    assert cmd(r, "ZINTERCARD", 1, "z", "LIMIT", 2) == 2
    assert cmd(r, "ZINTERCARD", 1, "z", "LIMIT", 0) == 3
    assert cmd(r, "ZINTERCARD", 2, "z", "z", "LIMIT", 1) == 1
    assert cmd(r, "ZINTERCARD", 1, "z", "LIMIT", 1, "LIMIT", 2) == 2
    assert cmd(r, "ZINTERCARD", 2, "z", "nokey") == 0
    assert err(r, "ZINTERCARD", 1, "z", "LIMIT", -1) == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", 1, "nokey", "LIMIT", "x") == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", 0, "z") == "at least 1 input key is needed for 'zintercard' command"
    assert err(r, "ZINTERCARD", 2, "z") == "syntax error"
    for opt in (("WEIGHTS", 1), ("AGGREGATE", "SUM"), ("WITHSCORES",), ("foo",)):
        assert err(r, "ZINTERCARD", 1, "z", *opt) == "syntax error"
    r.set("s", "v")
    assert err(r, "ZINTERCARD", 1, "s", "LIMIT", "x").startswith("WRONGTYPE")


def test_store_result_encoding(r, thresholds):
    r.config_set("zset-max-listpack-entries", 4)
    cmd(r, "ZADD", "a", 1, "x", 2, "y", 3, "z")
    cmd(r, "ZADD", "b", 1, "v", 2, "w")
    assert cmd(r, "ZUNIONSTORE", "u", 2, "a", "b") == 5
    assert r.object("encoding", "u") == b"skiplist"
    assert cmd(r, "ZINTERSTORE", "i", 2, "u", "a") == 3
    assert r.object("encoding", "i") == b"listpack"


# ---- ZRANDMEMBER ----


def test_zrandmember(r, raw3):
    members = {b"m%d" % i: float(i) for i in range(20)}
    cmd(r, "ZADD", "z", *[x for m, s in members.items() for x in (s, m)])
    assert cmd(r, "ZRANDMEMBER", "z") in members
    picked = cmd(r, "ZRANDMEMBER", "z", 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(members)
    assert sorted(cmd(r, "ZRANDMEMBER", "z", 100)) == sorted(members)
    assert len(set(cmd(r, "ZRANDMEMBER", "z", 19))) == 19
    many = cmd(r, "ZRANDMEMBER", "z", -200)
    assert len(many) == 200 and set(many) <= set(members) and len(set(many)) > 10
    flat = cmd(r, "ZRANDMEMBER", "z", 3, "WITHSCORES")
    assert len(flat) == 6
    for m, s in zip(flat[::2], flat[1::2]):
        assert members[m] == float(s)
    pairs = raw3.call("ZRANDMEMBER", "z", -4, "WITHSCORES")
    assert len(pairs) == 4 and all(members[m] == s for m, s in pairs)
    assert raw3.call("ZRANDMEMBER", "z", 2) and len(raw3.call("ZRANDMEMBER", "z", 2)) == 2
    assert cmd(r, "ZRANDMEMBER", "z", 0) == []
    assert cmd(r, "ZRANDMEMBER", "nokey") is None
    assert cmd(r, "ZRANDMEMBER", "nokey", 2) == []
    assert cmd(r, "ZRANDMEMBER", "nokey", 2, "WITHSCORES") == []
    assert err(r, "ZRANDMEMBER", "z", "x") == "value is not an integer or out of range"
    assert err(r, "ZRANDMEMBER", "z", 2, "foo") == "syntax error"
    assert err(r, "ZRANDMEMBER", "z", -9223372036854775808) == (
        "value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    assert err(r, "ZRANDMEMBER", "z", 9223372036854775807, "WITHSCORES") == "value is out of range"
    assert err(r, "ZRANDMEMBER", "z", -4611686018427387904, "WITHSCORES") == "value is out of range"
    r.set("s", "v")
    assert err(r, "ZRANDMEMBER", "s").startswith("WRONGTYPE")


def test_zrandmember_is_roughly_uniform(r, thresholds):
    r.config_set("zset-max-listpack-entries", 0)
    cmd(r, "ZADD", "z", *[x for i in range(10) for x in (i, "m%d" % i)])
    counts = {}
    for m in cmd(r, "ZRANDMEMBER", "z", -5000):
        counts[m] = counts.get(m, 0) + 1
    assert len(counts) == 10 and min(counts.values()) > 350


# ---- ZSCAN ----


def test_zscan_small_set_in_one_call(r, raw, raw3):
    cmd(r, "ZADD", "z", 1, "a", 2.5, "b", 3, "c")
    everything = [b"0", [b"a", b"1", b"b", b"2.5", b"c", b"3"]]
    assert raw.call("ZSCAN", "z", 0) == everything
    assert raw.call("ZSCAN", "z", 0, "MATCH", "*b*", "COUNT", 100) == [b"0", [b"b", b"2.5"]]
    assert raw3.call("ZSCAN", "z", 0) == everything  # scores stay bulk strings in RESP3
    assert raw.call("ZSCAN", "z", "18446744073709551615") == everything
    assert raw.call("ZSCAN", "z", "-1") == everything
    assert raw.call("ZSCAN", "nokey", 0, "foo") == [b"0", []]
    assert raw.call("ZSCAN", "z", 0, "COUNT", 0) == ("error", "ERR syntax error")
    assert raw.call("ZSCAN", "z", 0, "MATCH") == ("error", "ERR syntax error")
    assert raw.call("ZSCAN", "z", "x") == ("error", "ERR invalid cursor")
    assert raw.call("ZSCAN", "z", " 1") == ("error", "ERR invalid cursor")
    r.set("s", "v")
    assert raw.call("ZSCAN", "s", 0)[1].startswith("WRONGTYPE")


def test_zscan_large_set_visits_everything(r, raw):
    n = 1000
    cmd(r, "ZADD", "z", *[x for i in range(n) for x in (i, "m%d" % i)])
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, items = raw.call("ZSCAN", "z", cursor, "COUNT", 50)
        calls += 1
        for m, s in zip(items[::2], items[1::2]):
            seen[m] = float(s)
        cursor = int(cursor)
        if cursor == 0:
            break
    assert calls > 5
    assert seen == {b"m%d" % i: float(i) for i in range(n)}
    _, items = raw.call("ZSCAN", "z", 0, "MATCH", "m99*", "COUNT", 5000)
    assert sorted(items[::2]) == sorted([b"m99"] + [b"m99%d" % i for i in range(10)])


# ---- RESP3 shapes and score formatting ----


def test_resp3_shapes(r, raw3):
    cmd(r, "ZADD", "z", 1, "a", 2.5, "b")
    assert raw3.call("ZSCORE", "z", "b") == 2.5
    assert raw3.call("ZMSCORE", "z", "a", "x") == [1.0, None]
    assert raw3.call("ZINCRBY", "z", 1, "a") == 2.0
    assert raw3.call("ZADD", "z", "INCR", 1, "a") == 3.0
    assert raw3.call("ZRANGE", "z", 0, -1, "WITHSCORES") == [[b"b", 2.5], [b"a", 3.0]]
    assert raw3.call("ZRANGE", "z", 0, -1) == [b"b", b"a"]
    assert raw3.call("ZRANGEBYSCORE", "z", "-inf", "inf", "WITHSCORES") == [[b"b", 2.5], [b"a", 3.0]]
    assert raw3.call("ZREVRANGE", "z", 0, 0, "WITHSCORES") == [[b"a", 3.0]]
    raw3.send(b"*3\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n$1\r\nb\r\n")
    assert raw3.read_line() == b",2.5"
    raw3.send(b"*3\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n$1\r\nx\r\n")
    assert raw3.read_line() == b"_"


def test_score_formatting(raw, r, is_runnel):
    cmd(r, "ZADD", "z", 30, "a", 1700000000000, "b", 1e20, "c", "-0", "d", "1.5e-7", "e", "inf", "f", 0.1, "g")
    assert raw.call("ZSCORE", "z", "a") == b"30"
    assert raw.call("ZSCORE", "z", "b") == b"1700000000000"
    assert raw.call("ZSCORE", "z", "c") == b"1e+20"
    assert raw.call("ZSCORE", "z", "d") == b"0"  # -0 packs as 0, as Redis's listpack does
    assert raw.call("ZSCORE", "z", "f") == b"inf"
    if is_runnel:
        assert raw.call("ZSCORE", "z", "g") == b"0.1"  # Redis 7.2's shortest round trip
        assert raw.call("ZSCORE", "z", "e") == b"1.5e-07"


# ---- encodings ----


def test_encoding_conversion(r, thresholds):
    cmd(r, "ZADD", "z", *[x for i in range(128) for x in (i, "m%d" % i)])
    assert r.object("encoding", "z") == b"listpack"
    cmd(r, "ZADD", "z", 200, "one-more")
    assert r.object("encoding", "z") == b"skiplist"
    r.zrem("z", *["m%d" % i for i in range(100)])
    assert r.object("encoding", "z") == b"skiplist"  # never goes back
    cmd(r, "ZADD", "v", 1, "x" * 64)
    assert r.object("encoding", "v") == b"listpack"
    cmd(r, "ZADD", "v", 1, "y" * 65)
    assert r.object("encoding", "v") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 2)
    cmd(r, "ZADD", "w", 1, "a", 2, "b")
    assert r.object("encoding", "w") == b"listpack"
    cmd(r, "ZADD", "w2", 1, "a", 2, "b", 3, "c")
    assert r.object("encoding", "w2") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 0)
    cmd(r, "ZADD", "w3", 1, "a")
    assert r.object("encoding", "w3") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 128)
    r.config_set("zset-max-listpack-value", 3)
    cmd(r, "ZADD", "lp", 1, "abc")
    assert r.object("encoding", "lp") == b"listpack"
    cmd(r, "ZADD", "lp", 1, "abcd")
    assert r.object("encoding", "lp") == b"skiplist"
    assert r.config_get("zset-max-ziplist-value") == {"zset-max-ziplist-value": "3"}


def test_both_encodings_answer_alike(r, thresholds):
    script = [
        ("ZADD", "{k}", 5, "e", 1, "a", 3, "c", 2, "b", 4, "d", 3, "cc", -1, "neg", "inf", "top"),
        ("ZRANGE", "{k}", 0, -1, "WITHSCORES"),
        ("ZRANGE", "{k}", 1, -2, "REV", "WITHSCORES"),
        ("ZRANGEBYSCORE", "{k}", "(1", "4", "LIMIT", 1, 3),
        ("ZREVRANGEBYSCORE", "{k}", "inf", "(2", "WITHSCORES", "LIMIT", 1, 2),
        ("ZRANK", "{k}", "cc"), ("ZREVRANK", "{k}", "cc"), ("ZCOUNT", "{k}", "(3", "inf"),
        ("ZADD", "{k}", "GT", "CH", 10, "a", 0, "b"), ("ZINCRBY", "{k}", -20, "c"),
        ("ZRANGE", "{k}", 0, -1, "WITHSCORES"), ("ZREMRANGEBYRANK", "{k}", 1, 2),
        ("ZPOPMAX", "{k}", 2), ("ZRANGE", "{k}", 0, -1, "WITHSCORES"), ("ZREMRANGEBYSCORE", "{k}", "-inf", 3),
        ("ZRANGE", "{k}", 0, -1, "WITHSCORES"), ("ZCARD", "{k}"),
    ]
    results = {}
    for key, entries in (("packed", 128), ("listed", 0)):
        r.config_set("zset-max-listpack-entries", entries)
        results[key] = [cmd(r, *[a.format(k=key) if isinstance(a, str) else a for a in c]) for c in script]
    assert r.object("encoding", "packed") == b"listpack"
    assert r.object("encoding", "listed") == b"skiplist"
    assert results["packed"] == results["listed"]


def test_memory_usage_and_copy(r, thresholds):
    cmd(r, "ZADD", "small", 1, "a", 2, "b")
    r.config_set("zset-max-listpack-entries", 0)
    cmd(r, "ZADD", "big", *[x for i in range(5000) for x in (i, "member:%d" % i)])
    small, big = r.memory_usage("small"), r.memory_usage("big")
    assert 0 < small < 200
    assert 5000 * 50 < big < 5000 * 200
    assert r.copy("big", "big2") is True
    assert r.zcard("big2") == 5000 and r.object("encoding", "big2") == b"skiplist"
    assert r.zrange("big2", 0, 2, withscores=True) == [(b"member:0", 0.0), (b"member:1", 1.0), (b"member:2", 2.0)]
    r.zadd("big2", {"member:0": 9999})
    assert r.zscore("big", "member:0") == 0.0
    assert r.copy("small", "small2") is True
    assert r.object("encoding", "small2") == b"listpack"
    assert r.type("small2") == b"zset"


# ---- random operations against a model ----


class Model:
    """A sorted set in Python: member -> score, and the ordered view."""

    def __init__(self):
        self.scores = {}

    def ordered(self):
        return sorted(self.scores.items(), key=lambda kv: (kv[1], kv[0]))

    def range_by_score(self, lo, hi):
        return [(m, s) for m, s in self.ordered() if lo <= s <= hi]


def flat(pairs):
    out = []
    for m, s in pairs:
        out += [m, s]
    return out


@pytest.mark.parametrize("entries,members", [(128, 100), (0, 3000)])
def test_random_ops_match_model(r, thresholds, entries, members):
    r.config_set("zset-max-listpack-entries", entries)
    rng = random.Random(7 + entries)
    model = Model()
    key = "rz"
    for step in range(4000):
        m = b"m%d" % rng.randrange(members)
        s = float(rng.randrange(-500, 500)) / 4
        op = rng.randrange(12)
        if op < 4:
            added = cmd(r, "ZADD", key, s, m)
            assert added == (0 if m in model.scores else 1)
            model.scores[m] = s
        elif op == 4:
            got = float(cmd(r, "ZINCRBY", key, s, m))
            model.scores[m] = model.scores.get(m, 0.0) + s
            assert got == model.scores[m]
        elif op == 5:
            assert cmd(r, "ZREM", key, m) == (1 if model.scores.pop(m, None) is not None else 0)
        elif op == 6:
            rank = cmd(r, "ZRANK", key, m)
            order = [x for x, _ in model.ordered()]
            assert rank == (order.index(m) if m in model.scores else None)
        elif op == 7:
            lo, hi = sorted((s, float(rng.randrange(-500, 500)) / 4))
            want = model.range_by_score(lo, hi)
            assert cmd(r, "ZCOUNT", key, lo, hi) == len(want)
            off, cnt = rng.randrange(5), rng.randrange(-1, 20)
            got = cmd(r, "ZRANGEBYSCORE", key, lo, hi, "WITHSCORES", "LIMIT", off, cnt)
            sel = want[off:] if cnt < 0 else want[off:off + cnt]
            assert [(a, float(b)) for a, b in zip(got[::2], got[1::2])] == sel
            rev = cmd(r, "ZREVRANGEBYSCORE", key, hi, lo, "LIMIT", off, cnt)
            rsel = list(reversed(want))[off:] if cnt < 0 else list(reversed(want))[off:off + cnt]
            assert rev == [x for x, _ in rsel]
        elif op == 8:
            start, stop = rng.randrange(-50, 50), rng.randrange(-50, 50)
            got = cmd(r, "ZRANGE", key, start, stop)
            order = [x for x, _ in model.ordered()]
            n = len(order)
            a = start + n if start < 0 else start
            b = stop + n if stop < 0 else stop
            a = max(a, 0)
            assert got == ([] if a > b or a >= n else order[a:min(b, n - 1) + 1])
        elif op == 9 and rng.randrange(10) == 0:
            order = model.ordered()
            if order:
                start = rng.randrange(len(order))
                stop = min(start + rng.randrange(5), len(order) - 1)
                assert cmd(r, "ZREMRANGEBYRANK", key, start, stop) == stop - start + 1
                for mm, _ in order[start:stop + 1]:
                    del model.scores[mm]
        elif op == 10 and rng.randrange(10) == 0:
            got = cmd(r, "ZPOPMIN", key, 3)
            order = model.ordered()[:3]
            assert [(a, float(b)) for a, b in zip(got[::2], got[1::2])] == order
            for mm, _ in order:
                del model.scores[mm]
        elif op == 11:
            got = cmd(r, "ZSCORE", key, m)
            assert (None if got is None else float(got)) == model.scores.get(m)
        if step % 500 == 0:
            assert r.zcard(key) == len(model.scores)
    full = cmd(r, "ZRANGE", key, 0, -1, "WITHSCORES")
    assert [(a, float(b)) for a, b in zip(full[::2], full[1::2])] == model.ordered()
    if model.scores:
        assert r.object("encoding", key) == (b"listpack" if entries else b"skiplist")


def test_lex_ranges_on_a_large_set(r):
    words = [b"w%04d" % i for i in range(2000)]
    cmd(r, "ZADD", "lex", *[x for w in words for x in (0, w)])
    assert cmd(r, "ZRANGEBYLEX", "lex", "[w0100", "(w0110") == [b"w%04d" % i for i in range(100, 110)]
    assert cmd(r, "ZLEXCOUNT", "lex", "(w0100", "+") == 1899
    assert cmd(r, "ZREVRANGEBYLEX", "lex", "+", "[w1995", "LIMIT", 0, 3) == [b"w1999", b"w1998", b"w1997"]
    assert cmd(r, "ZREMRANGEBYLEX", "lex", "[w1000", "+") == 1000
    assert r.zcard("lex") == len(words) - 1000


# ---- blocking pops ----


def in_thread(fn):
    result = {}

    def run():
        try:
            result["v"] = fn()
        except Exception as e:  # surfaced by the caller
            result["e"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, result


def test_bzpop_serves_at_once(r, raw, raw3):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert raw.call("BZPOPMIN", "none", "z", 1) == [b"z", b"a", b"1"]
    assert raw.call("BZPOPMAX", "z", 1) == [b"z", b"c", b"3"]
    assert raw3.call("BZPOPMIN", "z", 1) == [b"z", b"b", 2.0]
    assert r.exists("z") == 0
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert raw.call("BZMPOP", 1, 2, "none", "z", "MAX", "COUNT", 2) == [b"z", [[b"c", b"3"], [b"b", b"2"]]]
    assert raw3.call("BZMPOP", 1, 1, "z", "MIN") == [b"z", [[b"a", 1.0]]]


def test_bzpop_times_out(raw, raw3):
    start = time.time()
    assert raw.call("BZPOPMIN", "nothing", 0.2) is None
    assert 0.15 <= time.time() - start < 2
    raw.send(b"*3\r\n$8\r\nBZPOPMAX\r\n$7\r\nnothing\r\n$4\r\n0.05\r\n")
    assert raw.read_line() == b"*-1"
    raw3.send(b"*5\r\n$6\r\nBZMPOP\r\n$4\r\n0.05\r\n$1\r\n1\r\n$1\r\nk\r\n$3\r\nMIN\r\n")
    assert raw3.read_line() == b"_"


def test_bzpop_errors(raw, r):
    assert raw.call("BZPOPMIN", "z", "-1") == ("error", "ERR timeout is negative")
    assert raw.call("BZPOPMIN", "z", "x") == ("error", "ERR timeout is not a float or out of range")
    assert raw.call("BZMPOP", "-1", 1, "z", "MIN") == ("error", "ERR timeout is negative")
    assert raw.call("BZMPOP", 0, 0, "z", "MIN") == ("error", "ERR numkeys should be greater than 0")
    assert raw.call("BZMPOP", 0, 1, "z", "FOO") == ("error", "ERR syntax error")
    r.set("s", "v")
    assert raw.call("BZPOPMIN", "nokey", "s", 0)[1].startswith("WRONGTYPE")
    assert raw.call("BZMPOP", 0, 1, "s", "MIN")[1].startswith("WRONGTYPE")


def test_zadd_wakes_waiter(server, r):
    other = server.client()
    t, result = in_thread(lambda: other.bzpopmin(["jobs"], timeout=5))
    wait_blocked(r, 1)
    cmd(r, "ZADD", "jobs", 5, "late", 1, "early")
    t.join(5)
    assert result["v"] == (b"jobs", b"early", 1.0)
    assert cmd(r, "ZRANGE", "jobs", 0, -1) == [b"late"]


def test_waiters_are_served_in_order(server, r):
    clients = [server.client() for _ in range(3)]
    threads = []
    for i, c in enumerate(clients):
        threads.append(in_thread(lambda c=c: c.bzpopmin(["q"], timeout=5)))
        wait_blocked(r, i + 1)
    cmd(r, "ZADD", "q", 1, "a", 2, "b", 3, "c")
    got = []
    for t, res in threads:
        t.join(5)
        got.append(res["v"])
    assert got == [(b"q", b"a", 1.0), (b"q", b"b", 2.0), (b"q", b"c", 3.0)]


def test_bzmpop_woken_by_store_and_incr(server, r):
    other = server.client()
    t, result = in_thread(lambda: other.execute_command("BZMPOP", 5, 2, "a", "b", "MAX", "COUNT", 10))
    wait_blocked(r, 1)
    cmd(r, "ZADD", "src", 1, "x", 2, "y")
    cmd(r, "ZUNIONSTORE", "b", 1, "src")
    t.join(5)
    assert result["v"] == [b"b", [[b"y", b"2"], [b"x", b"1"]]]
    t, result = in_thread(lambda: other.bzpopmax(["c"], timeout=5))
    wait_blocked(r, 1)
    r.zincrby("c", 7, "m")
    t.join(5)
    assert result["v"] == (b"c", b"m", 7.0)


def test_waiter_ignores_wrong_type_and_keeps_waiting(server, r):
    other = server.client()
    t, result = in_thread(lambda: other.bzpopmin(["k"], timeout=5))
    wait_blocked(r, 1)
    r.rpush("k", "x")
    time.sleep(0.1)
    assert blocked_count(r) == 1
    r.delete("k")
    cmd(r, "ZADD", "k", 1, "m")
    t.join(5)
    assert result["v"] == (b"k", b"m", 1.0)


def test_no_blocking_inside_multi(r):
    p = r.pipeline(transaction=True)
    p.execute_command("BZPOPMIN", "none", 0)
    p.execute_command("BZMPOP", 0, 1, "none", "MIN")
    p.zadd("z", {"a": 1})
    p.execute_command("BZPOPMAX", "z", 0)
    assert p.execute() == [None, None, 1, (b"z", b"a", 1.0)]


# ---- keyspace events ----


class Events:
    def __init__(self, server):
        self.conn = server.raw()
        self.conn.command("PSUBSCRIBE", "__keyevent@*__:*")
        self.conn.read_reply()
        self.conn.command("SUBSCRIBE", "sentinel")
        self.conn.read_reply()

    def collect(self, r):
        r.publish("sentinel", "x")
        out = []
        while True:
            msg = self.conn.read_reply()
            if msg[0] == b"message":
                return out
            out.append(msg[2].split(b":", 1)[1].decode() + ":" + msg[3].decode())


def test_keyspace_events(server, r):
    r.config_set("notify-keyspace-events", "KEA")
    ev = Events(server)
    cases = [
        (("ZADD", "z", 1, "a", 2, "b", 3, "c"), ["zadd:z"]),
        (("ZADD", "z", 1, "a"), []),
        (("ZADD", "z", "INCR", 1, "a"), ["zincr:z"]),
        (("ZINCRBY", "z", 1, "a"), ["zincr:z"]),
        (("ZADD", "z", "NX", 5, "a"), []),
        (("ZREM", "z", "nope"), []),
        (("ZREM", "z", "a"), ["zrem:z"]),
        (("ZREMRANGEBYSCORE", "z", 2, 2), ["zremrangebyscore:z"]),
        (("ZREMRANGEBYRANK", "z", 0, 0), ["zremrangebyrank:z", "del:z"]),
        (("ZADD", "z", 0, "x", 0, "y"), ["zadd:z"]),
        (("ZREMRANGEBYLEX", "z", "[x", "[x"), ["zremrangebylex:z"]),
        (("ZPOPMIN", "z"), ["zpopmin:z", "del:z"]),
        (("ZADD", "z", 1, "a", 2, "b"), ["zadd:z"]),
        (("ZPOPMAX", "z", 5), ["zpopmax:z", "del:z"]),
        (("ZADD", "z", 1, "a", 2, "b"), ["zadd:z"]),
        (("ZUNIONSTORE", "u", 1, "z"), ["zunionstore:u"]),
        (("ZINTERSTORE", "i", 1, "z"), ["zinterstore:i"]),
        (("ZDIFFSTORE", "d", 1, "z"), ["zdiffstore:d"]),
        (("ZRANGESTORE", "rs", "z", 0, -1), ["zrangestore:rs"]),
        (("ZINTERSTORE", "i", 2, "z", "nokey"), ["del:i"]),
        (("ZDIFFSTORE", "d", 2, "z", "z"), ["del:d"]),
        (("ZRANGESTORE", "rs", "z", 5, 6), ["del:rs"]),
        (("ZUNIONSTORE", "nothing", 1, "nokey"), []),
        (("ZMPOP", 1, "z", "MIN", "COUNT", 10), ["zpopmin:z", "del:z"]),
        (("ZADD", "z", 1, "a"), ["zadd:z"]),
        (("BZPOPMAX", "z", 0), ["zpopmax:z", "del:z"]),
        (("ZADD", "z", 1, "a", 2, "b"), ["zadd:z"]),
        (("BZMPOP", 0, 1, "z", "MAX", "COUNT", 1), ["zpopmax:z"]),
        (("ZADD", "z", "GT", 0, "a"), []),
        (("ZREMRANGEBYSCORE", "z", 100, 200), []),
    ]
    for command, expected in cases:
        cmd(r, *command)
        assert ev.collect(r) == expected, command


# ---- transactions, WATCH, persistence ----


def test_watch_sees_zset_writes(server, r):
    cmd(r, "ZADD", "z", 1, "a")
    p = r.pipeline(transaction=True)
    p.watch("z")
    other = server.client()
    other.zincrby("z", 1, "a")
    p.multi()
    p.zadd("z", {"b": 2})
    with pytest.raises(redis.WatchError):
        p.execute()


def test_zsets_survive_a_restart(fresh_server, is_runnel):
    if not is_runnel:
        pytest.skip("uses runnel's own persistence settings")
    srv = fresh_server("--appendonly", "yes")
    c = srv.client()
    c.config_set("zset-max-listpack-entries", 16)
    cmd(c, "ZADD", "small", 1, "a", "-inf", "b", "0.1", "c", "1e-300", "d")
    cmd(c, "ZADD", "big", *[x for i in range(100) for x in (i / 7, "m%d" % i)])
    cmd(c, "ZADD", "negzero", "-0", "x")
    cmd(c, "ZPOPMIN", "big", 5)
    before = {k: cmd(c, "ZRANGE", k, 0, -1, "WITHSCORES") for k in ("small", "big", "negzero")}
    c.execute_command("BGREWRITEAOF")
    deadline = time.time() + 20
    while time.time() < deadline:
        info = c.info("persistence")
        if info["aof_rewrites"] >= 1 and not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            break
        time.sleep(0.05)
    assert c.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    cmd(c, "ZADD", "big", 1000, "after-rewrite")
    before["big"] = cmd(c, "ZRANGE", "big", 0, -1, "WITHSCORES")
    srv.proc.terminate()
    srv.proc.wait(10)
    again = fresh_server("--appendonly", "yes", "--dir", srv.dir)
    c2 = again.client()
    for k, v in before.items():
        assert cmd(c2, "ZRANGE", k, 0, -1, "WITHSCORES") == v


def test_binary_and_empty_members(r, thresholds):
    for entries in (128, 0):
        r.config_set("zset-max-listpack-entries", entries)
        key = "bin%d" % entries
        cmd(r, "ZADD", key, 1, b"a\x00b", 1, b"a", 1, b"", 1, b"\xff\x00", 1, b"a\x00")
        assert cmd(r, "ZRANGE", key, 0, -1) == [b"", b"a", b"a\x00", b"a\x00b", b"\xff\x00"]
        assert r.zscore(key, b"a\x00b") == 1.0 and r.zscore(key, b"a\x00\x00") is None
        assert cmd(r, "ZRANGEBYLEX", key, "(a", "[a\x00b") == [b"a\x00", b"a\x00b"]
        assert cmd(r, "ZRANK", key, b"a\x00") == 2
        assert r.zrem(key, b"") == 1


def test_long_members_in_a_packed_set(r, thresholds):
    r.config_set("zset-max-listpack-value", 1000)
    long_a, long_b = b"a" * 500, b"b" * 900
    cmd(r, "ZADD", "z", 1, long_a, 2, long_b, 3, "short")
    assert r.object("encoding", "z") == b"listpack"
    cmd(r, "ZADD", "z", 10, long_a)  # moves a long member inside the packed buffer
    assert cmd(r, "ZRANGE", "z", 0, -1) == [long_b, b"short", long_a]
    r.config_set("zset-max-listpack-value", 64)
    assert cmd(r, "ZRANGESTORE", "copy", "z", 0, 1) == 2  # a long member converts the new set
    assert r.object("encoding", "copy") == b"skiplist"
    assert cmd(r, "ZRANGE", "copy", 0, -1) == [long_b, b"short"]


def test_waiter_on_several_keys_takes_the_ready_one(server, r):
    other = server.client()
    t, result = in_thread(lambda: other.bzpopmax(["k1", "k2", "k3"], timeout=5))
    wait_blocked(r, 1)
    cmd(r, "ZADD", "k2", 1, "x", 2, "y")
    t.join(5)
    assert result["v"] == (b"k2", b"y", 2.0)
    assert cmd(r, "ZRANGE", "k2", 0, -1) == [b"x"]


def test_client_unblock_a_zset_waiter(server, r):
    other = server.client()
    cid = other.client_id()
    t, result = in_thread(lambda: other.bzpopmin(["never"], timeout=0))
    wait_blocked(r, 1)
    assert r.client_unblock(cid) is True
    t.join(5)
    assert result["v"] is None


def test_served_waiter_pop_reaches_the_aof(fresh_server, is_runnel):
    if not is_runnel:
        pytest.skip("reads runnel's AOF layout")
    srv = fresh_server("--appendonly", "yes")
    c, other = srv.client(), srv.client()
    t, result = in_thread(lambda: other.bzpopmin(["q"], timeout=5))
    wait_blocked(c, 1)
    cmd(c, "ZADD", "q", 1, "a", 2, "b")
    t.join(5)
    assert result["v"] == (b"q", b"a", 1.0)
    srv.proc.terminate()
    srv.proc.wait(10)
    again = fresh_server("--appendonly", "yes", "--dir", srv.dir)
    assert cmd(again.client(), "ZRANGE", "q", 0, -1, "WITHSCORES") == [b"b", b"2"]


def test_plain_sets_are_inputs_scored_one(r):
    cmd(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    r.sadd("s", "b", "c", "x")
    r.sadd("ints", 1, 2, 3)
    assert cmd(r, "ZUNION", 2, "z", "s", "WITHSCORES") == [b"a", b"1", b"x", b"1", b"b", b"3", b"c", b"4"]
    assert cmd(r, "ZUNION", 2, "z", "s", "WEIGHTS", 2, 3, "WITHSCORES") == [
        b"a", b"2", b"x", b"3", b"b", b"7", b"c", b"9"]
    assert cmd(r, "ZINTER", 2, "s", "z", "WITHSCORES", "AGGREGATE", "MAX") == [b"b", b"2", b"c", b"3"]
    assert cmd(r, "ZDIFF", 2, "s", "z", "WITHSCORES") == [b"x", b"1"]
    assert cmd(r, "ZDIFF", 2, "z", "s") == [b"a"]
    assert cmd(r, "ZINTERCARD", 2, "s", "z") == 2
    assert cmd(r, "ZUNIONSTORE", "out", 2, "s", "ints") == 6
    assert cmd(r, "ZRANGE", "out", 0, -1) == [b"1", b"2", b"3", b"b", b"c", b"x"]
    assert r.type("out") == b"zset"
    r.rpush("l", "a")
    assert err(r, "ZUNION", 2, "z", "l").startswith("WRONGTYPE")
