#!/usr/bin/python3
"""bench/stream_delay.py: what delayed delivery costs (XADD ... DELAYAT).

Each run starts a fresh Runnel (no persistence), creates group g, and adds
N entries (`XADD s [DELAYAT t] * f <8 bytes>`, pipelined by 10,000), in one
of three ways:

  plain      no delay: the same entries, delivered at once
  delayed    DELAYAT t: the entries wait in the stream's schedule
  passed     DELAYAT t, then one `XREADGROUP ... COUNT 1 >` before t: the
             group walks past every entry, each becoming a scheduled
             pending entry of the group (the one-time cost of that walk is
             reported as "pass CPU")

Memory: INFO used_memory after creating the group and after the load (and
after the pass). Serving: once t has passed (t is set far enough after the
start that the load ends before it), one client reads everything with
`XREADGROUP GROUP g c COUNT 1000 STREAMS s >` until it has N entries; the
server's CPU (utime + stime from /proc/<pid>/stat) from 100 ms before t
to the end of that loop (so the timer's work at t counts), per entry, and
the loop's wall time. Runs alternate plain / delayed / passed,
twice in the order A B C C B A; each row keeps its best (least CPU).

Usage: bench/stream_delay.py [--runnel PATH] [-n N]
Python 3 standard library and redis-py only.
"""

import argparse
import time

from servers import ScratchServer, add_server_paths, cpu_seconds, log

BATCH = 10000


def now_ms():
    return int(time.time() * 1000)


def load(c, n, due):
    extra = ["DELAYAT", str(due)] if due else []
    for start in range(0, n, BATCH):
        p = c.pipeline(transaction=False)
        for i in range(start, min(n, start + BATCH)):
            p.execute_command("XADD", "s", *extra, "*", "f", "%08d" % i)
        p.execute()


def serve(c, n):
    got = 0
    while got < n:
        reply = c.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", "1000", "STREAMS", "s", ">")
        if not reply:
            time.sleep(0.001)
            continue
        got += len(reply[0][1])


def run(path, mode, n, lead_ms):
    srv = ScratchServer("runnel", path)
    try:
        c = srv.client
        c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        base = srv.used_memory()
        t0 = now_ms()
        due = t0 + lead_ms if mode != "plain" else 0
        load(c, n, due)
        loaded = now_ms()
        row = {"mode": mode, "load_s": (loaded - t0) / 1000, "mem": srv.used_memory() - base, "pass_cpu": None}
        if due and loaded >= due - 1000:
            raise RuntimeError("the load took longer than the lead time (%d ms); raise --lead" % lead_ms)
        if mode == "passed":
            before = cpu_seconds(srv.proc.pid)
            assert not c.execute_command("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
            row["pass_cpu"] = cpu_seconds(srv.proc.pid) - before
            row["mem_passed"] = srv.used_memory() - base
        if due and now_ms() >= due:
            raise RuntimeError("the pass ended after the due time; raise --lead")
        # the server's CPU from just before the due time: the timer's work
        # when the entries fall due counts too
        while due and now_ms() < due - 100:
            time.sleep(0.01)
        before = cpu_seconds(srv.proc.pid)
        while due and now_ms() < due + 50:
            time.sleep(0.01)
        start = time.time()
        serve(c, n)
        row["serve_s"] = time.time() - start
        row["serve_cpu"] = cpu_seconds(srv.proc.pid) - before
        return row
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=1000000)
    ap.add_argument("--lead", type=int, default=0, help="ms from the start to the due time (default: from the "
                                                         "first plain load's time)")
    args = ap.parse_args()
    best = {}
    lead = args.lead
    for mode in ("plain", "delayed", "passed", "passed", "delayed", "plain"):
        row = run(args.runnel, mode, args.n, lead or 60000)
        if not lead:
            lead = max(30000, int(row["load_s"] * 1000 * 3) + 10000)
        log("%s: %r" % (mode, row))
        if mode not in best or row["serve_cpu"] < best[mode]["serve_cpu"]:
            best[mode] = row
    print("| entries | mode | load | used_memory growth | per entry | pass CPU | serve wall | serve CPU | "
          "CPU per entry |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode in ("plain", "delayed", "passed"):
        r = best[mode]
        mem = r.get("mem_passed", r["mem"])
        print("| %d | %s | %.1f s | %.1f MB%s | %.0f B | %s | %.2f s | %.2f s | %.2f us |" % (
            args.n, mode, r["load_s"], mem / 1e6,
            " (%.1f MB before the pass)" % (r["mem"] / 1e6) if mode == "passed" else "", mem / args.n,
            "%.2f s" % r["pass_cpu"] if r["pass_cpu"] is not None else "-", r["serve_s"], r["serve_cpu"],
            r["serve_cpu"] / args.n * 1e6))


if __name__ == "__main__":
    main()
