/* switch: what it costs to pass control from one task to another.
 *
 * Two tasks ping-pong: each awaits a tl_future of its own that the other
 * resolves, then makes itself a fresh one and resolves the other's (a wake-up
 * between tasks of one loop). Then two tasks each call tl_sleep(0) in a loop.
 * Then a generator yields `rounds` values to a consumer (async for).
 * Prints one JSON line with ns per hand-off, per yield and per value, the figures
 * bench/peers/switch.{go,js,py} print for their runtimes.
 *
 * usage: bench_switch [rounds]
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

struct pingpong {
    tl_future *inbox[2];
    long rounds;
};

struct side {
    struct pingpong *pp;
    int me;
};

static int play(void *arg)
{
    struct side *s = arg;
    struct pingpong *pp = s->pp;
    for (long i = 0; i < pp->rounds; i++) {
        int rc = tl_future_await(pp->inbox[s->me]);
        if (rc < 0)
            return rc;
        tl_future_release(pp->inbox[s->me]);
        /* The fresh inbox must exist before the other side can resolve it. */
        pp->inbox[s->me] = tl_future_new();
        if (pp->inbox[s->me] == NULL)
            return TL_ENOMEM;
        rc = tl_future_set_result(pp->inbox[1 - s->me], 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int yielder(void *arg)
{
    long rounds = *(const long *)arg;
    for (long i = 0; i < rounds; i++) {
        int rc = tl_sleep(0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Both tasks' first error, or 0. */
static int run_pair(tl_fn fn, void *a, void *b)
{
    tl_task *ta = tl_create_task(fn, a);
    tl_task *tb = tl_create_task(fn, b);
    if (ta == NULL || tb == NULL)
        return TL_ENOMEM; /* the process is about to exit: nothing to tidy */
    int ra = tl_await(ta);
    int rb = tl_await(tb);
    tl_task_release(ta);
    tl_task_release(tb);
    return ra < 0 ? ra : rb;
}

/* A round is two hand-offs: A wakes B, B wakes A. */
static int handoff(long rounds, double *ns)
{
    struct pingpong pp = {.rounds = rounds};
    struct side a = {&pp, 0}, b = {&pp, 1};
    pp.inbox[0] = tl_future_new();
    pp.inbox[1] = tl_future_new();
    if (pp.inbox[0] == NULL || pp.inbox[1] == NULL)
        return TL_ENOMEM;
    tl_future_set_result(pp.inbox[0], 0); /* A serves */
    double t0 = now();
    int rc = run_pair(play, &a, &b);
    *ns = (now() - t0) * 1e9 / (2.0 * (double)rounds);
    tl_future_release(pp.inbox[0]);
    tl_future_release(pp.inbox[1]);
    return rc;
}

static int yields(long rounds, double *ns)
{
    double t0 = now();
    int rc = run_pair(yielder, &rounds, &rounds);
    *ns = (now() - t0) * 1e9 / (2.0 * (double)rounds);
    return rc;
}

static int count_up(tl_gen *g, void *arg)
{
    long rounds = *(const long *)arg;
    for (long i = 0; i < rounds; i++) {
        int rc = tl_gen_yield(g, (void *)(intptr_t)i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One value is two switches: the consumer asks, the generator answers. */
static int gen_values(long rounds, double *ns)
{
    tl_gen *g = tl_gen_new(count_up, &rounds);
    if (g == NULL)
        return TL_ENOMEM;
    double t0 = now();
    long n = 0;
    void *v;
    int rc;
    while ((rc = tl_gen_next(g, &v)) == 0)
        n += (intptr_t)v == n;
    *ns = (now() - t0) * 1e9 / (double)rounds;
    int closed = tl_gen_close(g);
    if (rc != TL_EOF)
        return rc;
    return n == rounds ? closed : TL_EINVAL;
}

static int bench(void *arg)
{
    long rounds = *(const long *)arg;
    double h, y, gv;
    int rc = handoff(rounds, &h);
    if (rc == 0)
        rc = yields(rounds, &y);
    if (rc == 0)
        rc = gen_values(rounds, &gv);
    if (rc == 0)
        printf("{\"version\": \"%s\", \"rounds\": %ld, \"ns_per_handoff\": %.2f, "
               "\"ns_per_sleep0\": %.2f, \"ns_per_gen_value\": %.2f}\n",
               tl_version(), rounds, h, y, gv);
    return rc;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 1000000;
    if (rounds <= 0) {
        fprintf(stderr, "usage: %s [rounds > 0]\n", argv[0]);
        return 2;
    }
    int rc = tl_run(bench, &rounds);
    if (rc < 0) {
        fprintf(stderr, "switch: %s\n", tl_strerror(rc));
        return 1;
    }
    return 0;
}
