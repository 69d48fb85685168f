/* The context switch alone, with no libuv and no Criterion, so it can be
 * cross-compiled and run under qemu for architectures this machine is not
 * (AArch64). Checks that values in callee-saved registers survive switches,
 * that each context keeps its own floating-point rounding mode, and that a
 * stack from the pool is usable to its depth. Prints "ctx selftest: ok". */
#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx/ctx.h"
#include "ctx/stack.h"

static tl__ctx main_ctx, co_ctx;
static volatile long shared;

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "ctx selftest: %s failed at line %d\n", #c, __LINE__); \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

static long __attribute__((noinline)) churn(long a, long b, long c, long d, long e, long f)
{
    /* Many live values across a switch: some must sit in callee-saved registers. */
    for (int i = 0; i < 3; i++) {
        shared = a + b + c + d + e + f;
        tl__ctx_switch(&co_ctx, &main_ctx);
        a += 1, b += 2, c += 3, d += 4, e += 5, f += 6;
    }
    return a + b + c + d + e + f;
}

static void co_entry(void *arg)
{
    tl__ctx_started(&co_ctx);
    (void)arg;
    fesetround(FE_DOWNWARD);
    long r = churn(1, 2, 3, 4, 5, 6);
    CHECK(r == 21 + 3 * 21);
    CHECK(fegetround() == FE_DOWNWARD);
    char buf[48 * 1024];
    memset(buf, 7, sizeof buf);
    shared = buf[sizeof buf - 1] + buf[0];
    for (;;)
        tl__ctx_switch(&co_ctx, &main_ctx);
}

int main(void)
{
    tl__stack_pool pool;
    tl__stack_pool_init(&pool);
    tl__stack st;
    CHECK(tl__stack_alloc(&pool, 64 * 1024, &st) == 0);
    tl__ctx_init_thread(&main_ctx);
    tl__ctx_make(&co_ctx, st.lo, st.size - TL__STACK_RESERVED, co_entry, NULL);
    fesetround(FE_UPWARD);
    long x1 = 11, x2 = 22, x3 = 33;
    for (int i = 0; i < 3; i++) {
        tl__ctx_switch(&main_ctx, &co_ctx);
        CHECK(shared == 21 + i * 21);
        CHECK(fegetround() == FE_UPWARD);
    }
    tl__ctx_switch(&main_ctx, &co_ctx);
    CHECK(shared == 14);
    CHECK(x1 + x2 + x3 == 66);
    tl__stack_free(&pool, &st, NULL);
    tl__stack_pool_destroy(&pool);
    fesetround(FE_TONEAREST);
    printf("ctx selftest: ok\n");
    return 0;
}
