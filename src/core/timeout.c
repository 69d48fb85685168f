/* Timeout scopes (asyncio.timeout, timeout_at).
 *
 * A scope is a timer in the loop's heap plus a link in its task's scope
 * chain, all in the caller's tl_timeout: nothing is allocated. When the timer
 * fires the scope is marked expired; the task's current wait, if the scope
 * applies to it, ends with TL_ETIMEDOUT, and so does every later wait until
 * the scope is exited. A scope applies to the waits made at the shield depth
 * where it was entered: a shield entered later hides it, as it hides
 * cancellation. */
#include <math.h>
#include <stddef.h>

#include "internal.h"

_Static_assert(offsetof(tl_timeout, _node) == offsetof(tl__timer, child), "tl_timeout layout");
_Static_assert(offsetof(tl_timeout, _when) == offsetof(tl__timer, when), "tl_timeout layout");
_Static_assert(offsetof(tl_timeout, _seq) == offsetof(tl__timer, seq), "tl_timeout layout");
_Static_assert(offsetof(tl_timeout, _fire) == offsetof(tl__timer, fire), "tl_timeout layout");

#define SCOPE_TIMER(s) ((tl__timer *)(void *)(s))
#define NO_DEADLINE    UINT64_MAX

static void expire(tl_timeout *s)
{
    tl_task *t = s->_task;
    s->_flags |= TL__SCOPE_EXPIRED;
    t->expired++;
    if (s->_shield == t->shield)
        tl__interrupt_wait(t, TL_ETIMEDOUT);
}

static void scope_fire(void *timer)
{
    expire((tl_timeout *)timer);
}

static void schedule(tl_timeout *s, uint64_t when)
{
    s->_when = when;
    if (when == NO_DEADLINE)
        return;
    if (when <= uv_hrtime()) {
        expire(s);
        return;
    }
    s->_fire = scope_fire;
    tl__timer_add(s->_task->loop, SCOPE_TIMER(s), when);
}

static uint64_t to_deadline(double when)
{
    return isinf(when) && when > 0 ? NO_DEADLINE : tl__deadline_at(when);
}

void tl_timeout_enter_at(tl_timeout *s, double when)
{
    tl_task *t = tl__need_task("tl_timeout_enter");
    s->_node[0] = s->_node[1] = s->_node[2] = NULL;
    s->_fire = NULL;
    s->_task = t;
    s->_parent = t->scope;
    s->_shield = t->shield;
    s->_flags = TL__SCOPE_ENTERED;
    t->scope = s;
    schedule(s, isnan(when) ? 0 : to_deadline(when));
}

void tl_timeout_enter(tl_timeout *s, double seconds)
{
    if (isinf(seconds) && seconds > 0)
        tl_timeout_enter_at(s, INFINITY);
    else
        tl_timeout_enter_at(s, tl_time() + (seconds > 0 ? seconds : 0));
}

void tl_timeout_reschedule(tl_timeout *s, double when)
{
    if (!(s->_flags & TL__SCOPE_ENTERED))
        tl__fatal("tl_timeout_reschedule on a scope that is not entered");
    if (s->_flags & TL__SCOPE_EXPIRED)
        return;
    tl__timer_remove(s->_task->loop, SCOPE_TIMER(s));
    schedule(s, isnan(when) ? 0 : to_deadline(when));
}

double tl_timeout_when(const tl_timeout *s)
{
    return s->_when == NO_DEADLINE ? INFINITY : (double)s->_when / 1e9;
}

bool tl_timeout_expired(const tl_timeout *s)
{
    return (s->_flags & TL__SCOPE_EXPIRED) != 0;
}

int tl_timeout_exit(tl_timeout *s)
{
    tl_task *t = tl__need_task("tl_timeout_exit");
    if (!(s->_flags & TL__SCOPE_ENTERED) || s->_task != t)
        tl__fatal("tl_timeout_exit on a scope this task did not enter");
    if (t->scope != s)
        tl__fatal("timeout scopes exited out of order: exit the innermost first");
    tl__timer_remove(t->loop, SCOPE_TIMER(s));
    t->scope = s->_parent;
    s->_flags &= ~(unsigned)TL__SCOPE_ENTERED;
    if (s->_flags & TL__SCOPE_EXPIRED) {
        t->expired--;
        return TL_ETIMEDOUT;
    }
    return 0;
}
