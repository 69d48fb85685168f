/* tl_barrier: trips, arrival indexes, rounds, abort and reset, cancellation. */
#include <signal.h>

#include "util.h"

static tl_barrier bar;

static int waiter(void *arg)
{
    (void)arg;
    return tl_barrier_wait(&bar);
}

static int init_body(void *arg)
{
    (void)arg;
    cr_assert_eq(tl_barrier_init(&bar, 0), TL_EINVAL);
    cr_assert_eq(tl_barrier_init(&bar, -2), TL_EINVAL);
    cr_assert_eq(tl_barrier_init(&bar, 1), 0);
    cr_assert_eq(tl_barrier_parties(&bar), 1);
    cr_assert_eq(tl_barrier_wait(&bar), 0, "one party: passes at once");
    cr_assert_eq(tl_barrier_wait(&bar), 0);
    cr_assert_eq(tl_barrier_n_waiting(&bar), 0);
    cr_assert_not(tl_barrier_broken(&bar));
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, parties_below_one_is_einval_and_one_party_passes_at_once)
{
    RUN(init_body, NULL);
}

static int trip_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 3);
    for (int round = 0; round < 3; round++) {
        tl_task *a = tl_create_task(waiter, NULL);
        tl_task *b = tl_create_task(waiter, NULL);
        tl_sleep(0);
        cr_assert_eq(tl_barrier_n_waiting(&bar), 2);
        cr_assert_not(tl_task_done(a), "nobody passes before the last party arrives");
        cr_assert_eq(tl_barrier_wait(&bar), 2, "the last to arrive");
        cr_assert_eq(tl_barrier_n_waiting(&bar), 0, "empty again for the next round");
        cr_assert_eq(tl_await(a), 0, "indexes follow arrival");
        cr_assert_eq(tl_await(b), 1);
        tl_task_release(a);
        tl_task_release(b);
    }
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, last_arrival_releases_everyone_with_arrival_indexes_round_after_round)
{
    RUN(trip_body, NULL);
}

static int abort_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 3);
    tl_task *a = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_barrier_abort(&bar);
    cr_assert(tl_barrier_broken(&bar));
    cr_assert_eq(tl_await(a), TL_EPIPE, "a waiter of a broken barrier");
    cr_assert_eq(tl_barrier_wait(&bar), TL_EPIPE, "and every later wait");
    cr_assert_eq(tl_barrier_n_waiting(&bar), 0);
    tl_barrier_reset(&bar);
    cr_assert_not(tl_barrier_broken(&bar), "reset mends it");
    tl_task *b = tl_create_task(waiter, NULL);
    tl_task *c = tl_create_task(waiter, NULL);
    tl_sleep(0);
    cr_assert_eq(tl_barrier_wait(&bar), 2);
    cr_assert_eq(tl_await(b), 0);
    cr_assert_eq(tl_await(c), 1);
    tl_task_release(a);
    tl_task_release(b);
    tl_task_release(c);
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, abort_fails_waiters_and_later_waits_with_epipe_until_reset)
{
    RUN(abort_body, NULL);
}

static int reset_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 3);
    tl_task *a = tl_create_task(waiter, NULL);
    tl_task *b = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_barrier_reset(&bar);
    cr_assert_eq(tl_await(a), TL_EPIPE);
    cr_assert_eq(tl_await(b), TL_EPIPE);
    cr_assert_not(tl_barrier_broken(&bar));
    cr_assert_eq(tl_barrier_n_waiting(&bar), 0);
    tl_task *c = tl_create_task(waiter, NULL);
    tl_task *d = tl_create_task(waiter, NULL);
    tl_sleep(0);
    cr_assert_eq(tl_barrier_wait(&bar), 2, "a fresh round");
    cr_assert_eq(tl_await(c), 0);
    cr_assert_eq(tl_await(d), 1);
    tl_task_release(a);
    tl_task_release(b);
    tl_task_release(c);
    tl_task_release(d);
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, reset_fails_the_waiters_with_epipe_and_starts_a_fresh_round)
{
    RUN(reset_body, NULL);
}

static int cancel_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 3);
    tl_task *a = tl_create_task(waiter, NULL);
    tl_task *b = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_task_cancel(a);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_barrier_n_waiting(&bar), 1, "the cancelled party left");
    tl_task *c = tl_create_task(waiter, NULL);
    tl_sleep(0);
    cr_assert_eq(tl_barrier_n_waiting(&bar), 2);
    cr_assert_not(tl_task_done(b), "two of three: still waiting");
    cr_assert_eq(tl_barrier_wait(&bar), 2);
    cr_assert_eq(tl_await(b), 0, "indexes stay 0..parties-1");
    cr_assert_eq(tl_await(c), 1);
    tl_task_release(a);
    tl_task_release(b);
    tl_task_release(c);
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, cancelled_waiter_leaves_the_barrier_and_indexes_stay_unique)
{
    RUN(cancel_body, NULL);
}

static int waiter_in_scope(void *arg)
{
    tl_timeout s;
    tl_timeout_enter(&s, *(double *)arg);
    int rc = tl_barrier_wait(&bar);
    tl_timeout_exit(&s);
    return rc;
}

static int timeout_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 2);
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_barrier_wait(&bar), TL_ETIMEDOUT);
    tl_timeout_exit(&s);
    cr_assert_eq(tl_barrier_n_waiting(&bar), 0, "the timed-out wait did not count");

    double secs = 0.02;
    tl_task *a = tl_create_task(waiter_in_scope, &secs);
    cr_assert_eq(tl_await(a), TL_ETIMEDOUT);
    cr_assert_eq(tl_barrier_n_waiting(&bar), 0);

    tl_task *b = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_barrier_wait(&bar), 1, "the last party does not wait");
    tl_timeout_exit(&s);
    cr_assert_eq(tl_await(b), 0);
    tl_task_release(a);
    tl_task_release(b);
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, timed_out_wait_leaves_the_barrier)
{
    RUN(timeout_body, NULL);
}

static int passed_then_cancelled(void *arg)
{
    (void)arg;
    int rc = tl_barrier_wait(&bar);
    cr_assert_eq(tl_sleep(0), TL_ECANCELED, "the cancel lands at the next suspension point");
    return rc;
}

static int race_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 2);
    tl_task *a = tl_create_task(passed_then_cancelled, NULL);
    tl_sleep(0);
    cr_assert_eq(tl_barrier_wait(&bar), 1);
    tl_task_cancel(a); /* released, not yet run: it passed the barrier all the same */
    cr_assert_eq(tl_await(a), 0);
    tl_task_release(a);
    tl_barrier_destroy(&bar);
    return 0;
}

Test(barrier, trip_racing_cancel_still_passes_the_barrier)
{
    RUN(race_body, NULL);
}

static int destroy_busy_body(void *arg)
{
    (void)arg;
    tl_barrier_init(&bar, 2);
    tl_task *a = tl_create_task(waiter, NULL);
    tl_sleep(0);
    tl_barrier_destroy(&bar);
    tl_task_release(a);
    return 0;
}

static void child_destroy_busy(void *arg)
{
    (void)arg;
    tl_run(destroy_busy_body, NULL);
}

Test(barrier, destroying_a_barrier_with_waiters_aborts_with_a_message)
{
    char err[1024];
    int status = run_child(child_destroy_busy, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "tulip: fatal: tl_barrier_destroy: barrier"), "stderr: %s", err);
}
