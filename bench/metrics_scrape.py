#!/usr/bin/python3
"""bench/metrics_scrape.py: what watching the server costs the commands.

One Runnel with its HTTP endpoint and some broker data (S streams with a
consumer group each, a queue list). Each test (redis-benchmark -c 50 -P 32
SET, and XADD to one stream) runs alternately "plain" (nothing watching) and
"watched": a thread GETs /metrics every second and, with --console, Debian's
headless Chromium keeps the console open (bench/console_watch.js: the page
polls /api every 2 seconds and moves to another page every 5). Order plain,
watched, watched, plain: each keeps its best. Printed: throughput, the
ratio, and the server's CPU per command (utime+stime from /proc/<pid>/stat).

--idle-cost T instead measures the server's CPU for T seconds with
nothing, then the scraper, then the scraper and the console, running (the
dataset as above plus 100,000 strings, as after the SET runs).

--render-streams N instead seeds N streams (a group, a consumer and a
pending entry each) and times GET /metrics and GET /api/streams.

Usage: bench/metrics_scrape.py [--runnel PATH] [-n N] [-s S] [--console]
       bench/metrics_scrape.py --idle-cost 40
       bench/metrics_scrape.py --render-streams 10000
"""

import argparse
import os
import subprocess
import tempfile
import threading
import time
import urllib.request

import redis

from servers import free_port, ping

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def start(path, port, http_port):
    workdir = tempfile.mkdtemp(prefix="bench-metrics-")
    proc = subprocess.Popen([path, "--port", str(port), "--http-port", str(http_port), "--save", "",
                             "--dir", workdir, "--metrics-list-patterns", "queue:*"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not ping(port):
        if time.time() > deadline:
            raise RuntimeError("runnel did not start")
        time.sleep(0.05)
    return proc


def seed(port, streams, pending=False):
    r = redis.Redis(port=port)
    p = r.pipeline(transaction=False)
    for i in range(streams):
        p.xadd(f"stream:{i}", {"f": "v"})
        p.xgroup_create(f"stream:{i}", "workers", id="0")
        if pending:
            p.xreadgroup("workers", "w1", {f"stream:{i}": ">"}, count=1)
        if len(p) >= 3000:
            p.execute()
    p.rpush("queue:jobs", *range(1000))
    p.execute()


TESTS = {
    "SET": (["-r", "100000", "-t", "set"], '"SET"'),
    "XADD": (["XADD", "bench:stream", "*", "f", "v"], '"XADD'),
}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def throughput(port, test, n):
    args, prefix = TESTS[test]
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "32", "-n", str(n), "--csv", *args],
                         capture_output=True, text=True, check=True).stdout
    row = [line for line in out.splitlines() if line.startswith(prefix)][0]
    return float(row.split(",")[1].strip('"'))


def scraper(url, stop, times):
    """GETs url every second until stop is set; records each scrape's duration."""
    while not stop.wait(1.0):
        t = time.perf_counter()
        urllib.request.urlopen(url).read()
        times.append(time.perf_counter() - t)


class Console:
    """The console open in a headless browser (bench/console_watch.js)."""

    def __init__(self, base):
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "console_watch.js"), base], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("console_watch.js did not start: " + line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run(proc, port, base, test, n, watched, console):
    stop, times = threading.Event(), []
    thread = threading.Thread(target=scraper, args=(base + "/metrics", stop, times)) if watched else None
    browser = Console(base) if watched and console else None
    if thread:
        thread.start()
    cpu = cpu_seconds(proc.pid)
    rps = throughput(port, test, n)
    cpu = cpu_seconds(proc.pid) - cpu
    if thread:
        stop.set()
        thread.join()
    if browser:
        browser.close()
    return rps, cpu / n * 1e6, times


def compare(args):
    port, http_port = free_port(), free_port()
    proc = start(args.runnel, port, http_port)
    try:
        seed(port, args.s)
        base = f"http://127.0.0.1:{http_port}"
        label = "watched (/metrics every 1 s" + (" + console open)" if args.console else ")")
        for test in args.tests.split(","):
            best = {False: (0.0, 0.0), True: (0.0, 0.0)}
            scrapes = []
            for watched in (False, True, True, False):
                rps, cpu_us, times = run(proc, port, base, test, args.n, watched, args.console)
                if rps > best[watched][0]:
                    best[watched] = (rps, cpu_us)
                scrapes += times
                print(f"{test} {'watched' if watched else 'plain  '} {rps:12,.0f}/s  CPU {cpu_us:.3f} us/op"
                      f"  ({len(times)} scrapes)", flush=True)
            (p_rps, p_cpu), (w_rps, w_cpu) = best[False], best[True]
            print(f"{test}: best plain {p_rps:,.0f}/s ({p_cpu:.3f} us/op)  best {label} {w_rps:,.0f}/s "
                  f"({w_cpu:.3f} us/op)  ratio {w_rps / p_rps:.3f}  CPU ratio {w_cpu / p_cpu:.3f}")
            if scrapes:
                print(f"{test}: scrape time median {sorted(scrapes)[len(scrapes) // 2] * 1e3:.2f} ms, "
                      f"max {max(scrapes) * 1e3:.2f} ms")
    finally:
        proc.terminate()
        proc.wait()


def render_time(args):
    port, http_port = free_port(), free_port()
    proc = start(args.runnel, port, http_port)
    try:
        seed(port, args.render_streams, pending=True)
        base = f"http://127.0.0.1:{http_port}"
        for path in ("/metrics", "/api/streams"):
            times, size = [], 0
            for _ in range(20):
                t = time.perf_counter()
                size = len(urllib.request.urlopen(base + path).read())
                times.append(time.perf_counter() - t)
            times.sort()
            print(f"{path} with {args.render_streams:,} streams: {size:,} bytes, median {times[10] * 1e3:.1f} ms, "
                  f"min {times[0] * 1e3:.1f} ms, max {times[-1] * 1e3:.1f} ms (20 GETs)")
    finally:
        proc.terminate()
        proc.wait()


def idle_cost(args):
    """Server CPU per second of wall time with nothing running, with the
    scraper, and with the scraper and the console: what watching costs by
    itself, free of the benchmark's noise."""
    port, http_port = free_port(), free_port()
    proc = start(args.runnel, port, http_port)
    try:
        seed(port, args.s)
        r = redis.Redis(port=port)
        for start_at in range(0, 100000, 5000):
            r.mset({f"key:{i:012d}": "xxx" for i in range(start_at, start_at + 5000)})
        base = f"http://127.0.0.1:{http_port}"
        for label, scrape, console in (("nothing", False, False), ("/metrics every 1 s", True, False),
                                       ("/metrics every 1 s + console open", True, True)):
            stop, times = threading.Event(), []
            thread = threading.Thread(target=scraper, args=(base + "/metrics", stop, times)) if scrape else None
            browser = Console(base) if console else None
            if thread:
                thread.start()
            cpu, t = cpu_seconds(proc.pid), time.time()
            time.sleep(args.idle_cost)
            cpu, t = cpu_seconds(proc.pid) - cpu, time.time() - t
            if thread:
                stop.set()
                thread.join()
            if browser:
                browser.close()
            print(f"{label}: server CPU {cpu / t * 1e3:.1f} ms per second ({cpu / t * 100:.2f}% of a core)", flush=True)
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runnel", default=os.path.join(HERE, "..", "build", "runnel-server"))
    ap.add_argument("-n", type=int, default=4000000)
    ap.add_argument("-s", type=int, default=1000, help="streams with a group each")
    ap.add_argument("--tests", default="SET,XADD")
    ap.add_argument("--console", action="store_true", help="also keep the console open in headless Chromium")
    ap.add_argument("--render-streams", type=int, default=0)
    ap.add_argument("--idle-cost", type=int, default=0, help="seconds to measure the server's CPU while watched")
    args = ap.parse_args()
    if args.idle_cost:
        idle_cost(args)
    elif args.render_streams:
        render_time(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
