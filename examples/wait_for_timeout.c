/* The fourth seed's wait_for: a slow task gets a time limit. When the time
 * is up wait_for cancels the task, waits until it has finished (its cleanup
 * runs), and returns TL_ETIMEDOUT. A quick task returns its result. */
#include <stdio.h>
#include <tulip.h>

static int slow_operation(void *arg)
{
    double seconds = *(double *)arg;
    printf("slow operation: working for %.1f s\n", seconds);
    int rc = tl_sleep(seconds);
    if (rc < 0) {
        printf("slow operation: stopped (%s), cleaning up\n", tl_err_name(rc));
        return rc;
    }
    printf("slow operation: done\n");
    return 42;
}

static int attempt(double work, double limit)
{
    tl_task *t = tl_create_task(slow_operation, &work);
    if (!t)
        return TL_ENOMEM;
    double start = tl_time();
    int rc = tl_wait_for(t, limit);
    if (rc == TL_ETIMEDOUT)
        printf("timed out after %.1f s; task cancelled: %s\n", tl_time() - start,
               tl_task_cancelled(t) ? "yes" : "no");
    else
        printf("result: %d after %.1f s\n", rc, tl_time() - start);
    tl_task_release(t);
    return rc;
}

static int main_task(void *arg)
{
    (void)arg;
    if (attempt(0.5, 1.0) != 42)
        return 1;
    return attempt(10.0, 1.0) == TL_ETIMEDOUT ? 0 : 1;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
