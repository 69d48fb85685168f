/* Plain callbacks (asyncio's call_soon, call_later, call_at,
 * call_soon_threadsafe): no stack, no task, the cheapest unit of work. A
 * handle is freed once its callback has returned, or when it is cancelled.
 *
 * From another thread the only way in is the loop's thread-safe list: a
 * mutex-guarded FIFO of nodes and a uv_async that makes the loop drain it. */
#include <math.h>

#include "internal.h"

enum { H_QUEUED, H_TIMER, H_CANCELLED, H_RUNNING };

struct tl_handle {
    tl__item item;
    uint8_t state;
    tl__timer timer;
    tl_callback cb;
    void *arg;
    tl_loop *loop;
};

static tl_handle *handle_new(const char *fn, tl_callback cb, void *arg)
{
    tl_loop *loop = tl__need_loop(fn);
    tl_handle *h = tl__malloc(sizeof *h);
    if (!h)
        return NULL;
    h->item.kind = TL__ITEM_CALL;
    h->cb = cb;
    h->arg = arg;
    h->loop = loop;
    h->timer.fire = NULL;
    return h;
}

tl_handle *tl_call_soon(tl_callback cb, void *arg)
{
    tl_handle *h = handle_new("tl_call_soon", cb, arg);
    if (h) {
        h->state = H_QUEUED;
        tl__ready_push(h->loop, &h->item);
    }
    return h;
}

static void handle_fire(void *timer)
{
    tl_handle *h = tl__container_of(timer, tl_handle, timer);
    h->state = H_QUEUED;
    tl__ready_push(h->loop, &h->item);
}

static tl_handle *call_at_ns(const char *fn, uint64_t when, tl_callback cb, void *arg)
{
    tl_handle *h = handle_new(fn, cb, arg);
    if (h) {
        h->state = H_TIMER;
        h->timer.fire = handle_fire;
        tl__timer_add(h->loop, &h->timer, when);
    }
    return h;
}

tl_handle *tl_call_later(double delay, tl_callback cb, void *arg)
{
    if (isnan(delay))
        return NULL;
    return call_at_ns("tl_call_later", tl__deadline_after(delay), cb, arg);
}

tl_handle *tl_call_at(double when, tl_callback cb, void *arg)
{
    if (isnan(when))
        return NULL;
    return call_at_ns("tl_call_at", tl__deadline_at(when), cb, arg);
}

void tl_handle_cancel(tl_handle *h)
{
    switch (h->state) {
    case H_TIMER:
        tl__timer_remove(h->loop, &h->timer);
        tl__free(h);
        break;
    case H_QUEUED:
        h->state = H_CANCELLED; /* freed when the queue reaches it */
        break;
    default:
        break; /* running: cancelling oneself changes nothing */
    }
}

void tl__call_run(tl__item *it)
{
    tl_handle *h = tl__container_of(it, tl_handle, item);
    if (h->state != H_CANCELLED) {
        h->state = H_RUNNING;
        h->cb(h->arg);
    }
    tl__free(h);
}

void tl__call_drop(tl__item *it)
{
    tl__free(tl__container_of(it, tl_handle, item));
}

void tl__timer_drop(tl__timer *t)
{
    if (t->fire == handle_fire)
        tl__free(tl__container_of(t, tl_handle, timer));
}

/* ---- from other threads ---- */

int tl_call_soon_threadsafe(tl_loop *loop, tl_callback cb, void *arg)
{
    tl__tsnode *n = tl__malloc(sizeof *n);
    if (!n)
        return TL_ENOMEM;
    n->cb = cb;
    n->arg = arg;
    n->embedded = false;
    tl__post_threadsafe(loop, n);
    return 0;
}

void tl__post_threadsafe(tl_loop *loop, tl__tsnode *n)
{
    n->next = NULL;
    uv_mutex_lock(&loop->ts_lock);
    *loop->ts_tailp = n;
    loop->ts_tailp = &n->next;
    /* Sent under the lock: the loop cannot drain the node, wake its waiter
     * and be freed before the sender is done with it. */
    uv_async_send(&loop->async);
    uv_mutex_unlock(&loop->ts_lock);
}

/* Runs (or, with run false, drops) what other threads have sent. */
void tl__threadsafe_drain(tl_loop *loop, bool run)
{
    uv_mutex_lock(&loop->ts_lock);
    tl__tsnode *n = loop->ts_head;
    loop->ts_head = NULL;
    loop->ts_tailp = &loop->ts_head;
    uv_mutex_unlock(&loop->ts_lock);
    while (n) {
        tl__tsnode *next = n->next;
        bool embedded = n->embedded; /* the callback may free an embedded node */
        if (run)
            n->cb(n->arg);
        if (!embedded)
            tl__free(n);
        n = next;
    }
}
