#!/usr/bin/python3
"""bench/stream_redis8.py: what two Redis 8 stream features cost.

1. Claiming while reading. A consumer that takes over idle entries and reads
   new ones needs, before Redis 8.4, XAUTOCLAIM then XREADGROUP (two round
   trips); with XREADGROUP ... CLAIM one. The stream holds --pending entries,
   all pending in group g; each iteration claims 10 of them (min-idle 0) and
   finds nothing new. Runnel runs both forms; redis-server (7.0, no CLAIM)
   the two-call form. The entries have IDs 1-0 ... N-0; XAUTOCLAIM starts at
   a random one (as a consumer following its cursor would, not always at the
   same first entries). redis-benchmark times each command on its own; an
   iteration of the two-call form costs the sum of its two commands' times.
2. Idempotent production. XADD s * f v against XADD s IDMP p <random> * f v
   (a new pair each time, so every call records one and evicts the oldest of
   the producer's 100) and XADD s IDMPAUTO p * f <random>. Runnel only.

Every row runs in a fresh server, in the order A B B A for the pair it
compares (each side's best is kept), with -c 50 -P 16 (the XADD rows also
-P 1); CPU per call is the server's utime + stime over the run divided by
the calls, the least of a row's runs (on a shared machine the rate swings
more than the CPU a call costs).

Usage: bench/stream_redis8.py [--runnel PATH] [--redis PATH] [-n N] [--claim-n N] [--pending N]
Python 3 standard library and redis-py only.
"""

import argparse
import re
import subprocess

from servers import ScratchServer, add_server_paths, cpu_seconds


def redis_benchmark(port, n, args, rand=0, pipeline=16):
    argv = ["redis-benchmark", "-p", str(port), "-c", "50", "-P", str(pipeline), "-n", str(n), "-q"]
    if rand:
        argv += ["-r", str(rand)]
    out = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=600).stdout
    m = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    if not m:
        raise RuntimeError("redis-benchmark printed no rate: %r" % out[-300:])
    return float(m[-1])


def run(side, path, prepare, n, args, rand=0, pipeline=16):
    """A fresh server: prepare(client), then the benchmark; (calls/s, CPU us per call)."""
    srv = ScratchServer(side, path)
    try:
        prepare(srv.client)
        before = cpu_seconds(srv.proc.pid)
        rate = redis_benchmark(srv.port, n, args, rand, pipeline)
        used = cpu_seconds(srv.proc.pid) - before
        return rate, used / n * 1e6
    finally:
        srv.stop()


def pending_stream(count):
    def prepare(c):
        p = c.pipeline(transaction=False)
        for i in range(count):
            p.execute_command("XADD", "s", "%d-0" % (i + 1), "f", "v%d" % i)
        p.execute()
        c.execute_command("XGROUP", "CREATE", "s", "g", "0")
        c.execute_command("XREADGROUP", "GROUP", "g", "c0", "COUNT", str(count), "STREAMS", "s", ">")
    return prepare


def nothing(c):
    pass


CLAIM = ["XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "CLAIM", "0", "STREAMS", "s", ">"]
# from a random place in the PEL, as a consumer following the cursor would
# be, rather than always the same first entries
AUTOCLAIM = ["XAUTOCLAIM", "s", "g", "c", "0", "__rand_int__", "COUNT", "10"]
READ_NEW = ["XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", ">"]


def claim_rows(runnel, redis, n, pending):
    prep = pending_stream(pending)
    rows = {}
    # A B B A: Runnel's one-call form against the two-call form (Runnel, then Redis)
    for side, path in (("runnel", runnel), ("redis", redis), ("redis", redis), ("runnel", runnel)):
        if side == "runnel":
            rows.setdefault("runnel CLAIM", []).append(run(side, path, prep, n, CLAIM))
        a = run(side, path, prep, n, AUTOCLAIM, rand=pending)
        r = run(side, path, prep, n, READ_NEW)
        # one iteration = one of each: its time is the sum, its CPU the sum
        it = (1 / (1 / a[0] + 1 / r[0]), a[1] + r[1])
        rows.setdefault(side + " XAUTOCLAIM+XREADGROUP", []).append(it)
    return rows


def idmp_rows(runnel, n):
    """XADD against XADD IDMP (and IDMPAUTO), and against XADD with one more
    field carrying the same random bytes (what parsing the extra arguments
    costs), pipelined (-P 16) and not (-P 1, n / 5 calls)."""
    rows = {}
    plain = ["XADD", "s", "*", "f", "v"]
    wide = ["XADD", "s", "*", "f", "v", "x", "__rand_int__"]
    idmp = ["XADD", "s", "IDMP", "p", "__rand_int__", "*", "f", "v"]
    auto = ["XADD", "s", "IDMPAUTO", "p", "*", "f", "__rand_int__"]
    for pipeline, calls in ((16, n), (1, n // 5)):
        for other, args in (("XADD IDMP", idmp), ("XADD f v x <rand>", wide), ("XADD IDMPAUTO", auto)):
            for label, a in (("XADD", plain), (other, args), (other, args), ("XADD", plain)):
                key = "%s -P%d" % (label, pipeline)
                rows.setdefault(key, []).append(run("runnel", runnel, nothing, calls, a, 100000000, pipeline))
    return rows


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=1000000)
    ap.add_argument("--claim-n", type=int, default=200000, help="calls per claim row")
    ap.add_argument("--pending", type=int, default=10000)
    a = ap.parse_args()
    print("| row | calls or iterations/s (best) | server CPU us per call (least) | rates of the runs |")
    print("|---|---:|---:|---|")
    for rows in (claim_rows(a.runnel, a.redis, a.claim_n, a.pending), idmp_rows(a.runnel, a.n)):
        for label, results in rows.items():
            rate = max(r[0] for r in results)
            cpu = min(r[1] for r in results)
            runs = ", ".join("%.0f" % r[0] for r in results)
            print("| %s | %.0f | %.3f | %s |" % (label, rate, cpu, runs), flush=True)


if __name__ == "__main__":
    main()
