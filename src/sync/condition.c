/* tl_condition: asyncio.Condition over a tl_lock the caller provides.
 *
 * A waiter releases the lock, parks in the condition's FIFO, and once
 * notified (or cancelled, or timed out) takes the lock back inside a shield,
 * so it always returns holding the lock, as asyncio's wait() does. A notify
 * is a hand-off: if the notified task is cancelled before it runs, the
 * notification passes to the next waiter instead of being lost (asyncio
 * re-notifies one waiter in that case too, but also on every other error,
 * which can wake one spuriously; here nothing is woken that was not owed). */
#include "sync.h"

typedef struct cond_waiter {
    tl__list_waiter lw; /* first: the list holds its address */
    tl_condition *cond;
} cond_waiter;

void tl_condition_init(tl_condition *cond, tl_lock *lock)
{
    cond->_waiters[0] = cond->_waiters[1] = NULL;
    cond->_lock = lock;
    cond->_handoffs = 0;
}

void tl_condition_destroy(tl_condition *cond)
{
    tl__sync_check_idle("tl_condition_destroy", "condition", cond, TL__SYNC_WAITERS(cond),
                        cond->_handoffs);
}

static void notify_undo(tl_task *t, void *ctx);

/* Wakes the first waiter, if any; true if there was one. */
static bool notify_one(tl_condition *cond)
{
    cond_waiter *w = (cond_waiter *)tl__wlist_pop(TL__SYNC_WAITERS(cond));
    if (!w)
        return false;
    cond->_handoffs++;
    tl__wake_handoff(w->lw.w.task, 0, notify_undo, w);
    return true;
}

/* A notified waiter was cancelled before it ran: its notification goes on. */
static void notify_undo(tl_task *t, void *ctx)
{
    (void)t;
    cond_waiter *w = ctx;
    w->cond->_handoffs--;
    notify_one(w->cond);
}

int tl_condition_wait(tl_condition *cond)
{
    tl_task *self = tl__need_task("tl_condition_wait");
    if (!tl_lock_locked(cond->_lock))
        return TL_EINVAL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc; /* still holding the lock, as if released and taken back */
    cond_waiter w = {.cond = cond};
    tl_lock_release(cond->_lock);
    rc = tl__wait_listed(self, &w.lw, TL__SYNC_WAITERS(cond), TL__WAIT_OTHER, "condition", cond);
    if (rc == 0)
        cond->_handoffs--;
    /* Take the lock back whatever happened: neither cancellation nor a
     * timeout scope can end a wait inside a shield, so this cannot fail. A
     * cancellation arriving meanwhile lands at the next suspension point. */
    tl_shield_enter();
    tl_lock_acquire(cond->_lock);
    tl_shield_exit();
    return rc;
}

int tl_condition_wait_for(tl_condition *cond, bool (*pred)(void *arg), void *arg)
{
    tl__need_task("tl_condition_wait_for");
    while (!pred(arg)) {
        int rc = tl_condition_wait(cond);
        if (rc)
            return rc;
    }
    return 0;
}

int tl_condition_notify(tl_condition *cond, size_t n)
{
    if (!tl_lock_locked(cond->_lock))
        return TL_EINVAL;
    while (n-- > 0 && notify_one(cond))
        ;
    return 0;
}

int tl_condition_notify_all(tl_condition *cond)
{
    return tl_condition_notify(cond, (size_t)-1);
}
