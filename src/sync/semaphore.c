/* tl_semaphore: asyncio.Semaphore and BoundedSemaphore, FIFO-fair.
 *
 * A release with tasks waiting gives its permit straight to the first of
 * them instead of raising the value, so the value is 0 whenever tasks wait
 * and a newcomer cannot take a permit out of turn (asyncio 3.13 gets the same
 * order by making newcomers wait while anyone is queued). A permit handed to
 * a waiter that is cancelled before it runs goes to the next waiter, or back
 * to the value. */
#include <limits.h>

#include "sync.h"

typedef struct sem_waiter {
    tl__list_waiter lw; /* first: the list holds its address */
    tl_semaphore *sem;
} sem_waiter;

static int init(tl_semaphore *sem, int value, int bound)
{
    if (value < 0)
        return TL_EINVAL;
    sem->_waiters[0] = sem->_waiters[1] = NULL;
    sem->_value = value;
    sem->_bound = bound;
    sem->_handoffs = 0;
    return 0;
}

int tl_semaphore_init(tl_semaphore *sem, int value)
{
    return init(sem, value, -1);
}

int tl_semaphore_init_bounded(tl_semaphore *sem, int value)
{
    return init(sem, value, value);
}

void tl_semaphore_destroy(tl_semaphore *sem)
{
    tl__sync_check_idle("tl_semaphore_destroy", "semaphore", sem, TL__SYNC_WAITERS(sem),
                        sem->_handoffs);
}

int tl_semaphore_value(const tl_semaphore *sem)
{
    return sem->_value;
}

bool tl_semaphore_locked(const tl_semaphore *sem)
{
    return sem->_value == 0;
}

static void release_undo(tl_task *t, void *ctx);

/* One permit comes free: to the first waiter, or to the value. */
static void pass_on(tl_semaphore *sem)
{
    sem_waiter *w = (sem_waiter *)tl__wlist_pop(TL__SYNC_WAITERS(sem));
    if (!w) {
        sem->_value++;
        return;
    }
    sem->_handoffs++;
    tl__wake_handoff(w->lw.w.task, 0, release_undo, w);
}

static void release_undo(tl_task *t, void *ctx)
{
    (void)t;
    sem_waiter *w = ctx;
    w->sem->_handoffs--;
    pass_on(w->sem);
}

int tl_semaphore_acquire(tl_semaphore *sem)
{
    tl_task *self = tl__need_task("tl_semaphore_acquire");
    if (sem->_value > 0) {
        sem->_value--;
        return 0;
    }
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    sem_waiter w = {.sem = sem};
    rc = tl__wait_listed(self, &w.lw, TL__SYNC_WAITERS(sem), TL__WAIT_OTHER, "semaphore", sem);
    if (rc == 0)
        sem->_handoffs--;
    return rc;
}

int tl_semaphore_release(tl_semaphore *sem)
{
    /* As asyncio's BoundedSemaphore: permits handed to woken waiters are not
     * in the value, so they do not count against the bound. */
    if (sem->_bound >= 0 && sem->_value >= sem->_bound)
        return TL_EINVAL;
    if (sem->_value == INT_MAX)
        return TL_EOVERFLOW;
    pass_on(sem);
    return 0;
}
