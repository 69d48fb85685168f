/* Tasks: creation, awaiting, results, handles, names, listing. */
#include <signal.h>
#include <string.h>

#include "util.h"

static int trace[64];
static int ntrace;

static int record(void *arg)
{
    trace[ntrace++] = (int)(intptr_t)arg;
    return (int)(intptr_t)arg;
}

static int created_task_starts_at_next_turn_body(void *arg)
{
    (void)arg;
    ntrace = 0;
    tl_task *t = tl_create_task(record, (void *)5);
    cr_assert_eq(ntrace, 0, "a new task must not run before its creator yields");
    cr_assert_not(tl_task_done(t));
    cr_assert_eq(tl_task_result(t), TL_EAGAIN);
    cr_assert_eq(tl_await(t), 5);
    cr_assert_eq(ntrace, 1);
    cr_assert(tl_task_done(t));
    cr_assert_not(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(task, created_task_starts_at_next_turn)
{
    RUN(created_task_starts_at_next_turn_body, NULL);
}

static int sleeper(void *arg)
{
    tl_sleep(0.05);
    return (int)(intptr_t)arg;
}

static int awaiter(void *arg)
{
    return tl_await(arg);
}

static int many_awaiters_and_awaiting_again_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(sleeper, (void *)33);
    tl_task *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = tl_create_task(awaiter, t);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(tl_await(w[i]), 33);
        tl_task_release(w[i]);
    }
    cr_assert_eq(tl_await(t), 33, "a finished task can be awaited again");
    cr_assert_eq(tl_await(t), 33);
    cr_assert_eq(tl_task_result(t), 33);
    tl_task_release(t);
    return 0;
}

Test(task, many_awaiters_and_awaiting_again)
{
    RUN(many_awaiters_and_awaiting_again_body, NULL);
}

static int failing(void *arg)
{
    (void)arg;
    tl_sleep(0);
    return TL_EPIPE;
}

static int errors_pass_through_await_body(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(failing, NULL);
    cr_assert_eq(tl_await(t), TL_EPIPE);
    cr_assert_not(tl_task_cancelled(t));
    tl_task_release(t);
    return 0;
}

Test(task, errors_pass_through_await)
{
    RUN(errors_pass_through_await_body, NULL);
}

static int done_flag;

static int set_flag_later(void *arg)
{
    (void)arg;
    tl_sleep(0.02);
    done_flag = 1;
    return 0;
}

static int released_task_runs_on_detached_body(void *arg)
{
    (void)arg;
    done_flag = 0;
    tl_task *t = tl_create_task(set_flag_later, NULL);
    tl_task_release(t);
    cr_assert_eq(tl_spawn(set_flag_later, NULL), 0);
    tl_sleep(0.1);
    cr_assert_eq(done_flag, 1);
    return 0;
}

Test(task, released_task_runs_on_detached)
{
    RUN(released_task_runs_on_detached_body, NULL);
}

static int names_and_ids_body(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "fetcher"};
    tl_task *a = tl_create_task_ex(record, (void *)1, &o);
    tl_task *b = tl_create_task(record, (void *)2);
    cr_assert_str_eq(tl_task_name(a), "fetcher");
    char want[32];
    snprintf(want, sizeof want, "Task-%llu", (unsigned long long)tl_task_id(b));
    cr_assert_str_eq(tl_task_name(b), want);
    cr_assert_gt(tl_task_id(b), tl_task_id(a));
    cr_assert_eq(tl_task_set_name(b, "renamed"), 0);
    cr_assert_str_eq(tl_task_name(b), "renamed");
    cr_assert_str_eq(tl_task_name(tl_current_task()), "main");
    tl_await(a);
    tl_await(b);
    tl_task_release(a);
    tl_task_release(b);
    return 0;
}

Test(task, names_and_ids)
{
    RUN(names_and_ids_body, NULL);
}

static int current_task_is_self(void *arg)
{
    return tl_current_task() == *(tl_task **)arg ? 0 : -1;
}

static int current_task_body(void *arg)
{
    (void)arg;
    tl_task *t = NULL;
    t = tl_create_task(current_task_is_self, &t);
    cr_assert_eq(tl_await(t), 0);
    tl_task_release(t);
    return 0;
}

Test(task, current_task)
{
    cr_assert_null(tl_current_task());
    RUN(current_task_body, NULL);
    cr_assert_null(tl_current_task());
}

static int all_tasks_lists_live_ones_body(void *arg)
{
    (void)arg;
    tl_task *a = tl_create_task(sleeper, (void *)1);
    tl_task *b = tl_create_task(sleeper, (void *)2);
    tl_task *out[8];
    size_t n = tl_all_tasks(out, 8);
    cr_assert_eq(n, 3, "main and two sleepers");
    bool seen_a = false, seen_b = false;
    for (size_t i = 0; i < n; i++) {
        seen_a |= out[i] == a;
        seen_b |= out[i] == b;
        tl_task_release(out[i]);
    }
    cr_assert(seen_a && seen_b);
    cr_assert_eq(tl_all_tasks(out, 1), 3, "the count is whole even when the array is short");
    tl_task_release(out[0]);
    tl_await(a);
    tl_await(b);
    cr_assert_eq(tl_all_tasks(NULL, 0), 1);
    tl_task_release(a);
    tl_task_release(b);
    return 0;
}

Test(task, all_tasks_lists_live_ones)
{
    RUN(all_tasks_lists_live_ones_body, NULL);
}

static int deep(void *arg)
{
    /* Touch most of the requested stack. */
    size_t n = (size_t)(intptr_t)arg;
    volatile char buf[n];
    memset((char *)buf, 1, n);
    tl_sleep(0);
    return buf[n - 1];
}

static int stack_size_option_body(void *arg)
{
    (void)arg;
    tl_task_opts o = {.stack_size = 4 * 1024 * 1024};
    tl_task *t = tl_create_task_ex(deep, (void *)(intptr_t)(3 * 1024 * 1024), &o);
    cr_assert_not_null(t);
    cr_assert_eq(tl_await(t), 1);
    tl_task_release(t);
    return 0;
}

Test(task, stack_size_option_gives_a_deeper_stack)
{
    RUN(stack_size_option_body, NULL);
}

static int await_self(void *arg)
{
    (void)arg;
    return tl_await(tl_current_task());
}

Test(task, awaiting_itself_aborts_with_a_message, .signal = SIGABRT)
{
    tl_run(await_self, NULL);
}

static int count;

static int bump(void *arg)
{
    (void)arg;
    count++;
    return 0;
}

static int many_tasks_body(void *arg)
{
    (void)arg;
    count = 0;
    enum { N = 100000 };
    for (int i = 0; i < N; i++)
        cr_assert_eq(tl_spawn(bump, NULL), 0);
    while (count < N)
        tl_sleep(0.001);
    return 0;
}

Test(task, a_hundred_thousand_spawns_all_run)
{
    RUN(many_tasks_body, NULL);
    cr_assert_eq(count, 100000);
}

/* The first seed's main1 and main2: creating a task versus calling a
 * coroutine directly. */
static char order[128];

static int old_task(void *arg)
{
    (void)arg;
    strcat(order, "old;");
    return 0;
}

static int new_coro(void *arg)
{
    (void)arg;
    strcat(order, "new;");
    return 0;
}

static int main1(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(old_task, NULL);
    tl_task_release(t);
    strcat(order, "main;");
    return new_coro(NULL);
}

static int main2(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(old_task, NULL);
    tl_task *t2 = tl_create_task(new_coro, NULL);
    int r = tl_await(t2);
    tl_task_release(t);
    tl_task_release(t2);
    return r;
}

Test(task, seed_main1_old_task_runs_after_main_returns)
{
    order[0] = 0;
    RUN(main1, NULL);
    cr_assert_str_eq(order, "main;new;old;");
}

Test(task, seed_main2_tasks_run_in_creation_order)
{
    order[0] = 0;
    RUN(main2, NULL);
    cr_assert_str_eq(order, "old;new;");
}

static int over_release(void *arg)
{
    (void)arg;
    tl_task *t = tl_create_task(sleeper, NULL);
    tl_task_release(t);
    tl_task_release(t); /* the task still runs: the count says this is one too many */
    return 0;
}

Test(task, releasing_more_than_retained_aborts, .signal = SIGABRT)
{
    tl_run(over_release, NULL);
}
