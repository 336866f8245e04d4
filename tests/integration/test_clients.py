"""Other clients than redis-py against the server: a small C program on
hiredis (compiled here, at test time), redis-benchmark and redis-cli."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

HIREDIS_PROGRAM = r"""
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, what) do { if (!(cond)) { fprintf(stderr, "FAIL: %s\n", what); failures++; } } while (0)

static redisReply *run(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    if (!r) {
        fprintf(stderr, "FAIL: no reply (%s)\n", c->errstr);
        exit(2);
    }
    return r;
}

static void expect_status(redisContext *c, const char *fmt, const char *arg, const char *status)
{
    redisReply *r = run(c, fmt, arg);
    CHECK(r->type == REDIS_REPLY_STATUS && strcmp(r->str, status) == 0, fmt);
    freeReplyObject(r);
}

static void expect_string(redisContext *c, const char *fmt, const char *arg, const char *value, size_t len)
{
    redisReply *r = run(c, fmt, arg);
    CHECK(r->type == REDIS_REPLY_STRING && r->len == len && memcmp(r->str, value, len) == 0, fmt);
    freeReplyObject(r);
}

static void expect_integer(redisContext *c, const char *fmt, const char *arg, long long value)
{
    redisReply *r = run(c, fmt, arg);
    CHECK(r->type == REDIS_REPLY_INTEGER && r->integer == value, fmt);
    freeReplyObject(r);
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (!c || c->err) {
        fprintf(stderr, "FAIL: connect\n");
        return 2;
    }
    expect_status(c, "PING", NULL, "PONG");
    expect_status(c, "SET greeting %s", "hello world", "OK");
    expect_string(c, "GET greeting", NULL, "hello world", 11);
    expect_integer(c, "INCR %s", "hits", 1);
    expect_integer(c, "INCRBY hits %s", "41", 42);

    /* binary-safe arguments through %b */
    const char bin[] = {'a', 0, '\r', '\n', (char)0xff};
    redisReply *r = redisCommand(c, "SET bin %b", bin, sizeof(bin));
    CHECK(r && r->type == REDIS_REPLY_STATUS, "SET bin");
    freeReplyObject(r);
    expect_string(c, "GET bin", NULL, bin, sizeof(bin));

    r = run(c, "GET nosuchkey", NULL);
    CHECK(r->type == REDIS_REPLY_NIL, "GET nosuchkey");
    freeReplyObject(r);

    r = run(c, "NOSUCHCOMMAND", NULL);
    CHECK(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR unknown command", 19) == 0, "unknown command");
    freeReplyObject(r);

    r = run(c, "MGET greeting nosuchkey hits", NULL);
    CHECK(r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[1]->type == REDIS_REPLY_NIL &&
              strcmp(r->element[2]->str, "42") == 0,
          "MGET");
    freeReplyObject(r);

    /* pipelining: 1000 commands appended, then their replies in order */
    for (int i = 0; i < 1000; i++) redisAppendCommand(c, "INCR pipelined");
    for (int i = 0; i < 1000; i++) {
        void *reply;
        if (redisGetReply(c, &reply) != REDIS_OK) {
            fprintf(stderr, "FAIL: pipelined reply %d\n", i);
            return 2;
        }
        r = reply;
        CHECK(r->type == REDIS_REPLY_INTEGER && r->integer == i + 1, "pipelined INCR");
        freeReplyObject(r);
    }

    /* a transaction through the pipeline */
    redisAppendCommand(c, "MULTI");
    redisAppendCommand(c, "SET tx 1");
    redisAppendCommand(c, "INCR tx");
    redisAppendCommand(c, "EXEC");
    for (int i = 0; i < 3; i++) {
        void *reply;
        redisGetReply(c, &reply);
        freeReplyObject(reply);
    }
    void *reply;
    redisGetReply(c, &reply);
    r = reply;
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->integer == 2, "EXEC");
    freeReplyObject(r);

    redisFree(c);
    if (failures) return 1;
    printf("hiredis ok\n");
    return 0;
}
"""


@pytest.fixture(scope="module")
def hiredis_binary():
    if not shutil.which("gcc") or not os.path.exists("/usr/include/hiredis/hiredis.h"):
        pytest.skip("gcc or libhiredis-dev missing")
    tmp = tempfile.mkdtemp(prefix="runnel-hiredis-")
    src = os.path.join(tmp, "client.c")
    binary = os.path.join(tmp, "client")
    with open(src, "w") as f:
        f.write(HIREDIS_PROGRAM)
    subprocess.run(["gcc", "-O1", "-Wall", "-o", binary, src, "-lhiredis"], check=True, capture_output=True)
    yield binary
    shutil.rmtree(tmp, ignore_errors=True)


def test_hiredis_program(hiredis_binary, server, r):
    run = subprocess.run([hiredis_binary, str(server.port)], capture_output=True, text=True, timeout=30)
    assert run.stderr == ""
    assert run.returncode == 0
    assert run.stdout == "hiredis ok\n"
    assert r.get("pipelined") == b"1000"
    assert r.get("bin") == b"a\x00\r\n\xff"


BENCH_ROW = re.compile(r"([A-Z_]+(?: \(10 keys\))?): ([\d.]+) requests per second")


def benchmark(server, *args):
    """Runs redis-benchmark -q; returns its final rows as (name, rps)."""
    if not shutil.which("redis-benchmark"):
        pytest.skip("redis-benchmark missing")
    run = subprocess.run(["redis-benchmark", "-p", str(server.port), "-q", *args],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert run.stderr == ""
    assert "error" not in run.stdout.lower()
    # -q redraws a progress line with \r; each test ends in one final row
    return [(m.group(1), float(m.group(2))) for m in BENCH_ROW.finditer(run.stdout)]


def test_redis_benchmark(server, r):
    rows = benchmark(server, "-n", "20000", "-t", "ping,set,get,incr,mset")
    assert [name for name, _ in rows] == ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"]
    assert all(rps > 0 for _, rps in rows)
    # every INCR landed on the one key the benchmark uses
    assert r.get("counter:__rand_int__") == b"20000"
    assert r.strlen("key:__rand_int__") == 3  # -d defaults to 3 bytes


def test_redis_benchmark_pipelined(server, r):
    rows = benchmark(server, "-n", "20000", "-P", "32", "-d", "100", "-t", "set,get,incr")
    assert [name for name, _ in rows] == ["SET", "GET", "INCR"]
    assert r.get("counter:__rand_int__") == b"20000"
    assert r.strlen("key:__rand_int__") == 100


def redis_cli(server, *args, stdin=None):
    run = subprocess.run(["redis-cli", "-p", str(server.port), *args], input=stdin,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_redis_cli_ping(server):
    if not shutil.which("redis-cli"):
        pytest.skip("redis-cli missing")
    assert redis_cli(server, "ping") == "PONG\n"


def test_redis_cli_raw_round_trip(server, r):
    if not shutil.which("redis-cli"):
        pytest.skip("redis-cli missing")
    assert redis_cli(server, "--raw", "SET", "cli key", "multi\nline value") == "OK\n"
    assert r.get("cli key") == b"multi\nline value"
    assert redis_cli(server, "--raw", "GET", "cli key") == "multi\nline value\n"
    assert redis_cli(server, "--raw", "INCRBY", "cli-n", "7") == "7\n"
    assert redis_cli(server, "--raw", "MGET", "cli-n", "missing") == "7\n\n"
    assert redis_cli(server, "--raw", "NOSUCH").startswith("ERR unknown command 'NOSUCH'")


def test_redis_cli_formatted_and_stdin(server, r):
    if not shutil.which("redis-cli"):
        pytest.skip("redis-cli missing")
    assert redis_cli(server, "--no-raw", "GET", "missing") == "(nil)\n"
    r.set("n", "5")
    assert redis_cli(server, "--no-raw", "INCR", "n") == "(integer) 6\n"
    # commands read from stdin, one per line, as redis-cli sends them
    out = redis_cli(server, stdin="SET piped yes\nGET piped\nDBSIZE\n")
    assert out == "OK\nyes\n2\n"
