#!/usr/bin/python3
"""bench/backlog_instructions.py: user-space instructions per operation as
the backlog grows, which a busy machine does not disturb.

The rows of bench/backlog.py (LPUSH+RPOP, XADD+XREADGROUP+XACK, XRANGE and
XREVRANGE of 10 from the middle), each against a backlog of 1,000 and of
LARGE messages. Each server is filled natively, saves a snapshot, and is
started again under callgrind on it with instrumentation off while it loads;
then, per row, the counters are zeroed, redis-benchmark (-c 50 -P 1) sends N
and then 3N requests, and the count per request is the difference of the two
runs over 2N (start-up of the connections cancels out). Kernel time is not
counted: this is the server's own work, the part a longer queue could grow.

Usage: bench/backlog_instructions.py [--runnel PATH] [--redis PATH] [--large N] [--requests N]
"""

import argparse
import glob
import os
import shutil
import subprocess
import tempfile
import time

import redis

from backlog import SMALL, LIST_SCRIPT, STREAM_SCRIPT, fill_backlogs
from servers import add_server_paths, free_port, ping


def start(path, workdir, port, under_callgrind):
    cmd = [path, "--port", str(port), "--dir", workdir, "--save", ""]
    if under_callgrind:
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={workdir}/cg.out"] + cmd
    log = open(os.path.join(workdir, "server.log"), "a")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_timeout=3600)
    deadline = time.time() + 3600
    while time.time() < deadline:
        if ping(port):
            try:
                if client.info("persistence").get("loading", 0) == 0:
                    return proc, client
            except redis.ResponseError:
                pass
        time.sleep(0.5)
    raise RuntimeError("server did not start")


def counted(pid, workdir, port, n, args):
    """Instructions the server ran while redis-benchmark sent n requests."""
    subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True, check=True)
    subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "1", "-n", str(n), "-q", *args],
                   capture_output=True, check=True)
    before = set(glob.glob(f"{workdir}/cg.out*"))
    subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=True)
    for _ in range(600):
        new = set(glob.glob(f"{workdir}/cg.out*")) - before
        if new:
            break
        time.sleep(0.1)
    path = max(new, key=os.path.getmtime)
    time.sleep(0.3)  # the dump is written once
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + path)


def measure_side(name, path, large, requests):
    workdir = tempfile.mkdtemp(prefix=f"bench-backlog-instr-{name}-")
    port = free_port()
    try:
        proc, client = start(path, workdir, port, False)
        rows = fill_backlogs(client, port, large)
        client.save()
        client.shutdown(nosave=True)
        proc.wait()
        proc, client = start(path, workdir, port, True)
        client.script_load(LIST_SCRIPT)
        client.script_load(STREAM_SCRIPT)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], capture_output=True, check=True)
        result = {}
        for key, args in rows.items():
            subprocess.run(["redis-benchmark", "-p", str(port), "-c", "1", "-n", "10", "-q", *args],
                           capture_output=True, check=True)
            a = counted(proc.pid, workdir, port, requests, args)
            b = counted(proc.pid, workdir, port, 3 * requests, args)
            result[key] = (b - a) / (2 * requests)
            print(f"  {name:6} {key[0]:22} backlog {key[1]:>10,} {result[key]:9.0f} instructions/request",
                  flush=True)
        proc.terminate()
        proc.wait()
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--large", type=int, default=10_000_000)
    ap.add_argument("--requests", type=int, default=10000)
    args = ap.parse_args()
    res = {side: measure_side(side, path, args.large, args.requests)
           for side, path in (("runnel", args.runnel), ("redis", args.redis))}
    names = list(dict.fromkeys(n for n, _ in res["runnel"]))
    print(f"\n| operation | Runnel {SMALL:,} | Runnel {args.large:,} | growth | "
          f"Redis {SMALL:,} | Redis {args.large:,} | growth |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        r0, r1 = res["runnel"][(name, SMALL)], res["runnel"][(name, args.large)]
        d0, d1 = res["redis"][(name, SMALL)], res["redis"][(name, args.large)]
        print(f"| {name} | {r0:,.0f} | {r1:,.0f} | {r1 / r0:.3f}x | {d0:,.0f} | {d1:,.0f} | {d1 / d0:.3f}x |")


if __name__ == "__main__":
    main()
