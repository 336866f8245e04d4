#!/usr/bin/python3
"""bench/io_engine.py: Runnel's two I/O engines and redis-server side by side.

Three servers with persistence off: Runnel with `--io-engine uring`, Runnel
with `--io-engine epoll`, and Debian's redis-server. Each row runs against
them in the order uring, epoll, redis, redis, epoll, uring (A B C C B A) and
keeps each side's best throughput and lowest server CPU per request
(utime + stime from /proc/<pid>/stat around the run: on a shared machine the
steadier figure). Rows: redis-benchmark -c 50 at -P 1 and -P 32 for PING,
SET, GET, LPUSH, RPOP, PUBLISH and XADD, and runnel-bench queue (BRPOP
consumers) and stream (XREADGROUP consumers).

Usage: bench/io_engine.py [--n N] [--n32 N] [--rows REGEX] [--seconds S]
Prints a Markdown table (for docs/benchmarks.md) on stdout.
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Server, cpu_seconds, log  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDES = ("uring", "epoll", "redis")
ORDER = ("uring", "epoll", "redis", "redis", "epoll", "uring")

RB_COMMANDS = {
    "PING": ["PING"],
    "SET": ["-t", "set"],
    "GET": ["-t", "get"],
    "LPUSH": ["-t", "lpush"],
    "RPOP": ["-t", "rpop"],
    "PUBLISH": ["PUBLISH", "io-engine:ch", "hello"],
    "XADD": ["XADD", "io-engine:stream", "*", "f", "v"],
}
BENCH = {"queue BRPOP": "queue", "stream group": "stream"}


def redis_benchmark(port, n, pipeline, args):
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-n", str(n), "-P", str(pipeline),
            "-q"] + args
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout
    rates = re.findall(r"([0-9.]+) requests per second", out)
    if not rates:
        raise RuntimeError("redis-benchmark: " + out[-200:])
    return float(rates[-1]), n


def runnel_bench(port, workload, seconds):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        argv = [os.path.join(ROOT, "build", "runnel-bench"), "--quiet", "--json", path, "-p", str(port),
                "--seconds", str(seconds), workload]
        subprocess.run(argv, capture_output=True, timeout=seconds + 30, check=True)
        with open(path) as f:
            result = json.load(f)
    finally:
        os.unlink(path)
    rate = (result.get("metrics") or {}).get("throughput")
    total = result.get("ops")
    if not result.get("ok") or rate is None or not total:
        raise RuntimeError("runnel-bench JSON without a rate: " + json.dumps(result)[:300])
    return float(rate), int(total)


def measure(server, fn):
    """(rate, cpu microseconds per op) of one run of fn(port)."""
    before = cpu_seconds(server.proc.pid)
    rate, ops = fn(server.port)
    after = cpu_seconds(server.proc.pid)
    return rate, (after - before) * 1e6 / max(ops, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200000, help="requests per -P 1 run")
    ap.add_argument("--n32", type=int, default=1000000, help="requests per -P 32 run")
    ap.add_argument("--seconds", type=int, default=3, help="seconds per runnel-bench run")
    ap.add_argument("--rows", help="only rows whose name matches this regex")
    ap.add_argument("--runnel", default=os.path.join(ROOT, "build", "runnel-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="io-engine-bench-")
    servers = {
        "uring": Server("runnel", args.runnel, "off", os.path.join(workdir, "uring"), ["--io-engine", "uring"]),
        "epoll": Server("runnel", args.runnel, "off", os.path.join(workdir, "epoll"), ["--io-engine", "epoll"]),
        "redis": Server("redis", args.redis, "off", os.path.join(workdir, "redis")),
    }
    rows = []
    for p in (1, 32):
        for cmd, rb in RB_COMMANDS.items():
            n = args.n if p == 1 else args.n32
            rows.append((f"{cmd} -P {p}", lambda port, rb=rb, n=n, p=p: redis_benchmark(port, n, p, rb)))
    for name, workload in BENCH.items():
        rows.append((name, lambda port, w=workload: runnel_bench(port, w, args.seconds)))
    if args.rows:
        rows = [r for r in rows if re.search(args.rows, r[0])]
    try:
        for s in servers.values():
            if not s.start():
                sys.exit(f"{s.side}: {s.error}")
        print("| row | uring req/s | epoll req/s | redis req/s | uring/redis | uring/epoll "
              "| CPU µs/op uring | epoll | redis | uring/redis CPU |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, fn in rows:
            best = {s: (0.0, float("inf")) for s in SIDES}
            for side in ORDER:
                if name.startswith("RPOP"):
                    redis_benchmark(servers[side].port, args.n32 if "32" in name else args.n, 32, ["-t", "lpush"])
                try:
                    rate, cpu = measure(servers[side], fn)
                except (RuntimeError, subprocess.SubprocessError) as e:
                    log(f"{name} {side}: {e}")
                    continue
                log(f"{name:16} {side:6} {rate:12.0f} req/s {cpu:7.2f} µs/op")
                best[side] = (max(best[side][0], rate), min(best[side][1], cpu))
            u, e, r = best["uring"], best["epoll"], best["redis"]
            print(f"| {name} | {u[0]:.0f} | {e[0]:.0f} | {r[0]:.0f} | {u[0] / max(r[0], 1):.2f} "
                  f"| {u[0] / max(e[0], 1):.2f} | {u[1]:.2f} | {e[1]:.2f} | {r[1]:.2f} | {u[1] / r[1]:.2f} |",
                  flush=True)
    finally:
        for s in servers.values():
            s.stop()


if __name__ == "__main__":
    main()
