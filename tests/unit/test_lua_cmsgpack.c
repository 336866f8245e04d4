#include "lua_test_state.h"

TestSuite(lua_cmsgpack, .init = lua_test_setup, .fini = lua_test_teardown);

Test(lua_cmsgpack, integers_take_the_smallest_encoding)
{
    expect("return hex(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536))", "007fcc80ccffcd0100cdffffce00010000");
    expect("return hex(cmsgpack.pack(4294967295, 4294967296))", "ceffffffffcf0000000100000000");
    expect("return hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769))", "ffe0d0dfd080d1ff7fd18000d2ffff7fff");
    expect("return hex(cmsgpack.pack(-2147483648, -2147483649))", "d280000000d3ffffffff7fffffff");
    expect("return hex(cmsgpack.pack(-2^63))", "d38000000000000000");
}

Test(lua_cmsgpack, floats_are_32_bit_when_exact)
{
    expect("return hex(cmsgpack.pack(1.5))", "ca3fc00000");
    expect("return hex(cmsgpack.pack(0.1))", "cb3fb999999999999a");
    expect("return hex(cmsgpack.pack(1/0, -1/0))", "ca7f800000caff800000");
    expect("return hex(cmsgpack.pack(0/0)):sub(1, 2)", "cb");
    expect("return hex(cmsgpack.pack(-0.0))", "00");
    expect("return hex(cmsgpack.pack(2^63))", "ca5f000000"); /* past int64: a float */
    expect("return hex(cmsgpack.pack(1e300)):sub(1, 2)", "cb");
}

Test(lua_cmsgpack, string_headers)
{
    expect("return hex(cmsgpack.pack('')) .. hex(cmsgpack.pack('ab'))", "a0a26162");
    expect("return hex(cmsgpack.pack(string.rep('a', 31))):sub(1, 2)", "bf");
    expect("return hex(cmsgpack.pack(string.rep('a', 32))):sub(1, 4)", "d920");
    expect("return hex(cmsgpack.pack(string.rep('a', 255))):sub(1, 4)", "d9ff");
    expect("return hex(cmsgpack.pack(string.rep('a', 256))):sub(1, 6)", "da0100");
    expect("return hex(cmsgpack.pack(string.rep('a', 65536))):sub(1, 10)", "db00010000");
}

Test(lua_cmsgpack, arrays_and_maps)
{
    expect("return hex(cmsgpack.pack({}))", "90");
    expect("return hex(cmsgpack.pack({1, 2, 3}))", "93010203");
    expect("return hex(cmsgpack.pack({[1] = 1, [3] = 3})):sub(1, 2)", "82"); /* a hole: a map */
    expect("return hex(cmsgpack.pack({[0] = 1}))", "810001");
    expect("return hex(cmsgpack.pack({[1.5] = true}))", "81ca3fc00000c3");
    expect("local t = {} for i = 1, 16 do t[i] = i end return hex(cmsgpack.pack(t)):sub(1, 6)", "dc0010");
    expect("local t = {} for i = 1, 16 do t['k' .. i] = i end return hex(cmsgpack.pack(t)):sub(1, 6)", "de0010");
    expect("return hex(cmsgpack.pack(true, false, nil, print, cjson.null))", "c3c2c0c0c0");
}

Test(lua_cmsgpack, nesting_past_16_is_nil_and_ends_cycles)
{
    expect("local t = {} t.x = t return #cmsgpack.pack(t)", "49"); /* 16 times {x=...}, then nil */
    expect("local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end "
           "local u = cmsgpack.unpack(cmsgpack.pack(t)) local d = 0 "
           "while type(u) == 'table' do d = d + 1 u = u[1] end return d",
           "16");
}

Test(lua_cmsgpack, pack_needs_input)
{
    expect_error("return cmsgpack.pack()", "MessagePack pack needs input.");
}

Test(lua_cmsgpack, round_trip)
{
    expect("local a, b, c, d = cmsgpack.unpack(cmsgpack.pack(1, 'x', {1, {2}}, {k = {v = -7.25}})) "
           "return a .. b .. c[2][1] .. d.k.v",
           "1x2-7.25");
    expect("local t = {} for i = 1, 70000 do t[i] = i end local u = cmsgpack.unpack(cmsgpack.pack(t)) "
           "return #u .. ',' .. u[70000]",
           "70000,70000");
    expect("return select('#', cmsgpack.unpack(''))", "0");
}

Test(lua_cmsgpack, unsigned_64_wraps_as_in_redis)
{
    expect("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')", "-1");
    expect("return cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0') == -2^63", "true");
    expect("return cmsgpack.unpack('\\208\\128')", "-128");
}

Test(lua_cmsgpack, truncated_input_is_refused_at_every_length)
{
    lua_test_run("full = cmsgpack.pack({1, 'abc', {x = 1.5, y = {true, 0.1}}, 70000, -2^40, string.rep('z', 300)})");
    expect("local bad = 0 for n = 1, #full - 1 do "
           "local ok, e = pcall(cmsgpack.unpack, full:sub(1, n)) "
           "if ok or not e:find('Missing bytes in input.', 1, true) then bad = bad + 1 end end return bad",
           "0");
}

Test(lua_cmsgpack, lengths_larger_than_the_input)
{
    expect_error("return cmsgpack.unpack('\\219\\255\\255\\255\\255abc')", "Missing bytes in input.");
    expect_error("return cmsgpack.unpack('\\221\\255\\255\\255\\255\\1\\2')", "Missing bytes in input.");
    expect_error("return cmsgpack.unpack('\\223\\255\\255\\255\\255\\1\\2')", "Missing bytes in input.");
}

Test(lua_cmsgpack, unsupported_types)
{
    expect_error("return cmsgpack.unpack('\\193')", "Bad data format in input.");
    expect_error("return cmsgpack.unpack('\\196\\1a')", "Bad data format in input."); /* bin 8 */
    expect_error("return cmsgpack.unpack('\\212\\1a')", "Bad data format in input."); /* fixext 1 */
    expect_error("return cmsgpack.unpack('\\129\\192\\1')", "table index is nil");
}

Test(lua_cmsgpack, deep_nesting_runs_out_of_stack_cleanly)
{
    expect("return type(cmsgpack.unpack(string.rep('\\145', 3990) .. '\\1'))", "table");
    expect_error("return cmsgpack.unpack(string.rep('\\145', 100000) .. '\\1')",
                 "stack overflow (in function mp_decode_to_lua_array)");
    expect_error("return cmsgpack.unpack(string.rep('\\129\\1', 100000) .. '\\1')", "stack overflow");
    expect_error("return cmsgpack.unpack(string.rep('\\1', 100000))", "use unpack_one or unpack_limit instead.");
}

Test(lua_cmsgpack, unpack_one_and_limit_offsets)
{
    lua_test_run("s = cmsgpack.pack(1, 2, 3)");
    expect("return table.concat({cmsgpack.unpack_one(s)}, ',')", "1,1");
    expect("return table.concat({cmsgpack.unpack_one(s, 2)}, ',')", "-1,3");
    expect("return table.concat({cmsgpack.unpack_one(s, 3)}, ',')", "-1");
    expect("return table.concat({cmsgpack.unpack_limit(s, 2)}, ',')", "2,1,2");
    expect("return table.concat({cmsgpack.unpack_limit(s, 5, 1)}, ',')", "-1,2,3");
    expect("return table.concat({cmsgpack.unpack_limit(s, 0)}, ',')", "1,2,3"); /* no offset: all */
    expect("return table.concat({cmsgpack.unpack_limit(s, 0, 1)}, ',')", "1"); /* nothing read */
    expect_error("return cmsgpack.unpack_one(s, 4)", "Start offset 4 greater than input length 3.");
    expect_error("return cmsgpack.unpack_one(s, -1)", "Invalid request to unpack with offset of -1 and limit of 3.");
    expect_error("return cmsgpack.unpack_limit(s)", "bad argument #2 to 'unpack_limit'");
}

/* Any bytes at all: an answer or an error, never a crash (run under ASan). */
Test(lua_cmsgpack, random_bytes)
{
    expect("math.randomseed(14) local n = 0 for i = 1, 3000 do local t = {} "
           "for j = 1, math.random(0, 40) do t[j] = string.char(math.random(0, 255)) end "
           "if pcall(cmsgpack.unpack, table.concat(t)) then n = n + 1 end end return n > 0",
           "true");
}
