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
    if (strcmp(t->wait_what, "sleep") == 0) {
        double left = ((double)t->timer.when - (double)uv_hrtime()) / 1e9;
        fprintf(out, " on sleep (%.3f s left)", left > 0 ? left : 0.0);
    } else if (strcmp(t->wait_what, "task") == 0) {
        const tl_task *a = t->wait_obj;
        char buf[40];
        fprintf(out, " on task #%llu '%s'", (unsigned long long)a->id,
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

static bool awaited_by_someone(tl_loop *loop, const tl_task *t)
{
    for (tl_task *o = loop->tasks; o; o = o->all_next)
        if (o->state == TL__WAITING && o->wait_what && strcmp(o->wait_what, "task") == 0 &&
            o->wait_obj == t)
            return true;
    return false;
}

void tl_dump_tasks(FILE *out)
{
    tl_loop *loop = tl__need_loop("tl_dump_tasks");
    fprintf(out, "tulip: %zu task(s)\n", loop->nalive);
    /* Roots are tasks nobody awaits; under each, the chain of tasks it awaits. */
    for (tl_task *t = loop->tasks; t; t = t->all_next) {
        if (t->state == TL__DONE || awaited_by_someone(loop, t))
            continue;
        const tl_task *c = t;
        for (int depth = 0; c && depth <= (int)loop->nalive; depth++) {
            print_task(out, c, depth);
            bool awaits =
                c->state == TL__WAITING && c->wait_what && strcmp(c->wait_what, "task") == 0;
            c = awaits ? c->wait_obj : NULL;
        }
    }
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
