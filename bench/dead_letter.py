#!/usr/bin/python3
"""bench/dead_letter.py: a dead-letter queue written by hand on redis-server
against Runnel's built-in one, as server CPU per processed message.

The stream holds --messages entries, --poison-pct of them poison (a field
p=1): a worker gives up on those every time, and each must end in a
dead-letter stream after --max-deliveries deliveries while every good one is
acknowledged once. One worker, one connection, batches of 10:

- hand-written (redis-server 7.0, and Runnel running the same script): a Lua
  script around XAUTOCLAIM (min-idle 0) claims what the worker left pending,
  reads each claimed entry's delivery count with XPENDING, and XADDs the ones
  past the limit to the dead-letter stream (source, ID, group, consumer,
  count, reason, then the entry's fields) and XACKs them; the worker then
  reads new entries with XREADGROUP and XACKs the good ones of both.
- built-in (Runnel): the group is created with MAXDELIVERIES n DEADLETTER
  key; the worker calls XREADGROUP ... CLAIM 0 (retries first, then new
  entries) and XACKs the good ones.

The stream is filled before the measured part (the same XADDs on both
sides). Server CPU is utime + stime from /proc/<pid>/stat over the worker
loop, divided by --messages. Runs go A B B A (runnel, redis, redis, runnel;
the hand-written script on Runnel between them), each side's best kept. Every
run checks its outcome: dead-letter stream length = poison count, nothing
pending, every good message acknowledged once.

Usage: bench/dead_letter.py [--runnel PATH] [--redis PATH] [--messages N] [--poison-pct P]
Python 3 standard library and redis-py only.
"""

import argparse
import time

from servers import ScratchServer, add_server_paths, cpu_seconds, log

REAPER = """
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
local claimed = r[2]
if #claimed == 0 then return claimed end
local counts = {}
local pend = redis.call('XPENDING', KEYS[1], ARGV[1], claimed[1][1], claimed[#claimed][1], 10 * #claimed, ARGV[2])
for _, p in ipairs(pend) do counts[p[1]] = p[4] end
local out = {}
for _, e in ipairs(claimed) do
  if counts[e[1]] and counts[e[1]] > tonumber(ARGV[5]) then
    local args = {KEYS[2], '*', 'dlq-stream', KEYS[1], 'dlq-id', e[1], 'dlq-group', ARGV[1],
                  'dlq-consumer', ARGV[2], 'dlq-deliveries', counts[e[1]] - 1, 'dlq-reason', 'maxdeliveries'}
    for _, f in ipairs(e[2]) do args[#args + 1] = f end
    redis.call('XADD', unpack(args))
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
  else
    out[#out + 1] = e
  end
end
return out
"""


def fill(c, n, poison_every):
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd("jobs", {"job": str(i), "p": "1" if i % poison_every == poison_every - 1 else "0"})
        if len(pipe) == 1000:
            pipe.execute()
    pipe.execute()


def ack_good(c, entries, acked):
    good = [mid for mid, fields in entries if fields.get(b"p") != b"1"]
    if good:
        c.xack("jobs", "workers", *good)
        acked.update(good)


def worker_builtin(c, acked):
    calls = 0
    while True:
        got = c.execute_command("XREADGROUP", "GROUP", "workers", "w", "COUNT", "10", "CLAIM", "0",
                                "STREAMS", "jobs", ">")
        calls += 1
        if not got:
            return calls
        entries = [(e[0], e[1]) for e in got[0][1]]
        ack_good(c, entries, acked)
        calls += 1


def worker_script(c, sha, max_deliveries, acked):
    calls = 0
    while True:
        retry = c.evalsha(sha, 2, "jobs", "jobs:dead", "workers", "w", 0, 10, max_deliveries)
        new = c.xreadgroup("workers", "w", {"jobs": ">"}, count=10)
        calls += 2
        entries = [(e[0], {e[1][i]: e[1][i + 1] for i in range(0, len(e[1]), 2)}) for e in retry]
        entries += list(new[0][1]) if new else []
        if not entries:
            return calls
        ack_good(c, entries, acked)
        calls += 1


def run(side, path, form, args):
    srv = ScratchServer(side, path)
    try:
        c = srv.client
        poison_every = round(100 / args.poison_pct)
        fill(c, args.messages, poison_every)
        if form == "builtin":
            c.execute_command("XGROUP", "CREATE", "jobs", "workers", "0", "MAXDELIVERIES", args.max_deliveries,
                              "DEADLETTER", "jobs:dead")
        else:
            c.xgroup_create("jobs", "workers", "0")
            sha = c.script_load(REAPER)
        acked = set()
        cpu0, t0 = cpu_seconds(srv.proc.pid), time.time()
        if form == "builtin":
            calls = worker_builtin(c, acked)
        else:
            calls = worker_script(c, sha, args.max_deliveries, acked)
        cpu, wall = cpu_seconds(srv.proc.pid) - cpu0, time.time() - t0
        poison = args.messages // poison_every
        assert c.xlen("jobs:dead") == poison, (c.xlen("jobs:dead"), poison)
        assert c.xpending("jobs", "workers")["pending"] == 0
        assert len(acked) == args.messages - poison
        dead = c.xrange("jobs:dead", count=1)[0][1]
        assert dead[b"dlq-deliveries"] == str(args.max_deliveries).encode(), dead
        return cpu, wall, calls
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_paths(ap)
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--poison-pct", type=float, default=1.0)
    ap.add_argument("--max-deliveries", type=int, default=3)
    args = ap.parse_args()
    rows = [("runnel", "builtin"), ("runnel", "script"), ("redis", "script"), ("redis", "script"),
            ("runnel", "script"), ("runnel", "builtin")]
    best = {}
    for side, form in rows:
        cpu, wall, calls = run(side, args.runnel if side == "runnel" else args.redis, form, args)
        log(f"{side:7} {form:8} cpu {cpu:.3f} s  wall {wall:.2f} s  calls {calls}")
        key = (side, form)
        if key not in best or cpu < best[key][0]:
            best[key] = (cpu, wall, calls)
    print(f"{args.messages} messages, {args.poison_pct}% poison, max {args.max_deliveries} deliveries; "
          "best of two runs each")
    print("| server | dead-lettering | server CPU per message | worker calls | wall time |")
    print("|---|---|---|---|---|")
    names = {"builtin": "built-in (MAXDELIVERIES / DEADLETTER)", "script": "Lua around XAUTOCLAIM"}
    for key in [("redis", "script"), ("runnel", "script"), ("runnel", "builtin")]:
        cpu, wall, calls = best[key]
        print(f"| {key[0]} | {names[key[1]]} | {cpu / args.messages * 1e6:.2f} µs | {calls} | {wall:.2f} s |")


if __name__ == "__main__":
    main()
