"""Moving dead-lettered entries back: 5,000 entries in batches of 100,
through the console's POST /api/action/moveback (Runnel) and as the same
MULTI / XADD / XDEL / EXEC transaction sent by a client (Runnel and
redis-server). Prints wall time per batch and server CPU per entry
(utime+stime from /proc/<pid>/stat).

usage: python3 bench/console_moveback.py <runnel-server> [rounds]"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

import redis

N, BATCH = 5000, 100
FIELDS = {"job": "resize", "payload": "x" * 100}


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def fill(r, real_dlq):
    r.flushall()
    if real_dlq:  # the broker's own dead-lettering
        r.execute_command("XGROUP", "CREATE", "jobs", "w", "$", "MKSTREAM", "MAXDELIVERIES", 1, "DEADLETTER", "dead")
        p = r.pipeline(transaction=False)
        for _ in range(N):
            p.xadd("jobs", FIELDS)
        p.execute()
        r.xreadgroup("w", "c1", {"jobs": ">"})
        r.execute_command("XREADGROUP", "GROUP", "w", "c2", "CLAIM", 0, "COUNT", N, "STREAMS", "jobs", ">")
    else:  # the same entries written by hand
        r.xadd("jobs", {"job": "seed"})
        p = r.pipeline(transaction=False)
        for i in range(N):
            p.xadd("dead", {"dlq-stream": "jobs", "dlq-id": f"{i + 1}-0", "dlq-group": "w", "dlq-consumer": "c1",
                            "dlq-deliveries": "1", "dlq-reason": "maxdeliveries", **FIELDS})
        p.execute()
    ids = [e[0] for e in r.xrange("dead")]
    assert len(ids) == N
    return ids


def by_console(r, port, ids):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/api/session")
    token = json.loads(conn.getresponse().read())["csrf_token"]
    host = f"127.0.0.1:{port}"
    times = []
    for i in range(0, N, BATCH):
        t = time.perf_counter()
        conn.request("POST", "/api/action/moveback?key=dead&id=" + ",".join(ids[i:i + BATCH]),
                      headers={"Origin": f"http://{host}", "Host": host, "X-CSRF-Token": token})
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.perf_counter() - t)
        assert resp.status == 200, body
    conn.close()
    return times


def by_client(r, ids):
    times = []
    for i in range(0, N, BATCH):
        t = time.perf_counter()
        entries = [r.xrange("dead", x, x)[0] for x in ids[i:i + BATCH]]
        p = r.pipeline(transaction=True)
        for eid, f in entries:
            p.xadd("jobs", {k: v for k, v in f.items() if not k.startswith(b"dlq-")})
            p.xdel("dead", eid)
        p.execute()
        times.append(time.perf_counter() - t)
    return times


def run(server, args, console):
    port = 17400 + console
    d = tempfile.mkdtemp()
    extra = ["--http-port", str(port + 100)] if console else []
    proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--dir", d, *args, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(100):
        try:
            r.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        ids = fill(r, console)
        ids = [x.decode() for x in ids]
        c0 = cpu_ms(proc.pid)
        times = by_console(r, port + 100, ids) if console else by_client(r, ids)
        cpu = cpu_ms(proc.pid) - c0
        assert r.xlen("dead") == 0 and r.xlen("jobs") >= N
        return min(times) * 1000, cpu * 1000 / N
    finally:
        proc.terminate()
        proc.wait()


def main():
    runnel = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    best = {}
    for _ in range(rounds):
        for name, server, console in (("runnel console", runnel, True), ("runnel client", runnel, False),
                                      ("redis client", "/usr/bin/redis-server", False),
                                      ("redis client", "/usr/bin/redis-server", False),
                                      ("runnel client", runnel, False), ("runnel console", runnel, True)):
            ms, us = run(server, [], console)
            b = best.get(name)
            best[name] = (min(ms, b[0]), min(us, b[1])) if b else (ms, us)
    for name, (ms, us) in best.items():
        print(f"{name:15s} best batch of {BATCH}: {ms:6.2f} ms   server CPU per entry: {us:5.1f} us")


if __name__ == "__main__":
    main()
