#!/usr/bin/python3
"""bench/compress_cost.py: what list-compress-depth and stream-compress-depth
cost on a broker's hot path, as server CPU per operation.

Two Runnel configurations, alternated A B B A (lowest of each kept): `off`
(both settings 0) and `on` (list-compress-depth 1, stream-compress-depth 1,
or the values given). For each backlog size, the server is filled with
64-byte JSON job bodies, then one client runs a fixed number of operations
pipelined `-P` deep, and the server's utime+stime over that phase
(/proc/<pid>/stat) is divided by the operations:

  list      LPUSH q <job> + RPOP q              (one operation: the pair)
  xadd      XADD s * d <job>
  xgroup    XADD, then XREADGROUP GROUP g c COUNT 1 STREAMS s >, then XACK
            (one operation: the three; the group starts at the backlog's head)
  xrange    XRANGE s <id> + COUNT 10 at random IDs of the backlog's middle half
  xrange1   the same at one fixed ID in the middle

Memory after the fill (INFO used_memory) is printed too. With --callgrind
the server runs under valgrind's callgrind with instrumentation switched on for
the measured phase only (and the re-freezing after it), and the table gives
instructions per operation instead of CPU time: exact where the machine is
noisy.

Usage: bench/compress_cost.py [--runnel PATH] [--backlogs 1000,1000000]
       [--ops 200000] [-P 16] [--rows list,xadd,xgroup,xrange,xrange1]
       [--callgrind]
"""

import argparse
import glob
import json
import os
import random
import socket
import subprocess
import tempfile
import time

from message_memory import settled_memory
from servers import ScratchServer, add_server_paths, cpu_seconds, resp

WORDS = ["alice", "bob", "carol", "dave", "signup", "click", "purchase", "refund", "login", "logout", "cart",
         "checkout", "eu-west", "us-east", "mobile", "desktop", "premium", "trial", "invoice", "shipment"]


def job(rnd, i, size=64):
    """A realistic job body of exactly `size` bytes (as bench/message_memory.py's json payload)."""
    body = json.dumps({"id": i, "user": rnd.choice(WORDS) + str(rnd.randrange(1000)), "action": rnd.choice(WORDS),
                       "ts": 1700000000000 + i}, separators=(",", ":"))
    while len(body) < size:
        body += " " + rnd.choice(WORDS)
    return body[:size].encode()


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def read_reply(self):
        """One reply (any RESP2 type); returns nothing useful but the IDs XREADGROUP gave."""
        line = self._line()
        t = line[:1]
        if t in (b"+", b"-", b":"):
            return line[1:]
        if t == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        n = int(line[1:])
        return [self.read_reply() for _ in range(max(n, 0))] if n >= 0 else None

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _fill(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed")
        self.buf += chunk


def run_batches(conn, make, total, depth):
    """Sends `total` operations, `depth` at a time; make(i) returns (bytes, replies per op, reply hook)."""
    done = 0
    while done < total:
        k = min(depth, total - done)
        parts, hooks = [], []
        for j in range(k):
            data, nreplies, hook = make(done + j)
            parts.append(data)
            hooks.append((nreplies, hook))
        conn.send(b"".join(parts))
        for nreplies, hook in hooks:
            for _ in range(nreplies):
                r = conn.read_reply()
                if hook:
                    hook(r)
        done += k


def fill(conn, row, backlog, rnd):
    if row == "list":
        run_batches(conn, lambda i: (resp("RPUSH", "q", job(rnd, i)), 1, None), backlog, 1000)
    else:
        run_batches(conn, lambda i: (resp("XADD", "s", "%d-1" % (i + 1), "d", job(rnd, i)), 1, None), backlog, 1000)
        conn.send(resp("XGROUP", "CREATE", "s", "g", "0"))
        conn.read_reply()


def callgrind_wrapper(path, outdir):
    """A script that starts the server under callgrind, collection off."""
    wrapper = os.path.join(outdir, "runnel-callgrind")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
                f"--callgrind-out-file={outdir}/cg.%p {path} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    return wrapper


def callgrind_total(outdir, pid):
    """Instructions counted in the server's callgrind output."""
    total = 0
    for name in glob.glob(f"{outdir}/cg.{pid}*"):
        with open(name) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    total = max(total, int(line.split()[1]))
    return total


def measure(path, args, row, backlog, ops, depth, cg_dir=None):
    srv = ScratchServer("runnel", callgrind_wrapper(path, cg_dir) if cg_dir else path, args)
    try:
        rnd = random.Random(backlog)
        conn = Conn(srv.port)
        before = srv.used_memory()
        fill(conn, row, backlog, rnd)
        mem = settled_memory(srv) - before  # blocks are frozen between commands
        base = backlog + 1
        if row == "list":
            make = lambda i: (resp("LPUSH", "q", job(rnd, i)) + resp("RPOP", "q"), 2, None)
        elif row == "xadd":
            make = lambda i: (resp("XADD", "s", "%d-1" % (base + i), "d", job(rnd, i)), 1, None)
        elif row == "xgroup":
            pending = []

            def take(reply):
                if isinstance(reply, list) and reply:
                    pending.append(reply[0][1][0][0])

            def make(i):
                data = resp("XADD", "s", "%d-1" % (base + i), "d", job(rnd, i))
                data += resp("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
                return data, 2, take
        elif row == "xrange":
            lo, hi = backlog // 4 + 1, 3 * backlog // 4 + 1
            make = lambda i: (resp("XRANGE", "s", "%d-1" % rnd.randrange(lo, hi), "+", "COUNT", "10"), 1, None)
        else:
            mid = backlog // 2
            make = lambda i: (resp("XRANGE", "s", "%d-1" % mid, "+", "COUNT", "10"), 1, None)
        if cg_dir:
            subprocess.run(["callgrind_control", "-i", "on", str(srv.proc.pid)], check=True,
                           stdout=subprocess.DEVNULL)
        cpu0, t0 = cpu_seconds(srv.proc.pid), time.monotonic()
        if row == "xgroup":
            done = 0
            while done < ops:
                k = min(depth, ops - done)
                run_batches(conn, lambda j, first=done: make(first + j), k, depth)  # IDs go on from `done`
                assert len(pending) == k, "every XREADGROUP reads one entry"
                conn.send(b"".join(resp("XACK", "s", "g", p) for p in pending))
                for _ in pending:
                    conn.read_reply()
                pending.clear()
                done += k
        else:
            run_batches(conn, make, ops, depth)
        time.sleep(1.5)  # the re-freezing the phase caused happens between commands: count it
        cpu = cpu_seconds(srv.proc.pid) - cpu0
        wall = time.monotonic() - t0 - 1.5
        if not cg_dir:
            return cpu / ops * 1e6, ops / wall, mem
        pid = srv.proc.pid
        for cmd in (["-i", "off"], ["-d"]):  # the dump is written now, not at an exit SIGTERM may cut short
            subprocess.run(["callgrind_control", *cmd, str(pid)], check=True, stdout=subprocess.DEVNULL)
        return callgrind_total(cg_dir, pid) / ops, ops / wall, mem
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--backlogs", default="1000,1000000")
    ap.add_argument("--ops", type=int, default=200000)
    ap.add_argument("-P", type=int, default=16)
    ap.add_argument("--rows", default="list,xadd,xgroup,xrange,xrange1")
    ap.add_argument("--on", default="--list-compress-depth 1 --stream-compress-depth 1")
    ap.add_argument("--off", default="--list-compress-depth 0 --stream-compress-depth 0")
    ap.add_argument("--callgrind", action="store_true")
    a = ap.parse_args()
    configs = {"off": a.off.split(), "on": a.on.split()}
    cg_dir = tempfile.mkdtemp(prefix="compress-cost-") if a.callgrind else None
    unit = "instructions/op" if cg_dir else "CPU us/op"
    best = {}
    for name in ("off", "on") if cg_dir else ("off", "on", "on", "off"):  # callgrind counts do not vary
        for row in a.rows.split(","):
            for backlog in map(int, a.backlogs.split(",")):
                us, rate, mem = measure(a.runnel, configs[name], row, backlog, a.ops, a.P, cg_dir)
                key = (row, backlog, name)
                old = best.get(key)
                best[key] = (min(us, old[0]), max(rate, old[1]), min(mem, old[2])) if old else (us, rate, mem)
                print(f"{name} {row} {backlog}: {us:.3f} {unit} {rate:,.0f} op/s mem {mem / 1e6:.1f} MB", flush=True)
    print(f"\n| row | backlog | {unit} off | {unit} on | on/off | op/s off | op/s on | memory off | memory on |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in a.rows.split(","):
        for backlog in map(int, a.backlogs.split(",")):
            off, on = best[(row, backlog, "off")], best[(row, backlog, "on")]
            print(f"| {row} | {backlog:,} | {off[0]:,.3f} | {on[0]:,.3f} | {on[0] / off[0]:.3f} | {off[1]:,.0f} | "
                  f"{on[1]:,.0f} | {off[2] / 1e6:.1f} MB | {on[2] / 1e6:.1f} MB |")


if __name__ == "__main__":
    main()
