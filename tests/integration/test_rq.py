"""RQ end to end on Runnel: jobs enqueued from Python are run by `rq worker
--burst`, results and statuses are right, failures land in the failed job
registry, and jobs scheduled with enqueue_in run once due."""
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest

rq = pytest.importorskip("rq")
FRAMEWORKS = os.path.join(os.path.dirname(__file__), "frameworks")
sys.path.insert(0, FRAMEWORKS)
import rq_jobs  # noqa: E402


def run_worker(port, *extra):
    env = dict(os.environ, PYTHONPATH=FRAMEWORKS)
    cmd = ["/usr/bin/python3", "-m", "rq.cli", "worker", "--burst", "--url", "redis://127.0.0.1:%d" % port, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, cwd=FRAMEWORKS)


@pytest.fixture
def rq_server(fresh_server):
    srv = fresh_server()
    return srv, srv.client()


def test_jobs_run_and_results_come_back(rq_server):
    srv, r = rq_server
    q = rq.Queue(connection=r)
    jobs = [q.enqueue(rq_jobs.add, i, i) for i in range(20)]
    assert all(j.get_status() == "queued" for j in jobs)
    res = run_worker(srv.port)
    assert res.returncode == 0, res.stdout + res.stderr
    for i, j in enumerate(jobs):
        j.refresh()
        assert j.get_status() == "finished"
        assert j.result == 2 * i
    assert q.count == 0
    assert rq.registry.FinishedJobRegistry(queue=q).count == 20


def test_failed_job_lands_in_failed_registry(rq_server):
    srv, r = rq_server
    q = rq.Queue(connection=r)
    job = q.enqueue(rq_jobs.boom)
    res = run_worker(srv.port)
    assert res.returncode == 0, res.stdout + res.stderr
    job.refresh()
    assert job.get_status() == "failed"
    assert "ValueError: boom" in job.exc_info
    assert q.failed_job_registry.get_job_ids() == [job.id]


def test_enqueue_in_runs_when_due(rq_server):
    srv, r = rq_server
    q = rq.Queue(connection=r)
    job = q.enqueue_in(timedelta(seconds=1), rq_jobs.add, 10, 20)
    assert job.get_status() == "scheduled"
    assert rq.registry.ScheduledJobRegistry(queue=q).count == 1
    time.sleep(1.2)
    res = run_worker(srv.port, "--with-scheduler")
    assert res.returncode == 0, res.stdout + res.stderr
    job.refresh()
    assert job.get_status() == "finished"
    assert job.result == 30
