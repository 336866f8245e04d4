"""Pub/sub: channels, patterns and sharded channels in RESP2 and RESP3, the
PUBSUB introspection commands, subscribed mode, fan-out to many subscribers,
and output-buffer limits for subscribers that stop reading.

Reply shapes and error texts were checked side by side against Debian's
redis-server 7.0. Subscribers are raw sockets (redis-py 4.3 speaks only
RESP2 and hides the frames); the publisher is redis-py."""
import resource
import selectors
import socket
import threading
import time

import pytest

from conftest import RawConnection

SUBSCRIBED_ONLY = ("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                   "allowed in this context")
LIMIT_LOG = "scheduled to be closed ASAP for overcoming of output buffer limits"


# ---- helpers ----

def connect(server, resp=2):
    conn = server.raw()
    if resp == 3:
        assert conn.call("HELLO", "3")["proto"] == 3
    return conn


def frame(resp, *items):
    """What read_reply returns for a pub/sub frame: an array in RESP2, a push in RESP3."""
    items = [i.encode() if isinstance(i, str) else i for i in items]
    return ("push", items) if resp == 3 else items


def read_frames(conn, n):
    return [conn.read_reply() for _ in range(n)]


def subscribe(conn, command, *names):
    """Sends a (P|S)SUBSCRIBE and returns its replies, one per name."""
    conn.command(command, *names)
    return read_frames(conn, len(names))


def silent(conn, wait=0.2):
    """True when nothing arrives on the connection for `wait` seconds."""
    if conn.buf:
        return False
    conn.sock.settimeout(wait)
    try:
        data = conn.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        conn.sock.settimeout(5)
    conn.buf += data
    return False


def wait_until(predicate, timeout=5.0, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def numsub(r, channel):
    return r.pubsub_numsub(channel)[0][1]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def resp(request):
    return request.param


# ---- the seed's examples ----

def test_publish_hello_world_reaches_one_subscriber(server, r):
    p = r.pubsub()
    p.subscribe("hello")
    assert p.get_message(timeout=2)["type"] == "subscribe"
    assert r.publish("hello", "world") == 1
    msg = p.get_message(timeout=2)
    assert msg == {"type": "message", "pattern": None, "channel": b"hello", "data": b"world"}
    p.close()


def test_subscribe_event1_event2_counts_1_and_2(server, resp):
    c = connect(server, resp)
    assert subscribe(c, "SUBSCRIBE", "event1", "event2") == [
        frame(resp, "subscribe", "event1", 1),
        frame(resp, "subscribe", "event2", 2),
    ]
    c.close()


def test_psubscribe_mail_star_receives_track_and_album(server, r, resp):
    c = connect(server, resp)
    assert subscribe(c, "PSUBSCRIBE", "mail-*") == [frame(resp, "psubscribe", "mail-*", 1)]
    assert r.publish("mail-track", "song") == 1
    assert r.publish("mail-album", "record") == 1
    assert r.publish("mailbox", "not for you") == 0
    assert read_frames(c, 2) == [
        frame(resp, "pmessage", "mail-*", "mail-track", "song"),
        frame(resp, "pmessage", "mail-*", "mail-album", "record"),
    ]
    assert silent(c)
    c.close()


def test_spublish_apple_reaches_ssubscribed_client(server, r, resp):
    c = connect(server, resp)
    assert subscribe(c, "SSUBSCRIBE", "apple") == [frame(resp, "ssubscribe", "apple", 1)]
    assert r.execute_command("SPUBLISH", "apple", "a") == 1
    assert c.read_reply() == frame(resp, "smessage", "apple", "a")
    c.close()


# ---- PUBLISH and (UN)SUBSCRIBE ----

def test_publish_without_subscribers_returns_zero(server, r):
    assert r.publish("nobody", "x") == 0
    assert r.execute_command("SPUBLISH", "nobody", "x") == 0


def test_message_frame_shape(server, r, resp):
    c = connect(server, resp)
    subscribe(c, "SUBSCRIBE", "news")
    assert r.publish("news", "hi") == 1
    raw = c.read_line()
    assert raw == (b">3" if resp == 3 else b"*3")
    assert c.read_reply() == b"message"
    assert c.read_reply() == b"news"
    assert c.read_reply() == b"hi"
    c.close()


def test_subscribing_twice_counts_once(server, r, resp):
    c = connect(server, resp)
    assert subscribe(c, "SUBSCRIBE", "a", "a", "b") == [
        frame(resp, "subscribe", "a", 1),
        frame(resp, "subscribe", "a", 1),
        frame(resp, "subscribe", "b", 2),
    ]
    assert subscribe(c, "SUBSCRIBE", "a") == [frame(resp, "subscribe", "a", 2)]
    assert numsub(r, "a") == 1
    assert r.publish("a", "once") == 1
    assert c.read_reply() == frame(resp, "message", "a", "once")
    assert silent(c)
    c.close()


def test_unsubscribe_named_replies_each_with_running_count(server, r, resp):
    c = connect(server, resp)
    subscribe(c, "SUBSCRIBE", "a", "b", "c")
    c.command("UNSUBSCRIBE", "b", "zz", "a")
    assert read_frames(c, 3) == [
        frame(resp, "unsubscribe", "b", 2),
        frame(resp, "unsubscribe", "zz", 2),
        frame(resp, "unsubscribe", "a", 1),
    ]
    assert r.publish("a", "x") == 0
    assert r.publish("c", "x") == 1
    assert c.read_reply() == frame(resp, "message", "c", "x")
    c.close()


def test_unsubscribe_without_names_leaves_all(server, r, resp):
    c = connect(server, resp)
    subscribe(c, "SUBSCRIBE", "a", "b", "c")
    c.command("UNSUBSCRIBE")
    got = read_frames(c, 3)
    names = sorted(f[1][1] if resp == 3 else f[1] for f in got)
    counts = [f[1][2] if resp == 3 else f[2] for f in got]
    assert names == [b"a", b"b", b"c"]
    assert counts == [2, 1, 0]
    assert all((f[1][0] if resp == 3 else f[0]) == b"unsubscribe" for f in got)
    assert r.publish("a", "x") == 0
    assert silent(c)
    c.close()


@pytest.mark.parametrize("command", ["UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"])
def test_unsubscribe_all_with_nothing_replies_nil_and_zero(server, resp, command):
    c = connect(server, resp)
    c.command(command)
    line = c.read_line()
    assert line == (b">3" if resp == 3 else b"*3")
    assert c.read_reply() == command.lower().encode()
    nil = c.read_line()
    assert nil == (b"_" if resp == 3 else b"$-1")
    assert c.read_reply() == 0
    assert silent(c)
    c.close()


def test_channels_and_patterns_share_a_count_shards_have_their_own(server, resp):
    c = connect(server, resp)
    assert subscribe(c, "SUBSCRIBE", "a") == [frame(resp, "subscribe", "a", 1)]
    assert subscribe(c, "PSUBSCRIBE", "p*", "q*") == [
        frame(resp, "psubscribe", "p*", 2),
        frame(resp, "psubscribe", "q*", 3),
    ]
    assert subscribe(c, "SSUBSCRIBE", "s1", "s2") == [
        frame(resp, "ssubscribe", "s1", 1),
        frame(resp, "ssubscribe", "s2", 2),
    ]
    c.command("PUNSUBSCRIBE", "p*")
    assert c.read_reply() == frame(resp, "punsubscribe", "p*", 2)
    c.command("SUNSUBSCRIBE", "s1")
    assert c.read_reply() == frame(resp, "sunsubscribe", "s1", 1)
    c.command("UNSUBSCRIBE", "a")
    assert c.read_reply() == frame(resp, "unsubscribe", "a", 1)
    c.close()


def test_publish_counts_channel_and_pattern_subscribers(server, r):
    chan = connect(server)
    pat = connect(server)
    both = connect(server, 3)
    subscribe(chan, "SUBSCRIBE", "news.tech")
    subscribe(pat, "PSUBSCRIBE", "news.*")
    subscribe(both, "SUBSCRIBE", "news.tech")
    subscribe(both, "PSUBSCRIBE", "news.*")
    assert r.publish("news.tech", "m") == 4
    assert r.publish("news.art", "m") == 2
    assert chan.read_reply() == [b"message", b"news.tech", b"m"]
    assert pat.read_reply() == [b"pmessage", b"news.*", b"news.tech", b"m"]
    assert pat.read_reply() == [b"pmessage", b"news.*", b"news.art", b"m"]
    got = read_frames(both, 3)
    assert ("push", [b"message", b"news.tech", b"m"]) in got
    assert ("push", [b"pmessage", b"news.*", b"news.tech", b"m"]) in got
    assert ("push", [b"pmessage", b"news.*", b"news.art", b"m"]) in got
    for c in (chan, pat, both):
        assert silent(c, 0.1)
        c.close()


def test_message_matching_several_patterns_is_delivered_once_per_pattern(server, r, resp):
    c = connect(server, resp)
    subscribe(c, "PSUBSCRIBE", "a*", "*b", "a?", "zz*")
    assert r.publish("ab", "hi") == 3
    got = read_frames(c, 3)
    expected = [frame(resp, "pmessage", p, "ab", "hi") for p in ("a*", "*b", "a?")]
    assert sorted(map(repr, got)) == sorted(map(repr, expected))
    assert silent(c)
    c.close()


def test_same_pattern_in_two_clients(server, r):
    a, b = connect(server), connect(server)
    subscribe(a, "PSUBSCRIBE", "x*")
    subscribe(b, "PSUBSCRIBE", "x*")
    assert r.pubsub_numpat() == 1
    assert r.publish("xy", "1") == 2
    assert a.read_reply() == b.read_reply() == [b"pmessage", b"x*", b"xy", b"1"]
    a.close()
    assert wait_until(lambda: r.publish("xy", "2") == 1)
    assert r.pubsub_numpat() == 1
    b.close()
    assert wait_until(lambda: r.pubsub_numpat() == 0)


# Which channels each pattern matches, as redis-server 7.0 decided them.
GLOB_CASES = [
    ("h?llo", ["hello", "hallo", "h*llo"], ["hllo", "heello"]),
    ("h*llo", ["hllo", "hello", "heeello"], ["hell", "ahello"]),
    ("h[ae]llo", ["hello", "hallo"], ["hillo", "hllo"]),
    ("h[^e]llo", ["hallo", "hbllo", "h]llo"], ["hello", "hllo"]),
    ("h[a-b]llo", ["hallo", "hbllo"], ["hcllo", "hello"]),
    ("h[b-a]llo", ["hallo", "hbllo"], ["hcllo"]),  # reversed ranges are swapped
    ("h\\*llo", ["h*llo"], ["hello", "hllo"]),
    ("h\\?llo", ["h?llo"], ["hello"]),
    ("h\\[llo", ["h[llo"], ["hllo"]),
    ("h[\\]]llo", ["h]llo"], ["hallo"]),
    ("h[a-]llo", [], ["hallo", "h-llo"]),
    ("a*b*c", ["abc", "aXbYc"], ["ab", "acb"]),
    ("*\\*", ["a*", "*"], ["a"]),
    ("?", ["x", "]"], ["xy"]),
    ("[!a]x", ["!x", "ax"], ["bx"]),  # '!' is not negation
    ("h[a", ["ha"], ["h[a", "hb"]),  # unterminated class
    ("**", ["anything", "x"], []),
]


@pytest.mark.parametrize("pattern,matching,other", GLOB_CASES, ids=[c[0] for c in GLOB_CASES])
def test_glob_patterns(server, r, pattern, matching, other):
    c = connect(server)
    subscribe(c, "PSUBSCRIBE", pattern)
    for ch in matching:
        assert r.publish(ch, "m") == 1, ch
        assert c.read_reply() == [b"pmessage", pattern.encode(), ch.encode(), b"m"]
    for ch in other:
        assert r.publish(ch, "m") == 0, ch
    assert silent(c, 0.05)
    c.close()


def test_binary_safe_names_and_large_message(server, r, resp):
    c = connect(server, resp)
    name = b"ch\r\n\x00\xff"
    subscribe(c, "SUBSCRIBE", name)
    big = bytes(range(256)) * 4096  # 1 MiB
    assert r.publish(name, big) == 1
    assert r.publish(name, b"") == 1
    assert c.read_reply() == frame(resp, b"message", name, big)
    assert c.read_reply() == frame(resp, b"message", name, b"")
    c.close()


def test_messages_arrive_in_publish_order(server, r):
    c = connect(server)
    subscribe(c, "SUBSCRIBE", "seq")
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.publish("seq", str(i))
    assert pipe.execute() == [1] * 2000
    for i in range(2000):
        assert c.read_reply() == [b"message", b"seq", str(i).encode()]
    c.close()


def test_publish_inside_multi(server, r):
    c = connect(server)
    subscribe(c, "SUBSCRIBE", "tx")
    pipe = r.pipeline(transaction=True)
    pipe.publish("tx", "1")
    pipe.publish("tx", "2")
    assert pipe.execute() == [1, 1]
    assert read_frames(c, 2) == [[b"message", b"tx", b"1"], [b"message", b"tx", b"2"]]
    c.close()


def test_subscriber_can_publish_to_itself(server, resp):
    c = connect(server, resp)
    subscribe(c, "SUBSCRIBE", "me")
    if resp == 2:
        assert c.call("PUBLISH", "me", "x") == ("error", SUBSCRIBED_ONLY % "publish")
    else:
        c.command("PUBLISH", "me", "x")
        got = read_frames(c, 2)
        assert ("push", [b"message", b"me", b"x"]) in got and 1 in got
    c.close()


def test_disconnect_drops_subscriptions(server, r):
    c = connect(server)
    subscribe(c, "SUBSCRIBE", "gone")
    subscribe(c, "PSUBSCRIBE", "gone*")
    subscribe(c, "SSUBSCRIBE", "gone")
    assert numsub(r, "gone") == 1
    c.close()
    assert wait_until(lambda: numsub(r, "gone") == 0)
    assert r.pubsub_numpat() == 0
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "gone") == [b"gone", 0]
    assert r.publish("gone", "x") == 0


def test_arity_errors(server, r):
    c = connect(server)
    assert c.call("SUBSCRIBE") == ("error", "ERR wrong number of arguments for 'subscribe' command")
    assert c.call("PSUBSCRIBE") == ("error", "ERR wrong number of arguments for 'psubscribe' command")
    assert c.call("SSUBSCRIBE") == ("error", "ERR wrong number of arguments for 'ssubscribe' command")
    assert c.call("PUBLISH", "a") == ("error", "ERR wrong number of arguments for 'publish' command")
    assert c.call("SPUBLISH", "a") == ("error", "ERR wrong number of arguments for 'spublish' command")
    assert c.call("PUBLISH", "a", "b", "c") == ("error", "ERR wrong number of arguments for 'publish' command")
    c.close()


# ---- subscribed mode ----

def test_resp2_subscribed_mode_refuses_other_commands(server):
    c = connect(server)
    subscribe(c, "SUBSCRIBE", "a")
    assert c.call("GET", "x") == ("error", SUBSCRIBED_ONLY % "get")
    assert c.call("set", "x", "1") == ("error", SUBSCRIBED_ONLY % "set")
    assert c.call("CLIENT", "ID") == ("error", SUBSCRIBED_ONLY % "client|id")
    assert c.call("MULTI") == ("error", SUBSCRIBED_ONLY % "multi")
    assert c.call("PUBSUB", "NUMPAT") == ("error", SUBSCRIBED_ONLY % "pubsub|numpat")
    # the allowed ones still work
    assert subscribe(c, "PSUBSCRIBE", "p*") == [[b"psubscribe", b"p*", 2]]
    assert subscribe(c, "SSUBSCRIBE", "s") == [[b"ssubscribe", b"s", 1]]
    c.command("SUNSUBSCRIBE", "s")
    assert c.read_reply() == [b"sunsubscribe", b"s", 0]
    c.command("PUNSUBSCRIBE")
    assert c.read_reply() == [b"punsubscribe", b"p*", 1]
    c.command("UNSUBSCRIBE")
    assert c.read_reply() == [b"unsubscribe", b"a", 0]
    # out of subscribed mode: everything is allowed again
    assert c.call("GET", "x") is None
    assert c.call("PING") == "PONG"
    c.close()


def test_resp2_shard_subscription_alone_enters_subscribed_mode(server):
    c = connect(server)
    subscribe(c, "SSUBSCRIBE", "s")
    assert c.call("GET", "x") == ("error", SUBSCRIBED_ONLY % "get")
    c.command("SUNSUBSCRIBE")
    assert c.read_reply() == [b"sunsubscribe", b"s", 0]
    assert c.call("GET", "x") is None
    c.close()


def test_ping_in_subscribed_mode(server, resp):
    c = connect(server, resp)
    subscribe(c, "SUBSCRIBE", "a")
    if resp == 2:
        assert c.call("PING") == [b"pong", b""]
        assert c.call("PING", "hi") == [b"pong", b"hi"]
    else:
        assert c.call("PING") == "PONG"
        assert c.call("PING", "hi") == b"hi"
    c.close()


def test_resp3_allows_every_command_while_subscribed(server, r):
    c = connect(server, 3)
    subscribe(c, "SUBSCRIBE", "a")
    subscribe(c, "PSUBSCRIBE", "b*")
    assert c.call("SET", "k", "v") == "OK"
    assert c.call("GET", "k") == b"v"
    assert c.call("PUBSUB", "NUMSUB", "a") == [b"a", 1]
    assert isinstance(c.call("CLIENT", "ID"), int)
    assert r.publish("a", "x") == 1
    assert r.publish("bz", "y") == 1
    assert c.read_reply() == ("push", [b"message", b"a", b"x"])
    assert c.read_reply() == ("push", [b"pmessage", b"b*", b"bz", b"y"])
    assert c.call("GET", "k") == b"v"
    c.close()


def test_quit_in_subscribed_mode(server, r):
    c = connect(server)
    subscribe(c, "SUBSCRIBE", "q")
    assert c.call("QUIT") == "OK"
    assert c.closed()
    assert wait_until(lambda: numsub(r, "q") == 0)


def test_reset_leaves_all_subscriptions(server, r, resp):
    c = connect(server, resp)
    subscribe(c, "SUBSCRIBE", "a", "b")
    subscribe(c, "PSUBSCRIBE", "p*")
    subscribe(c, "SSUBSCRIBE", "s")
    assert c.call("RESET") == "RESET"
    assert r.pubsub_numsub("a", "b") == [(b"a", 0), (b"b", 0)]
    assert r.pubsub_numpat() == 0
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s") == [b"s", 0]
    assert r.publish("a", "x") == 0
    assert r.publish("px", "x") == 0
    assert r.execute_command("SPUBLISH", "s", "x") == 0
    # RESET also returns to RESP2 and out of subscribed mode
    assert c.call("GET", "nothing") is None
    assert c.call("PING") == "PONG"
    assert silent(c, 0.1)
    c.close()


def test_resp3_unsubscribe_nil_is_null(server):
    c = connect(server, 3)
    c.command("UNSUBSCRIBE")
    assert c.read_reply() == ("push", [b"unsubscribe", None, 0])
    c.close()


# ---- sharded channels ----

def test_shard_channels_are_separate_from_classic(server, r, resp):
    classic = connect(server, resp)
    pattern = connect(server, resp)
    shard = connect(server, resp)
    subscribe(classic, "SUBSCRIBE", "apple")
    subscribe(pattern, "PSUBSCRIBE", "*")
    subscribe(shard, "SSUBSCRIBE", "apple")
    assert r.execute_command("SPUBLISH", "apple", "s") == 1
    assert shard.read_reply() == frame(resp, "smessage", "apple", "s")
    assert silent(classic, 0.1) and silent(pattern, 0.05)
    assert r.publish("apple", "c") == 2
    assert classic.read_reply() == frame(resp, "message", "apple", "c")
    assert pattern.read_reply() == frame(resp, "pmessage", "*", "apple", "c")
    assert silent(shard, 0.1)
    assert numsub(r, "apple") == 1
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "apple") == [b"apple", 1]
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == [b"apple"]
    assert r.pubsub_channels() == [b"apple"]
    for c in (classic, pattern, shard):
        c.close()


def test_ssubscribe_many_and_sunsubscribe(server, r, resp):
    c = connect(server, resp)
    assert subscribe(c, "SSUBSCRIBE", "s1", "s2", "s1") == [
        frame(resp, "ssubscribe", "s1", 1),
        frame(resp, "ssubscribe", "s2", 2),
        frame(resp, "ssubscribe", "s1", 2),
    ]
    c.command("SUNSUBSCRIBE", "s2", "nope")
    assert read_frames(c, 2) == [frame(resp, "sunsubscribe", "s2", 1), frame(resp, "sunsubscribe", "nope", 1)]
    assert r.execute_command("SPUBLISH", "s2", "x") == 0
    assert r.execute_command("SPUBLISH", "s1", "x") == 1
    assert c.read_reply() == frame(resp, "smessage", "s1", "x")
    c.command("SUNSUBSCRIBE")
    assert c.read_reply() == frame(resp, "sunsubscribe", "s1", 0)
    c.close()


# ---- PUBSUB introspection, INFO, CLIENT LIST ----

def test_pubsub_channels_numsub_numpat(server, r):
    a, b = connect(server), connect(server)
    subscribe(a, "SUBSCRIBE", "news.tech", "news.art", "weather")
    subscribe(b, "SUBSCRIBE", "news.tech")
    subscribe(b, "PSUBSCRIBE", "news.*", "w*")
    subscribe(a, "PSUBSCRIBE", "w*")
    assert sorted(r.pubsub_channels()) == [b"news.art", b"news.tech", b"weather"]
    assert sorted(r.pubsub_channels("news.*")) == [b"news.art", b"news.tech"]
    assert r.pubsub_channels("x*") == []
    # NUMSUB counts channel subscribers only, in the order asked, 0 for unknown
    assert r.pubsub_numsub("news.tech", "weather", "nothing", "news.*") == [
        (b"news.tech", 2), (b"weather", 1), (b"nothing", 0), (b"news.*", 0)]
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    assert r.pubsub_numpat() == 2  # unique patterns, not subscriptions
    a.close()
    assert wait_until(lambda: sorted(r.pubsub_channels()) == [b"news.tech"])
    assert r.pubsub_numpat() == 2
    b.close()
    assert wait_until(lambda: r.pubsub_channels() == [] and r.pubsub_numpat() == 0)


def test_pubsub_shardchannels_and_shardnumsub(server, r):
    c = connect(server)
    subscribe(c, "SSUBSCRIBE", "orders.1", "orders.2", "users")
    assert sorted(r.execute_command("PUBSUB", "SHARDCHANNELS")) == [b"orders.1", b"orders.2", b"users"]
    assert sorted(r.execute_command("PUBSUB", "SHARDCHANNELS", "orders.*")) == [b"orders.1", b"orders.2"]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "users", "nope") == [b"users", 1, b"nope", 0]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB") == []
    assert r.pubsub_channels() == []  # shard channels are not classic channels
    c.close()


def test_pubsub_replies_in_resp3(server):
    sub = connect(server)
    subscribe(sub, "SUBSCRIBE", "a")
    subscribe(sub, "SSUBSCRIBE", "s")
    c = connect(server, 3)
    # NUMSUB stays a flat array in RESP3, as in Redis
    c.command("PUBSUB", "NUMSUB", "a", "b")
    assert c.read_line() == b"*4"
    assert read_frames(c, 4) == [b"a", 1, b"b", 0]
    assert c.call("PUBSUB", "SHARDNUMSUB", "s") == [b"s", 1]
    assert c.call("PUBSUB", "CHANNELS") == [b"a"]
    assert c.call("PUBSUB", "SHARDCHANNELS") == [b"s"]
    assert c.call("PUBSUB", "NUMPAT") == 0
    sub.close()
    c.close()


def test_pubsub_errors_and_help(server):
    c = connect(server)
    assert c.call("PUBSUB", "CHANNELS", "a", "b") == (
        "error", "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
    assert c.call("PUBSUB", "shardchannels", "a", "b") == (
        "error", "ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP.")
    assert c.call("PUBSUB", "NUMPAT", "x") == ("error", "ERR wrong number of arguments for 'pubsub|numpat' command")
    assert c.call("PUBSUB", "FOO") == ("error", "ERR unknown subcommand 'FOO'. Try PUBSUB HELP.")
    assert c.call("PUBSUB") == ("error", "ERR wrong number of arguments for 'pubsub' command")
    help_lines = c.call("PUBSUB", "HELP")
    assert help_lines[0].startswith("PUBSUB <subcommand>")
    assert any(line.startswith("SHARDNUMSUB") for line in help_lines)
    c.close()


def test_info_stats_counts_channels_patterns_shard_channels(server, r):
    def counts():
        s = r.info("stats")
        return s["pubsub_channels"], s["pubsub_patterns"], s["pubsubshard_channels"]

    assert counts() == (0, 0, 0)
    a, b = connect(server), connect(server, 3)
    subscribe(a, "SUBSCRIBE", "c1", "c2")
    subscribe(b, "SUBSCRIBE", "c2", "c3")
    subscribe(a, "PSUBSCRIBE", "p*")
    subscribe(b, "PSUBSCRIBE", "p*", "q*")
    subscribe(b, "SSUBSCRIBE", "s1")
    assert counts() == (3, 2, 1)
    assert r.info("clients")["pubsub_clients"] == 2
    a.close()
    assert wait_until(lambda: counts() == (2, 2, 1))
    b.close()
    assert wait_until(lambda: counts() == (0, 0, 0))


def test_client_list_shows_subscription_counts(server, r):
    c = connect(server)
    subscribe(c, "SUBSCRIBE", "a", "b")
    subscribe(c, "PSUBSCRIBE", "p*")
    subscribe(c, "SSUBSCRIBE", "s1", "s2", "s3")
    me = [cl for cl in r.client_list() if cl["ssub"] == "3"]
    assert len(me) == 1
    assert (me[0]["sub"], me[0]["psub"], me[0]["ssub"]) == ("2", "1", "3")
    assert "P" in me[0]["flags"]
    mine = [cl for cl in r.client_list() if cl["id"] == str(r.client_id())][0]
    assert (mine["sub"], mine["psub"], mine["ssub"]) == ("0", "0", "0")
    assert "P" not in mine["flags"]
    c.command("UNSUBSCRIBE")
    c.read_reply()
    c.read_reply()
    me = [cl for cl in r.client_list() if cl["ssub"] == "3"][0]
    assert (me["sub"], me["psub"]) == ("0", "1")
    c.close()


# ---- fan-out ----

def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < need:
            pytest.skip("needs %d file descriptors" % need)


def test_fan_out_to_1000_subscribers(server, r):
    """Every one of 1,000 subscribers (half RESP2, half RESP3) gets every
    message, in order, and PUBLISH reports 1,000 receivers."""
    n, messages = 1000, 20
    raise_fd_limit(n + 200)
    hello3 = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
    subscribe_cmd = b"*2\r\n$9\r\nSUBSCRIBE\r\n$6\r\nfanout\r\n"
    conns = []
    try:
        for i in range(n):
            c = RawConnection(server.port)
            c.send((hello3 if i % 2 else b"") + subscribe_cmd)
            conns.append(c)
        for i, c in enumerate(conns):
            if i % 2:
                assert c.read_reply()["proto"] == 3
            assert c.read_reply() == frame(3 if i % 2 else 2, "subscribe", "fanout", 1)
        assert numsub(r, "fanout") == n
        pipe = r.pipeline(transaction=False)
        for m in range(messages):
            pipe.publish("fanout", "payload-%d" % m)
        assert pipe.execute() == [n] * messages
        expected2 = b"".join(b"*3\r\n$7\r\nmessage\r\n$6\r\nfanout\r\n$%d\r\npayload-%d\r\n"
                             % (len("payload-%d" % m), m) for m in range(messages))
        expected3 = expected2.replace(b"*3\r\n$7\r\nmessage", b">3\r\n$7\r\nmessage")
        sel = selectors.DefaultSelector()
        received = {}
        for i, c in enumerate(conns):
            c.sock.setblocking(False)
            received[i] = c.buf
            sel.register(c.sock, selectors.EVENT_READ, i)
        want = {i: (expected3 if i % 2 else expected2) for i in range(n)}
        pending = {i for i in range(n) if len(received[i]) < len(want[i])}
        deadline = time.time() + 30
        while pending and time.time() < deadline:
            for key, _ in sel.select(timeout=1):
                i = key.data
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                assert chunk, "subscriber %d disconnected" % i
                received[i] += chunk
                if len(received[i]) >= len(want[i]):
                    pending.discard(i)
                    sel.unregister(key.fileobj)
        sel.close()
        assert not pending, "%d subscribers missed messages" % len(pending)
        bad = [i for i in range(n) if received[i] != want[i]]
        assert not bad, "subscriber %d got %r" % (bad[0], received[bad[0]][:200])
    finally:
        for c in conns:
            c.close()
    assert wait_until(lambda: numsub(r, "fanout") == 0, timeout=10)


# ---- output-buffer limits for slow subscribers ----

def stuck_subscriber(port, channel, rcvbuf=4096):
    """A subscriber whose kernel receive buffer is tiny and that never reads
    after its subscription reply, so what it is sent piles up in the server."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    ch = channel.encode()
    s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(ch), ch))
    expected = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(ch), ch)
    got = b""
    s.settimeout(5)
    while len(got) < len(expected):
        got += s.recv(len(expected) - len(got))
    assert got == expected
    return s


class HealthySubscriber(threading.Thread):
    """Reads every message of a channel as fast as it comes."""

    def __init__(self, port, channel, expect):
        super().__init__(daemon=True)
        self.conn = RawConnection(port)
        self.conn.sock.settimeout(20)
        subscribe(self.conn, "SUBSCRIBE", channel)
        self.expect = expect
        self.payloads = []
        self.error = None

    def run(self):
        try:
            while len(self.payloads) < self.expect:
                msg = self.conn.read_reply()
                assert msg[0] == b"message", msg
                self.payloads.append(msg[2])
        except Exception as e:  # reported by the test
            self.error = e


def publish_flood(client, channel, count, size=1024, batch=128, paced_by=None, window=256):
    """Pipelines `count` numbered messages of `size` bytes; returns every
    PUBLISH reply. With `paced_by` (a HealthySubscriber), each batch waits
    until that subscriber is at most `window` messages behind, so a reader
    slowed by a busy machine is never the one pushed past an output limit."""
    replies = []
    for start in range(0, count, batch):
        if paced_by is not None:
            deadline = time.time() + 30
            while len(paced_by.payloads) < start - window and paced_by.error is None and time.time() < deadline:
                time.sleep(0.001)
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(start + batch, count)):
            pipe.publish(channel, b"%08d" % i + b"x" * (size - 8))
        replies += pipe.execute()
    return replies


def frame_size(channel, size=1024):
    return len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n" % (len(channel), channel.encode(), size)) + size + 2


def drain_until_closed(s, timeout=10):
    """Reads what the server had handed to the kernel before closing; returns
    the byte count, or None if the connection stayed open."""
    s.settimeout(timeout)
    total = 0
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return total
            total += len(chunk)
    except ConnectionResetError:
        return total
    except socket.timeout:
        return None


def check_stuck_subscriber_disconnected_at_hard_limit(srv, hard=1024 * 1024):
    """The kernel's socket buffers absorb a few MB of what a stuck subscriber
    is sent (the server's send buffer autotunes up to tcp_wmem's maximum);
    the limit counts only what the server still holds, so the flood is
    sized well past both."""
    r = srv.client()
    count, batch = 8192, 128  # 8 MiB
    stuck = stuck_subscriber(srv.port, "flood")
    healthy = HealthySubscriber(srv.port, "flood", count)
    healthy.start()
    bystander = srv.client()
    bystander.set("k", "v")
    replies = publish_flood(r, "flood", count, batch=batch, paced_by=healthy)
    healthy.join(60)
    assert healthy.error is None, healthy.error
    assert len(healthy.payloads) == count
    assert all(p.startswith(b"%08d" % i) and len(p) == 1024 for i, p in enumerate(healthy.payloads))
    healthy.conn.close()
    # both received the first messages; only the healthy one the last
    assert replies[0] == 2 and replies[-1] == 1
    assert replies == sorted(replies, reverse=True)
    cut = replies.index(1)
    received = drain_until_closed(stuck)
    assert received is not None, "the stuck subscriber was not disconnected"
    stuck.close()
    # What it was sent but never got is what the server held when it cut it
    # off: at least the hard limit, and at most a pipeline batch more (it is
    # counted as a receiver until it is reaped at the end of the loop turn).
    owed = cut * frame_size("flood") - received
    assert hard - frame_size("flood") <= owed <= hard + (batch + 1) * frame_size("flood"), (cut, received)
    stats = r.info("stats")
    assert stats["client_output_buffer_limit_disconnections"] == 1
    assert stats["client_output_buffer_limit_disconnections_pubsub"] == 1
    assert wait_until(lambda: LIMIT_LOG in srv.output())
    line = [l for l in srv.output().splitlines() if LIMIT_LOG in l][0]
    assert "cmd=subscribe" in line and "sub=1" in line
    # other clients were not affected
    assert bystander.get("k") == b"v"
    assert numsub(r, "flood") == 0
    r.close()
    bystander.close()


def test_stuck_subscriber_disconnected_at_hard_limit(fresh_server):
    srv = fresh_server("--client-output-buffer-limit", "pubsub", "1mb", "512kb", "2")
    check_stuck_subscriber_disconnected_at_hard_limit(srv)


@pytest.mark.parametrize("args", [
    # one argument, as redis-server accepts it
    ("--client-output-buffer-limit", "pubsub 1mb 512kb 2"),
    ("--client-output-buffer-limit", "pubsub", "1mb", "512kb", "2"),
], ids=["quoted", "split"])
def test_output_limit_on_command_line(fresh_server, args):
    srv = fresh_server(*args)
    r = srv.client()
    assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 2")
    r.close()


def test_output_limit_set_at_run_time(fresh_server):
    srv = fresh_server()
    r = srv.client()
    assert r.config_get("client-output-buffer-limit") == {
        "client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"}
    assert r.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 2") is True
    assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"].endswith(
        "pubsub 1048576 524288 2")
    r.close()
    check_stuck_subscriber_disconnected_at_hard_limit(srv)


def test_soft_limit_disconnects_only_after_its_seconds(fresh_server):
    srv = fresh_server("--client-output-buffer-limit", "pubsub", "0", "256kb", "1")
    r = srv.client()
    stuck = stuck_subscriber(srv.port, "soft")
    count = 6144  # 6 MiB: past what the kernel absorbs and the soft limit; no hard limit
    healthy = HealthySubscriber(srv.port, "soft", count)
    healthy.start()
    started = time.time()
    replies = publish_flood(r, "soft", count)
    over_soft_at = time.time()
    assert replies == [2] * count  # no hard limit: nobody is cut off while publishing
    healthy.join(60)
    assert healthy.error is None and len(healthy.payloads) == count
    if time.time() - over_soft_at < 0.8:
        assert r.info("stats")["client_output_buffer_limit_disconnections"] == 0
    # (reading now would let it catch up: wait for the verdict first)
    assert wait_until(lambda: r.info("stats")["client_output_buffer_limit_disconnections_pubsub"] == 1)
    assert time.time() - started >= 1.0
    assert drain_until_closed(stuck) is not None
    assert r.publish("soft", "after") == 1  # the healthy subscriber is still there
    assert healthy.conn.read_reply() == [b"message", b"soft", b"after"]
    assert LIMIT_LOG in srv.output()
    stuck.close()
    healthy.conn.close()
    r.close()


def test_subscriber_over_soft_limit_briefly_is_kept(fresh_server):
    """A subscriber that falls behind past the soft limit but catches up
    before its seconds run out (and never reaches the hard limit) stays."""
    srv = fresh_server("--client-output-buffer-limit", "pubsub", "64mb", "512kb", "4")
    r = srv.client()
    slow = stuck_subscriber(srv.port, "slow")
    count = 6144
    replies = publish_flood(r, "slow", count)
    assert replies == [1] * count
    assert wait_until(lambda: any(int(c["omem"]) > 512 * 1024 for c in r.client_list()), timeout=2)
    slow.settimeout(10)
    want = count * frame_size("slow")
    got = 0
    while got < want:
        chunk = slow.recv(1 << 20)
        assert chunk, "disconnected"
        got += len(chunk)
    assert got == want
    time.sleep(4.5)  # past the soft seconds: below the soft limit now, so kept
    assert r.info("stats")["client_output_buffer_limit_disconnections"] == 0
    assert r.publish("slow", "still here") == 1
    slow.close()
    r.close()


def test_pubsub_limit_does_not_apply_to_normal_clients(fresh_server):
    """A normal client that does not read its replies is governed by the
    'normal' class (unlimited by default), not by the pubsub limit."""
    srv = fresh_server("--client-output-buffer-limit", "pubsub", "1mb", "512kb", "1")
    r = srv.client()
    r.set("big", b"v" * 100_000)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", srv.port))
    n = 100
    s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * n)  # 10 MB of replies, unread
    assert wait_until(lambda: any(int(c["omem"]) > 2_000_000 for c in r.client_list()))
    time.sleep(1.5)
    assert r.info("stats")["client_output_buffer_limit_disconnections"] == 0
    s.settimeout(10)
    want = n * (len(b"$100000\r\n") + 100_000 + 2)
    got = 0
    while got < want:
        chunk = s.recv(1 << 20)
        assert chunk
        got += len(chunk)
    assert got == want
    s.close()
    r.close()


# ---- many patterns (the prefix index) ----

def test_many_patterns_each_message_reaches_exactly_its_patterns(server, r):
    """Thousands of `user:<n>:*` patterns beside short, empty-prefix and
    escaped ones: a message reaches the patterns glob matching picks, no
    more, and unsubscribing gives them up one by one."""
    conn = connect(server)
    names = ["user:%d:*" % i for i in range(2000)] + ["user:*", "*:login", "user:1?:*", "user:\\*", "[u]ser:7:*"]
    conn.command("PSUBSCRIBE", *names)
    read_frames(conn, len(names))
    assert r.execute_command("PUBSUB", "NUMPAT") == len(names)
    cases = {
        "user:7:login": {"user:7:*", "user:*", "*:login", "[u]ser:7:*"},
        "user:12:x": {"user:12:*", "user:*", "user:1?:*"},
        "user:*": {"user:*", "user:\\*"},
        "users": set(),
        "other:login": {"*:login"},
    }
    for channel, want in cases.items():
        assert r.publish(channel, "m") == len(want), channel
        got = {f[1].decode() for f in read_frames(conn, len(want))}
        assert got == want, channel
        assert silent(conn, 0.05)
    conn.command("PUNSUBSCRIBE", *names[:1999])
    read_frames(conn, 1999)
    assert r.publish("user:7:login", "m") == 3
    assert r.publish("user:1999:a", "m") == 2
    conn.command("PUNSUBSCRIBE")
    read_frames(conn, 6)
    assert r.execute_command("PUBSUB", "NUMPAT") == 0
    assert r.publish("user:7:login", "m") == 0


def test_pattern_shared_by_clients_survives_one_leaving(server, r):
    a, b = connect(server), connect(server, 3)
    subscribe(a, "PSUBSCRIBE", "job.*")
    subscribe(b, "PSUBSCRIBE", "job.*")
    a.close()
    wait_until(lambda: r.publish("job.1", "x") == 1)
    assert b.read_reply() == frame(3, "pmessage", "job.*", "job.1", "x")
