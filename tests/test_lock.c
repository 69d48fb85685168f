/* tl_lock: ownership, FIFO hand-off, cancellation and timeouts that take nothing. */
#include <signal.h>

#include "util.h"

static tl_lock lock;
static int order[8];
static int norder;

/* Acquires, notes its number, holds the lock across a yield, releases. */
static int locker(void *arg)
{
    int rc = tl_lock_acquire(&lock);
    if (rc)
        return rc;
    order[norder++] = (int)(intptr_t)arg;
    tl_sleep(0);
    cr_assert(tl_lock_locked(&lock));
    return tl_lock_release(&lock);
}

static int acquire_only(void *arg)
{
    (void)arg;
    return tl_lock_acquire(&lock);
}

static int free_lock_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    cr_assert_not(tl_lock_locked(&lock));
    cr_assert_eq(tl_lock_acquire(&lock), 0);
    cr_assert(tl_lock_locked(&lock));
    cr_assert_eq(tl_lock_release(&lock), 0);
    cr_assert_not(tl_lock_locked(&lock));
    cr_assert_eq(tl_lock_release(&lock), TL_EINVAL, "releasing an unlocked lock");
    cr_assert_not(tl_lock_locked(&lock));
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, acquire_of_a_free_lock_takes_it_and_release_of_a_free_one_is_einval)
{
    RUN(free_lock_body, NULL);
}

static int fifo_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    norder = 0;
    cr_assert_eq(tl_lock_acquire(&lock), 0);
    tl_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tl_create_task(locker, (void *)(intptr_t)i);
    tl_sleep(0); /* all four wait, in creation order */
    cr_assert_eq(norder, 0);
    tl_lock_release(&lock);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_await(t[i]), 0);
        tl_task_release(t[i]);
    }
    cr_assert_eq(norder, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(order[i], i, "waiters are served first come, first served");
    cr_assert_not(tl_lock_locked(&lock));
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, waiters_get_the_lock_in_fifo_order)
{
    RUN(fifo_body, NULL);
}

static int no_barging_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    norder = 0;
    tl_lock_acquire(&lock);
    tl_task *a = tl_create_task(locker, (void *)1);
    tl_sleep(0);
    cr_assert_eq(tl_lock_release(&lock), 0);
    cr_assert(tl_lock_locked(&lock), "handed to the waiter, not freed");
    /* The releaser asks again at once: it queues behind the waiter. */
    cr_assert_eq(tl_lock_acquire(&lock), 0);
    order[norder++] = 2;
    cr_assert_eq(order[0], 1, "the waiter got the lock first");
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(a), 0);
    tl_task_release(a);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, release_hands_the_lock_to_the_waiter_so_the_releaser_cannot_barge)
{
    RUN(no_barging_body, NULL);
}

static int cancel_waiting_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);
    tl_task *a = tl_create_task(acquire_only, NULL);
    tl_task *b = tl_create_task(acquire_only, NULL);
    tl_sleep(0);
    tl_task_cancel(a);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert(tl_lock_locked(&lock), "still ours");
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(b), 0, "the next waiter gets it");
    cr_assert(tl_lock_locked(&lock), "b returned holding it");
    cr_assert_eq(tl_lock_release(&lock), 0);
    cr_assert_not(tl_lock_locked(&lock));
    tl_task_release(a);
    tl_task_release(b);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, cancelled_acquire_never_holds_the_lock)
{
    RUN(cancel_waiting_body, NULL);
}

static int race_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);
    tl_task *a = tl_create_task(acquire_only, NULL);
    tl_task *b = tl_create_task(acquire_only, NULL);
    tl_sleep(0);
    tl_lock_release(&lock); /* handed to a, which has not run yet */
    tl_task_cancel(a);      /* ... and now never will hold it */
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_await(b), 0, "the hand-off went on to b");
    cr_assert(tl_lock_locked(&lock));
    tl_lock_release(&lock);
    cr_assert_not(tl_lock_locked(&lock));
    tl_task_release(a);
    tl_task_release(b);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, wakeup_racing_cancel_passes_lock_to_next_waiter)
{
    RUN(race_body, NULL);
}

static int race_alone_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);
    tl_task *a = tl_create_task(acquire_only, NULL);
    tl_sleep(0);
    tl_lock_release(&lock);
    tl_task_cancel(a);
    cr_assert_not(tl_lock_locked(&lock), "nobody else waits: the lock is free again");
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_lock_acquire(&lock), 0);
    tl_lock_release(&lock);
    tl_task_release(a);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, wakeup_racing_cancel_with_nobody_else_waiting_frees_the_lock)
{
    RUN(race_alone_body, NULL);
}

static tl_timeout a_scope;

static int acquire_in_scope(void *arg)
{
    double secs = *(double *)arg;
    tl_timeout_enter(&a_scope, secs);
    int rc = tl_lock_acquire(&lock);
    tl_timeout_exit(&a_scope);
    return rc;
}

static int timeout_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);

    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_lock_acquire(&lock), TL_ETIMEDOUT, "a zero timeout on a held lock");
    tl_timeout_exit(&s);
    cr_assert(tl_lock_locked(&lock));

    double secs = 0.02;
    tl_task *a = tl_create_task(acquire_in_scope, &secs);
    tl_task *b = tl_create_task(acquire_only, NULL);
    cr_assert_eq(tl_await(a), TL_ETIMEDOUT);
    tl_lock_release(&lock);
    cr_assert_eq(tl_await(b), 0, "the timed-out waiter left the queue, b is next");
    tl_lock_release(&lock);

    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_lock_acquire(&lock), 0, "a free lock is taken without waiting");
    tl_timeout_exit(&s);
    tl_lock_release(&lock);

    tl_task_release(a);
    tl_task_release(b);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, timeout_ends_a_wait_and_takes_nothing)
{
    RUN(timeout_body, NULL);
}

static int timeout_race_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);
    double secs = 10;
    tl_task *a = tl_create_task(acquire_in_scope, &secs);
    tl_task *b = tl_create_task(acquire_only, NULL);
    tl_sleep(0);
    tl_lock_release(&lock);                  /* handed to a */
    tl_timeout_reschedule(&a_scope, 0);      /* a's deadline passes before it runs */
    cr_assert_eq(tl_await(a), TL_ETIMEDOUT); /* so a holds nothing */
    cr_assert_eq(tl_await(b), 0);
    tl_lock_release(&lock);
    tl_task_release(a);
    tl_task_release(b);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, wakeup_racing_timeout_passes_lock_to_next_waiter)
{
    RUN(timeout_race_body, NULL);
}

static int cancelled_free_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_task_cancel(tl_current_task());
    cr_assert_eq(tl_lock_acquire(&lock), 0, "no wait, so no cancellation check");
    cr_assert_eq(tl_sleep(0), TL_ECANCELED);
    tl_lock_release(&lock);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, cancelled_task_still_takes_a_free_lock_without_waiting)
{
    RUN(cancelled_free_body, NULL);
}

static int shielded_acquire(void *arg)
{
    (void)arg;
    tl_shield_enter();
    int rc = tl_lock_acquire(&lock);
    tl_shield_exit();
    return rc;
}

static int shield_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);
    tl_task *a = tl_create_task(shielded_acquire, NULL);
    tl_sleep(0);
    tl_lock_release(&lock);
    tl_task_cancel(a); /* a shield keeps the wait, and what it was handed */
    cr_assert_eq(tl_await(a), 0);
    cr_assert(tl_lock_locked(&lock), "a returned holding the lock");
    tl_lock_release(&lock);
    tl_task_release(a);
    tl_lock_destroy(&lock);
    return 0;
}

Test(lock, shielded_waiter_keeps_the_lock_it_was_handed_despite_cancel)
{
    RUN(shield_body, NULL);
}

static int destroy_busy_body(void *arg)
{
    (void)arg;
    tl_lock_init(&lock);
    tl_lock_acquire(&lock);
    tl_task *a = tl_create_task(acquire_only, NULL);
    tl_sleep(0);
    tl_lock_destroy(&lock); /* a's wait record would dangle */
    tl_task_release(a);
    return 0;
}

static void child_destroy_busy(void *arg)
{
    (void)arg;
    tl_run(destroy_busy_body, NULL);
}

Test(lock, destroying_a_lock_with_waiters_aborts_with_a_message)
{
    char err[1024];
    int status = run_child(child_destroy_busy, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "tulip: fatal: tl_lock_destroy: lock"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "1 task(s) still wait on it"), "stderr: %s", err);
}
