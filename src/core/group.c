/* Task groups (asyncio.TaskGroup): structured concurrency.
 *
 * A group owns its children's handles until tl_group_free, so their results
 * can be read after tl_group_wait. Each child points back at its group; its
 * finish (task.c) calls tl__group_child_done, which counts it down, records
 * the first real error and cancels the siblings, and wakes the group's
 * waiter once none is left running. No node is allocated per child. */
#include "internal.h"

struct tl_group {
    tl_task *children; /* every child, in spawn order, linked by group_next */
    tl_task **tail;
    size_t running;
    int error;       /* the first child error other than TL_ECANCELED */
    bool aborting;   /* the children were cancelled: new ones start cancelled */
    tl_task *waiter; /* parked in tl_group_wait */
};

tl_group *tl_group_new(void)
{
    tl__need_loop("tl_group_new");
    tl_group *g = tl__calloc(1, sizeof *g);
    if (g)
        g->tail = &g->children;
    return g;
}

static void abort_children(tl_group *g)
{
    g->aborting = true;
    for (tl_task *c = g->children; c; c = c->group_next)
        tl_task_cancel(c);
}

tl_task *tl_group_spawn_ex(tl_group *g, tl_fn fn, void *arg, const tl_task_opts *opts)
{
    tl_task *t = tl_create_task_ex(fn, arg, opts);
    if (!t)
        return NULL;
    t->group = g;
    t->group_next = NULL;
    *g->tail = t;
    g->tail = &t->group_next;
    g->running++;
    if (g->aborting)
        tl_task_cancel(t); /* before its first step: its function never runs */
    return t;
}

tl_task *tl_group_spawn(tl_group *g, tl_fn fn, void *arg)
{
    return tl_group_spawn_ex(g, fn, arg, NULL);
}

void tl__group_child_done(tl_task *t)
{
    tl_group *g = t->group;
    g->running--;
    if (t->result < 0 && t->result != TL_ECANCELED && !g->error) {
        /* The group reports this one; debug mode reports later failures
         * that nobody reads (asyncio would gather them all). */
        t->flags |= TL__RETRIEVED;
        g->error = t->result;
        abort_children(g);
    }
    if (g->running == 0 && g->waiter)
        tl__wake_slot(&g->waiter, 0);
}

static void group_detach(tl_task *t, void *ctx)
{
    (void)t;
    ((tl_group *)ctx)->waiter = NULL;
}

static int park(tl_group *g, tl_task *self)
{
    g->waiter = self;
    return tl__wait_on(self, TL__WAIT_GROUP, "group", g, group_detach, g);
}

int tl_group_wait(tl_group *g)
{
    tl_task *self = tl__need_task("tl_group_wait");
    if (self->group == g && self->state != TL__DONE)
        tl__fatal("tl_group_wait called by a child of the group: it would wait for itself");
    if (g->waiter)
        return TL_EBUSY;
    int intr = 0;
    if (g->running) {
        intr = tl__interrupt(self);
        if (intr == 0) {
            int woke = park(g, self);
            if (self->flags & TL__INTERRUPTED)
                intr = woke;
        }
        if (intr) {
            /* The waiter is cancelled: so are the children, and it waits,
             * shielded, for them to finish. */
            abort_children(g);
            self->shield++;
            while (g->running)
                park(g, self);
            self->shield--;
        }
    }
    /* As asyncio's TaskGroup: a child's error outranks the cancellation. */
    return g->error ? g->error : intr;
}

void tl__group_each(tl_group *g, tl__each_fn fn, void *ctx)
{
    for (tl_task *c = g->children; c; c = c->group_next)
        if (c->state != TL__DONE)
            fn(c, ctx);
}

void tl_group_free(tl_group *g)
{
    if (!g)
        return;
    if (g->waiter)
        tl__fatal("tl_group_free while a task waits in tl_group_wait");
    tl_task *c = g->children;
    while (c) {
        tl_task *next = c->group_next;
        if (c->state != TL__DONE) {
            tl_task_cancel(c);
            c->group = NULL;
        }
        tl_task_release(c);
        c = next;
    }
    tl__free(g);
}
