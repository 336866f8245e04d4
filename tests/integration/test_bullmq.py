"""BullMQ (npm, pinned by frameworks/node/package-lock.json) end to end on
Runnel, through its public API only: jobs and addBulk, delayed jobs,
priorities, retries with backoff, a flow with children, a rate-limited
worker, QueueEvents, a job scheduler, and a stalled job recovered after its
worker process is killed. The scenarios are frameworks/node/
bullmq_scenarios.js; scripts/install-deps installs the packages (npm ci),
and without them these tests fail rather than skip."""
import time

import pytest
from node_helpers import kill_worker_holding, run_scenario

SCENARIOS = "bullmq_scenarios.js"


def scenario(port, name, timeout=60):
    return run_scenario(SCENARIOS, "bullmq", port, name, timeout)


@pytest.fixture
def port(fresh_server):
    return fresh_server().port


def test_add_addbulk_and_process(port):
    out = scenario(port, "jobs")
    assert out["ids"] == ["1", "2", "3", "4", "5"]
    assert out["waiting"] == 5
    assert out["results"] == [2, 4, 6, 8, 10]
    assert out["returnvalue"] == 2
    assert out["counts"] == {"completed": 5, "waiting": 0, "active": 0, "failed": 0}


def test_delayed_job_runs_when_due(port):
    out = scenario(port, "delayed")
    assert out["state"] == "delayed"
    assert 1500 <= out["waited"] < 5000


def test_priorities(port):
    out = scenario(port, "priorities")
    assert out["prioritized"] == 6
    assert out["order"] == ["p1a", "p1b", "p2", "p3", "p5a", "p5b"]


def test_retries_with_backoff(port):
    out = scenario(port, "retries")
    flaky, doomed = out["flaky"], out["doomed"]
    assert (flaky["state"], flaky["attemptsMade"], flaky["returnvalue"]) == ("completed", 3, "third time")
    assert flaky["gaps"][0] >= 200 and flaky["gaps"][1] >= 400  # exponential: 200 ms, then 400 ms
    assert doomed == {"state": "failed", "attemptsMade": 2, "reason": "boom 1"}
    assert out["failedEvents"] == 1  # QueueEvents reports the final failure


def test_flow_parent_runs_after_children(port):
    out = scenario(port, "flow")
    assert out["parentState"] == "waiting-children"
    assert out["children"] == 3
    assert out["order"] == ["part", "part", "part", "parent"]
    assert out["total"] == 60


def test_rate_limited_worker(port):
    out = scenario(port, "rate_limit")
    assert out["firstSecond"] <= 2
    assert out["elapsed"] >= 2000


def test_queue_events(port):
    out = scenario(port, "events")
    assert out["finished"] == "fine"
    assert out["seen"] == [["added", out["jobId"], None], ["waiting", out["jobId"], None],
                           ["active", out["jobId"], None], ["progress", out["jobId"], 50],
                           ["completed", out["jobId"], "fine"]]


def test_job_scheduler_repeats(port):
    out = scenario(port, "repeat")
    assert out["runs"] == 3
    assert out["schedulers"] == ["every-300"]


def test_stalled_job_recovered_after_worker_killed(fresh_server):
    srv = fresh_server()
    job = scenario(srv.port, "stall_add")
    kill_worker_holding(SCENARIOS, "bullmq", srv, job["id"])
    started = time.time()
    out = scenario(srv.port, "stall_recover")
    assert out["id"] == job["id"]
    assert out["result"] == 42
    assert job["id"] in out["stalled"]
    assert out["stalledCounter"] == 1 and out["attemptsStarted"] == 2
    assert time.time() - started < 20
