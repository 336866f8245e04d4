"""ACL users and permissions: the rules of ACL SETUSER, checks of commands,
keys (read and write) and channels at top level, in MULTI/EXEC and in
scripts and functions, in RESP2 and RESP3; ACL LOG, DRYRUN, GETUSER, the ACL
file and config-file users, disconnections when users change, AUTH and
HELLO AUTH. Where the reply can be compared, the same commands run against
redis-server 7.0.15 side by side (the `reference` fixture)."""
import hashlib
import time

import pytest
import redis

from conftest import RawConnection, RunnelProcess
from reference_server import reference  # noqa: F401  (fixture)

NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = "NOPERM this user has no permissions to access one of the channels used as arguments"
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def noperm_cmd(name):
    return f"NOPERM this user has no permissions to run the '{name}' command"


@pytest.fixture
def server():
    proc = RunnelProcess()
    yield proc
    proc.stop()


@pytest.fixture
def admin(server):
    r = server.client()
    yield r
    r.close()


def as_user(server, user, password="pw", **kw):
    return server.client(username=user, password=password, **kw)


def error_of(client, *args):
    """The error text; redis-py strips the NOPERM prefix into its class."""
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    if isinstance(e.value, redis.exceptions.NoPermissionError):
        return "NOPERM " + str(e.value)
    return str(e.value)


def resp3(server, user, password="pw"):
    """A raw RESP3 connection authenticated as user by HELLO 3 AUTH."""
    c = RawConnection(server.port)
    hello = c.call("HELLO", "3", "AUTH", user, password)
    assert isinstance(hello, dict) and hello["proto"] == 3, hello
    return c


# --- the permission matrix ------------------------------------------------------

# Each user: its rules, then (command, allowed?) cases. A denied case names
# the error it must get.
MATRIX = {
    "by_command": (
        ["on", ">pw", "~*", "+get", "+set"],
        [
            (["SET", "a", "1"], None),
            (["GET", "a"], None),
            (["DEL", "a"], noperm_cmd("del")),
            (["LPUSH", "l", "x"], noperm_cmd("lpush")),
        ],
    ),
    "by_category": (
        ["on", ">pw", "~*", "+@list", "+@connection"],
        [
            (["LPUSH", "q", "x"], None),
            (["RPOP", "q"], None),
            (["PING"], None),
            (["SET", "a", "1"], noperm_cmd("set")),
            (["HSET", "h", "f", "v"], noperm_cmd("hset")),
        ],
    ),
    "category_minus_command": (
        ["on", ">pw", "~*", "+@read", "-get"],
        [
            (["STRLEN", "a"], None),
            (["GET", "a"], noperm_cmd("get")),
            (["SET", "a", "1"], noperm_cmd("set")),
        ],
    ),
    "by_subcommand": (
        ["on", ">pw", "+config|get", "+client|id"],
        [
            (["CONFIG", "GET", "maxclients"], None),
            (["CLIENT", "ID"], None),
            (["CONFIG", "SET", "maxclients", "100"], noperm_cmd("config|set")),
            (["CLIENT", "KILL", "ID", "999"], noperm_cmd("client|kill")),
        ],
    ),
    "by_first_argument": (
        ["on", ">pw", "+select|0"],
        [
            (["SELECT", "0"], None),
            (["SELECT", "1"], noperm_cmd("select")),
        ],
    ),
    "key_patterns": (
        ["on", ">pw", "~app:*", "+@all"],
        [
            (["SET", "app:1", "v"], None),
            (["GET", "app:1"], None),
            (["GET", "other"], NOPERM_KEY),
            (["MSET", "app:2", "v", "other", "v"], NOPERM_KEY),
            (["LMOVE", "app:l", "other", "LEFT", "RIGHT"], NOPERM_KEY),
        ],
    ),
    "read_only_keys": (
        ["on", ">pw", "%R~ro:*", "~rw:*", "+@all"],
        [
            (["GET", "ro:1"], None),
            (["STRLEN", "ro:1"], None),
            (["EXISTS", "ro:1"], None),
            (["SET", "ro:1", "v"], NOPERM_KEY),
            (["DEL", "ro:1"], NOPERM_KEY),
            (["SET", "rw:1", "v"], None),
            (["COPY", "ro:1", "rw:2"], None),
            (["COPY", "rw:1", "ro:2"], NOPERM_KEY),
        ],
    ),
    "write_only_keys": (
        ["on", ">pw", "%W~wo:*", "+@all"],
        [
            (["SET", "wo:1", "v"], None),
            (["LPUSH", "wo:l", "v"], None),
            (["DEL", "wo:1"], None),
            (["GET", "wo:1"], NOPERM_KEY),
            (["LPOP", "wo:l"], NOPERM_KEY),
            (["SET", "wo:1", "v", "GET"], NOPERM_KEY),
        ],
    ),
    "channels": (
        ["on", ">pw", "resetchannels", "&news.*", "+@all", "~*"],
        [
            (["PUBLISH", "news.sport", "m"], None),
            (["PUBLISH", "gossip", "m"], NOPERM_CHANNEL),
            (["SPUBLISH", "news.x", "m"], None),
            (["SPUBLISH", "gossip", "m"], NOPERM_CHANNEL),
        ],
    ),
}


def setup_matrix(admin):
    for name, (rules, _) in MATRIX.items():
        admin.execute_command("ACL", "SETUSER", name, *rules)
    admin.set("ro:1", "x")
    admin.set("rw:1", "y")


@pytest.mark.parametrize("user", sorted(MATRIX))
def test_matrix_resp2(server, admin, user):
    setup_matrix(admin)
    c = as_user(server, user)
    for args, denial in MATRIX[user][1]:
        if denial is None:
            c.execute_command(*args)
        else:
            assert error_of(c, *args) == denial, args


@pytest.mark.parametrize("user", sorted(MATRIX))
def test_matrix_resp3(server, admin, user):
    setup_matrix(admin)
    c = resp3(server, user)
    for args, denial in MATRIX[user][1]:
        reply = c.call(*args)
        if denial is None:
            assert not (isinstance(reply, tuple) and reply[0] == "error"), (args, reply)
        else:
            assert reply == ("error", denial), args


@pytest.mark.parametrize("user", sorted(MATRIX))
def test_matrix_inside_multi(server, admin, user):
    """Redis checks at queue time: a denied command is refused with NOPERM
    and the transaction is aborted; allowed ones run at EXEC."""
    setup_matrix(admin)
    for args, denial in MATRIX[user][1]:
        c = RawConnection(server.port)
        assert c.call("AUTH", user, "pw") == "OK"
        if not c.call("MULTI") == "OK":
            continue  # a user without MULTI: covered below
        reply = c.call(*args)
        if denial is None:
            assert reply == "QUEUED", (args, reply)
            result = c.call("EXEC")
            assert isinstance(result, list) and len(result) == 1, (args, result)
        else:
            assert reply == ("error", denial), args
            assert c.call("EXEC") == ("error", "EXECABORT Transaction discarded because of previous errors.")
        c.close()


def test_multi_needs_its_own_permission(server, admin):
    admin.execute_command("ACL", "SETUSER", "nomulti", "on", ">pw", "~*", "+get")
    c = as_user(server, "nomulti")
    assert error_of(c, "MULTI") == noperm_cmd("multi")


def test_exec_rechecks_after_the_rules_changed(server, admin):
    admin.execute_command("ACL", "SETUSER", "w", "on", ">pw", "~*", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "w", "pw") == "OK"
    assert c.call("MULTI") == "OK"
    assert c.call("SET", "k", "1") == "QUEUED"
    assert c.call("GET", "k") == "QUEUED"
    admin.execute_command("ACL", "SETUSER", "w", "-set")
    result = c.call("EXEC")
    assert result[0] == (
        "error",
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and its execution. "
        "The user can no longer execute the command: no permission to execute the command or subcommand",
    )
    assert result[1] is None
    assert admin.get("k") is None
    log = admin.execute_command("ACL", "LOG", "1")[0]
    assert dict(zip(log[::2], log[1::2]))[b"context"] == b"multi"


def test_scripts_run_with_the_callers_permissions(server, admin):
    admin.execute_command("ACL", "SETUSER", "s", "on", ">pw", "~app:*", "&ok", "+@all", "-del")
    c = as_user(server, "s")
    assert c.eval("return redis.call('set', 'app:1', 'v')", 0) == b"OK"
    msg = error_of(c, "EVAL", "return redis.call('get', 'other')", "0")
    assert msg.startswith("The user executing the script can't access at least one of the keys mentioned in "
                          "the command arguments script:"), msg
    msg = error_of(c, "EVAL", "return redis.call('del', 'app:1')", "0")
    assert msg.startswith("The user executing the script can't run this command or subcommand script:"), msg
    msg = error_of(c, "EVAL", "return redis.call('publish', 'no', 'm')", "0")
    assert msg.startswith("The user executing the script can't publish to the channel mentioned in the command"), msg
    entry = admin.execute_command("ACL", "LOG", "1")[0]
    fields = dict(zip(entry[::2], entry[1::2]))
    assert fields[b"context"] == b"lua"
    assert fields[b"reason"] == b"channel"
    assert fields[b"object"] == b"no"
    assert b"cmd=eval" in fields[b"client-info"]
    assert c.eval("return redis.pcall('get', 'other')['err'] ~= nil", 0) == 1
    assert c.eval("return redis.acl_check_cmd('get', 'app:x')", 0) == 1
    assert c.eval("return redis.acl_check_cmd('get', 'other')", 0) is None
    assert c.eval("return redis.acl_check_cmd('del', 'app:x')", 0) is None
    # a script's keys are checked before it runs, as EVAL's own keys
    assert error_of(c, "EVAL", "return 1", "1", "other") == NOPERM_KEY


def test_functions_run_with_the_callers_permissions(server, admin):
    admin.execute_command("FUNCTION", "LOAD", "#!lua name=lib\n"
                          "redis.register_function('getit', function(keys, args) return redis.call('get', args[1]) end)")
    admin.execute_command("ACL", "SETUSER", "f", "on", ">pw", "~app:*", "+@all")
    admin.set("app:1", "v")
    admin.set("other", "v")
    c = as_user(server, "f")
    assert c.execute_command("FCALL", "getit", "0", "app:1") == b"v"
    msg = error_of(c, "FCALL", "getit", "0", "other")
    assert "The user executing the script can't access at least one of the keys" in msg


def test_selectors_add_alternative_permissions(server, admin):
    admin.execute_command("ACL", "SETUSER", "sel", "on", ">pw", "~a:*", "+get", "(~b:* +set)", "(%R~c:* +get +set)")
    c = as_user(server, "sel")
    c.get("a:1")
    c.set("b:1", "v")
    c.get("c:1")
    assert error_of(c, "SET", "a:1", "v") == NOPERM_KEY  # +set only in the selector on b:*
    assert error_of(c, "GET", "b:1") == NOPERM_KEY
    assert error_of(c, "SET", "c:1", "v") == NOPERM_KEY  # c:* is read-only
    assert error_of(c, "DEL", "a:1") == noperm_cmd("del")
    admin.execute_command("ACL", "SETUSER", "sel", "clearselectors")
    assert error_of(c, "SET", "b:1", "v") == noperm_cmd("set")


def test_key_check_picks_a_denied_key(server, admin):
    admin.execute_command("ACL", "SETUSER", "k", "on", ">pw", "~a*", "+@all")
    c = as_user(server, "k")
    assert error_of(c, "MGET", "a1", "b1", "a2") == NOPERM_KEY
    entry = admin.execute_command("ACL", "LOG", "1")[0]
    fields = dict(zip(entry[::2], entry[1::2]))
    assert fields[b"reason"] == b"key" and fields[b"object"] == b"b1"


def test_subscribe_and_psubscribe_check_channels(server, admin):
    admin.execute_command("ACL", "SETUSER", "sub", "on", ">pw", "resetchannels", "&news.*", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "sub", "pw") == "OK"
    assert c.call("SUBSCRIBE", "gossip") == ("error", NOPERM_CHANNEL)
    assert c.call("PSUBSCRIBE", "news.s*") == ("error", NOPERM_CHANNEL)  # patterns must be listed literally
    assert c.call("PSUBSCRIBE", "news.*")[0] == b"psubscribe"
    assert c.call("SUBSCRIBE", "news.a")[0] == b"subscribe"
    assert c.call("UNSUBSCRIBE", "gossip")[0] == b"unsubscribe"  # unsubscribing is never checked


def test_acl_pubsub_default_allchannels(server, admin):
    admin.config_set("acl-pubsub-default", "allchannels")
    admin.execute_command("ACL", "SETUSER", "pub", "on", ">pw", "+publish")
    assert as_user(server, "pub").publish("anything", "m") == 0
    admin.config_set("acl-pubsub-default", "resetchannels")
    admin.execute_command("ACL", "SETUSER", "pub2", "on", ">pw", "+publish")
    assert error_of(as_user(server, "pub2"), "PUBLISH", "anything", "m") == NOPERM_CHANNEL
    assert b"&*" in admin.execute_command("ACL", "GETUSER", "pub")[9]


def test_default_user_unrestricted_path_is_unchanged(server, admin):
    """Commands from the default user (every command, key and channel) are
    not checked one by one: nothing is ever logged for them."""
    admin.set("x", "1")
    admin.publish("c", "m")
    admin.execute_command("SELECT", "3")
    assert admin.execute_command("ACL", "LOG") == []


# --- AUTH and HELLO -------------------------------------------------------------


def test_auth_errors(server, admin):
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "+@all")
    admin.execute_command("ACL", "SETUSER", "disabled", "off", ">pw", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "u", "bad") == ("error", WRONGPASS)
    assert c.call("AUTH", "nobody", "pw") == ("error", WRONGPASS)
    assert c.call("AUTH", "disabled", "pw") == ("error", WRONGPASS)
    assert c.call("AUTH", "pw") == ("error", "ERR AUTH <password> called without any password configured for "
                                             "the default user. Are you sure your configuration is correct?")
    assert c.call("AUTH", "u", "pw") == "OK"
    assert c.call("ACL", "WHOAMI") == b"u"
    assert c.call("AUTH", "default", "anything") == "OK"  # the default user is nopass
    assert c.call("ACL", "WHOAMI") == b"default"
    assert c.call("HELLO", "3", "AUTH", "u", "bad") == ("error", WRONGPASS)
    hello = c.call("HELLO", "3", "AUTH", "u", "pw")
    assert hello["proto"] == 3
    assert c.call("ACL", "WHOAMI") == b"u"
    entry = admin.execute_command("ACL", "LOG", "1")[0]
    fields = dict(zip(entry[::2], entry[1::2]))
    assert fields[b"reason"] == b"auth" and fields[b"object"] == b"auth" and fields[b"username"] == b"u"
    assert fields[b"count"] == 2  # the AUTH and the HELLO AUTH failures of u, grouped


def test_requirepass_is_the_default_users_password():
    proc = RunnelProcess("--requirepass", "s3cret")
    try:
        c = RawConnection(proc.port)
        assert c.call("GET", "x") == ("error", "NOAUTH Authentication required.")
        assert c.call("AUTH", "wrong") == ("error", WRONGPASS)
        assert c.call("AUTH", "s3cret") == "OK"
        digest = hashlib.sha256(b"s3cret").hexdigest()
        assert c.call("ACL", "LIST")[0] == f"user default on #{digest} ~* &* +@all".encode()
        assert c.call("AUTH", "default", "s3cret") == "OK"
        c.call("CONFIG", "SET", "requirepass", "")
        assert c.call("ACL", "LIST")[0] == b"user default on nopass ~* &* +@all"
        fresh = RawConnection(proc.port)
        assert fresh.call("GET", "x") is None  # authenticated at once again
        c.call("CONFIG", "SET", "requirepass", "other")
        fresh2 = RawConnection(proc.port)
        assert fresh2.call("GET", "x") == ("error", "NOAUTH Authentication required.")
        assert fresh.call("GET", "x") is None  # connections already in stay in
    finally:
        proc.stop()


def test_reset_goes_back_to_the_default_user(server, admin):
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "u", "pw") == "OK"
    assert c.call("RESET") == "RESET"
    assert c.call("ACL", "WHOAMI") == b"default"


def test_client_list_shows_the_user(server, admin):
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "+@all")
    c = as_user(server, "u")
    line = c.execute_command("CLIENT", "INFO").decode()
    assert " user=u " in line


def test_passwords_never_appear_in_slowlog(server, admin):
    admin.config_set("slowlog-log-slower-than", "0")
    admin.execute_command("ACL", "SETUSER", "u", "on", ">topsecret", "+@all")
    c = RawConnection(server.port)
    c.call("AUTH", "u", "topsecret")
    c.call("HELLO", "2", "AUTH", "u", "topsecret")
    entries = admin.slowlog_get(128)
    text = repr(entries)
    assert "topsecret" not in text
    setuser = [e for e in entries if e["command"].startswith(b"ACL SETUSER")][0]
    assert setuser["command"] == b"ACL SETUSER (redacted) (redacted) (redacted) (redacted)"


def test_passwords_are_kept_as_sha256(server, admin):
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw")
    hexdigest = hashlib.sha256(b"pw").hexdigest()
    assert admin.execute_command("ACL", "GETUSER", "u")[3] == [hexdigest.encode()]
    admin.execute_command("ACL", "SETUSER", "v", "on", "#" + hexdigest, "+ping")
    assert as_user(server, "v").ping()
    admin.execute_command("ACL", "SETUSER", "v", "!" + hexdigest)
    assert admin.execute_command("ACL", "GETUSER", "v")[3] == []
    admin.execute_command("ACL", "SETUSER", "v", ">a", ">b", "<a")
    assert len(admin.execute_command("ACL", "GETUSER", "v")[3]) == 1
    assert "does not exist" in error_of(admin, "ACL", "SETUSER", "v", "<zzz")


# --- disconnections -------------------------------------------------------------


def test_deluser_disconnects_its_clients(server, admin):
    admin.execute_command("ACL", "SETUSER", "gone", "on", ">pw", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "gone", "pw") == "OK"
    other = RawConnection(server.port)
    assert admin.execute_command("ACL", "DELUSER", "gone", "missing") == 1
    assert c.closed()
    assert other.call("PING") == "PONG"


def test_deleting_ones_own_user_replies_then_closes(server, admin):
    admin.execute_command("ACL", "SETUSER", "self", "on", ">pw", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "self", "pw") == "OK"
    assert c.call("ACL", "DELUSER", "self") == 1
    assert c.closed()


def test_subscriber_losing_its_channel_is_disconnected(server, admin):
    admin.execute_command("ACL", "SETUSER", "sub", "on", ">pw", "resetchannels", "&a", "&b", "+@all")
    keeps = RawConnection(server.port)
    assert keeps.call("AUTH", "sub", "pw") == "OK"
    assert keeps.call("SUBSCRIBE", "a")[0] == b"subscribe"
    loses = RawConnection(server.port)
    assert loses.call("AUTH", "sub", "pw") == "OK"
    assert loses.call("SUBSCRIBE", "b")[0] == b"subscribe"
    plain = RawConnection(server.port)
    assert plain.call("AUTH", "sub", "pw") == "OK"
    admin.execute_command("ACL", "SETUSER", "sub", "resetchannels", "&a")
    assert loses.closed()
    assert not keeps.closed(timeout=0.3)
    assert plain.call("PING") == "PONG"
    assert admin.publish("a", "still") == 1


def test_changing_rules_keeps_other_clients(server, admin):
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "~*", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "u", "pw") == "OK"
    admin.execute_command("ACL", "SETUSER", "u", "-get", "off")
    assert c.call("GET", "x") == ("error", noperm_cmd("get"))  # the new rules apply at once
    assert c.call("PING") == "PONG"


# --- ACL LOG, DRYRUN, GETUSER -----------------------------------------------------


def test_acl_log_entries_and_reset(server, admin):
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "~a*", "+get")
    c = as_user(server, "u")
    for _ in range(3):
        error_of(c, "SET", "a", "1")
    error_of(c, "GET", "b")
    log = admin.execute_command("ACL", "LOG")
    assert len(log) == 2
    newest = dict(zip(log[0][::2], log[0][1::2]))
    assert list(newest) == [b"count", b"reason", b"context", b"object", b"username", b"age-seconds", b"client-info"]
    assert newest[b"reason"] == b"key" and newest[b"object"] == b"b" and newest[b"count"] == 1
    older = dict(zip(log[1][::2], log[1][1::2]))
    assert older[b"reason"] == b"command" and older[b"object"] == b"set" and older[b"count"] == 3
    assert older[b"context"] == b"toplevel" and older[b"username"] == b"u"
    assert b"cmd=set" in older[b"client-info"] and b"user=u" in older[b"client-info"]
    assert float(older[b"age-seconds"]) < 5
    assert len(admin.execute_command("ACL", "LOG", "1")) == 1
    assert admin.execute_command("ACL", "LOG", "-1") == []
    assert error_of(admin, "ACL", "LOG", "x") == "value is not an integer or out of range"
    assert admin.execute_command("ACL", "LOG", "RESET") == b"OK"
    assert admin.execute_command("ACL", "LOG") == []


def test_acl_log_resp3_and_max_len(server, admin):
    admin.config_set("acllog-max-len", "2")
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "~*", "+get")
    c = as_user(server, "u")
    for cmd in ("SET", "DEL", "INCR"):
        error_of(c, cmd, "a", *(["1"] if cmd == "SET" else []))
    raw = RawConnection(server.port)
    raw.call("HELLO", "3")
    log = raw.call("ACL", "LOG")
    assert len(log) == 2
    assert log[0]["object"] == b"incr" and log[1]["object"] == b"del"
    assert isinstance(log[0]["age-seconds"], float) and log[0]["count"] == 1


def test_one_key_fast_path_agrees_with_the_full_check(server, admin):
    """Single-key commands of a one-selector user are decided by a short
    test that remembers the last prefix that granted; alternating prefixes,
    permissions and changed rules must give the full check's answers."""
    admin.execute_command("ACL", "SETUSER", "w", "on", ">pw", "+@all", "~queue:*", "%R~ro:*", "%W~wo:*",
                          *[f"~k{i}:*" for i in range(10)])
    c = as_user(server, "w")
    for _ in range(3):
        assert c.set("queue:1", "v") and c.get("queue:1") == b"v"
        assert c.get("ro:1") is None
        assert error_of(c, "SET", "ro:1", "v") == NOPERM_KEY
        assert c.set("wo:1", "v")
        assert error_of(c, "GET", "wo:1") == NOPERM_KEY
        assert error_of(c, "SET", "wo:1", "v", "GET") == NOPERM_KEY  # SET ... GET also reads
        assert error_of(c, "GET", "queue") == NOPERM_KEY  # shorter than the remembered prefix
        assert error_of(c, "GET", "other") == NOPERM_KEY
        assert c.get("k7:x") is None and c.get("queue:2") is None
    assert c.execute_command("LPUSH", "queue:l", "a") == 1 and c.execute_command("RPOP", "queue:l") == b"a"
    admin.execute_command("ACL", "SETUSER", "w", "resetkeys", "~other*")
    assert error_of(c, "GET", "queue:1") == NOPERM_KEY  # the remembered prefix went with the old rules
    assert c.get("other") is None
    log = admin.execute_command("ACL", "LOG")
    assert dict(zip(log[0][::2], log[0][1::2]))[b"object"] == b"queue:1"


def test_acl_log_age_seconds_has_every_digit_as_redis_7_0(server, admin):
    """redis-server 7.0.15 writes age-seconds with "%.17g" (0.904 comes out
    as 0.90400000000000003), in RESP2 and RESP3 alike."""
    admin.execute_command("ACL", "SETUSER", "u", "on", ">pw", "~*", "+get")
    error_of(as_user(server, "u"), "SET", "a", "1")
    for proto in ("2", "3"):
        raw = RawConnection(server.port)
        raw.call("HELLO", proto)
        texts = []
        for _ in range(40):
            raw.send(b"*3\r\n$3\r\nACL\r\n$3\r\nLOG\r\n$1\r\n1\r\n")
            data = b""
            while b"client-info" not in data:
                data += raw.sock.recv(65536)
            after = data.split(b"age-seconds\r\n", 1)[1]
            text = (after.split(b"\r\n")[1] if after.startswith(b"$") else after[1:].split(b"\r\n")[0]).decode()
            assert text == "%.17g" % float(text), text
            texts.append(text)
            time.sleep(0.007)
        assert any(len(t.split(".")[-1]) > 6 for t in texts), texts


def test_sort_by_and_get_patterns_need_access_to_every_key(server, admin):
    """As Redis 7: BY with a '*' and GET read keys no ACL check saw, so they
    need a selector that allows the call and reads every key (allkeys,
    ~* or %R~*); BY without '*' reads nothing and is always allowed."""
    admin.rpush("l", 3, 1, 2)
    admin.set("w_1", 10)
    rules = {"narrow": ["+@all", "~l*", "~w*"], "reader": ["+@all", "%R~*"], "writer": ["+@all", "%W~*", "%R~l*"],
             "selector": ["+@all", "~l*", "(+sort ~*)"]}
    for name, r in rules.items():
        admin.execute_command("ACL", "SETUSER", name, "on", ">pw", *r)
    by_denied = "BY option of SORT denied due to insufficient ACL permissions."
    get_denied = "GET option of SORT denied due to insufficient ACL permissions."
    narrow = as_user(server, "narrow")
    assert error_of(narrow, "SORT", "l", "BY", "w_*") == by_denied
    assert error_of(narrow, "SORT", "l", "BY", "w_*->f") == by_denied
    assert error_of(narrow, "SORT", "l", "GET", "#") == get_denied
    assert error_of(narrow, "SORT_RO", "l", "GET", "w_*") == get_denied
    assert error_of(narrow, "SORT", "l", "GET", "#", "BOGUS") == get_denied  # refused where it is parsed
    assert error_of(narrow, "SORT", "l", "BOGUS", "GET", "#") == "syntax error"
    assert narrow.execute_command("SORT", "l", "BY", "nosort") == [b"3", b"1", b"2"]
    assert narrow.execute_command("SORT", "l") == [b"1", b"2", b"3"]
    assert error_of(narrow, "EVAL", "return redis.call('sort','l','get','#')", "0").startswith(get_denied)
    assert narrow.execute_command("MULTI") == b"OK" and narrow.execute_command("SORT", "l", "BY", "w_*") == b"QUEUED"
    assert [str(e) for e in narrow.execute_command("EXEC")] == [by_denied]
    assert admin.execute_command("ACL", "LOG") == []  # a plain error, not a denial
    reader = as_user(server, "reader")
    assert reader.execute_command("SORT", "l", "BY", "w_*", "GET", "#") == [b"2", b"3", b"1"]
    assert reader.execute_command("SORT_RO", "l", "GET", "w_*") == [b"10", None, None]
    assert error_of(reader, "SORT", "l", "STORE", "out") == NOPERM_KEY  # the destination is written
    assert error_of(as_user(server, "writer"), "SORT", "l", "GET", "#") == get_denied
    selector = as_user(server, "selector")
    assert selector.execute_command("SORT", "l", "BY", "w_*") == [b"2", b"3", b"1"]
    assert error_of(selector, "SORT_RO", "l", "GET", "#") == get_denied  # the root allows SORT_RO on l* only
    assert RawConnection(server.port).call("COMMAND", "GETKEYSANDFLAGS", "SORT", "l", "STORE", "out") == [
        [b"l", ["RO", "access"]], [b"out", ["OW", "update"]]]


def test_dryrun(server, admin):
    admin.execute_command("ACL", "SETUSER", "d", "on", "~k*", "&ch", "+get", "+publish")
    assert admin.execute_command("ACL", "DRYRUN", "d", "GET", "k1") == b"OK"
    assert admin.execute_command("ACL", "DRYRUN", "d", "GET", "x") == b"This user has no permissions to access the 'x' key"
    assert admin.execute_command("ACL", "DRYRUN", "d", "SET", "k", "v") == \
        b"This user has no permissions to run the 'set' command"
    assert admin.execute_command("ACL", "DRYRUN", "d", "PUBLISH", "zz", "m") == \
        b"This user has no permissions to access the 'zz' channel"
    assert error_of(admin, "ACL", "DRYRUN", "nobody", "GET", "k") == "User 'nobody' not found"
    assert error_of(admin, "ACL", "DRYRUN", "d", "NOSUCH") == "Command 'NOSUCH' not found"
    assert error_of(admin, "ACL", "DRYRUN", "d", "GET") == "wrong number of arguments for 'get' command"
    assert admin.execute_command("ACL", "LOG") == []  # a dry run records nothing


def test_getuser_shape_resp2_and_resp3(server, admin):
    admin.execute_command("ACL", "SETUSER", "g", "on", ">pw", "~k*", "%R~r*", "&ch*", "+get", "(+set ~s*)")
    reply = admin.execute_command("ACL", "GETUSER", "g")
    assert reply[0::2] == [b"flags", b"passwords", b"commands", b"keys", b"channels", b"selectors"]
    assert reply[1] == [b"on"]
    assert reply[5] == b"-@all +get"
    assert reply[7] == b"~k* %R~r*"
    assert reply[9] == b"&ch*"
    assert reply[11] == [[b"commands", b"-@all +set", b"keys", b"~s*", b"channels", b""]]
    assert admin.execute_command("ACL", "GETUSER", "missing") is None
    raw = RawConnection(server.port)
    raw.call("HELLO", "3")
    m = raw.call("ACL", "GETUSER", "g")
    assert m["flags"] == ("set", [b"on"])
    assert m["selectors"] == [{"commands": b"-@all +set", "keys": b"~s*", "channels": b""}]


def test_acl_list_users_whoami_cat_genpass(server, admin):
    admin.execute_command("ACL", "SETUSER", "zed", "on", "nopass", "allkeys", "allchannels", "allcommands", "-flushall")
    admin.execute_command("ACL", "SETUSER", "amy")
    assert admin.execute_command("ACL", "USERS") == [b"amy", b"default", b"zed"]
    assert admin.execute_command("ACL", "LIST") == [
        b"user amy off resetchannels -@all",
        b"user default on nopass ~* &* +@all",
        b"user zed on nopass ~* &* +@all -flushall",
    ]
    assert admin.execute_command("ACL", "WHOAMI") == b"default"
    cats = admin.execute_command("ACL", "CAT")
    assert len(cats) == 21 and b"geo" in cats and b"scripting" in cats
    assert b"lpush" in admin.execute_command("ACL", "CAT", "list")
    assert b"config|get" in admin.execute_command("ACL", "CAT", "admin")
    assert error_of(admin, "ACL", "CAT", "nosuch") == "Unknown category 'nosuch'"
    p = admin.execute_command("ACL", "GENPASS")
    assert len(p) == 64 and all(ch in b"0123456789abcdef" for ch in p)
    assert p != admin.execute_command("ACL", "GENPASS")
    assert len(admin.execute_command("ACL", "GENPASS", "5")) == 2
    assert "must be the number of bits" in error_of(admin, "ACL", "GENPASS", "0")
    assert error_of(admin, "ACL", "DELUSER", "default") == "The 'default' user cannot be removed"


def test_setuser_errors(server, admin):
    cases = {
        "foo": "Syntax error",
        "+nosuch": "Unknown command or category name in ACL",
        "+@nosuch": "Unknown command or category name in ACL",
        "%X~a": "Syntax error",
        "#abc": "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        "+get|x|y": "Unknown command or category name in ACL",
        "+config|nosuch": "Unknown command or category name in ACL",
        "-select|0": "Unknown command or category name in ACL",
        "+select|": "Syntax error",
        "+config|get|x": "Allowing first-arg of a subcommand is not supported",
    }
    for rule, reason in cases.items():
        assert error_of(admin, "ACL", "SETUSER", "e", rule) == f"Error in ACL SETUSER modifier '{rule}': {reason}"
    assert error_of(admin, "ACL", "SETUSER", "e", "(+get") == "Unmatched parenthesis in acl selector starting at '(+get'."
    assert error_of(admin, "ACL", "SETUSER", "e", "allkeys", "~x").startswith(
        "Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag)")
    # a failed SETUSER changes nothing
    assert admin.execute_command("ACL", "GETUSER", "e") is None
    admin.execute_command("ACL", "SETUSER", "e", "on", "+get")
    error_of(admin, "ACL", "SETUSER", "e", "+set", "bogus")
    assert admin.execute_command("ACL", "GETUSER", "e")[5] == b"-@all +get"


def test_reset_rule(server, admin):
    admin.execute_command("ACL", "SETUSER", "r", "on", ">pw", "~*", "&*", "+@all", "(+get)")
    admin.execute_command("ACL", "SETUSER", "r", "reset")
    assert admin.execute_command("ACL", "LIST")[1] == b"user r off sanitize-payload resetchannels -@all"


# --- files ------------------------------------------------------------------------


def test_acl_file_load_save_round_trip(tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\nuser worker on >pw ~queue:* resetchannels -@all +@list\n")
    proc = RunnelProcess("--aclfile", str(path))
    try:
        admin = proc.client()
        assert admin.execute_command("ACL", "USERS") == [b"default", b"worker"]
        w = as_user(proc, "worker")
        w.lpush("queue:1", "job")
        assert error_of(w, "GET", "queue:1") == noperm_cmd("get")
        admin.execute_command("ACL", "SETUSER", "reader", "on", "#" + "ab" * 32, "%R~*", "+@read", "(~x +set)")
        before = admin.execute_command("ACL", "LIST")
        assert admin.execute_command("ACL", "SAVE") == b"OK"
        saved = path.read_text().splitlines()
        assert [line.encode() for line in saved] == before
        admin.execute_command("ACL", "DELUSER", "reader")
        assert admin.execute_command("ACL", "LOAD") == b"OK"
        assert admin.execute_command("ACL", "LIST") == before
        # a reload disconnects the clients of every user but default
        c = RawConnection(proc.port)
        assert c.call("AUTH", "worker", "pw") == "OK"
        admin.execute_command("ACL", "LOAD")
        assert c.closed()
        # a broken file changes nothing
        path.write_text("user default on nopass ~* &* +@all\nuser bob on +nosuch\nfoo bar\n")
        msg = error_of(admin, "ACL", "LOAD")
        assert msg == (f"{path}:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. "
                       f"{path}:3 should start with user keyword followed by the username. "
                       "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        assert admin.execute_command("ACL", "LIST") == before
    finally:
        proc.stop()


def test_acl_load_without_a_file(server, admin):
    msg = error_of(admin, "ACL", "LOAD")
    assert msg.startswith("This Redis instance is not configured to use an ACL file.")
    assert error_of(admin, "ACL", "SAVE") == msg


def test_config_file_user_lines():
    proc = RunnelProcess(config_text="user alice on >apw ~a:* +@string\nuser default on nopass ~* &* +@all -debug\n")
    try:
        admin = proc.client()
        digest = hashlib.sha256(b"apw").hexdigest()
        assert admin.execute_command("ACL", "LIST") == [
            f"user alice on #{digest} ~a:* resetchannels -@all +@string".encode(),
            b"user default on nopass ~* &* +@all -debug",
        ]
        a = as_user(proc, "alice", "apw")
        a.set("a:1", "v")
        assert error_of(a, "SET", "b", "v") == NOPERM_KEY
        assert "user" not in admin.config_get("*")
    finally:
        proc.stop()


def test_config_users_and_aclfile_together_refuse_to_start(tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\n")
    with pytest.raises(RuntimeError) as e:
        RunnelProcess("--aclfile", str(path), config_text="user alice on >apw\n")
    assert "Aborting Runnel startup because of ACL errors" in str(e.value)


def test_bad_config_user_line_refuses_to_start():
    with pytest.raises(RuntimeError) as e:
        RunnelProcess(config_text="user alice on +nosuch\n")
    assert "Error in user declaration '+nosuch': Unknown command or category name in ACL" in str(e.value)


def test_protected_mode_follows_the_default_user(server, admin):
    assert admin.config_get("protected-mode") == {"protected-mode": "yes"}
    # only loopback can be tried here: the rule itself is covered by test_connection
    admin.execute_command("ACL", "SETUSER", "default", "resetpass", ">x")
    fresh = RawConnection(server.port)
    assert fresh.call("PING") == ("error", "NOAUTH Authentication required.")


# --- side by side with redis-server 7.0.15 -----------------------------------------


def both(r, ref, *args):
    out = []
    for c in (r, ref):
        try:
            out.append(c.execute_command(*args))
        except redis.ResponseError as e:
            out.append(("error", type(e).__name__, str(e)))
    assert out[0] == out[1], f"{args}: runnel {out[0]!r}, redis {out[1]!r}"
    return out[0]


def test_same_replies_as_redis(server, admin, reference):
    ref = reference.client()
    for c in (admin, ref):
        for u in c.execute_command("ACL", "USERS"):
            if u != b"default":
                c.execute_command("ACL", "DELUSER", u)
        c.execute_command("ACL", "LOG", "RESET")
    setups = [
        ("alice", "on", ">p1", "~k*", "%R~r*", "&ch*", "+get", "(+set ~s*)"),
        ("bob",),
        ("carol", "on", "nopass", "~k*", "&ch*", "+@list"),
        ("dave", "on", "nopass", "allkeys", "allchannels", "allcommands", "-flushall"),
        ("erin", "on", "nopass", "%W~w*", "+@all"),
    ]
    for s in setups:
        both(admin, ref, "ACL", "SETUSER", *s)
    both(admin, ref, "ACL", "LIST")
    both(admin, ref, "ACL", "USERS")
    for name in ("alice", "bob", "carol", "dave", "erin", "nobody"):
        both(admin, ref, "ACL", "GETUSER", name)
    for args in [("alice", "GET", "k1"), ("alice", "GET", "x"), ("alice", "SET", "s1", "v"), ("alice", "SET", "k", "v"),
                 ("alice", "GET", "r1"), ("carol", "LPUSH", "k", "v"), ("carol", "LPUSH", "x", "v"),
                 ("carol", "GET", "k"), ("dave", "FLUSHALL"), ("dave", "GET", "x"), ("erin", "GET", "w1"),
                 ("erin", "SET", "w1", "v"), ("alice", "PUBLISH", "ch1", "m"), ("alice", "PUBLISH", "zz", "m"),
                 ("nobody", "GET", "x"), ("alice", "NOSUCH"), ("alice", "GET")]:
        both(admin, ref, "ACL", "DRYRUN", *args)
    for rule in ("foo", "+nosuch", "%X~a", "#abc", "(+get", "+select|", "+config|nosuch", "allkeys"):
        both(admin, ref, "ACL", "SETUSER", "frank", rule)
    both(admin, ref, "ACL", "DELUSER", "default")
    both(admin, ref, "ACL", "CAT", "nosuch")
    both(admin, ref, "ACL", "CAT")
    both(admin, ref, "ACL", "GENPASS", "0")
    both(admin, ref, "ACL", "LOG", "x")
    both(admin, ref, "ACL", "HELP")
    known_to_both = {n.encode() for n in set(command_categories(server.port)) & set(command_categories(reference.port))}
    for name in ("set", "list", "hash", "transaction", "pubsub", "blocking", "keyspace", "bitmap"):
        mine = set(admin.execute_command("ACL", "CAT", name)) & known_to_both
        theirs = set(ref.execute_command("ACL", "CAT", name)) & known_to_both
        assert mine == theirs, name
    # denials as seen by the user, and the log entries they leave
    clients = [as_user(server, "alice", "p1"), redis.Redis(port=reference.port, username="alice", password="p1")]
    for args in (("GET", "x"), ("DEL", "k"), ("PUBLISH", "zz", "m"), ("SET", "s1", "v"),
                 ("EVAL", "return redis.call('get','x')", "0")):
        replies = [error_of(c, *args) if args[0] != "SET" else c.execute_command(*args) for c in clients]
        if args[0] == "EVAL":
            replies = [r.split(" script:")[0] for r in replies]
        assert replies[0] == replies[1], args
    logs = []
    for c in (admin, ref):
        entries = c.execute_command("ACL", "LOG")
        logs.append([{k: v for k, v in zip(e[::2], e[1::2]) if k not in (b"age-seconds", b"client-info")}
                     for e in entries])
    assert logs[0] == logs[1]
    auths = [RawConnection(server.port), RawConnection(reference.port)]
    assert auths[0].call("AUTH", "alice", "bad") == auths[1].call("AUTH", "alice", "bad")
    assert auths[0].call("AUTH", "pw") == auths[1].call("AUTH", "pw")


def test_client_kill_by_user(server, admin):
    admin.execute_command("ACL", "SETUSER", "k", "on", ">pw", "+@all")
    victim = RawConnection(server.port)
    assert victim.call("AUTH", "k", "pw") == "OK"
    bystander = RawConnection(server.port)
    assert admin.execute_command("CLIENT", "KILL", "USER", "k") == 1
    assert victim.closed()
    assert bystander.call("PING") == "PONG"
    assert error_of(admin, "CLIENT", "KILL", "USER", "nobody") == "No such user 'nobody'"


def test_replica_authenticates_with_masteruser():
    from replication_helpers import start_primary, start_replica, wait_link_up
    primary = start_primary(config_text="user default on >adminpw ~* &* +@all\n"
                                        "user repl on >replpw +psync +replconf +ping\n")
    replica = weak = None
    try:
        replica = start_replica(primary, "--masteruser", "repl", "--masterauth", "replpw")
        wait_link_up(replica)
        p = primary.client(password="adminpw")
        p.set("k", "v")
        deadline = time.time() + 10
        while replica.client().get("k") != b"v" and time.time() < deadline:
            time.sleep(0.05)
        assert replica.client().get("k") == b"v"
        # a user without PSYNC cannot replicate: the link stays down
        p.execute_command("ACL", "SETUSER", "weak", "on", ">w", "+replconf", "+ping")
        weak = start_replica(primary, "--masteruser", "weak", "--masterauth", "w")
        time.sleep(1.5)
        assert weak.client().info("replication")["master_link_status"] == "down"
        log = [dict(zip(e[::2], e[1::2])) for e in p.execute_command("ACL", "LOG")]
        assert any(e[b"object"] == b"psync" and e[b"username"] == b"weak" for e in log)
    finally:
        for s in (weak, replica, primary):
            if s:
                s.stop()


def test_monitor_never_shows_passwords(server, admin):
    mon = RawConnection(server.port)
    assert mon.call("MONITOR") == "OK"
    admin.execute_command("ACL", "SETUSER", "m", "on", ">hidden1", "~*", "+@all")
    c = RawConnection(server.port)
    assert c.call("AUTH", "m", "hidden1") == "OK"
    assert c.call("HELLO", "2", "AUTH", "m", "hidden1")[0] == b"server"
    assert c.call("SET", "after", "1") == "OK"
    seen = []
    while not any("after" in line for line in seen):
        seen.append(mon.read_line().decode())
    text = "\n".join(seen)
    assert "hidden1" not in text and "SETUSER" not in text.upper()
    assert '"AUTH" "(redacted)" "(redacted)"' in text


def command_categories(port):
    """{command or "cmd|sub": sorted categories} from COMMAND."""
    c = RawConnection(port)
    out = {}
    for entry in c.call("COMMAND"):
        rows = [entry] + list(entry[9] if len(entry) > 9 else [])
        for row in rows:
            cats = row[6][1] if isinstance(row[6], tuple) else row[6]
            out[row[0].decode()] = sorted(x.decode() if isinstance(x, bytes) else x for x in cats)
    c.close()
    return out


def test_every_command_is_in_redis_categories(server, reference):
    """Each command both servers know is in the same ACL categories, so
    +@category rules grant the same commands on both."""
    mine, theirs = command_categories(server.port), command_categories(reference.port)
    common = set(mine) & set(theirs)
    assert len(common) > 300
    differ = {name: (mine[name], theirs[name]) for name in common if mine[name] != theirs[name]}
    assert differ == {}
    admin = server.client()
    for cat in ("read", "write", "admin", "dangerous", "fast", "slow", "connection", "scripting", "stream"):
        listed = {x.decode() for x in admin.execute_command("ACL", "CAT", cat)}
        assert {n for n in common if "@" + cat in mine[n]} <= listed, cat


def test_config_rewrite_writes_the_users():
    proc = RunnelProcess(config_text="user alice on >apw ~a:* +@string\n")
    try:
        admin = proc.client()
        admin.execute_command("ACL", "SETUSER", "bob", "on", ">bpw", "~b:*", "+get")
        admin.execute_command("ACL", "DELUSER", "alice")
        assert admin.execute_command("CONFIG", "REWRITE") == b"OK"
        with open(proc.config_path) as f:
            users = [line for line in f.read().splitlines() if line.startswith("user ")]
        assert users == [line.decode() for line in admin.execute_command("ACL", "LIST")]
        assert not any(line.startswith("user alice") for line in users)
    finally:
        proc.stop()
    again = RunnelProcess(config_text=open(proc.config_path).read())
    try:
        assert again.client().execute_command("ACL", "USERS") == [b"bob", b"default"]
        assert as_user(again, "bob", "bpw").get("b:1") is None
    finally:
        again.stop()


def test_config_rewrite_without_users_adds_no_user_line():
    proc = RunnelProcess(config_text="maxclients 100\n")
    try:
        admin = proc.client()
        admin.config_set("requirepass", "s")
        admin = proc.client(password="s")
        assert admin.execute_command("CONFIG", "REWRITE") == b"OK"
        text = open(proc.config_path).read()
        assert "\nuser " not in text and "requirepass" in text
    finally:
        proc.stop()
