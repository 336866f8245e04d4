#!/usr/bin/python3
"""bench/pattern_publish.py: what pattern subscriptions cost PUBLISH.

One subscriber holds either 1 pattern (`user:5000:*`) or 10,000 distinct
patterns of the form `user:<n>:*`; redis-benchmark -c 50 -P 1 publishes to a
channel one pattern matches (`user:5000:login`) and to one no pattern matches
(`news:1`). Runnel and redis-server run in the order runnel, redis, redis,
runnel; each side keeps its best rate, and the server's CPU time per PUBLISH
(utime+stime from /proc/<pid>/stat) is printed beside it. The last columns
give each server's cost with 10,000 patterns over its cost with one.

Usage: bench/pattern_publish.py [--runnel PATH] [--redis PATH] [--seconds S]
"""

import argparse
import socket
import subprocess
import threading
import time

from servers import ORDER, ScratchServer, cpu_seconds, add_server_paths

PATTERNS = (1, 10000)
CHANNELS = ("user:5000:login", "news:1")


def resp_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Subscriber:
    """A raw connection that subscribes to patterns and reads everything it
    is sent, so the publisher never meets an output limit."""

    def __init__(self, port, patterns):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()
        self.sock.sendall(resp_command("PSUBSCRIBE", *patterns))

    def drain(self):
        try:
            while self.sock.recv(1 << 20):
                pass
        except OSError:
            pass

    def close(self):
        self.sock.close()


def wait_subscribed(client, count):
    while client.execute_command("PUBSUB", "NUMPAT") < count:
        time.sleep(0.01)


def publish_rate(port, channel, n):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "1", "-n", str(n), "--csv",
                          "publish", channel, "hello"], capture_output=True, text=True, check=True).stdout
    row = [line for line in out.splitlines() if line.startswith('"publish')][0]
    return float(row.split(",")[1].strip('"'))


def measure(server, channel, seconds):
    """(requests per second, server CPU microseconds per request), sized so
    that the run lasts about `seconds`."""
    probe = publish_rate(server.port, channel, 2000)
    n = max(2000, min(400000, int(probe * seconds)))
    before = cpu_seconds(server.proc.pid)
    rate = publish_rate(server.port, channel, n)
    used = cpu_seconds(server.proc.pid) - before
    return rate, used / n * 1e6


def run_side(name, path, seconds, results):
    for count in PATTERNS:
        srv = ScratchServer(name, path)
        patterns = ["user:5000:*"] if count == 1 else ["user:%d:*" % i for i in range(count)]
        sub = Subscriber(srv.port, patterns)
        wait_subscribed(srv.client, count)
        for channel in CHANNELS:
            rate, cpu = measure(srv.server, channel, seconds)
            key = (name, count, channel)
            best = results.get(key)
            if best is None or rate > best[0]:
                results[key] = (rate, min(cpu, best[1]) if best else cpu)
            elif cpu < best[1]:
                results[key] = (best[0], cpu)
            print(f"  {name:6} patterns={count:5} {channel:16} {rate:10.0f} req/s {cpu:8.2f} us/req", flush=True)
        sub.close()
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    paths = {"runnel": args.runnel, "redis": args.redis}
    results = {}
    for side in ORDER:
        run_side(side, paths[side], args.seconds, results)
    print("\n| channel | patterns | Runnel req/s | Redis req/s | Runnel/Redis | Runnel CPU us/req | Redis CPU us/req |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for channel in CHANNELS:
        for count in PATTERNS:
            a, b = results[("runnel", count, channel)], results[("redis", count, channel)]
            print(f"| `{channel}` | {count} | {a[0]:.0f} | {b[0]:.0f} | {a[0] / b[0]:.2f} | {a[1]:.2f} | {b[1]:.2f} |")
    print("\n| channel | Runnel cost 10,000 / 1 pattern (rate) | (CPU) | Redis (rate) | (CPU) |")
    print("|---|---:|---:|---:|---:|")
    for channel in CHANNELS:
        ra1, ra2 = results[("runnel", 1, channel)], results[("runnel", 10000, channel)]
        rb1, rb2 = results[("redis", 1, channel)], results[("redis", 10000, channel)]
        print(f"| `{channel}` | {ra1[0] / ra2[0]:.2f}x | {ra2[1] / ra1[1]:.2f}x | {rb1[0] / rb2[0]:.1f}x | "
              f"{rb2[1] / rb1[1]:.1f}x |")


if __name__ == "__main__":
    main()
