#!/usr/bin/python3
"""Load time of one dataset from Redis's RDB file: redis-server 7.0.15 loading
its own file, Runnel loading that same file, and Runnel loading its own
snapshot of the same data. The dataset is made in redis-server by scripts
(strings, small hashes, lists, sorted sets, streams with a consumer group;
--scale 1 is about 100 MB of RDB) and saved once. Each server is started on
a copy of the file and timed from its start until it answers PING without
LOADING; its CPU (utime+stime from /proc) is read then. Runs alternate
Runnel-RDB, Redis, Redis, Runnel-RDB, Runnel-own, Runnel-own; each side's
best is reported.

Usage: bench/rdb_import.py [--scale N | --rdb FILE] [--keep FILE] [--runnel PATH] [--redis PATH]
(--rdb: time an existing RDB file instead of making one; --keep: copy the
made one there for later runs)"""
import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis

GEN = """
local kind, from, to = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = from, to do
  if kind == 'string' then
    redis.call('SET', 'str:' .. i, string.rep('v', 80) .. i)
  elseif kind == 'hash' then
    local args = {}
    for f = 1, 20 do args[#args + 1] = 'field' .. f; args[#args + 1] = 'value-' .. f .. '-' .. i end
    redis.call('HSET', 'hash:' .. i, unpack(args))
  elseif kind == 'list' then
    local args = {}
    for e = 1, 50 do args[#args + 1] = 'element-' .. e .. '-' .. i end
    redis.call('RPUSH', 'list:' .. i, unpack(args))
  elseif kind == 'zset' then
    local args = {}
    for m = 1, 50 do args[#args + 1] = m * 1.5; args[#args + 1] = 'member-' .. m .. '-' .. i end
    redis.call('ZADD', 'zset:' .. i, unpack(args))
  elseif kind == 'stream' then
    for e = 1, 1000 do redis.call('XADD', 'stream:' .. i, '*', 'job', 'payload-' .. e, 'n', e) end
    redis.call('XGROUP', 'CREATE', 'stream:' .. i, 'workers', '0')
    redis.call('XREADGROUP', 'GROUP', 'workers', 'w1', 'COUNT', 100, 'STREAMS', 'stream:' .. i, '>')
  end
end
return 1
"""

# keys of each kind per unit of --scale
KINDS = {"string": 300000, "hash": 40000, "list": 20000, "zset": 10000, "stream": 150}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(binary, directory, *extra):
    port = free_port()
    t0 = time.time()
    proc = subprocess.Popen([binary, "--port", str(port), "--dir", directory, "--save", "", "--appendonly", "no",
                             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = redis.Redis(port=port, socket_timeout=600)
    while True:
        try:
            c.ping()
            return proc, c, time.time() - t0, cpu_seconds(proc.pid)
        except (redis.ConnectionError, redis.BusyLoadingError):
            if proc.poll() is not None:
                raise RuntimeError(binary + " exited")
            time.sleep(0.01)


def stop(proc):
    proc.terminate()
    proc.wait()


def make_dataset(redis_bin, scale):
    d = tempfile.mkdtemp(prefix="rdb-import-")
    proc, c, _, _ = start(redis_bin, d)
    for kind, n in KINDS.items():
        total = n * scale
        step = 5000 if kind != "stream" else 10
        for i in range(1, total + 1, step):
            c.eval(GEN, 0, kind, i, min(i + step - 1, total))
    c.save()
    keys = c.dbsize()
    stop(proc)
    return os.path.join(d, "dump.rdb"), keys


def timed(binary, rdb, name="dump.rdb", keep=False):
    d = tempfile.mkdtemp(prefix="rdb-import-run-")
    shutil.copy(rdb, os.path.join(d, name))
    proc, c, wall, cpu = start(binary, d, "--dbfilename", name)
    keys = c.dbsize()
    own = None
    if keep:
        c.save()  # over the copy: Runnel's own format
        own = os.path.join(d, "own.rdb")
        os.rename(os.path.join(d, name), own)
    stop(proc)
    if not keep:
        shutil.rmtree(d)
    return wall, cpu, keys, own


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--runnel", default=os.path.join(os.path.dirname(__file__), "..", "build", "runnel-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rdb", help="an RDB file to time instead of making one")
    ap.add_argument("--keep", help="where to keep a copy of the made RDB file")
    a = ap.parse_args()
    if a.rdb:
        rdb, keys = a.rdb, None
    else:
        rdb, keys = make_dataset(a.redis, a.scale)
        if a.keep:
            shutil.copy(rdb, a.keep)
    print("dataset: %s keys, RDB file %.1f MB" % (keys, os.path.getsize(rdb) / 1e6))
    results = {"runnel-rdb": [], "redis": [], "runnel-own": []}
    own = None
    for side in ["runnel-rdb", "redis", "redis", "runnel-rdb"]:
        binary = a.redis if side == "redis" else a.runnel
        wall, cpu, n, saved = timed(binary, rdb, keep=own is None and side == "runnel-rdb")
        own = own or saved
        keys = keys or n
        assert n == keys, (side, n, keys)
        results[side].append((wall, cpu))
    print("Runnel's own snapshot: %.1f MB" % (os.path.getsize(own) / 1e6))
    for _ in range(2):
        wall, cpu, n, _ = timed(a.runnel, own)
        assert n == keys
        results["runnel-own"].append((wall, cpu))
    for side, runs in results.items():
        best = min(runs)
        print("%-11s best load %.2f s (CPU %.2f s); runs: %s" % (side, best[0], best[1],
                                                                ", ".join("%.2f" % w for w, _ in runs)))


if __name__ == "__main__":
    main()
