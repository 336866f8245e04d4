"""Helpers for cluster tests: an etcd of the test's own on free loopback
ports, Runnel nodes pointed at it, and a cluster built with redis-cli
--cluster create, as a user would."""
import contextlib
import os
import shutil
import subprocess
import tempfile
import time

import redis

from conftest import LoggedProcess, RunnelProcess, free_port

ETCD = shutil.which("etcd")


class Etcd(LoggedProcess):
    """One etcd member; several with `members` (name, client port, peer
    port) form one etcd cluster."""

    def __init__(self, name="default", port=None, peer=None, members=None, host="127.0.0.1"):
        self.dir = tempfile.mkdtemp(prefix="runnel-etcd-")
        self.port, peer = port or free_port(), peer or free_port()
        self.url = f"http://{host}:{self.port}"
        members = members or [(name, self.port, peer)]
        initial = ",".join(f"{n}=http://127.0.0.1:{p}" for n, _, p in members)
        super().__init__([ETCD, "--name", name, "--data-dir", os.path.join(self.dir, "data"),
                          "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                          "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-cluster", initial, "--initial-cluster-state", "new"],
                         os.path.join(self.dir, "etcd.log"))
        if len(members) == 1:
            wait_until(self.healthy, 20, "etcd to start")

    def healthy(self):
        import urllib.request
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return b"true" in r.read()
        except OSError:
            return False


def etcd_cluster(size=3):
    """`size` etcd members forming one cluster; returns them and the
    comma-separated client URLs."""
    members = [(f"m{i}", free_port(), free_port()) for i in range(size)]
    procs = [Etcd(name, port, peer, members) for name, port, peer in members]
    for p in procs:
        wait_until(p.healthy, 30, "the etcd cluster to form")
    return procs, ",".join(p.url for p in procs)


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


def start_node(etcd, name="t", *args, dir_=None, host=None):
    """A cluster node; with dir_ it runs in that directory (a restart keeps
    its node id and files), and .dir says so for the next restart. With a
    netlab host it runs in that host's namespace, bound to its address."""
    extra = ["--dir", dir_] if dir_ else []
    url = etcd if isinstance(etcd, str) else etcd.url
    where = {}
    if host is not None:
        extra += ["--bind", host.addr, "--protected-mode", "no"]
        where = {"host": host.addr, "prefix": host.command()}
    node = RunnelProcess("--cluster-enabled", "yes", "--cluster-etcd-endpoints", url, "--cluster-name", name,
                         "--repl-diskless-sync-delay", "0", "--cluster-node-timeout", "2000", *extra, *args, **where)
    if dir_:
        node.dir = dir_
    return node


def create_cluster(nodes, replicas=1):
    addrs = [f"{n.host}:{n.port}" for n in nodes]
    out = subprocess.run(["redis-cli", "--cluster", "create", *addrs, "--cluster-replicas", str(replicas),
                          "--cluster-yes"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[OK] All 16384 slots covered." in out.stdout, out.stdout
    for n in nodes:
        wait_until(lambda: b"cluster_state:ok" in n.client().execute_command("CLUSTER", "INFO"), 10,
                   "every node to see the cluster")
    return out.stdout


@contextlib.contextmanager
def running_cluster(name, count=6, replicas=1, *args):
    """An etcd of its own and `count` nodes made into a cluster (a replica
    for each primary by default), started with `args` too; everything stops
    afterwards. .etcd is the etcd."""
    etcd = Etcd()
    nodes = [start_node(etcd, name, *args) for _ in range(count)]
    for n in nodes:
        n.etcd = etcd
    try:
        create_cluster(nodes, replicas)
        yield nodes
    finally:
        for n in nodes:
            n.stop()
        etcd.stop()


def owner_of(nodes, slot):
    """The node serving a slot, from the first node's CLUSTER SLOTS (None
    when it is served by none of `nodes`, or not at all)."""
    for start, end, primary, *rest in nodes[0].client().execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            port = primary[1]
            return next((n for n in nodes if n.port == port), None)
    return None
