#include "lua_test_state.h"

TestSuite(lua_cjson, .init = lua_test_setup, .fini = lua_test_teardown);

Test(lua_cjson, encodes_and_decodes_as_redis)
{
    expect("return cjson.encode({1, 2, {a = 'x\\0/\\127'}})", "[1,2,{\"a\":\"x\\u0000\\/\\u007f\"}]");
    expect("return cjson.encode(3.14159265358979)", "3.1415926535898");
    expect("return cjson.encode({[1] = 1, [3] = 3})", "[1,null,3]");
    expect("return cjson.encode({})", "{}");
    expect("return cjson.decode('{\"a\":[1,null,3]}').a[2] == cjson.null", "true");
    expect("return cjson.decode('\"\\\\u00e9\"')", "\xc3\xa9");
    expect("return cjson.decode('\"\\255\\254\"')", "\xff\xfe"); /* invalid UTF-8 passes through */
}

Test(lua_cjson, refusals_keep_the_library_wording)
{
    expect_error("return cjson.encode(0/0)", "Cannot serialise number: must not be NaN or Inf");
    expect_error("return cjson.encode(print)", "Cannot serialise function: type not supported");
    expect_error("return cjson.encode({[1] = 1, [30] = 3})", "Cannot serialise table: excessively sparse array");
    expect_error("local t = {} t.x = t return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)");
    /* Two paths per level: the size walk must stop at the first too-deep one. */
    expect_error("local t = {} t[1] = t t[2] = t return cjson.encode(t)", "Cannot serialise, excessive nesting (1001)");
    expect_error("cjson.encode_max_depth(3) return cjson.encode({{{{}}}})", "Cannot serialise, excessive nesting (4)");
    expect("return cjson.encode({{{}}})", "[[{}]]");
    expect_error("return cjson.decode(string.rep('[', 1001))", "Found too many nested data structures (1001)");
    expect_error("return cjson.decode('[1,2')", "Expected comma or array end but found T_END at character 5");
    expect_error("return cjson.encode()", "bad argument #1 to 'encode' (expected 1 argument)");
    expect_error("return cjson.decode({})", "bad argument #1 to 'decode' (string expected, got table)");
    expect_error("return cjson.encode_max_depth(0)", "bad argument #1 to 'encode_max_depth' (expected integer");
}

/* The library's errors carry the caller's position, as without the wrapper. */
Test(lua_cjson, errors_name_the_calling_line)
{
    expect_error("return cjson.decode('[')", "[string \"return cjson.decode('[')\"]:1: Expected value");
}

Test(lua_cjson, settings_and_instances)
{
    expect("return cjson.encode_max_depth()", "1000");
    expect("return cjson.encode_number_precision()", "14");
    expect("local j = cjson.new() j.encode_number_precision(3) return j.encode(3.14159) .. ' ' .. cjson.encode(3.14159)",
           "3.14 3.14159");
    expect("local j = cjson.new() j.encode_invalid_numbers('null') return j.encode({0/0, 1/0})", "[null,null]");
    expect("local j = cjson.new().new() j.encode_max_depth(2) return pcall(j.encode, {{{}}})", "false");
}

/* Debian's 2.1.0 sizes its buffer in ints: a text past 1 GB is refused
 * before any of it is written (Redis's copy is patched instead). */
Test(lua_cjson, texts_that_could_pass_1_gb_are_refused)
{
    expect_error("local s = string.rep('a', 1024 * 1024) local t = {} for i = 1, 200 do t[i] = s end "
                 "return cjson.encode(t)",
                 "Cannot serialise table: the JSON text could exceed");
    expect_error("cjson.encode_sparse_array(false, 0) return cjson.encode({[2^28] = 1})",
                 "Cannot serialise table: the JSON text could exceed");
    expect_error("local j = cjson.new() j.encode_sparse_array(false, 0) return j.encode({[2^28] = 1})",
                 "the JSON text could exceed");
    expect("local s = string.rep('a', 1024 * 1024) local t = {} for i = 1, 10 do t[i] = s end "
           "return #cjson.encode(t)",
           "10485791");
}
