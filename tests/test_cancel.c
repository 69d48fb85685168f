/* Cancellation (sticky), shields, timeout scopes. */
#include <math.h>
#include <signal.h>

#include "util.h"

static int sleep_twice(void *arg)
{
    int *rc = arg;
    rc[0] = tl_sleep(10);
    rc[1] = tl_sleep(10); /* sticky: returns at once */
    rc[2] = tl_sleep(0);
    return rc[0];
}

static int cancellation_is_sticky_body(void *arg)
{
    (void)arg;
    int rc[3] = {1, 1, 1};
    tl_task *t = tl_create_task(sleep_twice, rc);
    tl_sleep(0.01);
    tl_task_cancel(t);
    double t0 = tl_time();
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    cr_assert_lt(elapsed_since(t0), 0.2);
    cr_assert_eq(rc[0], TL_ECANCELED);
    cr_assert_eq(rc[1], TL_ECANCELED);
    cr_assert_eq(rc[2], TL_ECANCELED);
    cr_assert(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(cancel, every_later_suspension_point_returns_ecanceled)
{
    RUN(cancellation_is_sticky_body, NULL);
}

static int ran;

static int mark_ran(void *arg)
{
    (void)arg;
    ran = 1;
    return 0;
}

static int cancel_before_start_body(void *arg)
{
    (void)arg;
    ran = 0;
    tl_task *t = tl_create_task(mark_ran, NULL);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    cr_assert_eq(ran, 0, "a task cancelled before it started never runs");
    tl_task_release(t);
    return 0;
}

Test(cancel, task_cancelled_before_start_never_runs)
{
    RUN(cancel_before_start_body, NULL);
}

static int cancel_done_is_noop_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(mark_ran, NULL);
    tl_await(t);
    tl_task_cancel(t);
    cr_assert_eq(tl_task_result(t), 0);
    cr_assert_not(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(cancel, cancelling_a_finished_task_changes_nothing)
{
    RUN(cancel_done_is_noop_body, NULL);
}

static int self_cancel(void *arg)
{
    (void)arg;
    tl_task_cancel(tl_current_task());
    return tl_sleep(0);
}

static int self_cancel_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(self_cancel, NULL);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    return 0;
}

Test(cancel, a_task_can_cancel_itself)
{
    RUN(self_cancel_body, NULL);
}

static int long_sleep(void *arg)
{
    (void)arg;
    return tl_sleep(10);
}

static int await_inner(void *arg)
{
    return tl_await(arg);
}

static int awaiting_propagates_body(void *arg)
{
    (void)arg;
    tl_task *inner = tl_create_task(long_sleep, NULL);
    tl_task *outer = tl_create_task(await_inner, inner);
    tl_sleep(0.01);
    tl_task_cancel(outer);
    cr_assert_eq(tl_await(outer), TL_ECANCELED);
    cr_assert_eq(tl_await(inner), TL_ECANCELED, "the awaited task is cancelled with its awaiter");
    tl_task_release(inner);
    tl_task_release(outer);
    return 0;
}

Test(cancel, cancelling_an_awaiter_cancels_the_awaited_task)
{
    RUN(awaiting_propagates_body, NULL);
}

static int shielded_cleanup(void *arg)
{
    int *rc = arg;
    rc[0] = tl_sleep(10); /* cancelled here */
    tl_shield_enter();
    rc[1] = tl_sleep(0.05); /* the cleanup's wait completes */
    rc[2] = tl_sleep(0);
    tl_shield_exit();
    rc[3] = tl_sleep(0); /* and cancellation takes effect again */
    return rc[0];
}

static int shield_body(void *arg)
{
    (void)arg;
    int rc[4] = {1, 1, 1, 1};
    tl_task *t = tl_create_task(shielded_cleanup, rc);
    tl_sleep(0.01);
    tl_task_cancel(t);
    tl_await(t);
    cr_assert_eq(rc[0], TL_ECANCELED);
    cr_assert_eq(rc[1], 0);
    cr_assert_eq(rc[2], 0);
    cr_assert_eq(rc[3], TL_ECANCELED);
    tl_task_release(t);
    return 0;
}

Test(cancel, shield_lets_cleanup_waits_complete)
{
    RUN(shield_body, NULL);
}

static int cancelled_inside_shield(void *arg)
{
    int *rc = arg;
    tl_shield_enter();
    rc[0] = tl_sleep(0.1);
    tl_shield_exit();
    rc[1] = tl_sleep(10);
    return 0;
}

static int cancel_inside_shield_body(void *arg)
{
    (void)arg;
    int rc[2] = {1, 1};
    tl_task *t = tl_create_task(cancelled_inside_shield, rc);
    tl_sleep(0.01);
    tl_task_cancel(t);
    double t0 = tl_time();
    tl_await(t);
    cr_assert_eq(rc[0], 0, "the shielded wait runs its full length");
    cr_assert_eq(rc[1], TL_ECANCELED, "the cancel lands at the first wait after the shield");
    cr_assert_geq(elapsed_since(t0), 0.08);
    tl_task_release(t);
    return 0;
}

Test(cancel, cancel_arriving_inside_shield_lands_after_it)
{
    RUN(cancel_inside_shield_body, NULL);
}

/* ---- timeout scopes ---- */

static int scope_times_out_body(void *arg)
{
    (void)arg;
    tl_timeout s;
    double t0 = tl_time();
    tl_timeout_enter(&s, 0.1);
    cr_assert_eq(tl_sleep(10), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.1);
    cr_assert(tl_timeout_expired(&s));
    cr_assert_eq(tl_sleep(10), TL_ETIMEDOUT, "sticky inside the scope");
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert_eq(tl_sleep(0.01), 0, "and over after it");
    return 0;
}

Test(timeout, scope_ends_waits_with_etimedout)
{
    RUN(scope_times_out_body, NULL);
}

static int scope_not_reached_body(void *arg)
{
    (void)arg;
    tl_timeout s;
    tl_timeout_enter(&s, 1);
    cr_assert_eq(tl_sleep(0.01), 0);
    cr_assert_not(tl_timeout_expired(&s));
    cr_assert_eq(tl_timeout_exit(&s), 0);
    /* The scope's timer is gone: nothing fires into a later wait. */
    cr_assert_eq(tl_sleep(0.02), 0);
    return 0;
}

Test(timeout, scope_left_in_time_returns_zero)
{
    RUN(scope_not_reached_body, NULL);
}

static int zero_and_infinite_body(void *arg)
{
    (void)arg;
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_sleep(0), TL_ETIMEDOUT, "a zero timeout ends the first wait");
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    tl_timeout_enter(&s, -5);
    cr_assert_eq(tl_sleep(1), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    tl_timeout_enter(&s, INFINITY);
    cr_assert(isinf(tl_timeout_when(&s)));
    cr_assert_eq(tl_sleep(0.01), 0);
    cr_assert_eq(tl_timeout_exit(&s), 0);
    return 0;
}

Test(timeout, zero_negative_and_infinite_scopes)
{
    RUN(zero_and_infinite_body, NULL);
}

static int nested_earliest_wins_body(void *arg)
{
    (void)arg;
    tl_timeout outer, inner;
    double t0 = tl_time();
    tl_timeout_enter(&outer, 0.1);
    tl_timeout_enter(&inner, 5);
    cr_assert_eq(tl_sleep(10), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.1);
    cr_assert_eq(tl_timeout_exit(&inner), 0, "the inner scope's own deadline did not pass");
    cr_assert_eq(tl_timeout_exit(&outer), TL_ETIMEDOUT);

    t0 = tl_time();
    tl_timeout_enter(&outer, 5);
    tl_timeout_enter(&inner, 0.05);
    cr_assert_eq(tl_sleep(10), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&inner), TL_ETIMEDOUT);
    cr_assert_eq(tl_sleep(0.01), 0, "the outer scope has time left");
    cr_assert_eq(tl_timeout_exit(&outer), 0);
    ASSERT_ELAPSED(t0, 0.06);
    return 0;
}

Test(timeout, nested_scopes_earliest_deadline_wins)
{
    RUN(nested_earliest_wins_body, NULL);
}

static int reschedule_body(void *arg)
{
    (void)arg;
    tl_timeout s;
    double t0 = tl_time();
    tl_timeout_enter(&s, 10);
    tl_timeout_reschedule(&s, tl_time() + 0.05);
    cr_assert_eq(tl_sleep(10), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.05);
    tl_timeout_exit(&s);

    tl_timeout_enter(&s, 0.05);
    tl_timeout_reschedule(&s, INFINITY);
    cr_assert_eq(tl_sleep(0.1), 0, "a scope moved to infinity never fires");
    cr_assert_eq(tl_timeout_exit(&s), 0);
    return 0;
}

Test(timeout, reschedule_moves_the_deadline)
{
    RUN(reschedule_body, NULL);
}

static int timeout_on_await_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(long_sleep, NULL);
    tl_timeout s;
    tl_timeout_enter(&s, 0.05);
    cr_assert_eq(tl_await(t), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert_eq(tl_await(t), TL_ECANCELED, "a timed-out await cancels the awaited task");
    tl_task_release(t);
    return 0;
}

Test(timeout, timeout_on_await_cancels_the_awaited_task)
{
    RUN(timeout_on_await_body, NULL);
}

static int shield_hides_outer_scope_body(void *arg)
{
    (void)arg;
    tl_timeout s, in;
    tl_timeout_enter(&s, 0.02);
    tl_shield_enter();
    cr_assert_eq(tl_sleep(0.06), 0, "an outer scope does not end shielded waits");
    tl_timeout_enter(&in, 0.02);
    cr_assert_eq(tl_sleep(1), TL_ETIMEDOUT, "a scope entered inside the shield does");
    cr_assert_eq(tl_timeout_exit(&in), TL_ETIMEDOUT);
    tl_shield_exit();
    cr_assert_eq(tl_sleep(0), TL_ETIMEDOUT, "after the shield the outer scope applies");
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    return 0;
}

Test(timeout, shield_hides_outer_scopes_not_inner_ones)
{
    RUN(shield_hides_outer_scope_body, NULL);
}

static int cancel_beats_timeout_body(void *arg)
{
    (void)arg;
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    tl_task_cancel(tl_current_task());
    cr_assert_eq(tl_sleep(1), TL_ECANCELED, "cancellation wins over an expired scope");
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    return 0;
}

Test(timeout, cancellation_has_priority_over_timeout)
{
    cr_assert_eq(tl_run(cancel_beats_timeout_body, NULL), 0);
}

static int scope_left_open(void *arg)
{
    (void)arg;
    static tl_timeout s;
    tl_timeout_enter(&s, 1);
    return 0;
}

Test(timeout, returning_inside_a_scope_aborts, .signal = SIGABRT)
{
    tl_run(scope_left_open, NULL);
}

static int out_of_order(void *arg)
{
    (void)arg;
    tl_timeout a, b;
    tl_timeout_enter(&a, 1);
    tl_timeout_enter(&b, 1);
    tl_timeout_exit(&a);
    return 0;
}

Test(timeout, exiting_scopes_out_of_order_aborts, .signal = SIGABRT)
{
    tl_run(out_of_order, NULL);
}
