/* Subprocesses: asyncio's create_subprocess_exec and _shell, their pipes as
 * tl_streams, wait, kill and communicate, and what becomes of a child whose
 * handle or loop goes away first. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx/alloc.h"
#include "util.h"

#define MIB ((size_t)1024 * 1024)

/* Runs fn as the main task and checks that it gave back every allocation. */
#define RUN_CLEAN(fn, arg)                               \
    do {                                                 \
        long live_ = tl__alloc_live();                   \
        RUN((fn), (arg));                                \
        cr_assert_eq(tl__alloc_live(), live_, "leaked"); \
    } while (0)

static tl_process *shell(const char *cmd, tl_stdio in, tl_stdio out, tl_stdio err)
{
    tl_process_opts o = {.stdin_mode = in, .stdout_mode = out, .stderr_mode = err};
    tl_process *p;
    int rc = tl_process_shell(cmd, &o, &p);
    cr_assert_eq(rc, 0, "%s: %s", cmd, tl_strerror(rc));
    return p;
}

static tl_process *spawn(char *const *argv, tl_stdio out)
{
    tl_process_opts o = {.argv = argv, .stdout_mode = out};
    tl_process *p;
    int rc = tl_process_spawn(&o, &p);
    cr_assert_eq(rc, 0, "%s: %s", argv[0], tl_strerror(rc));
    return p;
}

/* Waits for the child and frees it: its return code. */
static int finish(tl_process *p)
{
    int code = -1000;
    cr_assert_eq(tl_process_wait(p, &code), 0);
    tl_process_free(p);
    return code;
}

static void expect_line(tl_stream *s, const char *want)
{
    char buf[256];
    ssize_t n = tl_stream_readline(s, buf, sizeof buf - 1);
    cr_assert_geq(n, 0, "%s", tl_strerror((int)n));
    buf[n] = '\0';
    cr_assert_str_eq(buf, want);
}

/* The lowest free file descriptor: unchanged when nothing leaked one. */
static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    close(fd);
    return fd;
}

/* ---- spawning ---- */

static int echo_hello(void *arg)
{
    (void)arg;
    tl_process *p = spawn((char *[]){"echo", "hello", NULL}, TL_STDIO_PIPE);
    cr_assert_gt(tl_process_pid(p), 0);
    cr_assert_null(tl_process_stdin(p));
    cr_assert_null(tl_process_stderr(p));
    expect_line(tl_process_stdout(p), "hello\n");
    expect_line(tl_process_stdout(p), ""); /* EOF */
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, echo_through_a_stdout_pipe_reads_by_line)
{
    RUN_CLEAN(echo_hello, NULL);
}

static int exit_code(void *arg)
{
    (void)arg;
    cr_assert_eq(finish(shell("exit 3", 0, 0, 0)), 3);
    cr_assert_eq(finish(spawn((char *[]){"false", NULL}, 0)), 1);
    return 0;
}

Test(process, wait_returns_the_exit_status)
{
    RUN_CLEAN(exit_code, NULL);
}

static int shell_form(void *arg)
{
    (void)arg;
    tl_process *p = shell("echo $((6*7))", 0, TL_STDIO_PIPE, 0);
    expect_line(tl_process_stdout(p), "42\n");
    cr_assert_eq(finish(p), 0);
    cr_assert_eq(tl_process_shell("exit 5", NULL, &p), 0, "opts may be NULL");
    cr_assert_eq(finish(p), 5);
    cr_assert_eq(tl_process_shell(NULL, NULL, &p), TL_EINVAL);
    cr_assert_null(p);
    return 0;
}

Test(process, shell_runs_the_command_with_bin_sh)
{
    RUN_CLEAN(shell_form, NULL);
}

static int missing_program(void *arg)
{
    (void)arg;
    tl_process_opts o = {.argv = (char *[]){"no-such-program-tulip", NULL},
                         .stdin_mode = TL_STDIO_PIPE,
                         .stdout_mode = TL_STDIO_PIPE,
                         .stderr_mode = TL_STDIO_DEVNULL};
    tl_process *p;
    cr_assert_eq(tl_process_spawn(&o, &p), TL_ENOENT);
    cr_assert_null(p);
    int fd0 = lowest_free_fd(); /* after the first spawn opened libuv's SIGCHLD pipe */
    o.argv = (char *[]){"/no/such/dir/prog", NULL};
    cr_assert_eq(tl_process_spawn(&o, &p), TL_ENOENT);
    cr_assert_eq(lowest_free_fd(), fd0, "no pipe or /dev/null left open");
    int status;
    cr_assert_eq(waitpid(-1, &status, WNOHANG), -1, "no child left, not even a zombie");
    cr_assert_eq(errno, ECHILD);
    return 0;
}

Test(process, a_missing_program_is_enoent_and_leaves_no_child)
{
    RUN_CLEAN(missing_program, NULL);
}

static int bad_cwd(void *arg)
{
    (void)arg;
    tl_process_opts o = {.argv = (char *[]){"true", NULL}, .cwd = "/no/such/dir"};
    tl_process *p;
    cr_assert_eq(tl_process_spawn(&o, &p), TL_ENOENT);
    cr_assert_null(p);
    return 0;
}

Test(process, a_missing_cwd_is_an_error)
{
    RUN_CLEAN(bad_cwd, NULL);
}

static int bad_options(void *arg)
{
    (void)arg;
    tl_process *p;
    cr_assert_eq(tl_process_spawn(NULL, &p), TL_EINVAL);
    tl_process_opts o = {0};
    cr_assert_eq(tl_process_spawn(&o, &p), TL_EINVAL, "no argv");
    o.argv = (char *[]){NULL};
    cr_assert_eq(tl_process_spawn(&o, &p), TL_EINVAL, "an empty argv");
    o.argv = (char *[]){"true", NULL};
    o.stdout_mode = TL_STDIO_STDOUT;
    cr_assert_eq(tl_process_spawn(&o, &p), TL_EINVAL, "STDOUT is for stderr only");
    o.stdout_mode = 0;
    o.stdin_mode = TL_STDIO_STDOUT;
    cr_assert_eq(tl_process_spawn(&o, &p), TL_EINVAL);
    o.stdin_mode = 99;
    cr_assert_eq(tl_process_spawn(&o, &p), TL_EINVAL);
    cr_assert_null(p);
    return 0;
}

Test(process, bad_options_are_einval)
{
    RUN_CLEAN(bad_options, NULL);
}

static int env_and_cwd(void *arg)
{
    (void)arg;
    tl_process_opts o = {.argv = (char *[]){"/bin/sh", "-c", "echo \"[$FOO]\"; pwd", NULL},
                         .env = (char *[]){"FOO=bar baz", NULL},
                         .cwd = "/",
                         .stdout_mode = TL_STDIO_PIPE};
    tl_process *p;
    cr_assert_eq(tl_process_spawn(&o, &p), 0);
    expect_line(tl_process_stdout(p), "[bar baz]\n");
    expect_line(tl_process_stdout(p), "/\n");
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, env_and_cwd_are_the_childs)
{
    RUN_CLEAN(env_and_cwd, NULL);
}

static int limit_option(void *arg)
{
    (void)arg;
    tl_process_opts o = {.argv = (char *[]){"true", NULL},
                         .stdout_mode = TL_STDIO_PIPE,
                         .stderr_mode = TL_STDIO_PIPE,
                         .limit = 1234};
    tl_process *p;
    cr_assert_eq(tl_process_spawn(&o, &p), 0);
    cr_assert_eq(tl_stream_limit(tl_process_stdout(p)), 1234);
    cr_assert_eq(tl_stream_limit(tl_process_stderr(p)), 1234);
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, limit_sets_the_pipes_limit)
{
    RUN_CLEAN(limit_option, NULL);
}

/* ---- stdio modes ---- */

static int devnull(void *arg)
{
    (void)arg;
    tl_process *p = shell("echo lost; echo lost too >&2", 0, TL_STDIO_DEVNULL, TL_STDIO_DEVNULL);
    cr_assert_null(tl_process_stdout(p));
    cr_assert_eq(finish(p), 0);
    p = shell("cat; echo read-eof", TL_STDIO_DEVNULL, TL_STDIO_PIPE, 0);
    expect_line(tl_process_stdout(p), "read-eof\n");
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, devnull_swallows_output_and_gives_eof_as_input)
{
    RUN_CLEAN(devnull, NULL);
}

static int separate_stderr(void *arg)
{
    (void)arg;
    tl_process *p = shell("echo out; echo err >&2", 0, TL_STDIO_PIPE, TL_STDIO_PIPE);
    expect_line(tl_process_stderr(p), "err\n");
    expect_line(tl_process_stdout(p), "out\n");
    expect_line(tl_process_stdout(p), "");
    expect_line(tl_process_stderr(p), "");
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, stderr_pipe_is_separate_from_stdout)
{
    RUN_CLEAN(separate_stderr, NULL);
}

static int merged_stderr(void *arg)
{
    (void)arg;
    tl_process *p = shell("echo out; echo err >&2; echo out2", 0, TL_STDIO_PIPE, TL_STDIO_STDOUT);
    cr_assert_null(tl_process_stderr(p));
    char *out, *err;
    size_t outlen, errlen;
    cr_assert_eq(tl_process_communicate(p, NULL, 0, &out, &outlen, &err, &errlen), 0);
    cr_assert_str_eq(out, "out\nerr\nout2\n");
    cr_assert_eq(outlen, 13);
    cr_assert_null(err, "stderr is not a pipe of its own");
    cr_assert_eq(errlen, 0);
    free(out);
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, stderr_stdout_merges_into_the_stdout_pipe)
{
    RUN_CLEAN(merged_stderr, NULL);
}

/* ---- wait and kill ---- */

static int killed(void *arg)
{
    int sig = *(int *)arg;
    tl_process *p = spawn((char *[]){"sleep", "10", NULL}, 0);
    cr_assert_eq(tl_process_kill(p, sig), 0);
    cr_assert_eq(finish(p), -sig);
    return 0;
}

Test(process, a_child_killed_by_a_signal_returns_minus_the_signal)
{
    int sigs[] = {SIGTERM, SIGKILL};
    for (int i = 0; i < 2; i++)
        RUN_CLEAN(killed, &sigs[i]);
}

static int kill_errors(void *arg)
{
    (void)arg;
    tl_process *p = spawn((char *[]){"sleep", "10", NULL}, 0);
    cr_assert_eq(tl_process_kill(p, 12345), TL_EINVAL);
    cr_assert_eq(tl_process_kill(p, SIGKILL), 0);
    int code;
    cr_assert_eq(tl_process_wait(p, &code), 0);
    cr_assert_eq(code, -SIGKILL);
    cr_assert_eq(tl_process_wait(p, &code), 0, "again, at once");
    cr_assert_eq(tl_process_kill(p, SIGTERM), TL_ESRCH, "reaped: its pid is not ours");
    tl_process_free(p);
    return 0;
}

Test(process, kill_after_exit_is_esrch_and_a_bad_signal_einval)
{
    RUN_CLEAN(kill_errors, NULL);
}

static int waiter(void *arg)
{
    int code = -1000;
    int rc = tl_process_wait(arg, &code);
    return rc ? rc : code;
}

static int two_waiters(void *arg)
{
    (void)arg;
    tl_process *p = shell("sleep 0.2; exit 7", 0, 0, 0);
    tl_task *a = tl_create_task(waiter, p), *b = tl_create_task(waiter, p);
    cr_assert_eq(tl_await(a), 7);
    cr_assert_eq(tl_await(b), 7);
    tl_task_release(a);
    tl_task_release(b);
    cr_assert_eq(finish(p), 7);
    return 0;
}

Test(process, every_waiting_task_wakes_at_exit)
{
    RUN_CLEAN(two_waiters, NULL);
}

static int wait_times_out(void *arg)
{
    (void)arg;
    tl_process *p = spawn((char *[]){"sleep", "10", NULL}, 0);
    tl_timeout scope;
    tl_timeout_enter(&scope, 0);
    cr_assert_eq(tl_process_wait(p, NULL), TL_ETIMEDOUT);
    tl_timeout_exit(&scope);
    tl_task *t = tl_create_task(waiter, p);
    cr_assert_eq(tl_wait_for(t, 0.1), TL_ETIMEDOUT);
    tl_task_release(t);
    cr_assert_eq(tl_process_kill(p, SIGKILL), 0, "the child ran on");
    cr_assert_eq(finish(p), -SIGKILL);
    return 0;
}

Test(process, wait_times_out_and_the_child_runs_on)
{
    RUN_CLEAN(wait_times_out, NULL);
}

/* ---- communicate ---- */

#define BIG (10 * MIB)

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)(i * 7 + i / 4093);
}

static char *pattern(size_t n)
{
    char *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (char)pattern_byte(i);
    return b;
}

/* What `seq 1 n` prints. */
static char *seq_text(int n, size_t *len)
{
    size_t cap = (size_t)n * 12, off = 0;
    char *b = malloc(cap);
    for (int i = 1; i <= n; i++)
        off += (size_t)snprintf(b + off, cap - off, "%d\n", i);
    *len = off;
    return b;
}

static int big_both_ways(void *arg)
{
    (void)arg;
    /* stderr first: 10 MB the child writes while we are still feeding its stdin. */
    tl_process *p = shell("seq 1 1400000 >&2; cat", TL_STDIO_PIPE, TL_STDIO_PIPE, TL_STDIO_PIPE);
    char *in = pattern(BIG), *out, *err;
    size_t outlen, errlen, seqlen;
    char *seq = seq_text(1400000, &seqlen);
    cr_assert_gt(seqlen, 10 * 1000 * 1000);
    cr_assert_eq(tl_process_communicate(p, in, BIG, &out, &outlen, &err, &errlen), 0);
    cr_assert_eq(outlen, BIG);
    cr_assert(memcmp(out, in, BIG) == 0, "stdout is stdin, byte for byte");
    cr_assert_eq(errlen, seqlen);
    cr_assert(memcmp(err, seq, seqlen) == 0, "stderr is seq's output");
    cr_assert_eq(out[outlen], '\0');
    cr_assert_eq(err[errlen], '\0');
    cr_assert_eq(finish(p), 0);
    free(in);
    free(out);
    free(err);
    free(seq);
    return 0;
}

Test(process, communicate_moves_10_mib_each_way_without_deadlock)
{
    RUN_CLEAN(big_both_ways, NULL);
}

static int discarded_outputs(void *arg)
{
    (void)arg;
    tl_process *p = shell("head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2; echo end", 0,
                          TL_STDIO_PIPE, TL_STDIO_PIPE);
    cr_assert_eq(tl_process_communicate(p, NULL, 0, NULL, NULL, NULL, NULL), 0);
    cr_assert(tl_stream_at_eof(tl_process_stdout(p)), "read to the end, and dropped");
    cr_assert(tl_stream_at_eof(tl_process_stderr(p)));
    cr_assert_eq(finish(p), 0);
    p = shell("printf abc", 0, TL_STDIO_PIPE, 0);
    size_t len;
    cr_assert_eq(tl_process_communicate(p, NULL, 0, NULL, &len, NULL, NULL), 0);
    cr_assert_eq(len, 3, "the length alone may be asked for");
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, communicate_drains_outputs_nobody_asked_for)
{
    RUN_CLEAN(discarded_outputs, NULL);
}

static int input_needs_a_pipe(void *arg)
{
    (void)arg;
    tl_process *p = shell("true", 0, TL_STDIO_PIPE, 0);
    char *out = (char *)1;
    cr_assert_eq(tl_process_communicate(p, "x", 1, &out, NULL, NULL, NULL), TL_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(tl_process_communicate(p, NULL, 0, &out, NULL, NULL, NULL), 0);
    cr_assert_str_eq(out, "", "an empty output is an empty string");
    free(out);
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, communicate_input_without_a_stdin_pipe_is_einval)
{
    RUN_CLEAN(input_needs_a_pipe, NULL);
}

static int early_close(void *arg)
{
    (void)arg;
    /* A write to a child that closed its stdin: an error, never SIGPIPE. */
    tl_process *p = shell("exec 0<&-; echo done", TL_STDIO_PIPE, TL_STDIO_PIPE, 0);
    tl_stream *in = tl_process_stdin(p);
    expect_line(tl_process_stdout(p), "done\n");
    cr_assert_eq(tl_process_wait(p, NULL), 0);
    char *big = pattern(BIG);
    int rc = tl_stream_write(in, big, BIG);
    if (!rc)
        rc = tl_stream_drain(in);
    cr_assert_eq(rc, TL_EPIPE, "%s", tl_err_name(rc));
    cr_assert_eq(finish(p), 0);

    /* communicate: the output still counts. */
    const char *scripts[] = {"exec 0<&-; echo done", "head -c 1"};
    for (int i = 0; i < 2; i++) {
        p = shell(scripts[i], TL_STDIO_PIPE, TL_STDIO_PIPE, 0);
        char *out;
        size_t len;
        cr_assert_eq(tl_process_communicate(p, big, BIG, &out, &len, NULL, NULL), 0);
        if (i == 0)
            cr_assert_str_eq(out, "done\n");
        else
            cr_assert(len == 1 && out[0] == big[0], "head's one byte");
        free(out);
        cr_assert_eq(finish(p), 0);
    }
    free(big);
    return 0;
}

Test(process, a_child_that_stops_reading_gives_epipe_and_communicate_succeeds)
{
    RUN_CLEAN(early_close, NULL);
}

static int communicate_task(void *arg)
{
    char *out = (char *)1, *err = (char *)1;
    int rc = tl_process_communicate(arg, "input", 5, &out, NULL, &err, NULL);
    cr_assert_null(out, "what was read is freed");
    cr_assert_null(err);
    return rc;
}

static int communicate_times_out(void *arg)
{
    (void)arg;
    tl_process *p = shell("echo partial; echo partial >&2; exec sleep 5", TL_STDIO_PIPE,
                          TL_STDIO_PIPE, TL_STDIO_PIPE);
    tl_task *t = tl_create_task(communicate_task, p);
    double t0 = tl_time();
    cr_assert_eq(tl_wait_for(t, 0.3), TL_ETIMEDOUT);
    cr_assert_eq(tl_task_result(t), TL_ECANCELED);
    ASSERT_ELAPSED(t0, 0.3);
    tl_task_release(t);

    tl_timeout scope;
    tl_timeout_enter(&scope, 0.1);
    cr_assert_eq(communicate_task(p), TL_ETIMEDOUT);
    tl_timeout_exit(&scope);

    cr_assert_eq(tl_process_kill(p, SIGKILL), 0, "the child ran on");
    cr_assert_eq(finish(p), -SIGKILL);
    return 0;
}

Test(process, communicate_cancelled_or_timed_out_frees_what_it_read)
{
    RUN_CLEAN(communicate_times_out, NULL);
}

/* ---- giving the handle up ---- */

static int user_closes_pipes(void *arg)
{
    (void)arg;
    tl_process *p = shell("cat; echo after", TL_STDIO_PIPE, TL_STDIO_PIPE, TL_STDIO_PIPE);
    tl_stream_close(tl_process_stdin(p)); /* asyncio's proc.stdin.close() */
    cr_assert_null(tl_process_stdin(p));
    expect_line(tl_process_stdout(p), "after\n");
    cr_assert_eq(tl_stream_wait_closed(tl_process_stderr(p)), 0);
    cr_assert_null(tl_process_stderr(p));
    cr_assert_eq(finish(p), 0);
    return 0;
}

Test(process, pipes_the_user_closed_are_not_closed_again)
{
    RUN_CLEAN(user_closes_pipes, NULL);
}

static int free_then_exit(void *arg)
{
    (void)arg;
    tl_process *p = shell("sleep 0.2", TL_STDIO_PIPE, TL_STDIO_PIPE, 0);
    int pid = tl_process_pid(p);
    tl_process_free(p);
    int status;
    cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "still running");
    tl_sleep(0.2 + 4 * TOL);
    cr_assert_eq(waitpid(pid, &status, WNOHANG), -1, "reaped after its handle was freed");
    cr_assert_eq(errno, ECHILD);
    return 0;
}

Test(process, a_freed_child_is_reaped_when_it_exits)
{
    RUN_CLEAN(free_then_exit, NULL);
}

typedef struct left {
    bool free_it;
    int pid;
} left;

static int left_running(void *arg)
{
    left *l = arg;
    tl_process *p = shell("exec sleep 10", TL_STDIO_PIPE, TL_STDIO_PIPE, TL_STDIO_PIPE);
    l->pid = tl_process_pid(p);
    if (l->free_it)
        tl_process_free(p); /* its handle waits, unreferenced, for an exit that comes too late */
    return 0;               /* else neither waited for nor freed: the loop closes it */
}

Test(process, a_loop_freed_with_a_running_child_leaks_nothing)
{
    for (int i = 0; i < 2; i++) {
        left l = {.free_it = i == 1};
        RUN_CLEAN(left_running, &l);
        cr_assert_eq(kill(l.pid, SIGKILL), 0, "the child ran on");
        int status;
        cr_assert_eq(waitpid(l.pid, &status, 0), l.pid);
    }
}

/* ---- faults ---- */
#include "fault_walk.h"

static int faulty_communicate(void *arg)
{
    (void)arg;
    static char in[300000];
    tl_process *p;
    tl_process_opts o = {
        .stdin_mode = TL_STDIO_PIPE, .stdout_mode = TL_STDIO_PIPE, .stderr_mode = TL_STDIO_PIPE};
    int rc = tl_process_shell("cat; echo err >&2", &o, &p);
    if (rc)
        return rc;
    char *out = NULL, *err = NULL;
    size_t outlen = 0;
    rc = tl_process_communicate(p, in, sizeof in, &out, &outlen, &err, NULL);
    if (rc) {
        tl_process_kill(p, SIGKILL); /* it may have exited: TL_ESRCH */
    } else if (outlen != sizeof in || strcmp(err, "err\n") != 0) {
        rc = TL_EIO;
    }
    int rc2 = tl_process_wait(p, NULL);
    tl_process_free(p);
    free(out);
    free(err);
    return rc ? rc : rc2;
}

Test(fault, spawn_and_communicate_fail_cleanly_at_every_allocation)
{
    int n = fault_walk(faulty_communicate, NULL, 300);
    cr_log_info("fault walk: %d allocation points", n);
    int status;
    cr_assert_eq(waitpid(-1, &status, WNOHANG), -1, "no child left");
}
