"""Integration fixtures: start build/runnel-server on a free port, connect
with redis-py (RESP2 and RESP3) or a raw socket. Nothing is built here."""
import os
import socket
import subprocess
import tempfile
import time

import pytest
import redis

SERVER = os.environ.get("RUNNEL_SERVER", os.path.join(os.path.dirname(__file__), "..", "..", "build", "runnel-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoggedProcess:
    """A child process whose stdout and stderr go to a log file."""

    def __init__(self, cmd, log_path, **popen_kw):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, **popen_kw)

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


IO_ENGINE = os.environ.get("RUNNEL_IO_ENGINE", "")
SERVER_ARGS = os.environ.get("RUNNEL_SERVER_ARGS", "").split()


class RunnelProcess(LoggedProcess):
    """One server process on a free port, with its own working directory.
    `host` is the address it is reached at; `prefix` comes before the
    command (a network namespace: `ip netns exec NAME`)."""

    host = "127.0.0.1"  # also for instances made without __init__ (restarts in place)

    def __init__(self, *args, config_text=None, host="127.0.0.1", prefix=()):
        self.port = free_port()
        self.host = host
        self.dir = tempfile.mkdtemp(prefix="runnel-test-")
        cmd = [*prefix, SERVER]
        if config_text is not None:
            self.config_path = os.path.join(self.dir, "runnel.conf")
            with open(self.config_path, "w") as f:
                f.write(config_text)
            cmd.append(self.config_path)
        # RUNNEL_SERVER_ARGS runs the whole suite with extra settings (for
        # example "--stream-compress-depth 1"); a test's own arguments win
        cmd += ["--port", str(self.port), "--dir", self.dir, "--save", "", *SERVER_ARGS, *args]
        # RUNNEL_IO_ENGINE runs the whole suite on one engine (uring, epoll)
        if IO_ENGINE and "--io-engine" not in args:
            cmd += ["--io-engine", IO_ENGINE]
        super().__init__(cmd, os.path.join(self.dir, "stdout.log"))
        self._wait_ready()

    def _wait_ready(self, timeout=10):
        """Until the server has loaded its dataset: it listens (and answers
        LOADING) while it loads, and logs "Ready to accept connections" once
        done. Probing with a command would show up in its statistics."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.output())
            if "Ready to accept connections" in self.output() and self._accepts():
                return
            time.sleep(0.02)
        raise RuntimeError("server did not start: " + self.output())

    def _accepts(self):
        try:
            socket.create_connection((self.host, self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def raw(self):
        return RawConnection(self.port)


class RawConnection:
    """A plain socket for protocol-level tests: send bytes, read replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.send(out)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_reply(self):
        """Parses one RESP2/RESP3 reply into Python values; errors come back
        as ('error', text), pushes as ('push', [...]), verbatim as str."""
        line = self.read_line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return ("error", rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.read_exact(n + 2)[:-2]
            return data
        if t == b"=":
            n = int(rest)
            data = self.read_exact(n + 2)[:-2]
            return data[4:].decode()
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read_reply() for _ in range(n)]
            if t == b">":
                return ("push", items)
            if t == b"~":
                return ("set", items)
            return items
        if t == b"%":
            n = int(rest)
            return {self._key(self.read_reply()): self.read_reply() for _ in range(n)}
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        raise AssertionError("unknown reply type %r" % line)

    @staticmethod
    def _key(k):
        return k.decode() if isinstance(k, bytes) else k

    def call(self, *args):
        self.command(*args)
        return self.read_reply()

    def closed(self, timeout=2):
        """True if the server closed the connection (reads EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def open_file_targets(pid):
    """What each of a process's open descriptors points at (paths, with
    " (deleted)" after a removed file's), from /proc."""
    fd_dir = "/proc/%d/fd" % pid
    targets = []
    for fd in os.listdir(fd_dir):
        try:
            targets.append(os.readlink(os.path.join(fd_dir, fd)))
        except FileNotFoundError:
            pass  # closed while we looked
    return targets


def blocked_count(r):
    """Clients blocked in BLPOP, XREAD BLOCK and the like, from INFO."""
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n, timeout=5):
    """Waits until at least n clients are blocked (a waiter's command has
    been processed), failing after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if blocked_count(r) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("expected %d blocked clients, have %d" % (n, blocked_count(r)))


# An ASan/UBSan build prints its reports to the server's log; leak reports
# are written at exit, so the check stops the server first.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def assert_no_sanitizer_report(srv):
    srv.stop()
    with open(srv.log_path, errors="replace") as f:
        text = f.read()
    found = [m for m in SANITIZER_MARKERS if m in text]
    assert not found, "sanitizer report in %s:\n%s" % (srv.log_path, text[-8000:])


def memory_after_load(r, key, commands):
    """Runs commands (argument lists) and returns the MEMORY USAGE of key and
    how much INFO used_memory grew from the first command to the last, with
    what MEMORY USAGE said after the first. The first command also pays for
    the connection's buffers, so it is left out of the growth. Skips the
    test where the allocator keeps no statistics (sanitizer builds)."""
    r.execute_command(*commands[0])
    before, usage_before = r.info("memory")["used_memory"], r.memory_usage(key)
    for args in commands[1:]:
        r.execute_command(*args)
    grown = r.info("memory")["used_memory"] - before
    if grown == 0:
        pytest.skip("no allocator statistics (sanitizer build)")
    usage = r.memory_usage(key)
    return usage, grown, usage - usage_before


class ExternalServer:
    """A server started by someone else: redis-server, to run a test file
    against it for comparison (REDIS_COMPAT_PORT=<its port>)."""

    def __init__(self, port):
        self.port = port

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def raw(self):
        return RawConnection(self.port)


@pytest.fixture(scope="module")
def server():
    if os.environ.get("REDIS_COMPAT_PORT"):
        yield ExternalServer(int(os.environ["REDIS_COMPAT_PORT"]))
        return
    srv = RunnelProcess()
    yield srv
    assert_no_sanitizer_report(srv)


@pytest.fixture
def r(server):
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def raw3(server):
    """A raw connection switched to RESP3 (redis-py 4.3 speaks only RESP2)."""
    conn = server.raw()
    hello = conn.call("HELLO", "3")
    assert hello["proto"] == 3
    yield conn
    conn.close()


@pytest.fixture
def raw(server):
    conn = server.raw()
    yield conn
    conn.close()


@pytest.fixture
def raw_flushed(r, server):
    """A raw connection to a server emptied first (through r)."""
    conn = server.raw()
    yield conn
    conn.close()


@pytest.fixture
def fresh_server():
    """A server of the test's own, for tests that change configuration or
    kill connections."""
    started = []

    def start(*args, **kw):
        srv = RunnelProcess(*args, **kw)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        assert_no_sanitizer_report(srv)


@pytest.fixture
def started_servers():
    """A list the test appends every server it starts (restarts included);
    all are stopped afterwards and their logs checked for sanitizer reports."""
    started = []
    yield started
    for srv in started:
        assert_no_sanitizer_report(srv)
