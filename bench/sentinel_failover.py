#!/usr/bin/python3
"""bench/sentinel_failover.py: how long Debian's redis-sentinel takes to fail
over a killed primary, Runnel next to redis-server.

For each side (Runnel, Redis, Redis, Runnel; each keeps its best and worst):
a primary and two replicas started from config files (Sentinel rewrites
them), one sentinel with quorum 1 and down-after-milliseconds D; the primary
is killed with SIGKILL, and the time is taken until a write through redis-py's
Sentinel client succeeds on the new primary. D of it is Sentinel waiting
before it believes the primary is down.

Usage: bench/sentinel_failover.py [--runnel PATH] [--redis PATH] [--down-after MS] [--runs N]
"""

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time

import redis
from redis.sentinel import Sentinel

from servers import ORDER, free_port, ping, add_server_paths



def start(argv, cwd):
    log = open(os.path.join(cwd, "out.log"), "w")
    return subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def wait(pred, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if pred():
                return
        except redis.RedisError:
            pass
        time.sleep(0.02)
    raise RuntimeError("timed out")


def one_run(path, down_after):
    root = tempfile.mkdtemp(prefix="bench-sentinel-")
    procs = []
    try:
        ports = [free_port() for _ in range(3)]
        for i, port in enumerate(ports):
            d = os.path.join(root, f"s{i}")
            os.makedirs(d)
            conf = f"port {port}\nsave \"\"\nrepl-diskless-sync-delay 0\ndir {d}\n"
            if i:
                conf += f"replicaof 127.0.0.1 {ports[0]}\n"
            with open(os.path.join(d, "server.conf"), "w") as f:
                f.write(conf)
            procs.append(start([path, os.path.join(d, "server.conf")], d))
        for port in ports:
            wait(lambda: ping(port))
        for port in ports[1:]:
            wait(lambda: redis.Redis(port=port).info("replication").get("master_link_status") == "up")
        sport = free_port()
        sd = os.path.join(root, "sentinel")
        os.makedirs(sd)
        with open(os.path.join(sd, "sentinel.conf"), "w") as f:
            f.write(f"port {sport}\ndir {sd}\nsentinel monitor q 127.0.0.1 {ports[0]} 1\n"
                    f"sentinel down-after-milliseconds q {down_after}\nsentinel failover-timeout q 10000\n")
        procs.append(start(["redis-sentinel", os.path.join(sd, "sentinel.conf")], sd))
        s = redis.Redis(port=sport)
        wait(lambda: len(s.sentinel_slaves("q")) == 2)
        master = Sentinel([("127.0.0.1", sport)], socket_timeout=0.5).master_for("q", socket_timeout=0.5)
        master.set("k", "before")
        killed = time.monotonic()
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        while True:
            try:
                master.set("k", "after")
                return time.monotonic() - killed
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, redis.ResponseError):
                if time.monotonic() - killed > 60:
                    raise RuntimeError("no failover within 60 s")
                time.sleep(0.02)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--down-after", type=int, default=1000)
    args = ap.parse_args()
    times = {"runnel": [], "redis": []}
    for name in ORDER:
        t = one_run(args.runnel if name == "runnel" else args.redis, args.down_after)
        print(f"{name}: {t:.2f} s", flush=True)
        times[name].append(t)
    print(f"\n| server | kill -9 to the first write on the new primary (best, worst of 2) |\n|---|---|")
    for name in ("runnel", "redis"):
        print(f"| {name} | {min(times[name]):.2f} s, {max(times[name]):.2f} s |")


if __name__ == "__main__":
    main()
