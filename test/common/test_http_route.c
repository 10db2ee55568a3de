/*
 * Goal: the HTTP route table matches as the edge promises: rows in order, exact paths and
 * slash-star prefixes, 405 (with the Allow set) only for a known path, 404 otherwise.
 * Method: ais_route_match over a table shaped like the gateway's, with handlers that are never
 * called; method bits and the Allow header text checked directly.
 */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
// clang-format on

#include "common/http.h"

static void
h_a(struct ais_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
}

static const struct ais_route routes[] = {
    {AIS_M_GET | AIS_M_HEAD, "/v1/health", h_a},
    {AIS_M_GET | AIS_M_PUT | AIS_M_HEAD | AIS_M_DELETE, "/v1/objects/*", h_a},
    {AIS_M_GET, "/v1/buckets", h_a},
    {AIS_M_POST | AIS_M_DELETE, "/v1/buckets/*", h_a},
    {AIS_M_GET | AIS_M_PUT, "/v1/daemon", h_a},
    {AIS_M_PUT, "/v1/daemon/setconfig", h_a},
    {AIS_M_GET, "/v1/buckets/*", h_a}, /* after a row with the same pattern */
};
#define N (sizeof(routes) / sizeof(routes[0]))

static void
test_match(void **state)
{
    (void)state;
    unsigned allow = 0;
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/health", &allow), 0);
    assert_int_equal(ais_route_match(routes, N, "HEAD", "/v1/health", &allow), 0);
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/objects/b/o/x", &allow), 1);
    assert_int_equal(ais_route_match(routes, N, "DELETE", "/v1/objects/", &allow), 1);
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/objects", &allow), -ENOENT);
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/buckets", &allow), 2);
    assert_int_equal(ais_route_match(routes, N, "POST", "/v1/buckets/b", &allow), 3);
    /* The first row with the pattern lacks GET; the later one has it. */
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/buckets/b", &allow), 6);
    assert_int_equal(ais_route_match(routes, N, "PUT", "/v1/daemon/setconfig", &allow), 5);
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/daemonx", &allow), -ENOENT);
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/nope", &allow), -ENOENT);
    assert_int_equal(ais_route_match(routes, N, "GET", "", &allow), -ENOENT);
    assert_int_equal(ais_route_match(routes, 0, "GET", "/v1/health", &allow), -ENOENT);
}

static void
test_405_allow(void **state)
{
    (void)state;
    unsigned allow = 0;
    char buf[64];
    assert_int_equal(ais_route_match(routes, N, "POST", "/v1/objects/b/o", &allow), -EPERM);
    assert_int_equal(allow, AIS_M_GET | AIS_M_PUT | AIS_M_HEAD | AIS_M_DELETE);
    assert_string_equal(ais_http_allow_str(allow, buf, sizeof(buf)), "GET, HEAD, PUT, DELETE");
    assert_int_equal(ais_route_match(routes, N, "PATCH", "/v1/buckets/b", &allow), -EPERM);
    assert_int_equal(allow, AIS_M_GET | AIS_M_POST | AIS_M_DELETE);
    assert_int_equal(ais_route_match(routes, N, "BREW", "/v1/health", &allow), -EPERM);
    assert_int_equal(allow, AIS_M_GET | AIS_M_HEAD);
    assert_int_equal(ais_route_match(routes, N, "GET", "/v1/daemon/setconfig", &allow), -EPERM);
    assert_int_equal(allow, AIS_M_PUT);
}

static void
test_methods(void **state)
{
    (void)state;
    char buf[64], tiny[6];
    assert_int_equal(ais_http_method_bit("GET"), AIS_M_GET);
    assert_int_equal(ais_http_method_bit("PATCH"), AIS_M_PATCH);
    assert_int_equal(ais_http_method_bit("get"), 0);
    assert_int_equal(ais_http_method_bit("OPTIONS"), 0);
    assert_int_equal(ais_http_method_bit(NULL), 0);
    assert_string_equal(ais_http_allow_str(0, buf, sizeof(buf)), "");
    assert_string_equal(ais_http_allow_str(AIS_M_PATCH | AIS_M_GET, buf, sizeof(buf)),
                        "GET, PATCH");
    /* Truncation keeps whole names only. */
    assert_string_equal(ais_http_allow_str(AIS_M_GET | AIS_M_HEAD, tiny, sizeof(tiny)), "GET");
}

/* The acceptor's first-line check: well-formed, malformed (with why), incomplete. */
static void
test_line_check(void **state)
{
    (void)state;
    const char *why = NULL;
    static const char *const good[] = {
        "GET / HTTP/1.1\r\n", "PUT /v1/objects/b/o?x=1 HTTP/1.0\r\nHost: x\r\n",
        "\r\n\r\nGET /a HTTP/1.1\n", "M-SEARCH * HTTP/1.1\r\n"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ais_http_line_check(good[i], strlen(good[i]), &why), 1);
    }
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"GARBAGE\r\n", "malformed request line"},
        {"GET\r\n", "malformed request line"},
        {"GET  / HTTP/1.1\r\n", "malformed request line"},
        {"G(T / HTTP/1.1\r\n", "malformed request line"},
        {"GET /a b HTTP/1.1\r\n", "a space inside"},
        {"GET /a\x01b HTTP/1.1\r\n", "control character"},
        {"GET / HTTP/2.0\r\n", "unsupported HTTP version"},
        {"GET / HTTP/1.10\r\n", "unsupported HTTP version"},
        {"GET / \r\n", "unsupported HTTP version"},
        {"\x16\x03\x01\x02\x01\n", "malformed request line"}, /* a TLS hello */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(ais_http_line_check(bad[i].line, strlen(bad[i].line), &why), 0);
        assert_non_null(strstr(why, bad[i].why));
    }
    assert_int_equal(ais_http_line_check("GET / HTT", 9, &why), -1);
    assert_int_equal(ais_http_line_check("", 0, &why), -1);
    assert_int_equal(ais_http_line_check("\r\n", 2, &why), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_405_allow),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_line_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
