/* Futures: results, errors, cancellation, waiters, done callbacks. */
#include "util.h"

static int await_future(void *arg)
{
    return tl_future_await(arg);
}

static int set_later(void *arg)
{
    tl_sleep(0.02);
    return tl_future_set_result(arg, 9);
}

static int result_wakes_all_waiters_body(void *arg)
{
    (void)arg;
    tl_future *f = tl_future_new();
    tl_task *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = tl_create_task(await_future, f);
    tl_task *s = tl_create_task(set_later, f);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tl_await(w[i]), 9);
        tl_task_release(w[i]);
    }
    cr_assert_eq(tl_await(s), 0);
    cr_assert(tl_future_done(f));
    cr_assert_eq(tl_future_result(f), 9);
    cr_assert_eq(tl_future_await(f), 9, "a done future returns at once");
    tl_task_release(s);
    tl_future_release(f);
    return 0;
}

Test(future, result_wakes_every_waiter)
{
    RUN(result_wakes_all_waiters_body, NULL);
}

static int invalid_states_body(void *arg)
{
    (void)arg;
    tl_future *f = tl_future_new();
    cr_assert_eq(tl_future_result(f), TL_EAGAIN);
    cr_assert_eq(tl_future_set_result(f, -3), TL_EINVAL);
    cr_assert_eq(tl_future_set_error(f, 0), TL_EINVAL);
    cr_assert_eq(tl_future_set_error(f, TL_ECONNRESET), 0);
    cr_assert_eq(tl_future_set_result(f, 1), TL_EINVAL, "done already");
    cr_assert_not(tl_future_cancel(f));
    cr_assert_eq(tl_future_await(f), TL_ECONNRESET);
    tl_future_release(f);
    return 0;
}

Test(future, setting_twice_or_wrong_sign_is_einval)
{
    RUN(invalid_states_body, NULL);
}

static int cancel_future_body(void *arg)
{
    (void)arg;
    tl_future *f = tl_future_new();
    tl_task *w = tl_create_task(await_future, f);
    tl_sleep(0);
    cr_assert(tl_future_cancel(f));
    cr_assert(tl_future_cancelled(f));
    cr_assert_eq(tl_await(w), TL_ECANCELED);
    tl_task_release(w);
    tl_future_release(f);
    return 0;
}

Test(future, cancelling_the_future_wakes_waiters_with_ecanceled)
{
    RUN(cancel_future_body, NULL);
}

static int cancel_waiter_body(void *arg)
{
    (void)arg;
    tl_future *f = tl_future_new();
    tl_task *w = tl_create_task(await_future, f);
    tl_sleep(0);
    tl_task_cancel(w);
    cr_assert_eq(tl_await(w), TL_ECANCELED);
    cr_assert(tl_future_cancelled(f), "as in asyncio, the awaited future is cancelled too");
    tl_task_release(w);
    tl_future_release(f);
    return 0;
}

Test(future, cancelling_a_waiter_cancels_the_future)
{
    RUN(cancel_waiter_body, NULL);
}

static int cb_log[8];
static int ncb;

static void note(tl_future *f, void *arg)
{
    cb_log[ncb++] = (int)(intptr_t)arg * 100 + tl_future_result(f);
}

static int callbacks_body(void *arg)
{
    (void)arg;
    ncb = 0;
    tl_future *f = tl_future_new();
    cr_assert_eq(tl_future_add_done_callback(f, note, (void *)1), 0);
    cr_assert_eq(tl_future_add_done_callback(f, note, (void *)2), 0);
    cr_assert_eq(tl_future_add_done_callback(f, note, (void *)3), 0);
    cr_assert_eq(tl_future_remove_done_callback(f, note, (void *)2), 1);
    tl_future_set_result(f, 7);
    cr_assert_eq(ncb, 0, "callbacks run from the loop, not inside set_result");
    tl_sleep(0);
    cr_assert_eq(ncb, 2);
    cr_assert_eq(cb_log[0], 107);
    cr_assert_eq(cb_log[1], 307);
    tl_future_add_done_callback(f, note, (void *)4);
    tl_future_release(f); /* the queued callback keeps it alive */
    tl_sleep(0);
    cr_assert_eq(ncb, 3);
    cr_assert_eq(cb_log[2], 407);
    return 0;
}

Test(future, done_callbacks_run_soon_in_order)
{
    RUN(callbacks_body, NULL);
}

static int timeout_on_future_body(void *arg)
{
    (void)arg;
    tl_future *f = tl_future_new();
    tl_timeout s;
    tl_timeout_enter(&s, 0.03);
    cr_assert_eq(tl_future_await(f), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert(tl_future_cancelled(f));
    tl_future_release(f);
    return 0;
}

Test(future, timeout_scope_ends_a_future_wait)
{
    RUN(timeout_on_future_body, NULL);
}

/* The switch benchmark's shape: two tasks handing a value back and forth. */
static tl_future *ping, *pong;

static int ponger(void *arg)
{
    int n = (int)(intptr_t)arg;
    for (int i = 0; i < n; i++) {
        int v = tl_future_await(ping);
        tl_future_release(ping);
        ping = tl_future_new();
        tl_future *p = pong;
        tl_future_set_result(p, v + 1);
    }
    return 0;
}

static int ping_pong_body(void *arg)
{
    (void)arg;
    ping = tl_future_new();
    pong = tl_future_new();
    tl_task *t = tl_create_task(ponger, (void *)1000);
    for (int i = 0; i < 1000; i++) {
        tl_future_set_result(ping, i);
        int v = tl_future_await(pong);
        cr_assert_eq(v, i + 1);
        tl_future_release(pong);
        pong = tl_future_new();
    }
    tl_await(t);
    tl_task_release(t);
    tl_future_release(ping);
    tl_future_release(pong);
    return 0;
}

Test(future, thousand_round_trips_between_two_tasks)
{
    RUN(ping_pong_body, NULL);
}
