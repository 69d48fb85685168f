/* The seeds' lesson in one program: 20 "downloads" of 50 ms each, four ways.
 *
 *   1. A blocking call in each task (Python's requests.get in async code):
 *      the loop freezes for the whole second, and debug mode names each task
 *      that held it.
 *   2. The same call through tl_to_thread: concurrent again, four at a time
 *      (libuv's thread pool has 4 threads).
 *   3. Through an executor with 20 threads of its own: all at once.
 *   4. An async call (here tl_sleep stands for the network wait): all at
 *      once, no threads at all.
 *
 * A heartbeat task, due every 10 ms, measures how late the loop lets it run. */
#include <stdio.h>
#include <tulip.h>
#include <unistd.h>

#define N 20

/* A blocking download: the thread waits 50 ms. */
static int blocking_download(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    return 0;
}

static int in_task_blocking(void *arg)
{
    return blocking_download(arg); /* wrong: blocks the loop */
}

static int in_task_to_thread(void *arg)
{
    return tl_to_thread(blocking_download, arg);
}

static tl_executor *pool20;

static int in_task_executor(void *arg)
{
    return tl_executor_run(pool20, blocking_download, arg);
}

static int in_task_async(void *arg)
{
    (void)arg;
    return tl_sleep(0.05);
}

typedef struct heartbeat {
    bool stop;
    double worst; /* how much later than due a beat ran */
} heartbeat;

static int beat(void *arg)
{
    heartbeat *h = arg;
    while (!h->stop) {
        double due = tl_time() + 0.01;
        if (tl_sleep(0.01) < 0)
            break;
        if (tl_time() - due > h->worst)
            h->worst = tl_time() - due;
    }
    return 0;
}

static void run(const char *how, tl_fn download)
{
    heartbeat h = {0};
    tl_task *hb = tl_create_task(beat, &h);
    tl_sleep(0.02);
    tl_task *tasks[N];
    double t0 = tl_time();
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "download %d", i);
        tl_task_opts o = {.name = name};
        tasks[i] = tl_create_task_ex(download, NULL, &o);
    }
    tl_gather(tasks, N, NULL, 0);
    double took = tl_time() - t0;
    for (int i = 0; i < N; i++)
        tl_task_release(tasks[i]);
    h.stop = true;
    tl_await(hb);
    tl_task_release(hb);
    printf("%-24s %d downloads in %.2f s, heartbeat up to %.2f s late\n", how, N, took, h.worst);
}

static int main_task(void *arg)
{
    (void)arg;
    tl_set_debug(true);
    tl_set_slow_threshold(0.04);
    run("blocking call in tasks:", in_task_blocking);
    tl_set_debug(false);
    run("tl_to_thread:", in_task_to_thread);
    pool20 = tl_executor_new(N);
    if (!pool20)
        return TL_ENOMEM;
    run("executor of 20 threads:", in_task_executor);
    tl_executor_free(pool20);
    run("async call:", in_task_async);
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
