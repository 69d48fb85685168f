/* Tasks: creation, the first and last moments of a task's life, awaiting,
 * handles and names (cancelling is in cancel.c, sleeping in timer.c).
 *
 * A task holds one reference for each handle plus one until it is done. Its
 * stack goes back to the pool the moment its function returns (awaiters get
 * the result through their wake-up code, not by touching the stack); the
 * small struct lives on until the last handle is released. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Atomic uint64_t next_id = 1;

static void task_finish(tl_task *t, int result) __attribute__((noreturn));

static void task_main(void *arg)
{
    tl_task *t = arg;
    tl__ctx_started(&t->ctx);
    t->state = TL__RUNNING;
    /* Cancelled before its first step: like asyncio, the body never runs
     * (unless the library's own task must clean up, and checks itself). */
    bool skip = (t->flags & (TL__CANCEL_REQ | TL__ALWAYS_RUNS)) == TL__CANCEL_REQ;
    int result = skip ? TL_ECANCELED : t->fn(t->arg);
    task_finish(t, result);
}

static void task_finish(tl_task *t, int result)
{
    tl_loop *loop = t->loop;
    if (t->scope) {
        char buf[40];
        tl__fatal("task '%s' returned inside a timeout scope: every tl_timeout_enter needs its "
                  "tl_timeout_exit before the task returns",
                  tl__task_name_buf(t, buf, sizeof buf));
    }
    tl__leaving(loop, t);
    t->result = result;
    t->state = TL__DONE;
    loop->nalive--;
    if (t->group)
        tl__group_child_done(t);
    if (t->awaiters.head)
        t->flags |= TL__RETRIEVED;
    tl__wlist_wake_all(&t->awaiters, result);
    if (t == loop->main)
        tl__ready_push(loop, &loop->stop_item);
    /* We are still running on the top of this stack; the pool only gives
     * back pages below the warm depth and hands the stack out again only
     * after we have switched away. */
    tl__stack_free(&loop->stacks, &t->stack, t->low_water);
    tl__task_unref(t);
    tl__exit_task(loop);
}

tl_task *tl_create_task_ex(tl_fn fn, void *arg, const tl_task_opts *opts)
{
    tl_loop *loop = tl__need_loop("tl_create_task");
    tl_task *t = tl__malloc(sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, offsetof(tl_task, name_buf));
    t->name_buf[0] = '\0';
    size_t size = opts && opts->stack_size ? opts->stack_size : TL_STACK_DEFAULT;
    if (size < TL_STACK_MIN)
        size = TL_STACK_MIN;
    if (opts && opts->name && !(t->name = tl__strdup(opts->name))) {
        tl__free(t);
        return NULL;
    }
    if (tl__stack_alloc(&loop->stacks, size, &t->stack) != 0) {
        tl__free(t->name);
        tl__free(t);
        return NULL;
    }
    t->item.kind = TL__ITEM_TASK;
    t->state = TL__CREATED;
    if (tl__stack_guard(&t->stack) == TL__GUARD_CANARY)
        t->flags |= TL__CANARY;
    t->refs = 2;
    t->loop = loop;
    t->fn = fn;
    t->arg = arg;
    t->low_water = t->stack.lo + t->stack.size;
    t->timer.fire = NULL;
    t->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
    tl__ctx_make(&t->ctx, t->stack.lo, t->stack.size - TL__STACK_RESERVED, task_main, t);
    t->all_next = loop->tasks;
    if (loop->tasks)
        loop->tasks->all_prev = t;
    loop->tasks = t;
    loop->nalive++;
    tl__ready_push(loop, &t->item);
    return t;
}

tl_task *tl_create_task(tl_fn fn, void *arg)
{
    return tl_create_task_ex(fn, arg, NULL);
}

int tl_spawn(tl_fn fn, void *arg)
{
    tl_task *t = tl_create_task_ex(fn, arg, NULL);
    if (!t)
        return TL_ENOMEM;
    tl_task_release(t);
    return 0;
}

void tl__task_free(tl_task *t)
{
    tl_loop *loop = t->loop;
    if (tl__debug)
        tl__debug_unretrieved(t);
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        loop->tasks = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    tl__free(t->name);
    free(t->detail);
    tl__free(t);
}

void tl__task_unref(tl_task *t)
{
    if (--t->refs == 0)
        tl__task_free(t);
}

tl_task *tl_task_retain(tl_task *t)
{
    t->refs++;
    return t;
}

void tl_task_release(tl_task *t)
{
    if (!t)
        return;
    if (t->refs <= (t->state == TL__DONE ? 0u : 1u))
        tl__fatal("tl_task_release: task %llu released more often than it was retained",
                  (unsigned long long)t->id);
    tl__task_unref(t);
}

/* ---- awaiting ---- */

int tl_await(tl_task *t)
{
    tl_task *self = tl__need_task("tl_await");
    if (t == self) {
        char buf[40];
        tl__fatal("task '%s' awaits itself: it would wait forever",
                  tl__task_name_buf(t, buf, sizeof buf));
    }
    if (t->state == TL__DONE) {
        t->flags |= TL__RETRIEVED;
        return t->result;
    }
    int rc = tl__interrupt(self);
    if (rc == 0) {
        rc = tl__wait_in_on(self, &t->awaiters, TL__WAIT_TASK, "task", t);
        if (!(self->flags & TL__INTERRUPTED))
            return rc;
    }
    /* The awaiter was cancelled or timed out: as in asyncio, so is the task it awaits. */
    tl_task_cancel(t);
    return rc;
}

bool tl_task_done(const tl_task *t)
{
    return t->state == TL__DONE;
}

bool tl_task_cancelled(const tl_task *t)
{
    return t->state == TL__DONE && t->result == TL_ECANCELED;
}

int tl_task_result(tl_task *t)
{
    if (t->state != TL__DONE)
        return TL_EAGAIN;
    t->flags |= TL__RETRIEVED;
    return t->result;
}

tl_task *tl_current_task(void)
{
    return tl__loop ? tl__loop->current : NULL;
}

/* ---- names and listing ---- */

const char *tl__task_name_buf(const tl_task *t, char *buf, size_t cap)
{
    if (t->name)
        return t->name;
    snprintf(buf, cap, "Task-%llu", (unsigned long long)t->id);
    return buf;
}

const char *tl_task_name(const tl_task *t)
{
    if (t->name)
        return t->name;
    /* Formatted on first use, so spawning costs no snprintf. */
    tl_task *m = (tl_task *)t;
    if (!m->name_buf[0])
        tl__task_name_buf(t, m->name_buf, sizeof m->name_buf);
    return m->name_buf;
}

int tl_task_set_name(tl_task *t, const char *name)
{
    char *copy = NULL;
    if (name && !(copy = tl__strdup(name)))
        return TL_ENOMEM;
    tl__free(t->name);
    t->name = copy;
    return 0;
}

uint64_t tl_task_id(const tl_task *t)
{
    return t->id;
}

size_t tl_all_tasks(tl_task **out, size_t cap)
{
    tl_loop *loop = tl__need_loop("tl_all_tasks");
    size_t n = 0;
    for (tl_task *t = loop->tasks; t; t = t->all_next) {
        if (t->state == TL__DONE)
            continue;
        if (n < cap)
            out[n] = tl_task_retain(t);
        n++;
    }
    return n;
}
