/* A lock guarding shared state (async with lock), as in the third seed:
 *
 *     async def increment(lock):
 *         global counter
 *         async with lock:
 *             value = counter
 *             await asyncio.sleep(0)    # another task runs here
 *             counter = value + 1
 *
 * A hundred tasks each read the counter, yield, and write it back plus one.
 * Without the lock every task reads the same value before any writes, and
 * all but one update are lost; with it, each read-modify-write is whole. */
#include <stdio.h>
#include <tulip.h>

#define TASKS 100

static int counter;
static tl_lock lock;

static int increment_unlocked(void *arg)
{
    (void)arg;
    int value = counter;
    int rc = tl_sleep(0);
    counter = value + 1;
    return rc;
}

static int increment_locked(void *arg)
{
    (void)arg;
    int rc = tl_lock_acquire(&lock);
    if (rc < 0)
        return rc;
    int value = counter;
    rc = tl_sleep(0);
    counter = value + 1;
    tl_lock_release(&lock); /* released on every path, like the end of async with */
    return rc;
}

static int run_all(tl_fn fn)
{
    tl_task *tasks[TASKS];
    counter = 0;
    for (int i = 0; i < TASKS; i++)
        if (!(tasks[i] = tl_create_task(fn, NULL)))
            return TL_ENOMEM;
    for (int i = 0; i < TASKS; i++) {
        tl_await(tasks[i]);
        tl_task_release(tasks[i]);
    }
    return counter;
}

static int main_task(void *arg)
{
    (void)arg;
    int n = run_all(increment_unlocked);
    printf("without a lock: counter = %d (%d updates lost)\n", n, TASKS - n);
    tl_lock_init(&lock);
    n = run_all(increment_locked);
    printf("with a lock:    counter = %d (%d updates lost)\n", n, TASKS - n);
    tl_lock_destroy(&lock);
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
