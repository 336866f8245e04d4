"""A full disk under `appendfsync always`: writes are refused with MISCONF
while the AOF cannot be written, reads keep working and nothing crashes;
once space is freed writes are accepted again, and everything that was
acknowledged is there after a restart.

The test makes a small filesystem of its own: a 2 MB tmpfs, or failing that
an ext4 image on a loop device (both need root, as CI runs); it is skipped
with the reason when neither can be mounted."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import SERVER, RawConnection, RunnelProcess, free_port

VALUE = b"v" * 8192


def run(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


def mount_small_fs(mountpoint, scratch):
    """Mounts a small filesystem on mountpoint; returns how, or skips."""
    res = run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountpoint)
    if res.returncode == 0:
        return "tmpfs"
    reasons = ["tmpfs: " + (res.stderr.strip() or "mount failed")]
    img = os.path.join(scratch, "fs.img")
    steps = (("truncate", "-s", "4M", img), ("mkfs.ext4", "-q", "-F", img), ("mount", "-o", "loop", img, mountpoint))
    for step in steps:
        try:
            res = run(*step)
        except FileNotFoundError as e:
            reasons.append("loop file: %s" % e)
            break
        if res.returncode != 0:
            reasons.append("loop file: %s: %s" % (step[0], res.stderr.strip() or "failed"))
            break
    else:
        return "loop"
    pytest.skip("cannot mount a small filesystem to fill (needs root): " + "; ".join(reasons))


@pytest.fixture
def small_fs():
    scratch = tempfile.mkdtemp(prefix="runnel-diskfull-")
    mnt = os.path.join(scratch, "mnt")
    os.mkdir(mnt)
    mounted = False
    try:
        mount_small_fs(mnt, scratch)
        mounted = True
        yield scratch, mnt
    finally:
        if mounted and run("umount", mnt).returncode != 0:
            run("umount", "-l", mnt)
        shutil.rmtree(scratch, ignore_errors=True)


def start_server(scratch, data_dir, name):
    """A server whose data lives on the small filesystem and whose log does not."""
    srv = RunnelProcess.__new__(RunnelProcess)
    srv.port = free_port()
    srv.dir = data_dir
    srv.log_path = os.path.join(scratch, name + ".log")
    srv.log = open(srv.log_path, "w")
    cmd = [SERVER, "--port", str(srv.port), "--dir", data_dir, "--save", "", "--appendonly", "yes",
           "--appendfsync", "always"]
    srv.proc = subprocess.Popen(cmd, stdout=srv.log, stderr=subprocess.STDOUT)
    srv._wait_ready()
    return srv


def read_reply_within(conn, seconds):
    """The next reply, or None if none comes in time (it is being held)."""
    conn.sock.settimeout(seconds)
    try:
        return conn.read_reply()
    except socket.timeout:
        return None
    finally:
        conn.sock.settimeout(5)


def test_full_disk_refuses_writes_then_recovers(small_fs):
    scratch, mnt = small_fs
    filler = os.path.join(mnt, "filler")
    with open(filler, "wb") as f:
        f.write(os.urandom(1024 * 1024))
    servers = []
    try:
        srv = start_server(scratch, mnt, "first")
        servers.append(srv)
        writer = srv.raw()
        acked = []
        pending = None
        for i in range(2000):
            key = "key:%d" % i
            writer.command("SET", key, VALUE)
            reply = read_reply_within(writer, 2)
            if reply == "OK":
                acked.append(key)
                continue
            if reply is None:  # its bytes could not be made durable: the reply waits
                pending = key
                break
            assert reply[0] == "error" and reply[1].startswith("MISCONF"), reply
            break
        else:
            pytest.fail("the disk never filled up")
        assert len(acked) > 10

        other = srv.raw()
        refused = other.call("SET", "probe", "x")
        assert refused[0] == "error"
        assert refused[1].startswith("MISCONF Errors writing to the AOF file: No space left on device"), refused
        assert other.call("GET", acked[0]) == VALUE  # reads keep working
        assert other.call("EXISTS", acked[-1]) == 1
        info = other.call("INFO", "persistence").decode()
        assert "aof_last_write_status:err" in info
        assert srv.proc.poll() is None

        os.unlink(filler)
        deadline = time.time() + 10
        if pending is not None:
            reply = read_reply_within(writer, 10)
            assert reply == "OK", reply  # written and fsync'd at last
            acked.append(pending)
        while other.call("SET", "probe", "x") != "OK":
            assert time.time() < deadline, "writes still refused after space was freed"
            time.sleep(0.1)
        acked.append("probe")
        for i in range(20):
            assert writer.call("SET", "after:%d" % i, VALUE) == "OK"
            acked.append("after:%d" % i)
        info = other.call("INFO", "persistence").decode()
        assert "aof_last_write_status:ok" in info
        writer.close()
        other.close()
        srv.stop()
        assert srv.proc.returncode == 0

        again = start_server(scratch, mnt, "second")
        servers.append(again)
        c = again.raw()
        for key in acked:
            expected = b"x" if key == "probe" else VALUE
            assert c.call("GET", key) == expected, key
        c.close()
    finally:
        for s in servers:
            s.stop()


def test_full_disk_fails_snapshots_without_damaging_the_previous_one(small_fs):
    scratch, mnt = small_fs
    srv = RunnelProcess.__new__(RunnelProcess)
    srv.port = free_port()
    srv.dir = mnt
    srv.log_path = os.path.join(scratch, "snap.log")
    srv.log = open(srv.log_path, "w")
    srv.proc = subprocess.Popen([SERVER, "--port", str(srv.port), "--dir", mnt, "--save", "3600 1"],
                                stdout=srv.log, stderr=subprocess.STDOUT)
    try:
        srv._wait_ready()
        c = srv.raw()
        assert c.call("SET", "small", "1") == "OK"
        assert c.call("SAVE") == "OK"
        saved = open(os.path.join(mnt, "dump.rdb"), "rb").read()
        for i in range(150):
            assert c.call("SET", "big:%d" % i, VALUE) == "OK"
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb", buffering=0) as f:  # every free block, whatever the filesystem
            try:
                while True:
                    f.write(os.urandom(65536))
            except OSError:
                pass
        assert c.call("SAVE") == ("error", "ERR")
        assert open(os.path.join(mnt, "dump.rdb"), "rb").read() == saved
        assert not [f for f in os.listdir(mnt) if f.startswith("temp-")]
        assert c.call("BGSAVE") == "Background saving started"
        deadline = time.time() + 10
        while "rdb_bgsave_in_progress:1" in c.call("INFO", "persistence").decode():
            assert time.time() < deadline
            time.sleep(0.05)
        assert "rdb_last_bgsave_status:err" in c.call("INFO", "persistence").decode()
        refused = c.call("SET", "x", "1")
        assert refused[0] == "error" and refused[1].startswith("MISCONF Runnel is configured to save RDB snapshots")
        assert c.call("GET", "small") == b"1"
        assert "No space left on device" in open(srv.log_path).read()
        os.unlink(filler)
        assert c.call("SAVE") == "OK"
        assert c.call("SET", "x", "1") == "OK"
        # a final save would need room for a second copy: exit without it
        c.command("SHUTDOWN", "NOSAVE")
        assert c.closed(timeout=5)
        assert srv.proc.wait(timeout=10) == 0
        c.close()
    finally:
        srv.stop()
