#!/usr/bin/python3
"""bench/collection_memory.py: bytes per element of big hashes, sets and sorted sets.

For each workload, loads the elements into an empty server with pipelined
commands over a raw socket (BATCH commands in flight), and divides the growth
of INFO used_memory by the number of elements:

  hash        N x  HSET h field:<i> value            (one hashtable hash)
  set         N x  SADD s member:<i>                 (one hashtable set)
  zset        N x  ZADD z <i> member:<i>             (one skiplist sorted set)
  small-zsets N/100 sorted sets zs:<k> of 20 x ZADD zs:<k> <j> member:<20k+j>
              (listpack encoding; the keys are included in the figure)

Each server runs the workloads in a fresh process (no persistence), and the
servers alternate Runnel, Redis, Redis, Runnel; the table keeps each side's
lowest figure of its two runs and the encoding OBJECT ENCODING reported.

Usage: bench/collection_memory.py [--runnel PATH] [--redis PATH] [-n N]
                                  [--workloads hash,set,zset,small-zsets]
Python 3 standard library and redis-py only.
"""

import argparse
import socket

from servers import ScratchServer as Server, add_server_paths, resp

BATCH = 10000


def load(server, commands):
    """Sends the commands BATCH at a time; every reply must be one line."""
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        for start in range(0, len(commands), BATCH):
            chunk = commands[start:start + BATCH]
            s.sendall(b"".join(chunk))
            lines = 0
            while lines < len(chunk):
                data = s.recv(1 << 16)
                if not data:
                    raise RuntimeError("%s closed the connection" % server.name)
                if data.startswith(b"-") or b"\r\n-" in data:
                    raise RuntimeError("%s replied with an error: %r" % (server.name, data[:200]))
                lines += data.count(b"\n")


def workload(name, n):
    """(commands, elements, a key whose encoding to report)."""
    if name == "hash":
        return [resp("HSET", "h", "field:%d" % i, "value") for i in range(n)], n, "h"
    if name == "set":
        return [resp("SADD", "s", "member:%d" % i) for i in range(n)], n, "s"
    if name == "zset":
        return [resp("ZADD", "z", i, "member:%d" % i) for i in range(n)], n, "z"
    if name == "small-zsets":
        keys = n // 100
        return [resp("ZADD", "zs:%d" % k, j, "member:%d" % (20 * k + j)) for k in range(keys) for j in range(20)], \
            keys * 20, "zs:0"
    raise ValueError(name)


def measure(name, path, workloads, n, make=None):
    """{workload: (bytes per element, encoding)} on a fresh server; `make`
    builds a workload's commands (this file's workload by default)."""
    make = make or workload
    server = Server(name, path)
    try:
        out = {}
        for w in workloads:
            commands, elements, key = make(w, n)
            server.client.flushall()
            before = server.used_memory()
            load(server, commands)
            after = server.used_memory()
            encoding = server.client.object("encoding", key).decode()
            out[w] = ((after - before) / elements, encoding)
        return out
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_paths(p)
    p.add_argument("-n", type=int, default=1000000)
    p.add_argument("--workloads", default="hash,set,zset,small-zsets")
    args = p.parse_args()
    workloads = args.workloads.split(",")
    best = {}
    for name, path in (("runnel", args.runnel), ("redis", args.redis), ("redis", args.redis), ("runnel", args.runnel)):
        for w, (per, enc) in measure(name, path, workloads, args.n).items():
            print("%-7s %-12s %7.1f B/element (%s)" % (name, w, per, enc), flush=True)
            if (name, w) not in best or per < best[(name, w)][0]:
                best[(name, w)] = (per, enc)
    print()
    print("| workload | Runnel | Redis | Runnel/Redis |")
    print("|---|---:|---:|---:|")
    for w in workloads:
        a, b = best[("runnel", w)], best[("redis", w)]
        print("| %s (%s / %s) | %.1f B | %.1f B | %.2f |" % (w, a[1], b[1], a[0], b[0], a[0] / b[0]))


if __name__ == "__main__":
    main()
