/* tl_queue: asyncio.Queue, LifoQueue and PriorityQueue, with 3.13's shutdown.
 *
 * The one idea: a put that finds a getter waiting promises it an item, and a
 * get that frees a slot while a putter waits promises that slot to it, then
 * wakes the waiter; nothing passes through the loop or allocates. What is
 * promised is kept for its task until it runs: nclaim items stay in the
 * buffer for woken getters (which then take the best item there, as
 * asyncio's getter does when it runs: the oldest, the newest or the lowest),
 * nres slots stay free for woken putters. So waiters are served in FIFO
 * order and nobody can take what was promised to another (in a FIFO, the
 * promised items are the oldest, kept in order for the woken getters). If
 * the task is cancelled or times out first, the promise is undone: it passes
 * to the next waiter, or the item or slot is simply free again, and the
 * cancelled call returns having taken nothing.
 *
 * Items live in a ring buffer (FIFO, LIFO) or a binary heap (priority, with
 * a sequence number so that equal items keep their order). The buffer grows
 * by doubling, never past maxsize, and only in a put, which can still fail
 * with TL_ENOMEM; it always has room for n + nres items, so a promised put
 * never needs memory. It starts with 16 slots (fewer if maxsize is smaller),
 * so that most puts, and hand-offs, never allocate. */
#include <string.h>

#include "sync.h"

typedef struct pentry {
    void *item;
    int64_t seq;
} pentry;

struct tl_queue {
    tl__wlist getters, putters, joiners;
    size_t maxsize;    /* 0: unbounded */
    size_t n;          /* items in the buffer */
    size_t nclaim;     /* of which promised to getters that have not run yet */
    size_t nres;       /* free slots promised to putters that have not run yet */
    size_t unfinished; /* items put and not yet task_done */
    size_t cap, head;  /* buffer slots; the ring's first item */
    void *buf;         /* void *[cap], or pentry[cap] for a priority queue */
    int64_t seq;
    tl_queue_cmp cmp;
    void (*drop)(void *item);
    uint8_t order;
    bool shutdown, immediate;
};

typedef struct queue_waiter {
    tl__list_waiter lw; /* first: the lists hold its address */
    tl_queue *q;
    void *item; /* a putter's item, to put */
} queue_waiter;

/* ---- the buffer ---- */

static __attribute__((noinline)) int grow(tl_queue *q, size_t want)
{
    size_t cap = q->cap ? q->cap : 16;
    while (cap < want) {
        if (cap > SIZE_MAX / 4)
            return TL_ENOMEM;
        cap *= 2;
    }
    if (q->maxsize && cap > q->maxsize)
        cap = q->maxsize; /* want <= maxsize: puts wait before that */
    size_t sz = q->order == TL_QUEUE_PRIORITY ? sizeof(pentry) : sizeof(void *);
    if (cap > SIZE_MAX / sz)
        return TL_ENOMEM;
    void *p = tl__realloc(q->buf, cap * sz);
    if (!p)
        return TL_ENOMEM;
    if (q->order != TL_QUEUE_PRIORITY && q->head + q->n > q->cap) {
        /* The ring wrapped: move its first part to the end of the new space. */
        size_t first = q->cap - q->head;
        void **ring = p;
        memmove(ring + cap - first, ring + q->head, first * sizeof(void *));
        q->head = cap - first;
    }
    q->buf = p;
    q->cap = cap;
    return 0;
}

/* Room for extra more items, on top of those held and promised. */
static inline int need(tl_queue *q, size_t extra)
{
    size_t want = q->n + q->nres + extra;
    return __builtin_expect(want <= q->cap, 1) ? 0 : grow(q, want);
}

static bool before(const tl_queue *q, const pentry *a, const pentry *b)
{
    int c = q->cmp(a->item, b->item);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

static __attribute__((noinline)) void heap_push(tl_queue *q, void *item, int64_t seq)
{
    pentry *h = q->buf;
    pentry e = {item, seq};
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(q, &e, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static __attribute__((noinline)) void *heap_pop(tl_queue *q)
{
    pentry *h = q->buf;
    void *top = h[0].item;
    pentry last = h[--q->n];
    size_t i = 0, n = q->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(q, &h[c + 1], &h[c]))
            c++;
        if (!before(q, &h[c], &last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (n)
        h[i] = last;
    return top;
}

/* Stores an item put now (need() made room): the newest. */
static inline void store_back(tl_queue *q, void *item)
{
    if (q->order == TL_QUEUE_PRIORITY) {
        heap_push(q, item, q->seq++);
        return;
    }
    size_t i = q->head + q->n++;
    ((void **)q->buf)[i < q->cap ? i : i - q->cap] = item;
}

static inline void *take(tl_queue *q)
{
    if (q->order == TL_QUEUE_PRIORITY)
        return heap_pop(q);
    void **ring = q->buf;
    if (q->order == TL_QUEUE_LIFO) {
        size_t i = q->head + --q->n;
        return ring[i < q->cap ? i : i - q->cap];
    }
    void *item = ring[q->head];
    q->n--;
    q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
    return item;
}

/* Takes an item for a get that was promised none. In a FIFO the items
 * promised to woken getters are the oldest ones, kept for them in order, so
 * it takes the first item after those (closing the gap costs a move per
 * promised item, usually none). In a LIFO or priority queue every get takes
 * the best item there, promised or not, as asyncio's getters do. */
static void *take_unpromised(tl_queue *q)
{
    if (q->order != TL_QUEUE_FIFO || q->nclaim == 0)
        return take(q);
    void **ring = q->buf;
    size_t i = q->head + q->nclaim;
    void *item = ring[i < q->cap ? i : i - q->cap];
    for (size_t k = q->nclaim; k > 0; k--) {
        size_t to = q->head + k, from = q->head + k - 1;
        ring[to < q->cap ? to : to - q->cap] = ring[from < q->cap ? from : from - q->cap];
    }
    q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
    q->n--;
    return item;
}

/* ---- waking ---- */

static inline bool is_full(const tl_queue *q)
{
    return q->maxsize && q->n + q->nres >= q->maxsize;
}

/* Items a get may take now: those not promised to woken getters. (After an
 * immediate shutdown nclaim counts the getters still to learn that their
 * items were dropped, and may exceed n.) */
static inline size_t available(const tl_queue *q)
{
    return q->n > q->nclaim ? q->n - q->nclaim : 0;
}

/* unfinished went down to zero: join returns. */
static void all_done(tl_queue *q)
{
    if (q->unfinished == 0)
        tl__wlist_wake_all(&q->joiners, 0);
}

static void put_undo(tl_task *t, void *ctx);

/* A slot came free: promise it to the first waiting putter. */
static inline void slot_freed(tl_queue *q)
{
    if (__builtin_expect(!q->putters.head, 1) || is_full(q))
        return;
    queue_waiter *p = (queue_waiter *)tl__wlist_pop(&q->putters);
    q->nres++;
    tl__wake_handoff(p->lw.w.task, 0, put_undo, p);
}

/* A putter promised a slot was cancelled before it ran: the next one gets it. */
static void put_undo(tl_task *t, void *ctx)
{
    (void)t;
    tl_queue *q = ((queue_waiter *)ctx)->q;
    q->nres--;
    slot_freed(q);
}

static void get_undo(tl_task *t, void *ctx);

/* An item is there for the taking: promise it to the first waiting getter. */
static inline void item_added(tl_queue *q)
{
    queue_waiter *g = (queue_waiter *)tl__wlist_pop(&q->getters);
    if (!g)
        return;
    q->nclaim++;
    tl__wake_handoff(g->lw.w.task, 0, get_undo, g);
}

/* A getter promised an item was cancelled before it ran: the next one gets
 * the promise, or the item is free for anyone (unless an immediate shutdown
 * has dropped the items meanwhile). */
static void get_undo(tl_task *t, void *ctx)
{
    (void)t;
    tl_queue *q = ((queue_waiter *)ctx)->q;
    q->nclaim--;
    if (!q->immediate)
        item_added(q);
}

/* ---- the API ---- */

tl_queue *tl_queue_new_ex(const tl_queue_opts *opts)
{
    tl_queue_opts o = opts ? *opts : (tl_queue_opts){0};
    if (o.order != TL_QUEUE_FIFO && o.order != TL_QUEUE_LIFO && o.order != TL_QUEUE_PRIORITY)
        return NULL;
    if (o.order == TL_QUEUE_PRIORITY && !o.cmp)
        return NULL;
    tl_queue *q = tl__calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->maxsize = o.maxsize;
    q->order = (uint8_t)o.order;
    q->cmp = o.cmp;
    q->drop = o.drop;
    /* Room from the start: a put, and so a hand-off to a waiting getter,
     * allocates nothing until the queue holds more than 16 items. */
    if (grow(q, 1)) {
        tl__free(q);
        return NULL;
    }
    return q;
}

tl_queue *tl_queue_new(size_t maxsize)
{
    tl_queue_opts o = {.maxsize = maxsize};
    return tl_queue_new_ex(&o);
}

tl_queue *tl_queue_new_lifo(size_t maxsize)
{
    tl_queue_opts o = {.maxsize = maxsize, .order = TL_QUEUE_LIFO};
    return tl_queue_new_ex(&o);
}

tl_queue *tl_queue_new_priority(size_t maxsize, tl_queue_cmp cmp)
{
    tl_queue_opts o = {.maxsize = maxsize, .order = TL_QUEUE_PRIORITY, .cmp = cmp};
    return tl_queue_new_ex(&o);
}

void tl_queue_free(tl_queue *q)
{
    if (!q)
        return;
    tl__sync_check_idle_n("tl_queue_free", "queue", q,
                          tl__sync_count(&q->getters) + tl__sync_count(&q->putters) +
                              tl__sync_count(&q->joiners) + q->nclaim + q->nres);
    while (q->n) {
        void *item = take(q);
        if (q->drop)
            q->drop(item);
    }
    tl__free(q->buf);
    tl__free(q);
}

static int put_now(tl_queue *q, void *item)
{
    if (need(q, 1))
        return TL_ENOMEM;
    store_back(q, item);
    q->unfinished++;
    item_added(q);
    return 0;
}

int tl_queue_put_nowait(tl_queue *q, void *item)
{
    if (q->shutdown)
        return TL_ESHUTDOWN;
    if (is_full(q))
        return TL_EAGAIN;
    return put_now(q, item);
}

int tl_queue_put(tl_queue *q, void *item)
{
    tl_task *self = tl__need_task("tl_queue_put");
    if (q->shutdown)
        return TL_ESHUTDOWN;
    if (!is_full(q))
        return put_now(q, item);
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    queue_waiter w = {.q = q, .item = item};
    rc = tl__wait_listed(self, &w.lw, &q->putters, TL__WAIT_OTHER, "queue put", q);
    if (rc)
        return rc; /* interrupted, or woken by shutdown: nothing promised */
    q->nres--;
    if (q->shutdown)
        return TL_ESHUTDOWN; /* shut down after our slot was promised */
    return put_now(q, item); /* the promised slot is room: cannot fail */
}

int tl_queue_get_nowait(tl_queue *q, void **item)
{
    if (available(q)) {
        *item = take_unpromised(q);
        slot_freed(q);
        return 0;
    }
    return q->shutdown ? TL_ESHUTDOWN : TL_EAGAIN;
}

int tl_queue_get(tl_queue *q, void **item)
{
    tl_task *self = tl__need_task("tl_queue_get");
    if (available(q)) {
        *item = take_unpromised(q);
        slot_freed(q);
        return 0;
    }
    if (q->shutdown)
        return TL_ESHUTDOWN;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    queue_waiter w = {.q = q};
    rc = tl__wait_listed(self, &w.lw, &q->getters, TL__WAIT_OTHER, "queue get", q);
    if (rc)
        return rc; /* interrupted, or woken by shutdown: nothing promised */
    q->nclaim--;
    if (q->immediate)
        return TL_ESHUTDOWN; /* our item was dropped by an immediate shutdown */
    *item = take(q);
    slot_freed(q);
    return 0;
}

int tl_queue_task_done(tl_queue *q)
{
    if (q->unfinished == 0)
        return TL_EINVAL;
    q->unfinished--;
    all_done(q);
    return 0;
}

int tl_queue_join(tl_queue *q)
{
    tl_task *self = tl__need_task("tl_queue_join");
    if (q->unfinished == 0)
        return 0;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    queue_waiter w = {.q = q};
    return tl__wait_listed(self, &w.lw, &q->joiners, TL__WAIT_OTHER, "queue join", q);
}

void tl_queue_shutdown(tl_queue *q, bool immediate)
{
    q->shutdown = true;
    if (immediate) {
        q->immediate = true; /* woken getters will find their items gone, and fail */
        while (q->n) {
            void *item = take(q);
            if (q->unfinished)
                q->unfinished--;
            if (q->drop)
                q->drop(item);
        }
        all_done(q);
    }
    /* Getters wait only on an empty queue: they all fail now, as putters do. */
    tl__wlist_wake_all(&q->getters, TL_ESHUTDOWN);
    tl__wlist_wake_all(&q->putters, TL_ESHUTDOWN);
}

size_t tl_queue_qsize(const tl_queue *q)
{
    return available(q);
}

bool tl_queue_empty(const tl_queue *q)
{
    return available(q) == 0;
}

bool tl_queue_full(const tl_queue *q)
{
    return is_full(q);
}

size_t tl_queue_maxsize(const tl_queue *q)
{
    return q->maxsize;
}
