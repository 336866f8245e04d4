/* The "#!lua name=<lib>" line of a library and the names functions may
 * have; messages as redis-server 7.0.15 gives them. */
#include <criterion/criterion.h>
#include <string.h>

#include "scripting/function_meta.h"

static bool parse(const char *code, struct function_meta *m, char *err)
{
    return function_meta_parse(code, strlen(code), m, err, 256);
}

static void expect_error(const char *code, const char *message)
{
    struct function_meta m;
    char err[256] = "";
    cr_assert_not(parse(code, &m, err), "%s", code);
    cr_assert_str_eq(err, message, "%s", code);
    cr_assert_null(m.name);
    cr_assert_null(m.engine);
}

Test(function_meta, reads_engine_name_and_where_the_body_starts)
{
    struct function_meta m;
    char err[256];
    const char *code = "#!lua name=mylib\nreturn 1";
    cr_assert(parse(code, &m, err));
    cr_assert_str_eq(m.engine, "lua");
    cr_assert_str_eq(m.name, "mylib");
    cr_assert_eq(m.body_offset, 16);
    cr_assert_eq(code[m.body_offset], '\n');
    function_meta_free(&m);
}

Test(function_meta, blanks_key_case_and_engine_case)
{
    struct function_meta m;
    char err[256];
    cr_assert(parse("#!LUA \t NAME=x  \r\n", &m, err));
    cr_assert_str_eq(m.engine, "LUA");
    cr_assert_str_eq(m.name, "x");
    function_meta_free(&m);
}

Test(function_meta, quoted_tokens_and_escapes)
{
    struct function_meta m;
    char err[256];
    cr_assert(parse("#!lua name=\"a\\x42c\"\n", &m, err));
    cr_assert_str_eq(m.name, "aBc");
    function_meta_free(&m);
    cr_assert(parse("#!lua 'name=it\\'s'\n", &m, err));
    cr_assert_str_eq(m.name, "it's");
    function_meta_free(&m);
}

Test(function_meta, errors)
{
    expect_error("return 1", "Missing library metadata");
    expect_error("", "Missing library metadata");
    expect_error("#!lua name=x", "Invalid library metadata");
    expect_error("#!lua name=\"x\n", "Invalid library metadata");
    expect_error("#!lua name=\"x\"y\n", "Invalid library metadata");
    expect_error("#!lua\n", "Library name was not given");
    expect_error("#!lua foo=bar name=x\n", "Invalid metadata value given: foo=bar");
    expect_error("#!lua name=x name=y\n", "Invalid metadata value, name argument was given multiple times");
}

Test(function_meta, a_nul_ends_the_line)
{
    struct function_meta m;
    char err[256];
    const char code[] = "#!lua name=a\0junk=1\nreturn";
    cr_assert(function_meta_parse(code, sizeof(code) - 1, &m, err, sizeof(err)));
    cr_assert_str_eq(m.name, "a");
    cr_assert_eq(m.body_offset, 19);
    function_meta_free(&m);
}

Test(function_meta, names)
{
    cr_assert(function_name_valid("a_B9", 4));
    cr_assert(function_name_valid("1", 1));
    cr_assert_not(function_name_valid("", 0));
    cr_assert_not(function_name_valid("a-b", 3));
    cr_assert_not(function_name_valid("a b", 3));
    cr_assert_not(function_name_valid("\xc3\xa9", 2));
}
