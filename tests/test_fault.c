/* Fault injection: a whole program run in which the Nth allocation (or
 * other call behind the fault seam: mmap of a stack region, libuv's init
 * calls) fails, for every N until a run passes untouched. Each run must end
 * with success or TL_ENOMEM, and give back every allocation it made. */
#include "ctx/alloc.h"
#include "fault_walk.h"
#include "util.h"

static void noop(void *arg)
{
    (void)arg;
}

static void on_done(tl_future *f, void *arg)
{
    (void)f;
    (void)arg;
}

static int child(void *arg)
{
    int rc = tl_sleep(0.001);
    if (rc < 0)
        return rc;
    tl_future *f = arg;
    return tl_future_set_result(f, 1);
}

#define CHECK(x)                \
    do {                        \
        if (!(x)) {             \
            result = TL_ENOMEM; \
            goto out;           \
        }                       \
    } while (0)

/* Any error ends the workload with it: the test accepts only TL_ENOMEM. */
#define OK(expr)         \
    do {                 \
        int r_ = (expr); \
        if (r_ < 0) {    \
            result = r_; \
            goto out;    \
        }                \
    } while (0)

static int quick(void *arg)
{
    (void)arg;
    return tl_sleep(0);
}

static int three(tl_gen *g, void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        int rc = tl_gen_yield(g, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int workload(void *arg)
{
    (void)arg;
    int result = 0;
    tl_task *t[4] = {0};
    tl_group *g = NULL;
    tl_gen *gen = NULL;
    tl_as_completed it = {0};
    tl_future *f = tl_future_new();
    CHECK(f);
    CHECK(tl_future_add_done_callback(f, on_done, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        tl_task_opts o = {.name = "worker", .stack_size = i == 3 ? 1024 * 1024 : 0};
        CHECK(t[i] = tl_create_task_ex(child, f, &o));
    }
    CHECK(tl_spawn(child, f) == 0);
    CHECK(tl_call_soon(noop, NULL));
    CHECK(tl_call_later(0.001, noop, NULL));
    CHECK(tl_call_soon_threadsafe(tl_loop_current(), noop, NULL) == 0);
    CHECK(tl_task_set_name(t[0], "renamed") == 0);
    tl_timeout s;
    tl_timeout_enter(&s, 5);
    for (int i = 0; i < 4; i++)
        tl_await(t[i]);
    tl_timeout_exit(&s);
    tl_sleep(0.002);

    tl_coro coros[10];
    for (int i = 0; i < 10; i++)
        coros[i] = TL_CORO(quick, NULL);
    int res[10];
    OK(tl_gather_coros(coros, 10, res, 0));
    OK(tl_gather(t, 4, res, TL_RETURN_EXCEPTIONS));
    OK(tl_wait(t, 4, 0.01, TL_ALL_COMPLETED));
    OK(tl_wait_for(t[0], 1));
    OK(tl_as_completed_init(&it, t, 4, -1));
    tl_task *done;
    for (int i = 0; i < 4; i++)
        OK(tl_as_completed_next(&it, &done));
    CHECK(g = tl_group_new());
    for (int i = 0; i < 3; i++)
        CHECK(tl_group_spawn(g, quick, NULL));
    OK(tl_group_wait(g));
    CHECK(gen = tl_gen_new(three, NULL));
    int rc;
    while ((rc = tl_gen_next(gen, NULL)) == 0)
        ;
    if (rc != TL_EOF)
        OK(rc);
out:
    tl_as_completed_destroy(&it);
    tl_group_free(g);
    if (gen && tl_gen_close(gen) != 0)
        result = TL_EINVAL;
    for (int i = 0; i < 4; i++)
        tl_task_release(t[i]);
    tl_future_release(f);
    return result;
}

Test(fault, every_failing_allocation_is_enomem_and_leaks_nothing)
{
    int n = fault_walk(workload, NULL, 10000);
    cr_assert_gt(n, 10, "the walk reached %d fault points", n);
}
