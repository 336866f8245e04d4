"""The wire protocol: inline and multibulk requests, pipelining, requests
split over many reads, every protocol error (exact text, connection closed,
other clients unharmed), request size limits, and RESP3 reply shapes.

Expected replies were checked side by side against Debian's redis-server
7.0; where Runnel follows 7.2 instead, a comment says so."""
import socket
import subprocess
import time

import pytest
import redis

from conftest import SERVER


def assert_still_serving(server):
    """Another client is unaffected by whatever happened to the last one."""
    c = server.client()
    try:
        assert c.ping() is True
        assert c.echo("alive") == b"alive"
    finally:
        c.close()


# ---- inline commands (telnet style) ----

def test_inline_ping(raw):
    raw.send(b"PING\r\n")
    assert raw.read_reply() == "PONG"


def test_inline_bare_newline_and_blank_lines(raw):
    # telnet may send a bare \n; empty lines are skipped without a reply
    raw.send(b"\r\n\n  \r\nPING\n")
    assert raw.read_reply() == "PONG"


def test_inline_quoted_arguments(raw, r):
    raw.send(b'SET "key with spaces" \'single quoted value\'\r\n')
    assert raw.read_reply() == "OK"
    assert r.get("key with spaces") == b"single quoted value"


def test_inline_escapes_in_double_quotes(raw):
    raw.send(b'ECHO "a\\x41\\n\\t\\"q\\""\r\n')
    assert raw.read_reply() == b'aA\n\t"q"'


def test_inline_single_quote_escape(raw):
    raw.send(b"ECHO 'it\\'s'\r\n")
    assert raw.read_reply() == b"it's"


def test_inline_empty_quoted_argument(raw, r):
    raw.send(b'SET k ""\r\n')
    assert raw.read_reply() == "OK"
    assert r.get("k") == b""


def test_inline_and_multibulk_mixed(raw):
    raw.send(b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO there\r\n")
    assert raw.read_reply() == "PONG"
    assert raw.read_reply() == b"hi"
    assert raw.read_reply() == b"there"


def test_empty_multibulk_requests_are_skipped(raw):
    raw.send(b"*0\r\n*-1\r\nPING\r\n")
    assert raw.read_reply() == "PONG"


# ---- pipelining and fragmentation ----

def test_pipeline_1000_commands_in_one_send(raw, r):
    out = b""
    for i in range(1000):
        out += b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n"
        out += b"*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(str(i)), i)
    raw.send(out)
    for i in range(1000):
        assert raw.read_reply() == i + 1
        assert raw.read_reply() == str(i).encode()
    assert r.get("counter") == b"1000"


def test_pipeline_of_large_values(raw, r):
    # values over 32 KB are read straight into place; mixed with small
    # commands and sent in uneven pieces, every reply must still line up
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    values = [bytes([65 + i % 26]) * (40000 + i * 1000) for i in range(30)]
    out = b""
    for i, v in enumerate(values):
        out += b"*3\r\n$3\r\nSET\r\n$%d\r\nbig%d\r\n$%d\r\n%s\r\n" % (len(str(i)) + 3, i, len(v), v)
        out += b"PING\r\n"
    for start in range(0, len(out), 12345):
        raw.send(out[start:start + 12345])
    for _ in values:
        assert raw.read_reply() == "OK"
        assert raw.read_reply() == "PONG"
    assert r.mget(["big%d" % i for i in range(30)]) == values


def test_pipeline_of_inline_commands(raw):
    raw.send(b"".join(b"ECHO %d\r\n" % i for i in range(500)))
    assert [raw.read_reply() for _ in range(500)] == [str(i).encode() for i in range(500)]


def test_command_split_over_many_tiny_sends(raw, r):
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$11\r\nhello world\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n"
    for i in range(len(request)):
        raw.send(request[i:i + 1])
        if i % 8 == 0:
            time.sleep(0.002)
    assert raw.read_reply() == "OK"
    assert raw.read_reply() == b"hello world"
    assert r.get("split") == b"hello world"


def test_inline_split_over_sends(raw):
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for chunk in (b"EC", b"HO ", b'"two ', b'words"', b"\r", b"\n"):
        raw.send(chunk)
        time.sleep(0.01)
    assert raw.read_reply() == b"two words"


def test_large_value_roundtrip_in_pieces(raw):
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    value = bytes(range(256)) * 1024  # 256 KB, every byte value
    request = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(value), value)
    for i in range(0, len(request), 50000):
        raw.send(request[i:i + 50000])
        time.sleep(0.005)
    assert raw.read_reply() == value


# ---- protocol errors: exact text, connection closed, others unharmed ----

@pytest.mark.parametrize("request_bytes,error", [
    (b"*x\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*3000000000\r\n", "ERR Protocol error: invalid multibulk length"),
    (b"*1\r\nx\r\n", "ERR Protocol error: expected '$', got 'x'"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
    (b"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$01\r\n", "ERR Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"),
    (b'SET "unterminated\r\n', "ERR Protocol error: unbalanced quotes in request"),
    (b"ECHO 'a'b\r\n", "ERR Protocol error: unbalanced quotes in request"),
    (b'ECHO "a"b\r\n', "ERR Protocol error: unbalanced quotes in request"),
])
def test_protocol_error_closes_connection(server, request_bytes, error):
    conn = server.raw()
    try:
        conn.send(b"PING\r\n" + request_bytes + b"PING\r\n")
        assert conn.read_reply() == "PONG"  # what came before the error still runs
        assert conn.read_reply() == ("error", error)
        assert conn.closed()
        assert conn.buf == b""  # nothing after the error is executed
    finally:
        conn.close()
    assert_still_serving(server)


def test_too_big_inline_request(server):
    conn = server.raw()
    try:
        conn.send(b"x" * (70 * 1024))
        assert conn.read_reply() == ("error", "ERR Protocol error: too big inline request")
        assert conn.closed()
    finally:
        conn.close()
    assert_still_serving(server)


def test_too_big_count_strings(server):
    for prefix, error in ((b"*", "ERR Protocol error: too big mbulk count string"),
                          (b"*1\r\n$", "ERR Protocol error: too big bulk count string")):
        conn = server.raw()
        try:
            conn.send(prefix + b"1" * (70 * 1024))
            assert conn.read_reply() == ("error", error)
            assert conn.closed()
        finally:
            conn.close()
    assert_still_serving(server)


def test_protocol_errors_count_in_errorstats(server):
    c = server.client()
    c.config_resetstat()
    conn = server.raw()
    conn.send(b"*1\r\n$x\r\n")
    assert conn.read_reply() == ("error", "ERR Protocol error: invalid bulk length")
    assert conn.closed()
    conn.close()
    assert c.info("errorstats")["errorstat_ERR"] == "count=1"  # redis-py leaves "k=v" without commas as is
    c.close()


@pytest.mark.parametrize("first_line", [b"POST / HTTP/1.1\r\n", b"Host: example.com\r\n",
                                        b"post /x HTTP/1.0\r\n"])
def test_http_requests_are_dropped_without_reply(server, first_line):
    conn = server.raw()
    try:
        conn.send(first_line + b"Content-Length: 0\r\n\r\n")
        assert conn.closed()
        assert conn.buf == b""
    finally:
        conn.close()
    assert_still_serving(server)


def test_http_host_header_after_get_line(server):
    # "GET / HTTP/1.1" parses as a GET with too many arguments, but the Host:
    # line behind it gets the connection dropped before any reply is written
    conn = server.raw()
    try:
        conn.send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert conn.closed()
        assert conn.buf == b""
    finally:
        conn.close()
    assert_still_serving(server)


def test_proto_max_bulk_len(fresh_server):
    srv = fresh_server("--proto-max-bulk-len", "1mb")
    ok = srv.raw()
    value = b"v" * (1024 * 1024)
    assert ok.call("ECHO", value) == value  # exactly the limit is fine
    ok.close()
    conn = srv.raw()
    conn.send(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (1024 * 1024 + 1))
    assert conn.read_reply() == ("error", "ERR Protocol error: invalid bulk length")
    assert conn.closed()
    conn.close()
    assert_still_serving(srv)


def test_proto_max_bulk_len_config_set_applies_to_connected_clients(fresh_server):
    srv = fresh_server()
    conn = srv.raw()
    assert conn.call("CONFIG", "SET", "proto-max-bulk-len", "1mb") == "OK"
    conn.send(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (1024 * 1024 + 1))
    assert conn.read_reply() == ("error", "ERR Protocol error: invalid bulk length")
    assert conn.closed()
    conn.close()


def test_client_query_buffer_limit(fresh_server):
    srv = fresh_server("--client-query-buffer-limit", "1mb")
    other = srv.raw()
    assert other.call("SET", "survivor", "yes") == "OK"
    conn = srv.raw()
    conn.send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % (4 * 1024 * 1024))
    try:
        for _ in range(3 * 16):  # up to 3 MB, well past the limit
            conn.send(b"x" * 65536)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert conn.closed(timeout=5)
    conn.close()
    assert other.call("GET", "survivor") == b"yes"
    assert other.call("EXISTS", "big") == 0
    # Runnel's counter (Redis added the same field in 7.4)
    info = other.call("INFO", "stats").decode()
    assert "client_query_buffer_limit_disconnections:1\r\n" in info
    other.close()


def test_unauthenticated_request_limits(fresh_server):
    """Before AUTH, Redis allows at most 10 arguments and 16 KB bulks."""
    srv = fresh_server("--requirepass", "secret")
    conn = srv.raw()
    conn.send(b"*11\r\n")
    assert conn.read_reply() == ("error", "ERR Protocol error: unauthenticated multibulk length")
    assert conn.closed()
    conn.close()

    conn = srv.raw()
    conn.send(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n")
    assert conn.read_reply() == ("error", "ERR Protocol error: unauthenticated bulk length")
    assert conn.closed()
    conn.close()

    conn = srv.raw()
    conn.send(b"*x\r\n")  # still the ordinary error for a malformed count
    assert conn.read_reply() == ("error", "ERR Protocol error: invalid multibulk length")
    conn.close()

    conn = srv.raw()
    assert conn.call("AUTH", "secret") == "OK"
    args = ["MSET"] + ["k%d" % i for i in range(20)]
    assert conn.call(*args) == "OK"  # 21 arguments, fine once authenticated
    assert conn.call("ECHO", b"z" * 20000) == b"z" * 20000
    conn.close()


# ---- command errors ----

def test_unknown_command_error_lists_args(raw):
    assert raw.call("NOSUCH", "a", "b") == (
        "error", "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ")
    assert raw.call("nosuch") == ("error", "ERR unknown command 'nosuch', with args beginning with: ")
    assert raw.call("PING") == "PONG"  # the connection stays open


def test_unknown_command_args_cut_at_128_bytes(raw):
    a, b = "a" * 100, "b" * 100
    reply = raw.call("NOSUCH", a, b, "c")
    assert reply == ("error", "ERR unknown command 'NOSUCH', with args beginning with: '%s' '%s' " % (a, "b" * 25))
    reply = raw.call("x" * 200, "y")
    assert reply == ("error", "ERR unknown command '%s', with args beginning with: 'y' " % ("x" * 128))


def test_unknown_subcommand(raw):
    assert raw.call("CLIENT", "nosuch") == ("error", "ERR unknown subcommand 'nosuch'. Try CLIENT HELP.")
    assert raw.call("config", "bogus", "x") == ("error", "ERR unknown subcommand 'bogus'. Try CONFIG HELP.")


def test_wrong_arity(raw):
    assert raw.call("GET") == ("error", "ERR wrong number of arguments for 'get' command")
    assert raw.call("get", "a", "b") == ("error", "ERR wrong number of arguments for 'get' command")
    assert raw.call("SET", "k") == ("error", "ERR wrong number of arguments for 'set' command")
    assert raw.call("CLIENT", "SETNAME") == ("error", "ERR wrong number of arguments for 'client|setname' command")
    assert raw.call("CLIENT") == ("error", "ERR wrong number of arguments for 'client' command")


def test_empty_bulk_arguments(raw, r):
    assert raw.call("SET", "", "") == "OK"
    assert raw.call("GET", "") == b""
    assert raw.call("EXISTS", "") == 1
    assert raw.call("ECHO", "") == b""
    assert r.get("") == b""


def test_binary_arguments(r):
    key = b"k\x00\r\n\xff"
    value = bytes(range(256))
    assert r.set(key, value) is True
    assert r.get(key) == value
    assert r.strlen(key) == 256
    assert r.exists(b"k\x00\r\n\xfe") == 0


def test_nul_byte_inside_command_name(raw):
    assert raw.call(b"PI\x00NG")[0] == "error"
    assert raw.call("PING") == "PONG"


# ---- RESP3 ----

def raw_reply_line(conn, *args):
    """Sends a command and returns the first line of its raw reply."""
    conn.command(*args)
    return conn.read_line()


def test_hello_3_reply_is_a_map(raw):
    hello = raw.call("HELLO", "3")
    assert isinstance(hello, dict)
    assert hello["server"] == b"redis"
    assert hello["version"] == b"7.2.4"  # the Redis version Runnel follows
    assert hello["proto"] == 3
    assert hello["mode"] == b"standalone"
    assert hello["role"] == b"master"
    assert hello["modules"] == []
    assert hello["id"] == raw.call("CLIENT", "ID")


def test_hello_2_reply_is_flat_array(raw):
    reply = raw.call("HELLO", "2")
    assert isinstance(reply, list) and len(reply) == 14
    assert reply[0:6] == [b"server", b"redis", b"version", b"7.2.4", b"proto", 2]


def test_hello_without_version_reports_current_protocol(raw):
    assert raw.call("HELLO")[5] == 2
    raw.call("HELLO", "3")
    assert raw.call("HELLO")["proto"] == 3


def test_resp3_null_is_underscore(raw3):
    assert raw_reply_line(raw3, "GET", "nosuchkey") == b"_"
    assert raw_reply_line(raw3, "CLIENT", "GETNAME") == b"_"


def test_resp2_null_is_dollar_minus_one(raw):
    assert raw_reply_line(raw, "GET", "nosuchkey") == b"$-1"


def test_resp3_map_reply(raw3):
    raw3.call("SET", "k", "v")
    stats = raw3.call("MEMORY", "STATS")
    assert isinstance(stats, dict)
    assert stats["keys.count"] >= 1
    assert isinstance(stats["total.allocated"], int)


def test_resp3_double_reply(raw3, raw):
    # ratios in MEMORY STATS are doubles: ",<n>" in RESP3, bulk in RESP2
    stats = raw3.call("MEMORY", "STATS")
    assert isinstance(stats["peak.percentage"], float)
    assert 0 < stats["peak.percentage"] <= 100
    assert isinstance(stats["fragmentation"], float)
    flat = raw.call("MEMORY", "STATS")
    as_map = dict(zip(flat[0::2], flat[1::2]))
    assert isinstance(as_map[b"peak.percentage"], bytes)
    assert 0 < float(as_map[b"peak.percentage"]) <= 100


def test_resp3_verbatim_info(raw3):
    raw3.command("INFO", "server")
    header = raw3.read_line()
    assert header.startswith(b"=")
    body = raw3.read_exact(int(header[1:]) + 2)[:-2]
    assert body.startswith(b"txt:# Server\r\n")
    assert b"redis_version:7.2.4\r\n" in body


def test_info_gives_the_redis_version_served_and_runnels_own(r):
    """Frameworks gate features on redis_version (BullMQ needs >= 5, Sidekiq
    7 >= 6.2); runnel_version is Runnel's own release."""
    server = r.info("server")
    assert server["redis_version"] == "7.2.4"
    assert server["runnel_version"] == "0.1.0"
    out = subprocess.run([SERVER, "--version"], capture_output=True, text=True, timeout=10).stdout
    assert out == "Runnel server v=0.1.0 (Redis 7.2.4 compatible)\n"


def test_resp3_verbatim_client_info(raw3):
    info = raw3.call("CLIENT", "INFO")
    assert isinstance(info, str)  # verbatim strings come back as str
    assert "resp=3" in info


def test_resp3_set_reply(raw3):
    info = raw3.call("COMMAND", "INFO", "get")
    flags = info[0][2]
    assert flags == ("set", ["readonly", "fast"])


def test_resp3_null_exec_after_watch(raw3, server):
    raw3.call("WATCH", "wk")
    other = server.client()
    other.set("wk", "changed")
    other.close()
    raw3.call("MULTI")
    raw3.call("GET", "wk")
    assert raw_reply_line(raw3, "EXEC") == b"_"


def test_hello_errors(raw):
    assert raw.call("HELLO", "4") == ("error", "NOPROTO unsupported protocol version")
    assert raw.call("HELLO", "1") == ("error", "NOPROTO unsupported protocol version")
    assert raw.call("HELLO", "x") == ("error", "ERR Protocol version is not an integer or out of range")
    assert raw.call("HELLO", "3", "foo") == ("error", "ERR Syntax error in HELLO option 'foo'")
    assert raw.call("HELLO", "3", "SETNAME") == ("error", "ERR Syntax error in HELLO option 'SETNAME'")
    assert raw.call("HELLO", "3", "AUTH", "default") == ("error", "ERR Syntax error in HELLO option 'AUTH'")
    # a failed HELLO leaves the protocol as it was
    assert raw_reply_line(raw, "GET", "nosuchkey") == b"$-1"


def test_hello_setname(raw):
    hello = raw.call("HELLO", "3", "SETNAME", "worker-1")
    assert hello["proto"] == 3
    assert raw.call("CLIENT", "GETNAME") == b"worker-1"
    assert raw.call("HELLO", "3", "SETNAME", "bad name") == (
        "error", "ERR Client names cannot contain spaces, newlines or special characters.")
    assert raw.call("CLIENT", "GETNAME") == b"worker-1"


def test_hello_auth(fresh_server):
    srv = fresh_server("--requirepass", "secret")
    conn = srv.raw()
    # Redis 7.2 wording (7.0 lacks the "<proto>")
    assert conn.call("HELLO", "3") == (
        "error", "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                 "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
                 "protocol version at the same time")
    assert conn.call("HELLO", "3", "AUTH", "default", "wrong") == (
        "error", "WRONGPASS invalid username-password pair or user is disabled.")
    assert conn.call("HELLO", "3", "AUTH", "nobody", "secret") == (
        "error", "WRONGPASS invalid username-password pair or user is disabled.")
    assert conn.call("GET", "x") == ("error", "NOAUTH Authentication required.")
    hello = conn.call("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "authed")
    assert hello["proto"] == 3
    assert conn.call("CLIENT", "GETNAME") == b"authed"
    assert raw_reply_line(conn, "GET", "x") == b"_"
    conn.close()


def test_redis_py_against_resp2_server(r):
    # redis-py 4.3 speaks RESP2 only; a smoke test of its reply parsing
    assert r.set("a", "1") is True
    assert r.incr("a") == 2
    assert r.mget("a", "missing") == [b"2", None]
    with pytest.raises(redis.ResponseError, match="^unknown command 'NOPE'"):
        r.execute_command("NOPE")
