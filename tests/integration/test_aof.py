"""Append-only file: what is acknowledged survives restarts and kill -9,
rewrites compact without losing writes, torn tails are cut, corruption stops
start-up, and CONFIG SET appendonly works at run time."""
import glob
import os
import random
import signal
import subprocess
import threading
import time

import pytest
import redis

from conftest import RunnelProcess, open_file_targets


def aof_dir(srv):
    return os.path.join(srv.dir, "appendonlydir")


def restart(srv, *args):
    """Stops srv (already stopped or killed is fine) and starts a new server
    on the same directory."""
    srv.stop()
    new = RunnelProcess.__new__(RunnelProcess)
    new.port = srv.port
    new.dir = srv.dir
    cmd = [srv.proc.args[0], "--port", str(new.port), "--dir", new.dir, "--save", "", "--appendonly", "yes", *args]
    new.log_path = os.path.join(new.dir, "restart.log")
    new.log = open(new.log_path, "w")
    new.proc = subprocess.Popen(cmd, stdout=new.log, stderr=subprocess.STDOUT)
    new._wait_ready()
    return new


def start_expect_failure(srv, *args):
    cmd = [srv.proc.args[0], "--port", str(srv.port), "--dir", srv.dir, "--save", "", "--appendonly", "yes", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    return res.returncode, res.stdout + res.stderr


@pytest.fixture
def aof_server():
    servers = []

    def make(*args):
        srv = RunnelProcess("--appendonly", "yes", *args)
        servers.append(srv)
        return srv

    yield make, servers
    for s in servers:
        s.stop()


def test_restart_restores_strings_lists_expiry_and_databases(aof_server):
    make, servers = aof_server
    srv = make("--appendfsync", "always")
    r = srv.client()
    r.set("s", "v")
    r.set("ttl", "x", ex=1000)
    r.incr("n")
    r.incrbyfloat("f", 1.25)
    r.rpush("l", "a", "b", "c")
    r.lpop("l")
    r.expire("l", 2000)
    r2 = srv.client(db=2)
    r2.set("other", "db2")
    r.set("gone", "x", px=1)
    time.sleep(0.05)
    assert r.get("gone") is None  # lazily expired: logged as DEL
    ttl_before = r.pttl("ttl")
    digest = r.execute_command("DEBUG", "DIGEST")
    new = restart(srv)
    servers.append(new)
    c = new.client()
    assert c.execute_command("DEBUG", "DIGEST") == digest
    assert c.get("s") == b"v"
    assert c.get("n") == b"1"
    assert c.get("f") == b"1.25"
    assert c.lrange("l", 0, -1) == [b"b", b"c"]
    assert 1000 * 1000 - 5000 < c.pttl("ttl") <= ttl_before
    assert 1990 <= c.ttl("l") <= 2000
    assert c.exists("gone") == 0
    assert new.client(db=2).get("other") == b"db2"


def test_relative_expiry_is_logged_as_absolute_deadline(aof_server):
    make, servers = aof_server
    srv = make()
    r = srv.client()
    r.set("k", "v", ex=100)
    r.expire("k2", 5)
    r.set("k2", "v")
    r.pexpire("k2", 100000)
    data = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))
    assert b"PXAT" in data
    assert b"PEXPIREAT" in data
    assert b"\r\nEX\r\n" not in data and b"pexpire\r\n" not in data.lower().replace(b"pexpireat", b"")


def test_a_deadline_past_at_replay_time_leaves_the_key_to_the_log(aof_server):
    """PEXPIREAT replayed after its time keeps the key, so that a later
    PERSIST (or any command on it) finds it, as when it was written."""
    make, servers = aof_server
    srv = make()
    r = srv.client()
    r.set("k", "v")
    r.pexpire("k", 100)
    r.persist("k")
    r.xadd("s", {"f": "v"})
    r.pexpire("s", 100)
    r.execute_command("COPY", "s", "s2")
    r.persist("s2")
    time.sleep(0.2)
    srv = restart(srv)
    servers.append(srv)
    c = srv.client()
    assert c.get("k") == b"v" and c.pttl("k") == -1
    assert c.xlen("s2") == 1 and c.pttl("s2") == -1
    assert c.exists("s") == 0


def test_multi_exec_is_logged_atomically(aof_server):
    make, servers = aof_server
    srv = make()
    r = srv.client()
    p = r.pipeline(transaction=True)
    p.set("a", "1")
    p.set("b", "2")
    p.execute()
    time.sleep(0.05)
    data = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))
    assert b"MULTI" in data and b"EXEC" in data
    assert data.index(b"MULTI") < data.index(b"\r\na\r\n") < data.index(b"EXEC")


def test_blocking_pop_is_logged_as_plain_pop(aof_server):
    make, servers = aof_server
    srv = make()
    r = srv.client()
    other = srv.client()
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("v", other.blpop(["q"], timeout=5)))
    t.start()
    time.sleep(0.2)
    r.rpush("q", "job", "rest")
    t.join(5)
    assert result["v"] == (b"q", b"job")
    new = restart(srv)
    servers.append(new)
    assert new.client().lrange("q", 0, -1) == [b"rest"]


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_bgrewriteaof_compacts_and_keeps_writes_made_during_it(aof_server, preamble):
    make, servers = aof_server
    srv = make("--aof-use-rdb-preamble", preamble)
    r = srv.client()
    for i in range(2000):
        r.set("k%d" % i, i)
    for i in range(2000):
        r.incr("k%d" % i)
    r.rpush("list", *range(500))
    assert r.bgrewriteaof() in (True, b"Background append only file rewriting started")
    for i in range(200):
        r.set("during%d" % i, i)
    deadline = time.time() + 10
    while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    info = r.info("persistence")
    assert info["aof_last_bgrewrite_status"] == "ok"
    manifest = open(os.path.join(aof_dir(srv), "appendonly.aof.manifest")).read()
    # the base is a snapshot with the preamble (Redis's manifest names it the same way), commands without
    base = "appendonly.aof.2.base.rdb" if preamble == "yes" else "appendonly.aof.2.base.aof"
    assert "file %s seq 2 type b" % base in manifest
    with open(os.path.join(aof_dir(srv), base), "rb") as f:
        assert f.read(10) == (b"RUNNEL0003" if preamble == "yes" else b"*2\r\n$6\r\nSE")
    files = os.listdir(aof_dir(srv))
    assert len([f for f in files if f.endswith(".incr.aof")]) == 1
    new = restart(srv)
    servers.append(new)
    c = new.client()
    assert c.get("k1999") == b"2000"
    assert c.get("during199") == b"199"
    assert c.llen("list") == 500
    assert c.dbsize() == 2000 + 200 + 1


def test_preamble_switches_at_run_time_and_the_old_base_goes(aof_server):
    make, servers = aof_server
    srv = make()
    r = srv.client()
    r.rpush("l", *range(100))

    def rewrite_and_wait(n):
        r.bgrewriteaof()
        deadline = time.time() + 10
        while time.time() < deadline and (r.info("persistence")["aof_rewrite_in_progress"] or
                                          r.info("persistence")["aof_rewrites"] < n):
            time.sleep(0.05)

    rewrite_and_wait(1)
    assert glob.glob(os.path.join(aof_dir(srv), "*.base.rdb"))
    r.config_set("aof-use-rdb-preamble", "no")
    r.set("between", "1")
    rewrite_and_wait(2)
    assert not glob.glob(os.path.join(aof_dir(srv), "*.base.rdb"))
    assert len(glob.glob(os.path.join(aof_dir(srv), "*.base.aof"))) == 1
    r.config_set("aof-use-rdb-preamble", "yes")
    r.set("after", "2")
    rewrite_and_wait(3)
    assert not glob.glob(os.path.join(aof_dir(srv), "*.base.aof"))
    r.set("last", "3")
    new = restart(srv)
    servers.append(new)
    c = new.client()
    assert c.lrange("l", 0, -1) == [str(i).encode() for i in range(100)]
    assert c.mget("between", "after", "last") == [b"1", b"2", b"3"]


def test_expired_keys_of_a_snapshot_base_load_and_then_expire(aof_server):
    make, servers = aof_server
    srv = make("--appendfsync", "always")
    r = srv.client()
    r.rpush("short", "a")
    r.pexpire("short", 2500)
    r.set("kept", "v")
    r.bgrewriteaof()
    while r.info("persistence")["aof_rewrite_in_progress"] or r.info("persistence")["aof_rewrites"] < 1:
        time.sleep(0.05)
    r.rpush("short", "b")  # logged after the base, while the key still lives
    srv.proc.kill()  # before the server itself noticed the expiry: no DEL in the log
    srv.proc.wait()
    time.sleep(2.6)
    new = restart(srv)
    servers.append(new)
    c = new.client()
    assert c.get("kept") == b"v"
    # the base brings the key back with its deadline, the RPUSH replays onto
    # it, and it is gone on access; skipping it would have left ["b"] forever
    assert c.exists("short") == 0


def test_torn_tail_is_truncated_and_logged(aof_server):
    make, servers = aof_server
    srv = make()
    r = srv.client()
    r.set("complete", "yes")
    srv.stop()
    incr = sorted(glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))[-1]
    size = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval")
    new = restart(srv)
    servers.append(new)
    c = new.client()
    assert c.get("complete") == b"yes"
    assert c.exists("torn") == 0
    assert os.path.getsize(incr) == size
    assert "bytes of an incomplete command dropped" in open(new.log_path).read()


def test_torn_multi_is_reverted(aof_server):
    make, servers = aof_server
    srv = make()
    srv.client().set("before", "1")
    srv.stop()
    incr = sorted(glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))[-1]
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
    new = restart(srv)
    servers.append(new)
    c = new.client()
    assert c.get("before") == b"1"
    assert c.exists("x") == 0


def test_corruption_in_the_middle_refuses_to_start(aof_server):
    make, servers = aof_server
    srv = make()
    r = srv.client()
    r.set("a", "1")
    r.set("b", "2")
    srv.stop()
    incr = sorted(glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))[-1]
    data = open(incr, "rb").read()
    pos = data.index(b"*3")
    open(incr, "wb").write(data[:pos] + b"!garbage\r\n" + data[pos:])
    code, out = start_expect_failure(srv)
    assert code != 0
    assert "Bad file format reading the append only file" in out
    assert os.path.basename(incr) in out
    assert "runnel-check-aof --fix" in out


def test_truncated_tail_refused_when_aof_load_truncated_is_no(aof_server):
    make, servers = aof_server
    srv = make()
    srv.client().set("a", "1")
    srv.stop()
    incr = sorted(glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))[-1]
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$3\r\nGET")
    code, out = start_expect_failure(srv, "--aof-load-truncated", "no")
    assert code != 0
    assert "Bad file format" in out


def test_config_set_appendonly_yes_writes_base_first(fresh_server):
    srv = fresh_server()
    r = srv.client()
    for i in range(100):
        r.set("pre%d" % i, i)
    assert r.config_set("appendonly", "yes")
    deadline = time.time() + 10
    while time.time() < deadline:
        info = r.info("persistence")
        if info["aof_rewrites"] >= 1 and not info["aof_rewrite_in_progress"]:
            break
        time.sleep(0.05)
    r.set("post", "1")
    manifest = open(os.path.join(aof_dir(srv), "appendonly.aof.manifest")).read()
    assert "type b" in manifest and "type i" in manifest
    new = restart(srv)
    c = new.client()
    assert c.get("pre99") == b"99"
    assert c.get("post") == b"1"
    new.stop()


def writer(port, stop, acked, prefix):
    c = redis.Redis(port=port, socket_timeout=5)
    i = 0
    try:
        while not stop.is_set():
            key = "%s:%d" % (prefix, i)
            c.set(key, i)
            acked.append(key)
            c.lpush(prefix + ":list", i)
            acked.append(("list", prefix, i))
            i += 1
    except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
        pass


@pytest.mark.parametrize("rewrite", [False, True])
def test_kill_9_under_load_loses_nothing_acknowledged(aof_server, rewrite):
    make, servers = aof_server
    srv = make("--appendfsync", "always")
    stop = threading.Event()
    acked = [[] for _ in range(4)]
    threads = [threading.Thread(target=writer, args=(srv.port, stop, acked[i], "w%d" % i)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.7)
    if rewrite:
        srv.client().bgrewriteaof()
        time.sleep(0.3)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join(10)
    new = restart(srv)
    servers.append(new)
    c = new.client()
    total = 0
    for i in range(4):
        keys = [k for k in acked[i] if isinstance(k, str)]
        pushes = [k for k in acked[i] if isinstance(k, tuple)]
        total += len(keys)
        if keys:
            values = c.mget(keys)
            missing = [k for k, v in zip(keys, values) if v is None]
            assert not missing, "acknowledged SETs lost: %s" % missing[:5]
        present = set(int(x) for x in c.lrange("w%d:list" % i, 0, -1))
        lost = [p[2] for p in pushes if p[2] not in present]
        assert not lost, "acknowledged LPUSHes lost: %s" % lost[:5]
    assert total > 100


def test_everysec_restart_after_clean_shutdown(aof_server):
    make, servers = aof_server
    srv = make("--appendfsync", "everysec")
    r = srv.client()
    for i in range(1000):
        r.rpush("q", i)
    new = restart(srv)
    servers.append(new)
    assert new.client().llen("q") == 1000


def test_replayed_commands_are_not_counted_as_commands(aof_server):
    """As in Redis, loading the AOF leaves INFO commandstats and errorstats
    empty and adds nothing to the slow log. total_commands_processed counts
    no replayed command either (Redis counts those it replays inside a logged
    MULTI/EXEC, through its EXEC path, and no others)."""
    make, servers = aof_server
    srv = make("--appendfsync", "always", "--slowlog-log-slower-than", "0")
    r = srv.client()
    r.set("s", 1)
    r.zadd("z", {"a": 1})
    with r.pipeline() as p:  # MULTI/EXEC in the log
        p.rpush("l", 1).incr("s").execute()
    new = restart(srv, "--slowlog-log-slower-than", "0")
    servers.append(new)
    c = new.client()
    assert c.get("s") == b"2"
    assert c.slowlog_len() == 1  # the GET above
    assert set(c.info("commandstats")) == {"cmdstat_get", "cmdstat_slowlog|len"}
    assert c.info("stats")["total_commands_processed"] == 3  # GET, SLOWLOG LEN, the first INFO
    assert c.info("errorstats") == {}


def test_everysec_replies_held_behind_a_busy_fsync_all_reach_their_clients(fresh_server):
    """While the background fsync runs, new writes (and their replies) wait;
    with many clients some are held at each flush. Every held client must be
    flushed later: a lost one waits forever (regression: the newest-first
    flush overwrote held clients it had not visited yet)."""
    srv = fresh_server("--appendonly", "yes", "--appendfsync", "everysec")
    run = subprocess.run(["redis-benchmark", "-p", str(srv.port), "-q", "-t", "set,lpush", "-n", "300000",
                          "-c", "20", "-P", "8", "-r", "1000"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert "SET:" in run.stdout and "LPUSH:" in run.stdout, run.stdout


def open_aof_files(srv):
    return sorted(os.path.basename(t) for t in open_file_targets(srv.proc.pid) if "appendonlydir" in t)


def test_everysec_rewrites_close_the_files_they_leave_behind(aof_server):
    """At a rewrite's start the previous incremental file is fsync'd and
    closed by the background thread, not by the loop; each one must be
    closed once that is done, and nothing acknowledged before it is lost."""
    make, servers = aof_server
    srv = make("--appendfsync", "everysec")
    r = srv.client()
    for round_ in range(4):
        r.rpush("q", *range(round_ * 1000, round_ * 1000 + 1000))
        r.bgrewriteaof()
        deadline = time.time() + 10
        while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
            time.sleep(0.02)
    deadline = time.time() + 5
    while len(open_aof_files(srv)) > 1 and time.time() < deadline:
        time.sleep(0.02)
    files = open_aof_files(srv)
    assert len(files) == 1 and files[0].endswith(".incr.aof"), files
    r.rpush("q", "last")
    new = restart(srv, "--appendfsync", "everysec")
    servers.append(new)
    assert new.client().llen("q") == 4001


def test_waitaof_answers_as_soon_as_the_fsync_is_done(aof_server):
    """WAITAOF waits for the once-a-second fsync; when the background thread
    finishes one it wakes the loop, so the answer does not wait for the next
    event or cron tick (hz 1 here: up to a second without the wake-up)."""
    make, servers = aof_server
    srv = make("--appendfsync", "everysec", "--hz", "1")
    r = srv.client()
    waits = []
    for i in range(3):
        time.sleep(1.05)  # the next write asks for an fsync at once
        with r.pipeline(transaction=False) as p:
            p.set("k", i)
            p.execute_command("WAITAOF", 1, 0, 5000)
            start = time.monotonic()
            assert p.execute() == [True, [1, 0]]
            waits.append(time.monotonic() - start)
    assert sorted(waits)[1] < 0.1, waits
