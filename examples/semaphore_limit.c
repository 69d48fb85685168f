/* A semaphore that limits how many of 100 tasks run at once:
 *
 *     sem = asyncio.Semaphore(10)
 *     async def job(i):
 *         async with sem:
 *             running += 1; most = max(most, running)
 *             await asyncio.sleep(0.01)
 *             running -= 1
 *     await asyncio.gather(*(job(i) for i in range(100)))
 *
 * All 100 tasks start at once, but only 10 hold a permit at any time: the
 * most seen running together is the limit, and the run takes ten rounds of
 * 10 ms. Waiting tasks get their permits in the order they asked. */
#include <stdio.h>
#include <tulip.h>

#define TASKS 100
#define LIMIT 10

static tl_semaphore sem;
static int running, most, order_ok = 1, next_start;

static int job(void *arg)
{
    int i = (int)(intptr_t)arg;
    int rc = tl_semaphore_acquire(&sem);
    if (rc < 0)
        return rc;
    if (i != next_start++)
        order_ok = 0;
    if (++running > most)
        most = running;
    rc = tl_sleep(0.01);
    running--;
    tl_semaphore_release(&sem);
    return rc;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, LIMIT);
    double t0 = tl_time();
    tl_task *tasks[TASKS];
    for (int i = 0; i < TASKS; i++)
        if (!(tasks[i] = tl_create_task(job, (void *)(intptr_t)i)))
            return TL_ENOMEM;
    int failed = 0;
    for (int i = 0; i < TASKS; i++) {
        failed += tl_await(tasks[i]) != 0;
        tl_task_release(tasks[i]);
    }
    printf("%d tasks finished, %d failed\n", TASKS, failed);
    printf("limit %d, most running at once: %d\n", LIMIT, most);
    printf("permits granted in the order asked: %s\n", order_ok ? "yes" : "no");
    printf("took %.2f s: %d rounds of 10 ms\n", tl_time() - t0, TASKS / LIMIT);
    tl_semaphore_destroy(&sem);
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
