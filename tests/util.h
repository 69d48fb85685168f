/* Shared by the test programs: one timing tolerance for a loaded 2-core
 * machine, and a way to run a test body as tulip's main task. */
#ifndef TL_TEST_UTIL_H
#define TL_TEST_UTIL_H

#include <criterion/criterion.h>
#include <tulip.h>

/* Timing checks allow this much lateness (seconds). Early is never allowed. */
#define TOL 0.25

/* Runs fn as the main task of a fresh loop and expects it to return 0. */
#define RUN(fn, arg) cr_assert_eq(tl_run((fn), (arg)), 0, "main task failed")

static inline double elapsed_since(double t0)
{
    return tl_time() - t0;
}

#define ASSERT_ELAPSED(t0, secs)                                                               \
    do {                                                                                       \
        double e_ = elapsed_since(t0);                                                         \
        cr_assert(e_ >= (secs) - 0.002 && e_ <= (secs) + TOL, "elapsed %.3f s, expected %.3f", \
                  e_, (double)(secs));                                                         \
    } while (0)

#endif
