#!/usr/bin/env python3
"""The cost of ACL checks: redis-benchmark SET and GET, -P 1 and -P 32, as the
default user (every command, key and channel: no per-call checks) and as a
user with 20 key patterns (`~k1:* ... ~k19:* ~key:*`, the last one matching
the benchmark's keys, so every key is tried against all twenty), on Runnel
and, for reference, on redis-server 7.0.15 with the same user.

Each server runs once; the two users alternate A B B A and each keeps its
best rate. CPU per request is the server's utime + stime over the requests.
Usage: bench/acl_cost.py [--requests N] [--clients C] [--rounds R] [--sides runnel,redis]"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Server, cpu_seconds, log  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATTERNS = [f"~k{i}:*" for i in range(1, 20)] + ["~key:*"]
ORDER = ("default", "acl", "acl", "default")


def run_benchmark(port, test, pipeline, requests, clients, user):
    cmd = ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(requests), "-c", str(clients),
           "-P", str(pipeline), "--csv"]
    if user:
        cmd += ["--user", "bench", "-a", "benchpw"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = [f.strip('"') for f in line.split(",")]
        if fields and fields[0] == test.upper():
            return float(fields[1])
    raise RuntimeError(f"no {test} row in: {out!r}")


def measure(server, test, pipeline, requests, clients, rounds):
    """Best rate of each user over `rounds` A B B A rounds, with the CPU per
    request of that best run."""
    best = {}
    for who in ORDER * rounds:
        before = cpu_seconds(server.proc.pid)
        rate = run_benchmark(server.port, test, pipeline, requests, clients, who == "acl")
        cpu_us = (cpu_seconds(server.proc.pid) - before) * 1e6 / requests
        if who not in best or rate > best[who][0]:
            best[who] = (rate, cpu_us)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=1, help="A B B A rounds per row (best of all)")
    ap.add_argument("--sides", default="runnel,redis")
    args = ap.parse_args()
    paths = {"runnel": os.path.join(ROOT, "build", "runnel-server"),
             "redis": shutil.which("redis-server") or "/usr/bin/redis-server"}
    sides = [(side, paths[side]) for side in args.sides.split(",")]
    workdir = tempfile.mkdtemp(prefix="bench-acl-")
    rows = []
    try:
        for side, path in sides:
            srv = Server(side, path, "off", workdir)
            if not srv.start():
                log(f"{side}: {srv.error}")
                continue
            subprocess.run(["redis-cli", "-p", str(srv.port), "ACL", "SETUSER", "bench", "on", ">benchpw", "&*",
                            "+@all", *PATTERNS], check=True, capture_output=True)
            for test in ("set", "get"):
                for pipeline in (1, 32):
                    n = args.requests * (4 if pipeline > 1 else 1)
                    best = measure(srv, test, pipeline, n, args.clients, args.rounds)
                    (d_rate, d_cpu), (a_rate, a_cpu) = best["default"], best["acl"]
                    rows.append((side, f"{test.upper()} -P {pipeline}", d_rate, a_rate, a_rate / d_rate, d_cpu,
                                 a_cpu))
                    log(f"{side} {test} -P{pipeline}: default {d_rate:,.0f}/s {d_cpu:.2f} us, "
                        f"20 patterns {a_rate:,.0f}/s {a_cpu:.2f} us")
            srv.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("| server | row | default user req/s | 20-pattern user req/s | ratio | CPU us/req default | "
          "CPU us/req 20 patterns |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for side, row, d, a, ratio, dc, ac in rows:
        print(f"| {side} | {row} | {d:,.0f} | {a:,.0f} | {ratio:.3f} | {dc:.2f} | {ac:.2f} |")


if __name__ == "__main__":
    main()
