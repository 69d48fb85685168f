/* tl_semaphore: permits, FIFO hand-off, the bounded variant, cancellation and timeouts. */
#include <limits.h>
#include <signal.h>

#include "util.h"

static tl_semaphore sem;
static int order[8];
static int norder;

static int acquire_only(void *arg)
{
    int rc = tl_semaphore_acquire(&sem);
    if (rc == 0)
        order[norder++] = (int)(intptr_t)arg;
    return rc;
}

static int acquire_release(void *arg)
{
    int rc = acquire_only(arg);
    return rc ? rc : tl_semaphore_release(&sem);
}

static int counting_body(void *arg)
{
    (void)arg;
    cr_assert_eq(tl_semaphore_init(&sem, -1), TL_EINVAL);
    cr_assert_eq(tl_semaphore_init_bounded(&sem, -1), TL_EINVAL);
    cr_assert_eq(tl_semaphore_init(&sem, 2), 0);
    cr_assert_eq(tl_semaphore_value(&sem), 2);
    cr_assert_not(tl_semaphore_locked(&sem));
    cr_assert_eq(tl_semaphore_acquire(&sem), 0);
    cr_assert_eq(tl_semaphore_acquire(&sem), 0);
    cr_assert_eq(tl_semaphore_value(&sem), 0);
    cr_assert(tl_semaphore_locked(&sem));
    cr_assert_eq(tl_semaphore_release(&sem), 0);
    cr_assert_eq(tl_semaphore_release(&sem), 0);
    cr_assert_eq(tl_semaphore_release(&sem), 0, "an unbounded semaphore may go above its start");
    cr_assert_eq(tl_semaphore_value(&sem), 3);
    tl_semaphore_destroy(&sem);

    tl_semaphore_init(&sem, INT_MAX);
    cr_assert_eq(tl_semaphore_release(&sem), TL_EOVERFLOW);
    cr_assert_eq(tl_semaphore_value(&sem), INT_MAX);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, acquire_takes_a_permit_and_release_gives_one_back)
{
    RUN(counting_body, NULL);
}

static int fifo_body(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, 0);
    norder = 0;
    tl_task *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tl_create_task(acquire_only, (void *)(intptr_t)i);
    tl_sleep(0);
    for (int i = 0; i < 4; i++)
        tl_semaphore_release(&sem);
    cr_assert_eq(tl_semaphore_value(&sem), 0, "each permit went to a waiter");
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_await(t[i]), 0);
        tl_task_release(t[i]);
    }
    for (int i = 0; i < 4; i++)
        cr_assert_eq(order[i], i, "waiters are served first come, first served");
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, waiters_get_permits_in_fifo_order)
{
    RUN(fifo_body, NULL);
}

static int no_barging_body(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, 1);
    norder = 0;
    tl_semaphore_acquire(&sem);
    tl_task *a = tl_create_task(acquire_release, (void *)1);
    tl_sleep(0);
    tl_semaphore_release(&sem);
    cr_assert_eq(tl_semaphore_value(&sem), 0, "handed to the waiter");
    cr_assert(tl_semaphore_locked(&sem));
    cr_assert_eq(tl_semaphore_acquire(&sem), 0); /* waits behind a */
    order[norder++] = 2;
    cr_assert_eq(order[0], 1);
    cr_assert_eq(tl_await(a), 0);
    tl_semaphore_release(&sem);
    cr_assert_eq(tl_semaphore_value(&sem), 1);
    tl_task_release(a);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, release_hands_the_permit_to_the_waiter_so_nobody_barges)
{
    RUN(no_barging_body, NULL);
}

static int cancel_body(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, 0);
    norder = 0;
    tl_task *a = tl_create_task(acquire_only, (void *)1);
    tl_task *b = tl_create_task(acquire_only, (void *)2);
    tl_sleep(0);
    tl_task_cancel(a);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_semaphore_value(&sem), 0, "took nothing");
    tl_semaphore_release(&sem);
    cr_assert_eq(tl_await(b), 0);
    cr_assert_eq(norder, 1);
    cr_assert_eq(tl_semaphore_value(&sem), 0);
    tl_task_release(a);
    tl_task_release(b);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, cancelled_acquire_takes_no_permit)
{
    RUN(cancel_body, NULL);
}

static int race_body(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, 0);
    norder = 0;
    tl_task *a = tl_create_task(acquire_only, (void *)1);
    tl_task *b = tl_create_task(acquire_only, (void *)2);
    tl_sleep(0);
    tl_semaphore_release(&sem); /* handed to a, not yet run */
    tl_task_cancel(a);          /* so it goes on to b */
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_await(b), 0);
    cr_assert_eq(tl_semaphore_value(&sem), 0);

    tl_task *c = tl_create_task(acquire_only, (void *)3);
    tl_sleep(0);
    tl_semaphore_release(&sem);
    tl_task_cancel(c); /* nobody else waits: the permit returns to the value */
    cr_assert_eq(tl_semaphore_value(&sem), 1);
    cr_assert_eq(tl_await(c), TL_ECANCELED);
    cr_assert_eq(norder, 1);
    tl_task_release(a);
    tl_task_release(b);
    tl_task_release(c);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, wakeup_racing_cancel_passes_the_permit_on)
{
    RUN(race_body, NULL);
}

static int timeout_body(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, 0);
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_semaphore_acquire(&sem), TL_ETIMEDOUT, "a zero timeout at value 0");
    tl_timeout_exit(&s);
    tl_timeout_enter(&s, 0.02);
    cr_assert_eq(tl_semaphore_acquire(&sem), TL_ETIMEDOUT);
    tl_timeout_exit(&s);
    cr_assert_eq(tl_semaphore_value(&sem), 0);
    tl_semaphore_release(&sem);
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_semaphore_acquire(&sem), 0, "a permit is there: no waiting");
    tl_timeout_exit(&s);
    cr_assert_eq(tl_semaphore_value(&sem), 0);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, timeout_ends_a_wait_and_takes_nothing)
{
    RUN(timeout_body, NULL);
}

static int bounded_body(void *arg)
{
    (void)arg;
    cr_assert_eq(tl_semaphore_init_bounded(&sem, 2), 0);
    cr_assert_eq(tl_semaphore_release(&sem), TL_EINVAL, "over-release of a bounded semaphore");
    cr_assert_eq(tl_semaphore_value(&sem), 2, "and nothing changed");
    tl_semaphore_acquire(&sem);
    tl_semaphore_acquire(&sem);
    norder = 0;
    tl_task *a = tl_create_task(acquire_only, (void *)1);
    tl_sleep(0);
    cr_assert_eq(tl_semaphore_release(&sem), 0, "to the waiter");
    cr_assert_eq(tl_semaphore_release(&sem), 0);
    cr_assert_eq(tl_semaphore_value(&sem), 1);
    cr_assert_eq(tl_await(a), 0);
    cr_assert_eq(tl_semaphore_release(&sem), 0);
    cr_assert_eq(tl_semaphore_release(&sem), TL_EINVAL);
    cr_assert_eq(tl_semaphore_value(&sem), 2);
    tl_task_release(a);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, bounded_semaphore_over_release_is_einval)
{
    RUN(bounded_body, NULL);
}

static int running, most;

static int limited(void *arg)
{
    (void)arg;
    int rc = tl_semaphore_acquire(&sem);
    if (rc)
        return rc;
    if (++running > most)
        most = running;
    tl_sleep(0);
    tl_sleep(0);
    running--;
    return tl_semaphore_release(&sem);
}

static int limit_body(void *arg)
{
    (void)arg;
    tl_semaphore_init_bounded(&sem, 3);
    running = most = 0;
    tl_task *t[20];
    for (int i = 0; i < 20; i++)
        t[i] = tl_create_task(limited, NULL);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(tl_await(t[i]), 0);
        tl_task_release(t[i]);
    }
    cr_assert_eq(most, 3, "at most three at once, and three did run at once");
    cr_assert_eq(tl_semaphore_value(&sem), 3);
    tl_semaphore_destroy(&sem);
    return 0;
}

Test(semaphore, limits_how_many_tasks_run_at_once)
{
    RUN(limit_body, NULL);
}

static int destroy_busy_body(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, 0);
    tl_task *a = tl_create_task(acquire_only, NULL);
    tl_sleep(0);
    tl_semaphore_release(&sem); /* handed over, a has not run: still busy */
    tl_semaphore_destroy(&sem);
    tl_task_release(a);
    return 0;
}

static void child_destroy_busy(void *arg)
{
    (void)arg;
    tl_run(destroy_busy_body, NULL);
}

Test(semaphore, destroying_a_semaphore_with_waiters_aborts_with_a_message)
{
    char err[1024];
    int status = run_child(child_destroy_busy, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "tulip: fatal: tl_semaphore_destroy: semaphore"), "stderr: %s",
                       err);
    cr_assert_not_null(strstr(err, "1 task(s) still wait on it"), "stderr: %s", err);
}
