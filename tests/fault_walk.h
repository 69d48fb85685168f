/* The fault-injection walk shared by the test programs: runs workload as a
 * whole program with the Nth allocation (or other fault point) failing, for
 * N = 1, 2, ... until a run passes untouched. Each run must end with 0 or
 * TL_ENOMEM and give back every allocation it made. */
#ifndef TL_TEST_FAULT_WALK_H
#define TL_TEST_FAULT_WALK_H

#include "ctx/alloc.h"
#include "util.h"

/* Returns how many fault points the walk went through (the last N). */
static inline int fault_walk(tl_fn workload, void *arg, int max)
{
    long baseline = tl__alloc_live();
    cr_assert_eq(tl_run(workload, arg), 0, "the workload passes untouched");
    cr_assert_eq(tl__alloc_live(), baseline);
    int n;
    for (n = 1; n < max; n++) {
        tl__fault_arm(n);
        int rc = tl_run(workload, arg);
        bool fired = tl__fault_fired();
        tl__fault_arm(0);
        cr_assert(rc == 0 || rc == TL_ENOMEM, "N=%d: result %d (%s)", n, rc, tl_err_name(rc));
        cr_assert_eq(tl__alloc_live(), baseline, "N=%d: %ld allocations leaked", n,
                     tl__alloc_live() - baseline);
        if (!fired)
            break;
    }
    cr_assert_lt(n, max, "the walk ended");
    return n;
}

#endif
