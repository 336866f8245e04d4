"""Streams under the AOF: what stream commands log reproduces the same state
on replay — concrete IDs for XADD `*`, exact trims for `~`, consumer-group
effects (deliveries, claims, last-delivered IDs, entries-read, consumers)
as XCLAIM / XGROUP SETID / XGROUP CREATECONSUMER / XACK — and an AOF rewrite
rebuilds every stream with its counters, groups, consumers and PELs.

A random workload runs, then a full dump of every stream (entries, XINFO
STREAM FULL, XINFO GROUPS / CONSUMERS, XPENDING) is compared before and
after a restart that replays the incremental file, and after BGREWRITEAOF
and a restart. Idle times and consumers' seen/active times depend on when
the check runs and are left out."""
import glob
import os
import random
import signal
import threading
import time

import pytest
import redis

from conftest import RunnelProcess
from test_aof import aof_dir, restart

KEYS = ["s0", "s1", "s2"]
GROUPS = ["g0", "g1", "g2"]
CONSUMERS = ["alice", "bob", "carol", "dave"]


def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def parse_id(raw_id):
    ms, seq = raw_id.decode().split("-")
    return int(ms), int(seq)


def dump_stream(raw, key, layout):
    """Everything observable about a stream that does not depend on the
    clock at the time of the check."""
    full = pairs(raw.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"))
    if not layout:  # a rewrite packs entries into blocks anew
        full.pop("radix-tree-keys")
        full.pop("radix-tree-nodes")
    groups = []
    for g in full.pop("groups"):
        g = pairs(g)
        consumers = []
        for c in g.pop("consumers"):
            c = pairs(c)
            c.pop("seen-time")
            c.pop("active-time")
            consumers.append(c)
        g["consumers"] = consumers
        name = g["name"]
        g["xpending"] = raw.call("XPENDING", key, name)
        g["xpending-all"] = [p[:2] + p[3:] for p in raw.call("XPENDING", key, name, "-", "+", "1000000")]
        g["xinfo-consumers"] = []
        for c in raw.call("XINFO", "CONSUMERS", key, name):
            c = pairs(c)
            pending = raw.call("XPENDING", key, name, "-", "+", "1000000", c["name"])
            g["xinfo-consumers"].append(
                {"name": c["name"], "pending": c["pending"], "xpending": [p[:2] + p[3:] for p in pending]}
            )
        groups.append(g)
    full["groups"] = groups
    full["xinfo-groups"] = [pairs(g) for g in raw.call("XINFO", "GROUPS", key)]
    full["xrange"] = raw.call("XRANGE", key, "-", "+")
    full["xlen"] = raw.call("XLEN", key)
    return full


def dump(srv, layout=True):
    raw = srv.raw()
    try:
        out = {}
        for key in sorted(raw.call("KEYS", "*")):
            kind = raw.call("TYPE", key)
            out[key] = dump_stream(raw, key, layout) if kind == "stream" else kind
        return out
    finally:
        raw.close()


def assert_same(before, after):
    assert sorted(before) == sorted(after)
    for key in before:
        b, a = before[key], after[key]
        if b == a:
            continue
        for field in b:
            assert b[field] == a.get(field), "%s: %s differs:\nbefore %r\nafter  %r" % (
                key, field, b[field], a.get(field))
        assert b == a


def wait_rewrite(c):
    deadline = time.time() + 20
    while time.time() < deadline:
        info = c.info("persistence")
        if not info["aof_rewrite_in_progress"] and info["aof_rewrites"] >= 1:
            assert info["aof_last_bgrewrite_status"] == "ok"
            return
        time.sleep(0.05)
    raise AssertionError("rewrite did not finish")


def incr_log(srv):
    return b"".join(open(p, "rb").read() for p in sorted(glob.glob(os.path.join(aof_dir(srv), "*.incr.aof"))))


def blocked_clients(c):
    return c.info("clients")["blocked_clients"]


@pytest.fixture
def aof_server():
    servers = []

    def make(*args):
        srv = RunnelProcess("--appendonly", "yes", *args)
        servers.append(srv)
        return srv

    yield make, servers
    for s in servers:
        s.stop()


class Workload:
    """Random stream and consumer-group commands; errors (BUSYGROUP,
    NOGROUP, IDs too small...) are part of the mix and change nothing."""

    def __init__(self, srv, seed):
        self.srv = srv
        self.c = srv.client()
        self.raw = srv.raw()
        self.rng = random.Random(seed)
        self.ids = {k: [] for k in KEYS}
        self.ops = [
            (self.xadd_auto, 14), (self.xadd_explicit, 5), (self.xdel, 3), (self.xtrim, 4),
            (self.xgroup_create, 3), (self.xgroup_setid, 2), (self.xgroup_createconsumer, 2),
            (self.xgroup_delconsumer, 1), (self.xgroup_destroy, 0.3), (self.xreadgroup, 10),
            (self.xreadgroup_history, 3), (self.xack, 5), (self.xclaim, 4), (self.xautoclaim, 3),
            (self.xsetid, 0.5), (self.blocked_xreadgroup, 1), (self.xdelex, 2), (self.xackdel, 2),
            (self.xnack, 3), (self.xreadgroup_claim, 4),
        ]

    def close(self):
        self.raw.close()
        self.c.close()

    def run(self, steps):
        funcs, weights = zip(*self.ops)
        for _ in range(steps):
            op = self.rng.choices(funcs, weights)[0]
            try:
                op()
            except redis.ResponseError:
                pass

    # -- helpers --

    def cmd(self, *args):
        reply = self.raw.call(*args)
        if isinstance(reply, tuple) and reply[0] == "error":
            raise redis.ResponseError(reply[1])
        return reply

    def key(self):
        return self.rng.choice(KEYS)

    def some_id(self, key):
        known = self.ids[key]
        if not known or self.rng.random() < 0.05:
            return "0-1"
        return self.rng.choice(known)

    def last_id(self, key):
        reply = self.raw.call("XINFO", "STREAM", key)
        if isinstance(reply, tuple):
            return 0, 0
        return parse_id(pairs(reply)["last-generated-id"])

    def fields(self):
        return [x for i in range(self.rng.randint(1, 3)) for x in ("f%d" % i, "v%d" % self.rng.randint(0, 999))]

    def pending(self, key, group):
        try:
            return [p[0] for p in self.raw.call("XPENDING", key, group, "-", "+", "1000")]
        except TypeError:
            return []

    def trim_args(self, key):
        roll = self.rng.random()
        if roll < 0.5:
            args = ["MAXLEN", "~", self.rng.randint(0, 150)]
            if self.rng.random() < 0.3:
                args += ["LIMIT", self.rng.randint(1, 200)]
        elif roll < 0.7:
            args = ["MAXLEN", self.rng.randint(20, 200)]
        else:
            args = ["MINID", self.rng.choice(["~", "="]), self.some_id(key)]
        return args + self.policy()

    def policy(self):
        """A reference policy (Redis 8.2), or none."""
        return self.rng.choice([[], [], ["KEEPREF"], ["DELREF"], ["ACKED"]])

    # -- operations --

    def xadd_auto(self):
        key = self.key()
        args = ["XADD", key]
        if self.rng.random() < 0.1:
            args.append("NOMKSTREAM")
        if self.rng.random() < 0.3:
            args += self.trim_args(key)
        args.append("*")
        reply = self.cmd(*args, *self.fields())
        if reply is not None:
            self.ids[key].append(reply.decode())

    def xadd_explicit(self):
        key = self.key()
        ms, seq = self.last_id(key)
        roll = self.rng.random()
        if roll < 0.4:
            new = "%d-*" % (ms + self.rng.randint(0, 2))
        elif roll < 0.8:
            new = "%d-%d" % (ms, seq + self.rng.randint(1, 3))
        else:
            new = "%d-%d" % (ms + self.rng.randint(1, 5), self.rng.randint(0, 3))
        args = ["XADD", key]
        if self.rng.random() < 0.2:
            args += self.trim_args(key)
        reply = self.cmd(*args, new, *self.fields())
        self.ids[key].append(reply.decode())

    def xdel(self):
        key = self.key()
        self.cmd("XDEL", key, *[self.some_id(key) for _ in range(self.rng.randint(1, 3))])

    def xdelex(self):
        key = self.key()
        some = [self.some_id(key) for _ in range(self.rng.randint(1, 3))]
        self.cmd("XDELEX", key, *self.policy(), "IDS", len(some), *some)

    def xackdel(self):
        key, group = self.key(), self.rng.choice(GROUPS)
        pend = self.pending(key, group)
        some = ([self.rng.choice(pend)] if pend else []) + [self.some_id(key)]
        self.cmd("XACKDEL", key, group, *self.policy(), "IDS", len(some), *some)

    def xtrim(self):
        key = self.key()
        self.cmd("XTRIM", key, *self.trim_args(key))

    def xgroup_create(self):
        key = self.key()
        start = self.rng.choice(["$", "0", self.some_id(key)])
        args = ["XGROUP", "CREATE", key, self.rng.choice(GROUPS), start]
        if self.rng.random() < 0.5:
            args.append("MKSTREAM")
        if self.rng.random() < 0.2:
            args += ["ENTRIESREAD", self.rng.randint(0, 20)]
        self.cmd(*args)

    def xgroup_setid(self):
        key = self.key()
        args = ["XGROUP", "SETID", key, self.rng.choice(GROUPS), self.rng.choice(["$", "0", self.some_id(key)])]
        if self.rng.random() < 0.4:
            args += ["ENTRIESREAD", self.rng.choice([-1, self.rng.randint(0, 50)])]
        self.cmd(*args)

    def xgroup_createconsumer(self):
        self.cmd("XGROUP", "CREATECONSUMER", self.key(), self.rng.choice(GROUPS), self.rng.choice(CONSUMERS))

    def xgroup_delconsumer(self):
        self.cmd("XGROUP", "DELCONSUMER", self.key(), self.rng.choice(GROUPS), self.rng.choice(CONSUMERS))

    def xgroup_destroy(self):
        self.cmd("XGROUP", "DESTROY", self.key(), self.rng.choice(GROUPS))

    def xreadgroup(self):
        keys = self.rng.sample(KEYS, self.rng.choice([1, 1, 2]))
        args = ["XREADGROUP", "GROUP", self.rng.choice(GROUPS), self.rng.choice(CONSUMERS)]
        if self.rng.random() < 0.7:
            args += ["COUNT", self.rng.randint(1, 5)]
        if self.rng.random() < 0.2:
            args.append("NOACK")
        self.cmd(*args, "STREAMS", *keys, *([">"] * len(keys)))

    def xreadgroup_claim(self):
        key = self.key()
        args = ["XREADGROUP", "GROUP", self.rng.choice(GROUPS), self.rng.choice(CONSUMERS)]
        if self.rng.random() < 0.7:
            args += ["COUNT", self.rng.randint(1, 5)]
        if self.rng.random() < 0.2:
            args.append("NOACK")
        self.cmd(*args, "CLAIM", self.rng.choice([0, 5, 100000]), "STREAMS", key, ">")

    def xnack(self):
        key, group = self.key(), self.rng.choice(GROUPS)
        pend = self.pending(key, group)
        some = self.rng.sample(pend, min(len(pend), self.rng.randint(1, 3))) + [self.some_id(key)]
        args = ["XNACK", key, group, self.rng.choice(["SILENT", "FAIL", "FATAL"]), "IDS", len(some), *some]
        if self.rng.random() < 0.3:
            args += ["RETRYCOUNT", self.rng.randint(0, 9)]
        if self.rng.random() < 0.3:
            args.append("FORCE")
        self.cmd(*args)

    def xreadgroup_history(self):
        key = self.key()
        args = ["XREADGROUP", "GROUP", self.rng.choice(GROUPS), self.rng.choice(CONSUMERS)]
        if self.rng.random() < 0.5:
            args += ["COUNT", self.rng.randint(1, 5)]
        self.cmd(*args, "STREAMS", key, self.rng.choice(["0", self.some_id(key)]))

    def xack(self):
        key, group = self.key(), self.rng.choice(GROUPS)
        pending = self.pending(key, group)
        if pending:
            self.cmd("XACK", key, group, *self.rng.sample(pending, min(len(pending), self.rng.randint(1, 4))))

    def xclaim(self):
        key, group = self.key(), self.rng.choice(GROUPS)
        pending = self.pending(key, group)
        ids = self.rng.sample(pending, min(len(pending), self.rng.randint(1, 3))) if pending else []
        if not ids or self.rng.random() < 0.2:
            ids.append(self.some_id(key))
        args = ["XCLAIM", key, group, self.rng.choice(CONSUMERS), self.rng.choice([0, 0, 5, 100000]), *ids]
        roll = self.rng.random()
        if roll < 0.25:
            args += ["IDLE", self.rng.randint(0, 100000)]
        elif roll < 0.5:
            args += ["TIME", int(time.time() * 1000) - self.rng.randint(0, 100000)]
        if self.rng.random() < 0.3:
            args += ["RETRYCOUNT", self.rng.randint(0, 9)]
        if self.rng.random() < 0.3:
            args.append("FORCE")
        if self.rng.random() < 0.4:
            args.append("JUSTID")
        if self.rng.random() < 0.15:
            ms, seq = self.last_id(key)
            args += ["LASTID", "%d-%d" % (ms, seq)]
        self.cmd(*args)

    def xautoclaim(self):
        key = self.key()
        args = ["XAUTOCLAIM", key, self.rng.choice(GROUPS), self.rng.choice(CONSUMERS), self.rng.choice([0, 0, 10]),
                self.rng.choice(["0", "-", self.some_id(key)])]
        if self.rng.random() < 0.5:
            args += ["COUNT", self.rng.randint(1, 10)]
        if self.rng.random() < 0.4:
            args.append("JUSTID")
        self.cmd(*args)

    def xsetid(self):
        key = self.key()
        ms, seq = self.last_id(key)
        args = ["XSETID", key, "%d-%d" % (ms + self.rng.randint(0, 3), seq + self.rng.randint(0, 3))]
        if self.rng.random() < 0.5:
            info = self.raw.call("XINFO", "STREAM", key)
            if isinstance(info, list):
                args += ["ENTRIESADDED", pairs(info)["entries-added"] + self.rng.randint(0, 5)]
        self.cmd(*args)

    def blocked_xreadgroup(self):
        """A reader blocks on a group with nothing new; a later XADD serves it
        (the serve runs with no request arguments of its own)."""
        key, group = self.key(), "gb"
        try:
            self.cmd("XGROUP", "CREATE", key, group, "$", "MKSTREAM")
        except redis.ResponseError:
            self.cmd("XGROUP", "SETID", key, group, "$")
        waiter = self.srv.raw()
        try:
            before = blocked_clients(self.c)
            args = ["XREADGROUP", "GROUP", group, self.rng.choice(CONSUMERS), "BLOCK", "0"]
            if self.rng.random() < 0.3:
                args.append("NOACK")
            waiter.command(*args, "STREAMS", key, ">")
            deadline = time.time() + 5
            while blocked_clients(self.c) <= before:
                assert time.time() < deadline, "the reader did not block"
                time.sleep(0.005)
            reply = self.cmd("XADD", key, "*", *self.fields())
            self.ids[key].append(reply.decode())
            served = waiter.read_reply()
            assert served[0][0] == key.encode()
            assert served[0][1][0][0] == reply
        finally:
            waiter.close()


def run_workload(srv, seed, steps):
    w = Workload(srv, seed)
    try:
        w.run(steps)
    finally:
        w.close()


def without_layout(d):
    """A dump without what depends on how entries are packed into blocks."""
    out = {}
    for k, v in d.items():
        out[k] = {f: x for f, x in v.items() if f not in ("radix-tree-keys", "radix-tree-nodes")} if isinstance(
            v, dict) else v
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_workload_survives_replay_and_rewrite(aof_server, seed):
    make, servers = aof_server
    node = ("--stream-node-max-entries", "8")
    srv = make(*node)
    run_workload(srv, seed, 1500)
    before = dump(srv)
    digest = srv.client().execute_command("DEBUG", "DIGEST")
    assert any(isinstance(v, dict) and v["groups"] for v in before.values())

    # (a) replaying the incremental file: even the block layout comes back
    srv = restart(srv, *node)
    servers.append(srv)
    assert_same(before, dump(srv))
    assert srv.client().execute_command("DEBUG", "DIGEST") == digest

    # (b) a rewritten base alone
    c = srv.client()
    c.bgrewriteaof()
    wait_rewrite(c)
    srv = restart(srv, *node)
    servers.append(srv)
    assert_same(without_layout(before), dump(srv, layout=False))
    assert srv.client().execute_command("DEBUG", "DIGEST") == digest

    # (c) a rewrite in the middle of a run: the server goes on with blocks
    # (and tombstones) the new base does not have, so `~` trims logged after
    # it must not depend on them
    run_workload(srv, seed + 100, 700)
    c = srv.client()
    c.bgrewriteaof()
    run_workload(srv, seed + 200, 700)
    wait_rewrite(c)
    run_workload(srv, seed + 300, 700)
    before = dump(srv, layout=False)
    digest = srv.client().execute_command("DEBUG", "DIGEST")
    srv = restart(srv, *node)
    servers.append(srv)
    assert_same(before, dump(srv, layout=False))
    assert srv.client().execute_command("DEBUG", "DIGEST") == digest


def test_logged_forms_are_concrete(aof_server):
    make, servers = aof_server
    srv = make("--stream-node-max-entries", "4")
    c = srv.client()
    for i in range(30):
        c.xadd("s", {"i": i}, maxlen=10, approximate=True)
    c.xtrim("s", maxlen=3, approximate=True)
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=2)
    c.xreadgroup("g", "bob", {"s": ">"}, count=1, noack=True)
    c.xclaim("s", "g", "carol", 0, [c.xpending_range("s", "g", "-", "+", 1)[0]["message_id"]], idle=5000)
    c.xautoclaim("s", "g", "dave", 0)
    data = incr_log(srv)
    assert b"\r\n*\r\n" not in data and b"\r\n~\r\n" not in data
    assert b"LIMIT" not in data
    assert b"XREADGROUP" not in data.upper() and b"XAUTOCLAIM" not in data.upper()
    assert b"ENTRIESREAD" in data and b"CREATECONSUMER" in data and b"RETRYCOUNT" in data
    before = dump(srv)
    srv = restart(srv, "--stream-node-max-entries", "4")
    servers.append(srv)
    assert_same(before, dump(srv))


def test_empty_stream_keeps_last_id_counters_and_groups_through_rewrite(aof_server):
    make, servers = aof_server
    srv = make()
    c = srv.client()
    ids = [c.xadd("s", {"f": i}) for i in range(5)]
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=3)
    c.xgroup_create("s", "late", "$", entries_read=5)
    c.xgroup_createconsumer("s", "late", "idle-consumer")
    c.xdel("s", *ids)
    c.xgroup_create("e", "g", "$", mkstream=True)  # never had an entry
    before = dump(srv, layout=False)
    info = before[b"s"]
    assert info["length"] == 0 and info["last-generated-id"] == ids[-1]
    assert info["max-deleted-entry-id"] == ids[-1] and info["entries-added"] == 5
    # entries deleted after delivery stay pending
    assert [p[0] for p in info["groups"][0]["pending"]] == ids[:3]
    c.bgrewriteaof()
    wait_rewrite(c)
    srv = restart(srv)
    servers.append(srv)
    assert_same(before, dump(srv, layout=False))
    assert srv.client().xadd("s", {"f": "new"}, id="*") > ids[-1]


def test_pending_entries_of_trimmed_and_deleted_entries_survive_rewrite(aof_server):
    make, servers = aof_server
    srv = make("--stream-node-max-entries", "5")
    c = srv.client()
    ids = [c.xadd("s", {"f": i}, id="%d-1" % (i + 1)) for i in range(40)]
    c.xgroup_create("s", "g", "0")
    c.xgroup_create("s", "h", "0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=20)
    c.xreadgroup("h", "bob", {"s": ">"}, count=35)
    c.xclaim("s", "g", "carol", 0, ids[5:8], retrycount=7, idle=123456)
    c.xtrim("s", minid=ids[10])  # 1..10 pending in both groups, gone from the stream
    c.xdel("s", ids[15], ids[30])  # deleted: pending in one or both groups
    c.xadd("s", {"f": "x"}, id="100-1")
    before = dump(srv, layout=False)
    info = before[b"s"]
    assert info["recorded-first-entry-id"] == ids[10]
    assert info["max-deleted-entry-id"] == ids[30]
    c.bgrewriteaof()
    wait_rewrite(c)
    srv = restart(srv, "--stream-node-max-entries", "5")
    servers.append(srv)
    assert_same(before, dump(srv, layout=False))


def test_history_reads_keep_delivery_counts(aof_server):
    make, servers = aof_server
    srv = make()
    c = srv.client()
    c.xadd("s", {"f": 1}, id="1-1")
    c.xadd("s", {"f": 2}, id="2-1")
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "alice", {"s": ">"})
    for _ in range(3):
        c.xreadgroup("g", "alice", {"s": "0"})
    pending = c.xpending_range("s", "g", "-", "+", 10)
    assert [p["times_delivered"] for p in pending] == [4, 4]
    before = dump(srv)
    srv = restart(srv)
    servers.append(srv)
    assert_same(before, dump(srv))


# ---- kill -9 under load ----

def producer(port, stop, acked, tag):
    c = redis.Redis(port=port, socket_timeout=5)
    i = 0
    try:
        while not stop.is_set():
            acked.append(c.xadd("jobs", {"p": tag, "i": i}))
            i += 1
    except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
        pass


def consumer(port, stop, delivered, acked, tried, name):
    """Reads batches and acknowledges each one after reading the next, so
    that some deliveries are still unacknowledged when the server dies."""
    c = redis.Redis(port=port, socket_timeout=5)
    previous = []
    try:
        while not stop.is_set():
            reply = c.xreadgroup("workers", name, {"jobs": ">"}, count=10, block=100)
            got = [e[0] for e in reply[0][1]] if reply else []
            delivered.extend(got)
            if previous:
                tried.extend(previous)
                c.xack("jobs", "workers", *previous)
                acked.extend(previous)
            previous = got
    except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
        pass


def test_kill_9_under_load_keeps_acknowledged_xadds_and_xacks(aof_server):
    make, servers = aof_server
    srv = make("--appendfsync", "always")
    c = srv.client()
    c.xgroup_create("jobs", "workers", "$", mkstream=True)
    stop = threading.Event()
    added = [[], []]
    delivered, acked, tried = [[], []], [[], []], [[], []]
    threads = [threading.Thread(target=producer, args=(srv.port, stop, added[i], "p%d" % i)) for i in range(2)]
    threads += [threading.Thread(target=consumer, args=(srv.port, stop, delivered[i], acked[i], tried[i],
                                                        "c%d" % i)) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join(10)
    srv = restart(srv)
    servers.append(srv)
    c = srv.client()
    present = set(e[0] for e in c.xrange("jobs"))
    for i in range(2):
        missing = [x for x in added[i] if x not in present]
        assert not missing, "acknowledged XADDs lost: %s" % missing[:5]
    pending = {p["message_id"]: p["consumer"] for p in c.xpending_range("jobs", "workers", "-", "+", 10 ** 6)}
    for i in range(2):
        unacked = [x for x in acked[i] if x in pending]
        assert not unacked, "acknowledged XACKs undone: %s" % unacked[:5]
        # a delivery the consumer saw stays pending for it unless it sent an XACK
        tried_set = set(tried[i])
        lost = [x for x in delivered[i] if x not in tried_set and pending.get(x) != b"c%d" % i]
        assert not lost, "acknowledged deliveries lost from the PEL: %s" % lost[:5]
    last = c.xinfo_groups("jobs")[0]["last-delivered-id"]
    seen = [x for d in delivered for x in d]
    assert not seen or parse_id(last) >= max(parse_id(x) for x in seen)
    assert sum(len(a) for a in added) > 100 and sum(len(a) for a in acked) > 50
