/* tl_wait and tl_wait_for: waiting with a time limit.
 *
 * Both keep their deadline in the waiting task's own timer (the one
 * tl_sleep uses; a task sleeps or waits, never both), so a timed wait
 * allocates nothing. tl_wait never cancels what it waits for. tl_wait_for
 * does: when the time is up it cancels the task and goes on waiting until
 * the task has finished, so a task that finishes anyway keeps its result. */
#include <limits.h>
#include <math.h>

#include "waitset.h"

/* ---- tl_wait ---- */

typedef struct waitany {
    tl__waitset ws;
    tl_task *self; /* parked in tl_wait, until woken */
    int return_when;
} waitany;

static bool satisfied(int return_when, int code, size_t left)
{
    return left == 0 || return_when == TL_FIRST_COMPLETED ||
           (return_when == TL_FIRST_EXCEPTION && code < 0 && code != TL_ECANCELED);
}

static void waitany_done(tl__waitset *ws, size_t i, int code)
{
    (void)i;
    waitany *w = tl__container_of(ws, waitany, ws);
    if (w->self && satisfied(w->return_when, code, ws->left))
        tl__wake_slot(&w->self, 0);
}

static void waitany_detach(tl_task *t, void *ctx)
{
    ((waitany *)ctx)->self = NULL;
    tl__timer_remove(t->loop, &t->timer);
}

static void waitany_timeout(void *timer)
{
    tl_task *t = tl__container_of(timer, tl_task, timer);
    if (t->state == TL__WAITING && t->wait_detach == waitany_detach)
        tl__wake_slot(&((waitany *)t->wait_ctx)->self, 0);
}

static bool already_satisfied(const waitany *w)
{
    if (w->ws.left == 0)
        return true;
    for (size_t i = 0; i < w->ws.n; i++) {
        tl_task *t = w->ws.tasks[i];
        if (t->state == TL__DONE && satisfied(w->return_when, t->result, w->ws.left))
            return true;
    }
    return false;
}

int tl_wait(tl_task *const *tasks, size_t n, double timeout, int return_when)
{
    tl_task *self = tl__need_task("tl_wait");
    if (n == 0 || isnan(timeout) || return_when < TL_FIRST_COMPLETED ||
        return_when > TL_ALL_COMPLETED)
        return TL_EINVAL;
    waitany w = {.return_when = return_when};
    int rc = tl__waitset_init(&w.ws, tasks, n, waitany_done, "tl_wait");
    if (rc)
        return rc;
    if (!already_satisfied(&w)) {
        rc = tl__interrupt(self);
        if (rc == 0) {
            if (timeout >= 0) {
                self->timer.fire = waitany_timeout;
                tl__timer_add(self->loop, &self->timer, tl__deadline_after(timeout));
            }
            w.self = self;
            rc = tl__wait_on(self, TL__WAIT_SET, "wait", &w.ws, waitany_detach, &w);
            tl__timer_remove(self->loop, &self->timer);
        }
    }
    tl__waitset_destroy(&w.ws);
    if (rc)
        return rc;
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += tasks[i]->state == TL__DONE;
    return (int)(done < (size_t)INT_MAX ? done : (size_t)INT_MAX);
}

/* ---- tl_wait_for ---- */

typedef struct waitfor {
    tl__waiter w; /* in the task's awaiter list */
    tl_task *task;
    bool timed_out;
} waitfor;

static void waitfor_detach(tl_task *self, void *ctx)
{
    waitfor *wf = ctx;
    tl__wlist_remove(&wf->task->awaiters, &wf->w);
    tl__timer_remove(self->loop, &self->timer);
}

static void waitfor_timeout(void *timer)
{
    tl_task *self = tl__container_of(timer, tl_task, timer);
    if (self->state != TL__WAITING || self->wait_detach != waitfor_detach)
        return;
    waitfor *wf = self->wait_ctx;
    wf->timed_out = true;
    tl_task_cancel(wf->task);
}

static int timed_out_result(int rc)
{
    return rc == TL_ECANCELED ? TL_ETIMEDOUT : rc;
}

int tl_wait_for(tl_task *t, double timeout)
{
    tl_task *self = tl__need_task("tl_wait_for");
    if (t == self) {
        char buf[40];
        tl__fatal("tl_wait_for: task '%s' waits on itself: it would wait forever",
                  tl__task_name_buf(t, buf, sizeof buf));
    }
    if (isnan(timeout))
        return TL_EINVAL;
    if (t->state == TL__DONE) {
        t->flags |= TL__RETRIEVED;
        return t->result;
    }
    int rc = tl__interrupt(self);
    if (rc) {
        tl__cancel_and_wait(self, t);
        return rc;
    }
    if (timeout <= 0)
        return timed_out_result(tl__cancel_and_wait(self, t));
    waitfor wf = {.w = {.task = self}, .task = t};
    tl__wlist_push(&t->awaiters, &wf.w);
    if (!isinf(timeout)) {
        self->timer.fire = waitfor_timeout;
        tl__timer_add(self->loop, &self->timer, tl__deadline_after(timeout));
    }
    rc = tl__wait_on(self, TL__WAIT_TASK, "task", t, waitfor_detach, &wf);
    if (self->flags & TL__INTERRUPTED) {
        tl__cancel_and_wait(self, t);
        return rc;
    }
    tl__timer_remove(self->loop, &self->timer);
    return wf.timed_out ? timed_out_result(rc) : rc;
}
