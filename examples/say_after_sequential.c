/* The second seed's first example: awaiting two coroutines one after the
 * other takes the sum of their delays (about 3 s). In C a coroutine called
 * directly is just a function call. */
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
    print_time("started");
    say_after(&(struct say){1, "hello"});
    say_after(&(struct say){2, "world"});
    print_time("finished");
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
