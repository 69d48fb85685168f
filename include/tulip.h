/* tulip: asyncio for C.
 *
 * An event loop (on libuv), tasks with their own stacks so that a suspension
 * point is an ordinary call, cancellation and timeouts that cannot be
 * swallowed by accident, and the asyncio toolbox on top. One header; the
 * reference is docs/reference/, the design docs/design.md.
 *
 * A function that can fail returns a negative TL_E* code (libuv's error
 * numbers: the negated errno on Unix), with one exception: the constructors
 * that hand back a new object and can fail only for want of memory return
 * NULL instead, as malloc does, so that the object is the return value. They
 * are tl_loop_new, tl_call_soon, tl_create_task(_ex), tl_future_new,
 * tl_group_new, tl_group_spawn(_ex), tl_gen_new and the four tl_queue_new*.
 * Three of them can also refuse their arguments, and say so with NULL too:
 * tl_call_later and tl_call_at (a NaN time) and tl_queue_new_ex (a priority
 * queue without cmp); tl_executor_new is NULL when threads run out as well.
 * Anything else that can fail for more than one reason returns a code and
 * the object through an out-parameter. Each prototype's comment says whether
 * the call suspends (may switch tasks) and what it can fail with.
 */
#ifndef TULIP_H
#define TULIP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

struct addrinfo;

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TULIP_BUILDING) && defined(__GNUC__)
#define TL_EXTERN __attribute__((visibility("default")))
#else
#define TL_EXTERN
#endif

#define TULIP_VERSION_MAJOR  0
#define TULIP_VERSION_MINOR  1
#define TULIP_VERSION_PATCH  0
#define TULIP_VERSION_STRING "0.1.0"

TL_EXTERN const char *tl_version(void);

/* ======================================================================
 * Errors
 *
 * Negative ints, the same numbers as libuv's UV_E* codes, so a libuv error
 * passes through untranslated. TL_ECANCELED and TL_ETIMEDOUT are what a
 * suspension point returns when cancellation or a timeout scope ends it.
 * ====================================================================== */

/* XX(name, value, message) */
#define TL_ERRNO_MAP(XX)                                                       \
    XX(E2BIG, -E2BIG, "argument list too long")                                \
    XX(EACCES, -EACCES, "permission denied")                                   \
    XX(EADDRINUSE, -EADDRINUSE, "address already in use")                      \
    XX(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")                 \
    XX(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")            \
    XX(EAGAIN, -EAGAIN, "resource temporarily unavailable")                    \
    XX(EAI_ADDRFAMILY, -3000, "address family not supported")                  \
    XX(EAI_AGAIN, -3001, "temporary failure")                                  \
    XX(EAI_BADFLAGS, -3002, "bad ai_flags value")                              \
    XX(EAI_CANCELED, -3003, "request canceled")                                \
    XX(EAI_FAIL, -3004, "permanent failure")                                   \
    XX(EAI_FAMILY, -3005, "ai_family not supported")                           \
    XX(EAI_MEMORY, -3006, "out of memory")                                     \
    XX(EAI_NODATA, -3007, "no address")                                        \
    XX(EAI_NONAME, -3008, "unknown node or service")                           \
    XX(EAI_SERVICE, -3010, "service not available for socket type")            \
    XX(EAI_SOCKTYPE, -3011, "socket type not supported")                       \
    XX(EALREADY, -EALREADY, "connection already in progress")                  \
    XX(EBADF, -EBADF, "bad file descriptor")                                   \
    XX(EBUSY, -EBUSY, "resource busy or locked")                               \
    XX(ECANCELED, -ECANCELED, "operation canceled")                            \
    XX(ECONNABORTED, -ECONNABORTED, "software caused connection abort")        \
    XX(ECONNREFUSED, -ECONNREFUSED, "connection refused")                      \
    XX(ECONNRESET, -ECONNRESET, "connection reset by peer")                    \
    XX(EEXIST, -EEXIST, "file already exists")                                 \
    XX(EFAULT, -EFAULT, "bad address in system call argument")                 \
    XX(EFBIG, -EFBIG, "file too large")                                        \
    XX(EHOSTUNREACH, -EHOSTUNREACH, "host is unreachable")                     \
    XX(EINTR, -EINTR, "interrupted system call")                               \
    XX(EINVAL, -EINVAL, "invalid argument")                                    \
    XX(EIO, -EIO, "i/o error")                                                 \
    XX(EISCONN, -EISCONN, "socket is already connected")                       \
    XX(EISDIR, -EISDIR, "illegal operation on a directory")                    \
    XX(ELOOP, -ELOOP, "too many symbolic links encountered")                   \
    XX(EMFILE, -EMFILE, "too many open files")                                 \
    XX(EMSGSIZE, -EMSGSIZE, "message too long")                                \
    XX(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                           \
    XX(ENETDOWN, -ENETDOWN, "network is down")                                 \
    XX(ENETUNREACH, -ENETUNREACH, "network is unreachable")                    \
    XX(ENFILE, -ENFILE, "file table overflow")                                 \
    XX(ENOBUFS, -ENOBUFS, "no buffer space available")                         \
    XX(ENODEV, -ENODEV, "no such device")                                      \
    XX(ENOENT, -ENOENT, "no such file or directory")                           \
    XX(ENOMEM, -ENOMEM, "not enough memory")                                   \
    XX(ENOSPC, -ENOSPC, "no space left on device")                             \
    XX(ENOSYS, -ENOSYS, "function not implemented")                            \
    XX(ENOTCONN, -ENOTCONN, "socket is not connected")                         \
    XX(ENOTDIR, -ENOTDIR, "not a directory")                                   \
    XX(ENOTEMPTY, -ENOTEMPTY, "directory not empty")                           \
    XX(ENOTSOCK, -ENOTSOCK, "socket operation on non-socket")                  \
    XX(ENOTSUP, -ENOTSUP, "operation not supported on socket")                 \
    XX(EOVERFLOW, -EOVERFLOW, "value too large for defined data type")         \
    XX(EPERM, -EPERM, "operation not permitted")                               \
    XX(EPIPE, -EPIPE, "broken pipe")                                           \
    XX(EPROTO, -EPROTO, "protocol error")                                      \
    XX(ERANGE, -ERANGE, "result too large")                                    \
    XX(EROFS, -EROFS, "read-only file system")                                 \
    XX(ESHUTDOWN, -ESHUTDOWN, "cannot send after transport endpoint shutdown") \
    XX(ESPIPE, -ESPIPE, "invalid seek")                                        \
    XX(ESRCH, -ESRCH, "no such process")                                       \
    XX(ETIMEDOUT, -ETIMEDOUT, "connection timed out")                          \
    XX(EXDEV, -EXDEV, "cross-device link not permitted")                       \
    XX(EOF, -4095, "end of file")

/* tulip's own codes, in a range of their own as libuv's EAI codes have -3000.
 * XX(name, value, message) */
#define TL_OWN_ERRNO_MAP(XX)                                            \
    XX(ETLS, -5001, "TLS protocol or handshake failure")                \
    XX(ECERT, -5002, "peer certificate failed verification")            \
    XX(ETRUNCATED, -5003, "connection closed without TLS close_notify") \
    XX(EHTTP, -5004, "HTTP protocol error")

enum tl_errno {
#define TL__ERRNO_ENUM(name, value, msg) TL_##name = (value),
    TL_ERRNO_MAP(TL__ERRNO_ENUM) TL_OWN_ERRNO_MAP(TL__ERRNO_ENUM)
#undef TL__ERRNO_ENUM
};

/* "operation canceled" for TL_ECANCELED; "unknown error" for anything else. */
TL_EXTERN const char *tl_strerror(int err);
/* "ECANCELED" for TL_ECANCELED; "UNKNOWN" for anything else. */
TL_EXTERN const char *tl_err_name(int err);
/* The detail of the last error a tulip call that gives detail (TLS, the HTTP
 * client) returned in the current task, or thread outside tasks: OpenSSL's
 * reason, libcurl's message. NULL when that error had none. Each task has its
 * own; the string stays valid until the next such call in the same task. */
TL_EXTERN const char *tl_error_detail(void);

/* ======================================================================
 * Running: asyncio.run, the loop, plain callbacks
 *
 * A loop belongs to one thread. tl_run() is asyncio.run(): it makes a loop,
 * runs main as a task, cancels and awaits what is left, closes the loop.
 * tl_call_soon() and friends schedule plain callbacks with no stack of their
 * own, the cheapest unit of work. Whatever schedules work (tasks, callbacks,
 * futures) needs a loop running on the calling thread: called anywhere else
 * it aborts with a message naming the function.
 * ====================================================================== */

typedef struct tl_loop tl_loop;
typedef struct tl_task tl_task;
typedef struct tl_future tl_future;
typedef struct tl_handle tl_handle;
typedef struct tl_group tl_group;

/* The body of a task: a result >= 0, or a negative TL_E* (the C form of raising). */
typedef int (*tl_fn)(void *arg);
typedef void (*tl_callback)(void *arg);

/* blocks the thread; main's result, TL_ENOMEM, TL_EINVAL inside a task */
TL_EXTERN int tl_run(tl_fn main, void *arg);

/* NULL when memory runs out */
TL_EXTERN tl_loop *tl_loop_new(void);
/* blocks the thread until main has finished; main's result, TL_ENOMEM, TL_EINVAL (reentrant) */
TL_EXTERN int tl_loop_run(tl_loop *loop, tl_fn main, void *arg);
/* cancels and awaits the tasks still alive, then frees the loop; blocks the thread */
TL_EXTERN void tl_loop_free(tl_loop *loop);
/* the loop running on this thread, or NULL */
TL_EXTERN tl_loop *tl_loop_current(void);
/* the monotonic clock, in seconds */
TL_EXTERN double tl_time(void);

/* never suspends; NULL when memory runs out. The handle stays valid until the
 * callback has returned or the handle was cancelled. */
TL_EXTERN tl_handle *tl_call_soon(tl_callback cb, void *arg);
/* never suspends; NULL when memory runs out or delay is NaN */
TL_EXTERN tl_handle *tl_call_later(double delay, tl_callback cb, void *arg);
/* never suspends; NULL when memory runs out or when is NaN */
TL_EXTERN tl_handle *tl_call_at(double when, tl_callback cb, void *arg);
/* never suspends; the callback will not run */
TL_EXTERN void tl_handle_cancel(tl_handle *h);
/* from any thread; 0, TL_ENOMEM */
TL_EXTERN int tl_call_soon_threadsafe(tl_loop *loop, tl_callback cb, void *arg);

/* ======================================================================
 * Tasks
 *
 * A task is a function running on its own stack. tl_create_task() schedules
 * it (it starts at the loop's next turn, as asyncio's create_task does);
 * tl_await() suspends the caller until it finishes and returns its result.
 * The handle is reference counted: tl_task_release() drops it and a task
 * whose handles are all gone runs on, detached (tl_spawn()).
 * ====================================================================== */

typedef struct tl_task_opts {
    const char *name;  /* copied; NULL: "Task-<id>" */
    size_t stack_size; /* bytes; 0: TL_STACK_DEFAULT */
} tl_task_opts;

#define TL_STACK_DEFAULT ((size_t)256 * 1024)
#define TL_STACK_MIN     ((size_t)16 * 1024)

/* never suspends; NULL when memory runs out */
TL_EXTERN tl_task *tl_create_task(tl_fn fn, void *arg);
/* never suspends; NULL when memory runs out */
TL_EXTERN tl_task *tl_create_task_ex(tl_fn fn, void *arg, const tl_task_opts *opts);
/* never suspends; create and release: 0, TL_ENOMEM */
TL_EXTERN int tl_spawn(tl_fn fn, void *arg);
/* suspends unless t is done; t's result, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_await(tl_task *t);
/* never suspends; a waiting task wakes with TL_ECANCELED */
TL_EXTERN void tl_task_cancel(tl_task *t);
TL_EXTERN bool tl_task_done(const tl_task *t);
/* done, and its result is TL_ECANCELED */
TL_EXTERN bool tl_task_cancelled(const tl_task *t);
/* the result of a finished task; TL_EAGAIN while it runs */
TL_EXTERN int tl_task_result(tl_task *t);
/* another handle to the same task */
TL_EXTERN tl_task *tl_task_retain(tl_task *t);
TL_EXTERN void tl_task_release(tl_task *t);
/* the running task, or NULL outside any task */
TL_EXTERN tl_task *tl_current_task(void);
TL_EXTERN const char *tl_task_name(const tl_task *t);
/* 0, TL_ENOMEM */
TL_EXTERN int tl_task_set_name(tl_task *t, const char *name);
/* a number unique within the process, counting from 1 */
TL_EXTERN uint64_t tl_task_id(const tl_task *t);
/* the loop's tasks that are not done (asyncio.all_tasks): fills out[0..cap) with
 * new handles (release each) and returns how many tasks there are */
TL_EXTERN size_t tl_all_tasks(tl_task **out, size_t cap);

/* suspends; 0, TL_ECANCELED, TL_ETIMEDOUT, TL_EINVAL (NaN). tl_sleep(0) lets every
 * other ready task run once. */
TL_EXTERN int tl_sleep(double seconds);

/* ======================================================================
 * Cancellation and timeouts
 *
 * tl_task_cancel() is sticky: the suspension point the task waits in returns
 * TL_ECANCELED, and so does every later one, at once, until the task returns.
 * A shield marks cleanup whose waits must complete. A timeout scope is
 * asyncio.timeout(): once its deadline passes, suspension points inside it
 * return TL_ETIMEDOUT until it is exited. Scopes live in the caller's memory.
 * ====================================================================== */

/* never suspend; shields nest */
TL_EXTERN void tl_shield_enter(void);
TL_EXTERN void tl_shield_exit(void);

typedef struct tl_timeout {
    /* private: a timer in the loop's heap and the task's scope chain */
    void *_node[3];
    uint64_t _when;
    uint64_t _seq;
    void (*_fire)(void *);
    tl_task *_task;
    struct tl_timeout *_parent;
    unsigned _shield;
    unsigned _flags;
} tl_timeout;

/* never suspend; seconds <= 0 (or NaN) expires at once, INFINITY never */
TL_EXTERN void tl_timeout_enter(tl_timeout *scope, double seconds);
TL_EXTERN void tl_timeout_enter_at(tl_timeout *scope, double when);
/* a new deadline (tl_time() clock; INFINITY: none); no effect once expired */
TL_EXTERN void tl_timeout_reschedule(tl_timeout *scope, double when);
/* the deadline, INFINITY when there is none */
TL_EXTERN double tl_timeout_when(const tl_timeout *scope);
TL_EXTERN bool tl_timeout_expired(const tl_timeout *scope);
/* never suspends; TL_ETIMEDOUT if the scope expired while entered, else 0. A
 * deadline already past at enter expires it at once; a later one when the loop
 * sees it pass (a deadline passed in code that never waits does not count). */
TL_EXTERN int tl_timeout_exit(tl_timeout *scope);

/* ======================================================================
 * Futures
 *
 * A future is a result that is set later, by anyone on the loop. Awaiting a
 * future from a task that is then cancelled cancels the future, as asyncio
 * does. Done callbacks run from the loop, soon after the future completes.
 * ====================================================================== */

typedef void (*tl_future_cb)(tl_future *f, void *arg);

/* NULL when memory runs out; a loop must be running on this thread */
TL_EXTERN tl_future *tl_future_new(void);
/* never suspend; 0, TL_EINVAL (done already, or a negative result) */
TL_EXTERN int tl_future_set_result(tl_future *f, int result);
/* never suspends; 0, TL_EINVAL (done already, or err >= 0) */
TL_EXTERN int tl_future_set_error(tl_future *f, int err);
/* never suspends; false if f was done already */
TL_EXTERN bool tl_future_cancel(tl_future *f);
TL_EXTERN bool tl_future_done(const tl_future *f);
TL_EXTERN bool tl_future_cancelled(const tl_future *f);
/* the result or error of a done future; TL_EAGAIN while pending */
TL_EXTERN int tl_future_result(const tl_future *f);
/* suspends unless f is done; f's result, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_future_await(tl_future *f);
/* never suspends; 0, TL_ENOMEM */
TL_EXTERN int tl_future_add_done_callback(tl_future *f, tl_future_cb cb, void *arg);
/* never suspends; how many registrations were removed */
TL_EXTERN size_t tl_future_remove_done_callback(tl_future *f, tl_future_cb cb, void *arg);
TL_EXTERN tl_future *tl_future_retain(tl_future *f);
TL_EXTERN void tl_future_release(tl_future *f);

/* ======================================================================
 * Combinators: gather, wait, as_completed, wait_for, task groups, generators
 *
 * tl_gather() is asyncio.gather(): it waits for a set of tasks and collects
 * their results in order; the first error comes back at once (the others run
 * on) unless TL_RETURN_EXCEPTIONS asks for every result. tl_wait() waits for
 * the first, the first failure or all, and never cancels anything;
 * tl_as_completed hands tasks out as they finish. tl_wait_for() bounds one
 * task with a timeout and cancels it when the time is up. A task group
 * (asyncio.TaskGroup) owns its children: one failure cancels the rest, and
 * tl_group_wait() returns only when all have finished. A generator is an
 * async generator: its function runs as a task and hands values out one at
 * a time with tl_gen_yield(), each when the consumer asks with tl_gen_next().
 * A caller cancelled inside gather, wait_for or a group's wait cancels the
 * tasks it waits for and waits until they have finished: their functions
 * may point into the caller's stack frame.
 * ====================================================================== */

/* tl_gather flag: wait for every task and leave each error in results[] */
#define TL_RETURN_EXCEPTIONS 1u

/* suspends unless all are done; 0, the first task error, TL_ECANCELED, TL_ETIMEDOUT,
 * TL_ENOMEM, TL_EINVAL. results (may be NULL) gets each task's result, TL_EAGAIN for
 * one still running when the first error returned. */
TL_EXTERN int tl_gather(tl_task *const *tasks, size_t n, int *results, unsigned flags);

/* A call that is not a task yet: asyncio's coroutine object, for tl_gather_coros. */
typedef struct tl_coro {
    tl_fn fn;
    void *arg;
} tl_coro;
#define TL_CORO(fn, arg) ((tl_coro){(fn), (arg)})

/* tl_gather over new tasks running coros[i].fn(coros[i].arg); suspends; as tl_gather,
 * except that on an error the tasks still running are cancelled and waited for */
TL_EXTERN int tl_gather_coros(const tl_coro *coros, size_t n, int *results, unsigned flags);
/* TL_GATHER(results, flags, TL_CORO(f, a), TL_CORO(g, b), ...): tl_gather_coros on a list */
#define TL_GATHER(results, flags, ...)              \
    tl_gather_coros((const tl_coro[]){__VA_ARGS__}, \
                    sizeof((const tl_coro[]){__VA_ARGS__}) / sizeof(tl_coro), (results), (flags))

/* tl_wait return_when */
#define TL_FIRST_COMPLETED 1
#define TL_FIRST_EXCEPTION 2
#define TL_ALL_COMPLETED   3

/* suspends unless already satisfied; how many tasks are done (the timeout, in seconds,
 * ends it without error; negative: none), TL_ECANCELED, TL_ETIMEDOUT, TL_ENOMEM,
 * TL_EINVAL. Nothing is cancelled. */
TL_EXTERN int tl_wait(tl_task *const *tasks, size_t n, double timeout, int return_when);

typedef struct tl_as_completed {
    void *_state; /* private */
} tl_as_completed;

/* never suspends; 0, TL_ENOMEM, TL_EINVAL. Holds a reference to each task until
 * _destroy. timeout: seconds for the whole iteration; negative: none. */
TL_EXTERN int tl_as_completed_init(tl_as_completed *it, tl_task *const *tasks, size_t n,
                                   double timeout);
/* suspends while none is ready; 0 and the next finished task in *out (valid until
 * _destroy), TL_EOF when all were handed out, TL_ETIMEDOUT, TL_ECANCELED, TL_EBUSY
 * (another task waits in it) */
TL_EXTERN int tl_as_completed_next(tl_as_completed *it, tl_task **out);
/* never suspends; the tasks run on */
TL_EXTERN void tl_as_completed_destroy(tl_as_completed *it);

/* suspends unless t is done; t's result, or TL_ETIMEDOUT when the timeout (seconds;
 * INFINITY: none; <= 0: now) ended it and t was cancelled and has finished;
 * TL_ECANCELED, TL_EINVAL (NaN) */
TL_EXTERN int tl_wait_for(tl_task *t, double timeout);

/* never suspends; NULL when memory runs out */
TL_EXTERN tl_group *tl_group_new(void);
/* never suspends; NULL when memory runs out. The group keeps the handle until
 * tl_group_free; in a group that is shutting down the task is made cancelled. */
TL_EXTERN tl_task *tl_group_spawn(tl_group *g, tl_fn fn, void *arg);
TL_EXTERN tl_task *tl_group_spawn_ex(tl_group *g, tl_fn fn, void *arg, const tl_task_opts *opts);
/* suspends until every child has finished; 0, the first child's error (an error other
 * than TL_ECANCELED), TL_ECANCELED, TL_ETIMEDOUT, TL_EBUSY (another task waits on it) */
TL_EXTERN int tl_group_wait(tl_group *g);
/* never suspends; children still running are cancelled and run on detached */
TL_EXTERN void tl_group_free(tl_group *g);

typedef struct tl_gen tl_gen;
typedef int (*tl_gen_fn)(tl_gen *g, void *arg);

/* never suspends; NULL when memory runs out. fn starts at the first tl_gen_next. */
TL_EXTERN tl_gen *tl_gen_new(tl_gen_fn fn, void *arg);
/* inside the generator; suspends until the next tl_gen_next; 0, TL_ECANCELED (closed) */
TL_EXTERN int tl_gen_yield(tl_gen *g, void *value);
/* suspends until the generator yields or returns; 0 and the value in *value, TL_EOF
 * at the end, the generator's error, TL_ECANCELED, TL_ETIMEDOUT, TL_ENOMEM, TL_EBUSY */
TL_EXTERN int tl_gen_next(tl_gen *g, void **value);
/* suspends while the generator finishes (its pending tl_gen_yield returns
 * TL_ECANCELED), then frees it; 0, an error the generator returned on closing, TL_EBUSY */
TL_EXTERN int tl_gen_close(tl_gen *g);

/* ======================================================================
 * Synchronization and queues
 *
 * asyncio's Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier
 * and Queue, for the tasks of one loop (they are not thread-safe). The
 * primitives live in the caller's memory (_init / _destroy) and allocate
 * nothing; a queue is allocated by the library (_new / _free). Waiters are
 * served first come, first served: a release, a notify, a put or a get that
 * frees a slot is handed straight to the first waiter, so nobody can barge
 * in. Every call that waits is a suspension point; when cancellation or a
 * timeout scope ends it, the caller has taken nothing and lost nothing, and
 * a hand-off it was given but had not yet run to see goes to the next
 * waiter. A call that need not wait does not suspend (and so does not check
 * for cancellation). A primitive must outlive every wait on it: destroying
 * one that still has waiters aborts the program with a message.
 * ====================================================================== */

/* The struct fields are private: use the functions. */
typedef struct tl_lock {
    void *_waiters[2];
    unsigned _locked;
    unsigned _handoffs;
} tl_lock;

typedef struct tl_event {
    void *_waiters[2];
    unsigned _set;
} tl_event;

typedef struct tl_condition {
    void *_waiters[2];
    tl_lock *_lock;
    unsigned _handoffs;
} tl_condition;

typedef struct tl_semaphore {
    void *_waiters[2];
    int _value;
    int _bound; /* -1: unbounded */
    unsigned _handoffs;
} tl_semaphore;

typedef struct tl_barrier {
    void *_waiters[2];
    int _parties;
    int _count;
    unsigned _broken;
} tl_barrier;

typedef struct tl_queue tl_queue;

/* never suspends; an unlocked lock */
TL_EXTERN void tl_lock_init(tl_lock *lock);
/* aborts if tasks wait on it */
TL_EXTERN void tl_lock_destroy(tl_lock *lock);
/* suspends while the lock is held; 0, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_lock_acquire(tl_lock *lock);
/* never suspends; passes the lock to the first waiter; 0, TL_EINVAL (not locked) */
TL_EXTERN int tl_lock_release(tl_lock *lock);
TL_EXTERN bool tl_lock_locked(const tl_lock *lock);

/* never suspends; an event that is not set */
TL_EXTERN void tl_event_init(tl_event *ev);
/* aborts if tasks wait on it */
TL_EXTERN void tl_event_destroy(tl_event *ev);
/* never suspends; wakes every waiter */
TL_EXTERN void tl_event_set(tl_event *ev);
TL_EXTERN void tl_event_clear(tl_event *ev);
TL_EXTERN bool tl_event_is_set(const tl_event *ev);
/* suspends unless set; 0, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_event_wait(tl_event *ev);

/* never suspends; lock is the condition's lock, and must outlive it */
TL_EXTERN void tl_condition_init(tl_condition *cond, tl_lock *lock);
/* aborts if tasks wait on it */
TL_EXTERN void tl_condition_destroy(tl_condition *cond);
/* suspends; releases the lock, waits for a notify, takes the lock back (even when
 * cancelled); 0, TL_ECANCELED, TL_ETIMEDOUT, TL_EINVAL (lock not held) */
TL_EXTERN int tl_condition_wait(tl_condition *cond);
/* suspends until pred(arg) is true, checked with the lock held; 0, TL_ECANCELED,
 * TL_ETIMEDOUT, TL_EINVAL (lock not held) */
TL_EXTERN int tl_condition_wait_for(tl_condition *cond, bool (*pred)(void *arg), void *arg);
/* never suspends; wakes up to n waiters; 0, TL_EINVAL (lock not held) */
TL_EXTERN int tl_condition_notify(tl_condition *cond, size_t n);
/* never suspends; 0, TL_EINVAL (lock not held) */
TL_EXTERN int tl_condition_notify_all(tl_condition *cond);

/* never suspends; 0, TL_EINVAL (value < 0) */
TL_EXTERN int tl_semaphore_init(tl_semaphore *sem, int value);
/* never suspends; releasing above value is an error; 0, TL_EINVAL (value < 0) */
TL_EXTERN int tl_semaphore_init_bounded(tl_semaphore *sem, int value);
/* aborts if tasks wait on it */
TL_EXTERN void tl_semaphore_destroy(tl_semaphore *sem);
/* suspends while the value is 0; 0, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_semaphore_acquire(tl_semaphore *sem);
/* never suspends; 0, TL_EINVAL (bounded, over-released), TL_EOVERFLOW (INT_MAX) */
TL_EXTERN int tl_semaphore_release(tl_semaphore *sem);
TL_EXTERN int tl_semaphore_value(const tl_semaphore *sem);
/* the value is 0: an acquire would wait */
TL_EXTERN bool tl_semaphore_locked(const tl_semaphore *sem);

/* never suspends; 0, TL_EINVAL (parties < 1) */
TL_EXTERN int tl_barrier_init(tl_barrier *b, int parties);
/* aborts if tasks wait on it */
TL_EXTERN void tl_barrier_destroy(tl_barrier *b);
/* suspends until parties tasks wait; the arrival index 0..parties-1, TL_EPIPE
 * (aborted or reset: asyncio's BrokenBarrierError), TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_barrier_wait(tl_barrier *b);
/* never suspends; breaks the barrier: waits get TL_EPIPE until tl_barrier_reset */
TL_EXTERN void tl_barrier_abort(tl_barrier *b);
/* never suspends; waiters get TL_EPIPE, the barrier is empty and whole again */
TL_EXTERN void tl_barrier_reset(tl_barrier *b);
TL_EXTERN int tl_barrier_parties(const tl_barrier *b);
TL_EXTERN int tl_barrier_n_waiting(const tl_barrier *b);
TL_EXTERN bool tl_barrier_broken(const tl_barrier *b);

/* Priority order: < 0 when item a comes out before item b (the items themselves,
 * as passed to put). Equal items come out first in, first out. */
typedef int (*tl_queue_cmp)(const void *a, const void *b);

enum tl_queue_order { TL_QUEUE_FIFO, TL_QUEUE_LIFO, TL_QUEUE_PRIORITY };

typedef struct tl_queue_opts {
    size_t maxsize;           /* 0: unbounded */
    int order;                /* enum tl_queue_order; 0: FIFO */
    tl_queue_cmp cmp;         /* TL_QUEUE_PRIORITY: lowest first */
    void (*drop)(void *item); /* items an immediate shutdown or tl_queue_free drops */
} tl_queue_opts;

/* never suspend; NULL when memory runs out (or TL_QUEUE_PRIORITY without cmp) */
TL_EXTERN tl_queue *tl_queue_new(size_t maxsize);
TL_EXTERN tl_queue *tl_queue_new_lifo(size_t maxsize);
TL_EXTERN tl_queue *tl_queue_new_priority(size_t maxsize, tl_queue_cmp cmp);
TL_EXTERN tl_queue *tl_queue_new_ex(const tl_queue_opts *opts);
/* drops the items left; aborts if tasks wait on it */
TL_EXTERN void tl_queue_free(tl_queue *q);
/* suspends while full; 0, TL_ESHUTDOWN, TL_ECANCELED, TL_ETIMEDOUT, TL_ENOMEM */
TL_EXTERN int tl_queue_put(tl_queue *q, void *item);
/* suspends while empty; 0, TL_ESHUTDOWN (shut down and empty), TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_queue_get(tl_queue *q, void **item);
/* never suspends; 0, TL_EAGAIN (full), TL_ESHUTDOWN, TL_ENOMEM */
TL_EXTERN int tl_queue_put_nowait(tl_queue *q, void *item);
/* never suspends; 0, TL_EAGAIN (empty), TL_ESHUTDOWN (shut down and empty) */
TL_EXTERN int tl_queue_get_nowait(tl_queue *q, void **item);
/* never suspends; 0, TL_EINVAL (more calls than items put) */
TL_EXTERN int tl_queue_task_done(tl_queue *q);
/* suspends until every item put has had its tl_queue_task_done; 0, TL_ECANCELED,
 * TL_ETIMEDOUT */
TL_EXTERN int tl_queue_join(tl_queue *q);
/* never suspends; puts fail from now on, gets once the queue is empty; immediate:
 * the items left are dropped (and count as done) and gets fail at once */
TL_EXTERN void tl_queue_shutdown(tl_queue *q, bool immediate);
/* items in the queue (not counting one handed to a getter that has not run yet) */
TL_EXTERN size_t tl_queue_qsize(const tl_queue *q);
/* no item to take: a get would wait (or fail, once shut down) */
TL_EXTERN bool tl_queue_empty(const tl_queue *q);
/* no free slot: a put would wait (what is promised to woken tasks counts as taken) */
TL_EXTERN bool tl_queue_full(const tl_queue *q);
TL_EXTERN size_t tl_queue_maxsize(const tl_queue *q);

/* ======================================================================
 * Networking: asyncio streams (open_connection, start_server,
 * StreamReader, StreamWriter), UDP, DNS
 *
 * A tl_stream is a connected TCP or Unix socket. It reads ahead into its
 * buffer while the buffer holds less than its limit (64 KiB unless set), and
 * pauses reading above twice the limit, so a fast peer cannot grow a slow
 * reader's memory without bound. One task at a time may read (a second
 * concurrent reader gets TL_EBUSY); any task may write. Writes never wait:
 * what the socket does not take at once is buffered, and tl_stream_drain
 * waits while that buffer is above its high-water mark.
 *
 * Closing gives the handle up: tl_stream_close (never suspends) or
 * tl_stream_wait_closed (asyncio's close() and wait_closed() in one call).
 * Buffered writes are still sent before the socket closes. A server's
 * handler does not own its stream: the server closes it when the handler
 * returns.
 *
 * A cancelled or timed-out read loses no bytes: they stay buffered for the
 * next read. Timeouts are timeout scopes (tl_timeout_enter) or tl_wait_for.
 * ====================================================================== */

typedef struct tl_stream tl_stream;
typedef struct tl_server tl_server;
typedef struct tl_udp tl_udp;

#define TL_STREAM_LIMIT_DEFAULT ((size_t)64 * 1024)

/* suspends; 0 and a connected stream in *out, TL_ECONNREFUSED, TL_ETIMEDOUT, TL_ECANCELED,
 * a TL_EAI_* lookup error, TL_EINVAL (port outside 0..65535), TL_ENOMEM. host is a name
 * or a numeric IPv4/IPv6 address; every address it resolves to is tried in turn, and
 * the first address's error is returned when none connects. */
TL_EXTERN int tl_open_connection(const char *host, int port, tl_stream **out);
/* suspends; as tl_open_connection; TL_ENAMETOOLONG when path does not fit a sockaddr_un */
TL_EXTERN int tl_open_unix_connection(const char *path, tl_stream **out);

/* suspends while nothing is buffered; up to n bytes, 0 at EOF (or when n is 0), a read
 * error (TL_ECONNRESET), TL_EBUSY (another task is reading), TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN ssize_t tl_stream_read(tl_stream *s, void *buf, size_t n);
/* suspends until n bytes are buffered; 0, TL_EOF when the stream ended first (the bytes
 * that were buffered are copied to buf and their count stored in *partial, if not NULL,
 * as asyncio's IncompleteReadError.partial), errors as tl_stream_read. On TL_ECANCELED
 * or TL_ETIMEDOUT nothing is consumed. */
TL_EXTERN int tl_stream_readexactly(tl_stream *s, void *buf, size_t n, size_t *partial);
/* suspends until a '\n' is buffered; the line's length with its '\n', the last unended
 * line at EOF, 0 at EOF; TL_ENOBUFS when no '\n' comes within min(limit, cap) bytes (the
 * data stays buffered); errors as tl_stream_read */
TL_EXTERN ssize_t tl_stream_readline(tl_stream *s, void *buf, size_t cap);
/* suspends until sep is buffered; the length up to and with sep; TL_ENOBUFS when sep is
 * not found within min(limit, cap) bytes (the data stays buffered: asyncio's
 * LimitOverrunError); TL_EOF when the stream ends first (the data stays buffered, for
 * tl_stream_read); TL_EINVAL when seplen is 0; errors as tl_stream_read */
TL_EXTERN ssize_t tl_stream_readuntil(tl_stream *s, const void *sep, size_t seplen, void *buf,
                                      size_t cap);
/* the peer has ended the stream and the buffer is empty */
TL_EXTERN bool tl_stream_at_eof(const tl_stream *s);
/* how many bytes are buffered and not yet read */
TL_EXTERN size_t tl_stream_buffered(const tl_stream *s);
/* never suspends; 0, TL_EINVAL when limit is 0 */
TL_EXTERN int tl_stream_set_limit(tl_stream *s, size_t limit);
TL_EXTERN size_t tl_stream_limit(const tl_stream *s);

/* never suspends; 0, the connection's error (TL_EPIPE, TL_ECONNRESET) once it broke,
 * TL_EPIPE after tl_stream_write_eof, TL_ENOMEM. Sends at once what the socket takes
 * and buffers the rest. */
TL_EXTERN int tl_stream_write(tl_stream *s, const void *data, size_t n);
/* suspends while more than the high-water mark is buffered; 0, the connection's error,
 * TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_stream_drain(tl_stream *s);
/* bytes written but not yet taken by the socket */
TL_EXTERN size_t tl_stream_write_buffer_size(const tl_stream *s);
/* never suspends; drain waits above high (64 KiB by default) until the buffer falls to
 * a quarter of it, as asyncio's set_write_buffer_limits */
TL_EXTERN void tl_stream_set_write_limit(tl_stream *s, size_t high);
/* never suspends; half-closes once the buffered writes are sent; 0 (also when called
 * again), TL_EPIPE (closed), the connection's error */
TL_EXTERN int tl_stream_write_eof(tl_stream *s);
/* never suspends; closes s after its buffered writes are sent and gives up the handle */
TL_EXTERN void tl_stream_close(tl_stream *s);
/* suspends until the buffered writes are sent and the socket is closed; gives up the
 * handle (even when cancelled); 0, the connection's error, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_stream_wait_closed(tl_stream *s);
/* never suspends; closes s at once, dropping the buffered writes (asyncio's
 * transport.abort()), and gives up the handle */
TL_EXTERN void tl_stream_abort(tl_stream *s);

/* 0, TL_ENOTCONN, TL_ENOTSUP (not TCP); *len is the size of addr on entry */
TL_EXTERN int tl_stream_peername(const tl_stream *s, struct sockaddr *addr, int *len);
TL_EXTERN int tl_stream_sockname(const tl_stream *s, struct sockaddr *addr, int *len);
/* TCP streams; TCP_NODELAY is on by default, as in asyncio. 0, TL_ENOTSUP (not TCP) */
TL_EXTERN int tl_stream_set_nodelay(tl_stream *s, bool on);
/* delay: seconds of idleness before the first probe; 0, TL_ENOTSUP, TL_EINVAL (on with
 * delay 0) */
TL_EXTERN int tl_stream_set_keepalive(tl_stream *s, bool on, unsigned delay);

/* A connection handler: runs in its own task; its result is the task's. */
typedef int (*tl_conn_fn)(tl_stream *s, void *arg);

typedef struct tl_server_opts {
    int backlog;       /* 0: 511 */
    bool reuse_port;   /* SO_REUSEPORT, for several servers on one port */
    bool ipv6_only;    /* IPV6_V6ONLY; by default "::" also accepts IPv4 */
    size_t limit;      /* each stream's buffer limit; 0: TL_STREAM_LIMIT_DEFAULT */
    size_t stack_size; /* the handler tasks' stacks; 0: TL_STACK_DEFAULT */
    /* TLS (tulip/tls.h): each connection's handshake completes before its handler
     * runs, and one that fails never reaches it. NULL: plain TCP. Retained. */
    const struct tl_tls_ctx *tls;
    double tls_handshake_timeout; /* 0: TL_TLS_HANDSHAKE_TIMEOUT (60 s) */
} tl_server_opts;

/* never suspends unless host needs a lookup; 0 and a listening server in *out,
 * TL_EADDRINUSE, TL_EACCES, TL_EAI_* lookup errors, TL_EINVAL, TL_ENOMEM. host NULL or
 * "" listens on every interface, IPv6 and IPv4 on one socket where the system allows;
 * a name listens on every address it resolves to, all on the same port. port 0 picks
 * a free port (tl_server_port tells which). opts may be NULL. */
TL_EXTERN int tl_start_server(tl_conn_fn handler, void *arg, const char *host, int port,
                              const tl_server_opts *opts, tl_server **out);
/* as tl_start_server on a Unix socket at path (an existing socket file there is
 * replaced); TL_ENAMETOOLONG */
TL_EXTERN int tl_start_unix_server(tl_conn_fn handler, void *arg, const char *path,
                                   const tl_server_opts *opts, tl_server **out);
/* the port the server listens on; 0 for a Unix server */
TL_EXTERN int tl_server_port(const tl_server *srv);
/* 0, TL_ENOTSUP (Unix server), TL_EBADF (closed); the first listening socket's address */
TL_EXTERN int tl_server_sockname(const tl_server *srv, struct sockaddr *addr, int *len);
/* how many handlers are running */
TL_EXTERN size_t tl_server_connections(const tl_server *srv);
/* suspends until the server is closed (0); cancelled or timed out, it closes the
 * server and returns TL_ECANCELED or TL_ETIMEDOUT */
TL_EXTERN int tl_server_serve_forever(tl_server *srv);
/* never suspends; stops accepting. The handlers run on; srv stays valid. */
TL_EXTERN void tl_server_close(tl_server *srv);
TL_EXTERN bool tl_server_is_serving(const tl_server *srv);
/* suspends until the server is closed and every handler has returned (asyncio 3.12);
 * 0, TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_server_wait_closed(tl_server *srv);
/* never suspends; closes the server, cancels the handlers still running (they finish
 * on their own) and gives up the handle */
TL_EXTERN void tl_server_free(tl_server *srv);

/* never suspends unless host needs a lookup; 0 and a UDP socket bound to host:port
 * (NULL or "": every interface; port 0: any free port) in *out; errors as
 * tl_start_server */
TL_EXTERN int tl_udp_open(const char *host, int port, tl_udp **out);
/* suspends only while the socket's send buffer is full; 0, a send error, TL_EMSGSIZE,
 * TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_udp_sendto(tl_udp *u, const void *data, size_t n, const struct sockaddr *to);
/* suspends until a datagram arrives; its length (cut to cap if longer: *truncated says
 * so, when not NULL) and the sender in *from (when not NULL); TL_ECANCELED, TL_ETIMEDOUT,
 * a receive error, TL_EBUSY (another task is receiving) */
TL_EXTERN ssize_t tl_udp_recvfrom(tl_udp *u, void *buf, size_t cap, struct sockaddr_storage *from,
                                  bool *truncated);
/* 0, an error; the address the socket is bound to */
TL_EXTERN int tl_udp_sockname(const tl_udp *u, struct sockaddr *addr, int *len);
/* never suspends; a pending tl_udp_recvfrom returns TL_ECANCELED; gives up the handle */
TL_EXTERN void tl_udp_close(tl_udp *u);

/* suspends while libuv's thread pool resolves node; 0 and a list to free with
 * tl_freeaddrinfo, a TL_EAI_* error, TL_ECANCELED, TL_ETIMEDOUT. A lookup the pool has
 * started cannot be stopped: a cancelled caller returns at once and the result is
 * freed when it arrives. hints may be NULL. */
TL_EXTERN int tl_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                             struct addrinfo **res);
TL_EXTERN void tl_freeaddrinfo(struct addrinfo *res);
/* suspends as tl_getaddrinfo; 0 and the host and service names (NI_* flags),
 * TL_ENOBUFS when one does not fit (it is cut), errors as tl_getaddrinfo */
TL_EXTERN int tl_getnameinfo(const struct sockaddr *addr, int flags, char *host, size_t hostlen,
                             char *serv, size_t servlen);

/* ======================================================================
 * Threads, files, processes and signals
 *
 * The seeds' rule: never call a blocking function inside async code. A
 * blocking or CPU-heavy function goes to a thread (tl_to_thread, or an
 * executor of its own); files are read and written on libuv's thread pool;
 * a program runs as a child process whose pipes are tl_streams; a signal
 * is waited for like anything else.
 *
 * Work handed to a thread obeys one cancellation rule. Cancelled (or timed
 * out) before a thread starts it: it never runs. Cancelled while it runs:
 * the call still waits for it to finish, so the memory it was given stays
 * valid, and then returns TL_ECANCELED (TL_ETIMEDOUT).
 * ====================================================================== */

/* suspends until fn(arg) has run on libuv's thread pool (shared with file
 * operations and name lookups; UV_THREADPOOL_SIZE threads, 4 by default); fn's
 * result, TL_ECANCELED, TL_ETIMEDOUT, TL_EINVAL (fn NULL), TL_ENOMEM. fn runs on another
 * thread: it may call
 * tl_call_soon_threadsafe, and no other tulip function. */
TL_EXTERN int tl_to_thread(tl_fn fn, void *arg);

typedef struct tl_executor tl_executor;
/* never suspends; a pool of nthreads threads of its own (0: one per CPU), for work
 * that would otherwise fill libuv's pool; NULL when memory or threads run out */
TL_EXTERN tl_executor *tl_executor_new(unsigned nthreads);
/* suspends; as tl_to_thread, on ex's threads (asyncio's run_in_executor); also
 * TL_ECANCELED once tl_executor_free has begun. Any loop's tasks may use one executor. */
TL_EXTERN int tl_executor_run(tl_executor *ex, tl_fn fn, void *arg);
/* blocks the calling thread until the running jobs return and the threads exit; jobs
 * still queued never run (their callers get TL_ECANCELED) */
TL_EXTERN void tl_executor_free(tl_executor *ex);

typedef struct tl_file tl_file;
/* suspends; 0 and an open file in *out, or the OS's error (TL_ENOENT, TL_EACCES,
 * TL_EISDIR for a directory opened for writing, ...). flags and mode as open(2). */
TL_EXTERN int tl_file_open(const char *path, int flags, int mode, tl_file **out);
/* suspends; bytes read at the file's position (which advances), 0 at its end, the OS's
 * error (TL_EISDIR for a directory), TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN ssize_t tl_file_read(tl_file *f, void *buf, size_t n);
/* suspends; as tl_file_read at offset; the file's position does not move */
TL_EXTERN ssize_t tl_file_pread(tl_file *f, void *buf, size_t n, int64_t offset);
/* suspends until all n bytes are written at the file's position; 0, the OS's error
 * (TL_ENOSPC, TL_EBADF for a file opened read-only), TL_ECANCELED, TL_ETIMEDOUT */
TL_EXTERN int tl_file_write(tl_file *f, const void *data, size_t n);
/* suspends; as tl_file_write at offset */
TL_EXTERN int tl_file_pwrite(tl_file *f, const void *data, size_t n, int64_t offset);
/* suspends until the file's data is on disk (fsync); 0, the OS's error */
TL_EXTERN int tl_file_sync(tl_file *f);
/* the file descriptor */
TL_EXTERN int tl_file_fd(const tl_file *f);
/* suspends; closes f and gives up the handle (even on error); 0, the OS's error */
TL_EXTERN int tl_file_close(tl_file *f);
/* suspends; 0 and the whole file in *data (malloc'd, NUL-terminated beyond *len; free
 * it with free), the OS's error, TL_ENOMEM */
TL_EXTERN int tl_read_file(const char *path, char **data, size_t *len);
/* suspends; creates or truncates path and writes len bytes; 0, the OS's error */
TL_EXTERN int tl_write_file(const char *path, const void *data, size_t len);
/* suspends (the file opens on the thread pool); 0 and a read-only stream over the file
 * in *out, so that tl_stream_readline and the other tl_stream reads work on files; the
 * OS's error (TL_ENOENT, TL_EACCES), TL_EISDIR, TL_EINVAL (NULL path or out), TL_ENOMEM,
 * TL_ECANCELED, TL_ETIMEDOUT. Writes to it return TL_EBADF. Close it with tl_stream_close. */
TL_EXTERN int tl_open_file_stream(const char *path, tl_stream **out);

/* suspends; 0 and path's status (symbolic links followed), the OS's error */
TL_EXTERN int tl_fs_stat(const char *path, struct stat *st);
/* suspends; 0, the OS's error */
TL_EXTERN int tl_fs_rename(const char *from, const char *to);
TL_EXTERN int tl_fs_unlink(const char *path);
TL_EXTERN int tl_fs_mkdir(const char *path, int mode);
TL_EXTERN int tl_fs_rmdir(const char *path);

typedef struct tl_dirent {
    char *name;
    int type; /* DT_REG, DT_DIR, DT_LNK, ... as <dirent.h>; DT_UNKNOWN if the system did not say */
} tl_dirent;
/* suspends; 0 and the entries of directory path ("." and ".." left out, sorted by
 * name) in *entries and their count in *n; free with tl_fs_scandir_free; the OS's
 * error (TL_ENOTDIR, TL_ENOENT), TL_ENOMEM */
TL_EXTERN int tl_fs_scandir(const char *path, tl_dirent **entries, size_t *n);
TL_EXTERN void tl_fs_scandir_free(tl_dirent *entries, size_t n);

typedef struct tl_process tl_process;

typedef enum tl_stdio {
    TL_STDIO_INHERIT = 0, /* the parent's own */
    TL_STDIO_PIPE,        /* a tl_stream to the parent */
    TL_STDIO_DEVNULL,     /* /dev/null */
    TL_STDIO_STDOUT       /* stderr only: the same place as stdout (asyncio's STDOUT) */
} tl_stdio;

typedef struct tl_process_opts {
    const char *file;  /* the program, looked up in PATH; NULL: argv[0] */
    char *const *argv; /* NULL-terminated; argv[0] is the program's name */
    char *const *env;  /* NULL-terminated "NAME=value" list; NULL: the parent's */
    const char *cwd;   /* NULL: the parent's */
    tl_stdio stdin_mode, stdout_mode, stderr_mode;
    size_t limit; /* the pipes' buffer limit; 0: TL_STREAM_LIMIT_DEFAULT */
} tl_process_opts;

/* never suspends; 0 and a running child in *out, or why it could not start: TL_ENOENT
 * (no such program), TL_EACCES, TL_EINVAL (no argv), TL_ENOMEM (asyncio's
 * create_subprocess_exec) */
TL_EXTERN int tl_process_spawn(const tl_process_opts *opts, tl_process **out);
/* never suspends; runs cmd with /bin/sh -c (asyncio's create_subprocess_shell); opts
 * (may be NULL) gives the rest, its file and argv are ignored */
TL_EXTERN int tl_process_shell(const char *cmd, const tl_process_opts *opts, tl_process **out);
TL_EXTERN int tl_process_pid(const tl_process *p);
/* the pipes asked for with TL_STDIO_PIPE, else NULL (also once the program closed one
 * itself). The process owns them: end the child's input with tl_stream_write_eof;
 * tl_process_free closes them. */
TL_EXTERN tl_stream *tl_process_stdin(tl_process *p);
TL_EXTERN tl_stream *tl_process_stdout(tl_process *p);
TL_EXTERN tl_stream *tl_process_stderr(tl_process *p);
/* suspends until the child exits; 0 and its return code in *returncode (when not
 * NULL): the exit status, or -N when signal N killed it (asyncio's returncode);
 * TL_ECANCELED, TL_ETIMEDOUT (the child runs on) */
TL_EXTERN int tl_process_wait(tl_process *p, int *returncode);
/* never suspends; sends signum; 0, TL_ESRCH once the child has exited, TL_EINVAL */
TL_EXTERN int tl_process_kill(tl_process *p, int signum);
/* suspends; writes input (len bytes, may be NULL) to the child's stdin and ends it,
 * reads stdout and stderr to their ends (each stored in *out / *err, malloc'd,
 * NUL-terminated beyond the length, when asked for and piped; read and dropped when
 * not asked for) and waits for the child to exit; 0 (also when the child stopped
 * reading its input early), a pipe's read error, TL_ENOMEM, TL_ECANCELED, TL_ETIMEDOUT
 * (what was read is freed; the child runs on) */
TL_EXTERN int tl_process_communicate(tl_process *p, const void *input, size_t len, char **out,
                                     size_t *outlen, char **err, size_t *errlen);
/* never suspends; closes the pipes and gives up the handle; a child still running is
 * not killed, and is reaped when it exits */
TL_EXTERN void tl_process_free(tl_process *p);

/* suspends until signum arrives; 0, TL_EINVAL, TL_ECANCELED, TL_ETIMEDOUT. From the
 * first call the loop catches signum (its default action no longer happens) until
 * the loop is freed; a signal that arrives while no task waits is kept (once) for the
 * next wait, so none is lost between two waits. */
TL_EXTERN int tl_signal_wait(int signum);
/* never suspends; cb(arg) runs on the loop, as a plain callback, each time signum
 * arrives (asyncio's add_signal_handler); replaces signum's earlier handler; 0,
 * TL_EINVAL (SIGKILL, SIGSTOP, out of range), TL_ENOMEM */
TL_EXTERN int tl_add_signal_handler(int signum, tl_callback cb, void *arg);
/* never suspends; true if signum had a handler. Its default action is back, unless a
 * task has waited for signum with tl_signal_wait (the loop then catches it until freed). */
TL_EXTERN bool tl_remove_signal_handler(int signum);
/* never suspends; the first signum cancels task t (NULL: the task tl_run started),
 * and signum's default action is back for the next one, as tl_run does with SIGINT
 * (tl_cancel_on_signal(SIGTERM, NULL) stops a server cleanly); 0, TL_EINVAL, TL_ENOMEM */
TL_EXTERN int tl_cancel_on_signal(int signum, tl_task *t);

/* ======================================================================
 * Debugging
 *
 * Debug mode (TULIP_DEBUG=1 in the environment, or tl_set_debug(true))
 * reports on stderr: a task or callback that held the loop longer than the
 * slow threshold (a blocking call in async code), a failed task whose
 * result nobody retrieved, tasks left alive when the loop closes.
 * ====================================================================== */

TL_EXTERN void tl_set_debug(bool on);
TL_EXTERN bool tl_get_debug(void);
/* seconds; 0.1 by default; negative or NaN is ignored */
TL_EXTERN void tl_set_slow_threshold(double seconds);
/* every task of the current loop that is not done, as a tree of who awaits whom */
TL_EXTERN void tl_dump_tasks(FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* TULIP_H */
