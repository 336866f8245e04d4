"""Producer/consumer soak through runnel-bench: every message pushed by the
producers is popped exactly once by the BRPOP (or BLMOVE+LREM) consumers."""
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
