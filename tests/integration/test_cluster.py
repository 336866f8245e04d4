"""A Runnel cluster with its topology in an etcd of the test's own: built
with redis-cli --cluster create, driven by redis-py's RedisCluster and
redis-cli -c, with the seed's pub/sub rows."""
import os
import shutil
import signal
import subprocess
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster_helpers import ETCD, Etcd, create_cluster, owner_of, start_node, wait_until
from conftest import RunnelProcess

pytestmark = pytest.mark.skipif(ETCD is None or shutil.which("redis-cli") is None, reason="etcd is not installed")


def cluster_info(node):
    text = node.client().execute_command("CLUSTER", "INFO")
    if isinstance(text, dict):
        return {k: str(v) for k, v in text.items()}
    text = text.decode() if isinstance(text, bytes) else text
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


@pytest.fixture(scope="module")
def etcd():
    e = Etcd()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def six(etcd):
    nodes = [start_node(etcd, "six") for _ in range(6)]
    try:
        create_cluster(nodes)
        yield nodes
    finally:
        for n in nodes:
            n.stop()


def test_create_builds_three_primaries_with_a_replica_each(six):
    out = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{six[0].port}"], capture_output=True,
                         text=True, timeout=30).stdout
    assert "[OK] All nodes agree about slots configuration." in out
    assert "[OK] All 16384 slots covered." in out
    info = cluster_info(six[0])
    assert info["cluster_state"] == "ok" and info["cluster_known_nodes"] == "6" and info["cluster_size"] == "3"
    nodes = six[0].client().execute_command("CLUSTER", "NODES")
    nodes = nodes.decode() if isinstance(nodes, bytes) else nodes
    lines = [l for l in nodes.splitlines() if l]
    assert len(lines) == 6
    assert sum(" master " in l or ",master " in l for l in lines) == 3
    assert sum("myself" in l for l in lines) == 1
    roles = [n.client().info("replication")["role"] for n in six]
    assert sorted(roles) == ["master"] * 3 + ["slave"] * 3


def test_redis_py_cluster_client_reaches_every_slot(six):
    rc = RedisCluster(host="127.0.0.1", port=six[0].port)
    for i in range(2000):
        rc.set(f"key:{i}", i)
    for i in range(0, 2000, 7):
        assert rc.get(f"key:{i}") == str(i).encode()
    counts = [n.client().dbsize() for n in six]
    assert sum(c for c, n in zip(counts, six) if n.client().info("replication")["role"] == "master") >= 2000
    assert rc.mget_nonatomic([f"key:{i}" for i in range(50)]) == [str(i).encode() for i in range(50)]
    rc.close()


def test_wrong_node_answers_moved_and_keys_must_share_a_slot(six):
    slot = six[0].client().execute_command("CLUSTER", "KEYSLOT", "apple")
    assert slot == 7092
    owner = owner_of(six, slot)
    other = next(n for n in six if n is not owner and n.client().info("replication")["role"] == "master")
    with pytest.raises(redis.ResponseError, match=f"MOVED 7092 127.0.0.1:{owner.port}"):
        other.client().set("apple", 1)
    with pytest.raises(redis.ResponseError, match="CROSSSLOT Keys in request don't hash to the same slot"):
        owner.client().mset({"apple": 1, "banana": 2})
    assert owner.client().mset({"{apple}.a": 1, "{apple}.b": 2})
    with pytest.raises(redis.ResponseError, match="SELECT is not allowed in cluster mode"):
        owner.client().execute_command("SELECT", 1)
    raw = owner.raw()  # a transaction's commands must share a slot as well
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "{apple}.x", 1) == "QUEUED"
    assert raw.call("SET", "apple", 2) == "QUEUED"
    other_key = next(k for k in (f"k{i}" for i in range(1000))
                     if owner.client().execute_command("CLUSTER", "KEYSLOT", k) != 7092
                     and owner_of(six, owner.client().execute_command("CLUSTER", "KEYSLOT", k)) is owner)
    assert raw.call("SET", other_key, 3)[1].startswith("CROSSSLOT")
    assert raw.call("EXEC")[1].startswith("EXECABORT")


def test_sort_patterns_are_refused_in_cluster_mode_as_redis_7_0(six):
    # the keys a BY or GET pattern names may live on other nodes
    owner = owner_of(six, six[0].client().execute_command("CLUSTER", "KEYSLOT", "{s}"))
    r = owner.client()
    r.delete("{s}")
    r.rpush("{s}", 3, 1, 2)
    assert r.sort("{s}") == [b"1", b"2", b"3"]
    assert r.sort("{s}", by="nosort") == [b"3", b"1", b"2"]
    with pytest.raises(redis.ResponseError, match=r"^BY option of SORT denied in Cluster mode\.$"):
        r.sort("{s}", by="w_*")
    with pytest.raises(redis.ResponseError, match=r"^GET option of SORT denied in Cluster mode\.$"):
        r.sort("{s}", get="#")
    with pytest.raises(redis.ResponseError, match="GET option of SORT denied in Cluster mode"):
        r.execute_command("SORT_RO", "{s}", "GET", "h_*->f")
    with pytest.raises(redis.ResponseError, match="GET option of SORT denied in Cluster mode"):
        r.execute_command("SORT", "{s}", "GET", "#", "BY", "w_*")  # the first one met is named


def test_the_seed_spublish_goes_to_the_owner_shard_only(six):
    """The seed's rows: SPUBLISH apple a is redirected to slot 7092's owner;
    there it reaches shard subscribers of that shard only."""
    owner = owner_of(six, 7092)
    other = next(n for n in six if n is not owner and n.client().info("replication")["role"] == "master")
    with pytest.raises(redis.ResponseError, match="MOVED 7092"):
        other.client().execute_command("SPUBLISH", "apple", "a")
    out = subprocess.run(["redis-cli", "-c", "-p", str(other.port), "spublish", "apple", "a"], capture_output=True,
                         text=True, timeout=10).stdout
    assert out.strip().endswith("0")
    sub = owner.raw()  # redis-py 4.3 has no sharded pub/sub
    assert sub.call("SSUBSCRIBE", "apple") == [b"ssubscribe", b"apple", 1]
    with pytest.raises(redis.ResponseError, match="MOVED 7092"):
        other.client().execute_command("SSUBSCRIBE", "apple")
    assert owner.client().execute_command("SPUBLISH", "apple", "a") == 1
    assert sub.read_reply() == [b"smessage", b"apple", b"a"]


def test_publish_reaches_subscribers_on_every_node_exactly_once(six):
    links = six[0].client().execute_command("CLUSTER", "LINKS")
    assert len(links) == 5  # one to each other node
    subs = []
    for n in six:
        p = n.client().pubsub()
        p.subscribe("news")
        wait_until(lambda: p.get_message(timeout=0.2), what="subscribe")
        subs.append(p)
    assert six[2].client().publish("news", "hello") == 1  # the receiving node's own subscribers
    for p in subs:
        msg = wait_until(lambda: p.get_message(timeout=0.2), what="the message")
        assert msg["data"] == b"hello"
    time.sleep(0.3)
    for p in subs:
        assert p.get_message(timeout=0.1) is None  # not twice
        p.close()


def test_replicas_hold_their_shard_and_serve_reads_with_readonly(six):
    owner = owner_of(six, 7092)
    owner.client().set("apple", "red")
    replica = next(n for n in six if n.client().info("replication").get("master_port") == owner.port)
    wait_until(lambda: replica.client().info("replication")["slave_repl_offset"]
               >= owner.client().info("replication")["master_repl_offset"], what="the replica")
    r = replica.client()
    with pytest.raises(redis.ResponseError, match=f"MOVED 7092 127.0.0.1:{owner.port}"):
        r.get("apple")
    r.execute_command("READONLY")
    assert r.get("apple") == b"red"
    with pytest.raises(redis.ResponseError, match="MOVED"):
        r.set("apple", "green")


def test_a_restarted_node_keeps_its_id_and_role(etcd):
    nodes = [start_node(etcd, "restart") for _ in range(3)]
    try:
        create_cluster(nodes, replicas=0)
        victim = nodes[1]
        myid = victim.client().execute_command("CLUSTER", "MYID")
        slots_before = victim.client().execute_command("CLUSTER", "SLOTS")
        victim.client().shutdown(nosave=True)
        victim.proc.wait(timeout=10)
        again = start_node(etcd, "restart", dir_=victim.dir)
        nodes[1] = again
        assert again.client().execute_command("CLUSTER", "MYID") == myid
        wait_until(lambda: cluster_info(again)["cluster_state"] == "ok", what="the node to rejoin")
        # same id, same slots; it came back on another port, which every node now shows
        expected = [[a, b, [n[0], again.port if n[1] == victim.port else n[1], *n[2:]], *rest]
                    for a, b, n, *rest in slots_before]
        for n in nodes:
            wait_until(lambda: n.client().execute_command("CLUSTER", "SLOTS") == expected, what="the new address")
    finally:
        for n in nodes:
            n.stop()


def test_a_node_without_etcd_starts_and_refuses_keys_it_cannot_route():
    node = RunnelProcess("--cluster-enabled", "yes", "--cluster-etcd-endpoints", "http://127.0.0.1:1")
    try:
        c = node.client()
        assert c.ping()
        with pytest.raises(redis.ResponseError, match="CLUSTERDOWN Hash slot not served"):
            c.get("x")
        assert cluster_info(node)["cluster_state"] == "fail"
        assert "can't obtain a lease" in node.output()
    finally:
        node.stop()


def test_cluster_commands_refuse_without_cluster_enabled():
    node = RunnelProcess()
    try:
        with pytest.raises(redis.ResponseError, match="This instance has cluster support disabled"):
            node.client().execute_command("CLUSTER", "INFO")
        assert node.client().info("cluster")["cluster_enabled"] == 0
    finally:
        node.stop()


def test_cluster_admin_errors(six):
    c = six[0].client()
    with pytest.raises(redis.ResponseError, match="Slot 0 is already busy|Slot 0 specified"):
        c.execute_command("CLUSTER", "ADDSLOTS", 0)
    with pytest.raises(redis.ResponseError, match="Invalid slot"):
        c.execute_command("CLUSTER", "ADDSLOTS", 16384)
    with pytest.raises(redis.ResponseError, match="Unknown node"):
        c.execute_command("CLUSTER", "FORGET", "0" * 40)
    myid = c.execute_command("CLUSTER", "MYID")
    with pytest.raises(redis.ResponseError, match="can't forget myself"):
        c.execute_command("CLUSTER", "FORGET", myid)
    with pytest.raises(redis.ResponseError, match="Can't replicate myself"):
        c.execute_command("CLUSTER", "REPLICATE", myid)
    assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", 7092) >= 0
    assert c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.following") == \
        c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.followers")


def test_a_slot_with_a_stream_moves_while_a_consumer_keeps_reading(etcd):
    """The migration protocol redis-cli --cluster reshard drives, on the slot
    of a stream with a consumer group and pending entries; a consumer reads
    through redis-py's RedisCluster meanwhile."""
    nodes = [start_node(etcd, "move") for _ in range(3)]
    try:
        create_cluster(nodes, replicas=0)
        rc = RedisCluster(host="127.0.0.1", port=nodes[0].port)
        source = owner_of(nodes, 7092)
        target = next(n for n in nodes if n is not source)
        rc.xgroup_create("apple", "g", id="0", mkstream=True)
        for i in range(50):
            rc.xadd("apple", {"n": i})
        first = rc.xreadgroup("g", "c1", {"apple": ">"}, count=10)
        for i in range(300):
            rc.set(f"{{apple}}:{i}", i)
        src, dst = source.client(), target.client()
        src_id, dst_id = src.execute_command("CLUSTER", "MYID"), dst.execute_command("CLUSTER", "MYID")
        shard_sub = source.raw()
        assert shard_sub.call("SSUBSCRIBE", "apple") == [b"ssubscribe", b"apple", 1]
        waiting = source.raw()  # blocked on a key of the slot: redirected when the slot leaves
        waiting.command("BLPOP", "{apple}:queue", 0)
        wait_until(lambda: source.client().info("clients")["blocked_clients"] == 1, what="the BLPOP to block")
        assert dst.execute_command("CLUSTER", "SETSLOT", 7092, "IMPORTING", src_id)
        assert src.execute_command("CLUSTER", "SETSLOT", 7092, "MIGRATING", dst_id)
        assert b"[7092->-" in src.execute_command("CLUSTER", "NODES")
        read = 0
        while src.execute_command("CLUSTER", "COUNTKEYSINSLOT", 7092):
            keys = src.execute_command("CLUSTER", "GETKEYSINSLOT", 7092, 40)
            assert src.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys) == b"OK"
            got = rc.xreadgroup("g", "c1", {"apple": ">"}, count=1)  # follows -ASK when the stream moved
            read += len(got[0][1]) if got else 0
            rc.set(f"{{apple}}:new:{read}", 1)  # a new key during the move lands on the target
        with pytest.raises(redis.ResponseError, match="ASK 7092"):
            src.get("{apple}:0")
        for n in nodes:
            assert n.client().execute_command("CLUSTER", "SETSLOT", 7092, "NODE", dst_id)
        wait_until(lambda: owner_of(nodes, 7092) is target, what="the slot's new owner")
        assert shard_sub.read_reply() == [b"sunsubscribe", b"apple", 0]  # re-subscribe at the new owner
        assert waiting.read_reply() == ("error", f"MOVED 7092 127.0.0.1:{target.port}")
        pending = rc.xpending("apple", "g")
        assert pending["pending"] == 10 + read
        assert rc.xlen("apple") == 50
        assert [rc.get(f"{{apple}}:{i}") for i in range(300)] == [str(i).encode() for i in range(300)]
        assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", 7092) >= 301
        with pytest.raises(redis.ResponseError, match=f"MOVED 7092 127.0.0.1:{target.port}"):
            src.get("{apple}:0")
        assert len(first[0][1]) == 10
        rc.close()
    finally:
        for n in nodes:
            n.stop()


def test_redis_cli_reshard_moves_slots_with_their_keys(etcd):
    nodes = [start_node(etcd, "reshard") for _ in range(3)]
    try:
        create_cluster(nodes, replicas=0)
        rc = RedisCluster(host="127.0.0.1", port=nodes[0].port)
        for i in range(3000):
            rc.set(f"k{i}", i)
        src = owner_of(nodes, 5461)
        dst = owner_of(nodes, 0)
        out = subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{nodes[0].port}", "--cluster-from",
                              src.client().execute_command("CLUSTER", "MYID").decode(), "--cluster-to",
                              dst.client().execute_command("CLUSTER", "MYID").decode(), "--cluster-slots", "500",
                              "--cluster-yes"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr
        check = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{nodes[0].port}"],
                               capture_output=True, text=True, timeout=30).stdout
        assert "[OK] All 16384 slots covered." in check and "[OK] All nodes agree" in check
        assert owner_of(nodes, 5461) is dst
        assert [rc.get(f"k{i}") for i in range(3000)] == [str(i).encode() for i in range(3000)]
        assert sum(n.client().dbsize() for n in nodes) == 3000
        rc.close()
    finally:
        for n in nodes:
            n.stop()


def test_add_node_reshard_to_it_and_del_node(etcd):
    nodes = [start_node(etcd, "grow") for _ in range(4)]
    try:
        create_cluster(nodes[:3], replicas=0)
        rc = RedisCluster(host="127.0.0.1", port=nodes[0].port)
        for i in range(1000):
            rc.set(f"k{i}", i)
        new, seed = nodes[3], f"127.0.0.1:{nodes[0].port}"
        run = lambda *a: subprocess.run(["redis-cli", "--cluster", *a], capture_output=True, text=True, timeout=120)
        out = run("add-node", f"127.0.0.1:{new.port}", seed)
        assert "[OK] New node added correctly." in out.stdout, out.stdout
        new_id = new.client().execute_command("CLUSTER", "MYID").decode()
        first_id = nodes[0].client().execute_command("CLUSTER", "MYID").decode()
        assert run("reshard", seed, "--cluster-from", first_id, "--cluster-to", new_id, "--cluster-slots", "200",
                   "--cluster-yes").returncode == 0
        assert new.client().dbsize() > 0
        assert [rc.get(f"k{i}") for i in range(1000)] == [str(i).encode() for i in range(1000)]
        assert run("reshard", seed, "--cluster-from", new_id, "--cluster-to", first_id, "--cluster-slots", "200",
                   "--cluster-yes").returncode == 0
        out = run("del-node", seed, new_id)
        assert out.returncode == 0, out.stdout + out.stderr
        check = run("check", seed).stdout
        assert "[OK] All 16384 slots covered." in check and "[OK] 1000 keys in 3 masters." in check
        rc.close()
    finally:
        for n in nodes:
            n.stop()


def test_a_second_node_with_the_same_id_does_not_join(etcd):
    first = start_node(etcd, "twins")
    try:
        twin_dir = __import__("tempfile").mkdtemp(prefix="runnel-twin-")
        shutil.copy(os.path.join(first.dir, "nodes.conf"), os.path.join(twin_dir, "nodes.conf"))
        twin = start_node(etcd, "twins", dir_=twin_dir)
        try:
            wait_until(lambda: "another running node uses this node's id" in twin.output(), what="the refusal")
            with pytest.raises(redis.ResponseError, match="CLUSTERDOWN"):
                twin.client().get("x")
            assert first.client().execute_command("CLUSTER", "MYID") == twin.client().execute_command("CLUSTER", "MYID")
            first.client().execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            assert first.client().set("x", 1)  # the first one is unaffected
        finally:
            twin.stop()
    finally:
        first.stop()


def test_ioredis_cluster_client_reads_writes_and_subscribes(six):
    from node_helpers import run_scenario
    out = run_scenario("ioredis_cluster_scenarios.js", "ioredis", six[0].port, "readwrite")
    assert out == {"ok": 500, "nodes": 3}
    out = run_scenario("ioredis_cluster_scenarios.js", "ioredis", six[1].port, "pubsub")
    assert out["got"] == [["news", "hello"]]
