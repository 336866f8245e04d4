"""Automatic failover in a Runnel cluster: a killed primary is replaced by
its most up-to-date replica within the lease TTL, no write that WAIT
confirmed is lost, and a primary that loses its lease fences itself and
rejoins as a replica."""
import os
import shutil
import signal
import threading
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster_helpers import ETCD, create_cluster, owner_of, running_cluster, start_node, wait_until

pytestmark = pytest.mark.skipif(ETCD is None or shutil.which("redis-cli") is None, reason="etcd is not installed")


@pytest.fixture
def cluster():
    with running_cluster("fo") as nodes:
        yield nodes


def replica_of(nodes, primary):
    return next(n for n in nodes if n.client().info("replication").get("master_port") == primary.port)


def test_kill_9_of_a_primary_fails_over_without_losing_a_confirmed_write(cluster):
    nodes = cluster
    primary = owner_of(nodes, 7092)
    replica = replica_of(nodes, primary)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="the link")
    confirmed, stop = [], threading.Event()

    def writer():
        c = primary.client(socket_timeout=1)
        i = 0
        while not stop.is_set():
            try:
                c.set(f"{{apple}}:{i}", i)
                if c.execute_command("WAIT", 1, 100) >= 1:
                    confirmed.append(i)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.5)
    killed = time.time()
    os.kill(primary.proc.pid, signal.SIGKILL)
    stop.set()
    t.join()
    # a client that keeps trying, as an application would; redis-py 4.3's
    # RedisCluster can fail in its constructor while a node is down, so the
    # client is made again on each attempt
    survivors = [n for n in nodes if n is not primary]
    deadline = time.time() + 15
    while True:
        try:
            rc = RedisCluster(host="127.0.0.1", port=replica.port)
            rc.set("{apple}:after", 1)
            break
        except Exception:  # redis-py raises several kinds here
            assert time.time() < deadline, "no failover"
            time.sleep(0.1)
    took = time.time() - killed
    assert took < 2 + 3, f"failover took {took:.1f} s"  # cluster-node-timeout 2000 ms, plus slack on a busy machine
    assert owner_of(survivors, 7092) is replica
    missing = [i for i in confirmed if rc.get(f"{{apple}}:{i}") is None]
    assert len(confirmed) > 20 and missing == []
    print(f"failover: first write {took:.2f} s after kill -9; {len(confirmed)} confirmed writes, 0 lost")


def test_a_stopped_primary_fences_itself_and_rejoins_as_a_replica(cluster):
    nodes = cluster
    primary = owner_of(nodes, 7092)
    replica = replica_of(nodes, primary)
    c = primary.client(socket_timeout=2)
    c.set("{apple}:before", 1)
    os.kill(primary.proc.pid, signal.SIGSTOP)
    try:
        others = [n for n in nodes if n is not primary]
        wait_until(lambda: owner_of(others, 7092) is replica, timeout=15, what="the replica to take over")
        replica.client().set("{apple}:new", 1)
    finally:
        os.kill(primary.proc.pid, signal.SIGCONT)
    # back from the pause, it must not accept a write for the slot it lost
    try:
        c.set("{apple}:stale", 1)
        accepted = True
    except redis.ResponseError as e:
        accepted = False
        assert "CLUSTERDOWN" in str(e) or "MOVED" in str(e)
    assert not accepted
    wait_until(lambda: primary.client().info("replication").get("master_port") == replica.port, timeout=15,
               what="the old primary to follow the new one")
    wait_until(lambda: primary.client().info("replication").get("master_link_status") == "up", timeout=15,
               what="its link")
    assert replica.client().get("{apple}:stale") is None
    assert primary.client().execute_command("READONLY") and True
    assert replica.client().get("{apple}:before") == b"1"


def test_manual_cluster_failover_loses_no_acknowledged_write(cluster):
    nodes = cluster
    primary = owner_of(nodes, 7092)
    replica = replica_of(nodes, primary)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="the link")
    acked, stop = [], threading.Event()

    def writer():
        c = primary.client(socket_timeout=5)
        i = 0
        while not stop.is_set():
            try:
                c.set(f"{{apple}}:m{i}", i)
                acked.append(i)
            except redis.RedisError:
                return  # MOVED once the roles changed
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.3)
    with pytest.raises(redis.ResponseError, match="send CLUSTER FAILOVER to a replica"):
        primary.client().execute_command("CLUSTER", "FAILOVER")
    assert replica.client().execute_command("CLUSTER", "FAILOVER") == b"OK"
    wait_until(lambda: owner_of(nodes, 7092) is replica, timeout=10, what="the switch")
    t.join(timeout=10)
    stop.set()
    r = replica.client()
    assert len(acked) > 10
    assert [i for i in acked if r.get(f"{{apple}}:m{i}") is None] == []
    wait_until(lambda: primary.client().info("replication").get("master_port") == replica.port, timeout=10,
               what="the old primary to follow")
    assert primary.client().info("replication")["master_link_status"] == "up"
    info = r.info()
    assert info["sync_partial_ok"] >= 1
    # and back, without asking the primary: TAKEOVER
    assert primary.client().execute_command("CLUSTER", "FAILOVER", "TAKEOVER") == b"OK"
    wait_until(lambda: owner_of(nodes, 7092) is primary, timeout=10, what="the takeover")
    wait_until(lambda: replica.client().info("replication").get("master_port") == primary.port, timeout=10,
               what="the other one to follow")
    assert primary.client().get("{apple}:m0") == b"0"


def test_losing_one_of_three_etcd_members_changes_nothing():
    from cluster_helpers import etcd_cluster
    members, urls = etcd_cluster(3)
    nodes = [start_node(urls, "quorum") for _ in range(3)]
    try:
        create_cluster(nodes, replicas=0)
        owners = {s: owner_of(nodes, s) for s in (0, 7092, 16383)}
        members[0].stop()  # the endpoint every node talks to first
        time.sleep(5)  # more than two lease TTLs: keepalives must have moved to another member
        assert {s: owner_of(nodes, s) for s in owners} == owners
        for n in nodes:
            assert n.client().execute_command("CLUSTER", "INFO").find(b"cluster_state:ok") >= 0
        # a change still goes through etcd
        src, dst = owners[7092], owners[0]
        src_id = src.client().execute_command("CLUSTER", "MYID")
        dst_id = dst.client().execute_command("CLUSTER", "MYID")
        dst.client().execute_command("CLUSTER", "SETSLOT", 7092, "IMPORTING", src_id)
        src.client().execute_command("CLUSTER", "SETSLOT", 7092, "MIGRATING", dst_id)
        for n in nodes:
            assert n.client().execute_command("CLUSTER", "SETSLOT", 7092, "NODE", dst_id) == b"OK"
        wait_until(lambda: owner_of(nodes, 7092) is dst, what="the slot's new owner")
    finally:
        for n in nodes:
            n.stop()
        for m in members:
            m.stop()


def shard_term(node):
    info = node.client().execute_command("CLUSTER", "INFO").decode()
    return int(next(l.split(":")[1] for l in info.split("\r\n") if l.startswith("cluster_shard_term:")))


def test_the_shard_term_grows_at_a_failover_and_a_stale_primary_is_refused(cluster):
    """The term is the etcd revision at which the shard's primary took its
    key; replicas tell theirs in the handshake (REPLCONF term), and a
    primary older than what a replica knows refuses it."""
    nodes = cluster
    primary = owner_of(nodes, 7092)
    replica = replica_of(nodes, primary)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="the link")
    term = shard_term(primary)
    assert term > 0 and shard_term(replica) == term
    c = primary.client()
    assert c.execute_command("REPLCONF", "term", term) == b"OK"
    with pytest.raises(redis.ResponseError, match="Stale primary: my term %d is older than the replica's %d"
                       % (term, term + 1)):
        c.execute_command("REPLCONF", "term", term + 1)
    with pytest.raises(redis.ResponseError, match="Invalid term"):
        c.execute_command("REPLCONF", "term", "x")
    os.kill(primary.proc.pid, signal.SIGKILL)
    others = [n for n in nodes if n is not primary]
    wait_until(lambda: owner_of(others, 7092) is replica, timeout=15, what="the failover")
    wait_until(lambda: shard_term(replica) > term, what="a newer term")
    new = replica.client()
    with pytest.raises(redis.ResponseError, match="Stale primary"):
        new.execute_command("REPLCONF", "term", shard_term(replica) + 5)


@pytest.mark.parametrize("lib,package", [("ioredis", "ioredis")])
def test_node_cluster_clients_find_the_new_primary_by_themselves(cluster, lib, package):
    """One ioredis Cluster client, made once, writes to slot 7092 every 10 ms
    while its primary is killed: the writes stop for about the lease's TTL
    and go on at the new primary without the application doing anything.
    (node-redis 4.7 and 5.10's createCluster were tried the same way and
    never found the new primary, against a redis-server 7.0.15 cluster
    too: they do not rediscover the topology after a node dies.)"""
    import json
    from conftest import LoggedProcess
    from node_helpers import NODE_DIR, require_package
    require_package(package)
    nodes = cluster
    primary = owner_of(nodes, 7092)
    replica = replica_of(nodes, primary)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="the link")
    writer = LoggedProcess(["node", "cluster_failover_client.js", lib, str(replica.port), "10"],
                           os.path.join(replica.dir, f"{lib}.log"), cwd=NODE_DIR)
    try:
        wait_until(lambda: '"running"' in writer.output(), timeout=15, what="the writes to start")
        os.kill(primary.proc.pid, signal.SIGKILL)
        writer.proc.wait(timeout=60)
        out = json.loads(writer.output().strip().splitlines()[-1])
    finally:
        writer.stop()
    assert out["recovered"], out
    # cluster-node-timeout 2000 ms: the lease's TTL, the election, the client's own rediscovery
    assert out["longest_gap_ms"] < 2000 + 3000, out
    print(f"{lib}: writes paused {out['longest_gap_ms']} ms, {out['ok']} ok, {out['errors']} errors")
