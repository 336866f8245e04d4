"""TLS: certificates made here with the openssl command line (a CA, the
server's, clients' good, expired and untrusted ones); redis-py with ssl=True,
redis-cli --tls and redis-benchmark --tls against tls-port; client
authentication modes; handshakes that stall or send garbage; certificate
reload with CONFIG SET; pipelining, big replies and pub/sub over TLS; a
replica syncing from its primary over TLS."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import RunnelProcess, assert_no_sanitizer_report, free_port
from replication_helpers import FAST_SYNC, wait_caught_up, wait_for


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_cert(d, name, ca="ca", days="30", cn=None):
    """A key and a certificate for `name`, signed by CA `ca` (its files in d)."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + (cn or name), cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
            "-out", name + ".crt", "-days", days, "-extfile", ext, cwd=d)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
            "-days", "30", "-subj", "/CN=" + name, cwd=d)


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="runnel-tls-")
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_cert(d, "server")
    make_cert(d, "server2", cn="second-server")
    make_cert(d, "client")
    make_cert(d, "expired", days="-1")
    make_cert(d, "untrusted", ca="otherca")
    yield lambda name: os.path.join(d, name)
    shutil.rmtree(d, ignore_errors=True)


class TlsServer(RunnelProcess):
    """A server with a plain port (for the fixtures' readiness check) and a TLS port."""

    def __init__(self, certs, *args):
        self.tls_port = free_port()
        super().__init__("--tls-port", str(self.tls_port), "--tls-cert-file", certs("server.crt"),
                         "--tls-key-file", certs("server.key"), "--tls-ca-cert-file", certs("ca.crt"), *args)
        self.certs = certs

    def tls_client(self, cert="client", **kw):
        kw.setdefault("socket_timeout", 10)
        if cert:
            kw.setdefault("ssl_certfile", self.certs(cert + ".crt"))
            kw.setdefault("ssl_keyfile", self.certs(cert + ".key"))
        return redis.Redis(host="127.0.0.1", port=self.tls_port, ssl=True, ssl_ca_certs=self.certs("ca.crt"), **kw)

    def tls_socket(self, cert="client", ca="ca.crt"):
        ctx = ssl.create_default_context(cafile=self.certs(ca))
        if cert:
            ctx.load_cert_chain(self.certs(cert + ".crt"), self.certs(cert + ".key"))
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=5)
        return ctx.wrap_socket(raw, server_hostname="localhost")


@pytest.fixture(scope="module")
def srv(certs):
    s = TlsServer(certs, "--tls-handshake-timeout", "500")
    yield s
    s.stop()
    assert_no_sanitizer_report(s)


@pytest.fixture
def t(srv):
    srv.client().config_set("tls-auth-clients", "yes")
    c = srv.tls_client()
    c.flushall()
    yield c
    c.close()


def refused(fn):
    """True if fn fails with a connection or TLS error."""
    try:
        fn()
    except (redis.exceptions.ConnectionError, ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError):
        return True
    return False


# ---- basics ----


def test_commands_over_tls_with_client_certificate(t, srv):
    assert t.ping()
    assert t.set("k", "v")
    assert t.get("k") == b"v"
    assert srv.client().get("k") == b"v"  # the same dataset on the plain port


def test_default_tls_settings_as_redis(srv):
    got = srv.client().config_get("tls-*")
    assert got["tls-auth-clients"] == "yes"
    assert got["tls-session-caching"] == "yes"
    assert got["tls-session-cache-size"] == "20480"
    assert got["tls-session-cache-timeout"] == "300"
    assert got["tls-prefer-server-ciphers"] == "no"
    assert got["tls-replication"] == "no"
    assert got["tls-cluster"] == "no"
    assert got["tls-dh-params-file"] == ""
    assert got["tls-port"] == str(srv.tls_port)


def test_client_list_over_tls_has_the_usual_fields(t, srv):
    line = t.execute_command("CLIENT", "INFO").decode()
    assert f"laddr=127.0.0.1:{srv.tls_port}" in line
    assert " fd=" in line and " flags=N " in line


def test_resp3_over_tls(srv):
    s = srv.tls_socket()
    s.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
    data = s.recv(65536)
    assert data.startswith(b"%")
    s.close()


# ---- client authentication ----


def test_auth_clients_yes_refuses_a_client_without_certificate(t, srv):
    c = srv.tls_client(cert=None)
    assert refused(c.ping)


def test_expired_client_certificate_refused(t, srv):
    assert refused(srv.tls_client(cert="expired").ping)
    assert t.ping()


def test_untrusted_client_certificate_refused(t, srv):
    assert refused(srv.tls_client(cert="untrusted").ping)
    assert t.ping()


def test_auth_clients_no(t, srv):
    srv.client().config_set("tls-auth-clients", "no")
    try:
        assert srv.tls_client(cert=None).ping()
        assert srv.tls_client(cert="untrusted").ping()  # not asked for, so not checked
    finally:
        srv.client().config_set("tls-auth-clients", "yes")


def test_auth_clients_optional(t, srv):
    srv.client().config_set("tls-auth-clients", "optional")
    try:
        assert srv.tls_client(cert=None).ping()
        assert srv.tls_client(cert="client").ping()
        assert refused(srv.tls_client(cert="untrusted").ping)
        assert refused(srv.tls_client(cert="expired").ping)
    finally:
        srv.client().config_set("tls-auth-clients", "yes")


def test_auth_clients_rejects_unknown_value(srv):
    with pytest.raises(redis.ResponseError):
        srv.client().config_set("tls-auth-clients", "maybe")


def test_client_refuses_a_server_its_ca_did_not_sign(srv):
    # the client trusts only the other CA: the server's certificate fails
    assert refused(lambda: srv.tls_socket(ca="otherca.crt"))


def test_protocols(srv, certs):
    srv.client().config_set("tls-protocols", "TLSv1.3")
    try:
        ctx = ssl.create_default_context(cafile=certs("ca.crt"))
        ctx.load_cert_chain(certs("client.crt"), certs("client.key"))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            ctx.wrap_socket(raw, server_hostname="localhost")
        raw.close()
        assert srv.tls_client().ping()
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
            srv.client().config_set("tls-protocols", "SSLv2")
        assert srv.client().config_get("tls-protocols")["tls-protocols"] == "TLSv1.3"
    finally:
        srv.client().config_set("tls-protocols", "")


def test_session_resumption_follows_session_caching(srv, certs):
    def reused():
        ctx = ssl.create_default_context(cafile=certs("ca.crt"))
        ctx.load_cert_chain(certs("client.crt"), certs("client.key"))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the session is known right after the handshake
        first = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5),
                                server_hostname="localhost")
        first.sendall(b"PING\r\n")
        assert first.recv(100) == b"+PONG\r\n"
        session = first.session
        first.close()
        again = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5),
                                server_hostname="localhost", session=session)
        again.sendall(b"PING\r\n")
        assert again.recv(100) == b"+PONG\r\n"
        result = again.session_reused
        again.close()
        return result

    assert reused()
    srv.client().config_set("tls-session-caching", "no")
    try:
        assert not reused()
    finally:
        srv.client().config_set("tls-session-caching", "yes")


def test_ciphersuites_and_ciphers(srv):
    admin = srv.client()
    admin.config_set("tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
    try:
        s = srv.tls_socket()
        assert s.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"
        s.close()
    finally:
        admin.config_set("tls-ciphersuites", "")
    admin.config_set("tls-protocols", "TLSv1.2", "tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256")
    try:
        s = srv.tls_socket()
        assert s.version() == "TLSv1.2"
        assert s.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256"
        s.close()
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
            admin.config_set("tls-ciphers", "NO-SUCH-CIPHER")
    finally:
        admin.config_set("tls-protocols", "", "tls-ciphers", "")


def test_encrypted_key_with_passphrase_and_ca_dir(certs):
    d = os.path.dirname(certs("ca.crt"))
    subprocess.run(["openssl", "pkey", "-in", "server.key", "-aes256", "-passout", "pass:s3cret", "-out",
                    "server-enc.key"], cwd=d, check=True, capture_output=True)
    cadir = os.path.join(d, "cadir")
    os.makedirs(cadir, exist_ok=True)
    shutil.copy(certs("ca.crt"), os.path.join(cadir, "ca.pem"))
    subprocess.run(["openssl", "rehash", cadir], check=True, capture_output=True)
    tls_port = free_port()
    s = RunnelProcess("--tls-port", str(tls_port), "--tls-cert-file", certs("server.crt"),
                      "--tls-key-file", certs("server-enc.key"), "--tls-key-file-pass", "s3cret",
                      "--tls-ca-cert-dir", cadir)
    try:
        c = redis.Redis(host="127.0.0.1", port=tls_port, ssl=True, ssl_ca_certs=certs("ca.crt"),
                        ssl_certfile=certs("client.crt"), ssl_keyfile=certs("client.key"), socket_timeout=5)
        assert c.ping()
        assert refused(redis.Redis(host="127.0.0.1", port=tls_port, ssl=True, ssl_ca_certs=certs("ca.crt"),
                                   ssl_certfile=certs("untrusted.crt"), ssl_keyfile=certs("untrusted.key"),
                                   socket_timeout=5).ping)
        # a wrong passphrase is refused at run time, the old key stays
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
            s.client().config_set("tls-key-file-pass", "wrong")
        assert c.ping()
    finally:
        s.stop()
        assert_no_sanitizer_report(s)


def test_dh_params_file(srv, certs):
    d = os.path.dirname(certs("ca.crt"))
    subprocess.run(["openssl", "dhparam", "-dsaparam", "-out", "dh.pem", "2048"], cwd=d, check=True,
                   capture_output=True)
    admin = srv.client()
    with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
        admin.config_set("tls-dh-params-file", certs("ca.crt"))  # not DH parameters
    admin.config_set("tls-dh-params-file", certs("dh.pem"), "tls-protocols", "TLSv1.2",
                     "tls-ciphers", "DHE-RSA-AES128-GCM-SHA256")
    try:
        s = srv.tls_socket()
        assert s.cipher()[0] == "DHE-RSA-AES128-GCM-SHA256"
        s.sendall(b"PING\r\n")
        assert s.recv(100) == b"+PONG\r\n"
        s.close()
    finally:
        admin.config_set("tls-dh-params-file", "", "tls-protocols", "", "tls-ciphers", "")


# ---- hostile or stalled peers ----


def test_stalled_handshake_does_not_slow_others_and_times_out(t, srv):
    stalled = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    half = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    half.sendall(b"\x16\x03\x01\x02\x00")  # a record header promising a ClientHello that never comes
    start = time.time()
    for i in range(200):
        assert t.set(f"k{i}", i)
    assert time.time() - start < 5
    # tls-handshake-timeout is 500 ms here: both are closed by the server
    for s in (stalled, half):
        s.settimeout(5)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
    assert time.time() - start < 4
    stalled.close()
    half.close()
    assert t.ping()


def test_garbage_instead_of_client_hello_is_closed(t, srv):
    s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    s.sendall(os.urandom(3000))
    try:
        data = s.recv(4096)
        while data and not data.startswith(b"\x15"):  # an alert is fine; then the end
            data = s.recv(4096)
    except ConnectionResetError:
        pass
    s.close()
    # plain RESP on the TLS port is garbage too
    s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    s.sendall(b"*1\r\n$4\r\nPING\r\n")
    try:
        assert not s.recv(4096).startswith(b"+PONG")
    except ConnectionResetError:
        pass
    s.close()
    assert t.ping()
    assert srv.client().ping()


def open_sockets(srv):
    fd_dir = "/proc/%d/fd" % srv.proc.pid
    count = 0
    for name in os.listdir(fd_dir):
        try:
            count += os.readlink(os.path.join(fd_dir, name)).startswith("socket:")
        except FileNotFoundError:
            pass
    return count


def test_many_garbage_connections_leave_server_fine(t, srv):
    # Connections still in their handshake are not clients, so the server's
    # own descriptors are what shows them gone (a count of clients would also
    # see the test's earlier clients that Python has not collected yet).
    assert t.ping()
    before = open_sockets(srv)
    socks = []
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
        s.sendall(bytes([0x16, 0x03, 0x03, 0x00, 0x30]) + os.urandom(0x30))
        socks.append(s)
    for s in socks:
        s.close()
    assert t.ping()
    wait_for(lambda: open_sockets(srv) <= before, 5, "garbage connections to go")


# ---- certificates reloaded ----


def peer_cert_cn(srv):
    s = srv.tls_socket()
    cert = s.getpeercert()
    s.close()
    return dict(x[0] for x in cert["subject"])["commonName"]


def test_config_set_certificate_reload(t, srv, certs):
    assert peer_cert_cn(srv) == "server"
    admin = srv.client()
    old = srv.tls_client()
    assert old.ping()
    admin.config_set("tls-cert-file", certs("server2.crt"), "tls-key-file", certs("server2.key"))
    try:
        assert peer_cert_cn(srv) == "second-server"  # new connections: the new certificate
        assert old.ping()  # the open one keeps going
        # a certificate with the wrong key is refused and nothing changes
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
            admin.config_set("tls-cert-file", certs("server.crt"))
        assert admin.config_get("tls-cert-file")["tls-cert-file"] == certs("server2.crt")
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
            admin.config_set("tls-cert-file", certs("no-such-file.crt"))
        assert peer_cert_cn(srv) == "second-server"
    finally:
        admin.config_set("tls-cert-file", certs("server.crt"), "tls-key-file", certs("server.key"))
    assert peer_cert_cn(srv) == "server"


def test_startup_with_a_missing_certificate_fails(certs):
    port = free_port()
    d = tempfile.mkdtemp(prefix="runnel-test-")
    from conftest import SERVER
    p = subprocess.run([SERVER, "--port", str(free_port()), "--tls-port", str(port), "--dir", d,
                        "--tls-cert-file", certs("missing.crt"), "--tls-key-file", certs("server.key"),
                        "--tls-ca-cert-file", certs("ca.crt")], capture_output=True, timeout=10)
    assert p.returncode != 0
    assert b"TLS" in p.stdout + p.stderr


def test_ca_required_when_clients_are_authenticated(certs):
    d = tempfile.mkdtemp(prefix="runnel-test-")
    from conftest import SERVER
    p = subprocess.run([SERVER, "--port", str(free_port()), "--tls-port", str(free_port()), "--dir", d,
                        "--tls-cert-file", certs("server.crt"), "--tls-key-file", certs("server.key")],
                       capture_output=True, timeout=10)
    assert p.returncode != 0
    assert b"tls-ca-cert-file" in p.stdout + p.stderr


# ---- the data path ----


def test_pipelined_commands_over_tls(t):
    p = t.pipeline(transaction=False)
    for i in range(5000):
        p.set(f"key:{i}", "x" * (i % 100))
    for i in range(5000):
        p.get(f"key:{i}")
    out = p.execute()
    assert out[:5000] == [True] * 5000
    assert out[5000:] == [b"x" * (i % 100) for i in range(5000)]


def test_raw_pipeline_in_one_write(srv):
    s = srv.tls_socket()
    n = 3000
    s.sendall(b"*1\r\n$4\r\nPING\r\n" * n)
    got = b""
    while got.count(b"+PONG\r\n") < n:
        chunk = s.recv(65536)
        assert chunk
        got += chunk
    assert got == b"+PONG\r\n" * n
    s.close()


def test_big_values_cross_records(t):
    big = os.urandom(3 * 1024 * 1024 + 17)
    assert t.set("big", big)
    assert t.get("big") == big
    p = t.pipeline(transaction=False)
    for _ in range(5):
        p.get("big")
    assert p.execute() == [big] * 5


def test_slow_reader_gets_everything(srv):
    # a reader that does not read while the server writes: the socket fills,
    # the server queues, and every byte still arrives in order
    s = srv.tls_socket()
    c = srv.client()
    c.set("v", b"y" * 100000)
    s.sendall(b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n" * 60)
    time.sleep(0.5)
    want = (b"$100000\r\n" + b"y" * 100000 + b"\r\n") * 60
    got = b""
    while len(got) < len(want):
        chunk = s.recv(1 << 20)
        assert chunk
        got += chunk
    assert got == want
    s.close()


def test_pubsub_over_tls(t, srv):
    subs = [srv.tls_client().pubsub() for _ in range(3)]
    for p in subs:
        p.subscribe("news")
        assert p.get_message(timeout=5)["type"] == "subscribe"
    plain = srv.client()
    wait_for(lambda: plain.pubsub_numsub("news")[0][1] == 3, 5, "subscribers")
    for i in range(100):
        assert t.publish("news", f"m{i}") == 3
    for p in subs:
        got = []
        while len(got) < 100:
            m = p.get_message(timeout=5)
            assert m is not None
            if m["type"] == "message":
                got.append(m["data"])
        assert got == [f"m{i}".encode() for i in range(100)]
        p.close()


def test_pubsub_big_fanout_over_tls(srv):
    # shared message blocks: many subscribers, messages bigger than a record
    subs = [srv.tls_socket() for _ in range(5)]
    for s in subs:
        s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n")
        want = b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        got = b""
        while len(got) < len(want):
            got += s.recv(len(want) - len(got))
        assert got == want
    payload = b"z" * 40000
    pub = srv.client()
    for _ in range(10):
        assert pub.publish("ch", payload) == 5
    msg = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$40000\r\n" + payload + b"\r\n"
    for s in subs:
        got = b""
        while len(got) < 10 * len(msg):
            chunk = s.recv(1 << 20)
            assert chunk
            got += chunk
        assert got == msg * 10
        s.close()


def test_output_limit_closes_a_slow_tls_subscriber(srv):
    admin = srv.client()
    admin.config_set("client-output-buffer-limit", "pubsub 256kb 0 0")
    try:
        s = srv.tls_socket()
        s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n")
        time.sleep(0.2)
        before = admin.info("stats")["client_output_buffer_limit_disconnections"]
        p = admin.pipeline(transaction=False)
        for _ in range(3000):  # 30 MB the subscriber never reads: more than the sockets hold
            p.publish("slow", b"x" * 10000)
        p.execute()
        wait_for(lambda: admin.pubsub_numsub("slow")[0][1] == 0, 5, "the slow subscriber to be closed")
        assert admin.info("stats")["client_output_buffer_limit_disconnections"] == before + 1
        s.close()
    finally:
        admin.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")


# ---- tools ----


def test_redis_cli_tls_with_client_certificate(t, srv, certs):
    base = ["redis-cli", "-h", "127.0.0.1", "-p", str(srv.tls_port), "--tls", "--cacert", certs("ca.crt")]
    withcert = base + ["--cert", certs("client.crt"), "--key", certs("client.key")]
    out = subprocess.run(withcert + ["SET", "cli", "ok"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "OK"
    out = subprocess.run(withcert + ["GET", "cli"], capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "ok"
    out = subprocess.run(base + ["PING"], capture_output=True, text=True, timeout=10)
    assert "PONG" not in out.stdout


def test_redis_benchmark_tls(srv, certs):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.tls_port), "--tls", "--cacert",
                          certs("ca.crt"), "--cert", certs("client.crt"), "--key", certs("client.key"),
                          "-t", "set,get", "-n", "3000", "-c", "10", "-P", "8", "-q"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "SET:" in out.stdout and "GET:" in out.stdout and "requests per second" in out.stdout


# ---- replication over TLS ----


def test_replica_syncs_over_tls(certs):
    primary = TlsServer(certs, *FAST_SYNC)
    replica = None
    try:
        pc = primary.client()
        for i in range(1000):
            pc.set(f"before:{i}", i)
        replica = TlsServer(certs, *FAST_SYNC, "--tls-replication", "yes", "--tls-client-cert-file",
                            certs("client.crt"), "--tls-client-key-file", certs("client.key"),
                            "--replicaof", "127.0.0.1", str(primary.tls_port))
        wait_caught_up(primary, replica)
        for i in range(1000):
            pc.rpush("after", i)
        wait_caught_up(primary, replica)
        rc = replica.client()
        assert rc.get("before:999") == b"999"
        assert rc.llen("after") == 1000
        # the replica's link is a TLS connection to the primary's tls-port
        lines = pc.client_list()
        repl = [c for c in lines if "S" in c["flags"]]
        assert len(repl) == 1 and repl[0]["laddr"].endswith(f":{primary.tls_port}")
        # a primary that asks for client certificates refuses a replica without a trusted one
        assert rc.info("replication")["master_link_status"] == "up"
    finally:
        if replica:
            replica.stop()
            assert_no_sanitizer_report(replica)
        primary.stop()
        assert_no_sanitizer_report(primary)


def test_replica_with_untrusted_certificate_cannot_sync(certs):
    primary = TlsServer(certs, *FAST_SYNC)
    replica = None
    try:
        replica = TlsServer(certs, *FAST_SYNC, "--tls-replication", "yes", "--tls-client-cert-file",
                            certs("untrusted.crt"), "--tls-client-key-file", certs("untrusted.key"),
                            "--replicaof", "127.0.0.1", str(primary.tls_port))
        time.sleep(1.5)
        assert replica.client().info("replication")["master_link_status"] == "down"
        # with TLSv1.3 the server checks the client's certificate after the
        # client's side of the handshake ended: the refusal shows at the first write or read
        out = replica.output()
        assert "Error condition on socket for SYNC" in out or "Replication link with" in out
        assert "Full resync from primary" not in out
    finally:
        if replica:
            replica.stop()
        primary.stop()


# ---- ports ----


def test_tls_port_instead_of_port(certs):
    """port 0: TLS only; nothing listens in the clear."""
    from conftest import SERVER, LoggedProcess
    tls_port = free_port()
    d = tempfile.mkdtemp(prefix="runnel-test-")
    p = LoggedProcess([SERVER, "--port", "0", "--tls-port", str(tls_port), "--dir", d, "--save", "",
                       "--tls-cert-file", certs("server.crt"), "--tls-key-file", certs("server.key"),
                       "--tls-ca-cert-file", certs("ca.crt")], os.path.join(d, "stdout.log"))
    try:
        c = redis.Redis(host="127.0.0.1", port=tls_port, ssl=True, ssl_ca_certs=certs("ca.crt"),
                        ssl_certfile=certs("client.crt"), ssl_keyfile=certs("client.key"), socket_timeout=5)
        wait_for(lambda: not refused(c.ping), 10, "the TLS port")
        assert c.config_get("port")["port"] == "0"
        assert c.set("only", "tls")
        # with no TCP port either, there would be nothing to connect to
        with pytest.raises(redis.ResponseError):
            c.config_set("tls-port", "0")
        assert c.ping()
    finally:
        p.stop()


def test_config_set_tls_port_moves_the_listener(srv):
    admin = srv.client()
    old = srv.tls_port
    new = free_port()
    admin.config_set("tls-port", str(new))
    try:
        srv.tls_port = new
        assert srv.tls_client().ping()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", old), timeout=1).close()
        assert admin.ping()  # the plain port stays
    finally:
        admin.config_set("tls-port", str(old))
        srv.tls_port = old
    assert srv.tls_client().ping()
