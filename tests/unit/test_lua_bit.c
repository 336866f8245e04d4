#include "lua_test_state.h"

TestSuite(lua_bit, .init = lua_test_setup, .fini = lua_test_teardown);

Test(lua_bit, results_are_signed_32_bit)
{
    expect("return bit.band(0xffffffff, 0xff00ff00)", "-16711936");
    expect("return bit.tobit(2^32 + 5)", "5");
    expect("return bit.lshift(1, 31)", "-2147483648");
    expect("return bit.rshift(-1, 28)", "15");
    expect("return bit.arshift(-256, 4)", "-16");
    expect("return bit.bswap(0x12345678)", "2018915346");
    expect("return bit.bor(1, 2, 4) + bit.bxor(7, 2) + bit.bnot(0)", "11");
}

Test(lua_bit, tohex)
{
    expect("return bit.tohex(255)", "000000ff");
    expect("return bit.tohex(-1, -4)", "FFFF");
    expect("return bit.tohex(255, 2) .. bit.tohex(1, 100) .. '|' .. bit.tohex(1, 0) .. '|'", "ff00000001||");
    expect("return bit.tohex(0.5) .. bit.tohex(1.5) .. bit.tohex(2.5)", "000000000000000200000002");
    expect("return bit.tohex('12')", "0000000c");
}

/* LuaBitOp negates the width, which overflows at -2^31 (CVE-2024-31449). */
Test(lua_bit, tohex_width_int32_min)
{
    expect("return bit.tohex(65535, -2147483648)", "0000FFFF");
    expect("return bit.tohex(65535, 2147483648)", "0000FFFF");
}

Test(lua_bit, non_numbers_are_refused)
{
    cr_assert(strstr(lua_test_run("return bit.tohex()"), "bad argument #1 to 'tohex' (number expected, got no value)"));
    cr_assert(strstr(lua_test_run("return bit.tohex(1, 'a')"), "bad argument #2 to 'tohex' (number expected"));
    cr_assert(strstr(lua_test_run("return bit.band(1, {})"), "bad argument #2 to 'band' (number expected"));
}
