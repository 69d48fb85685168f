/* The first seed: create_task schedules a task for the loop's next turn,
 * while calling a coroutine directly runs it now. In main1 the new coroutine
 * cuts in line, and the old task still gets its turn in the loop iteration in
 * which main returns; in main2 both are tasks and run in creation order. */
#include <stdio.h>
#include <tulip.h>

static int old_task(void *arg)
{
    (void)arg;
    printf("Old Task: I was scheduled first! Let me run!\n");
    return 0;
}

static int new_coro(void *arg)
{
    (void)arg;
    printf("New Coro: I am running directly! I cut in line!\n");
    return 0;
}

static int main1(void *arg)
{
    (void)arg;
    tl_task *task = tl_create_task(old_task, NULL);
    printf("Main: Task scheduled.\n");
    int rc = new_coro(NULL); /* "await new_coro()": a plain call */
    tl_task_release(task);
    return rc;
}

static int main2(void *arg)
{
    (void)arg;
    tl_task *task = tl_create_task(old_task, NULL);
    tl_task *task2 = tl_create_task(new_coro, NULL);
    int rc = tl_await(task2);
    tl_task_release(task);
    tl_task_release(task2);
    return rc;
}

int main(void)
{
    printf("# main1 result\n");
    if (tl_run(main1, NULL) != 0)
        return 1;
    printf("# main2 result\n");
    return tl_run(main2, NULL) == 0 ? 0 : 1;
}
