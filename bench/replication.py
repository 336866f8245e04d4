#!/usr/bin/python3
"""bench/replication.py: a primary with replicas, Runnel next to redis-server.

For each side, in the order Runnel, Redis, Redis, Runnel (each side keeps its
best run):

  throughput  redis-benchmark -c 50 -P 32 -n N on the primary alone, then with
              two replicas attached (same binary), for `LPUSH q v` and
              `XADD s * f v`; the ratio with/alone, and the primary's CPU
              seconds per million requests (utime+stime, /proc/<pid>/stat).
  lag         while the run with replicas goes on, INFO is polled every 10 ms
              on the primary and one replica: the most bytes the replica was
              behind (master_repl_offset - slave_repl_offset), and how long
              the replica took to reach an offset the primary had reached
              (the largest such delay seen, ms), and how long after the
              benchmark ended the replica had everything (catch-up, ms).
  full sync   a primary holding S stream entries (XADD s * f v) and S list
              items (RPUSH l v): time from REPLICAOF on an empty replica until
              its link is up and its offset equals the primary's (diskless
              sync on both sides, repl-diskless-sync-delay 0).

Usage: bench/replication.py [--runnel PATH] [--redis PATH] [-n N] [-s S]
Python 3 standard library and redis-py; redis-benchmark on PATH.
"""

import argparse
import subprocess
import threading
import time

from servers import ORDER, ScratchServer, cpu_seconds, add_server_paths

FAST = ["--repl-diskless-sync-delay", "0", "--repl-diskless-sync", "yes"]
WORKLOADS = {"LPUSH": ["LPUSH", "q", "v"], "XADD": ["XADD", "s", "*", "f", "v"]}


def bench(port, n, command):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-P", "32",
                          "-n", str(n), "-q", *command], capture_output=True, text=True, check=True).stdout
    line = [l for l in out.replace("\r", "\n").split("\n") if "requests per second" in l][-1]
    return float(line.split(":")[1].split()[0])


def wait_synced(primary, replica, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = replica.client.info("replication")
        target = primary.client.info("replication")["master_repl_offset"]
        if info.get("master_link_status") == "up" and info.get("slave_repl_offset", -1) >= target:
            return
        time.sleep(0.005)
    raise RuntimeError("replica did not catch up")


def attach(primary, path, name):
    replica = ScratchServer(name, path, FAST)
    replica.client.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(primary, replica)
    return replica


class LagProbe(threading.Thread):
    """Samples the primary's and the replica's offsets every 10 ms."""

    def __init__(self, primary, replica):
        super().__init__(daemon=True)
        self.p, self.r = primary.client, replica.client
        self.samples = []   # (t, primary offset, replica offset)
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            t = time.monotonic()
            po = self.p.info("replication")["master_repl_offset"]
            ro = self.r.info("replication").get("slave_repl_offset", 0)
            self.samples.append((t, po, ro))
            time.sleep(0.01)

    def summary(self):
        max_bytes = max((po - ro for _, po, ro in self.samples), default=0)
        max_ms = 0.0
        j = 0
        for t, po, _ in self.samples:
            while j < len(self.samples) and self.samples[j][2] < po:
                j += 1
            if j == len(self.samples):
                break
            max_ms = max(max_ms, (self.samples[j][0] - t) * 1000)
        return max_bytes, max_ms


def run_side(name, path, n, s):
    res = {}
    for wl, command in WORKLOADS.items():
        primary = ScratchServer(name, path, FAST)
        try:
            c0 = cpu_seconds(primary.proc.pid)
            alone = bench(primary.port, n, command)
            cpu_alone = (cpu_seconds(primary.proc.pid) - c0) / n * 1e6
            primary.client.flushall()
            replicas = [attach(primary, path, name) for _ in range(2)]
            probe = LagProbe(primary, replicas[0])
            probe.start()
            c0 = cpu_seconds(primary.proc.pid)
            with_replicas = bench(primary.port, n, command)
            cpu_with = (cpu_seconds(primary.proc.pid) - c0) / n * 1e6
            ended = time.monotonic()
            wait_synced(primary, replicas[0])
            catch_up_ms = (time.monotonic() - ended) * 1000
            probe.stop_flag.set()
            probe.join()
            lag_bytes, lag_ms = probe.summary()
            res[wl] = dict(alone=alone, with_replicas=with_replicas, ratio=with_replicas / alone,
                           cpu_alone=cpu_alone, cpu_with=cpu_with, lag_bytes=lag_bytes, lag_ms=lag_ms,
                           catch_up_ms=catch_up_ms)
            for r in replicas:
                r.stop()
        finally:
            primary.stop()
    primary = ScratchServer(name, path, FAST)
    try:
        for cmd in (["XADD", "s", "*", "f", "v"], ["RPUSH", "l", "v"]):
            subprocess.run(["redis-benchmark", "-p", str(primary.port), "-c", "20", "-P", "100", "-n", str(s), "-q",
                            *cmd], capture_output=True, check=True)
        replica = ScratchServer(name, path, FAST)
        started = time.monotonic()
        replica.client.execute_command("REPLICAOF", "127.0.0.1", primary.port)
        wait_synced(primary, replica)
        res["full_sync_s"] = time.monotonic() - started
        res["synced_keys"] = replica.client.dbsize()
        replica.stop()
    finally:
        primary.stop()
    return res


def better(a, b):
    """Keeps, per figure, the better of two runs of one side."""
    if a is None:
        return b
    out = {}
    for k, v in a.items():
        if isinstance(v, dict):
            w = b[k]
            out[k] = {f: (max(v[f], w[f]) if f in ("alone", "with_replicas", "ratio") else min(v[f], w[f]))
                      for f in v}
        else:
            out[k] = min(v, b[k])
    return out


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=2000000)
    ap.add_argument("-s", type=int, default=1000000)
    args = ap.parse_args()
    best = {"runnel": None, "redis": None}
    for name in ORDER:
        path = args.runnel if name == "runnel" else args.redis
        r = run_side(name, path, args.n, args.s)
        print(name, r, flush=True)
        best[name] = better(best[name], r)
    ru, re_ = best["runnel"], best["redis"]
    print("\n| workload | figure | Runnel | Redis | Runnel/Redis |\n|---|---|---|---|---|")
    for wl in WORKLOADS:
        for f, label, fmt in (("alone", "req/s alone", "{:,.0f}"), ("with_replicas", "req/s, 2 replicas", "{:,.0f}"),
                              ("ratio", "with/alone", "{:.2f}"), ("cpu_alone", "CPU µs/req alone", "{:.2f}"),
                              ("cpu_with", "CPU µs/req, 2 replicas", "{:.2f}"),
                              ("lag_bytes", "max lag, bytes", "{:,.0f}"), ("lag_ms", "max lag, ms", "{:.0f}"),
                              ("catch_up_ms", "catch-up after the run, ms", "{:.0f}")):
            a, b = ru[wl][f], re_[wl][f]
            print(f"| {wl} | {label} | {fmt.format(a)} | {fmt.format(b)} | {a / b if b else float('nan'):.2f} |")
    print(f"| full sync | {args.s:,} stream entries + {args.s:,} list items, s | {ru['full_sync_s']:.2f} | "
          f"{re_['full_sync_s']:.2f} | {ru['full_sync_s'] / re_['full_sync_s']:.2f} |")


if __name__ == "__main__":
    main()
