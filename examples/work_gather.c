/* The third seed's work(1..3): three one-second jobs run at once, their
 * results collected in order, first with gather, then with create_task and
 * an await per task. Each method takes about 1 s. */
#include <stdio.h>
#include <tulip.h>

static int work(void *arg)
{
    int id = (int)(intptr_t)arg;
    printf("Task %d started\n", id);
    int rc = tl_sleep(1);
    if (rc < 0)
        return rc;
    printf("Task %d completed\n", id);
    return id;
}

static void report(const int *results, double start)
{
    printf("Concurrent execution results: [%d, %d, %d]\n", results[0], results[1], results[2]);
    printf("Total execution time: %.2f seconds\n", tl_time() - start);
}

static int with_gather(void)
{
    int results[3];
    double start = tl_time();
    int rc = TL_GATHER(results, 0, TL_CORO(work, (void *)1), TL_CORO(work, (void *)2),
                       TL_CORO(work, (void *)3));
    if (rc < 0)
        return rc;
    report(results, start);
    return 0;
}

static int with_create_task(void)
{
    int results[3];
    double start = tl_time();
    tl_task *tasks[3];
    for (int i = 0; i < 3; i++)
        if (!(tasks[i] = tl_create_task(work, (void *)(intptr_t)(i + 1))))
            return TL_ENOMEM; /* a sketch: a real program would release the others */
    for (int i = 0; i < 3; i++) {
        results[i] = tl_await(tasks[i]);
        tl_task_release(tasks[i]);
    }
    report(results, start);
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    printf("Method 1: gather\n");
    int rc = with_gather();
    if (rc == 0) {
        printf("Method 2: create_task, then await each\n");
        rc = with_create_task();
    }
    return rc;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
