"""tls-cluster: a cluster whose three primaries listen on a TLS port only
(port 0), with a replica that has both ports. Nodes announce their TLS
ports in etcd; CLUSTER SLOTS/SHARDS/NODES, MOVED and ASK give TLS clients
the TLS ports; the nodes' own connections (publish links, atomic slot
migration, the manual failover's pause, MIGRATE) and replication use TLS
with the configured certificates. redis-cli --tls builds the cluster and
follows redirects; redis-py's RedisCluster(ssl=True) uses it."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster_helpers import ETCD, Etcd, wait_until
from conftest import RunnelProcess, assert_no_sanitizer_report, free_port
from test_tls import make_ca, make_cert

pytestmark = pytest.mark.skipif(ETCD is None or shutil.which("redis-cli") is None, reason="etcd is not installed")


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="runnel-tls-cluster-")
    make_ca(d, "ca")
    make_cert(d, "server")
    make_cert(d, "client")
    yield lambda name: os.path.join(d, name)
    shutil.rmtree(d, ignore_errors=True)


class TlsNode(RunnelProcess):
    """A cluster node with a TLS port, and a plain one only when `plain`."""

    def __init__(self, certs, etcd, plain=False):
        self.tls_port, self.certs, self.plain = free_port(), certs, plain
        super().__init__("--cluster-enabled", "yes", "--cluster-etcd-endpoints", etcd.url, "--cluster-name", "tls",
                         "--repl-diskless-sync-delay", "0", "--cluster-node-timeout", "2000",
                         "--tls-port", str(self.tls_port), "--tls-cert-file", certs("server.crt"),
                         "--tls-key-file", certs("server.key"), "--tls-ca-cert-file", certs("ca.crt"),
                         "--tls-cluster", "yes", "--tls-replication", "yes", *([] if plain else ["--port", "0"]))
        self.plain_port = self.port if plain else 0

    def _accepts(self):
        try:
            socket.create_connection((self.host, self.tls_port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def client(self, **kw):
        """Over TLS, with the client certificate."""
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host=self.host, port=self.tls_port, ssl=True, ssl_ca_certs=self.certs("ca.crt"),
                           ssl_certfile=self.certs("client.crt"), ssl_keyfile=self.certs("client.key"), **kw)

    def plain_client(self):
        return redis.Redis(host=self.host, port=self.plain_port, socket_timeout=10)


def cli(certs, *args, timeout=60):
    return subprocess.run(["redis-cli", "--tls", "--cacert", certs("ca.crt"), "--cert", certs("client.crt"),
                           "--key", certs("client.key"), *args], capture_output=True, text=True, timeout=timeout)


def slot_owner(nodes, slot):
    for start, end, primary, *_ in nodes[0].client().execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return next(n for n in nodes if n.tls_port == primary[1])
    return None


@pytest.fixture(scope="module")
def cluster(certs):
    etcd = Etcd()
    nodes = []
    try:
        nodes = [TlsNode(certs, etcd) for _ in range(3)] + [TlsNode(certs, etcd, plain=True)]
        out = cli(certs, "--cluster", "create", *[f"127.0.0.1:{n.tls_port}" for n in nodes[:3]],
                  "--cluster-replicas", "0", "--cluster-yes")
        assert out.returncode == 0 and "[OK] All 16384 slots covered." in out.stdout, out.stdout + out.stderr
        replica, first = nodes[3], nodes[0]
        assert replica.client().execute_command("CLUSTER", "MEET", "127.0.0.1", first.tls_port)
        first_id = first.client().execute_command("CLUSTER", "MYID").decode()
        wait_until(lambda: replica.client().execute_command("CLUSTER", "REPLICATE", first_id), 10, "the replica")
        for n in nodes:
            wait_until(lambda: b"cluster_state:ok" in n.client().execute_command("CLUSTER", "INFO"), 10,
                       "every node to see the cluster")
        wait_until(lambda: replica.client().info("replication").get("master_link_status") == "up", 15,
                   "the replica's link")
        yield nodes
    finally:
        for n in nodes:
            assert_no_sanitizer_report(n)
        etcd.stop()


def test_nodes_announce_their_tls_ports_to_tls_clients(cluster):
    tls_ports = {n.tls_port for n in cluster}
    c = cluster[0].client()
    for _, _, *holders in c.execute_command("CLUSTER", "SLOTS"):
        assert all(h[1] in tls_ports for h in holders)
    lines = c.execute_command("CLUSTER", "NODES").decode().splitlines()
    assert len(lines) == 4
    assert {int(line.split()[1].split("@")[0].split(":")[1]) for line in lines} == tls_ports


def test_cluster_shards_lists_each_nodes_ports(cluster):
    replica = cluster[3]
    seen = {}
    for shard in cluster[0].client().execute_command("CLUSTER", "SHARDS"):
        shard = dict(zip(shard[::2], shard[1::2]))
        for node in shard[b"nodes"]:
            node = dict(zip(node[::2], node[1::2]))
            seen[node[b"tls-port"]] = node.get(b"port")
    assert seen == {n.tls_port: (n.plain_port or None) for n in cluster}
    assert seen[replica.tls_port] == replica.plain_port


def test_a_plain_client_is_given_plain_ports_where_nodes_have_them(cluster):
    replica = cluster[3]
    plain = replica.plain_client()
    ports = [h[1] for _, _, *holders in plain.execute_command("CLUSTER", "SLOTS") for h in holders]
    assert replica.plain_port in ports and replica.tls_port not in ports
    tls = [h[1] for _, _, *holders in replica.client().execute_command("CLUSTER", "SLOTS") for h in holders]
    assert replica.tls_port in tls and replica.plain_port not in tls


def test_moved_names_the_tls_port(cluster):
    c = cluster[0].client()
    key = next(f"k{i}" for i in range(1000) if slot_owner(cluster, c.cluster("keyslot", f"k{i}")) is not cluster[0])
    with pytest.raises(redis.ResponseError) as e:
        c.set(key, "v")
    owner = slot_owner(cluster, c.cluster("keyslot", key))
    assert str(e.value).endswith(f"127.0.0.1:{owner.tls_port}")


def test_a_plain_connection_to_a_tls_only_node_is_refused(cluster):
    node = cluster[0]
    r = redis.Redis(host="127.0.0.1", port=node.tls_port, socket_timeout=2)
    with pytest.raises((redis.ConnectionError, redis.TimeoutError)):
        r.ping()
    assert node.client().ping()


def test_redis_py_cluster_client_over_tls(cluster, certs):
    rc = RedisCluster(host="127.0.0.1", port=cluster[1].tls_port, ssl=True, ssl_ca_certs=certs("ca.crt"),
                      ssl_certfile=certs("client.crt"), ssl_keyfile=certs("client.key"), socket_timeout=10)
    for i in range(60):
        rc.set(f"py:{i}", i)
    assert [rc.get(f"py:{i}") for i in range(60)] == [str(i).encode() for i in range(60)]
    assert {cluster.index(slot_owner(cluster, rc.keyslot(f"py:{i}"))) for i in range(60)} == {0, 1, 2}
    rc.close()


def test_redis_cli_follows_redirects_over_tls(cluster, certs):
    for i in range(10):
        out = cli(certs, "-c", "-p", str(cluster[0].tls_port), "SET", f"cli:{i}", f"v{i}")
        assert out.stdout.strip() == "OK", out.stdout + out.stderr
    out = cli(certs, "-c", "-p", str(cluster[2].tls_port), "GET", "cli:7")
    assert out.stdout.strip() == "v7"


def test_publish_reaches_subscribers_on_other_nodes_over_tls_links(cluster):
    subs = []
    for n in cluster[1:]:
        p = n.client().pubsub()
        p.subscribe("news")
        assert p.get_message(timeout=2)["type"] == "subscribe"
        subs.append(p)
    cluster[0].client().publish("news", "hello")
    for p in subs:
        msg = wait_until(lambda: p.get_message(timeout=0.2), 5, "the message")
        assert msg["data"] == b"hello"
        p.close()
    links = cluster[0].client().execute_command("CLUSTER", "LINKS")
    assert len(links) == 3


def test_the_replica_syncs_over_tls(cluster):
    primary, replica = cluster[0], cluster[3]
    info = replica.client().info("replication")
    assert info["master_port"] == primary.tls_port
    key = next(f"r{i}" for i in range(1000) if slot_owner(cluster, primary.client().cluster("keyslot", f"r{i}")) is primary)
    primary.client().set(key, "replicated")
    r = replica.client()
    r.execute_command("READONLY")
    wait_until(lambda: r.get(key) == b"replicated", 5, "the write on the replica")


def test_migrate_over_tls(cluster, certs):
    # two standalone servers: MIGRATE uses TLS with tls-cluster, as Redis's does
    a = TlsStandalone(certs)
    b = TlsStandalone(certs, plain=False)
    try:
        a.plain_client().set("m1", "payload")
        assert a.plain_client().execute_command("MIGRATE", "127.0.0.1", b.tls_port, "m1", 0, 5000) == b"OK"
        assert b.client().get("m1") == b"payload"
        assert a.plain_client().exists("m1") == 0
    finally:
        assert_no_sanitizer_report(a)
        assert_no_sanitizer_report(b)


class TlsStandalone(TlsNode):
    def __init__(self, certs, plain=True):
        self.tls_port, self.certs, self.plain = free_port(), certs, plain
        RunnelProcess.__init__(self, "--tls-port", str(self.tls_port), "--tls-cert-file", certs("server.crt"),
                               "--tls-key-file", certs("server.key"), "--tls-ca-cert-file", certs("ca.crt"),
                               "--tls-cluster", "yes", *([] if plain else ["--port", "0"]))
        self.plain_port = self.port if plain else 0


def test_atomic_slot_migration_over_tls(cluster):
    src = slot_owner(cluster, 0)
    dst = next(n for n in cluster[:3] if n is not src)
    keys = [f"{{asm}}:{i}" for i in range(50)]
    slot = src.client().cluster("keyslot", keys[0])
    src = slot_owner(cluster, slot)
    dst = next(n for n in cluster[:3] if n is not src)
    rc = src.client()
    for k in keys:
        rc.set(k, k)
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    assert rc.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", slot, slot, "NODE", dst_id) == b"OK"
    wait_until(lambda: slot_owner(cluster, slot) is dst, 20, "the slot to move")
    d = dst.client()
    assert [d.get(k) for k in keys] == [k.encode() for k in keys]
    with pytest.raises(redis.ResponseError, match=f"MOVED {slot} 127.0.0.1:{dst.tls_port}"):
        rc.get(keys[0])


def test_ask_and_migrate_between_nodes_over_tls(cluster):
    """The steps of redis-cli --cluster reshard: ASK names the TLS port, and
    MIGRATE reaches the target's TLS port."""
    c = cluster[0].client()
    slot = c.cluster("keyslot", "{ask}")
    src = slot_owner(cluster, slot)
    dst = next(n for n in cluster[:3] if n is not src)
    s, d = src.client(), dst.client()
    src_id, dst_id = (n.client().execute_command("CLUSTER", "MYID").decode() for n in (src, dst))
    s.set("{ask}:1", "v1")
    assert d.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id) == b"OK"
    assert s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id) == b"OK"
    with pytest.raises(redis.ResponseError, match=f"ASK {slot} 127.0.0.1:{dst.tls_port}"):
        s.get("{ask}:missing")
    assert s.execute_command("MIGRATE", "127.0.0.1", dst.tls_port, "", 0, 5000, "KEYS", "{ask}:1") == b"OK"
    assert s.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id) == b"OK"
    wait_until(lambda: slot_owner(cluster, slot) is dst, 10, "the slot to move")
    assert d.get("{ask}:1") == b"v1"


def test_manual_failover_over_tls(cluster):
    """Last: it changes the roles."""
    primary, replica = cluster[0], cluster[3]
    assert replica.client().execute_command("CLUSTER", "FAILOVER") == b"OK"
    wait_until(lambda: replica.client().info("replication")["role"] == "master", 10, "the switch")
    wait_until(lambda: primary.client().info("replication").get("master_port") == replica.tls_port, 10,
               "the old primary to follow over TLS")
    wait_until(lambda: primary.client().info("replication").get("master_link_status") == "up", 10, "its link")
