/* tl_gather: wait for a set of tasks and collect their results.
 *
 * The gatherer parks once; the set's nodes count tasks down as they finish
 * and wake it when all are done, or at the first error unless every result
 * is wanted. Cancelled while it waits, the gatherer cancels the tasks it
 * still waits for and, shielded, waits until they have finished. */
#include "waitset.h"

typedef struct gather {
    tl__waitset ws;
    tl_task *self; /* parked in tl_gather, until woken */
    int first_error;
    bool want_all; /* TL_RETURN_EXCEPTIONS, or cancelled: only the last task wakes */
} gather;

static void gather_done(tl__waitset *ws, size_t i, int code)
{
    (void)i;
    gather *g = tl__container_of(ws, gather, ws);
    if (!g->self)
        return;
    if (code < 0 && !g->want_all) {
        g->first_error = code;
        tl__wake_slot(&g->self, 0);
    } else if (ws->left == 0) {
        tl__wake_slot(&g->self, 0);
    }
}

static void gather_detach(tl_task *t, void *ctx)
{
    (void)t;
    ((gather *)ctx)->self = NULL;
}

static int park(gather *g, tl_task *self)
{
    g->self = self;
    return tl__wait_on(self, TL__WAIT_SET, "gather", &g->ws, gather_detach, g);
}

/* The first error among the tasks done before the gather began, in order. */
static int done_error(tl_task *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tasks[i]->state == TL__DONE && tasks[i]->result < 0)
            return tasks[i]->result;
    return 0;
}

static void cancel_and_drain(gather *g, tl_task *self)
{
    for (size_t i = 0; i < g->ws.n; i++)
        tl_task_cancel(g->ws.tasks[i]);
    g->want_all = true;
    self->shield++;
    while (g->ws.left)
        park(g, self);
    self->shield--;
}

int tl_gather(tl_task *const *tasks, size_t n, int *results, unsigned flags)
{
    tl_task *self = tl__need_task("tl_gather");
    if (flags & ~TL_RETURN_EXCEPTIONS)
        return TL_EINVAL;
    gather g = {.want_all = (flags & TL_RETURN_EXCEPTIONS) != 0};
    int rc = tl__waitset_init(&g.ws, tasks, n, gather_done, "tl_gather");
    if (rc)
        return rc;
    if (!g.want_all)
        rc = done_error(tasks, n);
    if (rc == 0 && g.ws.left) {
        int intr = tl__interrupt(self);
        if (intr == 0) {
            int woke = park(&g, self);
            if (self->flags & TL__INTERRUPTED)
                intr = woke;
            else
                rc = g.first_error;
        }
        if (intr) {
            cancel_and_drain(&g, self);
            rc = intr;
        }
    }
    tl__waitset_destroy(&g.ws);
    /* Like asyncio, a gather that returned reads every task's error, so one
     * that fails after the first error is not reported as never retrieved. */
    for (size_t i = 0; i < n; i++) {
        tasks[i]->flags |= TL__RETRIEVED;
        if (results)
            results[i] = tasks[i]->state == TL__DONE ? tasks[i]->result : TL_EAGAIN;
    }
    return rc;
}

int tl_gather_coros(const tl_coro *coros, size_t n, int *results, unsigned flags)
{
    tl__need_task("tl_gather_coros");
    if (flags & ~TL_RETURN_EXCEPTIONS)
        return TL_EINVAL;
    if (n == 0)
        return 0;
    tl_task *small[TL__WAITSET_SMALL];
    tl_task **tasks = small;
    if (n > TL__WAITSET_SMALL && !(tasks = tl__malloc(n * sizeof *tasks)))
        return TL_ENOMEM;
    size_t made = 0;
    int rc = 0;
    for (; made < n; made++) {
        if (!coros[made].fn) {
            rc = TL_EINVAL;
            break;
        }
        if (!(tasks[made] = tl_create_task(coros[made].fn, coros[made].arg))) {
            rc = TL_ENOMEM;
            break;
        }
    }
    if (rc == 0)
        rc = tl_gather(tasks, n, results, flags);
    if (rc < 0) {
        /* Nobody else holds these tasks and their arguments usually live in
         * the caller's frame: unlike tl_gather, the rest are cancelled and
         * waited for (those not started yet never run). */
        tl_task *self = tl__loop->current;
        for (size_t i = 0; i < made; i++)
            tl_task_cancel(tasks[i]);
        for (size_t i = 0; i < made; i++) {
            tl__cancel_and_wait(self, tasks[i]);
            if (results && i < n)
                results[i] = tasks[i]->result;
        }
    }
    for (size_t i = 0; i < made; i++)
        tl_task_release(tasks[i]);
    if (tasks != small)
        tl__free(tasks);
    return rc;
}
