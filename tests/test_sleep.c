/* tl_sleep and the timer heap: durations, FIFO order of yields and of equal
 * deadlines, many timers at once. */
#include <math.h>

#include "util.h"

static int sleep_takes_its_time_body(void *arg)
{
    (void)arg;
    double t0 = tl_time();
    cr_assert_eq(tl_sleep(0.2), 0);
    ASSERT_ELAPSED(t0, 0.2);
    return 0;
}

Test(sleep, sleep_takes_its_time)
{
    RUN(sleep_takes_its_time_body, NULL);
}

static char seq[64];
static int nseq;

static int yielder(void *arg)
{
    char c = (char)(intptr_t)arg;
    for (int i = 0; i < 3; i++) {
        seq[nseq++] = c;
        cr_assert_eq(tl_sleep(0), 0);
    }
    return 0;
}

static int sleep_zero_yields_fifo_body(void *arg)
{
    (void)arg;
    nseq = 0;
    tl_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = tl_create_task(yielder, (void *)(intptr_t)('a' + i));
    for (int i = 0; i < 3; i++) {
        tl_await(t[i]);
        tl_task_release(t[i]);
    }
    seq[nseq] = 0;
    cr_assert_str_eq(seq, "abcabcabc");
    return 0;
}

Test(sleep, sleep_zero_lets_every_ready_task_run_once_in_fifo_order)
{
    RUN(sleep_zero_yields_fifo_body, NULL);
}

static int negative_and_nan_body(void *arg)
{
    (void)arg;
    cr_assert_eq(tl_sleep(-1), 0, "a negative sleep is a yield");
    cr_assert_eq(tl_sleep(NAN), TL_EINVAL);
    return 0;
}

Test(sleep, negative_is_a_yield_and_nan_is_einval)
{
    RUN(negative_and_nan_body, NULL);
}

static int wake_order[8];
static int nwake;

static int sleep_then_note(void *arg)
{
    int i = (int)(intptr_t)arg;
    tl_sleep(0.05 * (i % 3 + 1));
    wake_order[nwake++] = i;
    return 0;
}

static int timers_fire_in_deadline_order_body(void *arg)
{
    (void)arg;
    nwake = 0;
    tl_task *t[6];
    for (int i = 0; i < 6; i++)
        t[i] = tl_create_task(sleep_then_note, (void *)(intptr_t)i);
    for (int i = 0; i < 6; i++) {
        tl_await(t[i]);
        tl_task_release(t[i]);
    }
    /* Deadlines 1,2,3,1,2,3 (x 50 ms): equal deadlines keep creation order. */
    int want[6] = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(wake_order[i], want[i], "position %d", i);
    return 0;
}

Test(sleep, timers_fire_in_deadline_order_and_fifo_among_equals)
{
    RUN(timers_fire_in_deadline_order_body, NULL);
}

static int ret_index_after_sleep(void *arg)
{
    int rc = tl_sleep(0.3);
    return rc < 0 ? rc : (int)(intptr_t)arg;
}

static int early_wakes;

static int sleep_and_time_it(void *arg)
{
    double t0 = tl_time();
    int rc = tl_sleep(0.3);
    if (tl_time() - t0 < 0.3 - 0.002)
        early_wakes++;
    return rc < 0 ? rc : (int)(intptr_t)arg;
}

static int many_sleepers_body(void *arg)
{
    (void)arg;
    enum { N = 20000 };
    static tl_task *t[N];
    early_wakes = 0;
    for (int i = 0; i < N; i++)
        cr_assert_not_null(t[i] = tl_create_task(sleep_and_time_it, (void *)(intptr_t)i));
    /* Measured from here: creating 20,000 stacks costs page faults, which
     * a loaded machine makes slow; sleeping together is the point. */
    double t0 = tl_time();
    for (int i = 0; i < N; i++) {
        cr_assert_eq(tl_await(t[i]), i);
        tl_task_release(t[i]);
    }
    cr_assert_eq(early_wakes, 0, "no sleeper wakes before its time");
    cr_assert_lt(elapsed_since(t0), 0.3 + 4 * TOL, "they sleep together, not one after another");
    return 0;
}

Test(sleep, twenty_thousand_sleepers_wake_together)
{
    RUN(many_sleepers_body, NULL);
}

static int cancel_removes_timer_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(ret_index_after_sleep, (void *)1);
    tl_sleep(0.01);
    tl_task_cancel(t);
    double t0 = tl_time();
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    cr_assert_lt(elapsed_since(t0), 0.2, "cancel must end the sleep at once");
    cr_assert(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(sleep, cancelling_a_sleeper_ends_its_sleep_at_once)
{
    RUN(cancel_removes_timer_body, NULL);
}
