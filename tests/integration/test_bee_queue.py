"""bee-queue (npm, pinned by frameworks/node/package-lock.json) end to end
on Runnel, through its public API only: save and saveAll with concurrent
processing and health counts, a delayed job, retries with a fixed backoff
reported to the producer through pub/sub, progress events, and a stalled
job recovered after its worker process is killed. The scenarios are
frameworks/node/bee_queue_scenarios.js; each gave the same output against
redis-server 7.0.15."""
import time

import pytest
from node_helpers import kill_worker_holding, run_scenario

SCENARIOS = "bee_queue_scenarios.js"


def scenario(port, name, timeout=60):
    return run_scenario(SCENARIOS, "bee-queue", port, name, timeout)


@pytest.fixture
def port(fresh_server):
    return fresh_server().port


def test_save_saveall_process_and_health(port):
    out = scenario(port, "jobs")
    assert out == {"firstId": "1", "saveErrors": 0, "waiting": 5, "results": [2, 4, 6, 8, 10],
                   "status": "succeeded",
                   "health": {"waiting": 0, "active": 0, "succeeded": 5, "failed": 0, "newestJob": 5}}


def test_delayed_job_runs_when_due(port):
    out = scenario(port, "delayed")
    assert out["delayed"] == 1
    assert 1500 <= out["waited"] < 5000


def test_retries_with_backoff_reach_the_producer(port):
    out = scenario(port, "retries")
    assert out["flaky"] == {"result": "third time", "retrying": ["not yet", "not yet"]}
    assert out["doomed"] == {"failed": "boom 2", "retrying": ["boom 1"]}
    assert out["doomedTries"] == 2
    assert min(out["gaps"]) >= 200


def test_progress_and_result_events(port):
    assert scenario(port, "events")["seen"] == [["progress", 50], ["succeeded", "fine"]]


def test_stalled_job_recovered_after_worker_killed(fresh_server):
    srv = fresh_server()
    job = scenario(srv.port, "stall_add")
    kill_worker_holding(SCENARIOS, "bee-queue", srv, job["id"])
    started = time.time()
    out = scenario(srv.port, "stall_recover")
    assert out == {"id": job["id"], "result": 42, "stalled": [job["id"]]}
    assert time.time() - started < 20
