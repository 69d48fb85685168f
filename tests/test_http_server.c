/* The HTTP/1.1 server over raw sockets: keep-alive and pipelining, the
 * 1.0 and 1.1 rules, bodies (streamed, whole, chunked, limits, 100-continue,
 * drained), responses (framing, HEAD, 204/304, Date, 500 for a handler that
 * did not answer), the server's own rejections, timeouts, shutdown, and a
 * fault-injection walk over whole requests. */
#include "fault_walk.h"
#include "http_util.h"

static int basic(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(echo_http, NULL, NULL);
    char out[4096];
    http_raw(tl_http_server_port(srv),
             "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
             "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
             out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200 OK\r\n"), 2, "%s", out);
    cr_assert(strstr(out, "GET /a/b ?x=1 0:"), "%s", out);
    cr_assert(strstr(out, "POST /p ? 5:hello"), "%s", out);
    cr_assert(strstr(out, "\r\nDate: "), "%s", out);
    cr_assert(strstr(out, "\r\nContent-Length: 16\r\n"), "%s", out);
    http_stop(srv);
    return 0;
}

Test(http_server, two_pipelined_requests_get_two_answers_in_order)
{
    RUN(basic, NULL);
}

/* ---- the research note's 14 hostile requests and the smuggling shapes ---- */

typedef struct hostile {
    const char *name;
    const char *req;
    int status;  /* the one answer expected */
    int handled; /* handler calls expected: 1 for body framing errors */
} hostile;

#define SMUGGLED "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n"

static const hostile hostiles[] = {
    {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, 0},
    {"bare CR in a value (CVE-2023-30589)",
     "POST / HTTP/1.1\r\nHost: h\r\nX-Abc: \rxTransfer-Encoding: "
     "chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n",
     400, 0},
    {"Content-Length with Transfer-Encoding",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
     "0\r\n\r\n" SMUGGLED,
     400, 0},
    {"duplicate identical Content-Length",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nA", 400, 0},
    {"Transfer-Encoding gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
     0},
    {"Transfer-Encoding chunked then identity",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
     "identity\r\n\r\n0\r\n\r\n",
     501, 0},
    {"bare LF line ends", "GET / HTTP/1.1\nHost: h\n\n", 400, 0},
    {"space before the colon", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 1\r\n\r\nA", 400, 0},
    {"Content-Length +1", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nA", 400, 0},
    {"chunk size 0x1",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nA\r\n0\r\n\r\n", 400,
     1},
    {"chunk line ending in a bare LF",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\nA\r\n0\r\n\r\n", 400, 1},
    {"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0},
    {"HTTP/1.0 with Transfer-Encoding",
     "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED, 400, 0},
    {"no Host on HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400, 0},
    /* smuggling shapes beyond the note's list */
    {"TE.CL: a chunked body that hides a request",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
     "1\r\nA\r\n0\r\n\r\n" SMUGGLED,
     400, 0},
    {"TE obfuscated with a leading tab value",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\txchunked\r\n\r\n", 501, 0},
    {"TE chunked, chunked",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501, 0},
    {"TE name with a space before the colon",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, 0},
    {"differing Content-Length",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nAB", 400, 0},
    {"Content-Length list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\nA", 400, 0},
    {"Content-Length -1", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400, 0},
    {"Content-Length 0x1", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x1\r\n\r\nA", 400, 0},
    {"Content-Length 1_0", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1_0\r\n\r\n", 400, 0},
    {"Content-Length overflowing",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, 0},
    {"NUL in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 400, 0},
    {"DEL in a name", "GET / HTTP/1.1\r\nHost: h\r\nX\x7f: a\r\n\r\n", 400, 0},
    {"space before the first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, 0},
    {"CR alone ending a line", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400, 0},
    {"chunk size overflowing",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     "10000000000000001\r\nA\r\n0\r\n\r\n",
     400, 1},
    {"chunk size with a sign",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n+1\r\nA\r\n0\r\n\r\n", 400,
     1},
    {"chunk data longer than its size",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nAB\r\n0\r\n\r\n", 400,
     1},
    {"HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, 0},
    {"HTTP/0.9 request line", "GET /\r\n\r\n", 400, 0},
    {"Expect other than 100-continue", "GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n", 417, 0},
    {"unknown method token", "GE@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
    {"space in the target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400, 0},
};

static int hostile_walk(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(echo_http, NULL, NULL);
    char out[8192];
    for (size_t i = 0; i < sizeof hostiles / sizeof *hostiles; i++) {
        const hostile *h = &hostiles[i];
        size_t len = strlen(h->req);
        if (strstr(h->name, "NUL"))
            len = 35;
        http_calls = 0;
        http_raw_ex(tl_http_server_port(srv), h->req, len, false, out, sizeof out);
        char want[64];
        snprintf(want, sizeof want, "HTTP/1.1 %d ", h->status);
        cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s: %s", h->name, out);
        cr_assert_eq(count_of(out, "HTTP/1.1 "), 1, "%s: one answer only: %s", h->name, out);
        cr_assert(strstr(out, "\r\nConnection: close\r\n"), "%s: %s", h->name, out);
        cr_assert_eq(http_calls, h->handled, "%s: handler calls", h->name);
    }
    http_stop(srv);
    return 0;
}

Test(http_server, hostile_requests_get_one_answer_and_a_close_and_never_reach_a_handler)
{
    RUN(hostile_walk, NULL);
}
