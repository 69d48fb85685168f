/* Generators: values handed out one at a time, the end, errors, closing a
 * suspended generator, and consumers that are cancelled while they wait. */
#include <signal.h>

#include "ctx/alloc.h"
#include "util.h"

typedef struct counter {
    int stop;
    double delay;
    int reached;     /* the last value the body got past the yield of */
    int yield_rc;    /* what the last tl_gen_yield returned */
    int end_result;  /* returned at the end */
    int close_error; /* returned when a yield says TL_ECANCELED */
} counter;

static int count(tl_gen *g, void *arg)
{
    counter *c = arg;
    c->reached = -1;
    for (intptr_t i = 0; i < c->stop; i++) {
        int rc = tl_sleep(c->delay);
        if (rc < 0)
            return rc;
        c->yield_rc = tl_gen_yield(g, (void *)i);
        if (c->yield_rc < 0)
            return c->close_error ? c->close_error : c->yield_rc;
        c->reached = (int)i;
    }
    return c->end_result;
}

static int yields_values_then_eof_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 3, .delay = 0.02};
    tl_gen *g = tl_gen_new(count, &c);
    void *v;
    double t0 = tl_time();
    for (intptr_t i = 0; i < 3; i++) {
        cr_assert_eq(tl_gen_next(g, &v), 0);
        cr_assert_eq((intptr_t)v, i);
        ASSERT_ELAPSED(t0, 0.02 * (double)(i + 1));
    }
    cr_assert_eq(tl_gen_next(g, &v), TL_EOF);
    cr_assert_eq(tl_gen_next(g, &v), TL_EOF, "the end is the end, every time");
    cr_assert_eq(tl_gen_close(g), 0);
    return 0;
}

Test(gen, yields_values_one_at_a_time_then_eof)
{
    RUN(yields_values_then_eof_body, NULL);
}

static int body_does_not_start_before_next_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 3, .reached = 99};
    tl_gen *g = tl_gen_new(count, &c);
    tl_sleep(0.01);
    cr_assert_eq(c.reached, 99, "nothing runs until the first next");
    cr_assert_eq(tl_gen_close(g), 0);
    cr_assert_eq(c.reached, 99, "closing an unstarted generator runs nothing");
    return 0;
}

Test(gen, body_starts_at_first_next_and_never_if_closed_first)
{
    RUN(body_does_not_start_before_next_body, NULL);
}

static int error_goes_to_next_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 1, .end_result = TL_EPROTO};
    tl_gen *g = tl_gen_new(count, &c);
    void *v;
    cr_assert_eq(tl_gen_next(g, &v), 0);
    cr_assert_eq(tl_gen_next(g, &v), TL_EPROTO, "the generator's error comes out of next");
    cr_assert_eq(tl_gen_next(g, &v), TL_EOF, "then the end");
    cr_assert_eq(tl_gen_close(g), 0);
    return 0;
}

Test(gen, error_returned_by_the_generator_goes_to_next)
{
    RUN(error_goes_to_next_body, NULL);
}

static int close_while_suspended_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 10};
    tl_gen *g = tl_gen_new(count, &c);
    void *v;
    cr_assert_eq(tl_gen_next(g, &v), 0);
    cr_assert_eq(tl_gen_next(g, &v), 0);
    cr_assert_eq(c.reached, 0, "suspended in the yield of value 1");
    cr_assert_eq(tl_gen_close(g), 0);
    cr_assert_eq(c.yield_rc, TL_ECANCELED, "the pending yield returned TL_ECANCELED");
    cr_assert_eq(c.reached, 0, "and the body ran no further");
    return 0;
}

Test(gen, close_while_suspended_stops_at_the_pending_yield)
{
    RUN(close_while_suspended_body, NULL);
}

static int close_returns_cleanup_error_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 10, .close_error = TL_EIO};
    tl_gen *g = tl_gen_new(count, &c);
    void *v;
    cr_assert_eq(tl_gen_next(g, &v), 0);
    cr_assert_eq(tl_gen_close(g), TL_EIO);
    return 0;
}

Test(gen, close_returns_an_error_the_generator_returned_on_closing)
{
    RUN(close_returns_cleanup_error_body, NULL);
}

typedef struct consumer {
    tl_gen *g;
    int rc;
} consumer;

static int run_next(void *arg)
{
    consumer *c = arg;
    void *v;
    c->rc = tl_gen_next(c->g, &v);
    return 0;
}

static int consumer_cancelled_while_waiting_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 3, .delay = 10};
    consumer k = {.g = tl_gen_new(count, &c)};
    tl_task *t = tl_create_task(run_next, &k);
    tl_sleep(0.01);
    cr_assert_eq(tl_gen_next(k.g, NULL), TL_EBUSY, "one consumer at a time");
    tl_task_cancel(t);
    tl_await(t);
    cr_assert_eq(k.rc, TL_ECANCELED);
    cr_assert_eq(c.reached, -1, "the generator's own wait was cancelled: no value was made");
    void *v;
    cr_assert_eq(tl_gen_next(k.g, &v), TL_EOF, "a generator ended by cancellation is over");
    cr_assert_eq(tl_gen_close(k.g), 0);
    tl_task_release(t);
    return 0;
}

Test(gen, consumer_cancelled_while_waiting_for_the_next_value)
{
    RUN(consumer_cancelled_while_waiting_body, NULL);
}

static int timeout_around_next_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 3, .delay = 10};
    tl_gen *g = tl_gen_new(count, &c);
    tl_timeout s;
    tl_timeout_enter(&s, 0.01);
    cr_assert_eq(tl_gen_next(g, NULL), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert_eq(tl_gen_close(g), 0);
    return 0;
}

Test(gen, timeout_scope_around_next)
{
    RUN(timeout_around_next_body, NULL);
}

static int many_values_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 100000};
    tl_gen *g = tl_gen_new(count, &c);
    void *v;
    intptr_t sum = 0;
    int rc;
    while ((rc = tl_gen_next(g, &v)) == 0)
        sum += (intptr_t)v;
    cr_assert_eq(rc, TL_EOF);
    cr_assert_eq(sum, (intptr_t)100000 * 99999 / 2);
    cr_assert_eq(tl_gen_close(g), 0);
    return 0;
}

Test(gen, a_hundred_thousand_values)
{
    RUN(many_values_body, NULL);
}

static int enomem_at_first_next_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 1};
    tl_gen *g = tl_gen_new(count, &c);
    tl__fault_arm(1);
    int rc = tl_gen_next(g, NULL);
    tl__fault_arm(0);
    cr_assert_eq(rc, TL_ENOMEM);
    cr_assert_eq(tl_gen_next(g, NULL), 0, "a later next starts it");
    cr_assert_eq(tl_gen_close(g), 0);
    return 0;
}

Test(gen, enomem_at_the_first_next_can_be_retried)
{
    RUN(enomem_at_first_next_body, NULL);
}

static int yield_outside(void *arg)
{
    (void)arg;
    counter c = {.stop = 1};
    tl_gen *g = tl_gen_new(count, &c);
    return tl_gen_yield(g, NULL);
}

static void yield_outside_child(void *arg)
{
    (void)arg;
    tl_run(yield_outside, NULL);
}

Test(gen, yield_outside_the_generator_aborts_with_a_message)
{
    char err[512];
    int st = run_child(yield_outside_child, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    cr_assert(strstr(err, "tl_gen_yield"), "got: %s", err);
}

static int yield_in_shield(tl_gen *g, void *arg)
{
    int *after = arg;
    tl_shield_enter();
    int rc = 0;
    for (intptr_t i = 0; rc == 0; i++)
        rc = tl_gen_yield(g, (void *)i);
    int again = tl_gen_yield(g, NULL);
    tl_shield_exit();
    *after = again;
    return rc;
}

static int close_reaches_a_shielded_yield_body(void *arg)
{
    (void)arg;
    int after = 0;
    tl_gen *g = tl_gen_new(yield_in_shield, &after);
    cr_assert_eq(tl_gen_next(g, NULL), 0);
    cr_assert_eq(tl_gen_close(g), 0, "closed although it yields inside a shield");
    cr_assert_eq(after, TL_ECANCELED, "every yield after close returns TL_ECANCELED");
    return 0;
}

Test(gen, close_reaches_a_yield_inside_a_shield)
{
    RUN(close_reaches_a_shielded_yield_body, NULL);
}

static int cleanup_error_after_cancelled_consumer_body(void *arg)
{
    (void)arg;
    counter c = {.stop = 3, .delay = 10};
    consumer k = {.g = tl_gen_new(count, &c)};
    tl_task *t = tl_create_task(run_next, &k);
    tl_sleep(0.01);
    tl_task_cancel(t);
    tl_await(t);
    cr_assert_eq(k.rc, TL_ECANCELED);
    cr_assert_eq(tl_gen_close(k.g), 0, "a generator that ended cancelled closes cleanly");
    tl_task_release(t);
    return 0;
}

Test(gen, generator_ended_by_its_consumers_cancellation_closes_cleanly)
{
    RUN(cleanup_error_after_cancelled_consumer_body, NULL);
}

static int fail_on_cancel(tl_gen *g, void *arg)
{
    (void)g;
    (void)arg;
    tl_sleep(10);
    return TL_EIO;
}

static int cleanup_error_reaches_close_body(void *arg)
{
    (void)arg;
    consumer k = {.g = tl_gen_new(fail_on_cancel, NULL)};
    tl_task *t = tl_create_task(run_next, &k);
    tl_sleep(0.01);
    tl_task_cancel(t);
    tl_await(t);
    cr_assert_eq(k.rc, TL_ECANCELED);
    cr_assert_eq(tl_gen_close(k.g), TL_EIO, "the error it returned on the way out is not lost");
    tl_task_release(t);
    return 0;
}

Test(gen, error_returned_while_the_consumer_is_cancelled_reaches_close)
{
    RUN(cleanup_error_reaches_close_body, NULL);
}
