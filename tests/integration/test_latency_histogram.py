"""LATENCY HISTOGRAM: per-command latency histograms at Redis's points,
cumulative, in Redis 7's RESP2 and RESP3 shapes."""
import pytest

# The points redis-server 7.0.15 reports (its HDR histogram read at 2^10 ...
# 2^30 ns, each as its sub-bucket's highest value, in µs). Recorded from
# `LATENCY HISTOGRAM debug` after DEBUG SLEEPs of 0 to 0.6 s on
# redis-server 7.0.15, which printed 8, 132, 264, 2113, 4227, 16908, 33816,
# 135266, 541065 and 1073741 among them; the rest follow the same formula,
# floor((2^(10+k) + 2^(3+k) - 1) / 1000).
REDIS_POINTS = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816,
                67633, 135266, 270532, 541065, 1073741]


def pairs(flat):
    """A RESP2 flat [k, v, k, v...] list as a dict (keys decoded)."""
    it = iter(flat)
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in zip(it, it)}


def reset(conn):
    assert conn.call("CONFIG", "RESETSTAT") == "OK"


def test_resp2_shape(raw):
    reset(raw)
    for _ in range(5):
        raw.call("SET", "k", "v")
    reply = raw.call("LATENCY", "HISTOGRAM", "set")
    assert len(reply) == 2 and reply[0] == b"set"
    body = pairs(reply[1])
    assert body["calls"] == 5
    hist = body["histogram_usec"]
    buckets, counts = hist[0::2], hist[1::2]
    # Redis's points, ascending; counts cumulative, last = calls
    assert all(b in REDIS_POINTS for b in buckets)
    assert buckets == sorted(buckets) and counts == sorted(counts)
    assert counts[-1] == 5
    # empty buckets are left out: every listed bucket added calls
    assert len(set(counts)) == len(counts)


def test_resp3_shape(raw3):
    reset(raw3)
    raw3.call("SET", "k", "v")
    raw3.call("GET", "k")
    reply = raw3.call("LATENCY", "HISTOGRAM", "set", "get")
    assert set(reply) == {"set", "get"}
    for name in ("set", "get"):
        assert reply[name]["calls"] == 1
        hist = reply[name]["histogram_usec"]
        assert isinstance(hist, dict) and list(hist.values()) == [1]


def test_all_commands_and_only_called_ones(raw3):
    reset(raw3)
    raw3.call("LPUSH", "l", "a")
    reply = raw3.call("LATENCY", "HISTOGRAM")
    # CONFIG RESETSTAT ran after the reset, so it shows too
    assert "lpush" in reply and "config|resetstat" in reply
    assert "rpush" not in reply and "get" not in reply
    assert all(v["calls"] >= 1 for v in reply.values())


def test_unknown_and_uncalled_commands_give_empty(raw, raw3):
    reset(raw)
    assert raw.call("LATENCY", "HISTOGRAM", "nosuchcommand") == []
    assert raw.call("LATENCY", "HISTOGRAM", "rpush") == []
    assert raw3.call("LATENCY", "HISTOGRAM", "nosuchcommand", "xadd") == {}


def test_subcommands_by_full_name_and_by_parent(raw3):
    reset(raw3)
    raw3.call("CONFIG", "GET", "maxmemory")
    raw3.call("CONFIG", "GET", "hz")
    assert raw3.call("LATENCY", "HISTOGRAM", "CONFIG|GET")["config|get"]["calls"] == 2
    # a parent stands for its subcommands that have calls
    by_parent = raw3.call("LATENCY", "HISTOGRAM", "config")
    assert by_parent["config|get"]["calls"] == 2 and "config|set" not in by_parent
    assert raw3.call("LATENCY", "HISTOGRAM", "config|nosuch") == {}


def test_repeated_names_repeat_in_resp2(raw):
    reset(raw)
    raw.call("SET", "k", "v")
    reply = raw.call("LATENCY", "HISTOGRAM", "set", "SET")
    assert reply[0] == b"set" and reply[2] == b"set" and len(reply) == 4


def test_slow_command_lands_in_a_high_bucket(raw):
    reset(raw)
    raw.call("DEBUG", "SLEEP", "0.05")
    hist = pairs(raw.call("LATENCY", "HISTOGRAM", "debug")[1])["histogram_usec"]
    # 50 ms is above Redis's point 33816 and at most 67633 (scheduling may add a little)
    assert hist == [67633, 1]


def test_points_are_redis_points(raw, raw3):
    """Calls of about 20 ms, 100 ms and 0.6 s land at Redis's points 33816
    (16909..33816 µs), 135266 (67634..135266) and 1073741 (above 541065),
    where power-of-two buckets would say 32768, 131072 and 1048576."""
    reset(raw)
    for seconds in ("0.02", "0.1", "0.6"):
        raw.call("DEBUG", "SLEEP", seconds)
    assert raw.call("LATENCY", "HISTOGRAM", "debug") == [
        b"debug", [b"calls", 3, b"histogram_usec", [33816, 1, 135266, 2, 1073741, 3]]]
    assert raw3.call("LATENCY", "HISTOGRAM", "debug") == {
        "debug": {"calls": 3, "histogram_usec": {33816: 1, 135266: 2, 1073741: 3}}}


def test_resetstat_empties_and_tracking_off_stops(raw3):
    raw3.call("SET", "k", "v")
    reset(raw3)
    assert "set" not in raw3.call("LATENCY", "HISTOGRAM")
    assert raw3.call("CONFIG", "SET", "latency-tracking", "no") == "OK"
    try:
        raw3.call("SET", "k", "v")
        assert raw3.call("LATENCY", "HISTOGRAM", "set") == {}
    finally:
        assert raw3.call("CONFIG", "SET", "latency-tracking", "yes") == "OK"
    raw3.call("SET", "k", "v")
    assert raw3.call("LATENCY", "HISTOGRAM", "set")["set"]["calls"] == 1
    assert raw3.call("CONFIG", "GET", "latency-tracking") == {"latency-tracking": b"yes"}


def test_help_and_command_docs(raw):
    lines = raw.call("LATENCY", "HELP")
    assert "HISTOGRAM [COMMAND ...]" in lines
    info = raw.call("COMMAND", "INFO", "latency|histogram")[0]
    assert info[0] == b"latency|histogram" and info[1] == -2


@pytest.mark.parametrize("proto", [2, 3])
def test_calls_match_commandstats(server, proto):
    conn = server.raw()
    if proto == 3:
        conn.call("HELLO", "3")
    reset(conn)
    for _ in range(7):
        conn.call("INCR", "n")
    info = conn.call("INFO", "commandstats")
    info = info if isinstance(info, str) else info.decode()
    assert "cmdstat_incr:calls=7," in info
    reply = conn.call("LATENCY", "HISTOGRAM", "incr")
    calls = reply["incr"]["calls"] if proto == 3 else pairs(reply[1])["calls"]
    assert calls == 7
    conn.close()


def test_info_latencystats(raw):
    reset(raw)
    for _ in range(3):
        raw.call("GET", "k")
    text = raw.call("INFO", "latencystats").decode()
    assert text.startswith("# Latencystats\r\n")
    line = [l for l in text.split("\r\n") if l.startswith("latency_percentiles_usec_get:")][0]
    # Redis's HDR value for the slowest call of the counter each percentile
    # falls in: 0.001 for 0 µs, 1.003 for 1 µs, 2.007, 4.015, 8.031 ...
    parts = dict(p.split("=") for p in line.split(":", 1)[1].split(","))
    assert list(parts) == ["p50", "p99", "p99.9"]
    assert all(v in ("0.001", "1.003", "2.007", "4.015", "8.031", "16.063", "33.023", "66.047", "132.095")
               for v in parts.values()), parts
    assert "latency_percentiles_usec_rpush" not in text
    # not part of the default INFO, as in Redis
    assert "Latencystats" not in raw.call("INFO").decode()
    assert "Latencystats" in raw.call("INFO", "everything").decode()
    try:
        assert raw.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 100") == "OK"
        assert ":p0=" in raw.call("INFO", "latencystats").decode()
        assert raw.call("CONFIG", "SET", "latency-tracking-info-percentiles", "")
        assert "latency_percentiles_usec_get:\r\n" in raw.call("INFO", "latencystats").decode()
        err = raw.call("CONFIG", "SET", "latency-tracking-info-percentiles", "101")
        assert err[1].endswith("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        err = raw.call("CONFIG", "SET", "latency-tracking-info-percentiles", "abc")
        assert err[1].endswith("Invalid latency-tracking-info-percentiles parameters")
    finally:
        raw.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
