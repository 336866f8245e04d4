#!/usr/bin/python3
"""bench/hash_field_expiry.py: bytes per hash field, with and without a deadline.

Loads the same fields into an empty server and divides the growth of INFO
used_memory by the number of fields (collection_memory.py's method):

  big          one hash of N fields            HSET h field:<i> value
  small        N/20 hashes of 20 fields each   HSET hs:<k> field:<j> value
  big-ttl      the same as big, then every field given a deadline an hour
  small-ttl    away (HPEXPIRE ... FIELDS 1 field:<i>), Runnel only: Redis 7.0
               has no field expiry

The servers alternate Runnel, Redis, Redis, Runnel; each side keeps its lowest
figure. Usage: bench/hash_field_expiry.py [--runnel PATH] [--redis PATH] [-n N]
"""

import argparse
import os

from collection_memory import measure, resp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def workload(name, n):
    """(commands, fields, a key whose encoding to report)."""
    ttl = name.endswith("-ttl")
    if name.startswith("big"):
        cmds = [resp("HSET", "h", "field:%d" % i, "value") for i in range(n)]
        if ttl:
            cmds += [resp("HPEXPIRE", "h", 3600000, "FIELDS", 1, "field:%d" % i) for i in range(n)]
        return cmds, n, "h"
    keys = n // 20
    cmds = [resp("HSET", "hs:%d" % k, "field:%d" % j, "value") for k in range(keys) for j in range(20)]
    if ttl:
        cmds += [resp("HPEXPIRE", "hs:%d" % k, 3600000, "FIELDS", 1, "field:%d" % j)
                 for k in range(keys) for j in range(20)]
    return cmds, keys * 20, "hs:0"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runnel", default=os.path.join(ROOT, "build", "runnel-server"))
    p.add_argument("--redis", default="/usr/bin/redis-server")
    p.add_argument("-n", type=int, default=200000)
    args = p.parse_args()
    plain = ["big", "small"]
    every = plain + ["big-ttl", "small-ttl"]
    best = {}
    for name, path in (("runnel", args.runnel), ("redis", args.redis), ("redis", args.redis), ("runnel", args.runnel)):
        for w, (per, enc) in measure(name, path, every if name == "runnel" else plain, args.n, workload).items():
            print("%-7s %-10s %7.1f B/field (%s)" % (name, w, per, enc), flush=True)
            if (name, w) not in best or per < best[(name, w)][0]:
                best[(name, w)] = (per, enc)
    print()
    print("| hashes | Runnel, no deadlines | Runnel, every field expiring | Redis 7.0.15, no deadlines |")
    print("|---|---:|---:|---:|")
    for w in plain:
        a, t, b = best[("runnel", w)], best[("runnel", w + "-ttl")], best[("redis", w)]
        print("| %s | %.1f B (%s) | %.1f B (%s) | %.1f B (%s) |" % (w, a[0], a[1], t[0], t[1], b[0], b[1]))


if __name__ == "__main__":
    main()
