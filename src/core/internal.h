/* The core's shared structures: the loop, the task, the ready queue, the
 * timer heap, and the one protocol every suspension point follows.
 *
 * The protocol: a task that must wait records what it waits on and how to
 * detach from it (tl__wait), then parks. Whoever completes the wait calls
 * tl__wake(task, code), which only appends the task to the ready queue: no
 * syscall, no malloc. Cancellation and timeouts use the same door: they call
 * the recorded detach function, then wake the task with TL_ECANCELED or
 * TL_ETIMEDOUT. A task that was woken and not yet run is no longer waiting,
 * so a wake-up that races with a cancellation keeps what it delivered.
 */
#ifndef TL_INTERNAL_H
#define TL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "../ctx/alloc.h"
#include "../ctx/ctx.h"
#include "../ctx/stack.h"
#include "tulip.h"

#define TL__TLS __thread __attribute__((tls_model("initial-exec")))

#define tl__container_of(p, type, field) ((type *)((char *)(p)-offsetof(type, field)))

/* Ends the program over a misuse that would otherwise corrupt memory. */
void tl__fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* tl_error_detail(): a call that can give detail clears it on entry and sets
 * it beside the error it returns. _on names the task (NULL: this thread
 * outside tasks), for libcurl and OpenSSL callbacks that run on the loop on
 * a task's behalf. */
void tl__error_detail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tl__error_detail_set_on(tl_task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tl__error_detail_clear(void);
void tl__error_detail_clear_on(tl_task *t);

/* ---- the run queue (the loop's ready list: everything it runs next, in FIFO
 * order). Not tl_queue, which is asyncio.Queue (src/sync/queue.c). ---- */

enum tl__item_kind { TL__ITEM_TASK, TL__ITEM_CALL, TL__ITEM_FUTCB, TL__ITEM_STOP };

typedef struct tl__item {
    struct tl__item *next;
    uint8_t kind;
} tl__item;

typedef struct tl__runq {
    tl__item *head;
    tl__item **tailp;
} tl__runq;

static inline void tl__runq_init(tl__runq *q)
{
    q->head = NULL;
    q->tailp = &q->head;
}

static inline void tl__runq_push(tl__runq *q, tl__item *it)
{
    it->next = NULL;
    *q->tailp = it;
    q->tailp = &it->next;
}

static inline tl__item *tl__runq_pop(tl__runq *q)
{
    tl__item *it = q->head;
    if (it && !(q->head = it->next))
        q->tailp = &q->head;
    return it;
}

/* ---- timers: an intrusive pairing heap ordered by (when, seq) ---- */

typedef struct tl__timer tl__timer;
struct tl__timer {
    tl__timer *child, *next, *prev; /* prev: previous sibling, or parent */
    uint64_t when;                  /* uv_hrtime() nanoseconds */
    uint64_t seq;                   /* FIFO among equal deadlines */
    void (*fire)(void *self);       /* called with the timer itself */
};

void tl__timer_add(tl_loop *loop, tl__timer *t, uint64_t when);
void tl__timer_remove(tl_loop *loop, tl__timer *t);
static inline bool tl__timer_pending(const tl__timer *t)
{
    return t->fire && t->prev != NULL;
}
/* Fires every timer due by now; returns the earliest deadline left, or UINT64_MAX. */
uint64_t tl__timers_run(tl_loop *loop, uint64_t now);

/* Seconds (double) to an absolute hrtime deadline, saturating. */
uint64_t tl__deadline_after(double seconds);
uint64_t tl__deadline_at(double when);

/* ---- waiters: a task parked in an intrusive list, in its own stack frame ---- */

typedef struct tl__waiter tl__waiter;
struct tl__waiter {
    tl__waiter *next, *prev;
    union {
        tl_task *task; /* the task to wake, when notify is NULL */
        void *owner;   /* for notify */
    };
    /* Instead of waking a task: called with the code (a task's result), for
     * waits on many things at once (gather, wait, task groups). It may wake
     * tasks; it must not touch the list it was called from. */
    void (*notify)(tl__waiter *w, int code);
};

typedef struct tl__wlist {
    tl__waiter *head, *tail;
} tl__wlist;

/* Appends w; inline, since every wait of every primitive parks through it. */
static inline void tl__wlist_push(tl__wlist *l, tl__waiter *w)
{
    w->next = NULL;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
}

/* Takes the first waiter off the list; NULL when it is empty. */
static inline tl__waiter *tl__wlist_pop(tl__wlist *l)
{
    tl__waiter *w = l->head;
    if (w) {
        l->head = w->next;
        if (l->head)
            l->head->prev = NULL;
        else
            l->tail = NULL;
        w->next = w->prev = NULL;
    }
    return w;
}
void tl__wlist_remove(tl__wlist *l, tl__waiter *w);
/* Wakes (or notifies) every waiter with code, in FIFO order. */
void tl__wlist_wake_all(tl__wlist *l, int code);

/* ---- tasks ---- */

enum tl__task_state {
    TL__CREATED, /* in the ready queue, fn not started */
    TL__READY,   /* in the ready queue */
    TL__RUNNING,
    TL__WAITING, /* parked, detach recorded */
    TL__DONE,
};

enum tl__task_flags {
    TL__CANCEL_REQ = 1 << 0,  /* tl_task_cancel was called */
    TL__RETRIEVED = 1 << 1,   /* someone read the result */
    TL__AWAITED = 1 << 2,     /* tl_dump_tasks: some task waits on it */
    TL__INTERRUPTED = 1 << 3, /* the last wait was ended by cancel or timeout */
    TL__CANARY = 1 << 4,      /* its stack has a canary, not a guard: check at switches */
    TL__ALWAYS_RUNS = 1 << 5, /* fn runs even if cancelled before it starts (it cleans up) */
};

enum tl__scope_flags { TL__SCOPE_EXPIRED = 1, TL__SCOPE_ENTERED = 2 };

typedef void (*tl__detach_fn)(tl_task *t, void *ctx);

/* What a waiting task's wait_obj is: tl_dump_tasks walks from a task to the
 * tasks it waits for by this, never by the label users see. */
typedef enum {
    TL__WAIT_OTHER, /* not a task or set of tasks: printed, not walked */
    TL__WAIT_SLEEP, /* NULL: the task's own timer says when */
    TL__WAIT_TASK,  /* tl_task *: tl_task_wait, tl_wait_for */
    TL__WAIT_SET,   /* tl__waitset *: tl_gather, tl_wait, as_completed */
    TL__WAIT_GROUP, /* tl_group *: tl_group_wait */
    TL__WAIT_GEN,   /* tl_gen *: a generator's consumer */
} tl__wait_kind;

struct tl_task {
    tl__item item; /* in the ready queue */
    uint8_t state;
    uint8_t flags;
    uint16_t shield;
    uint32_t refs; /* handles, plus one until done */
    int result;
    int wake_code;
    tl_loop *loop;
    tl_fn fn;
    void *arg;
    tl__ctx ctx;
    tl__stack stack;
    const void *low_water; /* deepest stack pointer seen at a switch */
    tl__timer timer;       /* tl_sleep */
    tl_timeout *scope;     /* innermost timeout scope */
    unsigned expired;      /* expired scopes in the chain */
    /* what the task waits on, for detaching and for tl_dump_tasks */
    const char *wait_what;
    void *wait_obj;
    tl__wait_kind wait_kind;
    tl__detach_fn wait_detach;
    void *wait_ctx;
    /* set by a hand-off wake-up (tl__wake_handoff) until the task runs */
    tl__detach_fn wake_undo;
    void *wake_undo_ctx;
    tl_group *group; /* the task group that spawned it */
    tl_task *group_next;
    tl__wlist awaiters;
    tl_task *all_prev, *all_next;
    uint64_t id;
    char *name;   /* NULL: "Task-<id>" */
    char *detail; /* tl_error_detail(), malloc'd; NULL: none */
    char name_buf[24];
};

/* ---- the loop ---- */

/* An object an upper layer opened on the loop (a stream, a server, a UDP
 * socket, a process, a signal watcher): the loop keeps a list of them so
 * that tl_loop_free can close each through its own teardown, which frees
 * its memory, instead of leaking it behind a generic uv_close. */
typedef struct tl__attached tl__attached;
struct tl__attached {
    tl__attached *prev, *next;
    void (*teardown)(tl__attached *n); /* close the handles now; drop the owner's reference */
};

/* State an upper layer keeps once per loop (signals' watchers, the HTTP
 * client's multi handle), found by the address of a key the layer owns, so
 * the loop needs no field for any of them. tl_loop_free tears each down,
 * newest first, after every attached object is gone. */
typedef struct tl__loop_state tl__loop_state;
struct tl__loop_state {
    tl__loop_state *next;
    const void *key;
    void (*teardown)(tl__loop_state *st);
};

typedef struct tl__tsnode {
    struct tl__tsnode *next;
    tl_callback cb;
    void *arg;
    bool embedded; /* lives inside its sender's record: not freed after the call */
} tl__tsnode;

struct tl_loop {
    uv_loop_t uv;
    uv_timer_t uv_timer; /* armed for the heap's earliest deadline */
    uint64_t uv_timer_when;
    uv_async_t async; /* tl_call_soon_threadsafe */
    uv_mutex_t ts_lock;
    tl__tsnode *ts_head, **ts_tailp;

    tl__ctx sched; /* the thread's own stack, where the loop runs */
    tl__runq ready;
    int budget; /* items left to run before polling I/O again */
    tl_task *current;

    tl__timer *heap;
    uint64_t timer_seq;

    tl_task *tasks; /* every task not yet freed */
    size_t nalive;  /* tasks not done */

    tl__stack_pool stacks;
    tl_future *spare_futures; /* freed futures kept for reuse */
    unsigned nspare_futures;
    tl__ctx dead_ctx; /* where a finished task's last switch saves nothing useful */

    tl__attached *attached; /* open streams, servers, sockets, processes, signals */
    tl__loop_state *states; /* per-loop state of upper layers, by key */

    tl_task *main;
    tl__item stop_item;
    bool running, stopping;
    bool polling;         /* inside uv_run: a wake-up must keep the poll from blocking */
    uint64_t slice_start; /* debug: when the running task got the CPU */
};

extern TL__TLS tl_loop *tl__loop;

/* Appends to the ready queue. From inside a libuv callback, also tells libuv
 * not to block in this turn's poll: there is work to do. */
static inline void tl__ready_push(tl_loop *loop, tl__item *it)
{
    tl__runq_push(&loop->ready, it);
    if (loop->polling)
        uv_stop(&loop->uv);
}

void tl__no_loop(const char *fn) __attribute__((noreturn, cold));
void tl__no_task(const char *fn) __attribute__((noreturn, cold));

/* The loop of the calling thread; aborts naming fn when there is none. */
static inline tl_loop *tl__need_loop(const char *fn)
{
    tl_loop *loop = tl__loop;
    if (__builtin_expect(!loop, 0))
        tl__no_loop(fn);
    return loop;
}

/* The running task; aborts naming fn when called outside a task. */
static inline tl_task *tl__need_task(const char *fn)
{
    tl_loop *loop = tl__loop;
    if (__builtin_expect(!loop || !loop->current, 0))
        tl__no_task(fn);
    return loop->current;
}

/* ---- scheduling ---- */

int tl__interrupt_slow(tl_task *t);

/* TL_ECANCELED or TL_ETIMEDOUT if the task's next wait would be ended at
 * once (sticky cancellation, an expired scope), else 0. */
static inline int tl__interrupt(tl_task *t)
{
    if (__builtin_expect(!(t->flags & TL__CANCEL_REQ) && !t->expired, 1))
        return 0;
    return tl__interrupt_slow(t);
}
/* Parks the current task until tl__wake; returns the wake code. kind says
 * what obj is, for tl_dump_tasks's walk; what is the label it shows. */
int tl__wait_on(tl_task *t, tl__wait_kind kind, const char *what, void *obj, tl__detach_fn detach,
                void *ctx);
/* A wait whose obj tl_dump_tasks only prints (a lock, a stream, a queue). */
static inline int tl__wait(tl_task *t, const char *what, void *obj, tl__detach_fn detach, void *ctx)
{
    return tl__wait_on(t, TL__WAIT_OTHER, what, obj, detach, ctx);
}
/* A waiter that knows its list, for tl__wait_listed. */
typedef struct tl__list_waiter {
    tl__waiter w; /* first: the list holds &w, which is the record's address */
    tl__wlist *list;
} tl__list_waiter;
void tl__list_waiter_detach(tl_task *t, void *ctx);
/* Parks self at the tail of list, in the record lw (which may be the first
 * member of a bigger one that the waker finds through the list), until
 * something wakes it or cancellation, or a timeout, takes it off the list:
 * the wake code. what and obj are what tl_dump_tasks shows it waiting on. */
static inline int tl__wait_listed(tl_task *self, tl__list_waiter *lw, tl__wlist *list,
                                  tl__wait_kind kind, const char *what, void *obj)
{
    lw->w.task = self;
    lw->w.notify = NULL;
    lw->list = list;
    tl__wlist_push(list, &lw->w);
    return tl__wait_on(self, kind, what, obj, tl__list_waiter_detach, lw);
}
/* The same with a record of its own, for waits that need nothing more. */
static inline int tl__wait_in_on(tl_task *self, tl__wlist *list, tl__wait_kind kind,
                                 const char *what, void *obj)
{
    tl__list_waiter lw;
    return tl__wait_listed(self, &lw, list, kind, what, obj);
}
static inline int tl__wait_in(tl_task *self, tl__wlist *list, const char *what, void *obj)
{
    return tl__wait_in_on(self, list, TL__WAIT_OTHER, what, obj);
}
/* Makes a waiting task ready with code as its wait's result. */
void tl__wake(tl_task *t, int code);
/* Wakes the task a wait recorded in *slot, and empties the slot. */
static inline void tl__wake_slot(tl_task **slot, int code)
{
    tl_task *t = *slot;
    *slot = NULL;
    tl__wake(t, code);
}
/* tl__wake for a wake-up that hands t something (a lock, an item, a permit).
 * If t is cancelled or times out before it runs, undo(t, ctx) gives the thing
 * back (to the next waiter) and t's wait returns the interruption instead:
 * a cancelled waiter takes nothing, and the wake-up is not lost. */
void tl__wake_handoff(tl_task *t, int code, tl__detach_fn undo, void *ctx);
/* Ends t's wait with code if it waits and may be interrupted: detaches it
 * first, or undoes the hand-off it was woken with but has not yet seen. */
void tl__interrupt_wait(tl_task *t, int code);
/* Gives up the CPU with t already queued or recorded elsewhere. */
void tl__park(tl_task *t);
/* Bookkeeping as a task gives up the CPU: stack depth, canary, slow report. */
void tl__leaving(tl_loop *loop, tl_task *t);
/* Leaves a finished task's stack for good. */
void tl__exit_task(tl_loop *loop) __attribute__((noreturn));
/* Runs one loop iteration's worth of ready items. */
void tl__run_ready(tl_loop *loop);
/* Runs the loop until pred(loop) holds. */
void tl__loop_run_until(tl_loop *loop, bool (*pred)(tl_loop *));

/* ---- tasks, futures, handles ---- */
void tl__task_free(tl_task *t);
/* Cancels t and waits, shielded, until it has finished; its result. */
int tl__cancel_and_wait(tl_task *self, tl_task *t);
/* A group's child finished (called by the child, just before it exits). */
void tl__group_child_done(tl_task *t);
void tl__task_unref(tl_task *t);
void tl__call_run(tl__item *it);
void tl__futcb_run(tl__item *it);
/* Frees a queued item or timer the closing loop will never run. */
void tl__item_drop(tl__item *it);
void tl__call_drop(tl__item *it);
void tl__futcb_drop(tl__item *it);
void tl__timer_drop(tl__timer *t);
void tl__future_spares_free(tl_loop *loop);

/* For tl_dump_tasks: calls fn with each task that a waiting task's wait (its
 * wait_kind and wait_obj) is waiting for. */
typedef void (*tl__each_fn)(tl_task *awaited, void *ctx);
struct tl__waitset;
void tl__waitset_each(const struct tl__waitset *ws, tl__each_fn fn, void *ctx);
void tl__group_each(tl_group *g, tl__each_fn fn, void *ctx);
tl_task *tl__gen_task(const tl_gen *g);

/* From any thread: queues n (embedded, not freed) to run n->cb(n->arg) on
 * loop's thread. The sender may not touch loop after this returns; the node
 * must stay valid until its callback has run. */
void tl__post_threadsafe(tl_loop *loop, tl__tsnode *n);
/* On the loop's thread: runs (or, with run false, drops) what other threads
 * have posted. */
void tl__threadsafe_drain(tl_loop *loop, bool run);

/* ---- what upper layers attach to the loop (src/io, src/os) ---- */
void tl__loop_attach(tl_loop *loop, tl__attached *n);
void tl__loop_detach(tl_loop *loop, tl__attached *n);
/* tl_loop_free: tears down every attached object still open. */
void tl__loop_detach_all(tl_loop *loop);

/* The state added under key, or NULL. */
tl__loop_state *tl__loop_state_find(tl_loop *loop, const void *key);
/* st->key and st->teardown set; one state per key (misuse aborts). */
void tl__loop_state_add(tl_loop *loop, tl__loop_state *st);
/* Off the loop's list; the caller frees it. */
void tl__loop_state_remove(tl_loop *loop, tl__loop_state *st);

/* True when signum's disposition is still the default one, so that tulip
 * may take it over (SIGPIPE ignored, SIGINT cancelling tl_run's main). */
bool tl__signal_is_default(int signum);

/* ---- debug ---- */
extern bool tl__debug;
extern double tl__slow_threshold;
void tl__debug_init(void);
void tl__debug_slow(tl_loop *loop, const char *what, const char *name, uint64_t id, uint64_t ns);
void tl__debug_unretrieved(tl_task *t);
void tl__debug_leftover(tl_loop *loop);
const char *tl__task_name_buf(const tl_task *t, char *buf, size_t cap);

/* ---- stack overflow ---- */
/* "stack overflow in task 'NAME' (id N, stack SIZE bytes): ...", without a
 * newline; returns its length. Shared by the guard fault and the canary check. */
int tl__overflow_message(const tl_task *t, char *buf, size_t cap);
void tl__overflow_thread_init(void);
void tl__overflow_thread_done(void);

#endif
