/* The HTTP client against servers no one here wrote: nginx-light (HTTP/1.1
 * keep-alive; HTTPS with HTTP/2 under a throwaway CA made by openssl) and a
 * Python server scripted to misbehave (a malformed status line, a megabyte
 * of headers, a close after every response without saying so). Each peer
 * is started by the test on 127.0.0.1, in a temporary directory, and
 * killed at the end. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "http/client.h"
#include "net_util.h"

static char dir[256];
static int port, tls_port;
static pid_t peer;

static void sh(const char *fmt, const char *arg)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, arg, arg, arg, arg, arg, arg, arg, arg);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Waits (at most 10 s) until p accepts a connection. */
static void wait_port(int p)
{
    for (int i = 0; i < 1000; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)p),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
        close(fd);
        if (rc == 0)
            return;
        usleep(10000);
    }
    cr_assert_fail("nothing listens on %d after 10 s", p);
}

/* Starts argv, then waits until it listens on p. */
static void spawn_and_wait(char *const argv[], int p)
{
    fflush(NULL);
    peer = fork();
    cr_assert_neq(peer, -1);
    if (peer == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/peer.log", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1); /* not the test's pipes: ctest would wait for them */
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    wait_port(p);
}

static void peer_stop(void)
{
    if (peer > 0) {
        kill(peer, SIGTERM);
        waitpid(peer, NULL, 0);
        peer = 0;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/tulip-http-client-XXXXXX");
    cr_assert(mkdtemp(dir));
    chmod(dir, 0755); /* nginx's worker runs as nobody when started as root */
}

/* ---- nginx-light ---- */

static void nginx_start(void)
{
    make_dir();
    port = closed_port();
    tls_port = closed_port();
    /* a throwaway CA and a certificate for 127.0.0.1 signed by it */
    sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tulip-test-ca "
       "-keyout ca.key -out ca.pem 2>/dev/null && "
       "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr "
       "2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
       "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
       "-extfile ext -out srv.pem 2>/dev/null && mkdir -p www/f && chmod -R a+rX .",
       dir);
    /* 100 files, each with a body of its own */
    char path[400];
    for (int i = 0; i < 100; i++) {
        snprintf(path, sizeof path, "%s/www/f/%d", dir, i);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        for (int k = 0; k <= i; k++)
            fprintf(f, "file %d line %d\n", i, k);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/nginx.conf", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f,
            "worker_processes 1; daemon off; master_process on; pid %s/nginx.pid;\n"
            "error_log %s/error.log; events { worker_connections 1024; }\n"
            "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
            "  fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
            "  keepalive_requests 100000;\n"
            "  server { listen 127.0.0.1:%d; root %s/www; }\n"
            "  server { listen 127.0.0.1:%d ssl http2; root %s/www;\n"
            "    ssl_certificate %s/srv.pem; ssl_certificate_key %s/srv.key; } }\n",
            dir, dir, dir, dir, dir, dir, dir, port, dir, tls_port, dir, dir, dir);
    fclose(f);
    char *argv[] = {"nginx", "-c", path, "-p", dir, NULL};
    spawn_and_wait(argv, port);
    wait_port(tls_port);
}

static int file_len(int i)
{
    int n = 0;
    for (int k = 0; k <= i; k++)
        n += snprintf(NULL, 0, "file %d line %d\n", i, k);
    return n;
}

typedef struct pool {
    tl_http_client *c;
    int next, total, ok, port;
    const char *scheme;
} pool;

static int worker(void *arg)
{
    pool *p = arg;
    while (p->next < p->total) {
        int i = p->next++;
        char u[128], first[64];
        snprintf(u, sizeof u, "%s://127.0.0.1:%d/f/%d", p->scheme, p->port, i % 100);
        tl_http_response *r;
        int rc = tl_http_get(p->c, u, &r);
        if (rc)
            return rc;
        size_t len;
        const char *body = tl_http_response_body(r, &len);
        snprintf(first, sizeof first, "file %d line 0\n", i % 100);
        cr_assert_eq(tl_http_response_status(r), 200);
        cr_assert_eq(len, (size_t)file_len(i % 100));
        cr_assert(!strncmp(body, first, strlen(first)));
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

static int nginx_plain(void *arg)
{
    (void)arg;
    tl_http_client_opts o = {.max_connections = 50};
    pool p = {.c = tl_http_client_new(&o), .total = 1000, .port = port, .scheme = "http"};
    cr_assert_eq(run_pool(&p, 50), 0, "%s", tl_error_detail());
    cr_assert_eq(p.ok, 1000);
    cr_assert_leq(p.c->max_open_sockets, 50);
    tl_http_response *r;
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/f/1", port);
    cr_assert_eq(tl_http_get(p.c, u, &r), 0);
    tl_http_timings t;
    tl_http_response_timings(r, &t);
    cr_assert(t.reused, "keep-alive: the pool's connections are reused");
    cr_assert_eq(tl_http_response_version(r), 11);
    tl_http_response_free(r);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/none", port);
    cr_assert_eq(tl_http_get(p.c, u, &r), 0);
    cr_assert_eq(tl_http_response_status(r), 404);
    tl_http_response_free(r);
    tl_http_client_free(p.c);
    return 0;
}

Test(http_client_peers, nginx_a_thousand_gets_fifty_in_flight, .fini = peer_stop)
{
    nginx_start();
    RUN(nginx_plain, NULL);
}

static int nginx_tls(void *arg)
{
    (void)arg;
    char u[128], ca[300];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/f/3", tls_port);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    tl_http_response *r;

    /* the system's store does not know the throwaway CA */
    tl_http_client *c = tl_http_client_new(NULL);
    cr_assert_eq(tl_http_get(c, u, &r), TL_ECERT, "%s", tl_error_detail());
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), "certificate"), "%s",
              tl_error_detail());
    tl_http_client_free(c);

    /* insecure, only when asked */
    tl_http_client_opts o = {.insecure = true};
    c = tl_http_client_new(&o);
    cr_assert_eq(tl_http_get(c, u, &r), 0, "%s", tl_error_detail());
    tl_http_response_free(r);
    tl_http_client_free(c);

    /* with the CA: HTTP/2, 200 requests multiplexed over one connection */
    o = (tl_http_client_opts){.ca_file = ca};
    c = tl_http_client_new(&o);
    cr_assert_eq(tl_http_get(c, u, &r), 0, "%s", tl_error_detail());
    cr_assert_eq(tl_http_response_version(r), 20);
    cr_assert_eq(tl_http_response_status(r), 200);
    tl_http_response_free(r);
    pool p = {.c = c, .total = 200, .port = tls_port, .scheme = "https"};
    cr_assert_eq(run_pool(&p, 20), 0, "%s", tl_error_detail());
    cr_assert_eq(c->max_open_sockets, 1, "HTTP/2 multiplexing: one connection");
    tl_http_client_free(c);
    return 0;
}

Test(http_client_peers, nginx_tls_verification_and_http2_multiplexing, .fini = peer_stop)
{
    nginx_start();
    RUN(nginx_tls, NULL);
}

/* ---- a Python server that misbehaves on purpose ---- */

static const char misbehave_py[] =
    "import socket, socketserver, sys\n"
    "class H(socketserver.BaseRequestHandler):\n"
    "    def handle(self):\n"
    "        f = self.request.makefile('rb')\n"
    "        while True:\n"
    "            line = f.readline()\n"
    "            if not line: return\n"
    "            path = line.split()[1].decode()\n"
    "            while f.readline() not in (b'\\r\\n', b''): pass\n"
    "            s = self.request\n"
    "            if path == '/status2000':\n"
    "                s.sendall(b'HTTP/200 \\x01\\x02\\r\\n\\r\\n'); "
    "return\n"
    "            if path == '/badstatus':\n"
    "                s.sendall(b'HTTP/1.1 2x0 Whatever\\r\\nContent-Length: 0\\r\\n\\r\\n'); "
    "return\n"
    "            if path == '/bigheaders':\n"
    "                h = b''.join(b'X-H%d: %s\\r\\n' % (i, b'v' * 1000) for i in range(1024))\n"
    "                s.sendall(b'HTTP/1.1 200 OK\\r\\n' + h + b'Content-Length: 2\\r\\n\\r\\nok')\n"
    "                continue\n"
    "            if path == '/closing':\n"
    "                s.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
    "                s.shutdown(socket.SHUT_RDWR); return\n"
    "            s.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhello')\n"
    "socketserver.ThreadingTCPServer.allow_reuse_address = True\n"
    "socketserver.ThreadingTCPServer.daemon_threads = True\n"
    "socketserver.ThreadingTCPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

static void python_start(void)
{
    make_dir();
    port = closed_port();
    char path[300], ports[16];
    snprintf(path, sizeof path, "%s/misbehave.py", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(misbehave_py, f);
    fclose(f);
    snprintf(ports, sizeof ports, "%d", port);
    char *argv[] = {"/usr/bin/python3", path, ports, NULL};
    spawn_and_wait(argv, port);
}

static int python_peer(void *arg)
{
    (void)arg;
    tl_http_client *c = tl_http_client_new(NULL);
    tl_http_response *r;
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/badstatus", port);
    int rc = tl_http_get(c, u, &r);
    cr_assert_eq(rc, TL_EHTTP, "%s: %s", tl_err_name(rc), tl_error_detail());
    cr_assert(tl_error_detail(), "libcurl's message is the detail");
    /* the fuzzer's find: libcurl takes this for a head with status 0 */
    snprintf(u, sizeof u, "http://127.0.0.1:%d/status2000", port);
    rc = tl_http_get(c, u, &r);
    cr_assert_eq(rc, TL_EHTTP, "%s: %s", tl_err_name(rc), tl_error_detail());
    snprintf(u, sizeof u, "http://127.0.0.1:%d/bigheaders", port);
    cr_assert_eq(tl_http_get(c, u, &r), TL_EMSGSIZE);
    cr_assert(tl_error_detail() && strstr(tl_error_detail(), "max_head"), "%s", tl_error_detail());
    /* a server that closes every connection after its response, unannounced */
    snprintf(u, sizeof u, "http://127.0.0.1:%d/closing", port);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(tl_http_get(c, u, &r), 0, "request %d: %s", i, tl_error_detail());
        cr_assert_str_eq(tl_http_response_body(r, NULL), "ok");
        tl_http_response_free(r);
    }
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", port);
    cr_assert_eq(tl_http_get(c, u, &r), 0);
    cr_assert_str_eq(tl_http_response_body(r, NULL), "hello");
    tl_http_response_free(r);
    tl_http_client_free(c);
    /* with a bigger head limit, the megabyte of headers is read */
    tl_http_client_opts o = {.max_head = 2 << 20};
    c = tl_http_client_new(&o);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/bigheaders", port);
    rc = tl_http_get(c, u, &r);
    /* libcurl itself may refuse that much head (Debian's 7.88.1 has the
     * later 300 KiB cap): the same code either way */
    cr_assert(rc == 0 || rc == TL_EMSGSIZE, "%s: %s", tl_err_name(rc), tl_error_detail());
    if (rc == 0) {
        cr_assert_eq(tl_http_response_header_count(r), 1025);
        cr_assert_str_eq(tl_http_response_body(r, NULL), "ok");
        tl_http_response_free(r);
    }
    tl_http_client_free(c);
    return 0;
}

Test(http_client_peers, python_a_bad_status_a_megabyte_of_headers_and_silent_closes,
     .fini = peer_stop)
{
    python_start();
    RUN(python_peer, NULL);
}
