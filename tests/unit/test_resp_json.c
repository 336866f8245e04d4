/* Unit tests for http/resp_json.c: RESP2 and RESP3 replies as JSON. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/resp_json.h"

/* The JSON text of the reply in `resp`, which must be whole. */
static const char *as_json(const char *resp, json_object **keep)
{
    size_t used;
    cr_assert(resp_json_parse(resp, strlen(resp), &used, keep), "%s", resp);
    cr_assert_eq(used, strlen(resp), "%s", resp);
    return json_object_to_json_string_ext(*keep, JSON_C_TO_STRING_PLAIN);
}

static void assert_json(const char *resp, const char *want)
{
    json_object *o = NULL;
    const char *got = as_json(resp, &o);
    cr_assert_str_eq(got, want, "%s", resp);
    json_object_put(o);
}

Test(resp_json, scalars)
{
    assert_json("+OK\r\n", "\"OK\"");
    assert_json(":-42\r\n", "-42");
    assert_json("$5\r\nhe\"lo\r\n", "\"he\\\"lo\"");
    assert_json("$0\r\n\r\n", "\"\"");
    assert_json("$-1\r\n", "null");
    assert_json("_\r\n", "null");
    assert_json("#t\r\n", "true");
    assert_json(",1.5\r\n", "\"1.5\"");
    assert_json(",inf\r\n", "\"inf\"");
    assert_json("(123456789012345678901234567890\r\n", "\"123456789012345678901234567890\"");
    assert_json("=8\r\ntxt:abcd\r\n", "\"abcd\"");
    assert_json("-NOGROUP no such group\r\n", "{\"error\":\"NOGROUP no such group\"}");
    assert_json("!3\r\nERR\r\n", "{\"error\":\"ERR\"}");
}

Test(resp_json, aggregates)
{
    assert_json("*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "[\"1-0\",[\"f\",\"v\"]]");
    assert_json("*0\r\n", "[]");
    assert_json("*-1\r\n", "null");
    assert_json("%2\r\n$6\r\nlength\r\n:3\r\n$5\r\ngroup\r\n_\r\n", "{\"length\":3,\"group\":null}");
    assert_json("%1\r\n:7\r\n+x\r\n", "{\"7\":\"x\"}");
    assert_json("~1\r\n+a\r\n", "[\"a\"]");
    assert_json(">2\r\n+message\r\n+m\r\n", "[\"message\",\"m\"]");
    assert_json("|1\r\n+key\r\n+v\r\n:5\r\n", "5");
}

Test(resp_json, refuses_what_is_not_one_whole_reply)
{
    const char *bad[] = {"", "+OK", "+OK\r", ":x\r\n", "$5\r\nabc\r\n", "$3\r\nabcde", "*2\r\n:1\r\n", "?\r\n",
                         "#x\r\n", "_x\r\n", "%1\r\n+k\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *o = (json_object *)1;
        size_t used = 99;
        cr_assert_not(resp_json_parse(bad[i], strlen(bad[i]), &used, &o), "%s", bad[i]);
        cr_assert_null(o);
        cr_assert_eq(used, 0);
    }
    /* nesting deeper than 32 is refused rather than recursed into */
    char deep[200] = "";
    for (int i = 0; i < 40; i++) strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    json_object *o = NULL;
    size_t used;
    cr_assert_not(resp_json_parse(deep, strlen(deep), &used, &o));
}

Test(resp_json, reports_the_bytes_of_the_first_reply)
{
    json_object *o = NULL;
    size_t used;
    cr_assert(resp_json_parse(":1\r\n:2\r\n", 8, &used, &o));
    cr_assert_eq(used, 4);
    json_object_put(o);
}
