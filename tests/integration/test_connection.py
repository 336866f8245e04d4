"""Connection and server-introspection commands: PING ECHO QUIT RESET
SELECT AUTH, limits (maxclients, timeout, protected mode), CLIENT *,
MONITOR, SLOWLOG, INFO, COMMAND, DBSIZE TIME LASTSAVE DEBUG MEMORY LATENCY,
and shutting down.

Expected replies were checked side by side against Debian's redis-server
7.0; where Runnel follows 7.2 instead, a comment says so."""
import os
import re
import signal
import socket
import time

import pytest
import redis


def wait_until(predicate, timeout=5.0, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def client_line(conn):
    """This connection's CLIENT INFO fields as a dict."""
    text = conn.call("CLIENT", "INFO")
    text = text.decode() if isinstance(text, bytes) else text
    return dict(field.split("=", 1) for field in text.strip().split(" "))


def nothing_arrives(conn, seconds=0.3):
    conn.sock.settimeout(seconds)
    try:
        data = conn.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        conn.sock.settimeout(5)
    conn.buf += data
    return False


# ---- PING ECHO QUIT RESET SELECT ----

def test_ping(raw):
    assert raw.call("PING") == "PONG"
    assert raw.call("PING", "hello") == b"hello"
    assert raw.call("PING", "a", "b") == ("error", "ERR wrong number of arguments for 'ping' command")


def test_echo(raw):
    assert raw.call("ECHO", "x y") == b"x y"
    assert raw.call("ECHO") == ("error", "ERR wrong number of arguments for 'echo' command")
    assert raw.call("ECHO", "a", "b") == ("error", "ERR wrong number of arguments for 'echo' command")


def test_quit_replies_ok_then_closes(raw):
    raw.send(b"QUIT\r\nPING\r\n")
    assert raw.read_reply() == "OK"
    assert raw.closed()
    assert raw.buf == b""


def test_reset(raw):
    raw.call("SELECT", "3")
    raw.call("CLIENT", "SETNAME", "before-reset")
    raw.call("HELLO", "3")
    raw.call("WATCH", "somekey")
    raw.call("MULTI")
    assert raw.call("RESET") == "RESET"
    assert raw.call("EXEC") == ("error", "ERR EXEC without MULTI")
    assert raw.call("CLIENT", "GETNAME") is None
    line = client_line(raw)
    assert line["db"] == "0" and line["resp"] == "2" and line["name"] == ""
    raw.send(b"CLIENT REPLY OFF\r\nRESET\r\n")
    assert raw.read_reply() == "RESET"  # RESET also turns replies back on
    assert raw.call("PING") == "PONG"


def test_select(raw, r):
    assert raw.call("SELECT", "5") == "OK"
    raw.call("SET", "in5", "x")
    assert r.exists("in5") == 0
    assert raw.call("SELECT", "16") == ("error", "ERR DB index is out of range")
    assert raw.call("SELECT", "-1") == ("error", "ERR DB index is out of range")
    # Redis 7 wording (6.x said "invalid DB index")
    assert raw.call("SELECT", "x") == ("error", "ERR value is not an integer or out of range")
    assert raw.call("SELECT", "99999999999999999999") == ("error", "ERR value is not an integer or out of range")
    assert client_line(raw)["db"] == "5"


# ---- AUTH ----

def test_auth_with_requirepass(fresh_server):
    srv = fresh_server("--requirepass", "secret")
    conn = srv.raw()
    assert conn.call("GET", "k") == ("error", "NOAUTH Authentication required.")
    assert conn.call("PING") == ("error", "NOAUTH Authentication required.")
    assert conn.call("CLIENT", "ID") == ("error", "NOAUTH Authentication required.")
    # unknown commands are still unknown, before NOAUTH
    assert conn.call("NOSUCH") == ("error", "ERR unknown command 'NOSUCH', with args beginning with: ")
    assert conn.call("AUTH", "wrong") == ("error", "WRONGPASS invalid username-password pair or user is disabled.")
    assert conn.call("AUTH", "secret") == "OK"
    assert conn.call("PING") == "PONG"
    conn.close()

    conn = srv.raw()
    assert conn.call("AUTH", "default", "wrong") == (
        "error", "WRONGPASS invalid username-password pair or user is disabled.")
    assert conn.call("AUTH", "alice", "secret") == (
        "error", "WRONGPASS invalid username-password pair or user is disabled.")
    assert conn.call("AUTH", "default", "secret") == "OK"
    assert conn.call("SET", "k", "v") == "OK"
    assert conn.call("AUTH", "a", "b", "c") == ("error", "ERR syntax error")
    # RESET forgets the authentication
    assert conn.call("RESET") == "RESET"
    assert conn.call("GET", "k") == ("error", "NOAUTH Authentication required.")
    conn.close()

    assert srv.client(password="secret").get("k") == b"v"
    with pytest.raises(redis.ResponseError, match="^WRONGPASS"):
        srv.client(password="nope").ping()


def test_noauth_commands_still_count_as_rejected(fresh_server):
    srv = fresh_server("--requirepass", "secret")
    conn = srv.raw()
    conn.call("GET", "k")
    conn.call("AUTH", "secret")
    stats = conn.call("INFO", "commandstats").decode()
    assert "cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n" in stats
    assert "errorstat_NOAUTH:count=1\r\n" in conn.call("INFO", "errorstats").decode()
    conn.close()


def test_auth_without_password_configured(raw):
    assert raw.call("AUTH", "x") == (
        "error", "ERR AUTH <password> called without any password configured for the default user. "
                 "Are you sure your configuration is correct?")
    # the two-argument form checks against the nopass default user
    assert raw.call("AUTH", "default", "anything") == "OK"
    assert raw.call("AUTH", "bob", "x") == ("error", "WRONGPASS invalid username-password pair or user is disabled.")


# ---- connection limits ----

def test_maxclients(fresh_server):
    srv = fresh_server("--maxclients", "3")
    first = srv.raw()
    # the start-up probe's connection must be gone before the count is tight
    assert wait_until(lambda: "connected_clients:1\r\n" in first.call("INFO", "clients").decode())
    conns = [first, srv.raw(), srv.raw()]
    for c in conns:
        assert c.call("PING") == "PONG"
    extra = srv.raw()
    assert extra.read_reply() == ("error", "ERR max number of clients reached")
    assert extra.closed()
    extra.close()
    assert conns[0].call("PING") == "PONG"
    info = conns[0].call("INFO", "stats").decode()
    assert "rejected_connections:1\r\n" in info
    conns[2].close()
    assert wait_until(lambda: "connected_clients:2\r\n" in conns[0].call("INFO", "clients").decode())
    again = srv.raw()
    assert again.call("PING") == "PONG"
    for c in conns[:2] + [again]:
        c.close()


def test_timeout_closes_idle_clients(fresh_server):
    srv = fresh_server("--timeout", "1")
    idle = srv.raw()
    busy = srv.raw()
    assert idle.call("PING") == "PONG"
    start = time.time()
    closed = False
    while time.time() - start < 4:
        assert busy.call("PING") == "PONG"  # activity keeps this one open
        if idle.closed(timeout=0.3):
            closed = True
            break
    assert closed
    assert time.time() - start >= 0.9  # not before the timeout
    assert busy.call("PING") == "PONG"
    idle.close()
    busy.close()


def test_timeout_spares_monitors_and_subscribers(fresh_server):
    srv = fresh_server("--timeout", "1")
    sub = srv.raw()
    assert sub.call("SUBSCRIBE", "ch") == [b"subscribe", b"ch", 1]
    mon = srv.raw()
    assert mon.call("MONITOR") == "OK"
    time.sleep(2.5)
    other = srv.raw()
    other.call("ECHO", "still-watched")
    assert b'"ECHO" "still-watched"' in mon.read_line()
    assert other.call("PUBLISH", "ch", "hi") == 1
    assert sub.read_reply() == [b"message", b"ch", b"hi"]
    for conn in (mon, sub, other):
        conn.close()


def test_protected_mode_allows_loopback(fresh_server):
    srv = fresh_server()
    conn = srv.raw()
    assert conn.call("CONFIG", "GET", "protected-mode") == [b"protected-mode", b"yes"]
    assert conn.call("PING") == "PONG"
    conn.close()


def test_protected_mode_denies_clients_not_from_127_0_0_1(fresh_server):
    """Stays on loopback: a client whose source address is 127.0.0.2 is not
    one of the two addresses protected mode trusts (127.0.0.1, ::1)."""
    srv = fresh_server()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.bind(("127.0.0.2", 0))
    sock.connect(("127.0.0.1", srv.port))
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    # Redis's text, with the product name changed
    assert data.startswith(b"-DENIED Runnel is running in protected mode because protected mode is enabled and "
                           b"no password is set for the default user.")
    assert data.endswith(b"\r\n")
    other = srv.client()
    assert other.ping() is True


# ---- CLIENT ----

def test_client_id(raw, server):
    first = raw.call("CLIENT", "ID")
    other = server.raw()
    assert other.call("CLIENT", "ID") > first
    other.close()
    assert raw.call("CLIENT", "ID", "x") == ("error", "ERR wrong number of arguments for 'client|id' command")


def test_client_setname_getname(raw):
    assert raw.call("CLIENT", "GETNAME") is None
    assert raw.call("CLIENT", "SETNAME", "worker-7") == "OK"
    assert raw.call("CLIENT", "GETNAME") == b"worker-7"
    assert client_line(raw)["name"] == "worker-7"
    for bad in ("has space", "new\nline", "tab\t", "caf\xe9"):
        assert raw.call("CLIENT", "SETNAME", bad) == (
            "error", "ERR Client names cannot contain spaces, newlines or special characters.")
    assert raw.call("CLIENT", "GETNAME") == b"worker-7"
    assert raw.call("CLIENT", "SETNAME", "") == "OK"  # clears the name
    assert raw.call("CLIENT", "GETNAME") is None


def test_client_list(raw, server):
    other = server.raw()
    other.call("CLIENT", "SETNAME", "listed")
    my_id, other_id = raw.call("CLIENT", "ID"), other.call("CLIENT", "ID")
    text = raw.call("CLIENT", "LIST").decode()
    assert text.endswith("\n")
    lines = text.strip().split("\n")
    ids = [int(re.match(r"id=(\d+) ", l).group(1)) for l in lines]
    assert my_id in ids and other_id in ids
    mine = next(l for l in lines if l.startswith("id=%d " % my_id))
    assert re.match(r"id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:%d fd=\d+ name= age=\d+ idle=\d+ flags=N "
                    r"db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=0 rbs=\d+ "
                    r"rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=client\|list user=default "
                    r"redir=-1 resp=2 lib-name= lib-ver=$" % server.port, mine)  # 7.2 adds lib-name/lib-ver

    only = raw.call("CLIENT", "LIST", "ID", str(other_id)).decode()
    assert only.startswith("id=%d " % other_id) and " name=listed " in only and only.count("\n") == 1
    both = raw.call("CLIENT", "LIST", "ID", str(my_id), str(other_id), "999999").decode()
    assert both.count("\n") == 2
    assert raw.call("CLIENT", "LIST", "ID", "999999") == b""
    assert raw.call("CLIENT", "LIST", "ID", "x") == ("error", "ERR Invalid client ID")
    normal = raw.call("CLIENT", "LIST", "TYPE", "normal").decode()
    assert "id=%d " % my_id in normal
    assert raw.call("CLIENT", "LIST", "TYPE", "pubsub") == b""
    assert raw.call("CLIENT", "LIST", "TYPE", "master") == b""
    assert raw.call("CLIENT", "LIST", "TYPE", "bogus") == ("error", "ERR Unknown client type 'bogus'")
    assert raw.call("CLIENT", "LIST", "bogus") == ("error", "ERR syntax error")
    other.close()


def test_client_info_fields(raw):
    raw.call("SELECT", "2")
    line = client_line(raw)
    assert line["db"] == "2"
    assert line["cmd"] == "client|info"
    assert line["flags"] == "N"
    assert line["multi"] == "-1"
    assert line["user"] == "default"


def test_client_info_during_multi(raw, server):
    my_id = raw.call("CLIENT", "ID")
    raw.call("MULTI")
    raw.call("PING")
    raw.call("PING")
    observer = server.raw()
    line = observer.call("CLIENT", "LIST", "ID", str(my_id)).decode()
    assert " flags=x " in line and " multi=2 " in line
    observer.close()
    raw.call("DISCARD")


def test_client_kill_old_form(raw, server):
    victim = server.raw()
    victim_addr = client_line(victim)["addr"]
    assert raw.call("CLIENT", "KILL", victim_addr) == "OK"
    assert victim.closed()
    victim.close()
    assert raw.call("CLIENT", "KILL", "1.2.3.4:5") == ("error", "ERR No such client")


def test_client_kill_old_form_self(server):
    conn = server.raw()
    addr = client_line(conn)["addr"]
    assert conn.call("CLIENT", "KILL", addr) == "OK"  # the reply still arrives
    assert conn.closed()
    conn.close()


def test_client_kill_by_id_and_addr(raw, server):
    a, b = server.raw(), server.raw()
    assert raw.call("CLIENT", "KILL", "ID", str(a.call("CLIENT", "ID"))) == 1
    assert a.closed()
    assert raw.call("CLIENT", "KILL", "ADDR", client_line(b)["addr"]) == 1
    assert b.closed()
    a.close()
    b.close()
    assert raw.call("CLIENT", "KILL", "ID", "999999") == 0
    assert raw.call("CLIENT", "KILL", "ID", "x") == ("error", "ERR client-id should be greater than 0")
    assert raw.call("CLIENT", "KILL", "ID", "0") == ("error", "ERR client-id should be greater than 0")
    assert raw.call("CLIENT", "KILL", "ADDR", "1.2.3.4:5") == 0
    # my own ID with the default SKIPME yes: nothing killed
    assert raw.call("CLIENT", "KILL", "ID", str(raw.call("CLIENT", "ID"))) == 0
    assert raw.call("PING") == "PONG"


def test_client_kill_filter_errors(raw):
    assert raw.call("CLIENT", "KILL", "USER", "bob") == ("error", "ERR No such user 'bob'")
    assert raw.call("CLIENT", "KILL", "TYPE", "bogus") == ("error", "ERR Unknown client type 'bogus'")
    assert raw.call("CLIENT", "KILL", "SKIPME", "maybe") == ("error", "ERR syntax error")
    assert raw.call("CLIENT", "KILL", "BOGUS", "x") == ("error", "ERR syntax error")
    assert raw.call("CLIENT", "KILL", "ID", "1", "ADDR") == ("error", "ERR syntax error")


def test_client_kill_laddr_user_type_skipme(fresh_server):
    srv = fresh_server()
    me = srv.raw()
    others = [srv.raw() for _ in range(3)]
    for o in others:
        assert o.call("PING") == "PONG"
    laddr = client_line(me)["laddr"]
    assert me.call("CLIENT", "KILL", "LADDR", laddr) == 3
    assert all(o.closed() for o in others)

    others = [srv.raw() for _ in range(2)]
    for o in others:
        assert o.call("PING") == "PONG"
    assert me.call("CLIENT", "KILL", "USER", "default") == 2
    assert all(o.closed() for o in others)

    others = [srv.raw() for _ in range(2)]
    for o in others:
        assert o.call("PING") == "PONG"
    subscriber = srv.raw()
    assert subscriber.call("SUBSCRIBE", "news") == [b"subscribe", b"news", 1]
    listed = me.call("CLIENT", "LIST", "TYPE", "pubsub").decode()
    assert listed.count("\n") == 1 and " flags=P " in listed and " sub=1 " in listed
    assert me.call("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert subscriber.closed()
    assert me.call("CLIENT", "KILL", "TYPE", "master") == 0
    assert me.call("CLIENT", "KILL", "TYPE", "normal") == 2
    assert all(o.closed() for o in others)

    # SKIPME no: the caller is killed too, after its reply
    survivor_check = srv.raw()
    assert survivor_check.call("PING") == "PONG"
    assert me.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") == 2
    assert me.closed()
    assert survivor_check.closed()
    assert srv.client().ping() is True


def test_client_reply_off_on(raw):
    raw.send(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nNOSUCH\r\nCLIENT REPLY ON\r\nGET a\r\n")
    assert raw.read_reply() == "OK"  # only ON replies
    assert raw.read_reply() == b"1"


def test_client_reply_skip(raw):
    raw.send(b"CLIENT REPLY SKIP\r\nECHO skipped\r\nECHO shown\r\n")
    assert raw.read_reply() == b"shown"
    assert raw.call("CLIENT", "REPLY", "bogus") == ("error", "ERR syntax error")


def test_client_pause_write_holds_writes_until_unpause(raw, server, r):
    writer, reader = server.raw(), server.raw()
    try:
        assert raw.call("CLIENT", "PAUSE", "10000", "WRITE") == "OK"
        writer.command("SET", "paused-key", "v")
        assert reader.call("GET", "paused-key") is None  # reads go on
        assert nothing_arrives(writer)
        assert raw.call("CLIENT", "UNPAUSE") == "OK"
        assert writer.read_reply() == "OK"
        assert reader.call("GET", "paused-key") == b"v"
    finally:
        raw.call("CLIENT", "UNPAUSE")
        writer.close()
        reader.close()


def test_client_paused_keeps_reading_input(raw, server, r):
    """Input that arrives while a client is held is kept, in order."""
    writer = server.raw()
    try:
        assert raw.call("CLIENT", "PAUSE", "10000", "WRITE") == "OK"
        # the held SET is not at the start of what was read
        writer.send(b"ECHO first\r\n*3\r\n$3\r\nSET\r\n$2\r\npk\r\n$1\r\n1\r\n")
        assert writer.read_reply() == b"first"
        for cmd in (b"INCR pk\r\n", b"*2\r\n$4\r\nINCR\r\n$2\r\npk\r\n", b"GET pk\r\n", b"ECHO " + b"e" * 5000 + b"\r\n"):
            time.sleep(0.05)
            writer.send(cmd)
        assert nothing_arrives(writer)
        raw.call("CLIENT", "UNPAUSE")
        assert [writer.read_reply() for _ in range(5)] == ["OK", 2, 3, b"3", b"e" * 5000]
    finally:
        raw.call("CLIENT", "UNPAUSE")
        writer.close()


def test_client_pause_write_holds_exec_of_writing_transaction(raw, server):
    tx = server.raw()
    try:
        tx.call("MULTI")
        assert tx.call("SET", "tx-key", "1") == "QUEUED"
        assert raw.call("CLIENT", "PAUSE", "10000", "WRITE") == "OK"
        tx.command("EXEC")
        assert nothing_arrives(tx)
        assert raw.call("EXISTS", "tx-key") == 0
        raw.call("CLIENT", "UNPAUSE")
        assert tx.read_reply() == ["OK"]
    finally:
        raw.call("CLIENT", "UNPAUSE")
        tx.close()


def test_client_pause_all_ends_by_itself(raw, server):
    other = server.raw()
    try:
        start = time.time()
        assert raw.call("CLIENT", "PAUSE", "400", "ALL") == "OK"
        other.command("ECHO", "later")
        assert nothing_arrives(other, 0.2)
        assert other.read_reply() == b"later"
        assert time.time() - start >= 0.35
    finally:
        raw.call("CLIENT", "UNPAUSE")
        other.close()


def test_client_pause_stricter_mode_and_later_end_win(server):
    a, b, c = server.raw(), server.raw(), server.raw()
    try:
        start = time.time()
        assert a.call("CLIENT", "PAUSE", "1500", "WRITE") == "OK"
        # not a write, so not held; makes the pause ALL until the later end
        assert b.call("CLIENT", "PAUSE", "300", "ALL") == "OK"
        c.command("GET", "x")
        assert nothing_arrives(c, 0.8)
        assert c.read_reply() is None
        assert time.time() - start >= 1.4
    finally:
        for conn in (a, b, c):
            conn.close()
    fresh = server.raw()
    fresh.call("CLIENT", "UNPAUSE")
    fresh.close()


def test_client_pause_all_holds_the_pausing_client_too(raw):
    # as in Redis: even its CLIENT UNPAUSE waits for the pause to end
    start = time.time()
    raw.send(b"CLIENT PAUSE 300 ALL\r\nCLIENT UNPAUSE\r\nPING\r\n")
    assert [raw.read_reply() for _ in range(3)] == ["OK", "OK", "PONG"]
    assert time.time() - start >= 0.28


def test_client_pause_errors(raw):
    assert raw.call("CLIENT", "PAUSE", "x") == ("error", "ERR timeout is not an integer or out of range")
    assert raw.call("CLIENT", "PAUSE", "-1") == ("error", "ERR timeout is negative")
    assert raw.call("CLIENT", "PAUSE", "10", "SOME") == ("error", "ERR CLIENT PAUSE mode must be WRITE or ALL")
    assert raw.call("CLIENT", "PAUSE", "x", "SOME") == ("error", "ERR CLIENT PAUSE mode must be WRITE or ALL")
    assert raw.call("CLIENT", "PAUSE", "10", "ALL", "x") == (
        "error", "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
    assert raw.call("CLIENT", "UNPAUSE", "x") == ("error", "ERR wrong number of arguments for 'client|unpause' command")
    assert raw.call("CLIENT", "UNPAUSE") == "OK"


def test_client_no_evict(raw):
    assert raw.call("CLIENT", "NO-EVICT", "on") == "OK"
    assert client_line(raw)["flags"] == "e"
    assert raw.call("CLIENT", "NO-EVICT", "OFF") == "OK"
    assert client_line(raw)["flags"] == "N"
    assert raw.call("CLIENT", "NO-EVICT", "maybe") == ("error", "ERR syntax error")


def test_client_setinfo(raw):
    # CLIENT SETINFO is Redis 7.2
    assert raw.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "OK"
    assert raw.call("CLIENT", "SETINFO", "lib-ver", "4.3.4") == "OK"
    line = client_line(raw)
    assert line["lib-name"] == "redis-py" and line["lib-ver"] == "4.3.4"
    assert raw.call("CLIENT", "SETINFO", "lib-ver", "1 2") == (
        "error", "ERR lib-ver cannot contain spaces, newlines or special characters.")
    assert raw.call("CLIENT", "SETINFO", "color", "red") == ("error", "ERR Unrecognized option 'color'")
    assert raw.call("CLIENT", "SETINFO", "lib-name") == (
        "error", "ERR wrong number of arguments for 'client|setinfo' command")
    assert client_line(raw)["lib-ver"] == "4.3.4"


def test_client_help(raw):
    lines = raw.call("CLIENT", "HELP")
    assert lines[0] == "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "KILL <ip:port>" in lines


# ---- MONITOR ----

MONITOR_LINE = re.compile(r'^\+(\d+)\.(\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)$')


def test_monitor_output_format(raw, server):
    other = server.raw()
    port = client_line(other)["addr"].split(":")[1]
    assert raw.call("MONITOR") == "OK"
    other.call("SET", b'k\x01"', b"a b\n\\")
    other.call("SELECT", "2")
    other.call("GET", "x")
    other.call("NOSUCH", "a")  # refused commands are not shown
    other.call("GET")
    other.call("AUTH", "default", "pw")  # credentials are redacted
    other.call("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "mon")
    other.call("CONFIG", "GET", "port")  # administrative: not shown
    other.call("MULTI")
    other.call("INCR", "n")
    other.call("EXEC")
    other.call("ECHO", "last")
    expected = [
        ("0", r'"SET" "k\x01\"" "a b\n\\"'),
        ("2", '"SELECT" "2"'),  # shown after it ran, with the new db
        ("2", '"GET" "x"'),
        ("2", '"AUTH" "(redacted)" "(redacted)"'),
        ("2", '"HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME" "mon"'),
        ("2", '"MULTI"'),
        ("2", '"INCR" "n"'),  # inside EXEC, shown before EXEC itself
        ("2", '"EXEC"'),
        ("2", '"ECHO" "last"'),
    ]
    for db, args in expected:
        line = raw.read_line().decode()
        m = MONITOR_LINE.match(line)
        assert m, line
        assert abs(int(m.group(1)) - time.time()) < 60
        assert m.group(3) == db and m.group(4) == port
        assert m.group(5) == args
    other.close()


def test_monitor_errors(raw):
    assert raw.call("MULTI") == "OK"
    assert raw.call("MONITOR") == "QUEUED"
    assert raw.call("EXEC") == [("error", "ERR MONITOR isn't allowed for DENY BLOCKING client")]
    assert raw.call("MONITOR") == "OK"
    raw.send(b"MONITOR\r\nECHO x\r\n")  # a second MONITOR gets no reply
    assert raw.read_reply() == b"x"


# ---- SLOWLOG ----

def test_slowlog(raw, r):
    raw.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        assert raw.call("SLOWLOG", "RESET") == "OK"
        raw.call("CLIENT", "SETNAME", "slow-client")
        raw.call("SET", "slowkey", "x" * 200)
        raw.call("AUTH", "default", "secret")
        raw.call("MSET", *["k%d" % i for i in range(40)])
        entries = raw.call("SLOWLOG", "GET", "-1")
        # newest first: MSET, AUTH, SET, CLIENT SETNAME, SLOWLOG RESET
        assert [e[3][0] for e in entries] == [b"MSET", b"AUTH", b"SET", b"CLIENT", b"SLOWLOG"]
        ids = [e[0] for e in entries]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
        mset, auth, set_ = entries[0], entries[1], entries[2]
        assert abs(mset[1] - time.time()) < 60
        assert mset[2] >= 0
        assert len(mset[3]) == 32 and mset[3][-1] == b"... (10 more arguments)"
        assert mset[4].startswith(b"127.0.0.1:") and mset[5] == b"slow-client"
        assert auth[3] == [b"AUTH", b"(redacted)", b"(redacted)"]
        assert set_[3] == [b"SET", b"slowkey", b"x" * 128 + b"... (72 more bytes)"]
        assert raw.call("SLOWLOG", "LEN") == 6  # the GET above is logged too
        assert len(raw.call("SLOWLOG", "GET", "2")) == 2
        assert len(raw.call("SLOWLOG", "GET")) == 8  # default count 10, after LEN and GET were added
        assert raw.call("SLOWLOG", "GET", "0") == []
        assert raw.call("SLOWLOG", "GET", "x") == ("error", "ERR count should be greater than or equal to -1")
        assert raw.call("SLOWLOG", "GET", "-2") == ("error", "ERR count should be greater than or equal to -1")
        assert raw.call("SLOWLOG", "GET", "1", "2") == (
            "error", "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
        assert raw.call("SLOWLOG", "RESET") == "OK"
        assert raw.call("SLOWLOG", "LEN") == 1  # the RESET itself
    finally:
        raw.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        raw.call("SLOWLOG", "RESET")


def test_slowlog_redacts_config_set_requirepass(fresh_server):
    srv = fresh_server("--slowlog-log-slower-than", "0")
    conn = srv.raw()
    assert conn.call("CONFIG", "SET", "requirepass", "hunter2", "maxclients", "100") == "OK"
    assert conn.call("AUTH", "hunter2") == "OK"
    entries = conn.call("SLOWLOG", "GET", "2")
    assert entries[0][3] == [b"AUTH", b"(redacted)"]
    assert entries[1][3] == [b"CONFIG", b"SET", b"requirepass", b"(redacted)", b"maxclients", b"100"]
    conn.close()


def test_slowlog_max_len(raw):
    raw.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    raw.call("CONFIG", "SET", "slowlog-max-len", "3")
    try:
        for i in range(10):
            raw.call("ECHO", str(i))
        entries = raw.call("SLOWLOG", "GET", "-1")
        assert [e[3] for e in entries] == [[b"ECHO", b"9"], [b"ECHO", b"8"], [b"ECHO", b"7"]]
    finally:
        raw.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        raw.call("CONFIG", "SET", "slowlog-max-len", "128")
        raw.call("SLOWLOG", "RESET")


# ---- INFO ----

def info_sections(text):
    return re.findall(r"^# (\w+)\r$", text, re.M)


def test_info_default_sections(raw):
    text = raw.call("INFO").decode()
    assert info_sections(text) == ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                                   "Modules", "Errorstats", "Cluster", "Keyspace"]
    assert info_sections(raw.call("INFO", "default").decode()) == info_sections(text)
    everything = info_sections(raw.call("INFO", "all").decode())
    assert "Commandstats" in everything
    assert info_sections(raw.call("INFO", "everything").decode()) == everything


@pytest.mark.parametrize("section,title,field", [
    ("server", "Server", "redis_version:7.2.4"),
    ("clients", "Clients", "connected_clients:"),
    ("memory", "Memory", "used_memory:"),
    ("persistence", "Persistence", "loading:0"),
    ("stats", "Stats", "total_commands_processed:"),
    ("replication", "Replication", "role:master"),
    ("cpu", "CPU", "used_cpu_sys:"),
    ("commandstats", "Commandstats", "cmdstat_info:calls="),
    ("errorstats", "Errorstats", None),
    ("keyspace", "Keyspace", None),
])
def test_info_section(raw, section, title, field):
    text = raw.call("INFO", section).decode()
    assert info_sections(text) == [title]
    assert text.startswith("# %s\r\n" % title)
    if field:
        assert "\r\n" + field in text
    assert raw.call("INFO", section.upper()).decode().startswith("# %s\r\n" % title)


def test_info_multiple_and_unknown_sections(raw):
    assert info_sections(raw.call("INFO", "keyspace", "server").decode()) == ["Server", "Keyspace"]
    assert raw.call("INFO", "nosuchsection") == b""


def test_info_total_commands_processed_grows(raw):
    def processed():
        return int(re.search(r"total_commands_processed:(\d+)", raw.call("INFO", "stats").decode()).group(1))

    before = processed()
    for _ in range(5):
        raw.call("PING")
    assert processed() == before + 6  # five PINGs and the first INFO


def test_info_errorstats(raw):
    raw.call("CONFIG", "RESETSTAT")
    raw.call("SET", "s", "notanumber")
    assert raw.call("INCR", "s") == ("error", "ERR value is not an integer or out of range")
    raw.call("NOSUCH")
    raw.call("MULTI")
    raw.call("GET")  # refused while queuing: counted, and dooms the EXEC
    assert raw.call("EXEC") == ("error", "EXECABORT Transaction discarded because of previous errors.")
    text = raw.call("INFO", "errorstats").decode()
    assert "errorstat_ERR:count=3\r\n" in text
    assert "errorstat_EXECABORT:count=1\r\n" in text
    stats = raw.call("INFO", "stats").decode()
    assert "total_error_replies:4\r\n" in stats
    cmds = raw.call("INFO", "commandstats").decode()
    assert re.search(r"cmdstat_incr:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1\r\n",
                     cmds)
    assert re.search(r"cmdstat_get:calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0\r\n", cmds)
    assert re.search(r"cmdstat_exec:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=1\r\n",
                     cmds)


def test_info_errors_inside_exec_counted_once(raw):
    raw.call("CONFIG", "RESETSTAT")
    raw.call("SET", "s", "x")
    raw.call("MULTI")
    raw.call("INCR", "s")
    raw.call("INCR", "s")
    raw.call("PING")
    reply = raw.call("EXEC")
    assert reply[2] == "PONG" and reply[0][0] == "error" and reply[1][0] == "error"
    assert "errorstat_ERR:count=2\r\n" in raw.call("INFO", "errorstats").decode()
    cmds = raw.call("INFO", "commandstats").decode()
    # the errors belong to INCR; EXEC itself did not fail
    assert re.search(r"cmdstat_exec:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n",
                     cmds)
    assert re.search(r"cmdstat_incr:calls=2,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=2\r\n",
                     cmds)


def test_info_keyspace(raw, r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    text = raw.call("INFO", "keyspace").decode()
    assert "db0:keys=2,expires=1,avg_ttl=" in text
    assert "db3:" not in text


def test_info_clients_counts_connections(fresh_server):
    srv = fresh_server()
    conn = srv.raw()

    def connected():
        return int(re.search(r"connected_clients:(\d+)", conn.call("INFO", "clients").decode()).group(1))

    assert wait_until(lambda: connected() == 1)  # the start-up probe is gone
    extra = [srv.raw() for _ in range(3)]
    for e in extra:
        e.call("PING")
    assert connected() == 4
    for e in extra:
        e.close()
    assert wait_until(lambda: connected() == 1)
    conn.close()


# ---- COMMAND ----

def test_command_count_and_list(raw):
    count = raw.call("COMMAND", "COUNT")
    names = raw.call("COMMAND", "LIST")
    assert len(names) == len(set(names))
    top_level = [n for n in names if b"|" not in n]
    # COUNT and COMMAND cover top-level commands; LIST adds subcommands
    assert isinstance(count, int) and count == len(top_level) == len(raw.call("COMMAND"))
    for name in (b"get", b"set", b"ping", b"client", b"client|kill", b"config|get", b"multi", b"exec"):
        assert name in names
    assert sorted(raw.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "ex*")) == [b"exec", b"exists", b"expire",
                                                                              b"expireat", b"expiretime"]
    slowlog = sorted(raw.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "slowlog*"))
    assert slowlog == [b"slowlog", b"slowlog|get", b"slowlog|help", b"slowlog|len", b"slowlog|reset"]
    assert raw.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "zzz*") == []
    assert sorted(raw.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "transaction")) == [
        b"discard", b"exec", b"multi", b"unwatch", b"watch"]
    assert raw.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    assert raw.call("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert raw.call("COMMAND", "LIST", "FILTERBY", "bogus", "x") == ("error", "ERR syntax error")
    assert raw.call("COMMAND", "LIST", "FILTERBY", "PATTERN") == ("error", "ERR syntax error")


def test_command_info(raw):
    get, missing, kill = raw.call("COMMAND", "INFO", "get", "nosuchcommand", "client|kill")
    assert get[:6] == [b"get", 2, ["readonly", "fast"], 1, 1, 1]
    assert get[6] == ["@read", "@string", "@fast"]  # ACL categories are simple strings
    assert missing is None
    assert kill[:2] == [b"client|kill", -3]
    assert "admin" in kill[2]
    mset = raw.call("COMMAND", "INFO", "MSET")[0]
    assert mset[:6] == [b"mset", -3, ["write", "denyoom"], 1, -1, 2]
    client = raw.call("COMMAND", "INFO", "client")[0]
    assert b"client|kill" in [sub[0] for sub in client[9]]


def test_command_docs(raw):
    docs = raw.call("COMMAND", "DOCS", "get", "nosuchcommand")
    assert len(docs) == 2 and docs[0] == b"get"
    fields = dict(zip(docs[1][0::2], docs[1][1::2]))
    assert fields[b"since"] == b"1.0.0"
    assert fields[b"group"] == b"string"
    assert fields[b"complexity"] == b"O(1)"
    assert fields[b"summary"]


def test_command_getkeys(raw):
    assert raw.call("COMMAND", "GETKEYS", "SET", "k", "v") == [b"k"]
    assert raw.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == [b"a", b"b"]
    assert raw.call("COMMAND", "GETKEYS", "nosuch", "x") == ("error", "ERR Invalid command specified")
    assert raw.call("COMMAND", "GETKEYS", "PING", "x") == ("error", "ERR The command has no key arguments")
    assert raw.call("COMMAND", "GETKEYS", "GET", "a", "b") == (
        "error", "ERR Invalid number of arguments specified for command")
    assert raw.call("COMMAND", "GETKEYS", "GET") == (
        "error", "ERR wrong number of arguments for 'command|getkeys' command")


# ---- DBSIZE TIME LASTSAVE DEBUG MEMORY LATENCY ----

def test_dbsize(raw, r):
    assert raw.call("DBSIZE") == 0
    r.mset({"a": 1, "b": 2, "c": 3})
    assert raw.call("DBSIZE") == 3
    raw.call("SELECT", "1")
    assert raw.call("DBSIZE") == 0
    assert raw.call("DBSIZE", "x") == ("error", "ERR wrong number of arguments for 'dbsize' command")


def test_time(raw):
    seconds, micros = raw.call("TIME")
    assert abs(int(seconds) - time.time()) < 5
    assert 0 <= int(micros) < 1000000


def test_lastsave(raw):
    assert abs(raw.call("LASTSAVE") - time.time()) < 3600


def test_debug_sleep_and_object(raw):
    # Runnel allows DEBUG from local connections by default (Redis: "no")
    assert raw.call("DEBUG", "SLEEP", "0") == "OK"
    start = time.time()
    assert raw.call("DEBUG", "SLEEP", "0.2") == "OK"
    assert time.time() - start >= 0.19
    raw.call("SET", "obj", "12345")
    line = raw.call("DEBUG", "OBJECT", "obj")
    assert re.match(r"^Value at:0x[0-9a-f]+ refcount:\d+ encoding:int serializedlength:\d+ lru:\d+ "
                    r"lru_seconds_idle:\d+$", line), line
    raw.call("SET", "obj", "text")
    assert "encoding:embstr" in raw.call("DEBUG", "OBJECT", "obj")
    assert raw.call("DEBUG", "OBJECT", "nokey") == ("error", "ERR no such key")


def test_memory_usage(raw):
    raw.call("SET", "mk", "v" * 1000)
    usage = raw.call("MEMORY", "USAGE", "mk")
    assert 1000 < usage < 1300
    assert raw.call("MEMORY", "USAGE", "mk", "SAMPLES", "0") == usage
    assert raw.call("MEMORY", "USAGE", "nokey") is None
    assert raw.call("MEMORY", "USAGE", "mk", "SAMPLES", "x") == ("error", "ERR value is not an integer or out of range")
    assert raw.call("MEMORY", "USAGE", "mk", "SAMPLES", "-1") == ("error", "ERR syntax error")
    assert raw.call("MEMORY", "USAGE", "mk", "BOGUS") == ("error", "ERR syntax error")


def test_memory_stats(raw, r):
    raw.call("SET", "k", "v")
    flat = raw.call("MEMORY", "STATS")
    stats = dict(zip(flat[0::2], flat[1::2]))
    for name in (b"peak.allocated", b"total.allocated", b"startup.allocated", b"keys.count",
                 b"keys.bytes-per-key", b"dataset.bytes", b"overhead.total", b"fragmentation.bytes"):
        assert isinstance(stats[name], int), name
    assert stats[b"peak.allocated"] >= stats[b"total.allocated"] > 0
    assert stats[b"keys.count"] == 1
    assert stats[b"db.0"] == [b"overhead.hashtable.main", stats[b"db.0"][1], b"overhead.hashtable.expires", 0]
    assert float(stats[b"fragmentation"]) > 0


def test_latency_latest(raw):
    assert raw.call("LATENCY", "LATEST") == []
    assert raw.call("LATENCY", "HISTORY", "command") == []
    assert raw.call("LATENCY", "LATEST", "x") == ("error", "ERR wrong number of arguments for 'latency|latest' command")


# ---- shutting down ----

def test_shutdown_nosave_ends_process(fresh_server):
    srv = fresh_server()
    conn = srv.raw()
    conn.send(b"SHUTDOWN NOSAVE\r\n")
    assert conn.closed(timeout=5)
    conn.close()
    assert srv.proc.wait(timeout=5) == 0
    out = srv.output()
    assert "ready to exit" in out


def test_shutdown_errors(raw):
    assert raw.call("SHUTDOWN", "BOGUS") == ("error", "ERR syntax error")
    assert raw.call("SHUTDOWN", "SAVE", "NOSAVE") == ("error", "ERR syntax error")
    assert raw.call("MULTI") == "OK"
    assert raw.call("SHUTDOWN") == ("error", "ERR Command not allowed inside a transaction")
    raw.call("DISCARD")


def test_sigterm_clean_exit(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.set("k", "v")
    c.close()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=5) == 0
    out = srv.output()
    assert "ready to exit" in out
    assert "ERROR" not in out.upper().replace("LOGLEVEL", "")
