"""The io_uring engine (io-engine uring) on the behaviours that lean on the
network layer most: big pipelines, big values, slow readers and output
limits, CLIENT KILL, many connections, half-closed sockets, replication —
and io-engine itself: what INFO shows, that it is fixed at start, and that
auto falls back to epoll where io_uring_setup is refused."""

import ctypes
import os
import platform
import socket
import struct
import subprocess
import time

import pytest
import redis

from conftest import SERVER, RunnelProcess, free_port

pytestmark = pytest.mark.skipif(platform.system() != "Linux", reason="io_uring is Linux's")


def uring_available():
    try:
        srv = RunnelProcess("--io-engine", "uring")
    except RuntimeError:
        return False
    srv.stop()
    return True


@pytest.fixture(scope="module", params=["uring", "epoll"])
def srv(request):
    """Each behaviour on io_uring, and on epoll for the same answers."""
    if request.param == "uring" and not uring_available():
        pytest.skip("io_uring is not available here")
    s = RunnelProcess("--io-engine", request.param, "--client-output-buffer-limit", "normal 32mb 0 0",
                      "--repl-diskless-sync-delay", "0")
    s.engine = request.param
    yield s
    s.stop()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_exactly(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def read_until_eof(s, timeout=5):
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def test_info_shows_the_engine(srv):
    r = srv.client()
    info = r.info("server")
    assert info["io_engine"] == srv.engine
    assert info["multiplexing_api"] == {"uring": "io_uring", "epoll": "epoll"}[srv.engine]
    assert r.config_get("io-engine") == {"io-engine": srv.engine}
    with pytest.raises(redis.ResponseError):
        r.config_set("io-engine", "auto")


def test_big_pipeline_gets_every_reply_in_order(srv):
    s = connect(srv.port)
    n = 20000
    s.sendall(b"".join(resp("INCR", "io:pipe") for _ in range(n)))
    expected = b"".join(b":%d\r\n" % i for i in range(1, n + 1))
    assert read_exactly(s, len(expected)) == expected
    s.close()


def test_big_value_in_and_out(srv):
    r = srv.client()
    value = os.urandom(8 * 1024 * 1024)
    assert r.set("io:big", value)
    assert r.get("io:big") == value
    # and many big replies queued at once to one reader
    s = connect(srv.port)
    s.sendall(resp("GET", "io:big") * 3)
    reply = b"$%d\r\n" % len(value) + value + b"\r\n"
    assert read_exactly(s, 3 * len(reply)) == reply * 3
    s.close()


def test_slow_reader_gets_everything_once_it_reads(srv):
    r = srv.client()
    r.set("io:slow", b"v" * 100000)
    s = connect(srv.port)
    s.sendall(resp("GET", "io:slow") * 200)  # 20 MB, under the 32 MB limit
    time.sleep(0.3)  # the socket fills; the rest waits in the server
    assert r.ping()  # which keeps serving others meanwhile
    reply = b"$100000\r\n" + b"v" * 100000 + b"\r\n"
    assert read_exactly(s, 200 * len(reply)) == reply * 200
    s.close()


def test_slow_reader_over_the_output_limit_is_closed(srv):
    r = srv.client()
    before = r.info("stats")["client_output_buffer_limit_disconnections"]
    r.set("io:limit", b"w" * 100000)
    s = connect(srv.port)
    s.sendall(resp("GET", "io:limit") * 600)  # 60 MB never read
    deadline = time.time() + 10
    while time.time() < deadline:
        if r.info("stats")["client_output_buffer_limit_disconnections"] > before:
            break
        time.sleep(0.05)
    assert r.info("stats")["client_output_buffer_limit_disconnections"] == before + 1
    # what the server still held when it cut the reader off is dropped: the
    # reader gets at most what the kernel buffers took, then the end
    data, ended = read_until_eof(s)
    assert ended and len(data) < 600 * 100000
    s.close()


def test_client_kill_closes_the_socket_at_once(srv):
    r = srv.client()
    s = connect(srv.port)
    s.sendall(resp("CLIENT", "ID"))
    line = s.recv(100)
    cid = int(line[1:].strip())
    assert r.client_kill_filter(_id=cid) == 1
    t0 = time.time()
    data, ended = read_until_eof(s, timeout=3)
    assert ended and data == b""
    assert time.time() - t0 < 1
    s.close()


def test_many_connections(srv):
    r = srv.client()
    base = r.info("clients")["connected_clients"]
    socks = [connect(srv.port) for _ in range(400)]
    for s in socks:
        s.sendall(resp("PING"))
    for s in socks:
        assert read_exactly(s, 7) == b"+PONG\r\n"
    # (base may still count a connection an earlier test closed)
    assert r.info("clients")["connected_clients"] >= 400 + 1
    for s in socks:
        s.close()
    deadline = time.time() + 5
    while time.time() < deadline and r.info("clients")["connected_clients"] > base:
        time.sleep(0.05)
    assert r.info("clients")["connected_clients"] <= base


def test_half_closed_socket_still_gets_its_replies(srv):
    """A client that sends its last requests and shuts its side down (as a
    one-shot `printf ... | nc`) gets every reply, then the end."""
    s = connect(srv.port)
    s.sendall(resp("SET", "io:half", "1") + resp("INCR", "io:half") + resp("GET", "io:half"))
    s.shutdown(socket.SHUT_WR)
    data, ended = read_until_eof(s)
    assert ended and data == b"+OK\r\n:2\r\n$1\r\n2\r\n"
    s.close()


def test_quit_reply_then_close(srv):
    s = connect(srv.port)
    s.sendall(resp("PING") + resp("QUIT") + resp("PING"))
    data, ended = read_until_eof(s)
    assert ended and data == b"+PONG\r\n+OK\r\n"
    s.close()


def test_protocol_error_reply_then_close(srv):
    s = connect(srv.port)
    s.sendall(b"*1\r\n$x\r\n")
    data, ended = read_until_eof(s)
    assert ended and data.startswith(b"-ERR Protocol error")
    s.close()


def test_garbage_from_many_clients_leaves_the_server_serving(srv):
    socks = [connect(srv.port) for _ in range(20)]
    for i, s in enumerate(socks):
        s.sendall(os.urandom(4096) if i % 2 else b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999\r\n")
    for s in socks:
        s.close()
    assert srv.client().ping()


def test_replication_over_uring(srv):
    replica = RunnelProcess("--io-engine", srv.engine, "--replicaof", "127.0.0.1", str(srv.port))
    try:
        r = srv.client()
        pipe = r.pipeline(transaction=False)
        for i in range(2000):
            pipe.rpush("io:repl", i)
        pipe.execute()
        rc = replica.client()
        deadline = time.time() + 10
        while time.time() < deadline and rc.llen("io:repl") != 2000:
            time.sleep(0.05)
        assert rc.lrange("io:repl", 0, -1) == [str(i).encode() for i in range(2000)]
        assert rc.info("server")["io_engine"] == srv.engine
    finally:
        replica.stop()


# ---- auto falls back to epoll where io_uring_setup is refused ----

SYS_IO_URING_SETUP = 425
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
AUDIT_ARCH_X86_64 = 0xC000003E
EPERM = 1


def refuse_io_uring_setup():
    """preexec_fn: a seccomp filter making io_uring_setup fail with EPERM,
    as a container's default profile does."""
    def stmt(code, k):
        return struct.pack("HBBI", code, 0, 0, k)

    def jump(code, k, jt, jf):
        return struct.pack("HBBI", code, jt, jf, k)

    prog = b"".join([
        stmt(0x20, 4),                                  # ld arch
        jump(0x15, AUDIT_ARCH_X86_64, 1, 0),            # jeq x86_64
        stmt(0x06, 0x7FFF0000),                         # ret allow (other arch: leave it)
        stmt(0x20, 0),                                  # ld nr
        jump(0x15, SYS_IO_URING_SETUP, 0, 1),           # jeq io_uring_setup
        stmt(0x06, 0x00050000 | EPERM),                 # ret errno(EPERM)
        stmt(0x06, 0x7FFF0000),                         # ret allow
    ])
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HxxxxxxP", len(prog) // 8, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    libc = ctypes.CDLL(None, use_errno=True)
    ul = ctypes.c_ulong
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ul(1), ul(0), ul(0), ul(0)) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(PR_SET_SECCOMP, ul(SECCOMP_MODE_FILTER), ul(ctypes.addressof(fbuf)), ul(0), ul(0)) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter is written for x86_64")
def test_auto_falls_back_to_epoll_when_io_uring_is_refused(tmp_path):
    port = free_port()
    argv = [SERVER, "--port", str(port), "--save", "", "--dir", str(tmp_path), "--io-engine", "auto"]
    log = open(tmp_path / "out.log", "wb")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=refuse_io_uring_setup)
    try:
        r = redis.Redis(port=port, socket_timeout=5)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        assert r.info("server")["io_engine"] == "epoll"
        assert r.set("k", "v") and r.get("k") == b"v"
        text = (tmp_path / "out.log").read_text()
        assert "io-engine auto: using epoll" in text and "refused" in text
    finally:
        p.terminate()
        p.wait(10)
        log.close()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter is written for x86_64")
def test_uring_refused_is_a_start_error(tmp_path):
    argv = [SERVER, "--port", str(free_port()), "--save", "", "--dir", str(tmp_path), "--io-engine", "uring"]
    p = subprocess.run(argv, capture_output=True, timeout=10, preexec_fn=refuse_io_uring_setup)
    assert p.returncode != 0
    assert b"io_uring can't be used here" in p.stdout + p.stderr


def test_http_answer_then_close_arrives_whole(srv):
    """The HTTP endpoint's connections ride the same engine: an answer sent
    with Connection: close is all out before the write side is shut."""
    http_port = free_port()
    s = RunnelProcess("--io-engine", srv.engine, "--http-port", str(http_port))
    try:
        for _ in range(5):
            c = socket.create_connection(("127.0.0.1", http_port), timeout=5)
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data, ended = read_until_eof(c)
            c.close()
            head, _, body = data.partition(b"\r\n\r\n")
            assert ended and head.startswith(b"HTTP/1.1 200")
            length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
            assert len(body) == length > 0
    finally:
        s.stop()
