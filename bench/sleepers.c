/* sleepers: what a million sleeping tasks cost in time and memory.
 *
 * N tasks each tl_sleep(1) and return their index; main gathers them all
 * (tl_gather, as the peers use asyncio.gather and Promise.all). overhead =
 * wall time - 1 s (creating, starting, waking and finishing them all); RSS
 * per task = (peak RSS - RSS before creating them) / N, from
 * /proc/self/status. Prints one JSON line, the figures
 * bench/peers/sleepers.{go,js,py} print.
 *
 * usage: bench_sleepers [n]
 */
#define _POSIX_C_SOURCE 200809L
#include <tulip.h>

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define SLEEP 1.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A "VmRSS:"-style field of /proc/self/status in KiB; without /proc, the
 * peak that getrusage knows, which still bounds the per-task figure. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
    }
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, strlen(field)) == 0) {
            kib = atol(line + strlen(field));
            break;
        }
    fclose(f);
    return kib;
}

static int sleeper(void *arg)
{
    int rc = tl_sleep(SLEEP);
    return rc < 0 ? rc : (int)(intptr_t)arg;
}

static int bench(void *arg)
{
    long n = *(const long *)arg;
    long base = status_kib("VmRSS:");
    double t0 = now();
    tl_task **tasks = malloc((size_t)n * sizeof *tasks);
    if (tasks == NULL)
        return TL_ENOMEM;
    for (long i = 0; i < n; i++)
        if ((tasks[i] = tl_create_task(sleeper, (void *)(intptr_t)i)) == NULL)
            return TL_ENOMEM; /* tl_run cancels those already made; the process exits */
    int *results = malloc((size_t)n * sizeof *results);
    if (results == NULL)
        return TL_ENOMEM;
    int rc = tl_gather(tasks, (size_t)n, results, 0);
    long long sum = 0;
    for (long i = 0; i < n; i++) {
        sum += results[i];
        tl_task_release(tasks[i]);
    }
    free(results);
    double wall = now() - t0;
    long peak = status_kib("VmHWM:");
    free(tasks);
    if (rc == 0 && sum != (long long)n * (n - 1) / 2)
        rc = TL_EINVAL;
    if (rc == 0)
        printf("{\"version\": \"%s\", \"n\": %ld, \"wall_s\": %.4f, \"overhead_s\": %.4f, "
               "\"rss_per_task_kib\": %.3f}\n",
               tl_version(), n, wall, wall - SLEEP, (double)(peak - base) / (double)n);
    return rc;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n <= 0 || n > INT32_MAX) {
        fprintf(stderr, "usage: %s [n > 0]\n", argv[0]);
        return 2;
    }
    int rc = tl_run(bench, &n);
    if (rc < 0) {
        fprintf(stderr, "sleepers: %s\n", tl_strerror(rc));
        return 1;
    }
    return 0;
}
