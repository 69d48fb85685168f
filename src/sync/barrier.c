/* tl_barrier: asyncio.Barrier.
 *
 * The task that completes the set wakes the others and the barrier is empty
 * again at once, ready for the next round. asyncio gets there through a
 * "draining" state in which newcomers wait until the released tasks have
 * left; here the released tasks never touch the barrier again, so a newcomer
 * simply starts the next round. The arrival index is given out at the trip,
 * in arrival order among the tasks still waiting, so the indexes of a round
 * are always 0 .. parties-1 even when a waiter was cancelled (asyncio counts
 * arrivals and can repeat an index after a cancellation). The trip is a
 * plain wake-up: a released task cancelled before it runs still passed the
 * barrier, as did the others, and returns its index. */
#include "sync.h"

typedef struct barrier_waiter {
    tl__waiter w;
    tl_barrier *b;
} barrier_waiter;

int tl_barrier_init(tl_barrier *b, int parties)
{
    if (parties < 1)
        return TL_EINVAL;
    b->_waiters[0] = b->_waiters[1] = NULL;
    b->_parties = parties;
    b->_count = 0;
    b->_broken = 0;
    return 0;
}

void tl_barrier_destroy(tl_barrier *b)
{
    tl__sync_check_idle("tl_barrier_destroy", "barrier", b, TL__SYNC_WAITERS(b), 0);
}

static void wait_detach(tl_task *t, void *ctx)
{
    (void)t;
    barrier_waiter *w = ctx;
    tl__wlist_remove(TL__SYNC_WAITERS(w->b), &w->w);
    w->b->_count--;
}

/* Wakes every waiter with code, or with its index when code is 0. */
static void release_all(tl_barrier *b, int code)
{
    tl__wlist *l = TL__SYNC_WAITERS(b);
    int index = 0;
    tl__waiter *w;
    while ((w = tl__wlist_pop(l)))
        tl__wake(w->task, code ? code : index++);
    b->_count = 0;
}

int tl_barrier_wait(tl_barrier *b)
{
    tl_task *self = tl__need_task("tl_barrier_wait");
    if (b->_broken)
        return TL_EPIPE;
    if (b->_count + 1 == b->_parties) {
        release_all(b, 0);
        return b->_parties - 1;
    }
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    barrier_waiter w = {.w.task = self, .b = b};
    tl__wlist_push(TL__SYNC_WAITERS(b), &w.w);
    b->_count++;
    return tl__wait(self, "barrier", b, wait_detach, &w);
}

void tl_barrier_abort(tl_barrier *b)
{
    b->_broken = 1;
    release_all(b, TL_EPIPE);
}

void tl_barrier_reset(tl_barrier *b)
{
    b->_broken = 0;
    release_all(b, TL_EPIPE);
}

int tl_barrier_parties(const tl_barrier *b)
{
    return b->_parties;
}

int tl_barrier_n_waiting(const tl_barrier *b)
{
    return b->_count;
}

bool tl_barrier_broken(const tl_barrier *b)
{
    return b->_broken != 0;
}
