/* tl_gather and tl_gather_coros: results in order, the first error at once,
 * TL_RETURN_EXCEPTIONS, cancellation of the gatherer and of its children. */
#include <signal.h>

#include "ctx/alloc.h"
#include "util.h"

static int results_come_back_in_task_order_body(void *arg)
{
    (void)arg;
    sleep_job jobs[3] = {{0.03, 1}, {0.02, 2}, {0.01, 3}};
    tl_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = tl_create_task(sleep_then, &jobs[i]);
    int res[3] = {0};
    double t0 = tl_time();
    cr_assert_eq(tl_gather(t, 3, res, 0), 0);
    ASSERT_ELAPSED(t0, 0.03);
    cr_assert(res[0] == 1 && res[1] == 2 && res[2] == 3, "results %d %d %d", res[0], res[1],
              res[2]);
    for (int i = 0; i < 3; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, results_come_back_in_task_order)
{
    RUN(results_come_back_in_task_order_body, NULL);
}

static int first_error_returns_at_once_others_run_on_body(void *arg)
{
    (void)arg;
    sleep_job fail = {0.01, TL_EPIPE}, slow = {0.1, 7};
    tl_task *t[2] = {tl_create_task(sleep_then, &slow), tl_create_task(sleep_then, &fail)};
    int res[2] = {0};
    double t0 = tl_time();
    cr_assert_eq(tl_gather(t, 2, res, 0), TL_EPIPE);
    ASSERT_ELAPSED(t0, 0.01);
    cr_assert_eq(res[0], TL_EAGAIN, "a task still running reads TL_EAGAIN");
    cr_assert_eq(res[1], TL_EPIPE);
    cr_assert_not(tl_task_done(t[0]), "the other task is not cancelled");
    cr_assert_eq(tl_await(t[0]), 7, "and finishes normally");
    for (int i = 0; i < 2; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, first_error_returns_at_once_others_run_on)
{
    RUN(first_error_returns_at_once_others_run_on_body, NULL);
}

static int return_exceptions_waits_for_all_body(void *arg)
{
    (void)arg;
    sleep_job jobs[3] = {{0.01, TL_EPIPE}, {0.04, 5}, {0.02, TL_ENOENT}};
    tl_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = tl_create_task(sleep_then, &jobs[i]);
    int res[3] = {0};
    double t0 = tl_time();
    cr_assert_eq(tl_gather(t, 3, res, TL_RETURN_EXCEPTIONS), 0);
    ASSERT_ELAPSED(t0, 0.04);
    cr_assert(res[0] == TL_EPIPE && res[1] == 5 && res[2] == TL_ENOENT);
    for (int i = 0; i < 3; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, return_exceptions_waits_for_all)
{
    RUN(return_exceptions_waits_for_all_body, NULL);
}

/* A child that needs time to clean up after it is cancelled. */
static int slow_cleanup(void *arg)
{
    int *cleaned = arg;
    int rc = tl_sleep(10);
    tl_shield_enter();
    tl_sleep(0.03);
    tl_shield_exit();
    (*cleaned)++;
    return rc;
}

typedef struct gatherer {
    tl_task **tasks;
    size_t n;
    unsigned flags;
    int rc;
    int *cleaned;
    int cleaned_at_return;
} gatherer;

static int run_gather(void *arg)
{
    gatherer *g = arg;
    g->rc = tl_gather(g->tasks, g->n, NULL, g->flags);
    if (g->cleaned)
        g->cleaned_at_return = *g->cleaned;
    return 0;
}

static int cancelling_gather_cancels_children_and_waits_body(void *arg)
{
    unsigned flags = *(unsigned *)arg;
    int cleaned = 0;
    tl_task *t[2] = {tl_create_task(slow_cleanup, &cleaned),
                     tl_create_task(slow_cleanup, &cleaned)};
    gatherer g = {.tasks = t, .n = 2, .flags = flags, .cleaned = &cleaned};
    tl_task *w = tl_create_task(run_gather, &g);
    tl_sleep(0.01);
    tl_task_cancel(w);
    cr_assert_eq(tl_await(w), 0);
    cr_assert_eq(g.rc, TL_ECANCELED);
    cr_assert(tl_task_cancelled(t[0]) && tl_task_cancelled(t[1]), "both children cancelled");
    cr_assert_eq(g.cleaned_at_return, 2, "gather returned before its children had finished");
    tl_task_release(w);
    for (int i = 0; i < 2; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, cancelling_gather_cancels_children_and_waits)
{
    unsigned flags = 0;
    RUN(cancelling_gather_cancels_children_and_waits_body, &flags);
}

Test(gather, cancelling_gather_with_return_exceptions_cancels_children)
{
    unsigned flags = TL_RETURN_EXCEPTIONS;
    RUN(cancelling_gather_cancels_children_and_waits_body, &flags);
}

static int timeout_scope_around_gather_cancels_children_body(void *arg)
{
    (void)arg;
    sleep_job slow = {10, 1};
    tl_task *t[2] = {tl_create_task(sleep_then, &slow), tl_create_task(sleep_then, &slow)};
    tl_timeout s;
    tl_timeout_enter(&s, 0.02);
    double t0 = tl_time();
    int rc = tl_gather(t, 2, NULL, 0);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert_eq(rc, TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.02);
    cr_assert(tl_task_cancelled(t[0]) && tl_task_cancelled(t[1]));
    for (int i = 0; i < 2; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, timeout_scope_around_gather_cancels_children)
{
    RUN(timeout_scope_around_gather_cancels_children_body, NULL);
}

static int already_cancelled_caller_cancels_children_body(void *arg)
{
    (void)arg;
    sleep_job slow = {10, 1};
    tl_task *t = tl_create_task(sleep_then, &slow);
    tl_task_cancel(tl_current_task());
    cr_assert_eq(tl_gather(&t, 1, NULL, 0), TL_ECANCELED);
    cr_assert(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(gather, already_cancelled_caller_cancels_children)
{
    cr_assert_eq(tl_run(already_cancelled_caller_cancels_children_body, NULL), 0);
}

static int shared_task_awaited_by_gather_and_a_task_body(void *arg)
{
    (void)arg;
    sleep_job j = {0.02, 9}, k = {0.01, 4};
    tl_task *shared = tl_create_task(sleep_then, &j);
    tl_task *other = tl_create_task(sleep_then, &k);
    tl_task *awaiter = tl_create_task((tl_fn)tl_await, shared);
    tl_task *t[2] = {shared, other};
    int res[2];
    cr_assert_eq(tl_gather(t, 2, res, 0), 0);
    cr_assert(res[0] == 9 && res[1] == 4);
    cr_assert_eq(tl_await(awaiter), 9, "the other awaiter got the result too");
    tl_task_release(awaiter);
    tl_task_release(shared);
    tl_task_release(other);
    return 0;
}

Test(gather, shared_task_awaited_by_gather_and_a_task)
{
    RUN(shared_task_awaited_by_gather_and_a_task_body, NULL);
}

static int other_awaiter_cancelled_fails_the_gather_body(void *arg)
{
    (void)arg;
    sleep_job j = {10, 9};
    tl_task *shared = tl_create_task(sleep_then, &j);
    tl_task *awaiter = tl_create_task((tl_fn)tl_await, shared);
    tl_sleep(0);
    /* asyncio: cancelling a task that awaits another cancels that one too,
     * and a gather without return_exceptions reports the cancelled child. */
    tl_task_cancel(awaiter);
    cr_assert_eq(tl_gather(&shared, 1, NULL, 0), TL_ECANCELED);
    cr_assert(tl_task_cancelled(shared));
    tl_await(awaiter);
    tl_task_release(awaiter);
    tl_task_release(shared);
    return 0;
}

Test(gather, other_awaiter_cancelled_fails_the_gather)
{
    RUN(other_awaiter_cancelled_fails_the_gather_body, NULL);
}

static int done_tasks_need_no_wait_body(void *arg)
{
    (void)arg;
    sleep_job a = {0, 3}, b = {0, TL_EPIPE};
    tl_task *t[3] = {tl_create_task(sleep_then, &a), tl_create_task(sleep_then, &b),
                     tl_create_task(sleep_then, &a)};
    tl_gather(t, 3, NULL, TL_RETURN_EXCEPTIONS);
    int res[3];
    tl_task_cancel(tl_current_task()); /* no wait happens, so no cancellation is seen */
    cr_assert_eq(tl_gather(t, 3, res, 0), TL_EPIPE, "the first error of the done tasks");
    cr_assert(res[0] == 3 && res[1] == TL_EPIPE && res[2] == 3);
    cr_assert_eq(tl_gather(t, 0, res, 0), 0, "an empty gather is an empty success");
    for (int i = 0; i < 3; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, done_tasks_need_no_wait)
{
    cr_assert_eq(tl_run(done_tasks_need_no_wait_body, NULL), 0);
}

static int bad_arguments_are_einval_body(void *arg)
{
    (void)arg;
    sleep_job a = {0, 3};
    tl_task *t[2] = {tl_create_task(sleep_then, &a), NULL};
    cr_assert_eq(tl_gather(t, 2, NULL, 0), TL_EINVAL);
    cr_assert_eq(tl_gather(t, 1, NULL, 0x80), TL_EINVAL);
    tl_coro c[1] = {{NULL, NULL}};
    cr_assert_eq(tl_gather_coros(c, 1, NULL, 0), TL_EINVAL);
    int res = 0;
    cr_assert_eq(tl_gather(t, 1, &res, 0), 0, "nothing was left linked by the failed calls");
    cr_assert_eq(res, 3);
    tl_task_release(t[0]);
    return 0;
}

Test(gather, bad_arguments_are_einval)
{
    RUN(bad_arguments_are_einval_body, NULL);
}

static int duplicate_task_is_gathered_twice_body(void *arg)
{
    (void)arg;
    sleep_job a = {0.01, 6};
    tl_task *t = tl_create_task(sleep_then, &a);
    tl_task *two[2] = {t, t};
    int res[2];
    cr_assert_eq(tl_gather(two, 2, res, 0), 0);
    cr_assert(res[0] == 6 && res[1] == 6);
    tl_task_release(t);
    return 0;
}

Test(gather, duplicate_task_is_gathered_twice)
{
    RUN(duplicate_task_is_gathered_twice_body, NULL);
}

static int work(void *arg)
{
    int id = (int)(intptr_t)arg;
    int rc = tl_sleep(0.05);
    return rc < 0 ? rc : id;
}

static int gather_coros_runs_calls_concurrently_body(void *arg)
{
    (void)arg;
    int res[3];
    double t0 = tl_time();
    cr_assert_eq(TL_GATHER(res, 0, TL_CORO(work, (void *)1), TL_CORO(work, (void *)2),
                           TL_CORO(work, (void *)3)),
                 0);
    ASSERT_ELAPSED(t0, 0.05);
    cr_assert(res[0] == 1 && res[1] == 2 && res[2] == 3);
    tl_coro many[20];
    int r20[20];
    for (int i = 0; i < 20; i++)
        many[i] = TL_CORO(work, (void *)(intptr_t)i);
    cr_assert_eq(tl_gather_coros(many, 20, r20, 0), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(r20[i], i);
    return 0;
}

Test(gather, gather_coros_runs_calls_concurrently)
{
    RUN(gather_coros_runs_calls_concurrently_body, NULL);
}

static int count_done(void *arg)
{
    (*(long *)arg)++;
    return tl_sleep(0.01);
}

static int hundred_thousand_tasks_body(void *arg)
{
    (void)arg;
    enum { N = 100000 };
    static tl_task *t[N];
    long ran = 0;
    tl_task_opts o = {.stack_size = TL_STACK_MIN};
    for (int i = 0; i < N; i++)
        cr_assert(t[i] = tl_create_task_ex(count_done, &ran, &o));
    long live = tl__alloc_live();
    cr_assert_eq(tl_gather(t, N, NULL, 0), 0);
    cr_assert_eq(ran, N);
    cr_assert_eq(tl__alloc_live(), live, "the gather gave back its one node array");
    for (int i = 0; i < N; i++)
        tl_task_release(t[i]);
    return 0;
}

Test(gather, hundred_thousand_tasks)
{
    RUN(hundred_thousand_tasks_body, NULL);
}

static int gather_itself(void *arg)
{
    (void)arg;
    tl_task *self = tl_current_task();
    return tl_gather(&self, 1, NULL, 0);
}

static void gather_itself_child(void *arg)
{
    (void)arg;
    tl_run(gather_itself, NULL);
}

Test(gather, gathering_itself_aborts_with_a_message)
{
    char err[512];
    int st = run_child(gather_itself_child, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    cr_assert(strstr(err, "tl_gather") && strstr(err, "waits on itself"), "got: %s", err);
}

static int fail_soon(void *arg)
{
    (void)arg;
    tl_sleep(0.01);
    return TL_EPIPE;
}

static int writes_into_caller_frame(void *arg)
{
    int *slot = arg;
    int rc = tl_sleep(0.05);
    *slot = rc == 0 ? 1 : 2; /* the caller's frame must still be there */
    return rc;
}

static int gather_coros_error_cancels_and_waits_body(void *arg)
{
    (void)arg;
    int slot = 0, res[2];
    int rc = TL_GATHER(res, 0, TL_CORO(writes_into_caller_frame, &slot), TL_CORO(fail_soon, NULL));
    cr_assert_eq(rc, TL_EPIPE);
    cr_assert_eq(slot, 2, "the other call was cancelled and had finished before the return");
    cr_assert(res[0] == TL_ECANCELED && res[1] == TL_EPIPE);
    return 0;
}

Test(gather, gather_coros_error_cancels_the_rest_and_waits)
{
    RUN(gather_coros_error_cancels_and_waits_body, NULL);
}

static int gather_coros_enomem_runs_nothing_body(void *arg)
{
    (void)arg;
    int ran = 0;
    tl_coro c[12];
    for (int i = 0; i < 12; i++)
        c[i] = TL_CORO(writes_into_caller_frame, &ran);
    long live = tl__alloc_live();
    /* the array of 12 handles, 12 tasks (struct and stack each), then the
     * gather's node array: let every allocation but the last succeed */
    int rc = 0;
    for (long n = 1; n < 200; n++) {
        tl__fault_arm(n);
        rc = tl_gather_coros(c, 12, NULL, 0);
        bool fired = tl__fault_fired();
        tl__fault_arm(0);
        if (!fired)
            break;
        cr_assert_eq(rc, TL_ENOMEM);
        cr_assert_eq(ran, 0, "N=%ld: a call ran although the gather failed", n);
        tl_sleep(0.06);
        cr_assert_eq(ran, 0, "N=%ld: a call ran on after the gather failed", n);
        cr_assert_eq(tl__alloc_live(), live);
    }
    cr_assert_eq(rc, 0);
    return 0;
}

Test(gather, gather_coros_out_of_memory_runs_no_call)
{
    RUN(gather_coros_enomem_runs_nothing_body, NULL);
}
