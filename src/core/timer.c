/* The loop's timers, and tl_sleep, the simplest wait on one.
 *
 * The timers are an intrusive pairing heap. Insertion is O(1) and removing
 * any node is O(log n) amortized, with no allocation: the node lives in
 * whatever waits (a sleeping task, a timeout scope, a call_later handle).
 * The root's prev points to itself, so "prev != NULL" means "in the heap". */
#include <math.h>

#include "internal.h"

static bool before(const tl__timer *a, const tl__timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

/* Melds two roots; the later becomes the first child of the earlier. */
static tl__timer *meld(tl__timer *a, tl__timer *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (before(b, a)) {
        tl__timer *t = a;
        a = b;
        b = t;
    }
    b->prev = a;
    b->next = a->child;
    if (a->child)
        a->child->prev = b;
    a->child = b;
    return a;
}

/* The standard two passes: meld pairs left to right, then the results right
 * to left. */
static tl__timer *merge_pairs(tl__timer *first)
{
    tl__timer *list = NULL;
    while (first) {
        tl__timer *a = first, *b = a->next;
        first = b ? b->next : NULL;
        a->next = a->prev = NULL;
        if (b) {
            b->next = b->prev = NULL;
            a = meld(a, b);
        }
        a->next = list;
        list = a;
    }
    tl__timer *root = NULL;
    while (list) {
        tl__timer *n = list->next;
        list->next = NULL;
        root = meld(root, list);
        list = n;
    }
    return root;
}

static void set_root(tl_loop *loop, tl__timer *root)
{
    loop->heap = root;
    if (root) {
        root->prev = root;
        root->next = NULL;
    }
}

void tl__timer_add(tl_loop *loop, tl__timer *t, uint64_t when)
{
    t->child = t->next = t->prev = NULL;
    t->when = when;
    t->seq = loop->timer_seq++;
    if (loop->heap)
        loop->heap->prev = NULL;
    set_root(loop, meld(loop->heap, t));
}

void tl__timer_remove(tl_loop *loop, tl__timer *t)
{
    if (!t->prev)
        return;
    if (t == loop->heap) {
        set_root(loop, merge_pairs(t->child));
    } else {
        if (t->prev->child == t)
            t->prev->child = t->next;
        else
            t->prev->next = t->next;
        if (t->next)
            t->next->prev = t->prev;
        tl__timer *sub = merge_pairs(t->child);
        loop->heap->prev = NULL;
        set_root(loop, meld(loop->heap, sub));
    }
    t->child = t->next = t->prev = NULL;
}

uint64_t tl__timers_run(tl_loop *loop, uint64_t now)
{
    while (loop->heap && loop->heap->when <= now) {
        tl__timer *t = loop->heap;
        tl__timer_remove(loop, t);
        t->fire(t);
    }
    return loop->heap ? loop->heap->when : UINT64_MAX;
}

/* A hundred years: far enough to mean "never", near enough not to overflow. */
#define FAR_NS (100.0 * 365 * 24 * 3600 * 1e9)

uint64_t tl__deadline_at(double when)
{
    double ns = when * 1e9;
    if (!(ns > 0))
        return 0;
    double cap = (double)uv_hrtime() + FAR_NS;
    return ns >= cap ? (uint64_t)cap : (uint64_t)ns;
}

uint64_t tl__deadline_after(double seconds)
{
    uint64_t now = uv_hrtime();
    if (!(seconds > 0))
        return now;
    double ns = seconds * 1e9;
    return ns >= FAR_NS ? now + (uint64_t)FAR_NS : now + (uint64_t)ns;
}

double tl_time(void)
{
    return (double)uv_hrtime() / 1e9;
}

/* ---- sleeping ---- */

static void sleep_fire(void *timer)
{
    tl__wake(tl__container_of(timer, tl_task, timer), 0);
}

static void sleep_detach(tl_task *t, void *ctx)
{
    (void)ctx;
    tl__timer_remove(t->loop, &t->timer);
}

int tl_sleep(double seconds)
{
    tl_task *t = tl__need_task("tl_sleep");
    if (isnan(seconds))
        return TL_EINVAL;
    int rc = tl__interrupt(t);
    if (rc)
        return rc;
    if (seconds <= 0) {
        /* Back of the queue: every task already ready runs first. */
        t->state = TL__READY;
        tl__ready_push(t->loop, &t->item);
        tl__park(t);
        return tl__interrupt(t);
    }
    t->timer.fire = sleep_fire;
    tl__timer_add(t->loop, &t->timer, tl__deadline_after(seconds));
    return tl__wait_on(t, TL__WAIT_SLEEP, "sleep", NULL, sleep_detach, NULL);
}
