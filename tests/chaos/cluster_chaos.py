#!/usr/bin/python3
"""make chaos: a Runnel cluster under faults, checked for lost, duplicated
and reordered messages.

An etcd and six nodes (three primaries with a replica each,
cluster-node-timeout 2000) on loopback. A producer appends numbered entries
to a stream (XADD {chaos}:s * seq N) and waits for one replica (WAIT 1 500)
after each; an entry counts as confirmed when WAIT says a replica has it.
A list producer does the same with RPUSH {chaos}:l. Every few seconds one
fault: kill -9 of a primary (restarted from its files a few seconds later,
to rejoin as a replica), SIGSTOP of a primary for longer than the lease
(then SIGCONT), or kill -9 of a replica (restarted). At the end the stream
and the list are read from the slot's owner and compared with what was
confirmed: lost (confirmed, missing), duplicated (present twice: a retry
after an error whose write had in fact landed), reordered.

Usage: tests/chaos/cluster_chaos.py [--minutes M] [--seed S]
"""

import argparse
import os
import random
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

import redis  # noqa: E402
from redis.cluster import RedisCluster  # noqa: E402

from cluster_helpers import Etcd, create_cluster, owner_of, start_node, wait_until  # noqa: E402


class Producer(threading.Thread):
    def __init__(self, port, kind):
        super().__init__(daemon=True)
        self.port, self.kind = port, kind
        self.confirmed, self.attempted, self.errors = [], 0, 0
        self.stop = threading.Event()

    def client(self):
        while not self.stop.is_set():
            try:
                return RedisCluster(host="127.0.0.1", port=self.port, socket_timeout=1)
            except Exception:
                time.sleep(0.1)

    def run(self):
        rc = self.client()
        seq = 0
        while not self.stop.is_set():
            try:
                if self.kind == "stream":
                    rc.xadd("{chaos}:s", {"seq": seq})
                else:
                    rc.rpush("{chaos}:l", seq)
                node = rc.get_node_from_key("{chaos}:s")
                acked = rc.execute_command("WAIT", 1, 500, target_nodes=node)
                if acked >= 1:
                    self.confirmed.append(seq)
                seq += 1
            except Exception:
                self.errors += 1
                seq += 1  # the write may or may not have landed: a new number keeps it countable
                time.sleep(0.05)
                rc = self.client()
            self.attempted = seq


def fault(nodes, rng, log):
    primaries = [n for n in nodes if n.proc.poll() is None and n.client().info("replication")["role"] == "master"]
    replicas = [n for n in nodes if n.proc.poll() is None and n not in primaries]
    kind = rng.choice(["kill-primary", "stop-primary", "kill-replica"])
    if kind == "kill-replica" and not replicas:
        kind = "kill-primary"
    victim = rng.choice(primaries if kind != "kill-replica" else replicas)
    log(f"{kind} :{victim.port}")
    if kind == "stop-primary":
        os.kill(victim.proc.pid, signal.SIGSTOP)
        time.sleep(4)
        os.kill(victim.proc.pid, signal.SIGCONT)
        return
    os.kill(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait()
    time.sleep(4)
    return victim


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.time()
    log = lambda msg: print(f"[{time.time() - started:7.1f}s] {msg}", flush=True)
    log(f"seed {args.seed}, {args.minutes} minutes")
    etcd = Etcd()
    nodes = []
    try:
        nodes += [start_node(etcd, "chaos", "--appendonly", "yes") for _ in range(6)]
        ok = exercise(nodes, etcd, rng, args, started, log)
    finally:  # whatever happened, nothing is left running
        for n in nodes:
            n.stop()
        etcd.stop()
        shutil.rmtree(etcd.dir, ignore_errors=True)
    sys.exit(0 if ok else 1)


def exercise(nodes, etcd, rng, args, started, log):
    """The workload and the faults; True when nothing confirmed was lost or reordered."""
    create_cluster(nodes)
    producers = [Producer(nodes[0].port, "stream"), Producer(nodes[0].port, "list")]
    for p in producers:
        p.start()
    faults = 0
    try:
        while time.time() - started < args.minutes * 60:
            time.sleep(rng.uniform(2, 5))
            dead = fault(nodes, rng, log)
            faults += 1
            if dead:
                i = nodes.index(dead)
                nodes[i] = start_node(etcd, "chaos", "--appendonly", "yes", dir_=dead.dir)
                log(f"restarted :{nodes[i].port}")
    finally:
        for p in producers:
            p.stop.set()
        for p in producers:
            p.join(timeout=10)
    time.sleep(5)
    live = [n for n in nodes if n.proc.poll() is None]
    slot = int(live[0].client().execute_command("CLUSTER", "KEYSLOT", "{chaos}:s"))
    try:
        owner = wait_until(lambda: owner_of(live, slot), 60, "an owner of the slot")
    except AssertionError:
        for n in live:
            log(f":{n.port} {n.client().info('replication').get('role')}\n" +
                n.client().execute_command("CLUSTER", "NODES").decode())
        raise
    c = owner.client()
    stream = [int(e[1][b"seq"]) for e in c.xrange("{chaos}:s")]
    lst = [int(x) for x in c.lrange("{chaos}:l", 0, -1)]
    ok = True
    for name, present, producer in (("stream", stream, producers[0]), ("list", lst, producers[1])):
        seen, confirmed = set(present), set(producer.confirmed)
        lost = [s for s in producer.confirmed if s not in seen]
        dup = len(present) - len(seen)
        reordered = sum(1 for a, b in zip(present, present[1:]) if b < a)
        unconfirmed_lost = (producer.attempted - len(confirmed)) - sum(1 for s in seen if s not in confirmed)
        log(f"{name}: {producer.attempted} attempted, {len(producer.confirmed)} confirmed, {len(present)} present; "
            f"lost confirmed {len(lost)}, duplicated {dup}, reordered {reordered}, "
            f"unconfirmed not present {unconfirmed_lost}, client errors {producer.errors}")
        ok = ok and not lost and not reordered
    log(f"{faults} faults; {'PASS' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    main()
