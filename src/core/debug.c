/* Debug mode and tl_dump_tasks. Reports go to stderr, one line each, in
 * words a user can act on: the seeds' "never call time.sleep() in async
 * code" made visible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool tl__debug;
double tl__slow_threshold = 0.1;
static bool env_read;

void tl__debug_init(void)
{
    if (env_read)
        return;
    env_read = true;
    const char *v = getenv("TULIP_DEBUG");
    if (v && *v && strcmp(v, "0") != 0)
        tl__debug = true;
}

void tl_set_debug(bool on)
{
    env_read = true;
    tl__debug = on;
    if (tl__loop)
        tl__loop->slice_start = on ? uv_hrtime() : 0;
}

bool tl_get_debug(void)
{
    tl__debug_init();
    return tl__debug;
}

void tl_set_slow_threshold(double seconds)
{
    if (seconds >= 0)
        tl__slow_threshold = seconds;
}

void tl__debug_slow(tl_loop *loop, const char *what, const char *name, uint64_t id, uint64_t ns)
{
    (void)loop;
    if (id)
        fprintf(stderr,
                "tulip: %s '%s' (id %llu) ran %.3f s without yielding: a blocking call in "
                "async code stalls every task\n",
                what, name, (unsigned long long)id, (double)ns / 1e9);
    else
        fprintf(stderr,
                "tulip: a %s ran %.3f s without yielding: a blocking call stalls every task\n",
                what, (double)ns / 1e9);
}

void tl__debug_unretrieved(tl_task *t)
{
    if (t->state != TL__DONE || t->result >= 0 || t->result == TL_ECANCELED ||
        (t->flags & TL__RETRIEVED))
        return;
    char buf[40];
    fprintf(stderr,
            "tulip: task '%s' (id %llu) failed with %s (%s) and nobody retrieved its result\n",
            tl__task_name_buf(t, buf, sizeof buf), (unsigned long long)t->id,
            tl_err_name(t->result), tl_strerror(t->result));
}

static const char *state_name(const tl_task *t)
{
    switch (t->state) {
    case TL__CREATED:
        return "pending";
    case TL__READY:
        return "ready";
    case TL__RUNNING:
        return "running";
    case TL__WAITING:
        return "waiting";
    default:
        return "done";
    }
}

static void describe_wait(FILE *out, const tl_task *t)
{
    if (t->state != TL__WAITING || !t->wait_what)
        return;
    if (t->wait_kind == TL__WAIT_SLEEP) {
        double left = ((double)t->timer.when - (double)uv_hrtime()) / 1e9;
        fprintf(out, " on %s (%.3f s left)", t->wait_what, left > 0 ? left : 0.0);
    } else if (t->wait_kind == TL__WAIT_TASK) {
        const tl_task *a = t->wait_obj;
        char buf[40];
        fprintf(out, " on %s #%llu '%s'", t->wait_what, (unsigned long long)a->id,
                tl__task_name_buf(a, buf, sizeof buf));
    } else {
        fprintf(out, " on %s %p", t->wait_what, t->wait_obj);
    }
}

static void print_task(FILE *out, const tl_task *t, int depth)
{
    char buf[40];
    fprintf(out, "%*s%s#%llu '%s' %s", depth * 4, "", depth ? "└── " : "",
            (unsigned long long)t->id, tl__task_name_buf(t, buf, sizeof buf), state_name(t));
    describe_wait(out, t);
    if (t->shield)
        fprintf(out, " [shielded]");
    if (t->flags & TL__CANCEL_REQ)
        fprintf(out, " [cancelling]");
    fputc('\n', out);
}

/* Calls fn with each task t waits for: one for await and wait_for, the set
 * of a gather, wait or as_completed, a group's running children, the task
 * of the generator it asks for a value. */
static void each_awaited(const tl_task *t, tl__each_fn fn, void *ctx)
{
    if (t->state != TL__WAITING)
        return;
    switch (t->wait_kind) {
    case TL__WAIT_TASK:
        fn(t->wait_obj, ctx);
        break;
    case TL__WAIT_SET:
        tl__waitset_each(t->wait_obj, fn, ctx);
        break;
    case TL__WAIT_GROUP:
        tl__group_each(t->wait_obj, fn, ctx);
        break;
    case TL__WAIT_GEN: {
        tl_task *g = tl__gen_task(t->wait_obj);
        if (g)
            fn(g, ctx);
        break;
    }
    case TL__WAIT_OTHER:
    case TL__WAIT_SLEEP:
        break;
    }
}

static void mark(tl_task *t, void *ctx)
{
    (void)ctx;
    t->flags |= TL__AWAITED;
}

typedef struct tree {
    FILE *out;
    int depth;
} tree;

static void print_tree(tl_task *t, void *ctx)
{
    tree *tr = ctx;
    print_task(tr->out, t, tr->depth);
    if (tr->depth >= 32)
        return; /* a cycle of tasks awaiting each other, or absurdly deep */
    tree sub = {tr->out, tr->depth + 1};
    each_awaited(t, print_tree, &sub);
}

void tl_dump_tasks(FILE *out)
{
    tl_loop *loop = tl__need_loop("tl_dump_tasks");
    fprintf(out, "tulip: %zu task(s)\n", loop->nalive);
    /* Roots are the tasks nobody waits for; under each, what it waits for. */
    for (tl_task *t = loop->tasks; t; t = t->all_next)
        each_awaited(t, mark, NULL);
    tree root = {out, 0};
    for (tl_task *t = loop->tasks; t; t = t->all_next)
        if (t->state != TL__DONE && !(t->flags & TL__AWAITED))
            print_tree(t, &root);
    for (tl_task *t = loop->tasks; t; t = t->all_next)
        t->flags &= (uint8_t)~TL__AWAITED;
    fflush(out);
}

void tl__debug_leftover(tl_loop *loop)
{
    fprintf(stderr, "tulip: %zu task(s) still alive when the loop closed; cancelling them:\n",
            loop->nalive);
    for (tl_task *t = loop->tasks; t; t = t->all_next)
        if (t->state != TL__DONE) {
            fputs("  ", stderr);
            print_task(stderr, t, 0);
        }
}
