"""Redis 7 Functions: FUNCTION LOAD | LIST | DELETE | FLUSH | DUMP | RESTORE |
STATS | KILL | HELP, FCALL and FCALL_RO, the load-time sandbox, function
flags, busy functions, and libraries carried by snapshots, the AOF (rewrites
included), DEBUG RELOAD and replicas. Expected texts and reply bytes were
taken from redis-server 7.0.15 (Runnel says "Runnel" where BUSY says
"Redis")."""
import os
import threading
import time

import pytest
import redis

from conftest import RunnelProcess
from test_aof import aof_dir, restart
from replication_helpers import start_primary, start_replica, wait_caught_up, wait_link_up

BUSY_FUNCTION = "BUSY Runnel is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
BUSY_SCRIPT = "BUSY Runnel is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

LIB1 = """#!lua name=lib1
redis.register_function("f1", function(keys, args) return redis.call("set", keys[1], args[1]) end)
redis.register_function{function_name="f2", callback=function(keys, args) return redis.call("get", keys[1]) end,
                        flags={"no-writes"}, description="desc2"}
"""


def lib(name, *bodies):
    """A library named name registering fname -> body for each (fname, body)."""
    lines = ["#!lua name=%s" % name]
    for fname, body in bodies:
        lines.append("redis.register_function('%s', function(keys, args) %s end)" % (fname, body))
    return "\n".join(lines)


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


@pytest.fixture
def f(r):
    r.execute_command("FUNCTION", "FLUSH")
    yield r
    r.execute_command("FUNCTION", "FLUSH")


# --- FUNCTION LOAD and FCALL -------------------------------------------------


def test_load_and_call_both_registration_forms(f):
    assert f.execute_command("FUNCTION", "LOAD", LIB1) == b"lib1"
    assert f.execute_command("FCALL", "f1", 1, "k", "v") == b"OK"
    assert f.execute_command("FCALL", "f2", 1, "k") == b"v"
    assert f.execute_command("FCALL_RO", "f2", 1, "k") == b"v"
    assert f.execute_command("FCALL", "F2", 1, "k") == b"v"  # function names: any case


def test_keys_and_args_are_the_functions_arguments_not_globals(f):
    f.execute_command("FUNCTION", "LOAD", lib("kv", ("kv", "return {#keys, #args, keys[1], args[1]}"),
                                              ("g", "return KEYS")))
    assert f.execute_command("FCALL", "kv", 1, "a", "b", "c") == [1, 2, b"a", b"b"]
    assert f.execute_command("FCALL", "kv", 0) == [0, 0]
    assert "nonexistent global variable 'KEYS'" in err(f, "FCALL", "g", 0)


def test_functions_see_the_full_sandbox_when_called(f):
    f.execute_command("FUNCTION", "LOAD", lib("sb", ("sb", "return cjson.encode({string.format('%d', 7)})")))
    assert f.execute_command("FCALL", "sb", 0) == b'["7"]'


@pytest.mark.parametrize("code, message", [
    ("return 1", "Missing library metadata"),
    ("#!lua name=x", "Invalid library metadata"),
    ("#!lua\nreturn 1", "Library name was not given"),
    ("#!lua name=x foo=bar\nreturn 1", "Invalid metadata value given: foo=bar"),
    ("#!lua name=x name=y\nreturn 1", "Invalid metadata value, name argument was given multiple times"),
    ("#!lua name=\nreturn 1", "Library names can only contain letters, numbers, or underscores(_) and must be at "
                              "least one character long"),
    ("#!lua name=x-y\nreturn 1", "Library names can only contain letters, numbers, or underscores(_) and must be "
                                 "at least one character long"),
    ("#!foo name=x\nreturn 1", "Engine 'foo' not found"),
    ("#!lua name=x\"\nreturn 1", "Invalid library metadata"),
    ("#!lua name=x\nlocal x = ", "Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
    ("#!lua name=x\nlocal x = 1", "No functions registered"),
    ("#!lua  name=x\nreturn 1", "No functions registered"),
])
def test_load_errors(f, code, message):
    assert err(f, "FUNCTION", "LOAD", code) == message


def test_metadata_keys_and_engine_in_any_case_and_quoted_values(f):
    body = "\nredis.register_function('qq', function() return 1 end)"
    assert f.execute_command("FUNCTION", "LOAD", "#!LUA NAME=\"q\\x41\"" + body) == b"qA"


REGISTER_ERRORS = [
    ("redis.register_function()", "wrong number of arguments to redis.register_function"),
    ("redis.register_function('f')", "calling redis.register_function with a single argument is only applicable to "
                                     "Lua table (representing named arguments)."),
    ("redis.register_function('f', 1)", "second argument to redis.register_function must be a function"),
    ("redis.register_function('f', function() end, 3)", "wrong number of arguments to redis.register_function"),
    ("redis.register_function({function_name='f', callback=function() end}, 2)",
     "first argument to redis.register_function must be a string"),
    ("redis.register_function{}", "redis.register_function must get a function name argument"),
    ("redis.register_function{function_name='f'}", "redis.register_function must get a callback argument"),
    ("redis.register_function{callback=function() end}", "redis.register_function must get a function name argument"),
    ("redis.register_function{function_name='f', callback=function() end, flags='no-writes'}",
     "flags argument to redis.register_function must be a table representing function flags"),
    ("redis.register_function{function_name='f', callback=function() end, flags={'bad'}}", "unknown flag given"),
    ("redis.register_function{function_name='f', callback=function() end, flags={1}}", "unknown flag given"),
    ("redis.register_function{function_name='f', callback=function() end, foo=1}",
     "unknown argument given to redis.register_function"),
    ("redis.register_function{[1]='f', callback=function() end}", "unknown argument given to redis.register_function"),
    ("redis.register_function{function_name='f', callback=1}",
     "callback argument given to redis.register_function must be a function"),
    ("redis.register_function{function_name='', callback=function() end}",
     "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
    ("redis.register_function('f', function() end) redis.register_function('F', function() end)",
     "Function already exists in the library"),
]


@pytest.mark.parametrize("code, message", REGISTER_ERRORS)
def test_register_function_errors(f, code, message):
    assert err(f, "FUNCTION", "LOAD", "#!lua name=q\n" + code) == "Error registering functions: ERR " + message


def test_register_function_accepts_numbers_as_strings(f):
    code = "#!lua name=n\nredis.register_function(1, function() return 1 end)\n" \
           "redis.register_function{function_name='g', callback=function() return 2 end, description=3}"
    assert f.execute_command("FUNCTION", "LOAD", code) == b"n"
    assert f.execute_command("FCALL", "1", 0) == 1
    assert f.execute_command("FUNCTION", "LIST")[0][5][1][3] == b"3"


@pytest.mark.parametrize("code, message", [
    ("redis.call('set', 'a', 'b')", "user_function:2: Script attempted to access nonexistent global variable 'call'"),
    ("local s = string.format('%d', 1)",
     "user_function:2: Script attempted to access nonexistent global variable 'string'"),
    ("error('boom')", "user_function:2: Script attempted to access nonexistent global variable 'error'"),
    ("local k = KEYS", "user_function:2: Script attempted to access nonexistent global variable 'KEYS'"),
    ("redis.setresp(3)", "user_function:2: Script attempted to access nonexistent global variable 'setresp'"),
    ("x = 1", "user_function:2: Attempt to modify a readonly table"),
    ("redis.register_function = nil", "user_function:2: Attempt to modify a readonly table"),
    ("redis.foo = 1", "user_function:2: Attempt to modify a readonly table"),
])
def test_loading_code_sees_only_the_load_api(f, code, message):
    full = "#!lua name=y\nredis.register_function('f', function() end)\n" + code
    assert err(f, "FUNCTION", "LOAD", full).replace(":3:", ":2:") == "Error registering functions: ERR " + message


def test_loading_code_may_log_and_read_the_version(f):
    code = "#!lua name=v\nlocal n = redis.REDIS_VERSION_NUM + redis.LOG_WARNING\n" \
           "redis.log(redis.LOG_NOTICE, 'loading', redis.REDIS_VERSION)\n" \
           "redis.register_function('v', function() return n end)"
    assert f.execute_command("FUNCTION", "LOAD", code) == b"v"
    assert f.execute_command("FCALL", "v", 0) > 0x070000


def test_load_times_out(f):
    assert err(f, "FUNCTION", "LOAD", "#!lua name=z\nwhile true do end") == \
        "Error registering functions: ERR FUNCTION LOAD timeout"
    assert f.execute_command("FUNCTION", "LIST") == []
    assert f.ping()


def test_load_options_replace_and_collisions(f):
    f.execute_command("FUNCTION", "LOAD", lib("a", ("fa", "return 'a'")))
    f.execute_command("FUNCTION", "LOAD", lib("b", ("fb", "return 'b'")))
    assert err(f, "FUNCTION", "LOAD", "REPLACE") == "Missing library metadata"
    assert err(f, "FUNCTION", "LOAD", "foo", "bar") == "Unknown option given: foo"
    assert err(f, "FUNCTION", "LOAD", lib("a", ("x", "return 1"))) == "Library 'a' already exists"
    assert err(f, "FUNCTION", "LOAD", lib("c", ("FB", "return 1"))) == "Function FB already exists"
    assert err(f, "FUNCTION", "LOAD", "replace", lib("b", ("fa", "return 1"))) == "Function fa already exists"
    assert f.execute_command("FCALL", "fb", 0) == b"b"  # a failed load changes nothing
    assert f.execute_command("FUNCTION", "LOAD", "REPLACE", lib("b", ("fb2", "return 'b2'"))) == b"b"
    assert err(f, "FCALL", "fb", 0) == "Function not found"
    assert f.execute_command("FCALL", "fb2", 0) == b"b2"
    # library names are case-sensitive
    assert f.execute_command("FUNCTION", "LOAD", lib("A", ("fA2", "return 1"))) == b"A"


def test_fcall_errors(f):
    f.execute_command("FUNCTION", "LOAD", LIB1)
    assert err(f, "FCALL", "nope", 0) == "Function not found"
    assert err(f, "FCALL", "f1", -1) == "Number of keys can't be negative"
    assert err(f, "FCALL", "f1", 5, "a") == "Number of keys can't be greater than number of args"
    assert err(f, "FCALL", "f1", "x") == "Bad number of keys provided"
    assert err(f, "FCALL", "f1") == "wrong number of arguments for 'fcall' command"
    assert err(f, "FCALL_RO", "f1") == "wrong number of arguments for 'fcall_ro' command"


def test_runtime_errors_name_the_function_and_line(f):
    code = "\n".join(["#!lua name=e",
                      "redis.register_function('h', function() return redis.call('fcall', 'g', 0) end)",
                      "redis.register_function('h2', function() x = 5 end)",
                      "redis.register_function('h3', function() return nosuch end)",
                      "redis.register_function('h4', function() error('bad') end)",
                      "redis.register_function('h5', function() return redis.call('nosuch') end)",
                      "redis.register_function('h6', function() return redis.call('function', 'list') end)"])
    f.execute_command("FUNCTION", "LOAD", code)
    assert err(f, "FCALL", "h", 0) == \
        "This Redis command is not allowed from script script: h, on @user_function:2."
    assert err(f, "FCALL", "h2", 0) == \
        "user_function:3: Attempt to modify a readonly table script: h2, on @user_function:3."
    assert err(f, "FCALL", "h3", 0) == ("user_function:4: Script attempted to access nonexistent global variable "
                                        "'nosuch' script: h3, on @user_function:4.")
    assert err(f, "FCALL", "h4", 0) == "user_function:5: bad script: h4, on @user_function:5."
    assert err(f, "FCALL", "h5", 0) == "Unknown Redis command called from script script: h5, on @user_function:6."
    assert err(f, "FCALL", "h6", 0) == \
        "This Redis command is not allowed from script script: h6, on @user_function:7."
    assert "not allowed from script" in err(f, "EVAL", "return redis.call('fcall', 'h', 0)", 0)


def test_flags_no_writes_and_fcall_ro(f):
    code = "#!lua name=fl\n" \
           "redis.register_function{function_name='w', callback=function(k) return redis.call('set', k[1], 1) end}\n" \
           "redis.register_function{function_name='nw', callback=function(k) return redis.call('set', k[1], 1) end," \
           " flags={'no-writes'}}\n" \
           "redis.register_function{function_name='rd', callback=function(k) return redis.call('get', k[1]) end," \
           " flags={'no-writes'}}"
    f.execute_command("FUNCTION", "LOAD", code)
    assert err(f, "FCALL_RO", "w", 1, "k") == "Can not execute a script with write flag using *_ro command."
    assert err(f, "FCALL", "nw", 1, "k") == \
        "Write commands are not allowed from read-only scripts. script: nw, on @user_function:3."
    assert f.execute_command("FCALL", "w", 1, "k") == b"OK"
    assert f.execute_command("FCALL_RO", "rd", 1, "k") == b"1"


def test_flag_allow_oom(fresh_server):
    srv = fresh_server()
    r = srv.client()
    code = "#!lua name=oom\n" \
           "redis.register_function('w', function(k) return redis.call('set', k[1], 1) end)\n" \
           "redis.register_function{function_name='ro', callback=function() return 1 end, flags={'no-writes'}}\n" \
           "redis.register_function{function_name='ok', callback=function(k) return redis.call('set', k[1], 1) end," \
           " flags={'allow-oom'}}"
    r.execute_command("FUNCTION", "LOAD", code)
    r.config_set("maxmemory", "1")
    try:
        assert err(r, "FCALL", "w", 1, "k") == "OOM command not allowed when used memory > 'maxmemory'."
        assert err(r, "FCALL", "ro", 0) == "OOM command not allowed when used memory > 'maxmemory'."
        assert r.execute_command("FCALL", "ok", 1, "k") == b"OK"
        assert err(r, "FUNCTION", "LOAD", lib("x", ("x", "return 1"))).startswith("OOM ")
    finally:
        r.config_set("maxmemory", "0")


def test_every_flag_is_listed(f):
    code = "#!lua name=all\nredis.register_function{function_name='f', callback=function() end, " \
           "flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}"
    f.execute_command("FUNCTION", "LOAD", code)
    entry = f.execute_command("FUNCTION", "LIST")[0][5][0]
    assert entry[5] == [b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster", b"allow-cross-slot-keys"]


def test_fcall_in_a_transaction(f):
    f.execute_command("FUNCTION", "LOAD", LIB1)
    p = f.pipeline(transaction=True)
    p.execute_command("FCALL", "f1", 1, "tk", "tv")
    p.execute_command("FCALL", "f2", 1, "tk")
    assert p.execute() == [b"OK", b"tv"]


# --- FUNCTION LIST ----------------------------------------------------------

LIST_LIB = "#!lua name=lib1\n" \
           "redis.register_function{function_name='f', callback=function(k,a) return 1 end, " \
           "flags={'no-writes','allow-oom'}}"


def test_list_reply_bytes_resp2(f, raw):
    f.execute_command("FUNCTION", "LOAD", LIST_LIB)
    raw.command("FUNCTION", "LIST")
    expected = (b"*1\r\n*6\r\n$12\r\nlibrary_name\r\n$4\r\nlib1\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
                b"$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$1\r\nf\r\n$11\r\ndescription\r\n$-1\r\n"
                b"$5\r\nflags\r\n*2\r\n+no-writes\r\n+allow-oom\r\n")
    assert raw.read_exact(len(expected)) == expected


def test_list_reply_bytes_resp3_with_code(f, raw3):
    f.execute_command("FUNCTION", "LOAD", LIST_LIB)
    raw3.command("FUNCTION", "LIST", "WITHCODE")
    expected = (b"*1\r\n%4\r\n$12\r\nlibrary_name\r\n$4\r\nlib1\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
                b"$9\r\nfunctions\r\n*1\r\n%3\r\n$4\r\nname\r\n$1\r\nf\r\n$11\r\ndescription\r\n_\r\n"
                b"$5\r\nflags\r\n~2\r\n+no-writes\r\n+allow-oom\r\n$12\r\nlibrary_code\r\n"
                + b"$%d\r\n%s\r\n" % (len(LIST_LIB), LIST_LIB.encode()))
    assert raw3.read_exact(len(expected)) == expected


def test_list_filters_and_errors(f):
    f.execute_command("FUNCTION", "LOAD", lib("alpha", ("fa", "return 1")))
    f.execute_command("FUNCTION", "LOAD", lib("Beta", ("fb", "return 1")))
    f.execute_command("FUNCTION", "LOAD", lib("gamma", ("fg", "return 1")))
    names = lambda *args: [e[1] for e in f.execute_command("FUNCTION", "LIST", *args)]  # noqa: E731
    assert sorted(names()) == [b"Beta", b"alpha", b"gamma"]
    assert names("LIBRARYNAME", "beta") == [b"Beta"]  # patterns match in any case
    assert sorted(names("libraryname", "*a")) == [b"Beta", b"alpha", b"gamma"]
    assert names("LIBRARYNAME", "zz", "WITHCODE") == []
    with_code = f.execute_command("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "g*")
    assert with_code[0][7] == lib("gamma", ("fg", "return 1")).encode()
    assert err(f, "FUNCTION", "LIST", "LIBRARYNAME") == "library name argument was not given"
    assert err(f, "FUNCTION", "LIST", "foo") == "Unknown argument foo"
    assert err(f, "FUNCTION", "LIST", "WITHCODE", "WITHCODE") == "Unknown argument WITHCODE"
    assert err(f, "FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b") == "Unknown argument LIBRARYNAME"


# --- DELETE, FLUSH ----------------------------------------------------------


def test_delete_and_flush(f):
    f.execute_command("FUNCTION", "LOAD", LIB1)
    f.execute_command("FUNCTION", "LOAD", lib("other", ("o", "return 1")))
    assert err(f, "FUNCTION", "DELETE", "nope") == "Library not found"
    assert err(f, "FUNCTION", "DELETE", "LIB1") == "Library not found"
    assert err(f, "FUNCTION", "DELETE") == "wrong number of arguments for 'function|delete' command"
    assert f.execute_command("FUNCTION", "DELETE", "lib1") == b"OK"
    assert err(f, "FCALL", "f1", 1, "k", "v") == "Function not found"
    assert f.execute_command("FCALL", "o", 0) == 1
    assert err(f, "FUNCTION", "FLUSH", "foo") == "FUNCTION FLUSH only supports SYNC|ASYNC option"
    assert err(f, "FUNCTION", "FLUSH", "SYNC", "x") == \
        "unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP."
    assert f.execute_command("FUNCTION", "FLUSH", "ASYNC") == b"OK"
    assert f.execute_command("FUNCTION", "LIST") == []
    f.execute_command("FUNCTION", "LOAD", LIB1)
    assert f.execute_command("FUNCTION", "FLUSH", "sync") == b"OK"
    assert f.execute_command("FUNCTION", "FLUSH") == b"OK"


def test_script_flush_leaves_functions_and_function_flush_leaves_scripts(f):
    f.execute_command("FUNCTION", "LOAD", LIB1)
    sha = f.script_load("return 1")
    f.script_flush()
    assert f.execute_command("FCALL", "f1", 1, "k", "v") == b"OK"
    sha = f.script_load("return 1")
    f.execute_command("FUNCTION", "FLUSH")
    assert f.evalsha(sha, 0) == 1


# --- DUMP, RESTORE ----------------------------------------------------------


def test_dump_and_restore_policies(f):
    f.execute_command("FUNCTION", "LOAD", lib("a", ("fa", "return 'a'")))
    f.execute_command("FUNCTION", "LOAD", lib("b", ("fb", "return 'b'")))
    payload = f.execute_command("FUNCTION", "DUMP")
    assert err(f, "FUNCTION", "RESTORE", payload) == "Library a already exists"
    assert err(f, "FUNCTION", "RESTORE", payload, "APPEND") == "Library a already exists"
    assert f.execute_command("FUNCTION", "RESTORE", payload, "REPLACE") == b"OK"
    assert f.execute_command("FUNCTION", "RESTORE", payload, "flush") == b"OK"
    assert err(f, "FUNCTION", "RESTORE", payload, "FLUSH", "x") == \
        "unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP."
    assert err(f, "FUNCTION", "RESTORE", payload, "bar") == \
        "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    f.execute_command("FUNCTION", "DELETE", "a")
    assert err(f, "FUNCTION", "RESTORE", payload) == "Library b already exists"
    f.execute_command("FUNCTION", "DELETE", "b")
    assert f.execute_command("FUNCTION", "RESTORE", payload) == b"OK"
    assert f.execute_command("FCALL", "fa", 0) == b"a"
    assert f.execute_command("FUNCTION", "DUMP") == payload


def test_restore_function_collisions_change_nothing(f):
    f.execute_command("FUNCTION", "LOAD", lib("a", ("fa", "return 'a'")))
    payload = f.execute_command("FUNCTION", "DUMP")
    f.execute_command("FUNCTION", "FLUSH")
    f.execute_command("FUNCTION", "LOAD", lib("other", ("FA", "return 'other'")))
    assert err(f, "FUNCTION", "RESTORE", payload) == "Function fa already exists"
    f.execute_command("FUNCTION", "LOAD", lib("a", ("x", "return 'x'")))
    assert err(f, "FUNCTION", "RESTORE", payload, "REPLACE") == "Function fa already exists"
    assert f.execute_command("FCALL", "x", 0) == b"x"  # the displaced library is back
    assert f.execute_command("FCALL", "fa", 0) == b"other"


def test_restore_refuses_damaged_payloads(f):
    f.execute_command("FUNCTION", "LOAD", LIB1)
    payload = f.execute_command("FUNCTION", "DUMP")
    bad = "DUMP payload version or checksum are wrong"
    assert err(f, "FUNCTION", "RESTORE", "") == bad
    assert err(f, "FUNCTION", "RESTORE", "foo") == bad
    assert err(f, "FUNCTION", "RESTORE", payload[:-1] + b"x") == bad
    flipped = bytearray(payload)
    flipped[5] ^= 1
    assert err(f, "FUNCTION", "RESTORE", bytes(flipped)) == bad
    f.execute_command("FUNCTION", "FLUSH")
    empty = f.execute_command("FUNCTION", "DUMP")
    assert f.execute_command("FUNCTION", "RESTORE", empty) == b"OK"
    assert f.execute_command("FUNCTION", "LIST") == []


# --- STATS, KILL, HELP, COMMAND ----------------------------------------------


def test_stats_when_idle(f, raw, raw3):
    f.execute_command("FUNCTION", "LOAD", LIB1)
    raw.command("FUNCTION", "STATS")
    expected = (b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n"
                b"$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n")
    assert raw.read_exact(len(expected)) == expected
    raw3.command("FUNCTION", "STATS")
    expected = (b"%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n"
                b"$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n")
    assert raw3.read_exact(len(expected)) == expected


def test_kill_help_and_arity(f):
    assert err(f, "FUNCTION", "KILL") == "NOTBUSY No scripts in execution right now."
    assert err(f, "FUNCTION", "KILL", "x") == "wrong number of arguments for 'function|kill' command"
    assert err(f, "FUNCTION", "STATS", "x") == "wrong number of arguments for 'function|stats' command"
    assert err(f, "FUNCTION", "DUMP", "x") == "wrong number of arguments for 'function|dump' command"
    assert err(f, "FUNCTION") == "wrong number of arguments for 'function' command"
    assert err(f, "FUNCTION", "foo") == "unknown subcommand 'foo'. Try FUNCTION HELP."
    help_lines = f.execute_command("FUNCTION", "HELP")
    assert help_lines[0] == b"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]" in help_lines


def test_command_info_and_getkeys(f, raw):
    fcall, fcall_ro = raw.call("COMMAND", "INFO", "fcall", "fcall_ro")
    assert fcall[1] == -3 and "movablekeys" in fcall[2] and "noscript" in fcall[2]
    assert "readonly" in fcall_ro[2]
    assert raw.call("COMMAND", "GETKEYS", "FCALL", "f", 2, "a", "b", "c") == [b"a", b"b"]
    subs = {s[0]: s for s in raw.call("COMMAND", "INFO", "function")[0][9]}
    assert "write" in subs[b"function|load"][2] and "denyoom" in subs[b"function|load"][2]
    assert "allow_busy" in subs[b"function|kill"][2] and "allow_busy" in subs[b"function|stats"][2]


# --- busy functions -----------------------------------------------------------

SLOW = "#!lua name=slow\n" \
       "redis.register_function{function_name='sl', callback=function() while true do end end, flags={'no-writes'}}\n" \
       "redis.register_function('slw', function() redis.call('set', 'half', 'done') while true do end end)"


def start_busy(srv, *args):
    result = []
    conn = srv.client(socket_timeout=30)

    def run():
        try:
            result.append(conn.execute_command(*args))
        except redis.RedisError as e:
            result.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def wait_busy(r, message, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            r.ping()
        except redis.ResponseError as e:
            assert str(e) == message
            return
        time.sleep(0.02)
    raise AssertionError("the server never reported BUSY")


@pytest.fixture
def busy_server(fresh_server):
    srv = fresh_server("--busy-reply-threshold", "100")
    srv.client().execute_command("FUNCTION", "LOAD", SLOW)
    return srv


def test_a_busy_function_answers_busy_and_function_kill_stops_it(busy_server):
    r = busy_server.client()
    t, result = start_busy(busy_server, "FCALL", "sl", 1, "key")
    wait_busy(r, BUSY_FUNCTION)
    assert err(r, "FUNCTION", "LIST") == BUSY_FUNCTION
    assert err(r, "SCRIPT", "KILL") == BUSY_FUNCTION
    stats = r.execute_command("FUNCTION", "STATS")
    assert stats[0] == b"running_script"
    running = stats[1]
    assert running[:5] == [b"name", b"sl", b"command", [b"FCALL", b"sl", b"1", b"key"], b"duration_ms"]
    assert running[5] >= 100
    raw3 = busy_server.raw()
    raw3.call("HELLO", "3")
    assert raw3.call("FUNCTION", "STATS")["running_script"]["name"] == b"sl"
    assert r.execute_command("FUNCTION", "KILL") == b"OK"
    t.join(10)
    assert str(result[0]) == "Script killed by user with SCRIPT KILL... script: sl, on @user_function:2."
    assert r.ping()
    assert "FUNCTION KILL" in busy_server.output()


def test_a_function_that_wrote_is_unkillable(busy_server):
    r = busy_server.client()
    t, result = start_busy(busy_server, "FCALL", "slw", 0)
    wait_busy(r, BUSY_FUNCTION)
    assert err(r, "FUNCTION", "KILL").startswith("UNKILLABLE Sorry the script already executed write commands")
    assert err(r, "SHUTDOWN") == BUSY_FUNCTION
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "NOSAVE")
    busy_server.proc.wait(10)


def test_a_busy_eval_is_not_a_function(busy_server):
    r = busy_server.client()
    t, result = start_busy(busy_server, "EVAL", "while true do end", 0)
    wait_busy(r, BUSY_SCRIPT)
    assert err(r, "FUNCTION", "KILL") == BUSY_SCRIPT
    assert err(r, "FUNCTION", "STATS") == BUSY_SCRIPT
    assert r.execute_command("SCRIPT", "KILL") == b"OK"
    t.join(10)
    assert "Script killed by user with SCRIPT KILL" in str(result[0])


# --- INFO ---------------------------------------------------------------------


def test_info_memory_counts_functions_and_libraries(f):
    before = f.info("memory")
    assert before["number_of_functions"] == 0 and before["number_of_libraries"] == 0
    assert before["used_memory_vm_functions"] > 0
    f.execute_command("FUNCTION", "LOAD", LIB1)
    f.execute_command("FUNCTION", "LOAD", lib("two", ("t", "return 1")))
    after = f.info("memory")
    assert after["number_of_functions"] == 3 and after["number_of_libraries"] == 2
    assert after["used_memory_functions"] > len(LIB1)
    assert after["used_memory_vm_total"] == after["used_memory_vm_eval"] + after["used_memory_vm_functions"]
    assert after["used_memory_scripts"] == after["used_memory_scripts_eval"] + after["used_memory_functions"]


# --- persistence and replication ----------------------------------------------


def libraries(r):
    return sorted((e[1], e[7]) for e in r.execute_command("FUNCTION", "LIST", "WITHCODE"))


def test_snapshot_carries_libraries_across_restart(fresh_server):
    srv = fresh_server()
    r = srv.client()
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.execute_command("FUNCTION", "LOAD", lib("two", ("t", "return 2")))
    r.set("k", "v")
    expected = libraries(r)
    digest = r.execute_command("DEBUG", "DIGEST")
    r.save()
    with open(os.path.join(srv.dir, "dump.rdb"), "rb") as fh:
        assert fh.read(10) == b"RUNNEL0003"
    srv.stop()
    again = RunnelProcess("--dir", srv.dir)
    try:
        r2 = again.client()
        assert libraries(r2) == expected
        assert r2.execute_command("FCALL", "f2", 1, "k") == b"v"
        assert r2.execute_command("DEBUG", "DIGEST") == digest
    finally:
        again.stop()


def test_debug_reload_keeps_libraries_and_digest_ignores_them(fresh_server):
    srv = fresh_server()
    r = srv.client()
    r.set("k", "v")
    digest = r.execute_command("DEBUG", "DIGEST")
    r.execute_command("FUNCTION", "LOAD", LIB1)
    assert r.execute_command("DEBUG", "DIGEST") == digest  # as in Redis: keys only
    expected = libraries(r)
    r.execute_command("DEBUG", "RELOAD")
    assert libraries(r) == expected
    r.execute_command("FUNCTION", "FLUSH")
    r.execute_command("DEBUG", "RELOAD")
    assert libraries(r) == []


def test_a_version_2_snapshot_still_loads(fresh_server):
    """A file written before function libraries existed: header 0002, no
    checksum (0 means none was computed)."""
    srv = fresh_server()
    r = srv.client()
    r.set("old", "file")
    r.save()
    path = os.path.join(srv.dir, "dump.rdb")
    data = open(path, "rb").read()
    srv.stop()
    assert data[:10] == b"RUNNEL0003"
    with open(path, "wb") as fh:
        fh.write(b"RUNNEL0002" + data[10:-8] + b"\0" * 8)
    again = RunnelProcess("--dir", srv.dir)
    try:
        assert again.client().get("old") == b"file"
    finally:
        again.stop()


def test_a_library_record_in_a_version_2_file_is_refused(fresh_server):
    srv = fresh_server()
    r = srv.client()
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.save()
    path = os.path.join(srv.dir, "dump.rdb")
    data = open(path, "rb").read()
    srv.stop()
    with open(path, "wb") as fh:
        fh.write(b"RUNNEL0002" + data[10:-8] + b"\0" * 8)
    with pytest.raises(RuntimeError) as e:
        RunnelProcess("--dir", srv.dir)
    assert "a function library in a version 2 file" in str(e.value)


def test_aof_replays_function_commands_and_fcall_effects(fresh_server):
    srv = fresh_server("--appendonly", "yes", "--appendfsync", "always")
    r = srv.client()
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.execute_command("FUNCTION", "LOAD", lib("gone", ("g", "return 1")))
    r.execute_command("FUNCTION", "DELETE", "gone")
    r.execute_command("FUNCTION", "LOAD", "REPLACE", LIB1.replace("desc2", "desc3"))
    assert r.execute_command("FCALL", "f1", 1, "k", "v") == b"OK"
    expected = libraries(r)
    incr = [n for n in os.listdir(aof_dir(srv)) if n.endswith(".incr.aof")]
    text = b"".join(open(os.path.join(aof_dir(srv), n), "rb").read() for n in incr)
    assert b"FCALL" not in text and b"MULTI" in text and b"FUNCTION" in text
    again = restart(srv)
    try:
        r2 = again.client()
        assert libraries(r2) == expected
        assert r2.get("k") == b"v"
    finally:
        again.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_rewrite_keeps_libraries(fresh_server, preamble):
    srv = fresh_server("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    r = srv.client()
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.execute_command("FUNCTION", "LOAD", lib("two", ("t", "return 2")))
    r.set("k", "v")
    expected = libraries(r)
    r.bgrewriteaof()
    deadline = time.time() + 10
    while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    again = restart(srv, "--aof-use-rdb-preamble", preamble)
    try:
        r2 = again.client()
        assert libraries(r2) == expected
        assert r2.execute_command("FCALL", "t", 0) == 2
    finally:
        again.stop()


def test_replicas_receive_libraries_by_full_sync_and_by_the_stream(tmp_path):
    primary = start_primary()
    replica = None
    try:
        p = primary.client()
        p.execute_command("FUNCTION", "LOAD", LIB1)
        replica = start_replica(primary)
        wait_link_up(replica)
        wait_caught_up(primary, replica)
        rr = replica.client()
        assert libraries(rr) == libraries(p)
        p.execute_command("FUNCTION", "LOAD", lib("later", ("l", "return 'later'")))
        p.execute_command("FCALL", "f1", 1, "rk", "rv")
        wait_caught_up(primary, replica)
        assert libraries(rr) == libraries(p)
        assert rr.get("rk") == b"rv"
        assert rr.execute_command("FCALL_RO", "f2", 1, "rk") == b"rv"
        p.execute_command("FUNCTION", "FLUSH")
        wait_caught_up(primary, replica)
        assert libraries(rr) == []
    finally:
        if replica:
            replica.stop()
        primary.stop()
