"""Delayed delivery and backed-off redelivery (Runnel extensions): XADD ...
DELAY / DELAYAT, XNACK ... DELAY / DELAYAT, XGROUP SETBACKOFF — what groups
deliver and when, the timer that wakes blocked readers, XINFO, and the state
kept across AOF replay, AOF rewrite, snapshots, DUMP/RESTORE and a replica.
Delays are tens of milliseconds; every "not yet" check runs well before the
due time and every "now" check after it."""
import os
import statistics
import subprocess
import threading
import time

import pytest
import redis

from conftest import RunnelProcess, assert_no_sanitizer_report
from replication_helpers import start_primary, start_replica, wait_caught_up, wait_link_up
from test_aof import restart


def pairs(flat):
    return {flat[i].decode() if isinstance(flat[i], bytes) else flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def id_ms(entry_id):
    return int(entry_id.split(b"-")[0])


def now_ms():
    return int(time.time() * 1000)


def read(raw, group, consumer, key, *opts):
    """XREADGROUP > on one key: the list of entry IDs (empty when nil)."""
    reply = raw.call("XREADGROUP", "GROUP", group, consumer, *opts, "STREAMS", key, ">")
    if reply is None:
        return []
    return [e[0] for e in reply[0][1]]


def pending(raw, key, group):
    """XPENDING extended: (id, owner, deliveries) for every pending entry."""
    return [(p[0], p[1], p[3]) for p in raw.call("XPENDING", key, group, "-", "+", "100")]


def sleep_until(ms):
    delta = ms - now_ms()
    if delta > 0:
        time.sleep(delta / 1000)


@pytest.fixture
def s(raw):
    raw.call("FLUSHALL")
    return raw


# ---- syntax ----

@pytest.mark.parametrize("args, error", [
    (("DELAY", "10", "DELAY", "10"), "ERR syntax error"),
    (("DELAY", "10", "DELAYAT", "10"), "ERR syntax error"),
    (("DELAYAT", "10", "DELAY", "10"), "ERR syntax error"),
    (("DELAY", "-1"), "ERR invalid DELAY time in 'xadd' command"),
    (("DELAY", "soon"), "ERR invalid DELAY time in 'xadd' command"),
    (("DELAYAT", "-5"), "ERR invalid DELAYAT time in 'xadd' command"),
    (("DELAYAT", str(1 << 46)), "ERR invalid DELAYAT time in 'xadd' command"),
])
def test_xadd_delay_errors(s, args, error):
    assert s.call("XADD", "k", *args, "*", "f", "v") == ("error", error)
    assert s.call("EXISTS", "k") == 0


def test_xadd_delay_among_options(s):
    """DELAY sits with the other options before the ID; after the ID it is a
    field name."""
    assert s.call("XADD", "k", "NOMKSTREAM", "DELAY", "50", "*", "f", "v") is None
    assert s.call("XADD", "k", "MAXLEN", "~", "10", "DELAY", "50", "1-1", "f", "v") == b"1-1"
    assert s.call("XADD", "k", "DELAY", "50", "MAXLEN", "10", "2-1", "f", "v") == b"2-1"
    assert s.call("XADD", "k", "3-1", "DELAY", "50") == b"3-1"
    assert s.call("XRANGE", "k", "3-1", "3-1") == [[b"3-1", [b"DELAY", b"50"]]]
    assert pairs(s.call("XINFO", "STREAM", "k"))["scheduled-entries"] == 2


def test_xnack_delay_errors(s):
    s.call("XADD", "k", "1-1", "f", "v")
    s.call("XGROUP", "CREATE", "k", "g", "0")
    assert s.call("XNACK", "k", "g", "FAIL", "IDS", "1", "1-1", "DELAY", "5", "DELAY", "5") == \
        ("error", "ERR syntax error")
    assert s.call("XNACK", "k", "g", "FAIL", "IDS", "1", "1-1", "DELAY", "5", "DELAYAT", "5") == \
        ("error", "ERR syntax error")
    assert s.call("XNACK", "k", "g", "FAIL", "IDS", "1", "1-1", "DELAY", "x") == \
        ("error", "ERR invalid DELAY time in 'xnack' command")
    assert s.call("XNACK", "k", "g", "FAIL", "IDS", "1", "1-1", "DELAY") == ("error", "ERR syntax error")


def test_setbackoff_errors_and_info(s):
    assert s.call("XGROUP", "SETBACKOFF", "k", "g", "10") == (
        "error", "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the "
                 "MKSTREAM option to create an empty stream automatically.")
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    assert s.call("XGROUP", "SETBACKOFF", "k", "nog", "10") == (
        "error", "NOGROUP No such consumer group 'nog' for key name 'k'")
    assert s.call("XGROUP", "SETBACKOFF", "k", "g", "10", "-1") == (
        "error", "ERR invalid back-off delay in 'xgroup|setbackoff' command")
    assert s.call("XGROUP", "SETBACKOFF", "k", "g", *["1"] * 33) == ("error", "ERR at most 32 back-off delays")
    assert s.call("XGROUP", "SETBACKOFF", "k", "g") == (
        "error", "ERR wrong number of arguments for 'xgroup|setbackoff' command")
    assert list(pairs(s.call("XINFO", "GROUPS", "k")[0])) == [
        "name", "consumers", "pending", "last-delivered-id", "entries-read", "lag"]
    assert s.call("XGROUP", "SETBACKOFF", "k", "g", "100", "1000", "5000") == "OK"
    info = pairs(s.call("XINFO", "GROUPS", "k")[0])
    assert info["backoff"] == [100, 1000, 5000] and info["scheduled"] == 0
    assert pairs(s.call("XINFO", "STREAM", "k"))["next-due-time"] is None
    assert s.call("XGROUP", "SETBACKOFF", "k", "g", "NONE") == "OK"
    assert "SETBACKOFF <key> <groupname> <ms> [<ms> ...] | NONE" in s.call("XGROUP", "HELP")
    assert "backoff" not in pairs(s.call("XINFO", "GROUPS", "k")[0])
    assert "scheduled-entries" not in pairs(s.call("XINFO", "STREAM", "k"))


# ---- delivery ----

def test_delayed_entry_waits_for_groups_not_for_xread(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    plain = list(pairs(s.call("XINFO", "STREAM", "k")))
    a = s.call("XADD", "k", "DELAY", "80", "*", "n", "a")
    b = s.call("XADD", "k", "*", "n", "b")
    assert [e[0] for e in s.call("XREAD", "STREAMS", "k", "0")[0][1]] == [a, b]
    assert read(s, "g", "c", "k", "COUNT", "10") == [b]
    # waiting as an unowned pending entry, never delivered yet
    assert pending(s, "k", "g") == [(a, b"", 0), (b, b"c", 1)]
    assert read(s, "g", "c", "k") == []
    info = pairs(s.call("XINFO", "STREAM", "k"))
    assert list(info) == plain + ["scheduled-entries", "next-due-time"]
    assert info["scheduled-entries"] == 1 and info["next-due-time"] == id_ms(a) + 80
    assert pairs(s.call("XINFO", "GROUPS", "k")[0])["scheduled"] == 1
    # XCLAIM, XAUTOCLAIM and CLAIM never take it early
    assert s.call("XACK", "k", "g", b) == 1
    assert s.call("XCLAIM", "k", "g", "other", "0", a) == []
    assert s.call("XAUTOCLAIM", "k", "g", "other", "0", "0-0")[1] == []
    assert read(s, "g", "other", "k", "CLAIM", "0") == []
    sleep_until(id_ms(a) + 85)
    c = s.call("XADD", "k", "*", "n", "c")
    assert read(s, "g", "c", "k", "COUNT", "1") == [a]  # due entries before new ones
    assert read(s, "g", "c", "k") == [c]
    assert pending(s, "k", "g") == [(a, b"c", 1), (c, b"c", 1)]
    # nothing scheduled any more: XINFO is Redis's again
    assert list(pairs(s.call("XINFO", "STREAM", "k"))) == plain


def test_due_entries_come_oldest_due_first(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    late = s.call("XADD", "k", "DELAY", "60", "*", "n", "late")
    early = s.call("XADD", "k", "DELAY", "30", "*", "n", "early")
    assert read(s, "g", "c", "k") == []
    sleep_until(id_ms(late) + 65)
    assert read(s, "g", "c", "k") == [early, late]


def test_group_created_after_the_xadd_respects_the_delay(s):
    a = s.call("XADD", "k", "DELAY", "60", "*", "n", "a")
    b = s.call("XADD", "k", "*", "n", "b")
    s.call("XGROUP", "CREATE", "k", "g", "0")
    assert read(s, "g", "c", "k") == [b]
    # a group that starts past the entry before it is due still gets it when due
    s.call("XGROUP", "CREATE", "k", "late", "$")
    assert pending(s, "k", "late") == [(a, b"", 0)]
    # and so does one moved past it with SETID
    s.call("XGROUP", "CREATE", "k", "moved", "0")
    s.call("XGROUP", "SETID", "k", "moved", "$")
    assert pending(s, "k", "moved") == [(a, b"", 0)]
    assert read(s, "late", "c", "k") == [] and read(s, "moved", "c", "k") == []
    sleep_until(id_ms(a) + 65)
    assert read(s, "g", "c", "k") == [a]
    assert read(s, "late", "c", "k") == [a]
    assert read(s, "moved", "c", "k") == [a]
    # a group that starts past the entry once it is due does not get it, as for any entry
    s.call("XGROUP", "CREATE", "k", "later", "$")
    assert read(s, "later", "c", "k") == []
    # a group still behind the entry when it is due reads it in ID order
    s.call("XGROUP", "CREATE", "k", "slow", "0")
    assert read(s, "slow", "c", "k") == [a, b]


def test_delayat_in_the_past_and_delay_zero_deliver_at_once(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    a = s.call("XADD", "k", "DELAYAT", "1", "*", "n", "a")
    b = s.call("XADD", "k", "DELAY", "0", "*", "n", "b")
    assert read(s, "g", "c", "k") == [a, b]
    assert "scheduled-entries" not in pairs(s.call("XINFO", "STREAM", "k"))


def test_noack_takes_due_entries_out_of_the_pel(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    a = s.call("XADD", "k", "DELAY", "30", "*", "n", "a")
    assert read(s, "g", "c", "k", "NOACK") == []
    sleep_until(id_ms(a) + 35)
    assert read(s, "g", "c", "k", "NOACK") == [a]
    assert pending(s, "k", "g") == []


def test_xack_and_xdel_of_scheduled_entries(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    a = s.call("XADD", "k", "DELAY", "30", "*", "n", "a")
    b = s.call("XADD", "k", "DELAY", "30", "*", "n", "b")
    read(s, "g", "c", "k")
    assert s.call("XACK", "k", "g", a) == 1
    s.call("XDEL", "k", b)
    sleep_until(id_ms(b) + 35)
    assert read(s, "g", "c", "k") == []
    assert pending(s, "k", "g") == []


def test_blocked_reader_woken_when_due_and_never_early(server):
    """Blocked XREADGROUPs get each delayed entry within a few ms of its due
    time while another client keeps the server busy with XADDs."""
    r = server.client()
    rawc = server.raw()
    r.flushall()
    r.xgroup_create("k", "g", "$", mkstream=True)
    stop = threading.Event()

    def load():
        c = server.client()
        while not stop.is_set():
            c.xadd("noise", {"f": "v" * 50}, maxlen=1000, approximate=True)

    loader = threading.Thread(target=load)
    loader.start()
    lateness = []
    try:
        reader = server.client(socket_timeout=5)
        for _ in range(8):
            got = {}

            def block():
                got["reply"] = reader.xreadgroup("g", "c", {"k": ">"}, block=2000)
                got["at"] = time.time() * 1000

            t = threading.Thread(target=block)
            t.start()
            time.sleep(0.02)
            eid = r.execute_command("XADD", "k", "DELAY", "40", "*", "f", "v")
            t.join()
            due = id_ms(eid) + 40
            assert got["reply"][0][1][0][0] == eid
            # delivered no earlier than due: the server's delivery time says so
            full = pairs(rawc.call("XINFO", "STREAM", "k", "FULL", "COUNT", "0"))
            delivered = {p[0]: p[2] for p in pairs(full["groups"][0])["pending"]}[eid]
            assert delivered >= due
            lateness.append(got["at"] - due)
    finally:
        stop.set()
        loader.join()
    assert min(lateness) >= -1, lateness  # client clock read after the reply
    print("lateness ms", sorted(round(x, 1) for x in lateness))
    assert statistics.median(lateness) < 10, lateness


def test_many_scheduled_entries_delivered_in_due_order(s):
    """Added and passed by the group in one transaction, so that every entry
    waits in the group's due order; they come out by due time."""
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    delays = [20 + (i * 7) % 40 for i in range(300)]
    s.call("MULTI")
    for i, delay in enumerate(delays):
        assert s.call("XADD", "k", "DELAY", str(delay), "*", "i", str(i)) == "QUEUED"
    s.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">")
    replies = s.call("EXEC")
    assert replies[-1] is None
    due = {eid: id_ms(eid) + delay for eid, delay in zip(replies[:-1], delays)}
    assert pairs(s.call("XINFO", "GROUPS", "k")[0])["scheduled"] == 300
    got = []
    deadline = time.time() + 2
    while len(got) < 300 and time.time() < deadline:
        reply = s.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "50", "BLOCK", "200", "STREAMS", "k", ">")
        if reply:
            got += [e[0] for e in reply[0][1]]
    assert sorted(got) == sorted(due)
    full = pairs(s.call("XINFO", "STREAM", "k", "FULL", "COUNT", "0"))
    delivered = {p[0]: p[2] for p in pairs(full["groups"][0])["pending"]}
    assert all(delivered[e] >= due[e] for e in due)
    order = [due[e] for e in got]
    assert order == sorted(order)


# ---- XNACK DELAY and back-off ----

def test_xnack_delay(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    a = s.call("XADD", "k", "*", "n", "a")
    assert read(s, "g", "c", "k") == [a]
    t0 = now_ms()
    assert s.call("XNACK", "k", "g", "FAIL", "IDS", "1", a, "DELAY", "60") == 1
    assert pending(s, "k", "g") == [(a, b"", 1)]
    assert read(s, "g", "c2", "k", "CLAIM", "0") == []
    assert s.call("XCLAIM", "k", "g", "c2", "0", a) == []
    assert s.call("XAUTOCLAIM", "k", "g", "c2", "0", "0-0", "JUSTID")[1] == []
    sleep_until(t0 + 65)
    assert s.call("XCLAIM", "k", "g", "c2", "0", a, "JUSTID") == [a]
    assert pending(s, "k", "g") == [(a, b"c2", 1)]
    # released again with DELAYAT: due at once; a read with `>` takes it first
    assert s.call("XNACK", "k", "g", "SILENT", "IDS", "1", a, "DELAYAT", str(now_ms())) == 1
    b = s.call("XADD", "k", "*", "n", "b")
    assert read(s, "g", "c3", "k") == [a, b]
    assert pending(s, "k", "g") == [(a, b"c3", 1), (b, b"c3", 1)]


def test_backoff_holds_idle_claims(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    s.call("XGROUP", "SETBACKOFF", "k", "g", "60", "400")
    a = s.call("XADD", "k", "*", "n", "a")
    read(s, "g", "c", "k")
    t0 = now_ms()
    # idle long enough for the min-idle-time (1 ms), not for the back-off
    time.sleep(0.01)
    assert s.call("XAUTOCLAIM", "k", "g", "c2", "1", "0-0", "JUSTID")[1] == []
    assert read(s, "g", "c2", "k", "CLAIM", "1") == []
    assert s.call("XCLAIM", "k", "g", "c2", "1", a, "JUSTID") == []
    # a claim with min-idle-time 0 is an explicit takeover: no back-off
    sleep_until(t0 + 65)
    assert read(s, "g", "c2", "k", "CLAIM", "1") == [a]
    t1 = now_ms()
    assert pending(s, "k", "g") == [(a, b"c2", 2)]
    # after the second delivery the second delay applies
    sleep_until(t1 + 80)
    assert s.call("XAUTOCLAIM", "k", "g", "c3", "1", "0-0", "JUSTID")[1] == []
    assert s.call("XCLAIM", "k", "g", "c3", "0", a, "JUSTID") == [a]
    # the last delay repeats; NONE lifts the schedule
    s.call("XGROUP", "SETBACKOFF", "k", "g", "NONE")
    time.sleep(0.005)
    assert s.call("XAUTOCLAIM", "k", "g", "c4", "1", "0-0", "JUSTID")[1] == [a]


def test_backoff_skips_held_entries_for_others(s):
    """An entry held by its back-off does not stop CLAIM from taking the
    idle entries behind it."""
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    a = s.call("XADD", "k", "*", "n", "a")
    read(s, "g", "c", "k")
    s.call("XCLAIM", "k", "g", "c", "0", a, "RETRYCOUNT", "5")
    b = s.call("XADD", "k", "*", "n", "b")
    read(s, "g", "c", "k")
    s.call("XGROUP", "SETBACKOFF", "k", "g", "20", "10000")
    time.sleep(0.03)
    assert read(s, "g", "c2", "k", "CLAIM", "5") == [b]


# ---- persistence and replication ----

def setup_state(r):
    """A stream with an entry in its schedule, a group holding a scheduled
    entry and another released with XNACK DELAY, and a back-off schedule.
    Returns the due time of the last of them."""
    r.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    r.call("XGROUP", "CREATE", "k", "h", "$")
    r.call("XGROUP", "SETBACKOFF", "k", "g", "100", "2000")
    a = r.call("XADD", "k", "DELAY", "1000", "*", "n", "a")
    b = r.call("XADD", "k", "*", "n", "b")
    assert read(r, "g", "c", "k") == [b]  # a becomes scheduled in g, still in the stream's schedule for h
    assert r.call("XNACK", "k", "g", "FAIL", "IDS", "1", b, "DELAYAT", str(id_ms(a) + 1000)) == 1
    r.call("XGROUP", "CREATE", "k", "late", "$")  # past a, which it holds as scheduled
    return a, b


def observe(raw):
    info = pairs(raw.call("XINFO", "STREAM", "k"))
    groups = [pairs(g) for g in raw.call("XINFO", "GROUPS", "k")]
    return (info["scheduled-entries"], info["next-due-time"], groups, pending(raw, "k", "g"), pending(raw, "k", "h"),
            pending(raw, "k", "late"))


def check_state_after_restart(raw, a, b):
    assert read(raw, "g", "c", "k") == []
    assert read(raw, "h", "c", "k") == [b]
    assert raw.call("XCLAIM", "k", "g", "x", "0", b) == []
    sleep_until(id_ms(a) + 1005)
    assert set(read(raw, "g", "c", "k")) == {a, b}
    assert read(raw, "h", "c", "k") == [a]
    assert read(raw, "late", "c", "k") == [a]


@pytest.mark.parametrize("how", ["replay", "rewrite-commands", "rewrite-preamble"])
def test_state_survives_aof(how):
    srv = RunnelProcess("--appendonly", "yes", "--aof-use-rdb-preamble", "no" if how != "rewrite-preamble" else "yes")
    try:
        raw = srv.raw()
        a, b = setup_state(raw)
        before = observe(raw)
        if how != "replay":
            raw.call("BGREWRITEAOF")
            deadline = time.time() + 5
            while pairs_info(raw)["aof_rewrite_in_progress"] != b"0" and time.time() < deadline:
                time.sleep(0.02)
        extra = ("--aof-use-rdb-preamble", "no") if how != "rewrite-preamble" else ()
        assert_no_sanitizer_report(srv)
        srv = restart(srv, *extra)
        raw = srv.raw()
        assert observe(raw) == before
        check_state_after_restart(raw, a, b)
    finally:
        assert_no_sanitizer_report(srv)


def pairs_info(raw):
    out = {}
    for line in raw.call("INFO", "persistence").split(b"\r\n"):
        if b":" in line:
            k, v = line.split(b":", 1)
            out[k.decode()] = v
    return out


def test_state_survives_snapshot_and_dump_restore():
    srv = RunnelProcess()
    try:
        raw = srv.raw()
        a, b = setup_state(raw)
        before = observe(raw)
        payload = raw.call("DUMP", "k")
        assert raw.call("SAVE") == "OK"
        assert_no_sanitizer_report(srv)
        new = RunnelProcess.__new__(RunnelProcess)
        new.port, new.dir = srv.port, srv.dir
        new.log_path = os.path.join(new.dir, "restart.log")
        new.log = open(new.log_path, "w")
        new.proc = subprocess.Popen([srv.proc.args[0], "--port", str(new.port), "--dir", new.dir, "--save", ""],
                                    stdout=new.log, stderr=subprocess.STDOUT)
        new._wait_ready()
        srv = new
        raw = srv.raw()
        assert observe(raw) == before
        raw.call("RENAME", "k", "orig")
        assert raw.call("RESTORE", "k", "0", payload) == "OK"
        assert observe(raw) == before
        check_state_after_restart(raw, a, b)
    finally:
        assert_no_sanitizer_report(srv)


def test_replica_follows_scheduled_state():
    primary = start_primary()
    replica = None
    try:
        raw = primary.raw()
        raw.call("XADD", "k", "DELAY", "5000", "*", "n", "early")  # in the full sync's snapshot
        replica = start_replica(primary)
        wait_link_up(replica)
        a, b = setup_state(raw)
        wait_caught_up(primary, replica)
        rraw = replica.raw()
        mine, theirs = observe(raw), observe(rraw)
        # delivery times of pending entries are the primary's, as logged
        assert mine == theirs
        assert mine[0] == 2
        # on the primary the schedule still holds; what it delivers reaches the replica
        sleep_until(id_ms(a) + 1005)
        assert set(read(raw, "g", "c", "k")) == {a, b}
        wait_caught_up(primary, replica)
        assert pending(rraw, "k", "g") == pending(raw, "k", "g")
    finally:
        if replica:
            assert_no_sanitizer_report(replica)
        assert_no_sanitizer_report(primary)


def test_copy_keeps_the_schedule(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    s.call("XGROUP", "SETBACKOFF", "k", "g", "10")
    a = s.call("XADD", "k", "DELAY", "60", "*", "n", "a")
    read(s, "g", "c", "k")
    assert s.call("COPY", "k", "k2") == 1
    assert observe_key(s, "k2") == observe_key(s, "k")
    assert read(s, "g", "c", "k2") == []
    sleep_until(id_ms(a) + 65)
    assert read(s, "g", "c", "k2") == [a]


def observe_key(raw, key):
    return (pairs(raw.call("XINFO", "STREAM", key))["scheduled-entries"],
            [pairs(g) for g in raw.call("XINFO", "GROUPS", key)], pending(raw, key, "g"))


def test_resp3_xinfo_fields(raw3):
    raw3.call("FLUSHALL")
    raw3.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    raw3.call("XGROUP", "SETBACKOFF", "k", "g", "5", "50")
    raw3.call("XADD", "k", "DELAY", "1000", "*", "f", "v")
    info = raw3.call("XINFO", "STREAM", "k")
    assert isinstance(info, dict) and info["scheduled-entries"] == 1 and info["next-due-time"] > now_ms()
    g = raw3.call("XINFO", "GROUPS", "k")[0]
    assert g["backoff"] == [5, 50] and g["scheduled"] == 0
    full = raw3.call("XINFO", "STREAM", "k", "FULL")
    assert full["scheduled-entries"] == 1


def test_blocked_reader_on_a_renamed_stream_is_woken(server):
    r = server.client()
    r.flushall()
    r.xgroup_create("k", "g", "$", mkstream=True)
    eid = r.execute_command("XADD", "k", "DELAY", "80", "*", "f", "v")
    assert r.xreadgroup("g", "c", {"k": ">"}) == []
    r.rename("k", "k2")
    reader = server.client()
    start = time.time()
    reply = reader.xreadgroup("g", "c", {"k2": ">"}, block=2000)
    assert reply[0][1][0][0] == eid
    assert time.time() - start < 1


def test_logged_forms_are_absolute():
    srv = RunnelProcess("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    try:
        raw = srv.raw()
        a, b = setup_state(raw)
        log = b"".join(open(p, "rb").read() for p in sorted(
            os.path.join(srv.dir, "appendonlydir", f) for f in os.listdir(os.path.join(srv.dir, "appendonlydir"))
            if f.endswith(".aof")))
        assert b"$5\r\nDELAY\r\n" not in log
        assert b"$7\r\nDELAYAT\r\n$13\r\n%d\r\n" % (id_ms(a) + 1000) in log
        assert b"$11\r\nXREADGROUP\r\n" not in log
    finally:
        assert_no_sanitizer_report(srv)


@pytest.mark.parametrize("command", [("XADD", "k", "DELAY", "50", "*", "f", "v"),
                                     ("XGROUP", "SETBACKOFF", "k", "g", "10")])
def test_redis_server_replica_is_resynced_instead(command):
    """Redis has no delays: a redis-server replica cannot apply what they
    log, so its link is dropped and it synchronizes fully again."""
    from test_redis_rdb import Redis
    import tempfile
    primary = start_primary()
    rep = None
    try:
        p = primary.client()
        p.xgroup_create("k", "g", "$", mkstream=True)
        rep = Redis(tempfile.mkdtemp(prefix="redis-delay-"), "--replicaof", "127.0.0.1", str(primary.port))
        wait = lambda: rep.client().info("replication")["master_link_status"] == "up"
        deadline = time.time() + 10
        while not wait() and time.time() < deadline:
            time.sleep(0.05)
        p.execute_command(*command)
        deadline = time.time() + 10
        while "not Runnel and can't apply %s" % command[0] not in primary.output() and time.time() < deadline:
            time.sleep(0.05)
        assert "not Runnel and can't apply %s" % command[0] in primary.output()
    finally:
        if rep:
            rep.stop()
        assert_no_sanitizer_report(primary)


def test_group_already_past_the_new_entry(s):
    """A group moved ahead of the stream (SETID to a future ID) still gets
    a delayed entry added behind its position, when due."""
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    s.call("XGROUP", "SETID", "k", "g", "%d-0" % (now_ms() + 3600000))
    a = s.call("XADD", "k", "DELAY", "40", "*", "n", "a")
    s.call("XADD", "k", "*", "n", "b")  # behind the group: never delivered
    assert pending(s, "k", "g") == [(a, b"", 0)]
    sleep_until(id_ms(a) + 45)
    assert read(s, "g", "c", "k") == [a]


def test_entry_behind_a_group_is_logged_with_its_hold_in_one_transaction():
    """The XADD of a delayed entry behind a group's position and the XNACK
    that holds it in the group reach the log as one MULTI/EXEC, so a crash
    between the two writes cannot keep one without the other."""
    srv = RunnelProcess("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    try:
        raw = srv.raw()
        raw.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
        raw.call("XGROUP", "SETID", "k", "g", "%d-0" % (now_ms() + 3600000))
        raw.call("XADD", "k", "DELAY", "60000", "*", "n", "a")
        log = b"".join(open(p, "rb").read() for p in sorted(
            os.path.join(srv.dir, "appendonlydir", f) for f in os.listdir(os.path.join(srv.dir, "appendonlydir"))
            if f.endswith(".aof")))
        tail = log[log.index(b"$4\r\nXADD\r\n") - 30:]
        assert tail.startswith(b"*1\r\n$5\r\nMULTI\r\n") or b"MULTI" in tail[:30]
        assert tail.index(b"XNACK") < tail.index(b"EXEC")
    finally:
        assert_no_sanitizer_report(srv)


def test_due_entries_with_deleted_ones_between(s):
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    due = now_ms() + 40
    ids = [s.call("XADD", "k", "DELAYAT", str(due), "*", "i", str(i)) for i in range(40)]
    assert read(s, "g", "c", "k") == []
    gone = ids[1::3]
    s.call("XDEL", "k", *gone)
    sleep_until(due + 5)
    assert read(s, "g", "c", "k") == [i for i in ids if i not in gone]
    assert [p[0] for p in pending(s, "k", "g")] == [i for i in ids if i not in gone]


def test_dump_restore_with_a_retention_policy_too(s):
    """The snapshot encoding carries the delay section and the retention
    policy together."""
    s.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM")
    s.call("XGROUP", "SETBACKOFF", "k", "g", "10")
    assert s.call("XCFGSET", "k", "RETENTION-MAXAGE", "604800000") == "OK"
    s.call("XADD", "k", "DELAY", "60000", "*", "f", "v")
    want = pairs(s.call("XINFO", "STREAM", "k"))
    payload = s.call("DUMP", "k")
    assert s.call("RESTORE", "k2", "0", payload) == "OK"
    got = pairs(s.call("XINFO", "STREAM", "k2"))
    assert got["scheduled-entries"] == 1 and got["retention-maxage"] == 604800000 and got == want
    assert pairs(s.call("XINFO", "GROUPS", "k2")[0])["backoff"] == [10]


@pytest.mark.parametrize("form", ["DELAY", "DELAYAT"])
def test_xnack_delay_with_a_dead_letter_stream_replays_exactly(form):
    """An XNACK ... DELAY that moves some entries to the dead-letter stream
    and releases the others logs the release with its absolute due time."""
    srv = RunnelProcess("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    try:
        raw = srv.raw()
        raw.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM", "MAXDELIVERIES", "2", "DEADLETTER", "k:dead")
        a = raw.call("XADD", "k", "*", "n", "a")
        b = raw.call("XADD", "k", "*", "n", "b")
        assert read(raw, "g", "c", "k") == [a, b]
        raw.call("XCLAIM", "k", "g", "c", "0", a)  # a delivered twice: at the limit
        when = "1000" if form == "DELAY" else str(now_ms() + 1000)
        assert raw.call("XNACK", "k", "g", "FAIL", "IDS", "2", a, b, form, when) == 2
        due = pairs(raw.call("XINFO", "STREAM", "k"))["next-due-time"]
        assert raw.call("XLEN", "k:dead") == 1
        assert pending(raw, "k", "g") == [(b, b"", 1)]
        before = observe_key(raw, "k")
        assert_no_sanitizer_report(srv)
        srv = restart(srv, "--aof-use-rdb-preamble", "no")
        raw = srv.raw()
        assert observe_key(raw, "k") == before
        assert raw.call("XCLAIM", "k", "g", "x", "0", b) == []
        sleep_until(due + 5)
        assert read(raw, "g", "c", "k") == [b]
    finally:
        assert_no_sanitizer_report(srv)
