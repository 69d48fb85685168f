/* Waiting for work on another thread. The work writes into the waiting
 * task's memory (a buffer, a result), so the task may not leave while a
 * thread still runs it: an interrupted wait withdraws work not yet started
 * and otherwise keeps waiting, shielded, for the end. */
#include "os.h"

void tl__pool_withdraw_uv(tl__poolwait *pw)
{
    uv_cancel(pw->req); /* UV_EBUSY once a thread has it: then it runs to its end */
}

static void pool_detach(tl_task *t, void *ctx)
{
    (void)t;
    tl__poolwait *pw = ctx;
    pw->waiter = NULL;
    pw->withdraw(pw);
}

void tl__pool_done(tl__poolwait *pw)
{
    pw->done = true;
    if (pw->waiter)
        tl__wake_slot(&pw->waiter, 0);
}

int tl__pool_wait(tl_task *self, tl__poolwait *pw, const char *what)
{
    pw->waiter = self;
    int rc = tl__wait(self, what, pw, pool_detach, pw);
    if (pw->done)
        return rc;
    self->shield++;
    while (!pw->done) {
        pw->waiter = self;
        tl__wait(self, what, pw, pool_detach, pw);
    }
    self->shield--;
    return rc;
}
