/* Futures: a result that someone sets later. Waiters park in a list in their
 * own stack frames; done callbacks are queued on the loop (as asyncio's
 * call_soon) when the future completes, each holding a reference so the
 * future outlives them. */
#include <string.h>

#include "internal.h"

enum { F_PENDING, F_DONE, F_CANCELLED };

typedef struct futcb {
    tl__item item;
    struct futcb *next;
    tl_future *f;
    tl_future_cb cb;
    void *arg;
} futcb;

struct tl_future {
    tl_loop *loop;
    uint32_t refs;
    uint8_t state;
    int result;
    tl__wlist waiters;
    futcb *callbacks;
    futcb **cb_tailp;
    tl_future *next_spare;
};

/* Futures are often one-shot (a hand-off between two tasks makes one per
 * round): the loop keeps a few freed ones to skip malloc. Not under ASan,
 * which should see every use after free. */
#ifdef TL_ASAN
#define SPARE_MAX 0
#else
#define SPARE_MAX 64
#endif

tl_future *tl_future_new(void)
{
    tl_loop *loop = tl__need_loop("tl_future_new");
    tl_future *f = loop->spare_futures;
    if (f) {
        loop->spare_futures = f->next_spare;
        loop->nspare_futures--;
        memset(f, 0, sizeof *f);
    } else if (!(f = tl__calloc(1, sizeof *f))) {
        return NULL;
    }
    f->loop = loop;
    f->refs = 1;
    f->cb_tailp = &f->callbacks;
    return f;
}

tl_future *tl_future_retain(tl_future *f)
{
    f->refs++;
    return f;
}

void tl_future_release(tl_future *f)
{
    if (!f)
        return;
    if (f->refs == 0)
        tl__fatal("tl_future_release: future released more often than it was retained");
    if (--f->refs)
        return;
    futcb *c = f->callbacks;
    while (c) {
        futcb *next = c->next;
        tl__free(c);
        c = next;
    }
    tl_loop *loop = f->loop;
    if (loop == tl__loop && (int)loop->nspare_futures < SPARE_MAX) {
        f->next_spare = loop->spare_futures;
        loop->spare_futures = f;
        loop->nspare_futures++;
        return;
    }
    tl__free(f);
}

void tl__future_spares_free(tl_loop *loop)
{
    while (loop->spare_futures) {
        tl_future *f = loop->spare_futures;
        loop->spare_futures = f->next_spare;
        tl__free(f);
    }
    loop->nspare_futures = 0;
}

static void schedule_callback(futcb *c)
{
    c->f->refs++;
    tl__ready_push(c->f->loop, &c->item);
}

static void complete(tl_future *f, uint8_t state, int result)
{
    f->state = state;
    f->result = result;
    tl__wlist_wake_all(&f->waiters, result);
    futcb *c = f->callbacks;
    f->callbacks = NULL;
    f->cb_tailp = &f->callbacks;
    while (c) {
        futcb *next = c->next;
        schedule_callback(c);
        c = next;
    }
}

int tl_future_set_result(tl_future *f, int result)
{
    if (f->state != F_PENDING || result < 0)
        return TL_EINVAL;
    complete(f, F_DONE, result);
    return 0;
}

int tl_future_set_error(tl_future *f, int err)
{
    if (f->state != F_PENDING || err >= 0)
        return TL_EINVAL;
    complete(f, F_DONE, err);
    return 0;
}

bool tl_future_cancel(tl_future *f)
{
    if (f->state != F_PENDING)
        return false;
    complete(f, F_CANCELLED, TL_ECANCELED);
    return true;
}

bool tl_future_done(const tl_future *f)
{
    return f->state != F_PENDING;
}

bool tl_future_cancelled(const tl_future *f)
{
    return f->state == F_CANCELLED;
}

int tl_future_result(const tl_future *f)
{
    return f->state == F_PENDING ? TL_EAGAIN : f->result;
}

int tl_future_await(tl_future *f)
{
    tl_task *self = tl__need_task("tl_future_await");
    if (f->state != F_PENDING)
        return f->result;
    int rc = tl__interrupt(self);
    if (rc == 0) {
        f->refs++;
        rc = tl__wait_in(self, &f->waiters, "future", f);
        bool interrupted = self->flags & TL__INTERRUPTED;
        if (interrupted)
            tl_future_cancel(f);
        tl_future_release(f);
        return rc;
    }
    /* As in asyncio: the task awaiting a future is cancelled, so is the future. */
    tl_future_cancel(f);
    return rc;
}

int tl_future_add_done_callback(tl_future *f, tl_future_cb cb, void *arg)
{
    futcb *c = tl__malloc(sizeof *c);
    if (!c)
        return TL_ENOMEM;
    c->item.kind = TL__ITEM_FUTCB;
    c->next = NULL;
    c->f = f;
    c->cb = cb;
    c->arg = arg;
    if (f->state != F_PENDING) {
        schedule_callback(c);
        return 0;
    }
    *f->cb_tailp = c;
    f->cb_tailp = &c->next;
    return 0;
}

size_t tl_future_remove_done_callback(tl_future *f, tl_future_cb cb, void *arg)
{
    size_t n = 0;
    futcb **pp = &f->callbacks;
    f->cb_tailp = &f->callbacks;
    while (*pp) {
        futcb *c = *pp;
        if (c->cb == cb && c->arg == arg) {
            *pp = c->next;
            tl__free(c);
            n++;
        } else {
            pp = &c->next;
            f->cb_tailp = &c->next;
        }
    }
    return n;
}

void tl__futcb_run(tl__item *it)
{
    futcb *c = tl__container_of(it, futcb, item);
    c->cb(c->f, c->arg);
    tl_future_release(c->f);
    tl__free(c);
}

void tl__futcb_drop(tl__item *it)
{
    futcb *c = tl__container_of(it, futcb, item);
    tl_future_release(c->f);
    tl__free(c);
}
