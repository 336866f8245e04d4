"""A redis-server (Debian's 7.0.15) beside the Runnel under test, for tests
that send the same random commands to both and compare the replies. Tests
using the `reference` fixture are skipped when redis-server is missing."""
import os
import random
import shutil

import pytest
import redis

from conftest import LoggedProcess, RunnelProcess, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class ReferenceServer(LoggedProcess):
    host = "127.0.0.1"

    def __init__(self, directory):
        self.port = free_port()
        cmd = [REDIS_SERVER, "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", directory]
        super().__init__(cmd, os.path.join(directory, "redis.log"))
        RunnelProcess._wait_ready(self)

    _accepts = RunnelProcess._accepts

    def client(self, **kw):
        return redis.Redis(port=self.port, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed")
    srv = ReferenceServer(str(tmp_path_factory.mktemp("redis-ref")))
    yield srv
    srv.stop()


def outcome(client, args):
    """What a server answers to args: the reply, or the error's text."""
    try:
        return client.execute_command(*args)
    except redis.ResponseError as e:
        return ("error", str(e))


def compare(r, ref, commands):
    """Runs every command against both servers; fails at the first reply
    that differs, naming the command."""
    for args in commands:
        mine, theirs = outcome(r, args), outcome(ref, args)
        assert mine == theirs, f"{args!r}: runnel {mine!r}, redis {theirs!r}"


def error_of(client, *args):
    """The text of the error a command must fail with."""
    with pytest.raises(redis.ResponseError) as e:
        client.execute_command(*args)
    return str(e.value)


def seeded(seed):
    return random.Random(seed)
