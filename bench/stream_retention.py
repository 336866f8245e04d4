#!/usr/bin/env python3
"""Workload `retention` (the default): XADD on a stream with a standing retention policy (XCFGSET
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

Workload `events`: SET on random keys with notify-keyspace-events KEA and
nobody subscribed, without and with notify-keyspace-events-stream (the
events stream trimmed to its default 100,000 entries).
With --instructions N, each row instead runs once in a server of its own
under valgrind's callgrind (hz 10, everything counted: commands, the cron's
visits, the event loop) for N XADDs; instructions per request depend
neither on how busy the machine is nor on the clock.
Usage: bench/stream_retention.py [--workload retention|events] [--requests N] [--clients C] [--pipeline P]
                                 [--rounds R] [--instructions N]"""

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

def xadd_row(name, key, policy=None, opts=()):
    """A row of the retention workload: XADD on an empty stream under key,
    with a policy (XCFGSET arguments) or XADD options."""
    setup = [["DEL", key]]
    if policy:
        setup += [["XADD", key, "1-1", "f", "v"], ["XCFGSET", key, *policy], ["XTRIM", key, "MAXLEN", "0"]]
    return name, setup, ["XADD", key, *opts, "*", "field", "value-0123456789"]


def events_row(name, stream):
    """A row of the events workload: SET on 100,000 random keys with
    notify-keyspace-events KEA (nobody subscribed), recording into `stream`
    ("": no events stream)."""
    setup = [["FLUSHALL"], ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
             ["CONFIG", "SET", "notify-keyspace-events-stream", stream]]
    return name, setup, ["-r", "100000", "SET", "key:__rand_int__", "value-0123456789"]


WORKLOADS = {
    "retention": [
        xadd_row("plain XADD", "plain"),
        xadd_row("policy RETENTION-MAXLEN 100000", "bylen", ["RETENTION-MAXLEN", "100000"]),
        xadd_row("policy RETENTION-MAXAGE 1000", "byage", ["RETENTION-MAXAGE", "1000"]),
        xadd_row("XADD MAXLEN ~ 100000", "capped", opts=["MAXLEN", "~", "100000"]),
    ],
    "events": [
        events_row("SET, events published only", ""),
        events_row("SET, events also into a stream", "ev"),
    ],
}


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout


def run(port, command, requests, clients, pipeline):
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", str(clients), "-P", str(pipeline),
           "--csv", *command]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    name = next(a for a in command if not a.startswith("-") and not a.isdigit())
    for line in out.splitlines():
        fields = [f.strip('"') for f in line.split(",")]
        if len(fields) > 1 and fields[0].startswith(name):
            return float(fields[1])
    raise RuntimeError(f"no {name} row in: {out!r}")


def prepare(port, setup):
    for command in setup:
        cli(port, *command)


def instructions(path, setup, command, requests, pipeline):
    """Instructions the whole server ran for `requests` commands, under callgrind."""
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
        prepare(port, setup)
        run(port, command, requests, 10, pipeline)
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


def main_instructions(args, rows):
    base = None
    print(f"{args.instructions:,} requests per server under callgrind, 10 clients, -P {args.pipeline}")
    print("| row | instructions per request | vs first row |")
    print("|---|---:|---:|")
    for name, setup, command in rows:
        n = instructions(args.runnel, setup, command, args.instructions, args.pipeline)
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
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="retention")
    args = ap.parse_args()
    rows = WORKLOADS[args.workload]
    if args.instructions:
        main_instructions(args, rows)
        return
    workdir = tempfile.mkdtemp(prefix="bench-retention-")
    srv = Server("runnel", args.runnel, "off", workdir)
    results = {name: {"rate": 0.0, "cpu": []} for name, *_ in rows}
    try:
        if not srv.start():
            sys.exit(f"runnel: {srv.error}")
        for r in range(args.rounds):
            for name, setup, command in rows:
                prepare(srv.port, setup)
                before = cpu_seconds(srv.proc.pid)
                rate = run(srv.port, command, args.requests, args.clients, args.pipeline)
                cpu_us = (cpu_seconds(srv.proc.pid) - before) * 1e6 / args.requests
                key = command[1] if command[0] == "XADD" else "ev"
                length = int(cli(srv.port, "XLEN", key))
                results[name]["rate"] = max(results[name]["rate"], rate)
                results[name]["cpu"].append(cpu_us)
                log(f"round {r + 1} {name}: {rate:,.0f}/s, {cpu_us:.3f} us CPU/request, XLEN {length}")
        srv.stop()
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    base = statistics.median(results[rows[0][0]]["cpu"])
    print(f"{args.requests:,} requests per run, {args.clients} clients, -P {args.pipeline}, {args.rounds} rounds")
    print("| row | best req/s | CPU us/req median | CPU us/req lowest | median CPU vs first row |")
    print("|---|---:|---:|---:|---:|")
    for name, *_ in rows:
        cpu = results[name]["cpu"]
        med = statistics.median(cpu)
        print(f"| {name} | {results[name]['rate']:,.0f} | {med:.3f} | {min(cpu):.3f} | {100 * (med / base - 1):+.1f}% |")


if __name__ == "__main__":
    main()
