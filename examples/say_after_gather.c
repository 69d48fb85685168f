/* The second seed's gather example: `await asyncio.gather(say_after(1,
 * 'hello'), say_after(2, 'world'))`. TL_GATHER runs the calls as tasks and
 * waits for all of them, so the program takes about 2 s, not 3. */
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
    print_time("started");
    int rc = TL_GATHER(NULL, 0, TL_CORO(say_after, &hello), TL_CORO(say_after, &world));
    print_time("finished");
    return rc;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
