"""The console's "move back" of dead-lettered entries (POST
/api/action/moveback?key=<dlq>&id=<id>[,<id>...]): the entry's own fields
go back to its source stream as a new entry, in one MULTI/EXEC with the
XDEL from the dead-letter stream, checked against the ACL user, refused with
a 4xx and a message when it can't, guarded by Origin and the CSRF token,
and seen by replicas; the stream page reports the groups' dead-letter
settings."""
import time

import pytest

from conftest import assert_no_sanitizer_report
from test_console import action, auth_header, get_json, request, start

PASSWORD = "dlq-pw"


@pytest.fixture
def server():
    proc = start("--requirepass", PASSWORD)
    yield proc
    assert_no_sanitizer_report(proc)
    proc.stop()


def guard(port, user="default", password=PASSWORD):
    """Headers of a same-origin console request with the user's CSRF token."""
    auth = auth_header(password=password, user=user)
    token = get_json(port, "/api/session", headers=auth)["csrf_token"]
    host = f"127.0.0.1:{port}"
    return dict(auth, **{"Origin": f"http://{host}", "Host": host, "X-CSRF-Token": token})


def dead_letter(r, src="jobs", dlq="jobs:dead", bodies=({"job": "a"},)):
    """Entries of `src` moved to `dlq` by a group with MAXDELIVERIES 1:
    their DLQ IDs, oldest first."""
    if not r.exists(src):
        r.execute_command("XGROUP", "CREATE", src, "workers", "$", "MKSTREAM", "MAXDELIVERIES", 1, "DEADLETTER", dlq)
    for body in bodies:
        r.xadd(src, body)
    r.xreadgroup("workers", "w1", {src: ">"})
    r.execute_command("XREADGROUP", "GROUP", "workers", "w2", "CLAIM", 0, "STREAMS", src, ">")
    return [e[0] for e in r.xrange(dlq)][-len(bodies):]


def test_move_back_restores_the_entry_for_its_group(server):
    r = server.client(password=PASSWORD, decode_responses=True)
    port = server.http_port
    [dead] = dead_letter(r, bodies=({"job": "resize-42", "size": "3"},))
    assert r.xpending("jobs", "workers")["pending"] == 0
    assert r.xrange("jobs:dead")[0][1]["dlq-stream"] == "jobs"
    status, doc = action(port, f"/api/action/moveback?key=jobs:dead&id={dead}", guard(port))
    assert status == 200, doc
    [moved] = doc["moved"]
    assert moved["id"] == dead and moved["stream"] == "jobs"
    # the own fields only, under a new ID after the original one
    assert r.xrange("jobs", moved["new_id"], moved["new_id"]) == [(moved["new_id"], {"job": "resize-42", "size": "3"})]
    assert r.xlen("jobs") == 2 and r.xlen("jobs:dead") == 0
    # the group delivers it again as a new entry
    got = r.xreadgroup("workers", "w3", {"jobs": ">"})
    assert got == [["jobs", [(moved["new_id"], {"job": "resize-42", "size": "3"})]]]
    # one transaction, counted like a client's
    stats = r.info("commandstats")
    assert stats["cmdstat_multi"]["calls"] == 1 and stats["cmdstat_exec"]["calls"] == 1
    assert stats["cmdstat_xdel"]["calls"] == 1


def test_move_back_of_several_entries_is_all_or_nothing(server):
    r = server.client(password=PASSWORD, decode_responses=True)
    port = server.http_port
    h = guard(port)
    ids = dead_letter(r, bodies=({"n": "1"}, {"n": "2"}, {"n": "3"}))
    # one of them is not a dead-lettered entry: nothing moves
    plain = r.xadd("jobs:dead", {"n": "manual"})
    status, doc = action(port, f"/api/action/moveback?key=jobs:dead&id={ids[0]},{plain}", h)
    assert status == 400 and "not dead-lettered" in doc["error"] and plain in doc["error"]
    assert r.xlen("jobs:dead") == 4 and r.xlen("jobs") == 3
    status, doc = action(port, f"/api/action/moveback?key=jobs:dead&id={','.join(ids)}", h)
    assert status == 200 and [m["id"] for m in doc["moved"]] == ids
    assert [e[1] for e in r.xrange("jobs:dead")] == [{"n": "manual"}]
    assert [e[1] for e in r.xrange("jobs")][3:] == [{"n": "1"}, {"n": "2"}, {"n": "3"}]


def test_move_back_refusals(server):
    r = server.client(password=PASSWORD, decode_responses=True)
    port = server.http_port
    h = guard(port)

    def refused(ids, key="jobs:dead"):
        status, doc = action(port, f"/api/action/moveback?key={key}&id={ids}", h)
        assert 400 <= status < 500, (status, doc)
        return status, doc["error"]

    # a dead-lettered message of a stream that is gone, or became a string
    [gone] = dead_letter(r, src="old", dlq="jobs:dead")
    r.delete("old")
    assert refused(gone) == (400, f"ERR the source stream 'old' of entry {gone} does not exist")
    r.set("old", "x")
    assert refused(gone) == (400, f"ERR the source key 'old' of entry {gone} is not a stream")
    assert r.xlen("jobs:dead") == 1
    # an entry naming the dead-letter stream itself
    loop = r.xadd("jobs:dead", {"dlq-stream": "jobs:dead", "dlq-id": "1-0", "f": "v"})
    assert refused(loop)[0] == 400
    # no such entry, bad ID lists, not a stream, missing parameters
    assert refused("9-9") == (404, "ERR no entry 9-9 in 'jobs:dead'")
    assert refused(f"{gone},{gone}")[0] == 400
    assert refused(",".join(f"{i}-0" for i in range(1, 102)))[0] == 400
    r.set("str", "x")
    assert refused("1-0", key="str")[1].startswith("WRONGTYPE")
    assert action(port, "/api/action/moveback?key=jobs:dead", h)[0] == 400
    # a field of the message named like a provenance field stays with the message
    r.delete("old")
    r.xadd("old", {"x": "y"})
    twice = r.xadd("jobs:dead", {"dlq-stream": "old", "dlq-id": "1-0", "payload": "p", "dlq-reason": "mine"})
    status, doc = action(port, f"/api/action/moveback?key=jobs:dead&id={twice}", h)
    assert status == 200
    new_id = doc["moved"][0]["new_id"]
    assert r.xrange("old", new_id, new_id)[0][1] == {"payload": "p", "dlq-reason": "mine"}


def test_move_back_is_guarded_and_checked_against_the_acl_user(server):
    r = server.client(password=PASSWORD, decode_responses=True)
    port = server.http_port
    [dead] = dead_letter(r)
    path = f"/api/action/moveback?key=jobs:dead&id={dead}"
    # Origin and the CSRF token, as for every action
    good = guard(port)
    assert action(port, path, {k: v for k, v in good.items() if k != "X-CSRF-Token"})[0] == 403
    assert action(port, path, dict(good, Origin="http://evil.example"))[0] == 403
    assert action(port, path, {k: v for k, v in good.items() if k != "Origin"})[0] == 403
    assert request(port, path, headers=good)[0].status == 405
    # a user who may handle the dead-letter stream but not write the source
    r.execute_command("ACL", "SETUSER", "triage", "on", ">t", "+@all", "~jobs:dead", "%R~jobs")
    r.execute_command("ACL", "SETUSER", "viewer", "on", ">v", "+@read", "~*")
    assert get_json(port, "/api/stream?key=jobs:dead", headers=auth_header("t", "triage"))["can"]["moveback"] is True
    assert get_json(port, "/api/stream?key=jobs:dead", headers=auth_header("v", "viewer"))["can"]["moveback"] is False
    r.execute_command("ACL", "LOG", "RESET")
    status, doc = action(port, path, guard(port, "triage", "t"))
    assert status == 403 and doc["error"].startswith("NOPERM") and "keys" in doc["error"]
    status, doc = action(port, path, guard(port, "viewer", "v"))
    assert status == 403 and doc["error"].startswith("NOPERM")
    log = [dict(zip(e[::2], e[1::2])) for e in r.execute_command("ACL", "LOG")]
    assert {(e["username"], e["object"]) for e in log} >= {("triage", "jobs"), ("viewer", "xadd")}
    assert r.xlen("jobs:dead") == 1 and r.xlen("jobs") == 1
    # given write access to the source, it may
    r.execute_command("ACL", "SETUSER", "triage", "~jobs")
    assert action(port, path, guard(port, "triage", "t"))[0] == 200
    assert r.xlen("jobs:dead") == 0 and r.xlen("jobs") == 2


def test_stream_page_shows_the_dead_letter_settings(server):
    r = server.client(password=PASSWORD, decode_responses=True)
    dead_letter(r)
    r.xgroup_create("jobs", "plain", id="0")
    doc = get_json(server.http_port, "/api/stream?key=jobs", headers=auth_header(PASSWORD))
    groups = {g["name"]: g for g in doc["groups"]}
    assert (groups["workers"]["max-deliveries"], groups["workers"]["dead-letter-key"],
            groups["workers"]["dead-lettered"]) == (1, "jobs:dead", 1)
    assert "dead-letter-key" not in groups["plain"]


def test_move_back_reaches_replicas():
    primary = start()
    replica = start("--replicaof", "127.0.0.1", str(primary.port))
    try:
        r, rr = primary.client(decode_responses=True), replica.client(decode_responses=True)
        [dead] = dead_letter(r)
        port = primary.http_port
        host = f"127.0.0.1:{port}"
        h = {"Origin": f"http://{host}", "Host": host, "X-CSRF-Token": get_json(port, "/api/session")["csrf_token"]}
        status, doc = action(port, f"/api/action/moveback?key=jobs:dead&id={dead}", h)
        assert status == 200
        new_id = doc["moved"][0]["new_id"]
        deadline = time.time() + 10
        while time.time() < deadline and rr.xlen("jobs") != 2:
            time.sleep(0.05)
        assert rr.xrange("jobs") == r.xrange("jobs") and rr.xrange("jobs")[-1][0] == new_id
        assert rr.xlen("jobs:dead") == 0
    finally:
        replica.stop()
        primary.stop()


def test_move_back_refuses_a_source_in_another_slot():
    from cluster_helpers import Etcd, start_node, wait_until
    from conftest import free_port
    etcd = Etcd()
    http_port = free_port()
    node = start_node(etcd, "dlqback", "--http-port", str(http_port))
    try:
        r = node.client(decode_responses=True)
        r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_until(lambda: "cluster_state:ok" in r.execute_command("CLUSTER", "INFO"), 10, "the cluster to be up")
        # the settings can't name another slot, but an entry written by hand can
        r.xadd("{a}src", {"x": "1"})
        r.xadd("b-src", {"x": "1"})
        far = r.xadd("{a}dead", {"dlq-stream": "b-src", "dlq-id": "1-0", "job": "j"})
        near = r.xadd("{a}dead", {"dlq-stream": "{a}src", "dlq-id": "1-0", "job": "k"})
        host = f"127.0.0.1:{http_port}"
        h = {"Origin": f"http://{host}", "Host": host,
             "X-CSRF-Token": get_json(http_port, "/api/session")["csrf_token"]}
        status, doc = action(http_port, f"/api/action/moveback?key=%7Ba%7Ddead&id={far}", h)
        assert status == 400 and doc["error"].startswith("CROSSSLOT") and "b-src" in doc["error"], doc
        assert r.xlen("{a}dead") == 2 and r.xlen("b-src") == 1
        assert action(http_port, f"/api/action/moveback?key=%7Ba%7Ddead&id={near}", h)[0] == 200
        assert r.xlen("{a}dead") == 1 and r.xrange("{a}src")[-1][1] == {"job": "k"}
    finally:
        node.stop()
        etcd.stop()
