/* The producer/consumer pattern with asyncio.Queue, from the fourth seed:
 *
 *     async def producer(name, queue):
 *         for i in range(1, 5):
 *             await queue.put(f"{name}{i}")
 *             await asyncio.sleep(0.01)
 *
 *     async def consumer(name, queue):
 *         while True:
 *             item = await queue.get()          # QueueShutDown ends the loop
 *             await asyncio.sleep(0.03)         # the work
 *             print(f"{name} processed {item}")
 *             queue.task_done()
 *
 *     queue = asyncio.Queue(maxsize=3)
 *     ... await the producers; await queue.join(); queue.shutdown()
 *
 * Two producers put four items each through a queue of three slots (a put
 * waits while it is full), three consumers take them in FIFO order. join()
 * returns once every item has been processed; shutdown() then ends the
 * consumers' gets with TL_ESHUTDOWN (asyncio 3.13's QueueShutDown). */
#include <stdio.h>
#include <tulip.h>

struct item {
    char name[8];
};

struct producer {
    const char *name;
    tl_queue *queue;
    struct item items[4];
};

struct consumer {
    const char *name;
    tl_queue *queue;
    int processed;
};

static int producer(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < 4; i++) {
        snprintf(p->items[i].name, sizeof p->items[i].name, "%s%d", p->name, i + 1);
        int rc = tl_queue_put(p->queue, &p->items[i]);
        if (rc < 0)
            return rc;
        if ((rc = tl_sleep(0.01)) < 0)
            return rc;
    }
    return 0;
}

static int consumer(void *arg)
{
    struct consumer *c = arg;
    for (;;) {
        void *got;
        int rc = tl_queue_get(c->queue, &got);
        if (rc == TL_ESHUTDOWN)
            return 0; /* shut down and empty: the end of the work */
        if (rc < 0)
            return rc;
        struct item *item = got;
        if ((rc = tl_sleep(0.03)) < 0)
            return rc;
        printf("%s processed %s\n", c->name, item->name);
        c->processed++;
        tl_queue_task_done(c->queue);
    }
}

static int main_task(void *arg)
{
    (void)arg;
    tl_queue *queue = tl_queue_new(3);
    if (!queue)
        return TL_ENOMEM;
    struct producer producers[2] = {{.name = "A", .queue = queue}, {.name = "B", .queue = queue}};
    struct consumer consumers[3] = {{.name = "consumer-1", .queue = queue},
                                    {.name = "consumer-2", .queue = queue},
                                    {.name = "consumer-3", .queue = queue}};
    tl_task *p[2], *c[3];
    for (int i = 0; i < 3; i++)
        if (!(c[i] = tl_create_task(consumer, &consumers[i])))
            return TL_ENOMEM;
    for (int i = 0; i < 2; i++)
        if (!(p[i] = tl_create_task(producer, &producers[i])))
            return TL_ENOMEM;

    for (int i = 0; i < 2; i++) {
        tl_await(p[i]);
        tl_task_release(p[i]);
    }
    int rc = tl_queue_join(queue);
    printf("join: every item processed (%s)\n", rc == 0 ? "ok" : tl_err_name(rc));
    tl_queue_shutdown(queue, false);
    int total = 0;
    for (int i = 0; i < 3; i++) {
        tl_await(c[i]);
        tl_task_release(c[i]);
        total += consumers[i].processed;
    }
    printf("shutdown: the consumers stopped after %d items\n", total);
    tl_queue_free(queue);
    return 0;
}

int main(void)
{
    return tl_run(main_task, NULL) == 0 ? 0 : 1;
}
