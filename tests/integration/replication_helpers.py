"""Helpers for replication tests: servers started as primaries and
replicas, waiting for a link or an offset, and a dump of a whole dataset
that two servers holding the same data render identically."""
import time

from conftest import RunnelProcess

FAST_SYNC = ("--repl-diskless-sync-delay", "0")


def start_primary(*args, **kw):
    return RunnelProcess(*FAST_SYNC, *args, **kw)


def start_replica(primary, *args, **kw):
    return RunnelProcess(*FAST_SYNC, "--replicaof", "127.0.0.1", str(primary.port), *args, **kw)


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def link_up(replica):
    return replica.client().info("replication").get("master_link_status") == "up"


def wait_link_up(replica, timeout=10):
    wait_for(lambda: link_up(replica), timeout, "the replica's link to come up")


def wait_caught_up(primary, replica, timeout=10):
    """Until the replica has applied everything the primary has logged."""
    p = primary.client()

    def caught_up():
        target = p.info("replication")["master_repl_offset"]
        info = replica.client().info("replication")
        return info.get("master_link_status") == "up" and info["slave_repl_offset"] >= target

    wait_for(caught_up, timeout, "the replica to catch up")


def digest(server):
    d = server.client().execute_command("DEBUG", "DIGEST")
    return d.decode() if isinstance(d, bytes) else d


def dump_dataset(r):
    """Every key of every database with its type, TTL presence and value,
    streams with their groups, consumers and pending entries (without
    delivery times, which replicas do not share)."""
    out = {}
    for db in range(16):
        c = r.client(db=db) if hasattr(r, "client") else r
        for key in sorted(c.scan_iter(count=1000)):
            t = c.type(key).decode()
            ttl = c.pttl(key)
            out[(db, key)] = (t, ttl > 0, _value(c, key, t))
    return out


def _value(c, key, t):
    if t == "string":
        return c.get(key)
    if t == "list":
        return c.lrange(key, 0, -1)
    if t == "hash":
        return sorted(c.hgetall(key).items())
    if t == "set":
        return sorted(c.smembers(key))
    if t == "zset":
        return c.zrange(key, 0, -1, withscores=True)
    if t == "stream":
        entries = c.xrange(key)
        groups = []
        for g in c.xinfo_groups(key):
            name = g["name"]
            pending = c.xpending_range(key, name, "-", "+", 100000)
            groups.append((name, g["last-delivered-id"], g.get("entries-read"),
                           sorted((p["message_id"], p["consumer"], p["times_delivered"]) for p in pending),
                           sorted(x["name"] for x in c.xinfo_consumers(key, name))))
        info = c.xinfo_stream(key)
        return (entries, info["last-generated-id"], info.get("entries-added"), groups)
    raise AssertionError("unexpected type " + t)
