#!/usr/bin/python3
"""bench/digest_time.py: how long DEBUG DIGEST takes.

Fills an empty server (no persistence) with N small strings (SET key:<i>
value:<i>), a list of 2N elements and a set of 2N members, then times
DEBUG DIGEST three times and keeps the best. The servers alternate Runnel,
Redis, Redis, Runnel, each in a fresh process; the table keeps each side's
best. The two servers' digests differ by design (each has its own scheme);
only the time is compared.

Usage: bench/digest_time.py [--runnel PATH] [--redis PATH] [-n N]
Python 3 standard library and redis-py only.
"""

import argparse
import time

from servers import ORDER, add_server_paths
from servers import ScratchServer as Server

CHUNK = 10000


def fill(c, n):
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set("key:%d" % i, "value:%d" % i)
        if len(p) == CHUNK:
            p.execute()
    p.execute()
    for i in range(0, 2 * n, CHUNK):
        c.rpush("list", *range(i, i + CHUNK))
        c.sadd("set", *("m%d" % j for j in range(i, i + CHUNK)))


def measure(name, path, n):
    extra = ["--enable-debug-command", "yes"] if name == "redis" else []
    srv = Server(name, path, extra)
    try:
        fill(srv.client, n)
        best = float("inf")
        for _ in range(3):
            t = time.monotonic()
            srv.client.execute_command("DEBUG", "DIGEST")
            best = min(best, time.monotonic() - t)
        return best
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=500000)
    a = ap.parse_args()
    best = {"runnel": float("inf"), "redis": float("inf")}
    for side in ORDER:
        best[side] = min(best[side], measure(side, a.runnel if side == "runnel" else a.redis, a.n))
    print("DEBUG DIGEST, %d strings + %d-element list + %d-member set: Runnel %.3f s  Redis %.3f s  ratio %.2f"
          % (a.n, 2 * a.n, 2 * a.n, best["runnel"], best["redis"], best["runnel"] / best["redis"]))


if __name__ == "__main__":
    main()
