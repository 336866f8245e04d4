"""A seeded random workload over the broker's stream features (dead-letter
streams, MAXAGE trims and retention policies, keyspace events into a
stream, delayed delivery and back-off), valid and malformed commands
mixed, with the keys they name renamed, copied, moved, deleted, expired, overwritten with other types, and
commands wrapped in MULTI/EXEC and EVAL, with DEBUG RELOAD and BGREWRITEAOF
in the middle and a second client in blocking reads, against a primary with
appendonly yes and a replica.

Afterwards: both servers alive without a sanitizer report, every error
reply in Redis's form (an upper-case code word first), DEBUG DIGEST the
same on the replica and after the primary's AOF is replayed (as written,
then rewritten as commands without the snapshot preamble).

Reproduce or lengthen: RUNNEL_RANDOM_SEED=<n> RUNNEL_RANDOM_SECONDS=<s>
(the default run is seed 1 for about 8 seconds of commands). The commands
follow from the seed; what they meet depends on the clock (IDs, TTLs, due
times) and on the blocked reader's timing, so a failure reports its seed,
the last commands and the keys that differ."""
import os
import random
import re
import threading
import time

from conftest import RawConnection, assert_no_sanitizer_report
from replication_helpers import digest, start_primary, start_replica, wait_caught_up, wait_for, wait_link_up
from test_aof import restart
from test_stream_aof import wait_rewrite

SEED = int(os.environ.get("RUNNEL_RANDOM_SEED", "1"))
SECONDS = float(os.environ.get("RUNNEL_RANDOM_SECONDS", "8"))

STREAMS = ["s1", "s2", "s3", "{s}x"]
DLQS = ["d1", "d2", "s1", "ev", "str", "gone"]
KEYS = STREAMS + DLQS + ["lst", "h"]
GROUPS = ["g1", "g2", "g3"]
CODE = re.compile(r"^[A-Z][A-Z_]+ ")
# Redis's error codes, and Runnel's own words for what Redis has none for
CODES = {"ERR", "WRONGTYPE", "NOGROUP", "BUSYGROUP", "EXECABORT", "NOSCRIPT", "BUSYKEY", "NOPERM", "CROSSSLOT"}


def num(rnd):
    return rnd.choice([0, 1, 2, 3, 5, 100, -1, -5, 2 ** 63 - 1, 2 ** 63, 2 ** 64, "abc", "1.5", "", "+3", " 1",
                       "9" * 30, "-0", "0x10"])


def maybe(rnd, good):
    """Mostly the valid value, sometimes a malformed or extreme number."""
    return good if rnd.random() < 0.85 else num(rnd)


def small(rnd):
    return rnd.choice([0, 1, 2, 3, 5, 10, 100])


def stream_id(rnd):
    return rnd.choice(["0", "0-0", "0-1", "1-1", "$", "+", "-", "abc", "1-",
                       "18446744073709551615-18446744073709551615",
                       "%d-0" % (time.time() * 1000 - 1000), "%d-*" % (time.time() * 1000 + 10)])


def add_id(rnd):
    """An explicit XADD ID: mostly usable, rarely the last possible one."""
    now = int(time.time() * 1000)
    return rnd.choice(["0-1", "1-1", "%d-0" % (now - 1000), "%d-*" % (now + 10), "%d-5" % now, "abc"] * 4 +
                      ["18446744073709551615-18446744073709551615"])


def trim_args(rnd):
    out = []
    for _ in range(rnd.choice([0, 0, 0, 1, 1, 1, 1, 2])):
        out.append(rnd.choice(["MAXLEN", "MINID", "MAXAGE", "MAXAGE", "maxage"]))
        out += rnd.choice([[], ["~"], ["="], ["~"]])
        out.append(maybe(rnd, small(rnd)) if out[-1] != "MINID" and out[-2:-1] != ["MINID"] else stream_id(rnd))
    if rnd.random() < 0.3:
        out += ["LIMIT", maybe(rnd, small(rnd))]
    if rnd.random() < 0.3:
        out.append(rnd.choice(["KEEPREF", "DELREF", "ACKED"]))
    return out


def delay_args(rnd):
    """XADD's and XNACK's DELAY / DELAYAT, mostly absent."""
    roll = rnd.random()
    if roll < 0.8:
        return []
    if roll < 0.9:
        return ["DELAY", maybe(rnd, rnd.choice([0, 1, 20, 200, 100000]))]
    now = int(time.time() * 1000)
    return [rnd.choice(["DELAYAT", "delayat"]), maybe(rnd, rnd.choice([now - 1000, now + 30, now + 10 ** 7]))]


def pending_ids(c, key, group):
    try:
        return [p[0] for p in c.call("XPENDING", key, group, "-", "+", 20) if isinstance(p, list)]
    except Exception:
        return []


def some_ids(rnd, c, key, group):
    ids = pending_ids(c, key, group) if rnd.random() < 0.8 else []
    return rnd.sample(ids, min(len(ids), rnd.randint(1, 3))) or [rnd.choice(["0-1", "1-1", "abc", "0"])]


def command(rnd, c):
    """One random command (an argument list)."""
    k, g, d = rnd.choice(STREAMS), rnd.choice(GROUPS), rnd.choice(DLQS)
    who = rnd.choice(["a", "b", ""])
    op = rnd.randrange(40)
    if op < 7:
        fields = rnd.choice([["f", rnd.randrange(1000)]] * 6 + [["f", 1, "g", "x" * rnd.choice([1, 300])], [], ["f"]])
        return ["XADD", k, *delay_args(rnd), *trim_args(rnd), *delay_args(rnd),
                rnd.choice(["*"] * 6 + [add_id(rnd)]), *fields]
    if op < 9:
        return ["XTRIM", k, *trim_args(rnd)]
    if op < 12:
        create = ["XGROUP", "CREATE", k, g, rnd.choice(["0", "0", "$", "abc"])]
        create += rnd.choice([[], ["MKSTREAM"], ["MKSTREAM"], ["ENTRIESREAD", maybe(rnd, 1)]])
        create += rnd.choice([[], ["MAXDELIVERIES", maybe(rnd, rnd.choice([1, 2, 3])), "DEADLETTER", d]] * 4 +
                             [["DEADLETTER", d, "MAXDELIVERIES", 2], ["MAXDELIVERIES", 2], ["DEADLETTER", d],
                              ["MAXDELIVERIES"], ["DEADLETTER", k, "MAXDELIVERIES", 1]])
        return create
    if op < 14:
        form = rnd.randrange(5)
        if form == 0:
            return ["XGROUP", "SETDLQ", k, g, "NONE"]
        rest = [d, "MAXDELIVERIES", maybe(rnd, rnd.choice([1, 2, 3]))]
        if form == 2:
            rest += ["DEADLETTERED", maybe(rnd, rnd.randrange(5))]
        if form == 3:
            rest = rnd.sample(rest + ["MAXDELIVERIES", "NONE", k], rnd.randint(0, 4))
        return ["XGROUP", "SETDLQ", k, g, *rest]
    if op < 17:
        claim = rnd.choice([[], ["CLAIM", maybe(rnd, rnd.choice([0, 0, 10]))]])
        return ["XREADGROUP", "GROUP", g, who or "a", "COUNT", rnd.randint(1, 4), *claim, "STREAMS", k,
                rnd.choice([">", ">", "0"])]
    if op < 19:
        extra = rnd.choice([[], [], ["JUSTID"], ["RETRYCOUNT", maybe(rnd, 2)], ["FORCE"], ["IDLE", maybe(rnd, 5)]])
        return ["XCLAIM", k, g, who or "b", maybe(rnd, rnd.choice([0, 0, 10])), *some_ids(rnd, c, k, g), *extra]
    if op < 21:
        return ["XAUTOCLAIM", k, g, who or "c", maybe(rnd, rnd.choice([0, 10])), rnd.choice(["0", "0-0", "abc"]),
                "COUNT", maybe(rnd, rnd.choice([1, 3])), *rnd.choice([[], ["JUSTID"]])]
    if op < 23:
        ids = some_ids(rnd, c, k, g)
        n = rnd.choice([len(ids)] * 6 + [len(ids) + 1, 0, num(rnd)])
        mode = rnd.choice(["SILENT", "FAIL", "FATAL", "fatal", "FAIL", "BOGUS"])
        return ["XNACK", k, g, mode, "IDS", n, *ids, *rnd.choice([[], [], ["FORCE"], ["RETRYCOUNT", maybe(rnd, 2)]]),
                *delay_args(rnd)]
    if op < 25:
        opts = []
        for _ in range(rnd.randint(0, 3)):
            name = rnd.choice(["RETENTION-MAXAGE", "RETENTION-MAXLEN", "RETENTION-REFS", "IDMP-MAXSIZE"])
            if name == "RETENTION-REFS":
                opts += [name, rnd.choice(["KEEPREF", "DELREF", "ACKED", "bogus"])]
            elif name == "RETENTION-MAXAGE":
                opts += [name, maybe(rnd, rnd.choice([0, 1, 50, 3600000]))]
            else:
                opts += [name, maybe(rnd, rnd.choice([0, 2, 5]))]
        if rnd.random() < 0.1:
            opts = opts[:-1]
        return ["XCFGSET", rnd.choice(STREAMS + KEYS), *opts]
    if op < 26:
        return ["XACK", k, g, *some_ids(rnd, c, k, g)]
    if op < 27:
        return ["XDEL", k, *some_ids(rnd, c, k, g)]
    if op < 29:
        a, b = rnd.choice(KEYS), rnd.choice(KEYS)
        return rnd.choice([["RENAME", a, b], ["RENAMENX", a, b], ["COPY", a, b], ["COPY", a, b, "REPLACE"],
                           ["COPY", a, b, "DB", 1], ["MOVE", a, 1], ["DEL", a], ["UNLINK", a, b]])
    if op < 30:
        return rnd.choice([["EXPIRE", rnd.choice(KEYS), rnd.choice([1, 100])], ["PEXPIRE", rnd.choice(KEYS), 30],
                           ["PERSIST", rnd.choice(KEYS)]])
    if op < 31:
        if rnd.random() < 0.5:
            return ["DEL", *rnd.sample(["lst", "h", "str", "d1", "d2", "ev"], 2)]
        return rnd.choice([["SET", rnd.choice(DLQS), "x"], ["RPUSH", "lst", "a"], ["HSET", "h", "f", "v"],
                           ["HSET", rnd.choice(DLQS), "f", "v"]])
    if op < 32:
        return rnd.choice([["XINFO", "STREAM", k], ["XINFO", "STREAM", k, "FULL"], ["XINFO", "GROUPS", k],
                           ["XINFO", "GROUPS", d], ["XLEN", d], ["XRANGE", d, "-", "+", "COUNT", 3],
                           ["OBJECT", "ENCODING", k], ["DUMP", k], ["TYPE", d]])
    if op < 33:
        return ["XGROUP", rnd.choice(["DESTROY", "DELCONSUMER", "CREATECONSUMER"]), k, g, who][:rnd.randint(3, 5)]
    if op < 34:
        # arities and forms cut short
        full = command(rnd, c)
        return full[:rnd.randint(1, max(1, len(full) - 1))]
    if op < 35:
        return ["SWAPDB", 0, 1] if rnd.random() < 0.2 else ["DEBUG", "SLEEP", 0]
    if op < 36:
        return ["CONFIG", "SET", "notify-keyspace-events-stream", rnd.choice(["ev", "ev", "s1", "d1", "str", ""])]
    if op < 37:
        return ["CONFIG", "SET", "notify-keyspace-events-stream-maxlen", rnd.choice([0, 5, 50, 100000])]
    if op < 38 and rnd.random() < 0.5:
        steps = rnd.choice([["NONE"], [0], [1, 5, 20], [num(rnd)], [], [5] * rnd.choice([1, 32, 33])])
        return ["XGROUP", "SETBACKOFF", k, g, *steps]
    if op < 38:
        return ["XSETID", k, rnd.choice(["0-1", "$", "99999999999999-0", stream_id(rnd)])]
    if op < 39:
        payload = c.call("DUMP", k) if rnd.random() < 0.8 else b"garbage"
        return ["RESTORE", rnd.choice(KEYS), 0, payload if isinstance(payload, bytes) else b"none",
                *rnd.choice([[], ["REPLACE"], ["REPLACE"]])]
    return ["XREAD", "COUNT", 2, "STREAMS", d, k, "0", "0"]


def check_reply(reply, cmd, bad):
    """Records every error reply that is not in Redis's form."""
    if isinstance(reply, tuple) and reply[0] == "error":
        text = reply[1]
        word = text.split(" ", 1)[0]
        if not CODE.match(text + " ") or word not in CODES:
            bad.append((cmd, text))
    elif isinstance(reply, list):
        for r in reply:
            check_reply(r, cmd, bad)


def lua_quote(v):
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(c, rnd, seconds, bad, history):
    deadline = time.time() + seconds
    steps = 0
    while time.time() < deadline:
        steps += 1
        roll = rnd.random()
        if roll < 0.03:
            batch = [command(rnd, c) for _ in range(rnd.randint(1, 4))]
            history.append(["MULTI", batch])
            replies = [c.call("MULTI")] + [c.call(*cmd) for cmd in batch] + [c.call("EXEC")]
            for r in replies:
                check_reply(r, ["MULTI", batch], bad)
        elif roll < 0.06:
            cmd = command(rnd, c)
            if cmd[0] in ("CONFIG", "SWAPDB", "DEBUG"):
                continue
            body = "return redis.pcall(%s)" % ", ".join(lua_quote(a) for a in cmd)
            history.append(["EVAL", cmd])
            check_reply(c.call("EVAL", body, 0), ["EVAL", cmd], bad)
        elif roll < 0.065:
            history.append(["DEBUG", "RELOAD"])
            c.call("DEBUG", "RELOAD")
        elif roll < 0.07:
            history.append(["BGREWRITEAOF"])
            c.call("BGREWRITEAOF")
        else:
            cmd = command(rnd, c)
            history.append(cmd)
            check_reply(c.call(*cmd), cmd, bad)
    return steps


def blocked_reader(port, rnd, stop, bad):
    """Another client (RESP3) in blocking reads, with and without CLAIM, on
    the streams and the dead-letter keys, woken by the workload's writes,
    moves and due entries."""
    c = RawConnection(port)
    c.call("HELLO", 3)
    while not stop.is_set():
        k, g = rnd.choice(STREAMS + ["d1", "d2", "ev"]), rnd.choice(GROUPS)
        claim = rnd.choice([[], ["CLAIM", rnd.choice([0, 5])]])
        cmd = rnd.choice([["XREADGROUP", "GROUP", g, "w", "COUNT", 2, "BLOCK", 20, *claim, "STREAMS", k, ">"],
                          ["XREAD", "COUNT", 2, "BLOCK", 20, "STREAMS", k, "$"]])
        reply = c.call(*cmd)
        check_reply(reply, cmd, bad)
        if isinstance(reply, tuple):
            time.sleep(0.002)  # no group there yet: not a busy loop
    c.close()


def settle(c):
    """Retention by age keeps trimming as the clock moves, a restarted
    server's blocks need not fall where the primary's did, and a key with a
    TTL may expire between two digests: the final comparisons are made
    without policies and TTLs."""
    for db in (0, 1):
        c.call("SELECT", db)
        for key in c.call("KEYS", "*"):
            c.call("PERSIST", key)
            if c.call("TYPE", key) == "stream":
                c.call("XCFGSET", key, "RETENTION-MAXAGE", 0, "RETENTION-MAXLEN", 0)
    c.call("SELECT", 0)


def key_digests(server):
    """Every key's DEBUG DIGEST-VALUE and type, by database and name."""
    out = {}
    for db in (0, 1):
        c = server.client(db=db)
        for key in c.keys("*"):
            out[(db, key)] = (c.execute_command("DEBUG", "DIGEST-VALUE", key), c.type(key), c.pttl(key))
    return out


def changed(before, after):
    return sorted((k, before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k))


def differing_keys(a, b):
    """The keys whose values differ between two servers (for the report)."""
    out = []
    for db in (0, 1):
        ca, cb = a.client(db=db), b.client(db=db)
        keys = sorted(set(ca.keys("*")) | set(cb.keys("*")))
        for key in keys:
            va, vb = ((c.execute_command("DEBUG", "DIGEST-VALUE", key), c.pttl(key)) for c in (ca, cb))
            if va != vb:
                out.append((db, key, ca.type(key), cb.type(key), va[1], vb[1]))
    return out


def test_random_stream_features_keep_replica_and_aof_equal():
    primary = start_primary("--appendonly", "yes", "--notify-keyspace-events", "KEA",
                            "--notify-keyspace-events-stream", "ev", "--notify-keyspace-events-stream-maxlen", "50",
                            "--stream-node-max-entries", "4", "--hz", "50")
    replica = start_replica(primary, "--stream-node-max-entries", "7")
    bad = []
    try:
        wait_link_up(replica)
        c = primary.raw()
        history = []
        stop = threading.Event()
        reader = threading.Thread(target=blocked_reader, args=(primary.port, random.Random(-SEED), stop, bad))
        reader.start()
        try:
            steps = run(c, random.Random(SEED), SECONDS, bad, history)
        except ConnectionError:
            raise AssertionError("the primary went away (seed %d) after:\n%s\n%s" % (
                SEED, "\n".join(map(repr, history[-15:])), primary.output()[-6000:]))
        finally:
            stop.set()
            reader.join()
        assert steps > 100
        settle(c)
        c.call("CONFIG", "SET", "notify-keyspace-events-stream", "")
        # keys already past their deadline escaped PERSIST (KEYS leaves them out): expiry takes them
        wait_for(lambda: not any(v.get("expires") for v in primary.client().info("keyspace").values()), 10,
                 "the keys past their deadline to go")
        assert c.call("PING") == "PONG"
        wait_for(lambda: primary.client().info("persistence")["aof_rewrite_in_progress"] == 0, 20, "the rewrite")
        wait_caught_up(primary, replica)
        want, keys = digest(primary), key_digests(primary)
        try:
            wait_for(lambda: digest(replica) == want, 5, "the replica's digest")
        except AssertionError:
            raise AssertionError("the replica differs (seed %d): %r" % (SEED, differing_keys(primary, replica)))
        c.close()
        assert_no_sanitizer_report(replica)
        assert_no_sanitizer_report(primary)
        primary = restart(primary, "--hz", "50")
        assert digest(primary) == want, "the AOF replay differs (seed %d): %r" % (
            SEED, changed(keys, key_digests(primary)))
        # rewritten as commands (no snapshot preamble): every state as the commands that restore it
        primary.client().config_set("aof-use-rdb-preamble", "no")
        primary.client().bgrewriteaof()
        wait_rewrite(primary.client())
        assert_no_sanitizer_report(primary)
        primary = restart(primary, "--hz", "50", "--aof-use-rdb-preamble", "no")
        assert digest(primary) == want, "the AOF rewritten as commands differs (seed %d): %r" % (
            SEED, changed(keys, key_digests(primary)))
        assert not bad, "errors not in Redis's form (seed %d): %r" % (SEED, bad[:10])
    finally:
        replica.stop()
        primary.stop()
    assert_no_sanitizer_report(primary)
