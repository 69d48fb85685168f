/* tl_to_thread and executors: results, the cancellation rule (withdrawn
 * before it starts, waited for once it runs), concurrency with the loop and
 * between jobs, saturation, shutdown, faults. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "fault_walk.h"
#include "util.h"

static int add_one(void *arg)
{
    int *x = arg;
    return *x + 1;
}

static int fail_with_eio(void *arg)
{
    (void)arg;
    return TL_EIO;
}

static int record_thread(void *arg)
{
    *(pthread_t *)arg = pthread_self();
    return 0;
}

static int results_and_errors(void *arg)
{
    (void)arg;
    int x = 41;
    cr_assert_eq(tl_to_thread(add_one, &x), 42);
    cr_assert_eq(tl_to_thread(fail_with_eio, NULL), TL_EIO, "a job's error is the call's result");
    pthread_t tid = pthread_self();
    cr_assert_eq(tl_to_thread(record_thread, &tid), 0);
    cr_assert(!pthread_equal(tid, pthread_self()), "the job ran on another thread");
    cr_assert_eq(tl_to_thread(NULL, NULL), TL_EINVAL);
    return 0;
}

Test(thread, returns_the_result_or_the_error_of_the_job)
{
    RUN(results_and_errors, NULL);
}

/* ---- the loop runs on while a thread computes ---- */

static double thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Burns *arg seconds of this thread's CPU. */
static int burn_cpu(void *arg)
{
    double secs = *(double *)arg, t0 = thread_cpu_now();
    volatile unsigned long x = 0;
    while (thread_cpu_now() - t0 < secs)
        for (int i = 0; i < 10000; i++)
            x = x + (unsigned long)i;
    return x == 1 ? 1 : 0; /* never 1: keeps the work */
}

typedef struct spans {
    double secs;
    atomic_int n;
    double start[2], end[2];
} spans;

/* burn_cpu, noting when it ran. */
static int burn_timed(void *arg)
{
    spans *sp = arg;
    int i = atomic_fetch_add(&sp->n, 1);
    sp->start[i] = tl_time();
    burn_cpu(&sp->secs);
    sp->end[i] = tl_time();
    return 0;
}

typedef struct ticker {
    int ticks;
    bool stop;
} ticker;

static int tick(void *arg)
{
    ticker *t = arg;
    while (!t->stop && tl_sleep(0.01) == 0)
        t->ticks++;
    return 0;
}

static int cpu_job_beside_sleepers(void *arg)
{
    (void)arg;
    ticker tk = {0};
    tl_task *t = tl_create_task(tick, &tk);
    double secs = 0.3;
    cr_assert_eq(tl_to_thread(burn_cpu, &secs), 0);
    tk.stop = true;
    tl_await(t);
    tl_task_release(t);
    /* 30 ticks of 10 ms fit in 0.3 s; a loop held by the job would get 0. */
    cr_assert_geq(tk.ticks, 10, "only %d ticks while the thread computed", tk.ticks);
    return 0;
}

Test(thread, a_cpu_job_does_not_stop_other_tasks)
{
    RUN(cpu_job_beside_sleepers, NULL);
}

typedef struct overlap {
    atomic_int running;
    atomic_int saw_both;
} overlap;

/* Waits (up to 5 s) until the other job is running too. */
static int meet_the_other(void *arg)
{
    overlap *o = arg;
    atomic_fetch_add(&o->running, 1);
    for (int i = 0; i < 5000 && atomic_load(&o->running) < 2; i++)
        usleep(1000);
    if (atomic_load(&o->running) >= 2)
        atomic_fetch_add(&o->saw_both, 1);
    return 0;
}

typedef struct pair_job {
    tl_executor *ex; /* NULL: tl_to_thread */
    tl_fn fn;
    void *arg;
} pair_job;

static int run_job(void *arg)
{
    pair_job *p = arg;
    return p->ex ? tl_executor_run(p->ex, p->fn, p->arg) : tl_to_thread(p->fn, p->arg);
}

/* Runs fn(arg) twice at once on ex (or the pool); the wall time. */
static double run_two(tl_executor *ex, tl_fn fn, void *arg)
{
    pair_job p = {ex, fn, arg};
    double t0 = tl_time();
    tl_task *a = tl_create_task(run_job, &p), *b = tl_create_task(run_job, &p);
    cr_assert_eq(tl_await(a), 0);
    cr_assert_eq(tl_await(b), 0);
    tl_task_release(a);
    tl_task_release(b);
    return tl_time() - t0;
}

static int two_jobs_overlap(void *arg)
{
    tl_executor *ex = arg;
    overlap o = {0};
    run_two(ex, meet_the_other, &o);
    cr_assert_eq(atomic_load(&o.saw_both), 2, "both jobs were running at the same time");

    /* On 2 cores two CPU jobs take about the time of one: their runs span
     * the same interval. (Compared as intervals, not against a lone job's
     * time, so that other programs on this shared machine do not decide.) */
    spans sp = {.secs = 0.15};
    run_two(ex, burn_timed, &sp);
    double first_end = sp.end[0] < sp.end[1] ? sp.end[0] : sp.end[1];
    double last_start = sp.start[0] > sp.start[1] ? sp.start[0] : sp.start[1];
    double whole = (sp.end[0] > sp.end[1] ? sp.end[0] : sp.end[1]) -
                   (sp.start[0] < sp.start[1] ? sp.start[0] : sp.start[1]);
    double shared = (first_end - last_start) / whole;
    /* One after the other would give 0; the bound leaves room for the
     * other tests Criterion runs beside this one. */
    cr_assert_gt(shared, 0.5, "the two jobs ran together for %.0f%% of the time", shared * 100);
    return 0;
}

Test(thread, two_jobs_run_in_parallel)
{
    RUN(two_jobs_overlap, NULL);
}

Test(executor, two_jobs_run_in_parallel)
{
    tl_executor *ex = tl_executor_new(2);
    cr_assert_not_null(ex);
    RUN(two_jobs_overlap, ex);
    tl_executor_free(ex);
}

/* ---- the cancellation rule ---- */

typedef struct gate {
    atomic_int open;
    atomic_int started, finished;
} gate;

/* Runs until the gate opens (at most 5 s). */
static int wait_at_gate(void *arg)
{
    gate *g = arg;
    atomic_fetch_add(&g->started, 1);
    for (int i = 0; i < 5000 && !atomic_load(&g->open); i++)
        usleep(1000);
    atomic_fetch_add(&g->finished, 1);
    return 0;
}

static int mark_ran(void *arg)
{
    atomic_store((atomic_int *)arg, 1);
    return 0;
}

typedef struct withdrawn {
    tl_executor *ex;
    int nblockers; /* the pool's threads */
} withdrawn;

static int cancelled_before_it_starts(void *arg)
{
    withdrawn *w = arg;
    gate g = {0};
    pair_job block = {w->ex, wait_at_gate, &g};
    tl_task *blockers[8];
    for (int i = 0; i < w->nblockers; i++)
        blockers[i] = tl_create_task(run_job, &block);
    while (atomic_load(&g.started) < w->nblockers)
        tl_sleep(0.001);

    /* Every thread is busy: this job waits in the queue, and is withdrawn. */
    atomic_int ran = 0;
    pair_job queued = {w->ex, mark_ran, &ran};
    tl_task *t = tl_create_task(run_job, &queued);
    tl_sleep(0.02);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    cr_assert_eq(atomic_load(&g.finished), 0, "the cancelled call did not wait for the pool");
    tl_task_release(t);

    /* A timeout of 0 ends the wait as soon as it starts: the job never runs either. */
    tl_timeout scope;
    tl_timeout_enter(&scope, 0);
    int rc = run_job(&queued);
    tl_timeout_exit(&scope);
    cr_assert_eq(rc, TL_ETIMEDOUT);

    atomic_store(&g.open, 1);
    for (int i = 0; i < w->nblockers; i++) {
        cr_assert_eq(tl_await(blockers[i]), 0);
        tl_task_release(blockers[i]);
    }
    tl_sleep(0.05); /* time for a wrongly started job to show */
    cr_assert_eq(atomic_load(&ran), 0, "a job cancelled before it started never runs");
    return 0;
}

Test(thread, a_job_cancelled_before_it_starts_never_runs)
{
    withdrawn w = {NULL, 4}; /* libuv's default pool */
    RUN(cancelled_before_it_starts, &w);
}

Test(executor, a_job_cancelled_before_it_starts_never_runs)
{
    withdrawn w = {tl_executor_new(1), 1};
    cr_assert_not_null(w.ex);
    RUN(cancelled_before_it_starts, &w);
    tl_executor_free(w.ex);
}

/* Runs 0.1 s, then writes into the caller's memory. */
static int slow_then_write(void *arg)
{
    gate *g = arg;
    atomic_store(&g->started, 1);
    usleep(100 * 1000);
    atomic_store(&g->finished, 1);
    return 0;
}

static int cancelled_while_running(void *arg)
{
    tl_executor *ex = arg;
    gate g = {0};
    pair_job p = {ex, slow_then_write, &g};
    tl_task *t = tl_create_task(run_job, &p);
    while (!atomic_load(&g.started))
        tl_sleep(0.001);
    tl_task_cancel(t);
    tl_task_cancel(t); /* twice: still waited for */
    int rc = tl_await(t);
    cr_assert_eq(rc, TL_ECANCELED);
    cr_assert_eq(atomic_load(&g.finished), 1, "returned only after the job finished");
    tl_task_release(t);

    /* The same under a timeout scope. */
    g.started = g.finished = 0;
    double t0 = tl_time();
    tl_timeout scope;
    tl_timeout_enter(&scope, 0.02);
    rc = run_job(&p);
    tl_timeout_exit(&scope);
    cr_assert_eq(rc, TL_ETIMEDOUT);
    cr_assert_eq(atomic_load(&g.finished), 1);
    cr_assert_geq(tl_time() - t0, 0.09);
    return 0;
}

Test(thread, a_job_cancelled_while_running_is_waited_for)
{
    RUN(cancelled_while_running, NULL);
}

Test(executor, a_job_cancelled_while_running_is_waited_for)
{
    tl_executor *ex = tl_executor_new(1);
    cr_assert_not_null(ex);
    RUN(cancelled_while_running, ex);
    tl_executor_free(ex);
}

static int already_cancelled(void *arg)
{
    (void)arg;
    atomic_int ran = 0;
    tl_task_cancel(tl_current_task());
    cr_assert_eq(tl_to_thread(mark_ran, &ran), TL_ECANCELED);
    cr_assert_eq(tl_sleep(0), TL_ECANCELED, "sticky: still cancelled");
    cr_assert_eq(atomic_load(&ran), 0);
    return 0;
}

Test(thread, a_cancelled_task_starts_no_job)
{
    RUN(already_cancelled, NULL);
}

/* ---- saturation ---- */

#define NJOBS 1000

typedef struct many {
    tl_executor *ex;
    int in[NJOBS];
    atomic_int done;
} many;

typedef struct one_of_many {
    many *m;
    int i;
} one_of_many;

static int square(void *arg)
{
    one_of_many *o = arg;
    atomic_fetch_add(&o->m->done, 1);
    return o->m->in[o->i] * o->m->in[o->i] % 1000;
}

static int run_square(void *arg)
{
    one_of_many *o = arg;
    return o->m->ex ? tl_executor_run(o->m->ex, square, o) : tl_to_thread(square, o);
}

static int thousand_jobs(void *arg)
{
    many *m = arg;
    static one_of_many jobs[NJOBS];
    tl_task *tasks[NJOBS];
    for (int i = 0; i < NJOBS; i++) {
        m->in[i] = i;
        jobs[i] = (one_of_many){m, i};
        tasks[i] = tl_create_task(run_square, &jobs[i]);
        cr_assert_not_null(tasks[i]);
    }
    cr_assert_eq(tl_gather(tasks, NJOBS, NULL, 0), 0);
    for (int i = 0; i < NJOBS; i++) {
        cr_assert_eq(tl_task_result(tasks[i]), i * i % 1000, "job %d", i);
        tl_task_release(tasks[i]);
    }
    cr_assert_eq(atomic_load(&m->done), NJOBS);
    return 0;
}

Test(thread, a_thousand_jobs_saturate_the_pool_and_all_complete)
{
    static many m;
    RUN(thousand_jobs, &m);
}

Test(executor, a_thousand_jobs_saturate_it_and_all_complete)
{
    static many m;
    m.ex = tl_executor_new(3);
    cr_assert_not_null(m.ex);
    RUN(thousand_jobs, &m);
    tl_executor_free(m.ex);
}

/* ---- executors: shutdown, several loops ---- */

static int slow_job(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    usleep(200 * 1000);
    return 7;
}

typedef struct shutdown_case {
    tl_executor *ex;
    atomic_int ran;
} shutdown_case;

static int run_counted(void *arg)
{
    shutdown_case *c = arg;
    return tl_executor_run(c->ex, slow_job, &c->ran);
}

static int free_with_jobs_queued(void *arg)
{
    shutdown_case *c = arg;
    tl_task *running = tl_create_task(run_counted, c);
    tl_task *queued = tl_create_task(run_counted, c);
    tl_sleep(0.05);
    tl_executor_free(c->ex); /* blocks until the running job returns */
    cr_assert_eq(tl_await(running), 7, "the running job finished");
    cr_assert_eq(tl_await(queued), TL_ECANCELED, "the queued job was dropped");
    cr_assert_eq(atomic_load(&c->ran), 1);
    tl_task_release(running);
    tl_task_release(queued);
    return 0;
}

Test(executor, free_waits_for_running_jobs_and_drops_queued_ones)
{
    shutdown_case c = {tl_executor_new(1), 0};
    cr_assert_not_null(c.ex);
    RUN(free_with_jobs_queued, &c);
}

static int hundred_on_shared(void *arg)
{
    static _Thread_local one_of_many jobs[100];
    many *m = arg;
    for (int i = 0; i < 100; i++) {
        jobs[i] = (one_of_many){m, i};
        cr_assert_eq(run_square(&jobs[i]), i * i % 1000);
    }
    return 0;
}

static void *loop_thread(void *arg)
{
    return (void *)(intptr_t)tl_run(hundred_on_shared, arg);
}

Test(executor, loops_on_two_threads_share_one)
{
    static many m;
    for (int i = 0; i < 100; i++)
        m.in[i] = i;
    m.ex = tl_executor_new(2);
    cr_assert_not_null(m.ex);
    pthread_t a, b;
    pthread_create(&a, NULL, loop_thread, &m);
    pthread_create(&b, NULL, loop_thread, &m);
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    cr_assert_eq((intptr_t)ra, 0);
    cr_assert_eq((intptr_t)rb, 0);
    cr_assert_eq(atomic_load(&m.done), 200);
    tl_executor_free(m.ex);
}

Test(executor, bad_arguments)
{
    tl_executor_free(NULL);
    tl_executor *ex = tl_executor_new(0); /* one per CPU */
    cr_assert_not_null(ex);
    tl_executor_free(ex);
}

/* ---- faults ---- */

static int thread_workload(void *arg)
{
    (void)arg;
    int x = 1;
    int rc = tl_to_thread(add_one, &x);
    if (rc < 0)
        return rc;
    cr_assert_eq(rc, 2);
    tl_executor *ex = tl_executor_new(2);
    if (!ex)
        return TL_ENOMEM;
    rc = tl_executor_run(ex, add_one, &x);
    tl_executor_free(ex);
    if (rc < 0)
        return rc;
    cr_assert_eq(rc, 2);
    return 0;
}

Test(thread, every_fault_point_fails_cleanly)
{
    fault_walk(thread_workload, NULL, 200);
}
