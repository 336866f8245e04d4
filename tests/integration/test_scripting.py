"""Lua scripting: EVAL/EVALSHA/EVAL_RO/EVALSHA_RO and SCRIPT, the conversions
between replies and Lua values, redis.call/pcall and their errors, the
sandbox, read-only scripts, scripts in transactions, redis-py's Script and
Lock helpers, and scripts' writes surviving an AOF restart. Expected texts
were checked against redis-server 7.0."""
import glob
import hashlib
import os
import threading
import time

import pytest
import redis

from conftest import RunnelProcess
from test_aof import aof_dir, restart


def sha(body):
    return hashlib.sha1(body.encode()).hexdigest()


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


# --- returned values ------------------------------------------------------


def test_lua_values_convert_to_replies(r):
    assert r.eval("return 1", 0) == 1
    assert r.eval("return 3.99", 0) == 3
    assert r.eval("return -3.99", 0) == -3
    assert r.eval("return 'x'", 0) == b"x"
    assert r.eval("return nil", 0) is None
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return {}", 0) == []
    assert r.eval("return {1, 'a', {2, {3}}, false}", 0) == [1, b"a", [2, [3]], None]
    assert r.eval("return {x=1}", 0) == []


def test_array_stops_at_the_first_nil(r):
    assert r.eval("return {1, 2, nil, 4}", 0) == [1, 2]
    assert r.eval("return {[1]=1, [2]=2, [4]=4}", 0) == [1, 2]


def test_numbers_out_of_range_and_nan(raw):
    assert raw.call("EVAL", "return 1e20", "0") == -(2**63)
    assert raw.call("EVAL", "return 0/0", "0") == -(2**63)


def test_status_and_error_tables(raw):
    assert raw.call("EVAL", "return {ok='fine'}", "0") == "fine"
    assert raw.call("EVAL", "return redis.status_reply('fine')", "0") == "fine"
    assert raw.call("EVAL", "return {ok='a\\r\\nb'}", "0") == "a  b"
    assert raw.call("EVAL", "return {err='My Error'}", "0") == ("error", "My Error")
    assert raw.call("EVAL", "return {err='-FOO bar'}", "0") == ("error", "-FOO bar")
    assert raw.call("EVAL", "return redis.error_reply('My Error')", "0") == ("error", "My Error")
    assert raw.call("EVAL", "return redis.error_reply('oops')", "0") == ("error", "ERR oops")
    assert raw.call("EVAL", "return redis.error_reply('-X')", "0") == ("error", "ERR X")
    assert raw.call("EVAL", "return {1, 2, err='x'}", "0") == ("error", "x")
    # a table whose ok/err is not a string is an array
    assert raw.call("EVAL", "return {ok=1}", "0") == []
    assert raw.call("EVAL", "return redis.error_reply(1)", "0") == ("error", "ERR wrong number or type of arguments")


def test_errors_and_statuses_nested_in_arrays(raw):
    assert raw.call("EVAL", "return {1, {err='inner'}, {ok='st'}}", "0") == [1, ("error", "inner"), "st"]


def test_resp3_types_from_lua(raw3):
    assert raw3.call("EVAL", "return {double=3.5}", "0") == 3.5
    assert raw3.call("EVAL", "return {map={a=1}}", "0") == {"a": 1}
    assert raw3.call("EVAL", "return {set={a=true}}", "0") == ("set", [b"a"])
    assert raw3.call("EVAL", "return nil", "0") is None
    # booleans follow the script's protocol: RESP2 by default, true -> 1, false -> null
    assert raw3.call("EVAL", "return true", "0") == 1
    assert raw3.call("EVAL", "return false", "0") is None
    assert raw3.call("EVAL", "redis.setresp(3) return true", "0") is True
    assert raw3.call("EVAL", "redis.setresp(3) return false", "0") is False


def test_resp3_types_degrade_for_resp2_callers(raw):
    assert raw.call("EVAL", "return {double=3.5}", "0") == b"3.5"
    assert raw.call("EVAL", "return {map={a=1}}", "0") == [b"a", 1]
    assert raw.call("EVAL", "return {big_number='12'}", "0") == b"12"
    assert raw.call("EVAL", "return {verbatim_string={format='txt', string='hi'}}", "0") == b"hi"
    assert raw.call("EVAL", "redis.setresp(3) return false", "0") == 0


def test_keys_and_argv(r):
    assert r.eval("return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", 2, "k1", "k2", "a1") == [
        b"k1", b"k2", b"a1", 2, 1]
    assert r.eval("return ARGV", 0, "x", "y") == [b"x", b"y"]
    assert r.eval("return #KEYS", 0) == 0


def test_numkeys_errors(r):
    assert err(r, "EVAL", "return 1", "-1") == "Number of keys can't be negative"
    assert err(r, "EVAL", "return 1", "2", "k") == "Number of keys can't be greater than number of args"
    assert err(r, "EVAL", "return 1", "abc") == "value is not an integer or out of range"
    assert err(r, "EVALSHA", "f" * 40, "abc") == "value is not an integer or out of range"


# --- redis.call ---------------------------------------------------------------


def test_replies_convert_to_lua_values(r):
    r.set("s", "v")
    r.rpush("l", "a", "b")
    assert r.eval("return type(redis.call('incr', 'n'))", 0) == b"number"
    assert r.eval("return redis.call('get', 's')", 0) == b"v"
    assert r.eval("return redis.call('get', 'missing') == false", 0) == 1
    assert r.eval("return redis.call('lrange', 'l', 0, -1)", 0) == [b"a", b"b"]
    assert r.eval("return redis.call('ping').ok", 0) == b"PONG"
    assert r.eval("return redis.call('set', 'x', 'y')", 0) == b"OK"
    assert r.eval("return redis.pcall('lpush', 's', 'x').err", 0).startswith(b"WRONGTYPE")


def test_resp3_replies_under_setresp(r):
    r.hset("h", "a", "1")
    r.zadd("z", {"m": 1.5})
    assert r.eval("redis.setresp(3) return redis.call('hgetall', 'h').map.a", 0) == b"1"
    assert r.eval("redis.setresp(3) return redis.call('zscore', 'z', 'm').double * 2", 0) == 3
    assert r.eval("redis.setresp(3) return redis.call('get', 'missing') == nil", 0) == 1
    assert r.eval("redis.setresp(3) return redis.call('sismember', 'nos', 'x')", 0) == 0
    assert err(r, "EVAL", "redis.setresp(4)", "0").startswith("RESP version must be 2 or 3.")


def test_arguments_strings_and_numbers(r):
    r.eval("redis.call('set', 'a', 3) redis.call('set', 'b', 0.1) redis.call('set', 'c', 2^53)", 0)
    assert r.mget("a", "b", "c") == [b"3", b"0.10000000000000001", b"9007199254740992"]
    assert "arguments must be strings or integers" in err(r, "EVAL", "redis.call('set', 'a', {})", "0")
    assert "arguments must be strings or integers" in err(r, "EVAL", "redis.call('set', 'a', true)", "0")
    assert "at least one argument" in err(r, "EVAL", "redis.call()", "0")


def test_binary_values_and_large_replies(r):
    big = os.urandom(100_000)
    r.set("big", big)
    assert r.eval("return redis.call('get', KEYS[1])", 1, "big") == big
    r.eval("redis.call('set', KEYS[1], ARGV[1])", 1, "copy", big)
    assert r.get("copy") == big
    r.rpush("many", *range(5000))
    assert r.eval("return #redis.call('lrange', KEYS[1], 0, -1)", 1, "many") == 5000


def test_call_errors_raise_with_script_and_line(r):
    body = "local x = 1\nreturn redis.call('nosuch')"
    assert err(r, "EVAL", body, "0") == (
        "Unknown Redis command called from script script: %s, on @user_script:2." % sha(body))
    body = "return redis.call('get')"
    assert err(r, "EVAL", body, "0") == (
        "Wrong number of args calling Redis command from script script: %s, on @user_script:1." % sha(body))
    body = "local function f()\n  error('boom')\nend\n\nf()"
    assert err(r, "EVAL", body, "0") == "user_script:2: boom script: %s, on @user_script:2." % sha(body)
    body = "error({err='X boom'})"
    assert err(r, "EVAL", body, "0") == "X boom script: %s, on @user_script:1." % sha(body)
    body = "local t = nil\nreturn t.x"
    assert err(r, "EVAL", body, "0") == (
        "user_script:2: attempt to index local 't' (a nil value) script: %s, on @user_script:2." % sha(body))


def test_pcall_returns_error_tables(raw):
    assert raw.call("EVAL", "return redis.pcall('nosuch')", "0") == (
        "error", "ERR Unknown Redis command called from script")
    # pcall(redis.call, ...) hands the script the error's text, as Redis 7 does
    assert raw.call("EVAL", "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e}", "0") == [
        b"false", b"ERR Unknown Redis command called from script"]
    assert raw.call("EVAL", "local ok, e = pcall(error, {1}) return type(e)", "0") == b"table"


def test_wrongtype_inside_scripts(r):
    r.set("s", "v")
    body = "return redis.call('lpush', KEYS[1], 'x')"
    e = err(r, "EVAL", body, "1", "s")
    assert e.startswith("WRONGTYPE Operation against a key holding the wrong kind of value script: ")
    with pytest.raises(redis.exceptions.ResponseError):
        r.eval("return redis.pcall('lpush', KEYS[1], 'x')", 1, "s")
    assert r.eval("local e = redis.pcall('lpush', KEYS[1], 'x') return e.err", 1, "s").startswith(b"WRONGTYPE")


def test_errors_are_counted_once(r):
    r.config_resetstat()
    r.set("s", "v")
    for body in ("return redis.call('lpush', 's', 'x')", "return redis.pcall('lpush', 's', 'x')"):
        with pytest.raises(redis.ResponseError):
            r.eval(body, 0)
    stats = r.info("errorstats")
    assert stats["errorstat_WRONGTYPE"] in ("count=2", {"count": 2})
    assert r.info("commandstats")["cmdstat_eval"]["failed_calls"] == 2


def test_commands_refused_in_scripts(r):
    for args in (["multi"], ["exec"], ["subscribe", "c"], ["client", "id"], ["config", "get", "x"],
                 ["eval", "return 1", "0"], ["script", "flush"], ["monitor"], ["watch", "k"], ["hello"],
                 ["auth", "x"], ["quit"], ["shutdown"], ["save"]):
        body = "return redis.call(%s)" % ", ".join("'%s'" % a for a in args)
        assert err(r, "EVAL", body, "0").startswith("This Redis command is not allowed from script script:"), args
    assert r.ping()


def test_select_changes_only_the_scripts_database(server):
    c = server.client(db=3)
    c.flushall()
    assert c.eval("redis.call('select', 5) redis.call('set', 'k', 'v') return redis.call('dbsize')", 0) == 1
    assert c.dbsize() == 0
    assert server.client(db=5).get("k") == b"v"
    assert c.eval("return redis.call('dbsize')", 0) == 0  # the next script starts in the caller's db
    c.set("mine", "1")
    assert c.eval("return redis.call('get', 'mine')", 0) == b"1"


def test_blocking_commands_do_not_block(server, r):
    """Redis 7.0 refuses BLPOP and friends in scripts; Runnel runs them as
    in MULTI: they answer at once."""
    start = time.time()
    assert r.eval("return redis.call('blpop', 'nolist', 0)", 0) is None
    assert r.eval("return redis.call('brpoplpush', 'a', 'b', 0)", 0) is None
    assert time.time() - start < 1
    # a client waiting on a key a script pushes to is served after the script
    got = {}
    other = server.client()
    t = threading.Thread(target=lambda: got.setdefault("v", other.blpop(["q"], timeout=5)))
    t.start()
    time.sleep(0.2)
    assert r.eval("redis.call('rpush', 'q', 'a') return redis.call('llen', 'q')", 0) == 1
    t.join()
    assert got["v"] == (b"q", b"a")


# --- the script cache -----------------------------------------------------


def test_script_load_exists_and_evalsha(r):
    s = r.script_load("return 'loaded'")
    assert s == sha("return 'loaded'")
    assert r.evalsha(s, 0) == b"loaded"
    assert r.evalsha(s.upper(), 0) == b"loaded"
    assert r.script_exists(s, "f" * 40, s.upper()) == [True, False, True]
    # EVAL caches what it runs
    r.eval("return 'evald'", 0)
    assert r.evalsha(sha("return 'evald'"), 0) == b"evald"


def test_noscript(r):
    assert err(r, "EVALSHA", "f" * 40, "0") == "No matching script. Please use EVAL."
    assert err(r, "EVALSHA", "abc", "0") == "No matching script. Please use EVAL."
    assert err(r, "EVALSHA_RO", "f" * 40, "0") == "No matching script. Please use EVAL."
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("f" * 40, 0)


def test_script_flush(r, raw):
    s = r.script_load("return 1")
    assert r.script_flush() is True
    assert r.script_exists(s) == [False]
    s = r.script_load("return 1")
    assert raw.call("SCRIPT", "FLUSH", "ASYNC") == "OK"
    assert raw.call("SCRIPT", "FLUSH", "SYNC") == "OK"
    assert r.script_exists(s) == [False]
    assert raw.call("SCRIPT", "FLUSH", "foo") == ("error", "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    assert raw.call("SCRIPT", "FLUSH", "SYNC", "ASYNC") == (
        "error", "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    # the new state still works and is still sandboxed
    assert r.eval("return redis.call('ping').ok", 0) == b"PONG"
    assert "nonexistent global variable 'os'" in err(r, "EVAL", "return os", "0")


def test_script_kill_help_and_arity(raw):
    assert raw.call("SCRIPT", "KILL") == ("error", "NOTBUSY No scripts in execution right now.")
    help_lines = raw.call("SCRIPT", "HELP")
    assert help_lines[0].startswith("SCRIPT <subcommand>")
    assert any(line.startswith("LOAD") for line in help_lines)
    assert raw.call("SCRIPT", "foo") == ("error", "ERR unknown subcommand 'foo'. Try SCRIPT HELP.")
    assert raw.call("SCRIPT", "LOAD") == ("error", "ERR wrong number of arguments for 'script|load' command")
    assert raw.call("SCRIPT", "EXISTS") == ("error", "ERR wrong number of arguments for 'script|exists' command")
    assert raw.call("EVAL", "return 1") == ("error", "ERR wrong number of arguments for 'eval' command")


def test_compile_errors(r):
    assert err(r, "EVAL", "return (", "0") == (
        "Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    assert err(r, "SCRIPT", "LOAD", "return (") == (
        "Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    assert r.script_exists(sha("return (")) == [False]


def test_shebang_flags(r, raw):
    assert r.eval("#!lua\nreturn 1", 0) == 1
    assert r.eval("#!lua flags=no-writes\nreturn redis.call('get', 'a')", 0) is None
    body = "#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')"
    assert err(r, "EVAL", body, "0") == (
        "Write commands are not allowed from read-only scripts. script: %s, on @user_script:2." % sha(body))
    assert err(r, "EVAL_RO", "#!lua\nreturn 1", "0") == (
        "Can not execute a script with write flag using *_ro command.")
    assert raw.call("EVAL_RO", "#!lua flags=no-writes\nreturn 2", "0") == 2
    assert err(r, "EVAL", "#!lua name=x\nreturn 1", "0") == "Unknown lua shebang option: name=x"
    assert err(r, "EVAL", "#!lua flags=foo\nreturn 1", "0") == "Unexpected flag in script shebang: foo"
    assert err(r, "EVAL", "#!python\nreturn 1", "0") == "Unexpected engine in script shebang: #!python"
    body = "#!lua\nerror('x')"
    assert err(r, "EVAL", body, "0") == "user_script:2: x script: %s, on @user_script:2." % sha(body)


# --- read-only scripts ------------------------------------------------------


def test_eval_ro_refuses_writes(r):
    r.set("a", "1")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "a") == b"1"
    body = "return redis.call('set', KEYS[1], 'x')"
    assert err(r, "EVAL_RO", body, "1", "a") == (
        "Write commands are not allowed from read-only scripts. script: %s, on @user_script:1." % sha(body))
    assert r.get("a") == b"1"
    s = r.script_load(body)
    assert err(r, "EVALSHA_RO", s, "1", "a").startswith("Write commands are not allowed from read-only scripts.")
    assert r.evalsha_ro(r.script_load("return redis.call('get', KEYS[1])"), 1, "a") == b"1"
    assert "not allowed from read-only" in err(r, "EVAL_RO", "return redis.call('publish', 'c', 'm')", "0")
    assert err(r, "EVAL_RO", "return redis.pcall('del', 'a')", "0") == (
        "Write commands are not allowed from read-only scripts.")
    assert r.get("a") == b"1"


# --- the sandbox ------------------------------------------------------------


def test_sandbox_has_no_os_io_or_loaders(r):
    for name in ("os", "io", "loadfile", "dofile", "require", "package", "debug", "print", "setfenv", "getfenv"):
        assert "Script attempted to access nonexistent global variable '%s'" % name in err(
            r, "EVAL", "return %s" % name, "0")
    assert r.eval("return loadstring('return 7')()", 0) == 7
    assert r.eval("return loadstring(string.dump(function() return 1 end))", 0) is None
    assert r.eval("local t = {'return ', '5'} local i = 0 "
                  "return load(function() i = i + 1 return t[i] end)()", 0) == 5


def test_globals_are_read_only(r):
    assert "user_script:1: Attempt to modify a readonly table" in err(r, "EVAL", "x = 1", "0")
    assert "Attempt to modify a readonly table" in err(r, "EVAL", "function f() end", "0")
    assert "Attempt to modify a readonly table" in err(r, "EVAL", "KEYS = 1", "0")
    assert "Attempt to modify a readonly table" in err(r, "EVAL", "rawset(_G, 'x', 1)", "0")
    assert "Attempt to modify a readonly table" in err(r, "EVAL", "_G.x = 1", "0")
    assert "Attempt to modify a readonly table" in err(r, "EVAL", "loadstring('y = 1')()", "0")
    assert "nonexistent global variable 'x'" in err(r, "EVAL", "return x", "0")
    assert err(r, "EVAL", "setmetatable(_G, nil)", "0").startswith("Attempt to modify a readonly table script:")
    assert r.eval("return getmetatable(setmetatable({}, {__index = function() return 9 end})).__index()", 0) == 9
    assert r.eval("local x = 5 return x", 0) == 5
    assert r.eval("local function f(n) return n * 2 end return f(21)", 0) == 42


def test_standard_libraries(r):
    assert r.eval("return string.format('%d-%s', 5, 'x')", 0) == b"5-x"
    assert r.eval("return table.concat({1, 2, 3}, ',')", 0) == b"1,2,3"
    assert r.eval("return math.floor(7.9)", 0) == 7
    assert r.eval("return ('abc'):upper()", 0) == b"ABC"
    assert r.eval("return tonumber('12') + 1", 0) == 13
    assert r.eval("return coroutine.wrap(function() coroutine.yield(7) end)()", 0) == 7
    assert r.eval("return _VERSION", 0) == b"Lua 5.1"


def test_redis_library_helpers(server, r):
    assert r.eval("return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert r.eval("return redis.sha1hex('abc')", 0) == b"a9993e364706816aba3e25717850c26c9cd0d89d"
    assert "wrong number of arguments" in err(r, "EVAL", "return redis.sha1hex()", "0")
    assert r.eval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", 0) == [
        0, 1, 2, 3]
    assert r.eval("redis.log(redis.LOG_WARNING, 'lua-says', 'hello', 3)", 0) is None
    assert "Invalid debug level." in err(r, "EVAL", "redis.log(99, 'x')", "0")
    assert "requires two arguments or more." in err(r, "EVAL", "redis.log(redis.LOG_WARNING)", "0")
    assert r.eval("return redis.replicate_commands()", 0) == 1
    assert r.eval("return redis.REDIS_VERSION", 0) == r.info("server")["redis_version"].encode()
    deadline = time.time() + 5
    while "lua-says hello 3" not in server.output() and time.time() < deadline:
        time.sleep(0.05)
    assert "lua-says hello 3" in server.output()


# --- scripts and the rest of the server ------------------------------------


def test_script_in_multi(r):
    p = r.pipeline(transaction=True)
    p.set("a", "1")
    p.eval("return redis.call('incr', KEYS[1])", 1, "a")
    p.eval("return redis.call('get', KEYS[1])", 1, "a")
    assert p.execute() == [True, 2, b"2"]


def test_script_is_atomic(server, r):
    """A client's write sent while a script runs is applied after it."""
    r.set("x", "0")
    other = server.client()
    t = threading.Thread(target=lambda: (time.sleep(0.05), other.set("x", "other")))
    t.start()
    body = """
        local v = redis.call('get', KEYS[1])
        local start = redis.call('time')
        repeat local now = redis.call('time')
        until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > 300000
        redis.call('set', KEYS[1], v .. '+script')
        return v"""
    assert r.eval(body, 1, "x") == b"0"
    t.join()
    assert r.get("x") == b"other"


def test_script_write_invalidates_watch(server, r):
    r.set("w", "1")
    p = r.pipeline(transaction=True)
    p.watch("w")
    server.client().eval("redis.call('set', KEYS[1], '2')", 1, "w")
    p.multi()
    p.get("w")
    with pytest.raises(redis.WatchError):
        p.execute()


def test_script_client_is_not_listed(r):
    r.eval("return redis.call('ping')", 0)
    clients = r.client_list()
    assert all(c["addr"] != "lua" for c in clients)
    assert r.info("clients")["connected_clients"] == len(clients)


def test_monitor_shows_script_commands(server, r):
    mon = server.raw()
    assert mon.call("MONITOR") == "OK"
    r.eval("return redis.call('set', KEYS[1], 'v')", 1, "monkey")
    lines = [mon.read_reply(), mon.read_reply()]
    assert '"eval"' in lines[0].lower() and "[0 127.0.0.1:" in lines[0]
    assert '[0 lua] "set" "monkey" "v"' in lines[1]
    mon.close()


def test_command_getkeys_and_info(r, raw):
    assert raw.call("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "a") == [b"k1", b"k2"]
    assert raw.call("COMMAND", "GETKEYS", "EVALSHA_RO", "f" * 40, "1", "k1", "a") == [b"k1"]
    info = raw.call("COMMAND", "INFO", "eval_ro")[0]
    assert info[0] == b"eval_ro" and info[1] == -3


# --- redis-py's helpers -------------------------------------------------------


def test_register_script(r):
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["n"], args=[5]) == 5
    r.script_flush()  # the helper reloads with EVAL after NOSCRIPT
    assert incr_by(keys=["n"], args=[2]) == 7
    p = r.pipeline()
    incr_by(keys=["n"], args=[1], client=p)
    assert p.execute() == [8]


def test_lock_acquire_release_extend(server, r):
    lock = r.lock("resource", timeout=5, blocking_timeout=0.2)
    assert lock.acquire()
    other = server.client().lock("resource", timeout=5, blocking_timeout=0.2)
    assert not other.acquire()  # held
    assert lock.owned()
    assert lock.extend(10)
    assert 10_000 < r.pttl("resource") <= 15_000
    assert lock.extend(3, replace_ttl=True)
    assert r.pttl("resource") <= 3000
    assert lock.reacquire()
    assert r.pttl("resource") > 4000
    lock.release()
    assert r.get("resource") is None
    with pytest.raises(redis.exceptions.LockError):
        lock.release()
    assert other.acquire()
    r.set("resource", "someone else")  # the scripts compare the token
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        other.extend(1)
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        other.release()
    assert r.get("resource") == b"someone else"


def test_lock_as_context_manager_and_expiry(r):
    with r.lock("ctx", timeout=0.3):
        assert r.exists("ctx")
    assert not r.exists("ctx")
    lock = r.lock("exp", timeout=0.2)
    assert lock.acquire()
    time.sleep(0.4)
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lock.release()  # it expired and is no longer ours


# --- persistence --------------------------------------------------------------


def test_script_writes_survive_aof_restart():
    srv = RunnelProcess("--appendonly", "yes", "--appendfsync", "always")
    servers = [srv]
    try:
        r = srv.client()
        r.eval("redis.call('set', KEYS[1], ARGV[1]) redis.call('rpush', KEYS[2], 'a', 'b') "
               "redis.call('select', 2) redis.call('set', 'other', 'db2')", 2, "k", "l", "v")
        r.eval("redis.call('set', KEYS[1], 'x', 'EX', 1000) redis.call('incr', 'n') redis.call('incr', 'n')", 1, "ttl")
        r.eval("return redis.call('get', 'k')", 0)  # read-only: nothing logged
        r.eval("redis.set_repl(redis.REPL_NONE) redis.call('set', 'unlogged', '1')", 0)
        p = r.pipeline(transaction=True)  # a script inside MULTI: one MULTI/EXEC in the log
        p.set("in-multi", "1")
        p.eval("redis.call('incr', KEYS[1])", 1, "in-multi")
        p.execute()
        data = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(aof_dir(srv), "*.incr.aof")))
        assert b"EVAL" not in data.upper()
        assert data.count(b"MULTI") == 3 and data.count(b"EXEC") == 3
        new = restart(srv)
        servers.append(new)
        c = new.client()
        assert c.get("k") == b"v"
        assert c.lrange("l", 0, -1) == [b"a", b"b"]
        assert new.client(db=2).get("other") == b"db2"
        assert c.get("n") == b"2"
        assert 900 < c.ttl("ttl") <= 1000
        assert c.get("unlogged") is None
        assert c.get("in-multi") == b"2"
    finally:
        for s in servers:
            s.stop()


def test_info_memory_counts_cached_scripts_and_the_lua_heap(r):
    r.script_flush()
    before = r.info("memory")
    assert before["number_of_cached_scripts"] == 0
    assert before["used_memory_lua"] > 0
    assert before["used_memory_lua"] == before["used_memory_vm_eval"]
    r.script_load("return 1")
    r.eval("local t = {} for i = 1, 10000 do t[i] = i end return #t", 0)
    after = r.info("memory")
    assert after["number_of_cached_scripts"] == 2
    assert after["used_memory_scripts_eval"] > before["used_memory_scripts_eval"]
    assert after["used_memory_scripts"] == after["used_memory_scripts_eval"] + after["used_memory_functions"]
    assert after["used_memory_vm_total"] == after["used_memory_lua"] + after["used_memory_vm_functions"]
    assert after["used_memory_lua_human"].endswith(("B", "K", "M"))
    r.script_flush()
    assert r.info("memory")["number_of_cached_scripts"] == 0


# --- scripts past busy-reply-threshold -------------------------------------

BUSY = "BUSY Runnel is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
LOOP = "while true do end"


def start_busy_script(srv, body, *args):
    """Runs EVAL body on its own connection in a thread; returns the thread
    and a list that gets the reply (or the error) once the script ends."""
    result = []
    conn = srv.client(socket_timeout=30)

    def run():
        try:
            result.append(conn.eval(body, 0, *args))
        except redis.RedisError as e:
            result.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def wait_busy(r, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            r.ping()
        except redis.ResponseError as e:
            if str(e) == BUSY:
                return
            raise
        time.sleep(0.02)
    raise AssertionError("the server never reported BUSY")


@pytest.fixture
def busy_server(fresh_server):
    return fresh_server("--busy-reply-threshold", "100")


def test_script_kill_stops_a_busy_script_and_the_server_serves_again(busy_server):
    r = busy_server.client()
    r.set("kept", "1")
    t, result = start_busy_script(busy_server, LOOP)
    wait_busy(r)
    assert err(r, "GET", "kept") == BUSY
    assert r.execute_command("SCRIPT", "KILL") == b"OK"
    t.join(10)
    assert str(result[0]) == "Script killed by user with SCRIPT KILL... script: %s, on @user_script:1." % sha(LOOP)
    assert r.get("kept") == b"1"
    assert err(r, "SCRIPT", "KILL") == "NOTBUSY No scripts in execution right now."
    assert "Slow script detected" in busy_server.output()


def test_a_killed_script_cannot_catch_the_kill_with_pcall(busy_server):
    r = busy_server.client()
    body = "while true do pcall(function() while true do end end) end"
    t, result = start_busy_script(busy_server, body)
    wait_busy(r)
    r.execute_command("SCRIPT", "KILL")
    t.join(10)
    assert not t.is_alive()
    assert "Script killed by user with SCRIPT KILL" in str(result[0])
    assert r.ping()


def test_a_script_that_wrote_is_unkillable_and_shutdown_needs_nosave(busy_server):
    r = busy_server.client()
    t, result = start_busy_script(busy_server, "redis.call('SET', 'half', 'done') " + LOOP)
    wait_busy(r)
    assert err(r, "SCRIPT", "KILL").startswith("UNKILLABLE Sorry the script already executed write commands")
    assert err(r, "SHUTDOWN") == BUSY
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "NOSAVE")
    busy_server.proc.wait(10)
    assert "exiting without saving" in busy_server.output()


def test_transactions_and_connection_commands_stay_allowed_while_busy(busy_server):
    r = busy_server.client()
    t, result = start_busy_script(busy_server, LOOP)
    wait_busy(r)
    raw = busy_server.raw()
    assert b"proto" in raw.call("HELLO", "2")
    assert raw.call("MULTI") == "OK"
    assert raw.call("SET", "k", "v") == ("error", BUSY)
    assert raw.call("EXEC")[1].startswith("EXECABORT")
    r.execute_command("SCRIPT", "KILL")
    t.join(10)
    assert r.get("k") is None


def test_the_callers_pipelined_commands_wait_for_its_script(busy_server):
    """The caller is not read while its script runs: what it pipelined after
    EVAL runs after the script, in order."""
    raw = busy_server.raw()
    raw.send(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n")
    r = busy_server.client()
    wait_busy(r)
    raw.send(b"*2\r\n$3\r\nGET\r\n$5\r\nafter\r\n")
    r.execute_command("SCRIPT", "KILL")
    assert "Script killed" in raw.read_reply()[1]
    assert raw.read_reply() == "OK"
    assert raw.read_reply() == b"1"


def test_sigterm_while_busy_exits_without_the_scripts_half_written_work(fresh_server):
    srv = fresh_server("--busy-reply-threshold", "100", "--appendonly", "yes")
    r = srv.client()
    r.set("before", "1")
    t, result = start_busy_script(srv, "redis.call('SET', 'half', 'done') " + LOOP)
    wait_busy(r)
    srv.proc.terminate()
    srv.proc.wait(10)
    again = restart(srv)
    try:
        r2 = again.client()
        assert r2.get("before") == b"1"
        assert r2.get("half") is None  # the script's writes are all or nothing
    finally:
        again.stop()


def test_a_script_resumed_after_client_pause_keeps_its_caller_unread_while_busy(busy_server):
    """A command held by CLIENT PAUSE runs later from the pause's end, not
    from the caller's input; its caller must still not be read while its
    script is busy (its arguments, which the slow log reads afterwards,
    point into the query buffer that a read could move)."""
    admin = busy_server.client()
    admin.execute_command("CLIENT", "PAUSE", "10000", "WRITE")
    raw = busy_server.raw()
    raw.send(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n")
    time.sleep(0.2)
    admin.execute_command("CLIENT", "UNPAUSE")
    wait_busy(admin)
    big = b"x" * 200000
    raw.send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n" % (len(big), big))
    time.sleep(0.2)
    admin.execute_command("SCRIPT", "KILL")
    assert "Script killed" in raw.read_reply()[1]
    assert raw.read_reply() == "OK"
    assert admin.strlen("big") == len(big)
    assert admin.slowlog_get(1)[0]["command"].startswith(b"EVAL while true do end")
