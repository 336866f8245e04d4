#!/usr/bin/python3
"""Snapshot load time per type: fills Runnel and redis-server with N elements
of one shape, SAVEs, and times DEBUG RELOAD NOSAVE (empty the dataset, load
the file back) three times, best of three. Servers alternate A B B A; prints
each side's best and the ratio.

Shapes: strings (N keys), hash / set / zset / list / stream (one key of N
elements), smallhashes (N/10 hashes of 10 fields).

Usage: bench/load_time.py [--entries N] [--runnel PATH] [--redis PATH] shape..."""
import argparse
import shutil
import socket
import subprocess
import tempfile
import time

import redis

from servers import add_server_paths


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(path):
    workdir = tempfile.mkdtemp(prefix="load-")
    port = free_port()
    extra = ["--enable-debug-command", "yes"] if "redis-server" in path else []
    proc = subprocess.Popen([path, "--port", str(port), "--dir", workdir, "--save", "", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            c = redis.Redis(port=port, socket_timeout=120)
            c.ping()
            return proc, c, workdir
        except redis.ConnectionError:
            time.sleep(0.02)
    raise RuntimeError("server did not start")


ADD = {
    "strings": lambda p, i: p.set("key:%d" % i, "value:%d" % i),
    "hash": lambda p, i: p.hset("h", "field:%d" % i, "value:%d" % i),
    "set": lambda p, i: p.sadd("s", "member:%d" % i),
    "zset": lambda p, i: p.zadd("z", {"member:%d" % i: i}),
    "list": lambda p, i: p.rpush("l", "element:%d" % i),
    "stream": lambda p, i: p.xadd("x", {"field": "value"}),
    "smallhashes": lambda p, i: p.hset("h:%d" % (i // 10), "f%d" % (i % 10), "v%d" % i),
}


def fill(c, shape, n):
    p = c.pipeline(transaction=False)
    for i in range(n):
        ADD[shape](p, i)
        if len(p) == 10000:
            p.execute()
    p.execute()


def measure(path, shape, n):
    proc, c, workdir = start(path)
    try:
        fill(c, shape, n)
        c.save()
        best = float("inf")
        for _ in range(3):
            t = time.time()
            c.execute_command("DEBUG", "RELOAD", "NOSAVE")
            best = min(best, time.time() - t)
        return best
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1000000)
    add_server_paths(ap)
    ap.add_argument("shapes", nargs="*", default=list(ADD))
    a = ap.parse_args()
    for shape in a.shapes:
        best = {"runnel": float("inf"), "redis": float("inf")}
        for side in ("runnel", "redis", "redis", "runnel"):
            best[side] = min(best[side], measure(a.runnel if side == "runnel" else a.redis, shape, a.entries))
        print("%-12s Runnel %.3f s  Redis %.3f s  ratio %.2f" %
              (shape, best["runnel"], best["redis"], best["runnel"] / best["redis"]), flush=True)


if __name__ == "__main__":
    main()
