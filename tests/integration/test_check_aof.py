"""runnel-check-aof: validates a manifest's files (or one file), reports the
first bad offset and command number, and with --fix truncates a torn last
file so that the server starts from it cleanly."""
import glob
import os
import re
import subprocess
import time

import pytest

from conftest import SERVER, RunnelProcess, free_port

BUILD = os.environ.get("RUNNEL_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
CHECK_AOF = os.path.join(BUILD, "runnel-check-aof")

pytestmark = pytest.mark.skipif(not os.path.exists(CHECK_AOF), reason="build/runnel-check-aof is not built")


def check_aof(*args):
    res = subprocess.run([CHECK_AOF, *args], capture_output=True, text=True, timeout=30)
    return res.returncode, res.stdout + res.stderr


def aof_dir(srv):
    return os.path.join(srv.dir, "appendonlydir")


def manifest(srv):
    return os.path.join(aof_dir(srv), "appendonly.aof.manifest")


def last_incr(srv):
    return sorted(glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))[-1]


def start_on(directory, *args):
    srv = RunnelProcess.__new__(RunnelProcess)
    srv.port = free_port()
    srv.dir = directory
    cmd = [SERVER, "--port", str(srv.port), "--dir", directory, "--save", "", "--appendonly", "yes", *args]
    srv.log_path = os.path.join(directory, "restart-%d.log" % time.time_ns())
    srv.log = open(srv.log_path, "w")
    srv.proc = subprocess.Popen(cmd, stdout=srv.log, stderr=subprocess.STDOUT)
    srv._wait_ready()
    return srv


@pytest.fixture
def aof_server():
    servers = []

    def make(*args):
        srv = RunnelProcess("--appendonly", "yes", "--appendfsync", "always", *args)
        servers.append(srv)
        return srv

    def restart(srv, *args):
        srv.stop()
        new = start_on(srv.dir, *args)
        servers.append(new)
        return new

    yield make, restart
    for s in servers:
        s.stop()


def fill(srv, n=20):
    r = srv.client()
    for i in range(n):
        r.set("k%d" % i, "v%d" % i)
    r.rpush("list", *range(10))
    p = r.pipeline(transaction=True)
    p.incr("counter")
    p.incr("counter")
    p.execute()
    return r


def test_valid_manifest_and_single_file(aof_server):
    make, restart = aof_server
    srv = make()
    fill(srv)
    srv.stop()
    code, out = check_aof(manifest(srv))
    assert code == 0, out
    assert "AOF %s is valid" % last_incr(srv) in out
    code, out = check_aof(last_incr(srv))
    assert code == 0, out
    assert "is valid" in out


def rewrite(srv, r):
    r.bgrewriteaof()
    deadline = time.time() + 10
    while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    while "type b" not in open(manifest(srv)).read() and time.time() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("preamble,base", [("yes", ".base.rdb is valid (a snapshot base"), ("no", ".base.aof is valid")])
def test_valid_base_and_incr_after_rewrite(aof_server, preamble, base):
    make, restart = aof_server
    srv = make("--aof-use-rdb-preamble", preamble)
    r = fill(srv)
    rewrite(srv, r)
    r.set("after", "rewrite")
    srv.stop()
    code, out = check_aof(manifest(srv))
    assert code == 0, out
    assert out.count("is valid") == 2
    assert base in out
    if preamble == "yes":
        assert "CRC-64 checked" in out


def test_damaged_snapshot_base_is_reported_and_not_fixed(aof_server):
    make, restart = aof_server
    srv = make()
    r = fill(srv)
    r.set("marker", "a value to damage")
    rewrite(srv, r)
    srv.stop()
    base = glob.glob(os.path.join(aof_dir(srv), "*.base.rdb"))[0]
    data = bytearray(open(base, "rb").read())
    data[data.index(b"a value to damage")] ^= 0x20
    open(base, "wb").write(bytes(data))
    for args in ((), ("--fix",)):
        code, out = check_aof(*args, manifest(srv))
        assert code == 1, out
        assert "bad snapshot base: checksum mismatch" in out, out
    assert "truncation cannot repair it" in out
    assert open(base, "rb").read() == bytes(data)
    # a cut file is reported with the offset where its records stop
    open(base, "wb").write(bytes(data[:len(data) // 2]))
    code, out = check_aof(manifest(srv))
    assert code == 1 and "truncated" in out and "offset" in out, out


def test_torn_tail_is_reported_then_fixed_and_the_server_starts(aof_server):
    make, restart = aof_server
    srv = make()
    fill(srv)
    srv.stop()
    incr = last_incr(srv)
    good = os.path.getsize(incr)
    commands = open(incr, "rb").read().count(b"*")  # no '*' inside these values
    tail = b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval"
    with open(incr, "ab") as f:
        f.write(tail)
    code, out = check_aof(manifest(srv))
    assert code == 1
    assert "bad format at offset %d, in command #%d" % (good, commands + 1) in out
    assert "Use the --fix option" in out
    code, out = check_aof("--fix", manifest(srv))
    assert code == 0, out
    assert "Successfully truncated AOF %s from %d to %d bytes" % (incr, good + len(tail), good) in out
    assert os.path.getsize(incr) == good
    code, out = check_aof(manifest(srv))
    assert code == 0, out
    # the fixed file loads even when torn tails are not tolerated
    new = restart(srv, "--aof-load-truncated", "no")
    c = new.client()
    assert c.get("k19") == b"v19"
    assert c.get("counter") == b"2"
    assert c.exists("torn") == 0


def test_unfinished_multi_is_cut_before_multi(aof_server):
    make, restart = aof_server
    srv = make()
    fill(srv)
    srv.stop()
    incr = last_incr(srv)
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
    code, out = check_aof(incr)
    assert code == 1
    assert "MULTI without EXEC" in out
    assert "offset %d" % good in out
    code, out = check_aof("--fix", incr)
    assert code == 0, out
    assert os.path.getsize(incr) == good
    new = restart(srv, "--aof-load-truncated", "no")
    assert new.client().exists("x") == 0


def test_corruption_is_reported_with_offset_and_command_number(aof_server):
    make, restart = aof_server
    srv = make()
    fill(srv)
    srv.stop()
    incr = last_incr(srv)
    data = open(incr, "rb").read()
    pos = data.index(b"*3\r\n$3\r\nSET\r\n$2\r\nk5\r\n")
    before = data[:pos].count(b"\r\n*") + (1 if data.startswith(b"*") else 0)
    open(incr, "wb").write(data[:pos] + b"!garbage\r\n" + data[pos:])
    code, out = check_aof(manifest(srv))
    assert code == 1
    m = re.search(r"bad format at offset (\d+), in command #(\d+)", out)
    assert m, out
    assert int(m.group(1)) == pos
    assert int(m.group(2)) == before + 1
    # a protocol error inside a command
    bad = data[:pos] + b"*3\r\n$3\r\nSET\r\n$x\r\n" + data[pos:]
    open(incr, "wb").write(bad)
    code, out = check_aof(incr)
    assert code == 1
    assert "offset %d" % pos in out
    # --fix in the last file cuts at the last good command, and says so
    code, out = check_aof("--fix", incr)
    assert code == 0, out
    assert "damaged before its end" in out
    assert os.path.getsize(incr) == pos
    new = restart(srv, "--aof-load-truncated", "no")
    c = new.client()
    assert c.get("k4") == b"v4"
    assert c.exists("k5") == 0


def test_damage_in_an_earlier_file_is_not_fixed(aof_server):
    make, restart = aof_server
    srv = make("--aof-use-rdb-preamble", "no")
    r = fill(srv)
    rewrite(srv, r)
    r.set("after", "rewrite")
    srv.stop()
    base = glob.glob(os.path.join(aof_dir(srv), "*.base.aof"))[0]
    data = open(base, "rb").read()
    open(base, "wb").write(data[:-5])
    code, out = check_aof("--fix", manifest(srv))
    assert code == 1
    assert "not the last file" in out
    assert os.path.getsize(base) == len(data) - 5


def test_usage_errors(aof_server):
    code, out = check_aof()
    assert code == 1 and "Usage" in out
    code, out = check_aof("--bogus", "x")
    assert code == 1
    code, out = check_aof("/nonexistent/file.aof")
    assert code == 1 and "Cannot open" in out
