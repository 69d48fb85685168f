/* The HTTP server against clients no one here wrote: curl (keep-alive,
 * chunked upload, 100-continue, HEAD), Python's http.client, aiohttp's
 * client, wrk (a short run, every response checked) and slowhttptest
 * (slowloris and slow body) while another client is served on time. Each
 * runs as a child process while the loop serves it; all on 127.0.0.1. */
#include <signal.h>

#include "http_util.h"
#include "tls_util.h"

#define PYTHON "/usr/bin/python3" /* the system's: it has aiohttp */

/* Runs argv with input on its stdin; its stdout and stderr (malloc'd) and exit status. */
static int run_peer(char *const argv[], const char *input, char **out, char **err, double secs)
{
    tl_process_opts o = {.argv = argv,
                         .stdin_mode = TL_STDIO_PIPE,
                         .stdout_mode = TL_STDIO_PIPE,
                         .stderr_mode = TL_STDIO_PIPE};
    tl_process *p = NULL;
    int rc = tl_process_spawn(&o, &p);
    cr_assert_eq(rc, 0, "%s: %s", argv[0], tl_strerror(rc));
    size_t ol, el;
    tl_timeout t;
    tl_timeout_enter(&t, secs);
    rc = tl_process_communicate(p, input, input ? strlen(input) : 0, out, &ol, err, &el);
    int status = -1;
    if (!rc)
        rc = tl_process_wait(p, &status);
    if (tl_timeout_exit(&t)) {
        tl_process_kill(p, SIGKILL);
        tl_process_free(p);
        cr_assert_fail("%s did not finish within %.0f s", argv[0], secs);
    }
    tl_process_free(p);
    cr_assert_eq(rc, 0, "%s: %s", argv[0], tl_strerror(rc));
    return status;
}

static void url(char *buf, size_t cap, tl_http_server *srv, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", tl_http_server_port(srv), path);
}

static int curl_peer(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(echo_http, NULL, NULL);
    char u1[64], u2[64], *out, *err;
    url(u1, sizeof u1, srv, "/a?x=1");
    url(u2, sizeof u2, srv, "/b");
    /* two URLs on one connection */
    char *ka[] = {"curl", "-sS", "-v", u1, u2, NULL};
    cr_assert_eq(run_peer(ka, NULL, &out, &err, 20), 0, "%s", err);
    cr_assert(strstr(out, "GET /a ?x=1 0:GET /b ? 0:"), "%s", out);
    cr_assert(strstr(err, "Re-using existing connection"), "%s", err);
    free(out);
    free(err);
    /* a chunked upload from stdin */
    char *chunked[] = {"curl",          "-sS", "-v", "-H", "Transfer-Encoding: chunked",
                       "--data-binary", "@-",  u2,   NULL};
    cr_assert_eq(run_peer(chunked, "chunked body from curl", &out, &err, 20), 0, "%s", err);
    cr_assert_str_eq(out, "POST /b ? 22:chunked body from curl");
    cr_assert(strstr(err, "Transfer-Encoding: chunked"), "%s", err);
    free(out);
    free(err);
    /* Expect: 100-continue answered when the handler reads */
    char *cont[] = {"curl",          "-sS", "-v", "-H", "Expect: 100-continue",
                    "--data-binary", "@-",  u2,   NULL};
    cr_assert_eq(run_peer(cont, "waited for", &out, &err, 20), 0, "%s", err);
    cr_assert_str_eq(out, "POST /b ? 10:waited for");
    cr_assert(strstr(err, "HTTP/1.1 100 Continue"), "%s", err);
    free(out);
    free(err);
    /* HEAD: the length, no body */
    char *head[] = {"curl", "-sS", "-I", u1, NULL};
    cr_assert_eq(run_peer(head, NULL, &out, &err, 20), 0, "%s", err);
    cr_assert(strstr(out, "HTTP/1.1 200 OK\r\n") == out, "%s", out);
    cr_assert(strstr(out, "Content-Length: 15\r\n"), "%s", out);
    free(out);
    free(err);
    http_stop(srv);
    return 0;
}

Test(http_peers, curl_keeps_alive_uploads_chunked_waits_for_100_and_sends_head)
{
    RUN(curl_peer, NULL);
}

static const char http_client_py[] =
    "import http.client, sys\n"
    "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)\n"
    "c.request('GET', '/x?q=2'); r = c.getresponse(); print(r.status, r.read().decode())\n"
    "c.request('POST', '/y', body=b'abc' * 1000); r = c.getresponse()\n"
    "print(r.status, len(r.read()))\n"
    "c.request('POST', '/z', body=iter([b'ab', b'cd']), encode_chunked=True)\n"
    "r = c.getresponse(); print(r.status, r.read().decode())\n"
    "c.request('HEAD', '/h'); r = c.getresponse(); print(r.status, r.getheader('Content-Length'), "
    "repr(r.read()))\n"
    "c.request('GET', '/c', headers={'Connection': 'close'}); r = c.getresponse()\n"
    "print(r.status, r.will_close)\n";

static int python_peer(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(echo_http, NULL, NULL);
    char port[16], *out, *err;
    snprintf(port, sizeof port, "%d", tl_http_server_port(srv));
    char *argv[] = {PYTHON, "-c", (char *)http_client_py, port, NULL};
    cr_assert_eq(run_peer(argv, NULL, &out, &err, 20), 0, "%s", err);
    cr_assert_str_eq(out, "200 GET /x ?q=2 0:\n"
                          "200 3015\n"
                          "200 POST /z ? 4:abcd\n"
                          "200 12 b''\n"
                          "200 True\n");
    free(out);
    free(err);
    http_stop(srv);
    return 0;
}

Test(http_peers, python_http_client_reuses_one_connection_for_every_kind_of_request)
{
    RUN(python_peer, NULL);
}

static const char aiohttp_py[] =
    "import asyncio, aiohttp, sys\n"
    "async def main():\n"
    "    base = 'http://127.0.0.1:' + sys.argv[1]\n"
    "    conn = aiohttp.TCPConnector(limit=8)\n"
    "    async with aiohttp.ClientSession(connector=conn) as s:\n"
    "        async def one(i):\n"
    "            async with s.post(base + '/r%d' % i, data=b'x' * i) as r:\n"
    "                return r.status, await r.text()\n"
    "        res = await asyncio.gather(*(one(i) for i in range(200)))\n"
    "        ok = sum(1 for i, (st, t) in enumerate(res) if st == 200 and t == 'POST /r%d ? %d:%s' "
    "% (i, i, 'x' * i))\n"
    "        print('ok', ok)\n"
    "asyncio.run(main())\n";

static int aiohttp_peer(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(echo_http, NULL, NULL);
    char port[16], *out, *err;
    snprintf(port, sizeof port, "%d", tl_http_server_port(srv));
    http_calls = 0;
    char *argv[] = {PYTHON, "-c", (char *)aiohttp_py, port, NULL};
    cr_assert_eq(run_peer(argv, NULL, &out, &err, 25), 0, "%s", err);
    cr_assert_str_eq(out, "ok 200\n", "%s", err);
    cr_assert_eq(http_calls, 200);
    free(out);
    free(err);
    http_stop(srv);
    return 0;
}

Test(http_peers, aiohttp_client_gets_200_concurrent_answers_right)
{
    RUN(aiohttp_peer, NULL);
}

static int hello(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)req;
    (void)arg;
    http_calls++;
    return tl_http_resp_send(resp, 200, "text/plain", "Hello, World!", 13);
}

static const char wrk_lua[] =
    "local threads = {}\n"
    "function setup(t) table.insert(threads, t) end\n"
    "function init(a) ok = 0; bad = 0 end\n"
    "function response(status, headers, body)\n"
    "  if status == 200 and body == 'Hello, World!' then ok = ok + 1 else bad = bad + 1 end\n"
    "end\n"
    "function done(s, l, r)\n"
    "  for _, t in ipairs(threads) do io.write(string.format('ok %d bad %d\\n', t:get('ok'), "
    "t:get('bad'))) end\n"
    "  local e = s.errors\n"
    "  io.write(string.format('errors %d\\n', e.connect + e.read + e.write + e.status + "
    "e.timeout))\n"
    "end\n";

static int wrk_peer(void *arg)
{
    (void)arg;
    tl_http_server *srv = http_serve(hello, NULL, NULL);
    char u[64], *out, *err;
    url(u, sizeof u, srv, "/");
    char script[] = "/tmp/tulip-wrk-XXXXXX.lua";
    int fd = mkstemps(script, 4);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, wrk_lua, sizeof wrk_lua - 1), (ssize_t)sizeof wrk_lua - 1);
    close(fd);
    http_calls = 0;
    char *argv[] = {"wrk", "-t1", "-c32", "-d1s", "-s", script, u, NULL};
    int st = run_peer(argv, NULL, &out, &err, 20);
    unlink(script);
    cr_assert_eq(st, 0, "%s", err);
    int ok = -1, bad = -1, errors = -1;
    char *line = strstr(out, "\nok ");
    cr_assert(line && sscanf(line, "\nok %d bad %d\nerrors %d", &ok, &bad, &errors) == 3, "%s",
              out);
    cr_assert_gt(ok, 1000, "%s", out);
    cr_assert_eq(bad, 0, "%s", out);
    cr_assert_eq(errors, 0, "%s", out);
    cr_assert_geq(http_calls, ok);
    free(out);
    free(err);
    http_stop(srv);
    return 0;
}

Test(http_peers, wrk_gets_only_right_answers_in_a_short_run)
{
    RUN(wrk_peer, NULL);
}

/* A client that asks once every 50 ms and records the slowest answer. */
typedef struct prober {
    int port;
    bool stop;
    int served;
    double worst;
} prober;

static int probe(void *arg)
{
    prober *p = arg;
    char out[1024];
    while (!p->stop) {
        double t0 = tl_time();
        http_raw(p->port, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
        cr_assert(strstr(out, "HTTP/1.1 200 OK") == out, "%s", out);
        p->served++;
        if (elapsed_since(t0) > p->worst)
            p->worst = elapsed_since(t0);
        tl_sleep(0.05);
    }
    return 0;
}

static void slow_attack(const char *mode)
{
    tl_http_server_opts o = {.head_timeout = 2, .body_timeout = 2};
    tl_http_server *srv = http_serve(echo_http, NULL, &o);
    char u[64], *out, *err;
    url(u, sizeof u, srv, "/");
    prober p = {.port = tl_http_server_port(srv)};
    tl_task *t = tl_create_task(probe, &p);
    char *argv[] = {"slowhttptest", (char *)mode, "-c", "200",   "-r", "100", "-i", "1", "-l", "4",
                    "-x",           "16",         "-s", "65536", "-p", "2",   "-u", u,   NULL};
    int st = run_peer(argv, NULL, &out, &err, 25);
    p.stop = true;
    cr_assert_eq(tl_await(t), 0);
    tl_task_release(t);
    cr_assert_eq(st, 0, "%s%s", out, err);
    cr_assert_gt(p.served, 20, "the other client was served throughout");
    cr_assert_lt(p.worst, 0.5, "within its normal latency: worst %.3f s", p.worst);
    free(out);
    free(err);
    http_stop(srv);
}

static int slowloris(void *arg)
{
    (void)arg;
    slow_attack("-H");
    return 0;
}

Test(http_peers, slowloris_does_not_stop_another_client_being_served)
{
    RUN(slowloris, NULL);
}

static int slow_body(void *arg)
{
    (void)arg;
    slow_attack("-B");
    return 0;
}

Test(http_peers, a_slow_body_attack_does_not_stop_another_client_being_served)
{
    RUN(slow_body, NULL);
}

/* ---- HTTPS ---- */

static int https_curl(void *arg)
{
    (void)arg;
    certs c;
    make_certs(&c);
    tl_tls_ctx *sc = tl_tls_server_ctx_new(c.srv_cert, c.srv_key);
    cr_assert_not_null(sc, "%s", tl_error_detail());
    const char *alpn[] = {"http/1.1"};
    cr_assert_eq(tl_tls_ctx_set_alpn(sc, alpn, 1), 0);
    tl_http_server_opts o = {.tls = sc};
    tl_http_server *srv = http_serve(echo_http, NULL, &o);
    char u1[64], u2[64], *out, *err;
    snprintf(u1, sizeof u1, "https://localhost:%d/a?x=1", tl_http_server_port(srv));
    snprintf(u2, sizeof u2, "https://127.0.0.1:%d/b", tl_http_server_port(srv));
    char resolve[64];
    snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", tl_http_server_port(srv));
    /* verified by name and by IP, two requests on one TLS connection */
    char *ok[] = {"curl", "-sS", "-v", "--cacert", c.ca, "--resolve", resolve, u1, u1, NULL};
    cr_assert_eq(run_peer(ok, NULL, &out, &err, 20), 0, "%s", err);
    cr_assert_str_eq(out, "GET /a ?x=1 0:GET /a ?x=1 0:");
    cr_assert(strstr(err, "Re-using existing connection"), "%s", err);
    cr_assert(strstr(err, "ALPN: server accepted http/1.1"), "%s", err);
    free(out);
    free(err);
    char *post[] = {"curl", "-sS", "--cacert", c.ca, "--data-binary", "@-", u2, NULL};
    cr_assert_eq(run_peer(post, "a body over TLS", &out, &err, 20), 0, "%s", err);
    cr_assert_str_eq(out, "POST /b ? 15:a body over TLS");
    free(out);
    free(err);
    /* without our CA curl refuses, and the server goes on serving */
    char *refused[] = {"curl", "-sS", u2, NULL};
    cr_assert_eq(run_peer(refused, NULL, &out, &err, 20), 60, "curl's 'peer certificate' exit: %s",
                 err);
    free(out);
    free(err);
    cr_assert_eq(run_peer(post, "still serving", &out, &err, 20), 0, "%s", err);
    free(out);
    free(err);
    http_stop(srv);
    tl_tls_ctx_release(sc);
    remove_certs(&c);
    return 0;
}

Test(http_peers, https_against_curl)
{
    RUN(https_curl, NULL);
}
