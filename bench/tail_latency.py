#!/usr/bin/python3
"""bench/tail_latency.py: latency percentiles at a fixed offered load.

runnel-bench's open loop (--rate) sends each message when it is due, so a
stall shows in the percentiles instead of slowing the sender down. First the
closed-loop maximum of redis-server is measured per workload; then Runnel and
Redis (order runnel, redis, redis, runnel) take 50% and 80% of that rate with
the AOF at everysec and at always, and, at 50% with everysec, while a
BGREWRITEAOF and while a BGSAVE runs over a 1,000,000-key dataset. Each side
keeps the run with the lowest p99; max latency is the longest stall seen.

Workloads: LPUSH + BRPOP (queue), XADD + XREADGROUP (stream), PUBLISH to 100
subscribers (pubsub; rate counts published messages).

Each mode's loads are fractions of redis-server's maximum in that mode; a
run that falls behind (messages still queued at the end) is reported so.

Usage: bench/tail_latency.py [--runnel PATH] [--redis PATH] [--seconds S] [--modes everysec,always]
"""

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time

import redis

from servers import ORDER, Server, add_server_paths

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "build", "runnel-bench")
WORKLOADS = {
    "LPUSH+BRPOP": ["queue"],
    "XADD+XREADGROUP": ["stream"],
    "PUBLISH to 100": ["--subscribers", "100", "pubsub"],
}
# The closed-loop rate that --rate offers a fraction of: messages consumed, or published.
RATE_KEY = {"LPUSH+BRPOP": "throughput", "XADD+XREADGROUP": "throughput", "PUBLISH to 100": "published_per_sec"}


def run_bench(port, seconds, extra):
    out = subprocess.run([BENCH, "-p", str(port), "--quiet", "--seconds", str(seconds), "--json", "-", *extra],
                         capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(out.stdout[-500:] + out.stderr[-500:])
    return json.loads(out.stdout[out.stdout.index("{"):])


def max_rate(server, workload, seconds):
    return run_bench(server.port, seconds, WORKLOADS[workload])["metrics"][RATE_KEY[workload]]


def fill(port):
    subprocess.run(["redis-benchmark", "-p", str(port), "-c", "4", "-P", "1000", "-n", "1000000", "-r", "1000000",
                    "-d", "100", "-t", "set"], capture_output=True, check=True)


def background_job(port, command, delay):
    def go():
        time.sleep(delay)
        redis.Redis(port=port).execute_command(command)
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def open_loop(server, workload, rate, seconds, job=None):
    if job:
        background_job(server.port, job, 1.0)
    doc = run_bench(server.port, seconds, ["--rate", str(int(rate))] + WORKLOADS[workload])
    lat = doc["latency_us"]
    return {k: lat[k] for k in ("p50", "p99", "p999", "max")}


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--modes", default="everysec,always", help="AOF modes to run, comma-separated")
    args = ap.parse_args()
    paths = {"runnel": args.runnel, "redis": args.redis}
    workdir = tempfile.mkdtemp(prefix="bench-tail-")
    modes = args.modes.split(",")
    cases = []
    for mode in modes:
        for w in WORKLOADS:
            for frac in (0.5, 0.8):
                cases.append((mode, w, frac, None))
    if "everysec" in modes:
        for job in ("BGREWRITEAOF", "BGSAVE"):
            for w in WORKLOADS:
                cases.append(("everysec", w, 0.5, job))
    best, top = {}, {}
    for mode in modes:
        # the offered loads: fractions of redis-server's closed-loop maximum in this mode
        probe = Server("redis", args.redis, mode, workdir)
        probe.start()
        try:
            top[mode] = {w: max_rate(probe, w, args.seconds) for w in WORKLOADS}
        finally:
            probe.stop()
        print(f"redis-server closed-loop maximum ({mode}):", {w: round(r) for w, r in top[mode].items()}, flush=True)
        servers = {s: Server(s, paths[s], mode, workdir) for s in ("runnel", "redis")}
        try:
            for s in servers.values():
                s.start()
                if mode == "everysec":
                    fill(s.port)
            for case in [c for c in cases if c[0] == mode]:
                _, w, frac, job = case
                for side in ORDER:
                    try:
                        r = open_loop(servers[side], w, top[mode][w] * frac, args.seconds, job)
                    except RuntimeError:
                        print(f"  {side:6} {mode:8} {w:16} {int(frac * 100)}% {job or '':12} fell behind", flush=True)
                        continue
                    old = best.get((side,) + case)
                    if old is None or r["p99"] < old["p99"]:
                        best[(side,) + case] = r
                    print(f"  {side:6} {mode:8} {w:16} {int(frac * 100)}% {job or '':12} p50 {r['p50']:8.0f} "
                          f"p99 {r['p99']:8.0f} p99.9 {r['p999']:8.0f} max {r['max']:8.0f} us", flush=True)
        finally:
            for s in servers.values():
                s.stop()
    print("\n| AOF | workload | load | during | Runnel p50 / p99 / p99.9 / max (µs) | "
          "Redis p50 / p99 / p99.9 / max (µs) | p99 Runnel/Redis |")
    print("|---|---|---|---|---|---|---:|")
    for case in cases:
        mode, w, frac, job = case
        if ("runnel",) + case not in best or ("redis",) + case not in best:
            continue
        a, b = best[("runnel",) + case], best[("redis",) + case]
        fa = " / ".join(f"{a[k]:,.0f}" for k in ("p50", "p99", "p999", "max"))
        fb = " / ".join(f"{b[k]:,.0f}" for k in ("p50", "p99", "p999", "max"))
        print(f"| {mode} | {w} | {int(frac * 100)}% ({top[mode][w] * frac:,.0f}/s) | {job or '-'} | {fa} | {fb} | "
              f"{a['p99'] / b['p99']:.2f} |")


if __name__ == "__main__":
    main()
