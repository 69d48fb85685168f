/* tl_queue: FIFO, LIFO and priority order, bounded puts, hand-offs to waiting
 * tasks that cancellation and timeouts undo, task_done and join, shutdown in
 * both modes, allocation failures. */
#include <signal.h>

#include "ctx/alloc.h"
#include "fault_walk.h"
#include "util.h"

#define ITEM(n) ((void *)(intptr_t)(n))
#define NUM(p)  ((int)(intptr_t)(p))

static tl_queue *q;

static int getter(void *arg)
{
    int *out = arg;
    void *item;
    int rc = tl_queue_get(q, &item);
    if (rc == 0)
        *out = NUM(item);
    return rc;
}

static int putter(void *arg)
{
    return tl_queue_put(q, arg);
}

static int joiner(void *arg)
{
    (void)arg;
    return tl_queue_join(q);
}

/* Takes every item left without waiting; returns how many, and their numbers. */
static int drain(int *out, int cap)
{
    int n = 0;
    void *item;
    while (tl_queue_get_nowait(q, &item) == 0) {
        cr_assert_lt(n, cap);
        out[n++] = NUM(item);
    }
    return n;
}

/* ---- order ---- */

static int fifo_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    cr_assert_not_null(q);
    cr_assert_eq(tl_queue_maxsize(q), 0);
    cr_assert(tl_queue_empty(q));
    for (int i = 1; i <= 5; i++)
        cr_assert_eq(tl_queue_put_nowait(q, ITEM(i)), 0);
    cr_assert_eq(tl_queue_qsize(q), 5);
    cr_assert_not(tl_queue_full(q), "an unbounded queue is never full");
    void *item;
    for (int i = 1; i <= 5; i++) {
        cr_assert_eq(tl_queue_get(q, &item), 0, "an item is there: no waiting");
        cr_assert_eq(NUM(item), i);
    }
    cr_assert_eq(tl_queue_get_nowait(q, &item), TL_EAGAIN);
    cr_assert(tl_queue_empty(q));
    tl_queue_free(q);
    return 0;
}

Test(queue, fifo_queue_gives_items_back_in_put_order)
{
    RUN(fifo_body, NULL);
}

static int lifo_body(void *arg)
{
    (void)arg;
    q = tl_queue_new_lifo(0);
    for (int i = 1; i <= 5; i++)
        tl_queue_put(q, ITEM(i));
    int got[8];
    cr_assert_eq(drain(got, 8), 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(got[i], 5 - i, "last in, first out");
    tl_queue_free(q);
    return 0;
}

Test(queue, lifo_queue_gives_the_newest_item_first)
{
    RUN(lifo_body, NULL);
}

/* Items are (priority << 8) | serial: ordered by priority alone. */
static int by_priority(const void *a, const void *b)
{
    int pa = NUM(a) >> 8, pb = NUM(b) >> 8;
    return (pa > pb) - (pa < pb);
}

static int priority_body(void *arg)
{
    (void)arg;
    cr_assert_null(tl_queue_new_priority(0, NULL), "a priority queue needs a comparator");
    q = tl_queue_new_priority(0, by_priority);
    int prios[] = {5, 1, 3, 1, 9, 3, 0, 1};
    for (int i = 0; i < 8; i++)
        tl_queue_put_nowait(q, ITEM(prios[i] << 8 | i));
    int got[8];
    cr_assert_eq(drain(got, 8), 8);
    int want[] = {0 << 8 | 6, 1 << 8 | 1, 1 << 8 | 3, 1 << 8 | 7,
                  3 << 8 | 2, 3 << 8 | 5, 5 << 8 | 0, 9 << 8 | 4};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(got[i], want[i], "item %d: %#x, expected %#x (lowest first, ties in order)", i,
                     got[i], want[i]);
    tl_queue_free(q);
    return 0;
}

Test(queue, priority_queue_gives_the_lowest_first_and_keeps_ties_in_order)
{
    RUN(priority_body, NULL);
}

static int wrap_body(void *arg)
{
    (void)arg;
    /* Interleaved puts and gets walk the ring round, and grow it while wrapped. */
    q = tl_queue_new(0);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7 + round; i++)
            cr_assert_eq(tl_queue_put_nowait(q, ITEM(next_in++)), 0);
        void *item;
        for (int i = 0; i < 5 + round / 2; i++) {
            cr_assert_eq(tl_queue_get_nowait(q, &item), 0);
            cr_assert_eq(NUM(item), next_out++);
        }
    }
    int got[2048];
    int n = drain(got, 2048);
    for (int i = 0; i < n; i++)
        cr_assert_eq(got[i], next_out++);
    cr_assert_eq(next_out, next_in);
    tl_queue_free(q);

    q = tl_queue_new_lifo(0);
    for (int i = 0; i < 100; i++)
        tl_queue_put_nowait(q, ITEM(i));
    n = drain(got, 2048);
    cr_assert_eq(n, 100);
    for (int i = 0; i < n; i++)
        cr_assert_eq(got[i], 99 - i);
    tl_queue_free(q);
    return 0;
}

Test(queue, order_survives_the_ring_wrapping_and_growing)
{
    RUN(wrap_body, NULL);
}

/* ---- bounded queues and waiting ---- */

static int bounded_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(2);
    cr_assert_eq(tl_queue_maxsize(q), 2);
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(1)), 0);
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(2)), 0);
    cr_assert(tl_queue_full(q));
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(3)), TL_EAGAIN);
    cr_assert_eq(tl_queue_qsize(q), 2, "nothing was added");

    tl_task *p = tl_create_task(putter, ITEM(3));
    tl_sleep(0);
    cr_assert_not(tl_task_done(p), "a put on a full queue waits");
    void *item;
    cr_assert_eq(tl_queue_get(q, &item), 0);
    cr_assert_eq(NUM(item), 1);
    cr_assert(tl_queue_full(q), "the freed slot is promised to the waiting putter");
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(4)), TL_EAGAIN, "so nobody else can take it");
    cr_assert_eq(tl_await(p), 0);
    int got[4];
    cr_assert_eq(drain(got, 4), 2);
    cr_assert_eq(got[0], 2);
    cr_assert_eq(got[1], 3);
    tl_task_release(p);
    tl_queue_free(q);
    return 0;
}

Test(queue, put_on_a_full_queue_waits_for_a_slot_that_nobody_can_take_from_it)
{
    RUN(bounded_body, NULL);
}

static int inflight_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(1);
    int got = -1;
    tl_task *g = tl_create_task(getter, &got);
    tl_sleep(0);
    cr_assert_eq(tl_queue_put(q, ITEM(1)), 0); /* promised to g, which has not run yet */
    cr_assert_eq(tl_queue_qsize(q), 0, "not there for anyone else");
    cr_assert(tl_queue_empty(q));
    cr_assert(tl_queue_full(q), "but it still holds its slot");
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(2)), TL_EAGAIN);
    cr_assert_eq(tl_await(g), 0);
    cr_assert_eq(got, 1);
    cr_assert_not(tl_queue_full(q), "freed once the getter ran");
    tl_task_release(g);
    tl_queue_free(q);
    return 0;
}

Test(queue, item_promised_to_a_getter_counts_against_maxsize_until_it_runs)
{
    RUN(inflight_body, NULL);
}

static int getters_fifo_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    int got[4] = {0};
    tl_task *g[4];
    for (int i = 0; i < 4; i++)
        g[i] = tl_create_task(getter, &got[i]);
    tl_sleep(0);
    for (int i = 0; i < 4; i++)
        tl_queue_put(q, ITEM(10 + i));
    cr_assert_eq(tl_queue_qsize(q), 0, "each item is promised to a getter");
    void *item;
    cr_assert_eq(tl_queue_get_nowait(q, &item), TL_EAGAIN, "and no one can take it from them");
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_await(g[i]), 0);
        cr_assert_eq(got[i], 10 + i, "getters are served first come, first served");
        tl_task_release(g[i]);
    }
    tl_queue_free(q);
    return 0;
}

Test(queue, waiting_getters_are_served_in_fifo_order)
{
    RUN(getters_fifo_body, NULL);
}

static int putters_fifo_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(1);
    tl_queue_put(q, ITEM(0));
    tl_task *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = tl_create_task(putter, ITEM(1 + i));
    tl_sleep(0);
    for (int i = 0; i <= 4; i++) {
        void *item;
        cr_assert_eq(tl_queue_get(q, &item), 0);
        cr_assert_eq(NUM(item), i, "putters are served first come, first served");
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tl_await(p[i]), 0);
        tl_task_release(p[i]);
    }
    cr_assert(tl_queue_empty(q));
    tl_queue_free(q);
    return 0;
}

Test(queue, waiting_putters_get_slots_in_fifo_order)
{
    RUN(putters_fifo_body, NULL);
}

static int best_item_body(void *arg)
{
    (void)arg;
    int got = -1;
    q = tl_queue_new_priority(0, by_priority);
    tl_task *g = tl_create_task(getter, &got);
    tl_sleep(0);
    tl_queue_put(q, ITEM(5 << 8)); /* wakes g ... */
    tl_queue_put(q, ITEM(1 << 8)); /* ... which takes the lowest item when it runs */
    cr_assert_eq(tl_await(g), 0);
    cr_assert_eq(got, 1 << 8, "as asyncio's getter does");
    tl_task_release(g);
    tl_queue_free(q);

    q = tl_queue_new_lifo(0);
    g = tl_create_task(getter, &got);
    tl_sleep(0);
    tl_queue_put(q, ITEM(1));
    tl_queue_put(q, ITEM(2));
    cr_assert_eq(tl_await(g), 0);
    cr_assert_eq(got, 2, "the newest");
    tl_task_release(g);
    tl_queue_free(q);
    return 0;
}

Test(queue, woken_getter_takes_the_best_item_there_when_it_runs)
{
    RUN(best_item_body, NULL);
}

static int promised_oldest_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    int got[3] = {-1, -1, -1};
    tl_task *g[2];
    for (int i = 0; i < 2; i++)
        g[i] = tl_create_task(getter, &got[i]);
    tl_sleep(0);
    for (int i = 1; i <= 4; i++)
        tl_queue_put(q, ITEM(i)); /* 1 and 2 promised to the getters, 3 and 4 free */
    cr_assert_eq(tl_queue_qsize(q), 2);
    void *item;
    cr_assert_eq(tl_queue_get_nowait(q, &item), 0);
    cr_assert_eq(NUM(item), 3, "a newcomer takes the oldest item nobody was promised");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(tl_await(g[i]), 0);
        cr_assert_eq(got[i], i + 1, "the waiting getters take the oldest items, in order");
        tl_task_release(g[i]);
    }
    cr_assert_eq(tl_queue_get_nowait(q, &item), 0);
    cr_assert_eq(NUM(item), 4);
    tl_queue_free(q);
    return 0;
}

Test(queue, fifo_keeps_the_oldest_items_for_the_getters_that_waited)
{
    RUN(promised_oldest_body, NULL);
}

/* ---- cancellation and timeouts take nothing and lose nothing ---- */

static int cancel_get_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    int got_a = -1, got_b = -1;
    tl_task *a = tl_create_task(getter, &got_a);
    tl_task *b = tl_create_task(getter, &got_b);
    tl_sleep(0);
    tl_task_cancel(a);
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    tl_queue_put(q, ITEM(7));
    cr_assert_eq(tl_await(b), 0);
    cr_assert_eq(got_b, 7);
    cr_assert_eq(got_a, -1);
    tl_task_release(a);
    tl_task_release(b);
    tl_queue_free(q);
    return 0;
}

Test(queue, cancelled_get_takes_nothing)
{
    RUN(cancel_get_body, NULL);
}

static int race_get_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    int got_a = -1, got_b = -1;
    tl_task *a = tl_create_task(getter, &got_a);
    tl_task *b = tl_create_task(getter, &got_b);
    tl_sleep(0);
    tl_queue_put(q, ITEM(7)); /* promised to a, which has not run yet */
    tl_task_cancel(a);        /* so it goes on to b */
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(got_a, -1);
    cr_assert_eq(tl_await(b), 0);
    cr_assert_eq(got_b, 7, "the next getter got it");
    tl_task_release(a);
    tl_task_release(b);
    tl_queue_free(q);
    return 0;
}

Test(queue, cancelled_get_leaves_item_for_next_getter)
{
    RUN(race_get_body, NULL);
}

static int put_back_body(void *arg)
{
    int order = *(int *)arg;
    q = order == TL_QUEUE_LIFO ? tl_queue_new_lifo(0) : tl_queue_new(0);
    int got_a = -1;
    tl_task *a = tl_create_task(getter, &got_a);
    tl_sleep(0);
    tl_queue_put(q, ITEM(1)); /* an item promised to a */
    tl_queue_put(q, ITEM(2));
    tl_queue_put(q, ITEM(3));
    tl_task_cancel(a); /* takes nothing: every item is where it was */
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_queue_qsize(q), 3);
    int got[4];
    cr_assert_eq(drain(got, 4), 3);
    if (order == TL_QUEUE_LIFO) {
        cr_assert_eq(got[0], 3);
        cr_assert_eq(got[1], 2);
        cr_assert_eq(got[2], 1, "the oldest, at the bottom");
    } else {
        cr_assert_eq(got[0], 1, "the oldest, at the front");
        cr_assert_eq(got[1], 2);
        cr_assert_eq(got[2], 3);
    }
    tl_task_release(a);
    tl_queue_free(q);
    return 0;
}

Test(queue, cancelled_getter_leaves_a_fifo_in_put_order)
{
    int order = TL_QUEUE_FIFO;
    RUN(put_back_body, &order);
}

Test(queue, cancelled_getter_leaves_a_lifo_in_put_order)
{
    int order = TL_QUEUE_LIFO;
    RUN(put_back_body, &order);
}

static int put_back_priority_body(void *arg)
{
    (void)arg;
    q = tl_queue_new_priority(0, by_priority);
    int got_a = -1;
    tl_task *a = tl_create_task(getter, &got_a);
    tl_sleep(0);
    tl_queue_put(q, ITEM(1 << 8 | 0)); /* promised to a */
    tl_queue_put(q, ITEM(1 << 8 | 1));
    tl_queue_put(q, ITEM(0 << 8 | 2));
    tl_task_cancel(a);
    tl_await(a);
    int got[4];
    cr_assert_eq(drain(got, 4), 3);
    cr_assert_eq(got[0], 0 << 8 | 2, "priority first");
    cr_assert_eq(got[1], 1 << 8 | 0, "then the equals, in put order");
    cr_assert_eq(got[2], 1 << 8 | 1);
    tl_task_release(a);
    tl_queue_free(q);
    return 0;
}

Test(queue, cancelled_getter_leaves_a_priority_queue_in_order)
{
    RUN(put_back_priority_body, NULL);
}

static tl_timeout g_scope;

static int getter_in_scope(void *arg)
{
    int *out = arg;
    tl_timeout_enter(&g_scope, 10);
    void *item;
    int rc = tl_queue_get(q, &item);
    tl_timeout_exit(&g_scope);
    if (rc == 0)
        *out = NUM(item);
    return rc;
}

static int race_timeout_get_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    int got_a = -1, got_b = -1;
    tl_task *a = tl_create_task(getter_in_scope, &got_a);
    tl_task *b = tl_create_task(getter, &got_b);
    tl_sleep(0);
    tl_queue_put(q, ITEM(5));           /* promised to a */
    tl_timeout_reschedule(&g_scope, 0); /* whose deadline passes before it runs */
    cr_assert_eq(tl_await(a), TL_ETIMEDOUT);
    cr_assert_eq(tl_await(b), 0);
    cr_assert_eq(got_b, 5);
    cr_assert_eq(got_a, -1);
    tl_task_release(a);
    tl_task_release(b);
    tl_queue_free(q);
    return 0;
}

Test(queue, timed_out_get_leaves_item_for_next_getter)
{
    RUN(race_timeout_get_body, NULL);
}

static int cancel_put_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(1);
    tl_queue_put(q, ITEM(1));
    tl_task *p = tl_create_task(putter, ITEM(2));
    tl_sleep(0);
    tl_task_cancel(p);
    cr_assert_eq(tl_await(p), TL_ECANCELED);
    int got[4];
    cr_assert_eq(drain(got, 4), 1, "the cancelled put did not insert");
    cr_assert_eq(got[0], 1);
    cr_assert_eq(tl_queue_task_done(q), 0);
    cr_assert_eq(tl_queue_task_done(q), TL_EINVAL, "and was not counted for join");
    tl_task_release(p);
    tl_queue_free(q);
    return 0;
}

Test(queue, cancelled_put_does_not_insert)
{
    RUN(cancel_put_body, NULL);
}

static int race_put_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(1);
    tl_queue_put(q, ITEM(1));
    tl_task *a = tl_create_task(putter, ITEM(2));
    tl_task *b = tl_create_task(putter, ITEM(3));
    tl_sleep(0);
    void *item;
    cr_assert_eq(tl_queue_get(q, &item), 0); /* the slot is promised to a */
    tl_task_cancel(a);                       /* and goes on to b */
    cr_assert(tl_queue_full(q), "promised to b now");
    cr_assert_eq(tl_await(a), TL_ECANCELED);
    cr_assert_eq(tl_await(b), 0);
    int got[4];
    cr_assert_eq(drain(got, 4), 1);
    cr_assert_eq(got[0], 3, "b's item, not a's");

    tl_queue_put(q, ITEM(4));
    tl_task *c = tl_create_task(putter, ITEM(5));
    tl_sleep(0);
    tl_queue_get(q, &item);
    tl_task_cancel(c); /* nobody else waits to put: the slot is free again */
    cr_assert_not(tl_queue_full(q));
    cr_assert_eq(tl_await(c), TL_ECANCELED);
    cr_assert(tl_queue_empty(q));
    tl_task_release(a);
    tl_task_release(b);
    tl_task_release(c);
    tl_queue_free(q);
    return 0;
}

Test(queue, put_wakeup_racing_cancel_passes_the_slot_to_the_next_putter)
{
    RUN(race_put_body, NULL);
}

static int timeout_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(1);
    void *item;
    tl_timeout s;
    tl_timeout_enter(&s, 0);
    cr_assert_eq(tl_queue_get(q, &item), TL_ETIMEDOUT, "a zero timeout on an empty queue");
    cr_assert_eq(tl_queue_put(q, ITEM(1)), 0, "a put that need not wait does not");
    cr_assert_eq(tl_queue_put(q, ITEM(2)), TL_ETIMEDOUT, "a zero timeout on a full queue");
    cr_assert_eq(tl_queue_get(q, &item), 0, "a get that need not wait does not");
    cr_assert_eq(NUM(item), 1);
    tl_timeout_exit(&s);

    tl_queue_put(q, ITEM(3));
    double t0 = tl_time();
    tl_timeout_enter(&s, 0.02);
    cr_assert_eq(tl_queue_put(q, ITEM(4)), TL_ETIMEDOUT);
    cr_assert_eq(tl_timeout_exit(&s), TL_ETIMEDOUT);
    ASSERT_ELAPSED(t0, 0.02);
    int got[4];
    cr_assert_eq(drain(got, 4), 1, "the timed-out put did not insert");
    cr_assert_eq(got[0], 3);
    tl_timeout_enter(&s, 0.02);
    cr_assert_eq(tl_queue_get(q, &item), TL_ETIMEDOUT);
    tl_timeout_exit(&s);
    tl_queue_free(q);
    return 0;
}

Test(queue, timeout_ends_a_put_or_get_and_nothing_moves)
{
    RUN(timeout_body, NULL);
}

/* ---- task_done and join ---- */

static int join_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    cr_assert_eq(tl_queue_task_done(q), TL_EINVAL, "task_done with nothing put");
    cr_assert_eq(tl_queue_join(q), 0, "nothing unfinished: no waiting");
    tl_queue_put(q, ITEM(1));
    tl_queue_put(q, ITEM(2));
    tl_task *j = tl_create_task(joiner, NULL);
    void *item;
    tl_queue_get(q, &item);
    tl_queue_get(q, &item);
    tl_sleep(0);
    cr_assert_not(tl_task_done(j), "got is not done: join waits for task_done");
    cr_assert_eq(tl_queue_task_done(q), 0);
    tl_sleep(0);
    cr_assert_not(tl_task_done(j));
    cr_assert_eq(tl_queue_task_done(q), 0);
    cr_assert_eq(tl_await(j), 0);
    cr_assert_eq(tl_queue_task_done(q), TL_EINVAL, "called more times than items were put");
    tl_task_release(j);

    tl_queue_put(q, ITEM(3));
    j = tl_create_task(joiner, NULL);
    tl_sleep(0);
    tl_task_cancel(j);
    cr_assert_eq(tl_await(j), TL_ECANCELED);
    tl_timeout s;
    tl_timeout_enter(&s, 0.01);
    cr_assert_eq(tl_queue_join(q), TL_ETIMEDOUT);
    tl_timeout_exit(&s);
    tl_queue_get(q, &item);
    tl_queue_task_done(q);
    cr_assert_eq(tl_queue_join(q), 0);
    tl_task_release(j);
    tl_queue_free(q);
    return 0;
}

Test(queue, join_waits_until_every_item_is_task_done_and_task_done_too_often_is_einval)
{
    RUN(join_body, NULL);
}

static int sum;

static int producer(void *arg)
{
    int base = NUM(arg);
    for (int i = 1; i <= 500; i++) {
        int rc = tl_queue_put(q, ITEM(base + i));
        if (rc)
            return rc;
    }
    return 0;
}

static int consumer(void *arg)
{
    (void)arg;
    void *item;
    int rc;
    while ((rc = tl_queue_get(q, &item)) == 0) {
        sum += NUM(item);
        if (NUM(item) % 7 == 0)
            tl_sleep(0);
        tl_queue_task_done(q);
    }
    return rc == TL_ESHUTDOWN ? 0 : rc;
}

static int pipeline_body(void *arg)
{
    (void)arg;
    long live = tl__alloc_live();
    q = tl_queue_new(3);
    sum = 0;
    tl_task *p[2], *c[3];
    for (int i = 0; i < 2; i++)
        p[i] = tl_create_task(producer, ITEM(i * 1000));
    for (int i = 0; i < 3; i++)
        c[i] = tl_create_task(consumer, NULL);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(tl_await(p[i]), 0);
        tl_task_release(p[i]);
    }
    cr_assert_eq(tl_queue_join(q), 0);
    int want = 0;
    for (int i = 0; i < 2; i++)
        for (int k = 1; k <= 500; k++)
            want += i * 1000 + k;
    cr_assert_eq(sum, want, "every item arrived once");
    tl_queue_shutdown(q, false);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tl_await(c[i]), 0, "consumers end on TL_ESHUTDOWN");
        tl_task_release(c[i]);
    }
    tl_queue_free(q);
    cr_assert_eq(tl__alloc_live(), live, "the queue gave back all its memory");
    return 0;
}

Test(queue, producers_and_consumers_through_a_small_queue_lose_nothing)
{
    RUN(pipeline_body, NULL);
}

/* ---- shutdown ---- */

static int dropped[16];
static int ndropped;

static void note_drop(void *item)
{
    dropped[ndropped++] = NUM(item);
}

static int shutdown_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(2);
    tl_queue_put(q, ITEM(1));
    tl_queue_put(q, ITEM(2));
    tl_task *p = tl_create_task(putter, ITEM(3));
    tl_task *j = tl_create_task(joiner, NULL);
    tl_sleep(0);
    tl_queue_shutdown(q, false);
    cr_assert_eq(tl_await(p), TL_ESHUTDOWN, "a blocked put fails");
    cr_assert_eq(tl_queue_put(q, ITEM(4)), TL_ESHUTDOWN);
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(4)), TL_ESHUTDOWN);
    void *item;
    cr_assert_eq(tl_queue_get(q, &item), 0, "items already in are still handed out");
    cr_assert_eq(NUM(item), 1);
    cr_assert_eq(tl_queue_get_nowait(q, &item), 0);
    cr_assert_eq(NUM(item), 2);
    cr_assert_eq(tl_queue_get(q, &item), TL_ESHUTDOWN, "then gets fail");
    cr_assert_eq(tl_queue_get_nowait(q, &item), TL_ESHUTDOWN);
    tl_sleep(0);
    cr_assert_not(tl_task_done(j), "join still waits for task_done");
    tl_queue_task_done(q);
    tl_queue_task_done(q);
    cr_assert_eq(tl_await(j), 0);
    tl_task_release(p);
    tl_task_release(j);
    tl_queue_free(q);

    q = tl_queue_new(0);
    int got[2] = {-1, -1};
    tl_task *g[2];
    for (int i = 0; i < 2; i++)
        g[i] = tl_create_task(getter, &got[i]);
    tl_sleep(0);
    tl_queue_shutdown(q, false);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(tl_await(g[i]), TL_ESHUTDOWN, "blocked getters of an empty queue fail");
        tl_task_release(g[i]);
    }
    tl_queue_free(q);
    return 0;
}

Test(queue, shutdown_fails_puts_at_once_and_gets_once_the_queue_is_empty)
{
    RUN(shutdown_body, NULL);
}

static int shutdown_now_body(void *arg)
{
    (void)arg;
    tl_queue_opts o = {.maxsize = 3, .drop = note_drop};
    q = tl_queue_new_ex(&o);
    ndropped = 0;
    for (int i = 1; i <= 3; i++)
        tl_queue_put(q, ITEM(i));
    void *item;
    tl_queue_get(q, &item); /* 1: taken, not yet done */
    tl_queue_put(q, ITEM(4));
    tl_task *p = tl_create_task(putter, ITEM(5));
    tl_task *j = tl_create_task(joiner, NULL);
    tl_sleep(0);
    tl_queue_shutdown(q, true);
    cr_assert_eq(ndropped, 3, "the items left were dropped");
    cr_assert_eq(dropped[0], 2);
    cr_assert_eq(dropped[1], 3);
    cr_assert_eq(dropped[2], 4);
    cr_assert(tl_queue_empty(q));
    cr_assert_eq(tl_await(p), TL_ESHUTDOWN, "its item is not the queue's: not dropped");
    cr_assert_eq(tl_queue_get(q, &item), TL_ESHUTDOWN);
    cr_assert_eq(tl_queue_get_nowait(q, &item), TL_ESHUTDOWN);
    tl_sleep(0);
    cr_assert_not(tl_task_done(j), "dropped items count as done; item 1 is not yet");
    tl_queue_task_done(q);
    cr_assert_eq(tl_await(j), 0);
    cr_assert_eq(tl_queue_task_done(q), TL_EINVAL);
    tl_task_release(p);
    tl_task_release(j);
    tl_queue_free(q);
    cr_assert_eq(ndropped, 3);

    q = tl_queue_new(0);
    int got = -1;
    tl_task *g = tl_create_task(getter, &got);
    j = tl_create_task(joiner, NULL);
    tl_sleep(0);
    tl_queue_shutdown(q, true);
    cr_assert_eq(tl_await(g), TL_ESHUTDOWN);
    cr_assert_eq(tl_await(j), 0, "nothing unfinished");
    tl_task_release(g);
    tl_task_release(j);
    tl_queue_free(q);
    return 0;
}

Test(queue, immediate_shutdown_drops_the_items_counts_them_done_and_fails_gets_at_once)
{
    RUN(shutdown_now_body, NULL);
}

static int shutdown_race_body(void *arg)
{
    (void)arg;
    tl_queue_opts o = {.drop = note_drop};
    q = tl_queue_new_ex(&o);
    ndropped = 0;
    int got = -1;
    tl_task *g = tl_create_task(getter, &got);
    tl_sleep(0);
    tl_queue_put(q, ITEM(8));   /* promised to g, which has not run yet */
    tl_queue_shutdown(q, true); /* as in asyncio, the item is still the queue's: dropped */
    cr_assert_eq(ndropped, 1);
    cr_assert_eq(dropped[0], 8);
    cr_assert_eq(tl_await(g), TL_ESHUTDOWN, "g finds its item gone");
    cr_assert_eq(got, -1);
    cr_assert_eq(tl_queue_join(q), 0, "the dropped item counted as done");
    tl_task_release(g);

    /* The same, with the getter cancelled before it runs. */
    tl_queue_free(q);
    q = tl_queue_new_ex(&o);
    ndropped = 0;
    g = tl_create_task(getter, &got);
    tl_sleep(0);
    tl_queue_put(q, ITEM(9));
    tl_queue_shutdown(q, true);
    tl_task_cancel(g);
    cr_assert_eq(tl_await(g), TL_ECANCELED);
    cr_assert_eq(ndropped, 1);
    void *item;
    cr_assert_eq(tl_queue_get_nowait(q, &item), TL_ESHUTDOWN);
    tl_task_release(g);
    tl_queue_free(q);
    return 0;
}

Test(queue, immediate_shutdown_drops_an_item_promised_to_a_getter_that_has_not_run)
{
    RUN(shutdown_race_body, NULL);
}

/* ---- memory ---- */

static int free_drops_body(void *arg)
{
    (void)arg;
    tl_queue_free(NULL);
    tl_queue_opts o = {.order = TL_QUEUE_LIFO, .drop = note_drop};
    q = tl_queue_new_ex(&o);
    ndropped = 0;
    tl_queue_put(q, ITEM(1));
    tl_queue_put(q, ITEM(2));
    tl_queue_free(q);
    cr_assert_eq(ndropped, 2, "tl_queue_free drops what is left");
    tl_queue_opts bad = {.order = 7};
    cr_assert_null(tl_queue_new_ex(&bad));
    return 0;
}

Test(queue, free_drops_the_items_left_and_bad_options_give_null)
{
    RUN(free_drops_body, NULL);
}

static int handoff_alloc_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(1);
    int got = -1;
    tl_task *g = tl_create_task(getter, &got);
    tl_sleep(0);
    tl__fault_arm(1); /* any allocation from here fails */
    cr_assert_eq(tl_queue_put(q, ITEM(1)), 0, "a put that wakes a waiting getter");
    cr_assert_not(tl__fault_fired(), "allocated nothing");
    tl__fault_arm(0);
    cr_assert_eq(tl_await(g), 0);
    cr_assert_eq(got, 1);
    tl_task_release(g);
    tl_queue_free(q);
    return 0;
}

Test(queue, put_to_a_waiting_getter_allocates_nothing)
{
    RUN(handoff_alloc_body, NULL);
}

static int enomem_body(void *arg)
{
    (void)arg;
    long live = tl__alloc_live();
    for (int n = 1; n <= 2; n++) {
        tl__fault_arm(n); /* the queue, then its buffer */
        cr_assert_null(tl_queue_new(0), "tl_queue_new when allocation %d fails", n);
        cr_assert(tl__fault_fired());
        tl__fault_arm(0);
        cr_assert_eq(tl__alloc_live(), live, "and nothing leaked");
    }

    q = tl_queue_new(0);
    cr_assert_not_null(q);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(tl_queue_put_nowait(q, ITEM(i)), 0);
    tl__fault_arm(1); /* growing the buffer fails */
    cr_assert_eq(tl_queue_put_nowait(q, ITEM(16)), TL_ENOMEM);
    tl__fault_arm(1);
    cr_assert_eq(tl_queue_put(q, ITEM(16)), TL_ENOMEM);
    tl__fault_arm(0);
    cr_assert_eq(tl_queue_qsize(q), 16, "nothing was put");
    int got[32];
    cr_assert_eq(drain(got, 32), 16);
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(got[i], i);
        tl_queue_task_done(q);
    }
    cr_assert_eq(tl_queue_join(q), 0, "nor counted for join");
    tl_queue_free(q);
    cr_assert_eq(tl__alloc_live(), live);
    return 0;
}

Test(queue, allocation_failures_are_enomem_and_change_nothing)
{
    RUN(enomem_body, NULL);
}

static int free_busy_body(void *arg)
{
    (void)arg;
    q = tl_queue_new(0);
    int got;
    tl_task *g = tl_create_task(getter, &got);
    tl_sleep(0);
    tl_queue_free(q);
    tl_task_release(g);
    return 0;
}

static void child_free_busy(void *arg)
{
    (void)arg;
    tl_run(free_busy_body, NULL);
}

Test(queue, freeing_a_queue_with_waiters_aborts_with_a_message)
{
    char err[1024];
    int status = run_child(child_free_busy, NULL, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x, stderr: %s", status,
              err);
    cr_assert_not_null(strstr(err, "tulip: fatal: tl_queue_free: queue"), "stderr: %s", err);
    cr_assert_not_null(strstr(err, "1 task(s) still wait on it"), "stderr: %s", err);
}

/* ---- a whole run in which the Nth allocation fails, for every N ---- */

static int fault_consumer(void *arg)
{
    tl_queue *fq = arg;
    void *item;
    int rc;
    while ((rc = tl_queue_get(fq, &item)) == 0)
        tl_queue_task_done(fq);
    return rc == TL_ESHUTDOWN ? 0 : rc;
}

static int fault_workload(void *arg)
{
    (void)arg;
    tl_queue *fq = tl_queue_new(0);
    if (!fq)
        return TL_ENOMEM;
    tl_task *c = tl_create_task(fault_consumer, fq);
    if (!c) {
        tl_queue_free(fq);
        return TL_ENOMEM;
    }
    int result = 0;
    for (int i = 0; i < 100 && result == 0; i++) {
        result = tl_queue_put(fq, ITEM(i)); /* the buffer grows past 16, 32 and 64 */
        if (i % 40 == 0)
            tl_sleep(0);
    }
    tl_queue_shutdown(fq, false);
    int rc = tl_await(c);
    tl_task_release(c);
    tl_queue_free(fq);
    return result ? result : rc;
}

Test(queue, every_failing_allocation_in_a_queue_run_is_enomem_and_leaks_nothing)
{
    int n = fault_walk(fault_workload, NULL, 1000);
    cr_assert_gt(n, 5, "the walk reached %d fault points", n);
}
