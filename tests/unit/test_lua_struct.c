#include "lua_test_state.h"

TestSuite(lua_struct, .init = lua_test_setup, .fini = lua_test_teardown);

Test(lua_struct, integer_layouts_and_byte_order)
{
    expect("return hex(struct.pack('>bBhH', -1, 255, -2, 65535))", "ffff" "fffe" "ffff");
    expect("return hex(struct.pack('<hi', 1, -4))", "0100" "fcffffff");
    expect("return hex(struct.pack('>lT', -3, 7))", "fffffffffffffffd" "0000000000000007");
    expect("return hex(struct.pack('>i3i5', -2, 2^33))", "fffffe" "0200000000");
    expect("return hex(struct.pack('>i16', -1))", "0000000000000000ffffffffffffffff");
    expect("return #struct.pack('i0', 5)", "0");
}

Test(lua_struct, out_of_range_numbers_convert_as_on_x86)
{
    expect("return hex(struct.pack('>l', 0/0))", "8000000000000000");
    expect("return hex(struct.pack('>l', 2^64))", "0000000000000000");
    expect("return hex(struct.pack('>l', -2^64))", "8000000000000000");
    expect("return hex(struct.pack('>L', 2^63 + 2^12))", "8000000000001000");
}

Test(lua_struct, unpack_signs_and_positions)
{
    expect("return table.concat({struct.unpack('>bBhHi3', struct.pack('>bBhHi3', -1, 255, -2, 65535, -5))}, ',')",
           "-1,255,-2,65535,-5,10");
    expect("return table.concat({struct.unpack('>i32', string.rep('\\255', 32))}, ',')", "-1,33");
    expect("return table.concat({struct.unpack('>i9', '\\255' .. string.rep('\\0', 8))}, ',')", "0,10");
    expect("return table.concat({struct.unpack('i', 'abcdefgh', 5)}, ',')", "1751606885,9");
    expect("return struct.unpack('i0', 'x')", "0");
}

Test(lua_struct, floats)
{
    expect("return hex(struct.pack('>fd', 1.5, -2.25))", "3fc00000c002000000000000");
    expect("return struct.unpack('<d', struct.pack('<d', 0.1)) == 0.1", "true");
    expect("return struct.unpack('>f', struct.pack('>f', 1e300))", "inf");
}

Test(lua_struct, strings)
{
    expect("return hex(struct.pack('s c3 c0 x', 'ab', 'xyzw', 'qq'))", "616200" "78797a" "7171" "00");
    expect("return table.concat({struct.unpack('s c2', 'hello\\0abc')}, ',')", "hello,ab,9");
    expect("return table.concat({struct.unpack('Bc0', '\\3abcd')}, ',')", "abc,5");
    expect_error("return struct.unpack('s', 'abc')", "unfinished string in data");
    expect_error("return struct.unpack('c0', 'abc')", "format 'c0' needs a previous size");
    expect_error("return struct.pack('c3', 'ab')", "bad argument #3 to 'pack' (string too short)");
}

Test(lua_struct, alignment)
{
    expect("return hex(struct.pack('!4bi!8bd', 1, 2, 3, 4))", "01000000" "02000000" "0300000000000000" "0000000000001040");
    expect("return struct.size('!4bd')", "12");
    expect_error("return struct.pack('!6i', 1)", "alignment 6 is not a power of 2");
}

Test(lua_struct, sizes)
{
    expect("return struct.size('bhilfd')", "27");
    expect("return struct.size('!bhilfd')", "32");
    expect("return struct.size('c10 i7 x')", "18");
    expect("return struct.size('q')", "0"); /* unknown letters count for nothing, as in Redis */
    expect_error("return struct.size('#')", "invalid format option '#'");
    expect_error("return struct.size('s')", "option 's' has no fixed size");
    expect_error("return struct.size('c0')", "option 'c0' has no fixed size");
}

Test(lua_struct, refused_formats_and_arguments)
{
    expect_error("return struct.pack('z', 1)", "bad argument #1 to 'pack' (invalid format option 'z')");
    expect_error("return struct.pack('i33', 1)", "integral size 33 is larger than limit of 32");
    expect_error("return struct.pack('i99999999999', 1)", "integral size overflow");
    expect_error("return struct.pack('c99999999999', 'a')", "integral size overflow");
    expect_error("return struct.pack('i')", "bad argument #2 to 'pack' (number expected, got nil)");
    expect_error("return struct.unpack('i', 'abc')", "bad argument #2 to 'unpack' (data string too short)");
    expect_error("return struct.unpack('i', 'abcd', 0)", "offset must be 1 or greater");
    expect_error("return struct.unpack('i', 'abcd', -1)", "data string too short");
    expect_error("return struct.unpack('bc0', '\\255ab')", "data string too short");
}
