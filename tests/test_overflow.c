/* A task that overflows its stack dies with a message naming it and its
 * stack size, with either guard (MADV_GUARD_INSTALL or the canary fallback). */
#include <signal.h>

#include "core/internal.h"
#include "util.h"

static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

static int recurse(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    return n < depth_limit ? recurse(n + 1) + pad[0] : 0;
}

static int overflow_task(void *arg)
{
    (void)arg;
    return recurse(0);
}

static int spawn_overflow(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "deep-recursion", .stack_size = 64 * 1024};
    tl_task *t = tl_create_task_ex(overflow_task, NULL, &o);
    tl_await(t);
    return 0;
}

static void child_overflow(void *arg)
{
    (void)arg;
    tl_run(spawn_overflow, NULL);
}

Test(overflow, guard_page_fault_names_the_task_and_its_stack)
{
    char err[1024];
    int status = run_child(child_overflow, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "stack overflow in task 'deep-recursion'"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "stack 65536 bytes"), "stderr: %s", err);
}

/* In canary mode nothing stops the write; the canary at the bottom of the
 * stack is found broken at the task's next switch. */
static int smash_bottom(void *arg)
{
    (void)arg;
    /* What a runaway frame would do: write over the lowest word of the stack. */
    tl_task *self = tl_current_task();
    *(volatile uint64_t *)self->stack.lo = 0;
    tl_sleep(0);
    return 0;
}

static int spawn_smasher(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "smasher", .stack_size = 64 * 1024};
    tl_task *t = tl_create_task_ex(smash_bottom, NULL, &o);
    tl_await(t);
    return 0;
}

static void child_canary(void *arg)
{
    (void)arg;
    tl__stack_force_guard(TL__GUARD_CANARY);
    tl_run(spawn_smasher, NULL);
}

Test(overflow, canary_fallback_names_the_task_at_its_next_switch)
{
    char err[1024];
    int status = run_child(child_canary, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "stack overflow in task 'smasher'"), "stderr: %s", err);
}

static void child_mprotect(void *arg)
{
    (void)arg;
    tl__stack_force_guard(TL__GUARD_MPROTECT);
    tl_run(spawn_overflow, NULL);
}

Test(overflow, mprotect_fallback_guard_also_reports)
{
    char err[1024];
    int status = run_child(child_mprotect, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "stack overflow in task 'deep-recursion'"), "stderr: %s", err);
}
