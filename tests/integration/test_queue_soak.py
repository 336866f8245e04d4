"""Producer/consumer soak through runnel-bench: every message pushed by the
producers is popped exactly once by the BRPOP (or BLMOVE+LREM) consumers."""
import json
import os
import subprocess

import pytest

BENCH = os.path.join(os.environ.get("RUNNEL_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build")),
                     "runnel-bench")


def run_bench(port, *args):
    cmd = [BENCH, "-p", str(port), "--quiet", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240)


@pytest.mark.skipif(not os.path.exists(BENCH), reason="runnel-bench not built")
def test_bench_self_test():
    assert subprocess.run([BENCH, "--self-test"], capture_output=True, timeout=60).returncode == 0


@pytest.mark.soak
@pytest.mark.skipif(not os.path.exists(BENCH), reason="runnel-bench not built")
def test_four_producers_four_brpop_consumers_million_messages_exactly_once(server):
    res = run_bench(server.port, "--messages", "1000000", "--producers", "4", "--consumers", "4", "queue")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "lost" in res.stdout


@pytest.mark.skipif(not os.path.exists(BENCH), reason="runnel-bench not built")
def test_reliable_queue_blmove_lrem_exactly_once(server):
    res = run_bench(server.port, "--messages", "100000", "--reliable", "queue")
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.skipif(not os.path.exists(BENCH), reason="runnel-bench not built")
@pytest.mark.parametrize("workload", ["queue", "stream", "pubsub"])
def test_open_loop_sends_at_the_given_rate_exactly_once(server, workload):
    """--rate paces the senders by the clock (open loop): about rate x seconds
    messages, each delivered once, at the asked rate whatever the replies."""
    res = run_bench(server.port, "--seconds", "2", "--rate", "2000", "--json", "-", workload)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "open loop at 2000/s" in res.stdout
    doc = json.loads(res.stdout[res.stdout.index("{"):])
    metrics = doc["metrics"]
    sent = metrics.get("produced", metrics.get("added", metrics.get("published")))
    assert 3600 <= sent <= 4100, metrics
