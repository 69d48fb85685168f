/* tl_as_completed: hand tasks out in the order they finish.
 *
 * The iterator links one node into each task at init; a task that finishes
 * puts its node on a ready list (reusing the node's link, free once the
 * task has unlinked it) and wakes the consumer if one waits. Tasks done
 * before init come first, in array order. The iterator holds a reference
 * to each task, so the handles it gives out stay valid until _destroy. */
#include <math.h>

#include "waitset.h"

typedef struct ac {
    tl__waitset ws;
    tl_task **tasks; /* retained */
    tl__waiter *ready, **ready_tail;
    size_t handed;     /* tasks handed out */
    tl_task *self;     /* parked in _next, until woken */
    uint64_t deadline; /* UINT64_MAX: none */
    bool timed_out;
} ac;

static void ready_push(ac *a, size_t i)
{
    tl__waiter *w = &a->ws.nodes[i];
    w->next = NULL;
    *a->ready_tail = w;
    a->ready_tail = &w->next;
}

static void ac_done(tl__waitset *ws, size_t i, int code)
{
    (void)code;
    ac *a = tl__container_of(ws, ac, ws);
    ready_push(a, i);
    if (a->self)
        tl__wake_slot(&a->self, 0);
}

static void ac_detach(tl_task *t, void *ctx)
{
    ((ac *)ctx)->self = NULL;
    tl__timer_remove(t->loop, &t->timer);
}

static void ac_timeout(void *timer)
{
    tl_task *t = tl__container_of(timer, tl_task, timer);
    if (t->state != TL__WAITING || t->wait_detach != ac_detach)
        return;
    ac *a = t->wait_ctx;
    a->timed_out = true;
    tl__wake_slot(&a->self, 0);
}

int tl_as_completed_init(tl_as_completed *it, tl_task *const *tasks, size_t n, double timeout)
{
    it->_state = NULL;
    if (isnan(timeout))
        return TL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!tasks[i])
            return TL_EINVAL;
    ac *a = tl__calloc(1, sizeof *a);
    if (!a)
        return TL_ENOMEM;
    if (n && !(a->tasks = tl__malloc(n * sizeof *a->tasks))) {
        tl__free(a);
        return TL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        a->tasks[i] = tasks[i];
    int rc = tl__waitset_init(&a->ws, a->tasks, n, ac_done, "tl_as_completed_init");
    if (rc) {
        tl__free(a->tasks);
        tl__free(a);
        return rc;
    }
    a->ready_tail = &a->ready;
    for (size_t i = 0; i < n; i++) {
        tl_task_retain(a->tasks[i]);
        if (a->tasks[i]->state == TL__DONE)
            ready_push(a, i);
    }
    a->deadline = timeout < 0 || isinf(timeout) ? UINT64_MAX : tl__deadline_after(timeout);
    it->_state = a;
    return 0;
}

static ac *state_of(tl_as_completed *it, const char *fn)
{
    if (!it->_state)
        tl__fatal("%s on an iterator that was not initialised or was destroyed", fn);
    return it->_state;
}

int tl_as_completed_next(tl_as_completed *it, tl_task **out)
{
    tl_task *self = tl__need_task("tl_as_completed_next");
    ac *a = state_of(it, "tl_as_completed_next");
    for (;;) {
        if (a->ready) {
            tl__waiter *w = a->ready;
            if (!(a->ready = w->next))
                a->ready_tail = &a->ready;
            tl_task *t = a->tasks[w - a->ws.nodes];
            t->flags |= TL__RETRIEVED;
            a->handed++;
            *out = t;
            return 0;
        }
        if (a->handed == a->ws.n)
            return TL_EOF;
        if (a->timed_out || uv_hrtime() >= a->deadline)
            return TL_ETIMEDOUT;
        if (a->self)
            return TL_EBUSY;
        int rc = tl__interrupt(self);
        if (rc)
            return rc;
        if (a->deadline != UINT64_MAX) {
            self->timer.fire = ac_timeout;
            tl__timer_add(self->loop, &self->timer, a->deadline);
        }
        a->self = self;
        rc = tl__wait_on(self, TL__WAIT_SET, "as_completed", &a->ws, ac_detach, a);
        tl__timer_remove(self->loop, &self->timer);
        if (rc)
            return rc;
    }
}

void tl_as_completed_destroy(tl_as_completed *it)
{
    ac *a = it->_state;
    if (!a)
        return;
    if (a->self)
        tl__fatal("tl_as_completed_destroy while a task waits in tl_as_completed_next");
    tl__waitset_destroy(&a->ws);
    for (size_t i = 0; i < a->ws.n; i++)
        tl_task_release(a->tasks[i]);
    tl__free(a->tasks);
    tl__free(a);
    it->_state = NULL;
}
