/* Debug mode's reports and tl_dump_tasks. */
#include <unistd.h>

#include "util.h"

static int blocker(void *arg)
{
    (void)arg;
    usleep(150 * 1000); /* the mistake debug mode exists to show */
    return 0;
}

static int run_blocker(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "blocking-sleeper"};
    tl_task *t = tl_create_task_ex(blocker, NULL, &o);
    tl_await(t);
    tl_task_release(t);
    return 0;
}

static void child_slow(void *arg)
{
    (void)arg;
    tl_set_debug(true);
    tl_run(run_blocker, NULL);
}

Test(debug, slow_task_is_reported_by_name_and_duration)
{
    char err[2048];
    int status = run_child(child_slow, NULL, err, sizeof err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_not_null(strstr(err, "task 'blocking-sleeper'"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "without yielding"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "ran 0.1"), "stderr: %s", err);
}

static void child_slow_quiet(void *arg)
{
    (void)arg;
    tl_set_debug(false);
    tl_run(run_blocker, NULL);
}

Test(debug, nothing_is_reported_without_debug_mode)
{
    char err[2048];
    run_child(child_slow_quiet, NULL, err, sizeof err);
    cr_assert_str_empty(err, "stderr: %s", err);
}

static int fails(void *arg)
{
    (void)arg;
    return TL_EPIPE;
}

static int spawn_failing(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "lost-error"};
    tl_task_release(tl_create_task_ex(fails, NULL, &o));
    tl_task *kept = tl_create_task(fails, NULL);
    tl_await(kept); /* retrieved: not reported */
    tl_task_release(kept);
    tl_sleep(0.01);
    return 0;
}

static void child_unretrieved(void *arg)
{
    (void)arg;
    setenv("TULIP_DEBUG", "1", 1);
    tl_run(spawn_failing, NULL);
}

Test(debug, failed_task_nobody_awaited_is_reported_via_env)
{
    char err[2048];
    run_child(child_unretrieved, NULL, err, sizeof err);
    cr_assert_not_null(strstr(err, "task 'lost-error'"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "EPIPE"), "stderr: %s", err);
    /* exactly one report: the awaited task's error was retrieved */
    char *first = strstr(err, "nobody retrieved");
    cr_assert_not_null(first);
    cr_assert_null(strstr(first + 1, "nobody retrieved"), "stderr: %s", err);
}

static int forever(void *arg)
{
    (void)arg;
    return tl_sleep(100);
}

static int leave_one(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "forgotten"};
    tl_task_release(tl_create_task_ex(forever, NULL, &o));
    tl_sleep(0);
    return 0;
}

static void child_leftover(void *arg)
{
    (void)arg;
    tl_set_debug(true);
    tl_run(leave_one, NULL);
}

Test(debug, tasks_left_at_loop_close_are_reported)
{
    char err[2048];
    run_child(child_leftover, NULL, err, sizeof err);
    cr_assert_not_null(strstr(err, "still alive when the loop closed"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "'forgotten' waiting on sleep"), "stderr: %s", err);
}

static int child_task(void *arg)
{
    (void)arg;
    return tl_sleep(0.2);
}

static int dumper(void *arg)
{
    char **out = arg;
    size_t len;
    FILE *f = open_memstream(out, &len);
    tl_dump_tasks(f);
    fclose(f);
    return 0;
}

static int dump_body(void *arg)
{
    char *text = NULL;
    tl_task_opts o = {.name = "child"};
    tl_task *c = tl_create_task_ex(child_task, NULL, &o);
    tl_task_opts d = {.name = "dumper"};
    tl_task *t = tl_create_task_ex(dumper, &text, &d);
    tl_await(c);
    tl_await(t);
    tl_task_release(c);
    tl_task_release(t);
    *(char **)arg = text;
    return 0;
}

Test(debug, dump_tasks_shows_states_waits_and_who_awaits_whom)
{
    char *text = NULL;
    RUN(dump_body, &text);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "'main' waiting on task #"), "%s", text);
    cr_assert_not_null(strstr(text, "└── #"), "%s", text);
    cr_assert_not_null(strstr(text, "'child' waiting on sleep ("), "%s", text);
    cr_assert_not_null(strstr(text, "'dumper' running"), "%s", text);
    free(text);
}

static int enable_inside(void *arg)
{
    (void)arg;
    tl_set_debug(true);
    tl_sleep(0);
    tl_sleep(0.01);
    return 0;
}

static void child_enable_inside(void *arg)
{
    (void)arg;
    tl_set_debug(false);
    tl_run(enable_inside, NULL);
}

Test(debug, turning_debug_on_inside_a_task_reports_nothing_spurious)
{
    char err[2048];
    int status = run_child(child_enable_inside, NULL, err, sizeof err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_str_empty(err, "stderr: %s", err);
}

static int count_forever(tl_gen *g, void *arg)
{
    (void)arg;
    for (;;) {
        int rc = tl_sleep(0.2);
        if (rc == 0)
            rc = tl_gen_yield(g, NULL);
        if (rc < 0)
            return rc;
    }
}

static int consume(void *arg)
{
    return tl_gen_next(arg, NULL);
}

static int group_of_two(void *arg)
{
    (void)arg;
    tl_group *g = tl_group_new();
    tl_task_opts o = {.name = "grouped"};
    tl_group_spawn_ex(g, child_task, NULL, &o);
    tl_group_spawn_ex(g, child_task, NULL, &o);
    int rc = tl_group_wait(g);
    tl_group_free(g);
    return rc;
}

static int dump_later(void *arg)
{
    tl_sleep(0.05);
    return dumper(arg);
}

static int dump_combinators_body(void *arg)
{
    char *text = NULL;
    tl_gen *gen = tl_gen_new(count_forever, NULL);
    tl_task_opts names[3] = {{.name = "grouper"}, {.name = "consumer"}, {.name = "dumper"}};
    tl_task *t[3] = {tl_create_task_ex(group_of_two, NULL, &names[0]),
                     tl_create_task_ex(consume, gen, &names[1]),
                     tl_create_task_ex(dump_later, &text, &names[2])};
    tl_gather(t, 3, NULL, 0);
    for (int i = 0; i < 3; i++)
        tl_task_release(t[i]);
    tl_gen_close(gen);
    *(char **)arg = text;
    return 0;
}

Test(debug, dump_tasks_shows_what_gathers_groups_and_generators_wait_for)
{
    char *text = NULL;
    RUN(dump_combinators_body, &text);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "'main' waiting on gather"), "%s", text);
    cr_assert_not_null(strstr(text, "    └── #"), "%s", text);
    cr_assert_not_null(strstr(text, "'grouper' waiting on group"), "%s", text);
    cr_assert_not_null(strstr(text, "        └── #"), "grandchildren are indented: %s", text);
    cr_assert_not_null(strstr(text, "'grouped' waiting on sleep"), "%s", text);
    cr_assert_not_null(strstr(text, "'consumer' waiting on generator"), "%s", text);
    free(text);
}

/* tl_wait and as_completed walk their sets as gather does: the child sleeps
 * under its waiter in the tree, not as a root of its own. */
static int dump_wait_body(void *arg)
{
    char *text = NULL;
    tl_task_opts c = {.name = "awaited-by-wait"}, d = {.name = "dumper"};
    tl_task *t[2] = {tl_create_task_ex(child_task, NULL, &c),
                     tl_create_task_ex(dump_later, &text, &d)};
    tl_wait(t, 2, -1, TL_ALL_COMPLETED);
    for (int i = 0; i < 2; i++)
        tl_task_release(t[i]);
    *(char **)arg = text;
    return 0;
}

Test(debug, dump_tasks_shows_what_tl_wait_waits_for)
{
    char *text = NULL;
    RUN(dump_wait_body, &text);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "'main' waiting on wait"), "%s", text);
    cr_assert_not_null(strstr(text, "└── #2 'awaited-by-wait' waiting on sleep"), "%s", text);
    free(text);
}
