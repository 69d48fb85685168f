/* Streams against programs tulip did not write: socat and nc (TCP and Unix
 * sockets) as clients and servers, Python's asyncio streams on the other end
 * of the socket, and a Python peer that resets the connection mid-write.
 * Each peer is a child process started here; the loop keeps running while it
 * waits for one, and a peer still running when a test fails is killed. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util.h"

#define SOCAT  "/usr/bin/socat"
#define NC     "/usr/bin/nc"
#define PYTHON "/usr/bin/python3"

#define BODY_TIMEOUT 40.0 /* seconds a whole test body may take */
#define PEER_TIMEOUT 25.0 /* seconds a peer may take to finish */
#define MIB          ((size_t)1024 * 1024)

/* ---- peers: start, wait, clean up ---- */

static char tmpdir[64];
static pid_t kids[8];
static int nkids;

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/tulip-peers-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

/* Runs after every test, passed or failed: no peer outlives it, no file stays. */
static void cleanup(void)
{
    for (int i = 0; i < nkids; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    nkids = 0;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char path[sizeof tmpdir + 256];
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
        closedir(d);
        rmdir(tmpdir);
    }
}

TestSuite(peers, .init = make_tmpdir, .fini = cleanup, .timeout = 90);

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* Starts argv[0] with stdin from in and stdout to out (NULL: /dev/null) and,
 * when pass_fd >= 0, that descriptor as its fd 3. stderr stays the test's. */
static pid_t spawn(char *const argv[], const char *in, const char *out, int pass_fd)
{
    cr_assert_lt(nkids, (int)(sizeof kids / sizeof kids[0]));
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        /* Dies with the test process, whatever kills that. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        /* tulip ignored SIGPIPE; an ignored signal would stay ignored across exec. */
        signal(SIGPIPE, SIG_DFL);
        int fd = open(in ? in : "/dev/null", O_RDONLY);
        if (fd < 0 || dup2(fd, 0) < 0)
            _exit(126);
        fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(126);
        if (pass_fd == 3)
            fcntl(3, F_SETFD, 0);
        else if (pass_fd >= 0 && dup2(pass_fd, 3) < 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    kids[nkids++] = pid;
    return pid;
}

static void forget(pid_t pid)
{
    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = kids[--nkids];
}

/* Waits for pid to end without blocking the loop, at most secs; its status. */
static int wait_child(pid_t pid, double secs)
{
    double deadline = tl_time() + secs;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        cr_assert_neq(r, -1, "waitpid: %s", strerror(errno));
        if (r == pid)
            break;
        int rc = tl_time() < deadline ? tl_sleep(0.01) : TL_ETIMEDOUT;
        if (rc) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            forget(pid);
            cr_assert_fail("peer %d did not end (%s)", (int)pid, tl_err_name(rc));
        }
    }
    forget(pid);
    return st;
}

static void expect_success(int st, const char *who)
{
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s %d", who,
              WIFEXITED(st) ? "exit status" : "killed by signal",
              WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* A port nobody listens on, for a peer that must bind one itself. */
static int free_port(void)
{
    int port;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* A listening socket on 127.0.0.1, handed to a Python peer as its fd 3: it
 * accepts at once, with no race for the port and no retrying. */
static int listening_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Connects to a peer that is still starting up: refused (or, for a Unix
 * socket, not there yet) means try again shortly. NULL when the peer exited
 * instead (its bind failed). */
static tl_stream *connect_retry(int port, const char *path, pid_t peer)
{
    double deadline = tl_time() + 10;
    tl_stream *s = NULL;
    for (;;) {
        int rc =
            path ? tl_open_unix_connection(path, &s) : tl_open_connection("127.0.0.1", port, &s);
        if (rc == 0)
            return s;
        cr_assert(rc == TL_ECONNREFUSED || (path && rc == TL_ENOENT), "connect: %s",
                  tl_err_name(rc));
        cr_assert_null(s);
        if (waitpid(peer, NULL, WNOHANG) == peer) {
            forget(peer);
            return NULL;
        }
        cr_assert_lt(tl_time(), deadline, "the peer did not start listening");
        cr_assert_eq(tl_sleep(0.02), 0);
    }
}

/* Starts a peer listening on a free port (argv[slot] is fmt with the port)
 * and connects to it. Between free_port and the peer's bind another program
 * may take the port (test_server_load opens 10,000 connections): a peer that
 * exits instead of listening is started again on another port. */
static tl_stream *spawn_listener(char **argv, int slot, const char *fmt, const char *in,
                                 const char *out, pid_t *pid)
{
    char arg[128];
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = free_port();
        snprintf(arg, sizeof arg, fmt, port);
        argv[slot] = arg;
        *pid = spawn(argv, in, out, -1);
        tl_stream *s = connect_retry(port, NULL, *pid);
        if (s)
            return s;
    }
    cr_assert_fail("%s never listened", argv[0]);
    return NULL;
}

/* Runs fn inside a timeout scope, so that a peer that stops answering fails
 * the test with TL_ETIMEDOUT instead of hanging it. */
typedef struct bounded {
    tl_fn fn;
} bounded;

static int bounded_main(void *arg)
{
    bounded *b = arg;
    tl_timeout scope;
    tl_timeout_enter(&scope, BODY_TIMEOUT);
    int rc = b->fn(NULL);
    cr_assert_eq(tl_timeout_exit(&scope), 0, "the test ran past %.0f s", BODY_TIMEOUT);
    return rc;
}

#define RUN_BOUNDED(fn)         \
    do {                        \
        bounded b_ = {(fn)};    \
        RUN(bounded_main, &b_); \
    } while (0)

/* ---- data ---- */

/* Varied bytes, every value, no pattern a short period would hide. */
static unsigned char *pattern(size_t n, uint32_t seed)
{
    unsigned char *p = malloc(n);
    cr_assert_not_null(p);
    uint32_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)(x >> 24);
    }
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    struct stat st;
    cr_assert_eq(fstat(fileno(f), &st), 0);
    char *p = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(p);
    *n = fread(p, 1, (size_t)st.st_size, f);
    fclose(f);
    return p;
}

/* The offset of the first differing byte, n when none differs. */
static size_t mismatch(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return i;
    return n;
}

static void expect_same(const void *got, size_t ngot, const void *want, size_t nwant,
                        const char *what)
{
    cr_assert_eq(ngot, nwant, "%s: %zu bytes, expected %zu", what, ngot, nwant);
    size_t at = mismatch(got, want, nwant);
    cr_assert_eq(at, nwant, "%s: byte %zu differs", what, at);
}

/* ---- an echo server, with socat as its client ---- */

static const char TRAILER[] = "tulip: end of stream seen\n";

typedef struct echo_stats {
    size_t bytes;
    bool eof_seen;
    int result;
    int finished;
} echo_stats;

/* Echoes until the peer half-closes, then still sends the trailer: the
 * other direction stays open until the server closes the stream. */
static int echo_handler(tl_stream *s, void *arg)
{
    echo_stats *st = arg;
    char buf[16384];
    int rc = 0;
    for (;;) {
        ssize_t n = tl_stream_read(s, buf, sizeof buf);
        if (n <= 0) {
            rc = (int)n;
            break;
        }
        st->bytes += (size_t)n;
        rc = tl_stream_write(s, buf, (size_t)n);
        if (!rc)
            rc = tl_stream_drain(s);
        if (rc)
            break;
    }
    if (rc == 0) {
        st->eof_seen = true;
        rc = tl_stream_write(s, TRAILER, strlen(TRAILER));
    }
    st->result = rc;
    st->finished++;
    return rc;
}

/* socat relays n bytes from a file to the server at address and the echo
 * back to another file; its stdin's end reaches the server as a half-close. */
static void socat_client_run(tl_server *srv, echo_stats *st, const char *address, size_t n)
{
    char in[128], out[128];
    tmp_path(in, sizeof in, "socat.in");
    tmp_path(out, sizeof out, "socat.out");
    unsigned char *data = pattern(n, 0x50c47);
    write_file(in, data, n);

    double t0 = tl_time();
    char *argv[] = {SOCAT, "-t", "5", "-", (char *)address, NULL};
    int status = wait_child(spawn(argv, in, out, -1), PEER_TIMEOUT);
    double took = elapsed_since(t0);
    expect_success(status, "socat");
    /* -t 5: had the server not closed, socat would have waited 5 s after its EOF. */
    cr_assert_lt(took, 4.0, "socat took %.1f s: the server's close did not end it", took);

    cr_assert_eq(st->finished, 1, "one connection, one handler that returned");
    cr_assert_eq(st->result, 0, "handler: %s", tl_err_name(st->result));
    cr_assert(st->eof_seen, "socat's EOF on stdin reached the handler as a read of 0");
    cr_assert_eq(st->bytes, n);

    size_t got;
    char *back = read_file(out, &got);
    cr_assert_eq(got, n + strlen(TRAILER), "socat wrote %zu bytes, expected %zu", got,
                 n + strlen(TRAILER));
    expect_same(back, n, data, n, "the echo");
    cr_assert_eq(memcmp(back + n, TRAILER, strlen(TRAILER)), 0,
                 "what the server wrote after the half-close arrived");
    free(back);
    free(data);

    tl_server_close(srv);
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    tl_server_free(srv);
}

static int socat_client_tcp_body(void *arg)
{
    (void)arg;
    echo_stats st = {0};
    tl_server *srv;
    cr_assert_eq(tl_start_server(echo_handler, &st, "127.0.0.1", 0, NULL, &srv), 0);
    char address[64];
    snprintf(address, sizeof address, "TCP:127.0.0.1:%d", tl_server_port(srv));
    socat_client_run(srv, &st, address, MIB);
    return 0;
}

Test(peers, socat_client_gets_every_byte_echoed_and_its_eof_is_a_half_close)
{
    RUN_BOUNDED(socat_client_tcp_body);
}

static int socat_client_unix_body(void *arg)
{
    (void)arg;
    char path[128], address[160];
    tmp_path(path, sizeof path, "echo.sock");
    snprintf(address, sizeof address, "UNIX-CONNECT:%s", path);
    echo_stats st = {0};
    tl_server *srv;
    cr_assert_eq(tl_start_unix_server(echo_handler, &st, path, NULL, &srv), 0);
    socat_client_run(srv, &st, address, MIB / 2);
    return 0;
}

Test(peers, socat_client_over_a_unix_socket_gets_every_byte_echoed)
{
    RUN_BOUNDED(socat_client_unix_body);
}

/* ---- socat as the server, relaying through cat ---- */

typedef struct feed {
    tl_stream *s;
    const unsigned char *data;
    size_t n;
} feed;

/* Writes in pieces, waiting in drain as a well-behaved writer does, then
 * half-closes. Runs beside the reader: cat only echoes what is read back. */
static int feeder(void *arg)
{
    feed *f = arg;
    for (size_t off = 0; off < f->n; off += 16384) {
        size_t k = f->n - off < 16384 ? f->n - off : 16384;
        int rc = tl_stream_write(f->s, f->data + off, k);
        if (!rc)
            rc = tl_stream_drain(f->s);
        if (rc)
            return rc;
    }
    return tl_stream_write_eof(f->s);
}

/* Sends n bytes through a peer that echoes until its EOF, then ends the
 * stream: every byte comes back, then the end. */
static void exchange_through_cat(tl_stream *s, size_t n)
{
    unsigned char *data = pattern(n, (uint32_t)n);
    size_t cap = n + 4096;
    unsigned char *got = malloc(cap);
    cr_assert_not_null(got);
    feed f = {s, data, n};
    tl_task *w = tl_create_task(feeder, &f);
    cr_assert_not_null(w);

    size_t half = n / 2;
    cr_assert_eq(tl_stream_readexactly(s, got, half, NULL), 0);
    size_t have = half;
    for (;;) {
        ssize_t r = tl_stream_read(s, got + have, cap - have);
        cr_assert_geq(r, 0, "read: %s", tl_err_name((int)r));
        if (r == 0)
            break;
        have += (size_t)r;
    }
    cr_assert(tl_stream_at_eof(s));
    expect_same(got, have, data, n, "the echo through cat");
    cr_assert_eq(tl_stream_write(s, "x", 1), TL_EPIPE, "no writing after write_eof");
    cr_assert_eq(tl_await(w), 0);
    tl_task_release(w);
    cr_assert_eq(tl_stream_wait_closed(s), 0);
    free(got);
    free(data);
}

static int socat_server_tcp_body(void *arg)
{
    (void)arg;
    char *argv[] = {SOCAT, "-t", "5", NULL, "EXEC:cat", NULL};
    pid_t pid;
    tl_stream *s =
        spawn_listener(argv, 3, "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr", NULL, NULL, &pid);
    exchange_through_cat(s, MIB);
    expect_success(wait_child(pid, PEER_TIMEOUT), "socat");
    return 0;
}

Test(peers, socat_server_echoes_a_mebibyte_written_then_half_closed)
{
    RUN_BOUNDED(socat_server_tcp_body);
}

static int socat_server_unix_body(void *arg)
{
    (void)arg;
    char path[128], listen[160];
    tmp_path(path, sizeof path, "cat.sock");
    snprintf(listen, sizeof listen, "UNIX-LISTEN:%s", path);
    char *argv[] = {SOCAT, "-t", "5", listen, "EXEC:cat", NULL};
    pid_t pid = spawn(argv, NULL, NULL, -1);
    tl_stream *s = connect_retry(0, path, pid);
    cr_assert_not_null(s, "socat exited instead of listening on %s", path);
    exchange_through_cat(s, MIB / 2);
    expect_success(wait_child(pid, PEER_TIMEOUT), "socat");
    return 0;
}

Test(peers, socat_unix_server_echoes_what_tl_open_unix_connection_sends)
{
    RUN_BOUNDED(socat_server_unix_body);
}

/* ---- a line protocol, with nc on the other end ---- */

/* Lines of many lengths: an empty one, a long one, and a last one without
 * its newline (readline still returns it, as asyncio's does). */
static char *make_lines(size_t *len)
{
    static const char words[] = "the Quick brown fox, 0123456789; JUMPS over_the lazy dog! ";
    size_t cap = 1500 * 320 + 8192;
    char *p = malloc(cap);
    cr_assert_not_null(p);
    size_t n = 0;
    for (int i = 0; i < 1500; i++) {
        int k = (i * 37) % 300;
        for (int j = 0; j < k; j++)
            p[n++] = words[(i + j) % (sizeof words - 1)];
        p[n++] = '\n';
    }
    p[n++] = '\n';
    for (int j = 0; j < 5000; j++)
        p[n++] = words[j % (sizeof words - 1)];
    p[n++] = '\n';
    n += (size_t)sprintf(p + n, "the last line, with no newline");
    *len = n;
    return p;
}

/* What serve_lines answers to those lines. */
static char *expected_answers(const char *in, size_t n, size_t *len)
{
    char *out = malloc(n * 2 + 64);
    cr_assert_not_null(out);
    size_t o = 0, i = 0;
    int count = 0;
    while (i < n) {
        const char *nl = memchr(in + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - in) : n;
        o += (size_t)sprintf(out + o, "%d ", count++);
        for (size_t j = i; j < end; j++)
            out[o++] = (char)toupper((unsigned char)in[j]);
        out[o++] = '\n';
        i = nl ? end + 1 : n;
    }
    o += (size_t)sprintf(out + o, "total %d\n", count);
    *len = o;
    return out;
}

/* Answers each line with its number and the line upper-cased, and at the
 * end with the count; the stream's end is the peer's EOF. */
static int serve_lines(tl_stream *s, int *count)
{
    char line[8192], ans[8300];
    int i = 0;
    for (;;) {
        ssize_t n = tl_stream_readline(s, line, sizeof line);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        size_t len = line[n - 1] == '\n' ? (size_t)n - 1 : (size_t)n;
        int k = snprintf(ans, sizeof ans, "%d ", i++);
        for (size_t j = 0; j < len; j++)
            ans[(size_t)k + j] = (char)toupper((unsigned char)line[j]);
        ans[(size_t)k + len] = '\n';
        int rc = tl_stream_write(s, ans, (size_t)k + len + 1);
        if (!rc)
            rc = tl_stream_drain(s);
        if (rc)
            return rc;
    }
    cr_assert(tl_stream_at_eof(s));
    *count = i;
    int k = snprintf(ans, sizeof ans, "total %d\n", i);
    return tl_stream_write(s, ans, (size_t)k);
}

typedef struct line_stats {
    int count;
    int result;
    int finished;
} line_stats;

static int line_handler(tl_stream *s, void *arg)
{
    line_stats *st = arg;
    st->result = serve_lines(s, &st->count);
    st->finished++;
    return st->result;
}

static void expect_file(const char *path, const char *want, size_t nwant, const char *what)
{
    size_t got;
    char *back = read_file(path, &got);
    expect_same(back, got, want, nwant, what);
    free(back);
}

static int nc_client_body(void *arg)
{
    (void)arg;
    char in[128], out[128], port[16];
    tmp_path(in, sizeof in, "lines.in");
    tmp_path(out, sizeof out, "lines.out");
    size_t n, nwant;
    char *lines = make_lines(&n);
    char *want = expected_answers(lines, n, &nwant);
    write_file(in, lines, n);

    line_stats st = {0};
    tl_server *srv;
    cr_assert_eq(tl_start_server(line_handler, &st, "127.0.0.1", 0, NULL, &srv), 0);
    snprintf(port, sizeof port, "%d", tl_server_port(srv));
    /* -N: nc shuts its sending side down at its stdin's end. */
    char *argv[] = {NC, "-N", "127.0.0.1", port, NULL};
    expect_success(wait_child(spawn(argv, in, out, -1), PEER_TIMEOUT), "nc");
    cr_assert_eq(st.finished, 1);
    cr_assert_eq(st.result, 0, "handler: %s", tl_err_name(st.result));
    cr_assert_eq(st.count, 1503, "1500 lines, an empty one, a long one, and the unended one");
    expect_file(out, want, nwant, "nc's copy of the answers");

    tl_server_close(srv);
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    tl_server_free(srv);
    free(lines);
    free(want);
    return 0;
}

Test(peers, nc_client_lines_are_read_with_readline_and_answered)
{
    RUN_BOUNDED(nc_client_body);
}

static int nc_server_body(void *arg)
{
    (void)arg;
    char in[128], out[128];
    tmp_path(in, sizeof in, "lines.in");
    tmp_path(out, sizeof out, "lines.out");
    size_t n, nwant;
    char *lines = make_lines(&n);
    char *want = expected_answers(lines, n, &nwant);
    write_file(in, lines, n);

    char *argv[] = {NC, "-N", "-l", "127.0.0.1", NULL, NULL};
    pid_t pid;
    tl_stream *s = spawn_listener(argv, 4, "%d", in, out, &pid);
    int count = -1;
    cr_assert_eq(serve_lines(s, &count), 0);
    cr_assert_eq(count, 1503);
    cr_assert_eq(tl_stream_wait_closed(s), 0);
    expect_success(wait_child(pid, PEER_TIMEOUT), "nc -l");
    expect_file(out, want, nwant, "nc's copy of the answers");
    free(lines);
    free(want);
    return 0;
}

Test(peers, nc_server_lines_are_read_with_readline_and_answered)
{
    RUN_BOUNDED(nc_server_body);
}

/* ---- Python's asyncio streams ---- */

/* Serves one connection on the listening socket it gets as fd 3: upper-cased
 * answers to lines (some sent in two pieces), a blob read with readexactly and
 * sent back reversed after a header whose "\r\n\r\n" comes in three pieces, a
 * record read with readuntil, and "bye" after the client's EOF. Exits 1 on
 * anything unexpected. */
static const char PY_SERVER[] =
    "import asyncio, socket, sys\n"
    "def need(ok, what):\n"
    "    if not ok:\n"
    "        raise RuntimeError(what)\n"
    "async def serve(r, w):\n"
    "    n = 0\n"
    "    while True:\n"
    "        line = await r.readline()\n"
    "        if line == b'END\\n':\n"
    "            break\n"
    "        need(line.endswith(b'\\n'), 'unended line %r' % line)\n"
    "        up = line.upper()\n"
    "        if n % 50 == 0:\n"
    "            w.write(up[:5])\n"
    "            await w.drain()\n"
    "            await asyncio.sleep(0.01)\n"
    "            up = up[5:]\n"
    "        w.write(up)\n"
    "        n += 1\n"
    "    need(n == 200, 'lines: %d' % n)\n"
    "    head = await r.readline()\n"
    "    need(head.startswith(b'BLOB '), 'head %r' % head)\n"
    "    blob = await r.readexactly(int(head[5:]))\n"
    "    hdr = b'Length: %d\\r\\nSum: %d\\r\\n\\r\\n' % (len(blob), sum(blob))\n"
    "    for piece in (hdr[:-3], hdr[-3:-1], hdr[-1:]):\n"
    "        w.write(piece)\n"
    "        await w.drain()\n"
    "        await asyncio.sleep(0.01)\n"
    "    w.write(blob[::-1])\n"
    "    rec = await r.readuntil(b'--END--')\n"
    "    w.write(b'record of %d bytes, %d lines\\n' % (len(rec), rec.count(b'\\n')))\n"
    "    rest = await r.read()\n"
    "    need(rest == b'', 'after the record: %r' % rest)\n"
    "    w.write(b'bye\\n')\n"
    "async def handle(r, w):\n"
    "    rc = 1\n"
    "    try:\n"
    "        await serve(r, w)\n"
    "        rc = 0\n"
    "    except Exception as e:\n"
    "        print('python server:', repr(e), file=sys.stderr)\n"
    "    w.close()\n"
    "    await w.wait_closed()\n"
    "    done.set_result(rc)\n"
    "async def main():\n"
    "    global done\n"
    "    done = asyncio.get_running_loop().create_future()\n"
    "    srv = await asyncio.start_server(handle, sock=socket.socket(fileno=3))\n"
    "    async with srv:\n"
    "        return await asyncio.wait_for(done, 20)\n"
    "sys.exit(asyncio.run(main()))\n";

static const char FILLER[] = "Mixed Case text, digits 0123456789 and punctuation: ;!?-_ ";

static int python_server_body(void *arg)
{
    (void)arg;
    int port;
    int lfd = listening_socket(&port);
    char *argv[] = {PYTHON, "-I", "-c", (char *)PY_SERVER, NULL};
    pid_t pid = spawn(argv, NULL, NULL, lfd);
    close(lfd);
    tl_stream *s;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &s), 0);

    char line[512], want[512], got[512];
    for (int i = 0; i < 200; i++) {
        int k = snprintf(line, sizeof line, "line %d: ", i);
        for (int j = 0; j < (i * 7) % 200; j++)
            line[k++] = FILLER[(i + j) % (sizeof FILLER - 1)];
        line[k++] = '\n';
        for (int j = 0; j < k; j++)
            want[j] = (char)toupper((unsigned char)line[j]);
        cr_assert_eq(tl_stream_write(s, line, (size_t)k), 0);
        ssize_t n = tl_stream_readline(s, got, sizeof got);
        cr_assert_eq(n, k, "line %d: readline gave %zd, expected %d", i, n, k);
        cr_assert_eq(memcmp(got, want, (size_t)k), 0, "line %d: %.*s", i, k, got);
    }
    cr_assert_eq(tl_stream_write(s, "END\n", 4), 0);

    /* A blob whose length only the header tells: readuntil, then readexactly. */
    size_t nblob = 5000;
    unsigned char *blob = pattern(nblob, 77);
    unsigned long long sum = 0;
    for (size_t i = 0; i < nblob; i++)
        sum += blob[i];
    int k = snprintf(line, sizeof line, "BLOB %zu\n", nblob);
    cr_assert_eq(tl_stream_write(s, line, (size_t)k), 0);
    cr_assert_eq(tl_stream_write(s, blob, nblob), 0);
    cr_assert_eq(tl_stream_drain(s), 0);
    ssize_t n = tl_stream_readuntil(s, "\r\n\r\n", 4, got, sizeof got - 1);
    cr_assert_gt(n, 0, "readuntil: %s", tl_err_name((int)n));
    got[n] = 0;
    size_t hlen = 0;
    unsigned long long hsum = 0;
    cr_assert_eq(sscanf(got, "Length: %zu\r\nSum: %llu\r\n\r\n", &hlen, &hsum), 2, "header %s",
                 got);
    cr_assert_eq(hlen, nblob);
    cr_assert_eq(hsum, sum, "Python summed the bytes it read to %llu, not %llu", hsum, sum);
    unsigned char *back = malloc(nblob);
    cr_assert_not_null(back);
    cr_assert_eq(tl_stream_readexactly(s, back, nblob, NULL), 0);
    for (size_t i = 0; i < nblob; i++)
        cr_assert_eq(back[i], blob[nblob - 1 - i], "blob byte %zu", i);

    const char rec[] = "alpha\nbeta\ngamma--END--";
    cr_assert_eq(tl_stream_write(s, rec, strlen(rec)), 0);
    n = tl_stream_readline(s, got, sizeof got - 1);
    cr_assert_gt(n, 0);
    got[n] = 0;
    cr_assert_str_eq(got, "record of 23 bytes, 2 lines\n");

    cr_assert_eq(tl_stream_write_eof(s), 0);
    n = tl_stream_readline(s, got, sizeof got);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(got, "bye\n", 4), 0);
    cr_assert_eq(tl_stream_readline(s, got, sizeof got), 0, "then the end");
    cr_assert(tl_stream_at_eof(s));
    cr_assert_eq(tl_stream_wait_closed(s), 0);
    expect_success(wait_child(pid, PEER_TIMEOUT), "python asyncio server");
    free(blob);
    free(back);
    return 0;
}

Test(peers, python_asyncio_server_talks_with_readline_readuntil_and_readexactly)
{
    RUN_BOUNDED(python_server_body);
}

/* Sends lines (one long, one empty, the last unended) from one task while
 * another reads the answers, half-closes, and checks every answer and the
 * end. Exits 1 on any mismatch. */
static const char PY_CLIENT[] =
    "import asyncio, sys\n"
    "async def main(port):\n"
    "    r, w = await asyncio.open_connection('127.0.0.1', port)\n"
    "    lines = [b'line %d %s\\n' % (i, b'aBc-' * (i % 97)) for i in range(600)]\n"
    "    lines += [b'x' * 6000 + b'\\n', b'\\n', b'the end, unended']\n"
    "    async def send():\n"
    "        for line in lines:\n"
    "            w.write(line)\n"
    "            await w.drain()\n"
    "        w.write_eof()\n"
    "    sender = asyncio.create_task(send())\n"
    "    for i, line in enumerate(lines):\n"
    "        got = await r.readline()\n"
    "        want = b'%d %s\\n' % (i, line.rstrip(b'\\n').upper())\n"
    "        if got != want:\n"
    "            print('answer %d: %r, expected %r' % (i, got[:80], want[:80]), file=sys.stderr)\n"
    "            return 1\n"
    "    total = await r.readline()\n"
    "    if total != b'total %d\\n' % len(lines):\n"
    "        print('total: %r' % total, file=sys.stderr)\n"
    "        return 1\n"
    "    rest = await r.read()\n"
    "    if rest != b'':\n"
    "        print('after the total: %r' % rest[:80], file=sys.stderr)\n"
    "        return 1\n"
    "    await sender\n"
    "    w.close()\n"
    "    await w.wait_closed()\n"
    "    return 0\n"
    "sys.exit(asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 20)))\n";

static int python_client_body(void *arg)
{
    (void)arg;
    line_stats st = {0};
    tl_server *srv;
    cr_assert_eq(tl_start_server(line_handler, &st, "127.0.0.1", 0, NULL, &srv), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", tl_server_port(srv));
    char *argv[] = {PYTHON, "-I", "-c", (char *)PY_CLIENT, port, NULL};
    expect_success(wait_child(spawn(argv, NULL, NULL, -1), PEER_TIMEOUT), "python asyncio client");
    cr_assert_eq(st.finished, 1);
    cr_assert_eq(st.result, 0, "handler: %s", tl_err_name(st.result));
    cr_assert_eq(st.count, 603);
    tl_server_close(srv);
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    tl_server_free(srv);
    return 0;
}

Test(peers, python_asyncio_client_gets_every_line_answered_and_the_end)
{
    RUN_BOUNDED(python_client_body);
}

/* ---- a peer that resets the connection ---- */

static unsigned char *chunk; /* 64 KiB that floods write */
#define CHUNK ((size_t)64 * 1024)

/* Writes until the connection breaks (at most 1 GiB): the error that broke it. */
static int flood(tl_stream *s)
{
    for (int i = 0; i < 16384; i++) {
        int rc = tl_stream_write(s, chunk, CHUNK);
        if (!rc)
            rc = tl_stream_drain(s);
        if (rc)
            return rc;
    }
    return 0;
}

static void expect_sigpipe_ignored(void)
{
    struct sigaction sa;
    cr_assert_eq(sigaction(SIGPIPE, NULL, &sa), 0);
    cr_assert(sa.sa_handler == SIG_IGN, "the loop ignores SIGPIPE");
}

/* Takes 256 KiB from the one client on fd 3, stops reading while tulip's
 * buffers fill, then resets (SO_LINGER 0, close). */
static const char PY_RESET_SERVER[] = "import socket, struct, sys, time\n"
                                      "ls = socket.socket(fileno=3)\n"
                                      "ls.settimeout(20)\n"
                                      "c, _ = ls.accept()\n"
                                      "c.settimeout(20)\n"
                                      "got = 0\n"
                                      "while got < 256 * 1024:\n"
                                      "    d = c.recv(65536)\n"
                                      "    if not d:\n"
                                      "        sys.exit('ended at %d bytes' % got)\n"
                                      "    got += len(d)\n"
                                      "time.sleep(0.2)\n"
                                      "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,\n"
                                      "             struct.pack('ii', 1, 0))\n"
                                      "c.close()\n";

static int reset_client_body(void *arg)
{
    (void)arg;
    expect_sigpipe_ignored();
    chunk = pattern(CHUNK, 5);
    int port;
    int lfd = listening_socket(&port);
    char *argv[] = {PYTHON, "-I", "-c", (char *)PY_RESET_SERVER, NULL};
    pid_t pid = spawn(argv, NULL, NULL, lfd);
    close(lfd);
    tl_stream *s;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &s), 0);

    int rc = flood(s);
    cr_assert(rc == TL_ECONNRESET || rc == TL_EPIPE, "writing to a reset peer: %s",
              tl_err_name(rc));
    cr_assert_eq(tl_stream_write(s, chunk, 100), rc, "the error sticks");
    cr_assert_eq(tl_stream_drain(s), rc);
    char buf[64];
    ssize_t r = tl_stream_read(s, buf, sizeof buf);
    cr_assert(r == TL_ECONNRESET || r == 0, "reading from a reset peer: %zd", r);
    cr_assert_eq(tl_stream_wait_closed(s), rc);
    expect_success(wait_child(pid, PEER_TIMEOUT), "python resetting server");
    free(chunk);
    return 0;
}

Test(peers, a_peer_resetting_mid_write_fails_write_and_drain_and_the_process_survives)
{
    /* The default disposition, so that it is tulip's loop that ignores SIGPIPE. */
    signal(SIGPIPE, SIG_DFL);
    RUN_BOUNDED(reset_client_body);
}

/* The first connection asks for a flood and resets it; the second checks,
 * through an echo, that the server still serves. */
static const char PY_RESET_CLIENT[] =
    "import socket, struct, sys, time\n"
    "port = int(sys.argv[1])\n"
    "c = socket.create_connection(('127.0.0.1', port), timeout=20)\n"
    "c.sendall(b'FLOOD\\n')\n"
    "got = 0\n"
    "while got < 256 * 1024:\n"
    "    d = c.recv(65536)\n"
    "    if not d:\n"
    "        sys.exit('flood ended at %d bytes' % got)\n"
    "    got += len(d)\n"
    "time.sleep(0.2)\n"
    "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
    "c.close()\n"
    "c = socket.create_connection(('127.0.0.1', port), timeout=20)\n"
    "c.sendall(b'ECHO\\nhello\\nworld\\n')\n"
    "c.shutdown(socket.SHUT_WR)\n"
    "data = b''\n"
    "while True:\n"
    "    d = c.recv(65536)\n"
    "    if not d:\n"
    "        break\n"
    "    data += d\n"
    "if data != b'hello\\nworld\\n':\n"
    "    sys.exit('echo: %r' % data)\n";

typedef struct reset_stats {
    int flood_error;
    int floods, echoes, others;
} reset_stats;

static int flood_or_echo(tl_stream *s, void *arg)
{
    reset_stats *st = arg;
    char line[256];
    ssize_t n = tl_stream_readline(s, line, sizeof line);
    if (n == 6 && memcmp(line, "FLOOD\n", 6) == 0) {
        st->flood_error = flood(s);
        st->floods++;
        return 0;
    }
    if (n == 5 && memcmp(line, "ECHO\n", 5) == 0) {
        while ((n = tl_stream_readline(s, line, sizeof line)) > 0)
            if (tl_stream_write(s, line, (size_t)n))
                break;
        if (n == 0)
            st->echoes++;
        return 0;
    }
    st->others++;
    return 0;
}

static int reset_server_body(void *arg)
{
    (void)arg;
    expect_sigpipe_ignored();
    chunk = pattern(CHUNK, 6);
    reset_stats st = {0};
    tl_server *srv;
    cr_assert_eq(tl_start_server(flood_or_echo, &st, "127.0.0.1", 0, NULL, &srv), 0);
    char port[16];
    snprintf(port, sizeof port, "%d", tl_server_port(srv));
    char *argv[] = {PYTHON, "-I", "-c", (char *)PY_RESET_CLIENT, port, NULL};
    expect_success(wait_child(spawn(argv, NULL, NULL, -1), PEER_TIMEOUT),
                   "python resetting client");
    cr_assert_eq(st.floods, 1);
    cr_assert(st.flood_error == TL_ECONNRESET || st.flood_error == TL_EPIPE,
              "the flooding handler's write or drain: %s", tl_err_name(st.flood_error));
    cr_assert_eq(st.echoes, 1, "the next connection was served to its end");
    cr_assert_eq(st.others, 0);
    cr_assert(tl_server_is_serving(srv));
    cr_assert_eq(tl_server_connections(srv), 0);
    tl_server_close(srv);
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    tl_server_free(srv);
    free(chunk);
    return 0;
}

Test(peers, a_client_resetting_mid_write_fails_the_handler_and_the_server_serves_on)
{
    signal(SIGPIPE, SIG_DFL);
    RUN_BOUNDED(reset_server_body);
}
