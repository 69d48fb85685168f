/* asyncio.TaskGroup: three downloads run in a group; one fails after 0.5 s,
 * so the group cancels the other two and tl_group_wait, which waits for all
 * of them, returns the failure. */
#include <stdio.h>
#include <tulip.h>

struct download {
    const char *name;
    double seconds;
    int outcome; /* 0, or the error it ends with */
};

static int download(void *arg)
{
    struct download *d = arg;
    printf("%s: started\n", d->name);
    int rc = tl_sleep(d->seconds);
    if (rc < 0) {
        printf("%s: cancelled\n", d->name);
        return rc;
    }
    if (d->outcome < 0) {
        printf("%s: failed (%s)\n", d->name, tl_strerror(d->outcome));
        return d->outcome;
    }
    printf("%s: done\n", d->name);
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    struct download jobs[] = {
        {"a.txt", 2.0, 0},
        {"b.txt", 0.5, TL_ECONNRESET},
        {"c.txt", 3.0, 0},
    };
    tl_group *g = tl_group_new();
    if (!g)
        return TL_ENOMEM;
    for (int i = 0; i < 3; i++)
        if (!tl_group_spawn(g, download, &jobs[i]))
            break; /* out of memory: wait for the ones that started */
    double start = tl_time();
    int rc = tl_group_wait(g);
    printf("group: %s after %.1f s\n", rc == 0 ? "all done" : tl_err_name(rc), tl_time() - start);
    tl_group_free(g);
    return rc == TL_ECONNRESET ? 0 : 1;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
