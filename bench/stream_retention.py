#!/usr/bin/env python3
"""XADD on a stream with a standing retention policy (XCFGSET
RETENTION-MAXLEN / RETENTION-MAXAGE) against plain XADD on a stream without
one, and, for reference, XADD MAXLEN ~ (the way a Redis user bounds a stream
today), on one Runnel server with redis-benchmark.

The rows alternate A B C D A B C D ... (`--rounds` times); each keeps its
best rate, and the server CPU per request (utime + stime from
/proc/<pid>/stat over the run, divided by the requests) of every run is
kept, reported as the median and the lowest. Every run starts from an empty
stream (DEL between runs), so the plain stream never grows past one run's
entries. The policies trim all the time: the MAXLEN policy keeps 100,000
entries, the MAXAGE one 1 s of entries.
With --instructions N, each row instead runs once in a server of its own
under valgrind's callgrind (hz 10, everything counted: commands, the cron's
visits, the event loop) for N XADDs; instructions per request depend
neither on how busy the machine is nor on the clock.
Usage: bench/stream_retention.py [--requests N] [--clients C] [--pipeline P] [--rounds R] [--instructions N]"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Server, cpu_seconds, free_port, log, ping  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, key, XCFGSET arguments (None: no policy), XADD options
ROWS = [
    ("plain XADD", "plain", None, []),
    ("policy RETENTION-MAXLEN 100000", "bylen", ["RETENTION-MAXLEN", "100000"], []),
    ("policy RETENTION-MAXAGE 1000", "byage", ["RETENTION-MAXAGE", "1000"], []),
    ("XADD MAXLEN ~ 100000", "capped", None, ["MAXLEN", "~", "100000"]),
]


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout


def run(port, key, xadd_opts, requests, clients, pipeline):
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", str(clients), "-P", str(pipeline),
           "--csv", "XADD", key, *xadd_opts, "*", "field", "value-0123456789"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = [f.strip('"') for f in line.split(",")]
        if len(fields) > 1 and fields[0].startswith("XADD"):
            return float(fields[1])
    raise RuntimeError(f"no XADD row in: {out!r}")


def prepare(port, key, policy):
    """An empty stream under key, with its policy."""
    cli(port, "DEL", key)
    if policy:
        cli(port, "XADD", key, "1-1", "f", "v")
        cli(port, "XCFGSET", key, *policy)
        cli(port, "XTRIM", key, "MAXLEN", "0")


def instructions(path, key, policy, opts, requests, pipeline):
    """Instructions the whole server ran for `requests` XADDs, under callgrind."""
    workdir = tempfile.mkdtemp(prefix="bench-retention-cg-")
    port = free_port()
    out = os.path.join(workdir, "cg.out")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, path, "--port", str(port),
                             "--save", "", "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not ping(port):
            if time.time() > deadline:
                raise RuntimeError("server under valgrind did not start")
            time.sleep(0.2)
        prepare(port, key, policy)
        run(port, key, opts, requests, 10, pipeline)
        proc.terminate()
        proc.wait(120)
        total = 0
        for f in glob.glob(out + "*"):
            with open(f) as fh:
                for line in fh:
                    if line.startswith("summary:"):
                        total += int(line.split()[1])
        return total / requests
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def main_instructions(args):
    base = None
    print(f"{args.instructions:,} XADDs per server under callgrind, 10 clients, -P {args.pipeline}")
    print("| row | instructions per XADD | vs plain |")
    print("|---|---:|---:|")
    for name, key, policy, opts in ROWS:
        n = instructions(args.runnel, key, policy, opts, args.instructions, args.pipeline)
        base = base or n
        print(f"| {name} | {n:,.0f} | {100 * (n / base - 1):+.1f}% |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runnel", default=os.path.join(ROOT, "build", "runnel-server"))
    ap.add_argument("--instructions", type=int, default=0)
    args = ap.parse_args()
    if args.instructions:
        main_instructions(args)
        return
    workdir = tempfile.mkdtemp(prefix="bench-retention-")
    srv = Server("runnel", args.runnel, "off", workdir)
    results = {name: {"rate": 0.0, "cpu": []} for name, *_ in ROWS}
    try:
        if not srv.start():
            sys.exit(f"runnel: {srv.error}")
        for r in range(args.rounds):
            for name, key, policy, opts in ROWS:
                prepare(srv.port, key, policy)
                before = cpu_seconds(srv.proc.pid)
                rate = run(srv.port, key, opts, args.requests, args.clients, args.pipeline)
                cpu_us = (cpu_seconds(srv.proc.pid) - before) * 1e6 / args.requests
                length = int(cli(srv.port, "XLEN", key))
                results[name]["rate"] = max(results[name]["rate"], rate)
                results[name]["cpu"].append(cpu_us)
                log(f"round {r + 1} {name}: {rate:,.0f}/s, {cpu_us:.3f} us CPU/request, XLEN {length}")
        srv.stop()
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    base = statistics.median(results["plain XADD"]["cpu"])
    print(f"{args.requests:,} XADDs per run, {args.clients} clients, -P {args.pipeline}, {args.rounds} rounds")
    print("| row | best req/s | CPU us/req median | CPU us/req lowest | median CPU vs plain |")
    print("|---|---:|---:|---:|---:|")
    for name, *_ in ROWS:
        cpu = results[name]["cpu"]
        med = statistics.median(cpu)
        print(f"| {name} | {results[name]['rate']:,.0f} | {med:.3f} | {min(cpu):.3f} | {100 * (med / base - 1):+.1f}% |")


if __name__ == "__main__":
    main()
