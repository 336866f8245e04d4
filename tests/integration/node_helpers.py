"""Running the Node.js scenario files of frameworks/node (BullMQ, Bull,
bee-queue) from the tests: `node <file> <scenario> <port>` prints one JSON
line. scripts/install-deps installs the packages (npm ci, pinned by
package-lock.json); without them the tests fail rather than skip."""
import json
import os
import shutil
import signal
import subprocess
import time

from conftest import LoggedProcess

NODE_DIR = os.path.join(os.path.dirname(__file__), "frameworks", "node")


def require_package(package):
    assert shutil.which("node"), "node is missing: run scripts/install-deps"
    assert os.path.isdir(os.path.join(NODE_DIR, "node_modules", package)), (
        "%s is missing: run scripts/install-deps (npm ci in %s)" % (package, NODE_DIR))


def run_scenario(script, package, port, name, timeout=60):
    """Runs one scenario to its end; returns the JSON it printed last."""
    require_package(package)
    res = subprocess.run(["node", script, name, str(port)], cwd=NODE_DIR, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def start_scenario(script, package, port, name, log_path):
    """Starts a scenario that does not end by itself (a worker to kill)."""
    require_package(package)
    return LoggedProcess(["node", script, name, str(port)], log_path, cwd=NODE_DIR)


def kill_worker_holding(script, package, srv, job_id, timeout=30):
    """Runs the scenario "stall_hang" (a worker that takes a job and never
    finishes it), waits until it holds job_id, and SIGKILLs it: the job is
    left active with its lock, as after a crash."""
    hang = start_scenario(script, package, srv.port, "stall_hang", os.path.join(srv.dir, "hang.log"))
    try:
        deadline = time.time() + timeout
        while '"active"' not in hang.output():
            assert hang.proc.poll() is None and time.time() < deadline, hang.output()
            time.sleep(0.05)
        assert json.loads(hang.output().strip().splitlines()[-1]) == {"active": job_id}
        hang.proc.send_signal(signal.SIGKILL)
        hang.proc.wait()
    finally:
        hang.stop()
