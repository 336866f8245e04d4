"""SORT and SORT_RO: BY (keys and hash fields, or no sorting), GET (# and
patterns), LIMIT, ASC/DESC, ALPHA, STORE. Fixed cases check Redis 7.0's
replies and errors; random ones send the same commands to a redis-server
beside Runnel (reference_server.py) and compare every reply."""
import pytest

from reference_server import compare, error_of, reference, seeded  # noqa: F401 (fixture)
from test_aof import restart


def test_numeric_and_alpha(r):
    r.rpush("l", 3, 1, 2, 10)
    assert r.sort("l") == [b"1", b"2", b"3", b"10"]
    assert r.sort("l", desc=True) == [b"10", b"3", b"2", b"1"]
    assert r.sort("l", alpha=True) == [b"1", b"10", b"2", b"3"]
    assert r.sort("l", start=1, num=2) == [b"2", b"3"]
    assert r.sort("missing") == []
    r.rpush("words", "b", "a")
    assert error_of(r, "SORT", "words") == "One or more scores can't be converted into double"


def test_by_and_get(r):
    r.rpush("ids", 1, 2, 3)
    r.mset({"w_1": 30, "w_2": 10, "w_3": 20, "name_1": "one", "name_3": "three"})
    r.hset("h_1", "f", "x")
    assert r.sort("ids", by="w_*") == [b"2", b"3", b"1"]
    assert r.sort("ids", by="w_*", get=["#", "name_*", "h_*->f"]) == [
        b"2", None, None, b"3", b"three", None, b"1", b"one", b"x"]
    assert r.sort("ids", by="nosort", desc=True) == [b"3", b"2", b"1"]
    assert r.execute_command("SORT", "ids", "GET", "constant") == [None, None, None]


def test_store(r):
    r.zadd("z", {"a": 3, "b": 1, "c": 2})
    assert r.sort("z", alpha=True, desc=True, store="dst") == 3
    assert r.lrange("dst", 0, -1) == [b"c", b"b", b"a"]
    assert r.sort("z", by="nosort", store="dst") == 3
    assert r.lrange("dst", 0, -1) == [b"b", b"c", b"a"]  # the sorted set's own order
    r.sadd("s", "x", "y")
    assert r.sort("s", by="nosort", get="missing_*", store="dst") == 2
    assert r.lrange("dst", 0, -1) == [b"", b""]
    assert r.sort("empty", store="dst") == 0
    assert not r.exists("dst")


def test_errors_and_sort_ro(r):
    r.set("str", "x")
    r.rpush("l", 1)
    assert error_of(r, "SORT", "str").startswith("WRONGTYPE")
    assert error_of(r, "SORT", "l", "LIMIT", 0) == "syntax error"
    assert error_of(r, "SORT", "l", "LIMIT", "a", 1) == "value is not an integer or out of range"
    assert error_of(r, "SORT", "l", "BOGUS") == "syntax error"
    assert error_of(r, "SORT_RO", "l", "STORE", "d") == "syntax error"
    assert r.execute_command("SORT_RO", "l", "DESC") == [b"1"]


def test_keys_of_sort(raw):
    assert raw.call("COMMAND", "GETKEYS", "SORT", "l", "STORE", "a", "LIMIT", 0, 1, "STORE", "b") == [b"l", b"b"]
    assert raw.call("COMMAND", "GETKEYS", "SORT", "l", "GET", "STORE", "BY", "x") == [b"l"]


def test_null_get_in_resp3(raw3):
    raw3.call("DEL", "l")
    raw3.call("RPUSH", "l", "1")
    assert raw3.call("SORT", "l", "GET", "nothing_*") == [None]


def test_store_replays_from_the_aof(fresh_server):
    srv = fresh_server("--appendonly", "yes")
    r = srv.client()
    r.sadd("s", *[f"m{i}" for i in range(50)])
    for i in range(50):
        r.set(f"w_m{i}", i % 7)
    r.sort("s", by="w_*", alpha=True, store="d1")
    r.sort("s", by="nosort", start=5, num=10, store="d2")
    r.sort("s", by="w_*", desc=True, get=["#", "w_*"], store="d3")
    values = {k: r.lrange(k, 0, -1) for k in ("d1", "d2", "d3")}
    srv = restart(srv)
    r = srv.client()
    assert {k: r.lrange(k, 0, -1) for k in ("d1", "d2", "d3")} == values
    srv.stop()


def random_sort_command(rng):
    src = rng.choice(["list", "nums", "zset", "set", "missing"])
    args = [rng.choice(["SORT", "SORT", "SORT_RO"]), src]
    by_pattern = None
    if rng.random() < 0.5:
        by_pattern = rng.choice(["w_*", "h_*->f", "nosort", "w_*->x", "*"])
        args += ["BY", by_pattern]
    for _ in range(rng.randrange(3)):
        args += ["GET", rng.choice(["#", "w_*", "h_*->f", "h_*->", "plain", "*"])]
    if rng.random() < 0.4:
        args += ["LIMIT", rng.randrange(-2, 12), rng.randrange(-2, 12)]
    if rng.random() < 0.5:
        args.append(rng.choice(["ASC", "DESC"]))
    if rng.random() < 0.5:
        args.append("ALPHA")
        # Ties under ALPHA BY (missing or equal values) come out in an
        # order Redis leaves undefined (its partial sort for LIMIT is not
        # stable): sort by values every element has, all different.
        if by_pattern not in (None, "nosort"):
            args[args.index("BY") + 1] = rng.choice(["u_*", "hu_*->f"])
    if args[0] == "SORT" and rng.random() < 0.3:
        args += ["STORE", "dest"]
    return args


def fill(client, rng):
    client.flushall()
    nums = [rng.randrange(-50, 50) for _ in range(15)]
    client.rpush("list", *[rng.choice(["a", "b", "c", "10", "9", "x y"]) + str(i) for i in range(12)])
    client.rpush("nums", *nums, "1.5", "-0.25", "1e3")
    client.zadd("zset", {f"z{i}": rng.randrange(5) for i in range(10)})
    client.sadd("set", *[str(rng.randrange(100)) for _ in range(12)])
    for k in ("list", "nums", "set"):
        for m in client.sort(k, alpha=True) if client.exists(k) else []:
            client.set(b"u_" + m, f"{rng.random():.12f}")
            client.hset(b"hu_" + m, "f", f"{rng.random():.12f}")
    for m in client.zrange("zset", 0, -1):
        client.set(b"u_" + m, f"{rng.random():.12f}")
        client.hset(b"hu_" + m, "f", f"{rng.random():.12f}")
    for v in ["a", "b", "c", "10", "9", "x y"]:
        for i in range(12):
            if rng.random() < 0.7:
                client.set(f"w_{v}{i}", rng.randrange(1000) * 1000 + i)
    for i in list(range(-50, 100)) + [f"z{i}" for i in range(10)]:
        if rng.random() < 0.5:
            client.set(f"w_{i}", rng.randrange(10 ** 6) * 100 + (hash(str(i)) % 100))
        if rng.random() < 0.3:
            client.hset(f"h_{i}", "f", f"v{rng.randrange(10 ** 6)}")


@pytest.mark.parametrize("seed", range(5))
def test_random_commands_match_redis(r, reference, seed):
    ref = reference.client()
    fill(r, seeded(seed))
    fill(ref, seeded(seed))
    rng = seeded(100 + seed)
    commands = []
    for _ in range(300):
        commands.append(random_sort_command(rng))
        if "STORE" in commands[-1]:
            commands.append(["LRANGE", "dest", 0, -1])
    compare(r, ref, commands)
