#!/usr/bin/python3
"""bench/cluster.py: a three-primary cluster next to one node, Runnel and
Redis side by side, and the pause clients see while a slot moves.

For each side (Runnel, Redis, Redis, Runnel; each keeps its best):
  throughput  redis-benchmark -c 50 -P 32 -n N -t set,get against one node,
              then with --cluster against three primaries built with
              redis-cli --cluster create (Runnel's topology in an etcd the
              script starts on loopback).
  slot move   K keys in slot 7092 ({apple}:<i>, 100 bytes each); a client
              loops SET/GET on them through redis-py's RedisCluster while
              redis-cli --cluster reshard moves the slot (pipeline 10): the
              move's duration, the client's p99 and max latency during it.
              On Runnel the slot then moves back with CLUSTER MIGRATESLOTS
              (atomic slot migration), measured the same way.

Usage: bench/cluster.py [--runnel PATH] [--redis PATH] [-n N] [-k K]
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time

import redis
from redis.cluster import RedisCluster

from servers import ORDER, free_port, ping, add_server_paths



def cluster_port():
    """A free port whose bus port (port + 10000, which Redis Cluster opens)
    is also free and valid."""
    import socket
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


def start(cmd, cwd):
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def start_etcd(work):
    """A single-member etcd on loopback, its data in `work`: (process, client URL)."""
    port, peer = cluster_port(), cluster_port()
    url = f"http://127.0.0.1:{port}"
    proc = start(["etcd", "--data-dir", os.path.join(work, "etcd"), "--listen-client-urls", url,
                  "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                  "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                  "--initial-cluster", f"default=http://127.0.0.1:{peer}"], work)
    time.sleep(2)
    return proc, url


class Nodes:
    def __init__(self, side, path, count, workdir, etcd_url=None):
        self.procs, self.ports = [], []
        name = f"b{free_port()}"  # this cluster's own prefix in the shared etcd
        for i in range(count):
            port = cluster_port()
            d = tempfile.mkdtemp(prefix=f"{side}-{port}-", dir=workdir)
            args = [path, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", d]
            if count > 1:
                args += ["--cluster-enabled", "yes"]
                if side == "runnel":
                    args += ["--cluster-etcd-endpoints", etcd_url, "--cluster-name", name]
            self.procs.append(start(args, d))
            self.ports.append(port)
        for p in self.ports:
            deadline = time.time() + 10
            while not ping(p) and time.time() < deadline:
                time.sleep(0.05)
        if count > 1:
            out = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
                                  "--cluster-yes"], capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise RuntimeError(f"{side}: cluster create failed: {out.stdout[-1500:]}{out.stderr[-500:]}")
            time.sleep(1)

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


def benchmark(port, n, cluster):
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-P", "32", "-n", str(n), "-q",
            "-t", "set,get", "-r", "100000"] + (["--cluster"] if cluster else [])
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300).stdout
    rates = {}
    for line in out.replace("\r", "\n").split("\n"):
        if "requests per second" in line:
            name = line.split(":")[0].strip()
            rates[name] = float(line.split(":")[1].split()[0])
    return rates


def fill_slot(nodes, keys):
    rc = RedisCluster(host="127.0.0.1", port=nodes.ports[0])
    pipe = rc.pipeline()
    for i in range(keys):
        pipe.set(f"{{apple}}:{i}", "x" * 100)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    rc.close()


def slot_owner(nodes, slot=7092):
    slots = redis.Redis(port=nodes.ports[0]).execute_command("CLUSTER", "SLOTS")
    return next(e for e in slots if e[0] <= slot <= e[1])[2][1]


def reshard_move(src_port, dst_port, ports):
    """What redis-cli --cluster reshard does for each slot, for slot 7092 alone."""
    src, dst = redis.Redis(port=src_port), redis.Redis(port=dst_port)
    src_id = src.execute_command("CLUSTER", "MYID").decode()
    dst_id = dst.execute_command("CLUSTER", "MYID").decode()
    dst.execute_command("CLUSTER", "SETSLOT", 7092, "IMPORTING", src_id)
    src.execute_command("CLUSTER", "SETSLOT", 7092, "MIGRATING", dst_id)
    while src.execute_command("CLUSTER", "COUNTKEYSINSLOT", 7092):
        ks = src.execute_command("CLUSTER", "GETKEYSINSLOT", 7092, 10)
        src.execute_command("MIGRATE", "127.0.0.1", dst_port, "", 0, 5000, "KEYS", *ks)
    for p in ports:
        redis.Redis(port=p).execute_command("CLUSTER", "SETSLOT", 7092, "NODE", dst_id)


def atomic_move(src_port, dst_port, ports):
    """CLUSTER MIGRATESLOTS, polled until the source reports the job done."""
    src = redis.Redis(port=src_port)
    dst_id = redis.Redis(port=dst_port).execute_command("CLUSTER", "MYID").decode()
    src.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", 7092, 7092, "NODE", dst_id)
    while True:
        job = dict(zip(*[iter(src.execute_command("CLUSTER", "GETSLOTMIGRATIONS")[0])] * 2))
        if job[b"state"] in (b"success", b"failed", b"cancelled"):
            assert job[b"state"] == b"success", job
            return
        time.sleep(0.001)


def timed_move(nodes, keys, mover):
    """Moves slot 7092 with `mover` while a redis-py RedisCluster client
    loops SET + GET on its keys; the move's time and the pairs' latency."""
    owner = slot_owner(nodes)
    target = next(p for p in nodes.ports if p != owner)
    latencies, errors, stop = [], [], threading.Event()

    def client():
        """SET then GET, timed together; an error (redis-py gave up on a
        redirect) is counted and the pair is retried, inside its timing."""
        c = RedisCluster(host="127.0.0.1", port=target)
        i = 0
        while not stop.is_set():
            t = time.monotonic()
            while True:
                try:
                    c.set(f"{{apple}}:{i % keys}", "y" * 100)
                    c.get(f"{{apple}}:{(i * 7) % keys}")
                    break
                except redis.RedisError as e:
                    errors.append(repr(e))
            latencies.append(time.monotonic() - t)
            i += 1

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.3)
    before = len(latencies)
    started = time.monotonic()
    mover(owner, target, nodes.ports)
    took = time.monotonic() - started
    during = sorted(latencies[before:])
    stop.set()
    t.join()
    p99 = during[int(len(during) * 0.99)] if during else 0
    if errors:
        print(f"  client errors during the move: {len(errors)}, first {errors[0]}", flush=True)
    return {"move_s": took, "p99_ms": p99 * 1000, "max_ms": (during[-1] if during else 0) * 1000,
            "ops": len(during), "client_errors": len(errors)}


def main():
    ap = argparse.ArgumentParser()
    add_server_paths(ap)
    ap.add_argument("-n", type=int, default=2000000)
    ap.add_argument("-k", type=int, default=100000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-cluster-")
    etcd, etcd_url = start_etcd(work)
    best = {}
    try:
        for side in ORDER:
            path = args.runnel if side == "runnel" else args.redis
            one = Nodes(side, path, 1, work)
            single = benchmark(one.ports[0], args.n, False)
            one.stop()
            three = Nodes(side, path, 3, work, etcd_url)
            multi = benchmark(three.ports[0], args.n, True)
            fill_slot(three, args.k)
            move = timed_move(three, args.k, reshard_move)
            # Runnel only: the same slot moved back with CLUSTER MIGRATESLOTS
            atomic = timed_move(three, args.k, atomic_move) if side == "runnel" else {}
            three.stop()
            r = {"SET 1 node": single.get("SET", 0), "GET 1 node": single.get("GET", 0),
                 "SET 3 primaries": multi.get("SET", 0), "GET 3 primaries": multi.get("GET", 0), **move,
                 **{"atomic " + k: v for k, v in atomic.items()}}
            print(side, r, flush=True)
            b = best.setdefault(side, r)
            for k, v in r.items():
                b[k] = max(b[k], v) if "node" in k or "primaries" in k or k.endswith("ops") else min(b[k], v)
    finally:
        etcd.terminate()
        etcd.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("\n| figure | Runnel | Redis | Runnel/Redis |\n|---|---|---|---|")
    for k in best["runnel"]:
        a, b = best["runnel"][k], best["redis"].get(k, 0)
        print(f"| {k} | {a:,.2f} | {b:,.2f} | {a / b if b else float('nan'):.2f} |")


if __name__ == "__main__":
    main()
