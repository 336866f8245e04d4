#!/usr/bin/python3
"""bench/message_memory.py: bytes per queued message, by payload size.

For each payload size (16, 64, 256, 1,024 bytes) and each container, N
messages go into an empty server with pipelined commands, and the growth of
INFO used_memory is divided by N:

  list    RPUSH q <payload>
  stream  XADD s * d <payload>       (one field, as a job queue writes it)

Payloads differ per message (a counter in a fixed-size body), as real ones
do. Each server runs every row in a fresh process without persistence; the
servers alternate Runnel, Redis, Redis, Runnel and keep their lowest figure.

Usage: bench/message_memory.py [--runnel PATH] [--redis PATH] [-n N]
"""

import argparse
import socket

from servers import ORDER, ScratchServer, add_server_paths

SIZES = (16, 64, 256, 1024)
BATCH = 5000


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def payload(i, size):
    head = b"%012d" % i
    return head + b"x" * (size - len(head)) if size > len(head) else head[-size:]


def load(port, n, size, container):
    s = socket.create_connection(("127.0.0.1", port))
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        if container == "list":
            s.sendall(b"".join(resp(b"RPUSH", b"q", payload(done + j, size)) for j in range(k)))
        else:
            s.sendall(b"".join(resp(b"XADD", b"s", b"*", b"d", payload(done + j, size)) for j in range(k)))
        got = 0
        buf = b""
        while got < k:
            buf += s.recv(1 << 20)
            got = buf.count(b"\r\n")
        done += k
    s.close()


def measure(name, path, n):
    out = {}
    for container in ("list", "stream"):
        for size in SIZES:
            srv = ScratchServer(name, path)
            try:
                before = srv.used_memory()
                load(srv.port, n, size, container)
                out[(container, size)] = (srv.used_memory() - before) / n
            finally:
                srv.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=1_000_000)
    args = ap.parse_args()
    paths = {"runnel": args.runnel, "redis": args.redis}
    best = {}
    for side in ORDER:
        for key, v in measure(side, paths[side], args.n).items():
            best[(side,) + key] = min(v, best.get((side,) + key, v))
        print(side, "done", flush=True)
    print(f"\n| container | payload | Runnel B/message | Redis B/message | Runnel/Redis |")
    print("|---|---:|---:|---:|---:|")
    for container in ("list", "stream"):
        for size in SIZES:
            a, b = best[("runnel", container, size)], best[("redis", container, size)]
            print(f"| {container} | {size} B | {a:.1f} | {b:.1f} | {a / b:.3f} |")


if __name__ == "__main__":
    main()
