/* tl_to_thread on libuv's pool, and executors: pools of threads of their
 * own, for CPU-heavy work that would otherwise hold libuv's few threads away
 * from file operations and name lookups.
 *
 * A job record lives in the waiting task's frame; tl__pool_wait keeps the
 * task there until no thread can touch the record again. */
#include "os.h"

typedef struct uv_job {
    uv_work_t req;
    tl__poolwait pw;
    tl_fn fn;
    void *arg;
    int result;
} uv_job;

static void uv_job_run(uv_work_t *req)
{
    uv_job *j = req->data;
    j->result = j->fn(j->arg);
}

static void uv_job_after(uv_work_t *req, int status)
{
    (void)status; /* UV_ECANCELED: withdrawn, and the waiter knows why */
    uv_job *j = req->data;
    tl__pool_done(&j->pw);
}

int tl_to_thread(tl_fn fn, void *arg)
{
    tl_task *self = tl__need_task("tl_to_thread");
    if (!fn)
        return TL_EINVAL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    uv_job j = {.fn = fn, .arg = arg};
    j.req.data = &j;
    j.pw.withdraw = tl__pool_withdraw_uv;
    j.pw.req = &j.req;
    rc = tl__fault_point() ? TL_ENOMEM
                           : uv_queue_work(&self->loop->uv, &j.req, uv_job_run, uv_job_after);
    if (rc)
        return rc;
    rc = tl__pool_wait(self, &j.pw, "thread");
    return rc ? rc : j.result;
}

/* ---- executors ---- */

enum { JOB_QUEUED, JOB_RUNNING, JOB_OVER };

typedef struct ex_job ex_job;
struct ex_job {
    ex_job *prev, *next; /* in the queue while JOB_QUEUED */
    tl_executor *ex;
    tl_loop *loop;
    tl__tsnode node; /* tells the loop the job is over */
    tl__poolwait pw;
    tl_fn fn;
    void *arg;
    int result;
    int state; /* under ex->lock */
};

struct tl_executor {
    uv_mutex_t lock;
    uv_cond_t cond;
    ex_job *head, *tail;
    bool stopping;
    unsigned nthreads;
    uv_thread_t threads[];
};

static void unqueue(tl_executor *ex, ex_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        ex->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        ex->tail = j->prev;
}

static void job_over(void *arg)
{
    ex_job *j = arg;
    tl__pool_done(&j->pw);
}

/* Called with the lock held, from any thread. */
static void finish(ex_job *j)
{
    j->state = JOB_OVER;
    j->node.cb = job_over;
    j->node.arg = j;
    j->node.embedded = true;
    tl__post_threadsafe(j->loop, &j->node);
}

static void worker(void *arg)
{
    tl_executor *ex = arg;
    uv_mutex_lock(&ex->lock);
    for (;;) {
        while (!ex->head && !ex->stopping)
            uv_cond_wait(&ex->cond, &ex->lock);
        ex_job *j = ex->head;
        if (!j)
            break;
        unqueue(ex, j);
        j->state = JOB_RUNNING;
        uv_mutex_unlock(&ex->lock);
        j->result = j->fn(j->arg);
        uv_mutex_lock(&ex->lock);
        finish(j);
    }
    uv_mutex_unlock(&ex->lock);
}

/* Cancelled before a thread took it: out of the queue, over at once. */
static void ex_withdraw(tl__poolwait *pw)
{
    ex_job *j = pw->req;
    tl_executor *ex = j->ex;
    uv_mutex_lock(&ex->lock);
    bool queued = j->state == JOB_QUEUED;
    if (queued) {
        unqueue(ex, j);
        j->state = JOB_OVER;
    }
    uv_mutex_unlock(&ex->lock);
    if (queued)
        pw->done = true;
}

tl_executor *tl_executor_new(unsigned nthreads)
{
    if (nthreads == 0)
        nthreads = uv_available_parallelism();
    tl_executor *ex = tl__calloc(1, sizeof *ex + nthreads * sizeof ex->threads[0]);
    if (!ex)
        return NULL;
    if (uv_mutex_init(&ex->lock) != 0) {
        tl__free(ex);
        return NULL;
    }
    if (uv_cond_init(&ex->cond) != 0) {
        uv_mutex_destroy(&ex->lock);
        tl__free(ex);
        return NULL;
    }
    for (unsigned i = 0; i < nthreads; i++) {
        if (tl__fault_point() || uv_thread_create(&ex->threads[i], worker, ex) != 0) {
            ex->nthreads = i;
            tl_executor_free(ex);
            return NULL;
        }
    }
    ex->nthreads = nthreads;
    return ex;
}

int tl_executor_run(tl_executor *ex, tl_fn fn, void *arg)
{
    tl_task *self = tl__need_task("tl_executor_run");
    if (!ex || !fn)
        return TL_EINVAL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    ex_job j = {.ex = ex, .loop = self->loop, .fn = fn, .arg = arg};
    j.pw.withdraw = ex_withdraw;
    j.pw.req = &j;
    uv_mutex_lock(&ex->lock);
    if (ex->stopping) {
        uv_mutex_unlock(&ex->lock);
        return TL_ECANCELED;
    }
    j.prev = ex->tail;
    if (ex->tail)
        ex->tail->next = &j;
    else
        ex->head = &j;
    ex->tail = &j;
    uv_cond_signal(&ex->cond);
    uv_mutex_unlock(&ex->lock);
    rc = tl__pool_wait(self, &j.pw, "executor");
    return rc ? rc : j.result;
}

void tl_executor_free(tl_executor *ex)
{
    if (!ex)
        return;
    uv_mutex_lock(&ex->lock);
    ex->stopping = true;
    /* Their callers wait on other loops, or on this thread's loop once this
     * call returns: each hears of it through its loop. */
    while (ex->head) {
        ex_job *j = ex->head;
        unqueue(ex, j);
        j->result = TL_ECANCELED;
        finish(j);
    }
    uv_cond_broadcast(&ex->cond);
    uv_mutex_unlock(&ex->lock);
    for (unsigned i = 0; i < ex->nthreads; i++)
        uv_thread_join(&ex->threads[i]);
    uv_cond_destroy(&ex->cond);
    uv_mutex_destroy(&ex->lock);
    tl__free(ex);
}
