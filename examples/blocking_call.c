/* The seeds' critical rule, made visible: a blocking call inside a task
 * (here POSIX sleep(), Python's time.sleep()) freezes every other task. In
 * debug mode tulip names the task that held the loop and for how long. */
#include <stdio.h>
#include <tulip.h>
#include <unistd.h>

static int ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        double t0 = tl_time();
        if (tl_sleep(0.1) < 0)
            return 0;
        printf("tick %d after %.1f s\n", i, tl_time() - t0);
    }
    return 0;
}

static int wrong_sleeper(void *arg)
{
    (void)arg;
    tl_sleep(0.05);
    sleep(1); /* wrong: blocks the thread, and so the loop */
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_task_opts o = {.name = "wrong_sleeper"};
    tl_task *t = tl_create_task(ticker, NULL);
    tl_task *w = tl_create_task_ex(wrong_sleeper, NULL, &o);
    tl_await(t);
    tl_await(w);
    tl_task_release(t);
    tl_task_release(w);
    return 0;
}

int main(void)
{
    tl_set_debug(true);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
