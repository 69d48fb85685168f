/* Generators (async generators and `async for`).
 *
 * The generator's function runs as a task of its own, started by the first
 * tl_gen_next. Consumer and generator take turns: next wakes the generator
 * and parks; yield wakes the consumer and parks. With the scheduler's direct
 * hand-off each turn is one context switch. Closing cancels the generator
 * task, so the yield it is parked in returns TL_ECANCELED and every later
 * suspension point does too, and waits until its function has returned. */
#include "internal.h"

enum gen_state { GEN_NEW, GEN_RUNNING, GEN_SUSPENDED, GEN_DONE };

struct tl_gen {
    tl_gen_fn fn;
    void *arg;
    tl_task *task;     /* runs fn; NULL until the first next */
    tl_task *consumer; /* parked in tl_gen_next */
    void *value;       /* the last value yielded */
    uint8_t state;
    bool closing;  /* tl_gen_close has begun: every yield returns TL_ECANCELED */
    bool end_seen; /* the end (TL_EOF or fn's error) was returned */
    int final;     /* fn's result */
};

tl_gen *tl_gen_new(tl_gen_fn fn, void *arg)
{
    tl__need_loop("tl_gen_new");
    tl_gen *g = tl__calloc(1, sizeof *g);
    if (g) {
        g->fn = fn;
        g->arg = arg;
    }
    return g;
}

static int end_code(tl_gen *g)
{
    return g->final < 0 ? g->final : TL_EOF;
}

static void wake_consumer(tl_gen *g, int code)
{
    if (g->consumer)
        tl__wake_slot(&g->consumer, code);
}

static int gen_main(void *arg)
{
    tl_gen *g = arg;
    int rc = g->fn(g, g->arg);
    g->state = GEN_DONE;
    g->final = rc;
    wake_consumer(g, end_code(g));
    return rc;
}

static void next_detach(tl_task *t, void *ctx)
{
    (void)t;
    ((tl_gen *)ctx)->consumer = NULL;
}

static void yield_detach(tl_task *t, void *ctx)
{
    (void)t;
    ((tl_gen *)ctx)->state = GEN_RUNNING;
}

int tl_gen_next(tl_gen *g, void **value)
{
    tl_task *self = tl__need_task("tl_gen_next");
    if (self == g->task)
        tl__fatal("tl_gen_next called by the generator's own function: it would wait forever");
    if (g->consumer)
        return TL_EBUSY;
    if (g->state == GEN_DONE) {
        if (g->end_seen)
            return TL_EOF;
        g->end_seen = true;
        return end_code(g);
    }
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    if (g->state == GEN_NEW) {
        if (!(g->task = tl_create_task(gen_main, g)))
            return TL_ENOMEM;
        g->state = GEN_RUNNING;
    } else if (g->state == GEN_SUSPENDED) {
        g->state = GEN_RUNNING;
        tl__wake(g->task, 0);
    }
    g->consumer = self;
    rc = tl__wait_on(self, TL__WAIT_GEN, "generator", g, next_detach, g);
    if (self->flags & TL__INTERRUPTED) {
        /* As in Python, where the generator runs in the consumer's task: the
         * cancellation reaches the generator, which finishes. An error it
         * returns on the way out is left for the next call or for close. */
        tl__cancel_and_wait(self, g->task);
        g->end_seen = g->final >= 0 || g->final == TL_ECANCELED;
        return rc;
    }
    if (rc == 0) {
        if (value)
            *value = g->value;
    } else {
        g->end_seen = true;
    }
    return rc;
}

int tl_gen_yield(tl_gen *g, void *value)
{
    tl_task *self = tl__need_task("tl_gen_yield");
    if (self != g->task)
        tl__fatal("tl_gen_yield called outside the generator's own function");
    if (g->closing)
        return TL_ECANCELED; /* even inside a shield: nobody will ask again */
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    g->value = value;
    g->state = GEN_SUSPENDED;
    wake_consumer(g, 0);
    return tl__wait(self, "yield", g, yield_detach, g);
}

tl_task *tl__gen_task(const tl_gen *g)
{
    return g->state == GEN_DONE ? NULL : g->task;
}

int tl_gen_close(tl_gen *g)
{
    if (!g)
        return 0;
    if (g->consumer)
        return TL_EBUSY;
    int rc = 0;
    if (g->task) {
        if (g->state != GEN_DONE) {
            tl_task *self = tl__need_task("tl_gen_close");
            if (self == g->task)
                tl__fatal("tl_gen_close called by the generator's own function");
            g->closing = true;
            tl_task_cancel(g->task);
            if (g->state == GEN_SUSPENDED)
                tl__interrupt_wait(g->task, TL_ECANCELED); /* a yield in a shield too */
            rc = tl__cancel_and_wait(self, g->task);
            if (rc == TL_ECANCELED || rc > 0)
                rc = 0;
        } else if (!g->end_seen && g->final < 0 && g->final != TL_ECANCELED) {
            rc = g->final; /* returned while its consumer was being cancelled */
        }
        tl_task_result(g->task); /* read: the consumer has seen or dropped it */
        tl_task_release(g->task);
    }
    tl__free(g);
    return rc;
}
