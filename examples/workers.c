/* The fifth seed: worker A sleeps 2 s and worker B 1 s, as two tasks; the
 * whole run takes about 2 s, not 3. That's concurrency. */
#include <stdio.h>
#include <tulip.h>

struct worker {
    const char *name;
    double delay;
};

static int worker(void *arg)
{
    struct worker *w = arg;
    printf("%s started\n", w->name);
    int rc = tl_sleep(w->delay);
    if (rc < 0)
        return rc;
    printf("%s finished after %gs\n", w->name, w->delay);
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    struct worker a = {"A", 2}, b = {"B", 1};
    double t0 = tl_time();
    tl_task *task1 = tl_create_task(worker, &a);
    tl_task *task2 = tl_create_task(worker, &b);
    if (!task1 || !task2)
        return TL_ENOMEM;
    tl_await(task1);
    tl_await(task2);
    printf("total: %.1f s\n", tl_time() - t0);
    tl_task_release(task1);
    tl_task_release(task2);
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
