"""The web console, in Debian's Chromium driven headless by playwright-core
(tests/integration/console/console_browser.js): every page is opened against
a server with queues, streams with groups and pending entries, and
subscribers (one of them slow), and what it shows is checked against the
server's own replies (LLEN, XINFO, XPENDING, PUBSUB NUMSUB, CLIENT LIST); an
entry is acknowledged with the page's button and checked with XPENDING; a
phone-sized viewport must not scroll sideways. Screenshots of each page,
light and dark, go to $RUNNEL_BUILD/test-output/console (or a temporary
directory). Also, without the browser: the assets, the password, the CSRF
guard of the actions, the history ring and the bounded pages."""
import base64
import glob
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import RunnelProcess, assert_no_sanitizer_report, free_port

CONSOLE_DIR = os.path.join(os.path.dirname(__file__), "console")
PASSWORD = "s3cret-console"
# a key that needs escaping in URLs, HTML and JSON alike
ORDERS = "orders &<é>#?"


def start(*args):
    http_port = free_port()
    proc = RunnelProcess("--http-port", str(http_port), "--metrics-list-patterns", "queue:*", *args)
    proc.http_port = http_port
    return proc


@pytest.fixture
def console_server():
    proc = start("--requirepass", PASSWORD)
    yield proc
    assert_no_sanitizer_report(proc)


@pytest.fixture
def open_server():
    proc = start()
    yield proc
    assert_no_sanitizer_report(proc)


def auth_header(password=PASSWORD, user="default"):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def request(port, path, method="GET", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def get_json(port, path, headers=None):
    resp, body = request(port, path, headers=headers)
    assert resp.status == 200, body
    return json.loads(body)


def shots_dir():
    build = os.environ.get("RUNNEL_BUILD")
    if build:
        d = os.path.join(build, "test-output", "console")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d
    return tempfile.mkdtemp(prefix="runnel-console-shots-")


def fill(r):
    """Queues, a stream with two groups and pending entries, subscribers:
    returns the sockets that must stay open and the slow subscriber's id."""
    for i in range(30):
        r.rpush("queue:emails", f"job-{i}")
    r.rpush("queue:reports", *[f"r{i}" for i in range(7)])
    r.rpush("not-a-queue", "x")
    for i in range(45):
        r.xadd(ORDERS, {"item": f"widget-{i}", "qty": i})
    r.xgroup_create(ORDERS, "billing", id="0")
    r.xgroup_create(ORDERS, "shipping", id="0")
    r.xreadgroup("billing", "alice", {ORDERS: ">"}, count=5)
    r.xreadgroup("billing", "bob", {ORDERS: ">"}, count=3)
    r.xreadgroup("shipping", "carol", {ORDERS: ">"}, count=10)
    r.xadd("events", {"type": "click"})
    keep = []
    for channels in (["news", "sports"], ["news"]):
        s = raw_client(r)
        send(s, "SUBSCRIBE", *channels)
        keep.append(s)
    p = raw_client(r)
    send(p, "PSUBSCRIBE", "alerts.*")
    keep.append(p)
    # a subscriber that never reads: the server owes it what it can't send
    slow = raw_client(r, rcvbuf=4096)
    send(slow, "CLIENT", "SETNAME", "slowpoke")
    send(slow, "SUBSCRIBE", "firehose")
    keep.append(slow)
    deadline = time.time() + 5
    while r.pubsub_numsub("firehose")[0][1] < 1 and time.time() < deadline:
        time.sleep(0.02)
    payload = "x" * 16384
    for _ in range(200):
        r.publish("firehose", payload)
    slow_id = next(c["id"] for c in r.client_list() if c["name"] == "slowpoke")
    return keep, int(slow_id)


def raw_client(r, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", r.connection_pool.connection_kwargs["port"]))
    password = r.connection_pool.connection_kwargs.get("password")
    if password:
        send(s, "AUTH", password)
        assert s.recv(64).startswith(b"+OK")
    return s


def send(s, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)


def run_browser(config, timeout=90):
    assert shutil.which("node"), "node is missing: run scripts/install-deps"
    assert os.path.exists("/usr/bin/chromium"), "chromium is missing: run scripts/install-deps"
    assert os.path.isdir(os.path.join(CONSOLE_DIR, "node_modules", "playwright-core")), (
        "playwright-core is missing: run scripts/install-deps (npm ci in %s)" % CONSOLE_DIR)
    res = subprocess.run(["node", "console_browser.js", json.dumps(config)], cwd=CONSOLE_DIR, capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def rows(page, kind):
    return [row for row in page["rows"] if row["kind"] == kind]


def number(text):
    return int(text.replace(",", ""))


def test_console_pages_match_the_server(console_server):
    r = console_server.client(password=PASSWORD, decode_responses=True)
    keep, slow_id = fill(r)
    try:
        ack_id = r.xpending_range(ORDERS, "billing", "-", "+", 1)[0]["message_id"]
        # a group with a dead-letter stream holding one message
        r.execute_command("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM", "MAXDELIVERIES", 1,
                          "DEADLETTER", "jobs:dead")
        r.xadd("jobs", {"job": "resize-42"})
        r.xreadgroup("workers", "w1", {"jobs": ">"})
        r.execute_command("XREADGROUP", "GROUP", "workers", "w2", "CLAIM", 0, "STREAMS", "jobs", ">")
        dead_id = r.xrange("jobs:dead")[0][0]
        # a few slow-log entries, then a threshold nothing the console runs reaches
        r.config_set("slowlog-log-slower-than", 0)
        r.set("marker", "slow-log-marker")
        r.config_set("slowlog-log-slower-than", 10000000)
        # the server's own replies, read before the browser acknowledges an entry
        want = {
            "info": r.info(), "dbsize": r.dbsize(), "clients": {int(c["id"]) for c in r.client_list()},
            "llen": {k: r.llen(k) for k in ("queue:emails", "queue:reports")},
            "xlen": {k: r.xlen(k) for k in (ORDERS, "events", "jobs", "jobs:dead")},
            "groups": {k: r.xinfo_groups(k) for k in (ORDERS, "events", "jobs", "jobs:dead")},
            "consumers": {g: r.xinfo_consumers(ORDERS, g) for g in ("billing", "shipping")},
            "xinfo": r.xinfo_stream(ORDERS),
            "pending": [p["message_id"] for p in r.xpending_range(ORDERS, "billing", "-", "+", 20)],
            "entries": [e[0] for e in r.xrevrange(ORDERS, count=20)],
            "numsub": dict(r.pubsub_numsub(*r.pubsub_channels())), "numpat": r.pubsub_numpat(),
            "slowlog": [(e["id"], e["command"].decode()) for e in r.slowlog_get(128)],
            "slow_omem": next(int(c["omem"]) for c in r.client_list() if int(c["id"]) == slow_id),
        }
        out = shots_dir()
        r.execute_command("ACL", "SETUSER", "watcher", "on", ">watch-pw", "+@read", "+info", "~*")
        result = run_browser({"base": f"http://127.0.0.1:{console_server.http_port}", "out": out,
                              "password": PASSWORD, "stream": ORDERS,
                              "ack": {"group": "billing", "id": ack_id},
                              "moveback": {"source": "jobs", "id": dead_id},
                              "readonly": {"user": "watcher", "password": "watch-pw"}})
        assert result["errors"] == [], result["errors"]
        pages = result["pages"]

        # overview: clients and keys as INFO counts them
        assert number(pages["overview"]["values"]["clients"]) == want["info"]["connected_clients"]
        assert number(pages["overview"]["values"]["keys"]) == want["dbsize"]
        assert pages["overview"]["values"]["role"] == "master"

        # queues: the lists matching queue:*, with LLEN
        queues = {row["attrs"]["key"]: number(row["cells"]["queue-length"]) for row in rows(pages["queues"], "queue-row")}
        assert queues == want["llen"]
        counted = {row["attrs"]["key"]: (number(row["cells"]["queue-pushed"]), number(row["cells"]["queue-popped"]))
                   for row in rows(pages["queues"], "queue-row")}
        assert counted == {"queue:emails": (30, 0), "queue:reports": (7, 0)}

        # streams: XLEN, the groups and their pending entries
        streams = {row["attrs"]["key"]: row["cells"] for row in rows(pages["streams"], "stream-row")}
        assert set(streams) == {ORDERS, "events", "jobs", "jobs:dead"}
        for key, cells in streams.items():
            groups = want["groups"][key]
            assert number(cells["stream-length"]) == want["xlen"][key]
            assert number(cells["stream-groups"]) == len(groups)
            assert number(cells["stream-pending"]) == sum(g["pending"] for g in groups)

        # one stream: XINFO STREAM, GROUPS and CONSUMERS, XPENDING, XREVRANGE
        page = pages["stream"]
        xinfo = want["xinfo"]
        assert number(page["values"]["stream-detail-length"]) == xinfo["length"]
        assert page["values"]["stream-first-id"] == xinfo["first-entry"][0]
        assert page["values"]["stream-last-id"] == xinfo["last-entry"][0]
        shown_groups = {row["attrs"]["group"]: row["cells"] for row in rows(page, "group-row")}
        assert set(shown_groups) == {"billing", "shipping"}
        for g in want["groups"][ORDERS]:
            cells = shown_groups[g["name"]]
            assert number(cells["group-pending"]) == g["pending"]
            assert number(cells["group-lag"]) == g["lag"]
            assert number(cells["group-consumers"]) == g["consumers"]
            for c in want["consumers"][g["name"]]:
                shown = [row for row in rows(page, "consumer-row")
                         if row["attrs"]["group"] == g["name"] and row["attrs"]["consumer"] == c["name"]]
                assert len(shown) == 1 and number(shown[0]["cells"]["consumer-pending"]) == c["pending"]
        assert [row["attrs"]["id"] for row in rows(page, "pending-row")] == want["pending"]
        assert [row["attrs"]["id"] for row in rows(page, "entry-row")] == want["entries"]

        # pub/sub: PUBSUB NUMSUB per channel, NUMPAT, the slow subscriber first
        ps = pages["pubsub"]
        channels = {row["attrs"]["name"]: number(row["cells"]["channel-subs"]) for row in rows(ps, "channel-row")}
        assert channels == want["numsub"] and channels["news"] == 2
        patterns = {row["attrs"]["name"]: number(row["cells"]["pattern-subs"]) for row in rows(ps, "pattern-row")}
        assert patterns == {"alerts.*": 1} and want["numpat"] == 1
        subscribers = rows(ps, "subscriber-row")
        assert number(ps["values"]["subscribed-clients"]) == len(subscribers) == 4
        assert int(subscribers[0]["attrs"]["id"]) == slow_id
        assert want["slow_omem"] > 0 and subscribers[0]["cells"]["subscriber-owed"] != "0"
        assert all(s["cells"]["subscriber-owed"] == "0" for s in subscribers[1:])

        # clients: CLIENT LIST's ids (the browser opens no connection to the server)
        shown_clients = {int(row["attrs"]["id"]) for row in rows(pages["clients"], "client-row")}
        assert shown_clients == want["clients"]

        # slow log: SLOWLOG GET's ids and commands, newest first
        shown_slow = [(int(row["cells"]["slowlog-id"]), row["cells"]["slowlog-command"])
                      for row in rows(pages["slowlog"], "slowlog-row")]
        assert shown_slow == want["slowlog"] and ("SET marker slow-log-marker") in [c for _, c in shown_slow]

        # topology
        assert pages["topology"]["values"]["topology-role"] == "master"

        # phone: no page wider than the screen
        for name, size in result["phone"].items():
            assert size["scrollWidth"] <= size["width"], (name, size)

        # the action: the Ack button acknowledged the entry on the server
        assert result["ack"] == {"status": 200, "body": {"acknowledged": 1}}
        assert ack_id not in [p["message_id"] for p in r.xpending_range(ORDERS, "billing", "-", "+", 100)]
        assert ack_id not in [row["attrs"]["id"] for row in rows(result["after_ack"], "pending-row")]

        # dead letters: the source's group shows its settings; Move back put the message back
        [dlq] = rows(result["dlq_source"], "dlq-row")
        assert dlq["attrs"]["group"] == "workers" and dlq["cells"] == {
            "group-dead-letter-key": "jobs:dead", "group-max-deliveries": "1", "group-dead-lettered": "1"}
        assert result["moveback"]["status"] == 200
        [moved] = result["moveback"]["body"]["moved"]
        assert moved["id"] == dead_id and moved["stream"] == "jobs"
        assert r.xlen("jobs:dead") == 0 and r.xrange("jobs")[-1] == (moved["new_id"], {"job": "resize-42"})

        # the login form: a wrong password's message, then an HttpOnly SameSite=Strict session cookie
        assert result["login_error"] == "wrong user name or password"
        assert result["cookies"] == [{"name": "runnel_session", "httpOnly": True, "sameSite": "Strict"}]
        assert result["who"] == "default"
        assert result["after_logout"] == {"status": 401, "view_hidden": True}

        # a read-only user: every action button disabled, saying why
        ro = result["readonly"]
        assert ro["who"] == "watcher"
        assert ro["buttons"] and {b["act"] for b in ro["buttons"]} == {"ack", "claim", "delete"}
        assert all(b["disabled"] and "watcher may not" in b["title"] for b in ro["buttons"])
        assert ro["trim"]["disabled"] and "may not trim" in ro["trim"]["title"]

        # a browser without the password: the login form, no data, no browser dialog for the API's scripts
        assert result["without_password"]["view_hidden"] is True
        assert result["without_password"]["status"] == 401
        assert result["without_password"]["challenge"].startswith("Basic")

        for name in ("overview", "queues", "streams", "stream", "pubsub", "clients", "slowlog", "topology"):
            for theme in ("light", "dark"):
                assert os.path.getsize(os.path.join(out, f"{name}-{theme}.png")) > 5000
        assert result["ms"] < 60000
    finally:
        for s in keep:
            s.close()


def test_password_is_required_for_the_console_and_its_api(console_server):
    port = console_server.http_port
    for path in ("/api/session", "/api/stream?key=x", "/api/history", "/api/overview"):
        resp, _ = request(port, path)
        assert resp.status == 401, path
        assert resp.getheader("WWW-Authenticate").startswith("Basic")
        resp, _ = request(port, path, headers=auth_header(password="wrong"))
        assert resp.status == 401, path
        # the console's own scripts get no challenge (no browser dialog): they show the login form
        resp, body = request(port, path, headers={"X-Requested-With": "runnel-console"})
        assert resp.status == 401 and resp.getheader("WWW-Authenticate") is None
        assert json.loads(body) == {"error": "login required"}
    # the console's files hold no data: they need no login (the form is in them)
    for path in ("/", "/ui/app.js"):
        assert request(port, path)[0].status == 200, path
    resp, body = request(port, "/")
    assert b"<title>Runnel console</title>" in body and b'id="login"' in body
    resp, _ = request(port, "/api/action/ack?key=s&group=g&id=1-0", method="POST")
    assert resp.status == 401


def login(port, user, password, origin=True, content_type="application/x-www-form-urlencoded"):
    host = f"127.0.0.1:{port}"
    headers = {"Host": host, "X-Requested-With": "runnel-console"}
    if origin:
        headers["Origin"] = f"http://{host}" if origin is True else origin
    if content_type:
        headers["Content-Type"] = content_type
    body = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in (("user", user), ("password", password)))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/api/login", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def cookie_of(resp):
    return resp.getheader("Set-Cookie").split(";")[0]


def test_login_form_sessions(console_server):
    port = console_server.http_port
    r = console_server.client(password=PASSWORD)
    r.execute_command("ACL", "SETUSER", "ann", "on", ">ann-pw", "+@all", "~*")
    r.execute_command("ACL", "SETUSER", "bob", "on", ">bob-pw", "+@all", "~*")
    resp, body = login(port, "ann", "ann-pw")
    assert resp.status == 200, body
    set_cookie = resp.getheader("Set-Cookie")
    name, value = set_cookie.split(";")[0].split("=")
    assert name == "runnel_session" and len(value) == 64 and int(value, 16) >= 0
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain HTTP
    doc = json.loads(body)
    ann = {"Cookie": cookie_of(resp)}
    session = get_json(port, "/api/session", headers=ann)
    assert session["user"] == "ann" and session["login"] == "session"
    assert session["csrf_token"] == doc["csrf_token"] != get_json(port, "/api/session", headers=auth_header())["csrf_token"]
    assert request(port, "/metrics", headers=ann)[0].status == 200
    # the session's own token guards its actions; another login's token does not
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"})
    host = f"127.0.0.1:{port}"
    act = {"Origin": f"http://{host}", "Host": host}
    basic_token = get_json(port, "/api/session", headers=auth_header())["csrf_token"]
    path = "/api/action/ack?key=s&group=g&id=1-0"
    assert action(port, path, dict(act, **ann, **{"X-CSRF-Token": basic_token}))[0] == 403
    assert action(port, path, dict(act, **ann, **{"X-CSRF-Token": doc["csrf_token"]})) == (200, {"acknowledged": 1})
    # refusals: a wrong pair (401, in ACL LOG as a failed AUTH), another origin, no Origin, not a form
    r.execute_command("ACL", "LOG", "RESET")
    resp, body = login(port, "ann", "nope")
    assert resp.status == 401 and resp.getheader("Set-Cookie") is None
    assert json.loads(body) == {"error": "wrong user name or password"}
    entry = r.execute_command("ACL", "LOG", "1")[0]
    entry = dict(zip(entry[::2], entry[1::2]))
    assert entry[b"reason"] == b"auth" and entry[b"username"] == b"ann"
    assert b"name=runnel-console" in entry[b"client-info"] and b"addr=127.0.0.1:" in entry[b"client-info"]
    assert login(port, "ann", "ann-pw", origin="http://evil.example")[0].status == 403
    assert login(port, "ann", "ann-pw", origin=False)[0].status == 403
    assert login(port, "ann", "ann-pw", content_type="text/plain")[0].status == 415
    assert login(port, "ann", "ann-pw", content_type=None)[0].status == 415
    # a body anywhere else is refused
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/api/logout", body="ab", headers=act)
    assert conn.getresponse().status == 413
    conn.close()
    # logout ends the session and clears the cookie
    second = {"Cookie": cookie_of(login(port, "ann", "ann-pw")[0])}
    resp, _ = request(port, "/api/logout", method="POST", headers=dict(act, **second))
    assert resp.status == 200 and "Max-Age=0" in resp.getheader("Set-Cookie")
    assert request(port, "/api/session", headers=second)[0].status == 401
    assert request(port, "/api/session", headers=ann)[0].status == 200
    # a session ends when its user's password changes, the user is disabled or deleted
    assert request(port, "/api/session", headers=ann)[0].status == 200
    r.execute_command("ACL", "SETUSER", "ann", ">another")  # a password added: the set changed
    assert request(port, "/api/session", headers=ann)[0].status == 401
    bob = {"Cookie": cookie_of(login(port, "bob", "bob-pw")[0])}
    r.execute_command("ACL", "SETUSER", "bob", "+get")  # other rules: the session stays
    assert request(port, "/api/session", headers=bob)[0].status == 200
    r.execute_command("ACL", "SETUSER", "bob", "off")
    assert request(port, "/api/session", headers=bob)[0].status == 401
    r.execute_command("ACL", "SETUSER", "bob", "on")
    bob = {"Cookie": cookie_of(login(port, "bob", "bob-pw")[0])}
    r.execute_command("ACL", "DELUSER", "bob")
    r.execute_command("ACL", "SETUSER", "bob", "on", ">bob-pw", "+@all", "~*")  # made again: not the same user
    assert request(port, "/api/session", headers=bob)[0].status == 401
    # default's password through requirepass
    dflt = {"Cookie": cookie_of(login(port, "", PASSWORD)[0])}
    assert get_json(port, "/api/session", headers=dflt)["user"] == "default"
    # a forged or unknown id is no session
    assert request(port, "/api/session", headers={"Cookie": "runnel_session=" + "0" * 64})[0].status == 401
    # the limit: the least recently used session ends
    r.config_set("http-session-max", 2)
    c1 = {"Cookie": cookie_of(login(port, "default", PASSWORD)[0])}
    c2 = {"Cookie": cookie_of(login(port, "default", PASSWORD)[0])}
    assert request(port, "/api/session", headers=c1)[0].status == 200  # c1 now used after c2
    c3 = {"Cookie": cookie_of(login(port, "default", PASSWORD)[0])}
    assert [request(port, "/api/session", headers=c)[0].status for c in (c1, c2, c3)] == [200, 401, 200]
    # expiry after http-session-timeout seconds unused
    r.config_set("http-session-timeout", 1)
    time.sleep(1.3)
    assert request(port, "/api/session", headers=c3)[0].status == 401
    # basic auth still works beside sessions
    assert request(port, "/metrics", headers=auth_header())[0].status == 200


def test_requests_act_as_their_acl_user(console_server):
    port = console_server.http_port
    r = console_server.client(password=PASSWORD)
    r.execute_command("ACL", "SETUSER", "viewer", "on", ">v", "+@read", "+info", "+client|list", "+slowlog",
                      "+pubsub", "~*")
    r.execute_command("ACL", "SETUSER", "orders", "on", ">o", "+@all", "~orders*", "~queue:*")
    r.execute_command("ACL", "SETUSER", "blind", "on", ">b", "+ping")
    r.xadd("orders", {"a": 1}, id="1-0")
    r.xadd("secret", {"b": 2}, id="1-0")
    r.rpush("queue:a", 1)
    r.rpush("queue:private", 1)
    r.execute_command("ACL", "SETUSER", "orders", "resetkeys", "~orders*", "~queue:a")
    r.xgroup_create("orders", "g", id="0")
    r.xreadgroup("g", "c", {"orders": ">"})
    viewer, orders, blind = (auth_header(password=p, user=u) for u, p in (("viewer", "v"), ("orders", "o"), ("blind", "b")))
    host = f"127.0.0.1:{port}"
    origin = {"Origin": f"http://{host}", "Host": host}

    # a read-only user: reads every page, each action is refused with 403 and the reason, nothing changes
    session = get_json(port, "/api/session", headers=viewer)
    assert session["user"] == "viewer" and session["login"] == "basic" and session["can_write"] is False
    doc = get_json(port, "/api/stream?key=orders", headers=viewer)
    assert doc["can"] == {"ack": False, "claim": False, "delete": False, "trim": False, "moveback": False}
    for p in ("/api/overview", "/api/streams", "/api/queues", "/api/clients", "/api/slowlog", "/api/pubsub",
              "/api/stream/entries?key=orders", "/api/stream/pending?key=orders&group=g", "/metrics"):
        assert request(port, p, headers=viewer)[0].status == 200, p
    r.execute_command("ACL", "LOG", "RESET")
    token = session["csrf_token"]
    for path, command in (("ack?key=orders&group=g&id=1-0", "xack"), ("claim?key=orders&group=g&id=1-0&consumer=z", "xclaim"),
                          ("delete?key=orders&group=g&id=1-0", "xack"), ("trim?key=orders&strategy=maxlen&threshold=0", "xtrim")):
        status, body = action(port, "/api/action/" + path, dict(origin, **viewer, **{"X-CSRF-Token": token}))
        assert status == 403 and body == {"error": f"NOPERM this user has no permissions to run the '{command}' command"}
    assert r.xpending("orders", "g")["pending"] == 1 and r.xlen("orders") == 1
    log = [dict(zip(e[::2], e[1::2])) for e in r.execute_command("ACL", "LOG")]
    assert {(e[b"object"], e[b"username"], e[b"reason"]) for e in log} == {
        (b"xack", b"viewer", b"command"), (b"xclaim", b"viewer", b"command"), (b"xtrim", b"viewer", b"command")}
    assert all(b"name=runnel-console" in e[b"client-info"] and b"user=viewer" in e[b"client-info"] for e in log)

    # a user of some keys: sees only those, may act on them, is refused the others
    streams = get_json(port, "/api/streams", headers=orders)["streams"]
    assert [s["key"] for s in streams] == ["orders"]
    assert [q["key"] for q in get_json(port, "/api/queues", headers=orders)["queues"]] == ["queue:a"]
    body = request(port, "/metrics", headers=orders)[1].decode()
    assert 'stream="orders"' in body and "secret" not in body
    assert 'key="queue:a"' in body and "queue:private" not in body
    resp, body = request(port, "/api/stream?key=secret", headers=orders)
    assert resp.status == 403 and b"no permissions to access one of the keys" in body
    assert get_json(port, "/api/stream?key=orders", headers=orders)["can"] == {
        "ack": True, "claim": True, "delete": True, "trim": True, "moveback": True}
    token = get_json(port, "/api/session", headers=orders)["csrf_token"]
    status, body = action(port, "/api/action/trim?key=secret&strategy=maxlen&threshold=0",
                          dict(origin, **orders, **{"X-CSRF-Token": token}))
    assert status == 403 and "keys" in body["error"] and r.xlen("secret") == 1
    assert action(port, "/api/action/ack?key=orders&group=g&id=1-0", dict(origin, **orders, **{"X-CSRF-Token": token})) == (
        200, {"acknowledged": 1})

    # a user without INFO: 403 for the pages that stand for it, in ACL LOG as the command's denial
    r.execute_command("ACL", "LOG", "RESET")
    for p, command in (("/metrics", "info"), ("/api/overview", "info"), ("/api/clients", "client|list")):
        resp, body = request(port, p, headers=blind)
        assert resp.status == 403 and json.loads(body)["error"].startswith("NOPERM"), p
    log = [dict(zip(e[::2], e[1::2])) for e in r.execute_command("ACL", "LOG")]
    assert {e[b"object"] for e in log} == {b"info", b"client|list"}
    assert get_json(port, "/api/session", headers=blind)["can_write"] is False


def test_assets_are_served_from_the_binary(open_server):
    port = open_server.http_port
    resp, body = request(port, "/")
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "default-src 'self'" in resp.getheader("Content-Security-Policy")
    assert resp.getheader("X-Frame-Options") == "DENY"
    for src in ("/ui/app.js", "/ui/pages.js", "/ui/streams.js", "/ui/charts.js", "/ui/app.css"):
        assert src.encode() in body
        resp, asset = request(port, src)
        assert resp.status == 200 and len(asset) > 500, src
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "http", "console", src[4:]), "rb") as f:
            assert asset == f.read()
    assert request(port, "/ui/app.js")[0].getheader("Content-Type") == "text/javascript; charset=utf-8"
    assert request(port, "/ui/nothing.js")[0].status == 404
    assert request(port, "/ui/../Makefile")[0].status == 404
    resp, body = request(port, "/", method="HEAD")
    assert resp.status == 200 and body == b"" and int(resp.getheader("Content-Length")) > 200


def action(port, path, headers):
    resp, body = request(port, path, method="POST", headers=headers)
    return resp.status, json.loads(body) if body.startswith(b"{") else body


def test_actions_need_same_origin_and_the_token(open_server):
    r = open_server.client(decode_responses=True)
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xadd("s", {"f": "v"}, id="2-0")
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"})
    port = open_server.http_port
    token = get_json(port, "/api/session")["csrf_token"]
    host = f"127.0.0.1:{port}"
    path = "/api/action/ack?key=s&group=g&id=1-0"
    good = {"Origin": f"http://{host}", "Host": host, "X-CSRF-Token": token}
    assert action(port, path, {"Host": host, "X-CSRF-Token": token})[0] == 403  # no Origin
    assert action(port, path, dict(good, Origin="http://evil.example"))[0] == 403
    assert action(port, path, dict(good, **{"X-CSRF-Token": "0" * 32}))[0] == 403
    assert action(port, path, {k: v for k, v in good.items() if k != "X-CSRF-Token"})[0] == 403
    assert r.xpending("s", "g")["pending"] == 2
    assert request(port, path)[0].status == 405  # GET
    assert action(port, path, good) == (200, {"acknowledged": 1})
    assert r.xpending("s", "g")["pending"] == 1
    # claim moves the other entry; delete acknowledges and removes it; trim
    status, doc = action(port, "/api/action/claim?key=s&group=g&id=2-0&consumer=zed", good)
    assert status == 200 and doc == {"claimed": ["2-0"]}
    assert r.xpending_range("s", "g", "-", "+", 10)[0]["consumer"] == "zed"
    assert action(port, "/api/action/delete?key=s&group=g&id=2-0", good) == (200, {"acknowledged": 1, "deleted": 1})
    assert r.xlen("s") == 1 and r.xpending("s", "g")["pending"] == 0
    for i in range(3, 10):
        r.xadd("s", {"f": "v"}, id=f"{i}-0")
    assert action(port, "/api/action/trim?key=s&strategy=maxlen&threshold=3", good) == (200, {"trimmed": 5})
    assert r.xlen("s") == 3
    # refusals by the command itself, and missing parameters
    status, doc = action(port, "/api/action/claim?key=s&group=nogroup&id=1-0&consumer=c", good)
    assert status == 400 and doc["error"].startswith("NOGROUP")
    status, doc = action(port, "/api/action/ack?key=s&group=g", good)
    assert status == 400 and "id" in doc["error"]
    status, doc = action(port, "/api/action/trim?key=s&strategy=sideways&threshold=1", good)
    assert status == 400
    assert action(port, "/api/action/explode?key=s", good)[0] == 404
    # what the console did is counted like any client's command
    assert r.info("commandstats")["cmdstat_xtrim"]["calls"] == 1
    # CLIENT PAUSE WRITE: actions are refused, not queued; reads go on
    r.client_pause(3000, all=False)
    try:
        status, doc = action(port, "/api/action/trim?key=s&strategy=maxlen&threshold=1", good)
        assert status == 400 and "paused" in doc["error"]
        assert get_json(port, "/api/stream?key=s")["info"]["length"] == 3
    finally:
        r.client_unpause()
    assert action(port, "/api/action/trim?key=s&strategy=maxlen&threshold=1", good) == (200, {"trimmed": 2})


def test_actions_reach_the_aof_and_replicas(tmp_path):
    """An action is logged like a client's command: a replica applies it."""
    primary = start()
    replica = start("--replicaof", "127.0.0.1", str(primary.port))
    try:
        r, rr = primary.client(decode_responses=True), replica.client(decode_responses=True)
        r.xadd("s", {"f": "v"}, id="1-0")
        r.xadd("s", {"f": "v"}, id="2-0")
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "c", {"s": ">"})
        deadline = time.time() + 10
        while time.time() < deadline and rr.exists("s") == 0:
            time.sleep(0.05)
        port = primary.http_port
        token = get_json(port, "/api/session")["csrf_token"]
        host = f"127.0.0.1:{port}"
        good = {"Origin": f"http://{host}", "Host": host, "X-CSRF-Token": token}
        assert action(port, "/api/action/delete?key=s&group=g&id=1-0", good)[0] == 200
        deadline = time.time() + 10
        while time.time() < deadline and rr.xlen("s") != 1:
            time.sleep(0.05)
        assert rr.xlen("s") == 1 and rr.xpending("s", "g")["pending"] == 1
        # on the replica the same action is refused by the command itself
        rport = replica.http_port
        rtoken = get_json(rport, "/api/session")["csrf_token"]
        rhost = f"127.0.0.1:{rport}"
        status, doc = action(rport, "/api/action/ack?key=s&group=g&id=2-0",
                             {"Origin": f"http://{rhost}", "Host": rhost, "X-CSRF-Token": rtoken})
        assert status == 400 and doc["error"].startswith("READONLY")
        assert get_json(rport, "/api/topology")["replication"]["role"] == "slave"
    finally:
        replica.stop()
        primary.stop()


def test_history_ring_has_per_second_samples(open_server):
    r = open_server.client()
    port = open_server.http_port
    for _ in range(3):
        r.rpush("queue:q", *range(100))
        r.lpop("queue:q", 40)
        time.sleep(1.05)
    hist = get_json(port, "/api/history")
    assert hist["interval_ms"] == 1000
    n = len(hist["t"])
    assert 2 <= n <= 300
    for series in ("ops", "net_in", "net_out", "pushes", "pops", "memory", "clients", "blocked", "xadds"):
        assert len(hist[series]) == n, series
    assert sum(hist["pushes"]) >= 2 and sum(hist["pops"]) >= 2
    assert all(b - a >= 900 for a, b in zip(hist["t"], hist["t"][1:]))
    assert hist["memory"][-1] > 0 and hist["clients"][-1] == 1
    # CONFIG RESETSTAT takes the counters back: no negative rate
    r.config_resetstat()
    time.sleep(1.1)
    hist = get_json(port, "/api/history")
    assert all(v >= 0 for series in ("ops", "pushes", "pops", "net_in", "net_out") for v in hist[series])


def test_pages_are_bounded(open_server):
    r = open_server.client(decode_responses=True)
    port = open_server.http_port
    for i in range(300):
        r.xadd("big", {"n": i})
    r.xgroup_create("big", "g", id="0")
    r.xreadgroup("g", "c", {"big": ">"})
    page = get_json(port, "/api/stream/entries?key=big&count=100000")
    assert len(page["entries"]) == 200  # API_CONSOLE_MAX_PAGE
    first = get_json(port, "/api/stream/entries?key=big&count=10")["entries"]
    nxt = get_json(port, "/api/stream/entries?key=big&count=10&start=" + "(" + first[-1][0])["entries"]
    assert [e[0] for e in first + nxt] == [e[0] for e in r.xrange("big", count=20)]
    rev = get_json(port, "/api/stream/entries?key=big&count=5&rev=1")["entries"]
    assert [e[0] for e in rev] == [e[0] for e in r.xrevrange("big", count=5)]
    pend = get_json(port, "/api/stream/pending?key=big&group=g&count=7&consumer=c")
    assert pend["summary"][0] == 300 and len(pend["entries"]) == 7
    assert get_json(port, "/api/stream?key=nothing")["error"].startswith("ERR")
    assert "missing parameter 'key'" in get_json(port, "/api/stream")["error"]
    socks = [socket.create_connection(("127.0.0.1", open_server.port)) for _ in range(12)]
    try:
        time.sleep(0.2)
        doc = get_json(port, "/api/clients?limit=5")
        assert len(doc["clients"]) == 5 and doc["matched"] == doc["total"] == 13
        r.client_setname("pager")
        named = get_json(port, "/api/clients?q=" + "name%3Dpager")
        assert named["matched"] == 1 and named["clients"][0]["name"] == "pager"
        assert get_json(port, "/api/clients?type=pubsub")["matched"] == 0
    finally:
        for s in socks:
            s.close()


def test_without_a_password_the_console_answers_addresses_and_localhost_only(open_server, console_server):
    """A page elsewhere could point a name of its own at this host (DNS
    rebinding); without a password the console refuses Host names."""
    port = open_server.http_port
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
        for path in ("/", "/ui/app.js", "/api/session"):
            assert request(port, path, headers={"Host": host})[0].status == 403, (host, path)
        status, doc = action(port, "/api/action/trim?key=s&strategy=maxlen&threshold=0",
                             {"Host": host, "Origin": f"http://{host}", "X-CSRF-Token": "x"})
        assert status == 403 and "requirepass" in doc["error"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert request(port, "/", headers={"Host": host})[0].status == 200, host
    # /metrics and the data documents keep answering whatever the name (scrapers use names)
    assert request(port, "/metrics", headers={"Host": "runnel-1:9121"})[0].status == 200
    # with a password any name is fine: the page would need the password
    resp, _ = request(console_server.http_port, "/", headers=dict(auth_header(), Host="runnel.internal"))
    assert resp.status == 200


@pytest.mark.skipif(not shutil.which("etcd"), reason="etcd-server is installed by scripts/install-deps")
def test_topology_shows_the_cluster():
    from cluster_helpers import Etcd, create_cluster, start_node
    etcd = Etcd()
    http_port = free_port()
    nodes = [start_node(etcd, "console", "--http-port", str(http_port))] + [start_node(etcd, "console")
                                                                             for _ in range(2)]
    try:
        create_cluster(nodes, replicas=0)
        doc = get_json(http_port, "/api/topology")
        assert doc["cluster_enabled"] is True and doc["replication"]["role"] == "master"
        assert "cluster_state:ok" in doc["cluster_info"]

        def ids_and_slots(text):
            return sorted((f[0], f[1].split("@")[0], " ".join(f[8:])) for f in (l.split() for l in text.splitlines()) if f)
        want = nodes[0].client().execute_command("CLUSTER", "NODES").decode()
        assert ids_and_slots(doc["cluster_nodes"]) == ids_and_slots(want)
        assert len(ids_and_slots(want)) == 3
    finally:
        for n in nodes:
            n.stop()
        etcd.stop()


def test_pubsub_lists_at_most_500_names_with_exact_totals(open_server):
    s = socket.create_connection(("127.0.0.1", open_server.port))
    try:
        send(s, "SUBSCRIBE", *[f"chan:{i}" for i in range(600)])
        send(s, "PSUBSCRIBE", "p:*", "q:*")
        r = open_server.client()
        deadline = time.time() + 5
        while r.pubsub_numpat() < 2 and time.time() < deadline:
            time.sleep(0.02)
        doc = get_json(open_server.http_port, "/api/pubsub")
        assert doc["totals"] == {"channels": 600, "patterns": 2, "shard_channels": 0}
        assert len(doc["channels"]) == 500
        assert all(c["subscribers"] == 1 and c["name"].startswith("chan:") for c in doc["channels"])
        assert sorted(p["name"] for p in doc["patterns"]) == ["p:*", "q:*"]
        assert doc["subscribed_clients"] == 1 and doc["subscribers"][0]["sub"] == "600"
    finally:
        s.close()


def test_an_action_is_answered_once_its_write_is_durable():
    """appendfsync always on a full disk: the AOF cannot take the action's
    XACK, so its answer waits (as a client's reply would) until space is
    freed and the write is fsynced. Needs root to mount a 2 MB tmpfs."""
    scratch = tempfile.mkdtemp(prefix="runnel-console-disk-")
    mnt = os.path.join(scratch, "mnt")
    os.mkdir(mnt)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip("cannot mount a tmpfs (needs root): " + res.stderr.strip())
    srv = None
    try:
        srv = start("--dir", mnt, "--appendonly", "yes", "--appendfsync", "always")
        r = srv.client(decode_responses=True)
        r.xadd("s", {"f": "v"}, id="1-0")
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "c", {"s": ">"})
        port = srv.http_port
        token = get_json(port, "/api/session")["csrf_token"]
        # fill the disk, then the AOF's last page, so that its next append fails
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb", buffering=0) as f:
            with pytest.raises(OSError):
                while True:
                    f.write(b"x" * 4096)
        aof = max(glob.glob(os.path.join(mnt, "appendonlydir", "*.incr.aof")), key=os.path.getsize)
        room = -os.path.getsize(aof) % 4096
        if room:
            size = next(n for n in range(room) if len(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % n) + n + 2 == room)
            assert r.set("k", "y" * size)
        assert os.path.getsize(aof) % 4096 == 0

        host = f"127.0.0.1:{port}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("POST", "/api/action/ack?key=s&group=g&id=1-0",
                     headers={"Host": host, "Origin": f"http://{host}", "X-CSRF-Token": token})
        with pytest.raises(socket.timeout):
            conn.getresponse()
        assert r.xpending("s", "g")["pending"] == 0  # it ran; its answer waits for the disk
        os.unlink(filler)
        conn.sock.settimeout(10)
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read()) == {"acknowledged": 1}
        with open(aof, "rb") as f:
            assert b"XACK" in f.read()
    finally:
        if srv:
            srv.stop()
        if subprocess.run(["umount", mnt], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def test_the_endpoint_over_tls(tmp_path):
    """http-tls yes: the console, /api and /metrics over TLS with the tls-*
    certificates; no client certificate asked for although tls-auth-clients
    is yes; the session cookie is Secure; plain HTTP gets nothing."""
    crt, key = str(tmp_path / "server.crt"), str(tmp_path / "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    # without certificates it refuses to start
    with pytest.raises(RuntimeError, match="http-tls yes needs the TLS certificates"):
        start("--http-tls", "yes")
    proc = start("--http-tls", "yes", "--tls-port", str(free_port()), "--tls-cert-file", crt, "--tls-key-file", key,
                 "--tls-ca-cert-file", crt, "--requirepass", PASSWORD)
    try:
        assert f"console at https://127.0.0.1:{proc.http_port}/" in proc.output()
        assert proc.client(password=PASSWORD).config_get("tls-auth-clients")["tls-auth-clients"] == "yes"
        ctx = ssl.create_default_context(cafile=crt)

        def tls_request(path, method="GET", headers=None, body=None):
            conn = http.client.HTTPSConnection("127.0.0.1", proc.http_port, timeout=5, context=ctx)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp, data

        resp, body = tls_request("/metrics", headers=auth_header())
        assert resp.status == 200 and b"redis_up 1" in body
        resp, body = tls_request("/")
        assert resp.status == 200 and b"<title>Runnel console</title>" in body
        host = f"127.0.0.1:{proc.http_port}"
        resp, body = tls_request("/api/login", "POST", {"Origin": f"https://{host}", "Host": host,
                                                        "Content-Type": "application/x-www-form-urlencoded"},
                                 f"user=default&password={PASSWORD}")
        assert resp.status == 200, body
        assert "; Secure" in resp.getheader("Set-Cookie") and "HttpOnly" in resp.getheader("Set-Cookie")
        resp, body = tls_request("/api/session", headers={"Cookie": resp.getheader("Set-Cookie").split(";")[0]})
        assert resp.status == 200 and json.loads(body)["login"] == "session"
        # keep-alive and a response bigger than one TLS record
        conn = http.client.HTTPSConnection("127.0.0.1", proc.http_port, timeout=5, context=ctx)
        for _ in range(3):
            conn.request("GET", "/ui/app.js")
            resp = conn.getresponse()
            assert resp.status == 200 and len(resp.read()) > 5000
        conn.close()
        # a big answer with Connection: close to a slow reader arrives whole (its last
        # TLS records wait for the socket before the connection is closed)
        r = proc.client(password=PASSWORD)
        p = r.pipeline(transaction=False)
        for i in range(3000):
            p.xadd(f"stream:{i:05d}", {"f": "v"})
            p.xgroup_create(f"stream:{i:05d}", "workers", id="0")
        p.execute()
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.settimeout(10)
        raw.connect(("127.0.0.1", proc.http_port))
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        creds = auth_header()["Authorization"]
        tls.sendall(f"GET /metrics HTTP/1.1\r\nHost: {host}\r\nAuthorization: {creds}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:  # slowly, so that the server keeps finding its socket full
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
            time.sleep(0.001)
        tls.close()
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        assert length > 300000 and len(body) == length and body.rstrip().endswith(b"0")
        # plain HTTP on the TLS port: no answer a browser could read as HTTP
        with socket.create_connection(("127.0.0.1", proc.http_port), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                reply = s.recv(100)
            except (ConnectionResetError, socket.timeout):
                reply = b""
            assert not reply.startswith(b"HTTP/1.1 200")
    finally:
        proc.stop()
