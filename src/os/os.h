/* What threads, files, processes and signals share: waiting for work that
 * runs on another thread, under the one cancellation rule of tulip.h. */
#ifndef TL_OS_H
#define TL_OS_H

#include <stdlib.h>

#include "../core/internal.h"

/* Work submitted to a thread pool (a libuv request, an executor job) that
 * the submitting task waits for. withdraw tries to take the work back before
 * a thread starts it: with a libuv request, uv_cancel, whose callback still
 * comes (with UV_ECANCELED); an executor marks done itself. */
typedef struct tl__poolwait tl__poolwait;
struct tl__poolwait {
    tl_task *waiter;
    bool done;
    void (*withdraw)(tl__poolwait *pw);
    void *req;
};

/* uv_cancel on pw->req, for libuv requests. */
void tl__pool_withdraw_uv(tl__poolwait *pw);

/* Waits, after the work is submitted, until tl__pool_done(pw). 0 when it ran
 * to its end; TL_ECANCELED or TL_ETIMEDOUT when the wait was interrupted: by
 * then the work was withdrawn unstarted or, started, has finished (the task
 * waited for it shielded), so the memory it used is free again. */
int tl__pool_wait(tl_task *self, tl__poolwait *pw, const char *what);
/* The work is over (run, failed or withdrawn): on the loop's thread. */
void tl__pool_done(tl__poolwait *pw);

/* tl_run: the first signum cancels the main task, the next one does what it
 * did before (signal.c); 0 or TL_ENOMEM. */
int tl__signal_cancel_main(tl_loop *loop, int signum);

/* realloc for a buffer the caller will free() (tl_read_file's data,
 * communicate's outputs): the C library's, not tl__realloc, but behind the
 * fault seam all the same. */
static inline void *tl__user_realloc(void *p, size_t n)
{
    return tl__fault_point() ? NULL : realloc(p, n);
}

#endif
