"""Client-side caching: CLIENT TRACKING (default, BCAST, PREFIX, OPTIN,
OPTOUT, NOLOOP, REDIRECT), CLIENT CACHING, CLIENT GETREDIR, CLIENT
TRACKINGINFO, RESP3 invalidation pushes, the RESP2 __redis__:invalidate
channel, flush invalidations, INFO and CLIENT LIST. Through raw sockets
(Debian's redis-py has no client-side caching); the scripted sessions also
run against redis-server 7.0.15 and must read the same bytes."""
import socket
import time

import pytest

from conftest import RawConnection
from reference_server import reference  # noqa: F401


class Session:
    """Raw connections to one server; every read waits a little so that
    pushes delivered after a reply are read with it."""

    def __init__(self, port):
        self.port = port
        self.conns = []

    def connect(self, resp=2):
        c = RawConnection(self.port)
        if resp == 3:
            c.call("HELLO", "3")
        self.conns.append(c)
        return c

    def pending(self, c, wait=0.05):
        """Everything the server has sent c and not read yet, raw."""
        time.sleep(wait)
        c.sock.settimeout(0.05)
        data = c.buf
        c.buf = b""
        try:
            while True:
                chunk = c.sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, BlockingIOError):
            pass
        c.sock.settimeout(5)
        return data

    def send(self, c, *args):
        c.command(*args)
        return self.pending(c)

    def close(self):
        for c in self.conns:
            c.close()


@pytest.fixture
def session(server):
    s = Session(server.port)
    c = s.connect()
    c.call("FLUSHALL")
    s.pending(c)
    yield s
    s.close()


INVALIDATE_K = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"


def test_default_mode_resp3_push_after_the_reply(session):
    a = session.connect(3)
    b = session.connect()
    assert session.send(a, "CLIENT", "TRACKING", "on") == b"+OK\r\n"
    assert session.send(a, "GET", "k") == b"_\r\n"
    assert session.send(b, "SET", "k", "1") == b"+OK\r\n"
    assert session.pending(a) == INVALIDATE_K
    # invalidated once: the key must be read again to be tracked again
    session.send(b, "SET", "k", "2")
    assert session.pending(a) == b""
    session.send(a, "GET", "k")
    # its own write: the reply first, then the push
    assert session.send(a, "SET", "k", "3") == b"+OK\r\n" + INVALIDATE_K


def test_tracked_keys_come_from_read_commands(session):
    a = session.connect(3)
    b = session.connect()
    session.send(a, "CLIENT", "TRACKING", "on")
    session.send(a, "MGET", "x1", "x2")
    session.send(a, "HGET", "h", "f")
    session.send(a, "SET", "notread", "1")  # a write is not a read
    session.send(b, "MSET", "x2", "1", "notread", "2")
    assert session.pending(a) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nx2\r\n"
    session.send(b, "HSET", "h", "f", "v")
    assert session.pending(a) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nh\r\n"
    # expiry and deletion invalidate too
    session.send(a, "GET", "x1")
    session.send(b, "SET", "x1", "v", "PX", "1500")
    assert session.pending(a) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nx1\r\n"
    assert session.send(a, "GET", "x1") == b"$1\r\nv\r\n"
    # the active expiry cycle removes it: one more invalidation
    got, deadline = b"", time.time() + 10
    while not got and time.time() < deadline:
        got = session.pending(a, 0.2)
    assert got == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nx1\r\n"


def test_noloop_and_flush(session):
    a = session.connect(3)
    session.send(a, "CLIENT", "TRACKING", "on", "NOLOOP")
    session.send(a, "GET", "k")
    assert session.send(a, "SET", "k", "1") == b"+OK\r\n"
    # a flush invalidates everything with a null, for every tracking client
    assert session.send(a, "FLUSHALL") == b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n"
    b = session.connect(3)
    session.send(b, "CLIENT", "TRACKING", "on", "BCAST")
    session.send(a, "FLUSHDB")
    assert session.pending(b) == b">2\r\n$10\r\ninvalidate\r\n_\r\n"


def test_optin_and_optout(session):
    a = session.connect(3)
    w = session.connect()
    session.send(a, "CLIENT", "TRACKING", "on", "OPTIN")
    session.send(a, "GET", "no")
    session.send(a, "CLIENT", "CACHING", "yes")
    session.send(a, "GET", "yes")
    session.send(a, "GET", "after")  # CACHING applies to the next command only
    session.send(w, "MSET", "no", "1", "yes", "1", "after", "1")
    assert session.pending(a) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nyes\r\n"
    assert session.send(a, "CLIENT", "TRACKING", "on", "OPTOUT").startswith(b"-ERR You can't switch OPTIN/OPTOUT")
    session.send(a, "CLIENT", "TRACKING", "off")
    session.send(a, "CLIENT", "TRACKING", "on", "OPTOUT")
    session.send(a, "CLIENT", "CACHING", "no")
    session.send(a, "GET", "no")
    session.send(a, "GET", "yes")
    session.send(w, "MSET", "no", "1", "yes", "1")
    assert session.pending(a) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nyes\r\n"


def test_bcast_prefixes_one_message_per_prefix(session):
    a = session.connect(3)
    w = session.connect()
    session.send(a, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "job:")
    session.send(w, "MSET", "user:2", "a", "job:1", "b", "other", "c", "user:1", "d", "user:2", "e")
    got = session.pending(a, 0.2)
    assert got.count(b">2") == 2
    assert b"*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n" in got and b"*1\r\n$5\r\njob:1\r\n" in got
    assert b"other" not in got
    # NOLOOP: not its own changes
    session.send(a, "CLIENT", "TRACKING", "off")
    session.send(a, "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")
    assert session.send(a, "SET", "mine", "1") == b"+OK\r\n"
    session.send(w, "SET", "theirs", "1")
    assert session.pending(a) == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ntheirs\r\n"


def test_resp2_redirect_to_the_invalidate_channel(session):
    sub = session.connect()
    sub_id = sub.call("CLIENT", "ID")
    assert sub.call("SUBSCRIBE", "__redis__:invalidate")[0] == b"subscribe"
    a = session.connect()
    w = session.connect()
    assert session.send(a, "CLIENT", "TRACKING", "on", "REDIRECT", sub_id) == b"+OK\r\n"
    assert a.call("CLIENT", "GETREDIR") == sub_id
    session.send(a, "GET", "k")
    session.send(w, "SET", "k", "1")
    assert session.pending(sub) == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
    session.send(w, "FLUSHALL")
    assert session.pending(sub) == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    assert b" flags=t " in session.send(a, "CLIENT", "INFO") and b" redir=%d " % sub_id in a.call("CLIENT", "INFO")


def test_broken_redirect(session):
    target = session.connect()
    tid = target.call("CLIENT", "ID")
    a = session.connect(3)
    w = session.connect()
    session.send(a, "CLIENT", "TRACKING", "on", "REDIRECT", tid)
    session.send(a, "GET", "k")
    target.close()
    session.conns.remove(target)
    time.sleep(0.1)
    session.send(w, "SET", "k", "1")
    assert session.pending(a) == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % tid
    info = a.call("CLIENT", "TRACKINGINFO")
    assert info["flags"] == ("set", [b"on", b"broken_redirect"])
    assert " flags=tR " in a.call("CLIENT", "INFO")


def test_errors_and_info(session):
    a = session.connect()
    assert a.call("CLIENT", "TRACKING", "maybe") == ("error", "ERR syntax error")
    assert a.call("CLIENT", "TRACKING", "on", "BOGUS") == ("error", "ERR syntax error")
    assert a.call("CLIENT", "TRACKING", "on", "REDIRECT", "999999") == \
        ("error", "ERR The client ID you want redirect to does not exist")
    assert a.call("CLIENT", "TRACKING", "on", "PREFIX", "a") == \
        ("error", "ERR PREFIX option requires BCAST mode to be enabled")
    assert a.call("CLIENT", "TRACKING", "on", "BCAST", "OPTIN") == \
        ("error", "ERR OPTIN and OPTOUT are not compatible with BCAST")
    assert a.call("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT") == ("error", "ERR You can't specify both OPTIN mode and OPTOUT mode")
    assert a.call("CLIENT", "CACHING", "yes") == ("error", "ERR CLIENT CACHING can be called only when the client is "
                                                            "in tracking mode with OPTIN or OPTOUT mode enabled")
    assert a.call("CLIENT", "GETREDIR") == -1
    assert a.call("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]
    assert a.call("CLIENT", "TRACKING", "on") == "OK"
    assert a.call("CLIENT", "GETREDIR") == 0
    assert a.call("CLIENT", "CACHING", "yes") == \
        ("error", "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    assert a.call("CLIENT", "CACHING", "no") == \
        ("error", "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    assert a.call("CLIENT", "TRACKING", "on", "BCAST")[1].startswith("ERR You can't switch BCAST mode")
    a.call("GET", "k1")
    a.call("MGET", "k1", "k2")
    b = session.connect()
    b.call("CLIENT", "TRACKING", "on", "OPTOUT")
    b.call("GET", "k1")
    info = b.call("INFO", "clients").decode() + b.call("INFO", "stats").decode()
    assert "tracking_clients:2\r\n" in info
    assert "tracking_total_keys:2\r\n" in info and "tracking_total_items:3\r\n" in info
    assert "tracking_total_prefixes:0\r\n" in info
    b.call("CLIENT", "CACHING", "no")
    assert b.call("CLIENT", "TRACKINGINFO")[1] == [b"on", b"optout", b"caching-no"]
    c = session.connect()
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b")
    assert c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "bb") == \
        ("error", "ERR Prefix 'bb' overlaps with an existing prefix 'b'. Prefixes for a single client must not overlap.")
    assert c.call("CLIENT", "TRACKINGINFO")[5] == [b"a", b"b"] or sorted(c.call("CLIENT", "TRACKINGINFO")[5]) == \
        [b"a", b"b"]
    assert "tracking_total_prefixes:2\r\n" in c.call("INFO", "stats").decode()
    assert b" flags=tB " in c.call("CLIENT", "INFO")
    # RESET and closing turn tracking off
    c.call("RESET")
    assert c.call("CLIENT", "GETREDIR") == -1
    assert "tracking_total_prefixes:0\r\n" in c.call("INFO", "stats").decode()


def transcript(port):
    """A scripted session's raw bytes, for comparison between servers."""
    s = Session(port)
    out = []
    try:
        a, b, w = s.connect(3), s.connect(3), s.connect()
        s.send(w, "FLUSHALL")
        steps = [
            (a, ["CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP"]), (a, ["CLIENT", "CACHING", "yes"]),
            (a, ["CLIENT", "TRACKINGINFO"]), (a, ["GET", "k1"]), (a, ["SET", "k1", "v"]),
            (a, ["CLIENT", "TRACKING", "off"]), (a, ["CLIENT", "TRACKING", "on"]), (a, ["GET", "k2"]),
            (a, ["SET", "k2", "v"]), (b, ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "k"]),
            (w, ["MSET", "k3", "1", "k2", "2", "z", "3"]), (a, ["PING"]), (b, ["PING"]),
            (b, ["CLIENT", "TRACKINGINFO"]), (a, ["FLUSHALL"]), (b, ["PING"]),
            (b, ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "k", "PREFIX", "kk"]),
            (b, ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "xy"]),
            (a, ["CLIENT", "GETREDIR"]), (a, ["CLIENT", "TRACKING", "on", "REDIRECT", "0"]),
        ]
        for conn, args in steps:
            out.append(s.send(conn, *args))
    finally:
        s.close()
    return out


def test_transcript_matches_redis(server, reference):  # noqa: F811
    assert transcript(server.port) == transcript(reference.port)
