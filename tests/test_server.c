/* Servers: listening, one task per connection, closing and waiting,
 * options, accept errors. */
#include <sys/resource.h>
#include <sys/stat.h>

#include "../src/io/io.h"
#include "net_util.h"

static int returns_at_once(tl_stream *s, void *arg)
{
    (void)s;
    (void)arg;
    return 0;
}

static int handler_return_closes(void *arg)
{
    (void)arg;
    tl_server *srv = serve(returns_at_once, NULL);
    cr_assert(tl_server_is_serving(srv));
    struct sockaddr_storage ss;
    int len = sizeof ss;
    cr_assert_eq(tl_server_sockname(srv, (struct sockaddr *)&ss, &len), 0);
    cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), tl_server_port(srv));
    tl_stream *c = dial(srv);
    char buf[4];
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), 0, "the handler returned: EOF");
    tl_stream_close(c);
    tl_server_close(srv);
    cr_assert_not(tl_server_is_serving(srv));
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    tl_server_free(srv);
    return 0;
}

Test(server, the_stream_closes_when_its_handler_returns)
{
    RUN(handler_return_closes, NULL);
}

static tl_event release_handlers;
static int handlers_done;

static int waits_for_event(tl_stream *s, void *arg)
{
    (void)arg;
    int rc = tl_event_wait(&release_handlers);
    if (!rc)
        rc = tl_stream_write(s, "bye\n", 4);
    handlers_done++;
    return rc;
}

static int closer(void *arg)
{
    tl_sleep(0.05);
    tl_server_close(arg);
    return 0;
}

static int serve_forever_until_closed(void *arg)
{
    (void)arg;
    tl_server *srv = serve(returns_at_once, NULL);
    tl_task *t = tl_create_task(closer, srv);
    double t0 = tl_time();
    cr_assert_eq(tl_server_serve_forever(srv), 0);
    ASSERT_ELAPSED(t0, 0.05);
    cr_assert_eq(tl_server_serve_forever(srv), 0, "closed already: returns at once");
    tl_await(t);
    tl_task_release(t);
    tl_server_free(srv);
    return 0;
}

Test(server, serve_forever_returns_when_the_server_is_closed)
{
    RUN(serve_forever_until_closed, NULL);
}

static int forever(void *arg)
{
    return tl_server_serve_forever(arg);
}

static int serve_forever_cancelled(void *arg)
{
    (void)arg;
    tl_server *srv = serve(returns_at_once, NULL);
    int port = tl_server_port(srv);
    tl_task *t = tl_create_task(forever, srv);
    tl_sleep(0.01);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    cr_assert_not(tl_server_is_serving(srv), "cancelled serve_forever closes the server");
    tl_stream *c;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &c), TL_ECONNREFUSED);
    tl_server_free(srv);
    return 0;
}

Test(server, serve_forever_cancelled_closes_the_server)
{
    RUN(serve_forever_cancelled, NULL);
}

static int releaser(void *arg)
{
    (void)arg;
    tl_sleep(0.1);
    tl_event_set(&release_handlers);
    return 0;
}

static int wait_closed_waits_for_handlers(void *arg)
{
    (void)arg;
    tl_event_init(&release_handlers);
    handlers_done = 0;
    tl_server *srv = serve(waits_for_event, NULL);
    int port = tl_server_port(srv);
    tl_stream *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = dial(srv);
    while (tl_server_connections(srv) < 3)
        tl_sleep(0.001);
    tl_server_close(srv);
    tl_stream *late;
    cr_assert_eq(tl_open_connection("127.0.0.1", port, &late), TL_ECONNREFUSED,
                 "a closed server accepts nothing new");
    tl_task *t = tl_create_task(releaser, NULL);
    double t0 = tl_time();
    cr_assert_eq(tl_server_wait_closed(srv), 0);
    ASSERT_ELAPSED(t0, 0.1);
    cr_assert_eq(handlers_done, 3, "the handlers ran on after close, to the end");
    cr_assert_eq(tl_server_connections(srv), 0);
    for (int i = 0; i < 3; i++) {
        char buf[8];
        cr_assert_eq(tl_stream_readline(c[i], buf, sizeof buf), 4);
        tl_stream_close(c[i]);
    }
    tl_await(t);
    tl_task_release(t);
    tl_server_free(srv);
    tl_event_destroy(&release_handlers);
    return 0;
}

Test(server, wait_closed_waits_for_the_handlers_as_asyncio_3_12)
{
    RUN(wait_closed_waits_for_handlers, NULL);
}

static int wait_closed_timeout(void *arg)
{
    (void)arg;
    tl_event_init(&release_handlers);
    handlers_done = 0;
    tl_server *srv = serve(waits_for_event, NULL);
    tl_stream *c = dial(srv);
    while (tl_server_connections(srv) < 1)
        tl_sleep(0.001);
    tl_server_close(srv);
    tl_timeout tm;
    tl_timeout_enter(&tm, 0.05);
    cr_assert_eq(tl_server_wait_closed(srv), TL_ETIMEDOUT);
    tl_timeout_exit(&tm);
    /* free cancels the straggler; its stream is closed for it */
    tl_server_free(srv);
    char buf[8];
    cr_assert_eq(tl_stream_read(c, buf, sizeof buf), 0);
    cr_assert_eq(handlers_done, 1);
    tl_stream_close(c);
    tl_event_destroy(&release_handlers);
    return 0;
}

Test(server, free_after_a_timed_out_wait_cancels_the_handlers)
{
    RUN(wait_closed_timeout, NULL);
}

/* Connects and reads: 0 when the server closed the stream. */
static int dial_and_read(void *arg)
{
    tl_stream *c = dial(arg);
    char buf[4];
    ssize_t n = tl_stream_read(c, buf, sizeof buf);
    tl_stream_close(c);
    return (int)n;
}

/* The state of the server's newest handler task. */
static int srv_first_handler_state(tl_server *srv)
{
    (void)srv;
    tl_task *all[8];
    size_t n = tl_all_tasks(all, 8);
    for (size_t i = 0; i < n; i++)
        if (all[i]->fn != dial_and_read && all[i] != tl_current_task())
            return all[i]->state;
    return -1;
}

static int cancelled_before_start(void *arg)
{
    (void)arg;
    tl_server *srv = serve(returns_at_once, NULL);
    tl_task *client = tl_create_task(dial_and_read, srv);
    /* This task stays in the ready queue, so the accept queues the handler
     * behind it: it sees the handler before the handler runs. */
    while (tl_server_connections(srv) < 1)
        tl_sleep(0);
    cr_assert_eq(srv_first_handler_state(srv), TL__CREATED, "not started yet");
    tl_server_free(srv);
    cr_assert_eq(tl_await(client), 0, "its stream is closed all the same");
    tl_task_release(client);
    return 0;
}

Test(server, a_handler_cancelled_before_it_starts_still_closes_its_stream)
{
    long live = tl__alloc_live();
    RUN(cancelled_before_start, NULL);
    cr_assert_eq(tl__alloc_live(), live);
}

static int loop_ends_with_server_open(void *arg)
{
    (void)arg;
    tl_server *srv = serve(echo_handler, NULL);
    tl_stream *c = dial(srv);
    cr_assert_eq(tl_stream_write(c, "x", 1), 0);
    tl_sleep(0.01);
    return 0; /* neither closed nor freed: the loop's end closes both */
}

Test(server, a_loop_that_ends_with_servers_and_streams_open_frees_them)
{
    long live = tl__alloc_live();
    RUN(loop_ends_with_server_open, NULL);
    cr_assert_eq(tl__alloc_live(), live);
}

/* ---- addresses and options ---- */

static int in_use(void *arg)
{
    (void)arg;
    tl_server *a = serve(returns_at_once, NULL), *b = NULL;
    int port = tl_server_port(a);
    cr_assert_eq(tl_start_server(returns_at_once, NULL, "127.0.0.1", port, NULL, &b),
                 TL_EADDRINUSE);
    cr_assert_null(b);
    tl_server_free(a);
    tl_server_opts o = {.reuse_port = true};
    cr_assert_eq(tl_start_server(returns_at_once, NULL, "127.0.0.1", 0, &o, &a), 0);
    cr_assert_eq(tl_start_server(returns_at_once, NULL, "127.0.0.1", tl_server_port(a), &o, &b), 0,
                 "SO_REUSEPORT: two servers on one port");
    tl_server_free(a);
    tl_server_free(b);
    cr_assert_eq(tl_start_server(NULL, NULL, "127.0.0.1", 0, NULL, &a), TL_EINVAL);
    cr_assert_eq(tl_start_server(returns_at_once, NULL, "127.0.0.1", 65536, NULL, &a), TL_EINVAL);
    return 0;
}

Test(server, a_port_in_use_and_reuse_port)
{
    RUN(in_use, NULL);
}

static int echo_once(const char *host, int port)
{
    tl_stream *c;
    int rc = tl_open_connection(host, port, &c);
    if (rc)
        return rc;
    char buf[2];
    rc = tl_stream_write(c, "hi", 2);
    if (!rc)
        rc = tl_stream_readexactly(c, buf, 2, NULL);
    tl_stream_close(c);
    return rc;
}

static int dual_stack(void *arg)
{
    (void)arg;
    tl_server *srv;
    cr_assert_eq(tl_start_server(echo_handler, NULL, NULL, 0, NULL, &srv), 0);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    cr_assert_eq(tl_server_sockname(srv, (struct sockaddr *)&ss, &len), 0);
    cr_assert_eq(ss.ss_family, AF_INET6, "one socket for both families");
    cr_assert_eq(echo_once("127.0.0.1", tl_server_port(srv)), 0);
    cr_assert_eq(echo_once("::1", tl_server_port(srv)), 0);
    int port = tl_server_port(srv);
    tl_server_free(srv);
    /* the wildcard listens on the port asked for */
    cr_assert_eq(tl_start_server(echo_handler, NULL, "", port, NULL, &srv), 0);
    cr_assert_eq(tl_server_port(srv), port);
    cr_assert_eq(echo_once("127.0.0.1", port), 0);
    tl_server_free(srv);
    tl_server_opts o = {.ipv6_only = true};
    cr_assert_eq(tl_start_server(echo_handler, NULL, "::", 0, &o, &srv), 0);
    cr_assert_eq(echo_once("::1", tl_server_port(srv)), 0);
    cr_assert_eq(echo_once("127.0.0.1", tl_server_port(srv)), TL_ECONNREFUSED);
    tl_server_free(srv);
    cr_assert_eq(tl_start_server(echo_handler, NULL, "localhost", 0, NULL, &srv), 0);
    cr_assert_eq(echo_once("localhost", tl_server_port(srv)), 0, "a name is looked up");
    tl_server_free(srv);
    return 0;
}

Test(server, dual_stack_ipv6_only_and_a_host_name)
{
    RUN(dual_stack, NULL);
}

static int unix_server(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/tmp/tulip-srv-%d.sock", (int)getpid());
    tl_server *a, *b;
    cr_assert_eq(tl_start_unix_server(echo_handler, NULL, path, NULL, &a), 0);
    /* a socket file left behind (as by a crash) is replaced */
    cr_assert_eq(tl_start_unix_server(echo_handler, NULL, path, NULL, &b), 0);
    tl_stream *c;
    cr_assert_eq(tl_open_unix_connection(path, &c), 0);
    tl_stream_close(c);
    tl_server_free(b);
    tl_server_free(a);
    /* anything else at the path is left alone */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(tl_start_unix_server(echo_handler, NULL, path, NULL, &a), TL_EADDRINUSE);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    unlink(path);
    char longp[200];
    memset(longp, 'q', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    cr_assert_eq(tl_start_unix_server(echo_handler, NULL, longp, NULL, &a), TL_ENAMETOOLONG);
    return 0;
}

Test(server, unix_servers_replace_stale_sockets_only)
{
    RUN(unix_server, NULL);
}

/* ---- accept errors ---- */

/* Criterion's asserts must not run in a forked child: it reports instead. */
#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

static int out_of_fds(void *arg)
{
    (void)arg;
    tl_server *srv;
    CHECK(tl_start_server(echo_handler, NULL, "127.0.0.1", 0, NULL, &srv) == 0);
    /* A client the kernel has connected (it waits in the backlog), then a
     * full descriptor table: the server's accept fails with EMFILE. */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)tl_server_port(srv)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(c, (struct sockaddr *)&sin, sizeof sin) == 0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int probe = dup(0);
    close(probe);
    struct rlimit low = {.rlim_cur = (rlim_t)probe + 8, .rlim_max = rl.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int fds[64], n = 0;
    while (n < 64 && (fds[n] = dup(0)) >= 0)
        n++;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = tl_time();
    tl_sleep(0.3); /* the server backs off instead of spinning */
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                          r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                          r0.ru_stime.tv_usec) /
                     1e6;
    double wall = tl_time() - t0;
    while (n > 0)
        close(fds[--n]);
    setrlimit(RLIMIT_NOFILE, &rl);
    /* the retry accepts it: the echo comes back */
    CHECK(write(c, "ok", 2) == 2);
    char buf[2];
    ssize_t got = 0;
    for (int i = 0; i < 200 && got <= 0; i++) {
        got = recv(c, buf, 2, MSG_DONTWAIT);
        if (got <= 0)
            tl_sleep(0.01);
    }
    CHECK(got == 2 && memcmp(buf, "ok", 2) == 0);
    close(c);
    tl_server_free(srv);
    fprintf(stderr, "cpu %.3f s of %.3f s\n", cpu, wall);
    return 0;
}

static void out_of_fds_child(void *arg)
{
    (void)arg;
    tl_set_debug(true);
    exit(tl_run(out_of_fds, NULL) == 0 ? 0 : 1);
}

Test(server, emfile_backs_off_says_so_in_debug_mode_and_recovers)
{
    char err[4096];
    int status = run_child(out_of_fds_child, NULL, err, sizeof err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %s", err);
    cr_assert_not_null(strstr(err, "accept failed: EMFILE"), "%s", err);
    cr_assert_not_null(strstr(err, "retrying in"), "%s", err);
    double cpu = 1, wall = 0;
    const char *p = strstr(err, "cpu ");
    cr_assert_not_null(p, "%s", err);
    cr_assert_eq(sscanf(p, "cpu %lf s of %lf s", &cpu, &wall), 2);
    cr_assert_lt(cpu, wall / 2, "no spinning: %.3f s of CPU in %.3f s", cpu, wall);
}
