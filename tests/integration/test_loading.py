"""Start-up loading: the server listens before it loads its AOF or snapshot,
answers INFO (loading:1 and the loading_* progress fields) and the other
commands Redis flags `loading` meanwhile, refuses the rest with LOADING, and
stops without saving when asked to shut down before the dataset is in."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import SERVER, RunnelProcess, free_port

N_KEYS = 2_000_000  # about 2 s to load on a quiet machine (either format), far more under ASan
LOADING = ("error", "LOADING Runnel is loading the dataset in memory")
LOAD_TIMEOUT = 180
BASE = "appendonly.aof.1.base.aof"


def write_aof(directory):
    """An AOF base of N_KEYS `SET key:<7 digits> value`, written directly."""
    os.makedirs(os.path.join(directory, "appendonlydir"))
    data = b"".join(b"*3\r\n$3\r\nSET\r\n$11\r\nkey:%07d\r\n$5\r\nvalue\r\n" % i for i in range(N_KEYS))
    with open(os.path.join(directory, "appendonlydir", BASE), "wb") as f:
        f.write(data)
    write_manifest(directory)


def write_manifest(directory):
    with open(os.path.join(directory, "appendonlydir", "appendonly.aof.manifest"), "w") as f:
        f.write("file %s seq 1 type b\n" % BASE)


def start_loading(directory, *args):
    """A server on `directory`, returned as soon as it accepts connections,
    which it does before it loads."""
    srv = RunnelProcess.__new__(RunnelProcess)
    srv.port = free_port()
    srv.dir = directory
    srv.log_path = os.path.join(directory, "server-%d.log" % time.time_ns())
    srv.log = open(srv.log_path, "w")
    srv.proc = subprocess.Popen([SERVER, "--port", str(srv.port), "--dir", directory, "--save", "",
                                 "--auto-aof-rewrite-percentage", "0", *args],
                                stdout=srv.log, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        assert srv.proc.poll() is None, srv.output()
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=0.2).close()
            return srv
        except OSError:
            time.sleep(0.005)
    raise AssertionError("server did not listen: " + srv.output())


def persistence(conn):
    text = conn.call("INFO", "persistence").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def assert_loading(info):
    assert info["loading"] == "1", "the load ended before it could be watched: raise N_KEYS"


def watch_progress(conn):
    """Polls INFO until loading ends; returns the loaded byte counts seen."""
    seen = []
    deadline = time.time() + LOAD_TIMEOUT
    while time.time() < deadline:
        info = persistence(conn)
        if info["loading"] == "0":
            assert "loading_loaded_bytes" not in info
            return seen
        seen.append(int(info["loading_loaded_bytes"]))
        assert 0.0 <= float(info["loading_loaded_perc"]) <= 100.0
        assert int(info["loading_eta_seconds"]) >= 0
        time.sleep(0.05)
    raise AssertionError("still loading after %d s" % LOAD_TIMEOUT)


@pytest.fixture(scope="module")
def aof_dataset():
    d = tempfile.mkdtemp(prefix="runnel-loading-src-")
    write_aof(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def snapshot_dataset(aof_dataset):
    """dump.rdb of the same keys, saved by a server that loaded the AOF."""
    d = tempfile.mkdtemp(prefix="runnel-loading-snap-")
    shutil.copytree(os.path.join(aof_dataset, "appendonlydir"), os.path.join(d, "appendonlydir"))
    srv = start_loading(d, "--appendonly", "yes")
    srv._wait_ready(timeout=LOAD_TIMEOUT)
    assert srv.client().save()
    srv.stop()
    shutil.rmtree(os.path.join(d, "appendonlydir"))
    yield os.path.join(d, "dump.rdb")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="runnel-loading-")
    servers = []
    yield d, servers
    for s in servers:
        s.stop()
    shutil.rmtree(d, ignore_errors=True)


def aof_server(workdir, aof_dataset):
    """A server loading its own link to the shared base (never written to:
    new writes go to a new incremental file)."""
    d, servers = workdir
    os.makedirs(os.path.join(d, "appendonlydir"))
    os.link(os.path.join(aof_dataset, "appendonlydir", BASE), os.path.join(d, "appendonlydir", BASE))
    write_manifest(d)
    srv = start_loading(d, "--appendonly", "yes")
    servers.append(srv)
    return srv


def snapshot_server(workdir, snapshot_dataset, *args):
    d, servers = workdir
    shutil.copyfile(snapshot_dataset, os.path.join(d, "dump.rdb"))
    srv = start_loading(d, *args)
    servers.append(srv)
    return srv


def test_aof_load_reports_progress_and_answers_loading(workdir, aof_dataset):
    srv = aof_server(workdir, aof_dataset)
    c = srv.raw()
    info = persistence(c)
    assert_loading(info)
    assert info["async_loading"] == "0"
    assert int(info["loading_total_bytes"]) == os.path.getsize(os.path.join(aof_dataset, "appendonlydir", BASE))
    assert info["loading_rdb_used_mem"] == "0"
    assert abs(int(info["loading_start_time"]) - time.time()) < 60
    assert "." in info["loading_loaded_perc"]
    assert c.call("PING") == LOADING  # PING is not a `loading` command in Redis 7 either
    assert c.call("SET", "k", "v") == LOADING
    assert c.call("ECHO", "hi") == b"hi"
    assert c.call("SELECT", "1") == "OK"
    r = srv.client()
    with pytest.raises(redis.BusyLoadingError):
        r.get("key:0000000")
    with pytest.raises(redis.BusyLoadingError):
        r.ping()
    # holds clients' writes, never the loader's (it would drop them)
    assert c.call("CLIENT", "PAUSE", "300", "WRITE") == "OK"

    seen = watch_progress(c)
    assert len(set(seen)) >= 2, seen
    assert seen == sorted(seen)

    # the connection accepted during loading works normally now
    assert c.call("PING") == "PONG"
    assert c.call("SELECT", "0") == "OK"
    assert c.call("DBSIZE") == N_KEYS
    assert c.call("GET", "key:%07d" % (N_KEYS - 1)) == b"value"
    assert r.set("after", "1") is True
    info = persistence(c)
    assert info["loading"] == "0"
    assert "loading_total_bytes" not in info
    assert "Ready to accept connections" in srv.output()


def test_nothing_sent_while_loading_runs_against_the_partial_dataset(workdir, aof_dataset):
    srv = aof_server(workdir, aof_dataset)
    monitor = srv.raw()
    assert monitor.call("MONITOR") == "OK"
    c = srv.raw()
    pipeline = [("SET", "key:0000000", "overwritten"), ("DEL", "key:0000001"), ("GET", "key:0000002"),
                ("MULTI",), ("SET", "key:0000003", "x"), ("EXEC",), ("INFO", "persistence"), ("FLUSHALL",),
                ("CONFIG", "SET", "appendonly", "no"), ("DEBUG", "RELOAD"), ("PING",)]
    c.send(b"".join(b"*%d\r\n" % len(cmd) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in cmd)
                    for cmd in pipeline))
    replies = [c.read_reply() for _ in pipeline]
    assert replies[:3] == [LOADING] * 3
    assert replies[3] == "OK" and replies[4] == LOADING
    assert replies[5][0] == "error" and replies[5][1].startswith("EXECABORT")
    assert b"loading:1\r\n" in replies[6], "the load ended before it could be watched: raise N_KEYS"
    # FLUSHALL is refused like any write; CONFIG SET appendonly and DEBUG
    # RELOAD (which would save the half-loaded dataset) are `loading`
    # commands that refuse to act while it loads
    assert replies[7:] == [LOADING] * 4
    lines = c.call("CLIENT", "LIST").decode().strip().split("\n")
    assert len(lines) == 2 and all("fd=-1" not in line for line in lines)  # the loader is not a client
    assert c.call("CONFIG", "SET", "appendfsync", "always") == "OK"  # other settings are fine

    watch_progress(c)
    assert c.call("SET", "after", "1") == "OK"
    # the monitor saw what clients ran, never what the loader replayed
    while True:
        line = monitor.read_reply()
        assert "key:" not in line, line
        if '"after"' in line:
            break
    for i in range(4):
        assert c.call("GET", "key:%07d" % i) == b"value"
    assert c.call("DBSIZE") == N_KEYS + 1
    assert c.call("CONFIG", "GET", "appendonly") == [b"appendonly", b"yes"]


def test_snapshot_load_reports_progress(workdir, snapshot_dataset):
    srv = snapshot_server(workdir, snapshot_dataset)
    c = srv.raw()
    info = persistence(c)
    assert_loading(info)
    assert int(info["loading_total_bytes"]) == os.path.getsize(snapshot_dataset)
    assert c.call("GET", "key:0000000") == LOADING
    seen = watch_progress(c)
    assert seen == sorted(seen)
    assert max(seen) > 0
    assert c.call("DBSIZE") == N_KEYS
    assert persistence(c)["rdb_last_load_keys_loaded"] == str(N_KEYS)


def file_state(path):
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def test_shutdown_while_loading_exits_without_saving(workdir, snapshot_dataset):
    d, _ = workdir
    srv = snapshot_server(workdir, snapshot_dataset, "--save", "3600 1")
    dump = os.path.join(d, "dump.rdb")
    before = file_state(dump)
    c = srv.raw()
    assert_loading(persistence(c))
    c.command("SHUTDOWN", "SAVE")  # even SAVE: the dataset is not all there
    assert c.closed(timeout=30)
    assert srv.proc.wait(timeout=30) == 0
    out = srv.output()
    assert "exiting without saving" in out
    assert "DB loaded from disk" not in out
    assert file_state(dump) == before
    assert glob.glob(os.path.join(d, "temp-*.rdb")) == []


def test_sigterm_while_loading_the_aof_exits_promptly_without_touching_it(workdir, aof_dataset):
    d, _ = workdir
    srv = aof_server(workdir, aof_dataset)
    files = sorted(glob.glob(os.path.join(d, "appendonlydir", "*")))
    before = [file_state(f) for f in files]
    c = srv.raw()
    assert_loading(persistence(c))
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=30) == 0
    out = srv.output()
    assert "exiting without saving" in out
    assert "Done loading the AOF" not in out
    assert sorted(glob.glob(os.path.join(d, "appendonlydir", "*"))) == files
    assert [file_state(f) for f in files] == before


def test_maxmemory_does_not_refuse_what_the_aof_replays(workdir):
    """The file holds writes that were accepted: replaying them is not
    subject to maxmemory (the limit applies to clients once it is loaded)."""
    d, servers = workdir
    os.makedirs(os.path.join(d, "appendonlydir"))
    value = b"v" * 1000
    with open(os.path.join(d, "appendonlydir", BASE), "wb") as f:
        f.write(b"".join(b"*3\r\n$3\r\nSET\r\n$6\r\nk%05d\r\n$1000\r\n%s\r\n" % (i, value) for i in range(10000)))
    write_manifest(d)
    srv = start_loading(d, "--appendonly", "yes", "--maxmemory", "4mb")
    servers.append(srv)
    srv._wait_ready(timeout=LOAD_TIMEOUT)
    r = srv.client()
    assert r.dbsize() == 10000
    if r.info("memory")["used_memory"] > 4 * 1024 * 1024:  # not measured under ASan's allocator
        with pytest.raises(redis.ResponseError, match="^OOM "):
            r.set("more", value)
