"""Debian's redis-sentinel (unchanged) watching a Runnel primary with two
Runnel replicas: it discovers the replicas, fails over when the primary is
killed, repoints the other replica, and redis-py's Sentinel client keeps
writing through the change."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis
from redis.sentinel import Sentinel

from conftest import LoggedProcess, RunnelProcess, free_port
from replication_helpers import wait_caught_up, wait_for, wait_link_up

SENTINEL = shutil.which("redis-sentinel")
pytestmark = pytest.mark.skipif(SENTINEL is None, reason="redis-sentinel is not installed")

CONF = "save \"\"\nrepl-diskless-sync-delay 0\n"


def start_sentinel(primary_port):
    port = free_port()
    d = tempfile.mkdtemp(prefix="runnel-sentinel-")
    path = os.path.join(d, "sentinel.conf")
    with open(path, "w") as f:
        f.write(f"port {port}\ndir {d}\n"
                f"sentinel monitor queue 127.0.0.1 {primary_port} 1\n"
                "sentinel down-after-milliseconds queue 1000\n"
                "sentinel failover-timeout queue 10000\n")
    proc = LoggedProcess([SENTINEL, path], os.path.join(d, "sentinel.log"))
    proc.port = port
    wait_for(lambda: _answers(port), what="sentinel to start")
    return proc


def _answers(port):
    try:
        return redis.Redis(port=port, socket_timeout=1).ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def monitored():
    primary = RunnelProcess(config_text=CONF)
    replicas = [RunnelProcess(config_text=CONF + f"replicaof 127.0.0.1 {primary.port}\n") for _ in range(2)]
    sentinel = None
    try:
        for r in replicas:
            wait_link_up(r)
        sentinel = start_sentinel(primary.port)
        yield primary, replicas, sentinel
    finally:
        for proc in [primary, *replicas] + ([sentinel] if sentinel else []):
            proc.stop()


def write_until_it_works(master, key, value, timeout=20):
    deadline = time.time() + timeout
    while True:
        try:
            return master.rpush(key, value)
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, redis.ResponseError):
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def test_sentinel_fails_over_a_killed_primary(monitored):
    primary, replicas, sentinel = monitored
    s = redis.Redis(port=sentinel.port)
    wait_for(lambda: len(s.sentinel_slaves("queue")) == 2, what="sentinel to discover both replicas")
    client = Sentinel([("127.0.0.1", sentinel.port)], socket_timeout=1)
    master = client.master_for("queue", socket_timeout=1)
    for i in range(100):
        master.rpush("jobs", i)
    assert master.execute_command("WAIT", 2, 2000) == 2
    killed_at = time.time()
    os.kill(primary.proc.pid, signal.SIGKILL)
    primary.proc.wait()
    write_until_it_works(master, "jobs", "after-failover")
    failover_seconds = time.time() - killed_at
    host, port = client.discover_master("queue")
    assert port in (replicas[0].port, replicas[1].port)
    new_primary = replicas[0] if port == replicas[0].port else replicas[1]
    other = replicas[1] if new_primary is replicas[0] else replicas[0]
    jobs = new_primary.client().lrange("jobs", 0, -1)
    assert jobs[:100] == [str(i).encode() for i in range(100)]  # every confirmed write survived
    assert jobs[-1] == b"after-failover"
    # the other replica follows the new primary, and both config files say so
    wait_for(lambda: other.client().info("replication").get("master_port") == port, what="the repointing")
    wait_caught_up(new_primary, other)
    assert other.client().lrange("jobs", 0, -1) == jobs
    with open(new_primary.config_path) as f:
        assert "replicaof" not in f.read()
    with open(other.config_path) as f:
        assert f"replicaof 127.0.0.1 {port}" in f.read()
    print(f"sentinel failover: first write accepted {failover_seconds:.2f} s after kill -9")
