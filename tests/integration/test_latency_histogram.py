"""LATENCY HISTOGRAM: per-command latency histograms in power-of-two
microsecond buckets, cumulative, in Redis 7's RESP2 and RESP3 shapes."""
import pytest


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
    # bucket bounds are powers of two, ascending; counts cumulative, last = calls
    assert all(b > 0 and b & (b - 1) == 0 for b in buckets)
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
    # 50 ms is above 2^15 µs and at most 2^17 (scheduling may add a little)
    assert hist[0] in (1 << 16, 1 << 17) and hist[1] == 1


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
    # the bound of the power-of-two bucket each percentile falls in
    parts = dict(p.split("=") for p in line.split(":", 1)[1].split(","))
    assert list(parts) == ["p50", "p99", "p99.9"]
    assert all(float(v) >= 1 and (int(float(v)) & (int(float(v)) - 1)) == 0 for v in parts.values())
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
