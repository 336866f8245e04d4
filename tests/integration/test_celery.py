"""Celery end to end on Runnel, as broker and result backend: a task's
result comes back, countdowns wait, retried tasks finish, and an acks_late
task whose worker dies mid-task is delivered again to a new worker once the
visibility timeout passes. kombu guards that redelivery with redis-py's
Lock, which runs Lua scripts (EVALSHA)."""
import gc
import os
import signal
import sys
import time

import pytest

celery = pytest.importorskip("celery")
FRAMEWORKS = os.path.join(os.path.dirname(__file__), "frameworks")
sys.path.insert(0, FRAMEWORKS)
import celery_app  # noqa: E402
from conftest import LoggedProcess  # noqa: E402


class Worker(LoggedProcess):
    """A `celery worker -P solo` process on the given broker URL."""

    def __init__(self, url, log_path):
        env = dict(os.environ, PYTHONPATH=FRAMEWORKS, CELERY_TEST_URL=url)
        cmd = ["/usr/bin/python3", "-m", "celery", "-A", "celery_app", "worker", "-P", "solo",
               "--concurrency=1", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        super().__init__(cmd, log_path, env=env, cwd=FRAMEWORKS)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("worker exited: " + self.output())
            if "ready." in self.output():
                return
            time.sleep(0.1)
        raise RuntimeError("worker did not start: " + self.output())

    def wait_for(self, text, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.output():
                return True
            time.sleep(0.1)
        return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def celery_env(fresh_server):
    """A clean server, an app on it, and a function that starts workers."""
    srv = fresh_server()
    url = "redis://127.0.0.1:%d/0" % srv.port
    app = celery_app.make_app(url)
    workers = []

    def start_worker():
        w = Worker(url, os.path.join(srv.dir, "worker%d.log" % len(workers)))
        workers.append(w)
        return w

    yield srv, app, start_worker
    gc.collect()  # results unsubscribe when collected: while the server still runs
    for w in workers:
        w.stop()
    app.close()


def test_result_comes_back(celery_env):
    srv, app, start_worker = celery_env
    start_worker()
    add = app.tasks["celery_app.add"]
    assert add.delay(2, 3).get(timeout=10) == 5
    results = [add.delay(i, i) for i in range(10)]
    assert [r.get(timeout=10) for r in results] == [2 * i for i in range(10)]


def test_countdown_waits(celery_env):
    srv, app, start_worker = celery_env
    start_worker()
    add = app.tasks["celery_app.add"]
    start = time.time()
    result = add.apply_async((20, 22), countdown=2)
    assert result.get(timeout=15) == 42
    assert time.time() - start >= 1.9


def test_retried_task_finishes(celery_env):
    srv, app, start_worker = celery_env
    start_worker()
    flaky = app.tasks["celery_app.flaky"]
    assert flaky.delay("flaky-attempts", 2).get(timeout=20) == 3
    assert srv.client().get("flaky-attempts") == b"3"


def test_unacked_task_is_redelivered_after_visibility_timeout(celery_env):
    srv, app, start_worker = celery_env
    first = start_worker()
    stall_once = app.tasks["celery_app.stall_once"]
    result = stall_once.delay("stall-runs")
    r = srv.client()
    deadline = time.time() + 15
    while r.get("stall-runs") != b"1" and time.time() < deadline:
        time.sleep(0.05)
    assert r.get("stall-runs") == b"1", first.output()
    first.kill()  # dies mid-task: the message stays unacknowledged
    assert r.hlen("unacked") == 1
    # kombu restores unacked messages older than the visibility timeout when
    # a worker starts polling (and then only every 100 s), holding its
    # unacked_mutex Lock (redis-py's Lock: SET NX, then EVALSHA to release)
    [(_, delivered_at)] = r.zrange("unacked_index", 0, -1, withscores=True)
    time.sleep(max(0.0, delivered_at + celery_app.VISIBILITY_TIMEOUT + 0.5 - time.time()))
    second = start_worker()
    assert result.get(timeout=30) == "done after 2 runs", second.output()
    assert r.hlen("unacked") == 0
    assert r.get("unacked_mutex") is None  # released by its Lua script
