/* Shared by the HTTP server's tests: a server on 127.0.0.1 with any handler,
 * raw bytes sent on a fresh connection and everything the server answers
 * read back, and a handler that echoes what it was asked. */
#ifndef TL_TEST_HTTP_UTIL_H
#define TL_TEST_HTTP_UTIL_H

#include <stdio.h>
#include <tulip/http.h>

#include "net_util.h"

/* How many times the handlers ran: a rejected request must never count. */
static int http_calls;

static inline tl_http_server *http_serve(tl_http_handler h, void *arg, const tl_http_server_opts *o)
{
    tl_http_server *srv = NULL;
    int rc = tl_http_server_start(h, arg, "127.0.0.1", 0, o, &srv);
    cr_assert_eq(rc, 0, "tl_http_server_start: %s", tl_strerror(rc));
    return srv;
}

static inline void http_stop(tl_http_server *srv)
{
    cr_assert_eq(tl_http_server_shutdown(srv, 5), 0);
    tl_http_server_free(srv);
}

/* Connects, sends len bytes of req (half-closing after them when eof is set), and
 * reads until the server closes or 5 s pass; out is NUL-terminated; the count read. */
static inline size_t http_raw_ex(int port, const void *req, size_t len, bool eof, char *out,
                                 size_t cap)
{
    tl_stream *s = NULL;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &s), 0);
    cr_assert_eq(tl_stream_write(s, req, len), 0);
    if (eof)
        tl_stream_write_eof(s);
    size_t n = 0;
    tl_timeout t;
    tl_timeout_enter(&t, 5);
    while (n + 1 < cap) {
        ssize_t r = tl_stream_read(s, out + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    cr_assert_eq(tl_timeout_exit(&t), 0, "the server closed within 5 s");
    out[n] = 0;
    tl_stream_close(s);
    return n;
}

static inline size_t http_raw(int port, const char *req, char *out, size_t cap)
{
    return http_raw_ex(port, req, strlen(req), true, out, cap);
}

static inline int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Answers "<method> <path> ?<query> <body length>:<body>" after reading the whole body. */
static inline int echo_http(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    http_calls++;
    char *body;
    size_t len;
    int rc = tl_http_req_body(req, &body, &len);
    if (rc)
        return rc;
    size_t cap = len + 512;
    char *out = malloc(cap);
    int n = snprintf(out, cap, "%s %s ?%s %zu:%s", tl_http_req_method(req), tl_http_req_path(req),
                     tl_http_req_query(req), len, body);
    free(body);
    rc = tl_http_resp_send(resp, 200, "text/plain", out, (size_t)n);
    free(out);
    return rc;
}

#endif
