/* tl_event: asyncio.Event.
 *
 * set() wakes every waiter with a plain wake-up: there is nothing to hand
 * over, so nothing is lost if a woken waiter is then cancelled before it
 * runs (its wait returns 0 and the cancellation lands at its next
 * suspension point). A waiter woken by set() returns 0 even if the event was
 * cleared again before it ran, as in asyncio. */
#include "sync.h"

void tl_event_init(tl_event *ev)
{
    ev->_waiters[0] = ev->_waiters[1] = NULL;
    ev->_set = 0;
}

void tl_event_destroy(tl_event *ev)
{
    tl__sync_check_idle("tl_event_destroy", "event", ev, TL__SYNC_WAITERS(ev), 0);
}

void tl_event_set(tl_event *ev)
{
    if (ev->_set)
        return;
    ev->_set = 1;
    tl__wlist_wake_all(TL__SYNC_WAITERS(ev), 0);
}

void tl_event_clear(tl_event *ev)
{
    ev->_set = 0;
}

bool tl_event_is_set(const tl_event *ev)
{
    return ev->_set != 0;
}

int tl_event_wait(tl_event *ev)
{
    tl_task *self = tl__need_task("tl_event_wait");
    if (ev->_set)
        return 0;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    return tl__wait_in(self, TL__SYNC_WAITERS(ev), "event", ev);
}
