"""Atomic slot migration (CLUSTER MIGRATESLOTS, GETSLOTMIGRATIONS,
CANCELSLOTMIGRATIONS): the source ships the slots' keys and the writes made
meanwhile to the target, pauses writes to those slots for the hand-over
only, and commits the new owner in etcd; any failure before the commit
leaves the slots at the source with nothing lost, and the target drops
what it got."""
import os
import shutil
import signal
import threading
import time

import pytest
import redis

from cluster_helpers import ETCD, owner_of, running_cluster, wait_until
from conftest import RawConnection

pytestmark = pytest.mark.skipif(ETCD is None or shutil.which("redis-cli") is None, reason="etcd is not installed")

RANGE = (0, 99)


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def slot_of(key):
    k = key.encode()
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return crc16(k) % 16384


def keys_in_range(prefix, count, lo=RANGE[0], hi=RANGE[1]):
    """count keys whose slots are in lo..hi: a few hash tags found by trial,
    then many keys per tag (trying key names one by one would take long)."""
    tags, i = [], 0
    while len(tags) < 16:
        if lo <= slot_of(f"t{i}") <= hi:
            tags.append(f"t{i}")
        i += 1
    return [f"{prefix}:{{{tags[n % len(tags)]}}}:{n}" for n in range(count)]


@pytest.fixture
def cluster():
    with running_cluster("asm") as nodes:
        yield nodes


def migrations(node):
    return [dict(zip(m[::2], m[1::2])) for m in node.client().execute_command("CLUSTER", "GETSLOTMIGRATIONS")]


def wait_state(node, states, timeout=30):
    def done():
        ms = migrations(node)
        return ms and ms[0][b"state"].decode() in states and ms[0]
    return wait_until(done, timeout, f"a migration in {states}")


def primaries_other_than(nodes, src):
    return [n for n in nodes if n is not src and n.client().info("replication")["role"] == "master"]


def count_in_range(node, lo=RANGE[0], hi=RANGE[1]):
    c = node.client()
    return sum(c.execute_command("CLUSTER", "COUNTKEYSINSLOT", s) for s in range(lo, hi + 1))


def fill(src):
    """Strings (one with a TTL), a list, a hash, a set, a sorted set and a
    stream with a group and pending entries, all in the moving slots."""
    c = src.client()
    strings = keys_in_range("str", 500)
    p = c.pipeline(transaction=False)
    for i, k in enumerate(strings):
        p.set(k, f"v{i}")
    p.execute()
    c.set(strings[0] + ":ttl", "x", px=600000)
    big = keys_in_range("big", 4)
    c.rpush(big[0], *range(5000))
    c.hset(big[1], mapping={f"f{i}": i for i in range(2000)})
    c.sadd(big[2], *range(1000))
    c.zadd(big[3], {f"m{i}": i for i in range(1000)})
    stream = keys_in_range("stream", 1)[0]
    for i in range(300):
        c.xadd(stream, {"n": i})
    c.xgroup_create(stream, "g", id="0")
    c.xreadgroup("g", "alice", {stream: ">"}, count=120)
    return strings, big, stream


def snapshot_values(c, keys):
    """Each key's value as data (DUMP payloads of hashes and sets follow
    their tables' order, which a reload may change)."""
    read = {b"string": c.get, b"list": lambda k: c.lrange(k, 0, -1), b"hash": c.hgetall, b"set": c.smembers,
            b"zset": lambda k: c.zrange(k, 0, -1, withscores=True)}
    return {k: read[c.type(k)](k) for k in keys}


def test_migrateslots_moves_keys_writes_and_ownership(cluster):
    nodes = cluster
    src = owner_of(nodes, 0)
    dst = primaries_other_than(nodes, src)[0]
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    strings, big, stream = fill(src)
    before = snapshot_values(src.client(), strings[1:] + big)
    pending_before = src.client().xpending(stream, "g")["pending"]
    # a shard-channel subscriber of a moving slot, told at the commit
    channel = keys_in_range("chan", 1)[0]
    sub = RawConnection(src.port)
    sub.command("SSUBSCRIBE", channel)
    assert sub.read_reply()[0] == b"ssubscribe"

    # writers on the moving slots, through the whole migration
    counters = keys_in_range("ctr", 8)
    acked = {k: 0 for k in counters}
    attempted = {k: 0 for k in counters}
    errors, stop = [], threading.Event()

    def writer():
        conns = {src.port: src.client(socket_timeout=5), dst.port: dst.client(socket_timeout=5)}
        where = src.port
        i = 0
        while not stop.is_set():
            k = counters[i % len(counters)]
            attempted[k] += 1
            try:
                conns[where].incr(k)
                acked[k] += 1
            except redis.ResponseError as e:
                msg = str(e)
                if msg.startswith("MOVED"):
                    attempted[k] -= 1  # refused, not applied
                    where = int(msg.split(":")[-1])
                elif msg.startswith("TRYAGAIN"):
                    attempted[k] -= 1
                    time.sleep(0.001)
                else:
                    errors.append(msg)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.3)
    assert src.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1],
                                        "NODE", dst_id) == b"OK"
    job = wait_state(src, ("success", "failed", "cancelled"))
    time.sleep(0.3)
    stop.set()
    t.join()
    assert job[b"state"] == b"success", job
    assert job[b"operation"] == b"EXPORT" and job[b"slot_ranges"] == b"0-99"
    assert job[b"target_node"].decode() == dst_id and len(job[b"name"]) == 40
    assert abs(job[b"last_ack_time"] - time.time()) < 60 and job[b"create_time"] <= job[b"last_update_time"]
    assert errors == []
    imp = wait_state(dst, ("success",))
    assert imp[b"operation"] == b"IMPORT" and imp[b"name"] == job[b"name"]

    # ownership: every node's view, and the keys left the source
    for n in nodes:
        wait_until(lambda: owner_of([n] + [m for m in nodes if m is not n], 50) is dst, 10, "the new owner")
    wait_until(lambda: count_in_range(src) == 0, 10, "the source to drop the keys")
    d = dst.client()
    assert snapshot_values(d, strings[1:] + big) == before
    assert 0 < d.pttl(strings[0] + ":ttl") <= 600000
    assert d.xpending(stream, "g")["pending"] == pending_before == 120
    assert d.xlen(stream) == 300
    # every acknowledged write is there exactly once; none was lost or doubled
    for k in counters:
        got = int(d.get(k) or 0)
        assert acked[k] <= got <= attempted[k], (k, acked[k], got, attempted[k])
    assert sum(acked.values()) > 50
    # the target's replica has it all too
    replica = next(n for n in nodes if n.client().info("replication").get("master_port") == dst.port)
    wait_until(lambda: count_in_range(replica) == count_in_range(dst), 15, "the target's replica")
    # the shard subscriber was unsubscribed at the commit
    assert sub.read_reply()[0:2] == [b"sunsubscribe", channel.encode()]


def test_a_refused_write_on_the_target_fails_the_migration_and_loses_nothing(cluster):
    nodes = cluster
    src = owner_of(nodes, 0)
    dst = primaries_other_than(nodes, src)[0]
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    used = src.client().info("memory")["used_memory"]
    strings, big, stream = fill(src)
    if src.client().info("memory")["used_memory"] == used:
        pytest.skip("no allocator statistics, so no maxmemory (sanitizer build)")
    p = src.client().pipeline(transaction=False)
    for k in keys_in_range("large", 300):
        p.set(k, "z" * 10000)
    p.execute()
    count = count_in_range(src)
    # the target runs out of memory halfway: its RESTOREs are refused
    dst.client().config_set("maxmemory", dst.client().info("memory")["used_memory"] + 200000)
    src.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1], "NODE", dst_id)
    job = wait_state(src, ("success", "failed", "cancelled"))
    assert job[b"state"] == b"failed" and b"refused" in job[b"message"], job
    dst.client().config_set("maxmemory", 0)
    assert owner_of(nodes, 50) is src
    assert count_in_range(src) == count
    wait_until(lambda: count_in_range(dst) == 0, 10, "the target to drop what it got")
    assert src.client().incr(keys_in_range("after", 1)[0]) == 1
    # and a second attempt goes through
    src.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1], "NODE", dst_id)
    assert wait_state(src, ("success", "failed"))[b"state"] == b"success"
    wait_until(lambda: count_in_range(dst) == count + 1, 10, "the keys at the target")


def test_cancel_and_a_dead_target_leave_the_slots_at_the_source(cluster):
    nodes = cluster
    src = owner_of(nodes, 0)
    dst, other = primaries_other_than(nodes, src)[:2]
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    fill(src)
    count = count_in_range(src)
    c = src.client()
    os.kill(dst.proc.pid, signal.SIGSTOP)  # it accepts the connection but never answers
    try:
        assert c.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1], "NODE", dst_id) == b"OK"
        assert migrations(src)[0][b"state"] == b"connecting"
        with pytest.raises(redis.ResponseError, match="already being migrated"):
            c.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 5, 6, "NODE", dst_id)
        assert c.execute_command("CLUSTER", "CANCELSLOTMIGRATIONS") == b"OK"
        job = migrations(src)[0]
        assert job[b"state"] == b"cancelled", job
    finally:
        os.kill(dst.proc.pid, signal.SIGCONT)
    assert owner_of(nodes, 50) is src and count_in_range(src) == count
    # a target killed in the middle: the job fails, the source keeps serving
    other_id = other.client().execute_command("CLUSTER", "MYID").decode()
    c.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1], "NODE", other_id)
    os.kill(other.proc.pid, signal.SIGKILL)
    job = wait_state(src, ("success", "failed"))
    if job[b"state"] == b"failed":
        assert owner_of([src], 50) is src and count_in_range(src) == count


def test_migrateslots_errors(cluster):
    nodes = cluster
    src = owner_of(nodes, 0)
    dst = primaries_other_than(nodes, src)[0]
    c = src.client()
    my_id = c.execute_command("CLUSTER", "MYID").decode()
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    cases = [
        (["SLOTSRANGE", 0, 10], "wrong number of arguments"),
        (["SLOTSRANGE", 0, "NODE", dst_id], "syntax error"),
        (["SLOTSRANGE", 10, 5, "NODE", dst_id], "start slot number is greater than end slot number"),
        (["SLOTSRANGE", 0, 16384, "NODE", dst_id], "Invalid or out of range slot"),
        (["SLOTSRANGE", 16000, 16001, "NODE", dst_id], "I'm not the owner of hash slot 16000"),
        (["SLOTSRANGE", 0, 1, "NODE", "f" * 40], "Unknown node"),
        (["SLOTSRANGE", 0, 1, "NODE", my_id], "Target node is myself"),
        (["SLOTSRANGE", 0, 5, "NODE", dst_id, "SLOTSRANGE", 5, 6, "NODE", dst_id], "Slot ranges overlap"),
    ]
    for args, err in cases:
        with pytest.raises(redis.ResponseError, match=err):
            c.execute_command("CLUSTER", "MIGRATESLOTS", *args)
    replica = next(n for n in nodes if n.client().info("replication").get("master_port") == src.port)
    with pytest.raises(redis.ResponseError, match="only be started on a primary"):
        replica.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 0, 1, "NODE", dst_id)
    with pytest.raises(redis.ResponseError, match="not a slot migration link"):
        c.execute_command("CLUSTER", "SYNCSLOTS", "ACK", 1)
    assert c.execute_command("CLUSTER", "GETSLOTMIGRATIONS") == []


def test_a_source_killed_during_the_migration_loses_nothing(cluster):
    """The source dies with the job under way: its replica takes over with
    every key, and the target, whose link broke without a commit, drops
    what it had received once the grace period has passed."""
    nodes = cluster
    src = owner_of(nodes, 0)
    dst = primaries_other_than(nodes, src)[0]
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    replica = next(n for n in nodes if n.client().info("replication").get("master_port") == src.port)
    fill(src)
    p = src.client().pipeline(transaction=False)
    for k in keys_in_range("bulk", 20000):
        p.set(k, "b" * 200)
    p.execute()
    count = count_in_range(src)
    assert src.client().execute_command("WAIT", 1, 5000) == 1
    src.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1], "NODE", dst_id)
    os.kill(src.proc.pid, signal.SIGKILL)
    others = [n for n in nodes if n is not src]
    wait_until(lambda: owner_of(others, 50) is replica, 20, "the source's replica to take over")
    assert count_in_range(replica) == count
    imp = wait_state(dst, ("failed", "success"), timeout=20)
    assert imp[b"operation"] == b"IMPORT" and imp[b"state"] == b"failed", imp
    assert count_in_range(dst) == 0


def test_a_target_that_never_accepts_fails_the_job_in_time(cluster):
    """A target that takes the connection but never answers (stopped): the
    job gives up after its accept timeout instead of waiting for ever."""
    nodes = cluster
    src = owner_of(nodes, 0)
    dst = primaries_other_than(nodes, src)[0]
    dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
    os.kill(dst.proc.pid, signal.SIGSTOP)
    try:
        src.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 0, 9, "NODE", dst_id)
        job = wait_state(src, ("failed", "success"), timeout=15)
        assert job[b"state"] == b"failed" and b"in time" in job[b"message"], job
    finally:
        os.kill(dst.proc.pid, signal.SIGCONT)
    assert owner_of(nodes, 5) is src


def test_a_commit_etcd_does_not_answer_is_retried_not_given_up():
    """etcd stops answering just as the new owner is committed: the source
    cannot know whether the transaction went through, so it neither gives
    the slots up nor tells the target to drop them; writes to them wait and
    the commit is sent again until etcd answers, then the job succeeds with
    every key at the target. (A lease of 10 s, so that nobody fences or fails
    over while etcd is stopped for 4 s.)"""
    with running_cluster("asm-etcd", 3, 0, "--cluster-node-timeout", "10000") as nodes:
        src = owner_of(nodes, 0)
        dst = primaries_other_than(nodes, src)[0]
        dst_id = dst.client().execute_command("CLUSTER", "MYID").decode()
        keys = keys_in_range("k", 50)
        for k in keys:
            src.client().set(k, k)
        etcd = nodes[0].etcd
        os.kill(etcd.proc.pid, signal.SIGSTOP)
        try:
            src.client().execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", RANGE[0], RANGE[1], "NODE", dst_id)
            wait_until(lambda: b"did not answer" in migrations(src)[0][b"message"], 10, "the commit to go unanswered")
            with pytest.raises(redis.ResponseError, match="TRYAGAIN"):
                src.client().set(keys[0], "during")
        finally:
            os.kill(etcd.proc.pid, signal.SIGCONT)
        job = wait_state(src, ("success", "failed"), timeout=20)
        assert job[b"state"] == b"success", job
        wait_until(lambda: owner_of(nodes, 50) is dst, 10, "the new owner")
        assert [dst.client().get(k) for k in keys] == [k.encode() for k in keys]
