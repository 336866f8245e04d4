"""The libraries Redis gives scripts — cjson, cmsgpack, bit, struct —
through EVAL: present, read-only, and answering as redis-server 7.0.15 does
(every expected value and error text below was checked against it)."""
import pytest
import redis


def err(r, script, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.eval(script, 0, *args)
    return str(e.value)


# --- in the sandbox -----------------------------------------------------------


def test_libraries_are_globals(r):
    assert r.eval("return {type(cjson), type(cmsgpack), type(bit), type(struct)}", 0) == [
        b"table"] * 4
    assert r.eval("return {cjson._VERSION, cmsgpack._VERSION}", 0) == [b"2.1.0", b"lua-cmsgpack 0.4.0"]


@pytest.mark.parametrize("script", [
    "cjson = nil", "cmsgpack = {}", "bit = 1", "struct = nil",
    "cjson.encode = nil", "cmsgpack.pack = tostring", "bit.band = nil", "struct.x = 1",
    "rawset(cjson, 'encode', 1)", "setmetatable(struct, {})",
])
def test_libraries_cannot_be_changed(r, script):
    assert "Attempt to modify a readonly table" in err(r, script)
    assert r.eval("return cjson.encode({cmsgpack.unpack(cmsgpack.pack(bit.band(3, 6)))})", 0) == b"[2]"


def test_settings_last_until_script_flush(r):
    """As in Redis, a setting is the library's, shared by the scripts after
    it; SCRIPT FLUSH starts a new state."""
    try:
        assert r.eval("return cjson.encode_max_depth(7)", 0) == 7
        assert r.eval("return cjson.encode_max_depth()", 0) == 7
    finally:
        r.script_flush()
    assert r.eval("return cjson.encode_max_depth()", 0) == 1000


def test_errors_carry_the_script_position(r):
    msg = err(r, "local x = 1\nreturn cjson.decode('[1,2')")
    assert msg.startswith("user_script:2: Expected comma or array end but found T_END at character 5 script: ")
    assert msg.endswith(", on @user_script:2.")
    assert err(r, "return struct.pack('z', 1)").startswith(
        "user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: ")
    assert err(r, "return cmsgpack.unpack('\\193')").startswith("user_script:1: Bad data format in input.")


# --- cjson ---------------------------------------------------------------------


def test_cjson_encode(r):
    assert r.eval("return cjson.encode({1, 2, 3, {a = 1}})", 0) == b'[1,2,3,{"a":1}]'
    assert r.eval("return cjson.encode({a = 'x\\0y\\1\\127\\255/\"\\\\'})", 0) == (
        b'{"a":"x\\u0000y\\u0001\\u007f\xff\\/\\"\\\\"}')
    assert r.eval("return cjson.encode({3.14159265358979, 1e300, 123456789012345678, -0.0, 1e-7})", 0) == (
        b"[3.1415926535898,1e+300,1.2345678901235e+17,-0,1e-07]")
    assert r.eval("return cjson.encode({[1] = 1, [3] = 3})", 0) == b"[1,null,3]"
    assert r.eval("return cjson.encode({[1] = 1, x = 3})", 0) in (b'{"1":1,"x":3}', b'{"x":3,"1":1}')
    assert r.eval("return cjson.encode({})", 0) == b"{}"
    assert r.eval("return cjson.encode(cjson.null)", 0) == b"null"


def test_cjson_encode_refusals(r):
    assert "Cannot serialise number: must not be NaN or Inf" in err(r, "return cjson.encode(0/0)")
    assert "Cannot serialise number: must not be NaN or Inf" in err(r, "return cjson.encode({1/0})")
    assert "Cannot serialise table: excessively sparse array" in err(r, "return cjson.encode({[1] = 1, [30] = 3})")
    assert "Cannot serialise function: type not supported" in err(r, "return cjson.encode(redis.call)")
    assert "table key must be a number or string" in err(r, "return cjson.encode({[true] = 1})")
    assert "Cannot serialise, excessive nesting (1001)" in err(r, "local t = {} t.x = t return cjson.encode(t)")
    assert "Cannot serialise, excessive nesting (1001)" in err(r, "local t = {} t[1] = t t[2] = t return cjson.encode(t)")
    assert "bad argument #1 to 'encode' (expected 1 argument)" in err(r, "return cjson.encode(1, 2)")


def test_cjson_decode(r):
    assert r.eval("return cjson.decode('[1,2,3]')", 0) == [1, 2, 3]
    assert r.eval("return cjson.decode('{\"a\":[1,null,3]}').a[2] == cjson.null", 0) == 1
    assert r.eval("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", 0) == "é😀".encode()
    assert r.eval("return cjson.decode('\"\\255\\254\"')", 0) == b"\xff\xfe"  # invalid UTF-8 passes
    assert r.eval("return cjson.decode('[1e1000]')[1] == 1/0", 0) == 1
    assert r.eval("return cjson.decode('0x10')", 0) == 16
    assert r.eval("return cjson.decode(12)", 0) == 12
    assert r.eval("return cjson.decode(string.rep('[', 999) .. string.rep(']', 999)) and 1", 0) == 1


@pytest.mark.parametrize("text,message", [
    ("[1,2", "Expected comma or array end but found T_END at character 5"),
    ("", "Expected value but found T_END at character 1"),
    ('{"a":1,}', "Expected object key string but found T_OBJ_END at character 8"),
    ("[1] x", "Expected the end but found invalid token at character 5"),
    ('"abc', "Expected value but found unexpected end of string at character 5"),
    ('"\\ud83d"', "Expected value but found invalid unicode escape code at character 2"),
    ("[" * 1001 + "]" * 1001, "Found too many nested data structures (1001) at character 1001"),
])
def test_cjson_decode_refusals(r, text, message):
    assert message in err(r, "return cjson.decode(ARGV[1])", text)


def test_cjson_settings_and_instances(r):
    assert r.eval("return {cjson.encode_max_depth(), cjson.decode_max_depth(), "
                  "cjson.encode_number_precision(), cjson.encode_keep_buffer()}", 0) == [1000, 1000, 14, 1]
    assert r.eval("return {cjson.encode_sparse_array()}", 0) == [None, 2, 10]
    assert "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)" in err(
        r, "return cjson.encode_number_precision(15)")
    assert "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)" in err(
        r, "local j = cjson.new() return j.encode_max_depth(0)")
    assert "excessive nesting (3)" in err(r, "local j = cjson.new() j.encode_max_depth(2) return j.encode({{{}}})")
    assert r.eval("local j = cjson.new() j.encode_number_precision(3) "
                  "return {j.encode(3.14159), cjson.encode(3.14159)}", 0) == [b"3.14", b"3.14159"]
    assert r.eval("local j = cjson.new() j.encode_invalid_numbers(true) return j.encode({0/0, 1/0})", 0) in (
        b"[nan,inf]", b"[-nan,inf]")
    assert r.eval("local j = cjson.new() j.encode_invalid_numbers('null') return j.encode({0/0})", 0) == b"[null]"
    assert r.eval("local j = cjson.new() j.encode_sparse_array(true) return j.encode({[1] = 1, [30] = 3})",
                  0) in (b'{"1":1,"30":3}', b'{"30":3,"1":1}')
    assert "invalid token" in err(r, "local j = cjson.new() j.decode_invalid_numbers(false) return j.decode('nan')")


def test_cjson_refuses_texts_past_1_gb(r):
    assert "Cannot serialise table: the JSON text could exceed" in err(
        r, "local j = cjson.new() j.encode_sparse_array(false, 0) return j.encode({[2^28] = 1})")


# --- cmsgpack ------------------------------------------------------------------


def test_cmsgpack_pack_encodings(r):
    assert r.eval("return cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -129, -32769)", 0) == (
        bytes.fromhex("007fcc80ccffcd0100cdffffce00010000ffe0d0dfd1ff7fd2ffff7fff"))
    assert r.eval("return cmsgpack.pack(4294967296, -2147483649)", 0) == bytes.fromhex(
        "cf0000000100000000d3ffffffff7fffffff")
    assert r.eval("return cmsgpack.pack(1.5, 0.1, 1/0, 2^63)", 0) == bytes.fromhex(
        "ca3fc00000cb3fb999999999999aca7f800000ca5f000000")
    assert r.eval("return cmsgpack.pack(0/0)", 0)[:1] == b"\xcb"
    assert r.eval("return cmsgpack.pack({}, {1, 2}, {[0] = 1}, true, false, nil)", 0) == bytes.fromhex(
        "90920102810001c3c2c0")
    assert r.eval("return cmsgpack.pack(string.rep('a', 32))", 0)[:2] == b"\xd9\x20"
    assert r.eval("return cmsgpack.pack(string.rep('a', 256))", 0)[:3] == b"\xda\x01\x00"
    assert r.eval("local t = {} t.x = t return #cmsgpack.pack(t)", 0) == 49  # 16 levels, then nil
    assert "MessagePack pack needs input." in err(r, "return cmsgpack.pack()")


def test_cmsgpack_round_trip(r):
    assert r.eval("local a, b, c = cmsgpack.unpack(cmsgpack.pack(1, 'x', {1, {k = 'v'}})) "
                  "return {a, b, c[2].k}", 0) == [1, b"x", b"v"]
    assert r.eval("local t = {} for i = 1, 70000 do t[i] = i end "
                  "local u = cmsgpack.unpack(cmsgpack.pack(t)) return {#u, u[70000]}", 0) == [70000, 70000]
    assert r.eval("return cmsgpack.unpack(ARGV[1])", 0, bytes.fromhex("cfffffffffffffffff")) == -1


@pytest.mark.parametrize("data,message", [
    ("cd01", "Missing bytes in input."),
    ("9201", "Missing bytes in input."),
    ("dbffffffff616263", "Missing bytes in input."),
    ("ddffffffff0102", "Missing bytes in input."),
    ("c1", "Bad data format in input."),
    ("c40161", "Bad data format in input."),
    ("d40161", "Bad data format in input."),
    ("81c001", "table index is nil"),
    ("91" * 10000 + "01", "stack overflow (in function mp_decode_to_lua_array)"),
    ("01" * 10000, "too many return values at once; use unpack_one or unpack_limit instead."),
])
def test_cmsgpack_unpack_refusals(r, data, message):
    assert message in err(r, "return cmsgpack.unpack(ARGV[1])", bytes.fromhex(data))


def test_cmsgpack_unpack_one_and_limit(r):
    s = bytes.fromhex("010203")
    assert r.eval("return {cmsgpack.unpack_one(ARGV[1])}", 0, s) == [1, 1]
    assert r.eval("return {cmsgpack.unpack_one(ARGV[1], 2)}", 0, s) == [-1, 3]
    assert r.eval("return {cmsgpack.unpack_limit(ARGV[1], 2)}", 0, s) == [2, 1, 2]
    assert r.eval("return {cmsgpack.unpack_limit(ARGV[1], 0)}", 0, s) == [1, 2, 3]
    assert "Start offset 4 greater than input length 3." in err(r, "return cmsgpack.unpack_one(ARGV[1], 4)", s)
    assert "Invalid request to unpack with offset of -1 and limit of 3." in err(
        r, "return cmsgpack.unpack_one(ARGV[1], -1)", s)


# --- bit and struct -------------------------------------------------------------


def test_bit(r):
    assert r.eval("return {bit.band(0xffffffff, 0xff00ff00), bit.tobit(2^32 + 5), bit.lshift(1, 31), "
                  "bit.arshift(-256, 4), bit.bswap(0x12345678)}", 0) == [-16711936, 5, -2147483648, -16, 2018915346]
    assert r.eval("return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(1.5)}", 0) == [
        b"000000ff", b"FFFF", b"00000002"]
    assert r.eval("return bit.tohex(65535, -2147483648)", 0) == b"0000FFFF"  # Redis's CVE-2024-31449 fix
    assert "bad argument #1 to 'tohex' (number expected, got no value)" in err(r, "return bit.tohex()")


def test_struct(r):
    assert r.eval("return struct.pack('>bBhHi3', -1, 255, -2, 65535, -5)", 0) == bytes.fromhex("ffff" "fffe" "ffff" "fffffb")
    assert r.eval("return {struct.unpack('>bBhHi3', ARGV[1])}", 0, bytes.fromhex("fffffffeffff" "fffffb")) == [
        -1, 255, -2, 65535, -5, 10]
    assert r.eval("return {struct.unpack('s c2', ARGV[1])}", 0, b"hello\0abc") == [b"hello", b"ab", 9]
    assert r.eval("return {struct.unpack('Bc0', ARGV[1])}", 0, b"\x03abcd") == [b"abc", 5]
    assert r.eval("return {struct.size('bhilfd'), struct.size('!bhilfd'), struct.size('!4bd')}", 0) == [27, 32, 12]
    assert r.eval("return tostring(struct.unpack('<d', struct.pack('<d', 2.5)))", 0) == b"2.5"


@pytest.mark.parametrize("script,message", [
    ("return struct.pack('i33', 1)", "integral size 33 is larger than limit of 32"),
    ("return struct.pack('i99999999999', 1)", "integral size overflow"),
    ("return struct.pack('!3i', 1)", "alignment 3 is not a power of 2"),
    ("return struct.pack('i')", "bad argument #2 to 'pack' (number expected, got nil)"),
    ("return struct.pack('c2', 'a')", "bad argument #3 to 'pack' (string too short)"),
    ("return struct.unpack('i', 'abc')", "bad argument #2 to 'unpack' (data string too short)"),
    ("return struct.unpack('i', 'abcd', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)"),
    ("return struct.unpack('s', 'abc')", "unfinished string in data"),
    ("return struct.unpack('c0', 'ab')", "format 'c0' needs a previous size"),
    ("return struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)"),
    ("return struct.size('z#')", "bad argument #1 to 'size' (invalid format option '#')"),
])
def test_struct_refusals(r, script, message):
    assert message in err(r, script)
