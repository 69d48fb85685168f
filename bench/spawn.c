/* spawn: how many trivial tasks can be created, run and finished per second.
 *
 * spawn+finish: tl_spawn() a batch of detached tasks, then yield until the
 * batch has run. create+await: tl_create_task() a batch, then tl_await() and
 * release each handle in turn. Batches keep the number of live tasks, and so
 * of stacks, bounded as the peers' batches do. Prints one JSON line with
 * tasks per second, the figures bench/peers/spawn.{go,js,py} print.
 *
 * usage: bench_spawn [n [batch]]
 */
#define _POSIX_C_SOURCE 200809L
#include <tulip.h>

#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct params {
    long n, batch;
};

/* Detached tasks leave no handle to await, so they count themselves. */
static long finished;

static int trivial(void *arg)
{
    finished++;
    return (int)(intptr_t)arg;
}

static int spawn_finish(const struct params *p, double *rate)
{
    double t0 = now();
    for (long base = 0; base < p->n; base += p->batch) {
        long end = base + p->batch < p->n ? base + p->batch : p->n;
        for (long i = base; i < end; i++) {
            int rc = tl_spawn(trivial, (void *)(intptr_t)i);
            if (rc < 0)
                return rc;
        }
        while (finished < end) {
            int rc = tl_sleep(0);
            if (rc < 0)
                return rc;
        }
    }
    *rate = (double)p->n / (now() - t0);
    return 0;
}

static int create_await(const struct params *p, double *rate)
{
    tl_task **tasks = malloc((size_t)p->batch * sizeof *tasks);
    if (tasks == NULL)
        return TL_ENOMEM;
    int rc = 0;
    double t0 = now();
    for (long base = 0; base < p->n && rc == 0; base += p->batch) {
        long m = base + p->batch < p->n ? p->batch : p->n - base;
        for (long i = 0; i < m; i++)
            if ((tasks[i] = tl_create_task(trivial, (void *)(intptr_t)(base + i))) == NULL)
                return TL_ENOMEM; /* the process is about to exit: nothing to tidy */
        for (long i = 0; i < m; i++) {
            int r = tl_await(tasks[i]);
            if (r != base + i && rc == 0)
                rc = r < 0 ? r : TL_EINVAL;
            tl_task_release(tasks[i]);
        }
    }
    *rate = (double)p->n / (now() - t0);
    free(tasks);
    return rc;
}

static int bench(void *arg)
{
    const struct params *p = arg;
    double sf, ca;
    int rc = spawn_finish(p, &sf);
    if (rc == 0)
        rc = create_await(p, &ca);
    if (rc == 0)
        printf("{\"version\": \"%s\", \"n\": %ld, \"batch\": %ld, \"spawn_per_s\": %.0f, "
               "\"create_await_per_s\": %.0f}\n",
               tl_version(), p->n, p->batch, sf, ca);
    return rc;
}

int main(int argc, char **argv)
{
    struct params p = {
        .n = argc > 1 ? atol(argv[1]) : 1000000,
        .batch = argc > 2 ? atol(argv[2]) : 1000,
    };
    if (p.n <= 0 || p.n > INT32_MAX || p.batch <= 0) {
        fprintf(stderr, "usage: %s [n > 0 [batch > 0]]\n", argv[0]);
        return 2;
    }
    int rc = tl_run(bench, &p);
    if (rc < 0) {
        fprintf(stderr, "spawn: %s\n", tl_strerror(rc));
        return 1;
    }
    return 0;
}
