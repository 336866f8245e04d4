#!/usr/bin/python3
"""bench/pubsub_memory.py: what slow subscribers cost a server's memory.

Starts build/runnel-server and Debian's redis-server on free loopback ports
with identical settings (no persistence, no pub/sub output limit, so nobody is
disconnected), connects SUBSCRIBERS raw sockets that SUBSCRIBE to one channel
and then never read (their kernel receive buffers shrunk with SO_RCVBUF before
connecting, so the bytes pile up in the server), reads INFO used_memory,
publishes MB megabytes in SIZE-byte messages (pipelined), waits for the
figure to settle, reads used_memory again and prints each server's growth and
their ratio.

Redis copies every message into every subscriber's reply list, so its growth
is about subscribers x payload. Runnel encodes a message once into a shared,
reference-counted block, so its growth should be one copy of the payload plus
a few bytes per subscriber per message. Target: Runnel's growth under 5% of
Redis's.

Usage: bench/pubsub_memory.py [--runnel PATH] [--redis PATH] [--subscribers N]
                              [--mb MB] [--size BYTES] [--rcvbuf BYTES]
                              [--only runnel|redis]
Needs about SUBSCRIBERS x MB of free memory for Redis (10 GB by default); it
refuses to start Redis's run when MemAvailable is short. Python 3 standard
library and redis-py only.
"""

import argparse
import resource
import socket
import sys
import time

from servers import ScratchServer as Server, add_server_paths

CHANNEL = b"bench:slow"


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return "%.1f %s" % (n, unit) if unit != "B" else "%d B" % n
        n /= 1024.0
    return str(n)


def start_server(name, path):
    # The limit is given as separate arguments: both servers accept that.
    return Server(name, path, ["--client-output-buffer-limit", "pubsub", "0", "0", "0", "--maxclients", "10000"])


def subscribe_all(port, n, rcvbuf):
    """n sockets, each with a small receive buffer, subscribed and confirmed."""
    cmd = b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL)
    expected = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL)
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect(("127.0.0.1", port))
        s.sendall(cmd)
        socks.append(s)
    for s in socks:
        s.settimeout(10)
        got = b""
        while len(got) < len(expected):
            chunk = s.recv(len(expected) - len(got))
            if not chunk:
                raise RuntimeError("subscriber closed")
            got += chunk
        if got != expected:
            raise RuntimeError("unexpected subscribe reply %r" % got)
    return socks


def settle(server, timeout=30.0):
    """used_memory once it stops moving (the server may still be flushing)."""
    last = server.used_memory()
    deadline = time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.5)
        now = server.used_memory()
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


def measure(name, path, args):
    server = start_server(name, path)
    socks = []
    try:
        socks = subscribe_all(server.port, args.subscribers, args.rcvbuf)
        time.sleep(0.5)
        before = settle(server)
        rss_before = rss(server.proc.pid)
        count = args.mb * 1024 * 1024 // args.size
        started = time.time()
        sent = 0
        batch = 256
        while sent < count:
            pipe = server.client.pipeline(transaction=False)
            for i in range(sent, min(sent + batch, count)):
                pipe.publish(CHANNEL, b"%010d" % i + b"x" * (args.size - 10))
            replies = pipe.execute()
            bad = [r for r in replies if r != args.subscribers]
            if bad:
                raise RuntimeError("PUBLISH reached %r subscribers, not %d" % (bad[0], args.subscribers))
            sent += len(replies)
        elapsed = time.time() - started
        time.sleep(1.0)
        after = settle(server)
        rss_after = rss(server.proc.pid)
        return {
            "name": name, "before": before, "after": after, "growth": after - before,
            "rss_growth": rss_after - rss_before, "messages": count, "publish_seconds": elapsed,
        }
    finally:
        for s in socks:
            s.close()
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_paths(p)
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--mb", type=int, default=10)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--rcvbuf", type=int, default=4096)
    p.add_argument("--only", choices=("runnel", "redis"))
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.subscribers + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    payload = args.mb * 1024 * 1024
    print("%d subscribers that never read (SO_RCVBUF %d), %d MiB published in %d-byte messages"
          % (args.subscribers, args.rcvbuf, args.mb, args.size))
    results = {}
    for name, path in (("runnel", args.runnel), ("redis", args.redis)):
        if args.only and args.only != name:
            continue
        if name == "redis":
            need = args.subscribers * payload * 1.3 + (1 << 30)
            if mem_available() < need:
                print("redis: skipped, needs about %s free, %s available"
                      % (human(need), human(mem_available())))
                continue
        results[name] = measure(name, path, args)
        r = results[name]
        print("%-7s used_memory %s -> %s: growth %s (%.1f bytes per subscriber per message; RSS growth %s); "
              "published in %.1f s" % (
                  name, human(r["before"]), human(r["after"]), human(r["growth"]),
                  r["growth"] / args.subscribers / r["messages"], human(r["rss_growth"]), r["publish_seconds"]))
        sys.stdout.flush()
    if "runnel" in results and "redis" in results:
        ratio = results["runnel"]["growth"] / results["redis"]["growth"]
        print("runnel/redis growth: %.2f%% (target < 5%%): %s" % (ratio * 100, "met" if ratio < 0.05 else "MISSED"))


if __name__ == "__main__":
    main()
