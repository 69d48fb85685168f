#include <stdio.h>
#include <tulip.h>

static int say_after(void *arg)
{
    const char *what = arg;
    tl_sleep(what[0] == 'h' ? 1 : 2); /* suspends this task only */
    printf("%s\n", what);
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_task *a = tl_create_task(say_after, "hello");
    tl_task *b = tl_create_task(say_after, "world");
    tl_await(a); /* both run at once: 2 s, not 3 */
    tl_await(b);
    tl_task_release(a);
    tl_task_release(b);
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL);
}
