/* Loops: tl_run's contract (result, leftovers, SIGINT, reentrancy), explicit
 * loops, one loop per thread side by side. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "util.h"

static int ret_value(void *arg)
{
    return (int)(intptr_t)arg;
}

Test(loop, tl_run_returns_main_result_or_error)
{
    cr_assert_eq(tl_run(ret_value, (void *)12), 12);
    cr_assert_eq(tl_run(ret_value, (void *)(intptr_t)TL_ENOENT), TL_ENOENT);
}

static int nested_run(void *arg)
{
    (void)arg;
    return tl_run(ret_value, (void *)1) == TL_EINVAL ? 0 : -1;
}

Test(loop, tl_run_inside_a_task_is_einval)
{
    cr_assert_eq(tl_run(nested_run, NULL), 0);
}

static int leftover_state[4];

static int leftover(void *arg)
{
    int i = (int)(intptr_t)arg;
    int rc = tl_sleep(100);
    /* Cleanup that must wait still can, in a shield. */
    tl_shield_enter();
    tl_sleep(0.01);
    tl_shield_exit();
    leftover_state[i] = rc == TL_ECANCELED ? 2 : 1;
    return rc;
}

static int leave_tasks(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++)
        tl_spawn(leftover, (void *)(intptr_t)i);
    tl_sleep(0.01);
    return 0;
}

Test(loop, leftover_tasks_are_cancelled_and_awaited)
{
    for (int i = 0; i < 4; i++)
        leftover_state[i] = 0;
    double t0 = tl_time();
    cr_assert_eq(tl_run(leave_tasks, NULL), 0);
    cr_assert_lt(elapsed_since(t0), 1.0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(leftover_state[i], 2, "task %d was not cancelled and finished", i);
}

static int wait_for_sigint(void *arg)
{
    (void)arg;
    kill(getpid(), SIGINT);
    return tl_sleep(10);
}

Test(loop, sigint_cancels_main)
{
    double t0 = tl_time();
    cr_assert_eq(tl_run(wait_for_sigint, NULL), TL_ECANCELED);
    cr_assert_lt(elapsed_since(t0), 5.0);
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    cr_assert_eq(sa.sa_handler, SIG_DFL, "SIGINT is given back after the run");
}

static int counter;

static int incr(void *arg)
{
    (void)arg;
    int rc = tl_sleep(0.01);
    return rc < 0 ? rc : ++counter;
}

Test(loop, explicit_loop_runs_several_mains)
{
    counter = 0;
    tl_loop *loop = tl_loop_new();
    cr_assert_not_null(loop);
    cr_assert_null(tl_loop_current());
    cr_assert_eq(tl_loop_run(loop, incr, NULL), 1);
    cr_assert_eq(tl_loop_run(loop, incr, NULL), 2);
    tl_loop_free(loop);
}

static int spawn_and_return(void *arg)
{
    (void)arg;
    tl_spawn(incr, NULL);
    return 0;
}

Test(loop, tasks_left_on_an_explicit_loop_finish_at_free)
{
    counter = 0;
    tl_loop *loop = tl_loop_new();
    cr_assert_eq(tl_loop_run(loop, spawn_and_return, NULL), 0);
    tl_loop_free(loop);
    cr_assert_eq(counter, 0, "the leftover sleeper was cancelled, not run to the end");
}

static int loop_current_is_ours(void *arg)
{
    return tl_loop_current() == arg ? 0 : -1;
}

Test(loop, loop_current_inside_run)
{
    tl_loop *loop = tl_loop_new();
    cr_assert_eq(tl_loop_run(loop, loop_current_is_ours, loop), 0);
    tl_loop_free(loop);
}

struct thread_job {
    int id;
    long sum;
};

static int add_task(void *arg)
{
    long *sum = arg;
    tl_sleep(0.001);
    (*sum)++;
    return 0;
}

static int thread_main(void *arg)
{
    struct thread_job *j = arg;
    tl_task *t[200];
    for (int i = 0; i < 200; i++)
        t[i] = tl_create_task(add_task, &j->sum);
    for (int i = 0; i < 200; i++) {
        tl_await(t[i]);
        tl_task_release(t[i]);
    }
    return 0;
}

static void *thread_entry(void *arg)
{
    struct thread_job *j = arg;
    for (int round = 0; round < 5; round++)
        if (tl_run(thread_main, j) != 0)
            return (void *)1;
    return NULL;
}

Test(loop, one_loop_per_thread_side_by_side)
{
    struct thread_job jobs[2] = {{.id = 0}, {.id = 1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, thread_entry, &jobs[i]);
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(th[i], &r);
        cr_assert_null(r);
        cr_assert_eq(jobs[i].sum, 1000);
    }
}

static int time_is_monotonic(void *arg)
{
    (void)arg;
    double a = tl_time();
    tl_sleep(0.01);
    return tl_time() > a ? 0 : -1;
}

Test(loop, time_moves_forward)
{
    cr_assert_eq(tl_run(time_is_monotonic, NULL), 0);
}

static int sleep_outside(void)
{
    return tl_sleep(0);
}

Test(loop, suspending_outside_a_task_aborts, .signal = SIGABRT)
{
    sleep_outside();
}
