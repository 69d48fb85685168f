/* Task groups: every child waited for, the first failure cancels the rest,
 * cancelling the waiter cancels the children, groups nest. */
#include <signal.h>

#include "ctx/alloc.h"
#include "util.h"

typedef struct job {
    double delay;
    int result;
    int cleanup_result; /* returned instead when cancelled, after a shielded pause */
    int *cleaned;
} job;

#define J(d, r)                     \
    {                               \
        .delay = (d), .result = (r) \
    }
#define JC(d, r, c, clean)                                                     \
    {                                                                          \
        .delay = (d), .result = (r), .cleanup_result = (c), .cleaned = (clean) \
    }

static int child(void *arg)
{
    job *j = arg;
    int rc = tl_sleep(j->delay);
    if (rc == 0)
        return j->result;
    if (j->cleaned) {
        tl_shield_enter();
        tl_sleep(0.02);
        tl_shield_exit();
        (*j->cleaned)++;
    }
    return j->cleanup_result ? j->cleanup_result : rc;
}

static int all_succeed_results_readable_after_body(void *arg)
{
    (void)arg;
    tl_group *g = tl_group_new();
    job jobs[3] = {J(0.02, 1), J(0.01, 2), J(0.03, 3)};
    tl_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = tl_group_spawn(g, child, &jobs[i]);
    double t0 = tl_time();
    cr_assert_eq(tl_group_wait(g), 0);
    ASSERT_ELAPSED(t0, 0.03);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(tl_task_result(t[i]), i + 1);
    cr_assert_eq(tl_group_wait(g), 0, "waiting again returns at once");
    tl_group_free(g);
    tl_group *empty = tl_group_new();
    cr_assert_eq(tl_group_wait(empty), 0);
    tl_group_free(empty);
    return 0;
}

Test(group, all_succeed_and_results_are_readable_after_wait)
{
    RUN(all_succeed_results_readable_after_body, NULL);
}

static int failure_cancels_siblings_and_waits_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    tl_group *g = tl_group_new();
    job fail = J(0.01, TL_EPIPE);
    job slow = JC(10, 1, 0, &cleaned);
    tl_task *a = tl_group_spawn(g, child, &slow);
    tl_group_spawn(g, child, &fail);
    tl_task *b = tl_group_spawn(g, child, &slow);
    double t0 = tl_time();
    cr_assert_eq(tl_group_wait(g), TL_EPIPE);
    ASSERT_ELAPSED(t0, 0.03);
    cr_assert_eq(cleaned, 2, "wait returned after the cancelled siblings finished");
    cr_assert(tl_task_cancelled(a) && tl_task_cancelled(b));
    tl_group_free(g);
    return 0;
}

Test(group, failing_child_cancels_siblings_and_wait_waits_for_all)
{
    RUN(failure_cancels_siblings_and_waits_body, NULL);
}

static int failure_before_wait_body(void *arg)
{
    (void)arg;
    tl_group *g = tl_group_new();
    job fail = J(0, TL_ENOENT), slow = J(10, 1);
    tl_task *s = tl_group_spawn(g, child, &slow);
    tl_group_spawn(g, child, &fail);
    tl_sleep(0.01);
    cr_assert(tl_task_cancelled(s), "siblings are cancelled as soon as one fails");
    int ran = 0;
    job late = JC(0, 5, 0, &ran);
    tl_task *l = tl_group_spawn(g, child, &late);
    cr_assert_not_null(l);
    cr_assert_eq(tl_group_wait(g), TL_ENOENT);
    cr_assert(tl_task_cancelled(l), "a child spawned into a failed group never runs");
    cr_assert_eq(ran, 0);
    tl_group_free(g);
    return 0;
}

Test(group, failure_before_wait_and_spawn_after_failure)
{
    RUN(failure_before_wait_body, NULL);
}

static int cancelled_child_is_not_a_failure_body(void *arg)
{
    (void)arg;
    tl_group *g = tl_group_new();
    job slow = J(10, 1), quick = J(0.02, 2);
    tl_task *s = tl_group_spawn(g, child, &slow);
    tl_task *q = tl_group_spawn(g, child, &quick);
    tl_sleep(0);
    tl_task_cancel(s);
    cr_assert_eq(tl_group_wait(g), 0);
    cr_assert_eq(tl_task_result(q), 2, "the sibling of a cancelled child runs on");
    tl_group_free(g);
    return 0;
}

Test(group, a_cancelled_child_is_not_a_failure)
{
    RUN(cancelled_child_is_not_a_failure_body, NULL);
}

typedef struct group_waiter {
    tl_group *g;
    int rc;
} group_waiter;

static int run_group_wait(void *arg)
{
    group_waiter *w = arg;
    w->rc = tl_group_wait(w->g);
    return 0;
}

static int cancelled_waiter_cancels_children_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    group_waiter w = {.g = tl_group_new()};
    job slow = JC(10, 1, 0, &cleaned);
    tl_task *c[2] = {tl_group_spawn(w.g, child, &slow), tl_group_spawn(w.g, child, &slow)};
    tl_task *wt = tl_create_task(run_group_wait, &w);
    tl_sleep(0.01);
    cr_assert_eq(tl_group_wait(w.g), TL_EBUSY, "one waiter at a time");
    tl_task_cancel(wt);
    tl_await(wt);
    cr_assert_eq(w.rc, TL_ECANCELED);
    cr_assert_eq(cleaned, 2, "the waiter returned after its children finished");
    cr_assert(tl_task_cancelled(c[0]) && tl_task_cancelled(c[1]));
    tl_task_release(wt);
    tl_group_free(w.g);
    return 0;
}

Test(group, cancelled_waiter_cancels_children_and_waits)
{
    RUN(cancelled_waiter_cancels_children_body, NULL);
}

static int child_failing_during_cancellation_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    group_waiter w = {.g = tl_group_new()};
    job bad_cleanup = JC(10, 1, TL_EIO, &cleaned);
    tl_group_spawn(w.g, child, &bad_cleanup);
    tl_task *wt = tl_create_task(run_group_wait, &w);
    tl_sleep(0.01);
    tl_task_cancel(wt);
    tl_await(wt);
    cr_assert_eq(w.rc, TL_EIO, "a child's error outranks the cancellation, as in asyncio");
    tl_task_release(wt);
    tl_group_free(w.g);
    return 0;
}

Test(group, child_failing_while_the_group_is_cancelled)
{
    RUN(child_failing_during_cancellation_body, NULL);
}

static int timeout_scope_around_wait_body(void *arg)
{
    (void)arg;
    tl_group *g = tl_group_new();
    job slow = J(10, 1);
    tl_task *c = tl_group_spawn(g, child, &slow);
    tl_timeout s;
    tl_timeout_enter(&s, 0.02);
    cr_assert_eq(tl_group_wait(g), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    cr_assert(tl_task_cancelled(c));
    tl_group_free(g);
    return 0;
}

Test(group, timeout_scope_around_wait_cancels_children)
{
    RUN(timeout_scope_around_wait_body, NULL);
}

/* ---- nesting ---- */

typedef struct nest {
    job *inner_jobs;
    int ninner;
} nest;

static int inner_group(void *arg)
{
    nest *n = arg;
    tl_group *g = tl_group_new();
    if (!g)
        return TL_ENOMEM;
    for (int i = 0; i < n->ninner; i++)
        tl_group_spawn(g, child, &n->inner_jobs[i]);
    int rc = tl_group_wait(g);
    tl_group_free(g);
    return rc;
}

static int nested_failure_propagates_out_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    job inner[2] = {J(0.01, TL_EPIPE), JC(10, 1, 0, &cleaned)};
    nest n = {inner, 2};
    job outer_sibling = JC(10, 1, 0, &cleaned);
    tl_group *g = tl_group_new();
    tl_group_spawn(g, inner_group, &n);
    tl_task *sib = tl_group_spawn(g, child, &outer_sibling);
    cr_assert_eq(tl_group_wait(g), TL_EPIPE, "the inner failure fails the outer group");
    cr_assert_eq(cleaned, 2, "the inner sibling and the outer sibling were cancelled");
    cr_assert(tl_task_cancelled(sib));
    tl_group_free(g);
    return 0;
}

Test(group, nested_failure_propagates_out)
{
    RUN(nested_failure_propagates_out_body, NULL);
}

static int nested_cancel_reaches_grandchildren_body(void *arg)
{
    (void)arg;
    int cleaned = 0;
    job inner[2] = {JC(10, 1, 0, &cleaned), JC(10, 1, 0, &cleaned)};
    nest n = {inner, 2};
    group_waiter w = {.g = tl_group_new()};
    tl_task *mid = tl_group_spawn(w.g, inner_group, &n);
    tl_task *wt = tl_create_task(run_group_wait, &w);
    tl_sleep(0.01);
    tl_task_cancel(wt);
    tl_await(wt);
    cr_assert_eq(w.rc, TL_ECANCELED);
    cr_assert_eq(cleaned, 2, "grandchildren were cancelled and finished first");
    cr_assert(tl_task_cancelled(mid));
    tl_task_release(wt);
    tl_group_free(w.g);
    return 0;
}

Test(group, cancelling_the_outer_waiter_reaches_grandchildren)
{
    RUN(nested_cancel_reaches_grandchildren_body, NULL);
}

static int free_with_running_children_body(void *arg)
{
    (void)arg;
    long live = tl__alloc_live();
    int cleaned = 0;
    tl_group *g = tl_group_new();
    job slow = JC(10, 1, 0, &cleaned);
    tl_task *c = tl_task_retain(tl_group_spawn(g, child, &slow));
    tl_sleep(0);
    tl_group_free(g);
    cr_assert_eq(tl_await(c), TL_ECANCELED, "freeing the group cancelled its child");
    cr_assert_eq(cleaned, 1);
    tl_task_release(c);
    cr_assert_eq(tl__alloc_live(), live);
    return 0;
}

Test(group, free_cancels_children_still_running)
{
    RUN(free_with_running_children_body, NULL);
}

static int wait_on_own_group(void *arg)
{
    return tl_group_wait(arg);
}

static int child_waits_on_its_group(void *arg)
{
    (void)arg;
    tl_group *g = tl_group_new();
    tl_group_spawn(g, wait_on_own_group, g);
    return tl_group_wait(g);
}

static void child_waits_on_its_group_child(void *arg)
{
    (void)arg;
    tl_run(child_waits_on_its_group, NULL);
}

Test(group, a_child_waiting_on_its_own_group_aborts_with_a_message)
{
    char err[512];
    int st = run_child(child_waits_on_its_group_child, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    cr_assert(strstr(err, "tl_group_wait") && strstr(err, "child of the group"), "got: %s", err);
}
