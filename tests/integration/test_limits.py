"""maxmemory with noeviction: writes that may grow memory are refused with
Redis's OOM error, reads and deletes keep working."""
import pytest
import redis

OOM = "OOM command not allowed when used memory > 'maxmemory'."


def test_oom_refuses_denyoom_writes_but_not_reads(server, r):
    r.set("keep", "v")
    r.config_set("maxmemory", "1")
    try:
        with pytest.raises(redis.ResponseError) as e:
            r.set("new", "x")
        assert str(e.value) == OOM
        assert r.get("keep") == b"v"
        assert r.delete("keep") == 1  # DEL frees memory: allowed
        info = r.info("errorstats")
        assert info["errorstat_OOM"] in ("count=1", {"count": 1}) or "count=" in str(info["errorstat_OOM"])
    finally:
        r.config_set("maxmemory", "0")
    assert r.set("new", "x") is True


def test_oom_inside_multi_aborts_exec(server, r):
    r.config_set("maxmemory", "1")
    try:
        p = r.pipeline(transaction=True)
        p.set("a", "1")
        with pytest.raises(redis.ResponseError) as e:
            p.execute()
        assert "EXECABORT" in str(e.value) or OOM in str(e.value)
    finally:
        r.config_set("maxmemory", "0")
    assert r.exists("a") == 0


def test_maxmemory_reported_in_info(server, r):
    r.config_set("maxmemory", "100mb")
    try:
        mem = r.info("memory")
        assert mem["maxmemory"] == 100 * 1024 * 1024
        assert mem["maxmemory_policy"] == "noeviction"
        assert mem["used_memory"] > 0
    finally:
        r.config_set("maxmemory", "0")
