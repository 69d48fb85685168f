/* The third seed's async generator: async_count(3) sleeps a second, yields
 * 0, and so on to 2; `async for` becomes a loop over tl_gen_next. */
#include <stdio.h>
#include <time.h>
#include <tulip.h>

static int async_count(tl_gen *g, void *arg)
{
    intptr_t stop = (intptr_t)arg;
    for (intptr_t i = 0; i < stop; i++) {
        int rc = tl_sleep(1);
        if (rc == 0)
            rc = tl_gen_yield(g, (void *)i);
        if (rc < 0)
            return rc; /* closed or cancelled: stop here */
    }
    return 0;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_gen *g = tl_gen_new(async_count, (void *)3);
    if (!g)
        return TL_ENOMEM;
    void *num;
    int rc;
    while ((rc = tl_gen_next(g, &num)) == 0)
        printf("%d output (time: %ld)\n", (int)(intptr_t)num, (long)time(NULL));
    int closed = tl_gen_close(g);
    return rc == TL_EOF ? closed : rc;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
