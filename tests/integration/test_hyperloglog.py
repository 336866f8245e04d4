"""HyperLogLog: PFADD PFCOUNT PFMERGE PFDEBUG.

Values are strings in Redis's layout, so the random cases compare not only
every estimate with a redis-server beside Runnel (reference_server.py) but
the values' bytes too, sparse and dense."""
import pytest

from reference_server import compare, error_of, reference, seeded  # noqa: F401 (fixture)
from test_aof import restart

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."


def test_pfadd_pfcount(r):
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a") == 0
    assert r.pfcount("h") == 3
    assert r.pfadd("empty") == 1
    assert r.pfadd("empty") == 0
    assert r.pfcount("empty") == 0
    assert r.pfcount("missing") == 0
    assert r.get("empty")[:5] == b"HYLL\x01"
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"


def test_estimate_within_error_and_turns_dense(r):
    for start in range(0, 20000, 1000):
        r.pfadd("big", *[f"e{i}" for i in range(start, start + 1000)])
    assert abs(r.pfcount("big") - 20000) < 20000 * 0.03
    assert r.execute_command("PFDEBUG", "ENCODING", "big") == b"dense"
    assert r.strlen("big") == 12304


def test_pfcount_of_many_keys_is_the_union(r):
    r.pfadd("x", "a", "b", "c")
    r.pfadd("y", "c", "d")
    assert r.pfcount("x", "y", "missing") == 4
    assert r.pfmerge("z", "x", "y") is True
    assert r.pfcount("z") == 4
    assert r.pfmerge("z") is True  # a merge of itself alone changes nothing
    assert r.pfcount("z") == 4


def test_wrong_values(r):
    r.set("s", "hello world, not a HyperLogLog")
    r.set("n", 12345)
    r.lpush("l", 1)
    for key in ("s", "n"):
        assert error_of(r, "PFADD", key, "a") == NOT_HLL
        assert error_of(r, "PFCOUNT", key) == NOT_HLL
        assert error_of(r, "PFCOUNT", "missing", key) == NOT_HLL
        assert error_of(r, "PFMERGE", "dest", key) == NOT_HLL
    assert error_of(r, "PFADD", "l", "a").startswith("WRONGTYPE Operation against")
    assert error_of(r, "PFMERGE", "l", "missing").startswith("WRONGTYPE Operation against")
    r.set("d", b"HYLL\x00" + b"\x00" * 20)  # dense but short
    assert error_of(r, "PFCOUNT", "d") == NOT_HLL
    r.set("c", b"HYLL\x01\x00\x00\x00" + b"\x00\x00\x00\x00\x00\x00\x00\x80" + b"\x7f")  # opcodes too short
    assert error_of(r, "PFCOUNT", "c") == "INVALIDOBJ Corrupted HLL object detected"
    assert error_of(r, "PFADD", "c", "x") == "INVALIDOBJ Corrupted HLL object detected"
    assert not r.exists("dest")


def test_pfdebug(r):
    r.pfadd("h", "a")
    assert r.execute_command("PFDEBUG", "DECODE", "h").startswith(b"Z:")
    assert error_of(r, "PFDEBUG", "ENCODING", "missing") == "The specified key does not exist"
    assert error_of(r, "PFDEBUG", "NOPE", "h") == "Unknown PFDEBUG subcommand 'NOPE'"
    assert error_of(r, "PFDEBUG", "ENCODING", "h", "x") == "Wrong number of arguments for the 'ENCODING' subcommand"
    regs = r.execute_command("PFDEBUG", "GETREG", "h")
    assert len(regs) == 16384 and sum(1 for v in regs if v) == 1
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 0
    assert error_of(r, "PFDEBUG", "DECODE", "h") == "HLL encoding is not sparse"


def test_sparse_limit_is_configurable(r):
    r.config_set("hll-sparse-max-bytes", 0)
    try:
        r.pfadd("h", "a", "b")
        assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"
    finally:
        r.config_set("hll-sparse-max-bytes", 3000)
    assert r.config_get("hll-sparse-max-bytes") == {"hll-sparse-max-bytes": "3000"}


def test_pfcount_cache_is_logged(fresh_server):
    srv = fresh_server("--appendonly", "yes")
    r = srv.client()
    r.pfadd("h", *range(100))
    r.pfadd("d", *range(5000))
    r.pfmerge("m", "h", "d")
    assert r.pfcount("h") == 100
    assert r.pfcount("m") == r.pfcount("d")
    values = {k: r.get(k) for k in ("h", "d", "m")}
    digest = r.execute_command("DEBUG", "DIGEST")
    srv = restart(srv)
    r = srv.client()
    assert {k: r.get(k) for k in ("h", "d", "m")} == values  # cached estimates included
    assert r.execute_command("DEBUG", "DIGEST") == digest
    r.execute_command("DEBUG", "RELOAD")
    assert r.execute_command("DEBUG", "DIGEST") == digest
    dumped = r.dump("m")
    r.restore("m2", 0, dumped)
    assert r.get("m2") == values["m"]
    srv.stop()


def test_value_made_by_redis_counts_the_same(r, reference):
    ref = reference.client()
    ref.delete("h")
    ref.pfadd("h", *[f"x{i}" for i in range(3000)])
    r.set("h", ref.get("h"))
    assert r.pfcount("h") == ref.pfcount("h")
    assert r.pfadd("h", "new") == ref.pfadd("h", "new")
    assert r.get("h") == ref.get("h")


def random_hll_command(rng, counter):
    key = rng.choice(["a", "b", "c", "d"])
    kind = rng.randrange(10)
    if kind < 5:
        n = rng.choice([0, 1, 3, 10, 50, 400])
        counter[0] += n
        return ["PFADD", key] + [f"{rng.randrange(counter[0] * 2 + 10)}" for _ in range(n)]
    if kind < 7:
        return ["PFCOUNT"] + rng.sample(["a", "b", "c", "d", "z"], rng.randrange(1, 4))
    if kind == 7:
        return ["PFMERGE", key] + rng.sample(["a", "b", "c", "d", "z"], rng.randrange(0, 3))
    if kind == 8:
        return ["GET", key]
    return ["PFDEBUG", rng.choice(["ENCODING", "DECODE"]), key]


@pytest.mark.parametrize("seed", range(5))
def test_random_commands_match_redis(r, reference, seed):
    ref = reference.client()
    ref.flushall()
    rng = seeded(seed)
    counter = [0]
    compare(r, ref, [random_hll_command(rng, counter) for _ in range(400)])
    compare(r, ref, [["GET", k] for k in "abcd"] + [["PFCOUNT", k] for k in "abcd"])
