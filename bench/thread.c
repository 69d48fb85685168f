/* thread: what handing work to a thread costs. A trivial job (it adds one)
 * is run through
 *   - tl_to_thread one at a time: the round trip, loop -> pool -> loop;
 *   - tl_to_thread from 1,000 tasks at once: jobs per second with the pool busy;
 *   - tl_executor_run on an executor of 4 threads, 1,000 tasks at once;
 *   - plain libuv, uv_queue_work one at a time from a callback chain: the
 *     floor under the first figure, with no tasks at all.
 * Prints one JSON line, the figures bench/peers/thread.py prints for asyncio.
 *
 * usage: bench_thread [jobs]
 */
#define _POSIX_C_SOURCE 200809L
#include <tulip.h>
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TASKS 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int add_one(void *arg)
{
    return *(int *)arg + 1;
}

static long jobs;
static tl_executor *ex;

static int one_at_a_time(void *arg)
{
    double *secs = arg;
    int x = 0;
    double t0 = now();
    for (long i = 0; i < jobs; i++)
        x = tl_to_thread(add_one, &x);
    *secs = now() - t0;
    return x == jobs ? 0 : 1;
}

static int share(void *arg)
{
    int x = 0;
    for (long i = 0; i < jobs / TASKS; i++)
        x = arg ? tl_executor_run(ex, add_one, &x) : tl_to_thread(add_one, &x);
    return x == jobs / TASKS ? 0 : 1;
}

static int many_at_once(void *arg)
{
    double *secs = arg;
    static tl_task *t[TASKS];
    double t0 = now();
    for (int i = 0; i < TASKS; i++)
        t[i] = tl_create_task(share, ex);
    int rc = tl_gather(t, TASKS, NULL, 0);
    *secs = now() - t0;
    for (int i = 0; i < TASKS; i++)
        tl_task_release(t[i]);
    return rc;
}

/* ---- the floor: uv_queue_work from a callback chain ---- */

static long uv_left;
static int uv_x;

static void uv_job(uv_work_t *w)
{
    (void)w;
    uv_x = add_one(&uv_x);
}

static void uv_after(uv_work_t *w, int status)
{
    (void)status;
    if (--uv_left > 0)
        uv_queue_work(w->loop, w, uv_job, uv_after);
}

static double uv_floor(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_work_t w;
    uv_left = jobs;
    double t0 = now();
    uv_queue_work(&loop, &w, uv_job, uv_after);
    uv_run(&loop, UV_RUN_DEFAULT);
    double secs = now() - t0;
    uv_loop_close(&loop);
    return secs;
}

int main(int argc, char **argv)
{
    jobs = argc > 1 ? atol(argv[1]) : 200000;
    jobs -= jobs % TASKS;
    double seq, pool, exec;
    double floor = uv_floor();
    if (tl_run(one_at_a_time, &seq) != 0 || tl_run(many_at_once, &pool) != 0)
        return 1;
    ex = tl_executor_new(4);
    if (!ex || tl_run(many_at_once, &exec) != 0)
        return 1;
    tl_executor_free(ex);
    printf("{\"version\": \"%s\", \"jobs\": %ld, \"us_per_round_trip\": %.3f, "
           "\"pool_jobs_per_s\": %.0f, \"executor_jobs_per_s\": %.0f, \"uv_us_per_round_trip\": "
           "%.3f}\n",
           tl_version(), jobs, seq / (double)jobs * 1e6, (double)jobs / pool, (double)jobs / exec,
           floor / (double)jobs * 1e6);
    return 0;
}
