"""DEBUG DIGEST and DEBUG DIGEST-VALUE: equal logical data gives equal
digests whatever the insertion order, the encodings and the node layouts;
any change to a key, a value, an expiry or a consumer group changes them;
they survive DEBUG RELOAD and AOF restarts; errors are Redis's."""
import time

import pytest

from test_aof import aof_server, restart  # noqa: F401 (a fixture)

ZERO = "0" * 40


def digest(r):
    d = r.execute_command("DEBUG", "DIGEST")
    d = d.decode() if isinstance(d, bytes) else d
    assert len(d) == 40 and all(c in "0123456789abcdef" for c in d)
    return d


def digest_value(r, *keys):
    return [d.decode() for d in r.execute_command("DEBUG", "DIGEST-VALUE", *keys)]


def alike(r, *keys):
    """Whether the keys' DIGEST-VALUEs are all equal."""
    return len(set(digest_value(r, *keys))) == 1


def error_of(r, *args):
    with pytest.raises(Exception) as e:
        r.execute_command(*args)
    return str(e.value)


# ---- replies and errors ----

def test_empty_dataset_is_forty_zeros(r):
    assert digest(r) == ZERO
    r.set("k", "v")
    assert digest(r) != ZERO
    r.delete("k")
    assert digest(r) == ZERO


def test_digest_value_of_missing_keys_and_of_none(r):
    r.set("here", "1")
    here, missing, again = digest_value(r, "here", "missing", "here")
    assert missing == ZERO
    assert here != ZERO and here == again
    assert digest_value(r) == []


def test_replies_are_status_lines_in_both_protocols(r, raw, raw3):
    r.set("a", "1")
    d = digest(r)
    raw.send(b"DEBUG DIGEST\r\nDEBUG DIGEST-VALUE a nope\r\n")
    assert raw.read_line() == b"+" + d.encode()
    assert raw.read_line() == b"*2"
    assert raw.read_line().startswith(b"+")
    assert raw.read_line() == b"+" + ZERO.encode()
    assert raw3.call("DEBUG", "DIGEST") == d


def test_wrong_arity_and_unknown_subcommands_in_redis_words(r):
    assert error_of(r, "DEBUG", "DIGEST", "x") == \
        "unknown subcommand or wrong number of arguments for 'DIGEST'. Try DEBUG HELP."
    assert error_of(r, "DEBUG", "digest", "a", "b") == \
        "unknown subcommand or wrong number of arguments for 'digest'. Try DEBUG HELP."
    assert error_of(r, "DEBUG", "SLEEP") == \
        "unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP."
    assert error_of(r, "DEBUG", "NOPE") == \
        "unknown subcommand or wrong number of arguments for 'NOPE'. Try DEBUG HELP."
    assert error_of(r, "DEBUG") == "wrong number of arguments for 'debug' command"


def test_debug_help_lists_the_digest_subcommands(r):
    lines = [l.decode() for l in r.execute_command("DEBUG", "HELP")]
    assert lines[0] == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "DIGEST" in lines and "DIGEST-VALUE <key> [<key> ...]" in lines
    assert lines[-2:] == ["HELP", "    Print this help."]


# ---- equal data, equal digests ----

def test_key_insertion_order_and_table_history_do_not_show(r):
    keys = ["key:%d" % i for i in range(3000)]
    for k in keys:
        r.set(k, k)
    forward = digest(r)
    r.flushall()
    for k in reversed(keys):
        r.set(k, k)
    assert digest(r) == forward
    # grow the table past its size, then shrink it back (rehashing)
    for i in range(20000):
        r.set("extra:%d" % i, i)
    r.delete(*["extra:%d" % i for i in range(20000)])
    assert digest(r) == forward


def test_hash_converted_to_hashtable_equals_a_packed_one(r):
    fields = {"f%d" % i: "v%d" % i for i in range(20)}
    r.hset("packed", mapping=fields)
    r.hset("table", mapping=dict(reversed(list(fields.items()))))
    r.hset("table", "big", "x" * 100)
    r.hdel("table", "big")
    assert r.object("encoding", "packed") == b"listpack"
    assert r.object("encoding", "table") == b"hashtable"
    assert alike(r, "packed", "table")
    r.hset("table", "f7", "v8")
    assert not alike(r, "packed", "table")


def test_intset_equals_a_hashtable_set(r):
    members = [str(i) for i in range(200)]
    r.sadd("ints", *members)
    r.sadd("table", "not-a-number", *reversed(members))
    r.srem("table", "not-a-number")
    assert r.object("encoding", "ints") == b"intset"
    assert r.object("encoding", "table") == b"hashtable"
    assert alike(r, "ints", "table")
    # a hashtable set shrunk to two members against a packed one
    r.sadd("big", *["m%d" % i for i in range(300)])
    r.srem("big", *["m%d" % i for i in range(2, 300)])
    r.sadd("small", "m1", "m0")
    assert r.object("encoding", "big") == b"hashtable"
    assert r.object("encoding", "small") == b"listpack"
    assert alike(r, "big", "small")
    r.sadd("small", "m2")
    assert not alike(r, "big", "small")


def test_list_lpush_equals_rpush_reversed(r):
    items = ["item:%d" % i for i in range(10000)]
    for i in range(0, 10000, 1000):
        r.rpush("right", *items[i:i + 1000])
    rev = list(reversed(items))
    for i in range(0, 10000, 1000):
        r.lpush("left", *rev[i:i + 1000])
    assert r.lrange("left", 0, -1) == r.lrange("right", 0, -1)
    assert alike(r, "left", "right")
    r.lset("left", 5000, "item:5000!")
    assert not alike(r, "left", "right")


def test_list_node_layout_does_not_show(fresh_server):
    srv = fresh_server()
    r = srv.client()
    items = ["e%d" % i for i in range(2000)]
    r.rpush("big-nodes", *items)
    r.config_set("list-max-listpack-size", 4)
    r.rpush("small-nodes", *items)
    r.config_set("list-compress-depth", 1)
    r.rpush("compressed", *items)
    assert alike(r, "big-nodes", "small-nodes", "compressed")


def test_sorted_set_listpack_equals_skiplist(r):
    pairs = {"m%d" % i: i * 0.5 for i in range(50)}
    r.zadd("packed", pairs)
    r.zadd("skip", {"x" * 100: 1})
    r.zadd("skip", dict(reversed(list(pairs.items()))))
    r.zrem("skip", "x" * 100)
    assert r.object("encoding", "packed") == b"listpack"
    assert r.object("encoding", "skip") == b"skiplist"
    assert alike(r, "packed", "skip")
    r.zincrby("skip", 0.25, "m3")
    assert not alike(r, "packed", "skip")


def test_integer_and_plain_strings_digest_alike(r):
    r.set("int", "12345")
    r.set("plain", "12344")
    r.incrbyfloat("plain", 1)
    assert r.object("encoding", "int") == b"int"
    assert r.object("encoding", "plain") != b"int"
    assert alike(r, "int", "plain")


def build_stream(r, key):
    """The same stream every time: entries, a deletion, a group with two
    consumers and pending entries delivered once and twice."""
    for i in range(300):
        r.xadd(key, {"f": "v%d" % i, "n": i} if i % 2 else {"f": "v%d" % i}, id="1000-%d" % i)
    r.xdel(key, "1000-5")
    r.xgroup_create(key, "g", id="0")
    r.xreadgroup("g", "alice", {key: ">"}, count=10)
    r.xreadgroup("g", "bob", {key: ">"}, count=5)
    r.xclaim(key, "g", "bob", 0, ["1000-2"])
    r.xack(key, "g", "1000-3")
    r.xgroup_createconsumer(key, "g", "carol")


def test_stream_block_layout_and_delivery_times_do_not_show(fresh_server):
    srv = fresh_server()
    r = srv.client()
    build_stream(r, "s1")
    time.sleep(0.05)  # other delivery and seen times
    r.config_set("stream-node-max-entries", 7)
    build_stream(r, "s2")
    assert alike(r, "s1", "s2")
    before = digest(r)
    # only times change: claimed by its owner without counting a delivery
    r.xclaim("s1", "g", "bob", 0, ["1000-2"], idle=5000, justid=True)
    assert digest(r) == before


@pytest.mark.parametrize("change", [
    ("XADD", "s", "1001-0", "f", "v"),
    ("XDEL", "s", "1000-100"),
    ("XACK", "s", "g", "1000-0"),
    ("XCLAIM", "s", "g", "alice", "0", "1000-6"),
    ("XCLAIM", "s", "g", "bob", "0", "1000-6"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "dave"),
    ("XGROUP", "DELCONSUMER", "s", "g", "carol"),
    ("XGROUP", "CREATE", "s", "h", "0"),
    ("XGROUP", "SETID", "s", "g", "1000-20"),
    ("XSETID", "s", "2000-0"),
    ("XTRIM", "s", "MAXLEN", "250"),
])
def test_any_stream_change_changes_the_digest(r, change):
    build_stream(r, "s")
    before = digest(r)
    r.execute_command(*change)
    assert digest(r) != before


@pytest.mark.parametrize("change", [
    ("SETRANGE", "str", "3", "X"),
    ("APPEND", "str", "!"),
    ("LSET", "list", "1", "B"),
    ("RPUSH", "list", "d"),
    ("HSET", "hash", "f1", "w1"),
    ("HSET", "hash", "f9", "v9"),
    ("SADD", "set", "z"),
    ("SREM", "set", "a"),
    ("ZINCRBY", "zset", "1", "a"),
    ("ZADD", "zset", "5", "q"),
    ("PEXPIREAT", "str", "4000000000001"),
    ("PERSIST", "ttl"),
    ("RENAME", "str", "str2"),
    ("MOVE", "str", "1"),
    ("SET", "new", ""),
])
def test_any_change_changes_the_digest(r, change):
    r.set("str", "abcdef")
    r.pexpireat("str", 4000000000000)
    r.set("ttl", "t")
    r.pexpireat("ttl", 4000000000000)
    r.rpush("list", "a", "b", "c")
    r.hset("hash", mapping={"f1": "v1", "f2": "v2"})
    r.sadd("set", "a", "b")
    r.zadd("zset", {"a": 1, "b": 2})
    before = digest(r)
    r.execute_command(*change)
    assert digest(r) != before


def test_the_database_number_counts(r):
    r.set("k", "v")
    in_db0 = digest(r)
    r.move("k", 1)
    assert digest(r) != in_db0
    r.swapdb(0, 1)
    assert digest(r) == in_db0


# ---- across reloads and restarts ----

def fill_everything(r):
    r.set("str", "hello")
    r.set("int", 42)
    r.set("big", "x" * 1000)
    r.pexpireat("str", 4000000000000)
    r.rpush("list", *range(1000))
    r.hset("small-hash", mapping={"a": 1, "b": "two"})
    r.hset("big-hash", mapping={"f%d" % i: "v" * (i % 80) for i in range(300)})
    r.sadd("ints", *range(100))
    r.sadd("strs", *["m%d" % i for i in range(200)])
    r.zadd("small-z", {"a": 1.5, "b": -2})
    r.zadd("big-z", {"m%d" % i: i / 3 for i in range(300)})
    build_stream(r, "stream")
    r.xadd("trimmed", {"a": 1}, id="5-1")
    r.xadd("trimmed", {"a": 2}, id="6-1")
    r.xdel("trimmed", "6-1")
    r.xdel("trimmed", "5-1")
    r.execute_command("SELECT", 2)
    r.set("in-db-2", "yes")
    r.execute_command("SELECT", 0)


def test_debug_reload_keeps_the_digest(fresh_server):
    srv = fresh_server()
    r = srv.client()
    fill_everything(r)
    before = digest(r)
    values = digest_value(r, "str", "list", "big-hash", "stream", "trimmed")
    assert r.execute_command("DEBUG", "RELOAD")
    assert digest(r) == before
    assert digest_value(r, "str", "list", "big-hash", "stream", "trimmed") == values


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_restart_keeps_the_digest(aof_server, preamble):  # noqa: F811
    make, servers = aof_server
    srv = make("--aof-use-rdb-preamble", preamble)
    r = srv.client()
    fill_everything(r)
    before = digest(r)
    new = restart(srv, "--aof-use-rdb-preamble", preamble)
    servers.append(new)
    assert digest(new.client()) == before
    # and once the AOF has been rewritten into a base
    c = new.client()
    c.bgrewriteaof()
    deadline = time.time() + 10
    while time.time() < deadline and (c.info("persistence")["aof_rewrite_in_progress"] or
                                      c.info("persistence")["aof_rewrites"] < 1):
        time.sleep(0.05)
    assert c.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    newer = restart(new, "--aof-use-rdb-preamble", preamble)
    servers.append(newer)
    assert digest(newer.client()) == before


def test_two_servers_with_the_same_data_agree(fresh_server):
    a, b = fresh_server().client(), fresh_server().client()
    fill_everything(a)
    b.config_set("stream-node-max-entries", 3)
    b.config_set("list-max-listpack-size", 5)
    fill_everything(b)
    assert digest(a) == digest(b)

