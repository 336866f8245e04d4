#!/usr/bin/python3
"""bench/message_memory.py: bytes per queued message, by payload size.

For each payload size (16, 64, 256, 1,024 bytes) and each container, N
messages go into an empty server with pipelined commands, and the growth of
INFO used_memory is divided by N:

  list    RPUSH q <payload>
  stream  XADD s * d <payload>       (one field, as a job queue writes it)

Payloads (--payload) differ per message, as real ones do:
  counter  a 12-digit counter padded with 'x' (compresses very well)
  json     a job body: {"id":…,"user":…,"action":…,"ts":…} with varied
           words, padded or cut to the size
  random   incompressible bytes

Each server runs every row in a fresh process without persistence; the
servers alternate Runnel, Redis, Redis, Runnel and keep their lowest figure.
Runnel gets --runnel-args; Redis runs at its defaults and, for the list rows,
also with --redis-list-args (list-compress-depth 1 unless given ""). Memory
is read once it stops falling (Runnel compresses stream blocks between
commands).

Usage: bench/message_memory.py [--runnel PATH] [--redis PATH] [-n N]
       [--payload counter|json|random] [--sizes 16,64,256,1024]
       [--containers list,stream] [--runnel-args "..."] [--redis-list-args "..."]
"""

import argparse
import json
import random
import socket
import time

from servers import ORDER, ScratchServer, add_server_paths

SIZES = (16, 64, 256, 1024)
BATCH = 5000


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


WORDS = ["alice", "bob", "carol", "dave", "erin", "signup", "click", "purchase", "refund", "login", "logout",
         "cart", "checkout", "eu-west", "us-east", "ap-south", "mobile", "desktop", "premium", "trial", "invoice",
         "shipment", "welcome", "reminder", "password", "reset", "newsletter", "report", "export", "thumbnail"]


def payload_counter(i, size, rnd):
    head = b"%012d" % i
    return head + b"x" * (size - len(head)) if size > len(head) else head[-size:]


def payload_json(i, size, rnd):
    body = json.dumps({"id": i, "user": "%s%d" % (rnd.choice(WORDS), rnd.randrange(100000)),
                       "action": rnd.choice(WORDS), "ts": 1700000000000 + i * 7 + rnd.randrange(7)},
                      separators=(",", ":"))
    while len(body) < size:
        body += " " + rnd.choice(WORDS)
    return body[:size].encode()


def payload_random(i, size, rnd):
    return rnd.randbytes(size)


PAYLOADS = {"counter": payload_counter, "json": payload_json, "random": payload_random}


def load(port, n, size, container, payload):
    s = socket.create_connection(("127.0.0.1", port))
    rnd = random.Random(size)
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        if container == "list":
            s.sendall(b"".join(resp(b"RPUSH", b"q", payload(done + j, size, rnd)) for j in range(k)))
        else:
            s.sendall(b"".join(resp(b"XADD", b"s", b"*", b"d", payload(done + j, size, rnd)) for j in range(k)))
        got = 0
        buf = b""
        while got < k:
            buf += s.recv(1 << 20)
            got = buf.count(b"\r\n")
        done += k
    s.close()


def settled_memory(srv):
    """used_memory once it has stopped falling for a second."""
    last, stable = srv.used_memory(), 0
    while stable < 4:
        time.sleep(0.25)
        now = srv.used_memory()
        stable = stable + 1 if now >= last else 0
        last = min(last, now)
    return last


def measure(name, path, n, rows, payload, extra):
    out = {}
    for container, size in rows:
        srv = ScratchServer(name, path, extra)
        try:
            before = srv.used_memory()
            load(srv.port, n, size, container, payload)
            out[(container, size)] = (settled_memory(srv) - before) / n
        finally:
            srv.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--payload", choices=sorted(PAYLOADS), default="counter")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--containers", default="list,stream")
    ap.add_argument("--runnel-args", default="")
    ap.add_argument("--redis-list-args", default="--list-compress-depth 1")
    args = ap.parse_args()
    payload = PAYLOADS[args.payload]
    rows = [(c, int(z)) for c in args.containers.split(",") for z in args.sizes.split(",")]
    list_rows = [r for r in rows if r[0] == "list"]
    runs = {"runnel": [(args.runnel, "runnel", rows, args.runnel_args.split())],
            "redis": [(args.redis, "redis", rows, [])]}
    if args.redis_list_args and list_rows:
        runs["redis"].append((args.redis, "redis-lc", list_rows, args.redis_list_args.split()))
    best = {}
    for side in ORDER:
        for path, label, side_rows, extra in runs[side]:
            for key, v in measure(side, path, args.n, side_rows, payload, extra).items():
                best[(label,) + key] = min(v, best.get((label,) + key, v))
                print(label, key, f"{v:.1f}", flush=True)
    lc = " | Redis list-compress-depth 1 | Runnel/that" if len(runs["redis"]) > 1 else ""
    print(f"\npayload {args.payload}, n {args.n:,}, Runnel args: {args.runnel_args or '(defaults)'}")
    print(f"| container | payload | Runnel B/message | Redis B/message | Runnel/Redis{lc} |")
    print("|---|---:|---:|---:|---:" + ("|---:|---:|" if lc else "|"))
    for container, size in rows:
        a, b = best[("runnel", container, size)], best[("redis", container, size)]
        line = f"| {container} | {size} B | {a:.1f} | {b:.1f} | {a / b:.3f}"
        if lc:
            c = best.get(("redis-lc", container, size))
            line += f" | {c:.1f} | {a / c:.3f}" if c else " | | "
        print(line + " |")


if __name__ == "__main__":
    main()
