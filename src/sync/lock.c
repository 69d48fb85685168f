/* tl_lock: asyncio.Lock, FIFO-fair.
 *
 * Release never leaves the lock free while tasks wait: it hands ownership
 * straight to the first waiter, which stays "locked" for it until it runs.
 * So a newcomer cannot barge in between, and a lock with waiters is always
 * locked. If the chosen waiter is cancelled before it runs, the hand-off is
 * undone (release_undo) and the lock moves on to the next waiter, so the
 * cancelled acquire returns TL_ECANCELED holding nothing. */
#include "sync.h"

typedef struct lock_waiter {
    tl__list_waiter lw; /* first: the list holds its address */
    tl_lock *lock;
} lock_waiter;

void tl_lock_init(tl_lock *lock)
{
    lock->_waiters[0] = lock->_waiters[1] = NULL;
    lock->_locked = 0;
    lock->_handoffs = 0;
}

void tl_lock_destroy(tl_lock *lock)
{
    tl__sync_check_idle("tl_lock_destroy", "lock", lock, TL__SYNC_WAITERS(lock), lock->_handoffs);
}

bool tl_lock_locked(const tl_lock *lock)
{
    return lock->_locked != 0;
}

static void release_undo(tl_task *t, void *ctx);

/* Gives the held lock to the first waiter, or frees it when none waits. */
static void pass_on(tl_lock *lock)
{
    lock_waiter *w = (lock_waiter *)tl__wlist_pop(TL__SYNC_WAITERS(lock));
    if (!w) {
        lock->_locked = 0;
        return;
    }
    lock->_handoffs++;
    tl__wake_handoff(w->lw.w.task, 0, release_undo, w);
}

/* The waiter the lock was handed to was cancelled before it ran. */
static void release_undo(tl_task *t, void *ctx)
{
    (void)t;
    lock_waiter *w = ctx;
    w->lock->_handoffs--;
    pass_on(w->lock);
}

int tl_lock_acquire(tl_lock *lock)
{
    tl_task *self = tl__need_task("tl_lock_acquire");
    if (!lock->_locked) {
        lock->_locked = 1;
        return 0;
    }
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    lock_waiter w = {.lock = lock};
    rc = tl__wait_listed(self, &w.lw, TL__SYNC_WAITERS(lock), TL__WAIT_OTHER, "lock", lock);
    if (rc == 0)
        lock->_handoffs--; /* ours now: release handed it over, still locked */
    return rc;
}

int tl_lock_release(tl_lock *lock)
{
    if (!lock->_locked)
        return TL_EINVAL;
    pass_on(lock);
    return 0;
}
