"""Bull 4 (npm, pinned by frameworks/node/package-lock.json) end to end on
Runnel, through its public API only: jobs and addBulk with concurrent
processing, delayed jobs, priorities, retries with backoff, a rate limiter,
events across queue objects (pub/sub), a repeatable job, and a stalled job
recovered after its worker process is killed. The scenarios are
frameworks/node/bull_scenarios.js; each gave the same output against
redis-server 7.0.15."""
import time

import pytest
from node_helpers import kill_worker_holding, run_scenario

SCENARIOS = "bull_scenarios.js"


def scenario(port, name, timeout=60):
    return run_scenario(SCENARIOS, "bull", port, name, timeout)


@pytest.fixture
def port(fresh_server):
    return fresh_server().port


def test_add_addbulk_and_process(port):
    out = scenario(port, "jobs")
    assert out["ids"] == ["1", "2", "3", "4", "5"]
    assert out["waiting"] == 5
    assert out["results"] == [2, 4, 6, 8, 10]
    assert out["returnvalue"] == 2
    assert out["counts"] == {"waiting": 0, "active": 0, "completed": 5, "failed": 0, "delayed": 0, "paused": 0}


def test_delayed_job_runs_when_due(port):
    out = scenario(port, "delayed")
    assert out["state"] == "delayed"
    assert 1500 <= out["waited"] < 5000


def test_priorities(port):
    assert scenario(port, "priorities")["order"] == ["p1a", "p1b", "p2", "p3", "p5a", "p5b"]


def test_retries_with_backoff(port):
    out = scenario(port, "retries")
    flaky, doomed = out["flaky"], out["doomed"]
    # Bull counts failed attempts: two failures, then the third run succeeded
    assert (flaky["state"], flaky["attemptsMade"], flaky["returnvalue"]) == ("completed", 2, "third time")
    assert flaky["gaps"][0] >= 200 and flaky["gaps"][1] >= 600  # exponential: 200 ms, then 600 ms
    assert doomed == {"state": "failed", "attemptsMade": 2, "reason": "boom 2"}
    assert out["failedEvents"] == 4


def test_rate_limited_worker(port):
    out = scenario(port, "rate_limit")
    assert out["firstSecond"] <= 2
    assert out["elapsed"] >= 2000


def test_global_events(port):
    out = scenario(port, "events")
    assert out["seen"] == [["progress", out["jobId"], 50], ["completed", out["jobId"], "fine"]]


def test_repeatable_job(port):
    assert scenario(port, "repeat") == {"runs": 3, "repeatable": [300], "left": 0}


def test_stalled_job_recovered_after_worker_killed(fresh_server):
    srv = fresh_server()
    job = scenario(srv.port, "stall_add")
    kill_worker_holding(SCENARIOS, "bull", srv, job["id"])
    started = time.time()
    out = scenario(srv.port, "stall_recover")
    assert out == {"id": job["id"], "result": 42, "stalled": [job["id"]]}
    assert time.time() - started < 20
