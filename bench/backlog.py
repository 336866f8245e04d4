#!/usr/bin/python3
"""bench/backlog.py: does an operation cost more when the queue is long?

Runnel and redis-server run side by side, each holding a list and a stream
with SMALL (1,000) and with LARGE (10,000,000 by default) messages waiting.
redis-benchmark -c 50 -P 1 then runs, against each backlog:
  a producer and a consumer step in one script (the same on both servers),
  so the backlog stays as it is: LPUSH then RPOP on the list; XADD, then
  XREADGROUP COUNT 1 and the XACK of what it read, from a group that has
  the whole backlog still to read; and XRANGE and XREVRANGE of 10 entries
  from the middle of the stream.
Rows alternate runnel, redis, redis, runnel; each side keeps its best rate
and its lowest server CPU per request (utime+stime from /proc/<pid>/stat).
The last table gives each server's cost with LARGE over its cost with SMALL.

Usage: bench/backlog.py [--runnel PATH] [--redis PATH] [--large N] [--seconds S]
"""

import argparse
import hashlib
import subprocess

from servers import ORDER, ScratchServer, cpu_seconds, add_server_paths

SMALL = 1000
LIST_SCRIPT = "redis.call('LPUSH', KEYS[1], ARGV[1]) return redis.call('RPOP', KEYS[1])"
STREAM_SCRIPT = ("redis.call('XADD', KEYS[1], '*', 'f', ARGV[1]) "
                 "local r = redis.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', KEYS[1], '>') "
                 "return redis.call('XACK', KEYS[1], 'g', r[1][2][1][1])")
PAYLOAD = "x" * 64


def bench(port, n, *args):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-P", "1", "-n", str(n), "--csv", *args],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1].split(",")[1].strip('"'))


def prefill(port, count, *args):
    subprocess.run(["redis-benchmark", "-p", str(port), "-c", "4", "-P", "1000", "-n", str(count), *args],
                   capture_output=True, check=True)


def middle_id(client, key):
    """An ID with at least 10 entries on each side. A small stream may have
    been filled within a millisecond or two, so it is found by position;
    a large one by the middle of its time span (reading half of 10,000,000
    entries to count would take longer than the benchmark)."""
    length = client.xlen(key)
    if length <= 100_000:
        mid = client.execute_command("XRANGE", key, "-", "+", "COUNT", length // 2)[-1][0].decode()
    else:
        info = client.execute_command("XINFO", "STREAM", key)
        info = dict(zip(info[::2], info[1::2]))
        first = int(info[b"first-entry"][0].split(b"-")[0])
        last = int(info[b"last-entry"][0].split(b"-")[0])
        mid = client.execute_command("XRANGE", key, str((first + last) // 2), "+", "COUNT", 1)[0][0].decode()
    for command, end in (("XRANGE", "+"), ("XREVRANGE", "-")):
        got = client.execute_command(command, key, mid, end, "COUNT", 10)
        assert len(got) == 10, f"{command} from {mid} gives {len(got)} entries"
    return mid


def setup(srv, large):
    """Fills both backlogs; returns the rows: name -> redis-benchmark arguments per backlog."""
    srv.client.script_load(LIST_SCRIPT)
    srv.client.script_load(STREAM_SCRIPT)
    return fill_backlogs(srv.client, srv.port, large)


def script_sha(script):
    return hashlib.sha1(script.encode()).hexdigest()


def fill_backlogs(c, port, large):
    """Fills a list and a stream of SMALL and of `large` messages; returns the
    rows, (name, size) -> arguments, the scripts named by their SHA (the
    caller loads them)."""
    rows = {}
    list_sha, stream_sha = script_sha(LIST_SCRIPT), script_sha(STREAM_SCRIPT)
    for size in (SMALL, large):
        lkey, skey = f"bl:list:{size}", f"bl:stream:{size}"
        prefill(port, size, "RPUSH", lkey, PAYLOAD)
        prefill(port, size, "XADD", skey, "*", "f", PAYLOAD)
        c.xgroup_create(skey, "g", id="0")
        mid = middle_id(c, skey)
        rows[("LPUSH+RPOP", size)] = ["EVALSHA", list_sha, "1", lkey, PAYLOAD]
        rows[("XADD+XREADGROUP+XACK", size)] = ["EVALSHA", stream_sha, "1", skey, PAYLOAD]
        rows[("XRANGE mid 10", size)] = ["XRANGE", skey, mid, "+", "COUNT", "10"]
        rows[("XREVRANGE mid 10", size)] = ["XREVRANGE", skey, mid, "-", "COUNT", "10"]
    return rows


def measure(srv, args, seconds):
    probe = bench(srv.port, 2000, *args)
    n = max(2000, min(300000, int(probe * seconds)))
    before = cpu_seconds(srv.proc.pid)
    rate = bench(srv.port, n, *args)
    return rate, (cpu_seconds(srv.proc.pid) - before) / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("--large", type=int, default=10_000_000)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    servers, rows = {}, {}
    try:
        for side, path in (("runnel", args.runnel), ("redis", args.redis)):
            servers[side] = ScratchServer(side, path)
            rows[side] = setup(servers[side], args.large)
            print(f"{side}: filled, used_memory {servers[side].used_memory() / 2**20:.0f} MiB", flush=True)
        best = {}
        for name_size in rows["runnel"]:
            for side in ORDER:
                rate, cpu = measure(servers[side].server, rows[side][name_size], args.seconds)
                old = best.get((side,) + name_size, (0, float("inf")))
                best[(side,) + name_size] = (max(old[0], rate), min(old[1], cpu))
                print(f"  {side:6} {name_size[0]:22} backlog {name_size[1]:>10,} {rate:10.0f} req/s "
                      f"{cpu:7.2f} us/req", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    names = list(dict.fromkeys(n for n, _ in rows["runnel"]))
    print("\n| operation | backlog | Runnel req/s | Redis req/s | Runnel/Redis | Runnel CPU us/req | Redis CPU us/req |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        for size in (SMALL, args.large):
            a, b = best[("runnel", name, size)], best[("redis", name, size)]
            print(f"| {name} | {size:,} | {a[0]:,.0f} | {b[0]:,.0f} | {a[0] / b[0]:.2f} | {a[1]:.2f} | {b[1]:.2f} |")
    print(f"\n| operation | Runnel CPU {args.large:,} / {SMALL:,} | Redis CPU {args.large:,} / {SMALL:,} |")
    print("|---|---:|---:|")
    for name in names:
        ra = best[("runnel", name, args.large)][1] / best[("runnel", name, SMALL)][1]
        rb = best[("redis", name, args.large)][1] / best[("redis", name, SMALL)][1]
        print(f"| {name} | {ra:.2f}x | {rb:.2f}x |")


if __name__ == "__main__":
    main()
