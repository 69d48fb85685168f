/* Signals: tl_signal_wait, handlers (asyncio's add_signal_handler), and a
 * signal that cancels a task (tl_run's SIGINT).
 *
 * The loop keeps one record per signal it watches, with one libuv watcher.
 * A delivery wakes every task waiting then and runs the handler. A waiter
 * woken but cancelled before it runs hands the signal back, and a signal that
 * finds nobody waiting is kept for the next wait: once a task has waited for
 * a signal the loop keeps catching it, so none is lost, and none kills the
 * program, between two waits. */
#include <signal.h>

#include "os.h"

typedef enum { HANDLER_NONE, HANDLER_CALL, HANDLER_CANCEL } handler_kind;

typedef struct tl__sig tl__sig;
struct tl__sig {
    uv_signal_t h;
    tl_loop *loop;
    tl__sig *next;
    int signum;
    bool claimed; /* a task has waited for it: watched until the loop ends */
    bool pending; /* arrived while no task waited */
    tl__wlist waiters;
    unsigned woken, given_back; /* by the last delivery */
    handler_kind kind;
    tl_callback cb;
    void *arg;
    tl_task *target; /* HANDLER_CANCEL: retained; NULL means the main task */
};

/* The loop's watched signals, kept as per-loop state under &sigs_key. */
typedef struct {
    tl__loop_state st;
    tl__sig *list;
} tl__sigs;

static const char sigs_key = 0;

static tl__sigs *loop_sigs(tl_loop *loop)
{
    tl__loop_state *st = tl__loop_state_find(loop, &sigs_key);
    return st ? tl__container_of(st, tl__sigs, st) : NULL;
}

static bool valid_signum(int signum)
{
    return signum > 0 && signum < NSIG && signum != SIGKILL && signum != SIGSTOP;
}

static void sig_close_cb(uv_handle_t *h)
{
    tl__free(h->data);
}

/* Stops watching: off the loop's list, the handle closed (and g freed). */
static void close_sig(tl__sig *g)
{
    tl__sigs *all = loop_sigs(g->loop);
    tl__sig **pp = &all->list;
    while (*pp != g)
        pp = &(*pp)->next;
    *pp = g->next;
    uv_close((uv_handle_t *)&g->h, sig_close_cb);
    if (!all->list) {
        tl__loop_state_remove(g->loop, &all->st);
        tl__free(all);
    }
}

/* The loop is being freed: its tasks are gone already, so no target is
 * touched. */
static void sigs_teardown(tl__loop_state *st)
{
    tl__sigs *all = tl__container_of(st, tl__sigs, st);
    for (tl__sig *g = all->list, *next; g; g = next) {
        next = g->next;
        uv_close((uv_handle_t *)&g->h, sig_close_cb);
    }
    tl__free(all);
}

static void drop_handler(tl__sig *g)
{
    if (g->kind == HANDLER_CANCEL && g->target)
        tl__task_unref(g->target);
    g->kind = HANDLER_NONE;
    g->target = NULL;
}

/* Nobody needs the watcher any more: the signal's default action is back. */
static void forget_if_unused(tl__sig *g)
{
    if (g->kind != HANDLER_NONE || g->claimed || g->waiters.head)
        return;
    close_sig(g);
}

/* A woken waiter was cancelled before it ran: when every task this delivery
 * woke gave it back, the signal is kept for the next wait. */
static void give_back(tl_task *t, void *ctx)
{
    (void)t;
    tl__sig *g = ctx;
    if (++g->given_back == g->woken)
        g->pending = true;
}

static void run_handler(tl__sig *g)
{
    if (g->kind == HANDLER_CALL) {
        g->cb(g->arg);
    } else if (g->kind == HANDLER_CANCEL) {
        tl_task *t = g->target ? g->target : g->loop->main;
        if (t)
            tl_task_retain(t);
        drop_handler(g); /* first: the next one does what it did before */
        forget_if_unused(g);
        if (t) {
            tl_task_cancel(t);
            tl__task_unref(t);
        }
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    tl__sig *g = h->data;
    g->woken = g->given_back = 0;
    if (!g->waiters.head && g->claimed)
        g->pending = true;
    tl__waiter *w;
    while ((w = tl__wlist_pop(&g->waiters))) {
        g->woken++;
        tl__wake_handoff(w->task, 0, give_back, g);
    }
    run_handler(g); /* may free g */
}

static tl__sig *find_sig(tl_loop *loop, int signum)
{
    tl__sigs *all = loop_sigs(loop);
    for (tl__sig *g = all ? all->list : NULL; g; g = g->next)
        if (g->signum == signum)
            return g;
    return NULL;
}

/* The record for signum, watching; NULL when memory runs out. */
static tl__sig *watch(tl_loop *loop, int signum)
{
    tl__sig *g = find_sig(loop, signum);
    if (g)
        return g;
    tl__sigs *all = loop_sigs(loop);
    bool fresh = !all;
    if (fresh) {
        all = tl__calloc(1, sizeof *all);
        if (!all)
            return NULL;
        all->st.key = &sigs_key;
        all->st.teardown = sigs_teardown;
    }
    g = tl__calloc(1, sizeof *g);
    if (!g || tl__fault_point() || uv_signal_init(&loop->uv, &g->h) != 0)
        goto fail;
    g->h.data = g;
    g->loop = loop;
    g->signum = signum;
    if (uv_signal_start(&g->h, on_signal, signum) != 0) {
        uv_close((uv_handle_t *)&g->h, sig_close_cb);
        g = NULL; /* freed by its close callback */
        goto fail;
    }
    uv_unref((uv_handle_t *)&g->h); /* a watched signal does not keep the loop alive */
    if (fresh)
        tl__loop_state_add(loop, &all->st);
    g->next = all->list;
    all->list = g;
    return g;
fail:
    tl__free(g);
    if (fresh)
        tl__free(all);
    return NULL;
}

int tl_signal_wait(int signum)
{
    tl_task *self = tl__need_task("tl_signal_wait");
    if (!valid_signum(signum))
        return TL_EINVAL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    tl__sig *g = watch(self->loop, signum);
    if (!g)
        return TL_ENOMEM;
    g->claimed = true;
    if (g->pending) {
        g->pending = false;
        return 0;
    }
    return tl__wait_in(self, &g->waiters, "signal", g);
}

static int set_handler(tl_loop *loop, int signum, handler_kind kind, tl_callback cb, void *arg,
                       tl_task *target)
{
    if (!valid_signum(signum))
        return TL_EINVAL;
    tl__sig *g = watch(loop, signum);
    if (!g)
        return TL_ENOMEM;
    drop_handler(g);
    g->kind = kind;
    g->cb = cb;
    g->arg = arg;
    g->target = target ? tl_task_retain(target) : NULL;
    return 0;
}

int tl_add_signal_handler(int signum, tl_callback cb, void *arg)
{
    tl_loop *loop = tl__need_loop("tl_add_signal_handler");
    if (!cb)
        return TL_EINVAL;
    return set_handler(loop, signum, HANDLER_CALL, cb, arg, NULL);
}

int tl_cancel_on_signal(int signum, tl_task *t)
{
    return set_handler(tl__need_loop("tl_cancel_on_signal"), signum, HANDLER_CANCEL, NULL, NULL, t);
}

int tl__signal_cancel_main(tl_loop *loop, int signum)
{
    return set_handler(loop, signum, HANDLER_CANCEL, NULL, NULL, NULL);
}

bool tl_remove_signal_handler(int signum)
{
    tl_loop *loop = tl__need_loop("tl_remove_signal_handler");
    tl__sig *g = valid_signum(signum) ? find_sig(loop, signum) : NULL;
    if (!g || g->kind == HANDLER_NONE)
        return false;
    drop_handler(g);
    forget_if_unused(g);
    return true;
}
