/* The scheduler: how a task gives up the CPU and how the next one gets it.
 *
 * Everything runnable waits in one FIFO, the ready queue. The loop drains it
 * on the thread's own stack (tl__run_ready). A task that parks does not go
 * back there first when the next item is a task too: it switches straight to
 * that task, so a hand-off between two tasks is one context switch. A budget
 * bounds how many items run before the loop polls I/O again, so tasks that
 * keep yielding cannot starve the sockets. */
#include "internal.h"

#define BUDGET 1024

TL__TLS tl_loop *tl__loop;

void tl__no_loop(const char *fn)
{
    tl__fatal("%s called outside a running loop (call it from a task, inside tl_run)", fn);
}

void tl__no_task(const char *fn)
{
    tl__fatal("%s suspends, so it must be called from a task (inside tl_run), not from "
              "a callback or plain thread",
              fn);
}

static inline void slice_begin(tl_loop *loop)
{
    if (tl__debug)
        loop->slice_start = uv_hrtime();
}

static void slice_end_task(tl_loop *loop, tl_task *t)
{
    if (!loop->slice_start)
        return; /* debug mode was turned on while this task ran */
    uint64_t ns = uv_hrtime() - loop->slice_start;
    if ((double)ns > tl__slow_threshold * 1e9) {
        char buf[40];
        tl__debug_slow(loop, "task", tl__task_name_buf(t, buf, sizeof buf), t->id, ns);
    }
}

/* Leaving t: notes how deep its stack went and checks the canary. */
void tl__leaving(tl_loop *loop, tl_task *t)
{
    const void *sp = __builtin_frame_address(0);
    if (sp < t->low_water)
        t->low_water = sp;
    if (__builtin_expect(t->flags & TL__CANARY, 0) && !tl__stack_canary_ok(&t->stack)) {
        char msg[256];
        tl__overflow_message(t, msg, sizeof msg);
        tl__fatal("%s", msg);
    }
    if (tl__debug)
        slice_end_task(loop, t);
}

/* The context to run after the current task: the next ready task if the
 * budget allows, else the loop. */
static tl__ctx *next_ctx(tl_loop *loop)
{
    tl__item *it = loop->ready.head;
    if (it && it->kind == TL__ITEM_TASK && loop->budget > 0) {
        tl__runq_pop(&loop->ready);
        loop->budget--;
        tl_task *n = tl__container_of(it, tl_task, item);
        n->state = n->state == TL__CREATED ? TL__CREATED : TL__RUNNING;
        loop->current = n;
        slice_begin(loop);
        return &n->ctx;
    }
    loop->current = NULL;
    return &loop->sched;
}

void tl__park(tl_task *t)
{
    tl_loop *loop = t->loop;
    tl__leaving(loop, t);
    tl__ctx *to = next_ctx(loop);
    if (to != &t->ctx)
        tl__ctx_switch(&t->ctx, to);
    t->state = TL__RUNNING;
}

void tl__exit_task(tl_loop *loop)
{
    tl__ctx_exit(&loop->dead_ctx, next_ctx(loop));
}

void tl__wake(tl_task *t, int code)
{
    t->wake_code = code;
    t->state = TL__READY;
    t->wait_what = NULL;
    t->wait_detach = NULL;
    t->wake_undo = NULL;
    tl__ready_push(t->loop, &t->item);
}

void tl__wake_handoff(tl_task *t, int code, tl__detach_fn undo, void *ctx)
{
    tl__wake(t, code);
    t->wake_undo = undo;
    t->wake_undo_ctx = ctx;
}

int tl__wait_on(tl_task *t, tl__wait_kind kind, const char *what, void *obj, tl__detach_fn detach,
                void *ctx)
{
    t->state = TL__WAITING;
    t->wait_kind = kind;
    t->flags &= (uint8_t)~TL__INTERRUPTED;
    t->wait_what = what;
    t->wait_obj = obj;
    t->wait_detach = detach;
    t->wait_ctx = ctx;
    tl__park(t);
    t->wake_undo = NULL;
    return t->wake_code;
}

static void run_item(tl_loop *loop, tl__item *it)
{
    switch ((enum tl__item_kind)it->kind) {
    case TL__ITEM_TASK: {
        tl_task *t = tl__container_of(it, tl_task, item);
        if (t->state != TL__CREATED)
            t->state = TL__RUNNING;
        loop->current = t;
        slice_begin(loop);
        tl__ctx_switch(&loop->sched, &t->ctx);
        loop->current = NULL;
        break;
    }
    case TL__ITEM_CALL:
        tl__call_run(it);
        break;
    case TL__ITEM_FUTCB:
        tl__futcb_run(it);
        break;
    case TL__ITEM_STOP:
        loop->stopping = true;
        break;
    }
}

/* Beside run_item, so that a new kind is added to both switches at once
 * (-Wswitch names the one forgotten). */
void tl__item_drop(tl__item *it)
{
    switch ((enum tl__item_kind)it->kind) {
    case TL__ITEM_CALL:
        tl__call_drop(it);
        break;
    case TL__ITEM_FUTCB:
        tl__futcb_drop(it);
        break;
    case TL__ITEM_TASK: /* the task's memory is the loop's to free */
    case TL__ITEM_STOP: /* embedded in the loop */
        break;
    }
}

void tl__run_ready(tl_loop *loop)
{
    loop->budget = BUDGET;
    tl__item *it;
    while (loop->budget > 0 && !loop->stopping && (it = tl__runq_pop(&loop->ready))) {
        loop->budget--;
        if (tl__debug && it->kind != TL__ITEM_TASK) {
            uint64_t t0 = uv_hrtime();
            run_item(loop, it);
            uint64_t ns = uv_hrtime() - t0;
            if ((double)ns > tl__slow_threshold * 1e9)
                tl__debug_slow(loop, "callback", "", 0, ns);
        } else {
            run_item(loop, it);
        }
    }
}

/* ---- waiter lists ---- */

void tl__wlist_remove(tl__wlist *l, tl__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
    w->next = w->prev = NULL;
}

void tl__list_waiter_detach(tl_task *t, void *ctx)
{
    (void)t;
    tl__list_waiter *lw = ctx;
    tl__wlist_remove(lw->list, &lw->w);
}

void tl__wlist_wake_all(tl__wlist *l, int code)
{
    tl__waiter *w = l->head;
    l->head = l->tail = NULL;
    while (w) {
        tl__waiter *next = w->next;
        if (w->notify)
            w->notify(w, code);
        else
            tl__wake(w->task, code);
        w = next;
    }
}
