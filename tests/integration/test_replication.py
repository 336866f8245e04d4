"""Replication between real server processes: full and partial
synchronisation, the stream after it, read-only replicas, WAIT, chained
replicas, promotion, and what a replica does when its primary misbehaves."""
import os
import signal
import socket
import time

import pytest
import redis

from conftest import RunnelProcess, open_file_targets
from replication_helpers import (digest, dump_dataset, start_primary, start_replica, wait_caught_up, wait_for,
                                 wait_link_up)


def fill_every_type(r):
    r.set("str", "value")
    r.set("int", 12345)
    r.set("ttl", "soon", ex=1000)
    r.rpush("list", *[f"item{i}" for i in range(300)])
    r.hset("small-hash", mapping={"a": 1, "b": 2})
    r.hset("big-hash", mapping={f"f{i}": f"v{i}" for i in range(500)})
    r.sadd("intset", *range(50))
    r.sadd("set", *[f"m{i}" for i in range(300)])
    r.zadd("zset", {f"z{i}": i / 3 for i in range(200)})
    for i in range(250):
        r.xadd("stream", {"n": i, "payload": "x" * (i % 7)})
    r.xgroup_create("stream", "g1", id="0")
    r.xreadgroup("g1", "alice", {"stream": ">"}, count=10)
    r.xreadgroup("g1", "bob", {"stream": ">"}, count=5)
    r.xack("stream", "g1", *[e[0] for e in r.xrange("stream", count=3)])
    r.xgroup_create("stream", "g2", id="$")
    r3 = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                     port=r.connection_pool.connection_kwargs["port"], db=3)
    r3.set("in-db-3", "yes")
    r3.lpush("queue", "a", "b")


class Servers:
    """A primary and the replicas a test starts; all stopped at the end."""

    def __init__(self):
        self.primary = start_primary()
        self.others = []

    def replica(self, *args, of=None):
        return self.keep(start_replica(of or self.primary, *args))

    def keep(self, proc):
        self.others.append(proc)
        return proc

    def stop(self):
        for proc in [self.primary, *self.others]:
            proc.stop()


@pytest.fixture
def servers():
    s = Servers()
    yield s
    s.stop()


def test_full_sync_copies_every_type_and_the_stream_follows(servers):
    primary = servers.primary
    p = primary.client()
    fill_every_type(p)
    replica = servers.replica()
    wait_caught_up(primary, replica)
    assert dump_dataset(replica) == dump_dataset(primary)
    # writes after the sync arrive through the stream
    p.incr("int")
    p.xadd("stream", {"after": "sync"})
    p.xreadgroup("g2", "carol", {"stream": ">"})
    p.delete("set")
    p.expire("str", 5000)
    wait_caught_up(primary, replica)
    assert dump_dataset(replica) == dump_dataset(primary)
    assert digest(replica) == digest(primary) != "0" * 40
    info = p.info()
    assert info["sync_full"] == 1
    assert info["connected_slaves"] == 1
    rinfo = replica.client().info("replication")
    assert rinfo["role"] == "slave"
    assert rinfo["master_replid"] == info["master_replid"]
    assert rinfo["master_repl_offset"] == info["master_repl_offset"]


def test_replica_is_read_only_by_default(servers):
    primary = servers.primary
    replica = servers.replica()
    wait_link_up(replica)
    r = replica.client()
    with pytest.raises(redis.exceptions.ReadOnlyError, match="You can't write against a read only replica."):
        r.set("x", 1)
    assert r.get("x") is None  # reads work
    r.config_set("replica-read-only", "no")
    assert r.set("x", 1)


def test_info_and_role_on_both_sides(servers):
    primary = servers.primary
    replica = servers.replica()
    p = primary.client()
    p.set("k", "v")
    wait_caught_up(primary, replica)
    wait_for(lambda: p.info("replication").get("slave0", {}).get("offset", 0) > 0, what="an ACK")
    slave0 = p.info("replication")["slave0"]
    assert slave0["ip"] == "127.0.0.1" and slave0["port"] == replica.port and slave0["state"] == "online"
    role = p.role()
    assert role[0] == b"master" and role[2][0][1] == str(replica.port).encode()
    rrole = replica.client().role()
    assert rrole[0] == b"slave" and rrole[2] == primary.port and rrole[3] == b"connected"
    info = replica.client().info("replication")
    for field in ("master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
                  "master_sync_in_progress", "slave_read_repl_offset", "slave_repl_offset", "slave_priority",
                  "slave_read_only", "master_replid", "master_replid2", "master_repl_offset",
                  "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
                  "repl_backlog_first_byte_offset", "repl_backlog_histlen"):
        assert field in info, field
    assert replica.client().config_get("replicaof") == {"replicaof": f"127.0.0.1 {primary.port}"}


def test_partial_resync_after_the_link_is_killed(servers):
    primary = servers.primary
    replica = servers.replica()
    p = primary.client()
    p.set("before", 1)
    wait_caught_up(primary, replica)
    replica.client().client_kill_filter(_type="master")
    for i in range(100):
        p.rpush("during", i)
    wait_caught_up(primary, replica)
    info = p.info()
    assert info["sync_full"] == 1
    assert info["sync_partial_ok"] == 1
    assert replica.client().lrange("during", 0, -1) == [str(i).encode() for i in range(100)]


def test_publish_reaches_subscribers_on_the_replica(servers):
    primary = servers.primary
    replica = servers.replica()
    wait_link_up(replica)
    sub = replica.client().pubsub()
    sub.subscribe("news")
    assert sub.get_message(timeout=2)["type"] == "subscribe"
    primary.client().publish("news", "hello")
    msg = wait_for(lambda: sub.get_message(timeout=0.2), what="the message")
    assert msg["data"] == b"hello"
    # the AOF of the primary does not hold PUBLISH (a replay would resend it)


def test_wait_counts_replicas_that_acknowledged(servers):
    primary = servers.primary
    p = primary.client()
    assert p.execute_command("WAIT", 0, 100) == 0
    r1, r2 = servers.replica(), servers.replica()
    wait_link_up(r1)
    wait_link_up(r2)
    p.set("x", 1)
    assert p.execute_command("WAIT", 2, 5000) == 2
    p.set("y", 2)
    started = time.time()
    assert p.execute_command("WAIT", 3, 300) == 2  # only two exist: the timeout decides
    assert time.time() - started >= 0.25
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
        r1.client().execute_command("WAIT", 1, 10)
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        p.execute_command("WAIT", 1, -1)


def test_min_replicas_to_write_refuses_writes(servers):
    primary = servers.primary
    p = primary.client()
    p.config_set("min-replicas-to-write", 1)
    with pytest.raises(redis.ResponseError, match="NOREPLICAS Not enough good replicas to write."):
        p.set("x", 1)
    assert p.get("x") is None
    replica = servers.replica()
    wait_link_up(replica)
    wait_for(lambda: p.info("replication").get("min_slaves_good_slaves") == 1, what="a good replica")
    assert p.set("x", 1)


def test_chained_replica_gets_the_same_history(servers):
    primary = servers.primary
    p = primary.client()
    fill_every_type(p)
    middle = servers.replica()
    wait_caught_up(primary, middle)
    leaf = servers.replica(of=middle)
    wait_caught_up(primary, leaf)
    p.lpush("later", "a", "b")
    wait_caught_up(primary, leaf)
    assert dump_dataset(leaf) == dump_dataset(primary)
    assert digest(leaf) == digest(middle) == digest(primary)
    assert leaf.client().info("replication")["master_replid"] == p.info("replication")["master_replid"]


def test_promotion_keeps_the_history_for_the_other_replicas(servers):
    primary = servers.primary
    p = primary.client()
    r1, r2 = servers.replica(), servers.replica()
    p.set("a", 1)
    wait_caught_up(primary, r1)
    wait_caught_up(primary, r2)
    old_id = p.info("replication")["master_replid"]
    primary.stop()
    c1 = r1.client()
    assert c1.replicaof("NO", "ONE")
    info = c1.info("replication")
    assert info["role"] == "master"
    assert info["master_replid2"] == old_id and info["master_replid"] != old_id
    assert c1.config_get("replicaof") == {"replicaof": ""}
    c1.set("b", 2)
    r2.client().replicaof("127.0.0.1", r1.port)
    wait_caught_up(r1, r2)
    assert r2.client().get("b") == b"2"
    assert c1.info()["sync_partial_ok"] == 1
    assert c1.info()["sync_full"] == 0


def test_replica_restarted_from_its_snapshot_continues_partially(servers):
    primary = servers.primary
    p = primary.client()
    p.set("a", 1)
    replica = servers.replica()
    wait_caught_up(primary, replica)
    replica_dir = replica.dir
    replica.client().shutdown(save=True)
    replica.proc.wait(timeout=10)
    p.set("b", 2)
    restarted = servers.keep(RunnelProcess("--replicaof", "127.0.0.1", str(primary.port), "--dir", replica_dir))
    wait_caught_up(primary, restarted)
    assert restarted.client().mget("a", "b") == [b"1", b"2"]
    info = p.info()
    assert info["sync_full"] == 1 and info["sync_partial_ok"] == 1


def test_a_small_backlog_falls_back_to_a_full_resync(servers):
    primary = servers.primary
    p = primary.client()
    p.config_set("repl-backlog-size", 16384)
    replica = servers.replica()
    wait_caught_up(primary, replica)
    replica.client().replicaof("NO", "ONE")
    for i in range(2000):
        p.set(f"k{i}", "x" * 100)
    replica.client().replicaof("127.0.0.1", primary.port)
    wait_caught_up(primary, replica)
    assert replica.client().dbsize() == 2000
    assert p.info()["sync_full"] == 2


def temp_snapshots(srv):
    return [f for f in os.listdir(srv.dir) if f.startswith("temp-repl-")]


def held_deleted(srv):
    return [t for t in open_file_targets(srv.proc.pid) if t.endswith(" (deleted)")]


@pytest.mark.parametrize("mode", [("--repl-diskless-sync", "no"), ("--repl-diskless-load", "swapdb")])
def test_sync_through_a_file_or_into_memory(mode):
    primary = start_primary(*(mode if mode[0] == "--repl-diskless-sync" else ()))
    replica = None
    try:
        p = primary.client()
        fill_every_type(p)
        replica = start_replica(primary, *(mode if mode[0] == "--repl-diskless-load" else ()))
        wait_caught_up(primary, replica)
        assert dump_dataset(replica) == dump_dataset(primary)
        # the primary's temporary snapshot is deleted, and its blocks freed (the descriptor that
        # held them while the loop went on is closed in the background)
        deadline = time.time() + 5
        while time.time() < deadline and (temp_snapshots(primary) or held_deleted(primary)):
            time.sleep(0.05)
        assert temp_snapshots(primary) == [] and held_deleted(primary) == []
    finally:
        primary.stop()
        if replica:
            replica.stop()


def test_expired_keys_read_as_missing_on_the_replica_until_the_primary_deletes_them(servers):
    primary = servers.primary
    p = primary.client()
    p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    replica = servers.replica()
    wait_link_up(replica)
    p.set("short", "v", px=100)
    wait_caught_up(primary, replica)
    r = replica.client()
    time.sleep(0.2)
    assert r.get("short") is None          # logically expired on the replica
    assert r.execute_command("DEBUG", "OBJECT", "short")  # but still held: the primary decides
    p.get("short")                          # the primary expires it and sends DEL
    wait_caught_up(primary, replica)
    with pytest.raises(redis.ResponseError):
        r.execute_command("DEBUG", "OBJECT", "short")


def test_a_garbage_replica_does_not_hurt_the_primary(servers):
    primary = servers.primary
    p = primary.client()
    p.set("k", "v")
    s = socket.create_connection(("127.0.0.1", primary.port))
    s.sendall(b"REPLCONF listening-port 1\r\nPSYNC ? -1\r\n\x00\xff garbage *9999999999\r\n")
    time.sleep(0.3)
    s.close()
    assert p.get("k") == b"v"
    for args in (("REPLCONF", "ack"), ("REPLCONF", "nonsense", "1"), ("PSYNC", "x")):
        with pytest.raises(redis.ResponseError):
            p.execute_command(*args)


def test_the_primary_vanishing_mid_snapshot_is_retried():
    primary = start_primary()
    replica = None
    try:
        p = primary.client()
        pipe = p.pipeline(transaction=False)
        for i in range(200000):
            pipe.set(f"key:{i}", "v" * 20)
        pipe.execute()
        replica = start_replica(primary)
        time.sleep(0.05)
        os.kill(primary.proc.pid, signal.SIGKILL)
        primary.proc.wait()
        time.sleep(1.5)
        assert replica.client().ping()
        assert replica.client().info("replication")["master_link_status"] == "down"
    finally:
        primary.stop()
        if replica:
            replica.stop()


def test_replica_refuses_psync_while_its_own_link_is_down():
    primary = start_primary()
    replica = start_replica(primary)
    try:
        wait_link_up(replica)
        primary.stop()
        wait_for(lambda: replica.client().info("replication")["master_link_status"] == "down", what="link down")
        with pytest.raises(redis.ResponseError, match="NOMASTERLINK"):
            replica.client().execute_command("PSYNC", "?", -1)
    finally:
        replica.stop()


def test_stale_replica_can_refuse_reads():
    primary = start_primary()
    replica = start_replica(primary, "--replica-serve-stale-data", "no")
    try:
        wait_link_up(replica)
        assert replica.client().get("x") is None
        primary.stop()
        wait_for(lambda: replica.client().info("replication")["master_link_status"] == "down", what="link down")
        with pytest.raises(redis.ResponseError, match="MASTERDOWN"):
            replica.client().get("x")
    finally:
        replica.stop()


def test_failover_switches_roles_without_losing_a_write(servers):
    primary = servers.primary
    p = primary.client()
    replica = servers.replica()
    wait_link_up(replica)
    r = replica.client()
    acked = []
    for i in range(500):
        p.rpush("log", i)
        acked.append(i)
    assert p.execute_command("FAILOVER", "TO", "127.0.0.1", replica.port, "TIMEOUT", 5000) == b"OK"
    # a write sent during the handover waits, then learns the roles changed
    with pytest.raises(redis.exceptions.ReadOnlyError):
        p.rpush("log", "late")
    wait_for(lambda: r.info("replication")["role"] == "master", what="the promotion")
    wait_for(lambda: p.info("replication").get("master_link_status") == "up", what="the old primary to follow")
    assert p.info("replication")["master_failover_state"] == "no-failover"
    assert [int(x) for x in r.lrange("log", 0, -1)] == acked
    assert r.info()["sync_partial_ok"] == 1 and r.info()["sync_full"] == 0
    r.rpush("log", "after")
    wait_caught_up(replica, primary)
    assert p.lindex("log", -1) == b"after"
    assert p.config_get("replicaof") == {"replicaof": f"127.0.0.1 {replica.port}"}
    assert r.config_get("replicaof") == {"replicaof": ""}


def test_failover_errors_and_abort(servers):
    primary = servers.primary
    p = primary.client()
    with pytest.raises(redis.ResponseError, match="FAILOVER requires connected replicas."):
        p.execute_command("FAILOVER")
    with pytest.raises(redis.ResponseError, match="No failover in progress."):
        p.execute_command("FAILOVER", "ABORT")
    replica = servers.replica()
    wait_link_up(replica)
    with pytest.raises(redis.ResponseError, match="FAILOVER target HOST and PORT is not a replica."):
        p.execute_command("FAILOVER", "TO", "127.0.0.1", 1)
    with pytest.raises(redis.ResponseError, match="force option requires both a timeout and target"):
        p.execute_command("FAILOVER", "FORCE")
    with pytest.raises(redis.ResponseError, match="not valid when server is a replica"):
        replica.client().execute_command("FAILOVER")
    # a replica that never catches up: stop it, then let the timeout abort the failover
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        p.set("x", 1)
        assert p.execute_command("FAILOVER", "TIMEOUT", 300) == b"OK"
        assert p.info("replication")["master_failover_state"] == "waiting-for-sync"
        with pytest.raises(redis.ResponseError, match="FAILOVER already in progress."):
            p.execute_command("FAILOVER")
        wait_for(lambda: p.info("replication")["master_failover_state"] == "no-failover", what="the abort")
        assert p.info("replication")["role"] == "master"
        assert p.set("y", 2)  # writes flow again
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)


def test_kill_9_under_load_loses_no_write_that_wait_confirmed(servers):
    """Writers send SET then WAIT 1 100; the primary is killed mid-stream and
    the replica promoted: every confirmed write is there."""
    import threading
    primary = servers.primary
    replica = servers.replica()
    wait_link_up(replica)
    confirmed, unconfirmed = [], []
    stop = threading.Event()

    def writer(n):
        c = primary.client(socket_timeout=2)
        i = 0
        while not stop.is_set():
            key = f"w{n}:{i}"
            try:
                c.set(key, i)
                acked = c.execute_command("WAIT", 1, 100)
            except (redis.ConnectionError, redis.TimeoutError):
                unconfirmed.append(key)
                return
            (confirmed if acked >= 1 else unconfirmed).append(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    os.kill(primary.proc.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    r = replica.client()
    r.replicaof("NO", "ONE")
    present = set(k.decode() for k in r.keys("w*"))
    lost = [k for k in confirmed if k not in present]
    assert len(confirmed) > 100
    assert lost == []
    print(f"{len(confirmed)} confirmed writes, 0 lost; "
          f"{sum(1 for k in unconfirmed if k not in present)} of {len(unconfirmed)} unconfirmed lost")


class FakePrimary:
    """A listening socket that plays a primary: it answers the handshake,
    then does what the test tells it (`script(conn)`), for every connection."""

    def __init__(self, script):
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.script = script
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                self.script(conn)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.sock.close()


def handshake(conn):
    """Answers PING, REPLCONF and PSYNC's predecessors; returns at PSYNC."""
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            raise OSError("closed")
        buf += data
        while b"\r\n" in buf:
            # a whole multibulk command: count its lines
            parts = buf.split(b"\r\n")
            n = int(parts[0][1:])
            if len(parts) < 1 + 2 * n + 1:
                break
            args = parts[2:2 + 2 * n:2]
            buf = b"\r\n".join(parts[1 + 2 * n:])
            if args[0].upper() == b"PSYNC":
                return
            conn.sendall(b"+PONG\r\n" if args[0].upper() == b"PING" else b"+OK\r\n")


@pytest.mark.parametrize("ending", ["cut-short", "bad-checksum", "garbage-header", "garbage-reply", "long-id"])
def test_a_misbehaving_primary_is_retried_and_harms_nothing(ending):
    def script(conn):
        if ending == "garbage-reply":
            conn.recv(100)
            conn.sendall(b"\x00\xffnot redis at all\r\n")
            return
        handshake(conn)
        if ending == "long-id":  # overflowed a stack buffer once (found with ASan)
            conn.sendall(b"+FULLRESYNC " + b"a" * 200 + b" 0\r\n")
            return
        conn.sendall(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n")
        if ending == "garbage-header":
            conn.sendall(b"hello\r\n")
        elif ending == "cut-short":
            conn.sendall(b"$EOF:" + b"m" * 40 + b"\r\nRUNNEL0002 and then nothing")
        else:
            conn.sendall(b"$20\r\nRUNNEL0002xxxxxxxxxx")
        time.sleep(0.2)

    fake = FakePrimary(script)
    replica = RunnelProcess("--replicaof", "127.0.0.1", str(fake.port))
    try:
        r = replica.client()
        wait_for(lambda: fake.connections >= 2, timeout=10, what="a retry")
        assert r.ping()
        assert r.info("replication")["master_link_status"] == "down"
        assert replica.proc.poll() is None
    finally:
        replica.stop()
        fake.close()


def test_a_silent_primary_times_out():
    primary = start_primary()
    replica = start_replica(primary, "--repl-timeout", "1")
    try:
        wait_link_up(replica)
        os.kill(primary.proc.pid, signal.SIGSTOP)
        wait_for(lambda: replica.client().info("replication")["master_link_status"] == "down", timeout=10,
                 what="the timeout")
        assert "PRIMARY timeout" in replica.output() or "timeout" in replica.output()
        os.kill(primary.proc.pid, signal.SIGCONT)
        wait_link_up(replica)
    finally:
        os.kill(primary.proc.pid, signal.SIGCONT)
        primary.stop()
        replica.stop()


def test_replicas_asking_together_share_one_snapshot(servers):
    primary = servers.primary
    primary.client().config_set("repl-diskless-sync-delay", 1)
    primary.client().set("k", "v")
    a, b = servers.replica(), servers.replica()
    wait_link_up(a)
    wait_link_up(b)
    assert primary.output().count("Starting BGSAVE for SYNC") == 1
    assert primary.client().info()["sync_full"] == 2


def test_change_repl_id_forces_a_full_resync(servers):
    primary = servers.primary
    replica = servers.replica()
    wait_caught_up(primary, replica)
    primary.client().execute_command("DEBUG", "CHANGE-REPL-ID")
    replica.client().client_kill_filter(_type="master")
    wait_caught_up(primary, replica)
    info = primary.client().info()
    assert info["sync_full"] == 2 and info["sync_partial_err"] == 1


def test_waitaof_counts_local_and_replica_fsyncs():
    primary = start_primary("--appendonly", "yes", "--appendfsync", "always")
    replica = start_replica(primary, "--appendonly", "yes", "--appendfsync", "always")
    plain = start_replica(primary)
    try:
        wait_link_up(replica)
        wait_link_up(plain)
        p = primary.client()
        p.set("x", 1)
        assert p.execute_command("WAITAOF", 1, 1, 5000) == [1, 1]
        started = time.time()
        assert p.execute_command("WAITAOF", 1, 2, 300) == [1, 1]  # the replica without an AOF never counts
        assert time.time() - started >= 0.25
        with pytest.raises(redis.ResponseError, match="WAITAOF cannot be used with replica instances"):
            replica.client().execute_command("WAITAOF", 0, 0, 0)
    finally:
        for s in (primary, replica, plain):
            s.stop()
    solo = start_primary()
    try:
        with pytest.raises(redis.ResponseError, match="numlocal is set but appendonly is disabled"):
            solo.client().execute_command("WAITAOF", 1, 0, 0)
        assert solo.client().execute_command("WAITAOF", 0, 0, 0) == [0, 0]
    finally:
        solo.stop()


def test_redis_cli_rdb_fetches_a_loadable_snapshot(servers):
    import subprocess
    p = servers.primary.client()
    p.rpush("l", "a", "b")
    p.xadd("s", {"f": "v"})
    path = os.path.join(servers.primary.dir, "fetched.rdb")
    subprocess.run(["redis-cli", "-p", str(servers.primary.port), "--rdb", path], check=True,
                   capture_output=True, timeout=20)
    loaded = servers.keep(RunnelProcess("--dbfilename", "fetched.rdb", "--dir", servers.primary.dir))
    assert loaded.client().lrange("l", 0, -1) == [b"a", b"b"]
    assert loaded.client().xlen("s") == 1


def test_becoming_a_replica_keeps_the_last_writes_in_the_aof():
    """Writes and REPLICAOF in one pipeline: the writes still reach the AOF."""
    server = start_primary("--appendonly", "yes")
    replica = start_replica(server)  # the primary feeds a stream: the case that mattered
    try:
        wait_link_up(replica)
        c = server.client()
        c.set("warm", 1)
        c.execute_command("WAIT", 0, 0)
        pipe = c.pipeline(transaction=False)
        pipe.rpush("x", "a")
        pipe.execute_command("REPLICAOF", "127.0.0.1", 1)  # nothing listens there: the data stays
        pipe.execute()
        c.replicaof("NO", "ONE")
        server.client().shutdown(nosave=True)
        server.proc.wait(timeout=10)
        again = RunnelProcess("--appendonly", "yes", "--dir", server.dir)
        try:
            assert again.client().lrange("x", 0, -1) == [b"a"]
        finally:
            again.stop()
    finally:
        server.stop()
        replica.stop()


def test_a_promotion_in_the_same_turn_as_a_replicated_write_sends_it_once(servers):
    primary = servers.primary
    middle = servers.replica("--appendonly", "yes")
    wait_link_up(middle)
    leaf = servers.replica(of=middle)
    wait_caught_up(primary, leaf)
    promote = socket.create_connection(("127.0.0.1", middle.port))
    os.kill(middle.proc.pid, signal.SIGSTOP)
    try:
        primary.client().rpush("x", "a")
        time.sleep(0.1)  # the write waits in the stopped replica's socket
        promote.sendall(b"*3\r\n$9\r\nREPLICAOF\r\n$2\r\nNO\r\n$3\r\nONE\r\n")
        time.sleep(0.1)
    finally:
        os.kill(middle.proc.pid, signal.SIGCONT)
    assert promote.recv(100) == b"+OK\r\n"
    promote.close()
    middle.client().rpush("x", "b")
    wait_caught_up(middle, leaf)
    assert leaf.client().lrange("x", 0, -1) == [b"a", b"b"]
    assert digest(leaf) == digest(middle)


def test_masterauth_and_announced_address():
    primary = start_primary("--requirepass", "s3cret")
    replica = start_replica(primary, "--masterauth", "s3cret", "--replica-announce-ip", "10.1.2.3",
                            "--replica-announce-port", "7777")
    wrong = start_replica(primary, "--masterauth", "nope")
    try:
        wait_link_up(replica)
        p = primary.client(password="s3cret")
        info = p.info("replication")
        assert info["connected_slaves"] == 1
        assert info["slave0"]["ip"] == "10.1.2.3" and info["slave0"]["port"] == 7777
        time.sleep(1.5)
        assert wrong.client().info("replication")["master_link_status"] == "down"
        assert "Unable to AUTH to PRIMARY" in wrong.output()
    finally:
        for s in (primary, replica, wrong):
            s.stop()


def test_backlog_is_freed_after_its_ttl_without_replicas(servers):
    primary = servers.primary
    p = primary.client()
    p.config_set("repl-backlog-ttl", 1)
    replica = servers.replica()
    wait_link_up(replica)
    assert p.info("replication")["repl_backlog_active"] == 1
    replica.stop()
    wait_for(lambda: p.info("replication")["repl_backlog_active"] == 0, timeout=10, what="the backlog to go")
    p.set("x", 1)  # writes go on with nothing logged for replicas
    assert p.get("x") == b"1"


def test_debug_reload_of_an_expired_key_leaves_the_replica_the_same(servers):
    """DEBUG RELOAD on a primary loads a key whose deadline passed (the
    replica still holds it) and lets expiry delete it, so that the DEL
    reaches the replica and a new key of that name is the same on both."""
    replica = servers.replica()
    wait_link_up(replica)
    r = servers.primary.client()
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r.set("k", "old", px=20)
    time.sleep(0.05)
    assert r.execute_command("DEBUG", "RELOAD")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    r.rpush("k", "new")
    wait_caught_up(servers.primary, replica)
    assert replica.client().lrange("k", 0, -1) == [b"new"]
    assert digest(replica) == digest(servers.primary)


def test_a_late_replica_keeps_a_key_its_primary_persisted(servers):
    """The replica applies PEXPIREAT after its deadline (it was busy): the
    key stays for the PERSIST that follows, as on the primary."""
    import threading
    replica = servers.replica()
    wait_link_up(replica)
    r = servers.primary.client()
    r.set("k", "v")
    wait_caught_up(servers.primary, replica)
    busy = threading.Thread(target=lambda: replica.client().execute_command("DEBUG", "SLEEP", "0.3"))
    busy.start()
    time.sleep(0.05)
    r.pexpire("k", 50)
    r.persist("k")
    busy.join()
    wait_caught_up(servers.primary, replica)
    assert replica.client().get("k") == b"v"
    assert digest(replica) == digest(servers.primary)
