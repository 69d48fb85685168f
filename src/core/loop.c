/* The loop: one libuv loop, the ready queue and the timer heap, driven like
 * Redis's ae.c in one readable function (iterate).
 *
 * An iteration fires the timers that are due, runs the ready queue (within
 * the budget), then asks libuv for I/O: without blocking if work is ready,
 * else blocking until the earliest timer. libuv's callbacks only wake tasks
 * (append them to the ready queue); tasks run at the next iteration. */
#include <signal.h>
#include <string.h>

#include "internal.h"

static void wake_for_timers(uv_timer_t *h)
{
    /* libuv 1.44 (Debian 12's, the oldest CMake accepts) runs due timers
     * before it polls: without this stop, a timer due at the start of uv_run
     * would be followed by a poll that blocks. From 1.45 (libuv commit
     * 660095490) timers run after the poll; the stop is then harmless, as
     * uv_run returns after this turn anyway. */
    uv_stop(h->loop);
}

static void async_cb(uv_async_t *h)
{
    tl__threadsafe_drain(h->data, true);
}

static void states_teardown(tl_loop *loop);

static void close_noop(uv_handle_t *h)
{
    (void)h;
}

/* libuv calls that can fail go through the fault seam too. */
#define UV_CALL(call) (tl__fault_point() ? UV_ENOMEM : (call))

bool tl__signal_is_default(int signum)
{
    struct sigaction old;
    return sigaction(signum, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
           old.sa_handler == SIG_DFL;
}

/* A write to a socket the peer has reset must come back as TL_EPIPE, not
 * kill the process: as Python does at start-up, SIGPIPE is ignored unless
 * the program chose a handler of its own. */
static void ignore_sigpipe(void)
{
    if (tl__signal_is_default(SIGPIPE))
        signal(SIGPIPE, SIG_IGN);
}

tl_loop *tl_loop_new(void)
{
    tl__debug_init();
    tl_loop *loop = tl__calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    if (UV_CALL(uv_loop_init(&loop->uv)) != 0) {
        tl__free(loop);
        return NULL;
    }
    int rc = UV_CALL(uv_async_init(&loop->uv, &loop->async, async_cb));
    if (rc == 0 && (rc = UV_CALL(uv_mutex_init(&loop->ts_lock))) != 0)
        uv_close((uv_handle_t *)&loop->async, close_noop);
    if (rc != 0) {
        uv_run(&loop->uv, UV_RUN_DEFAULT);
        uv_loop_close(&loop->uv);
        tl__free(loop);
        return NULL;
    }
    uv_timer_init(&loop->uv, &loop->uv_timer);
    loop->async.data = loop;
    loop->ts_tailp = &loop->ts_head;
    tl__runq_init(&loop->ready);
    loop->stop_item.kind = TL__ITEM_STOP;
    loop->uv_timer_when = UINT64_MAX;
    tl__stack_pool_init(&loop->stacks);
    tl__overflow_thread_init();
    ignore_sigpipe();
    return loop;
}

tl_loop *tl_loop_current(void)
{
    return tl__loop;
}

/* Makes libuv's poll wake up in time for our earliest timer. */
static void arm_uv_timer(tl_loop *loop)
{
    uint64_t when = loop->heap ? loop->heap->when : UINT64_MAX;
    if (when == loop->uv_timer_when)
        return;
    loop->uv_timer_when = when;
    if (when == UINT64_MAX) {
        uv_timer_stop(&loop->uv_timer);
        return;
    }
    uv_update_time(&loop->uv);
    uint64_t now = uv_hrtime();
    uint64_t ms = when > now ? (when - now + 999999) / 1000000 : 0;
    uv_timer_start(&loop->uv_timer, wake_for_timers, ms, 0);
}

static void iterate(tl_loop *loop, bool (*done)(tl_loop *))
{
    tl__timers_run(loop, uv_hrtime());
    tl__run_ready(loop);
    if (done(loop))
        return;
    loop->polling = true;
    if (loop->ready.head) {
        uv_run(&loop->uv, UV_RUN_NOWAIT);
        loop->polling = false;
        return;
    }
    tl__stack_pool_trim(&loop->stacks, 256);
    arm_uv_timer(loop);
    uv_run(&loop->uv, UV_RUN_ONCE);
    loop->polling = false;
    /* The armed timer has fired or will be re-armed: either way recompute. */
    if (!uv_is_active((uv_handle_t *)&loop->uv_timer))
        loop->uv_timer_when = UINT64_MAX;
}

void tl__loop_run_until(tl_loop *loop, bool (*pred)(tl_loop *))
{
    while (!pred(loop))
        iterate(loop, pred);
}

static bool stopping(tl_loop *loop)
{
    return loop->stopping;
}

int tl_loop_run(tl_loop *loop, tl_fn main, void *arg)
{
    if (tl__loop)
        return TL_EINVAL; /* a loop already runs on this thread */
    tl__loop = loop;
    tl__ctx_init_thread(&loop->sched);
    tl_task_opts opts = {.name = "main"};
    tl_task *m = tl_create_task_ex(main, arg, &opts);
    if (!m) {
        tl__loop = NULL;
        return TL_ENOMEM;
    }
    loop->main = m;
    loop->running = true;
    loop->stopping = false;
    tl__loop_run_until(loop, stopping);
    loop->stopping = false;
    loop->running = false;
    loop->main = NULL;
    int result = tl_task_result(m);
    tl_task_release(m);
    tl__loop = NULL;
    return result;
}

static bool none_alive(tl_loop *loop)
{
    return loop->nalive == 0;
}

/* Cancels the tasks still alive and runs the loop until they have finished
 * (asyncio.run's _cancel_all_tasks). */
static void cancel_leftovers(tl_loop *loop)
{
    if (!loop->nalive)
        return;
    if (tl__debug)
        tl__debug_leftover(loop);
    for (tl_task *t = loop->tasks; t; t = t->all_next)
        tl_task_cancel(t);
    tl__loop_run_until(loop, none_alive);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, close_noop);
}

/* Drops what is still queued without running it. */
static void drop_queued(tl_loop *loop)
{
    tl__item *it;
    while ((it = tl__runq_pop(&loop->ready)))
        tl__item_drop(it);
    while (loop->heap) {
        tl__timer *t = loop->heap;
        tl__timer_remove(loop, t);
        tl__timer_drop(t);
    }
    tl__threadsafe_drain(loop, false);
}

void tl_loop_free(tl_loop *loop)
{
    if (!loop)
        return;
    if (tl__loop && tl__loop != loop)
        tl__fatal("tl_loop_free called while another loop runs on this thread");
    if (loop->running)
        tl__fatal("tl_loop_free called from inside the loop it frees");
    tl__loop = loop;
    tl__ctx_init_thread(&loop->sched);
    cancel_leftovers(loop);
    /* Tasks whose handles the program kept: the loop's memory goes, theirs too. */
    while (loop->tasks) {
        tl_task *t = loop->tasks;
        loop->tasks = t->all_next;
        tl__free(t->name);
        tl__free(t);
    }
    drop_queued(loop);
    tl__future_spares_free(loop);
    tl__loop_detach_all(loop);
    states_teardown(loop);
    uv_walk(&loop->uv, walk_close, NULL);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    uv_loop_close(&loop->uv);
    uv_mutex_destroy(&loop->ts_lock);
    tl__stack_pool_destroy(&loop->stacks);
    tl__overflow_thread_done();
    tl__loop = NULL;
    tl__free(loop);
}

void tl__loop_attach(tl_loop *loop, tl__attached *n)
{
    n->prev = NULL;
    n->next = loop->attached;
    if (loop->attached)
        loop->attached->prev = n;
    loop->attached = n;
}

void tl__loop_detach(tl_loop *loop, tl__attached *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else if (loop->attached == n)
        loop->attached = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

void tl__loop_detach_all(tl_loop *loop)
{
    while (loop->attached) {
        tl__attached *n = loop->attached;
        tl__loop_detach(loop, n);
        n->teardown(n);
    }
}

tl__loop_state *tl__loop_state_find(tl_loop *loop, const void *key)
{
    for (tl__loop_state *st = loop->states; st; st = st->next)
        if (st->key == key)
            return st;
    return NULL;
}

void tl__loop_state_add(tl_loop *loop, tl__loop_state *st)
{
    if (tl__loop_state_find(loop, st->key))
        tl__fatal("tl__loop_state_add: the loop has a state under this key already");
    st->next = loop->states;
    loop->states = st;
}

void tl__loop_state_remove(tl_loop *loop, tl__loop_state *st)
{
    tl__loop_state **pp = &loop->states;
    while (*pp && *pp != st)
        pp = &(*pp)->next;
    if (*pp)
        *pp = st->next;
    st->next = NULL;
}

/* Newest first: a layer added later may lean on one added before it. */
static void states_teardown(tl_loop *loop)
{
    while (loop->states) {
        tl__loop_state *st = loop->states;
        loop->states = st->next;
        st->next = NULL;
        st->teardown(st);
    }
}
