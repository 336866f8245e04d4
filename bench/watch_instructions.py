#!/usr/bin/python3
"""bench/watch_instructions.py: what watching the server (a /metrics scrape
every second, the console's documents) costs its commands, counted in
instructions, which the machine's load does not disturb.

The server runs under valgrind's callgrind, every instruction of the
process counted (the event loop, reads, parsing, commands, replies, the
HTTP endpoint), from after the dataset is seeded (1,000 streams with a
consumer group each and a 1,000-element queue list, as bench/metrics_scrape.py)
until the end. The same work runs twice on fresh servers: CHUNKS x
CHUNK requests of redis-benchmark -c 50 -P 32 (SET, or XADD to one stream),
"plain", and "watched" with, after each chunk, what one second of watching
asks: GET /metrics, and the console's overview page's two documents
(/api/overview, /api/history; the console polls every 2 seconds, so this is
twice its rate). With CHUNK the server's plain throughput per second
(measured outside valgrind at the start), a chunk stands for one second at
full load, so watched/plain is the share of the server's work watching
takes at that throughput. On a shared machine the measured throughput is
whatever CPU the server got, so the share is also given against a full
core: the native CPU per request (utime+stime) turns instructions per
request into instructions per CPU-second.

Usage: bench/watch_instructions.py [--runnel PATH] [--chunks 4] [--chunk N]
"""

import argparse
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import redis

from servers import cpu_seconds, free_port, ping

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = {
    "SET": ["-r", "100000", "-t", "set"],
    "XADD": ["XADD", "bench:stream", "*", "f", "v"],
}


def start(path, valgrind):
    port, http_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="bench-watch-")
    cmd = [path, "--port", str(port), "--http-port", str(http_port), "--save", "", "--dir", workdir,
           "--metrics-list-patterns", "queue:*"]
    if valgrind:
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={workdir}/cg.out", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not ping(port):
        if time.time() > deadline:
            raise RuntimeError("runnel did not start")
        time.sleep(0.1)
    return proc, port, http_port, workdir


def seed(port):
    r = redis.Redis(port=port)
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.xadd(f"stream:{i}", {"f": "v"})
        p.xgroup_create(f"stream:{i}", "workers", id="0")
    p.rpush("queue:jobs", *range(1000))
    p.execute()


def bench(port, test, n):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "32", "-n", str(n), "--csv",
                          *TESTS[test]], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1].split(",")[1].strip('"'))


def watch_once(base):
    size = 0
    for path in ("/metrics", "/api/overview", "/api/history"):
        size += len(urllib.request.urlopen(base + path).read())
    return size


def counted(path, test, chunks, chunk, watched):
    proc, port, http_port, workdir = start(path, valgrind=True)
    try:
        seed(port)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        base = f"http://127.0.0.1:{http_port}"
        for _ in range(chunks):
            bench(port, test, chunk)
            if watched:
                watch_once(base)
        redis.Redis(port=port).shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass
    proc.wait()
    total = 0
    for name in os.listdir(workdir):
        if name.startswith("cg.out"):
            with open(os.path.join(workdir, name)) as f:
                m = re.search(r"^summary: (\d+)", f.read(), re.M)
                total += int(m.group(1)) if m else 0
    return total


def native_rate(path, test):
    """The best of two plain runs outside valgrind: requests per second, and
    the server's CPU per request (utime+stime), which the load disturbs less."""
    proc, port, _, _ = start(path, valgrind=False)
    try:
        seed(port)
        best = (0.0, 1.0)
        for _ in range(2):
            cpu = cpu_seconds(proc.pid)
            rate = bench(port, test, 2000000)
            per_request = (cpu_seconds(proc.pid) - cpu) / 2000000
            best = (max(best[0], rate), min(best[1], per_request))
        return best
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runnel", default=os.path.join(HERE, "..", "build", "runnel-server"))
    ap.add_argument("--tests", default="SET,XADD")
    ap.add_argument("--chunks", type=int, default=4)
    ap.add_argument("--chunk", type=int, default=0, help="requests per chunk (default: the native rate per second)")
    args = ap.parse_args()
    for test in args.tests.split(","):
        rate, cpu_per_request = native_rate(args.runnel, test)
        chunk = args.chunk or int(rate)
        plain = counted(args.runnel, test, args.chunks, chunk, False)
        watched = counted(args.runnel, test, args.chunks, chunk, True)
        n = args.chunks * chunk
        per_second = (watched - plain) / args.chunks
        # instructions a fully used core runs per second of server work, from
        # the native CPU per request: watching's share of such a core
        core = plain / n / cpu_per_request
        print(f"{test}: native {rate:,.0f}/s, {cpu_per_request * 1e6:.3f} us CPU per request; "
              f"chunk {chunk:,} requests ({args.chunks} chunks); plain {plain:,} instructions "
              f"({plain / n:.1f} per request); watched {watched:,} ({watched / n:.1f} per request); "
              f"watching {per_second:,.0f} instructions per second; watched/plain at the chunk's rate "
              f"{watched / plain:.4f}; watching's share of a full core {per_second / core * 100:.2f}% "
              f"(a core = {core / 1e9:.2f} G instructions/s of this work)", flush=True)


if __name__ == "__main__":
    main()
