"""Native value encodings in snapshots (format version 2) and in the AOF base:
every type in every encoding — compressed list nodes, small and big hashes,
sets and sorted sets, streams with deleted entries, consumer groups, PELs
and consumers — comes back identical (values, OBJECT ENCODING, XINFO STREAM
FULL, TTLs) through DEBUG RELOAD, SAVE + restart and BGREWRITEAOF + restart;
a damaged value is refused with the file and the offset even when its
checksum is right; version 1 files still load; random damage never crashes
the server."""
import os
import random
import struct
import subprocess
import time

import pytest
import redis

from conftest import SERVER, free_port
from test_snapshot import start_expect_failure, workdir  # noqa: F401 (fixture)

NODE = ("--stream-node-max-entries", "10", "--list-max-listpack-size", "8", "--list-compress-depth", "1")


def populate(r):
    """One key per encoding, and the edge cases of each."""
    r.set("int", 12345)
    r.set("neg", -7)
    r.set("embstr", "short text")
    r.set("raw-long", "y" * 300)
    r.set("empty", "")
    r.set(b"bin\x00key", b"\x00\xff\r\n" * 20)
    r.append("raw-short", "ab")  # APPEND makes a raw string even when short
    r.append("raw-short", "cd")
    r.set("ttl", "v", px=50_000_000)
    r.rpush("list-small", "a", 1, "b", -2)
    r.rpush("list-big", *["element-%d" % (i % 37) for i in range(3000)])  # many nodes, middle ones compressed
    r.rpush("list-ints", *range(-600, 600, 7))
    r.lpush("list-ttl", "x")
    r.pexpire("list-ttl", 40_000_000)
    r.hset("hash-small", mapping={"f1": "v1", "f2": 2, "f3": ""})
    r.hset("hash-big", mapping={"field:%d" % i: "value:%d" % i for i in range(500)})
    r.hset("hash-long-value", "f", "z" * 100)
    r.hset("hash-shrunk", mapping={"f%d" % i: i for i in range(200)})
    r.hdel("hash-shrunk", *["f%d" % i for i in range(195)])  # stays a hashtable
    r.sadd("set-ints", *range(100))
    r.sadd("set-neg-ints", -70000, 3, 2**40)
    r.sadd("set-small", "a", "b", "c", 1)
    r.sadd("set-big", *["m%d" % i for i in range(400)])
    r.zadd("zset-small", {"a": 1, "b": 2.5, "c": -3, "inf": float("inf"), "ninf": float("-inf"), "ts": 1700000000000})
    r.zadd("zset-big", {"m%d" % i: i * 0.5 for i in range(300)})
    r.zadd("zset-long-member", {"q" * 100: 1})
    for i in range(95):
        r.xadd("stream", {"n": i, "payload": "p%d" % i})
    r.xadd("stream", {"other": "fields", "here": "x"})
    r.xdel("stream", r.xrange("stream", count=3)[1][0])
    r.xgroup_create("stream", "g1", id="0")
    r.xgroup_create("stream", "g2", id="$")
    r.xreadgroup("g1", "alice", {"stream": ">"}, count=12)
    r.xreadgroup("g1", "bob", {"stream": ">"}, count=5)
    r.xack("stream", "g1", r.xrange("stream", count=1)[0][0])
    r.xclaim("stream", "g1", "carol", 0, [r.xpending_range("stream", "g1", "-", "+", 3)[2]["message_id"]])
    r.execute_command("XGROUP", "CREATECONSUMER", "stream", "g2", "idle")
    r.xadd("empty-stream", {"a": "b"}, id="5-1")
    r.xdel("empty-stream", "5-1")
    r.xgroup_create("empty-stream", "g", id="$")
    r.xadd("trimmed", {"f": "v"}, id="1-1")
    for i in range(2, 60):
        r.xadd("trimmed", {"f": "v%d" % i}, id="%d-1" % i)
    r.xtrim("trimmed", maxlen=25)
    r2 = r.connection_pool.connection_kwargs
    other = redis.Redis(host=r2["host"], port=r2["port"], db=3)
    other.set("db3", "three")
    other.zadd("db3-z", {"x": 1})
    other.close()


def dump(srv):
    """Everything observable about every key, clocks excepted only where
    they keep moving (TTLs are compared to within a few seconds)."""
    raw = srv.raw()
    out = {}
    try:
        for db in (0, 3):
            raw.call("SELECT", db)
            for key in raw.call("KEYS", "*"):
                kind = raw.call("TYPE", key)
                enc = raw.call("OBJECT", "ENCODING", key)
                if kind == "string":
                    value = raw.call("GET", key)
                elif kind == "list":
                    value = raw.call("LRANGE", key, 0, -1)
                elif kind == "hash":
                    value = sorted(zip(*[iter(raw.call("HGETALL", key))] * 2))
                elif kind == "set":
                    value = sorted(raw.call("SMEMBERS", key))
                elif kind == "zset":
                    value = raw.call("ZRANGE", key, 0, -1, "WITHSCORES")
                else:
                    value = (raw.call("XINFO", "STREAM", key, "FULL"), raw.call("XRANGE", key, "-", "+"))
                out[(db, key)] = (kind, enc, value, raw.call("PTTL", key))
    finally:
        raw.close()
    return out


def assert_same(before, after):
    assert sorted(before) == sorted(after)
    for k in before:
        kind, enc, value, ttl = before[k]
        kind2, enc2, value2, ttl2 = after[k]
        assert (kind, enc) == (kind2, enc2), k
        assert value == value2, k
        assert (ttl < 0) == (ttl2 < 0) and abs(ttl - ttl2) < 5000, k


def check_encodings(d):
    enc = {k[1]: v[1] for k, v in d.items()}
    assert enc[b"int"] == b"int" and enc[b"embstr"] == b"embstr" and enc[b"raw-short"] == b"raw"
    assert enc[b"list-small"] == b"listpack" and enc[b"list-big"] == b"quicklist"
    assert enc[b"hash-small"] == b"listpack" and enc[b"hash-big"] == b"hashtable"
    assert enc[b"hash-shrunk"] == b"hashtable"
    assert enc[b"set-ints"] == b"intset" and enc[b"set-small"] == b"listpack" and enc[b"set-big"] == b"hashtable"
    assert enc[b"zset-small"] == b"listpack" and enc[b"zset-big"] == b"skiplist"


def test_every_encoding_survives_debug_reload_save_and_restart(workdir):  # noqa: F811
    d, start = workdir
    srv = start(*NODE)
    r = srv.client()
    populate(r)
    before = dump(srv)
    check_encodings(before)
    assert r.execute_command("DEBUG", "RELOAD") in (True, b"OK")
    assert_same(before, dump(srv))
    assert r.save()
    with open(os.path.join(d, "dump.rdb"), "rb") as f:
        assert f.read(10) == b"RUNNEL0003"
    srv.stop()
    srv = start(*NODE)
    assert_same(before, dump(srv))
    # the loaded values keep working: appends to the copied stream block,
    # pushes into the middle of the compressed list, group reads
    c = srv.client()
    c.xadd("stream", {"after": "reload"})
    assert c.xreadgroup("g2", "idle", {"stream": ">"})[0][1][0][1] == {b"after": b"reload"}
    c.linsert("list-big", "BEFORE", "element-5", "inserted")
    assert c.llen("list-big") == 3001
    c.hset("hash-small", "f4", "v4")
    c.sadd("set-ints", 1000)
    c.zadd("zset-small", {"new": 0})
    assert c.zrank("zset-small", "new") == 2


def test_every_encoding_survives_bgrewriteaof_and_restart(workdir):  # noqa: F811
    d, start = workdir
    srv = start("--appendonly", "yes", *NODE)
    r = srv.client()
    populate(r)
    r.bgrewriteaof()
    deadline = time.time() + 20
    while time.time() < deadline and not [f for f in os.listdir(os.path.join(d, "appendonlydir"))
                                          if f.endswith(".base.rdb")]:
        time.sleep(0.05)
    while r.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.05)
    r.set("after-rewrite", "in the incr file")
    r.xadd("stream", {"after": "rewrite"})
    before = dump(srv)
    srv.stop()
    srv = start("--appendonly", "yes", *NODE)
    assert_same(before, dump(srv))
    assert "snapshot" in srv.output()


# ---- damage ----

def crc64_jones(data):
    table = []
    for b in range(256):
        crc = b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
        table.append(crc)
    crc = 0
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def with_good_checksum(data):
    """The file with its trailer recomputed: only the loader's own checks
    stand between the damage and the dataset."""
    body = bytes(data[:-8])
    return body + struct.pack("<Q", crc64_jones(body))


def saved(start, setup):
    srv = start()
    setup(srv.client())
    srv.client().save()
    srv.stop()
    return open(os.path.join(srv.dir, "dump.rdb"), "rb").read()


@pytest.mark.parametrize("case", ["stream-block", "list-node", "hash-repeat", "zset-order", "intset-order"])
def test_damaged_value_with_a_good_checksum_is_refused_with_offset(workdir, case):  # noqa: F811
    d, start = workdir

    def setup(r):
        if case == "stream-block":
            r.xadd("s", {"field": "payload-%d" % 1})
            r.xadd("s", {"field": "PAYLOAD"})
        elif case == "list-node":
            r.rpush("l", "first-element", "LISTELEMENT", "third")
        elif case == "hash-repeat":
            r.hset("h", mapping={"fa": "1", "fb": "2"})
        elif case == "zset-order":
            r.zadd("z", {"amember": 1, "bmember": 2})
        else:
            r.sadd("i", 1, 2, 3)

    data = bytearray(saved(start, setup))
    if case == "stream-block":
        at = data.index(b"PAYLOAD")
        data[at - 1] = 0x7F  # the value's length now runs past the block
        expect = "corrupt stream block"
    elif case == "list-node":
        at = data.index(b"LISTELEMENT")
        data[at - 1] ^= 0x03  # the entry's length header
        expect = "corrupt packed node"
    elif case == "hash-repeat":
        at = data.index(b"fb")
        data[at + 1] = ord("a")  # two fields named "fa"
        expect = "repeated members"
    elif case == "zset-order":
        at = data.index(b"bmember")
        data[at + 7] = 0  # its score 2 (zigzag varint 4) becomes 0: out of order
        expect = "corrupt sorted set listpack"
    else:
        at = data.index(bytes([1, 0, 2, 0, 3, 0]))
        data[at + 2] = 1  # 1, 1, 3: not strictly ascending
        expect = "corrupt intset"
    open(os.path.join(d, "dump.rdb"), "wb").write(with_good_checksum(data))
    code, out = start_expect_failure(d)
    assert code != 0
    assert "dump.rdb" in out and expect in out and "(offset " in out, out


def exercise(port):
    """Reads and changes every key the damaged file gave, the way clients
    would: whatever loaded must hold up in use."""
    c = redis.Redis(port=port, socket_timeout=10)
    for db in (0, 3):
        c.execute_command("SELECT", db)
        for key in c.keys("*"):
            kind = c.type(key)
            if kind == b"list":
                c.lrange(key, 0, -1)
                c.lrange(key, -5, -1)
                c.linsert(key, "BEFORE", "element-5", "x")
                c.rpush(key, *range(300))
                c.lpop(key, 10)
            elif kind == b"hash":
                c.hgetall(key)
                c.hset(key, mapping={"new%d" % i: "v" * i for i in range(200)})
            elif kind == b"set":
                c.smembers(key)
                c.sadd(key, *["new%d" % i for i in range(600)])
            elif kind == b"zset":
                c.zrange(key, 0, -1, withscores=True)
                c.zrevrange(key, 0, 3)
                c.zadd(key, {"new%d" % i: i for i in range(200)})
            elif kind == b"stream":
                c.execute_command("XINFO", "STREAM", key, "FULL")
                c.xrange(key)
                c.xrevrange(key)
                c.xadd(key, {"f": "v"})
                for g in c.xinfo_groups(key):
                    c.xreadgroup(g["name"], "fuzzer", {key: ">"})
                    c.xautoclaim(key, g["name"], "fuzzer", 0)
                c.xtrim(key, maxlen=3)
            else:
                c.get(key)
    c.execute_command("DEBUG", "RELOAD")
    c.ping()
    c.close()


def test_random_damage_never_crashes_the_loader_or_later_commands(workdir):  # noqa: F811
    d, start = workdir
    srv = start(*NODE)
    populate(srv.client())
    srv.client().save()
    srv.stop()
    good = open(os.path.join(d, "dump.rdb"), "rb").read()
    rng = random.Random(7)
    outcomes = set()
    for _ in range(40):
        data = bytearray(good)
        for _ in range(rng.choice((1, 1, 2, 8))):
            data[rng.randrange(10, len(data) - 9)] = rng.randrange(256)
        open(os.path.join(d, "dump.rdb"), "wb").write(with_good_checksum(data))
        port = free_port()
        proc = subprocess.Popen([SERVER, "--port", str(port), "--dir", d, "--save", "", *NODE],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        loaded = wait_started(proc, port)
        if loaded:
            try:
                exercise(port)
            except redis.ResponseError:
                pass  # damaged values may answer WRONGTYPE and the like; the server must stay up
            assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")
            proc.terminate()
        out = proc.communicate(timeout=20)[0].decode(errors="replace")
        assert "AddressSanitizer" not in out and "runtime error" not in out, out
        assert loaded or (proc.returncode == 1 and "Can't load the snapshot" in out), (proc.returncode, out)
        outcomes.add(loaded)
    assert outcomes == {True, False}  # some damage is caught, some lands in bytes any value may hold


def wait_started(proc, port):
    """True once the server has loaded the file and answers; False when it
    exits first. It listens while it loads, so accepting a connection is not
    enough: a file refused by the loader closes it a moment later."""
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            redis.Redis(port=port, socket_timeout=2).ping()
            return True
        except redis.ConnectionError:  # refused, reset, or LOADING
            time.sleep(0.02)
    proc.kill()
    raise AssertionError("the server neither started nor exited")


# ---- version 1 files ----

def v1_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def v1_string(b):
    return v1_varint(len(b)) + b


def v1_key(type_code, key, commands, expire=None):
    rec = bytes([0x02 if expire else 0x01, type_code])
    if expire:
        rec += struct.pack("<Q", expire)
    rec += v1_string(key)
    for cmd in commands:
        rec += v1_varint(len(cmd))
        for arg in cmd:
            rec += b"\x00" if arg == key else v1_varint(len(arg) + 1) + arg
    return rec + b"\x00"


def test_version_1_files_still_load(workdir):  # noqa: F811
    d, start = workdir
    expire = int(time.time() * 1000) + 3_600_000
    body = b"RUNNEL0001" + b"\xfa" + v1_string(b"runnel-ver") + v1_string(b"0.1")
    body += b"\xfe" + v1_varint(0)
    body += v1_key(0, b"s", [[b"SET", b"s", b"hello"]], expire=expire)
    body += v1_key(1, b"l", [[b"RPUSH", b"l", b"a", b"l", b"c"]])
    body += v1_key(4, b"h", [[b"HSET", b"h", b"f", b"v"]])
    body += v1_key(6, b"x", [[b"XADD", b"x", b"1-1", b"f", b"v"], [b"XGROUP", b"CREATE", b"x", b"g", b"0"]])
    body += b"\xfe" + v1_varint(2) + v1_key(2, b"set", [[b"SADD", b"set", b"m"]])
    body += b"\xff"
    open(os.path.join(d, "dump.rdb"), "wb").write(body + struct.pack("<Q", crc64_jones(body)))
    srv = start()
    c = srv.client()
    assert c.get("s") == b"hello" and 3_500_000 < c.pttl("s") <= 3_600_000
    assert c.lrange("l", 0, -1) == [b"a", b"l", b"c"]
    assert c.hgetall("h") == {b"f": b"v"}
    assert c.xinfo_groups("x")[0]["name"] == b"g"
    assert srv.client(db=2).smembers("set") == {b"m"}
    # the next save writes version 2
    c.save()
    assert open(os.path.join(d, "dump.rdb"), "rb").read(10) == b"RUNNEL0003"
