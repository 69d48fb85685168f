/* One waiter node per task for gather, wait and as_completed: see waitset.h.
 * A node is linked while its notify is set; the task's finish unlinks the
 * whole awaiter list before notifying, so notify only has to clear it. */
#include "waitset.h"

static void node_notify(tl__waiter *w, int code)
{
    tl__waitset *ws = w->owner;
    w->notify = NULL;
    ws->left--;
    ws->on_done(ws, (size_t)(w - ws->nodes), code);
}

int tl__waitset_init(tl__waitset *ws, tl_task *const *tasks, size_t n, tl__waitset_fn on_done,
                     const char *fn)
{
    tl_task *self = tl__loop ? tl__loop->current : NULL;
    for (size_t i = 0; i < n; i++) {
        if (!tasks[i])
            return TL_EINVAL;
        if (tasks[i] == self) {
            char buf[40];
            tl__fatal("%s: task '%s' waits on itself: it would wait forever", fn,
                      tl__task_name_buf(self, buf, sizeof buf));
        }
    }
    ws->tasks = tasks;
    ws->n = n;
    ws->left = 0;
    ws->on_done = on_done;
    ws->nodes = ws->small;
    if (n > TL__WAITSET_SMALL && !(ws->nodes = tl__malloc(n * sizeof *ws->nodes)))
        return TL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        tl__waiter *w = &ws->nodes[i];
        w->notify = NULL;
        if (tasks[i]->state == TL__DONE)
            continue;
        w->owner = ws;
        w->notify = node_notify;
        tl__wlist_push(&tasks[i]->awaiters, w);
        ws->left++;
    }
    return 0;
}

void tl__waitset_each(const tl__waitset *ws, tl__each_fn fn, void *ctx)
{
    for (size_t i = 0; i < ws->n; i++)
        if (ws->nodes[i].notify)
            fn(ws->tasks[i], ctx);
}

void tl__waitset_destroy(tl__waitset *ws)
{
    for (size_t i = 0; ws->left && i < ws->n; i++) {
        tl__waiter *w = &ws->nodes[i];
        if (w->notify) {
            tl__wlist_remove(&ws->tasks[i]->awaiters, w);
            ws->left--;
        }
    }
    if (ws->nodes != ws->small)
        tl__free(ws->nodes);
}
