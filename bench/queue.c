/* queue: how many items per second pass through a bounded tl_queue from one
 * producer task to one consumer task.
 *
 * The producer puts the numbers 1..n, the consumer gets them and checks
 * their sum. Measured with a queue of 128 slots (the producer runs ahead
 * until the queue is full, so the two tasks take turns in batches) and of
 * 1 slot (a switch every item or two). Prints one JSON line with items per
 * second for each, the figures bench/peers/queue.{go,py} print.
 *
 * usage: bench_queue [items]
 */
#define _POSIX_C_SOURCE 200809L
#include <tulip.h>

#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct run {
    tl_queue *q;
    long items;
    long sum;
};

static int producer(void *arg)
{
    struct run *r = arg;
    for (long i = 1; i <= r->items; i++) {
        int rc = tl_queue_put(r->q, (void *)(intptr_t)i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int consumer(void *arg)
{
    struct run *r = arg;
    for (long i = 0; i < r->items; i++) {
        void *item;
        int rc = tl_queue_get(r->q, &item);
        if (rc < 0)
            return rc;
        r->sum += (long)(intptr_t)item;
    }
    return 0;
}

static int through(long items, size_t capacity, double *rate)
{
    struct run r = {.q = tl_queue_new(capacity), .items = items};
    if (r.q == NULL)
        return TL_ENOMEM;
    double t0 = now();
    tl_task *c = tl_create_task(consumer, &r);
    tl_task *p = tl_create_task(producer, &r);
    if (c == NULL || p == NULL)
        return TL_ENOMEM; /* the process is about to exit: nothing to tidy */
    int rc = tl_await(p);
    int rc2 = tl_await(c);
    *rate = (double)items / (now() - t0);
    tl_task_release(p);
    tl_task_release(c);
    tl_queue_free(r.q);
    if (rc == 0)
        rc = rc2;
    if (rc == 0 && r.sum != items * (items + 1) / 2) {
        fprintf(stderr, "queue: lost items (sum %ld)\n", r.sum);
        rc = TL_EIO;
    }
    return rc;
}

static int bench(void *arg)
{
    long items = *(const long *)arg;
    double r128, r1;
    int rc = through(items, 128, &r128);
    if (rc == 0)
        rc = through(items, 1, &r1);
    if (rc == 0)
        printf("{\"version\": \"%s\", \"items\": %ld, \"items_per_s_cap128\": %.0f, "
               "\"items_per_s_cap1\": %.0f}\n",
               tl_version(), items, r128, r1);
    return rc;
}

int main(int argc, char **argv)
{
    long items = argc > 1 ? atol(argv[1]) : 10000000;
    if (items <= 0) {
        fprintf(stderr, "usage: %s [items > 0]\n", argv[0]);
        return 2;
    }
    int rc = tl_run(bench, &items);
    if (rc < 0) {
        fprintf(stderr, "queue: %s\n", tl_strerror(rc));
        return 1;
    }
    return 0;
}
