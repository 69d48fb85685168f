/* What the synchronization primitives share.
 *
 * Their structs are embedded in the caller's memory, so the public header
 * gives each one a private `void *_waiters[2]`: it is the core's waiter list
 * (tl__wlist), a FIFO of waiter records that live in the waiting tasks' own
 * stack frames. That is why a primitive must outlive its waits, and why
 * destroying one that still has waiters aborts instead of leaving those
 * records dangling. */
#ifndef TL_SYNC_H
#define TL_SYNC_H

#include "../core/internal.h"

_Static_assert(sizeof(tl__wlist) == 2 * sizeof(void *), "tl__wlist fits in _waiters[2]");

/* The waiter list kept in a public struct's `_waiters` field. */
#define TL__SYNC_WAITERS(obj) ((tl__wlist *)(void *)(obj)->_waiters)

static inline size_t tl__sync_count(const tl__wlist *l)
{
    size_t n = 0;
    for (const tl__waiter *w = l->head; w; w = w->next)
        n++;
    return n;
}

/* Aborts when a primitive is destroyed while waiting tasks are still inside
 * one of its waiting calls: parked in a list, or woken with a hand-off they
 * have not yet run to see. Their records would point into
 * freed memory. */
static inline void tl__sync_check_idle_n(const char *fn, const char *what, const void *obj,
                                         size_t waiting)
{
    if (__builtin_expect(!waiting, 1))
        return;
    tl__fatal("%s: %s %p destroyed while %zu task(s) still wait on it; a %s must outlive "
              "every wait on it (wake or cancel the waiters and let them finish first)",
              fn, what, obj, waiting, what);
}

/* The same for a primitive with one waiter list. */
static inline void tl__sync_check_idle(const char *fn, const char *what, const void *obj,
                                       const tl__wlist *l, unsigned handoffs)
{
    if (__builtin_expect(!l->head && !handoffs, 1))
        return;
    tl__sync_check_idle_n(fn, what, obj, tl__sync_count(l) + handoffs);
}

#endif
