#!/usr/bin/python3
"""bench/tls.py: redis-benchmark over TLS against Runnel and redis-server with
the same certificates, and the plaintext check of two Runnel builds.

  bench/tls.py [--runnel PATH] [--redis PATH] [-n N1 N32]
      Both servers get the same CA, server certificate and key (made here with
      the openssl command line) and tls-auth-clients yes; redis-benchmark
      --tls --cacert --cert --key runs SET, GET, LPUSH, XADD and PUBLISH with
      -P 1 and -P 32, 50 clients, alternating Runnel, Redis, Redis, Runnel and
      keeping each side's best. Also the servers' CPU time per request
      (utime + stime from /proc/<pid>/stat around each run).

  bench/tls.py --plain --before PATH [--runnel PATH]
      The same rows over plain TCP, for a Runnel build before a change (A)
      against one after it (B): the plaintext path must not get slower.

Prints a Markdown table (for docs/benchmarks.md). Standard library only.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ORDER, Server, cpu_seconds, free_port, log  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = {
    "SET": ["-t", "set"],
    "GET": ["-t", "get"],
    "LPUSH": ["-t", "lpush"],
    "XADD": ["XADD", "bench:stream", "*", "f", "v"],
    "PUBLISH": ["PUBLISH", "bench:channel", "hello"],
}


def make_certs(d):
    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
         "-subj", "/CN=bench-ca")
    for name in ("server", "client"):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + name)
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", name + ".crt", "-days", "30")
    return lambda f: os.path.join(d, f)


class TlsServer(Server):
    """A Server with tls-port beside its plain port (which start() pings)."""

    def __init__(self, side, path, workdir, certs):
        super().__init__(side, path, "off", workdir)
        self.certs = certs
        self.tls_port = None

    def argv(self):
        c = self.certs
        return super().argv() + ["--tls-port", str(self.tls_port), "--tls-cert-file", c("server.crt"),
                                 "--tls-key-file", c("server.key"), "--tls-ca-cert-file", c("ca.crt")]

    def start(self):
        self.tls_port = free_port()
        return super().start()


def bench_once(server, row, pipeline, n, tls):
    port = server.tls_port if tls else server.port
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-n", str(n), "-P", str(pipeline),
           "-q"] + ROWS[row]
    if tls:
        c = server.certs
        cmd[1:1] = ["--tls", "--cacert", c("ca.crt"), "--cert", c("client.crt"), "--key", c("client.key")]
    before = cpu_seconds(server.proc.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    after = cpu_seconds(server.proc.pid)
    m = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    if not m:
        raise RuntimeError(f"{server.side} {row}: no result in {out[-300:]!r}")
    return float(m[-1]), (after - before) * 1e6 / n


def run(servers, names, counts, tls):
    """servers: {name: Server}; returns rows of (row, P, {name: (best rps, best cpu us/req)})."""
    results = []
    for pipeline, n in ((1, counts[0]), (32, counts[1])):
        for row in ROWS:
            best = {}
            for side in ORDER:
                name = names[0] if side == "runnel" else names[1]
                s = servers[name]
                s.ensure()
                rps, cpu = bench_once(s, row, pipeline, n, tls)
                log(f"  {row} -P {pipeline} {name}: {rps:,.0f} req/s, {cpu:.2f} us CPU/req")
                r0, c0 = best.get(name, (0, float("inf")))
                best[name] = (max(r0, rps), min(c0, cpu))
            results.append((row, pipeline, best))
    return results


def table(results, names):
    a, b = names
    lines = [f"| command | -P | {a} req/s | {b} req/s | {a}/{b} | {a} CPU µs/req | {b} CPU µs/req | CPU {a}/{b} |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row, p, best in results:
        ra, ca = best[a]
        rb, cb = best[b]
        lines.append(f"| {row} | {p} | {ra:,.0f} | {rb:,.0f} | {ra / rb:.2f} | {ca:.2f} | {cb:.2f} | {ca / cb:.2f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runnel", default=os.path.join(ROOT, "build", "runnel-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--plain", action="store_true", help="plain TCP: --before build against --runnel")
    ap.add_argument("--before", help="the Runnel build before the change (with --plain)")
    ap.add_argument("-n", nargs=2, type=int, default=[100000, 1000000], metavar=("N1", "N32"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="runnel-bench-tls-")
    certs = make_certs(work)
    if args.plain:
        if not args.before:
            ap.error("--plain needs --before PATH")
        names = ("after", "before")
        servers = {"after": Server("runnel", args.runnel, "off", work),
                   "before": Server("runnel-before", args.before, "off", work)}
    else:
        names = ("runnel", "redis")
        servers = {"runnel": TlsServer("runnel", args.runnel, work, certs),
                   "redis": TlsServer("redis", args.redis, work, certs)}
    try:
        for s in servers.values():
            if not s.start():
                sys.exit(f"{s.side}: {s.error}")
        results = run(servers, names, args.n, tls=not args.plain)
    finally:
        for s in servers.values():
            s.stop()
    print(table(results, names))


if __name__ == "__main__":
    main()
