/* The HTTP client against tulip's own HTTP server, in process: the response
 * (status, headers, body, URL, version, timings), many requests through a
 * bounded pool, the connection and in-flight limits, keep-alive reuse and a
 * server closing kept-alive connections, redirects and their limit, bodies
 * streamed with the transfer paused, timeouts (idle read, total, a scope),
 * cancellation at random points with nothing leaked, servers that cut a
 * body short or never end one, retries and the rate limit, and a
 * fault-injection walk over one whole request. */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>

#include "fault_walk.h"
#include "http/client.h"
#include "http_util.h"

/* ---- the server's handlers ---- */

static size_t peak_conns; /* the most connections the server saw open at once */
static tl_http_server *the_srv;
static int hits[64]; /* per "/retry/<k>" path */

static void note_conns(void)
{
    size_t n = tl_http_server_connections(the_srv);
    if (n > peak_conns)
        peak_conns = n;
}

/* GET /item/<n>: "item <n>" after a short sleep, so requests overlap. */
static int route_item(tl_http_req *req, tl_http_resp *resp)
{
    char body[64];
    int n = snprintf(body, sizeof body, "item %s", tl_http_req_path(req) + 6);
    tl_sleep(0.001);
    return tl_http_resp_send(resp, 200, "text/plain", body, (size_t)n);
}

/* GET /redirect/<n>: 302 to /redirect/<n-1>, and /redirect/0 is 200. */
static int route_redirect(tl_http_req *req, tl_http_resp *resp)
{
    int n = atoi(tl_http_req_path(req) + 10);
    if (n == 0)
        return tl_http_resp_send(resp, 200, "text/plain", "landed", 6);
    char loc[64];
    snprintf(loc, sizeof loc, "/redirect/%d", n - 1);
    tl_http_resp_add_header(resp, "Location", loc);
    return tl_http_resp_send(resp, 302, "text/plain", "", 0);
}

/* GET /big/<n>: n bytes, byte i = 'a' + i % 26, in 16 KiB writes. */
static int route_big(tl_http_req *req, tl_http_resp *resp)
{
    size_t n = (size_t)atoll(tl_http_req_path(req) + 5);
    char len[32], buf[16384];
    snprintf(len, sizeof len, "%zu", n);
    tl_http_resp_add_header(resp, "Content-Length", len);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < sizeof buf ? n - off : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (char)('a' + (off + i) % 26);
        int rc = tl_http_resp_write(resp, buf, k);
        if (rc)
            return rc;
        off += k;
    }
    return tl_http_resp_end(resp);
}

/* GET /stall: half of a 100-byte body, then nothing for 1.5 s. */
static int route_stall(tl_http_resp *resp)
{
    tl_http_resp_add_header(resp, "Content-Length", "100");
    int rc = tl_http_resp_write(resp, "0123456789012345678901234567890123456789012345678", 50);
    if (rc)
        return rc;
    tl_sleep(1.5);
    return TL_ECANCELED;
}

/* GET /truncated: 50 bytes of a declared 100, then the connection closes. */
static int route_truncated(tl_http_resp *resp)
{
    tl_http_resp_add_header(resp, "Content-Length", "100");
    char half[50];
    memset(half, 'h', sizeof half);
    int rc = tl_http_resp_write(resp, half, sizeof half);
    return rc ? rc : TL_EPROTO; /* an error after the head: the server closes */
}

/* GET /endless: chunks until the client goes away. */
static int route_endless(tl_http_resp *resp)
{
    char buf[16384];
    memset(buf, 'e', sizeof buf);
    for (int i = 0; i < 100000; i++) {
        int rc = tl_http_resp_write(resp, buf, sizeof buf);
        if (rc)
            return rc;
    }
    return tl_http_resp_end(resp);
}

/* GET /retry/<k>/<fails>/<status>: <status> for the first <fails> hits, then 200. */
static int route_retry(tl_http_req *req, tl_http_resp *resp)
{
    int k, fails, status;
    sscanf(tl_http_req_path(req), "/retry/%d/%d/%d", &k, &fails, &status);
    if (hits[k]++ < fails) {
        if (status == 429)
            tl_http_resp_add_header(resp, "Retry-After", "1");
        return tl_http_resp_send(resp, status, "text/plain", "busy", 4);
    }
    return tl_http_resp_send(resp, 200, "text/plain", "ok", 2);
}

/* GET /headers: the request's User-Agent and X-* headers, one a line. */
static int route_headers(tl_http_req *req, tl_http_resp *resp)
{
    char out[2048];
    size_t n = 0;
    for (size_t i = 0; i < tl_http_req_header_count(req); i++) {
        const char *name, *value;
        tl_http_req_header_at(req, i, &name, &value);
        if (!strcasecmp(name, "user-agent") || !strncasecmp(name, "x-", 2))
            n += (size_t)snprintf(out + n, sizeof out - n, "%s=%s\n", name, value);
    }
    tl_http_resp_add_header(resp, "X-Multi", "one");
    tl_http_resp_add_header(resp, "x-multi", "two");
    return tl_http_resp_send(resp, 200, "text/plain", out, n);
}

static int route(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)arg;
    note_conns();
    const char *p = tl_http_req_path(req);
    if (!strncmp(p, "/item/", 6))
        return route_item(req, resp);
    if (!strncmp(p, "/redirect/", 10))
        return route_redirect(req, resp);
    if (!strncmp(p, "/big/", 5))
        return route_big(req, resp);
    if (!strcmp(p, "/stall"))
        return route_stall(resp);
    if (!strcmp(p, "/truncated"))
        return route_truncated(resp);
    if (!strcmp(p, "/endless"))
        return route_endless(resp);
    if (!strncmp(p, "/retry/", 7))
        return route_retry(req, resp);
    if (!strcmp(p, "/headers"))
        return route_headers(req, resp);
    if (!strcmp(p, "/echo"))
        return echo_http(req, resp, NULL);
    if (!strcmp(p, "/setcookie")) {
        tl_http_resp_add_header(resp, "Set-Cookie", "flavour=tulip; Path=/");
        return tl_http_resp_send(resp, 200, "text/plain", "set", 3);
    }
    if (!strcmp(p, "/cookie")) {
        const char *v = tl_http_req_header(req, "cookie");
        return tl_http_resp_send(resp, 200, "text/plain", v ? v : "-", v ? strlen(v) : 1);
    }
    if (!strcmp(p, "/missing"))
        return tl_http_resp_send(resp, 404, "text/plain", "no", 2);
    return tl_http_resp_send(resp, 200, "text/plain", "hello", 5);
}

static int port;

/* The URL of path on the test server, in a buffer of the calling task's: a
 * request's URL must stay valid while the request waits for its slot. */
#define url(path) url_in((char[256]){0}, path)
static const char *url_in(char *buf, const char *path)
{
    snprintf(buf, 256, "http://127.0.0.1:%d%s", port, path);
    return buf;
}

static void start(const tl_http_server_opts *o)
{
    the_srv = http_serve(route, NULL, o);
    port = tl_http_server_port(the_srv);
    peak_conns = 0;
    memset(hits, 0, sizeof hits);
}

static void stop(void)
{
    http_stop(the_srv);
    the_srv = NULL;
}

static void warm_up(void)
{
    start(NULL);
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_response *r;
    cr_assert_eq(tl_http_get(c, url("/"), &r), 0);
    tl_http_response_free(r);
    tl_http_client_free(c);
    stop();
    tl_sleep(0.05);
}

/* The open fds, as "fd->target " pairs: a leak shows as a difference. */
static const char *fd_list(char *out)
{
    size_t n = 0;
    out[0] = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) && n < 3800) {
        char path[300], target[256] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k > 0 && e->d_name[0] != '.' && !strstr(target, "/proc/"))
            n += (size_t)snprintf(out + n, 4096 - n, "%s->%.*s ", e->d_name, (int)k, target);
    }
    closedir(d);
    return out;
}
/* libuv keeps a spare descriptor per loop once it has accepted (/dev/null,
 * its EMFILE trick): one whole request is made before counting. */
#define FDS_BEGIN() \
    warm_up();      \
    FDS_BEGIN_()
#define FDS_BEGIN_()                          \
    char fds_before_[4096], fds_after_[4096]; \
    fd_list(fds_before_)
#define FDS_CHECK()                                                                              \
    cr_assert(!strcmp(fd_list(fds_after_), fds_before_), "fds left behind: before %s, after %s", \
              fds_before_, fds_after_)

/* ---- the response ---- */

static int basic(void *arg)
{
    (void)arg;
    start(NULL);
    const char *ua = "test-agent/1";
    const char *defaults[] = {"X-Default: d", "X-Over: default", NULL};
    tl_http_client_opts o = {.user_agent = ua, .headers = defaults};
    tl_http_client *c = tl_http_client_new(&o);
    cr_assert(c);
    const char *mine[] = {"X-Over: mine", "X-Mine: m", NULL};
    tl_http_request_opts req = {.url = url("/headers"), .headers = mine};
    tl_http_response *r;
    cr_assert_eq(tl_http_request(c, &req, &r), 0, "%s", tl_error_detail());
    cr_assert_eq(tl_http_response_status(r), 200);
    cr_assert_eq(tl_http_response_version(r), 11);
    cr_assert_str_eq(tl_http_response_url(r), url("/headers"));
    cr_assert_str_eq(tl_http_response_header(r, "CONTENT-type"), "text/plain");
    cr_assert_str_eq(tl_http_response_header(r, "x-multi"), "one");
    size_t multi = 0;
    for (size_t i = 0; i < tl_http_response_header_count(r); i++) {
        const char *name, *value;
        cr_assert_eq(tl_http_response_header_at(r, i, &name, &value), 0);
        multi += !strcasecmp(name, "x-multi");
    }
    cr_assert_eq(multi, 2);
    const char *name, *value;
    cr_assert_eq(tl_http_response_header_at(r, 99, &name, &value), TL_ERANGE);
    size_t len;
    const char *body = tl_http_response_body(r, &len);
    cr_assert_eq(strlen(body), len);
    cr_assert(strstr(body, "User-Agent=test-agent/1\n"), "%s", body);
    cr_assert(strstr(body, "X-Default=d\n"), "%s", body);
    cr_assert(strstr(body, "X-Mine=m\n"), "%s", body);
    cr_assert(strstr(body, "X-Over=mine\n") && !strstr(body, "X-Over=default"), "%s", body);
    tl_http_timings t;
    tl_http_response_timings(r, &t);
    cr_assert(!t.reused && t.tries == 1 && t.total > 0 && t.first_byte <= t.total);
    tl_http_response_free(r);

    /* A status is not an error, unless raise_for_status says so. */
    cr_assert_eq(tl_http_get(c, url("/missing"), &r), 0);
    cr_assert_eq(tl_http_response_status(r), 404);
    tl_http_response_free(r);
    req = (tl_http_request_opts){.url = url("/missing"), .raise_for_status = true};
    cr_assert_eq(tl_http_request(c, &req, &r), TL_EHTTP);
    cr_assert(r && tl_http_response_status(r) == 404);
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), "404"), "%s", tl_error_detail());
    tl_http_response_free(r);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, a_response_has_status_headers_body_url_version_and_timings)
{
    RUN(basic, NULL);
}

static int post(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_request_opts req = {
        .method = "POST", .url = url("/echo"), .body = "hello", .body_len = 5};
    tl_http_response *r;
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "POST /echo ? 5:hello");
    tl_http_response_free(r);
    req = (tl_http_request_opts){
        .method = "PUT", .url = url("/echo?q=1"), .body = "ab", .body_len = 2};
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "PUT /echo ?q=1 2:ab");
    tl_http_response_free(r);
    req = (tl_http_request_opts){.method = "DELETE", .url = url("/echo")};
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "DELETE /echo ? 0:");
    tl_http_response_free(r);
    req = (tl_http_request_opts){.method = "HEAD", .url = url("/echo")};
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_eq(tl_http_response_status(r), 200);
    size_t len = 1;
    tl_http_response_body(r, &len);
    cr_assert_eq(len, 0);
    tl_http_response_free(r);
    /* Header injection and bad methods never reach the wire. */
    const char *evil[] = {"X-A: b\r\nX-Injected: 1", NULL};
    req = (tl_http_request_opts){.url = url("/echo"), .headers = evil};
    cr_assert_eq(tl_http_request(c, &req, &r), TL_EINVAL);
    cr_assert_null(r);
    req = (tl_http_request_opts){.url = url("/echo"), .method = "GET /x"};
    cr_assert_eq(tl_http_request(c, &req, &r), TL_EINVAL);
    cr_assert_eq(tl_http_get(c, NULL, &r), TL_EINVAL);
    tl_http_client_free(c);
    stop();
    return 0;
}

static int cookies(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_response *r;
    cr_assert_eq(tl_http_get(c, url("/cookie"), &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "-");
    tl_http_response_free(r);
    cr_assert_eq(tl_http_get(c, url("/setcookie"), &r), 0);
    tl_http_response_free(r);
    cr_assert_eq(tl_http_get(c, url("/cookie"), &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "flavour=tulip");
    tl_http_response_free(r);
    tl_http_client_free(c);
    tl_http_client_opts o = {.no_cookies = true};
    c = tl_http_client_new(&o);
    cr_assert_eq(tl_http_get(c, url("/setcookie"), &r), 0);
    tl_http_response_free(r);
    cr_assert_eq(tl_http_get(c, url("/cookie"), &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "-");
    tl_http_response_free(r);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, the_cookie_jar_carries_cookies_across_requests)
{
    RUN(cookies, NULL);
}

Test(http_client, methods_bodies_and_bad_requests_refused_locally)
{
    RUN(post, NULL);
}

/* ---- many requests through a pool of workers ---- */

typedef struct pool {
    tl_http_client *c;
    int next, total, ok;
    unsigned max_in_flight_seen;
} pool;

static int worker(void *arg)
{
    pool *p = arg;
    while (p->next < p->total) {
        int i = p->next++;
        char path[32], want[32];
        snprintf(path, sizeof path, "/item/%d", i);
        snprintf(want, sizeof want, "item %d", i);
        tl_http_response *r;
        int rc = tl_http_get(p->c, url(path), &r);
        if (p->c->in_flight > p->max_in_flight_seen)
            p->max_in_flight_seen = p->c->in_flight;
        if (rc)
            return rc;
        cr_assert_str_eq(tl_http_response_body(r, NULL), want);
        cr_assert_eq(tl_http_response_status(r), 200);
        tl_http_response_free(r);
        p->ok++;
    }
    return 0;
}

static int run_pool(pool *p, int workers)
{
    tl_task *t[64];
    int res[64];
    for (int i = 0; i < workers; i++)
        t[i] = tl_create_task(worker, p);
    int rc = tl_gather(t, (size_t)workers, res, 0);
    for (int i = 0; i < workers; i++)
        tl_task_release(t[i]);
    return rc;
}

static int thousand(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.max_connections = 50};
    pool p = {.c = tl_http_client_new(&o), .total = 1000};
    cr_assert_eq(run_pool(&p, 50), 0, "%s", tl_error_detail());
    cr_assert_eq(p.ok, 1000);
    cr_assert_leq(peak_conns, 50);
    cr_assert_leq(p.c->max_open_sockets, 50);
    cr_assert_leq(p.c->neasy, 50, "an easy handle per slot at most: %u", p.c->neasy);
    tl_http_client_free(p.c);
    stop();
    return 0;
}

Test(http_client, a_thousand_gets_fifty_in_flight_every_body_checked)
{
    RUN(thousand, NULL);
}

static int limits(void *arg)
{
    (void)arg;
    start(NULL);
    /* 40 workers, 4 connections: the server never sees a fifth */
    tl_http_client_opts o = {.max_connections = 4, .max_in_flight = 4};
    pool p = {.c = tl_http_client_new(&o), .total = 300};
    cr_assert_eq(run_pool(&p, 40), 0, "%s", tl_error_detail());
    cr_assert_eq(p.ok, 300);
    cr_assert_leq(peak_conns, 4, "peak %zu", peak_conns);
    cr_assert_leq(p.c->max_open_sockets, 4);
    cr_assert_leq(p.max_in_flight_seen, 4);
    cr_assert_leq(p.c->neasy, 4, "queued requests hold no easy handle: %u", p.c->neasy);
    tl_http_client_free(p.c);
    /* a per-host limit, with more slots than connections: libcurl queues the rest */
    o = (tl_http_client_opts){.max_connections_per_host = 2, .max_in_flight = 20};
    p = (pool){.c = tl_http_client_new(&o), .total = 100};
    peak_conns = 0;
    cr_assert_eq(run_pool(&p, 20), 0, "%s", tl_error_detail());
    cr_assert_leq(p.c->max_open_sockets, 2);
    cr_assert_leq(peak_conns, 2);
    tl_http_client_free(p.c);
    stop();
    return 0;
}

Test(http_client, connection_and_in_flight_limits_are_never_exceeded)
{
    RUN(limits, NULL);
}

/* ---- connections ---- */

static int keepalive(void *arg)
{
    (void)arg;
    tl_http_server_opts so = {.idle_timeout = 0.2};
    start(&so);
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_response *r;
    tl_http_timings t;
    cr_assert_eq(tl_http_get(c, url("/"), &r), 0);
    tl_http_response_timings(r, &t);
    cr_assert(!t.reused && t.connect > 0);
    tl_http_response_free(r);
    cr_assert_eq(tl_http_get(c, url("/"), &r), 0);
    tl_http_response_timings(r, &t);
    cr_assert(t.reused, "the second request reuses the connection");
    cr_assert_eq(t.connect, 0);
    tl_http_response_free(r);
    cr_assert_eq(c->max_open_sockets, 1);
    /* The server closes the idle connection; the next request does not notice. */
    tl_sleep(0.5);
    cr_assert_eq(tl_http_server_connections(the_srv), 0);
    cr_assert_eq(tl_http_get(c, url("/"), &r), 0, "%s", tl_error_detail());
    cr_assert_eq(tl_http_response_status(r), 200);
    tl_http_response_timings(r, &t);
    cr_assert(!t.reused);
    tl_http_response_free(r);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, keep_alive_reuse_shows_in_timings_and_a_server_close_is_no_failure)
{
    RUN(keepalive, NULL);
}

static int refused(void *arg)
{
    (void)arg;
    tl_http_client *c = tl_http_client_new(NULL);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", closed_port());
    tl_http_response *r = (void *)1;
    cr_assert_eq(tl_http_get(c, u, &r), TL_ECONNREFUSED);
    cr_assert_null(r);
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), u), "%s", tl_error_detail());
    cr_assert_eq(tl_http_get(c, "nope://x/", &r), TL_EINVAL);
    cr_assert_eq(c->open_sockets, 0);
    tl_http_client_free(c);
    return 0;
}

Test(http_client, connection_refused_and_bad_urls_are_their_codes_with_detail)
{
    RUN(refused, NULL);
}

/* ---- redirects ---- */

static int redirects(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_response *r;
    tl_http_timings t;
    cr_assert_eq(tl_http_get(c, url("/redirect/3"), &r), 0);
    cr_assert_eq(tl_http_response_status(r), 200);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "landed");
    cr_assert_str_eq(tl_http_response_url(r), url("/redirect/0"));
    tl_http_response_timings(r, &t);
    cr_assert_eq(t.redirects, 3);
    tl_http_response_free(r);
    cr_assert_eq(tl_http_get(c, url("/redirect/11"), &r), TL_EHTTP, "10 redirects by default");
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), "edirect"), "%s", tl_error_detail());
    tl_http_client_free(c);

    tl_http_client_opts o = {.max_redirects = -1};
    c = tl_http_client_new(&o);
    cr_assert_eq(tl_http_get(c, url("/redirect/1"), &r), 0);
    cr_assert_eq(tl_http_response_status(r), 302);
    cr_assert_str_eq(tl_http_response_header(r, "location"), "/redirect/0");
    tl_http_response_free(r);
    tl_http_client_free(c);
    o.max_redirects = 2;
    c = tl_http_client_new(&o);
    cr_assert_eq(tl_http_get(c, url("/redirect/2"), &r), 0);
    tl_http_response_free(r);
    cr_assert_eq(tl_http_get(c, url("/redirect/3"), &r), TL_EHTTP);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, redirects_are_followed_and_limited)
{
    RUN(redirects, NULL);
}

/* ---- streamed bodies ---- */

static int streamed(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.stream_buffer = 64 << 10};
    tl_http_client *c = tl_http_client_new(&o);
    size_t total = (size_t)16 << 20;
    char path[32];
    snprintf(path, sizeof path, "/big/%zu", total);
    tl_http_request_opts req = {.url = url(path), .stream = true};
    tl_http_response *r;
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_eq(tl_http_response_status(r), 200);
    char buf[4096];
    size_t got = 0, max_cap = 0;
    bool paused = false;
    for (;;) {
        ssize_t n = tl_http_response_read(r, buf, sizeof buf);
        cr_assert_geq(n, 0, "%s", tl_strerror((int)n));
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            cr_assert_eq(buf[i], (char)('a' + (got + (size_t)i) % 26));
        got += (size_t)n;
        paused |= r->paused;
        if (r->bcap > max_cap)
            max_cap = r->bcap;
        if (got % (1 << 20) < sizeof buf)
            tl_sleep(0.005); /* a slow reader: the transfer must pause */
    }
    cr_assert_eq(got, total);
    cr_assert(paused, "the transfer paused for the reader");
    cr_assert_leq(max_cap, (size_t)256 << 10, "buffered %zu bytes", max_cap);
    tl_http_response_free(r);

    /* freed before the end: the transfer ends, the connection is not reused */
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_gt(tl_http_response_read(r, buf, sizeof buf), 0);
    tl_http_response_free(r);
    cr_assert_eq(c->in_flight, 0);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, a_streamed_body_pauses_the_transfer_and_memory_stays_bounded)
{
    RUN(streamed, NULL);
}

/* ---- misbehaving servers ---- */

static int bad_servers(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.read_timeout = 0.3, .max_body = 1 << 20};
    tl_http_client *c = tl_http_client_new(&o);
    tl_http_response *r;
    double t0 = tl_time();
    cr_assert_eq(tl_http_get(c, url("/stall"), &r), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.3);
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), "read_timeout"), "%s",
              tl_error_detail());
    cr_assert_eq(tl_http_get(c, url("/truncated"), &r), TL_EOF, "%s", tl_error_detail());
    cr_assert(tl_error_detail());
    cr_assert_eq(tl_http_get(c, url("/endless"), &r), TL_EMSGSIZE);
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), "max_body"), "%s", tl_error_detail());
    /* and the client still works */
    cr_assert_eq(tl_http_get(c, url("/"), &r), 0);
    tl_http_response_free(r);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, a_stall_a_truncated_body_and_an_endless_one_are_clean_errors)
{
    RUN(bad_servers, NULL);
}

/* ---- timeouts and cancellation ---- */

static int timeouts(void *arg)
{
    (void)arg;
    FDS_BEGIN();
    start(NULL);
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_response *r;
    tl_timeout scope;
    double t0 = tl_time();
    tl_timeout_enter(&scope, 0.2);
    cr_assert_eq(tl_http_get(c, url("/stall"), &r), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&scope), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.2);
    cr_assert_eq(c->in_flight, 0);
    /* the request's own total timeout */
    tl_http_request_opts req = {.url = url("/stall"), .timeout = 0.2};
    t0 = tl_time();
    cr_assert_eq(tl_http_request(c, &req, &r), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.2);
    cr_assert_eq(c->open_sockets, 0);
    tl_http_client_free(c);
    stop();
    FDS_CHECK();
    return 0;
}

Test(http_client, a_timeout_scope_and_the_total_timeout_end_a_request)
{
    RUN(timeouts, NULL);
}

typedef struct cjob {
    tl_http_client *c;
    int i;
} cjob;

static int one_get(void *arg)
{
    cjob *j = arg;
    char path[32];
    snprintf(path, sizeof path, "/item/%d", j->i);
    tl_http_response *r;
    int rc = tl_http_get(j->c, url(path), &r);
    if (rc == 0)
        tl_http_response_free(r);
    return rc;
}

static int cancel_random(void *arg)
{
    (void)arg;
    FDS_BEGIN();
    long live = tl__alloc_live();
    start(NULL);
    tl_http_client_opts o = {.max_connections = 20};
    tl_http_client *c = tl_http_client_new(&o);
    enum { N = 1000, BATCH = 100 };
    static cjob jobs[N];
    int done = 0, cancelled = 0;
    srand(15);
    for (int b = 0; b < N / BATCH; b++) {
        tl_task *t[BATCH];
        for (int i = 0; i < BATCH; i++) {
            jobs[b * BATCH + i] = (cjob){c, b * BATCH + i};
            t[i] = tl_create_task(one_get, &jobs[b * BATCH + i]);
        }
        /* cancel each at a random point: queued, connecting, mid-response */
        for (int i = 0; i < BATCH; i++) {
            if (rand() % 3 == 0)
                tl_sleep((rand() % 1000) / 1e6);
            if (rand() % 2)
                tl_task_cancel(t[i]);
        }
        for (int i = 0; i < BATCH; i++) {
            int rc = tl_await(t[i]);
            cr_assert(rc == 0 || rc == TL_ECANCELED, "%s", tl_strerror(rc));
            done += rc == 0;
            cancelled += rc == TL_ECANCELED;
            tl_task_release(t[i]);
        }
        cr_assert_eq(c->in_flight, 0);
    }
    cr_assert_eq(done + cancelled, N);
    cr_assert_gt(cancelled, 0);
    cr_assert_gt(done, 0);
    tl_http_client_free(c);
    stop();
    tl_sleep(0.05); /* the server's finished tasks are freed on the loop's next turns */
    FDS_CHECK();
    cr_assert_eq(tl__alloc_live(), live, "%ld allocations left behind", tl__alloc_live() - live);
    return 0;
}

Test(http_client, cancellation_at_random_points_of_a_thousand_requests_leaks_nothing)
{
    RUN(cancel_random, NULL);
}

/* Thousands of requests queued on one client hold no libcurl state each:
 * the easy handles never outnumber the slots. */
static int many_queued(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.max_connections = 8};
    tl_http_client *c = tl_http_client_new(&o);
    enum { N = 5000 };
    static cjob jobs[N];
    static tl_task *t[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (cjob){c, i};
        t[i] = tl_create_task(one_get, &jobs[i]);
    }
    tl_sleep(0.05);
    cr_assert_eq(c->in_flight, 8);
    cr_assert_leq(c->neasy, 8);
    unsigned max_easy = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(tl_await(t[i]), 0);
        if (c->neasy > max_easy)
            max_easy = c->neasy;
        tl_task_release(t[i]);
    }
    cr_assert_leq(max_easy, 8, "%u easy handles", max_easy);
    cr_assert_leq(c->max_open_sockets, 8);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, thousands_of_queued_requests_hold_no_easy_handle_each)
{
    RUN(many_queued, NULL);
}

/* Requests in flight when the client is freed end with TL_ECANCELED. */
static int free_busy(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.max_in_flight = 1};
    tl_http_client *c = tl_http_client_new(&o);
    cjob j = {c, 1};
    tl_task *a = tl_create_task(one_get, &j);
    tl_task *b = tl_create_task(one_get, &j);
    tl_sleep(0); /* both started: one in flight, one queued */
    tl_http_client_free(c);
    int ra = tl_await(a), rb = tl_await(b);
    cr_assert(ra == TL_ECANCELED || ra == 0, "%s", tl_strerror(ra));
    cr_assert_eq(rb, TL_ESHUTDOWN, "%s", tl_strerror(rb));
    tl_task_release(a);
    tl_task_release(b);
    stop();
    return 0;
}

Test(http_client, freeing_a_busy_client_ends_its_requests)
{
    RUN(free_busy, NULL);
}

/* ---- retries and the rate limit ---- */

static int retries(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.retries = 3, .retry_backoff = 0.05};
    tl_http_client *c = tl_http_client_new(&o);
    tl_http_response *r;
    tl_http_timings t;
    cr_assert_eq(tl_http_get(c, url("/retry/1/2/503"), &r), 0);
    cr_assert_eq(tl_http_response_status(r), 200);
    tl_http_response_timings(r, &t);
    cr_assert_eq(t.tries, 3);
    tl_http_response_free(r);
    /* out of tries: the last response as it is */
    cr_assert_eq(tl_http_get(c, url("/retry/2/9/502"), &r), 0);
    cr_assert_eq(tl_http_response_status(r), 502);
    tl_http_response_timings(r, &t);
    cr_assert_eq(t.tries, 4);
    tl_http_response_free(r);
    /* Retry-After: 1 is honoured */
    double t0 = tl_time();
    cr_assert_eq(tl_http_get(c, url("/retry/3/1/429"), &r), 0);
    ASSERT_ELAPSED(t0, 1.0);
    cr_assert_eq(tl_http_response_status(r), 200);
    tl_http_response_free(r);
    /* POST is not idempotent: never retried */
    tl_http_request_opts req = {.method = "POST", .url = url("/retry/4/1/503")};
    cr_assert_eq(tl_http_request(c, &req, &r), 0);
    cr_assert_eq(tl_http_response_status(r), 503);
    tl_http_response_free(r);
    cr_assert_eq(hits[4], 1);
    tl_http_client_free(c);
    /* no retries unless asked */
    c = tl_http_client_new(NULL);
    cr_assert_eq(tl_http_get(c, url("/retry/5/1/503"), &r), 0);
    cr_assert_eq(tl_http_response_status(r), 503);
    tl_http_response_free(r);
    tl_http_client_free(c);
    stop();
    return 0;
}

Test(http_client, retries_back_off_and_honour_retry_after_for_idempotent_requests)
{
    RUN(retries, NULL);
}

static int rate(void *arg)
{
    (void)arg;
    start(NULL);
    tl_http_client_opts o = {.rate = 20, .burst = 1};
    pool p = {.c = tl_http_client_new(&o), .total = 41};
    double t0 = tl_time();
    cr_assert_eq(run_pool(&p, 10), 0);
    double e = tl_time() - t0;
    /* 41 requests at 20/s with a burst of 1: the last starts 2 s after the first */
    cr_assert(e >= 2.0 * 0.95 && e <= 2.0 * 1.05 + TOL, "%.3f s", e);
    tl_http_client_free(p.c);
    stop();
    return 0;
}

Test(http_client, the_rate_limit_holds)
{
    RUN(rate, NULL);
}

/* ---- a fault-injection walk: the server runs on a thread of its own, so
 * that only the client's allocations fail ---- */

static tl_loop *srv_loop;
static tl_event srv_stop;
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t srv_cv = PTHREAD_COND_INITIALIZER;

static int srv_main(void *arg)
{
    (void)arg;
    tl_event_init(&srv_stop);
    start(NULL);
    pthread_mutex_lock(&srv_mu);
    srv_loop = tl_loop_current();
    pthread_cond_signal(&srv_cv);
    pthread_mutex_unlock(&srv_mu);
    tl_event_wait(&srv_stop);
    stop();
    return 0;
}

static void *srv_thread(void *arg)
{
    (void)arg;
    tl_run(srv_main, NULL);
    return NULL;
}

static void stop_cb(void *arg)
{
    (void)arg;
    tl_event_set(&srv_stop);
}

static int one_request(void *arg)
{
    (void)arg;
    tl_http_client *c = tl_http_client_new(NULL);
    if (!c)
        return TL_ENOMEM;
    tl_http_response *r;
    int rc = tl_http_get(c, url("/redirect/1"), &r);
    if (rc == 0) {
        cr_assert_str_eq(tl_http_response_body(r, NULL), "landed");
        tl_http_response_free(r);
    }
    tl_http_client_free(c);
    return rc;
}

Test(http_client, a_fault_injection_walk_over_a_whole_request)
{
    pthread_t th;
    pthread_create(&th, NULL, srv_thread, NULL);
    pthread_mutex_lock(&srv_mu);
    while (!srv_loop)
        pthread_cond_wait(&srv_cv, &srv_mu);
    pthread_mutex_unlock(&srv_mu);
    int n = fault_walk(one_request, NULL, 2000);
    cr_assert_gt(n, 10, "the walk went through the client's allocations");
    tl_call_soon_threadsafe(srv_loop, stop_cb, NULL);
    pthread_join(th, NULL);
}
