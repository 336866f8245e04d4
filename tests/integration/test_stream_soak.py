"""Consumer-group soak: 2 producers XADD, a group of 4 consumers XREADGROUP +
XACK; one consumer dies holding unacknowledged entries, which another takes
over with XAUTOCLAIM. Every entry is processed at least once and
acknowledged exactly once, and nothing stays pending."""
import threading
import time

import pytest
import redis

TOTAL = 20000
STREAM = "soak"
GROUP = "workers"


def producer(port, start, count, produced):
    c = redis.Redis(port=port)
    p = c.pipeline(transaction=False)
    for i in range(start, start + count):
        p.xadd(STREAM, {"n": i})
        if len(p) == 200:
            produced.extend(p.execute())
    if len(p):
        produced.extend(p.execute())


def ack_each(c, ids, acked, lock):
    p = c.pipeline(transaction=False)
    for i in ids:
        p.xack(STREAM, GROUP, i)
    for i, n in zip(ids, p.execute()):
        if n == 1:
            with lock:
                assert i not in acked, "acknowledged twice: %s" % i
                acked.add(i)


def consumer(port, name, stop, processed, acked, lock, die_after=None):
    c = redis.Redis(port=port, socket_timeout=10)
    batches = 0
    while not stop.is_set():
        res = c.xreadgroup(GROUP, name, {STREAM: ">"}, count=50, block=100)
        if not res:
            continue
        ids = [i for i, _ in res[0][1]]
        with lock:
            processed.update(ids)
        batches += 1
        if die_after is not None and batches >= die_after:
            c.close()  # dies holding this batch, unacknowledged
            return
        ack_each(c, ids, acked, lock)


def reclaimer(port, stop, processed, acked, lock):
    c = redis.Redis(port=port, socket_timeout=10)
    while not stop.is_set():
        cursor = "0-0"
        while True:
            cursor, claimed, _deleted = c.xautoclaim(STREAM, GROUP, "rescuer", 300, cursor, count=100)[:3]
            ids = [i for i, _ in claimed]
            if ids:
                with lock:
                    processed.update(ids)
                ack_each(c, ids, acked, lock)
            if cursor in (b"0-0", "0-0"):
                break
        time.sleep(0.1)


@pytest.mark.soak
def test_group_soak_with_a_dead_consumer_taken_over_by_xautoclaim(server, r):
    r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    stop = threading.Event()
    processed, acked, produced = set(), set(), []
    lock = threading.Lock()
    workers = [threading.Thread(target=consumer, args=(server.port, "c%d" % i, stop, processed, acked, lock,
                                                     3 if i == 0 else None)) for i in range(4)]
    workers.append(threading.Thread(target=reclaimer, args=(server.port, stop, processed, acked, lock)))
    producers = [threading.Thread(target=producer, args=(server.port, k * TOTAL // 2, TOTAL // 2, produced))
                 for k in range(2)]
    for t in workers + producers:
        t.start()
    for t in producers:
        t.join(60)
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            if len(acked) == TOTAL:
                break
        time.sleep(0.1)
    stop.set()
    for t in workers:
        t.join(20)
    assert len(produced) == TOTAL
    produced_ids = set(produced)
    assert produced_ids <= processed, "never processed: %d" % len(produced_ids - processed)
    assert acked == produced_ids
    assert r.xpending(STREAM, GROUP)["pending"] == 0
    dead = [c for c in r.xinfo_consumers(STREAM, GROUP) if c["name"] == b"c0"][0]
    assert dead["pending"] == 0  # its batch was taken over
