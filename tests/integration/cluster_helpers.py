"""Helpers for cluster tests: an etcd of the test's own on free loopback
ports, Runnel nodes pointed at it, and a cluster built with redis-cli
--cluster create, as a user would."""
import os
import shutil
import subprocess
import tempfile
import time

import redis

from conftest import LoggedProcess, RunnelProcess, free_port

ETCD = shutil.which("etcd")


class Etcd(LoggedProcess):
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="runnel-etcd-")
        self.port, peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([ETCD, "--data-dir", os.path.join(self.dir, "data"), "--listen-client-urls", self.url,
                          "--advertise-client-urls", self.url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
                         os.path.join(self.dir, "etcd.log"))
        wait_until(self.healthy, 20, "etcd to start")

    def healthy(self):
        import urllib.request
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return b"true" in r.read()
        except OSError:
            return False


def wait_until(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def start_node(etcd, name="t", *args, dir_=None):
    extra = ["--dir", dir_] if dir_ else []
    return RunnelProcess("--cluster-enabled", "yes", "--cluster-etcd-endpoints", etcd.url, "--cluster-name", name,
                         "--repl-diskless-sync-delay", "0", "--cluster-node-timeout", "2000", *extra, *args)


def create_cluster(nodes, replicas=1):
    addrs = [f"127.0.0.1:{n.port}" for n in nodes]
    out = subprocess.run(["redis-cli", "--cluster", "create", *addrs, "--cluster-replicas", str(replicas),
                          "--cluster-yes"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[OK] All 16384 slots covered." in out.stdout, out.stdout
    for n in nodes:
        wait_until(lambda: b"cluster_state:ok" in n.client().execute_command("CLUSTER", "INFO"), 10,
                   "every node to see the cluster")
    return out.stdout


def owner_of(nodes, slot):
    """The node serving a slot, from the first node's CLUSTER SLOTS (None
    when it is served by none of `nodes`, or not at all)."""
    for start, end, primary, *rest in nodes[0].client().execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            port = primary[1]
            return next((n for n in nodes if n.port == port), None)
    return None
