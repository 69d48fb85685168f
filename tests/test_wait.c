/* tl_wait, tl_wait_for and tl_as_completed: waiting with conditions and time
 * limits, what gets cancelled and what never does. */
#include <math.h>
#include <unistd.h>

#include "ctx/alloc.h"
#include "util.h"

static void make(tl_task **t, sleep_job *jobs, int n)
{
    for (int i = 0; i < n; i++)
        t[i] = tl_create_task(sleep_then, &jobs[i]);
}

static void release(tl_task **t, int n)
{
    for (int i = 0; i < n; i++)
        tl_task_release(t[i]);
}

/* ---- tl_wait ---- */

static int wait_first_completed_body(void *arg)
{
    (void)arg;
    sleep_job jobs[3] = {{0.05, 1}, {0.01, 2}, {0.05, 3}};
    tl_task *t[3];
    make(t, jobs, 3);
    double t0 = tl_time();
    cr_assert_eq(tl_wait(t, 3, -1, TL_FIRST_COMPLETED), 1);
    ASSERT_ELAPSED(t0, 0.01);
    cr_assert(tl_task_done(t[1]) && !tl_task_done(t[0]) && !tl_task_done(t[2]));
    cr_assert_eq(tl_wait(t, 3, -1, TL_ALL_COMPLETED), 3);
    cr_assert_eq(tl_task_result(t[0]), 1, "nothing was cancelled");
    release(t, 3);
    return 0;
}

Test(wait, first_completed_then_all_completed)
{
    RUN(wait_first_completed_body, NULL);
}

static int wait_first_exception_body(void *arg)
{
    (void)arg;
    sleep_job jobs[3] = {{0.01, TL_ECANCELED}, {0.02, TL_EPIPE}, {0.05, 3}};
    tl_task *t[3];
    make(t, jobs, 3);
    double t0 = tl_time();
    cr_assert_eq(tl_wait(t, 3, -1, TL_FIRST_EXCEPTION), 2,
                 "a cancelled task is not an exception; the failing one ends the wait");
    ASSERT_ELAPSED(t0, 0.02);
    cr_assert_not(tl_task_done(t[2]));
    sleep_job ok[2] = {{0.01, 1}, {0.02, 2}};
    tl_task *u[2];
    make(u, ok, 2);
    t0 = tl_time();
    cr_assert_eq(tl_wait(u, 2, -1, TL_FIRST_EXCEPTION), 2, "without a failure: all of them");
    ASSERT_ELAPSED(t0, 0.02);
    tl_wait(t, 3, -1, TL_ALL_COMPLETED);
    release(t, 3);
    release(u, 2);
    return 0;
}

Test(wait, first_exception)
{
    RUN(wait_first_exception_body, NULL);
}

static int wait_timeout_cancels_nothing_body(void *arg)
{
    (void)arg;
    sleep_job jobs[2] = {{0.01, 1}, {10, 2}};
    tl_task *t[2];
    make(t, jobs, 2);
    double t0 = tl_time();
    cr_assert_eq(tl_wait(t, 2, 0.03, TL_ALL_COMPLETED), 1, "one done when the time was up");
    ASSERT_ELAPSED(t0, 0.03);
    cr_assert_not(tl_task_done(t[1]), "the timeout cancels nothing");
    cr_assert_eq(tl_wait(t, 2, 0, TL_ALL_COMPLETED), 1, "a timeout of 0 polls");
    tl_task_cancel(t[1]);
    cr_assert_eq(tl_wait(t, 2, -1, TL_ALL_COMPLETED), 2);
    release(t, 2);
    return 0;
}

Test(wait, timeout_cancels_nothing)
{
    RUN(wait_timeout_cancels_nothing_body, NULL);
}

static int spin_yield(void *arg)
{
    int *stop = arg;
    int n = 0;
    while (!*stop && tl_sleep(0) == 0)
        n++;
    return n;
}

static int wait_zero_yields_to_others_body(void *arg)
{
    (void)arg;
    sleep_job j = {10, 1};
    int stop = 0;
    tl_task *spinner = tl_create_task(spin_yield, &stop);
    tl_task *t = tl_create_task(sleep_then, &j);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(tl_wait(&t, 1, 0, TL_ALL_COMPLETED), 0);
    stop = 1;
    cr_assert_geq(tl_await(spinner), 4, "each tl_wait(timeout 0) let the loop turn");
    tl_task_cancel(t);
    tl_await(t);
    tl_task_release(spinner);
    tl_task_release(t);
    return 0;
}

Test(wait, timeout_zero_yields_to_others)
{
    RUN(wait_zero_yields_to_others_body, NULL);
}

typedef struct waiter_args {
    tl_task **tasks;
    int rc;
} waiter_args;

static int run_wait(void *arg)
{
    waiter_args *w = arg;
    w->rc = tl_wait(w->tasks, 2, -1, TL_ALL_COMPLETED);
    return 0;
}

static int cancelled_wait_cancels_nothing_body(void *arg)
{
    (void)arg;
    sleep_job jobs[2] = {{0.03, 1}, {0.03, 2}};
    tl_task *t[2];
    make(t, jobs, 2);
    waiter_args w = {.tasks = t};
    tl_task *wt = tl_create_task(run_wait, &w);
    tl_sleep(0.01);
    tl_task_cancel(wt);
    tl_await(wt);
    cr_assert_eq(w.rc, TL_ECANCELED);
    cr_assert(!tl_task_done(t[0]) && !tl_task_done(t[1]), "wait never cancels its tasks");
    cr_assert_eq(tl_wait(t, 2, -1, TL_ALL_COMPLETED), 2);
    cr_assert(tl_task_result(t[0]) == 1 && tl_task_result(t[1]) == 2);
    tl_task_release(wt);
    release(t, 2);
    return 0;
}

Test(wait, cancelled_wait_cancels_nothing)
{
    RUN(cancelled_wait_cancels_nothing_body, NULL);
}

static int wait_bad_arguments_body(void *arg)
{
    (void)arg;
    sleep_job j = {0, 1};
    tl_task *t = tl_create_task(sleep_then, &j);
    cr_assert_eq(tl_wait(&t, 0, -1, TL_ALL_COMPLETED), TL_EINVAL, "an empty set");
    cr_assert_eq(tl_wait(&t, 1, -1, 0), TL_EINVAL);
    cr_assert_eq(tl_wait(&t, 1, -1, 4), TL_EINVAL);
    cr_assert_eq(tl_wait(&t, 1, NAN, TL_ALL_COMPLETED), TL_EINVAL);
    cr_assert_eq(tl_wait(&t, 1, -1, TL_ALL_COMPLETED), 1);
    tl_task_release(t);
    return 0;
}

Test(wait, bad_arguments)
{
    RUN(wait_bad_arguments_body, NULL);
}

/* ---- tl_wait_for ---- */

static int wait_for_in_time_body(void *arg)
{
    (void)arg;
    sleep_job ok = {0.01, 5}, bad = {0.01, TL_EPIPE};
    tl_task *t = tl_create_task(sleep_then, &ok), *u = tl_create_task(sleep_then, &bad);
    cr_assert_eq(tl_wait_for(t, 1), 5);
    cr_assert_eq(tl_wait_for(u, INFINITY), TL_EPIPE);
    cr_assert_eq(tl_wait_for(t, NAN), TL_EINVAL);
    tl_task_release(t);
    tl_task_release(u);
    return 0;
}

Test(wait_for, result_when_in_time)
{
    RUN(wait_for_in_time_body, NULL);
}

static int cleanup_after_cancel(void *arg)
{
    int *cleaned = arg;
    int rc = tl_sleep(10);
    tl_shield_enter();
    tl_sleep(0.03);
    tl_shield_exit();
    *cleaned = 1;
    return rc;
}

static int wait_for_timeout_cancels_and_waits_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    tl_task *t = tl_create_task(cleanup_after_cancel, &cleaned);
    double t0 = tl_time();
    cr_assert_eq(tl_wait_for(t, 0.02), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.05);
    cr_assert(cleaned && tl_task_cancelled(t), "returned after the task had finished");
    tl_task_release(t);
    return 0;
}

Test(wait_for, timeout_cancels_the_task_and_waits_for_it)
{
    RUN(wait_for_timeout_cancels_and_waits_body, NULL);
}

static int wait_for_zero_body(void *arg)
{
    (void)arg;
    sleep_job j = {0, 8}, slow = {10, 1};
    tl_task *done = tl_create_task(sleep_then, &j);
    tl_await(done);
    cr_assert_eq(tl_wait_for(done, 0), 8, "a done task: its result");
    cr_assert_eq(tl_wait_for(done, -1), 8);
    tl_task *t = tl_create_task(sleep_then, &slow);
    cr_assert_eq(tl_wait_for(t, 0), TL_ETIMEDOUT, "not done: cancelled");
    cr_assert(tl_task_cancelled(t));
    tl_task *u = tl_create_task(sleep_then, &slow);
    tl_sleep(0);
    cr_assert_eq(tl_wait_for(u, -5), TL_ETIMEDOUT);
    cr_assert(tl_task_cancelled(u));
    tl_task_release(done);
    tl_task_release(t);
    tl_task_release(u);
    return 0;
}

Test(wait_for, timeout_of_zero_or_less)
{
    RUN(wait_for_zero_body, NULL);
}

static int wait_for_zero_cancelled_caller_body(void *arg)
{
    (void)arg;
    sleep_job slow = {10, 1};
    tl_task *t = tl_create_task(sleep_then, &slow);
    tl_task_cancel(tl_current_task());
    cr_assert_eq(tl_wait_for(t, 0), TL_ECANCELED, "the caller's cancellation, not a timeout");
    cr_assert(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(wait_for, cancelled_caller_with_timeout_zero_is_ecanceled)
{
    cr_assert_eq(tl_run(wait_for_zero_cancelled_caller_body, NULL), 0);
}

static int swallow_cancel(void *arg)
{
    (void)arg;
    tl_sleep(10);
    return 42;
}

static int wait_for_task_that_ignores_cancel_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(swallow_cancel, NULL);
    cr_assert_eq(tl_wait_for(t, 0.01), 42, "as asyncio 3.12: its result, not a timeout");
    tl_task_release(t);
    return 0;
}

Test(wait_for, task_that_ignores_cancellation_keeps_its_result)
{
    RUN(wait_for_task_that_ignores_cancel_body, NULL);
}

/* Holds the loop for a while, so that timers fall due together. */
static int block_loop(void *arg)
{
    usleep((useconds_t)(*(double *)arg * 1e6));
    return 0;
}

static int same_iteration_body(void *arg)
{
    double task_delay = *(double *)arg;
    sleep_job j = {task_delay, 3};
    double block = 0.1;
    tl_task *t = tl_create_task(sleep_then, &j);
    tl_task *b = tl_create_task(block_loop, &block);
    /* The task's wake-up and the deadline (0.03) are both due when the loop
     * gets back from the blocker: they are handled in one timer run. */
    int rc = tl_wait_for(t, 0.03);
    if (task_delay < 0.03)
        cr_assert_eq(rc, 3, "woken first, the task finishes with its result");
    else
        cr_assert_eq(rc, TL_ETIMEDOUT, "the deadline first: the task is cancelled");
    tl_await(b);
    tl_task_release(b);
    tl_task_release(t);
    return 0;
}

Test(wait_for, task_finishing_in_the_deadline_iteration_keeps_its_result)
{
    double d = 0.02;
    RUN(same_iteration_body, &d);
}

Test(wait_for, deadline_before_the_task_in_one_iteration_times_out)
{
    double d = 0.04;
    RUN(same_iteration_body, &d);
}

typedef struct wf_args {
    tl_task *t;
    int rc;
} wf_args;

static int run_wait_for(void *arg)
{
    wf_args *a = arg;
    a->rc = tl_wait_for(a->t, 10);
    return 0;
}

static int cancelled_caller_cancels_task_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    wf_args a = {.t = tl_create_task(cleanup_after_cancel, &cleaned)};
    tl_task *w = tl_create_task(run_wait_for, &a);
    tl_sleep(0.01);
    tl_task_cancel(w);
    tl_await(w);
    cr_assert_eq(a.rc, TL_ECANCELED);
    cr_assert(cleaned && tl_task_cancelled(a.t), "the task was cancelled and waited for");
    tl_task_release(w);
    tl_task_release(a.t);
    return 0;
}

Test(wait_for, cancelled_caller_cancels_the_task_and_waits)
{
    RUN(cancelled_caller_cancels_task_body, NULL);
}

static int outer_scope_around_wait_for_body(void *arg)
{
    (void)arg;
    sleep_job slow = {10, 1};
    tl_task *t = tl_create_task(sleep_then, &slow);
    tl_timeout s;
    tl_timeout_enter(&s, 0.01);
    cr_assert_eq(tl_wait_for(t, 5), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(wait_for, outer_timeout_scope_ends_it)
{
    RUN(outer_scope_around_wait_for_body, NULL);
}

/* ---- tl_as_completed ---- */

static int as_completed_in_finishing_order_body(void *arg)
{
    (void)arg;
    sleep_job jobs[4] = {{0.04, 0}, {0, 1}, {0.02, 2}, {0.03, 3}};
    tl_task *t[4];
    make(t, jobs, 4);
    tl_await(t[1]);
    tl_as_completed it;
    cr_assert_eq(tl_as_completed_init(&it, t, 4, -1), 0);
    int order[4];
    tl_task *out;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_as_completed_next(&it, &out), 0);
        order[i] = tl_task_result(out);
    }
    cr_assert(order[0] == 1 && order[1] == 2 && order[2] == 3 && order[3] == 0, "order %d %d %d %d",
              order[0], order[1], order[2], order[3]);
    cr_assert_eq(tl_as_completed_next(&it, &out), TL_EOF);
    cr_assert_eq(tl_as_completed_next(&it, &out), TL_EOF);
    tl_as_completed_destroy(&it);
    release(t, 4);
    return 0;
}

Test(as_completed, tasks_come_out_in_finishing_order)
{
    RUN(as_completed_in_finishing_order_body, NULL);
}

static int as_completed_timeout_body(void *arg)
{
    (void)arg;
    sleep_job jobs[2] = {{0.01, 1}, {10, 2}};
    tl_task *t[2];
    make(t, jobs, 2);
    tl_as_completed it;
    cr_assert_eq(tl_as_completed_init(&it, t, 2, 0.03), 0);
    tl_task *out;
    double t0 = tl_time();
    cr_assert_eq(tl_as_completed_next(&it, &out), 0);
    cr_assert_eq(out, t[0]);
    cr_assert_eq(tl_as_completed_next(&it, &out), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.03);
    cr_assert_eq(tl_as_completed_next(&it, &out), TL_ETIMEDOUT);
    cr_assert_not(tl_task_done(t[1]), "the timeout cancels nothing");
    tl_as_completed_destroy(&it);
    tl_task_cancel(t[1]);
    release(t, 2);
    return 0;
}

Test(as_completed, timeout_for_the_whole_iteration)
{
    RUN(as_completed_timeout_body, NULL);
}

static int as_completed_zero_timeout_body(void *arg)
{
    (void)arg;
    sleep_job jobs[2] = {{0, 1}, {10, 2}};
    tl_task *t[2];
    make(t, jobs, 2);
    tl_await(t[0]);
    tl_as_completed it;
    cr_assert_eq(tl_as_completed_init(&it, t, 2, 0), 0);
    tl_task *out;
    cr_assert_eq(tl_as_completed_next(&it, &out), 0, "what is done already still comes out");
    cr_assert_eq(tl_as_completed_next(&it, &out), TL_ETIMEDOUT);
    tl_as_completed_destroy(&it);
    tl_task_cancel(t[1]);
    release(t, 2);
    return 0;
}

Test(as_completed, timeout_of_zero)
{
    RUN(as_completed_zero_timeout_body, NULL);
}

typedef struct ac_args {
    tl_as_completed *it;
    int rc;
} ac_args;

static int run_next(void *arg)
{
    ac_args *a = arg;
    tl_task *out;
    a->rc = tl_as_completed_next(a->it, &out);
    return 0;
}

static int as_completed_consumer_cancelled_body(void *arg)
{
    (void)arg;
    sleep_job jobs[1] = {{0.03, 1}};
    tl_task *t[1];
    make(t, jobs, 1);
    tl_as_completed it;
    cr_assert_eq(tl_as_completed_init(&it, t, 1, -1), 0);
    ac_args a = {.it = &it};
    tl_task *c = tl_create_task(run_next, &a);
    tl_sleep(0.01);
    tl_task_cancel(c);
    tl_await(c);
    cr_assert_eq(a.rc, TL_ECANCELED);
    cr_assert_not(tl_task_done(t[0]), "the tasks run on");
    tl_task *out;
    cr_assert_eq(tl_as_completed_next(&it, &out), 0, "and the iterator still works");
    cr_assert_eq(tl_task_result(out), 1);
    tl_as_completed_destroy(&it);
    tl_task_release(c);
    release(t, 1);
    return 0;
}

Test(as_completed, cancelled_consumer_loses_nothing)
{
    RUN(as_completed_consumer_cancelled_body, NULL);
}

static int as_completed_destroy_early_body(void *arg)
{
    (void)arg;
    long live = tl__alloc_live();
    sleep_job jobs[20];
    tl_task *t[20];
    for (int i = 0; i < 20; i++)
        jobs[i] = (sleep_job){0.001 * i, i};
    make(t, jobs, 20);
    long with_tasks = tl__alloc_live();
    tl_as_completed it;
    cr_assert_eq(tl_as_completed_init(&it, t, 20, -1), 0);
    tl_task *out;
    cr_assert_eq(tl_as_completed_next(&it, &out), 0);
    tl_as_completed_destroy(&it);
    tl_as_completed_destroy(&it);
    cr_assert_eq(tl__alloc_live(), with_tasks, "the iterator gave everything back");
    cr_assert_eq(tl_wait(t, 20, -1, TL_ALL_COMPLETED), 20, "the tasks ran on");
    release(t, 20);
    cr_assert_eq(tl__alloc_live(), live);
    cr_assert_eq(tl_as_completed_init(&it, t, 1, NAN), TL_EINVAL);
    return 0;
}

Test(as_completed, destroy_before_the_end_leaves_tasks_running)
{
    RUN(as_completed_destroy_early_body, NULL);
}
