#!/usr/bin/python3
"""bench/metrics_scrape.py: what scraping /metrics every second costs the
commands. One Runnel with its HTTP endpoint and some broker data (S streams
with a consumer group each, a queue list); redis-benchmark -c 50 -P 32 SET
runs alternately without a scraper and with one that GETs /metrics every
second (plain, scraped, scraped, plain: each keeps its best), and the
throughputs are printed next to each other with their ratio.

Usage: bench/metrics_scrape.py [--runnel PATH] [-n N] [-s S]
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


def seed(port, streams):
    r = redis.Redis(port=port)
    p = r.pipeline(transaction=False)
    for i in range(streams):
        p.xadd(f"stream:{i}", {"f": "v"})
        p.xgroup_create(f"stream:{i}", "workers", id="0")
    p.rpush("queue:jobs", *range(1000))
    p.execute()


def set_throughput(port, n):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "32", "-n", str(n),
                          "-r", "100000", "-t", "set", "--csv"], capture_output=True, text=True, check=True).stdout
    row = [line for line in out.splitlines() if line.startswith('"SET"')][0]
    return float(row.split(",")[1].strip('"'))


def scraper(url, stop, times):
    """GETs url every second until stop is set; records each scrape's duration."""
    while not stop.wait(1.0):
        t = time.perf_counter()
        urllib.request.urlopen(url).read()
        times.append(time.perf_counter() - t)


def run(port, url, n, scraped):
    stop, times = threading.Event(), []
    thread = threading.Thread(target=scraper, args=(url, stop, times)) if scraped else None
    if thread:
        thread.start()
    rps = set_throughput(port, n)
    if thread:
        stop.set()
        thread.join()
    return rps, times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runnel", default=os.path.join(HERE, "..", "build", "runnel-server"))
    ap.add_argument("-n", type=int, default=4000000)
    ap.add_argument("-s", type=int, default=1000, help="streams with a group each")
    args = ap.parse_args()
    port, http_port = free_port(), free_port()
    proc = start(args.runnel, port, http_port)
    try:
        seed(port, args.s)
        url = f"http://127.0.0.1:{http_port}/metrics"
        best = {False: 0.0, True: 0.0}
        scrapes = []
        for scraped in (False, True, True, False):
            rps, times = run(port, url, args.n, scraped)
            best[scraped] = max(best[scraped], rps)
            scrapes += times
            print(f"{'scraped' if scraped else 'plain  '} {rps:12,.0f} SET/s ({len(times)} scrapes)", flush=True)
        print(f"best plain {best[False]:,.0f}  best scraped {best[True]:,.0f}  ratio {best[True] / best[False]:.3f}")
        if scrapes:
            print(f"scrape time: median {sorted(scrapes)[len(scrapes) // 2] * 1e3:.2f} ms, max {max(scrapes) * 1e3:.2f} ms")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
