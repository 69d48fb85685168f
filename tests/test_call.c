/* Plain callbacks: call_soon, call_later, call_at, cancellation of handles,
 * and call_soon_threadsafe from another thread. */
#include <math.h>
#include <pthread.h>

#include "util.h"

static char log_buf[32];
static int nlog;

static void put(void *arg)
{
    log_buf[nlog++] = (char)(intptr_t)arg;
}

static int soon_runs_in_order_body(void *arg)
{
    (void)arg;
    nlog = 0;
    tl_call_soon(put, (void *)'a');
    tl_handle *h = tl_call_soon(put, (void *)'b');
    tl_call_soon(put, (void *)'c');
    tl_handle_cancel(h);
    cr_assert_eq(nlog, 0);
    tl_sleep(0);
    log_buf[nlog] = 0;
    cr_assert_str_eq(log_buf, "ac");
    return 0;
}

Test(call, call_soon_runs_in_fifo_order_and_cancel_skips)
{
    RUN(soon_runs_in_order_body, NULL);
}

static int later_and_at_body(void *arg)
{
    (void)arg;
    nlog = 0;
    double t0 = tl_time();
    tl_call_later(0.06, put, (void *)'3');
    tl_call_at(t0 + 0.02, put, (void *)'1');
    tl_call_later(0.04, put, (void *)'2');
    tl_handle *h = tl_call_later(0.03, put, (void *)'x');
    tl_handle_cancel(h);
    cr_assert_null(tl_call_later(NAN, put, NULL));
    tl_sleep(0.1);
    log_buf[nlog] = 0;
    cr_assert_str_eq(log_buf, "123");
    return 0;
}

Test(call, call_later_and_call_at_fire_in_time_order)
{
    RUN(later_and_at_body, NULL);
}

static void cancel_self(void *arg)
{
    tl_handle **h = arg;
    tl_handle_cancel(*h); /* cancelling a running handle changes nothing */
    nlog++;
}

static int cancel_inside_callback_body(void *arg)
{
    (void)arg;
    nlog = 0;
    static tl_handle *h;
    h = tl_call_soon(cancel_self, &h);
    tl_sleep(0);
    cr_assert_eq(nlog, 1);
    return 0;
}

Test(call, a_callback_may_cancel_its_own_handle)
{
    RUN(cancel_inside_callback_body, NULL);
}

static int pending_at_close(void *arg)
{
    (void)arg;
    tl_call_later(100, put, NULL);
    tl_call_soon(put, NULL);
    return 0;
}

Test(call, pending_handles_are_freed_when_the_loop_closes)
{
    /* LeakSanitizer fails the sanitizer run if they are not. */
    cr_assert_eq(tl_run(pending_at_close, NULL), 0);
}

/* ---- from another thread ---- */

struct ts {
    tl_loop *loop;
    tl_future *f;
    int sum;
};

static void add_one(void *arg)
{
    struct ts *s = arg;
    if (++s->sum == 1000)
        tl_future_set_result(s->f, s->sum);
}

static void *hammer(void *arg)
{
    struct ts *s = arg;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(tl_call_soon_threadsafe(s->loop, add_one, s), 0);
    return NULL;
}

static int threadsafe_body(void *arg)
{
    struct ts *s = arg;
    s->loop = tl_loop_current();
    s->f = tl_future_new();
    pthread_t th;
    pthread_create(&th, NULL, hammer, s);
    tl_timeout to;
    tl_timeout_enter(&to, 10);
    int r = tl_future_await(s->f);
    tl_timeout_exit(&to);
    pthread_join(th, NULL);
    tl_future_release(s->f);
    return r == 1000 ? 0 : -1;
}

Test(call, call_soon_threadsafe_from_another_thread)
{
    struct ts s = {0};
    RUN(threadsafe_body, &s);
    cr_assert_eq(s.sum, 1000);
}
