"""bench/bench_server.py: one server process for the bench scripts.

Server(name, path, extra_args) starts `path` (Runnel or redis-server) on a
free loopback port in its own temporary directory, without persistence,
waits until it accepts connections, and gives a redis-py client; stop()
ends it and removes the directory."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process on a free port with its own directory."""

    def __init__(self, name, path, extra_args=()):
        self.name = name
        self.path = path
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-%s-" % name)
        argv = [path, "--port", str(self.port), "--dir", self.dir, "--save", "", "--appendonly", "no", *extra_args]
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.time() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited: %s" % (name, open(self.log.name).read()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("%s did not start" % name)
                time.sleep(0.05)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=300)

    def used_memory(self):
        return self.client.info("memory")["used_memory"]

    def stop(self):
        try:
            self.client.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
