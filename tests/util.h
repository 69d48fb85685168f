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

/* A task body: sleeps delay seconds, then returns result (or the sleep's error). */
typedef struct sleep_job {
    double delay;
    int result;
} sleep_job;

static inline int sleep_then(void *arg)
{
    sleep_job *j = arg;
    int rc = tl_sleep(j->delay);
    return rc < 0 ? rc : j->result;
}

#define ASSERT_ELAPSED(t0, secs)                                                                 \
    do {                                                                                         \
        double e_ = elapsed_since(t0);                                                           \
        cr_assert(e_ >= (secs)-0.002 && e_ <= (secs) + TOL, "elapsed %.3f s, expected %.3f", e_, \
                  (double)(secs));                                                               \
    } while (0)

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn(arg) in a child process and collects what it wrote to stderr (up
 * to cap - 1 bytes) and how it ended. For behaviour that ends the program or
 * that prints: overflow reports, fatal misuse, debug reports. */
static inline int run_child(void (*fn)(void *), void *arg, char *err, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn(arg);
        fflush(NULL);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    char sink[4096];
    /* Read to the end, keeping what fits: a child must never die of SIGPIPE. */
    for (;;) {
        if (n + 1 < cap)
            r = read(fds[0], err + n, cap - 1 - n);
        else
            r = read(fds[0], sink, sizeof sink);
        if (r <= 0)
            break;
        if (n + 1 < cap)
            n += (size_t)r;
    }
    err[n] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

#endif
