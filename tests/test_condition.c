/* tl_condition: notify order, the lock around a wait, cancellation and timeouts. */
#include <signal.h>

#include "util.h"

static tl_lock lock;
static tl_condition cond;
static int order[8];
static int norder;
static int ready;

static void setup(void)
{
    tl_lock_init(&lock);
    tl_condition_init(&cond, &lock);
    norder = 0;
    ready = 0;
}

static void teardown(void)
{
    tl_condition_destroy(&cond);
    tl_lock_destroy(&lock);
}

/* Waits once under the lock; notes its number once it holds the lock again. */
static int waiter(void *arg)
{
    int rc = tl_lock_acquire(&lock);
    if (rc)
        return rc;
    rc = tl_condition_wait(&cond);
    cr_assert(tl_lock_locked(&lock), "every wait returns holding the lock");
    order[norder++] = (int)(intptr_t)arg;
    cr_assert_eq(tl_lock_release(&lock), 0);
    return rc;
}

static int misuse_body(void *arg)
{
    (void)arg;
    setup();
    cr_assert_eq(tl_condition_wait(&cond), TL_EINVAL, "waiting without the lock");
    cr_assert_eq(tl_condition_notify(&cond, 1), TL_EINVAL, "notifying without the lock");
    cr_assert_eq(tl_condition_notify_all(&cond), TL_EINVAL);
    cr_assert_not(tl_lock_locked(&lock));
    tl_lock_acquire(&lock);
    cr_assert_eq(tl_condition_notify(&cond, 1), 0, "nobody waits: a no-op");
    tl_lock_release(&lock);
    teardown();
    return 0;
}

Test(condition, wait_or_notify_without_the_lock_is_einval)
{
    RUN(misuse_body, NULL);
}

static int notify_order_body(void *arg)
{
    (void)arg;
    setup();
    tl_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tl_create_task(waiter, (void *)(intptr_t)i);
    tl_sleep(0);
    cr_assert_not(tl_lock_locked(&lock), "waiting released the lock");

    tl_lock_acquire(&lock);
    tl_condition_notify(&cond, 1);
    tl_lock_release(&lock);
    tl_sleep(0);
    cr_assert_eq(norder, 1, "notify(1) wakes one");
    cr_assert_eq(order[0], 0, "the first to wait");

    tl_lock_acquire(&lock);
    tl_condition_notify(&cond, 2);
    tl_sleep(0);
    cr_assert_eq(norder, 1, "the notified wait for the lock the notifier holds");
    tl_lock_release(&lock); /* the lock goes to one, then the other */
    for (int i = 0; i < 10 && norder < 3; i++)
        tl_sleep(0);
    cr_assert_eq(norder, 3);
    cr_assert_eq(order[1], 1);
    cr_assert_eq(order[2], 2);

    tl_lock_acquire(&lock);
    tl_condition_notify_all(&cond);
    tl_lock_release(&lock);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_await(t[i]), 0);
        tl_task_release(t[i]);
    }
    cr_assert_eq(order[3], 3);
    teardown();
    return 0;
}

Test(condition, notify_wakes_waiters_in_fifo_order_each_returning_with_the_lock)
{
    RUN(notify_order_body, NULL);
}

static int cancel_body(void *arg)
{
    (void)arg;
    setup();
    tl_task *a = tl_create_task(waiter, (void *)1);
    tl_sleep(0);
    tl_lock_acquire(&lock);
    tl_task_cancel(a);
    tl_sleep(0.01);
    cr_assert_not(tl_task_done(a), "cancelled, but blocked taking the lock back");
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(norder, 1, "a ran on with the lock, and released it");
    cr_assert_not(tl_lock_locked(&lock));
    tl_task_release(a);
    teardown();
    return 0;
}

Test(condition, cancelled_wait_takes_the_lock_back_before_returning_ecanceled)
{
    RUN(cancel_body, NULL);
}

static int timeout_waiter(void *arg)
{
    double secs = *(double *)arg;
    tl_lock_acquire(&lock);
    tl_timeout s;
    tl_timeout_enter(&s, secs);
    int rc = tl_condition_wait(&cond);
    tl_timeout_exit(&s);
    cr_assert(tl_lock_locked(&lock));
    order[norder++] = 9;
    tl_lock_release(&lock);
    return rc;
}

static int timeout_body(void *arg)
{
    (void)arg;
    setup();
    tl_lock_acquire(&lock);
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_condition_wait(&cond), TL_ETIMEDOUT, "a zero timeout");
    tl_timeout_exit(&s);
    cr_assert(tl_lock_locked(&lock), "still held");
    tl_lock_release(&lock);

    double secs = 0.02;
    tl_task *a = tl_create_task(timeout_waiter, &secs);
    tl_sleep(0);
    tl_lock_acquire(&lock); /* a's deadline passes while we hold the lock */
    tl_sleep(0.05);
    cr_assert_not(tl_task_done(a));
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(a), TL_ETIMEDOUT);
    cr_assert_eq(norder, 1);
    tl_task_release(a);
    teardown();
    return 0;
}

Test(condition, timed_out_wait_takes_the_lock_back_before_returning_etimedout)
{
    RUN(timeout_body, NULL);
}

static int race_body(void *arg)
{
    (void)arg;
    setup();
    tl_task *a = tl_create_task(waiter, (void *)1);
    tl_task *b = tl_create_task(waiter, (void *)2);
    tl_sleep(0);
    tl_lock_acquire(&lock);
    tl_condition_notify(&cond, 1); /* to a, which has not run yet */
    tl_task_cancel(a);             /* so the notification goes on to b */
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_await(b), 0, "b was notified in a's place");
    tl_task_release(a);
    tl_task_release(b);
    teardown();
    return 0;
}

Test(condition, notify_racing_cancel_passes_the_notification_to_the_next_waiter)
{
    RUN(race_body, NULL);
}

static int notified_then_cancelled(void *arg)
{
    (void)arg;
    tl_lock_acquire(&lock);
    int rc = tl_condition_wait(&cond);
    cr_assert(tl_lock_locked(&lock));
    tl_lock_release(&lock);
    cr_assert_eq(tl_sleep(0), TL_ECANCELED, "the cancel lands at the next suspension point");
    return rc;
}

static int late_cancel_body(void *arg)
{
    (void)arg;
    setup();
    tl_task *a = tl_create_task(notified_then_cancelled, NULL);
    tl_sleep(0);
    tl_lock_acquire(&lock);
    tl_condition_notify(&cond, 1);
    tl_sleep(0); /* a runs: notified, now waiting to take the lock back */
    tl_task_cancel(a);
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(a), 0, "the notification was received");
    tl_task_release(a);
    teardown();
    return 0;
}

Test(condition, cancel_while_taking_the_lock_back_keeps_the_notification)
{
    RUN(late_cancel_body, NULL);
}

static bool is_ready(void *arg)
{
    return *(int *)arg >= 3;
}

static int wait_for_ready(void *arg)
{
    (void)arg;
    tl_lock_acquire(&lock);
    int rc = tl_condition_wait_for(&cond, is_ready, &ready);
    cr_assert(ready >= 3 || rc != 0);
    tl_lock_release(&lock);
    return rc;
}

static int wait_for_body(void *arg)
{
    (void)arg;
    setup();
    tl_task *a = tl_create_task(wait_for_ready, NULL);
    for (int i = 0; i < 3; i++) {
        tl_sleep(0);
        cr_assert_not(tl_task_done(a));
        tl_lock_acquire(&lock);
        ready++;
        tl_condition_notify_all(&cond);
        tl_lock_release(&lock);
    }
    cr_assert_eq(tl_await(a), 0);
    tl_lock_acquire(&lock);
    cr_assert_eq(tl_condition_wait_for(&cond, is_ready, &ready), 0, "true at once: no wait");
    tl_lock_release(&lock);
    tl_task_release(a);
    teardown();
    return 0;
}

Test(condition, wait_for_returns_once_the_predicate_holds)
{
    RUN(wait_for_body, NULL);
}

static int destroy_busy_body(void *arg)
{
    (void)arg;
    setup();
    tl_task *a = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_condition_destroy(&cond);
    tl_task_release(a);
    return 0;
}

static void child_destroy_busy(void *arg)
{
    (void)arg;
    tl_run(destroy_busy_body, NULL);
}

Test(condition, destroying_a_condition_with_waiters_aborts_with_a_message)
{
    char err[1024];
    int status = run_child(child_destroy_busy, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "tulip: fatal: tl_condition_destroy: condition"), "stderr: %s",
                       err);
}
