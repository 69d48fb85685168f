/* Signals: tl_signal_wait, handlers, tl_cancel_on_signal, and tl_run's
 * SIGINT, including a signal that meets a cancellation. Behaviour that ends
 * the program (a default action given back) runs in a child process. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_walk.h"
#include "util.h"

static int wait_usr1(void *arg)
{
    (void)arg;
    return tl_signal_wait(SIGUSR1);
}

/* tl_signal_wait(SIGUSR1) bounded by a second: a lost signal fails, not hangs. */
static int wait_usr1_within_1s(void)
{
    tl_timeout s;
    tl_timeout_enter(&s, 1.0);
    int rc = tl_signal_wait(SIGUSR1);
    tl_timeout_exit(&s);
    return rc;
}

/* Waits until t is parked (the scheduler runs it up to its wait). */
static void let_run(void)
{
    for (int i = 0; i < 3; i++)
        tl_sleep(0);
}

static int waits_and_wakes(void *arg)
{
    (void)arg;
    tl_task *a = tl_create_task(wait_usr1, NULL), *b = tl_create_task(wait_usr1, NULL);
    let_run();
    cr_assert(!tl_task_done(a) && !tl_task_done(b));
    kill(getpid(), SIGUSR1);
    cr_assert_eq(tl_await(a), 0, "the signal woke the first waiter");
    cr_assert_eq(tl_await(b), 0, "and the second");
    tl_task_release(a);
    tl_task_release(b);
    return 0;
}

Test(signal, wait_returns_when_the_signal_arrives_and_wakes_every_waiter)
{
    RUN(waits_and_wakes, NULL);
}

static int between_two_waits(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(wait_usr1, NULL);
    let_run();
    kill(getpid(), SIGUSR1);
    cr_assert_eq(tl_await(t), 0);
    tl_task_release(t);
    /* Nobody waits now: SIGUSR1's default action would end the program. */
    kill(getpid(), SIGUSR1);
    tl_sleep(0.05);
    double t0 = tl_time();
    cr_assert_eq(wait_usr1_within_1s(), 0, "the signal was kept for the next wait");
    cr_assert_lt(elapsed_since(t0), 0.01);
    /* Kept once: signals coalesce, as the kernel's do. */
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    tl_sleep(0.05);
    cr_assert_eq(wait_usr1_within_1s(), 0);
    tl_timeout s;
    tl_timeout_enter(&s, 0.05);
    cr_assert_eq(tl_signal_wait(SIGUSR1), TL_ETIMEDOUT);
    tl_timeout_exit(&s);
    return 0;
}

Test(signal, a_signal_between_two_waits_is_kept_not_fatal)
{
    RUN(between_two_waits, NULL);
}

static void cancel_task(void *arg)
{
    tl_task_cancel(arg);
}

/* The handler runs after the delivery has woken the waiter, and cancels it
 * before it can run: the waiter takes ECANCELED and hands the signal back. */
static int delivered_while_cancelled(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(wait_usr1, NULL);
    let_run();
    cr_assert_eq(tl_add_signal_handler(SIGUSR1, cancel_task, t), 0);
    kill(getpid(), SIGUSR1);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    cr_assert(tl_remove_signal_handler(SIGUSR1));
    double t0 = tl_time();
    cr_assert_eq(wait_usr1_within_1s(), 0, "the signal the cancelled waiter gave back");
    cr_assert_lt(elapsed_since(t0), 0.01);

    /* Cancelled first, signalled next: the signal waits for the next wait. */
    t = tl_create_task(wait_usr1, NULL);
    let_run();
    kill(getpid(), SIGUSR1);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    tl_sleep(0.05);
    cr_assert_eq(wait_usr1_within_1s(), 0);
    return 0;
}

Test(signal, a_signal_delivered_while_the_waiter_is_cancelled_is_not_lost)
{
    RUN(delivered_while_cancelled, NULL);
}

static int bad_signals(void *arg)
{
    (void)arg;
    int bad[] = {0, -1, NSIG, 1000, SIGKILL, SIGSTOP};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(tl_signal_wait(bad[i]), TL_EINVAL, "signal %d", bad[i]);
        cr_assert_eq(tl_add_signal_handler(bad[i], cancel_task, NULL), TL_EINVAL);
        cr_assert_eq(tl_cancel_on_signal(bad[i], NULL), TL_EINVAL);
        cr_assert(!tl_remove_signal_handler(bad[i]));
    }
    cr_assert_eq(tl_add_signal_handler(SIGUSR1, NULL, NULL), TL_EINVAL);
    cr_assert(!tl_remove_signal_handler(SIGUSR2), "no handler to remove");
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_signal_wait(SIGUSR2), TL_ETIMEDOUT, "a timeout of 0");
    tl_timeout_exit(&s);
    return 0;
}

Test(signal, bad_arguments_are_einval)
{
    RUN(bad_signals, NULL);
}

/* ---- handlers ---- */

typedef struct counter {
    int calls;
    int which;
} counter;

static void count_call(void *arg)
{
    ((counter *)arg)->calls++;
}

static int handler_runs_each_time(void *arg)
{
    (void)arg;
    counter a = {0}, b = {0};
    cr_assert_eq(tl_add_signal_handler(SIGUSR2, count_call, &a), 0);
    for (int i = 0; i < 3; i++) {
        kill(getpid(), SIGUSR2);
        for (int j = 0; j < 100 && a.calls <= i; j++)
            tl_sleep(0.01);
    }
    cr_assert_eq(a.calls, 3);
    cr_assert_eq(tl_add_signal_handler(SIGUSR2, count_call, &b), 0, "replaces the first");
    kill(getpid(), SIGUSR2);
    for (int j = 0; j < 100 && b.calls == 0; j++)
        tl_sleep(0.01);
    cr_assert_eq(a.calls, 3);
    cr_assert_eq(b.calls, 1);
    cr_assert(tl_remove_signal_handler(SIGUSR2));
    cr_assert(!tl_remove_signal_handler(SIGUSR2));
    return 0;
}

Test(signal, a_handler_runs_on_every_delivery_and_can_be_replaced)
{
    RUN(handler_runs_each_time, NULL);
    struct sigaction sa;
    sigaction(SIGUSR2, NULL, &sa);
    cr_assert_eq(sa.sa_handler, SIG_DFL, "removed: the default action is back");
}

/* ---- in a child: what ends the program ---- */

static int child_status(void (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static int remove_then_signal(void *arg)
{
    (void)arg;
    counter c = {0};
    tl_add_signal_handler(SIGTERM, count_call, &c);
    kill(getpid(), SIGTERM);
    for (int j = 0; j < 100 && c.calls == 0; j++)
        tl_sleep(0.01);
    if (c.calls != 1)
        _exit(3);
    tl_remove_signal_handler(SIGTERM);
    kill(getpid(), SIGTERM); /* the default action: the end */
    tl_sleep(1);
    _exit(4);
}

static void removed_handler_child(void)
{
    tl_run(remove_then_signal, NULL);
    _exit(5);
}

Test(signal, a_removed_handler_gives_the_default_action_back)
{
    int st = child_status(removed_handler_child);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
}

static int serve_until_sigterm(void *arg)
{
    (void)arg;
    if (tl_cancel_on_signal(SIGTERM, NULL) != 0)
        _exit(6);
    kill(getpid(), SIGTERM);
    int rc = tl_sleep(5);
    if (rc != TL_ECANCELED)
        _exit(7);
    /* Cleaning up; a second SIGTERM is not caught any more. */
    kill(getpid(), SIGTERM);
    tl_shield_enter();
    tl_sleep(1);
    tl_shield_exit();
    _exit(8);
}

static void cancel_main_child(void)
{
    tl_run(serve_until_sigterm, NULL);
    _exit(9);
}

Test(signal, cancel_on_signal_cancels_main_once_then_the_default_action)
{
    int st = child_status(cancel_main_child);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
}

static int sleeper(void *arg)
{
    (void)arg;
    return tl_sleep(5);
}

static int cancel_named_task(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(sleeper, NULL);
    cr_assert_eq(tl_cancel_on_signal(SIGUSR1, t), 0);
    let_run();
    kill(getpid(), SIGUSR1);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    /* The handler is gone: setting another on a released task is fine. */
    cr_assert(!tl_remove_signal_handler(SIGUSR1));
    return 0;
}

Test(signal, cancel_on_signal_cancels_the_task_named)
{
    RUN(cancel_named_task, NULL);
}

static int sigint_replaced(void *arg)
{
    (void)arg;
    counter c = {0};
    /* tl_run's SIGINT handling is an ordinary handler: this replaces it. */
    cr_assert_eq(tl_add_signal_handler(SIGINT, count_call, &c), 0);
    kill(getpid(), SIGINT);
    for (int j = 0; j < 100 && c.calls == 0; j++)
        tl_sleep(0.01);
    cr_assert_eq(c.calls, 1, "the program's handler ran, main was not cancelled");
    cr_assert_eq(tl_sleep(0), 0);
    return 0;
}

Test(signal, a_program_can_take_sigint_over_from_tl_run)
{
    RUN(sigint_replaced, NULL);
}

/* ---- faults ---- */

static int signal_workload(void *arg)
{
    (void)arg;
    counter c = {0};
    int rc = tl_add_signal_handler(SIGUSR2, count_call, &c);
    if (rc)
        return rc;
    tl_task *t = tl_create_task(wait_usr1, NULL);
    if (!t)
        return TL_ENOMEM;
    let_run();
    if (tl_task_done(t)) { /* its watcher could not be made */
        rc = tl_task_result(t);
        tl_task_release(t);
        return rc;
    }
    kill(getpid(), SIGUSR1);
    rc = tl_await(t);
    tl_task_release(t);
    return rc;
}

Test(signal, every_fault_point_fails_cleanly)
{
    fault_walk(signal_workload, NULL, 200);
}
