/* The second seed's create_task example: both say_after calls run as tasks
 * at once, so the program takes the longer delay (about 2 s), not the sum. */
#include <stdio.h>
#include <time.h>
#include <tulip.h>

struct say {
    double delay;
    const char *what;
};

static int say_after(void *arg)
{
    struct say *s = arg;
    int rc = tl_sleep(s->delay);
    if (rc < 0)
        return rc;
    printf("%s\n", s->what);
    return 0;
}

static void print_time(const char *label)
{
    char buf[16];
    time_t now = time(NULL);
    strftime(buf, sizeof buf, "%X", localtime(&now));
    printf("%s at %s\n", label, buf);
}

static int main_task(void *arg)
{
    (void)arg;
    struct say hello = {1, "hello"}, world = {2, "world"};
    tl_task *task1 = tl_create_task(say_after, &hello);
    tl_task *task2 = tl_create_task(say_after, &world);
    if (!task1 || !task2)
        return TL_ENOMEM;

    print_time("started");
    tl_await(task1);
    tl_await(task2);
    print_time("finished");

    tl_task_release(task1);
    tl_task_release(task2);
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
