"""COMMAND LIST against redis-server 7.0.15: every command and subcommand of
Redis 7.0 exists in Runnel, except an explicit list of exceptions, each with
its reason."""
import pytest

from conftest import RawConnection
from reference_server import reference  # noqa: F401

# Missing from Runnel on purpose or for now, and why.
EXCEPTIONS = {
    # Redis modules load shared objects built against Redis's internal API;
    # Runnel has no module API.
    "module": "no module API",
    "module|help": "no module API",
    "module|list": "no module API",
    "module|load": "no module API",
    "module|loadex": "no module API",
    "module|unload": "no module API",
    # The Lua debugger (LDB: a forked or synchronous stepping session over
    # the connection) is not implemented.
    "script|debug": "no Lua debugger",
}
# Commands whose family another issue adds: ACL (issue of its own) and the
# cluster subcommands a standalone server does not register. They may be
# present (once merged) or not.
OTHER_ISSUES_PREFIXES = ("acl", "cluster|")


def names(conn):
    return {n.decode() for n in conn.call("COMMAND", "LIST")}


def test_every_redis_7_command_exists(raw, reference):  # noqa: F811
    ref = RawConnection(reference.port)
    theirs = names(ref)
    ref.close()
    mine = names(raw)
    missing = {n for n in theirs - mine if not n.startswith(OTHER_ISSUES_PREFIXES)}
    assert missing == set(EXCEPTIONS), "missing: %s; stale exceptions: %s" % (
        sorted(missing - set(EXCEPTIONS)), sorted(set(EXCEPTIONS) - missing))


def test_lolwut_and_pfselftest(raw):
    assert raw.call("LOLWUT") == b"Runnel ver. 0.1.0\n" or raw.call("LOLWUT").startswith(b"Runnel ver. ")
    assert raw.call("LOLWUT", "VERSION", "x") == ("error", "ERR value is not an integer or out of range")
    assert raw.call("PFSELFTEST") == "OK"


@pytest.mark.parametrize("name", ["geoadd", "geosearch", "georadius_ro", "latency|histogram", "hexpire", "hsetex",
                                  "hgetdel", "client|tracking", "client|caching", "client|getredir",
                                  "client|trackinginfo"])
def test_new_commands_are_listed_and_documented(raw, name):
    assert name in names(raw)
    info = raw.call("COMMAND", "INFO", name)[0]
    assert info[0].decode() == name
    assert raw.call("COMMAND", "DOCS", name), name
