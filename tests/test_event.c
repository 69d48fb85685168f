/* tl_event: set, clear, waiters, cancellation and timeouts. */
#include <signal.h>

#include "util.h"

static tl_event ev;
static int order[8];
static int norder;

static int waiter(void *arg)
{
    int rc = tl_event_wait(&ev);
    order[norder++] = (int)(intptr_t)arg;
    return rc;
}

/* Waits, then checks that the next suspension point sees a cancellation. */
static int waiter_then_sleep(void *arg)
{
    (void)arg;
    int rc = tl_event_wait(&ev);
    cr_assert_eq(tl_sleep(0), TL_ECANCELED, "the cancel lands at the next suspension point");
    return rc;
}

static int set_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    cr_assert_not(tl_event_is_set(&ev));
    tl_event_set(&ev);
    cr_assert(tl_event_is_set(&ev));
    cr_assert_eq(tl_event_wait(&ev), 0, "a set event does not wait");
    tl_event_set(&ev); /* setting twice is harmless */
    tl_event_clear(&ev);
    cr_assert_not(tl_event_is_set(&ev));
    tl_event_destroy(&ev);
    return 0;
}

Test(event, set_and_clear_flip_the_flag_and_wait_on_a_set_event_returns_at_once)
{
    RUN(set_body, NULL);
}

static int wake_all_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    norder = 0;
    tl_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tl_create_task(waiter, (void *)(intptr_t)i);
    tl_sleep(0);
    cr_assert_eq(norder, 0, "nobody passes an unset event");
    tl_event_set(&ev);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_await(t[i]), 0);
        tl_task_release(t[i]);
    }
    for (int i = 0; i < 4; i++)
        cr_assert_eq(order[i], i, "woken in the order they came");
    tl_event_destroy(&ev);
    return 0;
}

Test(event, set_wakes_every_waiter_in_fifo_order)
{
    RUN(wake_all_body, NULL);
}

static int clear_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    norder = 0;
    tl_task *a = tl_create_task(waiter, (void *)1);
    tl_sleep(0);
    tl_event_set(&ev);
    tl_event_clear(&ev); /* before a runs: as in asyncio, a was released by the set */
    cr_assert_eq(tl_await(a), 0);
    tl_task *b = tl_create_task(waiter, (void *)2);
    tl_sleep(0);
    cr_assert_eq(norder, 1, "a later waiter waits for the next set");
    tl_event_set(&ev);
    cr_assert_eq(tl_await(b), 0);
    tl_task_release(a);
    tl_task_release(b);
    tl_event_destroy(&ev);
    return 0;
}

Test(event, clear_after_set_does_not_hold_back_tasks_already_released)
{
    RUN(clear_body, NULL);
}

static int cancel_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    norder = 0;
    tl_task *a = tl_create_task(waiter, (void *)1);
    tl_task *b = tl_create_task(waiter, (void *)2);
    tl_sleep(0);
    tl_task_cancel(a);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    tl_event_set(&ev);
    cr_assert_eq(tl_await(b), 0, "the other waiter is still woken");
    tl_task_release(a);
    tl_task_release(b);
    tl_event_destroy(&ev);
    return 0;
}

Test(event, cancelled_wait_returns_ecanceled_and_leaves_the_others_waiting)
{
    RUN(cancel_body, NULL);
}

static int race_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    tl_task *a = tl_create_task(waiter_then_sleep, NULL);
    tl_sleep(0);
    tl_event_set(&ev);
    tl_task_cancel(a); /* woken, not yet run: nothing was handed, nothing to give back */
    cr_assert_eq(tl_await(a), 0, "the wait saw the event");
    tl_task_release(a);
    tl_event_destroy(&ev);
    return 0;
}

Test(event, set_racing_cancel_keeps_the_wakeup_and_cancels_at_the_next_wait)
{
    RUN(race_body, NULL);
}

static int timeout_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_event_wait(&ev), TL_ETIMEDOUT, "a zero timeout on an unset event");
    tl_timeout_exit(&s);

    double t0 = tl_time();
    tl_timeout_enter(&s, 0.03);
    cr_assert_eq(tl_event_wait(&ev), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.03);

    tl_event_set(&ev);
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_event_wait(&ev), 0, "a set event needs no waiting");
    tl_timeout_exit(&s);
    tl_event_destroy(&ev);
    return 0;
}

Test(event, timeout_scope_ends_a_wait)
{
    RUN(timeout_body, NULL);
}

static int destroy_busy_body(void *arg)
{
    (void)arg;
    tl_event_init(&ev);
    tl_task *a = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_event_destroy(&ev);
    tl_task_release(a);
    return 0;
}

static void child_destroy_busy(void *arg)
{
    (void)arg;
    tl_run(destroy_busy_body, NULL);
}

Test(event, destroying_an_event_with_waiters_aborts_with_a_message)
{
    char err[1024];
    int status = run_child(child_destroy_busy, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "tulip: fatal: tl_event_destroy: event"), "stderr: %s", err);
}
