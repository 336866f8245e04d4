#!/usr/bin/python3
"""Job queue frameworks on Runnel and on redis-server, side by side.

For each framework (RQ, Celery, Sidekiq) and each server, in the order Runnel,
Redis, Redis, Runnel (twice by default), on a freshly started server: enqueue
N trivial jobs one by one from one client (timed), then start a worker and
wait until every job has run (timed). Reports jobs per second for both phases, each server's best,
their ratio, and the server's CPU time (utime + stime) per job in each phase.

The processing rate is taken from the frameworks' own completion timestamps
(RQ's ended_at, Celery's date_done, Sidekiq's "done" log lines):
(N - 1) / (last completion - first completion), so the worker's start-up,
which does not depend on the server, is left out. The CPU per job covers the
whole phase, start-up included.

Workers: RQ `rq worker --burst` with SimpleWorker (no fork per job); Celery
`celery worker -P solo`; Sidekiq `sidekiq -c 10` (its default concurrency).
The job modules are the integration tests' (tests/integration/frameworks).

Usage: bench/frameworks.py [--jobs N] [--only rq,celery,sidekiq] [--rounds R]
                           [--mix] [--runnel PATH] [--redis PATH]
--rounds R (default 2) runs the servers Runnel, Redis, Redis, Runnel R times
and keeps each one's best: the machine is shared and single runs swing.
--mix prints INFO commandstats of each server's last run: calls per job and
microseconds per call for the commands that took most of the server's time.
Run with /usr/bin/python3 (Debian's redis-py, rq and celery)."""
import argparse
import datetime
import gc
import os
import subprocess
import sys
import tempfile
import time

import redis

from servers import ORDER, Server, cpu_seconds, log, add_server_paths

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = os.path.join(ROOT, "tests", "integration", "frameworks")
sys.path.insert(0, FRAMEWORKS)
PYTHON = "/usr/bin/python3"
DEFAULT_JOBS = {"rq": 2000, "celery": 3000, "sidekiq": 10000, "bullmq": 50000, "bull": 50000, "bee": 50000}
PHASE_TIMEOUT = 120


class Phase:
    """Wall time and server CPU time of one phase of a run."""

    def __init__(self, server):
        self.pid = server.proc.pid
        self.wall = self.cpu = None

    def __enter__(self):
        self.cpu0 = cpu_seconds(self.pid)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        self.cpu = cpu_seconds(self.pid) - self.cpu0


def spread_rate(n, stamps):
    """Jobs per second between the first and the last completion."""
    span = max(stamps) - min(stamps)
    if len(stamps) != n or span <= 0:
        raise RuntimeError(f"{len(stamps)} completions of {n} jobs over {span:.3f} s")
    return (n - 1) / span


def iso_seconds(text):
    return datetime.datetime.fromisoformat(text.rstrip("Z")).timestamp()


def wait_until(done, what, proc=None):
    deadline = time.monotonic() + PHASE_TIMEOUT
    while not done():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the worker exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done after {PHASE_TIMEOUT} s")
        time.sleep(0.05)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- frameworks


def run_rq(server, n, workdir):
    import rq
    import rq_jobs

    conn = redis.Redis(port=server.port)
    queue = rq.Queue(connection=conn)
    with Phase(server) as enqueue:
        jobs = [queue.enqueue(rq_jobs.add, i, 1) for i in range(n)]
    argv = [PYTHON, "-m", "rq.cli", "worker", "--burst", "--quiet", "--url", f"redis://127.0.0.1:{server.port}",
            "--worker-class", "rq.worker.SimpleWorker"]
    with Phase(server) as process:
        subprocess.run(argv, cwd=FRAMEWORKS, env=dict(os.environ, PYTHONPATH=FRAMEWORKS), check=True,
                       timeout=PHASE_TIMEOUT, stdout=subprocess.DEVNULL)
    if rq.registry.FinishedJobRegistry(queue=queue).count != n:
        raise RuntimeError("rq: not every job finished")
    pipe = conn.pipeline(transaction=False)
    for job in jobs:
        pipe.hget(job.key, "ended_at")
    stamps = [iso_seconds(v.decode()) for v in pipe.execute()]
    return enqueue, process, spread_rate(n, stamps)


def run_celery(server, n, workdir):
    import celery_app

    url = f"redis://127.0.0.1:{server.port}/0"
    app = celery_app.make_app(url)
    add = app.tasks["celery_app.add"]
    with Phase(server) as enqueue:
        results = [add.delay(i, 1) for i in range(n)]
    argv = [PYTHON, "-m", "celery", "-A", "celery_app", "worker", "-P", "solo", "--concurrency=1", "-l", "warning",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with open(os.path.join(workdir, "celery-worker.log"), "w") as logf, Phase(server) as process:
        worker = subprocess.Popen(argv, cwd=FRAMEWORKS, env=dict(os.environ, PYTHONPATH=FRAMEWORKS,
                                  CELERY_TEST_URL=url), stdout=logf, stderr=subprocess.STDOUT)
        try:
            values = [r.get(timeout=PHASE_TIMEOUT) for r in results]
        finally:
            stop(worker)
    if values != [i + 1 for i in range(n)]:
        raise RuntimeError("celery: wrong results")
    conn = redis.Redis(port=server.port)
    metas = conn.mget([app.backend.get_key_for_task(r.id) for r in results])
    stamps = [iso_seconds(app.backend.decode_result(m)["date_done"]) for m in metas]
    # results unsubscribe when collected: now, while their server still runs
    # (later, against a stopped server, each would retry for seconds)
    del results
    gc.collect()
    app.close()
    return enqueue, process, spread_rate(n, stamps)


def run_sidekiq(server, n, workdir):
    env = dict(os.environ, SIDEKIQ_TEST_URL=f"redis://127.0.0.1:{server.port}/0")
    with Phase(server) as enqueue:
        pushed = subprocess.run(["ruby", "sidekiq_push.rb", str(n)], cwd=FRAMEWORKS, env=env, check=True,
                                timeout=PHASE_TIMEOUT, capture_output=True, text=True)
    enqueue.wall = float(pushed.stdout)  # the pushes alone, without Ruby's start-up
    log_path = os.path.join(workdir, "sidekiq.log")
    argv = ["sidekiq", "-r", "./sidekiq_jobs.rb", "-c", "10", "-t", "1"]

    def done_lines():
        with open(log_path, errors="replace") as f:
            return [line for line in f if line.endswith("INFO: done\n")]

    with open(log_path, "w") as logf, Phase(server) as process:
        worker = subprocess.Popen(argv, cwd=FRAMEWORKS, env=env, stdout=logf, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: len(done_lines()) >= n, "sidekiq", worker)
        finally:
            stop(worker)
    stamps = [iso_seconds(line.split(" ", 1)[0]) for line in done_lines()]
    return enqueue, process, spread_rate(n, stamps)


NODE_DIR = os.path.join(FRAMEWORKS, "node")


def run_node(script_args, server, n):
    """A Node queue library: adds n jobs one by one (timed inside Node,
    without its start-up), then processes them with 32 jobs in flight; the
    rate comes from the first and last completion."""
    import json

    def phase(name):
        out = subprocess.run(["node", *script_args, name, str(server.port), str(n)], cwd=NODE_DIR, check=True,
                             timeout=PHASE_TIMEOUT, capture_output=True, text=True)
        return json.loads(out.stdout)

    with Phase(server) as enqueue:
        enqueue.wall = phase("enqueue")["seconds"]
    with Phase(server) as process:
        stamps = phase("work")
    return enqueue, process, (n - 1) / max((stamps["last"] - stamps["first"]) / 1000, 1e-3)


def run_bullmq(server, n, workdir):
    return run_node(["bullmq_bench.js"], server, n)  # 4 workers x concurrency 8


def run_bull(server, n, workdir):
    return run_node(["bull_bench.js", "bull"], server, n)


def run_bee(server, n, workdir):
    return run_node(["bull_bench.js", "bee"], server, n)


RUNNERS = {"rq": run_rq, "celery": run_celery, "sidekiq": run_sidekiq, "bullmq": run_bullmq, "bull": run_bull,
           "bee": run_bee}
NAMES = {"rq": "RQ", "celery": "Celery", "sidekiq": "Sidekiq", "bullmq": "BullMQ", "bull": "Bull",
         "bee": "bee-queue"}


# ---------------------------------------------------------------- running


def command_mix(port, n, top=8):
    """The commands that took most of the server's time: (name, calls/job, usec/call)."""
    stats = redis.Redis(port=port).info("commandstats")
    rows = [(name[len("cmdstat_"):], v["calls"] / n, v["usec_per_call"], v["usec"]) for name, v in stats.items()]
    rows.sort(key=lambda r: -r[3])
    return rows[:top]


def one_run(framework, side, path, n, workdir):
    """One fresh server, one run: a dict of rates and CPU per job, or raises."""
    server = Server(side, path, "off", workdir)
    if not server.start():
        raise RuntimeError(f"{side}: {server.error}")
    try:
        enqueue, process, rate = RUNNERS[framework](server, n, server.dir)
        return {"enqueue": n / enqueue.wall, "process": rate, "enqueue_cpu": enqueue.cpu / n * 1e6,
                "process_cpu": process.cpu / n * 1e6, "mix": command_mix(server.port, n)}
    finally:
        server.stop()


def measure(framework, n, paths, workdir, rounds):
    runs = {side: [] for side in paths}
    for side in ORDER * rounds:
        try:
            r = one_run(framework, side, paths[side], n, workdir)
        except Exception as e:  # a failed run is reported and the others go on
            log(f"  {side:<7} n/a: {e}")
            continue
        runs[side].append(r)
        log(f"  {side:<7} enqueue {r['enqueue']:8,.0f} jobs/s ({r['enqueue_cpu']:.1f} us CPU/job)   "
            f"process {r['process']:8,.0f} jobs/s ({r['process_cpu']:.1f} us CPU/job)")
    return runs


def best(runs, key, better):
    values = [r[key] for r in runs]
    return better(values) if values else None


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def table(results):
    lines = ["| framework, phase | jobs | Runnel jobs/s | Redis jobs/s | Runnel/Redis | Runnel CPU us/job "
             "| Redis CPU us/job | CPU Runnel/Redis |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for framework, (n, runs) in results.items():
        for phase in ("enqueue", "process"):
            a, b = best(runs["runnel"], phase, max), best(runs["redis"], phase, max)
            ca, cb = best(runs["runnel"], phase + "_cpu", min), best(runs["redis"], phase + "_cpu", min)
            lines.append(f"| {NAMES[framework]} {phase} | {n:,} | {fmt(a)} | {fmt(b)} | {ratio(a, b)} | "
                         f"{fmt(ca, 1)} | {fmt(cb, 1)} | {ratio(ca, cb)} |")
    return "\n".join(lines)


def mix_table(results):
    out = []
    for framework, (n, runs) in results.items():
        for side in ("runnel", "redis"):
            if not runs[side]:
                continue
            cells = ", ".join(f"{name} {calls:.2f}x {usec:.1f}us" for name, calls, usec, _ in runs[side][-1]["mix"])
            out.append(f"{NAMES[framework]} on {side}: {cells}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="RQ, Celery and Sidekiq on Runnel and redis-server.")
    ap.add_argument("--jobs", type=int, help="jobs per run (default: rq 2000, celery 3000, sidekiq 10000)")
    ap.add_argument("--only", default="rq,celery,sidekiq,bullmq,bull,bee", help="comma-separated frameworks")
    ap.add_argument("--rounds", type=int, default=2, help="times to run Runnel, Redis, Redis, Runnel")
    ap.add_argument("--mix", action="store_true", help="print each server's command mix")
    add_server_paths(ap)
    args = ap.parse_args()
    paths = {"runnel": os.path.abspath(args.runnel), "redis": args.redis}
    results = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="runnel-frameworks-") as workdir:
        for framework in args.only.split(","):
            n = args.jobs or DEFAULT_JOBS[framework]
            log(f"{NAMES[framework]}: {n} jobs")
            results[framework] = (n, measure(framework, n, paths, workdir, args.rounds))
    print(table(results))
    print(f"\nBest of {2 * args.rounds} runs each (order Runnel, Redis, Redis, Runnel, "
          f"{args.rounds} time(s)), {time.monotonic() - started:.0f} s. "
          "CPU us/job: server utime+stime per job, lower is better.")
    if args.mix:
        print("\nCommand mix of the last run (calls per job, usec per call), by server time:")
        print(mix_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
