"""GET /metrics on the HTTP endpoint: the Prometheus text parsed with
prometheus_client and checked against the server's own INFO and XINFO
replies, the cardinality bound, password checks and the endpoint's limits."""
import base64
import json
import http.client
import socket
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import RunnelProcess, free_port


def start(*args):
    http_port = free_port()
    proc = RunnelProcess("--http-port", str(http_port), *args)
    proc.http_port = http_port
    return proc


@pytest.fixture
def metrics_server():
    proc = start("--metrics-list-patterns", "queue:* jobs")
    yield proc
    proc.stop()


def get(port, path="/metrics", headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp, body


def scrape(port, headers=None):
    """{(sample name, frozenset of labels): value}, and {family: type}."""
    resp, body = get(port, headers=headers)
    assert resp.status == 200, body
    assert resp.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    samples, types = {}, {}
    for family in text_string_to_metric_families(body):
        types[family.name] = family.type
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = s.value
    return samples, types


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def series(samples, name):
    return {k[1]: v for k, v in samples.items() if k[0] == name}


def fill(r):
    """Streams with groups in two databases, queue lists, other keys."""
    for i in range(5):
        r.xadd("orders", {"n": i})
    r.xgroup_create("orders", "billing", id="0")
    r.xgroup_create("orders", "shipping", id="$")
    r.xreadgroup("billing", "alice", {"orders": ">"}, count=2)
    r.xreadgroup("billing", "bob", {"orders": ">"}, count=1)
    r.xack("orders", "billing", r.xpending_range("orders", "billing", "-", "+", 1)[0]["message_id"])
    r.xadd('we"ird\\key', {"a": "b"})
    r.rpush("queue:email", "a", "b", "c")
    r.rpush("jobs", "x")
    r.rpush("other", "y")
    r.set("plain", "1", ex=100)
    r.execute_command("SELECT", "3")
    r.xadd("events", {"k": "v"})
    r.execute_command("SELECT", "0")


def test_metrics_match_the_servers_own_replies(metrics_server):
    r = metrics_server.client()
    fill(r)
    r3 = metrics_server.client(db=3)
    samples, types = scrape(metrics_server.http_port)
    info = r.info("all")

    assert value(samples, "redis_up") == 1
    assert value(samples, "redis_connected_clients") == info["connected_clients"]
    assert value(samples, "redis_blocked_clients") == info["blocked_clients"]
    assert value(samples, "redis_memory_used_bytes") > 0
    assert value(samples, "redis_connected_slaves") == info["connected_slaves"]
    assert value(samples, "redis_master_repl_offset") <= info["master_repl_offset"]
    assert value(samples, "redis_aof_enabled") == 0
    assert value(samples, "redis_aof_last_write_status") == 1
    assert types["redis_commands_processed"] == "counter"
    processed = value(samples, "redis_commands_processed_total")
    assert 0 < processed <= info["total_commands_processed"]

    assert value(samples, "redis_commands_total", cmd="xadd") == info["cmdstat_xadd"]["calls"]
    assert value(samples, "redis_commands_total", cmd="xgroup|create") == 2
    seconds = value(samples, "redis_commands_duration_seconds_total", cmd="xadd")
    assert 0 < seconds <= info["cmdstat_xadd"]["usec"] / 1e6

    assert value(samples, "redis_db_keys", db="db0") == r.dbsize()
    assert value(samples, "redis_db_keys", db="db3") == r3.dbsize() == 1
    assert value(samples, "redis_db_keys", db="db5") == 0
    assert value(samples, "redis_db_keys_expiring", db="db0") == 1

    xinfo = r.xinfo_stream("orders")
    assert value(samples, "redis_stream_length", db="db0", stream="orders") == xinfo["length"] == 5
    assert value(samples, "redis_stream_groups", db="db0", stream="orders") == xinfo["groups"] == 2
    assert value(samples, "redis_stream_length", db="db3", stream="events") == 1
    assert value(samples, "redis_stream_length", db="db0", stream='we"ird\\key') == 1
    for g in r.xinfo_groups("orders"):
        labels = dict(db="db0", stream="orders", group=g["name"].decode())
        assert value(samples, "redis_stream_group_messages_pending", **labels) == g["pending"]
        assert value(samples, "redis_stream_group_consumers", **labels) == g["consumers"]
        assert value(samples, "redis_stream_group_lag", **labels) == g["lag"]
        for c in r.xinfo_consumers("orders", g["name"]):
            assert value(samples, "redis_stream_group_consumer_messages_pending", consumer=c["name"].decode(),
                         **labels) == c["pending"]
    assert value(samples, "redis_stream_group_lag", db="db0", stream="orders", group="billing") == 2
    assert value(samples, "redis_stream_group_messages_pending", db="db0", stream="orders", group="billing") == 2

    lists = series(samples, "runnel_list_length")
    assert lists == {
        frozenset({"db": "db0", "key": "queue:email"}.items()): r.llen("queue:email"),
        frozenset({"db": "db0", "key": "jobs"}.items()): 1,
    }
    assert value(samples, "runnel_metrics_series_omitted") == 0


def test_live_values_follow_the_data(metrics_server):
    r = metrics_server.client()
    r.rpush("queue:a", *range(10))
    samples, _ = scrape(metrics_server.http_port)
    assert value(samples, "runnel_list_length", db="db0", key="queue:a") == 10
    r.lpop("queue:a", 4)
    p = r.pubsub()
    p.subscribe("news", "sport")
    p.get_message(timeout=1)
    samples, _ = scrape(metrics_server.http_port)
    assert value(samples, "runnel_list_length", db="db0", key="queue:a") == 6
    assert value(samples, "redis_pubsub_channels") == r.info()["pubsub_channels"] == 2
    assert value(samples, "runnel_pubsub_clients") == 1
    p.close()


def test_series_are_bounded_and_the_rest_counted():
    proc = start("--metrics-max-series", "2")
    try:
        r = proc.client()
        for i in range(5):
            r.xadd(f"s{i}", {"a": 1})
        samples, _ = scrape(proc.http_port)
        assert len(series(samples, "redis_stream_length")) == 2
        assert value(samples, "runnel_metrics_series_omitted") == 3
        assert value(samples, "redis_db_keys", db="db0") == 5
    finally:
        proc.stop()


def test_password_is_required_when_the_server_has_one():
    proc = start("--requirepass", "s3cret")
    try:
        resp, _ = get(proc.http_port)
        assert resp.status == 401
        assert resp.getheader("WWW-Authenticate").startswith("Basic")
        resp, _ = get(proc.http_port, headers={"Authorization": "Bearer wrong"})
        assert resp.status == 401
        bad = base64.b64encode(b"default:wrong").decode()
        resp, _ = get(proc.http_port, headers={"Authorization": "Basic " + bad})
        assert resp.status == 401
        samples, _ = scrape(proc.http_port, headers={"Authorization": "Bearer s3cret"})
        assert value(samples, "redis_up") == 1
        good = base64.b64encode(b"default:s3cret").decode()
        samples, _ = scrape(proc.http_port, headers={"Authorization": "Basic " + good})
        assert value(samples, "redis_up") == 1
        # Basic auth is a user name and password pair checked against the ACL users
        stranger = base64.b64encode(b"prometheus:s3cret").decode()
        resp, _ = get(proc.http_port, headers={"Authorization": "Basic " + stranger})
        assert resp.status == 401
        import redis
        r = redis.Redis(port=proc.port, password="s3cret")
        r.execute_command("ACL", "SETUSER", "prometheus", "on", ">scrape", "+info")
        samples, _ = scrape(proc.http_port, headers={"Authorization": "Basic " + base64.b64encode(b"prometheus:scrape").decode()})
        assert value(samples, "redis_up") == 1
        r.execute_command("ACL", "SETUSER", "prometheus", "off")
        resp, _ = get(proc.http_port, headers={"Authorization": "Basic " + base64.b64encode(b"prometheus:scrape").decode()})
        assert resp.status == 401
    finally:
        proc.stop()


def raw_exchange(port, data, timeout=5):
    """Sends bytes, reads until the server closes; returns what it said."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def status_of(reply):
    return int(reply.split(b" ", 2)[1])


def test_routes_methods_and_keep_alive(metrics_server):
    assert get(metrics_server.http_port, "/nothing")[0].status == 404
    resp, _ = get(metrics_server.http_port, method="DELETE")
    assert resp.status == 405 and resp.getheader("Allow") == "GET, HEAD"
    resp, body = get(metrics_server.http_port, method="HEAD")
    assert resp.status == 200 and body == "" and int(resp.getheader("Content-Length")) > 100
    two = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"
    reply = raw_exchange(metrics_server.http_port, two)
    assert reply.count(b"HTTP/1.1 200 OK") == 2
    body = b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    assert status_of(raw_exchange(metrics_server.http_port, body)) == 413


def test_oversized_requests_and_too_many_headers_are_refused(metrics_server):
    port = metrics_server.http_port
    big = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n"
    assert status_of(raw_exchange(port, big)) == 431
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(40))
    assert status_of(raw_exchange(port, b"GET /metrics HTTP/1.1\r\n" + headers + b"\r\n")) == 431
    assert status_of(raw_exchange(port, b"GET /metrics HTTP/3.0\r\n\r\n")) == 505
    assert status_of(raw_exchange(port, b"GET metrics\r\n\r\n")) == 400
    assert metrics_server.client().ping()
    assert get(port)[0].status == 200


def test_slow_clients_time_out_without_blocking_commands():
    proc = start("--http-timeout", "1")
    try:
        r = proc.client()
        slow = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        started = time.time()
        assert r.ping()  # the half-sent request does not hold the loop
        assert get(proc.http_port)[0].status == 200
        assert slow.recv(100) == b""  # closed by the server
        assert 0.5 < time.time() - started < 4
        slow.close()
    finally:
        proc.stop()


def test_connections_over_the_limit_are_refused(metrics_server):
    held = [socket.create_connection(("127.0.0.1", metrics_server.http_port)) for _ in range(64)]
    try:
        time.sleep(0.2)
        reply = raw_exchange(metrics_server.http_port, b"")
        assert status_of(reply) == 503
    finally:
        for s in held:
            s.close()
    time.sleep(0.2)
    assert get(metrics_server.http_port)[0].status == 200


def test_off_by_default():
    proc = RunnelProcess()
    try:
        out = proc.output()
        assert "HTTP endpoint" not in out
    finally:
        proc.stop()


def get_json(port, path):
    resp, body = get(port, path)
    assert resp.status == 200, body
    assert resp.getheader("Content-Type") == "application/json"
    return json.loads(body)


def test_api_gives_the_same_facts_as_json(metrics_server):
    r = metrics_server.client()
    fill(r)
    port = metrics_server.http_port
    overview = get_json(port, "/api/overview")
    info = r.info()
    assert overview["info"]["server"]["redis_version"] == info["redis_version"]
    assert overview["info"]["clients"]["connected_clients"] == info["connected_clients"]
    assert overview["info"]["memory"]["used_memory"] > 0
    assert {"db": 0, "keys": r.dbsize(), "expires": 1} in overview["databases"]
    assert {"db": 3, "keys": 1, "expires": 0} in overview["databases"]

    streams = get_json(port, "/api/streams")
    assert streams["omitted"] == 0
    by_key = {(s["db"], s["key"]): s for s in streams["streams"]}
    assert set(by_key) == {(0, "orders"), (0, 'we"ird\\key'), (3, "events")}
    orders = by_key[(0, "orders")]
    xinfo = r.xinfo_stream("orders")
    assert orders["length"] == xinfo["length"]
    assert orders["entries_added"] == xinfo["entries-added"]
    assert orders["first_id"] == xinfo["first-entry"][0].decode()
    assert orders["last_id"] == xinfo["last-generated-id"].decode()
    groups = {g["name"]: g for g in orders["groups"]}
    for g in r.xinfo_groups("orders"):
        mine = groups[g["name"].decode()]
        assert mine["pending"] == g["pending"]
        assert mine["lag"] == g["lag"]
        assert mine["entries_read"] == g["entries-read"]
        assert mine["last_delivered_id"] == g["last-delivered-id"].decode()
        consumers = {c["name"].decode(): c["pending"] for c in r.xinfo_consumers("orders", g["name"])}
        assert {c["name"]: c["pending"] for c in mine["consumers"]} == consumers

    queues = get_json(port, "/api/queues")
    assert sorted((q["key"], q["length"]) for q in queues["queues"]) == [("jobs", 1), ("queue:email", 3)]
    assert queues["omitted"] == 0
    assert get(port, "/api/nothing")[0].status == 404


def test_command_latency_histograms_follow_latency_histogram(metrics_server):
    r = metrics_server.client()
    for i in range(20):
        r.set(f"k{i}", i)
    r.xadd("s", {"a": 1})
    samples, types = scrape(metrics_server.http_port)
    assert types["runnel_command_duration_seconds"] == "histogram"
    hist = r.execute_command("LATENCY", "HISTOGRAM", "set")
    assert hist[0] == b"set"  # RESP2: [name, [b"calls", n, b"histogram_usec", [bound, count, ...]]]
    entry = dict(zip(hist[1][::2], hist[1][1::2]))
    assert entry[b"calls"] == 20
    buckets = series(samples, "runnel_command_duration_seconds_bucket")
    mine = {float(dict(k)["le"]): v for k, v in buckets.items() if dict(k)["cmd"] == "set"}
    assert mine[float("inf")] == value(samples, "runnel_command_duration_seconds_count", cmd="set") == 20
    # cumulative, and at every bound LATENCY HISTOGRAM names the same count
    bounds = sorted(mine)
    assert all(mine[a] <= mine[b] for a, b in zip(bounds, bounds[1:]))
    flat = entry[b"histogram_usec"]
    usec = dict(zip(flat[::2], flat[1::2]))
    assert usec
    for bound_us, count in usec.items():
        if bound_us / 1e6 in mine:
            assert mine[bound_us / 1e6] == count
    assert value(samples, "runnel_command_duration_seconds_sum", cmd="set") == value(
        samples, "redis_commands_duration_seconds_total", cmd="set")
    assert any(dict(k)["cmd"] == "xadd" for k in buckets)
    r.config_set("latency-tracking", "no")
    r.set("late", 1)
    samples, _ = scrape(metrics_server.http_port)
    assert value(samples, "runnel_command_duration_seconds_count", cmd="set") == 20


def test_queue_lists_count_their_pushes_and_pops(metrics_server):
    r = metrics_server.client()
    port = metrics_server.http_port
    r.rpush("queue:a", *range(10))
    r.lpop("queue:a", 4)
    r.rpush("other", 1, 2, 3)  # no pattern: not counted, not reported
    r.lpop("other")
    samples, types = scrape(port)
    assert types["runnel_list_pushed"] == "counter" and types["runnel_list_popped"] == "counter"
    assert value(samples, "runnel_list_pushed_total", db="db0", key="queue:a") == 10
    assert value(samples, "runnel_list_popped_total", db="db0", key="queue:a") == 4
    assert not any(dict(k).get("key") == "other" for k in series(samples, "runnel_list_pushed_total"))
    # emptied (the key is gone) and filled again: the counts go on; every kind of push and pop counts
    r.lpop("queue:a", 6)
    assert not r.exists("queue:a")
    samples, _ = scrape(port)
    assert value(samples, "runnel_list_popped_total", db="db0", key="queue:a") == 10
    assert ("runnel_list_length", frozenset({"db": "db0", "key": "queue:a"}.items())) not in samples
    r.lpush("queue:a", "x")
    r.rpushx("queue:a", "y")
    r.blpop("queue:a", timeout=1)
    r.lmove("queue:a", "queue:b", "LEFT", "RIGHT")
    r.rpush("queue:b", "z")
    r.lmove("queue:b", "queue:b", "LEFT", "RIGHT")
    samples, _ = scrape(port)
    assert value(samples, "runnel_list_pushed_total", db="db0", key="queue:a") == 12
    assert value(samples, "runnel_list_popped_total", db="db0", key="queue:a") == 12
    assert value(samples, "runnel_list_pushed_total", db="db0", key="queue:b") == 3
    assert value(samples, "runnel_list_popped_total", db="db0", key="queue:b") == 1
    # a list renamed into a matching name counts from the first scrape that finds it
    r.rpush("plain", 1, 2)
    r.rename("plain", "jobs")
    samples, _ = scrape(port)
    assert value(samples, "runnel_list_pushed_total", db="db0", key="jobs") == 0
    r.rpop("jobs")
    doc = json.loads(get(port, "/api/queues")[1])
    jobs = next(q for q in doc["queues"] if q["key"] == "jobs")
    assert jobs == {"db": 0, "key": "jobs", "length": 1, "pushed": 0, "popped": 1}
    b = next(q for q in doc["queues"] if q["key"] == "queue:b")
    assert (b["pushed"], b["popped"]) == (3, 1)
    # another database is another list
    r3 = metrics_server.client(db=3)
    r3.rpush("queue:a", 1)
    samples, _ = scrape(port)
    assert value(samples, "runnel_list_pushed_total", db="db3", key="queue:a") == 1
    assert value(samples, "runnel_list_pushed_total", db="db0", key="queue:a") == 12
