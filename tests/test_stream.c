/* Streams: asyncio's StreamReader and StreamWriter semantics over TCP and
 * Unix sockets, each edge a user relies on. */
#include <netinet/tcp.h>
#include <stdlib.h>

#include "../src/io/io.h"
#include "net_util.h"

/* A handler that writes what the test scripted, in pieces with pauses. */
typedef struct script {
    const char *parts[8];
    double pause;
    bool close_early; /* return without reading anything */
} script;

static int scripted_handler(tl_stream *s, void *arg)
{
    script *sc = arg;
    for (int i = 0; i < 8 && sc->parts[i]; i++) {
        int rc = tl_stream_write(s, sc->parts[i], strlen(sc->parts[i]));
        if (rc)
            return rc;
        if (sc->pause > 0)
            tl_sleep(sc->pause);
    }
    return 0; /* the server closes the stream: EOF for the client */
}

static tl_stream *dial_script(script *sc, tl_server **srv)
{
    *srv = serve(scripted_handler, sc);
    return dial(*srv);
}

static void done(tl_stream *c, tl_server *srv)
{
    if (c)
        cr_assert_eq(tl_stream_wait_closed(c), 0);
    tl_server_close(srv);
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    tl_server_free(srv);
}

/* ---- connecting ---- */

static int echo_roundtrip(void *arg)
{
    const char *host = arg;
    tl_server *srv = NULL;
    cr_assert_eq(tl_start_server(echo_handler, NULL, host, 0, NULL, &srv), 0);
    tl_stream *c;
    int rc = tl_open_connection(host, tl_server_port(srv), &c);
    cr_assert_eq(rc, 0, "%s: %s", host, tl_strerror(rc));
    cr_assert_eq(tl_stream_write(c, "hello", 5), 0);
    char buf[5];
    cr_assert_eq(tl_stream_readexactly(c, buf, 5, NULL), 0);
    cr_assert_arr_eq(buf, "hello", 5);
    done(c, srv);
    return 0;
}

Test(connect, echoes_over_ipv4)
{
    RUN(echo_roundtrip, "127.0.0.1");
}

Test(connect, echoes_over_ipv6)
{
    RUN(echo_roundtrip, "::1");
}

Test(connect, resolves_a_host_name)
{
    RUN(echo_roundtrip, "localhost");
}

static int refused(void *arg)
{
    (void)arg;
    tl_stream *c = (tl_stream *)1;
    cr_assert_eq(tl_open_connection("127.0.0.1", closed_port(), &c), TL_ECONNREFUSED);
    cr_assert_null(c);
    return 0;
}

Test(connect, to_a_closed_port_is_refused)
{
    long live = tl__alloc_live();
    RUN(refused, NULL);
    cr_assert_eq(tl__alloc_live(), live, "nothing leaks from a failed connect");
}

static int bad_args(void *arg)
{
    (void)arg;
    tl_stream *c;
    cr_assert_eq(tl_open_connection("127.0.0.1", 70000, &c), TL_EINVAL);
    cr_assert_eq(tl_open_connection("127.0.0.1", -1, &c), TL_EINVAL);
    cr_assert_eq(tl_open_connection(NULL, 80, &c), TL_EINVAL);
    int rc = tl_open_connection("no-such-host.invalid", 80, &c);
    cr_assert(rc == TL_EAI_NONAME || rc == TL_EAI_AGAIN || rc == TL_EAI_FAIL, "%s",
              tl_err_name(rc));
    char path[200];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = 0;
    cr_assert_eq(tl_open_unix_connection(path, &c), TL_ENAMETOOLONG);
    cr_assert_eq(tl_open_unix_connection("/nonexistent/tulip.sock", &c), TL_ENOENT);
    return 0;
}

Test(connect, bad_arguments_are_errors)
{
    RUN(bad_args, NULL);
}

static int connector(void *arg)
{
    tl_server *srv = arg;
    tl_stream *c;
    int rc = tl_open_connection("127.0.0.1", tl_server_port(srv), &c);
    if (rc == 0)
        tl_stream_close(c);
    return rc;
}

static int cancel_mid_connect(void *arg)
{
    (void)arg;
    tl_server *srv = serve(echo_handler, NULL);
    tl_task *t = tl_create_task(connector, srv);
    tl_sleep(0); /* t has issued its connect and waits */
    cr_assert_str_eq(t->wait_what, "connect");
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    tl_timeout tm;
    tl_timeout_enter(&tm, 0);
    tl_stream *c;
    cr_assert_eq(tl_open_connection("127.0.0.1", tl_server_port(srv), &c), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&tm), TL_ETIMEDOUT);
    done(NULL, srv);
    return 0;
}

Test(connect, cancelled_or_timed_out_midway_ends_cleanly)
{
    long live = tl__alloc_live();
    RUN(cancel_mid_connect, NULL);
    cr_assert_eq(tl__alloc_live(), live, "the abandoned connect's stream is freed");
}

static int addresses(void *arg)
{
    (void)arg;
    tl_server *srv = serve(echo_handler, NULL);
    tl_stream *c = dial(srv);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    cr_assert_eq(tl_stream_peername(c, (struct sockaddr *)&ss, &len), 0);
    cr_assert_eq(ss.ss_family, AF_INET);
    cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), tl_server_port(srv));
    len = sizeof ss;
    cr_assert_eq(tl_stream_sockname(c, (struct sockaddr *)&ss, &len), 0);
    cr_assert_eq(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), INADDR_LOOPBACK);
    /* TCP_NODELAY is on by default, as in asyncio */
    uv_os_fd_t fd;
    cr_assert_eq(uv_fileno(&c->sock.uv.handle, &fd), 0);
    int on = 0;
    socklen_t ol = sizeof on;
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &ol), 0);
    cr_assert(on);
    cr_assert_eq(tl_stream_set_nodelay(c, false), 0);
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &ol), 0);
    cr_assert_not(on);
    cr_assert_eq(tl_stream_set_keepalive(c, true, 30), 0);
    cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &ol), 0);
    cr_assert(on);
    cr_assert_eq(tl_stream_set_keepalive(c, true, 0), TL_EINVAL);
    done(c, srv);
    return 0;
}

Test(connect, addresses_nodelay_and_keepalive)
{
    RUN(addresses, NULL);
}

/* ---- reading ---- */

static int read_to_eof(void *arg)
{
    (void)arg;
    script sc = {.parts = {"abc", "def"}, .pause = 0.02};
    tl_server *srv;
    tl_stream *c = dial_script(&sc, &srv);
    char buf[64];
    size_t got = 0;
    ssize_t n;
    cr_assert_not(tl_stream_at_eof(c));
    while ((n = tl_stream_read(c, buf + got, sizeof buf - got)) > 0)
        got += (size_t)n;
    cr_assert_eq(n, 0);
    cr_assert_eq(got, 6);
    cr_assert_arr_eq(buf, "abcdef", 6);
    cr_assert(tl_stream_at_eof(c));
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), 0, "EOF stays EOF");
    cr_assert_eq(tl_stream_read(c, buf, 0), 0);
    done(c, srv);
    return 0;
}

Test(read, returns_what_came_then_0_at_eof)
{
    RUN(read_to_eof, NULL);
}

static int exactly_across_pieces(void *arg)
{
    (void)arg;
    script sc = {.parts = {"ab", "cd", "efgh", "ij"}, .pause = 0.01};
    tl_server *srv;
    tl_stream *c = dial_script(&sc, &srv);
    char buf[16];
    cr_assert_eq(tl_stream_readexactly(c, buf, 7, NULL), 0);
    cr_assert_arr_eq(buf, "abcdefg", 7);
    size_t partial = 99;
    cr_assert_eq(tl_stream_readexactly(c, buf, 10, &partial), TL_EOF);
    cr_assert_eq(partial, 3, "IncompleteReadError.partial");
    cr_assert_arr_eq(buf, "hij", 3);
    cr_assert_eq(tl_stream_readexactly(c, buf, 1, &partial), TL_EOF);
    cr_assert_eq(partial, 0);
    cr_assert_eq(tl_stream_readexactly(c, buf, 0, &partial), 0);
    done(c, srv);
    return 0;
}

Test(read, readexactly_waits_for_n_and_reports_the_partial_count_at_eof)
{
    RUN(exactly_across_pieces, NULL);
}

static int lines(void *arg)
{
    (void)arg;
    script sc = {.parts = {"one\ntw", "o\n\nthr", "ee"}, .pause = 0.01};
    tl_server *srv;
    tl_stream *c = dial_script(&sc, &srv);
    char buf[32];
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 4);
    cr_assert_arr_eq(buf, "one\n", 4);
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 4);
    cr_assert_arr_eq(buf, "two\n", 4);
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 1);
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 5, "the last line needs no newline");
    cr_assert_arr_eq(buf, "three", 5);
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 0);
    done(c, srv);
    return 0;
}

Test(read, readline_splits_lines_and_returns_the_unended_last_one)
{
    RUN(lines, NULL);
}

static int overrun(void *arg)
{
    (void)arg;
    static char big[300];
    memset(big, 'x', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    script sc = {.parts = {big, "short\n"}};
    tl_server *srv;
    tl_stream *c = dial_script(&sc, &srv);
    cr_assert_eq(tl_stream_set_limit(c, 0), TL_EINVAL);
    cr_assert_eq(tl_stream_set_limit(c, 100), 0);
    cr_assert_eq(tl_stream_limit(c), 100);
    char buf[512];
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), TL_ENOBUFS);
    cr_assert_geq(tl_stream_buffered(c), 100, "the data stays buffered");
    /* the caller's buffer is a limit too */
    cr_assert_eq(tl_stream_set_limit(c, 1000), 0);
    cr_assert_eq(tl_stream_readline(c, buf, 50), TL_ENOBUFS);
    ssize_t n = tl_stream_readline(c, buf, sizeof buf);
    cr_assert_eq(n, (ssize_t)strlen(big), "nothing was lost");
    cr_assert_arr_eq(buf, big, (size_t)n);
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 6);
    done(c, srv);
    return 0;
}

Test(read, a_line_longer_than_the_limit_is_enobufs_and_stays_readable)
{
    RUN(overrun, NULL);
}

static int until(void *arg)
{
    (void)arg;
    script sc = {.parts = {"head\r", "\nbody\r\n", "\r", "\ntail"}, .pause = 0.01};
    tl_server *srv;
    tl_stream *c = dial_script(&sc, &srv);
    char buf[64];
    cr_assert_eq(tl_stream_readuntil(c, "\r\n", 0, buf, sizeof buf), TL_EINVAL);
    cr_assert_eq(tl_stream_readuntil(c, "\r\n", 2, buf, sizeof buf), 6, "a separator split");
    cr_assert_arr_eq(buf, "head\r\n", 6);
    cr_assert_eq(tl_stream_readuntil(c, "\r\n", 2, buf, sizeof buf), 6);
    cr_assert_eq(tl_stream_readuntil(c, "\r\n", 2, buf, sizeof buf), 2);
    cr_assert_eq(tl_stream_readuntil(c, "\r\n", 2, buf, sizeof buf), TL_EOF);
    cr_assert_eq(tl_stream_buffered(c), 4, "the tail stays readable");
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), 4);
    cr_assert_arr_eq(buf, "tail", 4);
    done(c, srv);
    return 0;
}

Test(read, readuntil_finds_split_separators_and_leaves_data_at_eof)
{
    RUN(until, NULL);
}

typedef struct reader_job {
    tl_stream *s;
    char buf[64];
    ssize_t n;
} reader_job;

static int line_reader(void *arg)
{
    reader_job *j = arg;
    j->n = tl_stream_readline(j->s, j->buf, sizeof j->buf);
    return j->n < 0 ? (int)j->n : 0;
}

static int cancelled_readline(void *arg)
{
    (void)arg;
    script sc = {.parts = {"abc", "def\n"}, .pause = 0.1};
    tl_server *srv;
    tl_stream *c = dial_script(&sc, &srv);
    reader_job j = {.s = c};
    tl_task *t = tl_create_task(line_reader, &j);
    while (tl_stream_buffered(c) < 3)
        tl_sleep(0.005);
    cr_assert_not(tl_task_done(t), "no newline yet: the reader waits");
    char buf[64];
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), TL_EBUSY, "one reader at a time");
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 7);
    cr_assert_arr_eq(buf, "abcdef\n", 7, "the cancelled reader lost no byte");
    done(c, srv);
    return 0;
}

Test(read, a_reader_cancelled_midway_loses_no_bytes)
{
    RUN(cancelled_readline, NULL);
}

static int timed_out_read(void *arg)
{
    (void)arg;
    script sc = {.parts = {"late"}, .pause = 0};
    tl_server *srv;
    /* the script runs at once; a silent peer is an echo server we say nothing to */
    tl_server *quiet = serve(echo_handler, NULL);
    tl_stream *c = dial(quiet);
    char buf[8];
    tl_timeout tm;
    double t0 = tl_time();
    tl_timeout_enter(&tm, 0.05);
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), TL_ETIMEDOUT);
    cr_assert_eq(tl_stream_readexactly(c, buf, 4, NULL), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&tm), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.05);
    cr_assert_eq(tl_stream_write(c, "ping", 4), 0);
    cr_assert_eq(tl_stream_readexactly(c, buf, 4, NULL), 0, "the stream works after a timeout");
    cr_assert_arr_eq(buf, "ping", 4);
    done(c, quiet);
    tl_stream *d = dial_script(&sc, &srv);
    cr_assert_eq(tl_stream_readexactly(d, buf, 4, NULL), 0);
    done(d, srv);
    return 0;
}

Test(read, a_timeout_ends_the_wait_and_the_stream_goes_on)
{
    RUN(timed_out_read, NULL);
}

/* ---- flow control and drain ---- */

#define FLOOD ((size_t)8 << 20)

static int flood_handler(tl_stream *s, void *arg)
{
    (void)arg;
    static unsigned char chunk[65536];
    for (size_t sent = 0; sent < FLOOD; sent += sizeof chunk) {
        fill_pattern(chunk, sizeof chunk, (unsigned)(sent / sizeof chunk));
        int rc = tl_stream_write(s, chunk, sizeof chunk);
        if (!rc)
            rc = tl_stream_drain(s);
        if (rc)
            return rc;
    }
    return 0;
}

static int flow_control(void *arg)
{
    (void)arg;
    tl_server *srv = serve(flood_handler, NULL);
    tl_stream *c = dial(srv);
    tl_stream_set_limit(c, 65536);
    tl_sleep(0.2); /* a slow reader */
    size_t held = tl_stream_buffered(c);
    cr_assert_gt(held, 0);
    cr_assert_leq(held, 4 * 65536, "buffered %zu: reading pauses above the limit", held);
    cr_assert_not(c->flags & TL__S_READING, "paused");
    static unsigned char got[65536], want[65536];
    for (size_t off = 0; off < FLOOD; off += sizeof got) {
        cr_assert_eq(tl_stream_readexactly(c, got, sizeof got, NULL), 0, "at %zu", off);
        fill_pattern(want, sizeof want, (unsigned)(off / sizeof got));
        cr_assert_arr_eq(got, want, sizeof got, "bytes intact at %zu", off);
    }
    cr_assert_eq(tl_stream_read(c, got, 1), 0);
    done(c, srv);
    return 0;
}

Test(flow, a_slow_reader_holds_a_bounded_buffer_and_gets_every_byte)
{
    RUN(flow_control, NULL);
}

static tl_event go_read;
static size_t counted;

static int counting_handler(tl_stream *s, void *arg)
{
    (void)arg;
    tl_event_wait(&go_read);
    char buf[65536];
    ssize_t n;
    while ((n = tl_stream_read(s, buf, sizeof buf)) > 0)
        counted += (size_t)n;
    return (int)n;
}

static int drain(void *arg)
{
    (void)arg;
    tl_event_init(&go_read);
    counted = 0;
    tl_server *srv = serve(counting_handler, NULL);
    tl_stream *c = dial(srv);
    static unsigned char chunk[1 << 20];
    fill_pattern(chunk, sizeof chunk, 1);
    /* The kernel's buffers take megabytes on loopback: write until ours fills. */
    size_t chunks = 0;
    while (chunks < 64 && tl_stream_write_buffer_size(c) <= 65536) {
        cr_assert_eq(tl_stream_write(c, chunk, sizeof chunk), 0, "write never waits");
        chunks++;
    }
    cr_assert_gt(tl_stream_write_buffer_size(c), 65536);
    tl_timeout tm;
    tl_timeout_enter(&tm, 0.1);
    cr_assert_eq(tl_stream_drain(c), TL_ETIMEDOUT, "the peer reads nothing");
    tl_timeout_exit(&tm);
    tl_event_set(&go_read);
    cr_assert_eq(tl_stream_drain(c), 0);
    cr_assert_leq(tl_stream_write_buffer_size(c), 65536 / 4, "drain waits for the low mark");
    cr_assert_eq(tl_stream_wait_closed(c), 0, "closing sends what is buffered");
    tl_server_close(srv);
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    cr_assert_eq(counted, chunks << 20, "every byte arrived");
    tl_server_free(srv);
    tl_event_destroy(&go_read);
    return 0;
}

Test(flow, drain_waits_while_the_peer_does_not_read)
{
    RUN(drain, NULL);
}

static int resetting_handler(tl_stream *s, void *arg)
{
    (void)arg;
    uv_os_fd_t fd;
    cr_assert_eq(uv_fileno(&s->sock.uv.handle, &fd), 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    return 0; /* closing with linger 0 sends a reset */
}

static int reset_while_writing(void *arg)
{
    (void)arg;
    tl_server *srv = serve(resetting_handler, NULL);
    tl_stream *c = dial(srv);
    tl_sleep(0.05);
    static unsigned char chunk[65536];
    int rc = 0;
    for (int i = 0; i < 1000 && !rc; i++) {
        rc = tl_stream_write(c, chunk, sizeof chunk);
        if (!rc)
            rc = tl_stream_drain(c);
    }
    cr_assert(rc == TL_ECONNRESET || rc == TL_EPIPE, "%s", tl_err_name(rc));
    cr_assert_eq(tl_stream_write(c, "x", 1), rc, "the error sticks");
    cr_assert_eq(tl_stream_drain(c), rc);
    char buf[8];
    ssize_t n = tl_stream_read(c, buf, sizeof buf);
    cr_assert(n == 0 || n == TL_ECONNRESET, "%zd", n);
    cr_assert_eq(tl_stream_wait_closed(c), rc);
    done(NULL, srv);
    return 0;
}

Test(write, a_peer_that_resets_makes_writes_fail_not_crash)
{
    RUN(reset_while_writing, NULL);
}

static int reply_after_eof(tl_stream *s, void *arg)
{
    (void)arg;
    char buf[64];
    size_t total = 0;
    ssize_t n;
    while ((n = tl_stream_read(s, buf, sizeof buf)) > 0)
        total += (size_t)n;
    if (n < 0)
        return (int)n;
    int len = snprintf(buf, sizeof buf, "got %zu", total);
    return tl_stream_write(s, buf, (size_t)len);
}

static int half_close(void *arg)
{
    (void)arg;
    tl_server *srv = serve(reply_after_eof, NULL);
    tl_stream *c = dial(srv);
    cr_assert_eq(tl_stream_write(c, "ping", 4), 0);
    cr_assert_eq(tl_stream_write_eof(c), 0);
    cr_assert_eq(tl_stream_write_eof(c), 0, "again: nothing more to do");
    cr_assert_eq(tl_stream_write(c, "x", 1), TL_EPIPE, "nothing can follow the EOF");
    char buf[16];
    ssize_t n = tl_stream_readuntil(c, "4", 1, buf, sizeof buf);
    cr_assert_eq(n, 5, "the half-closed peer still answers");
    cr_assert_arr_eq(buf, "got 4", 5);
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), 0);
    done(c, srv);
    return 0;
}

Test(write, write_eof_half_closes_and_the_reply_still_comes)
{
    RUN(half_close, NULL);
}

static int unix_echo(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/tulip-test-%d.sock", (int)getpid());
    tl_server *srv;
    cr_assert_eq(tl_start_unix_server(echo_handler, NULL, path, NULL, &srv), 0);
    cr_assert_eq(tl_server_port(srv), 0);
    tl_stream *c;
    cr_assert_eq(tl_open_unix_connection(path, &c), 0);
    cr_assert_eq(tl_stream_write(c, "over unix\n", 10), 0);
    char buf[16];
    cr_assert_eq(tl_stream_readline(c, buf, sizeof buf), 10);
    cr_assert_arr_eq(buf, "over unix\n", 10);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    cr_assert_eq(tl_stream_peername(c, (struct sockaddr *)&ss, &len), TL_ENOTSUP);
    cr_assert_eq(tl_stream_set_nodelay(c, true), TL_ENOTSUP);
    done(c, srv);
    cr_assert_neq(access(path, F_OK), 0, "closing the server removes its socket file");
    return 0;
}

Test(unix_socket, streams_over_a_unix_socket)
{
    RUN(unix_echo, NULL);
}

/* ---- faults ---- */
#include "fault_walk.h"

static int faulty_session(void *arg)
{
    (void)arg;
    tl_server *srv;
    int rc = tl_start_server(echo_handler, NULL, "127.0.0.1", 0, NULL, &srv);
    if (rc)
        return rc;
    tl_stream *c;
    rc = tl_open_connection("127.0.0.1", tl_server_port(srv), &c);
    if (!rc) {
        static char msg[100000];
        char back[sizeof msg];
        rc = tl_stream_write(c, msg, sizeof msg);
        if (!rc)
            rc = tl_stream_readexactly(c, back, sizeof back, NULL);
        int rc2 = tl_stream_wait_closed(c);
        rc = rc ? rc : rc2;
    }
    tl_server_close(srv);
    tl_server_wait_closed(srv);
    tl_server_free(srv);
    /* A handler that failed to allocate ends its connection: the client
     * sees that as EOF; only ever when a fault was injected. */
    return rc && tl__fault_fired() ? TL_ENOMEM : rc;
}

Test(fault, every_failed_allocation_is_an_error_and_leaks_nothing)
{
    int n = fault_walk(faulty_session, NULL, 200);
    cr_log_info("fault walk: %d allocation points", n);
}
