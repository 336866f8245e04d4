"""Bitmaps: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Fixed cases check replies and errors as redis-server 7.0 gives them; the
random cases send the same commands to a redis-server beside Runnel
(reference_server.py) and compare every reply."""
import pytest

from test_aof import restart
from reference_server import compare, error_of, reference, seeded  # noqa: F401 (fixture)

OFFSET_ERR = "bit offset is not an integer or out of range"


def test_setbit_getbit(r):
    assert r.setbit("k", 7, 1) == 0
    assert r.get("k") == b"\x01"
    assert r.setbit("k", 7, 0) == 1
    assert r.getbit("k", 7) == 0
    assert r.getbit("k", 100) == 0
    assert r.getbit("missing", 0) == 0
    assert r.setbit("k", 17, 1) == 0
    assert r.get("k") == b"\x00\x00\x40"
    assert r.object("encoding", "k") == b"raw"


def test_setbit_errors(r):
    assert error_of(r, "SETBIT", "k", -1, 1) == OFFSET_ERR
    assert error_of(r, "SETBIT", "k", "x", 1) == OFFSET_ERR
    assert error_of(r, "SETBIT", "k", 4294967296, 1) == OFFSET_ERR
    assert error_of(r, "SETBIT", "k", 0, 2) == "bit is not an integer or out of range"
    assert error_of(r, "SETBIT", "k", 0, "a") == "bit is not an integer or out of range"
    assert error_of(r, "GETBIT", "k", -1) == OFFSET_ERR
    r.lpush("l", 1)
    assert error_of(r, "SETBIT", "l", 0, 1).startswith("WRONGTYPE")
    assert error_of(r, "GETBIT", "l", 0).startswith("WRONGTYPE")
    assert not r.exists("k")


def test_setbit_highest_offset(r):
    assert r.setbit("big", 4294967295, 1) == 0
    assert r.strlen("big") == 512 * 1024 * 1024
    assert r.getbit("big", 4294967295) == 1
    assert r.bitcount("big") == 1
    assert r.bitpos("big", 1) == 4294967295
    r.delete("big")


def test_bits_of_an_integer_value(r):
    r.set("n", 12)  # "12" = 0x31 0x32
    assert r.bitcount("n") == 6
    assert r.getbit("n", 2) == 1
    assert r.setbit("n", 6, 1) == 0
    assert r.get("n") == b"32"


def test_bitcount_ranges(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", -2, -1) == 7
    assert r.bitcount("s", 5, 30, "BIT") == 17
    assert r.bitcount("s", -1, -5) == 0
    assert r.bitcount("missing") == 0
    assert error_of(r, "BITCOUNT", "s", 0) == "syntax error"
    assert error_of(r, "BITCOUNT", "s", 0, 1, "NIBBLE") == "syntax error"
    assert error_of(r, "BITCOUNT", "s", "a", 1) == "value is not an integer or out of range"


def test_bitpos(r):
    r.set("s", b"\xff\xf0\x00")
    assert r.bitpos("s", 0) == 12
    r.set("s", b"\x00\xff\xf0")
    assert r.bitpos("s", 1, 0) == 8
    assert r.bitpos("s", 1, 2) == 16
    assert r.bitpos("s", 1, 2, -1, "BYTE") == 16
    assert r.bitpos("s", 1, 7, 15, "BIT") == 8
    r.set("s", b"\xff\xff\xff")
    assert r.bitpos("s", 0) == 24  # clear bits continue past the end
    assert r.bitpos("s", 0, 0) == 24
    assert r.bitpos("s", 0, 0, -1) == -1  # but not past an explicit end
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1
    assert error_of(r, "BITPOS", "s", 2) == "The bit argument must be 1 or 0."


def test_bitop(r):
    r.set("a", b"\x0f\xf0")
    r.set("b", b"\xff")
    assert r.bitop("AND", "d", "a", "b") == 2
    assert r.get("d") == b"\x0f\x00"
    assert r.bitop("OR", "d", "a", "b", "missing") == 2
    assert r.get("d") == b"\xff\xf0"
    assert r.bitop("XOR", "d", "a", "b") == 2
    assert r.get("d") == b"\xf0\xf0"
    assert r.bitop("NOT", "d", "a") == 2
    assert r.get("d") == b"\xf0\x0f"
    assert r.bitop("AND", "d", "missing") == 0
    assert not r.exists("d")
    assert error_of(r, "BITOP", "NOT", "d", "a", "b") == "BITOP NOT must be called with a single source key."
    assert error_of(r, "BITOP", "NAND", "d", "a") == "syntax error"
    r.lpush("l", 1)
    assert error_of(r, "BITOP", "OR", "d", "a", "l").startswith("WRONGTYPE")


def test_bitfield(r):
    assert r.execute_command("BITFIELD", "f", "SET", "u8", 0, 255, "GET", "u8", 0) == [0, 255]
    assert r.execute_command("BITFIELD", "f", "INCRBY", "u8", 0, 10) == [9]
    assert r.execute_command("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "u8", 0, 300) == [255]
    assert r.execute_command("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 1) == [None]
    assert r.execute_command("BITFIELD", "f", "SET", "i8", "#1", -1, "GET", "i8", 8, "GET", "u4", "#3") == [0, -1, 15]
    assert r.execute_command("BITFIELD", "f", "GET", "i64", 1000) == [0]
    assert r.execute_command("BITFIELD", "f") == []
    assert r.execute_command("BITFIELD_RO", "f", "GET", "u8", 0) == [255]
    assert r.execute_command("BITFIELD_RO", "missing", "GET", "u8", 0) == [0]
    assert not r.exists("missing")


def test_bitfield_errors(r):
    bad_type = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
    assert error_of(r, "BITFIELD", "f", "GET", "u64", 0) == bad_type
    assert error_of(r, "BITFIELD", "f", "GET", "i65", 0) == bad_type
    assert error_of(r, "BITFIELD", "f", "GET", "x8", 0) == bad_type
    assert error_of(r, "BITFIELD", "f", "GET", "u8", -1) == OFFSET_ERR
    assert error_of(r, "BITFIELD", "f", "OVERFLOW", "MAYBE") == "Invalid OVERFLOW type specified"
    assert error_of(r, "BITFIELD", "f", "GET", "u8") == "syntax error"
    assert error_of(r, "BITFIELD", "f", "SET", "u8", 0, "x") == "value is not an integer or out of range"
    assert error_of(r, "BITFIELD_RO", "f", "SET", "u8", 0, 1) == "BITFIELD_RO only supports the GET subcommand"
    assert not r.exists("f")


def test_bitfield_fail_is_null_in_resp3(raw3):
    raw3.call("DEL", "f")
    assert raw3.call("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i4", 0, 8, "GET", "u4", 0) == [None, 0]


def test_sidekiq_style_metrics(r):
    """Sidekiq 7 counts job timings in u16 fields addressed with #."""
    for i in range(50):
        r.execute_command("BITFIELD", "hist", "OVERFLOW", "SAT", "INCRBY", "u16", f"#{i % 10}", 1)
    assert r.execute_command("BITFIELD_RO", "hist", *sum((["GET", "u16", f"#{i}"] for i in range(10)), [])) == [5] * 10


def test_writes_replay_from_the_aof(fresh_server):
    srv = fresh_server("--appendonly", "yes")
    r = srv.client()
    r.setbit("b", 100, 1)
    r.setbit("b", 100, 1)  # no change
    r.execute_command("BITFIELD", "b", "OVERFLOW", "WRAP", "INCRBY", "i5", 3, 100, "SET", "u9", "#20", 511)
    r.set("x", "abc")
    r.bitop("XOR", "c", "b", "x")
    r.execute_command("BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u2", 7, 9)
    before = r.execute_command("DEBUG", "DIGEST")
    values = {k: r.get(k) for k in ("b", "c", "n")}
    assert values["n"] == b"\x00\x00"  # created by a FAIL that wrote nothing
    srv = restart(srv)
    r = srv.client()
    assert r.execute_command("DEBUG", "DIGEST") == before
    assert {k: r.get(k) for k in ("b", "c", "n")} == values
    r.execute_command("DEBUG", "RELOAD")
    assert r.execute_command("DEBUG", "DIGEST") == before
    srv.stop()


def random_offset(rng):
    return rng.choice([rng.randrange(0, 64), rng.randrange(0, 400), "#" + str(rng.randrange(0, 20)), -1, "x"])


def random_bitmap_command(rng):
    key = rng.choice(["a", "b", "c", "n"])
    kind = rng.randrange(11)
    if kind == 0:
        return ["SETBIT", key, rng.randrange(-1, 300), rng.choice([0, 1, 1, 2])]
    if kind == 1:
        return ["GETBIT", key, rng.randrange(0, 320)]
    if kind == 2:
        args = ["BITCOUNT", key]
        if rng.random() < 0.8:
            args += [rng.randrange(-50, 50), rng.randrange(-50, 50)]
            if rng.random() < 0.6:
                args.append(rng.choice(["BIT", "BYTE", "bit"]))
        return args
    if kind == 3:
        args = ["BITPOS", key, rng.choice([0, 1])]
        for _ in range(rng.randrange(4)):
            args.append(rng.randrange(-60, 60))
        if len(args) == 5 and rng.random() < 0.7:
            args.append(rng.choice(["BIT", "BYTE"]))
        return args
    if kind == 4:
        op = rng.choice(["AND", "OR", "XOR", "NOT"])
        n = 1 if op == "NOT" else rng.randrange(1, 4)
        return ["BITOP", op, rng.choice(["a", "b", "c", "d"])] + [rng.choice(["a", "b", "c", "d", "n"]) for _ in range(n)]
    if kind == 5:
        return ["SET", key, rng.choice(["foobar", "12345", "-7", "", "\xff\x00\x81"])]
    if kind == 6:
        return ["GET", key]
    return random_bitfield(rng, key)


def random_bitfield(rng, key):
    args = ["BITFIELD_RO" if rng.random() < 0.1 else "BITFIELD", key]
    for _ in range(rng.randrange(1, 5)):
        op = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
        if op == "OVERFLOW":
            args += [op, rng.choice(["WRAP", "SAT", "FAIL"])]
            continue
        signed = rng.random() < 0.5
        width = rng.choice([1, 2, 3, 5, 8, 13, 16, 31, 32, 33, 63] + ([64] if signed else []))
        args += [op, ("i" if signed else "u") + str(width), random_offset(rng)]
        if op != "GET":
            bound = 1 << rng.choice([2, 8, 16, 40, 63])
            args.append(rng.choice([rng.randrange(-bound, bound), bound - 1, -bound, 0]))
    return args


@pytest.mark.parametrize("seed", range(6))
def test_random_commands_match_redis(r, reference, seed):
    ref = reference.client()
    ref.flushall()
    rng = seeded(seed)
    compare(r, ref, [random_bitmap_command(rng) for _ in range(1500)])
    compare(r, ref, [["GET", k] for k in "abcdn"])


def test_notifications_only_for_changes(r, server):
    r.config_set("notify-keyspace-events", "KA")
    sub = server.client().pubsub()
    sub.psubscribe("__keyspace@0__:*")
    sub.get_message(timeout=1)
    r.setbit("q", 3, 1)
    r.setbit("q", 3, 1)  # unchanged: no event
    r.execute_command("BITFIELD", "q", "OVERFLOW", "FAIL", "INCRBY", "u2", 100, 9)  # grows, writes nothing
    r.execute_command("BITFIELD", "q", "SET", "u8", 0, 0)
    r.bitop("NOT", "q2", "q")
    events = []
    while (m := sub.get_message(timeout=0.3)) is not None:
        events.append((m["channel"], m["data"]))
    r.config_set("notify-keyspace-events", "")
    assert events == [(b"__keyspace@0__:q", b"setbit"), (b"__keyspace@0__:q", b"setbit"),
                      (b"__keyspace@0__:q2", b"set")]
