"""A primary cut off by the network, not killed: every node runs in a
network namespace of the test's own (tests/integration/netlab.py), etcd and
the test in a hub joined to them by a bridge, and the primary's link is
taken down. A client on the primary's side of the cut keeps writing to it.

What must hold: the primary stops acknowledging writes before its lease can
lapse, so no write it acknowledges after the cut outlives the replica's
takeover, and no moment has two primaries accepting writes for the slot;
every write WAIT confirmed before the cut survives; once the link is back,
the old primary follows the new one and drops, counted and logged, what it
had that the new one never saw."""
import shutil
import threading
import time

import pytest
import redis

import netlab
from cluster_helpers import ETCD, Etcd, create_cluster, owner_of, start_node, wait_until

pytestmark = [
    pytest.mark.skipif(ETCD is None or shutil.which("redis-cli") is None, reason="etcd is not installed"),
    pytest.mark.skipif(not netlab.available(), reason="needs root to make network namespaces"),
]

SLOT_KEY = "{apple}"  # slot 7092


@pytest.fixture
def lab_cluster():
    lab = netlab.NetLab()
    etcd, nodes = None, []
    try:
        etcd = Etcd(host=lab.hub_addr)
        nodes = [start_node(etcd, "part", "--enable-debug-command", "yes", host=lab.add_host()) for _ in range(6)]
        for node, host in zip(nodes, lab.hosts):
            node.lab_host = host
        create_cluster(nodes)
        yield nodes
    finally:
        for n in nodes:
            n.stop()
        if etcd:
            etcd.stop()
        lab.close()


def replica_of(nodes, primary):
    return next(n for n in nodes if n.client().info("replication").get("master_host") == primary.host)


class MinorityWriter(threading.Thread):
    """Writes to the primary from inside its namespace, on its side of the
    cut, and records when each write was acknowledged and which errors came."""

    def __init__(self, primary):
        super().__init__(daemon=True)
        self.primary = primary
        self.acked = []  # (i, monotonic time of the reply)
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        self.primary.lab_host.enter()
        c = redis.Redis(host=self.primary.host, port=self.primary.port, socket_timeout=0.5)
        i = 0
        while not self.stop.is_set():
            try:
                c.set(f"{SLOT_KEY}:minority:{i}", i)
                self.acked.append((i, time.monotonic()))
            except redis.ResponseError as e:
                self.errors.append((str(e), time.monotonic()))
                time.sleep(0.01)
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.01)
            i += 1


def test_a_primary_cut_off_stops_acknowledging_before_its_replica_takes_over(lab_cluster):
    nodes = lab_cluster
    primary = owner_of(nodes, 7092)
    replica = replica_of(nodes, primary)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="the link")
    c = primary.client(socket_timeout=2)
    confirmed = []
    for i in range(200):
        c.set(f"{SLOT_KEY}:confirmed:{i}", i)
        if c.execute_command("WAIT", 1, 1000) >= 1:
            confirmed.append(i)
    assert len(confirmed) == 200

    writer = MinorityWriter(primary)
    writer.start()
    wait_until(lambda: len(writer.acked) > 20, what="the minority writer to run")
    primary.lab_host.cut()
    cut_at = time.monotonic()

    # the majority side: the replica takes the slot, and accepts a write
    others = [n for n in nodes if n is not primary]
    wait_until(lambda: owner_of(others, 7092) is replica, timeout=20, what="the replica to take over")
    r = replica.client(socket_timeout=2)
    wait_until(lambda: r.set(f"{SLOT_KEY}:after", 1), timeout=10, what="a write on the new primary")
    new_write_at = time.monotonic()
    time.sleep(1.0)  # the minority writer goes on meeting the fenced primary
    writer.stop.set()
    writer.join(5)

    last_ack = max(t for _, t in writer.acked)
    assert last_ack < new_write_at, "the old primary acknowledged a write after the new one took over"
    fenced = [t for e, t in writer.errors if e.startswith("The cluster is down") or "CLUSTERDOWN" in e]
    assert fenced, f"the cut-off primary never refused a write: {writer.errors[:3]}"
    # it fenced itself within the lease's TTL (2 s here) of the cut, before the takeover
    assert min(fenced) - cut_at < 2.5
    assert min(fenced) < new_write_at

    primary.lab_host.heal()
    wait_until(lambda: primary.client().info("replication").get("master_host") == replica.host, timeout=20,
               what="the old primary to follow the new one")
    wait_until(lambda: primary.client().info("replication").get("master_link_status") == "up", timeout=20,
               what="its link")
    # nothing WAIT confirmed was lost; the two agree again, byte for byte
    missing = [i for i in confirmed if r.get(f"{SLOT_KEY}:confirmed:{i}") is None]
    assert missing == []
    assert r.get(f"{SLOT_KEY}:after") == b"1"
    wait_until(lambda: primary.client().execute_command("DEBUG", "DIGEST") ==
               r.execute_command("DEBUG", "DIGEST"), timeout=10, what="the datasets to converge")
    acked_after_cut = [i for i, t in writer.acked if t > cut_at]
    stats = r.info("stats")
    if acked_after_cut:
        # writes it took between the cut and fencing were never replicated: dropped, counted and logged
        assert stats["sync_diverged"] >= 1 and stats["sync_diverged_bytes"] > 0
        assert "that this primary never had" in replica.output()
    print(f"fenced {min(fenced) - cut_at:.2f} s after the cut, takeover write {new_write_at - cut_at:.2f} s; "
          f"{len(acked_after_cut)} writes acknowledged on the cut-off side before fencing, dropped at rejoin")
