/* Cancellation: how tl_task_cancel ends a wait, and shields, the regions
 * where it does not.
 *
 * Cancelling sets a sticky flag on the task. If the task is parked (and not
 * shielded), the detach function its wait recorded runs and the task wakes
 * with TL_ECANCELED; if it was woken with a hand-off it has not seen yet
 * (tl__wake_handoff), the hand-off is undone instead. Every later suspension
 * point checks the flag first (tl__interrupt) and returns TL_ECANCELED at
 * once, so C code that ignores one result cannot swallow the cancellation.
 * Timeout scopes (timeout.c) end waits through the same tl__interrupt_wait. */
#include "internal.h"

void tl_task_cancel(tl_task *t)
{
    if (t->state == TL__DONE)
        return;
    t->flags |= TL__CANCEL_REQ;
    if (t->shield == 0)
        tl__interrupt_wait(t, TL_ECANCELED);
}

void tl__interrupt_wait(tl_task *t, int code)
{
    if (t->state == TL__WAITING) {
        t->wait_detach(t, t->wait_ctx);
        t->flags |= TL__INTERRUPTED;
        tl__wake(t, code);
    } else if (t->state == TL__READY && t->wake_undo) {
        /* Woken with a resource it has not seen yet: give it back. Already in
         * the ready queue, so only its wait's result changes. */
        tl__detach_fn undo = t->wake_undo;
        t->wake_undo = NULL;
        undo(t, t->wake_undo_ctx);
        t->flags |= TL__INTERRUPTED;
        t->wake_code = code;
    }
}

int tl__interrupt_slow(tl_task *t)
{
    if (t->shield == 0 && (t->flags & TL__CANCEL_REQ))
        return TL_ECANCELED;
    if (t->expired)
        for (tl_timeout *s = t->scope; s && s->_shield == t->shield; s = s->_parent)
            if (s->_flags & TL__SCOPE_EXPIRED)
                return TL_ETIMEDOUT;
    return 0;
}

/* Cancels t and waits, shielded, until it has finished: for callers whose
 * children may point into their frame (gather, wait_for, groups). */
int tl__cancel_and_wait(tl_task *self, tl_task *t)
{
    tl_task_cancel(t);
    self->shield++;
    int rc = tl_await(t);
    self->shield--;
    return rc;
}

void tl_shield_enter(void)
{
    tl_task *t = tl__need_task("tl_shield_enter");
    t->shield++;
}

void tl_shield_exit(void)
{
    tl_task *t = tl__need_task("tl_shield_exit");
    if (t->shield == 0)
        tl__fatal("tl_shield_exit without a matching tl_shield_enter");
    if (t->scope && t->scope->_shield == t->shield)
        tl__fatal("tl_shield_exit before the tl_timeout_exit of a scope entered inside the shield");
    t->shield--;
}
