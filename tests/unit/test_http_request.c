/* Unit tests for http/http_request.c (the request-head parser) and
 * http/http_auth.c (the password check of the HTTP endpoint). */
#include <criterion/criterion.h>
#include <string.h>

#include "http/http_auth.h"
#include "http/http_request.h"

static const struct http_limits limits = {512, 4};

static enum http_parse_result parse(const char *text, struct http_request *r)
{
    return http_request_parse(text, strlen(text), &limits, r);
}

Test(http_request, parses_a_get_with_headers)
{
    struct http_request r;
    const char *text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization:  Bearer s3cret \r\n\r\nGET";
    cr_assert_eq(parse(text, &r), HTTP_PARSE_DONE);
    cr_assert_eq(r.method_len, 3);
    cr_assert(strncmp(r.method, "GET", 3) == 0);
    cr_assert_eq(r.path_len, 8);
    cr_assert(strncmp(r.path, "/metrics", 8) == 0);
    cr_assert_eq(r.authorization_len, 13);
    cr_assert(strncmp(r.authorization, "Bearer s3cret", 13) == 0);
    cr_assert_eq(r.minor_version, 1);
    cr_assert(r.keep_alive);
    cr_assert_eq(r.header_count, 2);
    cr_assert_eq(r.head_len, strlen(text) - 3, "the pipelined bytes after the head are not consumed");
}

Test(http_request, keep_alive_follows_version_and_connection_header)
{
    struct http_request r;
    cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n", &r), HTTP_PARSE_DONE);
    cr_assert_not(r.keep_alive);
    cr_assert_eq(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), HTTP_PARSE_DONE);
    cr_assert(r.keep_alive);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nconnection: close\r\n\r\n", &r), HTTP_PARSE_DONE);
    cr_assert_not(r.keep_alive);
}

Test(http_request, refuses_malformed_heads)
{
    struct http_request r;
    const char *bad[] = {
        "GET\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET / HTTP/11\r\n\r\n",
        "GET / FTP/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nX: \x01\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse(bad[i], &r), HTTP_PARSE_BAD, "accepted: %s", bad[i]);
}

/* Heads that are incomplete, of another version, or carry a body. */
Test(http_request, results_by_input)
{
    static const struct {
        const char *text;
        enum http_parse_result result;
    } cases[] = {
        {"", HTTP_PARSE_MORE},
        {"GET / HTTP/1.1\r\nHost: a\r\n", HTTP_PARSE_MORE},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r", HTTP_PARSE_MORE},
        {"GET / HTTP/1.1\r\n\r\n", HTTP_PARSE_DONE},
        {"GET / HTTP/2.0\r\n\r\n", HTTP_PARSE_BAD_VERSION},
        {"GET / HTTP/1.2\r\n\r\n", HTTP_PARSE_BAD_VERSION},
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", HTTP_PARSE_HAS_BODY},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_PARSE_HAS_BODY},
        {"GET / HTTP/1.1\r\nContent-Length: 00\r\n\r\n", HTTP_PARSE_DONE},
    };
    struct http_request r;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(parse(cases[i].text, &r), cases[i].result, "case %zu: %s", i, cases[i].text);
}

Test(http_request, enforces_the_limits)
{
    struct http_request r;
    cr_assert_eq(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", &r), HTTP_PARSE_DONE);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", &r), HTTP_PARSE_TOO_MANY);
    char big[600];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    cr_assert_eq(http_request_parse(big, 511, &limits, &r), HTTP_PARSE_MORE);
    cr_assert_eq(http_request_parse(big, 512, &limits, &r), HTTP_PARSE_TOO_LARGE);
    cr_assert_eq(http_request_parse(big, sizeof(big), &limits, &r), HTTP_PARSE_TOO_LARGE);
    const char *reason;
    cr_assert_eq(http_parse_status(HTTP_PARSE_TOO_LARGE, &reason), 431);
    cr_assert_eq(http_parse_status(HTTP_PARSE_HAS_BODY, &reason), 413);
    cr_assert_eq(http_parse_status(HTTP_PARSE_BAD_VERSION, &reason), 505);
    cr_assert_eq(http_parse_status(HTTP_PARSE_BAD, &reason), 400);
    cr_assert_str_eq(reason, "Bad Request");
}

/* Users for the checks: default with password "pw", and worker with "wpw". */
static const char default_user[] = "default", worker_user[] = "worker";

static void *verify(const char *user, size_t ulen, const char *pass, size_t plen)
{
    if (ulen == 7 && !memcmp(user, "default", 7))
        return plen == 2 && !memcmp(pass, "pw", 2) ? (void *)default_user : NULL;
    if (ulen == 6 && !memcmp(user, "worker", 6))
        return plen == 3 && !memcmp(pass, "wpw", 3) ? (void *)worker_user : NULL;
    return NULL;
}

static const char *auth(const char *header)
{
    return http_auth_user(header, header ? strlen(header) : 0, verify);
}

Test(http_auth, names_the_user_of_bearer_and_basic_pairs)
{
    cr_assert_null(auth(NULL));
    cr_assert_eq(auth("Bearer pw"), default_user);
    cr_assert_eq(auth("bearer pw"), default_user);
    cr_assert_null(auth("Bearer pw2"));
    cr_assert_null(auth("Bearer p"));
    cr_assert_null(auth("Bearer "));
    cr_assert_null(auth("Bearerpw"));
    cr_assert_eq(auth("Basic ZGVmYXVsdDpwdw=="), default_user, "default:pw");
    cr_assert_eq(auth("Basic d29ya2VyOndwdw=="), worker_user, "worker:wpw");
    cr_assert_null(auth("Basic d29ya2VyOnB3"), "worker:pw");
    cr_assert_null(auth("Basic YW55b25lOnB3"), "anyone:pw");
    cr_assert_eq(auth("Basic OnB3"), default_user, ":pw is the default user");
    cr_assert_null(auth("Basic ZGVmYXVsdDpwdzI="), "default:pw2");
    cr_assert_null(auth("Basic cHc="), "no colon");
    cr_assert_null(auth("Basic !!!!"));
    cr_assert_null(auth("Digest pw"));
}

/* The console's fields: the query string, Host, Origin and X-CSRF-Token,
 * each allowed once. */
Test(http_request, keeps_query_host_origin_and_csrf_token)
{
    struct http_request r;
    const char *text = "POST /api/action/ack?key=a%20b&id=1-0 HTTP/1.1\r\nHost: h:1\r\nOrigin: http://h:1\r\n"
                       "X-CSRF-Token: abc\r\nContent-Length: 0\r\n\r\n";
    cr_assert_eq(parse(text, &r), HTTP_PARSE_DONE);
    cr_assert_eq(r.path_len, strlen("/api/action/ack"));
    cr_assert_eq(r.query_len, strlen("key=a%20b&id=1-0"));
    cr_assert(strncmp(r.query, "key=a%20b&id=1-0", r.query_len) == 0);
    cr_assert(r.host_len == 3 && strncmp(r.host, "h:1", 3) == 0);
    cr_assert(r.origin_len == 10 && strncmp(r.origin, "http://h:1", 10) == 0);
    cr_assert(r.csrf_token_len == 3 && strncmp(r.csrf_token, "abc", 3) == 0);
    cr_assert_eq(parse("GET / HTTP/1.1\r\n\r\n", &r), HTTP_PARSE_DONE);
    cr_assert_null(r.query);
    cr_assert_null(r.origin);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nOrigin: a\r\norigin: b\r\n\r\n", &r), HTTP_PARSE_BAD);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nX-CSRF-Token: a\r\nx-csrf-token: b\r\n\r\n", &r), HTTP_PARSE_BAD);
}

static void assert_param(const char *query, const char *name, const char *want)
{
    str v = http_query_param(query, strlen(query), name);
    if (!want) {
        cr_assert_null(v, "%s in %s", name, query);
        return;
    }
    cr_assert_not_null(v, "%s in %s", name, query);
    cr_assert_eq(str_len(v), strlen(want));
    cr_assert(memcmp(v, want, strlen(want)) == 0, "%s in %s", name, query);
    str_free(v);
}

Test(http_request, query_params_are_decoded)
{
    assert_param("key=a%20b&id=1-0", "key", "a b");
    assert_param("key=a%20b&id=1-0", "id", "1-0");
    assert_param("key=a+b", "key", "a b");
    assert_param("k=%28%29%3d%3D", "k", "()==");
    assert_param("kk=1&k=2", "k", "2");
    assert_param("k", "k", "");
    assert_param("k=", "k", "");
    assert_param("a=1", "k", NULL);
    assert_param("k=%2", "k", NULL);
    assert_param("k=%zz", "k", NULL);
    assert_param("k=%", "k", NULL);
    assert_param("", "k", NULL);
}

/* A body up to the limit, whole before the request is done; one
 * Content-Length only; the Cookie, Content-Type and X-Requested-With. */
Test(http_request, takes_a_small_body_and_the_login_headers)
{
    static const struct http_limits with_body = {512, 8, 16};
    struct http_request r;
    const char *text = "POST /api/login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                       "Cookie: a=1; runnel_session=x\r\nX-Requested-With: runnel-console\r\nContent-Length: 11\r\n\r\n"
                       "user=a&pw=bNEXT";
    size_t head = strlen(text) - strlen("user=a&pw=bNEXT");
    cr_assert_eq(http_request_parse(text, head + 5, &with_body, &r), HTTP_PARSE_MORE);
    cr_assert_eq(http_request_parse(text, strlen(text), &with_body, &r), HTTP_PARSE_DONE);
    cr_assert_eq(r.body_len, 11);
    cr_assert(strncmp(r.body, "user=a&pw=b", 11) == 0);
    cr_assert_eq(r.head_len, head);
    cr_assert_eq(r.length, head + 11);
    cr_assert(r.cookie_len == 21 && strncmp(r.cookie, "a=1; runnel_session=x", 21) == 0);
    cr_assert(r.content_type_len == 33);
    cr_assert(r.from_script);
    const char *big = "POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n";
    cr_assert_eq(http_request_parse(big, strlen(big), &with_body, &r), HTTP_PARSE_HAS_BODY);
    const char *twice = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx";
    cr_assert_eq(http_request_parse(twice, strlen(twice), &with_body, &r), HTTP_PARSE_BAD);
    const char *none = "GET / HTTP/1.1\r\n\r\n";
    cr_assert_eq(http_request_parse(none, strlen(none), &with_body, &r), HTTP_PARSE_DONE);
    cr_assert_null(r.body);
    cr_assert_eq(r.length, r.head_len);
}
