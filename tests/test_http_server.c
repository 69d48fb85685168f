/* The HTTP/1.1 server over raw sockets: keep-alive and pipelining, the
 * 1.0 and 1.1 rules, bodies (streamed, whole, chunked, limits, 100-continue,
 * drained), responses (framing, HEAD, 204/304, Date, 500 for a handler that
 * did not answer), the server's own rejections, timeouts, shutdown, and a
 * fault-injection walk over whole requests. */
#include <time.h>

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

/* ---- pipelining: the same answers however the bytes are split ---- */

static const char pipeline[] =
    "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
    "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
    "POST /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3;ext=\"q\"\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
    "\r\nGET /four?z HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

/* Without the Date lines, which may differ from one run to the next. */
static void strip_dates(char *s)
{
    char *d;
    while ((d = strstr(s, "Date: "))) {
        char *e = strstr(d, "\r\n");
        memmove(d, e + 2, strlen(e + 2) + 1);
    }
}

static int split_walk(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(echo_http, NULL, NULL);
    int port = tl_http_server_port(srv);
    size_t len = sizeof pipeline - 1;
    char want[4096], got[4096];
    http_raw_ex(port, pipeline, len, false, want, sizeof want);
    strip_dates(want);
    cr_assert_eq(count_of(want, "HTTP/1.1 200 OK"), 4, "%s", want);
    cr_assert(strstr(want, "POST /three ? 5:abcde"), "%s", want);
    cr_assert(strstr(want, "GET /four ?z 0:"), "%s", want);
    for (size_t cut = 1; cut < len; cut++) {
        tl_stream *s = NULL;
        cr_assert_eq(tl_open_connection("127.0.0.1", port, &s), 0);
        cr_assert_eq(tl_stream_write(s, pipeline, cut), 0);
        tl_sleep(0.001); /* the server reads the first part alone */
        cr_assert_eq(tl_stream_write(s, pipeline + cut, len - cut), 0);
        size_t n = 0;
        ssize_t r;
        while ((r = tl_stream_read(s, got + n, sizeof got - 1 - n)) > 0)
            n += (size_t)r;
        got[n] = 0;
        tl_stream_close(s);
        strip_dates(got);
        cr_assert_str_eq(got, want, "split at byte %zu: %s", cut, got);
    }
    http_stop(srv);
    return 0;
}

Test(http_server, pipelined_requests_split_at_every_byte_get_the_same_answers)
{
    RUN(split_walk, NULL);
}

/* ---- HTTP/1.0 and 1.1 keep-alive rules ---- */

static int versions(void *arg)
{
    (void)arg;
    tl_http_server_opts o = {.max_requests = 2};
    tl_http_server *srv = http_serve(echo_http, NULL, &o);
    int port = tl_http_server_port(srv);
    char out[8192];
    const char r10[] = "GET / HTTP/1.0\r\n\r\nGET /again HTTP/1.0\r\n\r\n";
    http_raw_ex(port, r10, sizeof r10 - 1, false, out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200"), 1, "1.0 closes by default: %s", out);
    cr_assert(strstr(out, "Connection: close\r\n"));
    const char ka[] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                      "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    http_raw_ex(port, ka, sizeof ka - 1, true, out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200"), 2, "%s", out);
    cr_assert_eq(count_of(out, "Connection: keep-alive\r\n"), 1, "%s", out);
    cr_assert_eq(count_of(out, "Connection: close\r\n"), 1, "the cap of 2: %s", out);
    const char cl[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                      "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    http_raw_ex(port, cl, sizeof cl - 1, false, out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200"), 1, "%s", out);
    const char cap[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
                       "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    http_raw_ex(port, cap, sizeof cap - 1, false, out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200"), 2, "max_requests: %s", out);
    cr_assert_eq(count_of(out, "Connection: close\r\n"), 1, "%s", out);
    http_stop(srv);
    return 0;
}

Test(http_server, http10_closes_unless_asked_and_the_request_cap_closes)
{
    RUN(versions, NULL);
}

/* ---- responses ---- */

static int respond(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    http_calls++;
    const char *p = tl_http_req_path(req);
    if (!strcmp(p, "/stream")) {
        tl_http_resp_add_header(resp, "X-Kind", "stream");
        for (int i = 0; i < 3; i++) {
            int rc = tl_http_resp_write(resp, "part;", 5);
            if (rc)
                return rc;
        }
        return tl_http_resp_end(resp);
    }
    if (!strcmp(p, "/length")) {
        cr_assert_eq(tl_http_resp_add_header(resp, "Content-Length", "6"), 0);
        cr_assert_eq(tl_http_resp_write(resp, "abc", 3), 0);
        cr_assert_eq(tl_http_resp_write(resp, "defg", 4), TL_EMSGSIZE);
        cr_assert_eq(tl_http_resp_write(resp, "def", 3), 0);
        return 0; /* ended for it */
    }
    if (!strcmp(p, "/204"))
        return tl_http_resp_send(resp, 204, NULL, "ignored", 7);
    if (!strcmp(p, "/304"))
        return tl_http_resp_send(resp, 304, NULL, NULL, 0);
    if (!strcmp(p, "/nothing"))
        return 0;
    if (!strcmp(p, "/fail-early"))
        return TL_EIO;
    if (!strcmp(p, "/fail-late")) {
        tl_http_resp_write(resp, "partial", 7);
        return TL_EIO;
    }
    if (!strcmp(p, "/headers")) {
        cr_assert_eq(tl_http_resp_add_header(resp, "X-Bad", "a\r\nInjected: 1"), TL_EINVAL);
        cr_assert_eq(tl_http_resp_add_header(resp, "Transfer-Encoding", "chunked"), TL_EINVAL);
        cr_assert_eq(tl_http_resp_add_header(resp, "Bad Name", "x"), TL_EINVAL);
        cr_assert_eq(tl_http_resp_add_header(resp, "Connection", "upgrade"), TL_EINVAL);
        cr_assert_eq(tl_http_resp_set_status(resp, 99), TL_EINVAL);
        cr_assert_str_eq(tl_http_req_header(req, "x-MIXED"), "Case");
        cr_assert_eq(tl_http_req_header(req, "absent"), NULL);
        cr_assert_eq(tl_http_req_header_count(req), 2);
        const char *n, *v;
        cr_assert_eq(tl_http_req_header_at(req, 1, &n, &v), 0);
        cr_assert_str_eq(n, "X-Mixed");
        cr_assert_str_eq(v, "Case");
        cr_assert_eq(tl_http_req_header_at(req, 2, &n, &v), TL_ERANGE);
        cr_assert_eq(tl_http_req_version(req), 11);
        cr_assert_str_eq(tl_http_req_target(req), "/headers?q=1");
        cr_assert_eq(tl_http_resp_add_header(resp, "Date", "Thu, 01 Jan 1970 00:00:00 GMT"), 0);
        int rc = tl_http_resp_send(resp, 201, "text/plain", "made", 4);
        cr_assert_eq(tl_http_resp_send(resp, 200, NULL, "", 0), TL_EALREADY);
        cr_assert_eq(tl_http_resp_add_header(resp, "Late", "x"), TL_EALREADY);
        return rc;
    }
    return tl_http_resp_send(resp, 200, "text/plain", "body", 4);
}

static int responses(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(respond, NULL, NULL);
    int port = tl_http_server_port(srv);
    char out[8192];
    http_raw(port, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
    cr_assert(strstr(out, "Transfer-Encoding: chunked\r\n"), "%s", out);
    cr_assert(strstr(out, "X-Kind: stream\r\n"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\n5\r\npart;\r\n5\r\npart;\r\n5\r\npart;\r\n0\r\n\r\n"), "%s",
              out);
    http_raw(port, "GET /stream HTTP/1.0\r\n\r\n", out, sizeof out);
    cr_assert_null(strstr(out, "chunked"), "never chunked to 1.0: %s", out);
    cr_assert(strstr(out, "Connection: close\r\n"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\npart;part;part;"), "%s", out);
    http_raw(port, "GET /length HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
    cr_assert(strstr(out, "Content-Length: 6\r\n\r\nabcdef"), "%s", out);
    cr_assert_null(strstr(out, "chunked"));
    /* HEAD: the GET's length, no body, and the next answer right behind */
    http_raw(port, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", out,
             sizeof out);
    cr_assert_eq(count_of(out, "Content-Length: 4\r\n"), 2, "%s", out);
    cr_assert_eq(count_of(out, "body"), 1, "%s", out);
    cr_assert(strstr(out, "\r\n\r\nHTTP/1.1 200"), "%s", out);
    http_raw(port, "GET /204 HTTP/1.1\r\nHost: h\r\n\r\nGET /304 HTTP/1.1\r\nHost: h\r\n\r\n", out,
             sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 204 No Content\r\n"), "%s", out);
    cr_assert(strstr(out, "HTTP/1.1 304 Not Modified\r\n"), "%s", out);
    cr_assert_null(strstr(out, "Content-Length"), "%s", out);
    cr_assert_null(strstr(out, "ignored"), "%s", out);
    /* no answer from the handler: 500, and the connection serves on */
    http_raw(port,
             "GET /nothing HTTP/1.1\r\nHost: h\r\n\r\nGET /fail-early HTTP/1.1\r\nHost: h\r\n\r\n"
             "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
             out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 500 Internal Server Error\r\n"), 2, "%s", out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200 OK\r\n"), 1, "%s", out);
    /* failing after the head: cut short, no final chunk, closed */
    http_raw(port, "GET /fail-late HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
             out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 "), 1, "%s", out);
    cr_assert(strstr(out, "7\r\npartial\r\n"), "%s", out);
    cr_assert_null(strstr(out, "0\r\n\r\n"), "%s", out);
    http_raw(port, "GET /headers?q=1 HTTP/1.1\r\nHost: h\r\nX-Mixed: Case\r\n\r\n", out,
             sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 201 Created\r\n"), "%s", out);
    cr_assert_eq(count_of(out, "Date: "), 1, "the handler's Date only: %s", out);
    cr_assert(strstr(out, "Date: Thu, 01 Jan 1970"), "%s", out);
    http_stop(srv);
    return 0;
}

Test(http_server, responses_are_framed_by_the_server_and_headless_ones_carry_no_body)
{
    RUN(responses, NULL);
}

static int date_format(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(respond, NULL, NULL);
    char out[4096];
    http_raw(tl_http_server_port(srv), "GET / HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
    char *d = strstr(out, "\r\nDate: ");
    cr_assert(d);
    char day[4], mon[4], gmt[4];
    int dd, yy, h, m, sec;
    cr_assert_eq(
        sscanf(d + 8, "%3s, %d %3s %d %d:%d:%d %3s", day, &dd, mon, &yy, &h, &m, &sec, gmt), 8,
        "%s", d);
    cr_assert_eq(d[11], ',');
    cr_assert_str_eq(gmt, "GMT");
    cr_assert(strstr("SunMonTueWedThuFriSat", day) &&
              strstr("JanFebMarAprMayJunJulAugSepOctNovDec", mon));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    cr_assert(yy == tm.tm_year + 1900 &&
              (h * 3600 + m * 60 + sec) <= tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec + 1);
    http_stop(srv);
    return 0;
}

Test(http_server, the_date_header_is_an_imf_fixdate_of_now)
{
    RUN(date_format, NULL);
}

/* ---- bodies ---- */

static int read_small(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    http_calls++;
    if (!strcmp(tl_http_req_path(req), "/ignore"))
        return tl_http_resp_send(resp, 200, NULL, "ignored", 7);
    char buf[3], all[256];
    size_t n = 0;
    ssize_t r;
    while ((r = tl_http_req_read(req, buf, sizeof buf)) > 0) {
        memcpy(all + n, buf, (size_t)r);
        n += (size_t)r;
    }
    if (r < 0)
        return (int)r;
    cr_assert_eq(tl_http_req_read(req, buf, sizeof buf), 0, "0 again at the end");
    return tl_http_resp_send(resp, 200, NULL, all, n);
}

static int bodies(void *arg)
{
    (void)arg;
    tl_http_server_opts o = {.max_body = 100, .max_drain = 50};
    tl_http_server *srv = http_serve(read_small, NULL, &o);
    int port = tl_http_server_port(srv);
    char out[8192];
    http_raw(port,
             "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
             "4\r\nabcd\r\n1;a=b;c\r\ne\r\n0\r\n\r\n",
             out, sizeof out);
    cr_assert(strstr(out, "\r\n\r\n0123456789HTTP"), "streamed in small reads: %s", out);
    cr_assert(strstr(out, "Content-Length: 5\r\n"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\nabcde"), "%s", out);
    /* a declared length over max_body: 413 before the handler */
    http_calls = 0;
    http_raw(port, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 413 Content Too Large\r\n"), "%s", out);
    cr_assert_eq(http_calls, 0);
    /* chunked over max_body: 413 and close */
    char big[512];
    snprintf(big, sizeof big,
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
             "40\r\n%064d\r\n40\r\n%064d\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
             0, 0);
    http_raw(port, big, out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 413 "), "%s", out);
    cr_assert_eq(count_of(out, "HTTP/1.1 "), 1, "%s", out);
    /* a long chunk extension */
    char ext[8192];
    snprintf(ext, sizeof ext,
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;e=%05000d\r\n", 0);
    http_raw(port, ext, out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 400 "), "%s", out);
    /* unread bodies: drained when small, else the connection closes */
    http_raw(port,
             "POST /ignore HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"
             "POST /ignore HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
             "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
             "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
             out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200 "), 3, "%s", out);
    snprintf(big, sizeof big,
             "POST /ignore HTTP/1.1\r\nHost: h\r\nContent-Length: 80\r\n\r\n%080d"
             "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
             0);
    http_raw(port, big, out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 200 "), 1, "%s", out);
    cr_assert(strstr(out, "Connection: close\r\n"), "over max_drain: %s", out);
    http_stop(srv);
    return 0;
}

Test(http_server, bodies_are_read_as_framed_limited_and_drained)
{
    RUN(bodies, NULL);
}

/* Expect: 100-continue: the interim answer at the first read, and only then. */
static int expect(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(read_small, NULL, NULL);
    int port = tl_http_server_port(srv);
    tl_stream *s = NULL;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &s), 0);
    const char head[] =
        "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    tl_stream_write(s, head, sizeof head - 1);
    char line[64];
    const char want[] = "HTTP/1.1 100 Continue\r\n\r\n";
    cr_assert_eq(tl_stream_readexactly(s, line, sizeof want - 1, NULL), 0);
    cr_assert_eq(memcmp(line, want, sizeof want - 1), 0);
    tl_stream_write(s, "data", 4);
    tl_stream_write_eof(s);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = tl_stream_read(s, out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = 0;
    tl_stream_close(s);
    cr_assert(strstr(out, "HTTP/1.1 200 OK\r\n") == out, "%s", out);
    cr_assert(strstr(out, "\r\n\r\ndata"), "%s", out);
    /* not read: no 100, and the connection closes after the answer */
    const char unread[] =
        "POST /ignore HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
    http_raw_ex(port, unread, sizeof unread - 1, false, out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 200 OK\r\n") == out, "%s", out);
    cr_assert(strstr(out, "Connection: close\r\n"), "%s", out);
    http_stop(srv);
    return 0;
}

Test(http_server, expect_100_continue_is_answered_at_the_first_read_only)
{
    RUN(expect, NULL);
}

/* ---- limits of the head ---- */

static int head_limits(void *arg)
{
    (void)arg;
    tl_http_server_opts o = {.max_head = 1024, .max_line = 256, .max_headers = 4};
    tl_http_server *srv = http_serve(echo_http, NULL, &o);
    int port = tl_http_server_port(srv);
    char req[4096], out[4096];
    http_calls = 0;
    snprintf(req, sizeof req, "GET /%0300d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    http_raw(port, req, out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 414 URI Too Long\r\n") == out, "%s", out);
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\nX: %01100d\r\n\r\n", 0);
    http_raw(port, req, out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 431 ") == out, "%s", out);
    http_raw(port, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", out,
             sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 431 ") == out, "five fields: %s", out);
    cr_assert_eq(http_calls, 0);
    http_raw(port, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 200 ") == out, "four fields: %s", out);
    http_stop(srv);
    return 0;
}

Test(http_server, a_long_line_is_414_and_a_big_head_or_too_many_fields_431)
{
    RUN(head_limits, NULL);
}

static int bad_start(void *arg)
{
    (void)arg;
    tl_http_server *srv = (tl_http_server *)1;
    cr_assert_eq(tl_http_server_start(NULL, NULL, "127.0.0.1", 0, NULL, &srv), TL_EINVAL);
    cr_assert_null(srv);
    return 0;
}

Test(http_server, no_handler_is_einval)
{
    RUN(bad_start, NULL);
}

/* ---- timeouts ---- */

static int slow_handler(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    http_calls++;
    const char *p = tl_http_req_path(req);
    if (!strcmp(p, "/flood")) {
        /* a client that never reads: the write timeout ends this */
        static char chunk[65536];
        for (;;) {
            int rc = tl_http_resp_write(resp, chunk, sizeof chunk);
            if (rc)
                return rc;
        }
    }
    if (!strcmp(p, "/sleep")) {
        int rc = tl_sleep(atof(tl_http_req_query(req)));
        if (rc)
            return rc;
    }
    char *body;
    size_t len;
    int rc = tl_http_req_body(req, &body, &len);
    if (rc)
        return rc;
    free(body);
    return tl_http_resp_send(resp, 200, NULL, "done", 4);
}

static int timeouts(void *arg)
{
    (void)arg;
    tl_http_server_opts o = {
        .head_timeout = 0.2, .idle_timeout = 0.2, .body_timeout = 0.2, .write_timeout = 0.2};
    tl_http_server *srv = http_serve(slow_handler, NULL, &o);
    int port = tl_http_server_port(srv);
    char out[4096];
    /* a head that never ends: 408 */
    double t0 = tl_time();
    http_raw_ex(port, "GET / HTTP/1.1\r\nHost: h\r\nX-Slow", 31, false, out, sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 408 Request Timeout\r\n") == out, "%s", out);
    cr_assert(elapsed_since(t0) >= 0.2 && elapsed_since(t0) < 0.2 + 2 * TOL);
    /* no byte at all after accept: a silent close at the head timeout */
    t0 = tl_time();
    cr_assert_eq(http_raw_ex(port, "", 0, false, out, sizeof out), 0);
    cr_assert(elapsed_since(t0) >= 0.2 && elapsed_since(t0) < 0.2 + 2 * TOL);
    /* keep-alive idle: one answer, then a silent close */
    t0 = tl_time();
    http_raw_ex(port, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27, false, out, sizeof out);
    cr_assert_eq(count_of(out, "HTTP/1.1 "), 1, "%s", out);
    cr_assert(elapsed_since(t0) >= 0.2 && elapsed_since(t0) < 0.2 + 2 * TOL);
    /* a body that stops: 408 and close */
    http_raw_ex(port, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01", 50, false, out,
                sizeof out);
    cr_assert(strstr(out, "HTTP/1.1 408 ") == out, "%s", out);
    /* a client that does not read: the handler's write times out, the connection ends */
    tl_stream *s = NULL;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &s), 0);
    tl_stream_write(s, "GET /flood HTTP/1.1\r\nHost: h\r\n\r\n", 32);
    tl_sleep(0.1);
    cr_assert_eq(tl_http_server_connections(srv), 1);
    double deadline = tl_time() + 3;
    while (tl_http_server_connections(srv) && tl_time() < deadline)
        tl_sleep(0.05);
    cr_assert_eq(tl_http_server_connections(srv), 0, "the write timed out");
    tl_stream_close(s);
    http_stop(srv);
    return 0;
}

Test(http_server, head_idle_body_and_write_timeouts_end_the_connection)
{
    RUN(timeouts, NULL);
}

/* ---- graceful shutdown ---- */

typedef struct client_job {
    int port;
    const char *req;
    char out[1024];
} client_job;

static int client(void *arg)
{
    client_job *j = arg;
    http_raw_ex(j->port, j->req, strlen(j->req), false, j->out, sizeof j->out);
    return 0;
}

static int shutdown_graceful(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(slow_handler, NULL, NULL);
    int port = tl_http_server_port(srv);
    client_job idle = {.port = port, .req = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"};
    client_job busy = {.port = port, .req = "GET /sleep?0.3 HTTP/1.1\r\nHost: h\r\n\r\n"};
    tl_task *a = tl_create_task(client, &idle), *b = tl_create_task(client, &busy);
    tl_sleep(0.1);
    cr_assert_eq(tl_http_server_connections(srv), 2);
    double t0 = tl_time();
    cr_assert_eq(tl_http_server_shutdown(srv, 5), 0);
    cr_assert(elapsed_since(t0) >= 0.15 && elapsed_since(t0) < 0.3 + TOL);
    tl_await(a);
    tl_await(b);
    cr_assert_eq(count_of(idle.out, "HTTP/1.1 200"), 1, "%s", idle.out);
    cr_assert(strstr(busy.out, "HTTP/1.1 200 OK\r\n") == busy.out, "%s", busy.out);
    cr_assert(strstr(busy.out, "Connection: close\r\n"), "%s", busy.out);
    tl_task_release(a);
    tl_task_release(b);
    tl_stream *s;
    cr_assert_neq(tl_open_connection("127.0.0.1", port, &s), 0, "no longer listening");
    tl_http_server_free(srv);
    return 0;
}

Test(http_server, shutdown_closes_idle_connections_and_lets_requests_finish)
{
    RUN(shutdown_graceful, NULL);
}

static int shutdown_late(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(slow_handler, NULL, NULL);
    client_job busy = {.port = tl_http_server_port(srv),
                       .req = "GET /sleep?30 HTTP/1.1\r\nHost: h\r\n\r\n"};
    tl_task *b = tl_create_task(client, &busy);
    tl_sleep(0.1);
    double t0 = tl_time();
    cr_assert_eq(tl_http_server_shutdown(srv, 0.2), TL_ETIMEDOUT);
    cr_assert(elapsed_since(t0) < 0.2 + TOL);
    tl_await(b);
    tl_task_release(b);
    cr_assert(strstr(busy.out, "HTTP/1.1 503 Service Unavailable\r\n") == busy.out, "%s", busy.out);
    cr_assert(strstr(busy.out, "Connection: close\r\n"), "%s", busy.out);
    tl_http_server_free(srv);
    return 0;
}

Test(http_server, shutdown_cancels_what_outlasts_the_grace_period)
{
    RUN(shutdown_late, NULL);
}

static int free_while_busy(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(slow_handler, NULL, NULL);
    client_job busy = {.port = tl_http_server_port(srv),
                       .req = "GET /sleep?30 HTTP/1.1\r\nHost: h\r\n\r\n"};
    tl_task *b = tl_create_task(client, &busy);
    tl_sleep(0.1);
    tl_http_server_free(srv); /* the connection ends on its own, after */
    tl_await(b);
    tl_task_release(b);
    return 0;
}

Test(http_server, free_with_a_request_in_flight_cancels_it_safely)
{
    RUN(free_while_busy, NULL);
}

/* ---- fault injection over whole requests ---- */

static int fault_workload(void *arg)
{
    (void)arg;
    tl_http_server *srv = NULL;
    int rc = tl_http_server_start(echo_http, NULL, "127.0.0.1", 0, NULL, &srv);
    if (rc)
        return rc;
    tl_stream *s = NULL;
    rc = tl_open_connection("127.0.0.1", tl_http_server_port(srv), &s);
    if (!rc) {
        const char req[] = "POST /a?b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n0\r\n\r\n"
                           "GET /stream HTTP/1.0\r\n\r\n";
        rc = tl_stream_write(s, req, sizeof req - 1);
        char out[2048];
        size_t n = 0;
        ssize_t r = 0;
        while (!rc && (r = tl_stream_read(s, out + n, sizeof out - 1 - n)) > 0)
            n += (size_t)r;
        out[n] = 0;
        if (!rc && r < 0)
            rc = (int)r;
        /* a server that failed an allocation answered 500 or closed early */
        if (!rc && count_of(out, "HTTP/1.1 200 OK") != 2)
            rc = TL_ENOMEM;
        tl_stream_close(s);
    }
    int rc2 = tl_http_server_shutdown(srv, 5);
    tl_http_server_free(srv);
    if (rc == TL_ECONNRESET || rc == TL_EPIPE || rc == TL_ECONNREFUSED)
        rc = TL_ENOMEM; /* the server side gave up on an allocation */
    return rc ? rc : rc2;
}

Test(http_server, every_allocation_failure_over_whole_requests_ends_cleanly)
{
    int n = fault_walk(fault_workload, NULL, 400);
    cr_assert_gt(n, 10);
}
