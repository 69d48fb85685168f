/* The HTTP server under load: 10,000 keep-alive connections open at once,
 * each answered twice on the same connection; and a graceful shutdown with
 * 1,000 requests in flight, none of them lost. One process cannot hold both
 * ends of 10,000 connections within the open-file limit, so a forked child
 * runs its own loop as the clients. */
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "http_util.h"

#define WANTED     10000
#define DEADLINE   60.0
#define CONNECTING 500 /* connects in flight at once: the SYN backlog must not overflow */
#define STACK      ((size_t)32 * 1024)

static void raise_nofile(int need)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)need ? (rlim_t)need : rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "setrlimit: %s", strerror(errno));
    cr_assert_geq(rl.rlim_cur, (rlim_t)need, "the hard open-file limit %ld is below %d",
                  (long)rl.rlim_max, need);
}

/* One request and its answer, read by its Content-Length: 0, or an error. */
static int ask(tl_stream *s, const char *req, size_t len, const char *want)
{
    char head[512];
    int rc = tl_stream_write(s, req, len);
    if (rc)
        return rc;
    ssize_t n = tl_stream_readuntil(s, "\r\n\r\n", 4, head, sizeof head - 1);
    if (n < 0)
        return (int)n;
    head[n] = 0;
    const char *cl = strstr(head, "Content-Length: ");
    if (strncmp(head, "HTTP/1.1 200 OK\r\n", 17) || !cl)
        return TL_EPROTO;
    size_t blen = (size_t)atoi(cl + 16);
    char body[256];
    if (blen >= sizeof body || (rc = tl_stream_readexactly(s, body, blen, NULL)))
        return rc ? rc : TL_EPROTO;
    return blen == strlen(want) && !memcmp(body, want, blen) ? 0 : TL_EPROTO;
}

/* ---- 10,000 connections: the clients, in the child ---- */

static struct {
    int port, n, arrived, failed, first_err;
    tl_semaphore connecting;
    tl_event all_answered;
} cl;

static const char get[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";

static void arrive(void)
{
    if (++cl.arrived == cl.n)
        tl_event_set(&cl.all_answered);
}

static int client_task(void *arg)
{
    (void)arg;
    tl_stream *s = NULL;
    int rc = tl_semaphore_acquire(&cl.connecting);
    if (!rc) {
        rc = tl_open_connection("127.0.0.1", cl.port, &s);
        if (!rc)
            rc = ask(s, get, sizeof get - 1, "Hello, World!");
        tl_semaphore_release(&cl.connecting);
    }
    arrive(); /* counted even when it failed, so that the others do not wait for it */
    if (!rc)
        rc = tl_event_wait(&cl.all_answered);
    if (!rc)
        rc = ask(s, get, sizeof get - 1, "Hello, World!"); /* the same connection, kept */
    if (s)
        tl_stream_close(s);
    if (rc && !cl.failed++)
        cl.first_err = rc;
    return rc;
}

static int clients_main(void *arg)
{
    (void)arg;
    tl_semaphore_init(&cl.connecting, CONNECTING);
    tl_event_init(&cl.all_answered);
    tl_task **tasks = calloc((size_t)cl.n, sizeof *tasks);
    int *results = calloc((size_t)cl.n, sizeof *results);
    tl_task_opts opts = {.stack_size = STACK};
    for (int i = 0; i < cl.n; i++)
        if (!(tasks[i] = tl_create_task_ex(client_task, NULL, &opts)))
            return TL_ENOMEM;
    tl_timeout t;
    tl_timeout_enter(&t, DEADLINE);
    tl_gather(tasks, (size_t)cl.n, results, TL_RETURN_EXCEPTIONS);
    int late = tl_timeout_exit(&t);
    for (int i = 0; i < cl.n; i++)
        tl_task_release(tasks[i]);
    free(tasks);
    free(results);
    tl_event_destroy(&cl.all_answered);
    tl_semaphore_destroy(&cl.connecting);
    if (cl.failed)
        fprintf(stderr, "clients: %d failed, the first with %s\n", cl.failed,
                tl_err_name(cl.first_err));
    return cl.failed || late ? TL_EPROTO : 0;
}

static void clients_process(int port_fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    if (read(port_fd, &cl.port, sizeof cl.port) != (ssize_t)sizeof cl.port)
        _exit(4);
    close(port_fd);
    cl.n = WANTED;
    _exit(tl_run(clients_main, NULL) == 0 ? 0 : 1);
}

/* ---- 10,000 connections: the server, in the test process ---- */

static int hello(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)req;
    (void)arg;
    http_calls++;
    return tl_http_resp_send(resp, 200, "text/plain", "Hello, World!", 13);
}

typedef struct load {
    int port_fd;
    pid_t child;
} load;

static int server_main(void *arg)
{
    load *L = arg;
    tl_http_server_opts o = {.server = {.backlog = 4096}, .stack_size = STACK};
    tl_http_server *srv = http_serve(hello, NULL, &o);
    int port = tl_http_server_port(srv);
    cr_assert_eq(write(L->port_fd, &port, sizeof port), (ssize_t)sizeof port);
    close(L->port_fd);
    size_t peak = 0;
    double deadline = tl_time() + DEADLINE + 15;
    int st;
    for (;;) {
        size_t c = tl_http_server_connections(srv);
        if (c > peak)
            peak = c;
        pid_t r = waitpid(L->child, &st, WNOHANG);
        if (r == L->child)
            break;
        if (tl_time() > deadline) {
            kill(L->child, SIGKILL);
            waitpid(L->child, &st, 0);
            cr_assert_fail("the clients did not finish");
        }
        tl_sleep(0.005);
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the clients' verdict: %d", st);
    cr_assert_eq(peak, (size_t)WANTED, "connections open at once");
    cr_assert_eq(http_calls, 2 * WANTED);
    cr_log_info("%zu connections open at once, %d requests answered", peak, http_calls);
    http_stop(srv);
    return 0;
}

Test(http_load, ten_thousand_keep_alive_connections_at_once_each_answered_twice, .timeout = 120)
{
    raise_nofile(WANTED + 1024);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[1]);
        clients_process(fds[0], parent);
    }
    close(fds[0]);
    load L = {.port_fd = fds[1], .child = pid};
    RUN(server_main, &L);
}

/* ---- graceful shutdown with 1,000 requests in flight ---- */

#define IN_FLIGHT 1000

static struct {
    int entered, answered;
    tl_event all_in;
} sd;

static int held(tl_http_req *req, tl_http_resp *resp, void *arg)
{
    (void)req;
    (void)arg;
    if (++sd.entered == IN_FLIGHT)
        tl_event_set(&sd.all_in);
    int rc = tl_sleep(0.3); /* still running when the shutdown begins */
    if (rc)
        return rc;
    return tl_http_resp_send(resp, 200, "text/plain", "finished", 8);
}

static int in_flight_client(void *arg)
{
    int port = (int)(intptr_t)arg;
    tl_stream *s = NULL;
    int rc = tl_open_connection("127.0.0.1", port, &s);
    if (!rc)
        rc = ask(s, get, sizeof get - 1, "finished");
    if (!rc)
        sd.answered++;
    if (s)
        tl_stream_close(s);
    return rc;
}

static int shutdown_main(void *arg)
{
    (void)arg;
    tl_event_init(&sd.all_in);
    tl_http_server_opts o = {.server = {.backlog = 2048}, .stack_size = STACK};
    tl_http_server *srv = http_serve(held, NULL, &o);
    tl_task **tasks = calloc(IN_FLIGHT, sizeof *tasks);
    int results[IN_FLIGHT];
    tl_task_opts opts = {.stack_size = STACK};
    for (int i = 0; i < IN_FLIGHT; i++)
        tasks[i] =
            tl_create_task_ex(in_flight_client, (void *)(intptr_t)tl_http_server_port(srv), &opts);
    tl_timeout t;
    tl_timeout_enter(&t, 20);
    cr_assert_eq(tl_event_wait(&sd.all_in), 0, "%d of the requests reached a handler", sd.entered);
    cr_assert_eq(tl_http_server_shutdown(srv, 10), 0);
    cr_assert_eq(tl_gather(tasks, IN_FLIGHT, results, TL_RETURN_EXCEPTIONS), 0);
    cr_assert_eq(tl_timeout_exit(&t), 0);
    for (int i = 0; i < IN_FLIGHT; i++) {
        cr_assert_eq(results[i], 0, "client %d: %s", i, tl_err_name(results[i]));
        tl_task_release(tasks[i]);
    }
    free(tasks);
    cr_assert_eq(sd.answered, IN_FLIGHT, "none lost");
    tl_http_server_free(srv);
    tl_event_destroy(&sd.all_in);
    return 0;
}

Test(http_load, shutdown_with_a_thousand_requests_in_flight_loses_none, .timeout = 60)
{
    raise_nofile(2 * IN_FLIGHT + 512);
    RUN(shutdown_main, NULL);
}
