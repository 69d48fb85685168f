/* The context switch and the stack pool, below the loop: switching keeps
 * registers and FP control state, stacks are guarded, pooled, and give their
 * pages back. */
#include <fenv.h>
#include <signal.h>

#include "ctx/alloc.h"
#include "ctx/ctx.h"
#include "ctx/stack.h"
#include "util.h"

static tl__ctx main_ctx, co_ctx;
static int shared_value;

static void co_entry(void *arg)
{
    tl__ctx_started(&co_ctx);
    int *n = arg;
    for (;;) {
        shared_value = *n * 2;
        tl__ctx_switch(&co_ctx, &main_ctx);
    }
}

Test(ctx, switching_back_and_forth_keeps_locals)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    cr_assert_eq(tl__stack_alloc(&pool, 64 * 1024, &st), 0);
    tl__ctx_init_thread(&main_ctx);
    int n = 0;
    tl__ctx_make(&co_ctx, st.lo, st.size - TL__STACK_RESERVED, co_entry, &n);
    long local = 12345;
    double fp = 1.5;
    for (n = 1; n <= 1000; n++) {
        tl__ctx_switch(&main_ctx, &co_ctx);
        cr_assert_eq(shared_value, n * 2);
    }
    cr_assert_eq(local, 12345);
    cr_assert_eq(fp, 1.5);
    tl__stack_free(&pool, &st, NULL);
    tl__stack_pool_destroy(&pool);
}

static void rounding_entry(void *arg)
{
    tl__ctx_started(&co_ctx);
    int *mode = arg;
    *mode = fegetround();
    fesetround(FE_UPWARD);
    tl__ctx_switch(&co_ctx, &main_ctx);
    for (;;)
        tl__ctx_switch(&co_ctx, &main_ctx);
}

Test(ctx, floating_point_control_state_is_per_context)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    cr_assert_eq(tl__stack_alloc(&pool, 64 * 1024, &st), 0);
    tl__ctx_init_thread(&main_ctx);
    int seen = -1;
    fesetround(FE_TOWARDZERO);
    tl__ctx_make(&co_ctx, st.lo, st.size - TL__STACK_RESERVED, rounding_entry, &seen);
    tl__ctx_switch(&main_ctx, &co_ctx);
#ifndef TL_CTX_UCONTEXT
    cr_assert_eq(seen, FE_TONEAREST, "a new context starts with the default rounding mode");
#endif
    cr_assert_eq(fegetround(), FE_TOWARDZERO, "the other context's mode did not leak back");
    fesetround(FE_TONEAREST);
    tl__stack_pool_destroy(&pool);
}

Test(stack, freed_stack_is_reused_first)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack a, b, c;
    cr_assert_eq(tl__stack_alloc(&pool, 100 * 1024, &a), 0);
    cr_assert_eq(a.size % 4096, 0, "sizes are rounded to pages");
    cr_assert_geq(a.size, 100 * 1024);
    cr_assert_eq(tl__stack_alloc(&pool, 100 * 1024, &b), 0);
    cr_assert_neq(a.lo, b.lo);
    char *alo = a.lo;
    tl__stack_free(&pool, &a, NULL);
    cr_assert_eq(tl__stack_alloc(&pool, 100 * 1024, &c), 0);
    cr_assert_eq(c.lo, alo, "a warm stack is handed out before a fresh one");
    tl__stack_free(&pool, &b, NULL);
    tl__stack_free(&pool, &c, NULL);
    tl__stack_pool_destroy(&pool);
}

Test(stack, deep_stack_gives_its_pages_back_when_freed)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    cr_assert_eq(tl__stack_alloc(&pool, 1024 * 1024, &st), 0);
    memset(st.lo, 1, st.size - TL__STACK_RESERVED);
    cr_assert_geq(tl__stack_resident_pages(&st), 250);
    tl__stack copy = st;
    tl__stack_free(&pool, &st, copy.lo); /* it went all the way down */
    cr_assert_leq(tl__stack_resident_pages(&copy), 8, "only the warm top stays resident");
    tl__stack_pool_destroy(&pool);
}

Test(stack, idle_trim_finds_deep_stacks_and_cools_the_surplus)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    pool.warm_cap = 2;
    enum { N = 6 };
    tl__stack st[N], copy[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(tl__stack_alloc(&pool, 256 * 1024, &st[i]), 0);
        memset(st[i].lo, 1, st[i].size - TL__STACK_RESERVED); /* deep, unseen */
        copy[i] = st[i];
    }
    for (int i = 0; i < N; i++)
        tl__stack_free(&pool, &st[i], NULL);
    long before = 0;
    for (int i = 0; i < N; i++)
        before += (long)tl__stack_resident_pages(&copy[i]);
    cr_assert_geq(before, N * 60);
    tl__stack_pool_trim(&pool, 100);
    long after = 0;
    for (int i = 0; i < N; i++)
        after += (long)tl__stack_resident_pages(&copy[i]);
    cr_assert_leq(after, 2 * 8, "two warm stacks keep their tops, the rest keep nothing");
    tl__stack_pool_destroy(&pool);
}

static void touch_guard(void *arg)
{
    enum tl__guard g = (enum tl__guard)(intptr_t)arg;
    tl__stack_force_guard(g);
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    if (tl__stack_alloc(&pool, 64 * 1024, &st) != 0)
        _exit(3);
    if (tl__stack_guard(&st) != g)
        _exit(4);
    if (!tl__stack_in_guard(&st, st.lo - 1))
        _exit(5);
    *(volatile char *)(st.lo - 1) = 1;
    _exit(0);
}

/* Without a loop there is no task to name: the fault ends the program as a
 * plain SIGSEGV, or as AddressSanitizer's SEGV report in the sanitizer build. */
static void assert_segv(int status, const char *err, const char *what)
{
#ifdef TL_ASAN
    cr_assert_not_null(strstr(err, "SEGV"), "%s: status %#x, stderr: %s", what, status, err);
#else
    (void)err;
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "%s: status %#x", what, status);
#endif
}

Test(stack, guard_below_each_stack_faults)
{
    char err[4096];
    int s1 = run_child(touch_guard, (void *)(intptr_t)TL__GUARD_MADVISE, err, sizeof err);
    assert_segv(s1, err, "madvise guard");
    int s2 = run_child(touch_guard, (void *)(intptr_t)TL__GUARD_MPROTECT, err, sizeof err);
    assert_segv(s2, err, "mprotect guard");
}

Test(stack, canary_detects_a_smashed_bottom)
{
    tl__stack_force_guard(TL__GUARD_CANARY);
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    cr_assert_eq(tl__stack_alloc(&pool, 64 * 1024, &st), 0);
    cr_assert(tl__stack_canary_ok(&st));
    *(uint64_t *)st.lo = 0;
    cr_assert_not(tl__stack_canary_ok(&st));
    tl__stack_free(&pool, &st, NULL);
    tl__stack_pool_destroy(&pool);
    tl__stack_force_guard(0);
}

Test(stack, absurd_size_is_enomem)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    cr_assert_eq(tl__stack_alloc(&pool, (size_t)1 << 50, &st), -ENOMEM);
    tl__stack_pool_destroy(&pool);
}
