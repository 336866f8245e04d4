"""Starting Runnel and redis-server side by side for the bench scripts.

bench/compare and bench/frameworks.py start both servers the same way: on a
free loopback port, in their own working directory, with the same persistence
flags, in the order ORDER, and read their CPU time from /proc/<pid>/stat
(bench/restart_time.py, which times start-up itself, takes only free_port).
The memory scripts (pubsub_memory.py, collection_memory.py) use ScratchServer:
the same Server in a temporary directory, with a redis-py client.
Python 3 standard library only, but for ScratchServer's client."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_FAILED_STARTS = 2
ORDER = ("runnel", "redis", "redis", "runnel")   # A B B A: each side's best of two

# Persistence settings; both servers get exactly the same flags.
MODES = {
    "off": ["--appendonly", "no"],
    "everysec": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "always": ["--appendonly", "yes", "--appendfsync", "always"],
}

def resp(*args):
    """One command in RESP, arguments as bytes or anything str() encodes."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def add_server_paths(parser):
    """The --runnel and --redis options every comparison script takes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--runnel", default=os.path.join(root, "build", "runnel-server"))
    parser.add_argument("--redis", default="/usr/bin/redis-server")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    """A loopback port nobody listens on right now (the usual small race)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port, timeout=0.5):
    """True if a RESP server on port answers PING with +PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def cpu_seconds(pid):
    """utime + stime of the whole process, in seconds; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class Server:
    """One server process (Runnel or Redis) in one persistence mode."""

    def __init__(self, side, path, mode, workdir, extra_args=()):
        self.side, self.path, self.mode = side, path, mode
        self.extra_args = list(extra_args)
        self.dir = os.path.join(workdir, f"{side}-{mode}")
        self.proc = None
        self.port = None
        self.error = None
        self.failed_starts = 0

    def argv(self):
        return [self.path, "--port", str(self.port), "--save", ""] + MODES[self.mode] + self.extra_args

    def start(self):
        """Starts the server (again) and waits for PING; False with self.error set."""
        self.stop()
        if not os.access(self.path, os.X_OK):
            self.error = f"{self.path} not found"
            self.failed_starts = MAX_FAILED_STARTS
            return False
        self.failed_starts += 1
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        logf = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), cwd=self.dir, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.error = f"exited with status {self.proc.returncode} at start-up: {self.log_tail()}"
                return False
            if ping(self.port):
                self.error = None
                self.failed_starts = 0
                return True
            time.sleep(0.05)
        self.error = "did not answer PING within 5 s"
        self.stop()
        return False

    def fresh(self):
        """Restarts with an empty working directory (no AOF to replay)."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.failed_starts < MAX_FAILED_STARTS:
            self.start()

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                lines = [l.strip() for l in f if l.strip()]
            return lines[-1][:200] if lines else "(no output)"
        except OSError:
            return "(no log)"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ensure(self):
        """Restarts a server that died or hung, unless it failed to start twice."""
        if self.alive():
            return True
        if self.failed_starts >= MAX_FAILED_STARTS:
            return False
        if self.proc is not None:
            log(f"  {self.side} ({self.mode}) is not running ({self.error or 'died'}); restarting")
        return self.start()

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class ScratchServer:
    """A server without persistence in a temporary directory of its own,
    started, with a redis-py client; stop() ends it and removes the
    directory. `name` is the side ("runnel" or "redis")."""

    def __init__(self, name, path, extra_args=()):
        import redis  # only the memory scripts need it

        self.name = name
        self.workdir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        self.server = Server(name, path, "off", self.workdir, extra_args)
        if not self.server.start():
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise RuntimeError(f"{name}: {self.server.error}")
        self.port = self.server.port
        self.proc = self.server.proc
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=300)

    def used_memory(self):
        return self.client.info("memory")["used_memory"]

    def stop(self):
        self.client.close()
        self.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
