"""Sidekiq (Debian's ruby-sidekiq 6.4) end to end on Runnel: jobs pushed
from Ruby are run by a Sidekiq process, scheduled jobs run once due (the
scheduler pops them with a Lua script through EVALSHA), a failing job is
retried through the retry set, and Sidekiq's API (what its Web UI shows and
does) reads and changes queues, schedules and the dead set as on Redis.
ruby-sidekiq is installed by scripts/install-deps; without it these tests
fail rather than skip."""
import json
import os
import shutil
import subprocess
import time

import pytest
from conftest import LoggedProcess

FRAMEWORKS = os.path.join(os.path.dirname(__file__), "frameworks")


def sidekiq_env(port):
    return dict(os.environ, SIDEKIQ_TEST_URL="redis://127.0.0.1:%d/0" % port)


def ruby(port, code):
    """Runs Ruby with the test jobs loaded; returns its stdout."""
    assert shutil.which("ruby"), "ruby is missing: run scripts/install-deps (ruby-sidekiq)"
    res = subprocess.run(["ruby", "-r", "./sidekiq_jobs.rb", "-e", code], cwd=FRAMEWORKS, env=sidekiq_env(port),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def start_sidekiq(port, log_path):
    """A `sidekiq` process with two threads on the test jobs."""
    assert shutil.which("sidekiq"), "sidekiq is missing: run scripts/install-deps (ruby-sidekiq)"
    cmd = ["sidekiq", "-r", "./sidekiq_jobs.rb", "-c", "2", "-t", "1"]
    return LoggedProcess(cmd, log_path, cwd=FRAMEWORKS, env=sidekiq_env(port))


@pytest.fixture
def sidekiq(fresh_server):
    """A clean server and a function that starts Sidekiq on it."""
    srv = fresh_server()
    processes = []

    def start():
        p = start_sidekiq(srv.port, os.path.join(srv.dir, "sidekiq%d.log" % len(processes)))
        processes.append(p)
        return p

    yield srv, start
    for p in processes:
        p.stop()


def wait_for_results(r, n, process, timeout=20):
    """The list "results" once it holds n entries (the jobs leave them there)."""
    deadline = time.time() + timeout
    while r.llen("results") < n and time.time() < deadline:
        assert process.proc.poll() is None, process.output()
        time.sleep(0.05)
    assert r.llen("results") == n, process.output()
    return sorted(x.decode() for x in r.lrange("results", 0, -1))


def test_pushed_jobs_run(sidekiq):
    srv, start = sidekiq
    r = srv.client()
    ruby(srv.port, "20.times { |i| AddJob.perform_async(i, i) }")
    assert r.llen("queue:default") == 20
    assert r.smembers("queues") == {b"default"}
    process = start()
    assert wait_for_results(r, 20, process) == sorted(str(2 * i) for i in range(20))
    deadline = time.time() + 10
    while not r.smembers("processes") and time.time() < deadline:
        time.sleep(0.05)
    [identity] = r.smembers("processes")  # its heartbeat
    info = json.loads(r.hget(identity, "info"))
    assert (info["concurrency"], info["queues"]) == (2, ["default"])
    assert r.llen("queue:default") == 0
    process.stop()
    assert int(r.get("stat:processed")) == 20  # flushed by the final heartbeat
    assert r.get("stat:failed") in (None, b"0")


def test_scheduled_job_runs_when_due(sidekiq):
    srv, start = sidekiq
    r = srv.client()
    ruby(srv.port, "AddJob.perform_in(1, 40, 2)")
    assert r.zcard("schedule") == 1
    assert r.llen("queue:default") == 0
    process = start()
    # the first poll comes 0-5 s after start-up, then about every second
    assert wait_for_results(r, 1, process, timeout=15) == ["42"]
    assert r.zcard("schedule") == 0
    assert r.info("commandstats")["cmdstat_evalsha"]["calls"] >= 1  # the poller's ZPOPBYSCORE script


def test_failing_job_is_retried(sidekiq):
    srv, start = sidekiq
    r = srv.client()
    ruby(srv.port, "FlakyJob.perform_async('flaky-attempts', 1)")
    process = start()
    deadline = time.time() + 15
    while r.zcard("retry") == 0 and time.time() < deadline:
        time.sleep(0.05)
    [payload] = r.zrange("retry", 0, -1)
    job = json.loads(payload)
    assert (job["class"], job["retry_count"], job["error_message"]) == ("FlakyJob", 0, "failure 1")
    r.zadd("retry", {payload: time.time()}, xx=True)  # due now: the poller moves it back to its queue
    assert wait_for_results(r, 1, process, timeout=15) == ["flaky:2"]
    assert r.get("flaky-attempts") == b"2"
    assert r.zcard("retry") == 0


def test_api_reads_and_changes_queues_and_sets(fresh_server):
    srv = fresh_server()
    out = subprocess.run(["ruby", "sidekiq_api.rb"], cwd=FRAMEWORKS, env=sidekiq_env(srv.port),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines())
    assert lines == {
        "stats": '[0, 0, 15, 2, 0, 0, 0, {"default"=>12, "other"=>3}]',
        "history": "3",
        "queues": '[["default", 12, false], ["other", 3, false]]',
        "queue jobs": "12",
        "latency positive": "true",
        "find_job": "[2, 2]",
        "delete": "true",
        "scheduled": "[[1, 3], [1, 2]]",
        "scheduled scan": "2",
        "scheduled find": "[1, 3]",
        "reschedule": "2",
        "add_to_queue": "1",
        "kill": "1",
        "retry dead": "0",
        "retries": "0",
        "clear": "[1, true]",
        "processes": "0",
        "workers": "0",
        "redis_info": "[true, true, true, true, true]",
        "reset": "0",
        "enqueued": "13",
    }
