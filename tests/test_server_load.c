/* One tulip server holding 10,000 connections at once, every byte echoed
 * back intact. The open-file limit does not let one process hold both ends
 * of that many connections, so a forked child runs its own loop as the
 * clients while this process serves. */
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "util.h"

#define WANTED     10000
#define FD_MARGIN  64 /* the loop's own descriptors, the listener, stdio, Criterion's */
#define DEADLINE   60.0
#define CONNECTING 500 /* connects in flight at once: the SYN backlog must not overflow */
#define STACK      ((size_t)32 * 1024)

/* Raises the soft open-file limit to the hard one; how many connections one
 * process can then hold, at most WANTED. */
static int connection_count(void)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > WANTED + 4096)
        rl.rlim_cur = WANTED + 4096; /* enough, and below the kernel's nr_open */
    else
        rl.rlim_cur = rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "setrlimit: %s", strerror(errno));
    long fit = (long)rl.rlim_cur - FD_MARGIN;
    if (fit >= WANTED)
        return WANTED;
    cr_assert_gt(fit, 100, "an open-file limit of %ld leaves no room for the test",
                 (long)rl.rlim_cur);
    cr_log_warn("the hard open-file limit (%ld) fits %ld connections per process: testing %ld, "
                "not %d",
                (long)rl.rlim_max, fit, fit, WANTED);
    return (int)fit;
}

/* "conn 01234 round 1 " then filler (no newline) up to 64..200 bytes, then
 * '\n': unique to the connection and the round. No printf: the tasks run on
 * small stacks. */
static size_t message(char *buf, int idx, int round)
{
    static const char head[] = "conn 00000 round 0 ";
    memcpy(buf, head, sizeof head - 1);
    for (int i = 9, v = idx; i >= 5; i--, v /= 10)
        buf[i] = (char)('0' + v % 10);
    buf[17] = (char)('0' + round);
    size_t len = 64 + (size_t)(idx * 7 + round * 13) % 137;
    for (size_t j = sizeof head - 1; j < len - 1; j++)
        buf[j] = (char)('!' + ((size_t)idx * 31 + j * 7 + (size_t)round) % 90);
    buf[len - 1] = '\n';
    return len;
}

/* ---- the clients, in the child process ---- */

static struct {
    int port, n;
    tl_semaphore connecting;
    tl_event all_verified; /* every connection made its first exchange */
    int arrived, failed;
    int first_idx, first_err; /* the first failure, reported by the main task */
    const char *first_what;
} cl;

static int failure(int idx, const char *what, int err)
{
    if (!cl.failed++) {
        cl.first_idx = idx;
        cl.first_what = what;
        cl.first_err = err;
    }
    return err;
}

static void arrive(void)
{
    if (++cl.arrived == cl.n)
        tl_event_set(&cl.all_verified);
}

/* Sends this connection's message for round and checks what comes back. */
static int exchange(tl_stream *s, int idx, int round)
{
    char msg[256], back[256];
    size_t len = message(msg, idx, round);
    int rc = tl_stream_write(s, msg, len);
    if (!rc)
        rc = tl_stream_readexactly(s, back, len, NULL);
    if (!rc && memcmp(back, msg, len) != 0)
        rc = TL_EPROTO;
    return rc;
}

static int client_task(void *arg)
{
    int idx = (int)(intptr_t)arg;
    tl_stream *s = NULL;
    int rc = tl_semaphore_acquire(&cl.connecting);
    if (rc) {
        arrive();
        return failure(idx, "waiting to connect", rc);
    }
    rc = tl_open_connection("127.0.0.1", cl.port, &s);
    const char *what = "connect";
    if (!rc) {
        what = "first exchange";
        rc = exchange(s, idx, 1);
    }
    tl_semaphore_release(&cl.connecting);
    /* Counted even when it failed, so that the others do not wait for it. */
    arrive();
    if (rc) {
        if (s)
            tl_stream_close(s);
        return failure(idx, what, rc);
    }
    what = "waiting for the others";
    rc = tl_event_wait(&cl.all_verified);
    if (!rc) {
        what = "second exchange";
        rc = exchange(s, idx, 2);
    }
    if (!rc) {
        what = "end";
        rc = tl_stream_write_eof(s);
    }
    if (!rc) {
        /* The server closes once its handler has seen this end. */
        char c;
        ssize_t n = tl_stream_read(s, &c, 1);
        rc = n == 0 ? 0 : n < 0 ? (int)n : TL_EPROTO;
    }
    int closed = tl_stream_wait_closed(s);
    if (!rc)
        rc = closed;
    return rc ? failure(idx, what, rc) : 0;
}

static int clients_main(void *arg)
{
    (void)arg;
    int n = cl.n;
    tl_task **tasks = calloc((size_t)n, sizeof *tasks);
    int *results = calloc((size_t)n, sizeof *results);
    if (!tasks || !results)
        return TL_ENOMEM;
    tl_semaphore_init(&cl.connecting, CONNECTING);
    tl_event_init(&cl.all_verified);
    tl_timeout scope;
    tl_timeout_enter(&scope, DEADLINE);
    tl_task_opts opts = {.stack_size = STACK};
    int made = 0, rc = 0;
    for (; made < n; made++) {
        tasks[made] = tl_create_task_ex(client_task, (void *)(intptr_t)made, &opts);
        if (!tasks[made]) {
            rc = TL_ENOMEM;
            break;
        }
    }
    if (rc)
        tl_event_set(&cl.all_verified); /* the rest will never all arrive */
    int gathered = tl_gather(tasks, (size_t)made, results, TL_RETURN_EXCEPTIONS);
    if (!rc)
        rc = gathered;
    int timed_out = tl_timeout_exit(&scope);
    int bad = 0;
    for (int i = 0; i < made; i++) {
        if (results[i])
            bad++;
        tl_task_release(tasks[i]);
    }
    if (cl.failed)
        fprintf(stderr, "clients: %d failed; the first, %d, at %s: %s\n", cl.failed, cl.first_idx,
                cl.first_what, tl_err_name(cl.first_err));
    if (timed_out)
        fprintf(stderr, "clients: not done within %.0f s\n", DEADLINE);
    tl_event_destroy(&cl.all_verified);
    tl_semaphore_destroy(&cl.connecting);
    free(tasks);
    free(results);
    if (rc)
        return rc;
    return bad || cl.failed || timed_out || made != n ? TL_EPROTO : 0;
}

/* The child: waits for the port, runs the clients, exits with their verdict. */
static void clients_process(int port_fd, int n, pid_t parent)
{
    /* Dies with the test process, whatever kills that. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    if (read(port_fd, &cl.port, sizeof cl.port) != (ssize_t)sizeof cl.port)
        _exit(4); /* the server did not start */
    close(port_fd);
    cl.n = n;
    int rc = tl_run(clients_main, NULL);
    _exit(rc == 0 ? 0 : 1);
}

/* ---- the server, in the test process ---- */

static struct {
    int n;
    tl_server *srv;
    tl_event all_connected;
    size_t peak;
    int handlers_ok, handlers_failed;
    int first_err;
} sv;

/* Echoes the connection's two lines. The second is read only once every
 * connection has been counted: none can end before the peak is seen. */
static int echo_twice(tl_stream *s, void *arg)
{
    (void)arg;
    char line[256];
    int rc = 0;
    for (int round = 1; round <= 3 && !rc; round++) {
        ssize_t n = tl_stream_readline(s, line, sizeof line);
        if (round == 3) {
            rc = n == 0 ? 0 : n < 0 ? (int)n : TL_EPROTO; /* then the client's end */
            break;
        }
        if (n <= 0) {
            rc = n < 0 ? (int)n : TL_EPROTO;
            break;
        }
        rc = tl_stream_write(s, line, (size_t)n);
        if (!rc && round == 1)
            rc = tl_event_wait(&sv.all_connected);
    }
    if (rc) {
        if (!sv.handlers_failed++)
            sv.first_err = rc;
    } else {
        sv.handlers_ok++;
    }
    return rc;
}

static int poll_connections(void *arg)
{
    (void)arg;
    for (;;) {
        size_t c = tl_server_connections(sv.srv);
        if (c > sv.peak)
            sv.peak = c;
        if (c >= (size_t)sv.n) {
            tl_event_set(&sv.all_connected);
            return 0;
        }
        int rc = tl_sleep(0.005);
        if (rc)
            return rc;
    }
}

typedef struct load {
    int n;
    int port_fd;
    pid_t child;
} load;

/* Waits for the child without blocking the loop; kills it after secs. */
static int wait_child(pid_t pid, double secs)
{
    double deadline = tl_time() + secs;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        cr_assert_neq(r, -1, "waitpid: %s", strerror(errno));
        if (r == pid)
            return st;
        int rc = tl_time() < deadline ? tl_sleep(0.01) : TL_ETIMEDOUT;
        if (rc) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("the clients did not finish: %s", tl_err_name(rc));
        }
    }
}

static int server_main(void *arg)
{
    load *L = arg;
    sv.n = L->n;
    tl_event_init(&sv.all_connected);
    tl_server_opts opts = {.backlog = 4096, .stack_size = STACK};
    int rc = tl_start_server(echo_twice, NULL, "127.0.0.1", 0, &opts, &sv.srv);
    if (rc)
        kill(L->child, SIGKILL);
    cr_assert_eq(rc, 0, "tl_start_server: %s", tl_err_name(rc));
    int port = tl_server_port(sv.srv);
    cr_assert_eq(write(L->port_fd, &port, sizeof port), (ssize_t)sizeof port);
    close(L->port_fd);
    tl_task *poller = tl_create_task(poll_connections, NULL);
    cr_assert_not_null(poller);

    double t0 = tl_time();
    int st = wait_child(L->child, DEADLINE + 15);
    double took = elapsed_since(t0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the clients' verdict: %s %d",
              WIFEXITED(st) ? "exit status" : "killed by signal",
              WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    cr_assert(tl_task_done(poller), "the poller saw at most %zu connections", sv.peak);
    cr_assert_eq(tl_await(poller), 0);
    tl_task_release(poller);
    cr_assert_eq(sv.peak, (size_t)sv.n, "connections held at once");

    tl_server_close(sv.srv);
    tl_timeout scope;
    tl_timeout_enter(&scope, 10);
    rc = tl_server_wait_closed(sv.srv);
    tl_timeout_exit(&scope);
    cr_assert_eq(rc, 0, "the handlers did not all return: %zu still run",
                 tl_server_connections(sv.srv));
    cr_assert_eq(sv.handlers_failed, 0, "%d handlers failed, the first with %s", sv.handlers_failed,
                 tl_err_name(sv.first_err));
    cr_assert_eq(sv.handlers_ok, sv.n);
    tl_server_free(sv.srv);
    tl_event_destroy(&sv.all_connected);
    cr_log_info("%d connections held at once, each echoed twice, in %.1f s", sv.n, took);
    return 0;
}

Test(server_load, ten_thousand_connections_at_once_with_every_byte_echoed, .timeout = 170)
{
    int n = connection_count();
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[1]);
        clients_process(fds[0], n, parent);
    }
    close(fds[0]);
    load L = {.n = n, .port_fd = fds[1], .child = pid};
    RUN(server_main, &L);
}
