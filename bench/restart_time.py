#!/usr/bin/python3
"""Restart time with the AOF: load N stream entries (XADD s * field value)
into Runnel and into redis-server with `appendonly yes`, stop each, and time
a restart until it answers PING with every entry back. Runs the two servers
alternately (A B B A) and prints each one's best, from the incremental file
and again after BGREWRITEAOF (base file).

Usage: bench/restart_time.py [--entries N] [--runnel PATH] [--redis PATH]"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

import redis

from servers import free_port, add_server_paths


def start(path, port, workdir):
    log = open(os.path.join(workdir, "log.txt"), "a")
    proc = subprocess.Popen([path, "--port", str(port), "--dir", workdir, "--save", "", "--appendonly", "yes",
                             "--appendfsync", "everysec"], stdout=log, stderr=subprocess.STDOUT)
    return proc


def wait_ready(port, started, timeout=300):
    while time.time() - started < timeout:
        try:
            c = redis.Redis(port=port, socket_timeout=60)
            c.ping()
            return c
        except (redis.ConnectionError, redis.BusyLoadingError):
            time.sleep(0.005)
    raise RuntimeError("server did not come back")


def load(c, n):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.xadd("s", {"field": "value"})
        if len(p) == 10000:
            p.execute()
    p.execute()


def stop(c, proc):
    try:
        c.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    proc.wait(60)


def restart_seconds(path, port, workdir, n):
    started = time.time()
    proc = start(path, port, workdir)
    c = wait_ready(port, started)
    elapsed = time.time() - started
    assert c.xlen("s") == n, c.xlen("s")
    return elapsed, c, proc


def measure(path, n):
    workdir = tempfile.mkdtemp(prefix="restart-")
    port = free_port()
    proc = start(path, port, workdir)
    c = wait_ready(port, time.time())
    load(c, n)
    stop(c, proc)
    incr, c, proc = restart_seconds(path, port, workdir, n)
    c.bgrewriteaof()
    while c.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.05)
    time.sleep(0.2)
    stop(c, proc)
    base, c, proc = restart_seconds(path, port, workdir, n)
    stop(c, proc)
    shutil.rmtree(workdir)
    return incr, base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1000000)
    add_server_paths(ap)
    a = ap.parse_args()
    results = {"runnel": [], "redis": []}
    for side in ("runnel", "redis", "redis", "runnel"):
        r = measure(a.runnel if side == "runnel" else a.redis, a.entries)
        print("%-7s incr %.2f s  base %.2f s" % (side, r[0], r[1]), flush=True)
        results[side].append(r)
    best = {k: (min(x[0] for x in v), min(x[1] for x in v)) for k, v in results.items()}
    for what, i in (("from incremental file", 0), ("after BGREWRITEAOF", 1)):
        print("restart %s: Runnel %.2f s, Redis %.2f s, ratio %.2f" %
              (what, best["runnel"][i], best["redis"][i], best["runnel"][i] / best["redis"][i]))


if __name__ == "__main__":
    main()
