#!/usr/bin/python3
"""bench/cluster_failover.py: time from kill -9 of a primary to the first
successful write to one of its slots, Runnel's cluster (etcd leases) next to
Redis Cluster (gossip and votes), for a given cluster-node-timeout.

Each run builds three primaries with a replica each (redis-cli --cluster
create), kills the primary of slot 7092 with SIGKILL and retries
`SET {apple}:x` through a fresh redis-py RedisCluster every 20 ms.

Usage: bench/cluster_failover.py [--runs N] [--runnel-timeouts MS,...] [--redis-timeouts MS,...]
"""

import argparse
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import redis
from redis.cluster import RedisCluster

from cluster import cluster_port, start, start_etcd
from servers import add_server_paths



def one_run(side, path, timeout_ms, etcd_url, work):
    procs, ports = [], []
    name = f"f{cluster_port()}"
    for _ in range(6):
        port = cluster_port()
        d = tempfile.mkdtemp(prefix=f"{side}-", dir=work)
        args = [path, "--port", str(port), "--save", "", "--dir", d, "--cluster-enabled", "yes",
                "--cluster-node-timeout", str(timeout_ms)]
        if side == "runnel":
            args += ["--cluster-etcd-endpoints", etcd_url, "--cluster-name", name, "--repl-diskless-sync-delay", "0"]
        procs.append(start(args, d))
        ports.append(port)
    try:
        for p in ports:
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    redis.Redis(port=p).ping()
                    break
                except redis.RedisError:
                    time.sleep(0.05)
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas",
                        "1", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.time() + 30
        while time.time() < deadline:  # every replica linked
            roles = [redis.Redis(port=p).info("replication") for p in ports]
            if sum(r.get("master_link_status") == "up" for r in roles) == 3:
                break
            time.sleep(0.1)
        time.sleep(1)
        slots = redis.Redis(port=ports[0]).execute_command("CLUSTER", "SLOTS")
        owner = next(e for e in slots if e[0] <= 7092 <= e[1])[2][1]
        survivor = next(p for p in ports if p != owner)
        procs[ports.index(owner)].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        while time.monotonic() - killed < 120:
            try:
                RedisCluster(host="127.0.0.1", port=survivor, socket_timeout=0.5).set("{apple}:x", 1)
                return time.monotonic() - killed
            except Exception:
                time.sleep(0.02)
        return float("nan")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--runnel-timeouts", default="2000,5000")
    ap.add_argument("--redis-timeouts", default="2000,15000")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-failover-")
    etcd, etcd_url = start_etcd(work)
    rows = []
    try:
        for side, timeouts in (("runnel", args.runnel_timeouts), ("redis", args.redis_timeouts)):
            path = args.runnel if side == "runnel" else args.redis
            for t in [int(x) for x in timeouts.split(",") if x]:
                times = [one_run(side, path, t, etcd_url, work) for _ in range(args.runs)]
                print(side, t, [round(x, 2) for x in times], flush=True)
                rows.append((side, t, statistics.median(times), max(times), min(times)))
    finally:
        etcd.terminate()
        etcd.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n| server | cluster-node-timeout | median | max | min ({args.runs} runs) |\n|---|---|---|---|---|")
    for side, t, med, mx, mn in rows:
        print(f"| {side} | {t} ms | {med:.2f} s | {mx:.2f} s | {mn:.2f} s |")


if __name__ == "__main__":
    main()
