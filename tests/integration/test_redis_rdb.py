"""Moving between Redis and Runnel: RDB files written by redis-server 7.0.15
loaded by Runnel and compared value by value with the source (every type,
small and large encodings, expiry, streams with groups and pending entries,
functions, several databases); DUMP payloads of redis-server RESTOREd by
Runnel and MIGRATE from redis-server into Runnel; damaged files refused with
nothing loaded."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

import rdb_builder as rb
from conftest import SERVER, free_port
from reference_server import REDIS_SERVER
from test_snapshot import start_in

pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_SERVER), reason="redis-server is not installed")

LIBRARY = """#!lua name=rdblib
redis.register_function('rdb_echo', function(keys, args) return args[1] end)
redis.register_function{function_name='rdb_ro', callback=function(keys, args) return 1 end, flags={'no-writes'}}
"""

# redis-server settings that force the small (packed) and the large encodings
# (7.0 keeps small string sets in hash tables; 7.2 writes them as listpacks)
SMALL = []
LARGE = ["--hash-max-listpack-entries", "0", "--zset-max-listpack-entries", "0", "--set-max-intset-entries", "0",
         "--list-max-listpack-size", "1", "--stream-node-max-entries", "3"]


class Redis:
    """A redis-server on a free port in its own directory."""

    def __init__(self, directory, *args):
        self.port = free_port()
        self.dir = directory
        cmd = [REDIS_SERVER, "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", directory,
               "--dbfilename", "dump.rdb", "--enable-debug-command", "yes", *args]
        self.log = open(os.path.join(directory, "redis-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                self.client().ping()
                break
            except (redis.ConnectionError, redis.BusyLoadingError):
                if time.time() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def client(self, **kw):
        kw.setdefault("socket_timeout", 20)
        return redis.Redis(port=self.port, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def env():
    """Makes servers in temporary directories and stops them all."""
    made = []

    class Env:
        def redis(self, *args):
            s = Redis(tempfile.mkdtemp(prefix="redis-rdb-"), *args)
            made.append(s)
            return s

        def runnel(self, directory=None, *args):
            s = start_in(directory or tempfile.mkdtemp(prefix="runnel-rdb-"), *args)
            made.append(s)
            return s

    yield Env()
    for s in made:
        s.stop()


def populate(r):
    """Every type in the shapes that exercise the encodings: called with the
    small or the large settings, so each lands in one or the other."""
    r.set("s:raw", "hello")
    r.set("s:int", 12345)
    r.set("s:neg", -7)
    r.set("s:max", 9223372036854775807)
    r.set("s:float", "3.14")
    r.set("s:bin", b"a\x00b\xffc")
    r.set("s:big", "abcdefgh" * 2000)  # LZF-compressed in the file
    r.set("s:empty", "")
    r.rpush("l:small", "a", 1, -1, 300, -5000, 70000, -9000000, 5000000000, "x" * 70, "")
    r.rpush("l:large", *["item-%d" % i for i in range(700)], *range(-300, 300))
    r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
    r.rpush("l:plain", "small", "p" * 300, "tail", "q" * 500)
    r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1073741824")
    r.hset("h:small", mapping={"f1": "v1", "n": 42, "neg": -100000, "e": "", "long": "y" * 60})
    r.hset("h:large", mapping={"field-%d" % i: ("value-%d" % i if i % 2 else i) for i in range(300)})
    r.hset("h:bigval", mapping={"f": "z" * 200})
    r.sadd("set:int", 1, 2, 3, -4, 1 << 40)
    r.sadd("set:int16", *range(0, 100))
    r.sadd("set:str", "a", "b", "c", "12", "-3")
    r.sadd("set:large", *["m%d" % i for i in range(600)])
    r.sadd("set:intlarge", *range(1000))
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": -3, "d": float("inf"), "e": float("-inf"), "f": 0, "12": 12})
    r.zadd("z:large", {"member-%d" % i: i * 1.5 for i in range(400)})
    r.zadd("z:longmember", {"w" * 100: 1})
    populate_streams(r)
    r.set("t:ms", "v", px=3600 * 1000 + 123)
    r.hset("t:hash", "f", "v")
    r.expireat("t:hash", int(time.time()) + 7200)
    r.execute_command("SELECT", 3)
    r.set("db3:key", "in three")
    r.lpush("db3:list", "x")
    r.execute_command("SELECT", 0)
    r.function_load(LIBRARY)


def populate_streams(r):
    for i in range(30):
        r.xadd("x:s", {"name": "n%d" % i, "n": i}, id="1000-%d" % i)
    r.xadd("x:s", {"other": "shape", "extra": "field"}, id="2000-0")
    r.xadd("x:s", {"name": "again"}, id="2000-1")
    r.xdel("x:s", "1000-5", "1000-6")
    r.xgroup_create("x:s", "g1", id="0")
    r.xgroup_create("x:s", "g2", id="1000-10")
    r.xreadgroup("g1", "alice", {"x:s": ">"}, count=4)
    r.xreadgroup("g1", "bob", {"x:s": ">"}, count=3)
    r.xack("x:s", "g1", "1000-1")
    r.xreadgroup("g2", "carol", {"x:s": ">"}, count=2)
    r.xgroup_createconsumer("x:s", "g1", "idle-one")
    for i in range(500):
        r.xadd("x:big", {"i": i, "payload": "p" * (i % 17)})
    r.xtrim("x:big", maxlen=400)
    r.xgroup_create("x:empty", "g", id="$", mkstream=True)
    r.xadd("x:deleted", {"a": 1}, id="5-1")
    r.xdel("x:deleted", "5-1")


def canonical_stream(c, key, seen_times=True):
    full = c.execute_command("XINFO", "STREAM", key, "FULL")
    info = dict(zip(full[::2], full[1::2]))
    out = {k: info[k] for k in (b"length", b"last-generated-id", b"max-deleted-entry-id", b"entries-added",
                                b"recorded-first-entry-id", b"entries")}
    groups = []
    for g in info[b"groups"]:
        g = dict(zip(g[::2], g[1::2]))
        consumers = []
        for cons in g[b"consumers"]:
            cons = dict(zip(cons[::2], cons[1::2]))
            seen = cons[b"seen-time"] if seen_times else None
            consumers.append((cons[b"name"], seen, cons[b"pel-count"], cons[b"pending"]))
        groups.append((g[b"name"], g[b"last-delivered-id"], g[b"entries-read"], g[b"lag"], g[b"pel-count"],
                       g[b"pending"], consumers))
    out["groups"] = groups
    return out


def canonical(c, key, seen_times=True):
    """A key's type, value and absolute deadline, the same whatever the
    encoding or the server."""
    t = c.type(key)
    if t == b"string":
        v = c.get(key)
    elif t == b"list":
        v = c.lrange(key, 0, -1)
    elif t == b"hash":
        v = c.hgetall(key)
    elif t == b"set":
        v = sorted(c.smembers(key))
    elif t == b"zset":
        v = c.zrange(key, 0, -1, withscores=True)
    elif t == b"stream":
        v = canonical_stream(c, key, seen_times)
    else:
        raise AssertionError("type %r" % t)
    return t, v, c.execute_command("PEXPIRETIME", key)


def dataset(c, dbs=(0, 3), seen_times=True):
    """Every key of the databases, canonical. A replica applies a read by a
    consumer at its own clock: comparing one, seen_times=False leaves the
    consumers' seen times out."""
    out = {}
    for db in dbs:
        c.execute_command("SELECT", db)
        for key in c.keys("*"):
            out[(db, key)] = canonical(c, key, seen_times)
    c.execute_command("SELECT", 0)
    return out


def functions(c):
    """FUNCTION LIST WITHCODE with each library's functions in name order."""
    out = []
    for lib in c.execute_command("FUNCTION", "LIST", "WITHCODE"):
        lib = dict(zip(lib[::2], lib[1::2]))
        lib[b"functions"] = sorted(lib[b"functions"])
        out.append(lib)
    return out


def redis_rdb(env, settings):
    """A redis-server with the settings, populated and saved: its dump.rdb
    and the server (for comparing)."""
    src = env.redis(*settings)
    c = src.client()
    populate(c)
    c.save()
    return src, os.path.join(src.dir, "dump.rdb")


def load_in_runnel(env, path, *args):
    d = tempfile.mkdtemp(prefix="runnel-rdb-")
    shutil.copy(path, os.path.join(d, "dump.rdb"))
    return env.runnel(d, *args)


@pytest.mark.parametrize("settings", [SMALL, LARGE], ids=["small-encodings", "large-encodings"])
def test_redis_rdb_loads_value_by_value(env, settings):
    src, path = redis_rdb(env, settings)
    dst = load_in_runnel(env, path)
    a, b = src.client(), dst.client()
    want = dataset(a)
    assert len(want) >= 30
    got = dataset(b)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k
    assert functions(b) == functions(a)
    assert b.fcall("rdb_echo", 0, "hi") == b"hi"
    # the loaded stream keeps working: groups read on where they were
    assert b.xreadgroup("g1", "alice", {"x:s": ">"}, count=1)[0][1][0][0] == b"1000-9"


def test_redis_rdb_types_use_compact_encodings(env):
    src, path = redis_rdb(env, SMALL)
    b = load_in_runnel(env, path).client()
    enc = lambda k: b.object("encoding", k)
    assert enc("h:small") == b"listpack"
    assert enc("h:large") == b"hashtable"
    assert enc("set:int") == b"intset"
    assert enc("set:str") == b"listpack"
    assert enc("set:large") == b"hashtable"
    assert enc("z:small") == b"listpack"
    assert enc("z:large") == b"skiplist"
    assert enc("s:int") == b"int"


def test_expired_keys_are_not_loaded(env):
    src = env.redis()
    c = src.client()
    c.set("gone", "x", px=300)
    c.set("kept", "y", ex=1000)
    c.save()
    time.sleep(0.5)
    dst = load_in_runnel(env, os.path.join(src.dir, "dump.rdb"))
    assert dst.client().keys("*") == [b"kept"]
    assert "1 keys loaded, 1 expired keys skipped" in open(dst.log_path).read()


def test_debug_reload_nosave_loads_an_rdb(env):
    src, path = redis_rdb(env, SMALL)
    dst = env.runnel()
    b = dst.client()
    b.set("will-go", 1)
    shutil.copy(path, os.path.join(dst.dir, "dump.rdb"))
    assert b.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert b.get("will-go") is None
    assert dataset(b) == dataset(src.client())


def corrupt_variants(data):
    """Damaged copies of a good file: truncated at several points, a byte
    flipped inside a value (checksum off so the value decoder must refuse
    it), and a flipped byte with the checksum on."""
    yield "truncated-half", data[: len(data) // 2]
    yield "truncated-trailer", data[:-3]
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x5A
    yield "checksum", bytes(flipped)


def test_damaged_rdb_refused_with_nothing_loaded(env):
    src, path = redis_rdb(env, SMALL)
    data = open(path, "rb").read()
    for name, bad in corrupt_variants(data):
        d = tempfile.mkdtemp(prefix="runnel-rdb-bad-")
        with open(os.path.join(d, "dump.rdb"), "wb") as f:
            f.write(bad)
        res = subprocess.run([SERVER, "--port", str(free_port()), "--dir", d, "--save", ""], capture_output=True,
                             text=True, timeout=30)
        assert res.returncode != 0, name
        out = res.stdout + res.stderr
        assert "Can't load the snapshot dump.rdb" in out, (name, out)
        assert "offset" in out, (name, out)


def test_damaged_rdb_in_debug_reload_keeps_the_dataset(env):
    src, path = redis_rdb(env, SMALL)
    data = bytearray(open(path, "rb").read())
    dst = env.runnel(None, "--rdbchecksum", "no")
    b = dst.client()
    b.set("mine", "stays")
    b.function_load("#!lua name=keep\nredis.register_function('keep', function() return 1 end)")
    # a list key whose listpack is damaged: found by the value decoder, late in the file
    i = data.rfind(b"l:plain")
    assert i > 0
    data[i + 12] ^= 0xFF
    with open(os.path.join(dst.dir, "dump.rdb"), "wb") as f:
        f.write(bytes(data))
    with pytest.raises(redis.ResponseError):
        b.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
    assert b.keys("*") == [b"mine"]
    assert b.fcall("keep", 0) == 1
    log = open(dst.log_path).read()
    assert "key 'l:plain'" in log and "offset" in log, log[-2000:]


def test_module_type_refused_with_key_and_offset(env):
    body = b"REDIS0010" + b"\xfe\x00" + b"\x07" + b"\x04modk" + b"\x00" * 10 + b"\xff"
    import struct
    from_crc = rb.crc64(body)
    data = body + struct.pack("<Q", from_crc)
    d = tempfile.mkdtemp(prefix="runnel-rdb-mod-")
    with open(os.path.join(d, "dump.rdb"), "wb") as f:
        f.write(data)
    res = subprocess.run([SERVER, "--port", str(free_port()), "--dir", d, "--save", ""], capture_output=True,
                         text=True, timeout=30)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "key 'modk'" in out and "module" in out and "offset 11" in out, out




def all_keys(c):
    return sorted(c.keys("*"))


@pytest.mark.parametrize("settings", [SMALL, LARGE], ids=["small-encodings", "large-encodings"])
def test_restore_takes_redis_dump_payloads(env, settings):
    src = env.redis(*settings)
    a = src.client()
    populate(a)
    b = env.runnel().client()
    for key in all_keys(a):
        payload = a.dump(key)
        assert b.restore(key, 0, payload) == b"OK"
        want, got = canonical(a, key), canonical(b, key)
        assert got[:2] == want[:2], key
    # RESTORE-ASKING takes them too; a damaged payload is refused as Redis refuses it
    assert b.execute_command("RESTORE-ASKING", "asked", 0, a.dump("h:small")) == b"OK"
    assert b.hgetall("asked") == a.hgetall("h:small")
    bad = bytearray(a.dump("l:large"))
    bad[5] ^= 1
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        b.restore("bad", 0, bytes(bad))


def test_dump_in_redis_format_restores_in_redis(env):
    src = env.redis()
    a = src.client()
    populate(a)
    dst = env.runnel()
    b = dst.client()
    for key in all_keys(a):
        b.restore(key, 0, a.dump(key))
    assert b.config_get("dump-payload-format") == {"dump-payload-format": "runnel"}
    runnel_payload = b.dump("s:raw")
    b.config_set("dump-payload-format", "redis")
    other = env.redis("--sanitize-dump-payload", "yes").client()  # deep checks of every listpack
    for key in all_keys(b):
        other.restore(key, 0, b.dump(key))
        assert canonical(other, key)[:2] == canonical(a, key)[:2], key
    # Runnel's own payloads stay Runnel's: version 2 of its value encoding
    assert runnel_payload[-10:-8] == b"\x02\x00"
    assert b.dump("s:raw")[-10:-8] == b"\x0a\x00"


def test_migrate_from_redis_into_runnel(env):
    src = env.redis()
    a = src.client()
    populate(a)
    dst = env.runnel()
    b = dst.client()
    keys = all_keys(a)
    want = {k: canonical(a, k) for k in keys}
    assert a.execute_command("MIGRATE", "127.0.0.1", dst.port, "", 0, 5000, "KEYS", *keys) == b"OK"
    assert all_keys(a) == []
    for k in keys:  # MIGRATE sends relative TTLs: the deadlines move by the transfer's time
        got = canonical(b, k)
        assert got[:2] == want[k][:2], k
        assert (got[2] == -1) == (want[k][2] == -1) and abs(got[2] - want[k][2]) < 2000, k


def wait_for(cond, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def loaded_runnel(env, settings, *args):
    """A redis-server populated with `settings`, and a Runnel that loaded its RDB."""
    src, path = redis_rdb(env, settings)
    return src, load_in_runnel(env, path, *args)


@pytest.mark.parametrize("settings", [SMALL, LARGE], ids=["small-encodings", "large-encodings"])
def test_redis_cli_rdb_from_runnel_loads_in_redis(env, settings):
    src, dst = loaded_runnel(env, settings, "--repl-diskless-sync-delay", "0")
    out = os.path.join(dst.dir, "exported.rdb")
    res = subprocess.run(["redis-cli", "-p", str(dst.port), "--rdb", out], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert open(out, "rb").read(9) == b"REDIS0010"
    back_dir = tempfile.mkdtemp(prefix="redis-back-")
    shutil.copy(out, os.path.join(back_dir, "dump.rdb"))
    back = Redis(back_dir, "--sanitize-dump-payload", "yes")
    try:
        want, got = dataset(src.client()), dataset(back.client())
        assert got.keys() == want.keys()
        for k in want:
            assert got[k] == want[k], k
        assert functions(back.client()) == functions(src.client())
    finally:
        back.stop()


@pytest.mark.parametrize("diskless", ["yes", "no"], ids=["eof-marked", "through-a-file"])
def test_redis_server_replicates_from_runnel(env, diskless):
    src, dst = loaded_runnel(env, SMALL, "--repl-diskless-sync-delay", "0", "--repl-diskless-sync", diskless)
    rep = env.redis("--replicaof", "127.0.0.1", str(dst.port))
    b, r = dst.client(), rep.client()
    wait_for(lambda: r.info("replication")["master_link_status"] == "up", what="the link")
    assert dataset(r) == dataset(src.client())
    # the command stream follows: writes, a transaction, a script, expiry
    b.set("after", "sync")
    b.xadd("x:s", {"k": "v"}, id="3000-0")
    b.xreadgroup("g2", "dave", {"x:s": ">"}, count=2)
    with b.pipeline(transaction=True) as p:
        p.incr("counter").lpush("l:new", "a", "b").hset("h:small", "added", 1)
        p.execute()
    b.eval("redis.call('set', KEYS[1], ARGV[1])", 1, "from-script", "v")
    b.set("short", 1, px=200)
    time.sleep(0.4)
    b.get("short")  # expired: the primary's DEL reaches the replica
    wait_for(lambda: r.get("from-script") == b"v" and r.exists("short") == 0, what="the stream")
    assert dataset(r, seen_times=False) == dataset(b, seen_times=False)
    # a command Redis does not have drops the link; the full resync brings its effect
    b.execute_command("XNACK", "x:s", "g2", "SILENT", "IDS", 1, "1000-12")
    wait_for(lambda: "not Runnel and can't apply XNACK" in open(dst.log_path).read(), what="the refusal")
    wait_for(lambda: open(dst.log_path).read().count("as an RDB file") == 2, what="the full resync")
    wait_for(lambda: r.info("replication")["master_link_status"] == "up", what="the link again")
    # the released entry has no owner, which Redis cannot hold: it is left out (and logged)
    pending = lambda c: [p["message_id"] for p in c.xpending_range("x:s", "g2", "-", "+", 10)]
    wait_for(lambda: b"1000-12" not in pending(r), what="the resynced PEL")
    assert pending(r) == [i for i in pending(b) if i != b"1000-12"]
    assert "left out of the RDB" in open(dst.log_path).read()
    assert dataset(r, seen_times=False).keys() == dataset(b, seen_times=False).keys()


@pytest.mark.parametrize("diskless,load", [("yes", "disabled"), ("no", "on-empty-db")],
                         ids=["eof-marked-to-file", "sized-to-memory"])
def test_runnel_replicates_from_redis_then_promotes(env, diskless, load):
    src = env.redis("--repl-diskless-sync-delay", "0", "--repl-diskless-sync", diskless)
    a = src.client()
    populate(a)
    dst = env.runnel(None, "--replicaof", "127.0.0.1", str(src.port), "--repl-diskless-load", load)
    b = dst.client()
    wait_for(lambda: b.info("replication")["master_link_status"] == "up", what="the link")
    wait_for(lambda: dataset(b) == dataset(a), what="the full sync")
    assert functions(b) == functions(a)
    # the stream: plain writes, MULTI/EXEC, scripts, functions, groups, expiry (as DEL)
    a.set("live", 1)
    with a.pipeline(transaction=True) as p:
        p.incr("counter").rpush("l:small", "tail").zadd("z:small", {"new": 7})
        p.execute()
    a.eval("redis.call('hset', KEYS[1], 'f', ARGV[1])", 1, "h:script", "v")
    a.fcall("rdb_echo", 0, "x")
    a.xadd("x:s", {"live": "entry"}, id="4000-0")
    a.xreadgroup("g1", "erin", {"x:s": ">"}, count=1)
    a.set("short", 1, px=100)
    time.sleep(0.3)
    a.get("short")
    assert a.wait(1, 5000) == 1  # REPLCONF GETACK answered
    wait_for(lambda: dataset(b, seen_times=False) == dataset(a, seen_times=False), what="the stream")
    # a dropped link continues where it stopped (PSYNC partial resync)
    partial = a.info("stats")["sync_partial_ok"]
    b.execute_command("CLIENT", "KILL", "TYPE", "master")
    a.set("after-drop", "yes")
    wait_for(lambda: b.get("after-drop") == b"yes", what="the resumed stream")
    assert a.info("stats")["sync_partial_ok"] == partial + 1
    assert a.info("stats")["sync_full"] == 1
    wait_for(lambda: a.info("replication")["master_repl_offset"] == b.info("replication")["master_repl_offset"],
             what="equal offsets")
    # the cut-over: Redis stops taking writes, Runnel takes over
    assert b.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert b.info("replication")["role"] == "master"
    b.set("on-runnel", 1)
    before = b.xlen("x:s")
    b.xadd("x:s", {"after": "switch"})
    assert b.xlen("x:s") == before + 1
    assert dataset(b, seen_times=False).keys() >= dataset(a, seen_times=False).keys()


def write_rdb(data):
    d = tempfile.mkdtemp(prefix="runnel-rdb-made-")
    with open(os.path.join(d, "dump.rdb"), "wb") as f:
        f.write(data)
    return d


def test_redis6_encodings_load_as_redis_loads_them(env):
    """A version 9 file in the encodings Redis 6 wrote (ziplists, quicklists
    of ziplists, the first stream format, text scores, expiry in seconds):
    Runnel and redis-server 7.0 load the same dataset from it."""
    when = int(time.time()) + 3600
    v1 = rb.stream(1, [(1, 1, {b"a": 1, b"b": 2}, False), (1, 2, {b"a": 3, b"b": 4}, True),
                       (2, 0, {b"c": b"five"}, False)], (2, 0),
                   [(b"g", (1, 1), None, [((1, 1), 1000, 2)], [(b"c1", 2000, None, [(1, 1)])]),
                    (b"late", (2, 0), None, [], [])])
    data = rb.rdb_file(9, [
        (10, "zl:list", rb.string(rb.ziplist([b"a", 1, -5, 300, 70000, -9000000, 5000000000, b"x" * 70, b""]))),
        (14, "ql:list", rb.length(2) + rb.string(rb.ziplist([b"n1", 12])) + rb.string(rb.ziplist([b"y" * 300]))),
        (13, "zl:hash", rb.string(rb.ziplist([b"f", b"v", b"n", 12, b"big", 1 << 40]))),
        (12, "zl:zset", rb.string(rb.ziplist([b"c", -3, b"a", 1, b"b", b"2.5", b"d", b"inf"]))),
        (11, "is:set", rb.string(rb.intset([1, -2, 70000, 1 << 40]))),
        (3, "old:zset", rb.length(2) + rb.string(b"m1") + b"\x031.5" + rb.string(b"m2") + b"\xfe"),
        (1, "old:list", rb.length(2) + rb.string(b"x") + rb.string(b"y")),
        (2, "old:set", rb.length(2) + rb.string(b"p") + rb.string(b"q")),
        (4, "old:hash", rb.length(1) + rb.string(b"f") + rb.string(b"v")),
        (15, "x:v1", v1),
        (0, "exp:s", rb.string(b"v"), ("s", when)),
    ])
    d = write_rdb(data)
    b = env.runnel(d).client()
    red_dir = tempfile.mkdtemp(prefix="redis-rdb-made-")
    shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(red_dir, "dump.rdb"))
    a = Redis(red_dir)
    try:
        want = dataset(a.client(), dbs=(0,))
    finally:
        a.stop()
    assert len(want) == 11
    assert dataset(b, dbs=(0,)) == want
    assert b.pexpiretime("exp:s") == when * 1000
    assert b.lrange("zl:list", 0, -1)[6] == b"5000000000"


def test_redis72_encodings_load(env):
    """Version 11 (Redis 7.2): listpack sets, streams v3 with consumers'
    active times, quicklists with plain nodes."""
    v3 = rb.stream(3, [(5, 1, {b"f": b"v"}, False), (5, 2, {b"f": b"w"}, False)], (5, 2),
                   [(b"g", (5, 1), 1, [((5, 1), 7000, 3)], [(b"c", 8000, 7500, [(5, 1)])])],
                   first=(5, 1), max_deleted=(4, 0), added=9)
    data = rb.rdb_file(11, [
        (20, "lp:set", rb.string(rb.listpack([b"a", b"b", 5]))),
        (18, "ql2:list", rb.length(2) + rb.length(1) + rb.string(b"plain" * 30) + rb.length(2) +
         rb.string(rb.listpack([b"a", 1, -4000, 100000]))),
        (16, "lp:hash", rb.string(rb.listpack([b"f", 1, b"g", b"h"]))),
        (17, "lp:zset", rb.string(rb.listpack([b"m", b"1.25", b"n", 3]))),
        (21, "x:v3", v3),
    ])
    b = env.runnel(write_rdb(data)).client()
    assert sorted(b.smembers("lp:set")) == [b"5", b"a", b"b"]
    assert b.lrange("ql2:list", 0, -1) == [b"plain" * 30, b"a", b"1", b"-4000", b"100000"]
    assert b.hgetall("lp:hash") == {b"f": b"1", b"g": b"h"}
    assert b.zrange("lp:zset", 0, -1, withscores=True) == [(b"m", 1.25), (b"n", 3.0)]
    full = b.execute_command("XINFO", "STREAM", "x:v3", "FULL")
    info = dict(zip(full[::2], full[1::2]))
    assert info[b"entries-added"] == 9 and info[b"max-deleted-entry-id"] == b"4-0"
    group = dict(zip(info[b"groups"][0][::2], info[b"groups"][0][1::2]))
    assert group[b"entries-read"] == 1 and group[b"pending"] == [[b"5-1", b"c", 7000, 3]]
    consumer = dict(zip(group[b"consumers"][0][::2], group[b"consumers"][0][1::2]))
    assert consumer[b"seen-time"] == 8000 and consumer[b"active-time"] == 7500


@pytest.mark.parametrize("case", ["version-12", "duplicate-member", "unknown-opcode", "pel-without-owner"])
def test_bad_made_files_refused(case):
    if case == "version-12":
        data, why = rb.rdb_file(12, [(0, "k", rb.string(b"v"))]), "RDB version 12 is not supported"
    elif case == "duplicate-member":
        data, why = rb.rdb_file(9, [(2, "s", rb.length(2) + rb.string(b"a") + rb.string(b"a"))]), "key 's': a set member repeats"
    elif case == "unknown-opcode":
        data, why = rb.rdb_file(9, [(0, "k", rb.string(b"v")), (40, "x", b"")]), "unknown opcode or value type 40"
    else:
        v = rb.stream(2, [(1, 1, {b"a": b"b"}, False)], (1, 1), [(b"g", (1, 1), 1, [((1, 1), 5, 1)], [])])
        data, why = rb.rdb_file(10, [(19, "x", v)]), "key 'x': a pending entry has no owner"
    d = write_rdb(data)
    res = subprocess.run([SERVER, "--port", str(free_port()), "--dir", d, "--save", ""], capture_output=True,
                         text=True, timeout=30)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and why in out and "offset" in out, out


@pytest.mark.parametrize("direction", ["redis-to-runnel", "runnel-to-redis"])
def test_live_switch_under_load_exactly_once(env, direction):
    """Writers XADD numbered messages and a consumer group reads and acks
    them on the old primary while the new one replicates; the cut-over
    (CLIENT PAUSE WRITE, equal offsets, REPLICAOF NO ONE, the old primary
    shut down, clients repointed) loses and duplicates no message. The write
    pause is measured."""
    import threading
    if direction == "redis-to-runnel":
        src = env.redis("--repl-diskless-sync-delay", "0")
        src.client().xgroup_create("jobs", "workers", id="0", mkstream=True)
        dst = env.runnel(None, "--replicaof", "127.0.0.1", str(src.port))
    else:
        src = env.runnel(None, "--repl-diskless-sync-delay", "0")
        src.client().xgroup_create("jobs", "workers", id="0", mkstream=True)
        dst = env.redis("--replicaof", "127.0.0.1", str(src.port))
    a, b = src.client(), dst.client()
    wait_for(lambda: b.info("replication")["master_link_status"] == "up", what="the link")
    target = {"port": src.port}
    switched, stop = threading.Event(), threading.Event()
    sent, stamps, consumed, errors = {}, [], [], []

    def call(fn):
        """fn(client) on the current target; a timeout or a closed link
        (the paused, then shut down, Redis) waits for the switch and retries."""
        while True:
            port = target["port"]
            try:
                return fn(redis.Redis(port=port, socket_timeout=1))
            except (redis.ConnectionError, redis.TimeoutError):
                if port == src.port:
                    switched.wait(30)
                else:
                    time.sleep(0.05)

    def writer(w):
        k = 0
        while not stop.is_set():
            call(lambda c: c.xadd("jobs", {"w": w, "seq": k}))
            stamps.append(time.time())
            k += 1
        sent[w] = k

    def consumer():
        pending_first = True
        while not (stop.is_set() and sent.keys() == {0, 1, 2} and len(consumed) >= sum(sent.values())):
            start = "0" if pending_first else ">"
            reply = call(lambda c: c.xreadgroup("workers", "c1", {"jobs": start}, count=50, block=100))
            entries = reply[0][1] if reply else []
            if start == "0" and not entries:
                pending_first = False
                continue
            for mid, fields in entries:
                consumed.append((int(fields[b"w"]), int(fields[b"seq"])))
            if entries:
                call(lambda c: c.xack("jobs", "workers", *[m for m, _ in entries]))
            if switched.is_set() and target.get("consumer_moved") is None:
                target["consumer_moved"] = True
                pending_first = True  # re-read what Redis delivered but whose ack may not have arrived

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)] + [threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        paused_at = time.time()
        a.execute_command("CLIENT", "PAUSE", 10000, "WRITE")
        wait_for(lambda: b.info("replication")["master_repl_offset"] == a.info("replication")["master_repl_offset"],
                 what="equal offsets")
        b.execute_command("REPLICAOF", "NO", "ONE")
        target["port"] = dst.port
        switched.set()
        try:
            a.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    entries = [(int(f[b"w"]), int(f[b"seq"])) for _, f in b.xrange("jobs")]
    want = [(w, k) for w in range(3) for k in range(sent[w])]
    assert sorted(entries) == want  # every message once: none lost, none duplicated
    assert set(consumed) == set(want)
    assert b.xpending("jobs", "workers")["pending"] == 0
    # the write pause: the longest time without any completed write around the cut-over
    around = sorted(t for t in stamps if paused_at - 0.5 < t < paused_at + 5)
    pause = max((y - x for x, y in zip(around, around[1:])), default=None)
    print("%s: write pause at the switch %.3f s; %d messages, %d deliveries" % (direction, pause, len(want),
                                                                              len(consumed)))
    assert pause is not None and pause < 5


def test_redis_appendonlydir_loads(env):
    """Redis 7's multi-part AOF: an RDB base (aof-use-rdb-preamble) and
    incremental files of commands, under Redis's manifest."""
    src = env.redis("--appendonly", "yes")
    a = src.client()
    populate(a)
    a.bgrewriteaof()
    wait_for(lambda: a.info("persistence")["aof_rewrite_in_progress"] == 0 and
             a.info("persistence")["aof_rewrite_scheduled"] == 0, what="the rewrite")
    a.rpush("l:small", "after-rewrite")
    a.xadd("x:s", {"after": "rewrite"}, id="5000-0")
    want, libs = dataset(a), functions(a)
    src.stop()
    d = tempfile.mkdtemp(prefix="runnel-rdb-aof-")
    shutil.copytree(os.path.join(src.dir, "appendonlydir"), os.path.join(d, "appendonlydir"))
    assert any(f.endswith(".base.rdb") for f in os.listdir(os.path.join(d, "appendonlydir")))
    b = env.runnel(d, "--appendonly", "yes").client()
    assert dataset(b) == want
    assert functions(b) == libs
    # runnel-check-aof checks the Redis base's frame and checksum, and never "fixes" it
    check = os.path.join(os.environ.get("RUNNEL_BUILD", os.path.join(os.path.dirname(SERVER))), "runnel-check-aof")
    if os.path.exists(check):
        aofdir = os.path.join(src.dir, "appendonlydir")
        manifest = os.path.join(aofdir, "appendonly.aof.manifest")
        res = subprocess.run([check, manifest], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0 and "base.rdb is valid (a snapshot base" in res.stdout, res.stdout + res.stderr
        base = [f for f in os.listdir(aofdir) if f.endswith(".base.rdb")][0]
        with open(os.path.join(aofdir, base), "r+b") as f:
            f.seek(20)
            byte = f.read(1)
            f.seek(20)
            f.write(bytes([byte[0] ^ 0xFF]))
        res = subprocess.run([check, "--fix", manifest], capture_output=True, text=True, timeout=30)
        assert res.returncode == 1 and "a Redis RDB file with a wrong checksum" in res.stdout, res.stdout


def test_migrate_from_runnel_into_redis_with_redis_payloads(env):
    src, dst = loaded_runnel(env, SMALL, "--dump-payload-format", "redis")
    b = dst.client()
    keys = all_keys(b)
    want = {k: canonical(b, k) for k in keys}
    other = env.redis("--sanitize-dump-payload", "yes")
    assert b.execute_command("MIGRATE", "127.0.0.1", other.port, "", 0, 5000, "KEYS", *keys) == b"OK"
    assert all_keys(b) == []
    o = other.client()
    for k in keys:
        got = canonical(o, k)
        assert got[:2] == want[k][:2], k
        assert (got[2] == -1) == (want[k][2] == -1) and abs(got[2] - want[k][2]) < 2000, k


def test_hash_field_deadlines_left_out_for_redis(env):
    """Redis 7.0 has no hash field expiry: a hash with field deadlines goes
    to it with its live fields and without their deadlines (logged), and
    HEXPIRE drops a Redis replica's link into a full resync."""
    dst = env.runnel(None, "--repl-diskless-sync-delay", "0", "--dump-payload-format", "redis")
    b = dst.client()
    b.hset("h", mapping={"keep": "1", "ttl": "2", "gone": "3"})
    b.execute_command("HPEXPIRE", "h", 600000, "FIELDS", 1, "ttl")
    b.execute_command("HPEXPIRE", "h", 100, "FIELDS", 1, "gone")
    time.sleep(0.2)
    r = env.redis().client()
    r.restore("h", 0, b.dump("h"))
    assert r.hgetall("h") == {b"keep": b"1", b"ttl": b"2"}
    assert "deadlines are left out" in open(dst.log_path).read()
    rep = env.redis("--replicaof", "127.0.0.1", str(dst.port)).client()
    wait_for(lambda: rep.info("replication")["master_link_status"] == "up", what="the link")
    assert rep.hgetall("h") == {b"keep": b"1", b"ttl": b"2"}
    b.execute_command("HEXPIRE", "h", 1000, "FIELDS", 1, "keep")  # logged as HPEXPIREAT
    wait_for(lambda: "not Runnel and can't apply HPEXPIREAT" in open(dst.log_path).read(), what="the refusal")
